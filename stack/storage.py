"""The storage layer: the default block class (where the target has one), local NVMe volumes and
the shared model-weights store."""

from __future__ import annotations

from components.block_storage import BlockStorage, BlockStorageArgs
from components.nvme_storage import NvmeStorage, NvmeStorageArgs
from components.shared_storage import SharedStorage, SharedStorageArgs
from stack.context import StackContext
from stack.namespaces import Namespaces


def storage_layer(ctx: StackContext, ns: Namespaces) -> SharedStorage | None:
    s, target = ctx.settings, ctx.target
    storage = s.storage
    labels = ctx.labels("storage", "storage")
    key = target.block_storage_key
    if key is not None:
        BlockStorage("block-storage", BlockStorageArgs(kms_key_arn=key, labels=labels), opts=ctx.k8s_opts)
    if storage.nvme.enabled:
        NvmeStorage(
            "nvme-storage",
            NvmeStorageArgs(
                namespace=ns.system["storage-system"].namespace_name,
                pools=s.local_pv_pools,
                host_dir=storage.nvme.host_dir,
                labels=labels,
                preinstalled=s.preinstalled,
                chart_digests=s.all_chart_digests,
            ),
            opts=ctx.k8s_opts,
        )
    if storage.shared.backend == "none":
        return None
    return SharedStorage(
        "shared-storage",
        SharedStorageArgs(
            backend=storage.shared.backend,
            labels=labels,
            retain=s.platform.retain_data,
            cache_namespaces={n: ns.workload[n] for n in s.cache_namespaces},
            cache_class=storage.model_cache_class,
            cache_size=storage.model_cache_size,
            writer_fleets=s.fleet_weight_volumes,
            efs=target.efs(s),
            nfs=storage.shared.nfs,
            driver_namespace=ns.system["storage-system"].namespace_name if s.needs_storage_system else None,
            nfs_controller_replicas=s.platform.controller_replicas,
            preinstalled=s.preinstalled,
            chart_digests=s.all_chart_digests,
        ),
        opts=ctx.opts(),
    )
