"""Section L hardening policies (rule 89) both ways, matched by property dependencies."""

from __future__ import annotations

from typing import Any

from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions, StackValidationArgs

from aiinfra_policies import hardening
from aiinfra_policies.constants import (
    ADDON,
    CLUSTER,
    DEFAULT_SG,
    FLOW_LOG,
    KMS_KEY,
    LOG_GROUP,
    ROLE,
    ROLE_ATTACHMENT,
    VPC,
)
from tests.conftest import policy_by_name

_OPTS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
_PROTECTED = PolicyResourceOptions(True, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def _res(typ: str, name: str, props: dict[str, Any], vpc: PolicyResource | None = None) -> PolicyResource:
    deps = {"vpcId": [vpc]} if vpc is not None else {}
    return PolicyResource(typ, props, f"urn:pulumi:t::p::{typ}::{name}", name, _OPTS, None, None, [], deps)


def _check(resources: list[PolicyResource], name: str = "vpc-flow-logs") -> list[str]:
    found: list[str] = []
    policy = policy_by_name(hardening.POLICIES, name)
    policy.validate(StackValidationArgs(resources, {}), lambda message, urn=None: found.append(message))
    return found


def test_a_logged_vpc_with_an_empty_default_group_passes() -> None:
    vpc = _res(VPC, "vpc", {"cidrBlock": "10.0.0.0/16"})
    flow = _res(FLOW_LOG, "flow", {"trafficType": "ALL"}, vpc)
    sg = _res(DEFAULT_SG, "sg", {"ingress": [], "egress": []}, vpc)
    assert _check([vpc, flow, sg]) == []


def test_missing_flow_logs_or_an_open_default_group_is_reported() -> None:
    vpc = _res(VPC, "vpc", {"cidrBlock": "10.0.0.0/16"})
    other = _res(VPC, "other", {"cidrBlock": "10.1.0.0/16"})
    sg = _res(DEFAULT_SG, "sg", {"ingress": [], "egress": []}, vpc)
    (message,) = _check([vpc, sg])
    assert "FlowLog" in message
    # A flow log on another VPC does not count; nor does a default group that keeps a rule.
    open_sg = _res(DEFAULT_SG, "sg", {"ingress": [{"protocol": "-1", "selfAttr": True}]}, vpc)
    found = _check([vpc, other, _res(FLOW_LOG, "flow", {}, other), open_sg])
    assert len(found) == 3 and all("10.0" not in m for m in found)


def _attachment(role: PolicyResource, arn: str) -> PolicyResource:
    typ = ROLE_ATTACHMENT
    return PolicyResource(
        typ, {"policyArn": arn}, f"urn:pulumi:t::p::{typ}::a", "a", _OPTS, None, None, [role], {"role": [role]}
    )


def test_vpc_cni_on_its_own_role_passes_and_on_the_node_role_fails() -> None:
    node = _res(ROLE, "node", {"assumeRolePolicy": '{"Principal": {"Service": "ec2.amazonaws.com"}}'})
    irsa = _res(ROLE, "irsa", {"assumeRolePolicy": '{"Principal": {"Federated": "oidc"}}'})
    good_addon = _res(ADDON, "cni", {"addonName": "vpc-cni", "serviceAccountRoleArn": "arn:aws:iam::1:role/cni"})
    good = [node, irsa, good_addon, _attachment(irsa, hardening.CNI_POLICY)]
    assert _check(good, "vpc-cni-irsa") == []
    bare_addon = _res(ADDON, "cni", {"addonName": "vpc-cni"})
    found = _check([node, bare_addon, _attachment(node, hardening.CNI_POLICY)], "vpc-cni-irsa")
    assert len(found) == 2 and any("serviceAccountRoleArn" in m for m in found)
    # Other add-ons are not the CNI's business.
    assert _check([_res(ADDON, "coredns", {"addonName": "coredns"})], "vpc-cni-irsa") == []


def test_keda_must_read_secrets_only_in_its_namespace() -> None:
    from tests.conftest import violations

    policy = policy_by_name(hardening.POLICIES, "keda-restrict-secrets")
    release = "kubernetes:helm.sh/v3:Release"
    restrict = {"restrict": {"secret": True}}
    good = {"chart": "keda", "values": {"permissions": {"operator": restrict, "metricServer": restrict}}}
    assert violations(policy, release, good) == []
    assert len(violations(policy, release, {"chart": "keda", "values": {}})) == 2
    half = {"chart": "keda", "values": {"permissions": {"operator": restrict}}}
    (message,) = violations(policy, release, half)
    assert "metricServer" in message
    assert violations(policy, release, {"chart": "kube-prometheus-stack", "values": {}}) == []


def test_ebs_csi_uses_the_tag_scoped_policy() -> None:
    from tests.conftest import violations

    policy = policy_by_name(hardening.POLICIES, "iam-csi-policies-scoped")
    v2 = {"policyArn": "arn:aws:iam::aws:policy/AmazonEBSCSIDriverPolicyV2", "role": "r"}
    assert violations(policy, ROLE_ATTACHMENT, v2) == []
    v1 = {"policyArn": "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy", "role": "r"}
    (message,) = violations(policy, ROLE_ATTACHMENT, v1)
    assert "V2" in message
    efs = {"policyArn": "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy", "role": "r"}
    assert violations(policy, ROLE_ATTACHMENT, efs)


def test_tenant_namespaces_hold_system_priority_classes_at_zero_pods() -> None:
    from aiinfra_policies.constants import NAMESPACE, RESOURCE_QUOTA
    from tests.conftest import stack_violations

    policy = policy_by_name(hardening.POLICIES, "priorityclass-scoped")
    ns = {"metadata": {"name": "models"}}
    compute = {"metadata": {"name": "compute", "namespace": "models"}, "spec": {"hard": {"pods": "20"}}}
    expr = {
        "scopeName": "PriorityClass",
        "operator": "In",
        "values": ["system-cluster-critical", "system-node-critical"],
    }

    def quota(pods: str, values: list[str]) -> dict[str, Any]:
        selector = {"matchExpressions": [{**expr, "values": values}]}
        return {
            "metadata": {"name": "priority-guard", "namespace": "models"},
            "spec": {"hard": {"pods": pods}, "scopeSelector": selector},
        }

    guard = quota("0", ["system-cluster-critical", "system-node-critical"])
    assert stack_violations(policy, [(NAMESPACE, ns), (RESOURCE_QUOTA, compute), (RESOURCE_QUOTA, guard)]) == []
    assert stack_violations(policy, [(NAMESPACE, ns), (RESOURCE_QUOTA, compute)])
    loose = quota("5", ["system-cluster-critical", "system-node-critical"])
    assert stack_violations(policy, [(NAMESPACE, ns), (RESOURCE_QUOTA, compute), (RESOURCE_QUOTA, loose)])
    half = quota("0", ["system-node-critical"])
    assert stack_violations(policy, [(NAMESPACE, ns), (RESOURCE_QUOTA, compute), (RESOURCE_QUOTA, half)])
    # A namespace without quotas (a system namespace) is not a tenant.
    assert stack_violations(policy, [(NAMESPACE, {"metadata": {"name": "keda"}})]) == []


def test_cluster_admin_only_for_allowlisted_principals_and_edit_only_in_namespaces() -> None:
    from aiinfra_policies.constants import ACCESS_POLICY_ASSOCIATION as APA
    from tests.conftest import violations

    policy = policy_by_name(hardening.POLICIES, "eks-access-policy-allowlist")
    prefix = "arn:aws:eks::aws:cluster-access-policy/"
    admins = {"clusterAdmins": ["arn:aws:iam::*:role/ai-infra-deployer"]}

    def grant(principal: str, policy_name: str, scope: dict[str, Any]) -> dict[str, Any]:
        return {
            "principalArn": f"arn:aws:iam::1:role/{principal}",
            "policyArn": prefix + policy_name,
            "accessScope": scope,
        }

    cluster, ns = {"type": "cluster"}, {"type": "namespace", "namespaces": ["models"]}
    assert violations(policy, APA, grant("ai-infra-deployer", "AmazonEKSClusterAdminPolicy", cluster), admins) == []
    (message,) = violations(policy, APA, grant("oncall", "AmazonEKSClusterAdminPolicy", cluster), admins)
    assert "clusterAdmins" in message and "oncall" not in message
    assert violations(policy, APA, grant("oncall", "AmazonEKSEditPolicy", ns), admins) == []
    assert violations(policy, APA, grant("oncall", "AmazonEKSEditPolicy", cluster), admins)
    assert violations(policy, APA, grant("auditor", "AmazonEKSViewPolicy", cluster), admins) == []


def _server(args: list[str], script: str) -> dict[str, Any]:
    stage = {"name": "stage", "command": ["python3", "-c"], "args": [script]}
    serve = {"name": "vllm", "command": ["vllm", "serve"], "args": ["org/model", *args]}
    return {"spec": {"template": {"spec": {"initContainers": [stage], "containers": [serve]}}}}


def test_model_weights_are_served_and_staged_at_a_commit() -> None:
    from tests.conftest import violations

    policy = policy_by_name(hardening.POLICIES, "model-revision-pinned")
    deployment = "kubernetes:apps/v1:Deployment"
    sha = "1ed0a6145da0ce550c628e8e8b678f51e695995d"
    staged = 'snapshot_download(**{"repo_id": "org/model", "revision": "%s"})'
    assert violations(policy, deployment, _server(["--revision", sha], staged % sha)) == []
    assert violations(policy, deployment, _server([f"--revision={sha}"], staged % sha)) == []
    both = violations(policy, deployment, _server([], staged % "main"))
    assert (
        len(both) == 2
        and "initContainers[0]" in both[0]
        and "containers[0]: the server must serve --revision" in both[1]
    )
    assert sha not in " ".join(both) and "main" not in " ".join(both)  # messages never quote values
    (short,) = violations(policy, deployment, _server(["--revision", sha[:12]], staged % sha))
    assert "40-hex" in short
    # Other workloads (Ollama, anything without vLLM or the Hub) are not this rule's business.
    other = {"spec": {"template": {"spec": {"containers": [{"name": "o", "command": ["ollama", "serve"]}]}}}}
    assert violations(policy, deployment, other) == []


def test_kms_keys_are_guarded_and_the_secrets_key_wraps_nothing_else() -> None:
    from components.specs import aws_iam

    admins = ["arn:aws:iam::123456789012:role/deploy"]
    guarded = aws_iam.admin_only_key_policy("123456789012", admins)
    secrets = _res(KMS_KEY, "secrets", {"policy": guarded})
    data = _res(KMS_KEY, "data", {"policy": aws_iam.kms_key_policy("123456789012", "us-west-2", "/g", admins)})

    def uses(typ: str, name: str, prop: str, key: PolicyResource) -> PolicyResource:
        return PolicyResource(typ, {}, f"urn:pulumi:t::p::{typ}::{name}", name, _OPTS, None, None, [], {prop: [key]})

    cluster = uses(CLUSTER, "eks", "encryptionConfig", secrets)
    logs = uses(LOG_GROUP, "logs", "kmsKeyId", data)
    assert _check([secrets, data, cluster, logs], "kms-keys-guarded") == []
    # A protected key any IAM admin could delete, and Secrets' key reused for a log group: both reported.
    open_policy = {"policy": aws_iam.admin_only_key_policy("123456789012")}
    open_key = PolicyResource(
        KMS_KEY, open_policy, f"urn:pulumi:t::p::{KMS_KEY}::open", "open", _PROTECTED, None, None, [], {}
    )
    misuse = uses(LOG_GROUP, "logs", "kmsKeyId", secrets)
    found = _check([secrets, open_key, cluster, misuse], "kms-keys-guarded")
    assert len(found) == 2
    assert any("kms:DisableKey" in m for m in found) and any("encrypt nothing else" in m for m in found)
    assert not any("123456789012" in m for m in found)  # messages never quote values
    default = PolicyResource(KMS_KEY, {}, f"urn:pulumi:t::p::{KMS_KEY}::d", "d", _PROTECTED, None, None, [], {})
    assert len(_check([default], "kms-keys-guarded")) == 1  # AWS's default policy
    # The same open key unprotected (a dev stack deletes it with itself): not this rule's business.
    assert _check([_res(KMS_KEY, "open", open_policy)], "kms-keys-guarded") == []


def test_every_namespace_we_create_has_a_default_deny_policy() -> None:
    from aiinfra_policies.constants import NAMESPACE, NETWORK_POLICY
    from tests.conftest import stack_violations

    policy = policy_by_name(hardening.POLICIES, "k8s-every-namespace-default-deny")
    deny = {
        "metadata": {"name": "default-deny", "namespace": "keda"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }
    allow = {
        "metadata": {"name": "allow-dns", "namespace": "gpu-system"},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{}]}]},
    }
    keda = (NAMESPACE, {"metadata": {"name": "keda"}})
    gpu = (NAMESPACE, {"metadata": {"name": "gpu-system"}})
    assert stack_violations(policy, [keda, (NETWORK_POLICY, deny)]) == []
    # An allow alone is not a default deny; a namespace with no policy at all is reported too.
    (message,) = stack_violations(policy, [keda, gpu, (NETWORK_POLICY, deny), (NETWORK_POLICY, allow)])
    assert "default-deny" in message and "gpu-system" not in message  # messages never quote values


def test_an_sglang_server_is_held_to_a_commit_too() -> None:
    from tests.conftest import violations

    policy = policy_by_name(hardening.POLICIES, "model-revision-pinned")
    deployment = "kubernetes:apps/v1:Deployment"
    sha = "1ed0a6145da0ce550c628e8e8b678f51e695995d"
    serve = {"name": "server", "command": ["python3", "-m", "sglang.launch_server"], "args": ["--model-path", "org/m"]}
    pinned = {**serve, "args": [*serve["args"], "--revision", sha]}
    props = {"spec": {"template": {"spec": {"containers": [pinned]}}}}
    assert violations(policy, deployment, props) == []
    props = {"spec": {"template": {"spec": {"containers": [serve]}}}}
    (found,) = violations(policy, deployment, props)
    assert "containers[0]: the server must serve --revision" in found
