"""The cost report: idle from what must run, prices per region with their dates, one meaning per column."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from components.core.gpu_instances import GPU_INSTANCES
from components.core.prices import (
    ON_DEMAND_USD_HOUR,
    PRICES_AS_OF,
    REGIONS,
    SPOT_AS_OF,
    SPOT_PRICE_FRACTION,
    hourly_price,
)
from components.core.settings import SettingsError
from components.core.settings.cluster import PricedRegion
from components.specs.cost import (
    BUDGET_TAG,
    MAX_COST_TAG,
    cost_tags,
    fleet_costs,
    idle_nodes,
    system_idle_nodes,
)
from stack.cluster import cluster_cost as stack_cost
from tests.conftest import settings_for


def _system_nodes(s: Any) -> int:
    assert s.cluster.eks is not None
    return system_idle_nodes(s, s.cluster.eks)


ALWAYS_ON = {
    "engine": "vllm",
    "model": "Qwen/Qwen2.5-7B-Instruct",
    "pool": "l40s",
    "maxModelLen": 8192,
    "cpu": "2",
    "memory": "16Gi",
}


def test_a_fleet_at_min_replicas_keeps_its_gpu_node_in_the_idle_cost() -> None:
    """Issue 22 item 1: an always-on fleet on a minSize-0 on-demand L40S pool printed idle +0.00."""
    pool = {"l40s": {"instanceTypes": ["g6e.xlarge"], "gpuCap": 2}}
    base = settings_for("dev", nodePools=pool)
    with_fleet = settings_for(
        "dev", nodePools=pool, models={"always-on": ALWAYS_ON}, namespaces={"models": {"quota": {"gpus": 3}}}
    )
    assert idle_nodes(base, "l40s") == 0 and idle_nodes(with_fleet, "l40s") == 1
    delta = stack_cost(with_fleet)["total"]["idleUsdPerHour"] - stack_cost(base)["total"]["idleUsdPerHour"]
    assert delta == pytest.approx(1.861, abs=0.01)  # one on-demand g6e.xlarge; the plan diff shows this delta


def test_replicas_are_packed_onto_nodes_by_gpus_cpu_and_memory() -> None:
    # Prod: coder-32b's two TP2 replicas fill one 4-GPU g6e.12xlarge, qwen-coder's two the second.
    prod = settings_for("prod")
    assert idle_nodes(prod, "serving") == 2 and idle_nodes(prod, "training") == 0
    # Four 1-GPU replicas asking for 30 CPU each cannot share a 48-vCPU node: four nodes, not one.
    hungry = {"coder-32b": None, "qwen-coder": {"replicas": {"min": 4, "max": 4}, "cpu": "30"}}
    crowded = settings_for("prod", models=hungry, namespaces={"models": {"quota": {"cpu": "200"}}})
    assert idle_nodes(crowded, "serving") == 4


def test_time_sliced_gpus_hold_several_replicas_per_node() -> None:
    small = {"cpu": "1", "memory": "4Gi"}
    fleets = {"qwen-small": small, "qwen-instruct": small}
    sliced = {"gpu": {"sharing": {"mode": "time-slicing", "replicas": 2}}}
    assert idle_nodes(settings_for("dev", models=fleets), "gpu") == 2
    assert idle_nodes(settings_for("dev", models=fleets, nodePools=sliced), "gpu") == 1  # one L4, two slices
    # The preset's fleets do not fit one g6.xlarge together (20 GiB of requests): two nodes anyway.
    assert idle_nodes(settings_for("dev", nodePools=sliced), "gpu") == 2


def test_system_nodes_at_idle_follow_the_system_pods() -> None:
    dev = settings_for("dev")
    assert _system_nodes(dev) == 1  # CoreDNS, CSI controllers, Kueue fit one m7i.large
    # Prometheus's 500m still fits; with the GPU operator's controllers too, they take two nodes.
    assert _system_nodes(settings_for("dev", monitoring={"enabled": True})) == 1
    busy = settings_for("dev", monitoring={"enabled": True}, gpu={"stack": "gpu-operator"})
    assert _system_nodes(busy) == 2
    assert stack_cost(busy)["fixed"]["systemNodes"]["idle"] == pytest.approx(2 * 0.1008)


def test_prices_are_kept_per_allowed_region_with_their_dates() -> None:
    assert set(get_args(PricedRegion)) == set(REGIONS) == set(ON_DEMAND_USD_HOUR)
    for region in REGIONS:
        assert ON_DEMAND_USD_HOUR[region]["g6.xlarge"] == 0.8048  # Price List 2026-01-19, same in all three
    assert "p4de.24xlarge" not in ON_DEMAND_USD_HOUR["us-east-2"]
    assert PRICES_AS_OF == "2026-01-19" and SPOT_AS_OF
    cost = stack_cost(settings_for("dev"))
    assert cost["region"] == "us-west-2" and PRICES_AS_OF in cost["pricing"] and SPOT_AS_OF in cost["pricing"]
    with pytest.raises(SettingsError, match=r"cluster\.eks\.region: must be one of"):
        settings_for("dev", cluster={"eks": {"region": "eu-west-1"}})
    with pytest.raises(
        SettingsError, match=r"nodePools\.training\.instanceTypes\[0\]: p4de\.24xlarge has no list price"
    ):
        settings_for(
            "prod",
            cluster={"eks": {"region": "us-east-2"}},
            nodePools={"training": {"instanceTypes": ["p4de.24xlarge"]}},
        )


def test_spot_is_priced_per_family() -> None:
    assert set(SPOT_PRICE_FRACTION) == {i.family for i in GPU_INSTANCES.values()}
    assert len(set(SPOT_PRICE_FRACTION.values())) > 1  # not one flat discount
    assert hourly_price("g6.xlarge", "SPOT", "us-west-2") == round(0.8048 * SPOT_PRICE_FRACTION["g6"], 4)
    assert hourly_price("g4dn.xlarge", "SPOT", "us-west-2") == round(0.526 * SPOT_PRICE_FRACTION["g4dn"], 4)
    assert hourly_price("g6.xlarge", "ON_DEMAND", "us-west-2") == 0.8048


def test_fleet_columns_mean_the_same_in_every_stack() -> None:
    """Issue 22 item 4: dev's min/max columns used cheapest vs dearest types; now both price the
    fleet's GPUs at min and at max replicas with the pool's cheapest listed type."""
    for env in ("dev", "prod"):
        for fleet in fleet_costs(settings_for(env), "us-west-2").values():
            assert set(fleet["gpus"]) == set(fleet["usdPerHour"]) == {"minReplicas", "maxReplicas"}
            for key, gpus in fleet["gpus"].items():
                assert fleet["usdPerHour"][key] == pytest.approx(gpus * fleet["usdPerGpuHour"], abs=0.01)
    dev = fleet_costs(settings_for("dev"), "us-west-2")["qwen-small"]
    assert dev["usdPerGpuHour"] == hourly_price("g6.xlarge", "SPOT", "us-west-2")  # not g6.2xlarge's


def test_both_presets_carry_a_budget_their_max_fits_and_a_raised_pool_breaks() -> None:
    """Issue 22 item 3: prod had no budget, so a serving pool raised to 10 nodes planned clean at
    ~$97k/month. The presets' budgets hold their own max; the raised pool exceeds prod's."""
    for env in ("dev", "prod"):
        cost = stack_cost(settings_for(env))
        tags = cost_tags(cost)
        assert cost["budgetUsdPerHour"] is not None and BUDGET_TAG in tags
        assert float(tags[MAX_COST_TAG]) <= float(tags[BUDGET_TAG]), env
    raised = stack_cost(settings_for("prod", nodePools={"serving": {"maxSize": 10, "gpuCap": 40}}))
    assert raised["total"]["maxUsdPerHour"] > raised["budgetUsdPerHour"]  # cost-within-budget: mandatory in prod


def test_the_default_dev_stack_has_no_capacity_or_cost_findings() -> None:
    """Done-means of issue 22: dev plans clean. Its settings warnings are the two by design
    (README: the example's documentation CIDR, monitoring off); no capacity, queue or budget finding."""
    dev = settings_for("dev")
    assert [key for key, _ in dev.warnings] == ["cluster.eks.publicAccessCidrs", "monitoring.enabled"]
    assert dev.queue_gpus("train") >= dev.jobs["finetune-example"].gpus_per_worker  # the README's job can run
    cost = stack_cost(dev)
    assert cost["total"]["maxUsdPerHour"] <= cost["budgetUsdPerHour"]
