"""Section D and the model-serving rules of K, both ways."""

from __future__ import annotations

from typing import Any

from aiinfra_policies import network
from aiinfra_policies.common import DEPLOYMENT
from tests.conftest import policy_by_name, stack_violations, violations
from tests.policies.test_workloads_policies import gpu_deployment

NP = network.NETWORK_POLICY
SVC = network.SERVICE
DEFAULT_DENY = (
    NP,
    {"metadata": {"namespace": "models"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
)


def _policy(name: str) -> Any:
    return policy_by_name(network.POLICIES, name)


def _service(kind: str = "ClusterIP", **meta: Any) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "models", "labels": {k: "x" for k in network.RECOMMENDED}, **meta},
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
    assert violations(lb, SVC, _service()) == []
    assert violations(lb, SVC, _service("LoadBalancer"))
    internal = _service("LoadBalancer", annotations={"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"})
    assert violations(lb, SVC, internal) == []
    nodeport = _policy("k8s-service-no-nodeport")
    assert violations(nodeport, SVC, _service("NodePort"))
    external = _service()
    external["spec"]["externalIPs"] = ["203.0.113.9"]
    assert violations(nodeport, SVC, external)
    assert violations(nodeport, SVC, _service()) == []


def test_ingress_needs_tls() -> None:
    policy = _policy("k8s-ingress-tls")
    assert violations(policy, network.INGRESS, {"spec": {"tls": [{"hosts": ["h"]}]}}) == []
    assert violations(policy, network.INGRESS, {"spec": {}})


def test_model_servers_only_behind_cluster_ip() -> None:
    policy = _policy("model-runner-cluster-internal")
    model = (DEPLOYMENT, gpu_deployment())
    assert stack_violations(policy, [model, (SVC, _service())]) == []
    assert stack_violations(policy, [model, (SVC, _service("LoadBalancer"))])
    other = _service("NodePort")
    other["spec"]["selector"] = {"app.kubernetes.io/instance": "web"}
    assert stack_violations(policy, [model, (SVC, other)]) == []


def _monitor(selector: dict[str, str]) -> tuple[str, dict[str, Any]]:
    return (
        network.SERVICE_MONITOR,
        {
            "metadata": {"namespace": "models"},
            "spec": {"selector": {"matchLabels": selector}, "endpoints": [{"port": "http"}]},
        },
    )


def test_service_monitor_rule_applies_once_monitoring_exists() -> None:
    policy = _policy("model-runner-has-servicemonitor")
    vllm = gpu_deployment()
    vllm["spec"]["template"]["spec"]["containers"][0]["image"] = "docker.io/vllm/vllm-openai:v0.11.0"
    model = (DEPLOYMENT, vllm)
    prometheus = (network.HELM_RELEASE, {"chart": "kube-prometheus-stack"})
    assert stack_violations(policy, [model]) == []  # no Prometheus Operator yet
    assert stack_violations(policy, [model, prometheus])
    assert stack_violations(policy, [model, prometheus, _monitor({"app.kubernetes.io/instance": "q"})]) == []
    assert stack_violations(policy, [model, prometheus, _monitor({"app.kubernetes.io/instance": "other"})])


def test_monitoring_stack_present() -> None:
    policy = _policy("monitoring-stack-present")
    model = (DEPLOYMENT, gpu_deployment())
    assert stack_violations(policy, [model])
    assert stack_violations(policy, [model, (network.HELM_RELEASE, {"chart": "kube-prometheus-stack"})]) == []


def test_recommended_labels() -> None:
    policy = _policy("k8s-recommended-labels")
    assert violations(policy, SVC, _service()) == []
    bare = _service()
    bare["metadata"]["labels"] = {"app.kubernetes.io/name": "x"}
    assert violations(policy, SVC, bare) == [
        "metadata.labels must include app.kubernetes.io/component, "
        "app.kubernetes.io/part-of (use components.core.labels.standard_labels)."
    ]
