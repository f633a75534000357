"""What changed since the previous plan of the same stack: resources and cost.

Compares ``build/<stack>/plan.json`` and ``cost.json`` before they are replaced: resources added,
removed and changed (same URN, different inputs or options), and the change in the stack's $/h at
idle and at max scale. A reviewer reads this first.
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
    cost_delta: dict[str, float] = field(default_factory=dict)
    """``idleUsdPerHour`` / ``maxUsdPerHour`` differences (new minus old)."""


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _resources(plan: Any) -> dict[str, Any]:
    return {r["urn"]: r for r in (plan or {}).get("resources", [])}


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
    old_total = ((_load(old_dir / "cost.json") or {}).get("total")) or {}
    new_total = ((_load(new_dir / "cost.json") or {}).get("total")) or {}
    for key in ("idleUsdPerHour", "maxUsdPerHour"):
        if key in old_total and key in new_total:
            changes.cost_delta[key] = round(new_total[key] - old_total[key], 2)
    return changes
