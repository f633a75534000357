"""Size limits (issue 24's Done criterion): no module over 450 lines, no function over 80.

A long module mixes concerns a reader has to separate; a long function hides the steps its
name should give; ``__main__.py`` is held to 80 lines (``test_main_is_thin``). Nothing is exempt
today; an exemption, if one is ever needed, is held at its size (it can shrink, never grow) and
must leave the list once it fits (a test fails while a fitting entry stays).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80

SOURCES = sorted(
    [
        *(ROOT / "components").rglob("*.py"),
        *(ROOT / "stack").rglob("*.py"),
        *(ROOT / "planner").rglob("*.py"),
        *(ROOT / "benchmarks").rglob("*.py"),
        *(ROOT / "policies" / "aiinfra_policies").rglob("*.py"),
        ROOT / "policies" / "__main__.py",
        ROOT / "__main__.py",
    ]
)
MODULE_EXEMPT: dict[str, int] = {}
"""Empty: cold_start.py is split (issue 26: startup_figures.py and the engines' records)."""
FUNCTION_EXEMPT: dict[str, int] = {}
"""Empty: planner/__main__.py's main is split (issue 24, speed)."""


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", SOURCES, ids=_rel)
def test_modules_and_functions_stay_small(path: Path) -> None:
    text = path.read_text()
    lines = len(text.splitlines())
    assert lines <= MODULE_EXEMPT.get(_rel(path), MAX_MODULE_LINES), f"{_rel(path)} has {lines} lines: split it"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
            length = node.end_lineno - node.lineno + 1
            key = f"{_rel(path)}:{node.name}"
            assert length <= FUNCTION_EXEMPT.get(key, MAX_FUNCTION_LINES), f"{key} has {length} lines: split it"


def _sizes() -> dict[str, int]:
    """Every module's lines (``path``) and function's lines (``path:name``) in SOURCES."""
    found: dict[str, int] = {}
    for path in SOURCES:
        text = path.read_text()
        found[_rel(path)] = len(text.splitlines())
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
                key = f"{_rel(path)}:{node.name}"
                found[key] = max(found.get(key, 0), node.end_lineno - node.lineno + 1)
    return found


def test_exemptions_name_only_what_is_still_too_long() -> None:
    """An exempt module or function that now fits (or is gone) leaves its list, so it cannot grow back."""
    sizes = _sizes()
    fits = sorted(k for k in MODULE_EXEMPT if sizes.get(k, 0) <= MAX_MODULE_LINES)
    fits += sorted(k for k in FUNCTION_EXEMPT if sizes.get(k, 0) <= MAX_FUNCTION_LINES)
    assert fits == [], "remove these exemptions: they are within the limits now"


def test_main_is_thin() -> None:
    """Issue 24: ``__main__.py`` only loads settings, makes the context and calls the layers."""
    assert len((ROOT / "__main__.py").read_text().splitlines()) <= 80
