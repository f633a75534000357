"""Section L of ``policies/RULES.md``: hardening found by a CIS EKS / EKS Best Practices review of the
prod plan (rules 83–89).

Cluster-admin access goes only to allowlisted principals, and edit access only to namespaces (84).
The VPC CNI manages ENIs with its own IRSA role, never the node role's (83): otherwise anything that
reaches a node's instance profile can create and attach ENIs account-wide. KEDA reads Secrets only
in its own namespace (87): the chart's default lets its operator list and watch every Secret in the
cluster. Every namespace we create, system ones too, starts from default-deny (86): a compromised
controller then reaches only what its chart needs. Model weights are served and staged at a Hub
commit SHA (88): a branch moves upstream, so two replicas of one fleet could serve different weights
nobody reviewed. Tenant namespaces cannot run pods at Kubernetes' system PriorityClasses (85): a
quota of zero pods scoped to those classes, enforced at admission. ``iam-csi-policies-scoped`` (no
rule number) keeps the EBS CSI driver on the tag-scoped V2 managed policy (V1 lets it modify any
volume in the account) and the EFS CSI driver off the managed policy that covers every file system.
A VPC records its traffic and its default security group admits nothing (89): flow logs are the only
record of what a compromised pod talked to, and the default group is where an ENI lands when someone
forgets to name one. ``kms-keys-guarded`` (no rule number): any IAM admin could otherwise disable or
delete a key and with it every volume, log and Secret under it. It holds for the keys the stack
protects (prod's, kept with the data they encrypt); an unprotected key is deleted with its stack by
whoever destroys it, which a guard naming the first deployer would refuse. And the key that wraps Kubernetes
Secrets is used by the EKS grant alone, so no data-path role can unwrap Secrets. Resources are
matched through their property dependencies (which VPC a flow log's ``vpcId`` came from), so the
rule runs in a first preview too, before any id exists.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from typing import Any

from pulumi_policy import EnforcementLevel, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

from aiinfra_policies.common import (
    Report,
    RulePolicy,
    Subject,
    containers,
    get_path,
    is_node_role,
    is_set,
    namespace_of,
    policy,
)
from aiinfra_policies.constants import (
    ACCESS_POLICY_ASSOCIATION,
    ADDON,
    CLUSTER,
    DEFAULT_SG,
    FLOW_LOG,
    HELM_RELEASE,
    KMS_KEY,
    NAMESPACE,
    NETWORK_POLICY,
    RESOURCE_QUOTA,
    ROLE,
    ROLE_ATTACHMENT,
    VPC,
    WORKLOAD_TYPES,
)
from aiinfra_policies.network import is_default_deny

CNI_POLICY = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"


# 83 ------------------------------------------------------------------------------------------
def _vpc_cni_irsa(args: StackValidationArgs, report: Report) -> None:
    for r in args.resources:
        if (
            r.resource_type == ADDON
            and r.props.get("addonName") == "vpc-cni"
            and not is_set(r.props, "serviceAccountRoleArn")
        ):
            report("The vpc-cni add-on needs serviceAccountRoleArn: an IRSA role for kube-system:aws-node.", r.urn)
        elif r.resource_type == ROLE_ATTACHMENT:
            # The role first: a policy ARN unknown at preview is a policy this stack creates
            # (never the AWS-managed CNI policy), and only node roles' attachments are read.
            roles = [d for d in r.property_dependencies.get("role", []) if d.resource_type == ROLE]
            if any(is_node_role(role) for role in roles) and r.props.get("policyArn") == CNI_POLICY:
                report("AmazonEKS_CNI_Policy must not be on a node role; attach it to aws-node's IRSA role.", r.urn)


M = EnforcementLevel.MANDATORY
A = EnforcementLevel.ADVISORY


# no number: scoped CSI policies ----------------------------------------------------------------
BROAD_POLICIES = frozenset(
    {
        "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
        "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy",
    }
)


def _csi_scoped(r: Subject, report: Report) -> None:
    try:
        arn = r.props.get("policyArn")
    except UnknownValueError:
        return  # a policy this stack creates, never an AWS-managed one
    if arn in BROAD_POLICIES:
        report("Use AmazonEBSCSIDriverPolicyV2 (tag-scoped) for EBS, and an EFS CSI policy scoped to the file system.")


# 84 ------------------------------------------------------------------------------------------
CLUSTER_ADMIN = "AmazonEKSClusterAdminPolicy"
NAMESPACED_ONLY = ("AmazonEKSAdminPolicy", "AmazonEKSEditPolicy")


def _access_allowlist(r: Subject, report: Report) -> None:
    policy_name = str(r.props.get("policyArn", "")).rsplit("/", 1)[-1]
    scope = get_path(r.props, "accessScope.type")
    if policy_name == CLUSTER_ADMIN:
        allowed = r.config.get("clusterAdmins", [])
        if not any(fnmatchcase(str(r.props.get("principalArn", "")), pattern) for pattern in allowed):
            report(
                "principalArn is not an allowed cluster admin: list it in the policy's clusterAdmins, or grant Edit."
            )
    elif policy_name in NAMESPACED_ONLY and scope != "namespace":
        report("accessScope.type must be namespace for the EKS Admin and Edit access policies.")


# 85 ------------------------------------------------------------------------------------------
SYSTEM_CLASSES = frozenset({"system-cluster-critical", "system-node-critical"})


def _guarded(quota: object) -> set[str]:
    """The PriorityClasses a quota holds at zero pods."""
    props = getattr(quota, "props", {})
    if get_path(props, "spec.hard.pods") not in ("0", 0):
        return set()
    denied: set[str] = set()
    for expr in get_path(props, "spec.scopeSelector.matchExpressions") or []:
        if expr.get("scopeName") == "PriorityClass" and expr.get("operator") == "In":
            denied |= set(expr.get("values") or [])
    return denied


def _priority_scoped(args: StackValidationArgs, report: Report) -> None:
    quotas = [r for r in args.resources if r.resource_type == RESOURCE_QUOTA]
    tenants = {namespace_of(q.props) for q in quotas}  # namespaces with quotas are tenants
    for r in args.resources:
        name = get_path(r.props, "metadata.name") if r.resource_type == NAMESPACE else None
        if name is None or name not in tenants:
            continue
        guarded = set().union(*(_guarded(q) for q in quotas if namespace_of(q.props) == name))
        if not guarded >= SYSTEM_CLASSES:
            report(
                "The namespace needs a ResourceQuota with pods: 0 scoped to PriorityClass In "
                "[system-cluster-critical, system-node-critical] (and classes it may not use).",
                r.urn,
            )


# 88 ------------------------------------------------------------------------------------------
HF_COMMIT = re.compile(r"[0-9a-f]{40}")
STAGED_REVISION = re.compile(r'"revision":\s*"([^"]*)"')


def _server_revision(args: list[Any]) -> str | None:
    """The value of ``--revision`` (``--revision X`` or ``--revision=X``) in a server command line."""
    for i, arg in enumerate(args):
        text = str(arg)
        if text == "--revision" and i + 1 < len(args):
            return str(args[i + 1])
        if text.startswith("--revision="):
            return text.split("=", 1)[1]
    return None


HUB_SERVERS = (("vllm", "serve"), ("-m", "sglang.launch_server"))
"""Command-line starts of the engines that load a Hub checkpoint by revision (vLLM, SGLang)."""


def _serves_hub_model(line: list[str]) -> bool:
    head = line[:3]
    return any(a in head and b in head for a, b in HUB_SERVERS)


def _model_revision_pinned(subject: Subject, report: Report) -> None:
    for kind, container in containers(subject.pod):
        where = f"{subject.pod_path}.{kind}"
        try:
            line = [str(a) for a in [*(container.get("command") or []), *(container.get("args") or [])]]
        except UnknownValueError:
            continue  # computed at preview: judged on update
        if _serves_hub_model(line):
            revision = _server_revision(line)
            if revision is None or not HF_COMMIT.fullmatch(revision):
                report(f"{where}: the server must serve --revision <40-hex commit SHA> (a branch can move upstream).")
        for text in line:
            if "snapshot_download" in text:
                staged = STAGED_REVISION.findall(text)
                if not staged or not all(HF_COMMIT.fullmatch(r) for r in staged):
                    report(f"{where}: weights must be downloaded at a 40-hex commit SHA, not a branch or tag.")


# 86 ------------------------------------------------------------------------------------------
def _every_namespace_default_deny(args: StackValidationArgs, report: Report) -> None:
    denied = {
        namespace_of(r.props) for r in args.resources if r.resource_type == NETWORK_POLICY and is_default_deny(r.props)
    }
    for r in args.resources:
        if r.resource_type != NAMESPACE:
            continue
        try:
            name = get_path(r.props, "metadata.name")
        except UnknownValueError:
            continue  # computed at preview: judged on update
        if isinstance(name, str) and name not in denied:
            report(
                "The namespace needs a default-deny NetworkPolicy (empty podSelector, both types) plus the allows "
                "its pods need (components/specs/system_network.py for system namespaces).",
                r.urn,
            )


# 87 ------------------------------------------------------------------------------------------
def _keda_restrict_secrets(r: Subject, report: Report) -> None:
    if r.props.get("chart") != "keda":
        return
    for part in ("operator", "metricServer"):
        if get_path(r.props.get("values") or {}, f"permissions.{part}.restrict.secret") is not True:
            report(
                f"values.permissions.{part}.restrict.secret must be true (KEDA reads Secrets in its namespace only)."
            )


# 89 ------------------------------------------------------------------------------------------
def _vpc_urns(r: object, key: str) -> set[str]:
    deps = getattr(r, "property_dependencies", {}).get(key, [])
    return {d.urn for d in deps if d.resource_type == VPC}


def _vpc_flow_logs(args: StackValidationArgs, report: Report) -> None:
    logged = {u for r in args.resources if r.resource_type == FLOW_LOG for u in _vpc_urns(r, "vpcId")}
    closed = {
        u
        for r in args.resources
        if r.resource_type == DEFAULT_SG and not r.props.get("ingress") and not r.props.get("egress")
        for u in _vpc_urns(r, "vpcId")
    }
    for vpc in (r for r in args.resources if r.resource_type == VPC):
        if vpc.urn not in logged:
            report("The VPC needs an aws.ec2.FlowLog (traffic type ALL) delivering to an encrypted log group.", vpc.urn)
        if vpc.urn not in closed:
            report(
                "The VPC's default security group must be adopted with no rules (aws.ec2.DefaultSecurityGroup).",
                vpc.urn,
            )


# — (kms-keys-guarded) ---------------------------------------------------------------------------
GUARDED_ACTIONS = frozenset({"kms:DisableKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"})
KEY_ALIAS = "aws:kms/alias:Alias"


def _key_guarded(policy_json: str) -> bool:
    """Whether a key policy denies disabling, deleting and re-policying to all but named principals."""
    try:
        statements = json.loads(policy_json).get("Statement", [])
    except (ValueError, AttributeError):
        return False
    for st in statements if isinstance(statements, list) else [statements]:
        actions = st.get("Action", [])
        actions = {actions} if isinstance(actions, str) else set(actions)
        principal_condition = any("aws:PrincipalArn" in (c or {}) for c in (st.get("Condition") or {}).values())
        if st.get("Effect") == "Deny" and principal_condition and ("kms:*" in actions or actions >= GUARDED_ACTIONS):
            return True
    return False


def _kms_keys_guarded(args: StackValidationArgs, report: Report) -> None:
    secrets_keys = {
        d.urn
        for r in args.resources
        if r.resource_type == CLUSTER
        for d in r.property_dependencies.get("encryptionConfig", [])
        if d.resource_type == KMS_KEY
    }
    for r in args.resources:
        if r.resource_type == KMS_KEY:
            if not r.opts.protect:
                # An unprotected key is one the stack deletes with itself (dev: whoever runs
                # `pulumi destroy` schedules its deletion); a guard would refuse that teammate.
                continue
            try:
                policy_json = r.props.get("policy")
            except UnknownValueError:
                continue  # computed at preview: judged on update
            if not isinstance(policy_json, str) or not _key_guarded(policy_json):
                report(
                    "The key policy must deny kms:DisableKey, kms:ScheduleKeyDeletion and kms:PutKeyPolicy to "
                    "every principal but the key admins (components/specs/aws_iam.py key_admin_guard).",
                    r.urn,
                )
        elif r.resource_type not in (CLUSTER, KEY_ALIAS) and any(
            d.urn in secrets_keys for deps in r.property_dependencies.values() for d in deps
        ):
            report(
                "The key that envelope-encrypts Kubernetes Secrets must encrypt nothing else; use the data key.",
                r.urn,
            )


POLICIES: list[RulePolicy] = [
    policy(
        "vpc-cni-irsa",
        rule="83",
        description="The VPC CNI uses its own IRSA role; node roles carry no CNI policy.",
        remediation="Give the vpc-cni add-on serviceAccountRoleArn (components/eks_cluster.py does).",
        level=A,
        severity="medium",
        standard="EKS Best Practices (IAM: aws-node IRSA); CIS EKS 5.2.1",
        stack=True,
        check=_vpc_cni_irsa,
    ),
    policy(
        "iam-csi-policies-scoped",
        rule=None,
        section="L",
        description="CSI drivers use the tag-scoped managed policies.",
        remediation="Use AmazonEBSCSIDriverPolicyV2 (components/specs/aws_iam.py EBS_CSI_POLICY).",
        level=A,
        severity="medium",
        standard="AWS managed policies AmazonEBSCSIDriverPolicyV2 / AmazonEFSCSIDriverPolicy",
        types={ROLE_ATTACHMENT},
        check=_csi_scoped,
    ),
    policy(
        "kms-keys-guarded",
        rule=None,
        section="L",
        description="Only key admins can disable, delete or re-policy a protected KMS key; Secrets have a key of "
        "their own.",
        remediation="Build keys with components/specs/aws_iam.py (key_admin_guard) and list "
        "cluster.eks.adminPrincipalArns or keyAdminPrincipalArns.",
        level=A,
        severity="medium",
        standard="AWS KMS best practices (key policies, least privilege); EKS Best Practices (encryption)",
        stack=True,
        check=_kms_keys_guarded,
    ),
    policy(
        "eks-access-policy-allowlist",
        rule="84",
        description="Cluster-admin access goes to allowlisted principals only; edit access is namespace-scoped.",
        remediation="Use operatorPrincipalArns (edit in workload namespaces) for everyone but the admins.",
        level=A,
        severity="high",
        standard="CIS EKS 4.1.1/4.1.7",
        types={ACCESS_POLICY_ASSOCIATION},
        schema={
            "clusterAdmins": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Principal ARN patterns (fnmatch) allowed AmazonEKSClusterAdminPolicy.",
            }
        },
        check=_access_allowlist,
    ),
    policy(
        "priorityclass-scoped",
        rule="85",
        description="Tenant namespaces cannot run pods at PriorityClasses they may not use.",
        remediation="Create namespaces with components/namespaces.py (quota priority-guard).",
        level=A,
        severity="medium",
        standard="EKS Best Practices (multi-tenancy: priority quotas)",
        stack=True,
        check=_priority_scoped,
    ),
    policy(
        "model-revision-pinned",
        rule="88",
        description="Model weights are served and staged at a Hugging Face commit SHA, never a branch.",
        remediation="Set models.<name>.revision to the model repository's 40-hex commit SHA.",
        level=A,
        severity="medium",
        standard="CIS EKS 5.1.4 (supply chain); Hugging Face Hub revisions",
        types=WORKLOAD_TYPES,
        check=_model_revision_pinned,
        exclude_namespaces=True,
    ),
    policy(
        "k8s-every-namespace-default-deny",
        rule="86",
        description="Every namespace the stack creates, system ones too, has a default-deny NetworkPolicy.",
        remediation="Create namespaces with components/namespaces.py (system namespaces get the system policies).",
        level=A,
        severity="medium",
        standard="CIS EKS 5.4.4; EKS Best Practices (network)",
        stack=True,
        check=_every_namespace_default_deny,
    ),
    policy(
        "keda-restrict-secrets",
        rule="87",
        description="KEDA may read Secrets only in its own namespace.",
        remediation=(
            "Install KEDA from its add-on record, components/specs/addons/keda.py "
            "(restrict.secret for the operator and metrics server)."
        ),
        level=A,
        severity="medium",
        standard="kedacore/charts minimal-rbac.yaml; CIS EKS 4.1.2",
        types={HELM_RELEASE},
        check=_keda_restrict_secrets,
    ),
    policy(
        "vpc-flow-logs",
        rule="89",
        description="Every VPC has flow logs, and its default security group has no rules.",
        remediation="Build VPCs with components/network.py (flow logs with their own key, default group emptied).",
        level=A,
        severity="medium",
        standard="EKS Best Practices (network); Security Hub EC2.6/EC2.2",
        stack=True,
        check=_vpc_flow_logs,
    ),
]
