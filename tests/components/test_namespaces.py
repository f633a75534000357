"""PlatformNamespace under mocks: PSS labels, default deny, quota with a GPU line, limits."""

from __future__ import annotations

from typing import Any

from components.core.settings import NamespaceSettings, QuotaSettings
from components.namespaces import PlatformNamespace, PlatformNamespaceArgs
from tests.conftest import build_under_mocks


def test_workload_namespace_gets_guardrails() -> None:
    m = build_under_mocks(
        lambda: PlatformNamespace(
            "ns-models",
            PlatformNamespaceArgs(
                name="models",
                labels={"app.kubernetes.io/part-of": "ai-infra"},
                workload=NamespaceSettings(quota=QuotaSettings(gpus=3)),
            ),
        )
    )
    ns = m.by_type("kubernetes:core/v1:Namespace")[0].inputs["metadata"]
    assert ns["name"] == "models"
    for mode in ("enforce", "warn", "audit"):
        assert ns["labels"][f"pod-security.kubernetes.io/{mode}"] == "restricted"
    policies = {
        r.inputs["metadata"]["name"]: r.inputs["spec"]
        for r in m.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    }
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert policies["allow-dns"]["egress"][0]["ports"] == [
        {"protocol": "UDP", "port": 53},
        {"protocol": "TCP", "port": 53},
    ]
    quotas = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in m.by_type("kubernetes:core/v1:ResourceQuota")}
    quota = quotas["compute"]["hard"]
    assert quota["requests.nvidia.com/gpu"] == "3"
    assert quota["services.loadbalancers"] == quota["services.nodeports"] == "0"
    assert quota["requests.storage"] == "4Ti"  # claims cannot take a whole file system
    # Not a serving namespace: no pods at the system classes nor at the serving class.
    guard = quotas["priority-guard"]
    assert guard["hard"] == {"pods": "0"}
    (expression,) = guard["scopeSelector"]["matchExpressions"]
    assert expression == {
        "scopeName": "PriorityClass",
        "operator": "In",
        "values": ["gpu-serving", "system-cluster-critical", "system-node-critical"],
    }
    limits = m.by_type("kubernetes:core/v1:LimitRange")[0].inputs["spec"]["limits"][0]
    assert limits["defaultRequest"] == {"cpu": "250m", "memory": "512Mi"}
    (patch,) = m.by_type("kubernetes:core/v1:ServiceAccountPatch")
    assert patch.inputs["metadata"] == {"name": "default", "namespace": "models"}
    assert patch.inputs["automountServiceAccountToken"] is False


def test_system_namespace_has_a_closed_default_account_and_its_network_policies() -> None:
    from components.specs.system_network import ClusterNetwork

    net = ClusterNetwork(private_cidrs=("10.50.0.0/16",), monitoring_namespace="monitoring")
    m = build_under_mocks(
        lambda: PlatformNamespace(
            "ns-gpu-system",
            PlatformNamespaceArgs(name="gpu-system", labels={}, pod_security="privileged", network=net),
        )
    )
    assert sorted(r.type for r in m.registrations if r.custom and "NetworkPolicy" not in r.type) == [
        "kubernetes:core/v1:Namespace",
        "kubernetes:core/v1:ServiceAccountPatch",
    ]
    policies = {r.name: r for r in m.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    assert set(policies) == {
        "ns-gpu-system-default-deny",
        "ns-gpu-system-allow-dns",
        "ns-gpu-system-allow-apiserver",
        "ns-gpu-system-dcgm-exporter-metrics",
    }
    ns_urn = m.by_type("kubernetes:core/v1:Namespace")[0].urn
    assert all(ns_urn in p.dependencies for p in policies.values())
    ns = m.by_type("kubernetes:core/v1:Namespace")[0]
    labels = ns.inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    # Privileged pods are allowed there, and what they do beyond baseline is logged.
    assert labels["pod-security.kubernetes.io/warn"] == labels["pod-security.kubernetes.io/audit"] == "baseline"


def test_a_serving_namespace_may_use_the_serving_class() -> None:
    m = build_under_mocks(
        lambda: PlatformNamespace(
            "ns-models",
            PlatformNamespaceArgs(name="models", labels={}, workload=NamespaceSettings(), serving=True),
        )
    )
    guard = next(
        r for r in m.by_type("kubernetes:core/v1:ResourceQuota") if r.inputs["metadata"]["name"] == "priority-guard"
    )
    assert guard.inputs["spec"]["scopeSelector"]["matchExpressions"][0]["values"] == [
        "system-cluster-critical",
        "system-node-critical",
    ]


def _operator_role(*, batch: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    m = build_under_mocks(
        lambda: PlatformNamespace(
            "ns-training",
            PlatformNamespaceArgs(name="training", labels={}, workload=NamespaceSettings(), batch=batch),
        )
    )
    (role,) = m.by_type("kubernetes:rbac.authorization.k8s.io/v1:Role")
    (binding,) = m.by_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
    return role.inputs["rules"], binding.inputs


def test_operators_get_a_role_without_secrets_or_exec() -> None:
    rules, binding = _operator_role(batch=False)
    granted = {(g, r, v) for rule in rules for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}
    resources = {r for _, r, _ in granted}
    assert not resources & {"secrets", "pods/exec", "pods/attach", "pods/portforward", "pods/proxy"}
    assert ("", "pods/log", "get") in granted and ("", "pods", "delete") in granted
    assert ("apps", "deployments/scale", "update") in granted
    # No pod template can be changed (a patched Deployment could mount any Secret of the namespace).
    assert not {(g, r, v) for g, r, v in granted if v in ("create", "update", "patch") and not r.endswith("/scale")}
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "ai-infra:operators"}
    ]
    assert binding["roleRef"]["name"] == "ai-infra-operator"
    batch_rules, _ = _operator_role(batch=True)
    assert {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "delete"]} in batch_rules
