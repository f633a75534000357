"""Section D of ``policies/RULES.md``: network exposure (rules 31–37).

Model servers hold GPUs and weights and are reached only over the tailnet, so the network rules
make every namespace default-deny (31) with narrow allow rules (32), insist the VPC CNI actually
enforces NetworkPolicies (33: EKS ignores them otherwise), and keep Services and Ingresses off
the internet (34–36) and model servers behind ClusterIP Services only (37). A NetworkPolicy that
selects a model server never admits or reaches peers by an empty ``namespaceSelector`` (every
pod of every namespace) (37b). Model servers are
recognised by ``app.kubernetes.io/component: model-server`` (our label helper sets it) or a
vLLM / Ollama image.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, StackValidationArgs

from aiinfra_policies.common import (
    Report,
    RulePolicy,
    Subject,
    get_path,
    model_servers,
    namespace_of,
    pod_labels,
    policy,
    selects,
)
from aiinfra_policies.constants import ADDON, INGRESS, NETWORK_POLICY, SERVICE, WORKLOAD_TYPES

M = EnforcementLevel.MANDATORY
A = EnforcementLevel.ADVISORY
WAIVER = "ai-infra.io/egress-waiver"
"""Annotation on a NetworkPolicy whose wide egress is on purpose (its value says why)."""
WIDE = ("0.0.0.0/0", "::/0")


# 31 ------------------------------------------------------------------------------------------
def is_default_deny(props: Mapping[str, Any]) -> bool:
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
        namespace_of(r.props) for r in args.resources if r.resource_type == NETWORK_POLICY and is_default_deny(r.props)
    }
    for ns in sorted(n for n in with_workloads - denied if n):
        report(f"Namespace {ns} runs workloads but has no default-deny NetworkPolicy (empty podSelector, both types).")


# 32 ------------------------------------------------------------------------------------------
def _no_allow_all(r: Subject, report: Report) -> None:
    props = r.props
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


# 33 ------------------------------------------------------------------------------------------
def _cni_network_policy(r: Subject, report: Report) -> None:
    # EKS's VPC CNI ignores NetworkPolicies unless told to enforce them: rules 31 and 32 would be paper.
    if r.props.get("addonName") != "vpc-cni":
        return
    try:
        values = json.loads(r.props.get("configurationValues") or "{}")
    except ValueError:
        values = {}
    if str(values.get("enableNetworkPolicy")).lower() != "true":
        report('configurationValues must set enableNetworkPolicy: "true" (otherwise NetworkPolicies are ignored).')


# 34, 35 --------------------------------------------------------------------------------------
def _no_public_lb(r: Subject, report: Report) -> None:
    props = r.props
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


def _no_nodeport(r: Subject, report: Report) -> None:
    props = r.props
    if get_path(props, "spec.type") == "NodePort":
        report("spec.type must not be NodePort (it opens a port on every node).")
    if get_path(props, "spec.externalIPs"):
        report("spec.externalIPs must be empty.")


# 36 ------------------------------------------------------------------------------------------
def _ingress_tls(r: Subject, report: Report) -> None:
    props = r.props
    annotations = get_path(props, "metadata.annotations") or {}
    alb_tls = annotations.get("alb.ingress.kubernetes.io/certificate-arn") and 'HTTP"' not in str(
        annotations.get("alb.ingress.kubernetes.io/listen-ports", "")
    )
    if not get_path(props, "spec.tls") and not alb_tls:
        report("spec.tls (or an ALB certificate with HTTPS-only listeners) must be set.")
    if annotations.get("alb.ingress.kubernetes.io/scheme", "internal") != "internal":
        report("An ALB Ingress must be internal; expose models over the tailnet instead.")


# 37 ------------------------------------------------------------------------------------------
def _cluster_internal(args: StackValidationArgs, report: Report) -> None:
    servers = model_servers(args)
    for svc in (r for r in args.resources if r.resource_type == SERVICE):
        selector = get_path(svc.props, "spec.selector") or {}
        fronts_model = any(
            namespace_of(s.props) == namespace_of(svc.props) and selects(selector, pod_labels(s.props)) for s in servers
        )
        if fronts_model and get_path(svc.props, "spec.type") not in (None, "ClusterIP"):
            report("Services in front of model servers must be ClusterIP (expose them over the tailnet).", svc.urn)


# 37b -----------------------------------------------------------------------------------------
def label_selector_matches(selector: Any, labels: Mapping[str, Any]) -> bool:
    """Whether a Kubernetes label selector (``matchLabels``/``matchExpressions``) picks ``labels``;
    an empty selector picks every pod."""
    if not isinstance(selector, Mapping):
        return False
    match_labels = selector.get("matchLabels") or {}
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key"), expr.get("operator")
        values = list(expr.get("values") or [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _is_empty_selector(value: Any) -> bool:
    return isinstance(value, Mapping) and not value.get("matchLabels") and not value.get("matchExpressions")


def _peers_scoped(args: StackValidationArgs, report: Report) -> None:
    servers = [(namespace_of(r.props), pod_labels(r.props)) for r in model_servers(args)]
    for np in args.resources:
        if np.resource_type != NETWORK_POLICY:
            continue
        ns, selector = namespace_of(np.props), get_path(np.props, "spec.podSelector")
        if not any(ns == server_ns and label_selector_matches(selector, labels) for server_ns, labels in servers):
            continue
        for direction, peers_key in (("ingress", "from"), ("egress", "to")):
            for i, rule in enumerate(get_path(np.props, f"spec.{direction}") or []):
                for j, peer in enumerate((rule.get(peers_key) if isinstance(rule, Mapping) else None) or []):
                    if (
                        isinstance(peer, Mapping)
                        and "namespaceSelector" in peer
                        and _is_empty_selector(peer.get("namespaceSelector"))
                    ):
                        report(
                            f"spec.{direction}[{i}].{peers_key}[{j}].namespaceSelector is empty: it selects every "
                            "namespace of the cluster for a model server; match the namespace by "
                            "kubernetes.io/metadata.name (and its pods by label).",
                            np.urn,
                        )


POLICIES: list[RulePolicy] = [
    policy(
        "k8s-namespace-default-deny",
        rule="31",
        description="Namespaces with workloads must have a default-deny NetworkPolicy.",
        remediation="Declare the namespace under ai-infra:namespaces.",
        level=A,
        severity="high",
        standard="CIS EKS 4.3.2/5.4.4; CKV2_K8S_6",
        stack=True,
        check=_default_deny,
    ),
    policy(
        "k8s-networkpolicy-no-allow-all",
        rule="32",
        description="NetworkPolicies must not allow every peer or the whole internet.",
        remediation="Name peers; waive wide egress with a documented reason.",
        level=A,
        severity="high",
        standard="NSA network separation",
        types={NETWORK_POLICY},
        exclude_namespaces=True,
        check=_no_allow_all,
    ),
    policy(
        "eks-vpc-cni-network-policy-enabled",
        rule="33",
        description="The VPC CNI add-on must enforce NetworkPolicies.",
        remediation='Set configurationValues {"enableNetworkPolicy": "true"}.',
        level=A,
        severity="high",
        standard="EKS docs cni-network-policy; Pulumi CIS-K8s",
        types={ADDON},
        check=_cni_network_policy,
    ),
    policy(
        "k8s-service-no-public-lb",
        rule="34",
        description="LoadBalancer Services must be internal.",
        remediation="Use ClusterIP plus the Tailscale operator, or an internal load balancer.",
        level=A,
        severity="high",
        standard="compliance-policies disallow-load-balancer",
        types={SERVICE},
        exclude_namespaces=True,
        check=_no_public_lb,
    ),
    policy(
        "k8s-service-no-nodeport",
        rule="35",
        description="Services must not use NodePort or externalIPs.",
        remediation="Use ClusterIP.",
        level=A,
        severity="medium",
        standard="CKV2_K8S_4; opa service_security",
        types={SERVICE},
        exclude_namespaces=True,
        check=_no_nodeport,
    ),
    policy(
        "k8s-ingress-tls",
        rule="36",
        description="Ingresses must terminate TLS and be internal.",
        remediation="Add spec.tls or an ALB certificate; keep the scheme internal.",
        level=A,
        severity="high",
        standard="CIS EKS 5.4.5",
        types={INGRESS},
        exclude_namespaces=True,
        check=_ingress_tls,
    ),
    policy(
        "model-runner-cluster-internal",
        rule="37",
        description="Model servers must only be reachable through ClusterIP Services.",
        remediation="Set the Service type to ClusterIP; expose via the tailnet.",
        level=M,
        severity="high",
        standard="project convention; CIS EKS 5.4",
        stack=True,
        check=_cluster_internal,
    ),
    policy(
        "model-runner-netpol-peers-scoped",
        rule="37b",
        description="NetworkPolicies of model servers never name peers by an empty namespaceSelector.",
        remediation="Name the namespace (kubernetes.io/metadata.name) and the pods that may call the model "
        "(models.<name>.clientNamespaces).",
        level=A,
        severity="high",
        standard="NSA network separation; CIS EKS 5.4; project convention",
        stack=True,
        check=_peers_scoped,
    ),
]
