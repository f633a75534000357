"""``MonitoringStack``: Prometheus, Alertmanager, Grafana, GPU and cost exporters, our rules and dashboards.

kube-prometheus-stack from its official chart (pinned) in the ``monitoring`` namespace, with:
Grafana's admin password from the ``grafanaAdminPassword`` secret as a Secret the chart reads
(without it the chart generates one in-cluster, never in Pulumi state); Alertmanager's whole
config as a Secret built from the receivers' secret webhook URLs; our alert and recording rules
as one PrometheusRule; our dashboards as ConfigMaps the Grafana sidecar loads; NVIDIA's DCGM
exporter on GPU nodes (standalone chart, unless the GPU operator runs its own); OpenCost reading
this Prometheus. Every chart that ships a ServiceMonitor waits for this release (its CRDs).
Values come from ``components/specs/monitoring.py``; rules and dashboards from ``alerts.py`` and
``dashboards.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.core.charts import DCGM_EXPORTER, KUBE_PROMETHEUS_STACK, OPENCOST
from components.core.naming import k8s_name, resource_name
from components.resources.custom_resource import custom_resource
from components.resources.helm import pinned_release
from components.specs import monitoring as spec

TYPE = "ai-infra:monitoring:MonitoringStack"


@dataclass(frozen=True, kw_only=True)
class MonitoringStackArgs:
    namespace: str
    """The monitoring namespace's name (a literal; ``depends_on`` orders the namespace first)."""
    labels: dict[str, str]
    retention: str
    storage_size: str
    cluster_id: str
    """Cluster name for OpenCost's reports."""
    managed_control_plane: bool
    """EKS: no controller-manager, scheduler, etcd or kube-proxy endpoints to scrape."""
    node_selector: dict[str, str] | None = None
    """Where the stack's pods run (the system pool on EKS)."""
    grafana_admin_password: pulumi.Output[str] | None = None
    """Secret Output; None lets the chart generate the password in-cluster."""
    alert_receivers: dict[str, tuple[pulumi.Output[str], list[str], str]] = field(default_factory=dict)
    """Receiver name -> (its secret: URL or routing key, severities routed to it, type)."""
    rule_groups: list[dict[str, Any]] = field(default_factory=list)
    """PrometheusRule ``spec.groups``: our alerts and recording rules."""
    dashboards: dict[str, str] = field(default_factory=dict)
    """Dashboard name -> Grafana JSON."""
    dcgm_namespace: pulumi.Input[str] | None = None
    """Run the standalone DCGM exporter there (None: no GPUs to watch, or the GPU operator's own)."""
    runtime_class: str | None = None
    opencost: bool = True
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    preinstalled: frozenset[str] = frozenset()
    """Charts the cluster already runs (``addons``): their releases are not created."""
    chart_digests: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Chart images by digest, by chart name (``StackSettings.all_chart_digests``; prod requires them)."""


class MonitoringStack(pulumi.ComponentResource):
    """Children: Secrets grafana-admin and alertmanager-ai-infra (when configured), helm.v3.Release
    kube-prometheus-stack, PrometheusRule, dashboard ConfigMaps, Releases dcgm-exporter and opencost."""

    prometheus_url: pulumi.Output[str]
    """In-cluster Prometheus URL (KEDA's queue-depth source)."""
    release_name: pulumi.Output[str | None]

    def __init__(self, name: str, args: MonitoringStackArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        after_ns = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        secrets = self._secrets(name, args, after_ns)
        self.release = pinned_release(
            self,
            resource_name(name, "release"),
            KUBE_PROMETHEUS_STACK,
            namespace=args.namespace,
            values=spec.kube_prometheus_stack_values(
                retention=args.retention,
                storage_size=args.storage_size,
                node_selector=args.node_selector,
                grafana_admin_secret=spec.GRAFANA_ADMIN_SECRET if args.grafana_admin_password is not None else None,
                alertmanager_config_secret=spec.ALERTMANAGER_CONFIG_SECRET if args.alert_receivers else None,
                managed_control_plane=args.managed_control_plane,
            ),
            depends_on=[*args.depends_on, *secrets],
            preinstalled=args.preinstalled,
            image_digests=args.chart_digests.get(KUBE_PROMETHEUS_STACK.name),
        )
        # Custom resources and charts with ServiceMonitors need the operator's CRDs first (a
        # preinstalled operator has them already: then the namespace is what they wait for).
        operator: list[pulumi.Resource] = [self.release] if self.release else list(args.depends_on)
        with_crds = pulumi.ResourceOptions(parent=self, depends_on=operator)
        if args.rule_groups:
            rule = spec.prometheus_rule(k8s_name("ai-infra", "rules"), args.namespace, args.labels, args.rule_groups)
            custom_resource(resource_name(name, "rules"), rule, with_crds)
        for dashboard, text in sorted(args.dashboards.items()):
            k8s.core.v1.ConfigMap(
                resource_name(name, f"dashboard-{dashboard}"),
                spec.dashboard_config_map_args(dashboard, args.namespace, args.labels, text),
                opts=after_ns,
            )
        self._exporters(name, args, operator)
        # Known at preview (a fixed Service name), so policies can check what reads it; whatever
        # reads it waits for this component (KEDA's release depends on it).
        self.prometheus_url = pulumi.Output.from_input(spec.prometheus_url(args.namespace))
        self.release_name = pulumi.Output.from_input(self.release.name if self.release else None)
        self.register_outputs({"prometheus_url": self.prometheus_url, "release_name": self.release_name})

    def _secrets(self, name: str, args: MonitoringStackArgs, after_ns: pulumi.ResourceOptions) -> list[pulumi.Resource]:
        """Grafana's admin login and Alertmanager's configuration (it holds the receivers' URLs)."""
        secrets: list[pulumi.Resource] = []
        if args.grafana_admin_password is not None:
            secrets.append(
                k8s.core.v1.Secret(
                    resource_name(name, "grafana-admin"),
                    spec.secret_args(
                        spec.GRAFANA_ADMIN_SECRET,
                        args.namespace,
                        args.labels,
                        {"admin-user": "admin", "admin-password": args.grafana_admin_password},
                    ),
                    opts=after_ns,
                )
            )
        if args.alert_receivers:
            names = sorted(args.alert_receivers)
            urls = [args.alert_receivers[n][0] for n in names]
            rendered: pulumi.Output[str] = pulumi.Output.all(*urls).apply(
                lambda resolved: spec.alertmanager_config(
                    {
                        n: (str(u), args.alert_receivers[n][1], args.alert_receivers[n][2])
                        for n, u in zip(names, resolved, strict=True)
                    }
                )
            )
            config: pulumi.Output[str] = pulumi.Output.secret(rendered)
            secrets.append(
                k8s.core.v1.Secret(
                    resource_name(name, "alertmanager-config"),
                    spec.secret_args(
                        spec.ALERTMANAGER_CONFIG_SECRET, args.namespace, args.labels, {"alertmanager.yaml": config}
                    ),
                    opts=after_ns,
                )
            )
        return secrets

    def _exporters(self, name: str, args: MonitoringStackArgs, operator: list[pulumi.Resource]) -> None:
        """dcgm-exporter (GPU metrics) and OpenCost, once the operator's CRDs exist."""
        if args.dcgm_namespace is not None:
            pinned_release(
                self,
                resource_name(name, "dcgm-exporter"),
                DCGM_EXPORTER,
                namespace=args.dcgm_namespace,
                values=spec.dcgm_exporter_values(runtime_class=args.runtime_class),
                depends_on=operator,
                preinstalled=args.preinstalled,
                image_digests=args.chart_digests.get(DCGM_EXPORTER.name),
            )
        if args.opencost:
            pinned_release(
                self,
                resource_name(name, "opencost"),
                OPENCOST,
                namespace=args.namespace,
                values=spec.opencost_values(
                    namespace=args.namespace, cluster_id=args.cluster_id, node_selector=args.node_selector
                ),
                depends_on=operator,
                preinstalled=args.preinstalled,
                image_digests=args.chart_digests.get(OPENCOST.name),
            )
