"""One stack's section of the pull-request comment that ``.github/workflows/preview.yml`` posts.

The section says, for one stack: how the offline plan ended (``scripts/plan``'s exit code), the
cost at the pull request's head against the base branch (both ``build/<stack>/cost.json``, the
base one planned from a checkout of the base commit), the policy violations the pack reported
(``build/<stack>/policy-report.json``), the mandatory policies a first ``pulumi preview`` cannot
evaluate, how ``pulumi preview`` ended with its ``Policies:`` and ``Resources:`` blocks, and the
plan summary the planner printed (collapsed). The workflow's comment job joins the sections of
all stacks into one sticky comment.

Standard library only: the workflow runs it with the project's ``.venv`` Python, and tests import it.

    python scripts/pr_comment.py --stack dev --head build/dev --base ../base/build/dev \\
        --summary plan-dev.txt --plan-exit 0 --preview-outcome success --preview-output preview-dev.txt
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

PLAN_EXITS = {
    0: "clean (advisories allowed)",
    1: "mandatory policy violations",
    2: "invalid configuration",
    3: "the policy pack could not run",
}
"""``scripts/plan``'s exit codes (the planner's, see planner/__main__.py)."""

COST_ROWS = (
    ("idle $/h", "idleUsdPerHour"),
    ("max $/h", "maxUsdPerHour"),
    ("idle $/month", "idleUsdPerMonth"),
    ("max $/month", "maxUsdPerMonth"),
    ("max GPUs", "maxGpus"),
)
"""The rows of the cost table: ``cost.json`` ``total`` keys."""

SUMMARY_LIMIT = 20_000
"""Characters of the plan summary kept per stack: GitHub refuses comments over 65,536."""

PREVIEW_BLOCKS = ("Policies:", "Resources:")
"""The blocks of ``pulumi preview``'s output the comment quotes (the full log is in the run)."""


def load_json(path: Path) -> Any:
    """The file's JSON, or None when it is missing or unreadable (a plan that did not run)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell (one line, no column breaks)."""
    return " ".join(text.split()).replace("|", "\\|")


def _number(value: Any, key: str) -> str:
    if not isinstance(value, int | float):
        return "—"
    return f"{value:,.0f}" if key.endswith("Month") or key == "maxGpus" else f"{value:,.2f}"


def cost_lines(base: Any, head: Any) -> list[str]:
    """The stack totals at base and head and their difference; pools whose max $/h changed."""
    head_total = (head or {}).get("total") or {}
    base_total = (base or {}).get("total") or {}
    if not head_total:
        return ["No cost estimate at the head (the plan did not finish)."]
    lines = ["| cost (USD, list prices) | base | head | change |", "|---|---:|---:|---:|"]
    for label, key in COST_ROWS:
        new, old = head_total.get(key), base_total.get(key)
        if isinstance(new, int | float) and isinstance(old, int | float):
            delta = new - old
            change = "0" if abs(delta) < 0.005 else (f"{delta:+,.2f}" if "Hour" in key else f"{delta:+,.0f}")
        else:
            change = "—"
        lines.append(f"| {label} | {_number(old, key)} | {_number(new, key)} | {change} |")
    if not base_total:
        lines.append("")
        lines.append("No base plan to compare with (the stack is new here, or the base branch could not plan it).")
    pools = _pool_changes((base or {}).get("pools") or {}, (head or {}).get("pools") or {})
    if pools:
        lines += ["", "Pools whose cost at max scale changed:", *pools]
    budget = (head or {}).get("budgetUsdPerHour")
    if isinstance(budget, int | float):
        lines += ["", f"Budget (`cost.budgetUsdPerHour`): {budget:,.2f} USD/h at max scale."]
    return lines


def _pool_changes(base: dict[str, Any], head: dict[str, Any]) -> list[str]:
    lines = []
    for name in sorted(set(base) | set(head)):
        old = ((base.get(name) or {}).get("usdPerHour") or {}).get("max")
        new = ((head.get(name) or {}).get("usdPerHour") or {}).get("max")
        if old == new:
            continue
        if old is None:
            lines.append(f"- `{name}`: added, {new:,.2f} $/h at max")
        elif new is None:
            lines.append(f"- `{name}`: removed (was {old:,.2f} $/h at max)")
        else:
            lines.append(f"- `{name}`: {old:,.2f} → {new:,.2f} $/h at max ({new - old:+,.2f})")
    return lines


def violation_lines(report: Any) -> list[str]:
    """The pack's findings from the offline plan, mandatory first; the resource by name only."""
    if not isinstance(report, dict):
        return ["No policy report (the plan did not reach the policy pack)."]
    violations = sorted(
        report.get("violations") or [], key=lambda v: (v.get("level") != "mandatory", v.get("policy", ""))
    )
    levels = [v.get("level") for v in violations]
    lines = [
        f"Policy violations ({report.get('policyConfig', 'policy config')}): "
        f"{levels.count('mandatory')} mandatory, {levels.count('advisory')} advisory"
    ]
    if violations:
        lines += ["", "| level | policy | resource | what to fix |", "|---|---|---|---|"]
        for v in violations:
            message = str(v.get("message") or "").strip().splitlines()
            resource = str(v.get("urn") or "").rsplit("::", 1)[-1] or "(stack)"
            lines.append(
                f"| {_cell(str(v.get('level')))} | `{_cell(str(v.get('policy')))}` | `{_cell(resource)}` "
                f"| {_cell(message[-1] if message else '')} |"
            )
    unknown = sorted({str(u.get("policy")) for u in report.get("unknownAtPreview") or []})
    if unknown:
        lines += [
            "",
            "Mandatory policies a first `pulumi preview` cannot evaluate (values known only after apply; "
            "the plan checked them with the planned values): " + ", ".join(f"`{p}`" for p in unknown),
        ]
    return lines


def preview_blocks(output: str) -> list[str]:
    """The ``Policies:`` and ``Resources:`` blocks of ``pulumi preview``'s output: each from its
    header line to the next line that is neither empty nor indented."""
    lines = output.splitlines()
    kept: list[str] = []
    for i, line in enumerate(lines):
        if line.strip() in PREVIEW_BLOCKS and not line.startswith((" ", "\t")):
            block = [line]
            for follow in lines[i + 1 :]:
                if follow.strip() and not follow.startswith((" ", "\t")):
                    break
                block.append(follow)
            kept += [*block]
    return [line.rstrip() for line in kept]


def _fenced(text: str) -> list[str]:
    """A text block in a fence no line of it can close."""
    fence = "```"
    while fence in text:
        fence += "`"
    return [f"{fence}text", text, fence]


def section(
    stack: str,
    *,
    base_cost: Any,
    head_cost: Any,
    report: Any,
    summary: str,
    plan_exit: int | None,
    preview_outcome: str,
    preview_output: str,
    run_url: str = "",
) -> str:
    """The Markdown section for one stack."""
    if plan_exit is None:
        plan = "did not run"
    else:
        plan = f"exit {plan_exit}: {PLAN_EXITS.get(plan_exit, 'unexpected exit code')}"
    ok = plan_exit == 0 and preview_outcome in ("success", "skipped")
    lines = [f"### {'✅' if ok else '❌'} `{stack}`", "", f"- `make plan STACK={stack}`: {plan}"]
    outcome = {
        "success": "succeeded",
        "failure": "failed",
        "skipped": "skipped (a pull request from a fork, no PULUMI_BACKEND_URL yet, or an earlier step failed)",
        "cancelled": "cancelled",
    }.get(preview_outcome, preview_outcome or "did not run")
    lines.append(f"- `pulumi preview --stack {stack}` with the policy pack: {outcome}")
    if run_url:
        lines.append(f"- full logs: {run_url}")
    lines += ["", "#### Cost against the base branch", "", *cost_lines(base_cost, head_cost)]
    lines += ["", "#### Policies (offline plan)", "", *violation_lines(report)]
    blocks = preview_blocks(preview_output)
    if blocks:
        lines += ["", "#### `pulumi preview`", "", *_fenced("\n".join(blocks))]
    if summary.strip():
        text = summary.strip()
        if len(text) > SUMMARY_LIMIT:
            text = text[:SUMMARY_LIMIT] + f"\n… cut at {SUMMARY_LIMIT} characters: the full summary is in the run log"
        lines += ["", "<details><summary>Plan summary (<code>make plan</code>)</summary>", "", *_fenced(text)]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--head", type=Path, required=True, help="the head's build/<stack>")
    parser.add_argument("--base", type=Path, required=True, help="the base branch's build/<stack>")
    parser.add_argument("--summary", type=Path, help="the plan summary (scripts/plan's output)")
    parser.add_argument("--plan-exit", default="", help="scripts/plan's exit code (empty: did not run)")
    parser.add_argument("--preview-outcome", default="", help="the preview step's outcome")
    parser.add_argument("--preview-output", type=Path, help="pulumi preview's output")
    parser.add_argument("--run-url", default="")
    args = parser.parse_args(argv)

    def read(path: Path | None) -> str:
        try:
            return path.read_text() if path else ""
        except OSError:
            return ""

    plan_exit = int(args.plan_exit) if args.plan_exit.strip().isdigit() else None
    # The planner replaces build/<stack> only when it gets as far as the policy report (exit 0 or
    # 1); otherwise the folder still holds the base plan the workflow seeded it with.
    planned = plan_exit in (0, 1)
    sys.stdout.write(
        section(
            args.stack,
            base_cost=load_json(args.base / "cost.json"),
            head_cost=load_json(args.head / "cost.json") if planned else None,
            report=load_json(args.head / "policy-report.json") if planned else None,
            summary=read(args.summary),
            plan_exit=plan_exit,
            preview_outcome=args.preview_outcome,
            preview_output=read(args.preview_output),
            run_url=args.run_url,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
