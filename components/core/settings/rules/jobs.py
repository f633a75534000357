"""Job rules: a job runs in a namespace of its queue, on an image built here (or pinned in prod),
writes its output somewhere it can, and fits one node of the queue's pool, the queue's quota and
the namespace's quota."""

from __future__ import annotations

from components.core.quantities import cores, gib
from components.core.settings.base import Problem
from components.core.settings.batch import JobSpec
from components.core.settings.registry import IMAGE_NAMES
from components.core.settings.root import StackSections
from components.core.settings.storage import NamespaceSettings


def job_problems(s: StackSections) -> list[Problem]:
    problems: list[Problem] = []
    for name, job in sorted(s.jobs.items()):
        problems += [(f"jobs.{name}.{p}", m) for p, m in _job_problems(s, name, job)]
    return problems


def _job_problems(s: StackSections, name: str, job: JobSpec) -> list[Problem]:
    problems: list[Problem] = []
    if not s.batch.enabled:
        return [("queue", "jobs need batch.enabled: true (Kueue admits them)")]
    ns = s.namespaces.get(job.namespace)
    if ns is None:
        problems.append(("namespace", f"must be one of namespaces: {sorted(s.namespaces)}"))
    elif job.queue not in ns.queues:
        problems.append(
            (
                "queue",
                f"namespace {job.namespace} has no queue {job.queue}: add it to namespaces.{job.namespace}.queues",
            )
        )
    if job.image in IMAGE_NAMES:
        if not s.job_image_built(name):
            problems.append(
                ("image", f"{job.image} is not built here: add it to registry.build, or give an image reference")
            )
    elif s.is_prod and "@sha256:" not in job.image:
        problems.append(("image", f"must be built here (one of {', '.join(IMAGE_NAMES)}) or pinned by digest in prod"))
    if job.model_cache and ns is not None and not ns.model_cache:
        problems.append(("modelCache", f"needs namespaces.{job.namespace}.modelCache: true"))
    elif job.model_cache and ns is not None and not s.cache_filled(job.namespace):
        problems.append(
            (
                "modelCache",
                f"namespace {job.namespace}'s model cache is never filled: only the staging Jobs of its shared-cache "
                "fleets write it (none runs there), so it would stay empty; serve the model in that namespace "
                "(models.<n>.namespace), point storage.shared.nfs.existingModelsPath at existing weights, or download "
                "in the job (modelCache: false)",
            )
        )
    out = job.output
    if out is not None and out.volume is not None and s.storage.shared.backend == "none":
        problems.append(
            (
                "output.volume",
                "needs a ReadWriteMany class every worker and run can write: storage.shared.backend efs or nfs "
                "(or output.s3 on EKS)",
            )
        )
    if out is not None and out.s3 is not None and not s.on_aws:
        problems.append(
            ("output.s3", "needs cluster.mode aws-eks (the job's IAM role is an IRSA role); use output.volume here")
        )
    problems += _job_capacity_problems(s, job, ns)
    return problems


def _job_capacity_problems(s: StackSections, job: JobSpec, ns: NamespaceSettings | None) -> list[Problem]:
    """A worker fits one node of the queue's pool; all workers fit the queue and the namespace quota."""
    problems: list[Problem] = []
    queue = s.batch.queues.get(job.queue)
    pool = s.node_pools.get(queue.pool) if queue else None
    gpus = job.workers * job.gpus_per_worker
    if queue is not None and pool is not None and pool.instances:
        node = min(pool.instances, key=lambda i: (i.gpus, i.allocatable_cpu, i.allocatable_memory_gib))
        if job.gpus_per_worker > pool.gpus_per_node:
            problems.append(
                (
                    "gpusPerWorker",
                    f"{job.gpus_per_worker} must fit one node of pool {queue.pool} ({pool.gpus_per_node} GPU(s) "
                    "per node); "
                    "add workers instead",
                )
            )
        if cores(job.cpu) > node.allocatable_cpu:
            problems.append(
                (
                    "cpu",
                    f"a worker needs {cores(job.cpu):g} CPU but a {node.name} node of pool {queue.pool} has about "
                    f"{node.allocatable_cpu:g} for pods",
                )
            )
        if gib(job.memory) > node.allocatable_memory_gib:
            problems.append(
                (
                    "memory",
                    f"a worker needs {gib(job.memory):g} GiB but a {node.name} node of pool {queue.pool} has about "
                    f"{node.allocatable_memory_gib:g} GiB for pods",
                )
            )
        if gpus > s.queue_gpus(job.queue):
            cap, serving = pool.schedulable_gpus, s.pool_serving_gpus(queue.pool)
            derived = (
                ""
                if queue.gpus is not None
                else f" (batch.queues.{job.queue}.gpus is unset: pool {queue.pool}'s GPU cap of {cap} "
                f"less the {serving} its fleets hold at min replicas)"
            )
            problems.append(
                (
                    "workers",
                    f"workers x gpusPerWorker = {gpus} GPUs exceeds queue {job.queue}'s quota of "
                    f"{s.queue_gpus(job.queue)}{derived}: Kueue would never admit it; raise "
                    + (
                        f"batch.queues.{job.queue}.gpus"
                        if queue.gpus is not None
                        else f"nodePools.{queue.pool}.gpuCap and maxSize"
                    ),
                )
            )
        if job.scratch == "local-nvme" and (pool.nvme != "local-pv" or not s.storage.nvme.enabled):
            problems.append(
                ("scratch", f"local-nvme needs storage.nvme.enabled and pool {queue.pool} with nvme: local-pv")
            )
    if ns is not None:
        problems += _job_quota_problems(job, ns)
    return problems


def _job_quota_problems(job: JobSpec, ns: NamespaceSettings) -> list[Problem]:
    """All workers (and the output volume) fit the namespace's quota."""
    problems: list[Problem] = []
    gpus = job.workers * job.gpus_per_worker
    output_volume = job.output.volume if job.output is not None else None
    q = ns.quota
    checks = [
        ("gpus", gpus, q.gpus),
        ("cpu", job.workers * cores(job.cpu), cores(q.cpu)),
        ("memory", job.workers * gib(job.memory), gib(q.memory)),
        ("pods", job.workers, q.pods),
        ("pvcs", (job.workers if job.scratch == "local-nvme" else 0) + (1 if output_volume else 0), q.pvcs),
    ]
    problems += [
        (
            "workers",
            f"{job.workers} worker(s) need {need:g} {key} but namespaces.{job.namespace}.quota.{key} allows {have:g}",
        )
        for key, need, have in checks
        if need > have
    ]
    if output_volume is not None and gib(output_volume.size) > gib(q.storage):
        problems.append(
            (
                "output.volume.size",
                f"{gib(output_volume.size):g} GiB needs more storage than namespaces.{job.namespace}.quota.storage "
                f"allows ({gib(q.storage):g} GiB)",
            )
        )
    return problems
