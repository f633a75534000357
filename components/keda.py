"""``Keda``: event-driven autoscaling, installed once when a fleet scales on queue depth.

KEDA reads the engine's queue gauge (``EngineMetrics.queue``: ``vllm:num_requests_waiting``,
``sglang:num_queue_reqs``) from Prometheus and drives each fleet's replica count
between its min and max (ScaledObjects live with the fleets). It runs on the system pool in a
restricted namespace, watching only the namespaces with ScaledObjects and reading Secrets only in
its own. Without a reachable Prometheus the ScaledObject falls back to min replicas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.core.charts import KEDA
from components.core.naming import resource_name
from components.resources.helm import pinned_release
from components.specs.helm_values import keda_values

TYPE = "ai-infra:k8s:Keda"


@dataclass(frozen=True, kw_only=True)
class KedaArgs:
    namespace: pulumi.Input[str]
    service_monitor: bool = False
    """Ship the chart's ServiceMonitors (the monitoring stack, and so its CRD, exists)."""
    watch_namespaces: list[str]
    """The namespaces with ScaledObjects: KEDA watches (and may read) only these."""
    preinstalled: frozenset[str] = frozenset()
    """Charts the cluster already runs (``addons``): their releases are not created."""
    chart_digests: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Chart images by digest, by chart name (``StackSettings.all_chart_digests``; prod requires them)."""


class Keda(pulumi.ComponentResource):
    """Children: helm.v3.Release ``keda`` (with its CRDs, e.g. ScaledObject)."""

    release_name: pulumi.Output[str | None]

    def __init__(self, name: str, args: KedaArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        self.release = pinned_release(
            self,
            resource_name(name, "release"),
            KEDA,
            namespace=args.namespace,
            values=keda_values(service_monitor=args.service_monitor, watch_namespaces=args.watch_namespaces),
            preinstalled=args.preinstalled,
            image_digests=args.chart_digests.get(KEDA.name),
        )
        self.release_name = pulumi.Output.from_input(self.release.name if self.release else None)
        self.register_outputs({"release_name": self.release_name})
