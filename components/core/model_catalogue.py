"""What the capacity checks need to know about the models the presets serve.

vLLM without ``maxModelLen`` serves the model's whole context and refuses to start when one
sequence of it does not fit the KV cache left after the weights. These facts estimate that:
weights in GPU memory at the checkpoint's precision, KV-cache bytes per token (``2 × layers ×
KV heads × head dim × 2`` bytes for a 16-bit cache) and the context length vLLM defaults to
(``max_position_embeddings``), read from each model's ``config.json`` on the Hugging Face Hub.
A model not listed gets the warning without numbers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelFacts:
    weights_gib: float
    kv_bytes_per_token: int
    max_context: int


def _kv(layers: int, kv_heads: int, head_dim: int) -> int:
    return 2 * layers * kv_heads * head_dim * 2


MODELS: dict[str, ModelFacts] = {
    # 24 layers, 2 KV heads of 64, 32768 positions; ~0.5 B parameters in bf16.
    "Qwen/Qwen2.5-0.5B-Instruct": ModelFacts(weights_gib=0.95, kv_bytes_per_token=_kv(24, 2, 64), max_context=32768),
    # 28 layers, 4 KV heads of 128, 32768 positions; ~7.6 B parameters in bf16.
    "Qwen/Qwen2.5-7B-Instruct": ModelFacts(weights_gib=14.2, kv_bytes_per_token=_kv(28, 4, 128), max_context=32768),
    # 62 layers, 8 KV heads of 128, 16384 positions; 33 B parameters in 4-bit AWQ.
    "TheBloke/deepseek-coder-33B-instruct-AWQ": ModelFacts(
        weights_gib=17.9, kv_bytes_per_token=_kv(62, 8, 128), max_context=16384
    ),
    # 64 layers, 8 KV heads of 128 (hidden 5120 / 40 heads), 32768 positions; 32.8 B parameters
    # in 4-bit AWQ (≈ 19.3 GB of safetensors).
    "Qwen/Qwen2.5-Coder-32B-Instruct-AWQ": ModelFacts(
        weights_gib=18.0, kv_bytes_per_token=_kv(64, 8, 128), max_context=32768
    ),
}

ACTIVATION_RESERVE_GIB = 1.0
"""Per GPU, what vLLM's profiling run keeps for activations and CUDA graphs (an estimate)."""
