"""Section E policies (cluster access: Kubernetes RBAC, EKS access entries) both ways."""

from __future__ import annotations

from typing import Any

import pytest

from aiinfra_policies import access
from aiinfra_policies.constants import (
    CLUSTER,
    RBAC_CLUSTER_ROLE,
    RBAC_CLUSTER_ROLE_BINDING,
    RBAC_ROLE,
    RBAC_ROLE_BINDING,
)
from tests.conftest import policy_by_name, violations
from tests.policies.test_eks_policies import cluster

CASES: list[tuple[str, str, Any, Any]] = [
    # (policy, type token, compliant props factory, mutation)
    (
        "eks-access-entries-least-privilege",
        CLUSTER,
        cluster,
        lambda p: p["accessConfig"].update(authenticationMode="CONFIG_MAP"),
    ),
    (
        "eks-access-entries-least-privilege",
        CLUSTER,
        cluster,
        lambda p: p["accessConfig"].update(bootstrapClusterCreatorAdminPermissions=True),
    ),
]


@pytest.mark.parametrize(
    ("name", "token", "factory", "mutate"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_policy_both_ways(name: str, token: str, factory: Any, mutate: Any) -> None:
    policy = policy_by_name(access.POLICIES, name)
    assert violations(policy, token, factory()) == []
    props = factory()
    mutate(props)
    assert violations(policy, token, props), f"{name} missed the mutation"


# 38–40: Kubernetes RBAC -----------------------------------------------------------------------
ROLE_TYPES = (RBAC_ROLE, RBAC_CLUSTER_ROLE)


def role(*rules: dict[str, Any]) -> dict[str, Any]:
    """A reader role like a tenant's (list/watch pods and their logs)."""
    default = {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}
    return {"metadata": {"name": "reader", "namespace": "models"}, "rules": list(rules) or [default]}


def binding(role_name: str = "reader", **subject: str) -> dict[str, Any]:
    who = subject or {"kind": "ServiceAccount", "name": "vllm-coder", "namespace": "models"}
    return {
        "metadata": {"name": "reader", "namespace": "models"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name},
        "subjects": [who],
    }


def _rbac(name: str, token: str, props: dict[str, Any], config: dict[str, Any] | None = None) -> list[str]:
    return violations(policy_by_name(access.POLICIES, name), token, props, config)


@pytest.mark.parametrize("token", ROLE_TYPES)
@pytest.mark.parametrize("field", ["apiGroups", "resources", "verbs", "nonResourceURLs"])
def test_rbac_wildcards_both_ways(token: str, field: str) -> None:
    assert _rbac("k8s-rbac-no-wildcards", token, role()) == []
    rule = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"], field: ["get", "*"]}
    assert _rbac("k8s-rbac-no-wildcards", token, role(rule)) == [
        f"rules[0].{field} must list what the role grants, not the wildcard *."
    ]
    # A chart controller's reviewed role is waived by name, nothing else is.
    assert _rbac("k8s-rbac-no-wildcards", token, role(rule), {"allowedRoles": ["reader"]}) == []
    assert _rbac("k8s-rbac-no-wildcards", token, role(rule), {"allowedRoles": ["other"]})


@pytest.mark.parametrize("token", (RBAC_ROLE_BINDING, RBAC_CLUSTER_ROLE_BINDING))
@pytest.mark.parametrize(
    ("props", "expected"),
    [
        (binding("cluster-admin"), "roleRef must not be the cluster-admin ClusterRole"),
        (binding(kind="Group", name="system:masters"), "subjects[0] must not be system:masters"),
        (binding(kind="Group", name="system:unauthenticated"), "subjects[0] must not be system:masters"),
        (binding(kind="User", name="system:anonymous"), "subjects[0] must not be system:masters"),
        (binding(kind="ServiceAccount", name="default", namespace="models"), "subjects[0] must not be a default"),
    ],
)
def test_rbac_admin_bindings_both_ways(token: str, props: dict[str, Any], expected: str) -> None:
    assert _rbac("k8s-rbac-no-cluster-admin-binding", token, binding()) == []
    assert _rbac("k8s-rbac-no-cluster-admin-binding", token, binding(kind="Group", name="ml-admins")) == []
    found = _rbac("k8s-rbac-no-cluster-admin-binding", token, props)
    assert len(found) == 1 and found[0].startswith(expected), found


def test_rbac_cluster_admin_waiver_is_by_binding_name() -> None:
    admin = binding("cluster-admin")
    token = RBAC_CLUSTER_ROLE_BINDING
    assert _rbac("k8s-rbac-no-cluster-admin-binding", token, admin, {"allowedClusterAdminBindings": ["reader"]}) == []
    # A Role named cluster-admin inside a namespace is not the ClusterRole.
    local = {**admin, "roleRef": {**admin["roleRef"], "kind": "Role"}}
    assert _rbac("k8s-rbac-no-cluster-admin-binding", RBAC_ROLE_BINDING, local) == []


ESCALATING_RULES = [
    {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind"]},
    {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["escalate"]},
    {"apiGroups": [""], "resources": ["users", "groups"], "verbs": ["impersonate"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["pods/*"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]},
    {"apiGroups": ["admissionregistration.k8s.io"], "resources": ["mutatingwebhookconfigurations"], "verbs": ["patch"]},
    {"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests/approval"], "verbs": ["update"]},
    {"apiGroups": ["certificates.k8s.io"], "resources": ["signers"], "verbs": ["approve"]},
    {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
]


@pytest.mark.parametrize("token", ROLE_TYPES)
@pytest.mark.parametrize("rule", ESCALATING_RULES, ids=lambda r: f"{r['verbs'][0]}-{r['resources'][0]}")
def test_rbac_escalation_paths_both_ways(token: str, rule: dict[str, Any]) -> None:
    assert _rbac("k8s-rbac-no-escalation-paths", token, role()) == []
    found = _rbac("k8s-rbac-no-escalation-paths", token, role(rule))
    assert found and all(m.startswith("rules[0] lets its holders ") for m in found)
    assert _rbac("k8s-rbac-no-escalation-paths", token, role(rule), {"allowedRoles": ["reader"]}) == []


def test_reading_secrets_is_an_escalation_only_cluster_wide() -> None:
    secrets = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}
    assert _rbac("k8s-rbac-no-escalation-paths", RBAC_ROLE, role(secrets)) == []
    assert _rbac("k8s-rbac-no-escalation-paths", RBAC_CLUSTER_ROLE, role(secrets)) == [
        "rules[0] lets its holders read Secrets cluster-wide: grant that to a dedicated, reviewed role only."
    ]


def test_rbac_rules_skip_excluded_namespaces() -> None:
    wild = role({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]})
    assert _rbac("k8s-rbac-no-wildcards", RBAC_ROLE, wild, {"excludeNamespaces": ["models"]}) == []
    assert _rbac("k8s-rbac-no-wildcards", RBAC_ROLE, wild, {"excludeNamespaces": ["other"]})
