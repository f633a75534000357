"""What changed since the previous plan of the same stack: resources, cost and cold starts.

Compares ``build/<stack>/plan.json``, ``cost.json`` and ``startup.json`` before they are replaced:
resources added, removed and changed (same URN, different inputs or options) with the fields that
change (a tag on ``eks-cluster`` reads ``inputs.tags.<key>``, not "the cluster"), the change in the
stack's $/h at idle and at max scale, and each fleet's cold-start estimate where it moved. A
reviewer reads this first; the terminal shows the first lines and ``build/<stack>/diff.txt``
(``diff_text``) every change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class PlanChanges:
    previous: bool
    """Whether there was a previous plan to compare with."""
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)
    """Changed URN -> the dotted paths of the fields that differ (``inputs.tags.Owner``)."""
    cost_delta: dict[str, float] = field(default_factory=dict)
    """``idleUsdPerHour`` / ``maxUsdPerHour`` differences (new minus old)."""
    cold_start: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    """Fleet -> (old, new) cold-start total seconds from ``startup.json``, where they differ (issue 26:
    changing a cache or a fast path shows in the diff)."""


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _resources(plan: Any) -> dict[str, Any]:
    return {r["urn"]: r for r in (plan or {}).get("resources", [])}


def changed_fields(old: Any, new: Any, path: str = "", depth: int = 3) -> list[str]:
    """Dotted paths where ``old`` and ``new`` differ, down to ``depth`` levels of mappings (deeper
    differences are named by their ancestor; a list that changes is named as a whole)."""
    if old == new:
        return []
    if depth == 0 or not (isinstance(old, dict) and isinstance(new, dict)):
        return [path or "(whole resource)"]
    found: list[str] = []
    for key in sorted(set(old) | set(new), key=str):
        sub = f"{path}.{key}" if path else str(key)
        if key not in old or key not in new:
            found.append(sub)
        else:
            found += changed_fields(old[key], new[key], sub, depth - 1)
    return found


def diff_plans(old_dir: Path, new_dir: Path) -> PlanChanges:
    old_plan = _load(old_dir / "plan.json")
    if old_plan is None:
        return PlanChanges(previous=False)
    old, new = _resources(old_plan), _resources(_load(new_dir / "plan.json"))
    changes = PlanChanges(
        previous=True,
        added=sorted(set(new) - set(old)),
        removed=sorted(set(old) - set(new)),
        changed=sorted(u for u in set(old) & set(new) if old[u] != new[u]),
    )
    # The inputs' keys are the resource's own fields (plus protect/retainOnDelete/parent).
    changes.fields = {u: changed_fields(old[u], new[u]) for u in changes.changed}
    old_total = ((_load(old_dir / "cost.json") or {}).get("total")) or {}
    new_total = ((_load(new_dir / "cost.json") or {}).get("total")) or {}
    for key in ("idleUsdPerHour", "maxUsdPerHour"):
        if key in old_total and key in new_total:
            changes.cost_delta[key] = round(new_total[key] - old_total[key], 2)
    changes.cold_start = cold_start_changes(_load(old_dir / "startup.json"), _load(new_dir / "startup.json"))
    return changes


def cold_start_changes(old: Any, new: Any) -> dict[str, tuple[float | None, float | None]]:
    def totals(report: Any) -> dict[str, float]:
        return {k: f["totalSeconds"] for k, f in ((report or {}).get("fleets") or {}).items()}

    before, after = totals(old), totals(new)
    return {k: (before.get(k), after.get(k)) for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}


def cold_start_lines(changes: PlanChanges) -> list[str]:
    """``cold start <fleet>: 498 s -> 390 s`` for each fleet whose estimate changed."""

    def shown(v: float | None) -> str:
        return "none" if v is None else f"{v:.0f} s"

    return [f"cold start {k}: {shown(a)} -> {shown(b)}" for k, (a, b) in changes.cold_start.items()]


def change_lines(changes: PlanChanges, limit: int | None = None) -> list[str]:
    """``+ name``, ``~ name: fields`` and ``- name`` lines; ``limit`` lines of each kind at most."""
    lines: list[str] = []
    for label, urns in (("+", changes.added), ("~", changes.changed), ("-", changes.removed)):
        shown = urns if limit is None else urns[:limit]
        for urn in shown:
            name = urn.rsplit("::", 1)[-1]
            fields = changes.fields.get(urn, [])
            if fields and limit is not None and len(fields) > 4:
                fields = [*fields[:4], f"+{len(changes.fields[urn]) - 4} more"]
            lines.append(f"  {label} {name}" + (f": {', '.join(fields)}" if fields else ""))
        if limit is not None and len(urns) > limit:
            lines.append(f"  {label} … and {len(urns) - limit} more")
    return lines


def diff_text(changes: PlanChanges) -> str:
    """``build/<stack>/diff.txt``: every change since the previous plan, URNs and fields in full."""
    lines = [
        f"{len(changes.added)} added, {len(changes.changed)} changed, {len(changes.removed)} removed",
        *(f"cost {k.removesuffix('UsdPerHour')} {v:+.2f} USD/h" for k, v in changes.cost_delta.items()),
        *cold_start_lines(changes),
    ]
    for label, urns in (("+", changes.added), ("~", changes.changed), ("-", changes.removed)):
        for urn in urns:
            fields = changes.fields.get(urn, [])
            lines.append(f"{label} {urn}" + (f"\n    {', '.join(fields)}" if fields else ""))
    return "\n".join(lines) + "\n"
