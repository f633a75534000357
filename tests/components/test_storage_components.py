"""Storage components under the recording mocks: classes, binding modes, encryption, protection."""

from __future__ import annotations

import json

from components.block_storage import BlockStorage, BlockStorageArgs
from components.core.settings import NfsServerSettings
from components.nvme_storage import NvmeStorage, NvmeStorageArgs
from components.shared_storage import EfsArgs, SharedStorage, SharedStorageArgs
from planner.mocks import RecordingMonitor
from tests.conftest import build_under_mocks

LABELS = {"app.kubernetes.io/part-of": "ai-infra"}
TAGS = {"Environment": "prod", "Owner": "ml", "CostCenter": "cc"}


def _class(m: RecordingMonitor) -> dict:
    return m.by_type("kubernetes:storage.k8s.io/v1:StorageClass")[0].inputs


def test_gp3_is_the_encrypted_default_and_gp2_is_undefaulted() -> None:
    m = build_under_mocks(
        lambda: BlockStorage("block", BlockStorageArgs(kms_key_arn="arn:aws:kms:r:1:key/k", labels=LABELS))
    )
    gp3 = _class(m)
    assert gp3["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert gp3["provisioner"] == "ebs.csi.aws.com"
    assert gp3["parameters"] == {
        "type": "gp3",
        "encrypted": "true",
        "kmsKeyId": "arn:aws:kms:r:1:key/k",
        "csi.storage.k8s.io/fstype": "ext4",
    }
    assert gp3["volumeBindingMode"] == "WaitForFirstConsumer" and gp3["allowVolumeExpansion"] is True
    patch = m.by_type("kubernetes:storage.k8s.io/v1:StorageClassPatch")[0].inputs
    assert patch["metadata"] == {"name": "gp2", "annotations": {"storageclass.kubernetes.io/is-default-class": "false"}}


def test_local_nvme_class_and_provisioner() -> None:
    m = build_under_mocks(
        lambda: NvmeStorage(
            "nvme",
            NvmeStorageArgs(namespace="storage-system", pools=["training"], host_dir="/mnt/nvme-disks", labels=LABELS),
        )
    )
    cls = _class(m)
    assert cls["metadata"]["name"] == "local-nvme" and cls["provisioner"] == "kubernetes.io/no-provisioner"
    assert cls["volumeBindingMode"] == "WaitForFirstConsumer" and cls["reclaimPolicy"] == "Delete"
    assert cls["allowedTopologies"][0]["matchLabelExpressions"] == [{"key": "ai-infra.io/pool", "values": ["training"]}]
    release = m.by_type("kubernetes:helm.sh/v3:Release")[0].inputs
    assert release["chart"] == "local-static-provisioner" and release["namespace"] == "storage-system"
    values = release["values"]
    assert values["classes"][0]["hostDir"] == "/mnt/nvme-disks" and values["classes"][0]["storageClass"] is False
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in values["tolerations"]
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms[0]["matchExpressions"][0]["values"] == ["training"]


def _efs(
    retain: bool, backups: bool = True, cache: bool = False, writers: dict[str, str] | None = None
) -> RecordingMonitor:
    import pulumi_kubernetes as k8s

    def build() -> None:
        namespaces = {"models": k8s.core.v1.Namespace("ns", metadata={"name": "models"})} if cache else {}
        SharedStorage(
            "shared",
            SharedStorageArgs(
                backend="efs",
                labels=LABELS,
                cache_namespaces=namespaces,
                cache_class="shared-models",
                cache_size="500Gi",
                retain=retain,
                writer_fleets=writers or {},
                efs=EfsArgs(
                    vpc_id="vpc-1",
                    subnet_ids=["s1", "s2", "s3"],
                    node_security_group_id="sg-nodes",
                    backups=backups,
                    throughput_mode="elastic",
                    tags=TAGS,
                    csi_role_name="efs-csi",
                    account_id="123456789012",
                    key_admins=["arn:aws:iam::123456789012:role/deploy"] if retain else [],
                ),
            ),
        )

    return build_under_mocks(build)


def test_efs_is_encrypted_tls_only_and_reachable_from_nodes_only() -> None:
    m = _efs(retain=True)
    fs = m.by_type("aws:efs/fileSystem:FileSystem")[0]
    assert fs.inputs["encrypted"] is True and fs.inputs["kmsKeyId"].startswith("arn:aws:kms:")
    policy = json.loads(m.by_type("aws:efs/fileSystemPolicy:FileSystemPolicy")[0].inputs["policy"])
    allow, deny = policy["Statement"]
    # CSI mounts are anonymous: without an Allow through mount targets, EFS refuses every mount.
    assert allow["Effect"] == "Allow" and set(allow["Action"]) == {
        "elasticfilesystem:ClientMount",
        "elasticfilesystem:ClientWrite",
    }
    assert allow["Condition"] == {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}}
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    sg = m.by_type("aws:ec2/securityGroup:SecurityGroup")[0].inputs
    assert sg["ingress"] == [
        {
            "description": "NFS from nodes",
            "protocol": "tcp",
            "fromPort": 2049,
            "toPort": 2049,
            "securityGroups": ["sg-nodes"],
        }
    ]
    assert len(m.by_type("aws:efs/mountTarget:MountTarget")) == 3
    assert m.by_type("aws:efs/backupPolicy:BackupPolicy")[0].inputs["backupPolicy"] == {"status": "ENABLED"}
    cls = _class(m)
    assert cls["provisioner"] == "efs.csi.aws.com" and cls["parameters"]["provisioningMode"] == "efs-ap"
    assert cls["parameters"]["uid"] == "10001" and cls["reclaimPolicy"] == "Retain"


def test_the_efs_csi_role_may_act_on_this_file_system_only() -> None:
    m = _efs(retain=True)
    fs = m.by_type("aws:efs/fileSystem:FileSystem")[0]
    (policy,) = [r for r in m.by_type("aws:iam/rolePolicy:RolePolicy") if r.inputs["role"] == "efs-csi"]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert statements["CreateAccessPointsOnOwnFileSystem"]["Resource"] == fs.outputs["arn"]
    assert statements["DescribeOwnFileSystem"]["Resource"] == fs.outputs["arn"]
    delete = statements["DeleteDriverAccessPoints"]
    assert delete["Condition"] == {"StringEquals": {"aws:ResourceTag/efs.csi.aws.com/cluster": "true"}}


def test_prod_file_system_and_key_are_protected_dev_are_not() -> None:
    for retain in (True, False):
        m = _efs(retain=retain, backups=retain)
        for typ in ("aws:efs/fileSystem:FileSystem", "aws:kms/key:Key"):
            reg = m.by_type(typ)[0]
            assert (reg.protect, reg.retain_on_delete) == (retain, retain), typ
        assert _class(m)["reclaimPolicy"] == ("Retain" if retain else "Delete")
        # Only the key admins (and the root user) may disable, delete or re-policy the weights' key.
        key_policy = m.by_type("aws:kms/key:Key")[0].inputs["policy"]
        assert ("OnlyKeyAdminsDisableDeleteOrRepolicy" in key_policy) == retain
    assert _efs(retain=False, backups=False).by_type("aws:efs/backupPolicy:BackupPolicy")[0].inputs["backupPolicy"] == {
        "status": "DISABLED"
    }


def test_model_cache_is_an_access_point_a_static_pv_and_a_rwx_claim() -> None:
    m = _efs(retain=True, cache=True)
    ap = m.by_type("aws:efs/accessPoint:AccessPoint")[0].inputs
    assert ap["posixUser"] == {"uid": 10001, "gid": 10001}
    assert ap["rootDirectory"]["path"] == "/models/models"
    assert ap["rootDirectory"]["creationInfo"] == {"ownerUid": 10001, "ownerGid": 10001, "permissions": "750"}
    pv = m.by_type("kubernetes:core/v1:PersistentVolume")[0]
    assert pv.protect and pv.retain_on_delete
    assert pv.inputs["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert pv.inputs["spec"]["accessModes"] == ["ReadWriteMany"]
    assert pv.inputs["spec"]["csi"]["volumeHandle"].count("::") == 1
    assert pv.inputs["metadata"]["labels"]["ai-infra.io/data"] == "model-weights"
    pvc = m.by_type("kubernetes:core/v1:PersistentVolumeClaim")[0]
    assert pvc.protect
    assert pvc.inputs["metadata"]["namespace"] == "models"
    assert pvc.inputs["spec"]["volumeName"] == "model-cache-models"
    assert (
        pvc.inputs["spec"]["accessModes"] == ["ReadWriteMany"]
        and pvc.inputs["spec"]["storageClassName"] == "shared-models"
    )
    ns = m.by_type("kubernetes:core/v1:Namespace")[0]
    assert ns.urn in pvc.dependencies


def test_nfs_backend_installs_the_driver_and_a_retained_class() -> None:
    import pulumi_kubernetes as k8s

    def build() -> None:
        ns = k8s.core.v1.Namespace("ns", metadata={"name": "models"})
        SharedStorage(
            "shared",
            SharedStorageArgs(
                backend="nfs",
                labels=LABELS,
                cache_namespaces={"models": ns},
                cache_class="shared-models",
                cache_size="100Gi",
                retain=True,
                nfs=NfsServerSettings(server="nfs.lab", share="/exports/ai"),
                driver_namespace="storage-system",
            ),
        )

    m = build_under_mocks(build)
    assert m.by_type("kubernetes:helm.sh/v3:Release")[0].inputs["chart"] == "csi-driver-nfs"
    cls = _class(m)
    assert cls["provisioner"] == "nfs.csi.k8s.io" and cls["mountOptions"] == ["nfsvers=4.1"]
    assert cls["parameters"]["server"] == "nfs.lab" and cls["parameters"]["onDelete"] == "retain"
    assert cls["reclaimPolicy"] == "Retain"
    assert not m.by_type("aws:efs/fileSystem:FileSystem")
    assert m.by_type("kubernetes:core/v1:PersistentVolumeClaim")[0].inputs["spec"].get("volumeName") is None


def test_an_existing_directory_of_weights_backs_every_model_cache_on_nfs() -> None:
    """Issue 22 item 12: storage.shared.nfs.existingModelsPath binds each namespace's model-cache
    to that directory (a static, retained volume) instead of a new empty one."""
    import pulumi_kubernetes as k8s

    def build() -> None:
        namespaces = {n: k8s.core.v1.Namespace(f"ns-{n}", metadata={"name": n}) for n in ("models", "research")}
        SharedStorage(
            "shared",
            SharedStorageArgs(
                backend="nfs",
                labels=LABELS,
                cache_namespaces=namespaces,
                cache_class="shared-models",
                cache_size="100Gi",
                retain=False,
                nfs=NfsServerSettings(server="nfs.lab", share="/exports/ai", existing_models_path="/exports/weights"),
                driver_namespace="storage-system",
            ),
        )

    m = build_under_mocks(build)
    pvs = {r.inputs["metadata"]["name"]: r for r in m.by_type("kubernetes:core/v1:PersistentVolume")}
    assert set(pvs) == {"model-cache-models", "model-cache-research"}
    pv = pvs["model-cache-models"]
    assert pv.retain_on_delete and pv.inputs["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    csi = pv.inputs["spec"]["csi"]
    assert csi["driver"] == "nfs.csi.k8s.io" and csi["volumeAttributes"] == {
        "server": "nfs.lab",
        "share": "/exports/weights",
    }
    assert csi["volumeHandle"] != pvs["model-cache-research"].inputs["spec"]["csi"]["volumeHandle"]
    assert csi["volumeHandle"].endswith("#retain")
    claims = {r.inputs["metadata"]["namespace"]: r for r in m.by_type("kubernetes:core/v1:PersistentVolumeClaim")}
    assert claims["models"].inputs["spec"]["volumeName"] == "model-cache-models"
    assert pv.urn in claims["models"].dependencies


def test_each_writer_fleet_gets_its_own_access_point_and_claim() -> None:
    m = _efs(retain=True, cache=True, writers={"coder": "models", "chat": "models"})
    roots = sorted(r.inputs["rootDirectory"]["path"] for r in m.by_type("aws:efs/accessPoint:AccessPoint"))
    # The namespace's (read by the servers) and one per fleet (written only by its staging Job).
    assert roots == ["/models/models", "/models/models/chat", "/models/models/coder"]
    claims = {r.inputs["metadata"]["name"]: r for r in m.by_type("kubernetes:core/v1:PersistentVolumeClaim")}
    assert set(claims) == {"model-cache", "model-weights-chat", "model-weights-coder"}
    coder = claims["model-weights-coder"]
    assert coder.protect and coder.inputs["spec"]["volumeName"] == "model-weights-models-coder"
    pvs = {r.inputs["metadata"]["name"]: r for r in m.by_type("kubernetes:core/v1:PersistentVolume")}
    pv = pvs["model-weights-models-coder"]
    assert pv.protect and pv.retain_on_delete
    assert pv.inputs["spec"]["claimRef"] == {"namespace": "models", "name": "model-weights-coder"}
    ap_coder = next(
        r for r in m.by_type("aws:efs/accessPoint:AccessPoint") if r.inputs["rootDirectory"]["path"].endswith("coder")
    )
    assert ap_coder.inputs["posixUser"] == {"uid": 10001, "gid": 10001}
