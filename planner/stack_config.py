"""Read a stack's configuration the way the Pulumi CLI hands it to a program.

- ``Pulumi.yaml``'s ``config:`` block declares project keys with a type; values in the stack
  file are checked against it (as the CLI does) and declared defaults fill missing keys.
- ``Pulumi.<stack>.yaml`` values become the engine's config map: strings stay strings, other
  values are JSON, ``secure:`` values are replaced by placeholder secrets (the plan never
  decrypts anything) and listed as secret keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


class StackConfigError(Exception):
    """The stack or project file is unreadable or breaks a declared type."""

    def __init__(self, stack_file: str, problems: list[tuple[str, str]]) -> None:
        self.stack_file = stack_file
        self.problems = problems
        lines = [f"Invalid configuration in {stack_file} ({len(problems)} problem(s)):"]
        lines += [f"  - {key}: {message}" for key, message in problems]
        super().__init__("\n".join(lines))


@dataclass
class StackConfig:
    project: str
    """The project's name (``Pulumi.yaml`` ``name``): the config namespace and URN prefix."""
    stack: str
    stack_file: str
    config: dict[str, str] = field(default_factory=dict)
    secret_keys: list[str] = field(default_factory=list)

    @property
    def environment(self) -> str | None:
        """The stack's ``<project>:environment`` (which preset, and which policy config)."""
        return self.config.get(f"{self.project}:environment")


def project_name(project_dir: Path) -> str:
    """The ``name`` in ``Pulumi.yaml`` (the planner never assumes it)."""
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    name = project.get("name")
    if not isinstance(name, str) or not name:
        raise StackConfigError("Pulumi.yaml", [("name", "must be the project's name")])
    return name


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def _placeholder(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return f"plan-placeholder-{key.replace(':', '-')}"
        return {k: _placeholder(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholder(v, key) for v in value]
    return value


def _encode(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def load_stack_config(project_dir: Path, stack: str) -> StackConfig:
    """Read ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` from ``project_dir``."""
    stack_file = f"Pulumi.{stack}.yaml"
    path = project_dir / stack_file
    if not path.exists():
        stacks = sorted(p.name for p in project_dir.glob("Pulumi.*.yaml"))
        raise StackConfigError(stack_file, [("(file)", f"not found; stack files here: {', '.join(stacks)}")])
    try:
        project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise StackConfigError(stack_file, [("(file)", f"is not valid YAML: {exc}")]) from None
    values = document.get("config") or {}
    if not isinstance(values, dict):
        raise StackConfigError(stack_file, [("config", "must be a mapping of key: value")])

    declared = project.get("config") or {}
    problems: list[tuple[str, str]] = []
    name = project_name(project_dir)
    result = StackConfig(project=name, stack=stack, stack_file=stack_file)
    for short_key, decl in declared.items():
        full_key = short_key if ":" in short_key else f"{name}:{short_key}"
        if not isinstance(decl, dict):
            decl = {"default": decl}
        if full_key not in values and "default" in decl:
            values[full_key] = decl["default"]
        if full_key in values and "type" in decl and not _has_secure(values[full_key]):
            expected = _TYPES.get(decl["type"], (object,))
            value = values[full_key]
            if not isinstance(value, expected) or (decl["type"] == "integer" and isinstance(value, bool)):
                problems.append((full_key, f"must be of type {decl['type']} (declared in Pulumi.yaml)"))
    if problems:
        raise StackConfigError(stack_file, problems)

    for key in sorted(values):
        value = values[key]
        if _has_secure(value):
            result.secret_keys.append(key)
            value = _placeholder(value, key)
        result.config[key] = _encode(value)
    return result
