"""GPU cost estimate per pool from the instance catalogue: the plan's $/hour report.

``min`` is what the pool costs when idle (minSize nodes, cheapest listed type), ``max`` what
it costs at its cap (max nodes, dearest listed type). List prices: a planning figure.
"""

from __future__ import annotations

from typing import Any

from components.core.gpu_instances import hourly_price
from components.core.settings import NodePoolSettings
from components.specs.node_pool import max_nodes


def pool_cost(pool: NodePoolSettings) -> dict[str, Any]:
    prices = [hourly_price(t, pool.capacity_type) for t in pool.instance_types]
    nodes = max_nodes(pool)
    return {
        "capacityType": pool.capacity_type,
        "minNodes": pool.min_size,
        "maxNodes": nodes,
        "maxGpus": nodes * pool.gpus_per_node,
        "minUsdPerHour": round(pool.min_size * min(prices), 2),
        "maxUsdPerHour": round(nodes * max(prices), 2),
    }


def cost_estimate(pools: dict[str, NodePoolSettings]) -> dict[str, Any]:
    per_pool = {name: pool_cost(pool) for name, pool in sorted(pools.items())}
    return {
        "pools": per_pool,
        "minUsdPerHour": round(sum(p["minUsdPerHour"] for p in per_pool.values()), 2),
        "maxUsdPerHour": round(sum(p["maxUsdPerHour"] for p in per_pool.values()), 2),
        "maxGpus": sum(p["maxGpus"] for p in per_pool.values()),
    }
