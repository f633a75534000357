"""Section D policies (network exposure) both ways."""

from __future__ import annotations

import json
from typing import Any

from aiinfra_policies import network
from aiinfra_policies.constants import ADDON, DEPLOYMENT, INGRESS, NETWORK_POLICY, RECOMMENDED_LABELS, SERVICE
from tests.conftest import policy_by_name, stack_violations, violations
from tests.policies.test_workloads_policies import gpu_deployment

NP = NETWORK_POLICY
SVC = SERVICE
DEFAULT_DENY = (
    NP,
    {"metadata": {"namespace": "models"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
)


def _policy(name: str) -> Any:
    return policy_by_name(network.POLICIES, name)


def service_props(kind: str = "ClusterIP", **meta: Any) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "models", "labels": {k: "x" for k in RECOMMENDED_LABELS}, **meta},
        "spec": {"type": kind, "selector": {"app.kubernetes.io/instance": "q"}},
    }


def test_default_deny_per_namespace() -> None:
    policy = _policy("k8s-namespace-default-deny")
    workload = (DEPLOYMENT, gpu_deployment())
    assert stack_violations(policy, [workload, DEFAULT_DENY]) == []
    assert stack_violations(policy, [workload])
    allow_all_ingress = (
        NP,
        {
            "metadata": {"namespace": "models"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [{}]},
        },
    )
    assert stack_violations(policy, [workload, allow_all_ingress])


def test_network_policy_no_allow_all_and_waivers() -> None:
    policy = _policy("k8s-networkpolicy-no-allow-all")
    narrow: dict[str, Any] = {"spec": {"ingress": [{"from": [{"podSelector": {}}]}]}}
    assert violations(policy, NP, narrow) == []
    assert violations(policy, NP, {"spec": {"ingress": [{}]}})
    wide = {"spec": {"egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]}]}}
    assert violations(policy, NP, wide)
    waived = {**wide, "metadata": {"annotations": {network.WAIVER: "weights download"}}}
    assert violations(policy, NP, waived) == []


def test_services_are_not_public() -> None:
    lb = _policy("k8s-service-no-public-lb")
    assert violations(lb, SVC, service_props()) == []
    assert violations(lb, SVC, service_props("LoadBalancer"))
    internal = service_props(
        "LoadBalancer", annotations={"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}
    )
    assert violations(lb, SVC, internal) == []
    nodeport = _policy("k8s-service-no-nodeport")
    assert violations(nodeport, SVC, service_props("NodePort"))
    external = service_props()
    external["spec"]["externalIPs"] = ["203.0.113.9"]
    assert violations(nodeport, SVC, external)
    assert violations(nodeport, SVC, service_props()) == []


def test_ingress_needs_tls() -> None:
    policy = _policy("k8s-ingress-tls")
    assert violations(policy, INGRESS, {"spec": {"tls": [{"hosts": ["h"]}]}}) == []
    assert violations(policy, INGRESS, {"spec": {}})


def test_model_servers_only_behind_cluster_ip() -> None:
    policy = _policy("model-runner-cluster-internal")
    model = (DEPLOYMENT, gpu_deployment())
    assert stack_violations(policy, [model, (SVC, service_props())]) == []
    assert stack_violations(policy, [model, (SVC, service_props("LoadBalancer"))])
    other = service_props("NodePort")
    other["spec"]["selector"] = {"app.kubernetes.io/instance": "web"}
    assert stack_violations(policy, [model, (SVC, other)]) == []


def test_vpc_cni_must_enforce_network_policy() -> None:
    policy = _policy("eks-vpc-cni-network-policy-enabled")
    good = {"addonName": "vpc-cni", "configurationValues": json.dumps({"enableNetworkPolicy": "true"})}
    assert violations(policy, ADDON, good) == []
    assert violations(policy, ADDON, {"addonName": "vpc-cni"})
    assert violations(policy, ADDON, {"addonName": "coredns"}) == []


# 37b ------------------------------------------------------------------------------------------
def _server(namespace: str = "models") -> tuple[str, dict[str, Any]]:
    props = gpu_deployment()
    props["metadata"] = {**props.get("metadata", {}), "namespace": namespace}
    return DEPLOYMENT, props


def _server_policy(peer: dict[str, Any], selector: dict[str, Any] | None = None, direction: str = "ingress") -> Any:
    key = "from" if direction == "ingress" else "to"
    spec = {
        "podSelector": selector if selector is not None else {"matchLabels": {"app.kubernetes.io/instance": "q"}},
        "policyTypes": ["Ingress", "Egress"],
        direction: [{key: [peer], "ports": [{"port": 8000, "protocol": "TCP"}]}],
    }
    return (NP, {"metadata": {"name": "vllm-q", "namespace": "models"}, "spec": spec})


def test_model_server_policies_name_their_peer_namespaces() -> None:
    policy = _policy("model-runner-netpol-peers-scoped")
    monitoring = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    assert stack_violations(policy, [_server(), _server_policy(monitoring)]) == []
    assert stack_violations(policy, [_server(), _server_policy({"podSelector": {}})]) == []
    everyone: dict[str, Any] = {"namespaceSelector": {}}
    found = stack_violations(policy, [_server(), _server_policy(everyone)])
    assert len(found) == 1 and found[0].startswith("spec.ingress[0].from[0].namespaceSelector")
    with_pods = {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "x"}}}
    assert stack_violations(policy, [_server(), _server_policy(with_pods)])  # those pods in every namespace
    assert stack_violations(policy, [_server(), _server_policy(everyone, direction="egress")])
    # The namespace-wide policy selects the server too; matchExpressions are evaluated.
    assert stack_violations(policy, [_server(), _server_policy(everyone, selector={})])
    expr = {"matchExpressions": [{"key": "app.kubernetes.io/component", "operator": "In", "values": ["model-server"]}]}
    assert stack_violations(policy, [_server(), _server_policy(everyone, selector=expr)])
    # A policy selecting other pods, or the same labels in another namespace, is not a model server's.
    other = {"matchLabels": {"app.kubernetes.io/instance": "grafana"}}
    assert stack_violations(policy, [_server(), _server_policy(everyone, selector=other)]) == []
    assert stack_violations(policy, [_server("other"), _server_policy(everyone)]) == []
