"""The ``Engine`` record: everything that differs between model-serving engines, as plain values.

A fleet is rendered from one ``ModelSpec`` for any engine; what changes with the engine (image,
port, server command and arguments, probes, how weights are staged, environment, metric names,
which autoscaler, which spec options it reads, what it can do) is in that engine's record, and the
builders in ``components/specs/`` are engine-agnostic. Each engine is one module next to this one;
``components/core/engines/__init__.py`` registers them in ``ENGINES``.

Plain values only (strings and tuples, no Kubernetes types), so settings validation can use the
same record as the builders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from components.core.startup_figures import Figure

if TYPE_CHECKING:  # the spec type is only named in signatures (settings import this module)
    from components.core.settings.models import ModelSpec

CACHE_MOUNT = "/models"
HF_HOME = f"{CACHE_MOUNT}/hf"
OLLAMA_MODELS = f"{CACHE_MOUNT}/ollama"
HF_TOKEN_FILE = "/var/run/secrets/huggingface/token"

EnvPairs = list[tuple[str, str]]


@dataclass(frozen=True)
class EngineMetrics:
    """Prometheus names an engine exports; alerts, dashboards and KEDA read them from here.

    ``dashboard`` maps a role (``running``, ``waiting``, ``kv_cache``, ``ttft``, ...) to the metric:
    the ``model-serving`` dashboard is drawn for vLLM and redrawn for another engine by swapping
    each role's name (a panel whose role the engine lacks is left out). Every series carries the
    served name as ``model_name``."""

    queue: str
    """Gauge of requests waiting: KEDA scales on it and ``<Engine>RequestsWaiting`` alerts on it."""
    kv_cache: str
    """Gauge, ratio 0-1 of the KV cache in use."""
    ttft: str
    """Histogram (base name, without ``_bucket``) of time to first token."""
    ttft_buckets: tuple[float, ...]
    """``ttft``'s bucket boundaries: an SLO threshold must be one of them, else histogram_quantile's
    linear interpolation, not observed latency, decides whether it pages."""
    preemptions: str
    """Counter of requests evicted when the KV cache is full (named in the KV-cache runbook)."""
    prompt_tokens: str
    """Series of prompt lengths (named in the TTFT runbook)."""
    dashboard: dict[str, str] = field(default_factory=dict)
    """Role -> metric for the ``model-serving`` dashboard."""


@dataclass(frozen=True)
class Capabilities:
    """What the engine can do; settings reject a spec asking for what it cannot."""

    tensor_parallel: bool
    """Splits one replica over ``gpusPerReplica`` GPUs."""
    prefix_caching: bool
    """``prefixCaching`` switches its prefix cache."""
    quantization: bool
    """``quantization`` (on-the-fly fp8/bitsandbytes, or a quantized checkpoint) is passed to it."""
    api_key: bool
    """Serves with an API key (``apiKeySecret``; generated per fleet in prod)."""
    kv_fit: bool
    """Pre-allocates weights plus a KV cache from a GPU-memory fraction, so the plan checks that one
    ``maxModelLen`` sequence fits (``settings/rules/fit.py``); False: the engine offloads what does not fit."""


@dataclass(frozen=True)
class StartupFigures:
    """The engine's part of the cold-start estimate (``components/core/cold_start.py``), each
    figure with its source (``docs/research/cold-start.md``)."""

    image_size: Figure
    """Compressed bytes (GB) of the pinned image a new node pulls."""
    init: Figure
    """Process start to serving, without torch.compile and CUDA graph capture (profiling, KV cache)."""
    cuda_graphs: Figure | None
    """CUDA graph capture at start (None: the engine captures none)."""
    compile_cold: Figure | None = None
    """torch.compile with an empty compile cache (None: the engine does not compile by default)."""
    compile_warm: Figure | None = None
    """torch.compile when a previous replica left its compile cache (``compile_cache_env``)."""
    graphs_off: tuple[str, ...] = ()
    """``extraArgs`` that turn graphs and compile off (vLLM ``--enforce-eager``)."""
    loader_share: Figure | None = None
    """Share of the cache's read rate its default weight loader reaches (None: the whole rate)."""

    def eager(self, extra_args: list[str]) -> bool:
        joined = " ".join(extra_args).replace("=", " ")
        return any(flag.replace("=", " ") in joined for flag in self.graphs_off)


CAPABILITY_OPTIONS = {"prefixCaching": "prefix_caching", "quantization": "quantization", "apiKeySecret": "api_key"}
"""``ModelSpec`` key -> the ``Capabilities`` flag an engine needs to read it."""


@dataclass(frozen=True)
class Engine:
    """What one serving engine needs; functions take the validated spec and plain values."""

    name: str
    label: str
    """Display name in messages and dashboards (``vLLM``)."""
    default_image: str
    """Published image reference ``modelImages.<name>`` defaults to (prod requires a digest)."""
    image: str | None
    """The folder under ``images/`` a registry build of this engine's image uses; None when the
    stack cannot build it (it always runs ``modelImages.<name>``)."""
    port: int
    server_command: tuple[str, ...]
    stage_command: tuple[str, ...]
    """Interpreter the weight-staging script runs under (the script is its last argument)."""
    health_path: str
    """HTTP path of the startup and liveness probes (the process is up)."""
    metrics_path: str | None
    """Prometheus metrics endpoint; None when the engine exposes none (no ServiceMonitor)."""
    metrics: EngineMetrics | None
    """Its Prometheus names; None with ``metrics_path`` (no KEDA, no alerts, no dashboard)."""
    capabilities: Capabilities
    min_gpus: int
    """Fewest GPUs per replica the engine can run with."""
    own_options: frozenset[str]
    """Engine-specific ``ModelSpec`` keys (camelCase) it reads besides its capabilities' keys."""
    api_key_env: str | None
    """Env var the API key reaches the server in, from the fleet's Secret; None without API keys."""
    home_size: str
    """Size limit of the writable HOME emptyDir (compile caches live there)."""
    hf_token: bool
    """Staging downloads from the Hugging Face Hub, so a token (gated models) is passed to it."""
    server_args: Callable[[ModelSpec, str], list[str]]
    """``(spec, served name) -> arguments`` (without the API key: see ``api_key_args``)."""
    stage_script: Callable[[ModelSpec], str]
    env: Callable[[bool, bool], EnvPairs]
    """``(offline, has HF token) -> env``: the server runs offline; staging downloads."""
    ready_exec: Callable[[ModelSpec, str, bool], list[str] | None]
    """``(spec, served name, has API key) -> exec readiness command``, or None for HTTP."""
    ready_path: str
    """HTTP readiness path (used when ``ready_exec`` returns None)."""
    rules: Callable[[ModelSpec], list[tuple[str, str]]]
    """Engine-specific spec rules: ``(key, message)`` problems."""
    startup: StartupFigures
    """Its cold-start figures (image size, init, compile, CUDA graphs)."""
    api_key_args: Callable[[str], list[str]] = lambda env_var: []
    """``(env var) -> server arguments`` that hand the key over when it cannot be read from the
    environment (SGLang: ``--api-key $(VAR)``, which Kubernetes expands). The key's Secret always
    reaches the pod as ``api_key_env``; this hook is the only other place the key is wired."""
    verify_script: Callable[[ModelSpec], str] | None = None
    """Offline check (run under ``stage_command``) that the staged weights are complete; None when
    the engine's own readiness probe already proves the model is there."""
    foreign_option_hint: str = ""
    """Appended when a spec sets another engine's option (what to do instead)."""
    compile_cache_env: str | None = None
    """Env var naming the root of its compile caches (vLLM ``VLLM_CACHE_ROOT``): ``compileCache``
    points it at a writable directory of the shared cache so a second replica starts warm."""

    @property
    def title(self) -> str:
        """Prefix of its alerts (``VllmKvCacheHigh``): the name, capitalised."""
        return self.name.capitalize()

    @property
    def options(self) -> frozenset[str]:
        """Every engine-specific ``ModelSpec`` key it reads: ``own_options`` plus the key of each
        capability it has (a spec setting another engine's key is rejected, see settings/models.py)."""
        keys = {key for key, flag in CAPABILITY_OPTIONS.items() if getattr(self.capabilities, flag)}
        return self.own_options | keys

    @property
    def queue_metric(self) -> str | None:
        return self.metrics.queue if self.metrics else None

    @property
    def autoscaler(self) -> Literal["keda", "hpa"]:
        """KEDA on queue depth where the engine exports one, else a CPU HPA."""
        return "keda" if self.metrics else "hpa"


def extra_arg_flags(extra_args: list[str]) -> list[str]:
    """The ``--flag`` names in ``extraArgs`` (``--flag=value`` and ``--flag value`` alike)."""
    return [a.split("=", 1)[0] for a in extra_args if a.startswith("--")]
