"""Cold start at plan time: how long a fleet takes from "scale from zero" to serving (issue 26).

Scale to zero is paid for by the first request after idle: a node boots, the image is pulled and
unpacked, the weights are read (or downloaded first, for per-pod caches) and the engine initialises
(torch.compile, CUDA graphs). This module keeps every figure the estimate uses as a constant with
its value, source, date and confidence (copied from ``docs/research/cold-start.md``, where each is
discussed) and estimates each fleet's phases from them with pure functions. The plan prints the
total and the slowest phase per fleet and writes every phase to ``build/<stack>/startup.json``; the
settings check the fleet's ``startupBudgetSeconds`` against the phases its startup probe covers.

Figures marked ``UNVERIFIED`` have no published source: they are our estimate, kept so the plan
has a number, and the README says how to measure the real one after ``up`` and correct it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from components.core.gpu_instances import GpuInstance
from components.core.model_catalogue import ModelFacts

if TYPE_CHECKING:
    from components.core.settings.models import ModelSpec
    from components.core.settings.root import StackSections as StackSettings

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

IMAGE_COMPRESSED_GB: dict[str, Figure] = {
    "vllm": Figure(
        12.64,
        "GB",
        "vllm-project/vllm issue #27154 (vllm-openai image ~12 GB; discuss.vllm.ai: 12.64 GB); "
        "measure: sum of layers[].size of `docker buildx imagetools inspect --raw <ref>`",
        "2025-10-18",
        "low",
    ),
    "ollama": Figure(
        2.0,
        "GB",
        "UNVERIFIED: ollama/ollama:0.12.6 compressed size not read; measure as for vllm",
        "2026-12-07",
        "UNVERIFIED",
    ),
}
"""Compressed bytes pulled per engine image (keyed by engine name; an engine not listed gets no
pull phase estimate)."""
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

# -- engine init -----------------------------------------------------------------------------------

ENGINE_BASE: dict[str, Figure] = {
    "vllm": Figure(
        10,
        "s",
        "vllm-project/vllm issue #20264: 'init engine' 34.11 s minus compile 7.51 s and graph capture 17 s "
        "(process start, profiling, KV cache); VLLM_SKIP_P2P_CHECK=1 by default at v0.11.0 (vllm/envs.py)",
        "2025-06-30",
        "low",
    ),
    "ollama": Figure(
        5, "s", "UNVERIFIED: llama.cpp runner start; measure from the server log", "2026-12-07", "UNVERIFIED"
    ),
}
TORCH_COMPILE_COLD: dict[str, Figure] = {
    "vllm": Figure(
        85,
        "s",
        "vllm-project/vllm issue #19824 (Dynamo ~15 s + torch.compile ~70 s, Llama-70B-FP8 TP=8): an upper figure",
        "2025-06-19",
        "medium",
    ),
}
TORCH_COMPILE_WARM: dict[str, Figure] = {
    "vllm": Figure(
        7.5,
        "s",
        "vllm-project/vllm issue #20264 (compile 7.51 s with the torch.compile cache reused)",
        "2025-06-30",
        "low",
    ),
}
CUDA_GRAPHS: dict[str, Figure] = {
    "vllm": Figure(
        17,
        "s",
        "vllm-project/vllm issue #20264 (graph capture 17 s); #20098: 67 graphs by default, 'more than 10s'",
        "2025-06-30",
        "low",
    ),
}
"""Per-engine phases, keyed by engine name (an engine without a row has no such phase)."""
EAGER_FLAG = "--enforce-eager"
"""vLLM skips CUDA graphs and compile with it (issue #19824)."""

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


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float
    figures: dict[str, Figure]
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 1),
            "note": self.note,
            "figures": {k: f.as_dict() for k, f in self.figures.items()},
        }


@dataclass(frozen=True)
class Estimate:
    fleet: str
    phases: tuple[Phase, ...]
    fast_paths: dict[str, float]
    """Total seconds with one fast path enabled (name -> seconds), for the plan to compare."""

    @property
    def total(self) -> float:
        return sum(p.seconds for p in self.phases)

    @property
    def probed(self) -> float:
        return sum(p.seconds for p in self.phases if p.name in PROBED_PHASES)

    @property
    def slowest(self) -> Phase:
        return max(self.phases, key=lambda p: p.seconds)

    def as_dict(self) -> dict[str, Any]:
        return {
            "totalSeconds": round(self.total, 1),
            "probedSeconds": round(self.probed, 1),
            "slowestPhase": self.slowest.name,
            "phases": {p.name: p.as_dict() for p in self.phases},
            "withFastPath": {k: round(v, 1) for k, v in sorted(self.fast_paths.items())},
        }


def node_boot(ami_type: str) -> Phase:
    registration, gpu_init = NODE_BOOT_BY_AMI[ami_type]
    return Phase(
        "nodeBoot",
        registration.value + gpu_init.value,
        {"registration": registration, "gpuInit": gpu_init},
        ami_type,
    )


def image_pull(engine: str, instance: GpuInstance | None, *, in_region: bool, soci: bool = False) -> Phase | None:
    """max(bytes over the link, bytes over the unpack rate), less SOCI's saving when enabled."""
    size = IMAGE_COMPRESSED_GB.get(engine)
    if size is None:
        return None
    link = BASELINE_GBPS.get(instance.name, UNKNOWN_LINK_GBPS) if instance else UNKNOWN_LINK_GBPS
    figures = {"compressedSize": size, "unpack": IMAGE_UNPACK, "bandwidth": BANDWIDTH_SOURCE}
    if not in_region and instance is not None and instance.vcpus < 32:
        link = min(link, INTERNET_CAP_GBPS.value)
        figures["internetCap"] = INTERNET_CAP_GBPS
    link_mb_s = link * 1e9 / 8 / MB
    seconds = max(size.value * 1e9 / (link_mb_s * MB), size.value * 1e9 / (IMAGE_UNPACK.value * MB))
    if soci:
        seconds *= 1 - SOCI_PARALLEL_PULL_SAVING.value
        figures["soci"] = SOCI_PARALLEL_PULL_SAVING
    return Phase("imagePull", seconds, figures, f"link {link:g} Gbps" + (", SOCI parallel pull" if soci else ""))


def cache_read(cache: str, backend: str, throughput_mode: str) -> Figure:
    """The read rate of where the weights live when the server starts."""
    if cache == "local-nvme":
        return NVME_RAID0_READ
    if cache == "ephemeral":
        return EMPTYDIR_READ
    if backend == "nfs":
        return NFS_READ
    return EFS_ELASTIC_PER_CLIENT if throughput_mode == "elastic" else EFS_BURSTING_PER_CLIENT


def _rate_bytes(f: Figure) -> float:
    return f.value * (MIB if f.unit == "MiB/s" else MB)


def weight_download(facts: ModelFacts, cache: str) -> Phase | None:
    """Per-pod caches start empty on a new pod: the stage init container downloads the weights."""
    if cache == "shared":
        return None  # filled once by the staging Job, before any replica
    return Phase("weightDownload", facts.weights_gb * 1e9 / _rate_bytes(HUB_DOWNLOAD), {"hub": HUB_DOWNLOAD})


def weight_load(facts: ModelFacts, read: Figure) -> Phase:
    return Phase("weightLoad", facts.weights_gb * 1e9 / _rate_bytes(read), {"read": read}, f"{facts.weights_gb:g} GB")


def engine_init(engine: str, extra_args: list[str], *, compile_cache: bool = False) -> Phase:
    figures: dict[str, Figure] = {}
    seconds = 0.0
    if engine in ENGINE_BASE:
        figures["base"] = ENGINE_BASE[engine]
        seconds += ENGINE_BASE[engine].value
    eager = EAGER_FLAG in extra_args
    compile_table = TORCH_COMPILE_WARM if compile_cache else TORCH_COMPILE_COLD
    if not eager and engine in compile_table:
        figures["compile"] = compile_table[engine]
        seconds += compile_table[engine].value
    if not eager and engine in CUDA_GRAPHS:
        figures["cudaGraphs"] = CUDA_GRAPHS[engine]
        seconds += CUDA_GRAPHS[engine].value
    return Phase("engineInit", seconds, figures, "eager" if eager else "")


def estimate(s: StackSettings, name: str, spec: ModelSpec) -> Estimate | None:
    """The fleet's cold start, phase by phase; None without model facts or a known pool."""
    facts = spec.model_facts
    pool = s.node_pools.get(spec.pool)
    if facts is None or pool is None:
        return None

    def build(*, soci: bool = False, compile_cache: bool = False) -> tuple[Phase, ...]:
        instance = pool.instances[0] if pool.instances else None
        phases: list[Phase | None] = [
            # Machines of an existing cluster are there already; an EKS pool boots a node when it
            # may stand at zero or the fleet scales past its minimum.
            node_boot(pool.ami_type) if pool.machine is None and (pool.min_size == 0 or spec.autoscaled) else None,
            image_pull(spec.engine, instance, in_region=s.engine_image_built(spec.engine), soci=soci),
            weight_download(facts, spec.cache),
            weight_load(facts, cache_read(spec.cache, s.storage.shared.backend, s.storage.shared.throughput_mode)),
            engine_init(spec.engine, spec.extra_args, compile_cache=compile_cache),
        ]
        return tuple(p for p in phases if p is not None)

    def total(phases: tuple[Phase, ...]) -> float:
        return sum(p.seconds for p in phases)

    fast = {"sociParallelPull": total(build(soci=True))}
    if spec.engine in TORCH_COMPILE_WARM and EAGER_FLAG not in spec.extra_args and spec.cache == "shared":
        fast["compileCacheOnSharedCache"] = total(build(compile_cache=True))
    return Estimate(name, build(), fast)


def estimates(s: StackSettings) -> dict[str, Estimate]:
    found = {name: estimate(s, name, spec) for name, spec in sorted(s.models.items())}
    return {k: v for k, v in found.items() if v is not None}


def startup_report(s: StackSettings) -> dict[str, Any]:
    """``build/<stack>/startup.json``: every fleet's phases, figures and sources."""
    return {
        "errorMargin": ERROR_MARGIN,
        "clientTimeout": CLIENT_TIMEOUT.as_dict(),
        "probedPhases": list(PROBED_PHASES),
        "fleets": {name: e.as_dict() for name, e in estimates(s).items()},
    }


def budget_problems(s: StackSettings) -> list[tuple[str, str]]:
    """A startup probe that gives up before even the optimistic end of the estimate: exit 2."""
    problems = []
    for name, e in estimates(s).items():
        budget = s.models[name].startup_budget_seconds
        floor = e.probed * (1 - ERROR_MARGIN)
        if budget < floor:
            problems.append(
                (
                    f"models.{name}.startupBudgetSeconds",
                    f"{budget} s is shorter than the cold-start estimate of what the startup probe covers "
                    f"({e.probed:.0f} s for weight load and engine init; {floor:.0f} s even at -{ERROR_MARGIN:.0%}): "
                    f"the probe would kill the pod while it loads; raise it to at least {e.probed:.0f}",
                )
            )
    return problems


def budget_warnings(s: StackSettings) -> list[tuple[str, str]]:
    found = []
    for name, e in estimates(s).items():
        spec = s.models[name]
        budget = spec.startup_budget_seconds
        if e.probed * (1 - ERROR_MARGIN) <= budget < e.probed:
            found.append(
                (
                    f"models.{name}.startupBudgetSeconds",
                    f"{budget} s is within the error margin below the cold-start estimate ({e.probed:.0f} s "
                    "for weight load and engine init); raise it, or measure the real start and correct the catalogue",
                )
            )
        if spec.replicas.min == 0 and e.total > CLIENT_TIMEOUT.value:
            found.append(
                (
                    f"models.{name}.replicas.min",
                    f"is 0 but a cold start takes about {e.total:.0f} s (slowest: {e.slowest.name}), longer than "
                    f"a client's default timeout ({CLIENT_TIMEOUT.value:.0f} s, openai-python): the first request "
                    "after idle fails; set replicas.min: 1, or shorten the slowest phase",
                )
            )
    return found


def summary_lines(s: StackSettings) -> list[str]:
    lines = []
    for name, e in estimates(s).items():
        paths = ", ".join(f"{k} {v:.0f} s" for k, v in sorted(e.fast_paths.items()))
        lines.append(
            f"Cold start {name}: ~{e.total:.0f} s (slowest: {e.slowest.name} {e.slowest.seconds:.0f} s; "
            f"startup probe {s.models[name].startup_budget_seconds} s covers ~{e.probed:.0f} s)"
            + (f"; with {paths}" if paths else "")
        )
    return lines
