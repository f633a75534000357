"""Catalogue of the EC2 GPU instance types the platform knows how to run.

Settings validate node pools against this table (unknown family or size, MIG on a GPU without
MIG, NVMe modes on types without instance store), node pools derive the autoscaler's
``nvidia.com/gpu`` node-template tag from it, and the plan's cost report multiplies its hourly
prices. Prices are the on-demand list prices in USD of the US regions the platform allows (the
same in us-east-1, us-east-2 and us-west-2; sources and dates, per region, and the spot estimates
are in ``prices.py``). They are for planning, not billing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GpuInstance:
    """One instance type: its GPUs, their memory, instance store and hourly price."""

    name: str
    gpu_model: str
    gpus: int
    gpu_memory_gib: int
    vcpus: int
    memory_gib: int
    nvme_disks: int
    mig_capable: bool
    on_demand_usd_hour: float

    @property
    def family(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def allocatable_cpu(self) -> float:
        """Cores left for our pods: minus kubelet's reserve and the node daemons."""
        return round(self.vcpus - kube_reserved_cpu(self.vcpus) - DAEMONSET_CPU, 2)

    @property
    def allocatable_memory_gib(self) -> float:
        """GiB left for our pods: minus kubelet's reserve, eviction threshold and the node daemons."""
        reserved = (255 + 11 * MAX_PODS + 100) / 1024
        return round(self.memory_gib - reserved - DAEMONSET_MEMORY_GIB, 2)


MAX_PODS = 110
"""Pods per node assumed for kubelet's memory reserve (255 MiB + 11 MiB per pod)."""
DAEMONSET_CPU = 0.35
DAEMONSET_MEMORY_GIB = 0.9
"""What the per-node daemons request together (aws-node, kube-proxy, EBS/EFS CSI node plugins,
NVIDIA device plugin, DCGM and node exporters): an estimate from their charts' requests."""


def kube_reserved_cpu(vcpus: int) -> float:
    """EKS's kubelet CPU reserve: 6 % of the first core, 1 % of the second, 0.5 % of the next
    two, 0.25 % of the rest (the EKS AMI's kube-reserved formula)."""
    bands = [(1, 0.06), (1, 0.01), (2, 0.005)]
    reserved, left = 0.0, float(vcpus)
    for size, share in bands:
        used = min(left, size)
        reserved += used * share
        left -= used
    return reserved + max(left, 0.0) * 0.0025


def _family(
    family: str,
    gpu_model: str,
    gpu_memory_gib: int,
    mig: bool,
    sizes: dict[str, tuple[int, int, int, int, float]],
) -> dict[str, GpuInstance]:
    """Expand ``{size: (gpus, vcpus, memory_gib, nvme_disks, usd_hour)}`` into instances."""
    return {
        f"{family}.{size}": GpuInstance(
            name=f"{family}.{size}",
            gpu_model=gpu_model,
            gpus=gpus,
            gpu_memory_gib=gpu_memory_gib,
            vcpus=vcpus,
            memory_gib=mem,
            nvme_disks=disks,
            mig_capable=mig,
            on_demand_usd_hour=price,
        )
        for size, (gpus, vcpus, mem, disks, price) in sizes.items()
    }


GPU_INSTANCES: dict[str, GpuInstance] = {
    **_family(
        "g4dn",
        "T4",
        16,
        False,
        {
            "xlarge": (1, 4, 16, 1, 0.526),
            "2xlarge": (1, 8, 32, 1, 0.752),
            "4xlarge": (1, 16, 64, 1, 1.204),
            "8xlarge": (1, 32, 128, 1, 2.176),
            "12xlarge": (4, 48, 192, 1, 3.912),
            "16xlarge": (1, 64, 256, 1, 4.352),
        },
    ),
    **_family(
        "g5",
        "A10G",
        24,
        False,
        {
            "xlarge": (1, 4, 16, 1, 1.006),
            "2xlarge": (1, 8, 32, 1, 1.212),
            "4xlarge": (1, 16, 64, 1, 1.624),
            "8xlarge": (1, 32, 128, 1, 2.448),
            "12xlarge": (4, 48, 192, 1, 5.672),
            "16xlarge": (1, 64, 256, 1, 4.096),
            "24xlarge": (4, 96, 384, 1, 8.144),
            "48xlarge": (8, 192, 768, 2, 16.288),
        },
    ),
    **_family(
        "g6",
        "L4",
        24,
        False,
        {
            "xlarge": (1, 4, 16, 1, 0.8048),
            "2xlarge": (1, 8, 32, 1, 0.9776),
            "4xlarge": (1, 16, 64, 1, 1.3232),
            "8xlarge": (1, 32, 128, 2, 2.0144),
            "12xlarge": (4, 48, 192, 4, 4.6016),
            "16xlarge": (1, 64, 256, 2, 3.3968),
            "24xlarge": (4, 96, 384, 4, 6.6752),
            "48xlarge": (8, 192, 768, 8, 13.3504),
        },
    ),
    **_family(
        "g6e",
        "L40S",
        48,
        False,
        {
            "xlarge": (1, 4, 32, 1, 1.861),
            "2xlarge": (1, 8, 64, 1, 2.24208),
            "4xlarge": (1, 16, 128, 1, 3.00424),
            "8xlarge": (1, 32, 256, 1, 4.52856),
            "12xlarge": (4, 48, 384, 2, 10.49264),
            "16xlarge": (1, 64, 512, 1, 7.57719),
            "24xlarge": (4, 96, 768, 2, 15.06559),
            "48xlarge": (8, 192, 1536, 4, 30.13118),
        },
    ),
    **_family("p4d", "A100", 40, True, {"24xlarge": (8, 96, 1152, 8, 21.957642)}),
    **_family("p4de", "A100-80GB", 80, True, {"24xlarge": (8, 96, 1152, 8, 27.44705)}),
    **_family("p5", "H100", 80, True, {"48xlarge": (8, 192, 2048, 8, 55.04)}),
    # p5e: no on-demand list price in either source of prices.py (sold as EC2 Capacity Blocks):
    # an estimate, kept so a pool of it plans with a figure rather than none.
    **_family("p5e", "H200", 141, True, {"48xlarge": (8, 192, 2048, 8, 62.000)}),
}

GPU_FAMILIES: tuple[str, ...] = tuple(sorted({i.family for i in GPU_INSTANCES.values()}))

GPU_MEMORY_GIB: dict[str, int] = {
    # The catalogue's own GPUs (per-GPU memory as above)...
    **{i.gpu_model: i.gpu_memory_gib for i in GPU_INSTANCES.values()},
    # ...and boards common in existing clusters (NVIDIA's product specifications).
    "A10": 24,
    "A40": 48,
    "L40": 48,
    "RTX-4090": 24,
    "RTX-A6000": 48,
    "RTX-6000-Ada": 48,
}
"""Memory per GPU by model name: a machine pool naming one of these needs no ``gpuMemoryGib``."""


def sizes_of(family: str) -> list[str]:
    """Instance type names of ``family`` that the catalogue knows, sorted."""
    return sorted(n for n, i in GPU_INSTANCES.items() if i.family == family)
