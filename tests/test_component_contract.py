"""AST contract for components/: conventions a reviewer should not have to check by eye.

Each component module defines ``TYPE = "ai-infra:<area>:<Noun>"`` and one ComponentResource
whose ``__init__`` calls ``super().__init__(TYPE, name, None, opts)`` first and
``self.register_outputs({...})`` exactly once, last, with keys equal to the class's annotated
``pulumi.Output`` attributes; every component has a frozen, kw-only ``<Noun>Args`` dataclass.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

MODULES = sorted(p for p in (ROOT / "components").glob("*.py") if p.name != "__init__.py")
TOKEN = re.compile(r"^ai-infra:(aws|k8s|storage|models|mesh|monitoring|registry|gateway):[A-Z][A-Za-z]+$")


def _component_classes(tree: ast.Module) -> list[ast.ClassDef]:
    return [
        n
        for n in tree.body
        if isinstance(n, ast.ClassDef) and any(ast.unparse(b) == "pulumi.ComponentResource" for b in n.bases)
    ]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_component_module_contract(path: Path) -> None:
    tree = ast.parse(path.read_text())
    assert ast.get_docstring(tree), f"{path.name} needs a module docstring"
    classes = _component_classes(tree)
    assert len(classes) == 1, f"{path.name} must define exactly one ComponentResource"
    cls = classes[0]
    token = next(
        ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "TYPE" for t in n.targets)
    )
    assert TOKEN.match(token) and token.endswith(f":{cls.name}"), token

    args_cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == f"{cls.name}Args"), None)
    assert args_cls is not None, f"{cls.name}Args missing"
    assert any("frozen=True" in ast.unparse(d) and "kw_only=True" in ast.unparse(d) for d in args_cls.decorator_list)

    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    first = init.body[0]
    # The generic Helm add-on registers its record's token (each add-on keeps its own URNs).
    token_source = "args.addon.type_token" if path.name == "helm_addon.py" else "TYPE"
    assert ast.unparse(first) == f"super().__init__({token_source}, name, None, opts)", path.name
    calls = [n for n in ast.walk(init) if isinstance(n, ast.Call) and ast.unparse(n.func) == "self.register_outputs"]
    assert len(calls) == 1, "register_outputs must be called exactly once"
    assert ast.unparse(init.body[-1]).startswith("self.register_outputs("), "register_outputs must be last"
    keys = {ast.literal_eval(k) for k in calls[0].args[0].keys}  # type: ignore[attr-defined]
    outputs = {
        n.target.id
        for n in cls.body
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and "Output" in ast.unparse(n.annotation)
    }
    assert keys == outputs, f"register_outputs keys {keys} != annotated outputs {outputs}"
    for node in ast.walk(init):
        if isinstance(node, ast.Call) and re.fullmatch(r"\w+\.Provider", ast.unparse(node.func)):
            pytest.fail(f"{path.name} creates a provider; pass providers in")


def test_type_tokens_are_unique() -> None:
    tokens = []
    for path in MODULES:
        tree = ast.parse(path.read_text())
        tokens += [
            ast.literal_eval(n.value)
            for n in tree.body
            if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "TYPE" for t in n.targets)
        ]
    from components.specs.addons import HELM_ADDONS

    tokens += [a.type_token for a in HELM_ADDONS]
    assert all(TOKEN.match(t) for t in tokens), tokens
    assert len(tokens) == len(set(tokens))
