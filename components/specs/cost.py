"""The plan's cost report: $/hour and $/month per GPU pool and for the fixed parts of a stack.

Per pool: nodes at min, desired and max (max lowered by the GPU cap), each priced with the
cheapest listed instance type for min/desired and the dearest for max (the autoscaler may pick
either). Fixed (EKS only): the control plane, NAT gateways, system nodes (min for idle, max at
scale), the EFS model caches at their requested size, Prometheus's volume. Spot prices use the
catalogue's flat discount. List prices from ``components/core/prices.py`` and the GPU catalogue.
"""

from __future__ import annotations

import re
from typing import Any

from components.core.gpu_instances import GPU_INSTANCES, hourly_price
from components.core.prices import (
    EFS_STANDARD_USD_GB_MONTH,
    EKS_CLUSTER_USD_HOUR,
    GP3_USD_GB_MONTH,
    HOURS_PER_MONTH,
    NAT_GATEWAY_USD_HOUR,
    SYSTEM_INSTANCES_USD_HOUR,
)
from components.core.settings import NodePoolSettings, StackSettings

_GI = re.compile(r"^([0-9.]+)(Gi|Ti|G|T)?$")


def gibibytes(quantity: str) -> float:
    """A storage quantity (``100Gi``, ``1Ti``) in GiB (decimal units treated alike: an estimate)."""
    match = _GI.match(quantity)
    if not match:
        return 0.0
    value = float(match[1])
    return value * 1024 if match[2] in ("Ti", "T") else value


def _money(value: float) -> float:
    return round(value, 2)


def pool_cost(pool: NodePoolSettings) -> dict[str, Any]:
    prices = [hourly_price(t, pool.capacity_type) for t in pool.instance_types]
    nodes = {"min": pool.min_size, "desired": pool.desired_size, "max": pool.max_nodes}
    per_hour = {
        "min": nodes["min"] * min(prices),
        "desired": nodes["desired"] * min(prices),
        "max": nodes["max"] * max(prices),
    }
    return {
        "instanceTypes": list(pool.instance_types),
        "capacityType": pool.capacity_type,
        "gpusPerNode": pool.gpus_per_node,
        "gpuModel": GPU_INSTANCES[pool.instance_types[0]].gpu_model,
        "nodes": nodes,
        "maxGpus": nodes["max"] * pool.gpus_per_node,
        "usdPerNodeHour": {"cheapest": min(prices), "dearest": max(prices)},
        "usdPerHour": {k: _money(v) for k, v in per_hour.items()},
        "usdPerMonth": {k: _money(v * HOURS_PER_MONTH) for k, v in per_hour.items()},
    }


def fleet_costs(s: StackSettings) -> dict[str, Any]:
    """Each fleet's share of its pool: its GPUs at min and max replicas, priced per GPU of the
    pool's cheapest (min) and dearest (max) instance type. Pools bill whole nodes; this is the
    fleet's part of that bill."""
    fleets: dict[str, Any] = {}
    for name, spec in sorted(s.models.items()):
        pool = s.node_pools.get(spec.pool)
        if pool is None or not pool.instances or not spec.gpus_per_replica:
            continue
        prices = [hourly_price(t, pool.capacity_type) / pool.gpus_per_node for t in pool.instance_types]
        gpus = {"min": spec.replicas.min * spec.gpus_per_replica, "max": spec.replicas.max * spec.gpus_per_replica}
        per_hour = {"min": gpus["min"] * min(prices), "max": gpus["max"] * max(prices)}
        fleets[name] = {
            "pool": spec.pool,
            "gpus": gpus,
            "usdPerHour": {k: _money(v) for k, v in per_hour.items()},
            "usdPerMonth": {k: _money(v * HOURS_PER_MONTH) for k, v in per_hour.items()},
        }
    return fleets


def fixed_costs(s: StackSettings) -> dict[str, dict[str, float]]:
    """``{line: {"idle": usd/h, "max": usd/h}}`` for what runs whatever the GPU pools do."""
    eks = s.cluster.eks
    if not s.on_aws or eks is None:
        return {}
    system = eks.system_pool
    system_price = max(SYSTEM_INSTANCES_USD_HOUR.get(t, 0.0) for t in system.instance_types)
    nats = 1 if eks.nat_gateways == "single" else eks.availability_zones
    lines = {
        "eksControlPlane": (EKS_CLUSTER_USD_HOUR, EKS_CLUSTER_USD_HOUR),
        "natGateways": (nats * NAT_GATEWAY_USD_HOUR, nats * NAT_GATEWAY_USD_HOUR),
        "systemNodes": (system.min_size * system_price, system.max_size * system_price),
    }
    if s.storage.shared.backend == "efs" and s.cache_namespaces:
        efs = len(s.cache_namespaces) * gibibytes(s.storage.model_cache_size) * EFS_STANDARD_USD_GB_MONTH
        lines["efsModelCache"] = (efs / HOURS_PER_MONTH, efs / HOURS_PER_MONTH)
    if s.monitoring.enabled:
        volume = gibibytes(s.monitoring.storage_size) * GP3_USD_GB_MONTH / HOURS_PER_MONTH
        lines["monitoringVolume"] = (volume, volume)
    return {k: {"idle": round(idle, 4), "max": round(top, 4)} for k, (idle, top) in lines.items()}


def stack_cost(s: StackSettings) -> dict[str, Any]:
    """The whole report (``build/<stack>/cost.json`` and the ``costEstimate`` stack output)."""
    if not s.on_aws:
        return {"currency": "USD", "note": "existing cluster: machines are not priced", "pools": {}, "fixed": {}}
    pools = {name: pool_cost(pool) for name, pool in sorted(s.node_pools.items())}
    fixed = fixed_costs(s)
    idle = sum(p["usdPerHour"]["min"] for p in pools.values()) + sum(f["idle"] for f in fixed.values())
    top = sum(p["usdPerHour"]["max"] for p in pools.values()) + sum(f["max"] for f in fixed.values())
    return {
        "currency": "USD",
        "pricing": "AWS on-demand list prices, us-east-1, November 2026; spot at a flat discount",
        "pools": pools,
        "fleets": fleet_costs(s),
        "fixed": fixed,
        "total": {
            "idleUsdPerHour": _money(idle),
            "maxUsdPerHour": _money(top),
            "idleUsdPerMonth": _money(idle * HOURS_PER_MONTH),
            "maxUsdPerMonth": _money(top * HOURS_PER_MONTH),
            "maxGpus": sum(p["maxGpus"] for p in pools.values()),
        },
        "budgetUsdPerHour": s.cost.budget_usd_per_hour,
    }


MAX_COST_TAG = "ai-infra.io/max-usd-per-hour"
BUDGET_TAG = "ai-infra.io/budget-usd-per-hour"


def cost_tags(cost: dict[str, Any]) -> dict[str, str]:
    """Tags on the EKS cluster: the stack's max-scale $/h and its budget, which the policy pack's
    budget rule compares (policies see resources, not stack outputs)."""
    total = cost.get("total") or {}
    tags = {MAX_COST_TAG: f"{total['maxUsdPerHour']:.2f}"} if "maxUsdPerHour" in total else {}
    if cost.get("budgetUsdPerHour") is not None:
        tags[BUDGET_TAG] = f"{cost['budgetUsdPerHour']:.2f}"
    return tags


def instance_prices(s: StackSettings) -> dict[str, float]:
    """On-demand USD/h of every instance type the stack runs, GPU and system pools (the $/h
    recording rules price nodes by their instance-type label)."""
    prices = {t: GPU_INSTANCES[t].on_demand_usd_hour for p in s.node_pools.values() for t in p.instance_types}
    if s.cluster.eks is not None:
        prices |= {
            t: SYSTEM_INSTANCES_USD_HOUR[t]
            for t in s.cluster.eks.system_pool.instance_types
            if t in SYSTEM_INSTANCES_USD_HOUR
        }
    return prices
