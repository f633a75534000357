"""The TTFT SLO is a bucket boundary of every engine that serves a fleet here and exports metrics
(``settings/engines.slo_buckets`` says why)."""

from __future__ import annotations

from components.core.engines import ENGINES
from components.core.settings.base import Problem
from components.core.settings.engines import slo_buckets
from components.core.settings.root import StackSections


def engine_problems(s: StackSections) -> list[Problem]:
    slo = s.monitoring.ttft_p95_seconds
    allowed = slo_buckets(s)
    if slo in allowed:
        return []
    fleets = {m.engine for m in s.models.values() if ENGINES[m.engine].metrics} if s.monitoring.enabled else set()
    names = sorted(fleets) or sorted(e.name for e in ENGINES.values() if e.metrics)
    return [
        (
            "monitoring.ttftP95Seconds",
            f"must be a time-to-first-token bucket boundary of {' and '.join(names)}"
            f"{' (the engines of the fleets it alerts on)' if fleets else ''}, "
            f"one of: {', '.join(f'{b:g}' for b in allowed)}",
        )
    ]
