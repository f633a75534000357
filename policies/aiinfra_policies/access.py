"""Section E of ``policies/RULES.md``: cluster access (rules 38–41).

Who may do what in the cluster must be visible in code and small. Kubernetes RBAC: no role grants
``*`` (38), since a wildcard also grants whatever the API adds later; no binding hands out
``cluster-admin`` or names the groups that mean "everyone" or "the break-glass admins", nor the
``default`` ServiceAccount every pod without its own account runs as (39); no role opens a known
path to more rights than it lists (binding or escalating roles, impersonation, exec into pods, the
kubelet proxy, Secrets cluster-wide, admission webhooks, certificate approval, minting tokens; 40).
A chart's controller that needs one of these is waived by name in the policy config
(``allowedRoles`` / ``allowedClusterAdminBindings``), never by loosening the rule. Objects a Helm
``Release`` installs never reach the pack (rule 75 allowlists the charts instead).

EKS access entries (41): the ``aws-auth`` ConfigMap is not a Pulumi resource, access entries are;
and the cluster creator's implicit admin grant is invisible in code and outlives whoever ran the
first ``pulumi up``. ``policies/dev.json`` allows that grant (``forbidCreatorAdmin: false``); prod
keeps the default and forbids it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import EnforcementLevel

from aiinfra_policies.common import Report, RulePolicy, Subject, get_path, policy
from aiinfra_policies.constants import (
    CLUSTER,
    RBAC_CLUSTER_ROLE,
    RBAC_CLUSTER_ROLE_BINDING,
    RBAC_ROLE,
    RBAC_ROLE_BINDING,
)

M = EnforcementLevel.MANDATORY
A = EnforcementLevel.ADVISORY

ROLES = frozenset({RBAC_ROLE, RBAC_CLUSTER_ROLE})
BINDINGS = frozenset({RBAC_ROLE_BINDING, RBAC_CLUSTER_ROLE_BINDING})
WILDCARD_FIELDS = ("apiGroups", "resources", "verbs", "nonResourceURLs")
FORBIDDEN_GROUPS = frozenset({"system:masters", "system:anonymous", "system:unauthenticated"})
"""``system:masters`` bypasses RBAC altogether; the other two are every caller, signed in or not."""
FORBIDDEN_USERS = frozenset({"system:anonymous"})


def _name(props: Mapping[str, Any]) -> Any:
    return get_path(props, "metadata.name")


def _rules(props: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for i, rule in enumerate(props.get("rules") or []):
        if isinstance(rule, Mapping):
            yield f"rules[{i}]", rule


def _waived(r: Subject, key: str) -> bool:
    allowed = r.config.get(key) or []
    return bool(allowed) and _name(r.props) in allowed


def _allowed_schema(key: str, what: str) -> dict[str, dict[str, Any]]:
    return {key: {"type": "array", "items": {"type": "string"}, "default": [], "description": what}}


# 38 ------------------------------------------------------------------------------------------
def _no_wildcards(r: Subject, report: Report) -> None:
    if _waived(r, "allowedRoles"):
        return
    for path, rule in _rules(r.props):
        for field in WILDCARD_FIELDS:
            if "*" in list(rule.get(field) or []):
                report(f"{path}.{field} must list what the role grants, not the wildcard *.")


# 39 ------------------------------------------------------------------------------------------
def _no_admin_binding(r: Subject, report: Report) -> None:
    ref = r.props.get("roleRef") or {}
    if (
        ref.get("kind") == "ClusterRole"
        and ref.get("name") == "cluster-admin"
        and not _waived(r, "allowedClusterAdminBindings")
    ):
        report("roleRef must not be the cluster-admin ClusterRole: bind a role granting only what the subjects need.")
    for i, subject in enumerate(r.props.get("subjects") or []):
        if not isinstance(subject, Mapping):
            continue
        kind, name = subject.get("kind"), subject.get("name")
        if (kind == "Group" and name in FORBIDDEN_GROUPS) or (kind == "User" and name in FORBIDDEN_USERS):
            report(
                f"subjects[{i}] must not be system:masters, system:anonymous or system:unauthenticated "
                "(RBAC bypass or every caller)."
            )
        elif kind == "ServiceAccount" and name == "default":
            report(f"subjects[{i}] must not be a default ServiceAccount: bind the workload's own ServiceAccount.")


# 40 ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Escalation:
    """A grant that reaches beyond what its role lists (CIS EKS 4.1.2/4.1.4; checkov CKV_K8S_155–158)."""

    what: str
    verbs: frozenset[str]
    groups: frozenset[str] | None
    """API groups (``""`` is the core group); ``None``: any group."""
    resources: frozenset[str] | None
    """Resources (``pods/exec`` style for subresources); ``None``: any resource."""
    cluster_only: bool = False
    """Only a ClusterRole opens this path (a Role is confined to its namespace)."""


ESCALATIONS = (
    Escalation(
        "bind or escalate roles",
        frozenset({"bind", "escalate"}),
        frozenset({"rbac.authorization.k8s.io"}),
        frozenset({"roles", "clusterroles"}),
    ),
    Escalation("impersonate users, groups or service accounts", frozenset({"impersonate"}), None, None),
    Escalation(
        "exec or attach into pods", frozenset({"create"}), frozenset({""}), frozenset({"pods/exec", "pods/attach"})
    ),
    Escalation("reach the kubelet API", frozenset({"get", "create"}), frozenset({""}), frozenset({"nodes/proxy"})),
    Escalation(
        "mint ServiceAccount tokens", frozenset({"create"}), frozenset({""}), frozenset({"serviceaccounts/token"})
    ),
    Escalation(
        "read Secrets cluster-wide",
        frozenset({"get", "list", "watch"}),
        frozenset({""}),
        frozenset({"secrets"}),
        cluster_only=True,
    ),
    Escalation(
        "change admission webhooks",
        frozenset({"create", "update", "patch", "delete"}),
        frozenset({"admissionregistration.k8s.io"}),
        frozenset({"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}),
    ),
    Escalation(
        "approve certificate signing requests",
        frozenset({"update", "patch"}),
        frozenset({"certificates.k8s.io"}),
        frozenset({"certificatesigningrequests/approval"}),
    ),
    Escalation("approve certificates for a signer", frozenset({"approve"}), frozenset({"certificates.k8s.io"}), None),
)


def _resource_matches(pattern: str, wanted: str) -> bool:
    """RBAC resource matching: ``*``, exact, ``pods/*`` (every subresource), ``*/scale``."""
    if pattern in ("*", wanted):
        return True
    if pattern.endswith("/*"):
        return wanted.startswith(pattern[:-1])
    return pattern.startswith("*/") and wanted.endswith(pattern[1:])


def grants(rule: Mapping[str, Any], path: Escalation) -> bool:
    verbs = set(rule.get("verbs") or [])
    if not ("*" in verbs or verbs & path.verbs):
        return False
    groups = set(rule.get("apiGroups") or [])
    if path.groups is not None and not ("*" in groups or groups & path.groups):
        return False
    resources = [str(x) for x in rule.get("resources") or []]
    if path.resources is None:
        return bool(resources)
    return any(_resource_matches(p, w) for p in resources for w in path.resources)


def _no_escalation(r: Subject, report: Report) -> None:
    if _waived(r, "allowedRoles"):
        return
    for rule_path, rule in _rules(r.props):
        for path in ESCALATIONS:
            if (not path.cluster_only or r.type == RBAC_CLUSTER_ROLE) and grants(rule, path):
                report(f"{rule_path} lets its holders {path.what}: grant that to a dedicated, reviewed role only.")


# 41 ------------------------------------------------------------------------------------------
def _access_entries(r: Subject, report: Report) -> None:
    access = r.props.get("accessConfig") or {}
    if access.get("authenticationMode") not in ("API", "API_AND_CONFIG_MAP"):
        report("accessConfig.authenticationMode must be API (access entries, not aws-auth).")
    if r.config.get("forbidCreatorAdmin", True) and access.get("bootstrapClusterCreatorAdminPermissions") is not False:
        report("accessConfig.bootstrapClusterCreatorAdminPermissions must be false; grant admins via access entries.")


_ALLOWED_ROLES = _allowed_schema("allowedRoles", "Role/ClusterRole names waived (a chart controller's reviewed role).")

POLICIES: list[RulePolicy] = [
    policy(
        "k8s-rbac-no-wildcards",
        rule="38",
        description="Roles and ClusterRoles list the API groups, resources and verbs they grant, never *.",
        remediation="Replace * with the exact apiGroups, resources and verbs the subject needs.",
        level=A,
        severity="high",
        standard="CKV_K8S_49; CIS EKS 4.1.3; Pulumi CIS-K8s k8s-rbac-wildcard-use-minimized",
        types=ROLES,
        exclude_namespaces=True,
        schema=_ALLOWED_ROLES,
        check=_no_wildcards,
    ),
    policy(
        "k8s-rbac-no-cluster-admin-binding",
        rule="39",
        description="No binding grants cluster-admin, or binds system:masters, anonymous callers or a default SA.",
        remediation="Bind a least-privilege role to the workload's own ServiceAccount or a named group.",
        level=M,
        severity="critical",
        standard="CIS EKS 4.1.1; CKV_K8S_42; Pulumi CIS-K8s k8s-cluster-admin-role-binding-minimized",
        types=BINDINGS,
        exclude_namespaces=True,
        schema=_allowed_schema("allowedClusterAdminBindings", "Binding names allowed to reference cluster-admin."),
        check=_no_admin_binding,
    ),
    policy(
        "k8s-rbac-no-escalation-paths",
        rule="40",
        description="Roles open no path to more rights (bind, impersonate, exec, node proxy, Secrets, webhooks).",
        remediation="Drop the grant, or give it to a dedicated role listed in the policy's allowedRoles after review.",
        level=A,
        severity="high",
        standard="CKV_K8S_155–158; CIS EKS 4.1.2/4.1.4; Pulumi CIS-K8s k8s-rbac-bind-impersonate-escalate-minimized",
        types=ROLES,
        exclude_namespaces=True,
        schema=_ALLOWED_ROLES,
        check=_no_escalation,
    ),
    policy(
        "eks-access-entries-least-privilege",
        rule="41",
        description="Cluster access must use access entries, not a creator admin.",
        remediation="Use authenticationMode API and explicit admin access entries.",
        level=A,
        severity="high",
        standard="CIS EKS 5.5.1; Pulumi CIS-K8s",
        types={CLUSTER},
        schema={"forbidCreatorAdmin": {"type": "boolean", "default": True}},
        check=_access_entries,
    ),
]
