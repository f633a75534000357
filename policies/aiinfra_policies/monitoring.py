"""Section K of ``policies/RULES.md``, monitoring rules 73, 74 and 76.

A model server nobody scrapes is a GPU bill nobody can explain: once the Prometheus Operator is
in a stack, each vLLM server must have a ServiceMonitor or PodMonitor selecting it (73), and a
stack with workloads must run the monitoring stack at all (74). Rules 37 and 73 find model
servers and their Services by the recommended ``app.kubernetes.io`` labels, which is why those
labels are a rule of their own (76).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, StackValidationArgs

from aiinfra_policies.common import (
    Report,
    RulePolicy,
    Subject,
    containers,
    get_path,
    model_servers,
    namespace_of,
    pod_labels,
    pod_spec,
    policy,
    selects,
)
from aiinfra_policies.constants import (
    HELM_RELEASE,
    POD_MONITOR,
    RECOMMENDED_LABELS,
    SERVICE,
    SERVICE_MONITOR,
    WORKLOAD_TYPES,
)

A = EnforcementLevel.ADVISORY


# 73 ------------------------------------------------------------------------------------------
def _monitoring_present(args: StackValidationArgs) -> bool:
    return any(
        r.resource_type in (SERVICE_MONITOR, POD_MONITOR)
        or (r.resource_type == HELM_RELEASE and r.props.get("chart") == "kube-prometheus-stack")
        for r in args.resources
    )


def _has_service_monitor(args: StackValidationArgs, report: Report) -> None:
    if not _monitoring_present(args):
        return  # no Prometheus Operator in this stack yet: nothing could scrape (or define) a monitor
    monitors = [r for r in args.resources if r.resource_type in (SERVICE_MONITOR, POD_MONITOR)]
    for server in model_servers(args):
        labels = pod_labels(server.props)
        covered = any(
            namespace_of(m.props) == namespace_of(server.props)
            and selects(get_path(m.props, "spec.selector.matchLabels") or {}, labels)
            and (get_path(m.props, "spec.endpoints") or get_path(m.props, "spec.podMetricsEndpoints"))
            for m in monitors
        )
        if covered:
            continue
        # Ollama exposes no Prometheus metrics. Known by its name label first: a registry build's
        # digest (the image) is only known after apply, and reading it at preview skips the check.
        app = labels.get("app.kubernetes.io/name")
        if app == "ollama" or (
            app is None
            and any(
                "ollama" in str(c.get("image", "")) for _, c in containers(pod_spec(server.resource_type, server.props))
            )
        ):
            continue
        report("Model server has no ServiceMonitor/PodMonitor selecting it.", server.urn)


# 74 ------------------------------------------------------------------------------------------
def _monitoring_stack(args: StackValidationArgs, report: Report) -> None:
    if not any(r.resource_type in WORKLOAD_TYPES or r.resource_type == HELM_RELEASE for r in args.resources):
        return
    if not any(
        r.resource_type == HELM_RELEASE and r.props.get("chart") == "kube-prometheus-stack" for r in args.resources
    ):
        report("The stack has workloads but no monitoring stack (kube-prometheus-stack with Grafana).")


# 76 ------------------------------------------------------------------------------------------
def _recommended_labels(r: Subject, report: Report) -> None:
    labels = get_path(r.props, "metadata.labels") or {}
    missing = [k for k in RECOMMENDED_LABELS if not labels.get(k)]
    if missing:
        report(f"metadata.labels must include {', '.join(missing)} (use components.core.labels.standard_labels).")


POLICIES: list[RulePolicy] = [
    policy(
        "model-runner-has-servicemonitor",
        rule="73",
        description="Every model server with Prometheus metrics (vLLM, SGLang) must be scraped by Prometheus.",
        remediation="Turn on monitoring so fleets emit ServiceMonitors.",
        level=A,
        severity="low",
        standard="project convention (Prometheus Operator)",
        stack=True,
        check=_has_service_monitor,
    ),
    policy(
        "monitoring-stack-present",
        rule="74",
        description="A stack with workloads must run the monitoring stack.",
        remediation="Enable ai-infra:monitoring (kube-prometheus-stack, DCGM).",
        level=A,
        severity="medium",
        standard="NSA audit and monitoring",
        stack=True,
        check=_monitoring_stack,
    ),
    policy(
        "k8s-recommended-labels",
        rule="76",
        description="Workloads and Services must carry the recommended app.kubernetes.io labels.",
        remediation="Build labels with components.core.labels.standard_labels.",
        level=A,
        severity="low",
        standard="compliance-policies recommended-labels",
        types={*WORKLOAD_TYPES, SERVICE},
        exclude_namespaces=True,
        check=_recommended_labels,
    ),
]
