"""Cold start at plan time: how long a fleet takes from "scale from zero" to serving (issue 26).

Scale to zero is paid for by the first request after idle: a node boots, the image is pulled and
unpacked, the weights are read (or downloaded first, for per-pod caches) and the engine initialises
(torch.compile, CUDA graphs). The figures are in ``startup_figures.py`` (platform) and in each
engine's record (``Engine.startup``); this module estimates each fleet's phases from them with pure
functions, with and without each fast path (SOCI parallel pull, the S3 streamer, the compile cache
on the shared cache), so the plan shows what each buys. The plan prints the total and the slowest
phase per fleet and writes every phase to ``build/<stack>/startup.json``; the settings check the
fleet's ``startupBudgetSeconds`` against the phases its startup probe covers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from components.core.engines import ENGINES, Engine
from components.core.gpu_instances import GpuInstance
from components.core.model_catalogue import ModelFacts
from components.core.startup_figures import (
    BANDWIDTH_SOURCE,
    BASELINE_GBPS,
    CLIENT_TIMEOUT,
    EFS_BURSTING_PER_CLIENT,
    EFS_ELASTIC_PER_CLIENT,
    EMPTYDIR_READ,
    ERROR_MARGIN,
    HUB_DOWNLOAD,
    IMAGE_UNPACK,
    INTERNET_CAP_GBPS,
    MB,
    MIB,
    NFS_READ,
    NODE_BOOT_BY_AMI,
    NVME_RAID0_READ,
    PROBED_PHASES,
    S3_STREAMER_READ,
    SOCI_AMIS,
    SOCI_PARALLEL_PULL_SAVING,
    UNKNOWN_LINK_GBPS,
    Figure,
)

if TYPE_CHECKING:
    from components.core.settings.models import ModelSpec, WarmFloorSettings
    from components.core.settings.root import StackSections as StackSettings


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
class FastPaths:
    """Which fast paths a fleet's start takes (each one a setting)."""

    soci: bool = False
    """The pool pulls with SOCI parallel pull (``nodePools.<p>.soci``)."""
    s3: bool = False
    """Weights stream from S3 with vLLM's Run:ai streamer (``cache: s3``)."""
    compile_cache: bool = False
    """A previous replica left its compile cache on the shared cache (``compileCache``)."""

    def toggled(self, name: str) -> FastPaths:
        return replace(self, **{name: not getattr(self, name)})


FAST_PATH_NAMES = {"soci": "sociParallelPull", "s3": "s3Streamer", "compile_cache": "compileCache"}
"""FastPaths field -> the name the plan and startup.json use."""


@dataclass(frozen=True)
class Estimate:
    fleet: str
    phases: tuple[Phase, ...]
    fast_paths: dict[str, tuple[bool, float]]
    """Fast path name -> (enabled, total seconds with it toggled): what enabling one would buy, or
    what an enabled one buys, so the plan can show both."""

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
            "fastPaths": {
                k: {"enabled": on, ("totalSecondsWithout" if on else "totalSecondsWith"): round(v, 1)}
                for k, (on, v) in sorted(self.fast_paths.items())
            },
        }


def node_boot(ami_type: str) -> Phase:
    registration, gpu_init = NODE_BOOT_BY_AMI[ami_type]
    return Phase(
        "nodeBoot",
        registration.value + gpu_init.value,
        {"registration": registration, "gpuInit": gpu_init},
        ami_type,
    )


def link_gbps(instance: GpuInstance | None, *, in_region: bool) -> tuple[float, dict[str, Figure]]:
    """The instance's baseline bandwidth; through the internet gateway, capped below 32 vCPUs."""
    link = BASELINE_GBPS.get(instance.name, UNKNOWN_LINK_GBPS) if instance else UNKNOWN_LINK_GBPS
    figures = {"bandwidth": BANDWIDTH_SOURCE}
    if not in_region and instance is not None and instance.vcpus < 32:
        link = min(link, INTERNET_CAP_GBPS.value)
        figures["internetCap"] = INTERNET_CAP_GBPS
    return link, figures


def image_pull(engine: Engine, instance: GpuInstance | None, *, in_region: bool, soci: bool = False) -> Phase:
    """max(bytes over the link, bytes over the unpack rate), less SOCI's saving when enabled."""
    size = engine.startup.image_size
    link, figures = link_gbps(instance, in_region=in_region)
    figures = {"compressedSize": size, "unpack": IMAGE_UNPACK, **figures}
    link_mb_s = link * 1e9 / 8 / MB
    seconds = max(size.value * 1e9 / (link_mb_s * MB), size.value * 1e9 / (IMAGE_UNPACK.value * MB))
    if soci:
        seconds *= 1 - SOCI_PARALLEL_PULL_SAVING.value
        figures["soci"] = SOCI_PARALLEL_PULL_SAVING
    return Phase("imagePull", seconds, figures, f"link {link:g} Gbps" + (", SOCI parallel pull" if soci else ""))


def cache_read(cache: str, backend: str, throughput_mode: str) -> Figure:
    """The read rate of where the weights live when the server starts (S3: see ``s3_read``)."""
    if cache == "local-nvme":
        return NVME_RAID0_READ
    if cache == "ephemeral":
        return EMPTYDIR_READ
    if backend == "nfs":
        return NFS_READ
    return EFS_ELASTIC_PER_CLIENT if throughput_mode == "elastic" else EFS_BURSTING_PER_CLIENT


def s3_read(instance: GpuInstance | None) -> Figure:
    """The streamer's rate, capped by the instance's link (in Region: the gateway endpoint)."""
    link, _ = link_gbps(instance, in_region=True)
    link_mb_s = link * 1e9 / 8 / MB
    if link_mb_s >= S3_STREAMER_READ.value:
        return S3_STREAMER_READ
    return replace(S3_STREAMER_READ, value=link_mb_s, source=f"{BANDWIDTH_SOURCE.source}; {S3_STREAMER_READ.source}")


def _rate_bytes(f: Figure) -> float:
    return f.value * (MIB if f.unit == "MiB/s" else MB)


def weight_download(facts: ModelFacts, cache: str) -> Phase | None:
    """Per-pod caches start empty on a new pod: the stage init container downloads the weights."""
    if cache in ("shared", "s3"):
        return None  # filled once by the staging Job, before any replica
    return Phase("weightDownload", facts.weights_gb * 1e9 / _rate_bytes(HUB_DOWNLOAD), {"hub": HUB_DOWNLOAD})


def weight_load(facts: ModelFacts, read: Figure, loader_share: Figure | None = None) -> Phase:
    """Bytes over the cache's rate, times the share of it the engine's default loader reaches (the
    streamer reads concurrently: no share)."""
    figures = {"read": read, **({"loaderShare": loader_share} if loader_share else {})}
    rate = _rate_bytes(read) * (loader_share.value if loader_share else 1)
    return Phase("weightLoad", facts.weights_gb * 1e9 / rate, figures, f"{facts.weights_gb:g} GB")


def engine_init(engine: Engine, extra_args: list[str], *, compile_cache: bool = False) -> Phase:
    """The engine's constant, plus torch.compile (warm with a compile cache) and CUDA graphs unless eager."""
    figs = engine.startup
    figures: dict[str, Figure] = {"base": figs.init}
    eager = figs.eager(extra_args)
    compile_figure = figs.compile_warm if compile_cache else figs.compile_cold
    if not eager and compile_figure is not None:
        figures["compile"] = compile_figure
    if not eager and figs.cuda_graphs is not None:
        figures["cudaGraphs"] = figs.cuda_graphs
    return Phase("engineInit", sum(f.value for f in figures.values()), figures, "eager" if eager else "")


def compile_cache_applies(engine: Engine, spec: ModelSpec) -> bool:
    """The engine has a compile cache worth sharing (a warm figure, not eager) and a shared cache to keep it."""
    figs = engine.startup
    return (
        engine.compile_cache_env is not None
        and figs.compile_warm is not None
        and not figs.eager(spec.extra_args)
        and spec.cache == "shared"
    )


def phases(s: StackSettings, spec: ModelSpec, paths: FastPaths) -> tuple[Phase, ...] | None:
    """The fleet's phases with the given fast paths; None without model facts or a known pool."""
    facts = spec.model_facts
    pool = s.node_pools.get(spec.pool)
    if facts is None or pool is None:
        return None
    engine = ENGINES[spec.engine]
    instance = pool.instances[0] if pool.instances else None
    cache = "s3" if paths.s3 else ("shared" if spec.cache == "s3" else spec.cache)
    shared = s.storage.shared
    read = s3_read(instance) if cache == "s3" else cache_read(cache, shared.backend, shared.throughput_mode)
    found: list[Phase | None] = [
        # Machines of an existing cluster are there already; an EKS pool boots a node when it
        # may stand at zero or the fleet scales past its minimum.
        node_boot(pool.ami_type) if pool.machine is None and (pool.min_size == 0 or spec.autoscaled) else None,
        image_pull(engine, instance, in_region=s.engine_image_built(spec.engine), soci=paths.soci),
        weight_download(facts, cache),
        weight_load(facts, read, None if cache == "s3" else engine.startup.loader_share),
        engine_init(engine, spec.extra_args, compile_cache=paths.compile_cache),
    ]
    return tuple(p for p in found if p is not None)


def s3_weights_possible(s: StackSettings) -> bool:
    from components.core.settings.fast_paths import s3_weights_possible as possible  # settings import this module

    return possible(s)


def fast_paths_of(s: StackSettings, spec: ModelSpec) -> tuple[FastPaths, list[str]]:
    """What the fleet takes now, and which other paths it could take (the plan shows those too)."""
    pool = s.node_pools[spec.pool]
    engine = ENGINES[spec.engine]
    now = FastPaths(soci=pool.soci, s3=spec.cache == "s3", compile_cache=spec.compile_cache)
    options = []
    if pool.machine is None:
        options.append("soci")
    if s3_weights_possible(s) and engine.name == "vllm" and spec.cache in ("shared", "s3"):
        options.append("s3")
    if compile_cache_applies(engine, spec) or spec.compile_cache:
        options.append("compile_cache")
    return now, options


def estimate(s: StackSettings, name: str, spec: ModelSpec) -> Estimate | None:
    """The fleet's cold start, phase by phase, and the total with each fast path toggled."""
    if spec.pool not in s.node_pools:
        return None
    now, options = fast_paths_of(s, spec)
    base = phases(s, spec, now)
    if base is None:
        return None
    fast = {}
    for option in options:
        other = phases(s, spec, now.toggled(option))
        if other is not None:
            fast[FAST_PATH_NAMES[option]] = (bool(getattr(now, option)), sum(p.seconds for p in other))
    return Estimate(name, base, fast)


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


def _fast_path_text(s: StackSettings, e: Estimate) -> str:
    spec = s.models[e.fleet]
    pool = s.node_pools[spec.pool]
    parts = []
    for k, (on, v) in sorted(e.fast_paths.items()):
        needs = " on a Bottlerocket pool" if k == "sociParallelPull" and pool.ami_type not in SOCI_AMIS else ""
        parts.append(f"{k} on (without: {v:.0f} s)" if on else f"{k} off (with: {v:.0f} s{needs})")
    floor = spec.warm_floor
    if floor is not None:
        parts.append(f"warm floor {floor.replicas} replica(s) {warm_floor_hours(floor):g} h/week ({floor.timezone})")
    return f"; fast paths: {', '.join(parts)}" if parts else ""


def warm_floor_hours(floor: WarmFloorSettings) -> float:
    from components.core.settings.fast_paths import warm_floor_hours as hours  # settings import this module

    return hours(floor)


def summary_lines(s: StackSettings) -> list[str]:
    lines = []
    for name, e in estimates(s).items():
        lines.append(
            f"Cold start {name}: ~{e.total:.0f} s = {' + '.join(f'{p.name} {p.seconds:.0f}' for p in e.phases)} "
            f"(slowest: {e.slowest.name} {e.slowest.seconds:.0f} s; "
            f"startup probe {s.models[name].startup_budget_seconds} s covers ~{e.probed:.0f} s)" + _fast_path_text(s, e)
        )
    return lines
