"""Storage rules that span sections: EFS only on EKS, the cache class exists and fits the fleets,
NVMe has a pool, and a warning for a model cache nothing fills."""

from __future__ import annotations

from components.core.settings.base import Problem
from components.core.settings.root import StackSections


def efs_needs_eks_problems(s: StackSections) -> list[Problem]:
    if not s.on_aws and s.storage.shared.backend == "efs":
        return [("storage.shared.backend", "efs needs cluster.mode aws-eks; use nfs (with storage.shared.nfs) or none")]
    return []


def storage_problems(s: StackSections) -> list[Problem]:
    """Storage rules that span sections: the cache class exists and fits the fleets, NVMe has a pool."""
    problems: list[Problem] = []
    classes = s.storage_classes
    if s.cache_namespaces and s.storage.model_cache_class not in classes:
        problems.append(
            ("storage.modelCacheClass", f"must be a StorageClass this stack creates: {sorted(classes) or 'none'}")
        )
    elif s.cache_namespaces and classes.get(s.storage.model_cache_class) == "ReadWriteOnce":
        shared_multi = [n for n, m in s.models.items() if m.cache == "shared" and m.replicas.max > 1]
        if shared_multi:
            problems.append(
                (
                    "storage.modelCacheClass",
                    f"is ReadWriteOnce but models {', '.join(sorted(shared_multi))} run more than one "
                    "replica on the shared cache; use shared-models",
                )
            )
    nfs = s.storage.shared.nfs
    if nfs is not None and nfs.existing_models_path:
        if s.storage.shared.backend != "nfs":
            problems.append(
                ("storage.shared.nfs.existingModelsPath", "applies only when storage.shared.backend is nfs")
            )
        elif s.storage.model_cache_class != "shared-models":
            problems.append(
                (
                    "storage.shared.nfs.existingModelsPath",
                    "binds the model-cache claims, so storage.modelCacheClass must be shared-models",
                )
            )
    if s.storage.nvme.enabled and not s.local_pv_pools:
        problems.append(
            ("storage.nvme.enabled", "needs at least one node pool with nvme: local-pv (raw instance-store disks)")
        )
    return problems


def unfilled_cache_warnings(s: StackSections) -> list[Problem]:
    return [
        (
            f"namespaces.{ns}.modelCache",
            f"nothing fills this cache (no shared-cache fleet runs in {ns}, no "
            "storage.shared.nfs.existingModelsPath): its claim stays empty; set modelCache: false",
        )
        for ns in s.cache_namespaces
        if not s.cache_filled(ns)
    ]
