"""Monitoring rules that span sections: the stack's own monitoring runs in ``monitoring``;
receivers and Grafana's password only with it; a warning when a stack has no monitoring."""

from __future__ import annotations

from components.core.settings.base import Problem
from components.core.settings.monitoring import GRAFANA_ADMIN_KEY, MONITORING_NAMESPACE
from components.core.settings.root import StackSections


def monitoring_problems(s: StackSections) -> list[Problem]:
    problems: list[Problem] = []
    if s.monitoring.enabled and s.monitoring.namespace != MONITORING_NAMESPACE:
        problems.append(
            ("monitoring.namespace", f"the monitoring stack runs in {MONITORING_NAMESPACE}; remove namespace")
        )
    if not s.monitoring.enabled:
        if s.monitoring.alert_receivers:
            problems.append(("monitoring.alertReceivers", "apply only when monitoring.enabled is true"))
        if GRAFANA_ADMIN_KEY in s.secret_keys:
            problems.append((GRAFANA_ADMIN_KEY, "applies only when monitoring.enabled is true (it sets Grafana's)"))
    return problems


def no_monitoring_warnings(s: StackSections) -> list[Problem]:
    if s.monitoring.enabled:
        return []
    return [
        (
            "monitoring.enabled",
            "is false: no metrics, alerts, dashboards or cost allocation in this stack, and nothing "
            "autoscales on queue depth",
        )
    ]
