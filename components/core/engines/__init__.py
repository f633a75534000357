"""Model-serving engines as data: one module per engine, registered here.

Adding an engine is one module (its ``Engine`` record, see ``base.py``) and one entry in
``_ALL``; the ``engine`` key of a model spec, the ``modelImages`` settings, alerts, dashboards
and KEDA's trigger all derive from :data:`ENGINES` (docs/architecture.md walks through it).
"""

from __future__ import annotations

from components.core.engines.base import (
    CACHE_MOUNT,
    HF_HOME,
    HF_TOKEN_FILE,
    OLLAMA_MODELS,
    Capabilities,
    Engine,
    EngineMetrics,
    EnvPairs,
)
from components.core.engines.hub import ON_THE_FLY_QUANTIZATION
from components.core.engines.ollama import OLLAMA
from components.core.engines.sglang import SGLANG, SGLANG_TTFT_BUCKETS
from components.core.engines.vllm import VLLM, VLLM_TTFT_BUCKETS

_ALL = (VLLM, OLLAMA, SGLANG)

ENGINES: dict[str, Engine] = {e.name: e for e in _ALL}
"""Every engine by name (the ``engine`` key of a model spec)."""

__all__ = [
    "CACHE_MOUNT",
    "ENGINES",
    "HF_HOME",
    "HF_TOKEN_FILE",
    "OLLAMA",
    "OLLAMA_MODELS",
    "ON_THE_FLY_QUANTIZATION",
    "SGLANG",
    "SGLANG_TTFT_BUCKETS",
    "VLLM",
    "VLLM_TTFT_BUCKETS",
    "Capabilities",
    "Engine",
    "EngineMetrics",
    "EnvPairs",
]
