"""Section I of ``policies/RULES.md``: ECR repositories (rules 62–66).

Model-serving images are tens of gigabytes and run on every GPU node: a repository's tags are
immutable (62) so a digest a plan reviewed stays the one behind its tag, every push is scanned
(63), images are encrypted with KMS and, in prod, the platform's own key (64), a lifecycle
policy bounds what is stored (65), and a repository is never world-readable nor, in prod,
force-deletable with its images (66).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, StackValidationArgs

from aiinfra_policies.common import Report, RulePolicy, Subject, get_path, is_set, policy
from aiinfra_policies.constants import ECR_LIFECYCLE, ECR_REPOSITORY, ECR_REPOSITORY_POLICY, ECR_SCANNING

M = EnforcementLevel.MANDATORY
A = EnforcementLevel.ADVISORY


# 62 ------------------------------------------------------------------------------------------
def _immutable(r: Subject, report: Report) -> None:
    allowed = r.config.get("allowedMutability", ["IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"])
    if r.props.get("imageTagMutability", "MUTABLE") not in allowed:
        report("imageTagMutability must be IMMUTABLE (a pushed tag must never move).")


# 63 ------------------------------------------------------------------------------------------
def _scan_on_push(args: StackValidationArgs, report: Report) -> None:
    enhanced = any(r.resource_type == ECR_SCANNING and r.props.get("scanType") == "ENHANCED" for r in args.resources)
    if enhanced:
        return
    for r in args.resources:
        if r.resource_type == ECR_REPOSITORY and get_path(r.props, "imageScanningConfiguration.scanOnPush") is not True:
            report("imageScanningConfiguration.scanOnPush must be true (or enable ENHANCED registry scanning).", r.urn)


# 64 ------------------------------------------------------------------------------------------
def _kms(r: Subject, report: Report) -> None:
    configs = r.props.get("encryptionConfigurations") or []
    first = configs[0] if configs and isinstance(configs[0], Mapping) else {}
    if first.get("encryptionType") != "KMS":
        report("encryptionConfigurations[0].encryptionType must be KMS.")
    elif r.config.get("requireCmk", False) and not is_set(first, "kmsKey"):
        report("encryptionConfigurations[0].kmsKey must name the platform's customer-managed key.")


# 65 ------------------------------------------------------------------------------------------
def _lifecycle(args: StackValidationArgs, report: Report) -> None:
    covered = {r.props.get("repository") for r in args.resources if r.resource_type == ECR_LIFECYCLE}
    for r in args.resources:
        if r.resource_type == ECR_REPOSITORY and r.props.get("name") not in covered:
            report("The repository needs an ECR LifecyclePolicy (expire untagged images, cap the tagged).", r.urn)


# 66 ------------------------------------------------------------------------------------------
def _principals(statement: Mapping[str, Any]) -> list[Any]:
    principal = statement.get("Principal")
    if isinstance(principal, Mapping):
        values = principal.get("AWS", [])
        return list(values) if isinstance(values, list) else [values]
    return [principal]


def _private_and_protected(r: Subject, report: Report) -> None:
    if r.type == ECR_REPOSITORY:
        if r.config.get("forbidForceDelete", False) and r.props.get("forceDelete") is True:
            report("forceDelete must not be true: deleting the repository would delete its images.")
        return
    try:
        document = json.loads(r.props.get("policy") or "{}")
    except (TypeError, ValueError):
        report("policy must be a JSON policy document.")
        return
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if isinstance(statement, Mapping) and statement.get("Effect") == "Allow" and "*" in _principals(statement):
            report("The repository policy must not allow every principal (Principal *); name the roles.")


POLICIES: list[RulePolicy] = [
    policy(
        "ecr-immutable-tags",
        rule="62",
        description="ECR repositories have immutable tags.",
        remediation="Set imageTagMutability: IMMUTABLE (components/registry.py does).",
        level=A,
        severity="medium",
        standard="CKV_AWS_51; Security Hub ECR.2",
        types={ECR_REPOSITORY},
        schema={
            "allowedMutability": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"],
            }
        },
        check=_immutable,
    ),
    policy(
        "ecr-scan-on-push",
        rule="63",
        description="Every push to ECR is scanned for vulnerabilities.",
        remediation="Set imageScanningConfiguration.scanOnPush, or ENHANCED registry scanning.",
        level=M,
        severity="medium",
        standard="CKV_AWS_163; Security Hub ECR.1; CIS EKS 5.1.1",
        stack=True,
        check=_scan_on_push,
    ),
    policy(
        "ecr-kms-encryption",
        rule="64",
        description="ECR repositories are encrypted with KMS (the platform's key in prod).",
        remediation="Set encryptionConfigurations to KMS with the cluster's key.",
        level=A,
        severity="medium",
        standard="CKV_AWS_136",
        types={ECR_REPOSITORY},
        schema={"requireCmk": {"type": "boolean", "default": False}},
        check=_kms,
    ),
    policy(
        "ecr-lifecycle-policy",
        rule="65",
        description="Every ECR repository has a lifecycle policy (model images are costly to keep).",
        remediation="Add an aws.ecr.LifecyclePolicy for the repository (components/registry.py does).",
        level=A,
        severity="low",
        standard="Security Hub ECR.3",
        stack=True,
        check=_lifecycle,
    ),
    policy(
        "ecr-private-and-protected",
        rule="66",
        description="ECR repositories are never public, and prod repositories are not force-deletable.",
        remediation="Name pull principals in the repository policy; leave forceDelete off in prod.",
        level=M,
        severity="high",
        standard="CKV_AWS_32; CIS EKS 5.1.2",
        types={ECR_REPOSITORY, ECR_REPOSITORY_POLICY},
        schema={"forbidForceDelete": {"type": "boolean", "default": False}},
        check=_private_and_protected,
    ),
]
