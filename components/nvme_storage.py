"""``NvmeStorage``: local PersistentVolumes on raw NVMe instance-store disks.

The node pool (``nvme: local-pv``) leaves its instance-store disks unformatted by containerd and
has nodeadm mount each one under the host directory; the local static provisioner, from its
official chart, turns every mount into a PV of class ``local-nvme``. Data is scratch/cache
(reclaim Delete): a node replaced is a cache lost, never weights of record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.core.charts import LOCAL_STATIC_PROVISIONER
from components.core.naming import resource_name
from components.resources.helm import pinned_release
from components.specs import storage as spec

TYPE = "ai-infra:storage:NvmeStorage"


@dataclass(frozen=True, kw_only=True)
class NvmeStorageArgs:
    namespace: pulumi.Input[str]
    """System namespace for the provisioner DaemonSet (needs host access: privileged PSS)."""
    pools: list[str]
    """Node pools whose NVMe disks are exposed as local PVs."""
    host_dir: str
    """Where the disks are mounted on the host (nodeadm mountPath, or settings on existing clusters)."""
    labels: dict[str, str]
    preinstalled: frozenset[str] = frozenset()
    """Charts the cluster already runs (``addons``): their releases are not created."""
    chart_digests: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Chart images by digest, by chart name (``StackSettings.all_chart_digests``; prod requires them)."""


class NvmeStorage(pulumi.ComponentResource):
    """Children: StorageClass ``local-nvme``, helm.v3.Release ``local-static-provisioner``."""

    storage_class_name: pulumi.Output[str]

    def __init__(self, name: str, args: NvmeStorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        storage_class = k8s.storage.v1.StorageClass(
            resource_name(name, "class"),
            spec.local_nvme_class_args(args.pools, args.labels),
            opts=pulumi.ResourceOptions(parent=self),
        )
        pinned_release(
            self,
            resource_name(name, "provisioner"),
            LOCAL_STATIC_PROVISIONER,
            namespace=args.namespace,
            values=spec.local_provisioner_values(pools=args.pools, host_dir=args.host_dir),
            depends_on=[storage_class],
            preinstalled=args.preinstalled,
            image_digests=args.chart_digests.get(LOCAL_STATIC_PROVISIONER.name),
        )
        self.storage_class_name = storage_class.metadata.apply(lambda m: str(m.name))
        self.register_outputs({"storage_class_name": self.storage_class_name})
