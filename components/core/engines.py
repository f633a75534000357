"""Model-serving engines: one record per engine, everything that differs between them.

A fleet is rendered from one ``ModelSpec`` for any engine; what changes with the engine (port,
server command and arguments, probes, how weights are staged, environment, metrics, which
autoscaler, which spec options it reads) is in that engine's :class:`Engine` record, and the
builders in ``components/specs/model_runner.py`` are engine-agnostic. Adding an engine (SGLang,
TGI) is one more entry in :data:`ENGINES`.

Plain values only (strings and tuples, no Kubernetes types), so settings validation can use the
same record as the builders.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the spec type is only named in signatures (settings import this module)
    from components.core.settings.models import ModelSpec

CACHE_MOUNT = "/models"
HF_HOME = f"{CACHE_MOUNT}/hf"
OLLAMA_MODELS = f"{CACHE_MOUNT}/ollama"
HF_TOKEN_FILE = "/var/run/secrets/huggingface/token"

EnvPairs = list[tuple[str, str]]


@dataclass(frozen=True)
class Engine:
    """What one serving engine needs; functions take the validated spec and plain values."""

    name: str
    image: str
    """The folder under ``images/`` this engine's image is built from."""
    port: int
    server_command: tuple[str, ...]
    stage_command: tuple[str, ...]
    """Interpreter the weight-staging script runs under (the script is its last argument)."""
    health_path: str
    """HTTP path of the startup and liveness probes (the process is up)."""
    metrics_path: str | None
    """Prometheus metrics endpoint; None when the engine exposes none (no ServiceMonitor)."""
    queue_metric: str | None
    """Prometheus gauge of requests waiting: KEDA scales on it; None means a CPU HPA instead."""
    min_gpus: int
    """Fewest GPUs per replica the engine can run with."""
    options: frozenset[str]
    """Engine-specific ``ModelSpec`` keys (camelCase) only this engine reads."""
    api_key_env: str | None
    """Env var the server reads its API key from; None when the engine has no API keys."""
    home_size: str
    """Size limit of the writable HOME emptyDir (compile caches live there)."""
    hf_token: bool
    """Staging downloads from the Hugging Face Hub, so a token (gated models) is passed to it."""
    server_args: Callable[[ModelSpec, str], list[str]]
    """``(spec, served name) -> arguments``."""
    stage_script: Callable[[ModelSpec], str]
    env: Callable[[bool, bool], EnvPairs]
    """``(offline, has HF token) -> env``: the server runs offline; staging downloads."""
    ready_exec: Callable[[ModelSpec, str, bool], list[str] | None]
    """``(spec, served name, has API key) -> exec readiness command``, or None for HTTP."""
    ready_path: str
    """HTTP readiness path (used when ``ready_exec`` returns None)."""
    rules: Callable[[ModelSpec], list[tuple[str, str]]]
    """Engine-specific spec rules: ``(key, message)`` problems."""
    verify_script: Callable[[ModelSpec], str] | None = None
    """Offline check (run under ``stage_command``) that the staged weights are complete; None when
    the engine's own readiness probe already proves the model is there."""
    foreign_option_hint: str = ""
    """Appended when a spec sets another engine's option (what to do instead)."""

    @property
    def autoscaler(self) -> Literal["keda", "hpa"]:
        """KEDA on queue depth where the engine exports one, else a CPU HPA."""
        return "keda" if self.queue_metric else "hpa"


# -- vLLM -------------------------------------------------------------------------------------


ON_THE_FLY_QUANTIZATION = frozenset({"fp8", "bitsandbytes"})
"""Quantizations vLLM applies at load time and must be told about. AWQ and GPTQ checkpoints say
what they are in their config, and naming them forces vLLM's slow kernels instead of the Marlin
ones it picks itself on GPUs that support them (vLLM v0.11.0 ``awq_marlin.py``
``override_quantization_method``: "... so forcing awq. Use quantization=awq_marlin ...")."""


def _vllm_args(s: ModelSpec, served_name: str) -> list[str]:
    """OpenAI server arguments derived from the spec (TP = GPUs per replica).

    No ``--disable-log-requests``: deprecated and without effect in v0.11.0 (request logging is
    off by default), slated for removal."""
    args = [
        s.model,
        "--served-model-name",
        served_name,
        "--host",
        "0.0.0.0",
        "--port",
        str(s.port),
        "--tensor-parallel-size",
        str(s.gpus_per_replica),
        "--gpu-memory-utilization",
        f"{s.gpu_memory_utilization:g}",
        "--enable-prefix-caching" if s.prefix_caching else "--no-enable-prefix-caching",
        "--enable-chunked-prefill" if s.chunked_prefill else "--no-enable-chunked-prefill",
    ]
    if s.revision:
        args += ["--revision", s.revision]
    if s.quantization in ON_THE_FLY_QUANTIZATION:
        args += ["--quantization", s.quantization]
    if s.max_model_len:
        args += ["--max-model-len", str(s.max_model_len)]
    return args + list(s.extra_args)


def _vllm_stage(s: ModelSpec) -> str:
    """Idempotent weight download into the cache (snapshot_download skips complete files)."""
    call = {"repo_id": s.model, "revision": s.revision or "main", "cache_dir": f"{HF_HOME}/hub"}
    return f"from huggingface_hub import snapshot_download\nsnapshot_download(**{json.dumps(call, sort_keys=True)})\n"


def _vllm_verify(s: ModelSpec) -> str:
    """The same call with ``local_files_only``: fails fast, without network, when a file is missing."""
    call = {
        "repo_id": s.model,
        "revision": s.revision or "main",
        "cache_dir": f"{HF_HOME}/hub",
        "local_files_only": True,
    }
    return f"from huggingface_hub import snapshot_download\nsnapshot_download(**{json.dumps(call, sort_keys=True)})\n"


def _vllm_env(offline: bool, hf_token: bool) -> EnvPairs:
    env = [("HF_HOME", HF_HOME), ("VLLM_NO_USAGE_STATS", "1"), ("DO_NOT_TRACK", "1")]
    if offline:
        # The server only ever reads the pre-staged cache; no network fetch at start.
        env.append(("HF_HUB_OFFLINE", "1"))
    elif hf_token:
        env.append(("HF_TOKEN_PATH", HF_TOKEN_FILE))
    return env


def _vllm_ready(s: ModelSpec, served_name: str, api_key: bool) -> list[str] | None:
    if not api_key:
        return None
    # /v1/models needs the key; ask with it from inside the pod (the key never leaves it).
    check = (
        "import os,urllib.request as u;"
        f"r=u.Request('http://127.0.0.1:{s.port}/v1/models',"
        f"headers={{'Authorization':'Bearer '+os.environ['VLLM_API_KEY']}});"
        f"assert '{served_name}' in u.urlopen(r,timeout=3).read().decode()"
    )
    return ["python3", "-c", check]


def _vllm_rules(s: ModelSpec) -> list[tuple[str, str]]:
    return []


# -- Ollama -----------------------------------------------------------------------------------


def _ollama_stage(s: ModelSpec) -> str:
    # Start a private server on loopback, pull into the cache, stop it.
    return (
        "set -eu\n"
        "OLLAMA_HOST=127.0.0.1:11435 ollama serve >/tmp/pull.log 2>&1 &\n"
        "pid=$!\n"
        "for _ in $(seq 1 60); do OLLAMA_HOST=127.0.0.1:11435 ollama list >/dev/null 2>&1 && break; sleep 1; done\n"
        f"OLLAMA_HOST=127.0.0.1:11435 ollama pull {s.model}\n"
        "kill $pid\n"
    )


def _ollama_env(offline: bool, hf_token: bool) -> EnvPairs:
    return [
        ("OLLAMA_MODELS", OLLAMA_MODELS),
        ("OLLAMA_HOST", f"0.0.0.0:{OLLAMA.port}"),
        # The cache is read-only for the server: never prune or write blobs there.
        ("OLLAMA_NOPRUNE", "1"),
        ("OLLAMA_KEEP_ALIVE", "-1"),
    ]


def _ollama_rules(s: ModelSpec) -> list[tuple[str, str]]:
    if ":" not in s.model:
        return [("model", "an Ollama model needs a pinned tag, e.g. qwen2.5:0.5b")]
    return []


VLLM_TTFT_BUCKETS: tuple[float, ...] = (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75,
    1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
)  # fmt: skip
"""``vllm:time_to_first_token_seconds`` bucket boundaries (vllm ``vllm/v1/metrics/loggers.py``,
v1 engine of the pinned vllm-openai v0.11.0). An SLO threshold between two boundaries is decided
by histogram_quantile's linear interpolation, not by observed latencies, so thresholds must be
one of these."""

VLLM = Engine(
    name="vllm",
    image="model-runner",
    port=8000,
    server_command=("vllm", "serve"),
    stage_command=("python3", "-c"),
    health_path="/health",
    metrics_path="/metrics",
    queue_metric="vllm:num_requests_waiting",
    min_gpus=1,
    options=frozenset(
        {
            "revision",
            "quantization",
            "maxModelLen",
            "gpuMemoryUtilization",
            "prefixCaching",
            "chunkedPrefill",
            "extraArgs",
            "apiKeySecret",
            "hfTokenSecret",
            "gated",
        }
    ),
    api_key_env="VLLM_API_KEY",
    hf_token=True,
    # torch.compile and Triton caches under ~/.cache reach several GiB; 1 GiB got pods evicted.
    home_size="10Gi",
    server_args=_vllm_args,
    stage_script=_vllm_stage,
    env=_vllm_env,
    ready_exec=_vllm_ready,
    ready_path="/v1/models",
    rules=_vllm_rules,
    verify_script=_vllm_verify,
)

OLLAMA = Engine(
    name="ollama",
    image="ollama",
    port=11434,
    server_command=("ollama", "serve"),
    stage_command=("/bin/sh", "-c"),
    health_path="/",
    metrics_path=None,
    queue_metric=None,
    min_gpus=0,
    options=frozenset(),
    api_key_env=None,
    hf_token=False,
    home_size="1Gi",
    server_args=lambda s, served_name: [],
    stage_script=_ollama_stage,
    env=_ollama_env,
    ready_exec=lambda s, served_name, api_key: ["ollama", "show", s.model],
    ready_path="/",
    rules=_ollama_rules,
    foreign_option_hint="the model tag (name:tag) pins Ollama's version, quantization and context",
)

ENGINES: dict[str, Engine] = {e.name: e for e in (VLLM, OLLAMA)}
"""Every engine by name (the ``engine`` key of a model spec)."""
