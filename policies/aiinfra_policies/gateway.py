"""Section N of ``policies/RULES.md``: the inference gateway (rules 93-95, issue 25).

When a stack runs a Gateway, every model server of a workload namespace is behind it: an
HTTPRoute names an InferencePool (or a Service) whose selector matches the server's pods, or the
server says it is reached directly (``ai-infra.io/exposure: direct`` with a non-empty
``ai-infra.io/exposure-reason``) (93). Client keys are never plain values: every
``apiKeyAuthentication`` reads a Secret this stack manages (whose data pulumi-kubernetes always
sends as a secret), never a ConfigMap, and no ConfigMap holds a key entry (94). The gateway is
never a public load balancer: each Gateway names AgentgatewayParameters that force its proxy
Service to ClusterIP (agentgateway renders ``type: LoadBalancer`` otherwise,
controller/pkg/helm/agentgateway/templates/service.yaml @ v1.4.1) and asks for no addresses (95).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

from aiinfra_policies.common import Report, RulePolicy, get_path, namespace_of, policy
from aiinfra_policies.constants import (
    COMPONENT_LABEL,
    CONFIG_MAP,
    DEPLOYMENT,
    K8S_SECRET,
    MODEL_SERVER_COMPONENT,
    SERVICE,
    STATEFULSET,
)

A = EnforcementLevel.ADVISORY
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
HTTP_ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
INFERENCE_POOL = "kubernetes:inference.networking.k8s.io/v1:InferencePool"
AGW_POLICY = "kubernetes:agentgateway.dev/v1alpha1:AgentgatewayPolicy"
AGW_PARAMETERS = "kubernetes:agentgateway.dev/v1alpha1:AgentgatewayParameters"
EXPOSURE = "ai-infra.io/exposure"
EXPOSURE_REASON = "ai-infra.io/exposure-reason"


def _name(props: Mapping[str, Any]) -> Any:
    return get_path(props, "metadata.name")


def _selected(selector: Any, labels: Any) -> bool:
    if not isinstance(selector, Mapping) or not selector or not isinstance(labels, Mapping):
        return False
    return all(labels.get(k) == v for k, v in selector.items())


def _backends(args: StackValidationArgs) -> set[tuple[str, Any, Any]]:
    """``(kind, namespace, name)`` of every HTTPRoute backendRef (namespace defaults to the route's)."""
    found: set[tuple[str, Any, Any]] = set()
    for r in args.resources:
        if r.resource_type != HTTP_ROUTE:
            continue
        for rule in get_path(r.props, "spec.rules") or []:
            for ref in (rule.get("backendRefs") or []) if isinstance(rule, Mapping) else []:
                if isinstance(ref, Mapping):
                    found.add(
                        (
                            str(ref.get("kind") or "Service"),
                            ref.get("namespace") or namespace_of(r.props),
                            ref.get("name"),
                        )
                    )
    return found


# 93 ------------------------------------------------------------------------------------------
def _behind_gateway(args: StackValidationArgs, report: Report) -> None:
    if not any(r.resource_type == GATEWAY for r in args.resources):
        return
    try:
        backends = _backends(args)
    except UnknownValueError:
        return
    selectors: list[tuple[Any, Any]] = []
    for r in args.resources:
        kind = {INFERENCE_POOL: "InferencePool", SERVICE: "Service"}.get(r.resource_type)
        if kind and (kind, namespace_of(r.props), _name(r.props)) in backends:
            path = "spec.selector.matchLabels" if kind == "InferencePool" else "spec.selector"
            selectors.append((namespace_of(r.props), get_path(r.props, path)))
    for r in args.resources:
        if r.resource_type not in (DEPLOYMENT, STATEFULSET):
            continue
        if (get_path(r.props, "metadata.labels") or {}).get(COMPONENT_LABEL) != MODEL_SERVER_COMPONENT:
            continue
        annotations = get_path(r.props, "metadata.annotations") or {}
        if annotations.get(EXPOSURE) == "direct":
            if not str(annotations.get(EXPOSURE_REASON) or "").strip():
                report(
                    f"metadata.annotations[{EXPOSURE_REASON}] must say why this model server is not behind "
                    "the gateway.",
                    r.urn,
                )
            continue
        pods = get_path(r.props, "spec.template.metadata.labels")
        ns = namespace_of(r.props)
        if not any(sel_ns == ns and _selected(sel, pods) for sel_ns, sel in selectors):
            report(
                "This model server is behind no HTTPRoute of the gateway: route it (an InferencePool or Service "
                f"an HTTPRoute names), or mark it {EXPOSURE}: direct with {EXPOSURE_REASON}.",
                r.urn,
            )


# 94 ------------------------------------------------------------------------------------------
def _is_key_entry(value: Any) -> bool:
    try:
        doc = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return False
    return isinstance(doc, Mapping) and ("key" in doc or "keyHash" in doc) and isinstance(doc.get("metadata"), Mapping)


def _keys_not_plain(args: StackValidationArgs, report: Report) -> None:
    secrets = {(namespace_of(r.props), _name(r.props)) for r in args.resources if r.resource_type == K8S_SECRET}
    for r in args.resources:
        if r.resource_type == AGW_POLICY:
            auth = get_path(r.props, "spec.traffic.apiKeyAuthentication")
            if not isinstance(auth, Mapping):
                continue
            ref = auth.get("secretRef")
            if not isinstance(ref, Mapping) or (namespace_of(r.props), ref.get("name")) not in secrets:
                report(
                    "spec.traffic.apiKeyAuthentication must read its keys from a Secret this stack manages "
                    "(secretRef); keys in ConfigMaps or selected from elsewhere are not secret values.",
                    r.urn,
                )
        elif r.resource_type == CONFIG_MAP:
            for key, value in sorted((get_path(r.props, "data") or {}).items()):
                if _is_key_entry(value):
                    report(f"data[{key}] holds an API key entry in plain text: keep client keys in a Secret.", r.urn)


# 95 ------------------------------------------------------------------------------------------
def _not_public(args: StackValidationArgs, report: Report) -> None:
    params = {
        (namespace_of(r.props), _name(r.props)): r.props for r in args.resources if r.resource_type == AGW_PARAMETERS
    }
    for r in args.resources:
        if r.resource_type != GATEWAY:
            continue
        if get_path(r.props, "spec.addresses"):
            report("spec.addresses must be empty: the gateway gets no externally assigned address.", r.urn)
        ref = get_path(r.props, "spec.infrastructure.parametersRef")
        target = params.get((namespace_of(r.props), ref.get("name"))) if isinstance(ref, Mapping) else None
        if target is None or get_path(target, "spec.service.spec.type") != "ClusterIP":
            report(
                "spec.infrastructure.parametersRef must name AgentgatewayParameters of this stack whose "
                "spec.service.spec.type is ClusterIP (the proxy Service is a LoadBalancer otherwise); reach the "
                "gateway in-cluster or over the tailnet.",
                r.urn,
            )


POLICIES: list[RulePolicy] = [
    policy(
        "gateway-model-server-behind-gateway",
        rule="93",
        description="With a gateway, every model server is behind it (or marked direct with a reason).",
        remediation="Route the fleet through the gateway, or list it under gateway.direct with the reason.",
        level=A,
        severity="high",
        standard="Gateway API Inference Extension (InferencePool); project convention",
        stack=True,
        check=_behind_gateway,
    ),
    policy(
        "gateway-keys-not-plain",
        rule="94",
        description="Gateway client keys live only in Secrets the stack manages, never in ConfigMaps.",
        remediation="Let the stack generate client keys (gateway.clients) or name a --secret config key "
        "(gateway.clients.<name>.keySecret); never type a key into plain config or a ConfigMap.",
        level=A,
        severity="critical",
        standard="CIS EKS 4.4.2; Pulumi secrets docs",
        stack=True,
        check=_keys_not_plain,
    ),
    policy(
        "gateway-service-not-public",
        rule="95",
        description="The gateway's proxy Service is ClusterIP and the Gateway asks for no addresses.",
        remediation="Name AgentgatewayParameters with service.spec.type ClusterIP from the Gateway (specs/gateway.py).",
        level=A,
        severity="high",
        standard="EKS Best Practices (network security: private load balancers); NSA network separation",
        stack=True,
        check=_not_public,
    ),
]
