"""What changed since the previous plan of the same stack: resources and cost.

Compares ``build/<stack>/plan.json`` and ``cost.json`` before they are replaced: resources added,
removed and changed (same URN, different inputs or options) with the fields that change (a tag on
``eks-cluster`` reads ``inputs.tags.<key>``, not "the cluster"), and the change in the stack's $/h
at idle and at max scale. A reviewer reads this first; the terminal shows the first lines and
``build/<stack>/diff.txt`` (``diff_text``) every change.
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
    return changes


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
    ]
    for label, urns in (("+", changes.added), ("~", changes.changed), ("-", changes.removed)):
        for urn in urns:
            fields = changes.fields.get(urn, [])
            lines.append(f"{label} {urn}" + (f"\n    {', '.join(fields)}" if fields else ""))
    return "\n".join(lines) + "\n"
