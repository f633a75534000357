"""The batch layer: Kueue and its queues, then one ``BatchJob`` per ``jobs:`` entry (submitted to
its LocalQueue)."""

from __future__ import annotations

from components.batch_job import BatchJob, BatchJobArgs, S3OutputArgs
from components.batch_queue import BatchQueue, BatchQueueArgs, QueueSpec
from components.core.naming import hf_token_secret_name
from components.monitoring_stack import MonitoringStack
from components.registry import Registry
from components.shared_storage import SharedStorage
from components.specs.batch import JobPlan
from components.specs.kueue import queue_quota
from components.specs.storage import SHARED_CLASS
from stack.context import StackContext
from stack.images import image_ref
from stack.namespaces import Namespaces


def plan_queues(ctx: StackContext) -> dict[str, QueueSpec]:
    s = ctx.settings
    return {
        name: QueueSpec(
            pool=q.pool,
            quota=queue_quota(s.node_pools[q.pool], s.queue_gpus(name)),
            namespaces=s.queue_namespaces(name),
        )
        for name, q in sorted(s.batch.queues.items())
    }


def plan_job(ctx: StackContext, name: str, registry: Registry | None) -> JobPlan:
    """Job ``name``'s plan: its image, its pool, its token, where its output goes."""
    s = ctx.settings
    job = s.jobs[name]
    return JobPlan(
        name=name,
        spec=job,
        pool=s.batch.queues[job.queue].pool,
        image=image_ref(job.image, job.image if s.job_image_built(name) else None, registry),
        env=ctx.env,
        team=ctx.team,
        hf_token_secret=hf_token_secret_name(name) if s.job_hf_token_key(name) else None,
        runtime_class=ctx.runtime_class,
        pull_secret=registry.pull_secret if registry is not None else None,
        output_class=SHARED_CLASS if job.output is not None and job.output.volume is not None else None,
    )


def batch_layer(
    ctx: StackContext,
    ns: Namespaces,
    shared_storage: SharedStorage | None,
    monitoring: MonitoringStack | None,
    registry: Registry | None,
) -> dict[str, BatchJob]:
    s = ctx.settings
    if not s.batch.enabled:
        return {}
    queue = BatchQueue(
        "batch",
        BatchQueueArgs(
            namespace=ns.system["kueue-system"].namespace_name,
            queues=plan_queues(ctx),
            cohort=s.batch.cohort,
            pods_ready_timeout=s.batch.pods_ready_timeout,
            labels=ctx.labels("kueue", "batch-queue"),
            service_monitor=monitoring is not None,
            prometheus_namespace=s.monitoring.namespace,
            node_selector=ctx.system_node_selector,
            replicas=s.platform.controller_replicas,
            preinstalled=s.preinstalled,
            image_digests=s.chart_digests("kueue"),
            depends_on=[
                ns.system["kueue-system"],
                *(ns.workload[n] for n in s.batch_namespaces),
                *([monitoring] if monitoring else []),
            ],
        ),
        opts=ctx.k8s_opts,
    )
    identity = ctx.target.workload_identity
    jobs = {}
    for name, job in sorted(s.jobs.items()):
        s3 = job.output.s3 if job.output is not None else None
        jobs[name] = BatchJob(
            f"job-{name}",
            BatchJobArgs(
                job=plan_job(ctx, name, registry),
                hf_token=ctx.secret(s.job_hf_token_key(name)),
                # Settings allow an S3 output only where the cluster has workload identity (EKS).
                s3=S3OutputArgs(
                    oidc_provider_arn=identity.oidc_provider_arn, oidc_issuer=identity.oidc_issuer, tags=identity.tags
                )
                if s3 is not None and identity is not None
                else None,
                retain_output=s.platform.retain_data,
                depends_on=[ns.workload[job.namespace], queue, *([shared_storage] if shared_storage else [])],
            ),
            opts=ctx.opts(),
        )
    return jobs
