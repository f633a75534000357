"""Section H policies (EKS control plane, node groups, IAM) both ways."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions, StackValidationArgs

from aiinfra_policies import eks
from aiinfra_policies.constants import CLUSTER, LAUNCH_TEMPLATE, LOG_GROUP, NODE_GROUP, ROLE, ROLE_ATTACHMENT
from tests.conftest import policy_by_name, violations

OPTS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
TAGS = {"Environment": "prod", "Owner": "ml", "CostCenter": "cc"}


def cluster() -> dict[str, Any]:
    return {
        "version": "1.34",
        "vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": False, "subnetIds": ["a"]},
        "encryptionConfig": {"provider": {"keyArn": "arn:aws:kms:r:1:key/k"}, "resources": ["secrets"]},
        "enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
        "accessConfig": {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False},
        "tags": TAGS,
    }


def node_group() -> dict[str, Any]:
    return {
        "amiType": "AL2023_x86_64_NVIDIA",
        "instanceTypes": ["g6.xlarge"],
        "launchTemplate": {"id": "lt"},
        "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
        "tags": TAGS,
    }


def launch_template() -> dict[str, Any]:
    return {
        "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1, "httpEndpoint": "enabled"},
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": "arn:k"}}],
        "tags": TAGS,
    }


CASES: list[tuple[str, str, Any, Any]] = [
    # (policy, type token, compliant props factory, mutation)
    ("eks-endpoint-private", CLUSTER, cluster, lambda p: p["vpcConfig"].update(endpointPublicAccess=True)),
    ("eks-endpoint-private", CLUSTER, cluster, lambda p: p["vpcConfig"].update(endpointPrivateAccess=False)),
    ("eks-control-plane-logging", CLUSTER, cluster, lambda p: p.update(enabledClusterLogTypes=["audit"])),
    ("eks-supported-version", CLUSTER, cluster, lambda p: p.update(version="1.27")),
    ("eks-nodegroup-no-ssh", NODE_GROUP, node_group, lambda p: p.update(remoteAccess={"ec2SshKey": "k"})),
    ("eks-nodegroup-launch-template", NODE_GROUP, node_group, lambda p: p.pop("launchTemplate")),
    (
        "ec2-lt-imdsv2-hop-limit-1",
        LAUNCH_TEMPLATE,
        launch_template,
        lambda p: p["metadataOptions"].update(httpTokens="optional"),
    ),
    (
        "ec2-lt-imdsv2-hop-limit-1",
        LAUNCH_TEMPLATE,
        launch_template,
        lambda p: p["metadataOptions"].update(httpPutResponseHopLimit=2),
    ),
    (
        "ec2-lt-encrypted-private",
        LAUNCH_TEMPLATE,
        launch_template,
        lambda p: p["blockDeviceMappings"][0]["ebs"].update(encrypted="false"),
    ),
    (
        "ec2-lt-encrypted-private",
        LAUNCH_TEMPLATE,
        launch_template,
        lambda p: p["blockDeviceMappings"][0]["ebs"].pop("kmsKeyId"),
    ),
    (
        "ec2-lt-encrypted-private",
        LAUNCH_TEMPLATE,
        launch_template,
        lambda p: p.update(networkInterfaces=[{"associatePublicIpAddress": "true"}]),
    ),
]


@pytest.mark.parametrize(
    ("name", "token", "factory", "mutate"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_policy_both_ways(name: str, token: str, factory: Any, mutate: Any) -> None:
    policy = policy_by_name(eks.POLICIES, name)
    assert violations(policy, token, factory()) == []
    props = factory()
    mutate(props)
    assert violations(policy, token, props), f"{name} missed the mutation"


def test_dev_config_allows_a_narrow_public_endpoint_only() -> None:
    policy = policy_by_name(eks.POLICIES, "eks-endpoint-private")
    props = cluster()
    props["vpcConfig"].update(endpointPublicAccess=True, publicAccessCidrs=["203.0.113.0/24"])
    assert violations(policy, CLUSTER, props, {"allowPublicEndpoint": True}) == []
    props["vpcConfig"]["publicAccessCidrs"] = ["0.0.0.0/0"]
    assert violations(policy, CLUSTER, props, {"allowPublicEndpoint": True})


def test_log_group_needs_retention_and_kms() -> None:
    policy = policy_by_name(eks.POLICIES, "eks-control-plane-logging")
    good = {"name": "/aws/eks/c/cluster", "retentionInDays": 90, "kmsKeyId": "arn:k"}
    assert violations(policy, LOG_GROUP, good) == []
    assert len(violations(policy, LOG_GROUP, {"name": "/aws/eks/c/cluster"})) == 2


def test_iam_no_star_admin() -> None:
    policy = policy_by_name(eks.POLICIES, "iam-no-star-admin")
    scoped = {
        "policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": ["eks:DescribeNodegroup"], "Resource": "*"}]})
    }
    assert violations(policy, "aws:iam/policy:Policy", scoped) == []
    admin = {"policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})}
    assert violations(policy, "aws:iam/policy:Policy", admin)
    service_star = {"policy": json.dumps({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}})}
    assert violations(policy, "aws:iam/policy:Policy", service_star)


def _attachment(role: PolicyResource, policy_arn: str) -> PolicyResource:
    return PolicyResource(
        ROLE_ATTACHMENT,
        {"policyArn": policy_arn, "role": "r"},
        "urn:att",
        "att",
        OPTS,
        None,
        None,
        [role],
        {"role": [role]},
    )


def test_node_role_minimal_uses_property_dependencies() -> None:
    policy = policy_by_name(eks.POLICIES, "eks-node-role-minimal")
    node_role = PolicyResource(
        ROLE,
        {"assumeRolePolicy": '{"Principal": {"Service": "ec2.amazonaws.com"}}'},
        "urn:role",
        "node",
        OPTS,
        None,
        None,
        [],
        {},
    )
    irsa_role = PolicyResource(
        ROLE,
        {"assumeRolePolicy": '{"Principal": {"Federated": "oidc"}}'},
        "urn:irsa",
        "irsa",
        OPTS,
        None,
        None,
        [],
        {},
    )
    found: list[str] = []
    resources = [
        node_role,
        irsa_role,
        _attachment(node_role, "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"),
        _attachment(irsa_role, "arn:aws:iam::aws:policy/AmazonS3FullAccess"),
    ]
    policy.validate(StackValidationArgs(resources, {}), lambda m, urn=None: found.append(m))
    assert found == []
    resources.append(_attachment(node_role, "arn:aws:iam::aws:policy/AmazonS3FullAccess"))
    policy.validate(StackValidationArgs(resources, {}), lambda m, urn=None: found.append(m))
    assert len(found) == 1


def test_supported_versions_match_the_settings() -> None:
    from components.core.settings import SUPPORTED_K8S_VERSIONS

    assert tuple(eks.SUPPORTED) == SUPPORTED_K8S_VERSIONS


# 61b ------------------------------------------------------------------------------------------
OIDC = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE"


def irsa_trust(condition: dict[str, Any] | None = None) -> dict[str, Any]:
    cond = condition or {
        "StringEquals": {f"{OIDC}:aud": "sts.amazonaws.com", f"{OIDC}:sub": "system:serviceaccount:kube-system:x"}
    }
    statement = {
        "Effect": "Allow",
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{OIDC}"},
        "Condition": cond,
    }
    return {"assumeRolePolicy": json.dumps({"Version": "2012-10-17", "Statement": [statement]})}


def trust(principal: Any, condition: dict[str, Any] | None = None, action: Any = "sts:AssumeRole") -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Principal": principal}
    if condition:
        statement["Condition"] = condition
    return {"assumeRolePolicy": json.dumps({"Statement": [statement]})}


def test_role_trust_names_principals_and_service_accounts() -> None:
    policy = policy_by_name(eks.POLICIES, "iam-role-trust-scoped")
    # Compliant: IRSA checking aud and sub, a service, an account, Pod Identity naming the ServiceAccount.
    assert violations(policy, ROLE, irsa_trust()) == []
    assert violations(policy, ROLE, trust({"Service": "ec2.amazonaws.com"})) == []
    assert violations(policy, ROLE, trust({"AWS": "arn:aws:iam::123456789012:root"})) == []
    pod_identity = {"Service": "pods.eks.amazonaws.com"}
    named_sa = {"StringEquals": {"aws:RequestTag/kubernetes-service-account": "trainer"}}
    assert violations(policy, ROLE, trust(pod_identity, named_sa, ["sts:AssumeRole", "sts:TagSession"])) == []
    namespaced = irsa_trust({"StringLike": {f"{OIDC}:sub": "system:serviceaccount:training:*"}})
    assert violations(policy, ROLE, namespaced) == []
    # Violating: anyone, any account, aud without sub, a wildcard sub, Pod Identity without the SA.
    for principal in ("*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::123456789012:root", "*"]}):
        found = violations(policy, ROLE, trust(principal))
        assert len(found) == 1 and "Principal" in found[0], principal
    aud_only = violations(policy, ROLE, irsa_trust({"StringEquals": {f"{OIDC}:aud": "sts.amazonaws.com"}}))
    assert len(aud_only) == 1 and "sub" in aud_only[0]
    assert violations(policy, ROLE, irsa_trust({"StringLike": {f"{OIDC}:sub": "system:serviceaccount:*"}}))
    assert violations(policy, ROLE, irsa_trust({"StringNotEquals": {f"{OIDC}:sub": "system:serviceaccount:a:b"}}))
    assert violations(policy, ROLE, trust(pod_identity, None, ["sts:AssumeRole", "sts:TagSession"]))
    assert violations(policy, ROLE, {"assumeRolePolicy": "{not json"}) == []  # IAM refuses it itself
    # A Deny naming everyone restricts; it is not a grant.
    deny = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}]}
    assert violations(policy, ROLE, {"assumeRolePolicy": json.dumps(deny)}) == []


def test_role_trust_messages_never_quote_the_policy() -> None:
    policy = policy_by_name(eks.POLICIES, "iam-role-trust-scoped")
    found = violations(policy, ROLE, irsa_trust({"StringEquals": {f"{OIDC}:aud": "sts.amazonaws.com"}}))
    assert found and all(OIDC not in m and "sts.amazonaws.com" not in m for m in found)
