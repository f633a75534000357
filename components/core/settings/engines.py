"""Stack facts that follow from the fleets' engines (``components/core/engines``).

The time-to-first-token SLO (``monitoring.ttftP95Seconds``) is one number for the stack, but each
engine's TTFT histogram has its own bucket boundaries (vLLM 0.001 ... 2560, SGLang 0.1 ... 400), and
a threshold between two boundaries is decided by histogram_quantile's interpolation, not by
latency: it must be a boundary of every engine that serves a fleet here and exports metrics
(``slo_buckets``; the rule is ``rules/engines.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.core.engines import ENGINES, EngineMetrics

if TYPE_CHECKING:
    from components.core.settings.root import StackSections


def slo_buckets(s: StackSections) -> tuple[float, ...]:
    """The TTFT boundaries every fleet's engine shares when the stack alerts (monitoring on);
    otherwise, or without such a fleet, any engine's (a value that is no one's is always wrong)."""
    used = [set(metrics.ttft_buckets) for metrics in _fleet_metrics(s)] if s.monitoring.enabled else []
    every = [set(e.metrics.ttft_buckets) for e in ENGINES.values() if e.metrics]
    shared = set.intersection(*used) if used else set.union(*every)
    return tuple(sorted(shared))


def _fleet_metrics(s: StackSections) -> list[EngineMetrics]:
    return [m for m in (ENGINES[spec.engine].metrics for spec in s.models.values()) if m is not None]


def served_engines(s: StackSections) -> tuple[str, ...]:
    """The engines the stack's fleets run, in ``ENGINES`` order (alerts and dashboards follow it)."""
    return tuple(name for name in ENGINES if any(spec.engine == name for spec in s.models.values()))
