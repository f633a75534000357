"""Section A's rules on the objects around pods (``aiinfra_policies/pod_context.py``), both ways:
bare Pods, the default ServiceAccount, namespaces' Pod Security labels, explicit namespaces."""

from __future__ import annotations

from typing import Any

from aiinfra_policies import pod_context
from aiinfra_policies.constants import DEPLOYMENT, NAMESPACE, POD, SERVICE_ACCOUNT
from tests.conftest import policy_by_name, violations
from tests.policies.test_pod_security import compliant_deployment

Props = dict[str, Any]


def test_bare_pods_are_reported() -> None:
    policy = policy_by_name(pod_context.POLICIES, "k8s-no-bare-pods")
    assert violations(policy, POD, {"kind": "Pod", "spec": {}})
    assert violations(policy, DEPLOYMENT, compliant_deployment()) == []


def test_default_service_account_must_not_automount() -> None:
    policy = policy_by_name(pod_context.POLICIES, "k8s-dedicated-service-account")
    default_sa = {"kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "models"}}
    assert violations(policy, SERVICE_ACCOUNT, default_sa)
    assert violations(policy, SERVICE_ACCOUNT, default_sa | {"automountServiceAccountToken": False}) == []


def _namespace(labels: dict[str, str], name: str = "models") -> Props:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


RESTRICTED = {f"pod-security.kubernetes.io/{m}": "restricted" for m in ("enforce", "warn", "audit")}
PRIVILEGED = {
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/warn": "baseline",
    "pod-security.kubernetes.io/audit": "baseline",
}


def test_namespace_pss_labels_both_ways() -> None:
    policy = policy_by_name(pod_context.POLICIES, "k8s-namespace-pss-labels")
    assert violations(policy, NAMESPACE, _namespace(RESTRICTED)) == []
    assert len(violations(policy, NAMESPACE, _namespace({}))) == 3
    assert violations(policy, NAMESPACE, _namespace(PRIVILEGED, "gpu-system"))
    excepted = {"exceptions": {"gpu-system": "privileged"}}
    assert violations(policy, NAMESPACE, _namespace(PRIVILEGED, "gpu-system"), excepted) == []
    # An exception for one namespace does not leak to another.
    assert violations(policy, NAMESPACE, _namespace(PRIVILEGED, "models"), excepted)
    # A privileged namespace that does not even warn or audit at baseline hides what its pods do.
    silent = {**PRIVILEGED, "pod-security.kubernetes.io/audit": "privileged"}
    (message,) = violations(policy, NAMESPACE, _namespace(silent, "gpu-system"), excepted)
    assert "audit" in message and "baseline" in message


def test_cluster_scoped_kinds_need_no_namespace() -> None:
    policy = policy_by_name(pod_context.POLICIES, "k8s-explicit-non-default-namespace")
    sc = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "gp3"}}
    assert violations(policy, "kubernetes:storage.k8s.io/v1:StorageClass", sc) == []
    vap = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": {}}
    assert violations(policy, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy", vap) == []
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    assert violations(policy, "kubernetes:core/v1:ConfigMap", cm)


def test_default_service_account_of_tenant_namespaces_mounts_no_token() -> None:
    from aiinfra_policies.constants import NAMESPACE
    from tests.conftest import stack_violations

    policy = policy_by_name(pod_context.POLICIES, "k8s-default-sa-no-automount")
    tenant = {"metadata": {"name": "models", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}
    system = {"metadata": {"name": "gpu-system", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}
    patch = {"metadata": {"name": "default", "namespace": "models"}, "automountServiceAccountToken": False}
    sa_patch = "kubernetes:core/v1:ServiceAccountPatch"
    assert stack_violations(policy, [(NAMESPACE, tenant), (NAMESPACE, system), (sa_patch, patch)]) == []
    (message,) = stack_violations(policy, [(NAMESPACE, tenant), (NAMESPACE, system)])
    assert "automountServiceAccountToken" in message and "models" not in message
    still_on = {**patch, "automountServiceAccountToken": True}
    assert stack_violations(policy, [(NAMESPACE, tenant), (sa_patch, still_on)])
