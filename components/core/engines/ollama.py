"""Ollama (``ollama/ollama:0.12.6``, built here as ``images/ollama``): ``ollama serve``, GGUF tags
pulled into the cache; no Prometheus metrics (a CPU HPA scales it), no API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.core.engines.base import OLLAMA_MODELS, Capabilities, Engine, EnvPairs, StartupFigures
from components.core.startup_figures import Figure

if TYPE_CHECKING:
    from components.core.settings.models import ModelSpec

PORT = 11434


def _stage(s: ModelSpec) -> str:
    # Start a private server on loopback, pull into the cache, stop it.
    return (
        "set -eu\n"
        "OLLAMA_HOST=127.0.0.1:11435 ollama serve >/tmp/pull.log 2>&1 &\n"
        "pid=$!\n"
        "for _ in $(seq 1 60); do OLLAMA_HOST=127.0.0.1:11435 ollama list >/dev/null 2>&1 && break; sleep 1; done\n"
        f"OLLAMA_HOST=127.0.0.1:11435 ollama pull {s.model}\n"
        "kill $pid\n"
    )


def _env(offline: bool, hf_token: bool) -> EnvPairs:
    return [
        ("OLLAMA_MODELS", OLLAMA_MODELS),
        ("OLLAMA_HOST", f"0.0.0.0:{PORT}"),
        # The cache is read-only for the server: never prune or write blobs there.
        ("OLLAMA_NOPRUNE", "1"),
        ("OLLAMA_KEEP_ALIVE", "-1"),
    ]


def _rules(s: ModelSpec) -> list[tuple[str, str]]:
    if ":" not in s.model:
        return [("model", "an Ollama model needs a pinned tag, e.g. qwen2.5:0.5b")]
    return []


OLLAMA = Engine(
    name="ollama",
    label="Ollama",
    default_image="docker.io/ollama/ollama:0.12.6",
    image="ollama",
    port=PORT,
    server_command=("ollama", "serve"),
    stage_command=("/bin/sh", "-c"),
    health_path="/",
    metrics_path=None,
    metrics=None,
    capabilities=Capabilities(
        tensor_parallel=False, prefix_caching=False, quantization=False, api_key=False, kv_fit=False
    ),
    min_gpus=0,
    own_options=frozenset(),
    api_key_env=None,
    hf_token=False,
    home_size="1Gi",
    server_args=lambda s, served_name: [],
    stage_script=_stage,
    env=_env,
    ready_exec=lambda s, served_name, api_key: ["ollama", "show", s.model],
    ready_path="/",
    rules=_rules,
    # llama.cpp compiles no graphs at start; both figures are ours until measured.
    startup=StartupFigures(
        image_size=Figure(
            2.0,
            "GB",
            "UNVERIFIED: ollama/ollama:0.12.6 compressed size not read (Docker Hub is out of reach here); measure: "
            "sum of layers[].size of `docker buildx imagetools inspect --raw <ref>`",
            "2026-12-07",
            "UNVERIFIED",
        ),
        init=Figure(
            5, "s", "UNVERIFIED: llama.cpp runner start; measure from the server log", "2026-12-07", "UNVERIFIED"
        ),
        cuda_graphs=None,
    ),
    foreign_option_hint="the model tag (name:tag) pins Ollama's version, quantization and context",
)
