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
