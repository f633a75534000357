"""Section C of ``policies/RULES.md``: resources, GPU scheduling and availability (rules 24–30).

GPUs are the platform's cost: a pod must ask for them the one way the device plugin honours
(whole-number limits, 25), land only on GPU nodes while CPU pods stay off them (26, 27: the
taint on GPU node groups is what keeps CPU pods away), and every namespace is capped by a
quota (28). Probes (29) and disruption budgets (30) keep model servers, which take minutes to
load weights, from being killed or drained blindly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, StackValidationArgs

from aiinfra_policies.common import (
    Report,
    RulePolicy,
    Subject,
    containers,
    get_path,
    namespace_of,
    pod_labels,
    pod_spec,
    policy,
)
from aiinfra_policies.constants import (
    COMPONENT_LABEL,
    DEPLOYMENT,
    GPU_NODE_LABELS,
    GPU_RESOURCES,
    GPU_TAINT_KEY,
    LIMIT_RANGE,
    MODEL_SERVER_COMPONENT,
    NODE_GROUP,
    PDB,
    RESOURCE_QUOTA,
    STATEFULSET,
    WORKLOAD_TYPES,
)

M = EnforcementLevel.MANDATORY
A = EnforcementLevel.ADVISORY
GPU_AMI_TYPES = frozenset(
    {"AL2_x86_64_GPU", "AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA", "BOTTLEROCKET_ARM_64_NVIDIA"}
)


def _resources(c: Mapping[str, Any]) -> Mapping[str, Any]:
    r = c.get("resources")
    return r if isinstance(r, Mapping) else {}


# 24 ------------------------------------------------------------------------------------------
def _requests_limits(r: Subject, report: Report) -> None:
    for cpath, c in containers(r.pod):
        res = _resources(c)
        for key in ("requests.cpu", "requests.memory", "limits.memory"):
            if get_path(res, key) in (None, ""):
                report(f"{r.pod_path}.{cpath}.resources.{key} must be set.")


# 25 ------------------------------------------------------------------------------------------
def _gpu_well_formed(r: Subject, report: Report) -> None:
    for cpath, c in containers(r.pod):
        res = _resources(c)
        limits, requests = res.get("limits") or {}, res.get("requests") or {}
        for gpu in GPU_RESOURCES:
            if gpu in requests and gpu not in limits:
                report(f"{r.pod_path}.{cpath}.resources.limits[{gpu}] must be set (GPUs are requested through limits).")
            if gpu in limits:
                value = str(limits[gpu])
                if not value.isdigit() or int(value) < 1:
                    report(f"{r.pod_path}.{cpath}.resources.limits[{gpu}] must be a whole number of at least 1.")
                if gpu in requests and str(requests[gpu]) != value:
                    report(f"{r.pod_path}.{cpath}.resources.requests[{gpu}] must equal the limit.")


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
def _gpu_targeting(r: Subject, report: Report) -> None:
    if uses_gpu(r.pod):
        if not _tolerates_gpu(r.pod):
            report(f"{r.pod_path}.tolerations must tolerate the {GPU_TAINT_KEY} taint (GPU pods run on GPU nodes).")
        if not _selects_gpu_nodes(r.pod):
            report(f"{r.pod_path}: select GPU nodes with nodeSelector or required node affinity on a GPU pool label.")
    elif _tolerates_gpu(r.pod):
        report(f"{r.pod_path}.tolerations: pods without GPU limits must not tolerate the GPU taint (cost isolation).")


# 27 ------------------------------------------------------------------------------------------
def is_gpu_node_group(props: Mapping[str, Any]) -> bool:
    types = props.get("instanceTypes") or []
    return props.get("amiType") in GPU_AMI_TYPES or any(str(t).startswith(("g", "p")) for t in types)


def _gpu_tainted(r: Subject, report: Report) -> None:
    if is_gpu_node_group(r.props) and not any(
        t.get("key") == GPU_TAINT_KEY and t.get("effect") == "NO_SCHEDULE" for t in r.props.get("taints") or []
    ):
        report(f"taints must include key {GPU_TAINT_KEY} with effect NO_SCHEDULE.")


# 28 ------------------------------------------------------------------------------------------
def _quota_limitrange(args: StackValidationArgs, report: Report) -> None:
    with_workloads: dict[str, bool] = {}
    quotas: dict[str, dict[str, Any]] = {}
    limit_ranges: set[str] = set()
    for r in args.resources:
        ns = namespace_of(r.props)
        if r.resource_type in WORKLOAD_TYPES and ns:
            with_workloads[ns] = with_workloads.get(ns, False) or uses_gpu(pod_spec(r.resource_type, r.props))
        elif r.resource_type == RESOURCE_QUOTA and ns:
            caps = quotas.setdefault(ns, {})
            # A scoped quota (say, zero pods at some PriorityClass) caps only its scope.
            if not get_path(r.props, "spec.scopeSelector") and not get_path(r.props, "spec.scopes"):
                caps.update(get_path(r.props, "spec.hard") or {})
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
def _probes(r: Subject, report: Report) -> None:
    # Jobs and bare pods run to completion: probes would only restart them mid-run.
    if r.props.get("kind") not in ("Deployment", "StatefulSet", "DaemonSet"):
        return
    # Model servers load weights for minutes; a startup probe holds off liveness until they are up.
    model_server = pod_labels(r.props).get(COMPONENT_LABEL) == MODEL_SERVER_COMPONENT
    for i, c in enumerate(r.pod.get("containers") or []):
        for probe in ("readinessProbe", "livenessProbe") + (("startupProbe",) if model_server else ()):
            if not c.get(probe):
                report(f"{r.pod_path}.containers[{i}].{probe} must be set.")


# 30 ------------------------------------------------------------------------------------------
def _selects(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    """Whether a LabelSelector's matchLabels pick ``labels`` (an empty selector picks nothing here)."""
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


POLICIES: list[RulePolicy] = [
    policy(
        "k8s-requests-and-memory-limits",
        rule="24",
        description="Containers must set CPU and memory requests and a memory limit.",
        remediation="Set resources.requests.cpu/memory and resources.limits.memory.",
        level=A,
        severity="medium",
        standard="CKV_K8S_10/12/13; NSA 4",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_requests_limits,
    ),
    policy(
        "k8s-gpu-resources-well-formed",
        rule="25",
        description="GPU resources must be whole-number limits equal to any request.",
        remediation="Put nvidia.com/gpu in limits (and requests only if equal).",
        level=M,
        severity="high",
        standard='Kubernetes "Schedule GPUs"',
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_gpu_well_formed,
    ),
    policy(
        "k8s-gpu-pods-target-gpu-nodes",
        rule="26",
        description="GPU pods must tolerate the GPU taint and select GPU nodes; others must not.",
        remediation="Add the nvidia.com/gpu toleration and a GPU pool node selector.",
        level=A,
        severity="medium",
        standard="project convention",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_gpu_targeting,
    ),
    policy(
        "eks-gpu-nodegroup-tainted",
        rule="27",
        description="GPU node groups must carry the nvidia.com/gpu NoSchedule taint.",
        remediation="Add the GPU taint to the node group.",
        level=A,
        severity="medium",
        standard="project convention",
        types={NODE_GROUP},
        check=_gpu_tainted,
    ),
    policy(
        "k8s-namespace-quota-limitrange",
        rule="28",
        description="Namespaces with workloads must have a ResourceQuota and a LimitRange.",
        remediation="Declare the namespace under ai-infra:namespaces.",
        level=A,
        severity="medium",
        standard="NSA 4 (ResourceQuota, LimitRange)",
        stack=True,
        check=_quota_limitrange,
    ),
    policy(
        "k8s-probes-configured",
        rule="29",
        description="Long-running containers must have readiness and liveness probes (model servers a startup probe).",
        remediation="Add readinessProbe, livenessProbe (and startupProbe for model servers).",
        level=A,
        severity="low",
        standard="CKV_K8S_8/9",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_probes,
    ),
    policy(
        "k8s-pdb-for-replicated",
        rule="30",
        description="Replicated Deployments and StatefulSets must have a PodDisruptionBudget that allows disruption.",
        remediation="Add a PDB with maxUnavailable: 1.",
        level=EnforcementLevel.DISABLED,
        severity="low",
        standard="compliance-policies PDB zero-disruption",
        stack=True,
        check=_pdb_for_replicated,
    ),
]
