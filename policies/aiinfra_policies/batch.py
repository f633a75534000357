"""Section M of ``policies/RULES.md``: batch GPU work goes through Kueue and stays below serving.

Kueue admits only Jobs that name a LocalQueue; one without the label starts at once and takes
GPUs no quota counted, so in every namespace every Job, CronJob (its job template) and JobSet
names a LocalQueue the stack creates there (90): a namespace without a ResourceQuota is no
exception (it has no quota to fall back on either), only the policy's ``excludeNamespaces``
waiver is; the other exception is a model fleet's
weight-staging Job, the platform's own CPU-only download (it requests no GPU, so no queue's quota
is at stake). A batch pod asks for whole GPUs, never a
time-sliced share or a MIG slice, so Kueue's ``nvidia.com/gpu`` quota counts what it uses, and
tolerates the GPU taint (91). Batch work never runs at the serving PriorityClass, which would let
it preempt model servers; Kueue reads the pod's class as the workload's priority, and its
``kueue.x-k8s.io/priority-class`` label likewise (92).

The queue label is ``kueue.x-k8s.io/queue-name`` on the Job's (or JobSet's) own metadata
(kubernetes-sigs/kueue site/content/en/docs/tasks/run/jobs.md @ v0.19.2); a CronJob carries it on
``spec.jobTemplate.metadata``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

from aiinfra_policies.common import (
    EXCLUDE_NAMESPACES,
    Report,
    RulePolicy,
    Subject,
    containers,
    get_path,
    namespace_of,
    policy,
)
from aiinfra_policies.constants import (
    BATCH_TYPES,
    COMPONENT_LABEL,
    CRONJOB,
    GPU_RESOURCES,
    GPU_TAINT_KEY,
    JOB,
    JOBSET,
    LOCAL_QUEUES,
    WEIGHT_STAGER_COMPONENT,
)

A = EnforcementLevel.ADVISORY
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
PRIORITY_LABEL = "kueue.x-k8s.io/priority-class"
SERVING_PRIORITY_CLASSES = ["gpu-serving"]
"""The platform's serving class (``components/specs/scheduling.py``); the policy config may add more."""
PARTIAL_GPU_PREFIXES = ("nvidia.com/mig-", "nvidia.com/gpu.shared")
"""MIG slices (``nvidia.com/mig-1g.10gb``) and renamed time-sliced GPUs."""


def queue_labels_path(resource_type: str) -> str:
    return "spec.jobTemplate.metadata.labels" if resource_type == CRONJOB else "metadata.labels"


def pod_specs(resource_type: str, props: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``(key path, pod spec)`` of every pod template in a batch object (a JobSet has one per replicated job)."""
    if resource_type == JOBSET:
        for i, rj in enumerate(get_path(props, "spec.replicatedJobs") or []):
            spec = get_path(rj, "template.spec.template.spec") if isinstance(rj, Mapping) else None
            if isinstance(spec, Mapping):
                yield f"spec.replicatedJobs[{i}].template.spec.template.spec", spec
        return
    path = "spec.jobTemplate.spec.template.spec" if resource_type == CRONJOB else "spec.template.spec"
    spec = get_path(props, path)
    if isinstance(spec, Mapping):
        yield path, spec


def _requests_gpus(resource_type: str, props: Mapping[str, Any]) -> bool:
    """Whether any container of the object asks for a GPU (whole, shared or a MIG slice)."""
    for _, spec in pod_specs(resource_type, props):
        for _, c in containers(spec):
            res = c.get("resources")
            for part in ("limits", "requests"):
                keys = list(iter((res.get(part) if isinstance(res, Mapping) else None) or {}))
                if any(k in GPU_RESOURCES or str(k).startswith(PARTIAL_GPU_PREFIXES) for k in keys):
                    return True
    return False


def _platform_weight_stager(resource_type: str, props: Mapping[str, Any]) -> bool:
    """A fleet's weight-staging Job: the platform's own CPU-only download, outside any GPU queue."""
    labels = get_path(props, "metadata.labels") or {}
    return (
        resource_type == JOB
        and labels.get(COMPONENT_LABEL) == WEIGHT_STAGER_COMPONENT
        and not _requests_gpus(resource_type, props)
    )


# 90 ------------------------------------------------------------------------------------------
def _names_local_queue(args: StackValidationArgs, report: Report) -> None:
    waived = set((args.get_config() or {}).get("excludeNamespaces") or [])
    queues: set[tuple[str | None, Any]] = set()
    for r in args.resources:
        if r.resource_type in LOCAL_QUEUES:
            try:
                queues.add((namespace_of(r.props), get_path(r.props, "metadata.name")))
            except UnknownValueError:
                continue
    for r in args.resources:
        if r.resource_type not in BATCH_TYPES:
            continue
        ns = namespace_of(r.props)
        if ns in waived or _platform_weight_stager(r.resource_type, r.props):
            continue
        path = queue_labels_path(r.resource_type)
        labels = get_path(r.props, path) or {}
        if QUEUE_LABEL not in list(iter(labels)):
            report(
                f"{path}[{QUEUE_LABEL}] must name a LocalQueue of the namespace: unqueued jobs take GPUs "
                "no quota counted.",
                r.urn,
            )
            continue
        try:
            queue = labels[QUEUE_LABEL]
        except UnknownValueError:
            continue
        if (ns, queue) not in queues:
            report(
                f"{path}[{QUEUE_LABEL}] names no LocalQueue this stack creates in the namespace; "
                "opt the namespace into the queue (namespaces.<ns>.queues).",
                r.urn,
            )


# 91 ------------------------------------------------------------------------------------------
def _whole_gpus(r: Subject, report: Report) -> None:
    for spec_path, spec in pod_specs(r.type, r.props):
        gpu = False
        for cpath, c in containers(spec):
            raw = c.get("resources")
            res: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
            for part in ("limits", "requests"):
                for key in list(iter(res.get(part) or {})):
                    if str(key).startswith(PARTIAL_GPU_PREFIXES):
                        report(
                            f"{spec_path}.{cpath}.resources.{part}[{key}]: batch jobs request whole GPUs "
                            "(nvidia.com/gpu), not MIG slices or time-sliced shares."
                        )
                        gpu = True
            limits = res.get("limits") or {}
            for name in GPU_RESOURCES:
                if name not in list(iter(limits)):
                    continue
                gpu = True
                try:
                    value = str(limits[name])
                except UnknownValueError:
                    continue
                if not value.isdigit() or int(value) < 1:
                    report(f"{spec_path}.{cpath}.resources.limits[{name}] must be a whole number of GPUs (1 or more).")
        if gpu and not any(
            isinstance(t, Mapping)
            and (t.get("key") == GPU_TAINT_KEY or (t.get("operator") == "Exists" and not t.get("key")))
            for t in spec.get("tolerations") or []
        ):
            report(f"{spec_path}.tolerations must tolerate the {GPU_TAINT_KEY} taint (GPU pools are tainted).")


# 92 ------------------------------------------------------------------------------------------
def _not_serving_priority(r: Subject, report: Report) -> None:
    serving = set(r.config.get("servingPriorityClasses") or SERVING_PRIORITY_CLASSES)
    for spec_path, spec in pod_specs(r.type, r.props):
        if spec.get("priorityClassName") in serving:
            report(f"{spec_path}.priorityClassName: batch work runs at gpu-batch, never at a serving class.")
    path = queue_labels_path(r.type)
    if (get_path(r.props, path) or {}).get(PRIORITY_LABEL) in serving:
        report(f"{path}[{PRIORITY_LABEL}]: batch work never takes a serving priority.")


POLICIES: list[RulePolicy] = [
    policy(
        "batch-job-names-localqueue",
        rule="90",
        description="Every Job, CronJob and JobSet names a LocalQueue of its namespace, quota or not.",
        remediation="Submit through a jobs: entry (it sets kueue.x-k8s.io/queue-name), or add the label naming "
        "a LocalQueue the namespace opted into (namespaces.<ns>.queues).",
        level=A,
        severity="medium",
        standard="Kueue docs tasks/run/jobs (queue-name label)",
        stack=True,
        check=_names_local_queue,
        schema=EXCLUDE_NAMESPACES,
    ),
    policy(
        "batch-gpu-whole-and-tolerated",
        rule="91",
        description="Batch GPU pods request whole GPUs and tolerate the GPU taint.",
        remediation="Request nvidia.com/gpu in whole numbers (limits) and tolerate nvidia.com/gpu:NoSchedule.",
        level=A,
        severity="medium",
        standard='Kubernetes "Schedule GPUs"; project convention',
        types=BATCH_TYPES,
        check=_whole_gpus,
        exclude_namespaces=True,
    ),
    policy(
        "batch-not-serving-priority",
        rule="92",
        description="Batch work never uses the serving PriorityClass.",
        remediation="Run batch pods at priorityClassName gpu-batch (jobs: entries do).",
        level=A,
        severity="medium",
        standard="EKS Best Practices (multi-tenancy: priority); project convention",
        types=BATCH_TYPES,
        schema={
            "servingPriorityClasses": {
                "type": "array",
                "items": {"type": "string"},
                "default": SERVING_PRIORITY_CLASSES,
                "description": "PriorityClasses reserved for online serving.",
            }
        },
        check=_not_serving_priority,
        exclude_namespaces=True,
    ),
]
