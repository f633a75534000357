"""Section G policies (storage, KMS keys and data-protected) both ways."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions, StackValidationArgs

from aiinfra_policies import storage
from aiinfra_policies.constants import (
    ACCESS_POINT,
    EFS,
    EFS_POLICY,
    KMS_KEY,
    LOGGING,
    PERSISTENT_VOLUME,
    PUBLIC_ACCESS_BLOCK,
    SSE,
    STORAGE_CLASS,
    VERSIONING,
)
from tests.conftest import policy_by_name, violations
from tests.policies.test_eks_policies import TAGS


def _opts(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def gp3() -> dict[str, Any]:
    return {
        "kind": "StorageClass",
        "provisioner": "ebs.csi.aws.com",
        "parameters": {"encrypted": "true", "kmsKeyId": "k"},
    }


def weights_pv() -> dict[str, Any]:
    return {
        "kind": "PersistentVolume",
        "metadata": {"labels": {"ai-infra.io/data": "model-weights"}},
        "spec": {"persistentVolumeReclaimPolicy": "Retain", "csi": {"driver": "efs.csi.aws.com"}},
    }


def local_class() -> dict[str, Any]:
    return {
        "kind": "StorageClass",
        "provisioner": "kubernetes.io/no-provisioner",
        "volumeBindingMode": "WaitForFirstConsumer",
    }


def efs() -> dict[str, Any]:
    return {"encrypted": True, "kmsKeyId": "arn:k"}


def access_point() -> dict[str, Any]:
    return {"posixUser": {"uid": 10001, "gid": 10001}, "rootDirectory": {"path": "/models/m"}}


def kms_key() -> dict[str, Any]:
    policy = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "kms:*", "Resource": "*"}
        ]
    }
    return {
        "enableKeyRotation": True,
        "deletionWindowInDays": 30,
        "description": "d",
        "policy": json.dumps(policy),
        "tags": TAGS,
    }


CASES = [
    ("k8s-storageclass-encrypted", STORAGE_CLASS, gp3, lambda p: p["parameters"].update(encrypted="false")),
    ("k8s-storageclass-encrypted", STORAGE_CLASS, gp3, lambda p: p["parameters"].pop("kmsKeyId")),
    (
        "k8s-storage-reclaim-retain",
        PERSISTENT_VOLUME,
        weights_pv,
        lambda p: p["spec"].update(persistentVolumeReclaimPolicy="Delete"),
    ),
    ("k8s-local-nvme-via-pv", STORAGE_CLASS, local_class, lambda p: p.update(volumeBindingMode="Immediate")),
    (
        "k8s-local-nvme-via-pv",
        PERSISTENT_VOLUME,
        weights_pv,
        lambda p: p["spec"].update(hostPath={"path": "/x"}),
    ),
    (
        "k8s-local-nvme-via-pv",
        PERSISTENT_VOLUME,
        weights_pv,
        lambda p: p["spec"].update(local={"path": "/mnt/d"}),
    ),
    ("efs-encrypted-cmk", EFS, efs, lambda p: p.update(encrypted=False)),
    ("efs-encrypted-cmk", EFS, efs, lambda p: p.pop("kmsKeyId")),
    ("efs-access-point-identity", ACCESS_POINT, access_point, lambda p: p.pop("posixUser")),
    ("efs-access-point-identity", ACCESS_POINT, access_point, lambda p: p["posixUser"].update(uid=0)),
    ("efs-access-point-identity", ACCESS_POINT, access_point, lambda p: p["rootDirectory"].update(path="/")),
    ("kms-key-hygiene", KMS_KEY, kms_key, lambda p: p.update(enableKeyRotation=False)),
    ("kms-key-hygiene", KMS_KEY, kms_key, lambda p: p.update(deletionWindowInDays=7)),
    (
        "kms-key-hygiene",
        KMS_KEY,
        kms_key,
        lambda p: p.update(
            policy=json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*"}]})
        ),
    ),
]


@pytest.mark.parametrize(
    ("name", "token", "factory", "mutate"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_storage_policy_both_ways(name: str, token: str, factory: Any, mutate: Any) -> None:
    policy = policy_by_name(storage.POLICIES, name)
    assert violations(policy, token, factory()) == []
    props = factory()
    mutate(props)
    assert violations(policy, token, props)


def test_reclaim_retain_is_off_in_dev_config_and_ignores_scratch() -> None:
    policy = policy_by_name(storage.POLICIES, "k8s-storage-reclaim-retain")
    deleting = weights_pv()
    deleting["spec"]["persistentVolumeReclaimPolicy"] = "Delete"
    assert violations(policy, PERSISTENT_VOLUME, deleting, {"requireRetain": False}) == []
    scratch = {
        "kind": "StorageClass",
        "reclaimPolicy": "Delete",
        "metadata": {"labels": {"ai-infra.io/data": "scratch"}},
    }
    assert violations(policy, STORAGE_CLASS, scratch) == []


def _stack(policy_name: str, resources: list[PolicyResource], config: dict[str, Any] | None = None) -> list[str]:
    found: list[str] = []
    policy_by_name(storage.POLICIES, policy_name).validate(
        StackValidationArgs(resources, config or {}), lambda m, urn=None: found.append(m)
    )
    return found


def _res(
    typ: str,
    props: dict[str, Any],
    name: str,
    protect: bool = False,
    deps: dict[str, list[PolicyResource]] | None = None,
) -> PolicyResource:
    return PolicyResource(typ, props, f"urn:{name}", name, _opts(protect), None, None, [], deps or {})


def test_data_protected_both_ways() -> None:
    protected = [
        _res(EFS, efs(), "fs", protect=True),
        _res(PERSISTENT_VOLUME, weights_pv(), "pv", protect=True),
    ]
    assert _stack("data-protected", protected) == []
    unprotected = [_res(EFS, efs(), "fs"), _res(PERSISTENT_VOLUME, weights_pv(), "pv")]
    assert len(_stack("data-protected", unprotected)) == 2
    assert _stack("data-protected", unprotected, {"requireProtect": False}) == []


def test_s3_rules_follow_the_bucket_property_dependency() -> None:
    bucket = _res("aws:s3/bucket:Bucket", {}, "b")
    block = _res(
        PUBLIC_ACCESS_BLOCK,
        {k: True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")},
        "pab",
        deps={"bucket": [bucket]},
    )
    sse = _res(
        next(iter(SSE)),
        {"rules": [{"bucketKeyEnabled": True, "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]},
        "sse",
        deps={"bucket": [bucket]},
    )
    assert _stack("s3-public-access-block", [bucket, block]) == []
    assert _stack("s3-public-access-block", [bucket])
    assert _stack("s3-sse-kms", [bucket, sse]) == []
    assert _stack("s3-sse-kms", [bucket])
    versioning = _res(
        next(iter(VERSIONING)),
        {"versioningConfiguration": {"status": "Enabled"}},
        "v",
        deps={"bucket": [bucket]},
    )
    logging = _res(next(iter(LOGGING)), {}, "l", deps={"bucket": [bucket]})
    assert _stack("s3-versioning-logging", [bucket, versioning, logging]) == []
    assert len(_stack("s3-versioning-logging", [bucket])) == 2


# 48b ------------------------------------------------------------------------------------------
FS_ARN = "arn:aws:efs:us-west-2:123456789012:file-system/fs-1"
MOUNT = {
    "Sid": "MountThroughMountTargets",
    "Effect": "Allow",
    "Principal": {"AWS": "*"},
    "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
    "Resource": FS_ARN,
    "Condition": {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}},
}
TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "*",
    "Resource": FS_ARN,
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def _efs_stack(*statements: dict[str, Any], with_policy: bool = True) -> list[str]:
    fs = PolicyResource(EFS, efs(), "urn:fs", "fs", _opts(), None, None, [], {})
    resources = [fs]
    if with_policy:
        document = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
        props = {"fileSystemId": "fs-1", "policy": document}
        resources.append(
            PolicyResource(EFS_POLICY, props, "urn:pol", "pol", _opts(), None, None, [fs], {"fileSystemId": [fs]})
        )
    found: list[str] = []
    policy = policy_by_name(storage.POLICIES, "efs-policy-restricted")
    policy.validate(StackValidationArgs(resources, {}), lambda message, urn=None: found.append(message))
    return found


def test_efs_policy_denies_plain_nfs_and_root_for_everyone() -> None:
    assert _efs_stack(MOUNT, TLS_ONLY) == []
    no_tls = _efs_stack(MOUNT)
    assert len(no_tls) == 1 and "aws:SecureTransport" in no_tls[0]
    root = {**MOUNT, "Action": [*MOUNT["Action"], "elasticfilesystem:ClientRootAccess"]}
    found = _efs_stack(root, TLS_ONLY)
    assert len(found) == 1 and "ClientRootAccess" in found[0]
    assert _efs_stack({**MOUNT, "Principal": "*", "Action": "elasticfilesystem:*"}, TLS_ONLY)
    # Root for a named role is not root for everyone.
    named_root = {**root, "Principal": {"AWS": "arn:aws:iam::123456789012:role/backup"}}
    assert _efs_stack(MOUNT, named_root, TLS_ONLY) == []
    # A deny that is not about transport, or only for some principals, is not the TLS guard.
    assert _efs_stack(MOUNT, {**TLS_ONLY, "Condition": {"Bool": {"aws:ViaAWSService": "false"}}})
    assert _efs_stack(MOUNT, {**TLS_ONLY, "Principal": {"AWS": "arn:aws:iam::123456789012:role/x"}})
    # A file system without any policy takes plain NFS from every client the security group lets in.
    assert len(_efs_stack(with_policy=False)) == 1


def test_s3_tls_only_needs_a_deny_without_secure_transport() -> None:
    from aiinfra_policies.constants import BUCKET_POLICY

    bucket = _res("aws:s3/bucket:Bucket", {}, "b")
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    good = _res(BUCKET_POLICY, {"policy": json.dumps({"Statement": [deny]})}, "p", deps={"bucket": [bucket]})
    assert _stack("s3-tls-only", [bucket, good]) == []
    allow = _res(
        BUCKET_POLICY,
        {"policy": json.dumps({"Statement": [{**deny, "Effect": "Allow"}]})},
        "p",
        deps={"bucket": [bucket]},
    )
    (message,) = _stack("s3-tls-only", [bucket, allow])
    assert "aws:SecureTransport false" in message
    assert _stack("s3-tls-only", [bucket])


def test_a_bucket_receiving_access_logs_needs_no_logging_of_its_own() -> None:
    bucket, logs = _res("aws:s3/bucket:Bucket", {}, "b"), _res("aws:s3/bucket:Bucket", {}, "logs")
    enabled = {"versioningConfiguration": {"status": "Enabled"}}
    versions = [_res(next(iter(VERSIONING)), enabled, f"v{b.name}", deps={"bucket": [b]}) for b in (bucket, logs)]
    logging = _res(next(iter(LOGGING)), {}, "l", deps={"bucket": [bucket], "targetBucket": [logs]})
    assert _stack("s3-versioning-logging", [bucket, logs, *versions, logging]) == []
    # Without the logging resource both need logging (neither is a target).
    assert len(_stack("s3-versioning-logging", [bucket, logs, *versions])) == 2
