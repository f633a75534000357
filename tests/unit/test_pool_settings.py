"""Node pool settings (``settings/pools.py``) and the pool rules across sections (``settings/rules/pools.py``):
GPU sharing, spot pools, machines of existing clusters, clamps."""

from __future__ import annotations

from typing import Any

from components.core.settings import parse_settings
from tests.conftest import DEV_CIDRS, PROD_ADMINS, settings_for
from tests.unit.settings_problems import machine_stack
from tests.unit.settings_problems import stack_problems as _problems


def test_gpu_sharing_combinations_are_checked() -> None:
    def pool_problems(sharing: dict[str, Any], instance: str = "g6.xlarge") -> dict[str, str]:
        return _problems(
            {
                "environment": "dev",
                "cluster": {"eks": {"publicAccessCidrs": ["203.0.113.0/24"]}},
                "nodePools": {"gpu": {"instanceTypes": [instance], "sharing": sharing}},
            }
        )

    assert (
        "at least 2"
        in pool_problems({"mode": "time-slicing", "replicas": 1})["ai-infra:nodePools.gpu.sharing.replicas"]
    )
    assert (
        "cannot be combined"
        in pool_problems({"mode": "time-slicing", "replicas": 4, "migProfile": "all-1g.10gb"})[
            "ai-infra:nodePools.gpu.sharing.mode"
        ]
    )
    assert (
        "A100/H100"
        in pool_problems({"mode": "mig", "migStrategy": "single", "migProfile": "all-1g.10gb"})[
            "ai-infra:nodePools.gpu.sharing.mode"
        ]
    )
    settings_for(
        "prod",
        nodePools={"training": {"sharing": {"mode": "mig", "migStrategy": "mixed", "migProfile": "all-balanced"}}},
    )


def test_spot_serving_pool_in_prod_needs_two_nodes() -> None:
    raw = {
        "environment": "prod",
        **PROD_ADMINS,
        "nodePools": {"serving": {"capacityType": "SPOT", "minSize": 1, "desiredSize": 1}},
    }
    assert "at least 2" in _problems(raw, stack="prod")["ai-infra:nodePools.serving.minSize"]


def test_existing_clusters_describe_machines_not_ec2_types() -> None:
    machine = {"gpus": 2, "gpuModel": "RTX-A6000", "gpuMemoryGib": 48, "cpu": 32, "memoryGib": 256}
    existing = {"mode": "existing", "existing": {"kubeconfig": "/k"}}
    ok = parse_settings(
        {
            "environment": "dev",
            "cluster": existing,
            "nodePools": {"gpu": {"instanceTypes": None, "machine": machine}},
            "namespaces": {"models": {"modelCache": False}},
            "models": {"qwen-small": {"cache": "ephemeral"}, "qwen-instruct": {"cache": "ephemeral"}},
        },
        stack="local",
    )
    pool = ok.node_pools["gpu"]
    assert pool.gpus_per_node == 2 and pool.instances[0].gpu_model == "RTX-A6000"
    both = {"environment": "dev", **DEV_CIDRS, "nodePools": {"gpu": {"machine": machine}}}
    assert "not both" in _problems(both)["ai-infra:nodePools.gpu.instanceTypes"]
    on_aws = {"environment": "dev", **DEV_CIDRS, "nodePools": {"gpu": {"instanceTypes": None, "machine": machine}}}
    assert "EKS pools take instanceTypes" in _problems(on_aws)["ai-infra:nodePools.gpu.machine"]


def test_a_clamped_value_is_reported() -> None:
    clamps = dict(settings_for("dev", nodePools={"gpu": {"maxSize": 5}}).clamps)
    assert clamps["nodePools.gpu.maxSize"] == "5 -> 3: capped by gpuCap 3 (1 GPU(s) per node)"


def _machine_problems(**machine: object) -> dict[str, str]:
    return _problems(machine_stack(**machine))


def test_a_machines_gpu_model_is_known_or_its_memory_is_given() -> None:
    """Issue 22 item 12: model fit reads the GPU's memory, so an unknown board must say it."""
    known = parse_settings(machine_stack(gpuModel="L40S"), stack="local")
    assert known.node_pools["gpu"].instances[0].gpu_memory_gib == 48
    unknown = _machine_problems(gpuModel="MI300X")["ai-infra:nodePools.gpu.machine.gpuMemoryGib"]
    assert "is required" in unknown and "RTX-A6000" in unknown
    wrong = _machine_problems(gpuModel="A100", gpuMemoryGib=80)["ai-infra:nodePools.gpu.machine.gpuMemoryGib"]
    assert "A100 has 40 GiB" in wrong and "A100-80GB" in wrong
    own = parse_settings(machine_stack(gpuModel="MI300X", gpuMemoryGib=192), stack="local")
    assert own.node_pools["gpu"].instances[0].gpu_memory_gib == 192
