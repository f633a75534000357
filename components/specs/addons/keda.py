"""KEDA: event-driven autoscaling, installed once when a fleet scales on queue depth.

KEDA reads the engine's queue gauge (``EngineMetrics.queue``: ``vllm:num_requests_waiting``,
``sglang:num_queue_reqs``) from Prometheus and drives each fleet's replica count between its min
and max (ScaledObjects live with the fleets). It runs on the system pool in a restricted
namespace, watching only the namespaces with ScaledObjects and reading Secrets only in its own.
Without a reachable Prometheus the ScaledObject falls back to min replicas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi_kubernetes as k8s

from components.core.charts import chart
from components.specs.addons.base import AddOn, HelmRelease, ValuesInputs
from components.specs.helm_values import RESTRICTED_CONTAINER, RESTRICTED_POD, SYSTEM_POOL_SELECTOR
from components.specs.system_network import (
    KEDA_METRICS_APISERVER,
    KEDA_OPERATOR,
    ClusterNetwork,
    allow_from,
    allow_to,
    cidr_peers,
    component_policy,
    internet_peers,
    pod_peer,
    prometheus_peers,
)


def keda_values(*, service_monitor: bool = False, watch_namespaces: list[str] | None = None) -> dict[str, Any]:
    """KEDA on the system pool under Pod Security restricted; its metrics scraped when monitored.

    Secrets: the chart's default grants the operator cluster-wide Secret list/watch (for
    TriggerAuthentications); ``restrict.secret`` limits both the operator and the metrics server
    to KEDA's own namespace (our ScaledObjects read an unauthenticated Prometheus, no Secret), and
    ``watchNamespace`` turns the ClusterRoleBinding into RoleBindings in the namespaces that have
    ScaledObjects (rule 87). Keys verified in kedacore/charts keda @ v2.17.2
    (``docs/research/upstream.md`` e)."""
    monitor = {"enabled": True, "serviceMonitor": {"enabled": True}} if service_monitor else {"enabled": False}
    restrict = {"restrict": {"secret": True}}
    watch = {"watchNamespace": ",".join(sorted(watch_namespaces))} if watch_namespaces else {}
    return {
        **watch,
        "permissions": {"operator": restrict, "metricServer": restrict},
        "nodeSelector": SYSTEM_POOL_SELECTOR,
        "podSecurityContext": {"operator": RESTRICTED_POD, "metricServer": RESTRICTED_POD, "webhooks": RESTRICTED_POD},
        "securityContext": {
            "operator": RESTRICTED_CONTAINER,
            "metricServer": RESTRICTED_CONTAINER,
            "webhooks": RESTRICTED_CONTAINER,
        },
        "prometheus": {"operator": monitor, "metricServer": monitor},
    }


def keda_policies(
    ns: str, net: ClusterNetwork, labels: Mapping[str, str]
) -> list[k8s.networking.v1.NetworkPolicyInitArgs]:
    prom = prometheus_peers(net)
    scrape = [allow_from(prom, 8080)] if prom else []
    if net.monitoring_namespace:
        query = [allow_to(prom, 9090)]
    elif net.external_prometheus_port:
        query = [allow_to(internet_peers() + cidr_peers(net.private_cidrs), net.external_prometheus_port)]
    else:
        query = []
    return [
        # The API server calls the external-metrics APIService (Service 443 -> 6443).
        component_policy(
            "keda-metrics-apiserver",
            ns,
            labels,
            KEDA_METRICS_APISERVER,
            ingress=[allow_from(cidr_peers(net.private_cidrs), 6443), *scrape],
            egress=[allow_to([pod_peer(KEDA_OPERATOR)], 9666)],
        ),
        # The API server calls the validating webhook (Service 443 -> 9443).
        component_policy(
            "keda-admission-webhooks",
            ns,
            labels,
            {"app": "keda-admission-webhooks"},
            ingress=[allow_from(cidr_peers(net.private_cidrs), 9443)],
        ),
        # The scalers run in the operator: it queries Prometheus; the metrics server asks it over gRPC.
        component_policy(
            "keda-operator",
            ns,
            labels,
            KEDA_OPERATOR,
            ingress=[allow_from([pod_peer(KEDA_METRICS_APISERVER)], 9666), *scrape],
            egress=query or None,
        ),
    ]


def _values(i: ValuesInputs) -> dict[str, Any]:
    return keda_values(service_monitor=i.service_monitor, watch_namespaces=i.settings.keda_namespaces)


ADDON = AddOn(
    namespace="keda",
    pod_security="restricted",
    charts=(chart("keda"),),
    enabled=lambda s: s.needs_keda,
    network_policies=keda_policies,
    helm=HelmRelease(type_token="ai-infra:k8s:Keda", name="keda", values=_values),
)
"""KEDA's record: found by ``components/specs/addons/__init__.py`` (a module-level ``ADDON``)."""
