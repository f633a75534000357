"""Plans that could never run are errors: pods that fit no node, fleets over the GPU cap or quota.

Each case is one observed while trying the platform as a new user (issue "Day one"): every one of
them planned with exit 0 before the capacity model existed.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.core.gpu_instances import GPU_INSTANCES
from components.core.settings import SettingsError, parse_settings
from tests.conftest import PROD_ADMINS, settings_for


def _problems(env: str, **overrides: Any) -> dict[str, str]:
    with pytest.raises(SettingsError) as info:
        settings_for(env, **overrides)
    return dict(info.value.problems)


def small(engine: str = "ollama", **extra: Any) -> dict[str, Any]:
    model = "qwen2.5:0.5b" if engine == "ollama" else "Qwen/Qwen2.5-0.5B-Instruct"
    return {"engine": engine, "model": model, "pool": "gpu", "cpu": "2", "memory": "8Gi", **extra}


def test_fleets_over_the_pools_gpu_cap_at_min_replicas() -> None:
    models = {f"extra-{i}": small() for i in range(4)}
    problems = _problems("dev", models=models, namespaces={"models": {"quota": {"gpus": 8}}})
    message = problems["ai-infra:nodePools.gpu.gpuCap"]
    assert "holds 3 GPU(s)" in message and "need 6 at min replicas" in message


def test_the_default_fleet_size_does_not_fit_a_small_node() -> None:
    # 4 CPU / 32 Gi (the ModelSpec defaults) on g6.xlarge (4 vCPU / 16 GiB).
    models = {"qwen-instruct": None, "big": {"engine": "ollama", "model": "qwen2.5:7b", "pool": "gpu"}}
    problems = _problems("dev", models=models)
    assert "g6.xlarge" in problems["ai-infra:models.big.cpu"]
    assert "32 GiB" in problems["ai-infra:models.big.memory"]
    node = GPU_INSTANCES["g6.xlarge"]
    assert node.allocatable_cpu < node.vcpus and node.allocatable_memory_gib < node.memory_gib


def test_quota_must_cover_cpu_and_memory_at_max_replicas() -> None:
    fleets: dict[str, Any] = {"qwen-small": None, "qwen-instruct": None}
    fleets |= {f"f{i}": small(cpu="3", memory="13Gi", gpusPerReplica=0) for i in range(6)}
    quota = {"models": {"quota": {"cpu": "16", "memory": "64Gi", "gpus": 2, "pods": 20}}}
    problems = _problems("dev", models=fleets, namespaces=quota)
    assert "18 CPU" in problems["ai-infra:namespaces.models.quota.cpu"]  # 6 × 3
    assert "78 GiB" in problems["ai-infra:namespaces.models.quota.memory"]  # 6 × 13 Gi
    assert "ai-infra:namespaces.models.quota.gpus" not in problems  # CPU-only fleets need no GPUs


def test_ollama_cannot_ask_more_gpus_than_a_node_has() -> None:
    problems = _problems(
        "dev", models={"qwen-small": {"gpusPerReplica": 4}}, namespaces={"models": {"quota": {"gpus": 8}}}
    )
    assert "must fit one node of pool gpu" in problems["ai-infra:models.qwen-small.gpusPerReplica"]


def test_max_replicas_over_the_cap_is_a_warning_with_the_numbers() -> None:
    raw = {
        "environment": "prod",
        **PROD_ADMINS,
        "models": {"coder-32b": {"replicas": {"min": 2, "max": 8}}},
        "namespaces": {"models": {"quota": {"gpus": 40, "pods": 60}}},
    }
    settings = parse_settings(raw, stack="prod")
    warnings = dict(settings.warnings)
    assert "holds 16 GPU(s); its fleets want 18 at max replicas" in warnings["nodePools.serving.gpuCap"]


def test_the_presets_fit() -> None:
    for env in ("dev", "prod"):
        assert not [w for w in settings_for(env).warnings if w[0].startswith(("models.", "nodePools."))]


def test_the_readme_walkthrough_adds_a_model_as_written() -> None:
    # README "Day one", step 2: the plan names the two keys to raise, and raising them is enough.
    coder = {
        "coder": {
            "engine": "vllm",
            "model": "Qwen/Qwen2.5-7B-Instruct",
            "pool": "gpu",
            "cpu": "3",
            "memory": "12Gi",
            "maxModelLen": 8192,
        }
    }
    # The third fleet takes the GPU the train queue had: the example job could never be admitted.
    problems = _problems("dev", models=coder)
    assert set(problems) == {
        "ai-infra:jobs.finetune-example.workers",
        "ai-infra:namespaces.models.quota.gpus",
    }
    assert "raise nodePools.gpu.gpuCap and maxSize" in problems["ai-infra:jobs.finetune-example.workers"]
    settings_for(
        "dev",
        models=coder,
        nodePools={"gpu": {"maxSize": 4, "gpuCap": 4}},
        namespaces={"models": {"quota": {"gpus": 3}}},
    )


# Four-GPU nodes (g6.12xlarge) under a cap of six GPUs: one whole node, four GPUs.
PARTIAL_NODE_CAP = {"gpu": {"instanceTypes": ["g6.12xlarge"], "maxSize": 3, "gpuCap": 6}}


def test_a_gpu_cap_that_is_not_whole_nodes_is_rounded_down_and_warned() -> None:
    """Issue 24 item 5: two numbers carried the name "GPU cap" (the gpuCap given, and what whole
    nodes allow); the plan said nothing about the GPUs that can never be scheduled."""
    s = settings_for("dev", nodePools=PARTIAL_NODE_CAP)
    pool = s.node_pools["gpu"]
    assert (pool.max_nodes, pool.schedulable_gpus) == (1, 4)
    assert dict(s.warnings)["nodePools.gpu.gpuCap"] == (
        "6 is not a whole number of 4-GPU nodes: nodes come whole, so the pool holds at most 4 GPU(s) (1 node(s)), "
        "the cap every capacity check, queue quota and cost figure uses; set gpuCap to a multiple of 4"
    )
    whole = settings_for("dev", nodePools={"gpu": {**PARTIAL_NODE_CAP["gpu"], "gpuCap": 8}})
    assert "nodePools.gpu.gpuCap" not in dict(whole.warnings) and whole.node_pools["gpu"].schedulable_gpus == 8


def test_every_user_of_the_gpu_capacity_reads_the_same_number() -> None:
    from stack.cluster import cluster_cost as stack_cost

    s = settings_for("dev", nodePools=PARTIAL_NODE_CAP)
    # Kueue's derived quota: 4 schedulable less the 2 the fleets hold at min replicas (not 6 - 2).
    assert s.queue_gpus("train") == 2
    assert stack_cost(s)["pools"]["gpu"]["maxGpus"] == 4
    models = {f"extra-{i}": small() for i in range(3)}
    quota = {"models": {"quota": {"gpus": 8}}}
    problems = _problems("dev", nodePools=PARTIAL_NODE_CAP, models=models, namespaces=quota)
    assert problems["ai-infra:nodePools.gpu.gpuCap"].startswith("holds 4 GPU(s) but its fleets need 5 at min replicas")
    over = _problems("dev", nodePools=PARTIAL_NODE_CAP, batch={"queues": {"train": {"gpus": 3}}})
    assert over["ai-infra:batch.queues.train.gpus"].startswith("pool gpu holds 4 GPU(s)")
