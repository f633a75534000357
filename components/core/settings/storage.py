"""Workload namespace and storage settings: quotas, container defaults, NVMe, shared weights.

A workload namespace's ResourceQuota carries the GPU line (the per-team cost guardrail); its
LimitRange gives containers without requests sane defaults. Storage offers local NVMe (scratch)
and a shared ReadWriteMany class for model weights (EFS on AWS, an existing NFS server
elsewhere); each namespace may get a ``model-cache`` PVC on it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from components.core.settings.base import K8sName, Quantity, Settings, check


class QuotaSettings(Settings):
    """A namespace's ResourceQuota (the GPU line is the cost guardrail)."""

    gpus: int = Field(4, ge=0)
    cpu: Quantity = "64"
    memory: Quantity = "512Gi"
    pods: int = Field(50, ge=1)
    pvcs: int = Field(20, ge=0)
    storage: Quantity = "4Ti"
    """Total storage the namespace's claims may request (model caches, fleets' weights claims,
    NVMe scratch): a runaway claim cannot take a whole file system or a pool's disks."""


class LimitRangeSettings(Settings):
    """Container defaults a namespace's LimitRange applies when a pod sets none."""

    default_cpu_request: Quantity = "250m"
    default_memory_request: Quantity = "512Mi"
    default_memory_limit: Quantity = "2Gi"
    max_memory: Quantity = "256Gi"


class NamespaceSettings(Settings):
    quota: QuotaSettings = Field(default_factory=QuotaSettings)
    limits: LimitRangeSettings = Field(default_factory=LimitRangeSettings)
    model_cache: bool = False
    """Give the namespace a ``model-cache`` PVC (weights shared by its model fleets)."""
    queues: list[K8sName] = Field(default_factory=list)
    """Batch queues (``batch.queues``) this namespace submits to: a Kueue LocalQueue each."""


class NfsServerSettings(Settings):
    """An existing NFS server (csi-driver-nfs). Each claim on ``shared-models`` gets its own
    directory ``<share>/<subDir>/<namespace>/<claim>``, which the driver creates and, when the claim
    goes, deletes with its contents outside prod (prod: kept, ``onDelete: retain``)."""

    server: str = Field(min_length=1)
    share: str = Field(min_length=1, pattern=r"^/")
    sub_dir: str | None = None
    existing_models_path: str | None = Field(None, pattern=r"^/[^#\s]*$")
    """A directory of weights already on the server (absolute, as ``server:/path`` mounts it),
    laid out as the cache is (``hf/hub/models--<org>--<name>``, ``ollama/``): every model-cache
    claim binds to it (a static volume, never deleted) instead of a new, empty directory."""


class SharedStorageSettings(Settings):
    backend: Literal["efs", "nfs", "none"] = "efs"
    nfs: NfsServerSettings | None = None
    backups: bool = False
    throughput_mode: Literal["elastic", "bursting"] = "elastic"

    @model_validator(mode="after")
    def _backend(self) -> SharedStorageSettings:
        if self.backend == "nfs" and self.nfs is None:
            check([("nfs", "server and share are required when backend is nfs")])
        return self


class NvmeSettings(Settings):
    enabled: bool = False
    """Expose raw NVMe instance store as local PVs (needs a pool with ``nvme: local-pv``)."""
    host_dir: str = Field("/mnt/nvme-disks", pattern=r"^/")


STORAGE_CLASSES = {"shared-models": "ReadWriteMany", "gp3": "ReadWriteOnce", "local-nvme": "ReadWriteOnce"}
"""The classes the platform creates and the access mode each offers."""


class StorageSettings(Settings):
    nvme: NvmeSettings = Field(default_factory=NvmeSettings)
    shared: SharedStorageSettings = Field(default_factory=SharedStorageSettings)
    model_cache_size: Quantity = "200Gi"
    model_cache_class: str = "shared-models"
    """StorageClass of the model-cache PVCs; must be one the platform creates."""

    @property
    def needs_storage_system(self) -> bool:
        """Local PV provisioner or the NFS CSI driver run in ``storage-system``."""
        return self.nvme.enabled or self.shared.backend == "nfs"
