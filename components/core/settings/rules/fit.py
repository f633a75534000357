"""Will the model run where it is planned? Weights, context and the Hub token, from the catalogue.

For every fleet with known facts (``components/core/model_catalogue.py``, or ``models.<n>.facts``)
on a pool of known GPUs these rules are errors, in every environment:

- the weights fit the replica's GPUs: vLLM may fill ``gpuMemoryUtilization`` of each GPU, keeps
  about 1 GiB of it for activations, and splits the weights over ``gpusPerReplica`` (tensor
  parallelism); Ollama puts what does not fit on the CPU;
- vLLM's context fits: ``maxModelLen`` at most the model's ``max_position_embeddings``, and one
  sequence of ``maxModelLen`` tokens (the full context when unset) fits the KV cache left on each
  GPU after the weights — vLLM refuses to start otherwise;
- a quantization the checkpoint cannot take (``awq`` on a bfloat16 checkpoint does nothing; ``fp8``
  on an AWQ one makes vLLM refuse it);
- a gated model has a Hugging Face token (``hfTokenSecret``, or the stack-wide ``hfToken``).

A model with no facts is an error in prod and a warning in dev (its fit is unchecked).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from components.core.model_catalogue import (
    ACTIVATION_RESERVE_GIB,
    GIB,
    ON_THE_FLY_BYTES_PER_PARAMETER,
    SIXTEEN_BIT,
    ModelFacts,
)
from components.core.settings.base import Problem

if TYPE_CHECKING:
    from components.core.settings.models import ModelSpec
    from components.core.settings.pools import NodePoolSettings
    from components.core.settings.root import StackSections

CHECKPOINT_QUANTIZATIONS = frozenset({"awq", "gptq"})
"""Quantizations a checkpoint is saved in (vLLM reads them from its config, never converts to them)."""
MIN_CONTEXT = 256
"""The smallest ``maxModelLen`` the settings accept."""
UNIFORM_MIG = re.compile(r"^all-(\d+)g\.(\d+)gb$")
"""A MIG layout of one profile on every GPU (``all-1g.10gb``): a replica's GPU is one such slice."""


def fit_problems(s: StackSections) -> list[Problem]:
    problems: list[Problem] = []
    for name, spec in sorted(s.models.items()):
        facts = spec.model_facts
        found: list[Problem] = []
        if facts is None:
            if s.is_prod:
                found.append(("facts", f"is required in prod: {_unknown(spec)}"))
        else:
            found += _gated(s, name, spec, facts)
            found += _quantization(spec, facts)
            pool = s.node_pools.get(spec.pool)
            if pool is not None and pool.instances and spec.gpus_per_replica >= 1:
                found += _fit(spec, facts, pool)
        problems += [(f"models.{name}.{key}", message) for key, message in found]
    return problems


def fit_warnings(s: StackSections) -> list[Problem]:
    if s.is_prod:
        return []  # an error there
    return [
        (f"models.{name}.facts", f"is unset: {_unknown(spec)}")
        for name, spec in sorted(s.models.items())
        if spec.model_facts is None
    ]


def _unknown(spec: ModelSpec) -> str:
    needed = "parametersB, dtype, weightsGb" + (
        ", layers, kvHeads, headDim, maxContext" if spec.engine_record.capabilities.kv_fit else ""
    )
    return (
        f"{spec.model} is not in the model catalogue (components/core/model_catalogue.py), so the plan "
        f"cannot check that its weights and context fit; give {needed} from its config.json"
    )


def _gated(s: StackSections, name: str, spec: ModelSpec, facts: ModelFacts) -> list[Problem]:
    if not facts.gated or not spec.engine_record.hf_token or s.fleet_secret_keys(name).hf_token is not None:
        return []
    why = "gated: true" if spec.gated else "the model catalogue marks it gated"
    return [
        (
            "hfTokenSecret",
            f"is required: {spec.model} is gated on the Hugging Face Hub ({why}), so its weights download only "
            "with the token of an account that accepted its licence; set hfTokenSecret to a --secret config key, "
            "or the stack-wide token with `pulumi config set --secret ai-infra:hfToken`",
        )
    ]


def _quantization(spec: ModelSpec, facts: ModelFacts) -> list[Problem]:
    q = spec.quantization
    if q is None or q == facts.dtype:
        return []
    if q in CHECKPOINT_QUANTIZATIONS:
        return [
            (
                "quantization",
                f"is {q} but {spec.model}'s checkpoint is {facts.dtype} ({facts.source}): vLLM reads the "
                f"quantization from the checkpoint, so its weights stay {facts.dtype}; serve a checkpoint saved "
                f"in {q}, or quantize while loading (fp8, bitsandbytes)",
            )
        ]
    if facts.dtype not in SIXTEEN_BIT:
        return [
            (
                "quantization",
                f"{q} cannot quantize {spec.model} again: its checkpoint is {facts.dtype}, and vLLM refuses a "
                "quantization other than the checkpoint's; remove quantization",
            )
        ]
    return []


def weights_gib(spec: ModelSpec, facts: ModelFacts) -> float:
    """The weights in GPU memory: the checkpoint's, or what a load-time quantization leaves of them."""
    per_parameter = ON_THE_FLY_BYTES_PER_PARAMETER.get(spec.quantization or "")
    if per_parameter and facts.dtype in SIXTEEN_BIT:
        return min(facts.weights_gib, facts.parameters_b * 1e9 * per_parameter / GIB)
    return facts.weights_gib


def gpu_of(pool: NodePoolSettings) -> tuple[str, int]:
    """(what a replica's GPU is, its memory in GiB): the pool's smallest GPU, or its MIG slice."""
    gpu = min(pool.instances, key=lambda i: i.gpu_memory_gib)
    sliced = UNIFORM_MIG.match(pool.sharing.mig_profile or "") if pool.sharing.mode == "mig" else None
    if sliced:
        return f"{gpu.gpu_model} {sliced[1]}g.{sliced[2]}gb MIG slice(s)", int(sliced[2])
    return f"{gpu.gpu_model} GPU(s)", gpu.gpu_memory_gib


def _fit(spec: ModelSpec, facts: ModelFacts, pool: NodePoolSettings) -> list[Problem]:
    gpu, memory = gpu_of(pool)
    tp = spec.gpus_per_replica
    weights = weights_gib(spec, facts)
    # Engines that pre-allocate (vLLM, SGLang) fill a fraction of each GPU with weights and KV
    # cache; SGLang's --mem-fraction-static excludes activations, so the same reserve is taken
    # off for both (conservative for SGLang).
    vllm = spec.engine_record.capabilities.kv_fit
    label = spec.engine_record.label
    # What the engine may fill of each GPU, less its activation reserve.
    usable = memory * (spec.gpu_memory_utilization if vllm else 1.0) - ACTIVATION_RESERVE_GIB
    found: list[Problem] = []
    too_long = (
        vllm
        and facts.max_context is not None
        and spec.max_model_len is not None
        and spec.max_model_len > facts.max_context
    )
    if too_long:
        found.append(
            (
                "maxModelLen",
                f"{spec.max_model_len} is above {spec.model}'s maximum context of {facts.max_context} tokens "
                f"(max_position_embeddings in its config.json): {label} refuses to start; set maxModelLen to "
                f"{facts.max_context} or less",
            )
        )
    if weights / tp > usable:
        found.append(("gpusPerReplica", _weights_message(spec, facts, pool, (gpu, memory), weights, usable, vllm)))
    if found or not vllm:
        return found
    per_token = facts.kv_bytes_per_token_per_gpu(tp)
    context = spec.max_model_len or facts.max_context
    if per_token is None or context is None:
        return []
    free = usable - weights / tp
    need = context * per_token / GIB
    if need <= free:
        return []
    fits = math.floor(free * GIB / per_token / MIN_CONTEXT) * MIN_CONTEXT
    lead = (
        f"{spec.max_model_len} tokens"
        if spec.max_model_len is not None
        else f"is unset, so {label} serves the full {context}-token context"
    )
    advice = f"set maxModelLen to {fits} or less" if fits >= MIN_CONTEXT else f"not even {MIN_CONTEXT} tokens fit"
    return [
        (
            "maxModelLen",
            f"{lead}: one sequence needs {need:.2f} GiB of KV cache on each GPU, but {free:.2f} GiB of each of "
            f"the {tp} {gpu} ({memory} GiB) is left after the weights "
            f"({weights / tp:.2f} GiB each) at gpuMemoryUtilization {spec.gpu_memory_utilization:g}: {advice}, "
            "or raise gpuMemoryUtilization or gpusPerReplica",
        )
    ]


def _weights_message(
    spec: ModelSpec,
    facts: ModelFacts,
    pool: NodePoolSettings,
    gpu: tuple[str, int],
    weights: float,
    usable: float,
    vllm: bool,
) -> str:
    tp = spec.gpus_per_replica
    kind, memory = gpu
    least = 2 ** math.ceil(math.log2(max(1.0, weights / usable)))
    share = (
        f"{spec.engine_record.label} may fill {usable:.1f} GiB of each ({memory} GiB x gpuMemoryUtilization "
        f"{spec.gpu_memory_utilization:g}, less ~{ACTIVATION_RESERVE_GIB:g} GiB for activations)"
        if vllm
        else f"each holds {usable:.1f} GiB for them (less ~{ACTIVATION_RESERVE_GIB:g} GiB for Ollama's compute "
        "graph), and Ollama would run the layers that do not fit on the CPU"
    )
    return (
        f"{spec.model}'s weights take {weights:.1f} GiB ({facts.parameters_b:g} B parameters, {facts.dtype}): "
        f"{weights / tp:.1f} GiB on each of {tp} {kind}, but {share}; it needs at least {least} "
        f"such GPUs per replica (pool {spec.pool} has {pool.gpus_per_node} per node), larger GPUs, or a "
        "quantized checkpoint"
    )
