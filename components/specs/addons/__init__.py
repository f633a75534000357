"""The system add-ons: one record per system namespace (``base.AddOn``), found, not listed.

:data:`ADDONS` holds the records defined below (the add-ons with components of their own: GPU
software, storage, the autoscaler, Kueue, monitoring, Tailscale, the gateway) and every module of
this package that exports a module-level ``ADDON`` (the plain Helm add-ons: ``keda.py``,
``metrics_server.py``, ...), ordered by where their first chart sits in the chart lockfile
``policies/charts.json`` (deterministic, and the order the list had when it was written out).
The namespaces a stack creates (:func:`system_namespaces`), their Pod Security levels
(:data:`SYSTEM_NAMESPACES`, which the policy pack's exceptions must match), their NetworkPolicies
(:func:`system_network_policies`), the chart ownership test and the program's generic Helm add-on
layer (``stack/addons.py``, for records with ``helm``) all iterate it.

Adding a plain Helm add-on is two files: its chart's entry in ``policies/charts.json`` and its
record module here (values builder, NetworkPolicy builder, ``ADDON = AddOn(...)`` naming its
chart with ``charts.chart``); docs/architecture.md walks through it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from typing import TYPE_CHECKING

import pulumi_kubernetes as k8s

from components.core.charts import (
    AGENTGATEWAY,
    AGENTGATEWAY_CRDS,
    ALL_CHARTS,
    CLUSTER_AUTOSCALER_LINES,
    CSI_DRIVER_NFS,
    DCGM_EXPORTER,
    GATEWAY_API_CRDS,
    GPU_OPERATOR,
    KUBE_PROMETHEUS_STACK,
    KUEUE,
    LOCAL_STATIC_PROVISIONER,
    LOCKFILE_NAME,
    NVIDIA_DEVICE_PLUGIN,
    OPENCOST,
    TAILSCALE_OPERATOR,
)
from components.core.settings.gateway import GATEWAY_NAMESPACE
from components.core.settings.monitoring import MONITORING_NAMESPACE
from components.specs.addons.base import AddOn, HelmRelease, ValuesInputs
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
    from components.core.settings import Problem, StackSettings

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


def discovered() -> list[AddOn]:
    """The ``ADDON`` of every module in this package that exports one, by module name."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        addon = getattr(module, "ADDON", None)
        if addon is None:
            continue
        if not isinstance(addon, AddOn):
            raise TypeError(f"{module.__name__}.ADDON must be an AddOn record, not {type(addon).__name__}")
        found.append(addon)
    return found


_LOCKFILE_ORDER = {c: i for i, c in enumerate(ALL_CHARTS)}


def lockfile_position(addon: AddOn) -> int:
    """Where the record's first chart sits in the lockfile: its place in ``ADDONS``."""
    unpinned = [c for c in addon.charts if c not in _LOCKFILE_ORDER]
    if unpinned or not addon.charts:
        # A record names its charts from the lockfile (charts.chart), so the pack allowlists them.
        got = ", ".join(f"{c.name} {c.version}" for c in unpinned) or "no chart"
        raise LookupError(
            f"add-on {addon.namespace}: its charts must be {LOCKFILE_NAME}'s pins (charts.chart), not {got}"
        )
    return min(_LOCKFILE_ORDER[c] for c in addon.charts)


_DEFINED_HERE = (GPU_SYSTEM, STORAGE_SYSTEM, AUTOSCALER, KUEUE_SYSTEM, MONITORING, TAILSCALE, GATEWAY)

ADDONS: tuple[AddOn, ...] = tuple(sorted((*_DEFINED_HERE, *discovered()), key=lockfile_position))
"""Every system add-on, one per system namespace, in the lockfile order of their first charts."""

BY_NAMESPACE: Mapping[str, AddOn] = {a.namespace: a for a in ADDONS}

SYSTEM_NAMESPACES: Mapping[str, PodSecurityLevel] = {a.namespace: a.pod_security for a in ADDONS}
"""System namespaces the platform creates and the Pod Security level each is allowed."""

HELM_ADDONS: tuple[AddOn, ...] = tuple(a for a in ADDONS if a.helm is not None)
"""The plain Helm add-ons the generic ``HelmAddOn`` component installs."""


def digest_problems(s: StackSettings) -> list[Problem]:
    """Prod runs chart images by digest. The settings require the digests of every chart whose
    install condition they know (``chart_installs``) or whose ``addons.<chart>`` the stack sets; a
    plain add-on outside both runs when its record says, so its images are required here (the
    Helm add-ons layer raises these as settings errors; none outside prod)."""
    problems: list[Problem] = []
    for addon in HELM_ADDONS:
        (name,) = (c.name for c in addon.charts)
        known = name in s.chart_installs or name in s.chart_digest_keys or name in s.preinstalled
        if not known and addon.enabled(s):
            problems += s.missing_chart_digests(name, f"addons.{name}.imageDigests", {})
    return problems


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
    "digest_problems",
    "discovered",
    "lockfile_position",
    "system_namespaces",
    "system_network_policies",
]
