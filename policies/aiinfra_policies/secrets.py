"""Section F of ``policies/RULES.md``: secrets (rule 43b).

Kubernetes Secrets (model-hub tokens and other credentials) live in etcd. Envelope encryption
with a customer KMS key means reading them needs our key, whose use CloudTrail records and
which we can rotate or revoke; an AWS-owned key gives neither. The workload rules of section F
(42, 43: secrets as files, no literal secrets) are not in the pack yet.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel

from aiinfra_policies.common import Report, RulePolicy, Subject, is_set, policy
from aiinfra_policies.constants import CLUSTER

A = EnforcementLevel.ADVISORY


# 43b -----------------------------------------------------------------------------------------
def _secrets_encryption(r: Subject, report: Report) -> None:
    enc = r.props.get("encryptionConfig") or {}
    if "secrets" not in (enc.get("resources") or []) or not is_set(enc.get("provider"), "keyArn"):
        report("encryptionConfig must encrypt resources [secrets] with a customer KMS key (provider.keyArn).")


POLICIES: list[RulePolicy] = [
    policy(
        "eks-secrets-envelope-encryption-cmk",
        rule="43b",
        description="Kubernetes secrets must be envelope-encrypted with a customer KMS key.",
        remediation="Set encryptionConfig with the platform KMS key.",
        level=A,
        severity="high",
        standard="CKV_AWS_58; Security Hub EKS.3; CIS EKS 5.3.1",
        types={CLUSTER},
        check=_secrets_encryption,
    ),
]
