"""GPU node pool settings and the NVIDIA software that advertises their GPUs.

Pools are validated against the instance catalogue (``components/core/gpu_instances.py``):
unknown families or sizes, MIG on GPUs without MIG, NVMe layouts on types without instance
store, and mixed GPU counts (the autoscaler imagines a node from zero with one GPU count).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from components.core.gpu_instances import GPU_FAMILIES, GPU_INSTANCES, GPU_MEMORY_GIB, GpuInstance, sizes_of
from components.core.settings.base import Settings, check, size_problems


class GpuSharingSettings(Settings):
    """How a pool's GPUs are shared: not at all, time-sliced, or partitioned with MIG."""

    mode: Literal["none", "time-slicing", "mig"] = "none"
    replicas: int | None = None
    rename_by_default: bool = False
    mig_strategy: Literal["single", "mixed"] | None = None
    mig_profile: str | None = None

    @model_validator(mode="after")
    def _combos(self) -> GpuSharingSettings:
        problems = []
        if self.mode == "time-slicing":
            if self.replicas is None or self.replicas < 2:
                problems.append(("replicas", "must be at least 2 for time-slicing"))
            if self.mig_strategy or self.mig_profile:
                problems.append(("mode", "time-slicing and MIG cannot be combined; drop migStrategy/migProfile"))
        elif self.mode == "mig":
            if not self.mig_strategy:
                problems.append(("migStrategy", "is required for MIG: single or mixed"))
            if not self.mig_profile:
                problems.append(("migProfile", "is required for MIG, e.g. all-1g.10gb"))
            if self.replicas is not None:
                problems.append(("replicas", "time-slicing replicas cannot be combined with MIG"))
        elif self.replicas is not None or self.mig_strategy or self.mig_profile:
            problems.append(("mode", "set mode to time-slicing or mig to use sharing options"))
        check(problems)
        return self


class MachineSettings(Settings):
    """A pool of machines that are not EC2 instances (existing clusters: on-prem, rented boxes),
    described by what each has (an RTX A6000 workstation: 2 GPUs, RTX-A6000, 48 GiB, 32 CPU, 256 GiB)."""

    gpus: int = Field(ge=1)
    gpu_model: str = Field(min_length=1)
    """One of ``GPU_MEMORY_GIB`` (then its memory is known), or any name with ``gpuMemoryGib``."""
    gpu_memory_gib: int | None = Field(None, ge=1)
    """Memory per GPU; required for a model the catalogue does not know (model fit reads it)."""
    cpu: int = Field(ge=1)
    memory_gib: int = Field(ge=1)
    nvme_disks: int = Field(0, ge=0)
    mig_capable: bool = False

    @property
    def memory_per_gpu_gib(self) -> int:
        known = GPU_MEMORY_GIB.get(self.gpu_model)
        memory = self.gpu_memory_gib if self.gpu_memory_gib is not None else known
        assert memory is not None  # the validator below guarantees it
        return memory

    @model_validator(mode="after")
    def _gpu_memory_known(self) -> MachineSettings:
        known = GPU_MEMORY_GIB.get(self.gpu_model)
        names = ", ".join(sorted(GPU_MEMORY_GIB))
        if known is None and self.gpu_memory_gib is None:
            check(
                [
                    (
                        "gpuMemoryGib",
                        f"is required: gpuModel is not a GPU the catalogue knows ({names}); give its memory per "
                        "GPU in GiB, or use one of those names",
                    )
                ]
            )
        if known is not None and self.gpu_memory_gib is not None and self.gpu_memory_gib != known:
            check(
                [
                    (
                        "gpuMemoryGib",
                        f"is {self.gpu_memory_gib}, but gpuModel {self.gpu_model} has {known} GiB per GPU: remove "
                        "gpuMemoryGib, or name the variant you have (e.g. A100-80GB)",
                    )
                ]
            )
        return self

    def as_instance(self) -> GpuInstance:
        """The machine in the catalogue's shape (unpriced: the cost report skips existing clusters)."""
        return GpuInstance(
            name=f"machine/{self.gpu_model}",
            gpu_model=self.gpu_model,
            gpus=self.gpus,
            gpu_memory_gib=self.memory_per_gpu_gib,
            vcpus=self.cpu,
            memory_gib=self.memory_gib,
            nvme_disks=self.nvme_disks,
            mig_capable=self.mig_capable,
            on_demand_usd_hour=0.0,
        )


class NodePoolSettings(Settings):
    """One GPU node pool: EC2 instance types (an EKS managed node group), or, on an existing
    cluster, the machines it already has (``machine``)."""

    instance_types: list[str] = Field(default_factory=list)
    machine: MachineSettings | None = None
    capacity_type: Literal["SPOT", "ON_DEMAND"] = "ON_DEMAND"
    purpose: Literal["serving", "training"] = "serving"
    min_size: int = Field(0, ge=0)
    desired_size: int = Field(0, ge=0)
    max_size: int = Field(2, ge=1)
    gpu_cap: int | None = Field(None, ge=1)
    ami_type: Literal["AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA"] = "AL2023_x86_64_NVIDIA"
    root_volume_gib: int = Field(200, ge=50, le=4096)
    nvme: Literal["raid0", "local-pv", "none"] = "raid0"
    soci: bool = False
    """Pull images with the SOCI snapshotter's parallel pull-unpack mode (issue 26): only on an AMI
    that ships it (``startup_figures.SOCI_AMIS``; checked in ``settings/fast_paths.py``)."""
    sharing: GpuSharingSettings = Field(default_factory=GpuSharingSettings)
    labels: dict[str, str] = Field(default_factory=dict)

    @property
    def instances(self) -> list[GpuInstance]:
        if self.machine is not None:
            return [self.machine.as_instance()]
        return [GPU_INSTANCES[t] for t in self.instance_types if t in GPU_INSTANCES]

    @property
    def gpus_per_node(self) -> int:
        """GPUs of the smallest instance type (the autoscaler's scale-from-zero template)."""
        return min(i.gpus for i in self.instances)

    @property
    def host_device_plugin(self) -> bool:
        """Bottlerocket's NVIDIA variants run the device plugin on the host (no DaemonSet)."""
        return self.ami_type.startswith("BOTTLEROCKET")

    @property
    def max_nodes(self) -> int:
        """maxSize, lowered so the pool never holds more GPUs than ``gpuCap`` (the cost
        guardrail). Nodes come whole, so the cap rounds down to whole nodes: ``gpuCap: 3`` on
        2-GPU nodes allows one node. The plan reports the lowering as a clamp, and a cap that is
        not a whole number of nodes as a warning (``rules/capacity.py``)."""
        if self.gpu_cap is None:
            return self.max_size
        return max(self.min_size, min(self.max_size, self.gpu_cap // self.gpus_per_node))

    @property
    def schedulable_gpus(self) -> int:
        """The pool's GPU capacity, defined here only: the most GPUs it can ever hold, whole
        nodes at its capped maximum (``max_nodes``) times GPUs per node — min(gpuCap, maxSize x
        GPUs per node) rounded down to whole nodes. Capacity checks, queue quotas (Kueue), the
        cost report and the plan's messages all read this number."""
        return self.max_nodes * self.gpus_per_node

    @property
    def clamp(self) -> str | None:
        """How the platform lowers ``maxSize`` to honour ``gpuCap`` (None: it does not)."""
        if not self.instances or self.max_nodes >= self.max_size:
            return None
        return (
            f"{self.max_size} -> {self.max_nodes}: capped by gpuCap {self.gpu_cap} "
            f"({self.gpus_per_node} GPU(s) per node)"
        )

    @model_validator(mode="after")
    def _rules(self) -> NodePoolSettings:
        problems = size_problems(self.min_size, self.desired_size, self.max_size)
        if bool(self.instance_types) == (self.machine is not None):
            problems.append(
                ("instanceTypes", "give either instanceTypes (EC2) or machine (what an existing node has), not both")
            )
        for i, itype in enumerate(self.instance_types):
            family = itype.split(".", 1)[0]
            if family not in GPU_FAMILIES:
                problems.append((f"instanceTypes[{i}]", f"unknown GPU family; allowed: {', '.join(GPU_FAMILIES)}"))
            elif itype not in GPU_INSTANCES:
                problems.append((f"instanceTypes[{i}]", f"unknown size; allowed: {', '.join(sizes_of(family))}"))
        known = self.instances
        if known and (self.machine is not None or len(known) == len(self.instance_types)):
            if len({i.gpus for i in known}) > 1:
                counts = ", ".join(str(n) for n in sorted({i.gpus for i in known}))
                problems.append(
                    ("instanceTypes", f"must all have the same GPU count per node (scale-from-zero); here {counts}")
                )
            if len({i.gpu_model for i in known}) > 1:
                problems.append(
                    (
                        "instanceTypes",
                        "must all have the same GPU model: the pool's accelerator label names it "
                        f"(here {', '.join(sorted({i.gpu_model for i in known}))}); use one pool per model",
                    )
                )
            if self.sharing.mode == "mig" and not all(i.mig_capable for i in known):
                problems.append(("sharing.mode", "MIG needs A100/H100/H200 instances (p4d, p4de, p5, p5e)"))
            # raid0 is how EKS nodes lay out their instance store; machines come laid out already.
            needs_disks = self.nvme == "local-pv" or (self.nvme == "raid0" and self.machine is None)
            if needs_disks and not all(i.nvme_disks for i in known):
                problems.append(("nvme", "needs instance types (or a machine) with NVMe disks"))
            if self.host_device_plugin and self.sharing.mode != "none":
                problems.append(
                    ("sharing.mode", "Bottlerocket runs NVIDIA's device plugin on the host; use AL2023 to share GPUs")
                )
            if self.gpu_cap is not None and self.gpu_cap < self.min_size * self.gpus_per_node:
                problems.append(
                    (
                        "gpuCap",
                        f"{self.gpu_cap} must allow at least minSize nodes' GPUs: {self.min_size} node(s) x "
                        f"{self.gpus_per_node} GPU(s) = {self.min_size * self.gpus_per_node}; raise gpuCap or lower "
                        "minSize",
                    )
                )
        check(problems)
        return self


class GpuSoftwareSettings(Settings):
    """The NVIDIA stack that advertises GPUs to the scheduler."""

    stack: Literal["device-plugin", "gpu-operator"] = "device-plugin"
    runtime_class: bool | None = None
    """Create RuntimeClass ``nvidia``; default: only on existing clusters (EKS NVIDIA AMIs need none)."""
