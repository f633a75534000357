"""``policies/RULES.md`` lists exactly the pack's policies, with their module, rule and levels."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from aiinfra_policies import ALL_POLICIES, DOMAINS
from aiinfra_policies.common import RulePolicy
from tests.conftest import ROOT

RULES_MD = ROOT / "policies" / "RULES.md"


@dataclass(frozen=True)
class Row:
    rule: str
    policy: str
    section: str
    module: str
    dev: str
    prod: str
    severity: str
    standard: str


def _rows() -> list[Row]:
    """The table rows of RULES.md (one table per section; header and separator rows skipped)."""
    rows = []
    for line in RULES_MD.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) != 8 or cells[0] == "Rule" or set(cells[0]) <= {"-"}:
            continue
        rows.append(Row(*(c.strip("`") for c in cells)))
    return rows


def _levels(env: str) -> dict[str, str]:
    config = json.loads((ROOT / "policies" / f"{env}.json").read_text())
    return {k: v if isinstance(v, str) else v["enforcementLevel"] for k, v in config.items()}


def _module_of() -> dict[str, str]:
    return {p.name: module.__name__.rsplit(".", 1)[-1] for module in DOMAINS for p in module.POLICIES}


def test_table_lists_every_policy_once() -> None:
    names = [r.policy for r in _rows()]
    assert len(names) == len(set(names)), "a policy is listed twice"
    assert set(names) == {p.name for p in ALL_POLICIES}


@pytest.mark.parametrize("policy", ALL_POLICIES, ids=lambda p: p.name)
def test_row_matches_code_and_configs(policy: RulePolicy) -> None:
    row = next(r for r in _rows() if r.policy == policy.name)
    assert row.rule == (policy.rule or "—")
    assert row.section == policy.section
    assert row.module == _module_of()[row.policy]
    assert (ROOT / "policies" / "aiinfra_policies" / f"{row.module}.py").is_file()
    assert row.dev == _levels("dev")[row.policy] == policy.enforcement_level.value
    assert row.prod == _levels("prod")[row.policy]
    assert row.severity == policy.severity.value
    assert row.standard == policy.standard, "the code's standard and the table's must be the same text"
