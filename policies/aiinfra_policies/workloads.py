"""Section C: resources, GPU scheduling and availability of workloads (rules 24–30)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, StackValidationArgs

from aiinfra_policies.common import (
    DEPLOYMENT,
    STATEFULSET,
    WORKLOAD_TYPES,
    Report,
    containers,
    get_path,
    namespace_of,
    pod_spec,
    stack_policy,
    workload_policy,
)

M = EnforcementLevel.MANDATORY
A = EnforcementLevel.ADVISORY
GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu")
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_NODE_LABELS = ("nvidia.com/gpu.present", "ai-infra.io/pool")
MODEL_SERVER_COMPONENT = "model-server"
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE = "kubernetes:core/v1:LimitRange"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"


def _resources(c: Mapping[str, Any]) -> Mapping[str, Any]:
    r = c.get("resources")
    return r if isinstance(r, Mapping) else {}


# 24 ------------------------------------------------------------------------------------------
def _requests_limits(path: str, spec: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    for cpath, c in containers(spec):
        res = _resources(c)
        for key in ("requests.cpu", "requests.memory", "limits.memory"):
            if get_path(res, key) in (None, ""):
                report(f"{path}.{cpath}.resources.{key} must be set.")


# 25 ------------------------------------------------------------------------------------------
def _gpu_well_formed(path: str, spec: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    for cpath, c in containers(spec):
        res = _resources(c)
        limits, requests = res.get("limits") or {}, res.get("requests") or {}
        for gpu in GPU_RESOURCES:
            if gpu in requests and gpu not in limits:
                report(f"{path}.{cpath}.resources.limits[{gpu}] must be set (GPUs are requested through limits).")
            if gpu in limits:
                value = str(limits[gpu])
                if not value.isdigit() or int(value) < 1:
                    report(f"{path}.{cpath}.resources.limits[{gpu}] must be a whole number of at least 1.")
                if gpu in requests and str(requests[gpu]) != value:
                    report(f"{path}.{cpath}.resources.requests[{gpu}] must equal the limit.")


def uses_gpu(spec: Mapping[str, Any]) -> bool:
    return any(gpu in (_resources(c).get("limits") or {}) for _, c in containers(spec) for gpu in GPU_RESOURCES)


def _tolerates_gpu(spec: Mapping[str, Any]) -> bool:
    return any(
        isinstance(t, Mapping)
        and (t.get("key") == GPU_TAINT_KEY or (t.get("operator") == "Exists" and not t.get("key")))
        for t in spec.get("tolerations") or []
    )


def _selects_gpu_nodes(spec: Mapping[str, Any]) -> bool:
    if any(label in (spec.get("nodeSelector") or {}) for label in GPU_NODE_LABELS):
        return True
    terms = (
        get_path(spec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms") or []
    )
    return any(
        expr.get("key") in GPU_NODE_LABELS
        for term in terms
        if isinstance(term, Mapping)
        for expr in term.get("matchExpressions") or []
        if isinstance(expr, Mapping)
    )


# 26 ------------------------------------------------------------------------------------------
def _gpu_targeting(path: str, spec: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    if uses_gpu(spec):
        if not _tolerates_gpu(spec):
            report(f"{path}.tolerations must tolerate the {GPU_TAINT_KEY} taint (GPU pods run on GPU nodes).")
        if not _selects_gpu_nodes(spec):
            report(f"{path}: select GPU nodes with nodeSelector or required node affinity on a GPU pool label.")
    elif _tolerates_gpu(spec):
        report(f"{path}.tolerations: pods without GPU limits must not tolerate the GPU taint (cost isolation).")


# 28 ------------------------------------------------------------------------------------------
def _quota_limitrange(args: StackValidationArgs, report: Report) -> None:
    with_workloads: dict[str, bool] = {}
    quotas: dict[str, Mapping[str, Any]] = {}
    limit_ranges: set[str] = set()
    for r in args.resources:
        ns = namespace_of(r.props)
        if r.resource_type in WORKLOAD_TYPES and ns:
            with_workloads[ns] = with_workloads.get(ns, False) or uses_gpu(pod_spec(r.resource_type, r.props))
        elif r.resource_type == RESOURCE_QUOTA and ns:
            quotas[ns] = get_path(r.props, "spec.hard") or {}
        elif r.resource_type == LIMIT_RANGE and ns:
            limit_ranges.add(ns)
    for ns, gpu in sorted(with_workloads.items()):
        if ns not in quotas:
            report(f"Namespace {ns} runs workloads but has no ResourceQuota.")
        elif gpu and "requests.nvidia.com/gpu" not in quotas[ns]:
            report(f"Namespace {ns} runs GPU workloads; its ResourceQuota must cap requests.nvidia.com/gpu.")
        if ns not in limit_ranges:
            report(f"Namespace {ns} runs workloads but has no LimitRange.")


# 29 ------------------------------------------------------------------------------------------
def _probes(path: str, spec: Mapping[str, Any], props: Mapping[str, Any], report: Report) -> None:
    labels = get_path(props, "spec.template.metadata.labels") or {}
    model_server = labels.get("app.kubernetes.io/component") == MODEL_SERVER_COMPONENT
    for i, c in enumerate(spec.get("containers") or []):
        for probe in ("readinessProbe", "livenessProbe") + (("startupProbe",) if model_server else ()):
            if not c.get(probe):
                report(f"{path}.containers[{i}].{probe} must be set.")


def _probed_workload(path: str, spec: Mapping[str, Any], props: Mapping[str, Any], report: Report) -> None:
    kind = props.get("kind")
    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        _probes(path, spec, props, report)


# 30 ------------------------------------------------------------------------------------------
def _selects(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    match = selector.get("matchLabels") or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def _pdb_for_replicated(args: StackValidationArgs, report: Report) -> None:
    pdbs = [r for r in args.resources if r.resource_type == PDB]
    for r in args.resources:
        if r.resource_type not in (DEPLOYMENT, STATEFULSET):
            continue
        replicas = get_path(r.props, "spec.replicas")
        if not isinstance(replicas, int | float) or replicas <= 1:
            continue
        labels = get_path(r.props, "spec.template.metadata.labels") or {}
        ns = namespace_of(r.props)
        matching = [
            p
            for p in pdbs
            if namespace_of(p.props) == ns and _selects(get_path(p.props, "spec.selector") or {}, labels)
        ]
        if not matching:
            report(f"{r.props.get('kind')} {r.name} has replicas > 1 but no PodDisruptionBudget selects it.", r.urn)
        for p in matching:
            if (
                get_path(p.props, "spec.maxUnavailable") in (0, "0", "0%")
                or get_path(p.props, "spec.minAvailable") == "100%"
            ):
                report(f"PodDisruptionBudget {p.name} forbids every voluntary disruption; allow at least one.", p.urn)


POLICIES: list[Any] = [
    workload_policy(
        "k8s-requests-and-memory-limits",
        "Containers must set CPU and memory requests and a memory limit.",
        _requests_limits,
        level=A,
        remediation="Set resources.requests.cpu/memory and resources.limits.memory.",
    ),
    workload_policy(
        "k8s-gpu-resources-well-formed",
        "GPU resources must be whole-number limits equal to any request.",
        _gpu_well_formed,
        level=M,
        remediation="Put nvidia.com/gpu in limits (and requests only if equal).",
    ),
    workload_policy(
        "k8s-gpu-pods-target-gpu-nodes",
        "GPU pods must tolerate the GPU taint and select GPU nodes; others must not.",
        _gpu_targeting,
        level=A,
        remediation="Add the nvidia.com/gpu toleration and a GPU pool node selector.",
    ),
    stack_policy(
        "k8s-namespace-quota-limitrange",
        "Namespaces with workloads must have a ResourceQuota and a LimitRange.",
        _quota_limitrange,
        level=A,
        remediation="Declare the namespace under ai-infra:namespaces.",
    ),
    workload_policy(
        "k8s-probes-configured",
        "Long-running containers must have readiness and liveness probes (model servers a startup probe).",
        _probed_workload,
        level=A,
        remediation="Add readinessProbe, livenessProbe (and startupProbe for model servers).",
    ),
    stack_policy(
        "k8s-pdb-for-replicated",
        "Replicated Deployments and StatefulSets must have a PodDisruptionBudget that allows disruption.",
        _pdb_for_replicated,
        level=EnforcementLevel.DISABLED,
        remediation="Add a PDB with maxUnavailable: 1.",
    ),
]
