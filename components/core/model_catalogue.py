"""The model catalogue: what the fit checks need to know about each model a fleet may serve.

A fleet that cannot hold its model fails at start, after the nodes were bought: vLLM refuses a
``maxModelLen`` above the model's ``max_position_embeddings`` ("User-specified max_model_len ... is
greater than the derived max_model_len", vLLM ``vllm/config/model.py``) and refuses to start when one
sequence of ``maxModelLen`` tokens does not fit the KV cache left after the weights ("To serve at
least one request with the model's max seq len ...", ``vllm/v1/core/kv_cache_utils.py``; the
fleets run vllm-openai v0.11.0, whose messages these are); Ollama
puts the layers that do not fit the GPUs on the CPU. The plan checks both from these facts, per
model: parameter count, the checkpoint's precision (dtype or quantization) and the bytes of its
weights, the attention shape the KV cache follows (layers, KV heads, head size) and the maximum
context, and whether the Hub gates its download behind a token.

Each row names its source: the model's ``config.json`` on the Hugging Face Hub (layers
``num_hidden_layers``, KV heads ``num_key_value_heads``, head size ``head_dim`` or ``hidden_size /
num_attention_heads``, context ``max_position_embeddings``, precision ``torch_dtype`` or
``quantization_config``), weights from the repository's safetensors sizes; Ollama tags from the
library page of the tag (its GGUF's size) and the ``config.json`` of the model it packages. A model
not listed here is described in settings (``models.<name>.facts``); prod refuses a model with no
facts, dev warns that its fit is unchecked.
"""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3


@dataclass(frozen=True)
class ModelFacts:
    """One model's size and attention shape (the catalogue's row, or ``models.<name>.facts``)."""

    parameters_b: float
    """Parameters, in billions."""
    dtype: str
    """The checkpoint's precision: bfloat16, float16, awq (4-bit), gptq, fp8 or gguf-q4_K_M."""
    weights_gb: float
    """Bytes of the weights as served, in GB (10^9 bytes, as the Hub lists file sizes)."""
    layers: int | None
    kv_heads: int | None
    head_dim: int | None
    max_context: int | None
    """``max_position_embeddings``: the longest context vLLM serves without an override."""
    gated: bool = False
    """The Hub serves the weights only to accounts that accepted the licence (a token)."""
    source: str = ""

    @property
    def weights_gib(self) -> float:
        return self.weights_gb * 1e9 / GIB

    def kv_bytes_per_token_per_gpu(self, tensor_parallel: int) -> int | None:
        """KV-cache bytes one token takes on each GPU (16-bit cache: keys and values, 2 bytes each).

        Tensor parallelism splits the KV heads; with more GPUs than KV heads vLLM replicates them,
        so a GPU always holds at least one."""
        if self.layers is None or self.kv_heads is None or self.head_dim is None:
            return None
        heads_per_gpu = max(1, self.kv_heads // max(1, tensor_parallel))
        return 2 * self.layers * heads_per_gpu * self.head_dim * 2


def _hub(repo: str) -> str:
    return f"https://huggingface.co/{repo}/blob/main/config.json"


def _ollama(tag: str, packaged: str) -> str:
    return f"https://ollama.com/library/{tag} (GGUF size); {_hub(packaged)}"


MODELS: dict[str, ModelFacts] = {
    # -- Hugging Face checkpoints (vLLM) --------------------------------------------------------
    # hidden 896 / 14 heads = 64; one 988 MB model.safetensors.
    "Qwen/Qwen2.5-0.5B-Instruct": ModelFacts(
        0.49, "bfloat16", 0.99, 24, 2, 64, 32768, source=_hub("Qwen/Qwen2.5-0.5B-Instruct")
    ),
    # hidden 3584 / 28 heads = 128.
    "Qwen/Qwen2.5-7B-Instruct": ModelFacts(
        7.62, "bfloat16", 15.2, 28, 4, 128, 32768, source=_hub("Qwen/Qwen2.5-7B-Instruct")
    ),
    "Qwen/Qwen2.5-Coder-7B-Instruct": ModelFacts(
        7.62, "bfloat16", 15.2, 28, 4, 128, 32768, source=_hub("Qwen/Qwen2.5-Coder-7B-Instruct")
    ),
    # hidden 5120 / 40 heads = 128; ≈ 19.3 GB of 4-bit AWQ safetensors.
    "Qwen/Qwen2.5-Coder-32B-Instruct-AWQ": ModelFacts(
        32.8, "awq", 19.3, 64, 8, 128, 32768, source=_hub("Qwen/Qwen2.5-Coder-32B-Instruct-AWQ")
    ),
    # hidden 8192 / 64 heads = 128; 72.7 B parameters in bfloat16 ≈ 145 GB.
    "Qwen/Qwen2.5-72B-Instruct": ModelFacts(
        72.7, "bfloat16", 145.4, 80, 8, 128, 32768, source=_hub("Qwen/Qwen2.5-72B-Instruct")
    ),
    # hidden 7168 / 56 heads = 128, 16384 positions; 4-bit AWQ.
    "TheBloke/deepseek-coder-33B-instruct-AWQ": ModelFacts(
        33.3, "awq", 19.2, 62, 8, 128, 16384, source=_hub("TheBloke/deepseek-coder-33B-instruct-AWQ")
    ),
    # Meta's and Mistral's repositories are gated: the weights download only with a token.
    "meta-llama/Llama-3.1-8B-Instruct": ModelFacts(
        8.03, "bfloat16", 16.1, 32, 8, 128, 131072, gated=True, source=_hub("meta-llama/Llama-3.1-8B-Instruct")
    ),
    "meta-llama/Llama-3.1-70B-Instruct": ModelFacts(
        70.6, "bfloat16", 141.1, 80, 8, 128, 131072, gated=True, source=_hub("meta-llama/Llama-3.1-70B-Instruct")
    ),
    "mistralai/Mistral-7B-Instruct-v0.3": ModelFacts(
        7.25, "bfloat16", 14.5, 32, 8, 128, 32768, gated=True, source=_hub("mistralai/Mistral-7B-Instruct-v0.3")
    ),
    # -- Ollama library tags (Q4_K_M GGUF unless the tag says otherwise) ------------------------
    "qwen2.5:0.5b": ModelFacts(
        0.49, "gguf-q4_K_M", 0.40, 24, 2, 64, 32768, source=_ollama("qwen2.5:0.5b", "Qwen/Qwen2.5-0.5B-Instruct")
    ),
    "qwen2.5:7b": ModelFacts(
        7.62, "gguf-q4_K_M", 4.7, 28, 4, 128, 32768, source=_ollama("qwen2.5:7b", "Qwen/Qwen2.5-7B-Instruct")
    ),
    "qwen2.5-coder:7b": ModelFacts(
        7.62,
        "gguf-q4_K_M",
        4.7,
        28,
        4,
        128,
        32768,
        source=_ollama("qwen2.5-coder:7b", "Qwen/Qwen2.5-Coder-7B-Instruct"),
    ),
    "llama3.1:8b": ModelFacts(
        8.03, "gguf-q4_K_M", 4.9, 32, 8, 128, 131072, source=_ollama("llama3.1:8b", "meta-llama/Llama-3.1-8B-Instruct")
    ),
}

ACTIVATION_RESERVE_GIB = 1.0
"""Per GPU, what vLLM's profiling run keeps for activations and CUDA graphs (an estimate); Ollama
keeps about as much for its compute graph."""

ON_THE_FLY_BYTES_PER_PARAMETER = {"fp8": 1.0, "bitsandbytes": 0.5}
"""Quantizations vLLM applies while loading a 16-bit checkpoint: the weights' bytes per parameter
they leave in GPU memory (8-bit, 4-bit)."""
SIXTEEN_BIT = frozenset({"bfloat16", "float16"})
