"""The warm floor (issue 26 item 4): a KEDA cron trigger and what it costs.

A fleet that scales to zero pays its cold start on the first request after idle. ``warmFloor``
holds ``replicas`` in a weekly cron window (business hours) instead: one more trigger on the
fleet's ScaledObject, next to the queue-depth trigger (KEDA takes the highest desired count, so
traffic still scales it past the floor). Trigger fields from kedacore/keda
``pkg/scalers/cron_scaler.go`` @ v2.17.2 (the app version of the pinned chart 2.17.2):
``timezone``, ``start``, ``end`` (five-field crons, ``cron.Minute|Hour|Dom|Month|Dow``) and
``desiredReplicas``; start equal to end is refused there, and here too (settings/fast_paths.py).
"""

from __future__ import annotations

from typing import Any

from components.core.settings import ModelSpec
from components.core.settings.fast_paths import warm_floor_hours

WEEKS_PER_MONTH = 52 / 12


def cron_triggers(spec: ModelSpec) -> list[dict[str, Any]]:
    floor = spec.warm_floor
    if floor is None:
        return []
    return [
        {
            "type": "cron",
            "metadata": {
                "timezone": floor.timezone,
                "start": floor.start,
                "end": floor.end,
                "desiredReplicas": str(floor.replicas),
            },
        }
    ]


def warm_floor_cost(spec: ModelSpec, usd_per_gpu_hour: float) -> dict[str, Any] | None:
    """The GPUs the floor holds above ``replicas.min``, for the window's hours per week."""
    floor = spec.warm_floor
    if floor is None:
        return None
    extra_gpus = max(0, floor.replicas - spec.replicas.min) * spec.gpus_per_replica
    hours = warm_floor_hours(floor)
    per_week = extra_gpus * usd_per_gpu_hour * hours
    return {
        "hoursPerWeek": round(hours, 2),
        "timezone": floor.timezone,
        "extraGpus": extra_gpus,
        "usdPerHour": round(extra_gpus * usd_per_gpu_hour, 2),
        "usdPerWeek": round(per_week, 2),
        "usdPerMonth": round(per_week * WEEKS_PER_MONTH, 2),
    }
