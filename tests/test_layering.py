"""Imports run one way: core <- specs <- resources <- components <- stack <- __main__.

- ``components/core``: settings, presets, catalogues, naming, labels — depends on nothing of ours
  outside ``core``;
- ``components/specs``: pure builders — depend on ``core``;
- ``components/resources``: helpers that create resources inside a component — on both;
- component modules (``components/*.py``): on all three, never on each other;
- ``stack/``: the program's layers — on components and the layers below them;
- ``__main__.py``: on ``stack`` (and ``core``, for the settings and their loader); the planner
  and benchmarks may use ``core`` (and components, to build them); the policy pack is
  self-contained (it runs in its own virtualenv).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

OURS = ("components", "stack", "planner", "benchmarks", "aiinfra_policies", "tests")


def layer(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "components" and len(parts) > 1 and parts[1] in ("core", "specs", "resources"):
        return parts[1]
    if parts[0] == "components":
        return "component"
    return parts[0]


ALLOWED = {
    "core": {"core"},
    "specs": {"core", "specs"},
    "resources": {"core", "specs", "resources"},
    "component": {"core", "specs", "resources"},
    "stack": {"core", "specs", "component", "stack"},
    "__main__": {"core", "specs", "stack"},
    "planner": {"core", "planner"},
    "benchmarks": {"core", "specs", "component", "planner", "benchmarks"},
    "aiinfra_policies": {"aiinfra_policies"},
}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT / "policies" if path.is_relative_to(ROOT / "policies") else ROOT)
    return ".".join(rel.with_suffix("").parts).removesuffix(".__init__")


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {m for m in found if m.split(".")[0] in OURS}


SOURCES = sorted(
    [
        *(ROOT / "components").rglob("*.py"),
        *(ROOT / "stack").rglob("*.py"),
        *(ROOT / "planner").rglob("*.py"),
        *(ROOT / "benchmarks").rglob("*.py"),
        *(ROOT / "policies" / "aiinfra_policies").rglob("*.py"),
        ROOT / "__main__.py",
    ]
)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_follow_the_layers(path: Path) -> None:
    name = module_name(path)
    own = layer(name)
    wrong = sorted(m for m in imports_of(path) if layer(m) not in ALLOWED[own])
    assert wrong == [], f"{name} ({own}) may only import {sorted(ALLOWED[own])}"


def test_component_modules_do_not_import_each_other() -> None:
    for path in (ROOT / "components").glob("*.py"):
        others = [m for m in imports_of(path) if layer(m) == "component" and m != "components"]
        assert others == [], path.name


def test_the_layer_check_sees_a_violation(tmp_path: Path) -> None:
    source = tmp_path / "bad.py"
    source.write_text("import json\nfrom components.specs import storage\nimport planner.engine\n")
    found = imports_of(source)
    assert found == {"components.specs", "planner.engine"}
    assert {layer(m) for m in found} - ALLOWED["core"] == {"specs", "planner"}


def test_settings_modules_never_import_the_validated_root_back() -> None:
    """Issue 24: rules and sections import ``settings.root`` (the fields and facts), never
    ``settings.stack`` (which imports the rules), so the settings have no import circle, not
    even one hidden behind ``TYPE_CHECKING``; only the package and the loader import ``stack``."""
    settings = ROOT / "components" / "core" / "settings"
    importers = sorted(
        str(p.relative_to(settings))
        for p in settings.rglob("*.py")
        if {"components.core.settings.stack", "components.core.settings"} & imports_of(p)
    )
    assert importers == ["__init__.py", "loader.py"]
