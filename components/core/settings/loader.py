"""Read the stack's configuration, merge it over its preset, validate it, read its secrets.

``ai-infra:environment`` picks a preset (``components/core/presets.py``); every other
``ai-infra:*`` key in the stack file overrides it (maps merge key by key, lists replace,
``null`` removes a preset entry). Bad input becomes one :class:`SettingsError` listing every bad
key path with the stack file name and what is allowed, raised before any resource is registered.

Secrets are never part of the settings: only *which* keys were given with ``--secret`` is; their
values are read by :func:`load_secrets` with ``require_secret`` and stay ``Output`` secrets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from pydantic import ValidationError

from components.core.presets import ENV_PRESETS
from components.core.settings.base import PROJECT, Environment, Problem, SettingsError
from components.core.settings.messages import (
    MISSING,
    FieldProblem,
    allowed_keys,
    as_problems,
    field_default,
    format_loc,
    parse_path,
    problems_from,
    value_at,
)
from components.core.settings.monitoring import GRAFANA_ADMIN_KEY
from components.core.settings.registry import IMAGE_NAMES
from components.core.settings.root import HF_TOKEN_KEY
from components.core.settings.stack import StackSettings
from components.core.settings.tailscale import OAUTH_SECRET_KEYS

SECRET_KEYS = (HF_TOKEN_KEY, GRAFANA_ADMIN_KEY, *OAUTH_SECRET_KEYS)
"""Well-known secret config keys (models may name more), read by :func:`load_secrets`."""

NOT_AVAILABLE_YET: dict[str, str] = {}
"""Keys reserved for capabilities not built yet: rejected, so setting one never silently does nothing."""

FIELD_KEYS = frozenset(f.alias or n for n, f in StackSettings.model_fields.items()) - {"secretKeys"}
"""Top-level keys a stack file may set (``secretKeys`` is the loader's, not the user's)."""


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into ``base``: maps merge recursively, ``None`` deletes, rest replaces."""
    merged: dict[str, Any] = dict(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def stack_file_name(stack: str) -> str:
    return f"Pulumi.{stack}.yaml"


FOREIGN_KEY_HINTS = {
    "aws:region": f"the region is {PROJECT}:cluster.eks.region",
    "aws:profile": "the AWS provider here takes credentials from the environment (AWS_PROFILE)",
    "kubernetes:context": f"the context of an existing cluster is {PROJECT}:cluster.existing.context",
    "kubernetes:kubeconfig": f"an existing cluster's kubeconfig is {PROJECT}:cluster.existing.kubeconfig",
}
"""What to write instead of keys users reach for in other providers' namespaces."""
PASS_THROUGH_NAMESPACES = ("pulumi",)
"""Namespaces the engine itself reads (``pulumi:disable-default-providers`` and friends)."""


def parse_settings(
    raw: Mapping[str, Any],
    *,
    stack: str,
    secret_keys: frozenset[str] = frozenset(),
    foreign_keys: frozenset[str] = frozenset(),
) -> StackSettings:
    """Validate raw ``{key: value}`` stack config (keys without the ``ai-infra:`` prefix).

    ``secret_keys`` names the keys that were given with ``--secret``; ``foreign_keys`` the stack's
    keys in other namespaces (``aws:region``), which nothing here reads. Raises one
    :class:`SettingsError` listing every problem.
    """
    stack_file = stack_file_name(stack)
    problems = _key_problems(raw, secret_keys)
    for key in sorted(foreign_keys):
        if key.partition(":")[0] in PASS_THROUGH_NAMESPACES:
            continue
        hint = FOREIGN_KEY_HINTS.get(key, f"only {PROJECT}:* keys configure this program")
        problems.append((key, f"is ignored here: {hint}; remove it"))
    env_value = raw.get("environment")
    allowed_envs = ", ".join(e.value for e in Environment)
    if env_value not in {e.value for e in Environment}:
        requirement = "is required: one of" if env_value is None else "must be one of"
        # Without a valid environment there is no preset to validate against; report what we can.
        raise SettingsError(stack_file, [*problems, (f"{PROJECT}:environment", f"{requirement} {allowed_envs}")])

    overrides = {k: v for k, v in raw.items() if k in FIELD_KEYS}
    problems += credential_problems(overrides)
    document = _adapt_preset_to_mode(deep_merge(ENV_PRESETS[env_value], overrides), overrides)
    document = _drop_preset_jobs_without_image(document, overrides)
    document["secretKeys"] = frozenset(secret_keys)
    settings, found = _validate(document)
    problems += found
    if problems or settings is None:
        raise SettingsError(
            stack_file, [(p, m + _origin(p, overrides, document, env_value, stack_file)) for p, m in problems]
        )
    return settings


def _origin(path: str, overrides: Mapping[str, Any], document: Mapping[str, Any], env: str, stack_file: str) -> str:
    """For a problem at a key the stack file does not set: where its value comes from (the preset
    or the field's default), so an error never seems to blame a key the user never wrote."""
    namespace, _, key = path.partition(":")
    parts = parse_path(key)
    if namespace != PROJECT or not parts or parts[0] not in FIELD_KEYS or value_at(overrides, parts) is not MISSING:
        return ""
    preset = value_at(document, parts)
    if preset is not MISSING:
        shown = f" ({_shown(preset)})" if _scalar(preset) else ""
        return f" [not set in {stack_file}: the {env} preset's value{shown}]"
    default = field_default(StackSettings, parts)
    if default is MISSING or default is None or not _scalar(default):
        return ""
    return f" [not set in {stack_file}: the default ({_shown(default)})]"


def _scalar(value: Any) -> bool:
    return isinstance(value, bool | int | float | str)


def _shown(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


URL_CREDENTIAL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@")
"""A URL carrying ``user:password@`` (``https://git@host`` names a user, no secret)."""
CREDENTIAL_FLAG = re.compile(
    r"^--?(api[-_]?key|token|auth[-_]?token|access[-_]?token|hf[-_]?token|password|secret)(=.+)?$", re.IGNORECASE
)


def credential_problems(document: Mapping[str, Any]) -> list[Problem]:
    """Credentials typed into the stack file's plain values: a URL's password (a build argument, an
    engine argument, a Prometheus URL...) or the value of ``--api-key``/``--token`` in an argument
    list. A plain value lands in ``settings.json``, ``plan.json``, the pod spec and the image history;
    a credential belongs in a ``--secret`` key. Only key paths are reported, never the value."""
    found: list[Problem] = []

    def walk(value: Any, loc: tuple[int | str, ...]) -> None:
        if isinstance(value, Mapping):
            for key, child in value.items():
                walk(child, (*loc, str(key)))
        elif isinstance(value, list):
            for i, child in enumerate(value):
                walk(child, (*loc, i))
            for i, item in enumerate(value):
                flag = CREDENTIAL_FLAG.match(item) if isinstance(item, str) else None
                follows = i + 1 < len(value) and isinstance(value[i + 1], str) and not value[i + 1].startswith("-")
                if flag and (flag.group(2) or follows):
                    found.append(
                        (
                            f"{PROJECT}:{format_loc((*loc, i))}",
                            "must not pass a credential on the command line: keep it in a --secret key "
                            "(a model's apiKeySecret, a job's hfTokenSecret)",
                        )
                    )
        elif isinstance(value, str) and URL_CREDENTIAL.search(value):
            found.append(
                (
                    f"{PROJECT}:{format_loc(loc)}",
                    "must not carry a credential inside a URL (user:password@): it would be written to the plan, "
                    "the pod spec or the image; keep it in a --secret key",
                )
            )

    walk(document, ())
    return found


def _validate(document: dict[str, Any]) -> tuple[StackSettings | None, list[Problem]]:
    """Every problem in one pass. pydantic runs a model's cross-field rules only once its fields
    are valid, so after each round the fields in error are dropped (their defaults apply) and the
    document is validated again; problems at or below a path already reported are knock-ons of it
    and are not repeated."""
    doc = _thaw(document)
    reported: list[FieldProblem] = []
    dropped_entries: set[tuple[str, str]] = set()
    # Entries (``nodePools.gpu``) a field was dropped from, and mappings dropped whole
    # (``storage.shared``): their later-round problems come from the drop (a pool without its
    # ``machine`` is neither EC2 nor on-prem; a dropped ``shared`` falls back to efs), not the stack.
    altered: set[tuple[int | str, ...]] = set()
    for _ in range(6):
        try:
            settings = StackSettings.model_validate(doc)
        except ValidationError as exc:
            fresh = [
                p
                for p in problems_from(exc, StackSettings)
                if not any(_related(p.path, r.path) for r in reported)
                and not _names_dropped(doc, p, dropped_entries)
                and not _inside(p, altered)
            ]
            if not fresh:
                break
            reported += fresh
            # Drop every field in error, and every mapping whose own rule failed (a pool with
            # minSize above maxSize): the rules across sections then run on the rest. A list,
            # not any(): it would stop at the first drop.
            locs = {p.loc for p in fresh if p.loc}
            dropped = [_drop(doc, loc) for loc in sorted(locs, key=len, reverse=True)]
            altered |= {tuple(loc[:2]) if len(loc) > 2 else tuple(loc) for loc in locs}
            dropped_entries |= {
                (str(loc[-2]), str(loc[-1]))
                for loc in locs
                if len(loc) >= 2 and not allowed_keys(StackSettings, loc[:-1])
            }
            if not any(dropped):
                break
        else:
            return (settings, []) if not reported else (None, as_problems(reported))
    return None, as_problems(reported)


REFERENCES = {"nodePools": "pool", "namespaces": "namespace", "queues": "queue"}
"""Named sections -> the key other entries name one of theirs with (``models.<n>.pool``)."""


def _inside(problem: FieldProblem, altered: set[tuple[int | str, ...]]) -> bool:
    """The problem's key lies in an entry a field was dropped from, or in a dropped mapping (its
    ``loc`` may be the rule's, so its key path decides)."""
    parts = tuple(str(k) for k in parse_path(problem.path.partition(":")[2]))
    return any(parts[: len(a)] == tuple(str(k) for k in a) for a in altered)


def _names_dropped(doc: Mapping[str, Any], problem: FieldProblem, dropped: set[tuple[str, str]]) -> bool:
    """A problem at a reference whose value names an entry dropped in an earlier round (a model's
    ``pool: gpu`` once pool ``gpu`` was dropped) is a knock-on of that entry's own problems."""
    parts = parse_path(problem.path.partition(":")[2])
    value = value_at(doc, parts)
    return bool(parts) and any(parts[-1] == REFERENCES.get(section) and value == name for section, name in dropped)


def _related(path: str, other: str) -> bool:
    return path == other or path.startswith((other + ".", other + "[")) or other.startswith((path + ".", path + "["))


def _thaw(value: Any) -> Any:
    """A mutable copy (presets are read-only mappings and tuples)."""
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_thaw(v) for v in value]
    return value


def _drop(doc: dict[str, Any], loc: tuple[int | str, ...]) -> bool:
    """Remove the value at ``loc`` (a list item removes the whole list); True when removed."""
    keys = list(loc)
    while keys and isinstance(keys[-1], int):
        keys.pop()
    node: Any = doc
    for key in keys[:-1]:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    if isinstance(node, dict) and keys and keys[-1] in node:
        del node[keys[-1]]
        return True
    return False


def _key_problems(raw: Mapping[str, Any], secret_keys: frozenset[str]) -> list[Problem]:
    """Top-level keys: known, reserved for later, a secret given as a secret, or unknown."""
    problems: list[Problem] = []
    referenced = _referenced_secret_keys(raw)
    for key in sorted(raw):
        if key in FIELD_KEYS:
            continue
        if key in NOT_AVAILABLE_YET:
            problems.append((f"{PROJECT}:{key}", f"is not available yet ({NOT_AVAILABLE_YET[key]}); remove it"))
        elif key in SECRET_KEYS or key in referenced:
            if key not in secret_keys:
                problems.append((f"{PROJECT}:{key}", "must be a secret: set it with `pulumi config set --secret`"))
        else:
            problems.append(
                (
                    f"{PROJECT}:{key}",
                    f"unknown key; allowed: {', '.join(sorted(FIELD_KEYS))}, "
                    f"or a secret key ({', '.join(SECRET_KEYS)}, "
                    "or one a model, job, alert receiver, gateway client or the registry names)",
                )
            )
    for key in sorted(referenced):
        if key not in raw:
            problems.append(
                (
                    f"{PROJECT}:{key}",
                    "is named in this stack (a model, job, alert receiver, gateway client or the registry) "
                    "but not set: use `pulumi config set --secret`",
                )
            )
    return problems


def _adapt_preset_to_mode(document: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Drop the preset's AWS-only parts when the stack chose an existing cluster.

    Only what the preset supplied is dropped; anything the stack set itself is kept (and then
    validated, so an explicit ``eks`` section or ``efs`` backend in existing mode is reported).
    """
    cluster = document.get("cluster") or {}
    if cluster.get("mode") != "existing":
        return document
    own_cluster = overrides.get("cluster") or {}
    if isinstance(own_cluster, Mapping) and "eks" not in own_cluster:
        document["cluster"] = {k: v for k, v in cluster.items() if k != "eks"}
    own_shared = (
        ((overrides.get("storage") or {}).get("shared") or {}) if isinstance(overrides.get("storage"), Mapping) else {}
    )
    if "backend" not in own_shared:
        document = deep_merge(document, {"storage": {"shared": {"backend": "none"}}})
    if not overrides.get("registry"):  # the preset's registry is ECR (the CLI passes {} when unset)
        document = {k: v for k, v in document.items() if k != "registry"}
    return document


def _drop_preset_jobs_without_image(document: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Drop the preset's example jobs whose image (one of ``images/``) this stack does not build:
    an existing cluster without a registry, or a stack with its own ``registry.build``. A job the
    stack sets itself is kept and validated."""
    jobs = document.get("jobs")
    if not isinstance(jobs, Mapping):
        return document
    own_jobs, own_registry = overrides.get("jobs"), document.get("registry")
    own: Mapping[str, Any] = own_jobs if isinstance(own_jobs, Mapping) else {}
    registry: Mapping[str, Any] = own_registry if isinstance(own_registry, Mapping) else {}
    built = set(registry.get("build") or []) if registry.get("enabled") else set()
    kept = {
        name: job
        for name, job in jobs.items()
        if name in own or not isinstance(job, Mapping) or job.get("image") not in IMAGE_NAMES or job["image"] in built
    }
    return {**document, "jobs": kept}


def _referenced_secret_keys(raw: Mapping[str, Any]) -> set[str]:
    """Secret config keys the stack names: models' API keys and tokens, jobs' tokens, alert receivers' webhooks,
    gateway clients' keys, the registry's push password and pull-through cache credentials."""
    named: list[tuple[Any, tuple[str, ...]]] = [
        (raw.get("models"), ("apiKeySecret", "hfTokenSecret")),
        (raw.get("jobs"), ("hfTokenSecret",)),
        (
            (raw.get("monitoring") or {}).get("alertReceivers") if isinstance(raw.get("monitoring"), Mapping) else None,
            ("webhookUrlSecret", "routingKeySecret"),
        ),
        (
            (raw.get("gateway") or {}).get("clients") if isinstance(raw.get("gateway"), Mapping) else None,
            ("keySecret",),
        ),
    ]
    keys: set[str] = set()
    for entries, fields in named:
        if isinstance(entries, Mapping):
            for spec in entries.values():
                if isinstance(spec, Mapping):
                    keys |= {spec[f] for f in fields if isinstance(spec.get(f), str)}
    registry = raw.get("registry")
    if isinstance(registry, Mapping):
        cache = registry.get("pullThroughCache")
        named_here = [
            registry.get("passwordSecret"),
            *(
                [cache.get("dockerHubCredentialsSecret"), cache.get("ghcrCredentialsSecret")]
                if isinstance(cache, Mapping)
                else []
            ),
        ]
        keys |= {k for k in named_here if isinstance(k, str)}
    return keys


def _raw_stack_config() -> tuple[dict[str, Any], frozenset[str], frozenset[str]]:
    """Every ``ai-infra:*`` key the engine passed (JSON-decoded; secrets masked), which are secret,
    and the keys of other namespaces.

    Only the config map the language host set from the engine (``PULUMI_CONFIG`` as the engine
    wrote it), never a ``PULUMI_CONFIG`` left in the user's shell."""
    merged = dict(runtime_config.CONFIG.get())
    secret = frozenset(k for k in merged if runtime_config.is_config_secret(k))
    return decode_config(merged, secret)


def decode_config(
    config: Mapping[str, Any], secret_keys: frozenset[str]
) -> tuple[dict[str, Any], frozenset[str], frozenset[str]]:
    """The engine's config map (``<namespace>:<key>`` -> string) as settings input: our keys
    JSON-decoded with secrets masked, our secret keys, and the keys of other namespaces."""
    raw: dict[str, Any] = {}
    secrets: set[str] = set()
    foreign: set[str] = set()
    for full_key, value in config.items():
        namespace, _, key = full_key.partition(":")
        if namespace != PROJECT or not key:
            foreign.add(full_key)
            continue
        if full_key in secret_keys:
            # Only the key's presence matters here; the value is read later with require_secret.
            secrets.add(key)
            raw[key] = "[secret]"
            continue
        try:
            raw[key] = json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError:
            raw[key] = value
    return raw, frozenset(secrets), frozenset(foreign)


def effective_settings(settings: StackSettings) -> dict[str, Any]:
    """The merged settings a stack runs with (``build/<stack>/settings.json``): every default and
    preset value resolved; secrets appear only as the names of the keys that hold them."""
    document = settings.model_dump(mode="json", by_alias=True, exclude={"secret_keys"})
    document["secretKeys"] = sorted(settings.secret_keys)
    return document


def load_settings() -> StackSettings:
    """Read and validate this stack's configuration (raises :class:`SettingsError`)."""
    raw, secret_keys, foreign_keys = _raw_stack_config()
    return parse_settings(raw, stack=pulumi.get_stack(), secret_keys=secret_keys, foreign_keys=foreign_keys)


def load_secrets(settings: StackSettings) -> dict[str, pulumi.Output[str]]:
    """Every secret config key the stack set, read with ``require_secret`` (never decoded here)."""
    config = pulumi.Config(PROJECT)
    return {key: config.require_secret(key) for key in sorted(settings.secret_keys)}
