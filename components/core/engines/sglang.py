"""SGLang 0.5.23 (``lmsysorg/sglang:v0.5.23``): ``python3 -m sglang.launch_server``, OpenAI-compatible.

Every flag, default, endpoint and metric here was checked against SGLang's own argument parser
and sources in the 0.5.23 wheel (``sglang/srt/arg_groups/fields/*.py``, ``srt/entrypoints/
http_server.py``, ``srt/observability/metrics_collector.py``, ``srt/utils/auth.py``); the file and
line of each is in docs/research/sglang.md. The image tag is not verified (Docker Hub is out of
reach here): ``modelImages.sglang`` must be a digest in prod, like every image this stack does not
build. The images ship CUDA 13, so GPU nodes need an R580+ driver (the AL2023 NVIDIA AMI has it).

Weights are staged exactly as for vLLM (``hub.py``): SGLang loads ``--model-path <repo id>`` at
``--revision`` from ``HF_HOME``'s hub cache offline.

``gpuMemoryUtilization`` becomes ``--mem-fraction-static``, whose meaning differs: vLLM's fraction
covers everything the engine allocates (weights, KV cache, activations, CUDA graphs); SGLang's
covers weights plus the KV pool only, and activations and CUDA graphs come out of the rest. The
same number therefore leaves SGLang less headroom; the 0.9 default is at the top of what SGLang
would pick itself. ``maxModelLen`` becomes ``--context-length``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.core.engines import hub
from components.core.engines.base import Capabilities, Engine, EngineMetrics, EnvPairs, StartupFigures, extra_arg_flags
from components.core.startup_figures import SAFETENSORS_LOADER_SHARE, Figure

if TYPE_CHECKING:
    from components.core.settings.models import ModelSpec

PORT = 30000
"""``--port``'s default (``srt/arg_groups/fields/serving.py:66``)."""
API_KEY_ENV = "SGLANG_API_KEY"
"""Our name for the env var the key reaches the pod in: SGLang reads no env var for it (the wheel
has no ``SGLANG_API_KEY``), so ``--api-key $(SGLANG_API_KEY)`` hands it over (Kubernetes expands
``$(VAR)`` in args). The key then shows in the pod's process list, as vLLM's ``--api-key`` would."""

SGLANG_TTFT_BUCKETS: tuple[float, ...] = (
    0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 2.0, 4.0, 6.0, 8.0, 10.0, 20.0, 40.0, 60.0, 80.0, 100.0, 200.0, 400.0,
)  # fmt: skip
"""``sglang:time_to_first_token_seconds`` default buckets (``srt/observability/metrics_collector.py``
lines 1965-1985 @ 0.5.23; we never pass ``--bucket-time-to-first-token``)."""

REJECTED_EXTRA_FLAGS = frozenset(
    {
        "--max-model-len",
        "--gpu-memory-utilization",
        "--enable-prefix-caching",
        "--no-enable-prefix-caching",
        "--enable-chunked-prefill",
        "--no-enable-chunked-prefill",
        "--tensor-parallel-size",
        "--served-model-name",
        "--host",
        "--port",
        "--api-key",
        "--enforce-eager",
        "--disable-log-requests",
    }
)
"""``extraArgs`` flags rejected for SGLang: vLLM's ``--max-model-len``, ``--gpu-memory-utilization``
and ``--enable-prefix-caching`` fail SGLang's parser ("unrecognized arguments"); the
``--no-enable-*`` and ``--enforce-eager`` / ``--disable-log-requests`` forms are vLLM's too.
The rest are accepted by SGLang but set from the spec here, so a second copy would fight it
(``--tensor-parallel-size`` is SGLang's alias of ``--tp-size``)."""

_REPLACEMENT = {
    "--max-model-len": "maxModelLen (becomes --context-length)",
    "--gpu-memory-utilization": "gpuMemoryUtilization (becomes --mem-fraction-static)",
    "--enable-prefix-caching": "prefixCaching",
    "--no-enable-prefix-caching": "prefixCaching: false (becomes --disable-radix-cache)",
    "--enable-chunked-prefill": "chunkedPrefill",
    "--no-enable-chunked-prefill": "chunkedPrefill: false (becomes --chunked-prefill-size -1)",
    "--tensor-parallel-size": "gpusPerReplica (becomes --tp-size)",
    "--api-key": "apiKeySecret",
    "--enforce-eager": "--cuda-graph-backend-decode disabled",
}


def _args(s: ModelSpec, served_name: str) -> list[str]:
    """``launch_server`` arguments from the spec (TP = GPUs per replica; metrics always on)."""
    args = [
        "--model-path",
        s.model,
        "--served-model-name",
        served_name,
        "--host",
        "0.0.0.0",  # default 127.0.0.1: unreachable from the Service and probes
        "--port",
        str(s.port),
        "--tp-size",
        str(s.gpus_per_replica),
        "--mem-fraction-static",
        f"{s.gpu_memory_utilization:g}",
        "--enable-metrics",  # without it /metrics is not mounted
    ]
    if not s.prefix_caching:
        args.append("--disable-radix-cache")  # the radix (prefix) cache is on by default
    if not s.chunked_prefill:
        args += ["--chunked-prefill-size", "-1"]
    if s.revision:
        args += ["--revision", s.revision]
    if s.quantization in hub.ON_THE_FLY_QUANTIZATION:
        args += ["--quantization", s.quantization]
    if s.max_model_len:
        args += ["--context-length", str(s.max_model_len)]
    return args + list(s.extra_args)


def _env(offline: bool, hf_token: bool) -> EnvPairs:
    # /health without a generation (srt/environ.py:344): probes must not inject requests.
    return [*hub.hub_env(offline, hf_token), ("SGLANG_ENABLE_HEALTH_ENDPOINT_GENERATION", "0")]


def _rules(s: ModelSpec) -> list[tuple[str, str]]:
    problems = []
    for flag in extra_arg_flags(s.extra_args):
        if flag in REJECTED_EXTRA_FLAGS:
            instead = _REPLACEMENT.get(flag)
            hint = f"; use {instead}" if instead else ""
            problems.append(("extraArgs", f"{flag} is not an SGLang flag or is set from the spec{hint}"))
    return problems


STARTUP = StartupFigures(
    image_size=Figure(
        12.64,
        "GB",
        "UNVERIFIED: the compressed size of lmsysorg/sglang:v0.5.23 was not read (Docker Hub is out of reach "
        "here); vLLM's figure is assumed (both ship torch, CUDA and FlashInfer; a third-party summary, "
        "deepwiki sgl-project/sglang 2.3, puts the -runtime variant at ~50 % of the framework image). "
        "Measure: sum of layers[].size of `docker buildx imagetools inspect --raw <ref>`",
        "2026-12-07",
        "UNVERIFIED",
    ),
    init=Figure(
        20,
        "s",
        "UNVERIFIED: no published SGLang start figure; process start, memory profiling and the KV pool like "
        "vLLM's 10 s (issue #20264) plus the server warmup request before /ready (--skip-server-warmup is off, "
        "srt/arg_groups/fields/serving.py:116 @ 0.5.23). Measure: sglang:startup_time_seconds{phase}",
        "2026-12-07",
        "UNVERIFIED",
    ),
    # torch.compile is off by default (--enable-torch-compile, srt/arg_groups/fields/exec_.py:691 @ 0.5.23).
    cuda_graphs=Figure(
        17,
        "s",
        "UNVERIFIED: CUDA graphs are on by default (exec_.py:613-621 @ 0.5.23); no SGLang timing published, "
        "vLLM's 17 s (issue #20264) assumed. Measure: sglang:startup_cuda_graph_time_seconds{phase}",
        "2026-12-07",
        "UNVERIFIED",
    ),
    graphs_off=("--cuda-graph-backend-decode disabled",),
    # The same default safetensors loader design as vLLM's (UNVERIFIED for SGLang: vLLM's figure).
    loader_share=SAFETENSORS_LOADER_SHARE,
)

SGLANG = Engine(
    name="sglang",
    label="SGLang",
    default_image="docker.io/lmsysorg/sglang:v0.5.23",
    image=None,
    port=PORT,
    server_command=("python3", "-m", "sglang.launch_server"),
    stage_command=("python3", "-c"),
    # /health and /ready are exempt from the API key (srt/utils/auth.py:93-104).
    health_path="/health",
    metrics_path="/metrics",
    metrics=EngineMetrics(
        queue="sglang:num_queue_reqs",
        kv_cache="sglang:token_usage",
        ttft="sglang:time_to_first_token_seconds",
        ttft_buckets=SGLANG_TTFT_BUCKETS,
        preemptions="sglang:num_retracted_requests_total",
        prompt_tokens="sglang:prompt_tokens_total",
        dashboard={
            "running": "sglang:num_running_reqs",
            "waiting": "sglang:num_queue_reqs",
            "kv_cache": "sglang:token_usage",
            "prompt_tokens": "sglang:prompt_tokens_total",
            "generation_tokens": "sglang:generation_tokens_total",
            "ttft": "sglang:time_to_first_token_seconds_bucket",
            "e2e_latency": "sglang:e2e_request_latency_seconds_bucket",
            "itl": "sglang:inter_token_latency_seconds_bucket",
            "preemptions": "sglang:num_retracted_requests_total",
        },
    ),
    capabilities=Capabilities(tensor_parallel=True, prefix_caching=True, quantization=True, api_key=True, kv_fit=True),
    min_gpus=1,
    own_options=hub.HUB_OPTIONS,
    api_key_env=API_KEY_ENV,
    api_key_args=lambda env_var: ["--api-key", f"$({env_var})"],
    hf_token=True,
    home_size="10Gi",  # torch and Triton caches, as for vLLM
    server_args=_args,
    stage_script=hub.stage_script,
    env=_env,
    # /ready is 200 only once startup (load and warmup) is complete (http_server.py:714-718).
    ready_exec=lambda s, served_name, api_key: None,
    ready_path="/ready",
    rules=_rules,
    startup=STARTUP,
    verify_script=hub.verify_script,
)
