"""Will it fit? Fleets against the nodes, GPU caps and quotas they are planned on.

A plan that cannot run is worse than an error: pods stay Pending and nobody is told why. From the
instance catalogue (vCPU, memory and GPUs per type, minus what kubelet and the node daemons
keep; ``gpu_instances.py``) these rules check that every fleet pod fits one node of its pool, that
the pool's GPU capacity (``NodePoolSettings.schedulable_gpus``: gpuCap rounded down to whole
nodes; a cap that is not whole nodes is a warning) holds every fleet at min replicas (an error)
and at max replicas (a warning with the numbers) and that namespace quotas cover their fleets at
max replicas. Whether the model itself fits its GPUs (weights, context) is ``fit.py``'s; a pod's
requests are ``models.pod_request``.
"""

from __future__ import annotations

from components.core.quantities import cores, gib
from components.core.settings.base import Problem
from components.core.settings.models import pod_request
from components.core.settings.pools import NodePoolSettings
from components.core.settings.root import StackSections


def capacity_problems(s: StackSections) -> list[Problem]:
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
        cap = pool.schedulable_gpus
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


def _quota_problems(s: StackSections) -> list[Problem]:
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


def capacity_warnings(s: StackSections) -> list[Problem]:
    warnings: list[Problem] = []
    for pool_name, pool in sorted(s.node_pools.items()):
        if not pool.instances:
            continue
        if pool.gpu_cap is not None and pool.gpu_cap % pool.gpus_per_node:
            warnings.append((f"nodePools.{pool_name}.gpuCap", _partial_node_cap(pool)))
        fleets = [m for m in s.models.values() if m.pool == pool_name]
        at_max = sum(m.replicas.max * m.gpus_per_replica for m in fleets)
        cap = pool.schedulable_gpus
        if at_max > cap:
            warnings.append(
                (
                    f"nodePools.{pool_name}.gpuCap",
                    f"holds {cap} GPU(s); its fleets want {at_max} at max replicas, so autoscaling stops "
                    "short of max (pods Pending)",
                )
            )
    return warnings


def _partial_node_cap(pool: NodePoolSettings) -> str:
    """A cap that is not a whole number of nodes is valid (rounding down keeps the cost guardrail),
    but the GPUs it names past the last whole node can never be scheduled: every check, quota and
    cost figure uses the rounded number, so the plan says which one that is."""
    return (
        f"{pool.gpu_cap} is not a whole number of {pool.gpus_per_node}-GPU nodes: nodes come whole, so the pool "
        f"holds at most {pool.schedulable_gpus} GPU(s) ({pool.max_nodes} node(s)), the cap every capacity check, "
        f"queue quota and cost figure uses; set gpuCap to a multiple of {pool.gpus_per_node}"
    )
