"""Pure builders for the platform's storage: classes, the model cache, and chart values.

- ``gp3`` (EKS): encrypted with the platform KMS key, WaitForFirstConsumer, expandable; the
  new cluster default (gp2 is un-defaulted with a patch).
- ``local-nvme``: static local PVs on raw instance-store disks (scratch/cache, reclaim Delete).
- ``shared-models``: ReadWriteMany for weights shared by every replica — EFS access points on
  AWS, an existing NFS server elsewhere; Retain in prod.
- ``model-cache``: one PVC per model namespace on the cache class. On EFS it is bound to a
  static PV on the namespace's own access point (POSIX user 10001, its own directory).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.core.labels import POOL_LABEL
from components.core.naming import k8s_name
from components.core.settings import NfsServerSettings
from components.specs.node_pool import GPU_TOLERATION

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
DATA_LABEL = "ai-infra.io/data"
MODEL_WEIGHTS = "model-weights"
SCRATCH = "scratch"
MODEL_UID = 10001
"""The non-root UID/GID model servers run as; the cache directories belong to it."""
SHARED_CLASS = "shared-models"
LOCAL_CLASS = "local-nvme"
GP3_CLASS = "gp3"
CACHE_PVC = "model-cache"
EFS_MODELS_ROOT = "/models"
"""The EFS directory every namespace's cache directory is created under."""


def _meta(name: str, labels: Mapping[str, str], **extra: Any) -> k8s.meta.v1.ObjectMetaArgs:
    return k8s.meta.v1.ObjectMetaArgs(name=name, labels=dict(labels), **extra)


def gp3_class_args(kms_key_arn: pulumi.Input[str], labels: Mapping[str, str]) -> k8s.storage.v1.StorageClassInitArgs:
    return k8s.storage.v1.StorageClassInitArgs(
        metadata=_meta(GP3_CLASS, labels, annotations={DEFAULT_CLASS_ANNOTATION: "true"}),
        provisioner="ebs.csi.aws.com",
        # csi.storage.k8s.io/fstype, not fsType (deprecated and ignored by the driver:
        # aws-ebs-csi-driver docs/parameters.md).
        parameters={"type": "gp3", "encrypted": "true", "kmsKeyId": kms_key_arn, "csi.storage.k8s.io/fstype": "ext4"},
        reclaim_policy="Delete",
        volume_binding_mode="WaitForFirstConsumer",
        allow_volume_expansion=True,
    )


def gp2_undefault_args() -> k8s.storage.v1.StorageClassPatchArgs:
    """EKS creates gp2 as the default class; two defaults make PVC binding ambiguous."""
    return k8s.storage.v1.StorageClassPatchArgs(
        metadata=k8s.meta.v1.ObjectMetaPatchArgs(name="gp2", annotations={DEFAULT_CLASS_ANNOTATION: "false"}),
    )


def local_nvme_class_args(pools: list[str], labels: Mapping[str, str]) -> k8s.storage.v1.StorageClassInitArgs:
    """Static local PVs: nothing provisions them, binding waits for the pod's node."""
    return k8s.storage.v1.StorageClassInitArgs(
        metadata=_meta(LOCAL_CLASS, {**labels, DATA_LABEL: SCRATCH}),
        provisioner="kubernetes.io/no-provisioner",
        reclaim_policy="Delete",
        volume_binding_mode="WaitForFirstConsumer",
        # Documents (and enforces for any future provisioner) which pools carry raw NVMe.
        allowed_topologies=[
            k8s.core.v1.TopologySelectorTermArgs(
                match_label_expressions=[k8s.core.v1.TopologySelectorLabelRequirementArgs(key=POOL_LABEL, values=pools)]
            )
        ],
    )


def efs_class_args(
    file_system_id: pulumi.Input[str], *, retain: bool, labels: Mapping[str, str]
) -> k8s.storage.v1.StorageClassInitArgs:
    """Dynamic EFS access points, one per PVC, owned by the model UID under /dynamic."""
    return k8s.storage.v1.StorageClassInitArgs(
        metadata=_meta(SHARED_CLASS, {**labels, DATA_LABEL: MODEL_WEIGHTS}),
        provisioner="efs.csi.aws.com",
        parameters={
            "provisioningMode": "efs-ap",
            "fileSystemId": file_system_id,
            "directoryPerms": "750",
            "uid": str(MODEL_UID),
            "gid": str(MODEL_UID),
            "basePath": "/dynamic",
            "subPathPattern": "${.PVC.namespace}/${.PVC.name}",
            "ensureUniqueDirectory": "true",
        },
        reclaim_policy="Retain" if retain else "Delete",
        volume_binding_mode="Immediate",
    )


def nfs_class_args(
    nfs: NfsServerSettings, *, retain: bool, labels: Mapping[str, str]
) -> k8s.storage.v1.StorageClassInitArgs:
    parameters = {
        "server": nfs.server,
        "share": nfs.share,
        "subDir": (nfs.sub_dir.rstrip("/") + "/" if nfs.sub_dir else "")
        + "${pvc.metadata.namespace}/${pvc.metadata.name}",
        "onDelete": "retain" if retain else "delete",
        # 0 keeps the server's permissions; 0777 would make the share world-writable.
        "mountPermissions": "0",
    }
    return k8s.storage.v1.StorageClassInitArgs(
        metadata=_meta(SHARED_CLASS, {**labels, DATA_LABEL: MODEL_WEIGHTS}),
        provisioner="nfs.csi.k8s.io",
        parameters=parameters,
        mount_options=["nfsvers=4.1"],
        reclaim_policy="Retain" if retain else "Delete",
        volume_binding_mode="Immediate",
    )


def nfs_cache_pv_args(
    namespace: str, nfs: NfsServerSettings, size: str, labels: Mapping[str, str]
) -> k8s.core.v1.PersistentVolumeInitArgs:
    """The namespace's ``model-cache`` on an existing directory of weights
    (``nfs.existingModelsPath``): a static csi-driver-nfs volume, Retain. The driver mounts
    ``server:share`` from the volume attributes; the handle only has to be unique in the cluster
    and reads ``{server}#{share}#{subDir}#{uuid}#{onDelete}``, here with ``retain``
    (kubernetes-csi/csi-driver-nfs docs/driver-parameters.md, pkg/nfs/controllerserver.go
    ``getNfsVolFromID``, pkg/nfs/nodeserver.go ``NodePublishVolume`` @ v4.13.4)."""
    assert nfs.existing_models_path is not None
    path = nfs.existing_models_path
    return k8s.core.v1.PersistentVolumeInitArgs(
        metadata=_meta(cache_pv_name(namespace), {**labels, DATA_LABEL: MODEL_WEIGHTS}),
        spec=k8s.core.v1.PersistentVolumeSpecArgs(
            capacity={"storage": size},
            access_modes=["ReadWriteMany"],
            persistent_volume_reclaim_policy="Retain",
            storage_class_name=SHARED_CLASS,
            mount_options=["nfsvers=4.1"],
            claim_ref=k8s.core.v1.ObjectReferenceArgs(namespace=namespace, name=CACHE_PVC),
            csi=k8s.core.v1.CSIPersistentVolumeSourceArgs(
                driver="nfs.csi.k8s.io",
                volume_handle=f"{nfs.server}#{path}##{cache_pv_name(namespace)}#retain",
                volume_attributes={"server": nfs.server, "share": path},
            ),
        ),
    )


def efs_cache_root(namespace: str, fleet: str | None = None) -> str:
    """The EFS directory of a namespace's cache (``/models/<namespace>``), or of one fleet's weights
    in it (``/models/<namespace>/<fleet>``): the servers read the namespace's directory, a fleet's
    staging Job writes only its own."""
    return "/".join([EFS_MODELS_ROOT, namespace, *([fleet] if fleet else [])])


def cache_pv_name(namespace: str) -> str:
    return f"{CACHE_PVC}-{namespace}"


def weights_claim_name(fleet: str) -> str:
    """The claim a fleet's staging Job writes through (its own EFS access point)."""
    return k8s_name("model-weights", fleet)


def weights_pv_name(namespace: str, fleet: str) -> str:
    return k8s_name("model-weights", namespace, fleet)


def efs_cache_pv_args(
    namespace: str,
    file_system_id: pulumi.Input[str],
    access_point_id: pulumi.Input[str],
    size: str,
    labels: Mapping[str, str],
    *,
    pv_name: str | None = None,
    claim_name: str = CACHE_PVC,
) -> k8s.core.v1.PersistentVolumeInitArgs:
    """A static PV on an access point (the namespace's, or one fleet's ``pv_name``/``claim_name``);
    Retain, so deleting the PVC keeps the weights."""
    handle = pulumi.Output.concat(file_system_id, "::", access_point_id)
    return k8s.core.v1.PersistentVolumeInitArgs(
        metadata=_meta(pv_name or cache_pv_name(namespace), {**labels, DATA_LABEL: MODEL_WEIGHTS}),
        spec=k8s.core.v1.PersistentVolumeSpecArgs(
            capacity={"storage": size},
            access_modes=["ReadWriteMany"],
            persistent_volume_reclaim_policy="Retain",
            storage_class_name=SHARED_CLASS,
            claim_ref=k8s.core.v1.ObjectReferenceArgs(namespace=namespace, name=claim_name),
            csi=k8s.core.v1.CSIPersistentVolumeSourceArgs(
                driver="efs.csi.aws.com", volume_handle=handle, volume_attributes={"encryptInTransit": "true"}
            ),
        ),
    )


def cache_pvc_args(
    namespace: str,
    storage_class: str,
    size: str,
    labels: Mapping[str, str],
    volume_name: str | None = None,
    *,
    name: str = CACHE_PVC,
) -> k8s.core.v1.PersistentVolumeClaimInitArgs:
    access = "ReadWriteMany" if storage_class == SHARED_CLASS else "ReadWriteOnce"
    return k8s.core.v1.PersistentVolumeClaimInitArgs(
        metadata=_meta(name, {**labels, DATA_LABEL: MODEL_WEIGHTS}, namespace=namespace),
        spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
            access_modes=[access],
            storage_class_name=storage_class,
            volume_name=volume_name,
            resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": size}),
        ),
    )


def local_provisioner_values(*, pools: list[str], host_dir: str) -> dict[str, Any]:
    """Discover the raw NVMe mounts nodeadm made under ``host_dir`` on local-pv pools only."""
    return {
        "classes": [
            {
                "name": LOCAL_CLASS,
                "hostDir": host_dir,
                "volumeMode": "Filesystem",
                "fsType": "ext4",
                "namePattern": "*",
                "blockCleanerCommand": ["/scripts/quick_reset.sh"],
                # The class is a typed Pulumi resource (policies see it), not chart-made.
                "storageClass": False,
            }
        ],
        "nodeLabels": ["topology.kubernetes.io/zone", POOL_LABEL],
        "tolerations": [GPU_TOLERATION],
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": POOL_LABEL, "operator": "In", "values": pools}]}
                    ]
                }
            }
        },
        "priorityClassName": "system-node-critical",
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "256Mi"}},
        "serviceMonitor": {"enabled": False},
    }


def nfs_driver_values(*, controller_replicas: int) -> dict[str, Any]:
    return {
        "controller": {"replicas": controller_replicas, "nodeSelector": {}, "runOnControlPlane": False},
        # node.tolerations is left at the chart's tolerate-all default: the node plugin must run
        # wherever model pods mount the share, and setting the list replaces that default
        # (charts/v4.13.4/csi-driver-nfs/values.yaml).
        "externalSnapshotter": {"enabled": False},
    }


def efs_file_system_policy(file_system_arn: str) -> str:
    """Mounts through a mount target (what the CSI driver does, as an anonymous client) may read and
    write, never as root; anything not over TLS is denied. A Deny-only policy would refuse every
    mount: with a file-system policy, EFS allows only what the policy grants (aws-efs-csi-driver
    docs, AWS EFS "Using IAM to control file system data access")."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "MountThroughMountTargets",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                    "Resource": file_system_arn,
                    "Condition": {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}},
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Action": "*",
                    "Resource": file_system_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        },
        sort_keys=True,
    )
