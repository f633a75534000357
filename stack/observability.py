"""The observability layer: the monitoring stack, first, so everything shipping a ServiceMonitor
finds its CRDs; with our alerts, recording rules and dashboards for the engines the stack serves."""

from __future__ import annotations

from typing import Any

from components.core.settings import StackSettings
from components.core.settings.engines import served_engines
from components.monitoring_stack import MonitoringStack, MonitoringStackArgs
from components.specs.alerts import alert_rule_groups
from components.specs.cost import spot_fractions
from components.specs.dashboards import dashboards
from components.specs.recording_rules import recording_rule_groups
from stack.cluster import node_prices
from stack.context import StackContext
from stack.namespaces import Namespaces


def rule_groups(s: StackSettings) -> list[dict[str, Any]]:
    """Alerts for the served engines, batch and GPUs; cost recording rules."""
    m = s.monitoring
    return [
        *alert_rule_groups(
            engines=served_engines(s),
            ttft_p95_seconds=m.ttft_p95_seconds,
            gpu_idle_hours=m.gpu_idle_hours,
            env=s.environment.value,
            slo_severity=m.slo_severity,
            batch_pending_minutes=s.batch.pending_alert_minutes if s.batch.enabled else None,
            runbook_base_url=m.runbook_base_url,
        ),
        *recording_rule_groups(prices=(prices := node_prices(s)), spot_factor=spot_fractions(prices)),
    ]


def observability_layer(ctx: StackContext, ns: Namespaces) -> MonitoringStack | None:
    s = ctx.settings
    m = s.monitoring
    if not m.enabled:
        return None
    return MonitoringStack(
        "monitoring",
        MonitoringStackArgs(
            namespace=m.namespace,
            labels=ctx.labels("monitoring", "monitoring"),
            retention=m.retention,
            storage_size=m.storage_size,
            cluster_id=ctx.cluster_name,
            managed_control_plane=ctx.target.managed_control_plane,
            node_selector=ctx.system_node_selector,
            grafana_admin_password=ctx.secret(s.grafana_admin_key),
            alert_receivers={
                name: (ctx.secrets[r.secret_key], list(r.severities), r.type) for name, r in m.alert_receivers.items()
            },
            rule_groups=rule_groups(s),
            dashboards=dashboards(served_engines(s)),
            # The GPU operator runs its own DCGM exporter (GpuSoftware turns its monitor on).
            dcgm_namespace=ns.system["gpu-system"].namespace_name
            if m.dcgm and s.gpu.stack == "device-plugin"
            else None,
            runtime_class=ctx.runtime_class,
            opencost=m.opencost,
            depends_on=[ns.system[m.namespace]],
            preinstalled=s.preinstalled,
            chart_digests=s.all_chart_digests,
        ),
        opts=ctx.k8s_opts,
    )
