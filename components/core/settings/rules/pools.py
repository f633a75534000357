"""Node pool rules that span sections: instance types priced in the region, machines only on
existing clusters, prod's spot serving pools of two nodes or more, local PVs with NVMe storage,
and one device plugin per node."""

from __future__ import annotations

from components.core.gpu_instances import GPU_INSTANCES
from components.core.prices import on_demand_price
from components.core.settings.base import Problem
from components.core.settings.root import StackSections


def pool_problems(s: StackSections) -> list[Problem]:
    problems: list[Problem] = []
    eks = s.cluster.eks if s.on_aws else None
    for name, pool in s.node_pools.items():
        region = eks.region if eks else None
        for i, t in enumerate(pool.instance_types if region else []):
            if t in GPU_INSTANCES and region and on_demand_price(t, region) is None:
                problems.append(
                    (
                        f"nodePools.{name}.instanceTypes[{i}]",
                        f"{t} has no list price in {region} (not offered there): pick another type or region",
                    )
                )
        if pool.machine is not None and s.on_aws:
            problems.append((f"nodePools.{name}.machine", "describes existing machines; EKS pools take instanceTypes"))
        if s.is_prod and pool.purpose == "serving" and pool.capacity_type == "SPOT" and pool.min_size < 2:
            problems.append((f"nodePools.{name}.minSize", "a spot serving pool in prod needs at least 2 nodes"))
        if pool.nvme == "local-pv" and not s.storage.nvme.enabled:
            problems.append((f"nodePools.{name}.nvme", "local-pv needs storage.nvme.enabled: true"))
    host_plugin = sorted(n for n, p in s.node_pools.items() if p.host_device_plugin)
    if host_plugin and s.gpu.stack == "gpu-operator":
        problems.append(
            (
                "gpu.stack",
                f"gpu-operator would add a second device plugin on Bottlerocket pools ({', '.join(host_plugin)}); "
                "use device-plugin or AL2023 pools",
            )
        )
    return problems
