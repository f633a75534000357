"""Will it fit? Fleets against the nodes, GPU caps and quotas they are planned on.

A plan that cannot run is worse than an error: pods stay Pending and nobody is told why. From the
instance catalogue (vCPU, memory and GPUs per type, minus what kubelet and the node daemons
keep; ``gpu_instances.py``) these rules check that every fleet pod fits one node of its pool, that
the pool's GPU cap holds every fleet at min replicas (an error) and at max replicas (a warning with
the numbers) and that namespace quotas cover their fleets at max replicas. Whether the model
itself fits its GPUs (weights, context) is ``fit.py``'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.core.quantities import cores, gib
from components.core.settings.base import Problem

if TYPE_CHECKING:
    from components.core.settings.models import ModelSpec
    from components.core.settings.stack import StackSettings

STAGE_CPU, STAGE_MEMORY_GIB, STAGE_MEMORY_LIMIT_GIB = 1.0, 2.0, 4.0
"""The weight-staging init container's requests and limit (``specs/weight_staging.stage_resources``);
an init container runs alone, so a pod needs the larger of it and the server."""


def pod_request(spec: ModelSpec) -> tuple[float, float, float]:
    """(CPU cores, memory GiB requested, memory GiB limit) one replica's pod counts against a node and a quota."""
    return (
        max(cores(spec.cpu), STAGE_CPU),
        max(gib(spec.memory), STAGE_MEMORY_GIB),
        max(gib(spec.memory), STAGE_MEMORY_LIMIT_GIB),
    )


def capacity_problems(s: StackSettings) -> list[Problem]:
    problems: list[Problem] = []
    for name, spec in sorted(s.models.items()):
        pool = s.node_pools.get(spec.pool)
        if pool is None or not pool.instances:
            continue
        node = min(pool.instances, key=lambda i: (i.allocatable_cpu, i.allocatable_memory_gib))
        cpu, memory, _ = pod_request(spec)
        if cpu > node.allocatable_cpu:
            problems.append(
                (
                    f"models.{name}.cpu",
                    f"a pod needs {cpu:g} CPU but a {node.name} node of pool {spec.pool} has about "
                    f"{node.allocatable_cpu:g} for pods: lower cpu or use a larger instance type",
                )
            )
        if memory > node.allocatable_memory_gib:
            problems.append(
                (
                    f"models.{name}.memory",
                    f"a pod needs {memory:g} GiB but a {node.name} node of pool {spec.pool} has about "
                    f"{node.allocatable_memory_gib:g} GiB for pods: lower memory or use a larger instance type",
                )
            )
    for pool_name, pool in sorted(s.node_pools.items()):
        if not pool.instances:
            continue
        fleets = {n: m for n, m in s.models.items() if m.pool == pool_name}
        needed = sum(m.replicas.min * m.gpus_per_replica for m in fleets.values())
        cap = pool.max_nodes * pool.gpus_per_node
        if needed > cap:
            problems.append(
                (
                    f"nodePools.{pool_name}.gpuCap",
                    f"holds {cap} GPU(s) but its fleets need {needed} at min replicas "
                    f"({', '.join(sorted(fleets))}): raise gpuCap/maxSize or lower replicas.min",
                )
            )
    problems += _quota_problems(s)
    return problems


def _quota_problems(s: StackSettings) -> list[Problem]:
    """Each namespace's quota covers its fleets at max replicas (GPUs, CPU, memory, pods)."""
    problems: list[Problem] = []
    for namespace, ns in sorted(s.namespaces.items()):
        fleets = [m for m in s.models.values() if m.namespace == namespace]
        if not fleets:
            continue
        q = ns.quota
        pods = sum(m.replicas.max for m in fleets)
        gpus = sum(m.replicas.max * m.gpus_per_replica for m in fleets)
        cpu = sum(m.replicas.max * pod_request(m)[0] for m in fleets)
        memory = sum(m.replicas.max * pod_request(m)[1] for m in fleets)
        limit = sum(m.replicas.max * pod_request(m)[2] for m in fleets)
        checks = [
            ("gpus", gpus, q.gpus, f"is below the {gpus} GPUs its model fleets need at max replicas"),
            ("cpu", cpu, cores(q.cpu), f"is below the {cpu:g} CPU its model fleets request at max replicas"),
            (
                "memory",
                max(memory, limit),
                gib(q.memory),
                f"is below the {max(memory, limit):g} GiB its model fleets need at max replicas",
            ),
            ("pods", pods, q.pods, f"is below the {pods} pods its model fleets run at max replicas"),
        ]
        problems += [
            (f"namespaces.{namespace}.quota.{key}", f"{getattr(q, key)} {msg}")
            for key, need, have, msg in checks
            if need > have
        ]
    return problems


def capacity_warnings(s: StackSettings) -> list[Problem]:
    warnings: list[Problem] = []
    for pool_name, pool in sorted(s.node_pools.items()):
        if not pool.instances:
            continue
        fleets = [m for m in s.models.values() if m.pool == pool_name]
        at_max = sum(m.replicas.max * m.gpus_per_replica for m in fleets)
        cap = pool.max_nodes * pool.gpus_per_node
        if at_max > cap:
            warnings.append(
                (
                    f"nodePools.{pool_name}.gpuCap",
                    f"holds {cap} GPU(s); its fleets want {at_max} at max replicas, so autoscaling stops "
                    "short of max (pods Pending)",
                )
            )
    return warnings
