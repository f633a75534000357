"""What the system NetworkPolicies need to know: the cluster's addresses and the tailnet's peers.

Pure planning (settings and the target's addresses in, ``ClusterNetwork`` out).
"""

from __future__ import annotations

from components.core.labels import selector_labels
from components.core.naming import k8s_name, resource_name
from components.core.settings import StackSettings
from components.core.settings.gateway import gateway_exposure
from components.specs.gateway_network import tailnet_backend as gateway_backend
from components.specs.model_serving import TAILNET_NAMESPACE
from components.specs.system_network import (
    GRAFANA_PODS,
    GRAFANA_PORT,
    GRAFANA_TAILNET_INGRESS,
    ClusterNetwork,
    TailnetBackend,
)
from components.specs.tailscale import GRAFANA_SERVICE_PORT
from stack.target import ClusterAddresses


def tailnet_backends(s: StackSettings) -> tuple[TailnetBackend, ...]:
    """What the tailnet Ingress proxies forward to: each tailnet fleet, the gateway, and Grafana."""
    if not s.tailscale_operator:
        return ()
    backends = [
        TailnetBackend(
            namespace=m.namespace,
            ingress=k8s_name(m.engine_record.name, name),
            service_port=m.port,
            pods=selector_labels(app=m.engine_record.name, instance=name),
            target_port=m.port,
        )
        for name, m in sorted(s.models.items())
        if m.exposure == "tailnet"
    ]
    if s.gateway.enabled and gateway_exposure(s) == "tailnet":
        backends.append(gateway_backend())
    if s.monitoring.enabled:
        backends.append(
            TailnetBackend(
                namespace=s.monitoring.namespace,
                ingress=GRAFANA_TAILNET_INGRESS,
                service_port=GRAFANA_SERVICE_PORT,
                pods=GRAFANA_PODS,
                target_port=GRAFANA_PORT,
            )
        )
    return tuple(backends)


def split_dns_servers(s: StackSettings) -> tuple[str, ...]:
    return tuple(sorted({ip for servers in s.tailscale.split_dns.values() for ip in servers}))


def cluster_network(s: StackSettings, addresses: ClusterAddresses) -> ClusterNetwork:
    """The addresses system NetworkPolicies name: the target's, and the mesh's peers."""
    return ClusterNetwork(
        private_cidrs=addresses.private_cidrs,
        api_ports=addresses.api_ports,
        api_service_ip=addresses.api_service_ip,
        service_cidr=addresses.service_cidr,
        monitoring_namespace=s.scrape_namespace,
        external_prometheus_port=s.external_prometheus_port,
        tailnet_namespace=TAILNET_NAMESPACE if s.tailscale_operator else None,
        tailnet_backends=tailnet_backends(s),
        subnet_router=resource_name("mesh", "router") if s.subnet_routes else None,
        router_routes=tuple(s.subnet_routes),
        router_dns_servers=split_dns_servers(s),
    )
