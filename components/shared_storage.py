"""``SharedStorage``: ReadWriteMany storage for model weights, and each namespace's model cache.

On AWS: an EFS file system encrypted with its own customer KMS key, reachable only over TLS
(file-system policy; mounts only through mount targets) and only from the nodes (security group
on NFS/2049), one mount target per private subnet, automatic backups in prod, the
``shared-models`` class (dynamic access points) and, per model namespace, an access point with a
POSIX user and its own non-root directory, exposed as a static PV + the ``model-cache`` PVC.
Elsewhere: csi-driver-nfs from its official chart against an existing NFS server, the
``shared-models`` class and dynamic cache PVCs.

In prod the file system, its key and every volume holding weights are protected and retained
on delete (``protect``, ``retain_on_delete``, reclaim ``Retain``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.core.charts import CSI_DRIVER_NFS
from components.core.naming import resource_name
from components.core.settings import NfsServerSettings
from components.resources.helm import pinned_release
from components.specs import aws_iam
from components.specs import storage as spec

TYPE = "ai-infra:storage:SharedStorage"


@dataclass(frozen=True, kw_only=True)
class EfsArgs:
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    """Private subnets (known count): one mount target each."""
    node_security_group_id: pulumi.Input[str]
    """The only source allowed to reach NFS (the EKS cluster security group the nodes use)."""
    backups: bool
    throughput_mode: str
    tags: dict[str, str]
    csi_role_name: pulumi.Input[str] | None = None
    """The EFS CSI controller's IRSA role: gets create/delete rights on this file system only."""
    account_id: str
    """For the file system key's policy."""
    key_admins: list[str] = field(default_factory=list)
    """Principals allowed to disable, delete or re-policy the file system key."""


@dataclass(frozen=True, kw_only=True)
class SharedStorageArgs:
    backend: Literal["efs", "nfs"]
    labels: dict[str, str]
    cache_namespaces: dict[str, pulumi.Resource]
    """Model namespaces that get a model-cache PVC (name -> the resource that creates it)."""
    cache_class: str
    cache_size: str
    retain: bool
    """Prod: protect and retain the file system, its key and the weights' volumes."""
    efs: EfsArgs | None = None
    nfs: NfsServerSettings | None = None
    driver_namespace: pulumi.Input[str] | None = None
    """Namespace for csi-driver-nfs (backend nfs)."""
    nfs_controller_replicas: int = 1
    extra_cache_labels: dict[str, str] = field(default_factory=dict)
    preinstalled: frozenset[str] = frozenset()
    """Charts the cluster already runs (``addons``): their releases are not created."""
    chart_digests: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Chart images by digest, by chart name (``StackSettings.all_chart_digests``; prod requires them)."""
    writer_fleets: dict[str, str] = field(default_factory=dict)
    """Fleets whose staging Job fills the cache (fleet -> namespace). On EFS each gets its own
    access point rooted at ``/models/<namespace>/<fleet>`` and a claim ``model-weights-<fleet>``:
    a fleet's download can write its own weights and no other fleet's."""


class SharedStorage(pulumi.ComponentResource):
    """Children (efs): KMS Key + Alias, SecurityGroup, FileSystem, FileSystemPolicy, BackupPolicy,
    MountTargets, StorageClass shared-models, per model namespace AccessPoint + PersistentVolume +
    PersistentVolumeClaim. Children (nfs): helm.v3.Release csi-driver-nfs, StorageClass, PVCs."""

    storage_class_name: pulumi.Output[str]
    file_system_id: pulumi.Output[str | None]

    def __init__(self, name: str, args: SharedStorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        self._keep = pulumi.ResourceOptions(parent=self, protect=args.retain, retain_on_delete=args.retain)
        if args.backend == "efs":
            if args.efs is None:
                raise ValueError("SharedStorageArgs.efs is required when backend is efs")
            storage_class, file_system_id = self._efs(name, args, args.efs)
        else:
            if args.nfs is None or args.driver_namespace is None:
                raise ValueError("SharedStorageArgs.nfs and driver_namespace are required when backend is nfs")
            storage_class, file_system_id = self._nfs(name, args, args.nfs, args.driver_namespace), None
        self.storage_class_name = storage_class.metadata.apply(lambda m: str(m.name))
        self.file_system_id = pulumi.Output.from_input(file_system_id)
        self.register_outputs({"storage_class_name": self.storage_class_name, "file_system_id": self.file_system_id})

    def _efs(
        self, name: str, args: SharedStorageArgs, efs: EfsArgs
    ) -> tuple[k8s.storage.v1.StorageClass, pulumi.Output[str]]:
        file_system, mount_targets = self._file_system(name, args, efs)
        storage_class = k8s.storage.v1.StorageClass(
            resource_name(name, "class"),
            spec.efs_class_args(file_system.id, retain=args.retain, labels=args.labels),
            opts=pulumi.ResourceOptions(parent=self, depends_on=mount_targets),
        )
        for ns_name, namespace in sorted(args.cache_namespaces.items()):
            labels = {**args.labels, **args.extra_cache_labels}
            if args.cache_class != spec.SHARED_CLASS:
                self._cache_pvc(name, ns_name, namespace, args, labels, depends_on=[])
                continue
            access_point = self._access_point(name, efs, file_system.id, ns_name)
            volume = k8s.core.v1.PersistentVolume(
                resource_name(name, f"pv-{ns_name}"),
                spec.efs_cache_pv_args(ns_name, file_system.id, access_point.id, args.cache_size, labels),
                opts=pulumi.ResourceOptions(
                    parent=self, protect=args.retain, retain_on_delete=args.retain, depends_on=[storage_class]
                ),
            )
            self._cache_pvc(
                name, ns_name, namespace, args, labels, depends_on=[volume], volume_name=spec.cache_pv_name(ns_name)
            )
        if args.cache_class == spec.SHARED_CLASS:
            for fleet, ns_name in sorted(args.writer_fleets.items()):
                self._fleet_writer(name, fleet, ns_name, args, efs, file_system.id, storage_class)
        return storage_class, file_system.id

    def _file_system(
        self, name: str, args: SharedStorageArgs, efs: EfsArgs
    ) -> tuple[aws.efs.FileSystem, list[aws.efs.MountTarget]]:
        """The encrypted file system (its own key), TLS-only, one mount target per private subnet
        reachable from the nodes only."""
        child = pulumi.ResourceOptions(parent=self)
        key = aws.kms.Key(
            resource_name(name, "kms"),
            description="ai-infra shared model storage (EFS)",
            enable_key_rotation=True,
            deletion_window_in_days=30 if args.retain else 7,
            policy=aws_iam.admin_only_key_policy(efs.account_id, efs.key_admins),
            tags=efs.tags,
            opts=self._keep,
        )
        aws.kms.Alias(
            resource_name(name, "kms"), name_prefix="alias/ai-infra-efs-", target_key_id=key.key_id, opts=child
        )
        security_group = self._nfs_security_group(name, efs)
        file_system = aws.efs.FileSystem(
            resource_name(name, "fs"),
            encrypted=True,
            kms_key_id=key.arn,
            performance_mode="generalPurpose",
            throughput_mode=efs.throughput_mode,
            tags={**efs.tags, "Name": f"{name}-models"},
            opts=self._keep,
        )
        aws.efs.FileSystemPolicy(
            resource_name(name, "tls-only"),
            file_system_id=file_system.id,
            policy=file_system.arn.apply(spec.efs_file_system_policy),
            opts=child,
        )
        if efs.csi_role_name is not None:
            aws.iam.RolePolicy(
                resource_name(name, "csi-scoped"),
                role=efs.csi_role_name,
                policy=file_system.arn.apply(aws_iam.efs_csi_policy),
                opts=child,
            )
        aws.efs.BackupPolicy(
            resource_name(name, "backup"),
            file_system_id=file_system.id,
            backup_policy=aws.efs.BackupPolicyBackupPolicyArgs(status="ENABLED" if efs.backups else "DISABLED"),
            opts=child,
        )
        mount_targets = [
            aws.efs.MountTarget(
                resource_name(name, f"mount-{i}"),
                file_system_id=file_system.id,
                subnet_id=subnet_id,
                security_groups=[security_group.id],
                opts=child,
            )
            for i, subnet_id in enumerate(efs.subnet_ids)
        ]
        return file_system, mount_targets

    def _nfs_security_group(self, name: str, efs: EfsArgs) -> aws.ec2.SecurityGroup:
        """The mount targets' security group: NFS from the nodes only."""
        return aws.ec2.SecurityGroup(
            resource_name(name, "sg"),
            description="EFS: NFS from the cluster's nodes only",
            vpc_id=efs.vpc_id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    description="NFS from nodes",
                    protocol="tcp",
                    from_port=2049,
                    to_port=2049,
                    security_groups=[efs.node_security_group_id],
                )
            ],
            tags=efs.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _access_point(
        self, name: str, efs: EfsArgs, file_system_id: pulumi.Input[str], ns_name: str, fleet: str | None = None
    ) -> aws.efs.AccessPoint:
        """An access point on a namespace's cache directory (or one fleet's in it), as the model UID."""
        suffix = f"{ns_name}-{fleet}" if fleet else ns_name
        return aws.efs.AccessPoint(
            resource_name(name, f"ap-{suffix}"),
            file_system_id=file_system_id,
            posix_user=aws.efs.AccessPointPosixUserArgs(uid=spec.MODEL_UID, gid=spec.MODEL_UID),
            root_directory=aws.efs.AccessPointRootDirectoryArgs(
                path=spec.efs_cache_root(ns_name, fleet),
                creation_info=aws.efs.AccessPointRootDirectoryCreationInfoArgs(
                    owner_uid=spec.MODEL_UID, owner_gid=spec.MODEL_UID, permissions="750"
                ),
            ),
            tags={**efs.tags, "Name": f"{name}-{suffix}"},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _fleet_writer(
        self,
        name: str,
        fleet: str,
        ns_name: str,
        args: SharedStorageArgs,
        efs: EfsArgs,
        file_system_id: pulumi.Input[str],
        storage_class: k8s.storage.v1.StorageClass,
    ) -> None:
        """One fleet's write path: an access point on its own directory, a static PV and a claim."""
        labels = {**args.labels, **args.extra_cache_labels}
        access_point = self._access_point(name, efs, file_system_id, ns_name, fleet)
        claim = spec.weights_claim_name(fleet)
        volume = k8s.core.v1.PersistentVolume(
            resource_name(name, f"pv-{ns_name}-{fleet}"),
            spec.efs_cache_pv_args(
                ns_name,
                file_system_id,
                access_point.id,
                args.cache_size,
                labels,
                pv_name=spec.weights_pv_name(ns_name, fleet),
                claim_name=claim,
            ),
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.retain, retain_on_delete=args.retain, depends_on=[storage_class]
            ),
        )
        k8s.core.v1.PersistentVolumeClaim(
            resource_name(name, f"weights-{fleet}"),
            spec.cache_pvc_args(
                ns_name, args.cache_class, args.cache_size, labels, spec.weights_pv_name(ns_name, fleet), name=claim
            ),
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.retain, depends_on=[args.cache_namespaces[ns_name], volume]
            ),
        )

    def _nfs(
        self, name: str, args: SharedStorageArgs, nfs: NfsServerSettings, driver_namespace: pulumi.Input[str]
    ) -> k8s.storage.v1.StorageClass:
        driver = pinned_release(
            self,
            resource_name(name, "csi-driver-nfs"),
            CSI_DRIVER_NFS,
            namespace=driver_namespace,
            values=spec.nfs_driver_values(controller_replicas=args.nfs_controller_replicas),
            preinstalled=args.preinstalled,
            image_digests=args.chart_digests.get(CSI_DRIVER_NFS.name),
        )
        storage_class = k8s.storage.v1.StorageClass(
            resource_name(name, "class"),
            spec.nfs_class_args(nfs, retain=args.retain, labels=args.labels),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[driver] if driver else []),
        )
        labels = {**args.labels, **args.extra_cache_labels}
        for ns_name, namespace in sorted(args.cache_namespaces.items()):
            if nfs.existing_models_path:
                # The weights already there: a static volume per namespace, whatever the environment.
                volume = k8s.core.v1.PersistentVolume(
                    resource_name(name, f"cache-pv-{ns_name}"),
                    spec.nfs_cache_pv_args(ns_name, nfs, args.cache_size, labels),
                    opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True, depends_on=[storage_class]),
                )
                self._cache_pvc(
                    name, ns_name, namespace, args, labels, depends_on=[volume], volume_name=spec.cache_pv_name(ns_name)
                )
            else:
                self._cache_pvc(name, ns_name, namespace, args, labels, depends_on=[storage_class])
        return storage_class

    def _cache_pvc(
        self,
        name: str,
        ns_name: str,
        namespace: pulumi.Resource,
        args: SharedStorageArgs,
        labels: dict[str, str],
        depends_on: list[pulumi.Resource],
        volume_name: str | None = None,
    ) -> k8s.core.v1.PersistentVolumeClaim:
        return k8s.core.v1.PersistentVolumeClaim(
            resource_name(name, f"cache-{ns_name}"),
            spec.cache_pvc_args(ns_name, args.cache_class, args.cache_size, labels, volume_name),
            # The namespace literal stays in the spec (known at preview); the dependency orders it.
            opts=pulumi.ResourceOptions(parent=self, protect=args.retain, depends_on=[namespace, *depends_on]),
        )
