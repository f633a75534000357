"""Batch settings: Kueue's queues on the GPU pools, and the jobs (``jobs:``) rendered from one spec.

``batch.queues`` are job classes (``train``, ``batch-infer``): each becomes a Kueue ClusterQueue
on one pool, whose GPU quota is the pool's GPU cap unless set lower; queues on one pool share it
and borrow each other's idle quota through the cohort. A workload namespace opts in with
``namespaces.<ns>.queues`` (a LocalQueue each). A job names its queue; the pool, flavor and
tolerations follow from it. Rules that need the pools, namespaces or registry are in
``rules/batch.py`` and ``rules/jobs.py``.
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import available_timezones

from pydantic import Field, model_validator

from components.core.settings.base import K8sName, Problem, Quantity, Settings, check

DURATION = r"^[0-9]+(s|m|h)$"
"""A Go ``time.Duration`` as Kueue's configuration reads it (``metav1.Duration``), whole units."""
CRON_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
"""The descriptors Kubernetes' CronJob parser (robfig/cron v3 ``ParseStandard``) takes."""
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 0, 6, _DAYS),
)
"""Each field of a five-field schedule: its name, range and names (robfig/cron v3 bounds; month names
count from 1, day names from 0 = Sunday)."""
_CRON_FORMAT = (
    "must be a five-field cron expression (minute hour day-of-month month day-of-week; each field *, ?, a "
    "value, a range a-b, a step */n or a-b/n, or a comma list) or one of " + ", ".join(CRON_DESCRIPTORS)
)


def _cron_value(text: str, low: int, names: tuple[str, ...]) -> int | None:
    if text.isdigit():
        return int(text)
    lowered = text.lower()
    return names.index(lowered) + (low if names is _MONTHS else 0) if lowered in names else None


def _cron_field_problem(field: str, name: str, low: int, high: int, names: tuple[str, ...]) -> str | None:
    """What is wrong with one field of a schedule (None when Kubernetes accepts it)."""
    allowed = f"its {name} field takes {low}-{high}" + (f" or {names[0].upper()}-{names[-1].upper()}" if names else "")
    for part in field.split(","):
        span, slash, step = part.partition("/")
        if slash and (not step.isdigit() or int(step) < 1):
            return f"{allowed}; a step (/n) must be a whole number of 1 or more"
        if span in ("*", "?"):
            continue
        first, dash, last = span.partition("-")
        start = _cron_value(first, low, names)
        end = _cron_value(last, low, names) if dash else start
        if start is None or end is None or not (low <= start <= high and low <= end <= high):
            return allowed
        if start > end:
            return f"{allowed}; a range a-b must not start after its end"
    return None


def cron_problem(schedule: str) -> str | None:
    """Why Kubernetes would refuse a CronJob ``schedule`` (robfig/cron v3 ``ParseStandard``, which the
    CronJob validation runs), in the user's words, without quoting it; None when it is valid."""
    text = schedule.strip()
    if text.startswith(("TZ=", "CRON_TZ=")):
        return "must not set a time zone (TZ=...): Kubernetes refuses it in the schedule"
    if text.startswith("@"):
        return None if text.lower() in CRON_DESCRIPTORS else _CRON_FORMAT
    fields = text.split()
    if len(fields) != len(CRON_FIELDS):
        return _CRON_FORMAT
    for value, (name, low, high, names) in zip(fields, CRON_FIELDS, strict=True):
        if problem := _cron_field_problem(value, name, low, high, names):
            return f"is not a valid cron schedule: {problem}"
    return None


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
S3_BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
"""S3 general purpose bucket names (3-63 lower-case letters, digits, dots, hyphens)."""
OUTPUT_MOUNT = "/output"
"""Where a job's output volume is mounted; each run writes under ``$OUTPUT_DIR`` (``/output/<run>``)."""


class OutputVolumeSettings(Settings):
    size: Quantity = "100Gi"
    """The claim's size on ``shared-models`` (ReadWriteMany: every worker and every run mounts it)."""


class OutputS3Settings(Settings):
    bucket: str = Field(pattern=S3_BUCKET)
    """An existing bucket (the stack does not create or own it)."""
    prefix: str = Field(min_length=1, pattern=r"^[^/\s*?][^\s*?]*[^/\s*?]$|^[^/\s*?]$")
    """The key prefix the job may read and write (no leading or trailing ``/``)."""
    kms_key_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]+$")
    """The bucket's SSE-KMS key, when it has one (the role may then encrypt and decrypt with it)."""


class JobOutputSettings(Settings):
    """Where a job keeps its results: a volume on the shared class mounted at ``/output``, or an S3
    prefix the job's own IAM role (IRSA) may write. Exactly one."""

    volume: OutputVolumeSettings | None = None
    s3: OutputS3Settings | None = None

    @model_validator(mode="after")
    def _one(self) -> JobOutputSettings:
        if (self.volume is None) == (self.s3 is None):
            check([("volume", "give exactly one of volume ({size}) or s3 ({bucket, prefix})")])
        return self


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
    output: JobOutputSettings | None = None
    """Results that outlive the pods: ``$OUTPUT_DIR`` (a volume) or ``$OUTPUT_URI`` (S3), per run."""
    run: Literal["template", "now", "scheduled"] = "template"
    """``template``: a suspended CronJob to submit with ``kubectl create job --from=cronjob/<name>``;
    ``now``: a Job the deploy creates (Kueue admits it when quota is free); ``scheduled``: a CronJob
    on ``schedule``."""
    schedule: str | None = None
    time_zone: str | None = None
    """The IANA zone ``schedule`` is read in (the CronJob's ``timeZone``); default: the
    kube-controller-manager's local time, UTC on EKS."""
    backoff_limit: int = Field(2, ge=0, le=20)
    ttl_seconds_after_finished: int = Field(86400, ge=0)

    @model_validator(mode="after")
    def _rules(self) -> JobSpec:
        problems: list[Problem] = []
        if self.run == "scheduled" and self.schedule is None:
            problems.append(("schedule", "is required when run is scheduled (a cron expression)"))
        if self.run != "scheduled" and self.schedule is not None:
            problems.append(("schedule", "applies only when run is scheduled"))
        if self.schedule is not None and (problem := cron_problem(self.schedule)):
            problems.append(("schedule", problem))
        if self.time_zone is not None and self.run != "scheduled":
            problems.append(("timeZone", "applies only when run is scheduled"))
        elif self.time_zone is not None and self.time_zone not in available_timezones():
            problems.append(("timeZone", "must be an IANA time zone name such as Europe/Berlin or UTC"))
        check(problems)
        return self
