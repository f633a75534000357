"""Model fit at plan time (issue 22 items 5, 6, 8; issue 23 §5): weights, context and the Hub
token, from the model catalogue or ``models.<n>.facts``. Each case planned with exit 0 before."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from components.core.model_catalogue import MODELS, SIXTEEN_BIT
from components.core.settings import SettingsError, deep_merge, parse_settings
from tests.conftest import DEV_CIDRS, ROOT, e2e_stack_config, settings_for


def _problems(env: str, **overrides: Any) -> dict[str, str]:
    with pytest.raises(SettingsError) as info:
        settings_for(env, **overrides)
    return dict(info.value.problems)


WIDE_POOL = {"gpu": {"instanceTypes": ["g6.12xlarge"], "maxSize": 2, "gpuCap": 8}}
"""Four 24 GiB L4 GPUs per node."""


def _fleet(model: str, **extra: Any) -> dict[str, Any]:
    """One vLLM fleet (instead of the preset's) on a pool of four-GPU nodes: only the fit rules speak."""
    return {
        "models": {
            "qwen-small": None,
            "qwen-instruct": None,
            "big": {
                "engine": "vllm",
                "model": model,
                "pool": "gpu",
                "cpu": "4",
                "memory": "16Gi",
                **extra,
            },
        },
        "nodePools": WIDE_POOL,
        "namespaces": {"models": {"quota": {"gpus": 8, "cpu": "48", "memory": "180Gi"}}},
    }


def test_weights_larger_than_the_replicas_gpus_are_an_error_with_the_numbers() -> None:
    # The case: Qwen2.5-72B (~145 GB in bfloat16) on 2 x 24 GB GPUs with TP2.
    problems = _problems("dev", **_fleet("Qwen/Qwen2.5-72B-Instruct", gpusPerReplica=2, maxModelLen=8192))
    message = problems["ai-infra:models.big.gpusPerReplica"]
    assert "weights take 135.4 GiB (72.7 B parameters, bfloat16)" in message
    assert "67.7 GiB on each of 2 L4 GPU(s)" in message and "20.6 GiB of each" in message
    assert "at least 8 such GPUs per replica (pool gpu has 4 per node)" in message


def test_the_same_model_fits_eight_gpus_or_loaded_in_fp8() -> None:
    eight = _fleet("Qwen/Qwen2.5-72B-Instruct", gpusPerReplica=8, maxModelLen=8192)
    eight["nodePools"] = {"gpu": {"instanceTypes": ["g6.48xlarge"], "maxSize": 1, "gpuCap": 8}}
    settings_for("dev", **eight, jobs={"finetune-example": None})  # the fleet holds the queue's GPUs
    # fp8 halves the weights: 67.7 GiB over two 48 GiB L40S fits; bfloat16 (135.4 GiB) does not.
    l40s = {"gpu": {"instanceTypes": ["g6e.12xlarge"], "maxSize": 1, "gpuCap": 4}}
    fp8 = _fleet("Qwen/Qwen2.5-72B-Instruct", gpusPerReplica=2, maxModelLen=8192, quantization="fp8")
    settings_for("dev", **{**fp8, "nodePools": l40s})
    bf16 = _fleet("Qwen/Qwen2.5-72B-Instruct", gpusPerReplica=2, maxModelLen=8192)
    assert "ai-infra:models.big.gpusPerReplica" in _problems("dev", **{**bf16, "nodePools": l40s})


def test_max_model_len_above_the_models_context_is_an_error() -> None:
    problems = _problems("dev", models={"qwen-instruct": {"maxModelLen": 65536}})
    assert problems["ai-infra:models.qwen-instruct.maxModelLen"] == (
        "65536 is above Qwen/Qwen2.5-0.5B-Instruct's maximum context of 32768 tokens (max_position_embeddings "
        "in its config.json): vLLM refuses to start; set maxModelLen to 32768 or less"
    )


def test_a_context_whose_kv_cache_does_not_fit_is_an_error_set_or_unset() -> None:
    # deepseek-coder-33B AWQ on one L4: 2.72 GiB left after 17.88 GiB of weights; 16384 tokens need 3.88.
    unset = _problems("dev", **_fleet("TheBloke/deepseek-coder-33B-instruct-AWQ"))
    message = unset["ai-infra:models.big.maxModelLen"]
    assert message.startswith("is unset, so vLLM serves the full 16384-token context: one sequence needs 3.88 GiB")
    assert "2.72 GiB of each of the 1 L4 GPU(s) (24 GiB) is left" in message
    assert "set maxModelLen to 11264 or less" in message
    explicit = _problems("dev", **_fleet("TheBloke/deepseek-coder-33B-instruct-AWQ", maxModelLen=16384))
    assert explicit["ai-infra:models.big.maxModelLen"].startswith("16384 tokens: one sequence needs 3.88 GiB")
    settings_for("dev", **_fleet("TheBloke/deepseek-coder-33B-instruct-AWQ", maxModelLen=8192))
    # Tensor parallelism splits the KV heads as well as the weights: two GPUs hold the full context.
    settings_for("dev", **_fleet("TheBloke/deepseek-coder-33B-instruct-AWQ", gpusPerReplica=2))


def test_a_quantization_the_checkpoint_cannot_take_is_an_error() -> None:
    awq = _problems("dev", **_fleet("Qwen/Qwen2.5-7B-Instruct", maxModelLen=8192, quantization="awq"))
    assert "is awq but Qwen/Qwen2.5-7B-Instruct's checkpoint is bfloat16" in awq["ai-infra:models.big.quantization"]
    again = _problems("dev", **_fleet("Qwen/Qwen2.5-Coder-32B-Instruct-AWQ", maxModelLen=8192, quantization="fp8"))
    assert "fp8 cannot quantize" in again["ai-infra:models.big.quantization"]
    settings_for("dev", **_fleet("Qwen/Qwen2.5-Coder-32B-Instruct-AWQ", maxModelLen=8192, quantization="awq"))


UNKNOWN_FACTS = {
    "parametersB": 13.0,
    "dtype": "bfloat16",
    "weightsGb": 26.0,
    "layers": 40,
    "kvHeads": 8,
    "headDim": 128,
    "maxContext": 8192,
    "source": "https://huggingface.co/acme/model-13b/blob/main/config.json",
}


def test_an_unknown_model_is_an_error_in_prod_unless_its_facts_are_given() -> None:
    fleet = {
        "engine": "vllm",
        "model": "acme/model-13b",
        "revision": "0" * 40,
        "pool": "serving",
        "replicas": {"min": 0, "max": 1},
        "maxModelLen": 4096,
    }
    problems = _problems("prod", models={"acme": fleet})
    assert "is required in prod: acme/model-13b is not in the model catalogue" in problems["ai-infra:models.acme.facts"]
    assert "layers, kvHeads, headDim, maxContext" in problems["ai-infra:models.acme.facts"]
    settings_for("prod", models={"acme": {**fleet, "facts": UNKNOWN_FACTS}})
    # Dev plans it with a warning naming the key.
    dev = settings_for("dev", **_fleet("acme/model-13b", maxModelLen=4096))
    assert "not in the model catalogue" in dict(dev.warnings)["models.big.facts"]


def test_given_facts_are_checked_like_the_catalogues() -> None:
    too_big = {**UNKNOWN_FACTS, "weightsGb": 60.0}
    problems = _problems("dev", **_fleet("acme/model-13b", maxModelLen=4096, facts=too_big))
    assert "weights take 55.9 GiB (13 B parameters, bfloat16)" in problems["ai-infra:models.big.gpusPerReplica"]
    long = _problems("dev", **_fleet("acme/model-13b", maxModelLen=16384, facts=UNKNOWN_FACTS))
    assert "above acme/model-13b's maximum context of 8192" in long["ai-infra:models.big.maxModelLen"]
    partial = {k: v for k, v in UNKNOWN_FACTS.items() if k != "kvHeads"}
    missing = _problems("dev", **_fleet("acme/model-13b", maxModelLen=4096, facts=partial))
    assert missing["ai-infra:models.big.facts.kvHeads"] == "is required for vllm (its KV-cache check reads it)"


def test_an_ollama_tag_larger_than_its_gpus_is_an_error() -> None:
    fleet: dict[str, Any] = {
        "engine": "ollama",
        "model": "acme:70b",
        "pool": "gpu",
        "cpu": "2",
        "memory": "8Gi",
        "facts": {"parametersB": 70.6, "dtype": "gguf-q4_K_M", "weightsGb": 43.0},
    }
    problems = _problems("dev", models={"qwen-instruct": None, "big": fleet})
    message = problems["ai-infra:models.big.gpusPerReplica"]
    assert "weights take 40.0 GiB" in message and "Ollama would run the layers that do not fit on the CPU" in message
    settings_for("dev", models={"qwen-instruct": None, "big": {**fleet, "model": "llama3.1:8b", "facts": None}})


def test_a_gated_model_without_a_token_is_an_error_naming_the_key() -> None:
    llama = _fleet("meta-llama/Llama-3.1-8B-Instruct", maxModelLen=8192)
    problems = _problems("dev", **llama)
    message = problems["ai-infra:models.big.hfTokenSecret"]
    assert "is required: meta-llama/Llama-3.1-8B-Instruct is gated on the Hugging Face Hub" in message
    assert "ai-infra:hfToken" in message
    # The stack-wide token or the fleet's own key satisfies it.
    raw = deep_merge({"environment": "dev", **DEV_CIDRS}, llama)
    parse_settings({**raw, "hfToken": "[secret]"}, stack="dev", secret_keys=frozenset({"hfToken"}))
    own = deep_merge(raw, {"models": {"big": {"hfTokenSecret": "metaToken"}}, "metaToken": "[secret]"})
    parse_settings(own, stack="dev", secret_keys=frozenset({"metaToken"}))
    # gated: true marks a model the catalogue lacks (or corrects it).
    marked = _problems("dev", **_fleet("acme/model-13b", maxModelLen=4096, facts=UNKNOWN_FACTS, gated=True))
    assert "(gated: true)" in marked["ai-infra:models.big.hfTokenSecret"]
    settings_for("dev", **_fleet("meta-llama/Llama-3.1-8B-Instruct", maxModelLen=8192, gated=False))


def test_gated_is_an_option_of_the_engines_that_download_from_the_hub() -> None:
    problems = _problems("dev", models={"qwen-small": {"gated": True}})
    assert "is an option of sglang, vllm only" in problems["ai-infra:models.qwen-small.gated"]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_catalogue_row_has_its_source_and_consistent_numbers(name: str) -> None:
    row = MODELS[name]
    assert row.source.startswith("https://") and "config.json" in row.source
    assert None not in (row.layers, row.kv_heads, row.head_dim, row.max_context)
    # Weights follow from the parameter count and the precision (2 bytes, AWQ/Q4 about 0.5-0.65).
    per_parameter = row.weights_gb / row.parameters_b
    low, high = (1.9, 2.1) if row.dtype in SIXTEEN_BIT else (0.5, 0.85)
    assert low <= per_parameter <= high, (name, per_parameter)


@pytest.mark.parametrize(
    "path", ["Pulumi.dev.yaml", "Pulumi.prod.yaml", "Pulumi.local.yaml", "tests/e2e/Pulumi.e2e.yaml"]
)
def test_the_stack_files_models_are_known_and_fit(path: str) -> None:
    config = yaml.safe_load((ROOT / path).read_text())["config"]
    secret = frozenset(k.removeprefix("ai-infra:") for k, v in config.items() if isinstance(v, dict) and "secure" in v)
    if path == "tests/e2e/Pulumi.e2e.yaml":  # its secrets are set by make e2e before `up`
        config, keys = e2e_stack_config()
        secret = frozenset(k.removeprefix("ai-infra:") for k in keys)
    raw = {
        k.removeprefix("ai-infra:"): "[secret]" if k.removeprefix("ai-infra:") in secret else v
        for k, v in config.items()
    }
    settings = parse_settings(raw, stack=path, secret_keys=secret)
    assert settings.models and all(spec.model_facts is not None for spec in settings.models.values())


def test_on_a_mig_pool_a_replicas_gpu_is_one_slice() -> None:
    mig = {"mode": "mig", "migStrategy": "single", "migProfile": "all-1g.5gb"}
    fleet = _fleet("Qwen/Qwen2.5-7B-Instruct", maxModelLen=4096)
    fleet["nodePools"] = {"gpu": {"instanceTypes": ["p4d.24xlarge"], "maxSize": 1, "gpuCap": 8, "sharing": mig}}
    message = _problems("dev", **fleet)["ai-infra:models.big.gpusPerReplica"]
    assert "on each of 1 A100 1g.5gb MIG slice(s)" in message and "(5 GiB x gpuMemoryUtilization 0.9" in message
    settings_for("dev", **{**fleet, "nodePools": {"gpu": {**fleet["nodePools"]["gpu"], "sharing": None}}})


def test_facts_name_a_known_precision() -> None:
    facts = {**UNKNOWN_FACTS, "dtype": "AWQ-int4"}
    problems = _problems("dev", **_fleet("acme/model-13b", maxModelLen=4096, facts=facts))
    assert "must match the pattern" in problems["ai-infra:models.big.facts.dtype"]
