"""System namespaces' NetworkPolicies: default-deny, DNS, the API server, then each chart's ports."""

from __future__ import annotations

from typing import Any

import pytest

from components.specs.addons import SYSTEM_NAMESPACES, system_network_policies
from components.specs.system_network import PUBLIC_INTERNET_EXCEPT, ClusterNetwork

EKS = ClusterNetwork(private_cidrs=("10.50.0.0/16",), api_service_ip="172.20.0.1", monitoring_namespace="monitoring")


def _policies(namespace: str, net: ClusterNetwork = EKS) -> dict[str, Any]:
    return {str(p.metadata.name): p for p in system_network_policies(namespace, net, {"app": "x"})}


def _cidrs(rule: Any, peers: str) -> list[str]:
    return [p.ip_block.cidr for p in getattr(rule, peers) if p.ip_block is not None]


def _ports(rule: Any) -> list[int]:
    return [p.port for p in rule.ports or []]


@pytest.mark.parametrize("namespace", sorted(SYSTEM_NAMESPACES))
def test_every_system_namespace_starts_from_default_deny_with_dns_and_the_api(namespace: str) -> None:
    policies = _policies(namespace)
    deny = policies["default-deny"].spec
    assert deny.policy_types == ["Ingress", "Egress"] and not deny.ingress and not deny.egress
    assert "allow-dns" in policies
    (api,) = policies["allow-apiserver"].spec.egress
    # The `kubernetes` ClusterIP (matched before translation) and the VPC (its endpoints).
    assert _cidrs(api, "to") == ["172.20.0.1/32", "10.50.0.0/16"] and _ports(api) == [443]
    for name, policy in policies.items():
        assert policy.metadata.namespace == namespace, name


def test_keda_admits_the_api_server_on_its_apiservice_and_webhook_ports_and_queries_prometheus() -> None:
    keda = _policies("keda")
    metrics = keda["keda-metrics-apiserver"].spec
    assert _cidrs(metrics.ingress[0], "from_") == ["10.50.0.0/16"] and _ports(metrics.ingress[0]) == [6443]
    assert _ports(metrics.egress[0]) == [9666]  # the operator's gRPC metrics service
    webhooks = keda["keda-admission-webhooks"].spec
    assert _ports(webhooks.ingress[0]) == [9443] and webhooks.policy_types == ["Ingress"]
    operator = keda["keda-operator"].spec
    (query,) = operator.egress
    (prometheus,) = query.to
    assert prometheus.namespace_selector.match_labels == {"kubernetes.io/metadata.name": "monitoring"}
    assert prometheus.pod_selector.match_labels == {"app.kubernetes.io/name": "prometheus"}
    assert _ports(query) == [9090]
    # An external Prometheus: the operator may reach its port, wherever it is.
    external = ClusterNetwork(private_cidrs=("10.50.0.0/16",), external_prometheus_port=9091)
    (query,) = _policies("keda", external)["keda-operator"].spec.egress
    assert _ports(query) == [9091]
    # No Prometheus at all: nothing scrapes 8080 and the operator queries nothing.
    bare = _policies("keda", ClusterNetwork(private_cidrs=("10.50.0.0/16",)))
    assert bare["keda-operator"].spec.egress is None and len(bare["keda-metrics-apiserver"].spec.ingress) == 1


def test_internet_egress_never_reaches_private_ranges_and_carries_its_reason() -> None:
    waived = [p for ns in SYSTEM_NAMESPACES for p in _policies(ns).values() if p.metadata.annotations]
    assert {str(p.metadata.name) for p in waived} == {
        "cluster-autoscaler",
        "alertmanager",
        "opencost",
        "tailscale-mesh",
    }
    for policy in waived:
        internet = [peer.ip_block for rule in policy.spec.egress for peer in rule.to if peer.ip_block]
        assert any(b.cidr == "0.0.0.0/0" and b.except_ == list(PUBLIC_INTERNET_EXCEPT) for b in internet)
        assert policy.metadata.annotations["ai-infra.io/egress-waiver"]


def test_prometheus_scrapes_the_cluster_and_only_its_readers_reach_it() -> None:
    monitoring = _policies("monitoring")
    prometheus = monitoring["prometheus"].spec
    (scrape,) = prometheus.egress
    assert _cidrs(scrape, "to") == ["10.50.0.0/16"] and scrape.ports is None  # every target port
    readers = {
        (
            p.namespace_selector.match_labels["kubernetes.io/metadata.name"] if p.namespace_selector else "monitoring",
            next(iter(p.pod_selector.match_labels.values())),
        )
        for p in prometheus.ingress[0].from_
    }
    assert readers == {
        ("monitoring", "grafana"),
        ("monitoring", "opencost"),
        ("keda", "keda-operator"),
        ("monitoring", "prometheus"),
    }
    assert _ports(monitoring["prometheus-operator"].spec.ingress[0]) == [10250]  # API server -> webhooks


def test_an_existing_cluster_allows_the_api_on_kubeadms_port_in_its_own_ranges() -> None:
    net = ClusterNetwork(private_cidrs=("192.168.0.0/16",), api_ports=(443, 6443))
    (api,) = _policies("gpu-system", net)["allow-apiserver"].spec.egress
    assert _cidrs(api, "to") == ["192.168.0.0/16"] and _ports(api) == [443, 6443]
    assert set(_policies("gpu-system", net)) == {"default-deny", "allow-dns", "allow-apiserver"}  # no scraper


def test_kueue_admits_the_api_server_on_its_webhook_and_visibility_ports() -> None:
    (manager,) = [p for name, p in _policies("kueue-system").items() if name == "kueue-controller-manager"]
    api, scrape = manager.spec.ingress
    assert _cidrs(api, "from_") == ["10.50.0.0/16"] and _ports(api) == [9443, 8082]
    assert _ports(scrape) == [8443]
    assert manager.spec.pod_selector.match_labels == {
        "app.kubernetes.io/name": "kueue",
        "control-plane": "controller-manager",
    }


def test_the_mesh_reaches_tailscale_and_each_proxy_only_what_it_forwards_to() -> None:
    from components.specs.system_network import TailnetBackend

    net = ClusterNetwork(
        private_cidrs=("10.50.0.0/16",),
        service_cidr="172.20.0.0/16",
        monitoring_namespace="monitoring",
        tailnet_namespace="tailscale",
        tailnet_backends=(
            TailnetBackend(
                namespace="models", ingress="vllm-coder", service_port=8000, pods={"app": "vllm"}, target_port=8000
            ),
        ),
        subnet_router="mesh-router",
        router_routes=("10.50.0.0/16",),
        router_dns_servers=("10.50.0.2",),
    )
    policies = _policies("tailscale", net)
    mesh = policies["tailscale-mesh"]
    # Every pod: the coordination server and relays only; nothing inside the VPC or Service range.
    https, udp = mesh.spec.egress
    assert _ports(https) == [443] and {(p.port, p.protocol) for p in udp.ports} == {(3478, "UDP"), (41641, "UDP")}
    assert mesh.metadata.annotations["ai-infra.io/egress-waiver"]
    # An Ingress proxy: its Service's ClusterIP range and its backend pods, on their port only.
    proxy = policies["proxy-models-vllm-coder"].spec
    assert proxy.pod_selector.match_labels == {
        "tailscale.com/parent-resource-type": "ingress",
        "tailscale.com/parent-resource-ns": "models",
        "tailscale.com/parent-resource": "vllm-coder",
    }
    service, pods = proxy.egress
    assert _cidrs(service, "to") == ["172.20.0.0/16"] and _ports(service) == [8000]
    assert pods.to[0].pod_selector.match_labels == {"app": "vllm"} and _ports(pods) == [8000]
    # The subnet router: the API endpoint's port on its routes, and the split-DNS resolvers.
    router = policies["subnet-router"].spec
    assert router.pod_selector.match_labels["tailscale.com/parent-resource-type"] == "connector"
    api, dns = router.egress
    assert _cidrs(api, "to") == ["10.50.0.0/16"] and _ports(api) == [443]
    assert _cidrs(dns, "to") == ["10.50.0.2/32"] and {p.port for p in dns.ports} == {53}
    # No rule anywhere in the namespace opens every port.
    rules = [rule for p in policies.values() for rule in (p.spec.egress or [])]
    assert rules and all(rule.ports for rule in rules)
    grafana = _policies("monitoring", net)["grafana"].spec
    (proxy,) = grafana.ingress[1].from_
    assert proxy.namespace_selector.match_labels == {"kubernetes.io/metadata.name": "tailscale"}
    assert proxy.pod_selector.match_labels["tailscale.com/parent-resource"] == "grafana-tailnet"
    assert len(_policies("monitoring")["grafana"].spec.ingress) == 1  # no mesh: Prometheus only


def test_metrics_server_admits_the_api_server_and_reads_kubelets_on_10250() -> None:
    """The APIService (Service 443 -> 10250) is called from the control plane; metrics-server calls
    each kubelet's node status port (metrics-server chart 3.13.1 templates/deployment.yaml)."""
    spec = _policies("metrics-server")["metrics-server"].spec
    assert spec.pod_selector.match_labels == {"app.kubernetes.io/name": "metrics-server"}
    ((ingress,), (egress,)) = spec.ingress, spec.egress
    assert _cidrs(ingress, "from_") == ["10.50.0.0/16"] and _ports(ingress) == [10250]
    assert _cidrs(egress, "to") == ["10.50.0.0/16"] and _ports(egress) == [10250]
