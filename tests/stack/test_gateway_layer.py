"""The gateway layer's planning (``stack/gateway.py``) and its hook in ``stack/network.py``: the
cluster is read through the target's capabilities, the alert's severity through the settings."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from components.specs.gateway import GATEWAY_NAME
from stack.context import StackContext
from stack.eks import eks_addresses
from stack.existing import existing_addresses
from stack.gateway import plan_gateway
from stack.network import cluster_network
from stack.target import ClusterAddresses, ClusterTarget
from tests.conftest import TEST_DIGEST, mesh_settings, settings_for

CLIENTS = {"ci": {"models": ["qwen2.5:0.5b"], "requestsPerMinute": 120}}


def _context(settings: Any, addresses: ClusterAddresses, selector: dict[str, str] | None) -> StackContext:
    target = SimpleNamespace(addresses=addresses, system_node_selector=selector)
    return StackContext(
        settings=settings, cluster_name="ai-infra-dev", secrets={}, cost={}, target=cast(ClusterTarget, target)
    )


def test_the_pickers_api_egress_and_placement_come_from_the_target() -> None:
    s = settings_for("dev", gateway={"enabled": True, "clients": CLIENTS})
    assert s.cluster.eks is not None
    on_eks = plan_gateway(_context(s, eks_addresses(s.cluster.eks), {"pool": "system"}))
    assert on_eks.api_cidrs == ["172.20.0.1/32", s.cluster.eks.vpc_cidr] and on_eks.api_ports == (443,)
    assert on_eks.node_selector == {"pool": "system"}
    assert [r.model for r in on_eks.routes] == ["qwen-instruct", "qwen2.5:0.5b"] and on_eks.clients == {
        "ci": (120, None)
    }
    lab = existing_addresses(SimpleNamespace(network_cidrs=["10.1.0.0/16"]))
    elsewhere = plan_gateway(_context(s, lab, None))
    assert elsewhere.api_cidrs == ["10.1.0.0/16"] and elsewhere.api_ports == (443, 6443)
    assert elsewhere.node_selector is None


def test_the_picker_alert_pages_only_where_serving_alerts_page() -> None:
    digests = {"pickerDigest": TEST_DIGEST, "proxyDigest": TEST_DIGEST}
    dev = settings_for("dev", gateway={"enabled": True, "clients": CLIENTS})
    prod_clients = {"ci": {"models": ["qwen2.5-coder:7b"], "requestsPerMinute": 120}}
    prod = settings_for("prod", gateway={"enabled": True, "clients": prod_clients, **digests})
    addresses = ClusterAddresses(private_cidrs=("10.0.0.0/16",))
    assert plan_gateway(_context(dev, addresses, None)).alert_severity == "warning"
    assert plan_gateway(_context(prod, addresses, None)).alert_severity == "critical"
    paging_dev = settings_for(
        "dev", gateway={"enabled": True, "clients": CLIENTS}, monitoring={"sloSeverity": "critical"}
    )
    assert plan_gateway(_context(paging_dev, addresses, None)).alert_severity == "critical"


def test_a_tailnet_gateway_is_a_backend_of_the_tailnet_proxies() -> None:
    addresses = ClusterAddresses(private_cidrs=("10.0.0.0/16",))
    s = mesh_settings("dev", gateway={"enabled": True, "clients": CLIENTS})
    backends = cluster_network(s, addresses).tailnet_backends
    assert [b.ingress for b in backends if b.namespace == "gateway"] == [GATEWAY_NAME]
    plan = plan_gateway(_context(s, addresses, None))
    assert plan.tailnet_host == "ai-dev.tail1234.ts.net"
    in_cluster = mesh_settings("dev", gateway={"enabled": True, "clients": CLIENTS, "exposure": "cluster"})
    assert not [b for b in cluster_network(in_cluster, addresses).tailnet_backends if b.namespace == "gateway"]
    assert plan_gateway(_context(in_cluster, addresses, None)).tailnet_host is None
