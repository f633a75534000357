"""Imports run one way: core <- specs <- resources <- components <- __main__.

- ``components/core``: settings, presets, catalogues, naming, labels — depends on nothing of ours
  outside ``core``;
- ``components/specs``: pure builders — depend on ``core``;
- ``components/resources``: helpers that create resources inside a component — on both;
- component modules (``components/*.py``): on all three, never on each other;
- ``__main__.py``: on components; the planner and benchmarks may use ``core`` (and components,
  to build them); the policy pack is self-contained (it runs in its own virtualenv).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

OURS = ("components", "planner", "benchmarks", "aiinfra_policies", "tests")


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
    "__main__": {"core", "specs", "component"},
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


# -- size: no module over 450 lines, no function over 80 ----------------------------------------

MAX_MODULE_LINES, MAX_FUNCTION_LINES = 450, 80
PROJECT_SOURCES = sorted(
    {
        *SOURCES,
        *(ROOT / "policies").glob("*.py"),
        *(ROOT / "images").rglob("*.py"),
        *(ROOT / "scripts").rglob("*.py"),
        *(ROOT / "tools").rglob("*.py"),
    }
)
TOO_LONG_YET = {
    # being split by issue 24 (the helpers of its second wave); drop a line when its split lands
    "__main__.py",
    "components/core/cold_start.py",
    "components/specs/model_runner.py",
    "components/specs/batch.py",
    "components/specs/alerts.py",
    "components/model_runner_fleet.py",
    "components/monitoring_stack.py",
    "components/network.py",
    "components/registry.py",
    "components/shared_storage.py",
    "planner/__main__.py",
    "policies/aiinfra_policies/pod_security.py",
}
"""Files still over a limit. Nothing else may be, and nothing may join this list."""


def size_problems(path: Path) -> list[str]:
    """Why ``path`` is too long: the module over ``MAX_MODULE_LINES``, each function over
    ``MAX_FUNCTION_LINES`` (its ``def`` line to its last, decorators aside)."""
    text = path.read_text()
    found = [f"{len(text.splitlines())} lines"] if len(text.splitlines()) > MAX_MODULE_LINES else []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{node.name}() {length} lines")
    return found


def test_no_module_or_function_is_too_long() -> None:
    """Issue 24: a module says one thing (≤ 450 lines) and a function does one thing (≤ 80)."""
    offenders = {str(p.relative_to(ROOT)): size_problems(p) for p in PROJECT_SOURCES}
    new = {path: why for path, why in offenders.items() if why and path not in TOO_LONG_YET}
    assert new == {}, f"split these (limits {MAX_MODULE_LINES} lines a module, {MAX_FUNCTION_LINES} a function)"


def test_the_too_long_list_names_only_files_still_too_long() -> None:
    """A file that got short leaves TOO_LONG_YET, so it cannot grow back unnoticed."""
    done = sorted(path for path in TOO_LONG_YET if not size_problems(ROOT / path))
    assert done == [], "remove these from TOO_LONG_YET: they are within the limits now"


def test_the_size_check_sees_a_long_function(tmp_path: Path) -> None:
    source = tmp_path / "long.py"
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    source.write_text(f"def short():\n    return 1\n\n\ndef long():\n{body}")
    assert size_problems(source) == [f"long() {MAX_FUNCTION_LINES + 1} lines"]
    source.write_text("x = 1\n" * (MAX_MODULE_LINES + 1))
    assert size_problems(source) == [f"{MAX_MODULE_LINES + 1} lines"]


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
