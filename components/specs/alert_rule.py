"""One Prometheus alerting rule as a plain dict, and the duration format rules use.

Shared by every alert module (``alerts.py``, ``gpu_alerts.py``) so each alert carries the same
labels (``severity``, ``env``) and annotations (``summary``, ``description``).
"""

from __future__ import annotations

from typing import Any


def duration(minutes: float) -> str:
    """A Prometheus duration (integers only: 1.5 h is ``90m``)."""
    whole = round(minutes)
    if whole < 1:
        raise ValueError("durations must be at least one minute")
    return f"{whole // 60}h" if whole % 60 == 0 else f"{whole}m"


def alert(name: str, expr: str, *, for_: str, severity: str, summary: str, runbook: str, env: str) -> dict[str, Any]:
    # kube-prometheus-stack's own rules' annotation names: ``description`` (what to do) and
    # ``runbook_url`` (added by alert_rule_groups when a runbook base URL is configured), which
    # the default Alertmanager/Grafana templates and receivers know.
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, "env": env},
        "annotations": {"summary": summary, "description": runbook},
    }
