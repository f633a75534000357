"""metrics-server: the resource metrics API, installed once when a fleet autoscales on CPU.

Engines without a queue metric (Ollama) scale with a CPU HorizontalPodAutoscaler, which reads
``metrics.k8s.io``; EKS does not install its provider, so without this chart such an HPA reports
``FailedGetResourceMetric`` and never scales. The official metrics-server chart runs in the
restricted ``metrics-server`` namespace on the system pool and registers the
``v1beta1.metrics.k8s.io`` APIService: the API server dials its pod, which its NetworkPolicy
below allows. A cluster that already runs one sets ``addons.metrics-server.install: false``
(most managed clusters other than EKS do). It verifies each kubelet's serving certificate (EKS
signs them with the cluster CA); clusters whose kubelets self-sign (kind, kubeadm without
``serverTLSBootstrap``) need that fixed, not ``--kubelet-insecure-tls``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi_kubernetes as k8s

from components.core.charts import chart
from components.specs.addons.base import AddOn, HelmRelease, ValuesInputs
from components.specs.system_network import ClusterNetwork, allow_from, allow_to, cidr_peers, component_policy

METRICS_SERVER_PORT = 10250
"""metrics-server's secure port (``containerPort``), also what its Service's 443 targets and where it
reads each kubelet (``--kubelet-use-node-status-port``: the kubelet's 10250 on EKS and kubeadm)."""


def metrics_server_values(
    *, node_selector: dict[str, str] | None = None, replicas: int = 1, service_monitor: bool = False
) -> dict[str, Any]:
    """metrics-server 3.13.1 (keys: tests/data/helm-values/metrics-server-3.13.1.txt): the chart's
    own security context is already restricted (non-root UID 1000, read-only root, drop ALL,
    RuntimeDefault seccomp) and it registers the ``v1beta1.metrics.k8s.io`` APIService that CPU
    HPAs read. Two replicas and a PDB in prod, so a drained node never stops autoscaling; its
    ``/metrics`` is opened to scrapes (``metrics.enabled``) only when Prometheus runs."""
    values: dict[str, Any] = {"replicas": replicas}
    if node_selector:
        values["nodeSelector"] = dict(node_selector)
    if replicas > 1:
        values["podDisruptionBudget"] = {"enabled": True, "minAvailable": 1}
    if service_monitor:
        values["metrics"] = {"enabled": True}
        values["serviceMonitor"] = {"enabled": True, "interval": "30s"}
    return values


def metrics_server_policies(
    ns: str, net: ClusterNetwork, labels: Mapping[str, str]
) -> list[k8s.networking.v1.NetworkPolicyInitArgs]:
    # kubernetes-sigs/metrics-server charts/metrics-server @ metrics-server-helm-chart-3.13.1: one
    # port, ``https`` = containerPort 10250 (templates/deployment.yaml; Service 443 -> https,
    # templates/service.yaml), which the API server calls for the v1beta1.metrics.k8s.io
    # APIService and Prometheus scrapes (from pod IPs inside the same ranges); it reads every
    # kubelet's /metrics/resource on the node status port (10250). Not hostNetwork by default.
    private = cidr_peers(net.private_cidrs)
    return [
        component_policy(
            "metrics-server",
            ns,
            labels,
            {"app.kubernetes.io/name": "metrics-server"},
            ingress=[allow_from(private, METRICS_SERVER_PORT)],
            egress=[allow_to(private, METRICS_SERVER_PORT)],
        )
    ]


def _values(i: ValuesInputs) -> dict[str, Any]:
    return metrics_server_values(
        node_selector=dict(i.system_node_selector) if i.system_node_selector else None,
        replicas=i.settings.platform.controller_replicas,
        service_monitor=i.service_monitor,
    )


ADDON = AddOn(
    namespace="metrics-server",
    pod_security="restricted",
    charts=(chart("metrics-server"),),
    enabled=lambda s: s.needs_metrics_server,
    network_policies=metrics_server_policies,
    helm=HelmRelease(type_token="ai-infra:k8s:MetricsServer", name="metrics-server", values=_values),
)
"""metrics-server's record: found by ``components/specs/addons/__init__.py`` (a module-level ``ADDON``)."""
