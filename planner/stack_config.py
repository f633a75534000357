"""Read a stack's configuration the way the Pulumi CLI does before it starts the program.

Everything here reproduces a check of the CLI with its own wording, so a stack that plans here
is not refused by ``pulumi preview`` (read in pulumi/pulumi ``pkg/workspace/config.go``
``mergeConfig``/``validateStackConfigValue``, ``sdk/go/common/workspace/project.go``
``ValidateConfigValue``, ``loaders.go`` and gopkg.in/yaml.v3 @ v3.259.0; notes with every source
in ``docs/research/pulumi-cli.md``):

1. YAML as yaml.v3 reads it: UTF-8 (or UTF-16 with a BOM) text whose top level is a mapping;
   merge keys (``<<: *base``) merge, the mapping's own keys winning; duplicate mapping keys (two
   ``<<`` too) are an error; ``yes``/``no``/``on``/``off``
   are strings, only ``true``/``false`` are booleans.
2. ``requiredPulumiVersion`` must admit the first CLI that accepts ``type: object`` (3.187.0).
3. Stack keys without a namespace belong to the project (``team`` is ``ai-infra:team``).
4. Every key the project declares without ``default``/``value`` must be set by the stack — all
   missing keys in one message. Declared defaults are written into the config map.
5. Only then, declared types are checked on the value's string form (the first failure only),
   and declared ``secret: true`` keys must be encrypted.

``secure:`` values are replaced by placeholders (nothing is decrypted) and listed as secret keys;
the CLI decrypts every one of them before it checks types, so values no provider can decrypt
(``v1:placeholder…``) are listed too (``undecryptable``): the plan warns, a real preview refuses.
The real CLI's verdict on every stack file is compared with this module's in
``tests/e2e/test_cli_config.py`` (``make e2e``).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

STACK_FILE_KEYS = frozenset({"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"})
"""Top-level keys of ``Pulumi.<stack>.yaml`` the CLI reads (workspace.ProjectStack)."""
OBJECT_TYPE_SINCE = (3, 187, 0)
"""The first CLI whose config validation accepts ``type: object`` values (CHANGELOG 3.187.0)."""


class StackConfigError(Exception):
    """The CLI would refuse the stack before running the program; ``problems`` are its messages."""

    def __init__(self, stack_file: str, problems: list[tuple[str, str]]) -> None:
        self.stack_file = stack_file
        self.problems = problems
        lines = [f"Invalid configuration in {stack_file} ({len(problems)} problem(s)):"]
        lines += [f"  - {key}: {message}" if key else f"  - {message}" for key, message in problems]
        super().__init__("\n".join(lines))


@dataclass
class StackConfig:
    project: str
    """The project's name (``Pulumi.yaml`` ``name``): the config namespace and URN prefix."""
    stack: str
    stack_file: str
    config: dict[str, str] = field(default_factory=dict)
    secret_keys: list[str] = field(default_factory=list)
    undecryptable: list[str] = field(default_factory=list)
    """Secret keys whose ``secure:`` value no secrets provider can decrypt (a placeholder): the
    CLI decrypts every secret while validating, so a real preview refuses the stack with
    ``validating stack config: bad value`` until ``pulumi config set --secret <key>``."""

    @property
    def environment(self) -> str | None:
        """The stack's ``<project>:environment`` (which preset, and which policy config)."""
        return self.config.get(f"{self.project}:environment")


# -- 1. YAML as yaml.v3 reads it ------------------------------------------------------------


MERGE_TAG = "tag:yaml.org,2002:merge"
MERGE_VALUE = "map merge requires map or sequence of maps as the value"
"""yaml.v3's words for a merge key whose value is not a mapping or a list of mappings (decode.go)."""


class _CliYamlLoader(yaml.CSafeLoader):  # libyaml parses; the constructors below are ours
    """PyYAML speaks YAML 1.1 (``yes`` is true); the CLI's yaml.v3 decodes into ``any`` where
    only true/false are booleans, and rejects duplicate keys. This loader does the same."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            # A merge key (``<<: *base``) is a key like any other to yaml.v3's duplicate check; what it
            # merges is not (the mapping's own keys win over merged ones, as in yaml.v3).
            merge = key_node.tag == MERGE_TAG
            key = key_node.value if merge else self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    problem=f'line {line}: mapping key "{key}" already defined at line {seen[key]}'
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


_CliYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CliYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_CliYamlLoader.add_constructor("tag:yaml.org,2002:map", _CliYamlLoader.construct_mapping)


def _text(path: Path) -> str:
    """The file as yaml.v3 reads it: UTF-8 (a BOM allowed) or UTF-16 with its BOM."""
    data = path.read_bytes()
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # The offset, never the bytes: the file may hold anything.
        message = f"is not UTF-8 text (yaml: invalid Unicode at byte {exc.start}); save it as UTF-8"
        raise StackConfigError(path.name, [("(file)", message)]) from None


def read_yaml(path: Path) -> Any:
    """Parse ``path`` as the CLI does; raises :class:`StackConfigError` with yaml.v3's wording."""
    text = _text(path)
    try:
        return yaml.load(text, Loader=_CliYamlLoader)
    except yaml.constructor.ConstructorError as exc:
        if "for merging" in str(exc.problem):  # yaml.v3 fails the whole document with its own words
            raise StackConfigError(path.name, [("", f"yaml: {MERGE_VALUE}")]) from None
        raise StackConfigError(path.name, [("", f"yaml: unmarshal errors:\n  {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise StackConfigError(path.name, [("", f"invalid YAML file: {exc}")]) from None


def project_name(project_dir: Path) -> str:
    """The ``name`` in ``Pulumi.yaml`` (the planner never assumes it)."""
    project = read_yaml(project_dir / "Pulumi.yaml")
    project = project if isinstance(project, dict) else {}
    name = project.get("name")
    if not isinstance(name, str) or not name:
        raise StackConfigError("Pulumi.yaml", [("name", "must be the project's name")])
    return name


# -- 2. requiredPulumiVersion ---------------------------------------------------------------


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def required_version_problems(project: dict[str, Any]) -> list[tuple[str, str]]:
    """Object-typed keys need CLI >= 3.187.0: older CLIs fail every value with ``must be of type
    'object'`` (3.186) or reject Pulumi.yaml (earlier), so the project must say so."""
    declared = project.get("config") or {}
    uses_object = any(isinstance(d, dict) and d.get("type") == "object" for d in declared.values())
    required = str(project.get("requiredPulumiVersion") or "")
    floors = [_version(m) for m in re.findall(r">=?\s*v?(\d+\.\d+\.\d+)", required)]
    if uses_object and not any(f >= OBJECT_TYPE_SINCE for f in floors):
        wanted = ".".join(map(str, OBJECT_TYPE_SINCE))
        return [("requiredPulumiVersion", f'must be ">={wanted}" or newer: config keys declare type: object')]
    return []


# -- 4, 5. declared keys: missing, types, secrets -------------------------------------------


def _quoted_list(keys: list[str]) -> str:
    quoted = [f"'{k}'" for k in sorted(keys)]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def missing_keys_message(stack: str, keys: list[str]) -> str:
    """``Stack '%v' is missing configuration %v %v`` (formatMissingKeys)."""
    return f"Stack '{stack}' is missing configuration {'value' if len(keys) == 1 else 'values'} {_quoted_list(keys)}"


def _string_form(value: Any) -> str:
    if value is None:
        return ""  # an empty stack value is the empty string (with a warning) for the CLI
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def type_matches(declared: dict[str, Any], value: Any) -> bool:
    """ValidateConfigValue: scalars are checked on their string form, maps and lists as JSON."""
    kind = declared.get("type")
    if kind == "string":
        return not isinstance(value, dict | list)
    if kind == "integer":
        return not isinstance(value, dict | list) and re.fullmatch(r"[+-]?\d+", _string_form(value)) is not None
    if kind == "boolean":
        return _string_form(value) in ("true", "false")
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        items = declared.get("items") or {}
        return isinstance(value, list) and all(type_matches(items, v) for v in value)
    return True


def _type_name(declared: dict[str, Any]) -> str:
    if declared.get("type") == "array":
        return f"array<{_type_name(declared.get('items') or {})}>"
    return str(declared.get("type"))


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def _ciphertexts(value: Any) -> list[str]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return [str(value["secure"])]
        return [c for v in value.values() for c in _ciphertexts(v)]
    if isinstance(value, list):
        return [c for v in value for c in _ciphertexts(v)]
    return []


def _base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return bool(text)


def decryptable_shape(ciphertext: str) -> bool:
    """Whether some secrets provider could decrypt ``ciphertext``: the passphrase provider's
    ``v1:<nonce>:<ciphertext>`` (both base64; sdk/go/common/resource/config/crypt.go
    ``symmetricCrypter.DecryptValue`` answers "bad value" otherwise), or the plain base64 of the
    service and cloud KMS providers."""
    parts = ciphertext.split(":")
    if len(parts) == 3:
        return parts[0] == "v1" and _base64(parts[1]) and _base64(parts[2])
    return len(parts) == 1 and _base64(ciphertext)


def _placeholder(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return f"plan-placeholder-{key.replace(':', '-')}"
        return {k: _placeholder(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholder(v, key) for v in value]
    return value


def _encode(value: Any) -> str:
    """The config map holds strings: scalars as their string form, maps and lists as JSON."""
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else _string_form(value)


def _top_mapping(document: Any, file_name: str, expected: str) -> dict[Any, Any]:
    """The file's top level must be a mapping (an empty file is an empty one); the CLI cannot
    unmarshal a list or a scalar into its project or stack structure."""
    if document is None:
        return {}
    if not isinstance(document, dict):
        kind = "a list" if isinstance(document, list) else "a single value"
        raise StackConfigError(
            file_name, [("(file)", f"must be a mapping with {expected} at its top level, not {kind}")]
        )
    return document


def load_stack_config(project_dir: Path, stack: str) -> StackConfig:
    """Read ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` and apply the CLI's checks, in its order."""
    stack_file = f"Pulumi.{stack}.yaml"
    path = project_dir / stack_file
    if not path.exists():
        stacks = sorted(p.name for p in project_dir.glob("Pulumi.*.yaml"))
        raise StackConfigError(stack_file, [("(file)", f"not found; stack files here: {', '.join(stacks)}")])
    project = _top_mapping(read_yaml(project_dir / "Pulumi.yaml"), "Pulumi.yaml", "name: and runtime:")
    name = project_name(project_dir)
    if problems := required_version_problems(project):
        raise StackConfigError("Pulumi.yaml", problems)
    document = _top_mapping(read_yaml(path), stack_file, "config:")
    stray = sorted(k for k in document if k not in STACK_FILE_KEYS)
    if stray:
        # The CLI ignores these silently (yaml.v3 into a struct); a setting there would do nothing.
        raise StackConfigError(
            stack_file,
            [
                (str(k), f"is not a stack file key (the CLI ignores it): settings go under config: as {name}:<key>")
                for k in stray
            ],
        )
    raw_values = document.get("config") or {}
    if not isinstance(raw_values, dict):
        raise StackConfigError(stack_file, [("config", "must be a mapping of key: value")])
    values = {(key if ":" in str(key) else f"{name}:{key}"): value for key, value in raw_values.items()}

    declared = {
        (k if ":" in k else f"{name}:{k}"): (d if isinstance(d, dict) else {"default": d})
        for k, d in (project.get("config") or {}).items()
    }
    missing = [
        full.split(":", 1)[1]
        for full, decl in declared.items()
        if full.startswith(f"{name}:") and full not in values and "default" not in decl and "value" not in decl
    ]
    if missing:
        raise StackConfigError(stack_file, [("", missing_keys_message(stack, missing))])
    for full, decl in declared.items():
        if full not in values and ("default" in decl or "value" in decl):
            values[full] = decl.get("default", decl.get("value"))
    for full in sorted(declared):
        decl, value = declared[full], values.get(full)
        short = full.split(":", 1)[1]
        if "type" not in decl or value is None:
            continue
        if _has_secure(value):
            continue  # encrypted values are typed after decryption, which the plan never does
        if decl.get("secret"):
            message = f"Stack '{stack}' with configuration key '{short}' must be encrypted as it's secret"
            raise StackConfigError(stack_file, [("", message)])
        if not type_matches(decl, value):
            message = f"Stack '{stack}' with configuration key '{short}' must be of type '{_type_name(decl)}'"
            raise StackConfigError(stack_file, [("", message)])

    result = StackConfig(project=name, stack=stack, stack_file=stack_file)
    for key in sorted(values):
        value = values[key]
        if _has_secure(value):
            result.secret_keys.append(key)
            if not all(decryptable_shape(c) for c in _ciphertexts(value)):
                result.undecryptable.append(key)
            value = _placeholder(value, key)
        result.config[key] = _encode(value)
    return result
