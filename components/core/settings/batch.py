"""Batch settings: Kueue's queues on the GPU pools, and the jobs (``jobs:``) rendered from one spec.

``batch.queues`` are job classes (``train``, ``batch-infer``): each becomes a Kueue ClusterQueue
on one pool, whose GPU quota is the pool's GPU cap unless set lower; queues on one pool share it
and borrow each other's idle quota through the cohort. A workload namespace opts in with
``namespaces.<ns>.queues`` (a LocalQueue each). A job names its queue; the pool, flavor and
tolerations follow from it. Rules that need the pools, namespaces or registry are in ``stack.py``.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from components.core.settings.base import K8sName, Problem, Quantity, Settings, check

DURATION = r"^[0-9]+(s|m|h)$"
"""A Go ``time.Duration`` as Kueue's configuration reads it (``metav1.Duration``), whole units."""
_CRON = re.compile(r"^(@(yearly|annually|monthly|weekly|daily|hourly)|(\S+\s+){4}\S+)$")


class QueueSettings(Settings):
    """One job class: a ClusterQueue on one GPU pool."""

    pool: str
    gpus: int | None = Field(None, ge=1)
    """Nominal GPU quota; default: the pool's GPU cap (queues on one pool must share it)."""


class BatchSettings(Settings):
    enabled: bool = False
    """Run Kueue (its chart, ResourceFlavors per pool, ClusterQueues per queue, LocalQueues)."""
    queues: dict[K8sName, QueueSettings] = Field(default_factory=dict)
    cohort: K8sName = "gpu"
    """The cohort every ClusterQueue joins: a queue borrows another's idle quota on the same pool."""
    pods_ready_timeout: str = Field("20m", pattern=DURATION)
    """Kueue's ``waitForPodsReady.timeout``: an admitted job whose pods are not all running by then
    (a GPU node that never came, a worker preempted by serving) is evicted and requeued. Longer than
    a GPU pool's scale-from-zero."""
    pending_alert_minutes: float = Field(60, gt=0)
    """Alert when a queue has had pending workloads this long."""

    @model_validator(mode="after")
    def _rules(self) -> BatchSettings:
        if self.queues and not self.enabled:
            check([("queues", "need enabled: true (Kueue runs them)")])
        if self.enabled and not self.queues:
            check([("queues", "list at least one queue (a job class on a GPU pool) when enabled")])
        return self


IMAGE_REF = r"^[^:@\s]+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$"


class JobSpec(Settings):
    """One batch job: a ``batch/v1`` Job (one worker) or an indexed Job with a headless Service
    (workers > 1), run now, kept as a suspended template, or scheduled (a CronJob)."""

    queue: K8sName
    """A ``batch.queues`` entry the namespace opted into (``namespaces.<ns>.queues``)."""
    namespace: K8sName = "training"
    image: str = Field(min_length=1, pattern=IMAGE_REF)
    """A built image (one of ``registry.build``: run by its pushed digest) or a reference
    (``repo@sha256:...``; prod takes digests only)."""
    command: list[str] = Field(min_length=1)
    args: list[str] = Field(default_factory=list)
    gpus_per_worker: int = Field(1, ge=1)
    workers: int = Field(1, ge=1, le=64)
    cpu: Quantity = "4"
    """CPU each worker requests."""
    memory: Quantity = "32Gi"
    """Memory each worker requests and is limited to (``/dev/shm`` counts against it)."""
    shm_size: Quantity = "8Gi"
    scratch: Literal["ephemeral", "local-nvme", "none"] = "ephemeral"
    """``/scratch``: an emptyDir on the node's disk (the pool's NVMe RAID0 on EKS), a claim per
    worker on the ``local-nvme`` class (raw NVMe local PVs), or none."""
    scratch_size: Quantity = "100Gi"
    model_cache: bool = False
    """Mount the namespace's ``model-cache`` PVC read-only at /models (needs the namespace's
    ``modelCache: true``): the weights its fleets staged, shared, never written by a job."""
    hf_token_secret: str | None = None
    """``--secret`` key with a Hugging Face token (default: ``hfToken`` if set); mounted as a file."""
    run: Literal["template", "now", "scheduled"] = "template"
    """``template``: a suspended CronJob to submit with ``kubectl create job --from=cronjob/<name>``;
    ``now``: a Job the deploy creates (Kueue admits it when quota is free); ``scheduled``: a CronJob
    on ``schedule``."""
    schedule: str | None = None
    backoff_limit: int = Field(2, ge=0, le=20)
    ttl_seconds_after_finished: int = Field(86400, ge=0)

    @model_validator(mode="after")
    def _rules(self) -> JobSpec:
        problems: list[Problem] = []
        if self.run == "scheduled" and self.schedule is None:
            problems.append(("schedule", "is required when run is scheduled (a cron expression)"))
        if self.run != "scheduled" and self.schedule is not None:
            problems.append(("schedule", "applies only when run is scheduled"))
        if self.schedule is not None and not _CRON.match(self.schedule.strip()):
            problems.append(("schedule", "must be a five-field cron expression or @daily/@hourly/..."))
        check(problems)
        return self
