"""vLLM (``vllm/vllm-openai:v0.11.0``, built here as ``images/model-runner``): ``vllm serve``.

Flags: docs/research/upstream.md §f; metric names and TTFT buckets: ``vllm/v1/metrics/loggers.py``
@ v0.11.0 (re-checked in the PyPI wheel, docs/research/sglang.md last section).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from components.core.engines import hub
from components.core.engines.base import Capabilities, Engine, EngineMetrics, EnvPairs, StartupFigures
from components.core.startup_figures import SAFETENSORS_LOADER_SHARE, Figure

if TYPE_CHECKING:
    from components.core.settings.models import ModelSpec

ON_THE_FLY_QUANTIZATION = hub.ON_THE_FLY_QUANTIZATION

VLLM_TTFT_BUCKETS: tuple[float, ...] = (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75,
    1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
)  # fmt: skip
"""``vllm:time_to_first_token_seconds`` bucket boundaries (vllm ``vllm/v1/metrics/loggers.py``,
v1 engine of the pinned vllm-openai v0.11.0)."""


WEIGHTS_URI_ENV = "AI_INFRA_WEIGHTS_URI"
"""``cache: s3``: the env var holding ``s3://bucket/prefix/`` (the bucket's name is known only once
it exists); the model argument is ``$(AI_INFRA_WEIGHTS_URI)``, which Kubernetes expands."""
STREAMER_CONCURRENCY = 16
"""S3 clients the Run:ai streamer opens (``concurrency`` of ``--model-loader-extra-config``, read by
``vllm/model_executor/model_loader/runai_streamer_loader.py`` @ v0.11.0; the docs' example value)."""


def _model_args(s: ModelSpec) -> list[str]:
    """The model and where it loads from: a Hub id at a revision, or the fleet's S3 prefix of that
    revision streamed with ``--load-format runai_streamer`` (the staging Job wrote it)."""
    revision = ["--revision", s.revision] if s.revision else []
    if s.cache != "s3":
        return [s.model, *revision]
    # The revision stays on the command line: the URI's prefix names it, vLLM ignores it for a
    # streamed path (runai_streamer_loader.py downloads from the Hub only for a repo id), and the
    # pack's model-revision-pinned reads it there.
    extra = json.dumps({"concurrency": STREAMER_CONCURRENCY})
    return [f"$({WEIGHTS_URI_ENV})", *revision, "--load-format", s.load_format, "--model-loader-extra-config", extra]


def _args(s: ModelSpec, served_name: str) -> list[str]:
    """OpenAI server arguments derived from the spec (TP = GPUs per replica).

    No ``--disable-log-requests``: deprecated and without effect in v0.11.0 (request logging is
    off by default), slated for removal."""
    model, *load = _model_args(s)
    args = [
        model,
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
    args += load
    if s.quantization in ON_THE_FLY_QUANTIZATION:
        args += ["--quantization", s.quantization]
    if s.max_model_len:
        args += ["--max-model-len", str(s.max_model_len)]
    return args + list(s.extra_args)


def _env(offline: bool, hf_token: bool) -> EnvPairs:
    home, *rest = hub.hub_env(offline, hf_token)
    return [home, ("VLLM_NO_USAGE_STATS", "1"), ("DO_NOT_TRACK", "1"), *rest]


def _ready(s: ModelSpec, served_name: str, api_key: bool) -> list[str] | None:
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


STARTUP = StartupFigures(
    image_size=Figure(
        12.64,
        "GB",
        "vllm-project/vllm issue #27154 (vllm-openai image ~12 GB; discuss.vllm.ai: 12.64 GB); "
        "measure: sum of layers[].size of `docker buildx imagetools inspect --raw <ref>`",
        "2025-10-18",
        "low",
    ),
    init=Figure(
        10,
        "s",
        "vllm-project/vllm issue #20264: 'init engine' 34.11 s minus compile 7.51 s and graph capture 17 s "
        "(process start, profiling, KV cache); VLLM_SKIP_P2P_CHECK=1 by default at v0.11.0 (vllm/envs.py)",
        "2025-06-30",
        "low",
    ),
    compile_cold=Figure(
        85,
        "s",
        "vllm-project/vllm issue #19824 (Dynamo ~15 s + torch.compile ~70 s, Llama-70B-FP8 TP=8): an upper figure",
        "2025-06-19",
        "medium",
    ),
    compile_warm=Figure(
        7.5,
        "s",
        "vllm-project/vllm issue #20264 (compile 7.51 s with the torch.compile cache reused)",
        "2025-06-30",
        "low",
    ),
    cuda_graphs=Figure(
        17,
        "s",
        "vllm-project/vllm issue #20264 (graph capture 17 s); #20098: 67 graphs by default, 'more than 10s'",
        "2025-06-30",
        "low",
    ),
    graphs_off=("--enforce-eager",),  # skips CUDA graphs and compile (issue #19824)
    loader_share=SAFETENSORS_LOADER_SHARE,
)

VLLM = Engine(
    name="vllm",
    label="vLLM",
    default_image="docker.io/vllm/vllm-openai:v0.11.0",
    image="model-runner",
    port=8000,
    server_command=("vllm", "serve"),
    stage_command=("python3", "-c"),
    health_path="/health",
    metrics_path="/metrics",
    metrics=EngineMetrics(
        queue="vllm:num_requests_waiting",
        kv_cache="vllm:kv_cache_usage_perc",
        ttft="vllm:time_to_first_token_seconds",
        ttft_buckets=VLLM_TTFT_BUCKETS,
        preemptions="vllm:num_preemptions_total",
        prompt_tokens="vllm:request_prompt_tokens",
        dashboard={
            "running": "vllm:num_requests_running",
            "waiting": "vllm:num_requests_waiting",
            "kv_cache": "vllm:kv_cache_usage_perc",
            "prompt_tokens": "vllm:prompt_tokens_total",
            "generation_tokens": "vllm:generation_tokens_total",
            "ttft": "vllm:time_to_first_token_seconds_bucket",
            "e2e_latency": "vllm:e2e_request_latency_seconds_bucket",
            "itl": "vllm:inter_token_latency_seconds_bucket",
            "preemptions": "vllm:num_preemptions_total",
            "finished": "vllm:request_success_total",
        },
    ),
    capabilities=Capabilities(tensor_parallel=True, prefix_caching=True, quantization=True, api_key=True, kv_fit=True),
    min_gpus=1,
    own_options=hub.HUB_OPTIONS | {"loadFormat"},
    # vLLM reads VLLM_API_KEY itself (OpenAI-compatible server docs: "--api-key or environment
    # variable VLLM_API_KEY"), so no argument carries the key.
    api_key_env="VLLM_API_KEY",
    hf_token=True,
    # torch.compile and Triton caches under ~/.cache reach several GiB; 1 GiB got pods evicted.
    home_size="10Gi",
    server_args=_args,
    stage_script=hub.stage_script,
    env=_env,
    ready_exec=_ready,
    ready_path="/v1/models",
    rules=lambda s: [],
    startup=STARTUP,
    verify_script=hub.verify_script,
    # vllm/envs.py @ v0.11.0: VLLM_CACHE_ROOT (default ~/.cache/vllm); vllm/compilation/backends.py
    # puts torch_compile_cache/<hash>/rank_i_j there, and compiler_interface.py points
    # TORCHINDUCTOR_CACHE_DIR and TRITON_CACHE_DIR inside that hash directory.
    compile_cache_env="VLLM_CACHE_ROOT",
)
