"""The plan's cost report: $/hour and $/month per GPU pool, per fleet and for the fixed parts.

Every figure is priced in the stack's region (``components/core/prices.py``: on-demand list prices
with their date, spot at a per-family estimate). Two columns, one meaning everywhere:

* **idle** — what runs with no traffic and no jobs: each GPU pool's nodes that must stay up (its
  ``minSize``, or more when its fleets' minimum replicas need more nodes: replicas packed onto the
  pool's smallest listed type, the node the autoscaler plans with), priced at the cheapest listed
  type; the system nodes the system pods and DaemonSets need (at least ``systemPool.minSize``); the
  control plane, NAT gateways, the EFS caches at their requested size, Prometheus's volume.
* **max** — every pool at its maximum (``maxSize`` lowered by ``gpuCap``) at the dearest listed
  type (the autoscaler may pick either), the system pool at its ``maxSize``.

A fleet's columns are its GPUs' share of its pool at min and at max replicas, both priced per GPU
of the pool's cheapest listed type: pools bill whole nodes, and this is the fleet's part of that.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from components.core.gpu_instances import GPU_INSTANCES, MAX_PODS, GpuInstance, kube_reserved_cpu
from components.core.prices import (
    EFS_STANDARD_USD_GB_MONTH,
    EKS_CLUSTER_USD_HOUR,
    GP3_USD_GB_MONTH,
    HOURS_PER_MONTH,
    NAT_GATEWAY_USD_HOUR,
    PRICES_AS_OF,
    SPOT_AS_OF,
    SYSTEM_INSTANCES_SHAPE,
    hourly_price,
    on_demand_price,
    pricing_note,
    spot_fraction,
)
from components.core.settings import EksSettings, ModelSpec, NodePoolSettings, StackSettings
from components.core.settings.models import pod_request
from components.specs.warm_floor import warm_floor_cost

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


UNPRICED_REGION = "us-west-2"
"""Where instance types are priced for the recording rules when the stack has no AWS region (an
existing cluster's pools named by EC2 type)."""
UNPRICED: Mapping[str, Any] = MappingProxyType(
    {"currency": "USD", "note": "existing cluster: machines are not priced", "pools": {}, "fixed": {}}
)
"""The report of a stack that owns no AWS resources (``stack/cluster.py`` picks it)."""


# -- what must run: GPU pools ----------------------------------------------------------------------


def plan_node(pool: NodePoolSettings) -> GpuInstance:
    """The node a pool is planned on: its smallest listed type (the capacity checks use the same)."""
    return min(pool.instances, key=lambda i: (i.gpus, i.allocatable_cpu, i.allocatable_memory_gib))


def nodes_for_replicas(pool: NodePoolSettings, replicas: list[tuple[int, float, float]]) -> int:
    """Nodes of ``plan_node(pool)`` that hold ``replicas`` (GPUs, CPU, memory GiB each): first fit,
    largest first, as the scheduler fills nodes the autoscaler adds for pending pods."""
    node = plan_node(pool)
    # Time-slicing advertises each GPU `replicas` times: that many 1-GPU pods share it. (MIG slices
    # are counted as whole GPUs: an upper bound for the floor.)
    slices = (pool.sharing.replicas or 1) if pool.sharing.mode == "time-slicing" else 1
    capacity = (pool.gpus_per_node * slices, node.allocatable_cpu, node.allocatable_memory_gib)
    free: list[list[float]] = []
    for need in sorted(replicas, reverse=True):
        for left in free:
            if all(n <= f + 1e-9 for n, f in zip(need, left, strict=True)):
                for i, n in enumerate(need):
                    left[i] -= n
                break
        else:
            free.append([c - n for c, n in zip(capacity, need, strict=True)])
    return len(free)


def fleet_replicas(spec: ModelSpec, count: int) -> list[tuple[int, float, float]]:
    cpu, memory, _ = pod_request(spec)
    return [(spec.gpus_per_replica, cpu, memory)] * count


def idle_nodes(s: StackSettings, pool_name: str) -> int:
    """GPU nodes of a pool that stay up with no traffic: minSize, or what its fleets' minimum
    replicas need (never above the pool's capped maximum: the capacity checks refuse that)."""
    pool = s.node_pools[pool_name]
    replicas = [r for m in s.models.values() if m.pool == pool_name for r in fleet_replicas(m, m.replicas.min)]
    return max(pool.min_size, min(pool.max_nodes, nodes_for_replicas(pool, replicas)))


# -- what must run: system nodes -------------------------------------------------------------------


@dataclass(frozen=True)
class SystemPod:
    """A Deployment on the system nodes: replicas and each replica's requests, and where they come from."""

    name: str
    replicas: int
    cpu: float
    memory_gib: float
    source: str


def system_pods(s: StackSettings) -> list[SystemPod]:
    """What the scheduler packs onto the system nodes (GPU nodes are tainted): requests, which
    decide packing (a pod without requests takes none). Ours where we set them; EKS add-on and
    chart defaults otherwise (estimates where marked)."""
    pods = [
        SystemPod("coredns", 2, 0.1, 70 / 1024, "EKS CoreDNS add-on default requests"),
        SystemPod("ebs-csi-controller", 2, 0.06, 0.24, "estimate: six sidecars at 10m/40Mi (EBS CSI add-on)"),
        SystemPod("cluster-autoscaler", 1, 0.0, 0.0, "chart default resources: {}"),
    ]
    if s.storage.shared.backend == "efs":
        pods.append(SystemPod("efs-csi-controller", 2, 0.03, 0.12, "estimate: three containers at 10m/40Mi"))
    if s.batch.enabled:
        pods.append(SystemPod("kueue-controller", 1, 0.5, 0.5, "ours (components/specs/kueue.py)"))
    if s.needs_keda:
        pods.append(SystemPod("keda", 3, 0.1, 100 / 1024, "estimate: KEDA chart's 100m/100Mi per component"))
    if s.monitoring.enabled:
        pods.append(SystemPod("prometheus", 1, 0.5, 2.0, "ours (components/specs/monitoring.py)"))
        # Grafana, the operator, Alertmanager and kube-state-metrics keep kube-prometheus-stack's
        # `resources: {}` (we set none): no requests, so they add nothing the autoscaler counts.
        pods.append(SystemPod("opencost", 1, 0.01, 55 / 1024, "estimate: the opencost chart's exporter requests"))
    if s.gpu.stack == "gpu-operator":
        pods.append(SystemPod("gpu-operator-and-nfd-master", 2, 0.2, 0.25, "estimate"))
    if s.tailscale_operator:
        pods.append(SystemPod("tailscale-operator", 1, 0.0, 0.0, "chart default resources: {}"))
    return pods


SYSTEM_DAEMONSETS_CPU, SYSTEM_DAEMONSETS_MEMORY_GIB = 0.2, 0.5
"""What the node daemons request on a system node (aws-node, kube-proxy, the CSI node plugins,
node exporter): an estimate, below a GPU node's (no NVIDIA daemons)."""


def system_idle_nodes(s: StackSettings, eks: EksSettings) -> int:
    """System nodes the system pods need (at least ``systemPool.minSize``)."""
    shapes = [SYSTEM_INSTANCES_SHAPE[t] for t in eks.system_pool.instance_types if t in SYSTEM_INSTANCES_SHAPE]
    if not shapes:
        return eks.system_pool.min_size
    vcpus, memory = min(shapes)
    # kubelet's reserve (the EKS AMI formula gpu_instances uses), then the daemons.
    cpu_left = vcpus - kube_reserved_cpu(vcpus) - SYSTEM_DAEMONSETS_CPU
    memory_left = memory - (255 + 11 * MAX_PODS + 100) / 1024 - SYSTEM_DAEMONSETS_MEMORY_GIB
    pods = system_pods(s)
    cpu = sum(p.replicas * p.cpu for p in pods)
    mem = sum(p.replicas * p.memory_gib for p in pods)
    needed = math.ceil(max(cpu / cpu_left, mem / memory_left))
    return min(eks.system_pool.max_size, max(eks.system_pool.min_size, needed))


# -- the report ------------------------------------------------------------------------------------


def pool_cost(s: StackSettings, name: str, region: str) -> dict[str, Any]:
    pool = s.node_pools[name]
    prices = [hourly_price(t, pool.capacity_type, region) for t in pool.instance_types]
    nodes = {"min": pool.min_size, "desired": pool.desired_size, "idle": idle_nodes(s, name), "max": pool.max_nodes}
    per_hour = {"idle": nodes["idle"] * min(prices), "max": nodes["max"] * max(prices)}
    return {
        "instanceTypes": list(pool.instance_types),
        "capacityType": pool.capacity_type,
        "gpusPerNode": pool.gpus_per_node,
        "gpuModel": GPU_INSTANCES[pool.instance_types[0]].gpu_model,
        "nodes": nodes,
        "maxGpus": pool.schedulable_gpus,
        "usdPerNodeHour": {"cheapest": min(prices), "dearest": max(prices)},
        "usdPerHour": {k: _money(v) for k, v in per_hour.items()},
        "usdPerMonth": {k: _money(v * HOURS_PER_MONTH) for k, v in per_hour.items()},
    }


def fleet_costs(s: StackSettings, region: str) -> dict[str, Any]:
    """Each fleet's GPUs at min and at max replicas, priced per GPU of its pool's cheapest listed
    type (the same price in both columns, in every stack)."""
    fleets: dict[str, Any] = {}
    for name, spec in sorted(s.models.items()):
        pool = s.node_pools.get(spec.pool)
        if pool is None or not pool.instances or not spec.gpus_per_replica:
            continue
        per_gpu = min(hourly_price(t, pool.capacity_type, region) for t in pool.instance_types) / pool.gpus_per_node
        gpus = {
            "minReplicas": spec.replicas.min * spec.gpus_per_replica,
            "maxReplicas": spec.replicas.max * spec.gpus_per_replica,
        }
        per_hour = {k: g * per_gpu for k, g in gpus.items()}
        fleets[name] = {
            "pool": spec.pool,
            "gpus": gpus,
            "usdPerGpuHour": round(per_gpu, 4),
            "usdPerHour": {k: _money(v) for k, v in per_hour.items()},
            "usdPerMonth": {k: _money(v * HOURS_PER_MONTH) for k, v in per_hour.items()},
        }
        floor = warm_floor_cost(spec, per_gpu)
        if floor is not None:
            fleets[name]["warmFloor"] = floor
    return fleets


def fixed_costs(s: StackSettings, eks: EksSettings) -> dict[str, dict[str, float]]:
    """``{line: {"idle": usd/h, "max": usd/h}}`` for what runs whatever the GPU pools do."""
    system = eks.system_pool
    system_price = max(on_demand_price(t, eks.region) or 0.0 for t in system.instance_types)
    nats = 1 if eks.nat_gateways == "single" else eks.availability_zones
    lines = {
        "eksControlPlane": (EKS_CLUSTER_USD_HOUR, EKS_CLUSTER_USD_HOUR),
        "natGateways": (nats * NAT_GATEWAY_USD_HOUR, nats * NAT_GATEWAY_USD_HOUR),
        "systemNodes": (system_idle_nodes(s, eks) * system_price, system.max_size * system_price),
    }
    if s.storage.shared.backend == "efs" and s.cache_namespaces:
        efs = len(s.cache_namespaces) * gibibytes(s.storage.model_cache_size) * EFS_STANDARD_USD_GB_MONTH
        lines["efsModelCache"] = (efs / HOURS_PER_MONTH, efs / HOURS_PER_MONTH)
    if s.monitoring.enabled:
        volume = gibibytes(s.monitoring.storage_size) * GP3_USD_GB_MONTH / HOURS_PER_MONTH
        lines["monitoringVolume"] = (volume, volume)
    return {k: {"idle": round(idle, 4), "max": round(top, 4)} for k, (idle, top) in lines.items()}


def stack_cost(s: StackSettings, eks: EksSettings) -> dict[str, Any]:
    """The whole report of an EKS stack (``build/<stack>/cost.json`` and the ``costEstimate``
    stack output; ``stack/cluster.py`` picks it, or :data:`UNPRICED`)."""
    pools = {name: pool_cost(s, name, eks.region) for name in sorted(s.node_pools)}
    fixed = fixed_costs(s, eks)
    idle = sum(p["usdPerHour"]["idle"] for p in pools.values()) + sum(f["idle"] for f in fixed.values())
    top = sum(p["usdPerHour"]["max"] for p in pools.values()) + sum(f["max"] for f in fixed.values())
    return {
        "currency": "USD",
        "region": eks.region,
        "pricing": pricing_note(),
        "pricesAsOf": PRICES_AS_OF,
        "spotAsOf": SPOT_AS_OF,
        "pools": pools,
        "fleets": fleet_costs(s, eks.region),
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


def instance_prices(s: StackSettings, region: str, system_types: Sequence[str] = ()) -> dict[str, float]:
    """On-demand USD/h in ``region`` of every instance type the stack runs, GPU pools and the
    system pool's ``system_types`` (the $/h recording rules price nodes by their instance-type label)."""
    types = {t for p in s.node_pools.values() for t in p.instance_types} | set(system_types)
    return {t: price for t in sorted(types) if (price := on_demand_price(t, region)) is not None}


def spot_fractions(prices: Mapping[str, float]) -> dict[str, float]:
    """Spot price as a fraction of on-demand per priced instance type (recording rules)."""
    return {t: spot_fraction(t) for t in prices}
