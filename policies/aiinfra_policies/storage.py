"""Section G of ``policies/RULES.md``: storage (NVMe, NFS, EBS, EFS, S3) and KMS (rules 44–52).

Model weights and training data are the platform's data of record. Volumes and buckets are
encrypted with customer KMS keys (44, 47, 50) whose keys rotate and cannot be deleted on a
whim (52); volumes holding weights are retained (45); local NVMe is consumed through local
PVs, never hostPath (46); EFS clients act as one non-root user in their own directory (48), and
every file system has a policy that refuses connections without TLS and never gives everyone
root access (48b);
buckets are never public (49) and, in prod, versioned and access-logged (51).

``data-protected`` is a pack rule without a number (``—`` in ``RULES.md``): in prod, resources that hold data of
record (EFS file systems, KMS keys, ECR repositories, volumes labelled as model weights) must
carry Pulumi's ``protect`` option, so a stray ``pulumi destroy`` or a replacement cannot
delete them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, StackValidationArgs

from aiinfra_policies.common import Report, RulePolicy, Subject, get_path, is_set, policy
from aiinfra_policies.constants import (
    ACCESS_POINT,
    BUCKET_POLICY,
    BUCKETS,
    DATA_LABEL,
    ECR_REPOSITORY,
    EFS,
    EFS_POLICY,
    KMS_KEY,
    LOGGING,
    MODEL_WEIGHTS,
    PERSISTENT_VOLUME,
    PUBLIC_ACCESS_BLOCK,
    PVC,
    SSE,
    STORAGE_CLASS,
    VERSIONING,
)

M = EnforcementLevel.MANDATORY
A = EnforcementLevel.ADVISORY
PROTECTED_TYPES = frozenset({EFS, KMS_KEY, ECR_REPOSITORY, *BUCKETS})
REQUIRE_CMK = {"requireCmk": {"type": "boolean", "default": True}}


def _labels(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return get_path(props, "metadata.labels") or {}


# 44 ------------------------------------------------------------------------------------------
def _class_encrypted(r: Subject, report: Report) -> None:
    props, config = r.props, r.config
    if props.get("provisioner") != "ebs.csi.aws.com":
        return
    params = props.get("parameters") or {}
    if str(params.get("encrypted")).lower() != "true":
        report('parameters.encrypted must be "true" for EBS classes.')
    elif config.get("requireCmk", True) and not is_set(params, "kmsKeyId"):
        report("parameters.kmsKeyId must name a customer KMS key.")


# 45 ------------------------------------------------------------------------------------------
def _reclaim_retain(r: Subject, report: Report) -> None:
    props, config = r.props, r.config
    if _labels(props).get(DATA_LABEL) != MODEL_WEIGHTS or not config.get("requireRetain", True):
        return
    if props.get("kind") == "StorageClass" and props.get("reclaimPolicy") != "Retain":
        report("reclaimPolicy must be Retain for classes that hold model weights.")
    if props.get("kind") == "PersistentVolume" and get_path(props, "spec.persistentVolumeReclaimPolicy") != "Retain":
        report("spec.persistentVolumeReclaimPolicy must be Retain for volumes that hold model weights.")


# 46 ------------------------------------------------------------------------------------------
def _local_via_pv(r: Subject, report: Report) -> None:
    props = r.props
    local_class = props.get("kind") == "StorageClass" and props.get("provisioner") == "kubernetes.io/no-provisioner"
    if local_class and props.get("volumeBindingMode") != "WaitForFirstConsumer":
        report("volumeBindingMode must be WaitForFirstConsumer for local volumes (bind on the pod's node).")
    local_pv = props.get("kind") == "PersistentVolume" and get_path(props, "spec.local")
    if local_pv and not get_path(props, "spec.nodeAffinity.required"):
        report("spec.nodeAffinity.required must pin a local volume to its node.")
    if props.get("kind") == "PersistentVolume" and get_path(props, "spec.hostPath"):
        report("spec.hostPath volumes are not allowed; expose NVMe through local PVs.")


# 47, 48 --------------------------------------------------------------------------------------
def _efs_encrypted(r: Subject, report: Report) -> None:
    props, config = r.props, r.config
    if props.get("encrypted") is not True:
        report("encrypted must be true.")
    elif config.get("requireCmk", True) and not is_set(props, "kmsKeyId"):
        report("kmsKeyId must name a customer KMS key.")


def _access_point(r: Subject, report: Report) -> None:
    props = r.props
    if not props.get("posixUser"):
        report("posixUser must be set so every client acts as one non-root identity.")
    elif get_path(props, "posixUser.uid") in (0, "0"):
        report("posixUser.uid must not be 0 (root).")
    path = get_path(props, "rootDirectory.path")
    if not path or path == "/":
        report("rootDirectory.path must be a directory below the file system root.")


# 49, 50, 51 (stack) --------------------------------------------------------------------------
# 48b -----------------------------------------------------------------------------------------
def _efs_statements(document: Any) -> list[Mapping[str, Any]]:
    try:
        doc = json.loads(document) if isinstance(document, str) and document else document
    except ValueError:
        return []  # not a policy document: it denies nothing
    statements = doc.get("Statement", []) if isinstance(doc, Mapping) else []
    listed = statements if isinstance(statements, list) else [statements]
    return [s for s in listed if isinstance(s, Mapping)]


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _everyone(principal: Any) -> bool:
    aws = principal.get("AWS") if isinstance(principal, Mapping) else principal
    return principal == "*" or "*" in _listed(aws)


def _tls_deny(statement: Mapping[str, Any]) -> bool:
    """``Deny`` everything (or every client action) when ``aws:SecureTransport`` is false."""
    if statement.get("Effect") != "Deny" or not _everyone(statement.get("Principal")):
        return False
    actions = _listed(statement.get("Action"))
    if not any(a in ("*", "elasticfilesystem:*") for a in actions) and not {
        "elasticfilesystem:ClientMount",
        "elasticfilesystem:ClientWrite",
        "elasticfilesystem:ClientRootAccess",
    } <= set(actions):
        return False
    secure = get_path(statement, "Condition.Bool") or {}
    return str(secure.get("aws:SecureTransport", "")).lower() == "false" if isinstance(secure, Mapping) else False


def _efs_policy_restricted(args: StackValidationArgs, report: Report) -> None:
    covered: set[str] = set()
    for r in args.resources:
        if r.resource_type != EFS_POLICY:
            continue
        covered |= {d.urn for d in r.property_dependencies.get("fileSystemId", [])}
        statements = _efs_statements(r.props.get("policy"))
        for i, stmt in enumerate(statements):
            actions = _listed(stmt.get("Action"))
            root = any(a in ("*", "elasticfilesystem:*", "elasticfilesystem:ClientRootAccess") for a in actions)
            if stmt.get("Effect") == "Allow" and _everyone(stmt.get("Principal")) and root:
                report(
                    f"policy.Statement[{i}] gives every principal ClientRootAccess: root on any client owns every "
                    "file; allow ClientMount/ClientWrite only (access points set the user).",
                    r.urn,
                )
        if not any(_tls_deny(s) for s in statements):
            report(
                "policy needs a Deny for every principal when aws:SecureTransport is false: EFS then refuses "
                "mounts without TLS.",
                r.urn,
            )
    for fs in args.resources:
        if fs.resource_type == EFS and fs.urn not in covered:
            report(
                "The file system has no file-system policy: add one that denies connections without TLS "
                "(aws:SecureTransport false).",
                fs.urn,
            )


def _config_for(args: StackValidationArgs, types: frozenset[str]) -> dict[str, list[Any]]:
    """Bucket URN -> its configuration resources (linked through the ``bucket`` property)."""
    found: dict[str, list[Any]] = {}
    for r in args.resources:
        if r.resource_type in types:
            for dep in r.property_dependencies.get("bucket", []):
                found.setdefault(dep.urn, []).append(r)
    return found


def _buckets(args: StackValidationArgs) -> list[Any]:
    return [r for r in args.resources if r.resource_type in BUCKETS]


def _public_access_block(args: StackValidationArgs, report: Report) -> None:
    blocks = _config_for(args, frozenset({PUBLIC_ACCESS_BLOCK}))
    for bucket in _buckets(args):
        ok = any(
            all(
                b.props.get(k) is True
                for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
            )
            for b in blocks.get(bucket.urn, [])
        )
        if not ok:
            report("Bucket needs a BucketPublicAccessBlock with all four settings true.", bucket.urn)


def _sse_kms(args: StackValidationArgs, report: Report) -> None:
    configs = _config_for(args, SSE)
    for bucket in _buckets(args):
        ok = any(
            rule.get("bucketKeyEnabled") is True
            and get_path(rule, "applyServerSideEncryptionByDefault.sseAlgorithm") == "aws:kms"
            for c in configs.get(bucket.urn, [])
            for rule in c.props.get("rules") or []
        )
        if not ok:
            report("Bucket needs default SSE with aws:kms and bucketKeyEnabled.", bucket.urn)


def _s3_tls_deny(statement: Mapping[str, Any]) -> bool:
    """``Deny`` of every S3 action for every principal when ``aws:SecureTransport`` is false."""
    if statement.get("Effect") != "Deny" or not _everyone(statement.get("Principal")):
        return False
    if not any(a in ("*", "s3:*") for a in _listed(statement.get("Action"))):
        return False
    secure = get_path(statement, "Condition.Bool") or {}
    return isinstance(secure, Mapping) and str(secure.get("aws:SecureTransport", "")).lower() == "false"


def _s3_tls_only(args: StackValidationArgs, report: Report) -> None:
    policies = _config_for(args, frozenset({BUCKET_POLICY}))
    for bucket in _buckets(args):
        if not any(
            _s3_tls_deny(s) for p in policies.get(bucket.urn, []) for s in _efs_statements(p.props.get("policy"))
        ):
            report(
                "Bucket needs a BucketPolicy denying every request without TLS (aws:SecureTransport false).", bucket.urn
            )


def _versioning_logging(args: StackValidationArgs, report: Report) -> None:
    versioning, logging = _config_for(args, VERSIONING), _config_for(args, LOGGING)
    # A bucket that receives access logs is not logged itself: logging it into itself would log its
    # own log writes, and logging it elsewhere only moves the question to that bucket.
    targets = {
        d.urn
        for r in args.resources
        if r.resource_type in LOGGING
        for d in r.property_dependencies.get("targetBucket", [])
    }
    for bucket in _buckets(args):
        if not any(
            get_path(v.props, "versioningConfiguration.status") == "Enabled" for v in versioning.get(bucket.urn, [])
        ):
            report("Bucket needs versioning enabled.", bucket.urn)
        if not logging.get(bucket.urn) and bucket.urn not in targets:
            report("Bucket needs access logging.", bucket.urn)


# 52 ------------------------------------------------------------------------------------------
def _kms_hygiene(r: Subject, report: Report) -> None:
    # Every encryption rule above points at a customer key; this keeps those keys recoverable.
    props = r.props
    if props.get("enableKeyRotation") is not True:
        report("enableKeyRotation must be true.")
    if props.get("bypassPolicyLockoutSafetyCheck") is True:
        report("bypassPolicyLockoutSafetyCheck must not be true.")
    window = props.get("deletionWindowInDays")
    if not isinstance(window, int | float) or window < r.config.get("minDeletionWindowDays", 30):
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


# data-protected (stack) ----------------------------------------------------------------------
def _data_protected(args: StackValidationArgs, report: Report) -> None:
    if not (args.get_config() or {}).get("requireProtect", True):
        return
    for r in args.resources:
        weights = r.resource_type in (PERSISTENT_VOLUME, PVC) and _labels(r.props).get(DATA_LABEL) == MODEL_WEIGHTS
        if (r.resource_type in PROTECTED_TYPES or weights) and not r.opts.protect:
            report("Resources holding data of record must be protected (ResourceOptions protect=True).", r.urn)


# StorageClasses and PersistentVolumes are cluster-scoped, so excludeNamespaces has no meaning here.
POLICIES: list[RulePolicy] = [
    policy(
        "k8s-storageclass-encrypted",
        rule="44",
        description="EBS StorageClasses must encrypt volumes with a customer KMS key.",
        remediation='Set parameters encrypted "true" and kmsKeyId.',
        level=M,
        severity="high",
        standard="CKV_AWS_3/189 (analogue)",
        types={STORAGE_CLASS},
        schema=REQUIRE_CMK,
        check=_class_encrypted,
    ),
    policy(
        "k8s-storage-reclaim-retain",
        rule="45",
        description="Classes and volumes holding model weights must be reclaimed with Retain.",
        remediation="Set reclaimPolicy / persistentVolumeReclaimPolicy Retain.",
        level=A,
        severity="medium",
        standard="project convention",
        types={STORAGE_CLASS, PERSISTENT_VOLUME},
        schema={"requireRetain": {"type": "boolean", "default": True}},
        check=_reclaim_retain,
    ),
    policy(
        "k8s-local-nvme-via-pv",
        rule="46",
        description="Local NVMe must be exposed as node-pinned local PVs bound on first consumer.",
        remediation="Use the local-nvme class (no-provisioner, WaitForFirstConsumer); never hostPath.",
        level=A,
        severity="medium",
        standard="PSS volume rules",
        types={STORAGE_CLASS, PERSISTENT_VOLUME},
        check=_local_via_pv,
    ),
    policy(
        "efs-encrypted-cmk",
        rule="47",
        description="EFS file systems must be encrypted with a customer KMS key.",
        remediation="Set encrypted true and kmsKeyId.",
        level=M,
        severity="high",
        standard="CKV_AWS_42/184; Security Hub EFS.1",
        types={EFS},
        schema=REQUIRE_CMK,
        check=_efs_encrypted,
    ),
    policy(
        "efs-access-point-identity",
        rule="48",
        description="EFS access points must set a non-root POSIX user and a sub-directory.",
        remediation="Set posixUser and rootDirectory.path below /.",
        level=A,
        severity="medium",
        standard="CKV_AWS_329/330",
        types={ACCESS_POINT},
        check=_access_point,
    ),
    policy(
        "efs-policy-restricted",
        rule="48b",
        description="Every EFS file system has a policy that denies connections without TLS and no root access "
        "for everyone.",
        remediation="Give the file system a FileSystemPolicy with a Deny on aws:SecureTransport false, and Allow "
        "ClientMount/ClientWrite (never ClientRootAccess) to *.",
        level=A,
        severity="high",
        standard="AWS EFS user guide (encryption in transit: aws:SecureTransport; IAM for NFS clients)",
        stack=True,
        check=_efs_policy_restricted,
    ),
    policy(
        "s3-public-access-block",
        rule="49",
        description="S3 buckets must block every form of public access.",
        remediation="Add a BucketPublicAccessBlock with all four flags.",
        level=M,
        severity="critical",
        standard="CKV_AWS_53–56; CKV2_AWS_6",
        stack=True,
        check=_public_access_block,
    ),
    policy(
        "s3-sse-kms",
        rule="50",
        description="S3 buckets must encrypt by default with KMS and bucket keys.",
        remediation="Add a server-side encryption configuration with aws:kms.",
        level=A,
        severity="medium",
        standard="CKV_AWS_19/145",
        stack=True,
        check=_sse_kms,
    ),
    policy(
        "s3-tls-only",
        rule="49b",
        description="S3 buckets must refuse requests without TLS.",
        remediation="Add a BucketPolicy with a Deny on s3:* for Principal * when aws:SecureTransport is false.",
        level=A,
        severity="high",
        standard="CKV_AWS_379; AWS S3 user guide (aws:SecureTransport)",
        stack=True,
        check=_s3_tls_only,
    ),
    policy(
        "s3-versioning-logging",
        rule="51",
        description="Model and data buckets must be versioned and access-logged.",
        remediation="Add BucketVersioning (Enabled) and BucketLogging.",
        level=EnforcementLevel.DISABLED,
        severity="low",
        standard="CKV_AWS_18/21",
        stack=True,
        check=_versioning_logging,
    ),
    policy(
        "kms-key-hygiene",
        rule="52",
        description="KMS keys must rotate, keep a deletion window and a safe policy.",
        remediation="Enable rotation, set a description and a 30-day window in prod.",
        level=M,
        severity="high",
        standard="CKV_AWS_7/33; awsguard cmk-backing-key-rotation",
        types={KMS_KEY},
        schema={"minDeletionWindowDays": {"type": "integer", "default": 30}},
        check=_kms_hygiene,
    ),
    policy(
        "data-protected",
        rule=None,
        section="G",
        description="Prod data (EFS, KMS keys, ECR, model-weight volumes) must be protected.",
        remediation="Pass protect=True (and retain_on_delete) in prod.",
        level=A,
        severity="medium",
        standard="project convention (Pulumi `protect`)",
        stack=True,
        schema={"requireProtect": {"type": "boolean", "default": True}},
        check=_data_protected,
    ),
]
