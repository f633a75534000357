"""Section D (network exposure, rules 31, 32, 34–37) and the model-serving rules of K (73, 74, 76).

Model servers are recognised by ``app.kubernetes.io/component: model-server`` (our label
helper sets it) or a vLLM / Ollama image.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, StackValidationArgs

from aiinfra_policies.common import (
    WORKLOAD_TYPES,
    Report,
    containers,
    get_path,
    namespace_of,
    pod_spec,
    stack_policy,
    typed_policy,
)

M = EnforcementLevel.MANDATORY
A = EnforcementLevel.ADVISORY
SERVICE = "kubernetes:core/v1:Service"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
POD_MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
WAIVER = "ai-infra.io/egress-waiver"
MODEL_SERVER = "model-server"
MODEL_IMAGES = ("vllm", "ollama")
RECOMMENDED = ("app.kubernetes.io/name", "app.kubernetes.io/component", "app.kubernetes.io/part-of")
WIDE = ("0.0.0.0/0", "::/0")


def is_model_server(resource_type: str, props: Mapping[str, Any]) -> bool:
    if resource_type not in WORKLOAD_TYPES:
        return False
    labels = get_path(props, "spec.template.metadata.labels") or get_path(props, "metadata.labels") or {}
    if labels.get("app.kubernetes.io/component") == MODEL_SERVER:
        return True
    spec = pod_spec(resource_type, props)
    return any(any(m in str(c.get("image", "")) for m in MODEL_IMAGES) for _, c in containers(spec))


# 31 ------------------------------------------------------------------------------------------
def _is_default_deny(props: Mapping[str, Any]) -> bool:
    spec = props.get("spec") or {}
    return (
        spec.get("podSelector") in ({}, None)
        and {"Ingress", "Egress"} <= set(spec.get("policyTypes") or [])
        and not spec.get("ingress")
        and not spec.get("egress")
    )


def _default_deny(args: StackValidationArgs, report: Report) -> None:
    with_workloads = {namespace_of(r.props) for r in args.resources if r.resource_type in WORKLOAD_TYPES}
    denied = {
        namespace_of(r.props) for r in args.resources if r.resource_type == NETWORK_POLICY and _is_default_deny(r.props)
    }
    for ns in sorted(n for n in with_workloads - denied if n):
        report(f"Namespace {ns} runs workloads but has no default-deny NetworkPolicy (empty podSelector, both types).")


# 32 ------------------------------------------------------------------------------------------
def _no_allow_all(props: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    spec = props.get("spec") or {}
    waived = bool((get_path(props, "metadata.annotations") or {}).get(WAIVER))
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(spec.get(direction) or []):
            if not rule or not rule.get(peers_key):
                report(f"spec.{direction}[{i}] allows every peer; name the peers it needs.")
                continue
            for j, peer in enumerate(rule.get(peers_key) or []):
                if get_path(peer, "ipBlock.cidr") in WIDE and not waived:
                    report(
                        f"spec.{direction}[{i}].{peers_key}[{j}].ipBlock opens the whole internet; narrow it or "
                        f"document the need in the {WAIVER} annotation."
                    )


# 34, 35 --------------------------------------------------------------------------------------
def _no_public_lb(props: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    if get_path(props, "spec.type") != "LoadBalancer":
        return
    annotations = get_path(props, "metadata.annotations") or {}
    internal = (
        annotations.get("service.beta.kubernetes.io/aws-load-balancer-scheme") == "internal"
        or annotations.get("service.beta.kubernetes.io/aws-load-balancer-internal") == "true"
    )
    if not internal:
        report("A LoadBalancer Service must be internal; expose models over the tailnet instead.")
    if any(c in WIDE for c in get_path(props, "spec.loadBalancerSourceRanges") or []):
        report("spec.loadBalancerSourceRanges must not contain 0.0.0.0/0 or ::/0.")


def _no_nodeport(props: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    if get_path(props, "spec.type") == "NodePort":
        report("spec.type must not be NodePort (it opens a port on every node).")
    if get_path(props, "spec.externalIPs"):
        report("spec.externalIPs must be empty.")


# 36 ------------------------------------------------------------------------------------------
def _ingress_tls(props: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    annotations = get_path(props, "metadata.annotations") or {}
    alb_tls = annotations.get("alb.ingress.kubernetes.io/certificate-arn") and 'HTTP"' not in str(
        annotations.get("alb.ingress.kubernetes.io/listen-ports", "")
    )
    if not get_path(props, "spec.tls") and not alb_tls:
        report("spec.tls (or an ALB certificate with HTTPS-only listeners) must be set.")
    if annotations.get("alb.ingress.kubernetes.io/scheme", "internal") != "internal":
        report("An ALB Ingress must be internal; expose models over the tailnet instead.")


# 37 ------------------------------------------------------------------------------------------
def _selects(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _pod_labels(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return get_path(props, "spec.template.metadata.labels") or {}


def _model_servers(args: StackValidationArgs) -> list[Any]:
    return [r for r in args.resources if is_model_server(r.resource_type, r.props)]


def _cluster_internal(args: StackValidationArgs, report: Report) -> None:
    servers = _model_servers(args)
    for svc in (r for r in args.resources if r.resource_type == SERVICE):
        selector = get_path(svc.props, "spec.selector") or {}
        fronts_model = any(
            namespace_of(s.props) == namespace_of(svc.props) and _selects(selector, _pod_labels(s.props))
            for s in servers
        )
        if fronts_model and get_path(svc.props, "spec.type") not in (None, "ClusterIP"):
            report("Services in front of model servers must be ClusterIP (expose them over the tailnet).", svc.urn)


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
    for server in _model_servers(args):
        labels = _pod_labels(server.props)
        covered = any(
            namespace_of(m.props) == namespace_of(server.props)
            and _selects(get_path(m.props, "spec.selector.matchLabels") or {}, labels)
            and (get_path(m.props, "spec.endpoints") or get_path(m.props, "spec.podMetricsEndpoints"))
            for m in monitors
        )
        image_is_ollama = any(
            "ollama" in str(c.get("image", "")) for _, c in containers(pod_spec(server.resource_type, server.props))
        )
        if not covered and not image_is_ollama:  # Ollama exposes no Prometheus metrics
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
def _recommended_labels(props: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    labels = get_path(props, "metadata.labels") or {}
    missing = [k for k in RECOMMENDED if not labels.get(k)]
    if missing:
        report(f"metadata.labels must include {', '.join(missing)} (use components.core.labels.standard_labels).")


POLICIES: list[Any] = [
    stack_policy(
        "k8s-namespace-default-deny",
        "Namespaces with workloads must have a default-deny NetworkPolicy.",
        _default_deny,
        level=A,
        remediation="Declare the namespace under ai-infra:namespaces.",
    ),
    typed_policy(
        "k8s-networkpolicy-no-allow-all",
        "NetworkPolicies must not allow every peer or the whole internet.",
        frozenset({NETWORK_POLICY}),
        _no_allow_all,
        A,
        "Name peers; waive wide egress with a documented reason.",
    ),
    typed_policy(
        "k8s-service-no-public-lb",
        "LoadBalancer Services must be internal.",
        frozenset({SERVICE}),
        _no_public_lb,
        A,
        "Use ClusterIP plus the Tailscale operator, or an internal load balancer.",
    ),
    typed_policy(
        "k8s-service-no-nodeport",
        "Services must not use NodePort or externalIPs.",
        frozenset({SERVICE}),
        _no_nodeport,
        A,
        "Use ClusterIP.",
    ),
    typed_policy(
        "k8s-ingress-tls",
        "Ingresses must terminate TLS and be internal.",
        frozenset({INGRESS}),
        _ingress_tls,
        A,
        "Add spec.tls or an ALB certificate; keep the scheme internal.",
    ),
    stack_policy(
        "model-runner-cluster-internal",
        "Model servers must only be reachable through ClusterIP Services.",
        _cluster_internal,
        level=M,
        remediation="Set the Service type to ClusterIP; expose via the tailnet.",
    ),
    stack_policy(
        "model-runner-has-servicemonitor",
        "Every vLLM model server must be scraped by Prometheus.",
        _has_service_monitor,
        level=A,
        remediation="Turn on monitoring so fleets emit ServiceMonitors.",
    ),
    stack_policy(
        "monitoring-stack-present",
        "A stack with workloads must run the monitoring stack.",
        _monitoring_stack,
        level=A,
        remediation="Enable ai-infra:monitoring (kube-prometheus-stack, DCGM).",
    ),
    typed_policy(
        "k8s-recommended-labels",
        "Workloads and Services must carry the recommended app.kubernetes.io labels.",
        frozenset({*WORKLOAD_TYPES, SERVICE}),
        _recommended_labels,
        A,
        "Build labels with components.core.labels.standard_labels.",
    ),
]
