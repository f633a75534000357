"""The cold-start catalogue (issue 26): every platform figure the estimate uses, with its source.

Each figure is a constant with its value, unit, source, date and confidence (copied from
``docs/research/cold-start.md``, where each is discussed). Figures that belong to one engine
(its image's compressed size, its init constant, torch.compile and CUDA graph capture) are in
that engine's record (``components/core/engines/*.py``, ``Engine.startup``); this module keeps
what belongs to the platform: node boot per AMI, the network, the unpack rate, SOCI, the caches'
read rates (EFS, NFS, NVMe, emptyDir, S3 with the Run:ai streamer), the Hub, the error margin.

Figures marked ``UNVERIFIED`` have no published source: they are our estimate, kept so the plan
has a number; the README says how to measure the real one after ``up`` and correct it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MB = 1e6
MIB = 1024**2


@dataclass(frozen=True)
class Figure:
    """One published (or estimated) number the cold-start estimate uses."""

    value: float
    unit: str
    source: str
    date: str
    confidence: str
    """high, medium, low, derived, or UNVERIFIED (our estimate: measure it)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "unit": self.unit,
            "source": self.source,
            "date": self.date,
            "confidence": self.confidence,
        }


# -- node boot -------------------------------------------------------------------------------------

NODE_REGISTRATION = Figure(
    90,
    "s",
    "aws/karpenter-provider-aws issue #6128 (maintainer: ~70-80 s launch -> registration, driven by the AMI) "
    "and awslabs/amazon-eks-ami issue #1099 (39 s on c5.xlarge), plus margin",
    "2024-05-17",
    "medium",
)
GPU_NODE_INIT = Figure(
    60,
    "s",
    "UNVERIFIED: NVIDIA driver load and the device plugin advertising nvidia.com/gpu; no per-AMI figure "
    "published. Measure: NodeClaim/Node Ready -> nvidia.com/gpu allocatable",
    "2026-12-07",
    "UNVERIFIED",
)
NODE_BOOT_BY_AMI: dict[str, tuple[Figure, Figure]] = {
    # No source separates AL2023 from Bottlerocket for GPU nodes: the same figures for both until measured.
    "AL2023_x86_64_NVIDIA": (NODE_REGISTRATION, GPU_NODE_INIT),
    "BOTTLEROCKET_x86_64_NVIDIA": (NODE_REGISTRATION, GPU_NODE_INIT),
}

# -- image pull ------------------------------------------------------------------------------------

IMAGE_UNPACK = Figure(
    62,
    "MB/s",
    "derived from the AWS ML blog 'Reducing container cold start times using SOCI index on DLAMI and DLC' "
    "(15-20 GB in 4-6 min: 40-85 MB/s end to end; decompression and unpack, not the link, bound it)",
    "2026-06",
    "derived",
)
INTERNET_CAP_GBPS = Figure(
    5,
    "Gbps",
    "AWS EC2 User Guide 'Amazon EC2 instance network bandwidth': internet-gateway traffic of instances "
    "with fewer than 32 vCPUs is limited to 5 Gbps (also the single-flow limit)",
    "2026",
    "high",
)
SOCI_PARALLEL_PULL_SAVING = Figure(
    0.14,
    "fraction",
    "awslabs/soci-snapshotter commit f1fcd05f: parallel pull 14-50 % faster than Docker (the low end, to stay "
    "safe); AL2023 via nodeadm or Bottlerocket only (docs/eks.md @ v0.15.0)",
    "2026-04",
    "medium",
)

BASELINE_GBPS: dict[str, float] = {
    # aws/karpenter-provider-aws pkg/providers/instancetype/zz_generated.bandwidth.go @ v1.14.1 (baseline).
    **{
        f"g4dn.{s}": g
        for s, g in {"xlarge": 5, "2xlarge": 10, "4xlarge": 20, "8xlarge": 50, "12xlarge": 50, "16xlarge": 50}.items()
    },
    **{
        f"{fam}.{s}": g
        for fam in ("g5", "g6")
        for s, g in {
            "xlarge": 2.5,
            "2xlarge": 5,
            "4xlarge": 10,
            "8xlarge": 25,
            "12xlarge": 40,
            "16xlarge": 25,
            "24xlarge": 50,
            "48xlarge": 100,
        }.items()
    },
    **{
        f"g6e.{s}": g
        for s, g in {
            "xlarge": 2.5,
            "2xlarge": 5,
            "4xlarge": 20,
            "8xlarge": 25,
            "12xlarge": 100,
            "16xlarge": 35,
            "24xlarge": 200,
            "48xlarge": 400,
        }.items()
    },
    "p4d.24xlarge": 400,
    "p4de.24xlarge": 400,
    # p5/p5e: 3200 is the EFA aggregate; the ENA rate image pulls see is UNVERIFIED, 100 assumed.
    "p5.48xlarge": 100,
    "p5e.48xlarge": 100,
}
BANDWIDTH_SOURCE = Figure(
    0,
    "Gbps",
    "aws/karpenter-provider-aws pkg/providers/instancetype/zz_generated.bandwidth.go @ v1.14.1 (baseline)",
    "2026-08-20",
    "high",
)
UNKNOWN_LINK_GBPS = 10.0
"""Machines of existing clusters: a 10 GbE link is assumed (UNVERIFIED)."""

# -- weight load -----------------------------------------------------------------------------------

EFS_ELASTIC_PER_CLIENT = Figure(
    1500,
    "MiB/s",
    "AWS EFS User Guide 'Amazon EFS performance specifications' (Elastic, per-client read)",
    "2026",
    "high",
)
EFS_BURSTING_PER_CLIENT = Figure(
    100,
    "MiB/s",
    "UNVERIFIED: bursting throughput scales with the bytes stored; 100 MiB/s is the burst floor we assume",
    "2026-12-07",
    "UNVERIFIED",
)
NFS_READ = Figure(
    500, "MB/s", "UNVERIFIED: an existing NFS server over 10 GbE; measure with fio", "2026-12-07", "UNVERIFIED"
)
NVME_RAID0_READ = Figure(
    2000,
    "MB/s",
    "UNVERIFIED: AWS publishes IOPS, not sequential GB/s; measure: fio --rw=read --bs=1M --direct=1 --numjobs=4",
    "2026-12-07",
    "UNVERIFIED",
)
EMPTYDIR_READ = Figure(
    250,
    "MB/s",
    "UNVERIFIED: a gp3 root volume at its default 125-250 MB/s; measure with fio",
    "2026-12-07",
    "UNVERIFIED",
)
HUB_DOWNLOAD = Figure(
    200,
    "MB/s",
    "UNVERIFIED: no published Hugging Face Hub / Ollama registry rate; capped by the 5 Gbps internet limit. "
    "Measure: the stage init container's duration (kubectl get pod -o yaml: state.terminated)",
    "2026-12-07",
    "UNVERIFIED",
)

# -- the budget ------------------------------------------------------------------------------------

ERROR_MARGIN = 0.5
"""The estimate's error margin: most figures are low-confidence or UNVERIFIED, so a budget is an
error only when it is shorter than the optimistic end, ``estimate x (1 - ERROR_MARGIN)``, and a
warning when it is shorter than the estimate itself."""
CLIENT_TIMEOUT = Figure(
    600,
    "s",
    "openai/openai-python src/openai/_constants.py: DEFAULT_TIMEOUT = httpx.Timeout(timeout=600.0); there is "
    "no gateway yet, so a request that scales a fleet from zero waits as long as the client does",
    "2025",
    "high",
)

PROBED_PHASES = ("weightLoad", "engineInit")
"""What the startup probe covers: it starts with the server container, after the pull and the
init containers (which fill per-pod caches)."""


SAFETENSORS_LOADER_SHARE = Figure(
    0.3,
    "fraction",
    "NVIDIA Technical Blog 'Reducing cold start latency for LLM inference with NVIDIA Run:ai Model Streamer' "
    "(g5.12xlarge, gp3): vLLM's default safetensors loader 47.99 s vs the streamer 14.34 s from the same "
    "volume, so the default loader reaches ~30 % of the rate the storage gives a concurrent reader (derived)",
    "2025",
    "derived",
)
"""Share of the storage's rate the engine's default (sequential safetensors) loader reaches; the
Run:ai streamer reads concurrently and gets the whole rate."""

# -- fast paths --------------------------------------------------------------------------------------

S3_STREAMER_READ = Figure(
    1000,
    "MB/s",
    "UNVERIFIED: the Run:ai Model Streamer's S3 rate at concurrency 16 (NVIDIA Technical Blog 'Reducing cold "
    "start latency ... Run:ai Model Streamer' benchmarks S3 on g5.12xlarge, but its S3 figures were not readable "
    "here); capped by the instance's link, in Region through the S3 gateway endpoint. Measure: vLLM's "
    "'Loading weights took' log line",
    "2026-12-07",
    "UNVERIFIED",
)
SOCI_AMIS = {
    "BOTTLEROCKET_x86_64_NVIDIA": "Bottlerocket 1.44.0 (2025-08-04) release notes: 'Add soci-snapshotter support "
    "to kubernetes variants', 'Configure soci-snapshotter for parallel pull unpack' (bottlerocket-os/bottlerocket "
    "v1.44.0); settings per bottlerocket.dev /en/os/1.53.x/api/settings/container-runtime-plugins",
}
"""AMI families whose image ships the SOCI snapshotter, with the source. The AL2023 EKS AMI is not
listed: awslabs/soci-snapshotter docs/eks.md installs the snapshotter at boot from GitHub (an
AL2023 AMI with it built in is UNVERIFIED), which these nodes, pulling nothing but images, do not."""
