"""Section H (EKS control plane and node groups) and the cluster-level rules of D, E, F, G.

Rules 27, 33, 41, 43b, 52, 53–61. Thresholds that differ per environment (public endpoint,
required log types, KMS deletion window, creator admin) come from the policy config, so the
same code runs advisory in dev and mandatory in prod with ``policies/<env>.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    StackValidationArgs,
)

from aiinfra_policies.common import Report, get_path, stack_policy, typed_policy

M = EnforcementLevel.MANDATORY
A = EnforcementLevel.ADVISORY

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ADDON = "aws:eks/addon:Addon"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KMS_KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
IAM_POLICY_TYPES = frozenset({"aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy"})
ALL_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
GPU_AMI_TYPES = frozenset(
    {"AL2_x86_64_GPU", "AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA", "BOTTLEROCKET_ARM_64_NVIDIA"}
)
NODE_ROLE_ALLOWED = frozenset(
    "arn:aws:iam::aws:policy/" + p
    for p in (
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryReadOnly",
        "AmazonSSMManagedInstanceCore",
    )
)


# 27 ------------------------------------------------------------------------------------------
def _is_gpu_node_group(props: Mapping[str, Any]) -> bool:
    types = props.get("instanceTypes") or []
    return props.get("amiType") in GPU_AMI_TYPES or any(str(t).startswith(("g", "p")) for t in types)


def _gpu_tainted(props: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    if _is_gpu_node_group(props) and not any(
        t.get("key") == "nvidia.com/gpu" and t.get("effect") == "NO_SCHEDULE" for t in props.get("taints") or []
    ):
        report("taints must include key nvidia.com/gpu with effect NO_SCHEDULE.")


# 33 ------------------------------------------------------------------------------------------
def _cni_network_policy(props: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    if props.get("addonName") != "vpc-cni":
        return
    try:
        values = json.loads(props.get("configurationValues") or "{}")
    except ValueError:
        values = {}
    if str(values.get("enableNetworkPolicy")).lower() != "true":
        report('configurationValues must set enableNetworkPolicy: "true" (otherwise NetworkPolicies are ignored).')


# 41 ------------------------------------------------------------------------------------------
def _access_entries(props: Mapping[str, Any], config: Mapping[str, Any], report: Report) -> None:
    access = props.get("accessConfig") or {}
    if access.get("authenticationMode") not in ("API", "API_AND_CONFIG_MAP"):
        report("accessConfig.authenticationMode must be API (access entries, not aws-auth).")
    if config.get("forbidCreatorAdmin", True) and access.get("bootstrapClusterCreatorAdminPermissions") is not False:
        report("accessConfig.bootstrapClusterCreatorAdminPermissions must be false; grant admins via access entries.")


# 43b -----------------------------------------------------------------------------------------
def _secrets_encryption(props: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    enc = props.get("encryptionConfig") or {}
    if "secrets" not in (enc.get("resources") or []) or not get_path(enc, "provider.keyArn"):
        report("encryptionConfig must encrypt resources [secrets] with a customer KMS key (provider.keyArn).")


# 52 ------------------------------------------------------------------------------------------
def _kms_hygiene(props: Mapping[str, Any], config: Mapping[str, Any], report: Report) -> None:
    if props.get("enableKeyRotation") is not True:
        report("enableKeyRotation must be true.")
    if props.get("bypassPolicyLockoutSafetyCheck") is True:
        report("bypassPolicyLockoutSafetyCheck must not be true.")
    window = props.get("deletionWindowInDays")
    if not isinstance(window, int | float) or window < config.get("minDeletionWindowDays", 30):
        report("deletionWindowInDays must be at least the configured minimum (30 in prod).")
    if not props.get("description"):
        report("description must say what the key protects.")
    policy = props.get("policy")
    if isinstance(policy, str) and policy:
        for stmt in json.loads(policy).get("Statement", []):
            principal = stmt.get("Principal")
            wildcard = principal == "*" or (isinstance(principal, Mapping) and principal.get("AWS") == "*")
            if stmt.get("Effect") == "Allow" and wildcard and not stmt.get("Condition"):
                report("policy must not allow Principal * without a Condition.")


# 53 ------------------------------------------------------------------------------------------
def _endpoint(props: Mapping[str, Any], config: Mapping[str, Any], report: Report) -> None:
    vpc = props.get("vpcConfig") or {}
    if vpc.get("endpointPrivateAccess") is not True:
        report("vpcConfig.endpointPrivateAccess must be true.")
    if vpc.get("endpointPublicAccess") is not False:
        if not config.get("allowPublicEndpoint", False):
            report("vpcConfig.endpointPublicAccess must be false (reach the API over the tailnet).")
        cidrs = vpc.get("publicAccessCidrs") or []
        if not cidrs or any(c in ("0.0.0.0/0", "::/0") for c in cidrs):
            report("vpcConfig.publicAccessCidrs must list narrow CIDRs (never 0.0.0.0/0) when the endpoint is public.")


# 54 ------------------------------------------------------------------------------------------
def _logging(props: Mapping[str, Any], config: Mapping[str, Any], report: Report) -> None:
    missing = set(config.get("requiredLogTypes", ALL_LOG_TYPES)) - set(props.get("enabledClusterLogTypes") or [])
    if missing:
        report("enabledClusterLogTypes is missing required control-plane log types.")


def _log_group(props: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    name = props.get("name")
    if isinstance(name, str) and name.startswith("/aws/eks/") and name.endswith("/cluster"):
        if not props.get("retentionInDays"):
            report("retentionInDays must be set on the EKS control-plane log group.")
        if not props.get("kmsKeyId"):
            report("kmsKeyId must encrypt the EKS control-plane log group.")


def _control_plane_logging(props: Mapping[str, Any], config: Mapping[str, Any], report: Report) -> None:
    # One rule, two resources: the cluster (log types) and its log group (retention, KMS).
    if "vpcConfig" in props:
        _logging(props, config, report)
    else:
        _log_group(props, config, report)


# 55 ------------------------------------------------------------------------------------------
SUPPORTED = ["1.32", "1.33", "1.34", "1.35"]


def _version(props: Mapping[str, Any], config: Mapping[str, Any], report: Report) -> None:
    if props.get("version") not in config.get("supportedVersions", SUPPORTED):
        report("version must be one of the supported EKS versions in the policy config.")


# 56, 57 --------------------------------------------------------------------------------------
def _no_ssh(props: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    if props.get("remoteAccess"):
        report("remoteAccess must be unset: use SSM Session Manager, not SSH.")


def _launch_template(props: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    if not props.get("launchTemplate"):
        report("launchTemplate must be set so IMDSv2 and volume encryption are enforced.")


# 58, 59 --------------------------------------------------------------------------------------
def _imdsv2(props: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    md = props.get("metadataOptions") or {}
    if md.get("httpTokens") != "required":
        report("metadataOptions.httpTokens must be required (IMDSv2 only).")
    if md.get("httpPutResponseHopLimit") != 1:
        report("metadataOptions.httpPutResponseHopLimit must be 1 so pods cannot reach node credentials.")
    if md.get("httpEndpoint") not in ("enabled", None):
        report("metadataOptions.httpEndpoint must be enabled (nodes need IMDS to join).")


def _lt_encrypted(props: Mapping[str, Any], config: Mapping[str, Any], report: Report) -> None:
    for i, bdm in enumerate(props.get("blockDeviceMappings") or []):
        ebs = bdm.get("ebs") or {}
        if str(ebs.get("encrypted")).lower() != "true":
            report(f'blockDeviceMappings[{i}].ebs.encrypted must be "true".')
        elif config.get("requireCmk", True) and not ebs.get("kmsKeyId"):
            report(f"blockDeviceMappings[{i}].ebs.kmsKeyId must name a customer KMS key.")
    for i, nic in enumerate(props.get("networkInterfaces") or []):
        if str(nic.get("associatePublicIpAddress")).lower() == "true":
            report(f"networkInterfaces[{i}].associatePublicIpAddress must not be true.")


# 60 ------------------------------------------------------------------------------------------
def _node_role_minimal(args: StackValidationArgs, report: Report) -> None:
    for r in args.resources:
        if r.resource_type != ROLE_ATTACHMENT:
            continue
        roles = [d for d in r.property_dependencies.get("role", []) if d.resource_type == ROLE]
        node_role = any("ec2.amazonaws.com" in str(role.props.get("assumeRolePolicy", "")) for role in roles)
        if node_role and r.props.get("policyArn") not in NODE_ROLE_ALLOWED:
            report("Node roles may only carry the EKS worker, CNI, ECR read-only and SSM policies; use IRSA.", r.urn)


# 61 ------------------------------------------------------------------------------------------
def _no_star(props: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    raw = props.get("policy")
    if not isinstance(raw, str) or not raw:
        return
    statements = json.loads(raw).get("Statement", [])
    for stmt in statements if isinstance(statements, list) else [statements]:
        if stmt.get("Effect") != "Allow":
            continue
        actions = stmt.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = stmt.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if "*" in actions or (any(a.endswith(":*") for a in actions) and "*" in resources):
            report("policy must not Allow Action * (or service:*) on Resource *; list the actions needed.")


POLICIES: list[Any] = [
    typed_policy(
        "eks-gpu-nodegroup-tainted",
        "GPU node groups must carry the nvidia.com/gpu NoSchedule taint.",
        frozenset({NODE_GROUP}),
        _gpu_tainted,
        A,
        "Add the GPU taint to the node group.",
    ),
    typed_policy(
        "eks-vpc-cni-network-policy-enabled",
        "The VPC CNI add-on must enforce NetworkPolicies.",
        frozenset({ADDON}),
        _cni_network_policy,
        A,
        'Set configurationValues {"enableNetworkPolicy": "true"}.',
    ),
    typed_policy(
        "eks-access-entries-least-privilege",
        "Cluster access must use access entries, not a creator admin.",
        frozenset({CLUSTER}),
        _access_entries,
        A,
        "Use authenticationMode API and explicit admin access entries.",
        {"forbidCreatorAdmin": {"type": "boolean", "default": True}},
    ),
    typed_policy(
        "eks-secrets-envelope-encryption-cmk",
        "Kubernetes secrets must be envelope-encrypted with a customer KMS key.",
        frozenset({CLUSTER}),
        _secrets_encryption,
        A,
        "Set encryptionConfig with the platform KMS key.",
    ),
    typed_policy(
        "kms-key-hygiene",
        "KMS keys must rotate, keep a deletion window and a safe policy.",
        frozenset({KMS_KEY}),
        _kms_hygiene,
        M,
        "Enable rotation, set a description and a 30-day window in prod.",
        {"minDeletionWindowDays": {"type": "integer", "default": 30}},
    ),
    typed_policy(
        "eks-endpoint-private",
        "The EKS API endpoint must be private (public only in dev, from narrow CIDRs).",
        frozenset({CLUSTER}),
        _endpoint,
        A,
        "Disable endpointPublicAccess; reach the API over the tailnet.",
        {"allowPublicEndpoint": {"type": "boolean", "default": False}},
    ),
    typed_policy(
        "eks-control-plane-logging",
        "EKS control-plane logs must be on and kept encrypted with retention.",
        frozenset({CLUSTER, LOG_GROUP}),
        _control_plane_logging,
        A,
        "Enable the required log types; give the log group retention and a KMS key.",
        {"requiredLogTypes": {"type": "array", "items": {"type": "string"}, "default": ALL_LOG_TYPES}},
    ),
    typed_policy(
        "eks-supported-version",
        "The EKS version must be in standard support.",
        frozenset({CLUSTER}),
        _version,
        A,
        "Upgrade the cluster to a supported version.",
        {"supportedVersions": {"type": "array", "items": {"type": "string"}, "default": SUPPORTED}},
    ),
    typed_policy(
        "eks-nodegroup-no-ssh",
        "Node groups must not open SSH.",
        frozenset({NODE_GROUP}),
        _no_ssh,
        M,
        "Remove remoteAccess; use SSM.",
    ),
    typed_policy(
        "eks-nodegroup-launch-template",
        "Node groups must use a launch template.",
        frozenset({NODE_GROUP}),
        _launch_template,
        A,
        "Give the node group a launch template.",
    ),
    typed_policy(
        "ec2-lt-imdsv2-hop-limit-1",
        "Launch templates must require IMDSv2 with hop limit 1.",
        frozenset({LAUNCH_TEMPLATE}),
        _imdsv2,
        M,
        "Set httpTokens required and httpPutResponseHopLimit 1.",
    ),
    typed_policy(
        "ec2-lt-encrypted-private",
        "Launch templates must encrypt volumes (with a CMK) and add no public IPs.",
        frozenset({LAUNCH_TEMPLATE}),
        _lt_encrypted,
        M,
        'Set ebs.encrypted "true" and kmsKeyId.',
        {"requireCmk": {"type": "boolean", "default": True}},
    ),
    stack_policy(
        "eks-node-role-minimal",
        "Node IAM roles must only hold the four node policies.",
        _node_role_minimal,
        level=A,
        remediation="Move workload permissions to IRSA roles.",
    ),
    typed_policy(
        "iam-no-star-admin",
        "IAM policies must not allow * actions on * resources.",
        IAM_POLICY_TYPES,
        _no_star,
        A,
        "List the specific actions and resources needed.",
    ),
]
