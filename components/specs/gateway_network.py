"""Who may talk to the gateway's pods and whom they may reach (NetworkPolicies of the
``gateway`` namespace, on top of its default-deny, DNS and API-server allows), and the tailnet
Ingress that puts ``https://ai-<env>.<tailnet>/v1`` in front of it.

Ports from agentgateway @ v1.4.1: the proxy listens on the listener port (80) and serves
metrics on 15020; the controller serves xDS to the proxies on 9978 and metrics on 9092
(controller/install/helm/agentgateway/values.yaml ``controller.service.ports``); the picker's
ext_proc is 9002 (llm-d-router routerlib/templates/_deployment.yaml @ v0.10.0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi_kubernetes as k8s

from components.core.labels import selector_labels
from components.core.settings.gateway import GatewayRoute
from components.core.settings.tailscale import MODEL_TAG, env_tag
from components.specs.gateway import (
    CONTROLLER_METRICS_PORT,
    CONTROLLER_PODS,
    CONTROLLER_XDS_PORT,
    GATEWAY_NAME,
    GATEWAY_NAMESPACE,
    LISTENER_PORT,
    PROXY_METRICS_PORT,
    PROXY_PODS,
)
from components.specs.gateway_picker import EPP_GRPC_PORT
from components.specs.model_serving import tailnet_host
from components.specs.system_network import PROMETHEUS, TailnetBackend, pod_peer, tcp_port
from components.specs.tailscale import tailnet_ingress_args

Peer = k8s.networking.v1.NetworkPolicyPeerArgs
POLICY_NAMES = (f"{GATEWAY_NAME}-proxy", f"{GATEWAY_NAME}-controller")
"""The namespace's two policies, in the order :func:`gateway_network_policies` returns them."""


def fleet_pods(r: GatewayRoute) -> dict[str, str]:
    """A fleet's pods' selector labels (specs/model_runner.py ``FleetSpec.selector``)."""
    return selector_labels(app=r.engine, instance=r.fleet)


def _ports(*ports: int) -> list[k8s.networking.v1.NetworkPolicyPortArgs]:
    return [tcp_port(p) for p in ports]


def _policy(
    name: str,
    pods: Mapping[str, str],
    labels: Mapping[str, str],
    ingress: list[k8s.networking.v1.NetworkPolicyIngressRuleArgs],
    egress: list[k8s.networking.v1.NetworkPolicyEgressRuleArgs],
) -> k8s.networking.v1.NetworkPolicyInitArgs:
    return k8s.networking.v1.NetworkPolicyInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=GATEWAY_NAMESPACE, labels=dict(labels)),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(pods)),
            policy_types=["Ingress", "Egress"],
            ingress=ingress,
            egress=egress,
        ),
    )


def gateway_network_policies(
    routes: Sequence[GatewayRoute],
    *,
    labels: Mapping[str, str],
    monitoring_namespace: str | None,
) -> list[k8s.networking.v1.NetworkPolicyInitArgs]:
    """The proxies: in from any pod of the cluster on 80 (the in-cluster endpoint; the tailnet
    proxy is such a pod), Prometheus on 15020; out to each routed fleet's pods on its API port,
    to each picker on 9002, and to the controller's xDS. The controller: in from the proxies
    (xDS) and Prometheus; out only to the API server (the namespace's allow-apiserver)."""
    prometheus = [pod_peer(PROMETHEUS, monitoring_namespace)] if monitoring_namespace else []
    # namespaceSelector {}: every pod of every namespace (the tailnet's Ingress proxy included).
    callers = [Peer(namespace_selector=k8s.meta.v1.LabelSelectorArgs())]
    proxy_in = [k8s.networking.v1.NetworkPolicyIngressRuleArgs(from_=callers, ports=_ports(LISTENER_PORT))]
    if prometheus:
        proxy_in.append(
            k8s.networking.v1.NetworkPolicyIngressRuleArgs(from_=prometheus, ports=_ports(PROXY_METRICS_PORT))
        )
    proxy_out = [
        k8s.networking.v1.NetworkPolicyEgressRuleArgs(
            to=[pod_peer(CONTROLLER_PODS, GATEWAY_NAMESPACE)], ports=_ports(CONTROLLER_XDS_PORT)
        )
    ]
    for r in routes:
        proxy_out.append(
            k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                to=[pod_peer(fleet_pods(r), r.namespace)], ports=_ports(r.port)
            )
        )
        if r.pool:
            picker = selector_labels(app="epp", instance=f"{r.engine}-{r.fleet}-epp")
            proxy_out.append(
                k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                    to=[pod_peer(picker, r.namespace)], ports=_ports(EPP_GRPC_PORT)
                )
            )
    controller_in = [
        k8s.networking.v1.NetworkPolicyIngressRuleArgs(
            from_=[pod_peer(PROXY_PODS, GATEWAY_NAMESPACE)], ports=_ports(CONTROLLER_XDS_PORT)
        )
    ]
    if prometheus:
        controller_in.append(
            k8s.networking.v1.NetworkPolicyIngressRuleArgs(from_=prometheus, ports=_ports(CONTROLLER_METRICS_PORT))
        )
    return [
        _policy(POLICY_NAMES[0], PROXY_PODS, labels, proxy_in, proxy_out),
        _policy(POLICY_NAMES[1], CONTROLLER_PODS, labels, controller_in, []),
    ]


def tailnet_ingress(env: str, labels: Mapping[str, str]) -> k8s.networking.v1.IngressInitArgs:
    """``https://ai-<env>.<tailnet>`` -> Service ``ai``:80, tagged like the model endpoints (the
    tailnet policy lets the ``models`` principals reach it on 443)."""
    return tailnet_ingress_args(
        name=GATEWAY_NAME,
        namespace=GATEWAY_NAMESPACE,
        host=tailnet_host(GATEWAY_NAME, env),
        service=GATEWAY_NAME,
        port=LISTENER_PORT,
        tags=[MODEL_TAG, env_tag(env)],
        labels=labels,
    )


def tailnet_backend() -> TailnetBackend:
    """What the gateway's tailnet Ingress proxy forwards to (the tailscale namespace's egress):
    Service ``ai``:80 and the proxies behind it."""
    return TailnetBackend(
        namespace=GATEWAY_NAMESPACE,
        ingress=GATEWAY_NAME,
        service_port=LISTENER_PORT,
        pods=PROXY_PODS,
        target_port=LISTENER_PORT,
    )
