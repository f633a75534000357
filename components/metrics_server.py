"""``MetricsServer``: the resource metrics API, installed once when a fleet autoscales on CPU.

Engines without a queue metric (Ollama) scale with a CPU HorizontalPodAutoscaler, which reads
``metrics.k8s.io``; EKS does not install its provider, so without this chart such an HPA reports
``FailedGetResourceMetric`` and never scales. The official metrics-server chart runs in the
restricted ``metrics-server`` namespace on the system pool and registers the
``v1beta1.metrics.k8s.io`` APIService: the API server dials its pod, which
``specs/system_network.py`` allows. A cluster that already runs one sets
``addons.metrics-server.install: false`` (most managed clusters other than EKS do). It verifies
each kubelet's serving certificate (EKS signs them with the cluster CA); clusters whose kubelets
self-sign (kind, kubeadm without ``serverTLSBootstrap``) need that fixed, not
``--kubelet-insecure-tls``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.core.charts import METRICS_SERVER
from components.core.naming import resource_name
from components.resources.helm import pinned_release
from components.specs.helm_values import metrics_server_values

TYPE = "ai-infra:k8s:MetricsServer"


@dataclass(frozen=True, kw_only=True)
class MetricsServerArgs:
    namespace: pulumi.Input[str]
    node_selector: dict[str, str] | None = None
    replicas: int = 1
    service_monitor: bool = False
    """Ship the chart's ServiceMonitor (the monitoring stack, and so its CRD, exists)."""
    preinstalled: frozenset[str] = frozenset()
    """Charts the cluster already runs (``addons``): their releases are not created."""
    chart_digests: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Chart images by digest, by chart name (``StackSettings.all_chart_digests``; prod requires them)."""


class MetricsServer(pulumi.ComponentResource):
    """Children: helm.v3.Release ``metrics-server`` (with the ``v1beta1.metrics.k8s.io`` APIService)."""

    release_name: pulumi.Output[str | None]

    def __init__(self, name: str, args: MetricsServerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        self.release = pinned_release(
            self,
            resource_name(name, "release"),
            METRICS_SERVER,
            namespace=args.namespace,
            values=metrics_server_values(
                node_selector=args.node_selector, replicas=args.replicas, service_monitor=args.service_monitor
            ),
            preinstalled=args.preinstalled,
            image_digests=args.chart_digests.get(METRICS_SERVER.name),
        )
        self.release_name = pulumi.Output.from_input(self.release.name if self.release else None)
        self.register_outputs({"release_name": self.release_name})
