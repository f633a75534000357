"""Section H of ``policies/RULES.md``: the EKS control plane, node groups and their IAM (rules 53–61).

The control plane is reached over the tailnet, not the internet (53), and leaves an audit
trail (54) on a version AWS still patches (55). Nodes open no SSH (56) and boot from a launch
template (57) that forces IMDSv2 with hop limit 1, so pods cannot borrow the node role (58),
and encrypts its volumes without public IPs (59). The node role keeps only the node policies,
so workloads get their own IRSA roles (60), and no IAM policy grants ``*`` (61). A role's trust
policy never lets any principal assume it, and a web-identity (IRSA) or Pod Identity trust names
the ServiceAccount, not only the audience: otherwise every pod of the cluster takes the role (61b).

Thresholds that differ per environment (public endpoint, required log types, supported
versions) come from the policy config, so the same code runs advisory in dev and mandatory in
prod with ``policies/<env>.json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, StackValidationArgs

from aiinfra_policies.common import Report, RulePolicy, Subject, is_node_role, is_set, policy
from aiinfra_policies.constants import (
    CLUSTER,
    IAM_POLICY,
    LAUNCH_TEMPLATE,
    LOG_GROUP,
    NODE_GROUP,
    ROLE,
    ROLE_ATTACHMENT,
    ROLE_POLICY,
)

M = EnforcementLevel.MANDATORY
A = EnforcementLevel.ADVISORY

ALL_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
NODE_ROLE_ALLOWED = frozenset(
    "arn:aws:iam::aws:policy/" + p for p in ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly")
)
"""The CNI policy belongs on aws-node's IRSA role (rule 83); SSM's managed core policy reads every
Parameter Store value (nodes get an inline Session Manager policy instead)."""


# 53 ------------------------------------------------------------------------------------------
def _endpoint(r: Subject, report: Report) -> None:
    vpc = r.props.get("vpcConfig") or {}
    if vpc.get("endpointPrivateAccess") is not True:
        report("vpcConfig.endpointPrivateAccess must be true.")
    if vpc.get("endpointPublicAccess") is not False:
        if not r.config.get("allowPublicEndpoint", False):
            report("vpcConfig.endpointPublicAccess must be false (reach the API over the tailnet).")
        # Even where a public endpoint is allowed (dev), it must be fenced to known CIDRs.
        cidrs = vpc.get("publicAccessCidrs") or []
        if not cidrs or any(c in ("0.0.0.0/0", "::/0") for c in cidrs):
            report("vpcConfig.publicAccessCidrs must list narrow CIDRs (never 0.0.0.0/0) when the endpoint is public.")


# 54 ------------------------------------------------------------------------------------------
def _logging(r: Subject, report: Report) -> None:
    required = set(r.config.get("requiredLogTypes", ALL_LOG_TYPES))
    if required - set(r.props.get("enabledClusterLogTypes") or []):
        report("enabledClusterLogTypes is missing required control-plane log types.")


def _log_group(r: Subject, report: Report) -> None:
    name = r.props.get("name")
    if isinstance(name, str) and name.startswith("/aws/eks/") and name.endswith("/cluster"):
        if not r.props.get("retentionInDays"):
            report("retentionInDays must be set on the EKS control-plane log group.")
        if not is_set(r.props, "kmsKeyId"):
            report("kmsKeyId must encrypt the EKS control-plane log group.")


def _control_plane_logging(r: Subject, report: Report) -> None:
    # One rule, two resources: the cluster (log types) and its log group (retention, KMS).
    if "vpcConfig" in r.props:
        _logging(r, report)
    else:
        _log_group(r, report)


# 55 ------------------------------------------------------------------------------------------
SUPPORTED = ["1.32", "1.33", "1.34", "1.35"]
"""EKS versions in standard support; a test holds it equal to the program's settings."""


def _version(r: Subject, report: Report) -> None:
    if r.props.get("version") not in r.config.get("supportedVersions", SUPPORTED):
        report("version must be one of the supported EKS versions in the policy config.")


# 56, 57 --------------------------------------------------------------------------------------
def _no_ssh(r: Subject, report: Report) -> None:
    if r.props.get("remoteAccess"):
        report("remoteAccess must be unset: use SSM Session Manager, not SSH.")


def _launch_template(r: Subject, report: Report) -> None:
    if not r.props.get("launchTemplate"):
        report("launchTemplate must be set so IMDSv2 and volume encryption are enforced.")


# 58, 59 --------------------------------------------------------------------------------------
def _imdsv2(r: Subject, report: Report) -> None:
    md = r.props.get("metadataOptions") or {}
    if md.get("httpTokens") != "required":
        report("metadataOptions.httpTokens must be required (IMDSv2 only).")
    if md.get("httpPutResponseHopLimit") != 1:
        report("metadataOptions.httpPutResponseHopLimit must be 1 so pods cannot reach node credentials.")
    if md.get("httpEndpoint") not in ("enabled", None):
        report("metadataOptions.httpEndpoint must be enabled (nodes need IMDS to join).")


def _lt_encrypted(r: Subject, report: Report) -> None:
    # Launch template booleans are strings on the wire ("true"), hence the str() comparisons.
    for i, bdm in enumerate(r.props.get("blockDeviceMappings") or []):
        ebs = bdm.get("ebs") or {}
        if str(ebs.get("encrypted")).lower() != "true":
            report(f'blockDeviceMappings[{i}].ebs.encrypted must be "true".')
        elif r.config.get("requireCmk", True) and not is_set(ebs, "kmsKeyId"):
            report(f"blockDeviceMappings[{i}].ebs.kmsKeyId must name a customer KMS key.")
    for i, nic in enumerate(r.props.get("networkInterfaces") or []):
        if str(nic.get("associatePublicIpAddress")).lower() == "true":
            report(f"networkInterfaces[{i}].associatePublicIpAddress must not be true.")


# 60 ------------------------------------------------------------------------------------------
def _node_role_minimal(args: StackValidationArgs, report: Report) -> None:
    # A stack rule: only the attachment's ``role`` property dependency says which role it is on.
    for r in args.resources:
        if r.resource_type != ROLE_ATTACHMENT:
            continue
        roles = [d for d in r.property_dependencies.get("role", []) if d.resource_type == ROLE]
        node_role = any(is_node_role(role) for role in roles)
        if node_role and r.props.get("policyArn") not in NODE_ROLE_ALLOWED:
            report("Node roles may only carry the EKS worker and ECR read-only policies; use IRSA roles.", r.urn)


# 61 ------------------------------------------------------------------------------------------
def _no_star(r: Subject, report: Report) -> None:
    raw = r.props.get("policy")
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


# 61b -----------------------------------------------------------------------------------------
POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"
SA_SESSION_TAG = "aws:RequestTag/kubernetes-service-account"
"""The session tag EKS Pod Identity sets to the pod's ServiceAccount (its trust condition)."""
_ANY_SA = frozenset({"*", "system:serviceaccount:*", "system:serviceaccount:*:*"})


def _listed(value: Any) -> list[Any]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        return [value]
    return list(value)


def _trust_statements(document: Any) -> Iterator[tuple[int, Mapping[str, Any]]]:
    try:
        doc = json.loads(document) if isinstance(document, str) and document else document
    except ValueError:
        return  # not a policy document: IAM itself refuses it
    statements = doc.get("Statement", []) if isinstance(doc, Mapping) else []
    for i, stmt in enumerate(_listed(statements)):
        if isinstance(stmt, Mapping) and stmt.get("Effect") == "Allow":
            yield i, stmt


def _condition_values(stmt: Mapping[str, Any], suffix: str) -> list[str]:
    """Values of every condition key ending in ``suffix`` (any operator but a negated one)."""
    found: list[str] = []
    conditions = stmt.get("Condition") or {}
    for operator, block in conditions.items() if isinstance(conditions, Mapping) else []:
        if str(operator).startswith(("StringNot", "ForAnyValue:StringNot", "Null")) or not isinstance(block, Mapping):
            continue
        for key, value in block.items():
            if str(key).endswith(suffix):
                found += [str(v) for v in _listed(value)]
    return found


def _trust_scoped(r: Subject, report: Report) -> None:
    for i, stmt in _trust_statements(r.props.get("assumeRolePolicy")):
        principal = stmt.get("Principal")
        where = f"assumeRolePolicy.Statement[{i}]"
        aws = principal.get("AWS") if isinstance(principal, Mapping) else principal
        if principal == "*" or "*" in _listed(aws):
            report(f"{where}.Principal must name accounts, roles or services, not *: anyone could assume the role.")
            continue
        federated = _listed(principal.get("Federated")) if isinstance(principal, Mapping) else []
        services = _listed(principal.get("Service")) if isinstance(principal, Mapping) else []
        actions = _listed(stmt.get("Action"))
        web_identity = any(":oidc-provider/" in str(f) for f in federated) and any(
            a in ("sts:AssumeRoleWithWebIdentity", "sts:*", "*") for a in actions
        )
        if web_identity:
            subjects = _condition_values(stmt, ":sub")
            if not subjects or any(v in _ANY_SA for v in subjects):
                report(
                    f"{where}.Condition must check the token's sub (system:serviceaccount:<namespace>:<name>), "
                    "not only its aud: otherwise any ServiceAccount of the cluster takes the role."
                )
        if POD_IDENTITY_SERVICE in services:
            accounts = _condition_values(stmt, SA_SESSION_TAG)
            if not accounts or any(v == "*" for v in accounts):
                report(
                    f"{where}.Condition must name the ServiceAccount ({SA_SESSION_TAG}): otherwise any Pod "
                    "Identity association of the account's clusters takes the role."
                )


POLICIES: list[RulePolicy] = [
    policy(
        "eks-endpoint-private",
        rule="53",
        description="The EKS API endpoint must be private (public only in dev, from narrow CIDRs).",
        remediation="Disable endpointPublicAccess; reach the API over the tailnet.",
        level=A,
        severity="high",
        standard="CKV_AWS_38/39; Security Hub EKS.1; CIS EKS 5.4.1/5.4.2",
        types={CLUSTER},
        schema={"allowPublicEndpoint": {"type": "boolean", "default": False}},
        check=_endpoint,
    ),
    policy(
        "eks-control-plane-logging",
        rule="54",
        description="EKS control-plane logs must be on and kept encrypted with retention.",
        remediation="Enable the required log types; give the log group retention and a KMS key.",
        level=A,
        severity="medium",
        standard="CKV_AWS_37; Security Hub EKS.8; CIS EKS 2.1.1",
        types={CLUSTER, LOG_GROUP},
        schema={"requiredLogTypes": {"type": "array", "items": {"type": "string"}, "default": ALL_LOG_TYPES}},
        check=_control_plane_logging,
    ),
    policy(
        "eks-supported-version",
        rule="55",
        description="The EKS version must be in standard support.",
        remediation="Upgrade the cluster to a supported version.",
        level=A,
        severity="medium",
        standard="CKV_AWS_339; Security Hub EKS.2",
        types={CLUSTER},
        schema={"supportedVersions": {"type": "array", "items": {"type": "string"}, "default": SUPPORTED}},
        check=_version,
    ),
    policy(
        "eks-nodegroup-no-ssh",
        rule="56",
        description="Node groups must not open SSH.",
        remediation="Remove remoteAccess; use SSM.",
        level=M,
        severity="high",
        standard="CKV_AWS_100; CIS EKS 5.4.3",
        types={NODE_GROUP},
        check=_no_ssh,
    ),
    policy(
        "eks-nodegroup-launch-template",
        rule="57",
        description="Node groups must use a launch template.",
        remediation="Give the node group a launch template.",
        level=A,
        severity="low",
        standard="Pulumi CIS-K8s",
        types={NODE_GROUP},
        check=_launch_template,
    ),
    policy(
        "ec2-lt-imdsv2-hop-limit-1",
        rule="58",
        description="Launch templates must require IMDSv2 with hop limit 1.",
        remediation="Set httpTokens required and httpPutResponseHopLimit 1.",
        level=M,
        severity="high",
        standard="CKV_AWS_79/341; AWS Config ec2-launch-template-imdsv2-check",
        types={LAUNCH_TEMPLATE},
        check=_imdsv2,
    ),
    policy(
        "ec2-lt-encrypted-private",
        rule="59",
        description="Launch templates must encrypt volumes (with a CMK) and add no public IPs.",
        remediation='Set ebs.encrypted "true" and kmsKeyId.',
        level=M,
        severity="high",
        standard="compliance-policies launch template; CT.EC2.PR.9",
        types={LAUNCH_TEMPLATE},
        schema={"requireCmk": {"type": "boolean", "default": True}},
        check=_lt_encrypted,
    ),
    policy(
        "eks-node-role-minimal",
        rule="60",
        description="Node IAM roles hold only the EKS worker and ECR read-only managed policies.",
        remediation="Move workload permissions to IRSA roles.",
        level=A,
        severity="high",
        standard="CIS EKS 5.1.3/5.2.1",
        stack=True,
        check=_node_role_minimal,
    ),
    policy(
        "iam-no-star-admin",
        rule="61",
        description="IAM policies must not allow * actions on * resources.",
        remediation="List the specific actions and resources needed.",
        level=A,
        severity="high",
        standard="CKV_AWS_62/63/355",
        types={IAM_POLICY, ROLE_POLICY},
        check=_no_star,
    ),
    policy(
        "iam-role-trust-scoped",
        rule="61b",
        description="Role trust policies name their principals, and IRSA or Pod Identity trusts name the "
        "ServiceAccount.",
        remediation="Trust named accounts, roles or services; in an IRSA trust check <issuer>:sub as well as "
        ":aud (components/resources IRSA roles do); in a Pod Identity trust check the kubernetes-service-account "
        "session tag.",
        level=A,
        severity="critical",
        standard="CKV_AWS_60; EKS Best Practices (IAM: scope the IRSA trust to the ServiceAccount)",
        types={ROLE},
        check=_trust_scoped,
    ),
]
