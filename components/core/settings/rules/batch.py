"""Batch rules: queues fit their pools' GPU capacity (with the pools' fleets at min replicas),
namespaces opt into queues that exist, every queue has a submitter; a warning for a queue left
with no GPUs."""

from __future__ import annotations

from components.core.settings.base import Problem
from components.core.settings.root import StackSections


def batch_problems(s: StackSections) -> list[Problem]:
    """Queues fit their pools, namespaces opt into queues that exist (jobs: ``rules/jobs.py``)."""
    problems: list[Problem] = []
    known = s.batch.queues if s.batch.enabled else {}
    for ns_name, ns in sorted(s.namespaces.items()):
        for i, queue in enumerate(ns.queues):
            if queue not in known:
                allowed = sorted(known) or "none (set batch.enabled and batch.queues)"
                problems.append((f"namespaces.{ns_name}.queues[{i}]", f"must name a batch queue: {allowed}"))
    by_pool: dict[str, list[str]] = {}
    for name, q in sorted(known.items()):
        pool = s.node_pools.get(q.pool)
        if pool is None or not pool.instances:
            problems.append((f"batch.queues.{name}.pool", f"must name a node pool: {sorted(s.node_pools)}"))
            continue
        by_pool.setdefault(q.pool, []).append(name)
        cap, serving = s.node_pools[q.pool].schedulable_gpus, s.pool_serving_gpus(q.pool)
        if q.gpus is not None and q.gpus + serving > cap:
            problems.append((f"batch.queues.{name}.gpus", _over_cap(s, q.pool, f"queue {name}'s {q.gpus}", q.gpus)))
        if not s.queue_namespaces(name):
            problems.append(
                (f"batch.queues.{name}", "no namespace submits to it: list it in namespaces.<namespace>.queues")
            )
    for pool_name, queues in sorted(by_pool.items()):
        cap, serving = s.node_pools[pool_name].schedulable_gpus, s.pool_serving_gpus(pool_name)
        total = sum(s.queue_gpus(q) for q in queues)
        if len(queues) > 1 and total + serving > cap:
            shares = " + ".join(f"{q} {s.queue_gpus(q)}" for q in queues)
            problems.append(
                (
                    f"batch.queues.{queues[-1]}.gpus",
                    _over_cap(s, pool_name, f"queues {shares}", total)
                    + ("; give each queue a gpus share" if any(known[q].gpus is None for q in queues) else ""),
                )
            )
    return problems


def _over_cap(s: StackSections, pool_name: str, queues: str, queue_gpus: int) -> str:
    """Why queue quotas on a pool cannot all be used: the pool's fleets at min replicas hold GPUs
    that Kueue does not see, so jobs it admits past what is left stay Pending."""
    cap, serving = s.node_pools[pool_name].schedulable_gpus, s.pool_serving_gpus(pool_name)
    fleets = ", ".join(
        f"{n} {m.replicas.min * m.gpus_per_replica}" for n, m in sorted(s.models.items()) if m.pool == pool_name
    )
    held = f"its fleets hold {serving} at min replicas ({fleets}) and " if serving else ""
    return (
        f"pool {pool_name} holds {cap} GPU(s) (nodePools.{pool_name}.gpuCap / maxSize); {held}{queues} GPU(s) "
        f"of quota make {serving + queue_gpus}, so Kueue would admit jobs the pool has no GPUs for (they stay "
        f"Pending): "
        f"lower the quota to {max(0, cap - serving)} in all or raise nodePools.{pool_name}.gpuCap and maxSize"
    )


def empty_queue_warnings(s: StackSections) -> list[Problem]:
    """A queue whose pool's fleets hold every GPU at min replicas admits no GPU job."""
    found: list[Problem] = []
    for name, q in sorted(s.batch.queues.items() if s.batch.enabled else []):
        pool = s.node_pools.get(q.pool)
        if pool is not None and s.queue_gpus(name) == 0:
            found.append(
                (
                    f"batch.queues.{name}.gpus",
                    f"is 0: pool {q.pool}'s fleets hold its whole GPU cap ({pool.schedulable_gpus}) at min "
                    f"replicas, so the queue admits no GPU job; raise nodePools.{q.pool}.gpuCap and maxSize",
                )
            )
    return found
