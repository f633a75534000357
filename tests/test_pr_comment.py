"""scripts/pr_comment.py: one stack's section of the pull-request comment (preview.yml)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts import pr_comment

BASE_COST = {
    "total": {
        "idleUsdPerHour": 0.29,
        "maxUsdPerHour": 1.66,
        "idleUsdPerMonth": 209.44,
        "maxUsdPerMonth": 1210.71,
        "maxGpus": 2,
    },
    "pools": {"gpu": {"usdPerHour": {"max": 1.17}}, "old": {"usdPerHour": {"max": 0.5}}},
    "budgetUsdPerHour": None,
}
HEAD_COST = {
    "total": {
        "idleUsdPerHour": 0.29,
        "maxUsdPerHour": 2.25,
        "idleUsdPerMonth": 209.44,
        "maxUsdPerMonth": 1640.0,
        "maxGpus": 3,
    },
    "pools": {"gpu": {"usdPerHour": {"max": 1.76}}, "new": {"usdPerHour": {"max": 0.1}}},
    "budgetUsdPerHour": 5.0,
}
REPORT = {
    "policyConfig": "policies/prod.json",
    "violations": [
        {
            "level": "advisory",
            "policy": "monitoring-stack-present",
            "urn": "",
            "message": "Why it matters.\nThe stack has workloads but no monitoring stack.",
        },
        {
            "level": "mandatory",
            "policy": "eks-endpoint-private",
            "urn": "urn:pulumi:prod::ai-infra::ai-infra:aws:EksCluster$aws:eks/cluster:Cluster::cluster",
            "message": "Why.\nMake the endpoint private | set endpointPublicAccess: false.",
        },
    ],
    "unknownAtPreview": [{"policy": "efs-policy-allows-mounts", "urn": ""}, {"policy": "efs-policy-allows-mounts"}],
}
PREVIEW = """Previewing update (prod)

     Type                 Name           Plan
 +   pulumi:pulumi:Stack  ai-infra-prod  create

Policies:
    ❌ ai-infra@v0.1.0 (local: policies)
        - [mandatory]  eks-endpoint-private  (aws:eks/cluster:Cluster: cluster)
          Make the endpoint private.

Resources:
    + 212 to create

Duration: 12s
"""


def test_the_cost_table_compares_head_with_base() -> None:
    lines = pr_comment.cost_lines(BASE_COST, HEAD_COST)
    assert "| max $/h | 1.66 | 2.25 | +0.59 |" in lines
    assert "| idle $/h | 0.29 | 0.29 | 0 |" in lines
    assert "| max $/month | 1,211 | 1,640 | +429 |" in lines
    assert "| max GPUs | 2 | 3 | +1 |" in lines
    assert "- `gpu`: 1.17 → 1.76 $/h at max (+0.59)" in lines
    assert "- `new`: added, 0.10 $/h at max" in lines
    assert "- `old`: removed (was 0.50 $/h at max)" in lines
    assert "Budget (`cost.budgetUsdPerHour`): 5.00 USD/h at max scale." in lines


def test_without_a_base_plan_the_head_stands_alone_and_says_so() -> None:
    lines = pr_comment.cost_lines(None, HEAD_COST)
    assert "| max $/h | — | 2.25 | — |" in lines
    assert any(line.startswith("No base plan to compare with") for line in lines)
    assert pr_comment.cost_lines(BASE_COST, None) == ["No cost estimate at the head (the plan did not finish)."]


def test_violations_are_listed_mandatory_first_by_resource_name_with_what_to_fix() -> None:
    lines = pr_comment.violation_lines(REPORT)
    assert lines[0] == "Policy violations (policies/prod.json): 1 mandatory, 1 advisory"
    rows = [line for line in lines if line.startswith("| mandatory") or line.startswith("| advisory")]
    assert rows == [
        "| mandatory | `eks-endpoint-private` | `cluster` "
        "| Make the endpoint private \\| set endpointPublicAccess: false. |",
        "| advisory | `monitoring-stack-present` | `(stack)` | The stack has workloads but no monitoring stack. |",
    ]
    assert lines[-1].endswith(": `efs-policy-allows-mounts`")
    assert pr_comment.violation_lines(None) == ["No policy report (the plan did not reach the policy pack)."]


def test_the_preview_blocks_are_policies_and_resources() -> None:
    assert pr_comment.preview_blocks(PREVIEW) == [
        "Policies:",
        "    ❌ ai-infra@v0.1.0 (local: policies)",
        "        - [mandatory]  eks-endpoint-private  (aws:eks/cluster:Cluster: cluster)",
        "          Make the endpoint private.",
        "",
        "Resources:",
        "    + 212 to create",
        "",
    ]
    assert pr_comment.preview_blocks("") == []


def test_a_section_fails_visibly_and_fences_what_it_quotes() -> None:
    text = pr_comment.section(
        "prod",
        base_cost=BASE_COST,
        head_cost=HEAD_COST,
        report=REPORT,
        summary="Plan for stack prod\n```\nnot a fence end",
        plan_exit=1,
        preview_outcome="failure",
        preview_output=PREVIEW,
        run_url="https://example.invalid/run/1",
    )
    assert text.startswith("### ❌ `prod`")
    assert "- `make plan STACK=prod`: exit 1: mandatory policy violations" in text
    assert "- `pulumi preview --stack prod` with the policy pack: failed" in text
    assert "````text\nPlan for stack prod\n```\nnot a fence end\n````" in text
    assert "#### `pulumi preview`" in text and "+ 212 to create" in text
    clean = pr_comment.section(
        "dev",
        base_cost=BASE_COST,
        head_cost=BASE_COST,
        report={"violations": []},
        summary="",
        plan_exit=0,
        preview_outcome="skipped",
        preview_output="",
    )
    assert clean.startswith("### ✅ `dev`") and "<details>" not in clean and "#### `pulumi preview`" not in clean


def test_a_long_summary_is_cut_to_fit_a_comment() -> None:
    text = pr_comment.section(
        "dev",
        base_cost=None,
        head_cost=None,
        report=None,
        summary="x" * (pr_comment.SUMMARY_LIMIT * 3),
        plan_exit=None,
        preview_outcome="",
        preview_output="",
    )
    assert "did not run" in text and len(text) < pr_comment.SUMMARY_LIMIT + 2_000
    assert f"cut at {pr_comment.SUMMARY_LIMIT} characters" in text


@pytest.mark.parametrize(
    ("plan_exit", "reads_head"), [("0", True), ("1", True), ("2", False), ("3", False), ("", False)]
)
def test_the_head_files_count_only_when_the_planner_rewrote_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], plan_exit: str, reads_head: bool
) -> None:
    """preview.yml seeds build/<stack> with the base plan; a plan that stops early (invalid
    config, the pack could not run) leaves the base's files there, which are not the head's."""
    head, base = tmp_path / "head", tmp_path / "base"
    for folder, cost in ((head, HEAD_COST), (base, BASE_COST)):
        folder.mkdir()
        (folder / "cost.json").write_text(json.dumps(cost))
    (head / "policy-report.json").write_text(json.dumps(REPORT))
    args = ["--stack", "prod", "--head", str(head), "--base", str(base), "--plan-exit", plan_exit]
    assert pr_comment.main([*args, "--summary", str(tmp_path / "missing.txt")]) == 0
    out = capsys.readouterr().out
    assert ("| max $/h | 1.66 | 2.25 | +0.59 |" in out) is reads_head
    assert ("eks-endpoint-private" in out) is reads_head
    assert ("No cost estimate at the head" in out) is not reads_head
