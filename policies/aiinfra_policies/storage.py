"""Section G: storage (NVMe, NFS, EBS, EFS, S3) and the protection of prod data.

Rules 44–51 of the rule table (52, KMS hygiene, lives with the cluster rules), plus
``data-protected``: in prod, resources that hold data of record (EFS file systems, KMS keys, ECR
repositories, volumes labelled as model weights) must carry Pulumi's ``protect`` option, so a
stray ``pulumi destroy`` or a replacement cannot delete them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    StackValidationArgs,
)

from aiinfra_policies.common import Report, get_path, stack_policy, typed_policy

M = EnforcementLevel.MANDATORY
A = EnforcementLevel.ADVISORY
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
PERSISTENT_VOLUME = "kubernetes:core/v1:PersistentVolume"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
EFS = "aws:efs/fileSystem:FileSystem"
ACCESS_POINT = "aws:efs/accessPoint:AccessPoint"
BUCKETS = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
SSE = frozenset(
    {
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    }
)
VERSIONING = frozenset({"aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"})
LOGGING = frozenset({"aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"})
DATA_LABEL = "ai-infra.io/data"
MODEL_WEIGHTS = "model-weights"
PROTECTED_TYPES = frozenset({EFS, "aws:kms/key:Key", "aws:ecr/repository:Repository"})


def _labels(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return get_path(props, "metadata.labels") or {}


# 44 ------------------------------------------------------------------------------------------
def _class_encrypted(props: Mapping[str, Any], config: Mapping[str, Any], report: Report) -> None:
    if props.get("provisioner") != "ebs.csi.aws.com":
        return
    params = props.get("parameters") or {}
    if str(params.get("encrypted")).lower() != "true":
        report('parameters.encrypted must be "true" for EBS classes.')
    elif config.get("requireCmk", True) and not params.get("kmsKeyId"):
        report("parameters.kmsKeyId must name a customer KMS key.")


# 45 ------------------------------------------------------------------------------------------
def _reclaim_retain(props: Mapping[str, Any], config: Mapping[str, Any], report: Report) -> None:
    if _labels(props).get(DATA_LABEL) != MODEL_WEIGHTS or not config.get("requireRetain", True):
        return
    if props.get("kind") == "StorageClass" and props.get("reclaimPolicy") != "Retain":
        report("reclaimPolicy must be Retain for classes that hold model weights.")
    if props.get("kind") == "PersistentVolume" and get_path(props, "spec.persistentVolumeReclaimPolicy") != "Retain":
        report("spec.persistentVolumeReclaimPolicy must be Retain for volumes that hold model weights.")


# 46 ------------------------------------------------------------------------------------------
def _local_via_pv(props: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    local_class = props.get("kind") == "StorageClass" and props.get("provisioner") == "kubernetes.io/no-provisioner"
    if local_class and props.get("volumeBindingMode") != "WaitForFirstConsumer":
        report("volumeBindingMode must be WaitForFirstConsumer for local volumes (bind on the pod's node).")
    local_pv = props.get("kind") == "PersistentVolume" and get_path(props, "spec.local")
    if local_pv and not get_path(props, "spec.nodeAffinity.required"):
        report("spec.nodeAffinity.required must pin a local volume to its node.")
    if props.get("kind") == "PersistentVolume" and get_path(props, "spec.hostPath"):
        report("spec.hostPath volumes are not allowed; expose NVMe through local PVs.")


# 47, 48 --------------------------------------------------------------------------------------
def _efs_encrypted(props: Mapping[str, Any], config: Mapping[str, Any], report: Report) -> None:
    if props.get("encrypted") is not True:
        report("encrypted must be true.")
    elif config.get("requireCmk", True) and not props.get("kmsKeyId"):
        report("kmsKeyId must name a customer KMS key.")


def _access_point(props: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    if not props.get("posixUser"):
        report("posixUser must be set so every client acts as one non-root identity.")
    elif get_path(props, "posixUser.uid") in (0, "0"):
        report("posixUser.uid must not be 0 (root).")
    path = get_path(props, "rootDirectory.path")
    if not path or path == "/":
        report("rootDirectory.path must be a directory below the file system root.")


# 49, 50, 51 (stack) --------------------------------------------------------------------------
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


def _versioning_logging(args: StackValidationArgs, report: Report) -> None:
    versioning, logging = _config_for(args, VERSIONING), _config_for(args, LOGGING)
    for bucket in _buckets(args):
        if not any(
            get_path(v.props, "versioningConfiguration.status") == "Enabled" for v in versioning.get(bucket.urn, [])
        ):
            report("Bucket needs versioning enabled.", bucket.urn)
        if not logging.get(bucket.urn):
            report("Bucket needs access logging.", bucket.urn)


# data-protected (stack) ----------------------------------------------------------------------
def _data_protected(args: StackValidationArgs, report: Report) -> None:
    if not (args.get_config() or {}).get("requireProtect", True):
        return
    for r in args.resources:
        weights = r.resource_type in (PERSISTENT_VOLUME, PVC) and _labels(r.props).get(DATA_LABEL) == MODEL_WEIGHTS
        if (r.resource_type in PROTECTED_TYPES or weights) and not r.opts.protect:
            report("Resources holding data of record must be protected (ResourceOptions protect=True).", r.urn)


POLICIES: list[Any] = [
    typed_policy(
        "k8s-storageclass-encrypted",
        "EBS StorageClasses must encrypt volumes with a customer KMS key.",
        frozenset({STORAGE_CLASS}),
        _class_encrypted,
        M,
        'Set parameters encrypted "true" and kmsKeyId.',
        {"requireCmk": {"type": "boolean", "default": True}},
    ),
    typed_policy(
        "k8s-storage-reclaim-retain",
        "Classes and volumes holding model weights must be reclaimed with Retain.",
        frozenset({STORAGE_CLASS, PERSISTENT_VOLUME}),
        _reclaim_retain,
        A,
        "Set reclaimPolicy / persistentVolumeReclaimPolicy Retain.",
        {"requireRetain": {"type": "boolean", "default": True}},
    ),
    typed_policy(
        "k8s-local-nvme-via-pv",
        "Local NVMe must be exposed as node-pinned local PVs bound on first consumer.",
        frozenset({STORAGE_CLASS, PERSISTENT_VOLUME}),
        _local_via_pv,
        A,
        "Use the local-nvme class (no-provisioner, WaitForFirstConsumer); never hostPath.",
    ),
    typed_policy(
        "efs-encrypted-cmk",
        "EFS file systems must be encrypted with a customer KMS key.",
        frozenset({EFS}),
        _efs_encrypted,
        M,
        "Set encrypted true and kmsKeyId.",
        {"requireCmk": {"type": "boolean", "default": True}},
    ),
    typed_policy(
        "efs-access-point-identity",
        "EFS access points must set a non-root POSIX user and a sub-directory.",
        frozenset({ACCESS_POINT}),
        _access_point,
        A,
        "Set posixUser and rootDirectory.path below /.",
    ),
    stack_policy(
        "s3-public-access-block",
        "S3 buckets must block every form of public access.",
        _public_access_block,
        level=M,
        remediation="Add a BucketPublicAccessBlock with all four flags.",
    ),
    stack_policy(
        "s3-sse-kms",
        "S3 buckets must encrypt by default with KMS and bucket keys.",
        _sse_kms,
        level=A,
        remediation="Add a server-side encryption configuration with aws:kms.",
    ),
    stack_policy(
        "s3-versioning-logging",
        "Model and data buckets must be versioned and access-logged.",
        _versioning_logging,
        level=EnforcementLevel.DISABLED,
        remediation="Add BucketVersioning (Enabled) and BucketLogging.",
    ),
    stack_policy(
        "data-protected",
        "Prod data (EFS, KMS keys, ECR, model-weight volumes) must be protected.",
        _data_protected,
        level=A,
        remediation="Pass protect=True (and retain_on_delete) in prod.",
        schema={"requireProtect": {"type": "boolean", "default": True}},
    ),
]
