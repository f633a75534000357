"""The system add-ons: one list, one record per system namespace (``base.AddOn``).

The namespaces a stack creates (:func:`system_namespaces`), their Pod Security levels
(:data:`SYSTEM_NAMESPACES`, which the policy pack's exceptions must match), their NetworkPolicies
(:func:`system_network_policies`), the chart allowlist test and the program's generic Helm
add-on layer (``stack/addons.py``, for records with ``helm``) all iterate :data:`ADDONS`.

Adding a plain Helm add-on: pin its chart in ``components/core/charts.py`` (``ALL_CHARTS``, and
``ADDON_CHARTS`` when a cluster may already run it), write its record module here (values
builder, NetworkPolicy builder, ``AddOn``) and list it below; docs/architecture.md walks through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pulumi_kubernetes as k8s

from components.core.charts import (
    AGENTGATEWAY,
    AGENTGATEWAY_CRDS,
    CLUSTER_AUTOSCALER_LINES,
    CSI_DRIVER_NFS,
    DCGM_EXPORTER,
    GATEWAY_API_CRDS,
    GPU_OPERATOR,
    KUBE_PROMETHEUS_STACK,
    KUEUE,
    LOCAL_STATIC_PROVISIONER,
    NVIDIA_DEVICE_PLUGIN,
    OPENCOST,
    TAILSCALE_OPERATOR,
)
from components.core.settings.gateway import GATEWAY_NAMESPACE
from components.core.settings.monitoring import MONITORING_NAMESPACE
from components.specs.addons.base import AddOn, HelmRelease, ValuesInputs
from components.specs.addons.keda import KEDA
from components.specs.addons.metrics_server import METRICS_SERVER
from components.specs.dashboards import DCGM_EXPORTER_NAMESPACE
from components.specs.model_serving import TAILNET_NAMESPACE
from components.specs.namespace import PodSecurityLevel
from components.specs.system_network import (
    ClusterNetwork,
    autoscaler_policies,
    gpu_system_policies,
    kueue_policies,
    monitoring_policies,
    tailscale_policies,
)
from components.specs.system_network import system_network_policies as _with_base

if TYPE_CHECKING:
    from components.core.settings import StackSettings

GPU_SYSTEM = AddOn(
    namespace=DCGM_EXPORTER_NAMESPACE,
    pod_security="privileged",
    charts=(NVIDIA_DEVICE_PLUGIN, GPU_OPERATOR),
    enabled=lambda s: True,
    network_policies=gpu_system_policies,
)
"""The NVIDIA device plugin or GPU operator (``GpuSoftware``): host access for the driver's DaemonSets."""

STORAGE_SYSTEM = AddOn(
    namespace="storage-system",
    pod_security="privileged",
    charts=(LOCAL_STATIC_PROVISIONER, CSI_DRIVER_NFS),
    enabled=lambda s: s.needs_storage_system,
)
"""The local PV provisioner (``NvmeStorage``) and the NFS CSI driver (``SharedStorage``)."""

AUTOSCALER = AddOn(
    namespace="autoscaler",
    pod_security="restricted",
    charts=tuple(chart for chart, _ in CLUSTER_AUTOSCALER_LINES.values()),
    enabled=lambda s: s.owns_node_groups,
    network_policies=autoscaler_policies,
)
"""The cluster-autoscaler (``ClusterAutoscaler``: IRSA role, chart line per Kubernetes minor)."""

KUEUE_SYSTEM = AddOn(
    namespace="kueue-system",
    pod_security="restricted",
    charts=(KUEUE,),
    enabled=lambda s: s.batch.enabled,
    network_policies=kueue_policies,
)
"""Kueue (``BatchQueue``: the release, then its flavours and queues)."""

MONITORING = AddOn(
    namespace=MONITORING_NAMESPACE,
    # node-exporter (hostNetwork, hostPID, hostPath) runs with the kube-prometheus-stack release.
    pod_security="privileged",
    charts=(KUBE_PROMETHEUS_STACK, DCGM_EXPORTER, OPENCOST),
    enabled=lambda s: s.monitoring.enabled,
    network_policies=monitoring_policies,
)
"""The monitoring stack (``MonitoringStack``)."""

TAILSCALE = AddOn(
    namespace=TAILNET_NAMESPACE,
    # The Tailscale operator's proxies: the Connector (subnet router) and L3 proxies run a
    # privileged init container (sysctl ip_forward) and a privileged tailscale container
    # (cmd/k8s-operator/deploy/manifests/proxy.yaml @ v1.102.3); the operator creates them at run
    # time, so no deploy-time policy sees them.
    pod_security="privileged",
    charts=(TAILSCALE_OPERATOR,),
    enabled=lambda s: s.tailscale_operator,
    network_policies=tailscale_policies,
)
"""The Tailscale operator and its proxies (``TailscaleMesh``)."""

GATEWAY = AddOn(
    namespace=GATEWAY_NAMESPACE,
    pod_security="restricted",
    charts=(GATEWAY_API_CRDS, AGENTGATEWAY_CRDS, AGENTGATEWAY),
    enabled=lambda s: s.gateway.enabled,
    # No builder: the proxies' and controller's allows name every routed fleet and picker, which
    # only the settings know; ``InferenceGateway`` creates them (``specs/gateway_network.py``).
)
"""The inference gateway: Gateway API and agentgateway CRDs, the controller and the proxies it
runs, the key Secret (``InferenceGateway``, components/gateway.py)."""

ADDONS: tuple[AddOn, ...] = (
    GPU_SYSTEM,
    STORAGE_SYSTEM,
    AUTOSCALER,
    KEDA,
    KUEUE_SYSTEM,
    METRICS_SERVER,
    MONITORING,
    TAILSCALE,
    GATEWAY,
)
"""Every system add-on, one per system namespace."""

BY_NAMESPACE: Mapping[str, AddOn] = {a.namespace: a for a in ADDONS}

SYSTEM_NAMESPACES: Mapping[str, PodSecurityLevel] = {a.namespace: a.pod_security for a in ADDONS}
"""System namespaces the platform creates and the Pod Security level each is allowed."""

HELM_ADDONS: tuple[AddOn, ...] = tuple(a for a in ADDONS if a.helm is not None)
"""The plain Helm add-ons the generic ``HelmAddOn`` component installs."""


def system_namespaces(s: StackSettings) -> list[str]:
    """System namespaces this stack creates (sorted)."""
    return sorted(a.namespace for a in ADDONS if a.enabled(s))


def system_network_policies(
    namespace: str, net: ClusterNetwork, labels: Mapping[str, str]
) -> list[k8s.networking.v1.NetworkPolicyInitArgs]:
    """A system namespace's NetworkPolicies: the common ones, then its add-on's allows."""
    addon = BY_NAMESPACE.get(namespace)
    return _with_base(namespace, net, labels, addon.network_policies if addon else None)


__all__ = [
    "ADDONS",
    "HELM_ADDONS",
    "SYSTEM_NAMESPACES",
    "AddOn",
    "HelmRelease",
    "ValuesInputs",
    "system_namespaces",
    "system_network_policies",
]
