"""Section E of ``policies/RULES.md``: cluster access (rule 41).

Who may administer the cluster must be visible in code: EKS access entries (``authenticationMode``
API) are Pulumi resources, the ``aws-auth`` ConfigMap is not; and the cluster creator's implicit
admin grant is invisible in code and outlives whoever ran the first ``pulumi up``.
``policies/dev.json`` allows that grant (``forbidCreatorAdmin: false``); prod keeps the default
and forbids it. The Kubernetes RBAC rules of section E (38–40) are not in the pack yet.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel

from aiinfra_policies.common import Report, RulePolicy, Subject, policy
from aiinfra_policies.constants import CLUSTER

A = EnforcementLevel.ADVISORY


# 41 ------------------------------------------------------------------------------------------
def _access_entries(r: Subject, report: Report) -> None:
    access = r.props.get("accessConfig") or {}
    if access.get("authenticationMode") not in ("API", "API_AND_CONFIG_MAP"):
        report("accessConfig.authenticationMode must be API (access entries, not aws-auth).")
    if r.config.get("forbidCreatorAdmin", True) and access.get("bootstrapClusterCreatorAdminPermissions") is not False:
        report("accessConfig.bootstrapClusterCreatorAdminPermissions must be false; grant admins via access entries.")


POLICIES: list[RulePolicy] = [
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
