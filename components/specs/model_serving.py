"""Pure builders for the objects around a fleet's pods: Service, PodDisruptionBudget,
NetworkPolicy, autoscaling (KEDA ScaledObject or HPA) and the Prometheus ServiceMonitor.

Which autoscaler and whether a monitor exists follow the engine's record
(``components/core/engines.py``): engines with Prometheus metrics scale on queue depth with KEDA
and get a ServiceMonitor; the others scale on CPU with an HPA.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.core.labels import MODEL_CLIENT_LABEL
from components.core.naming import k8s_name
from components.core.settings.tailscale import MODEL_TAG, env_tag
from components.specs import monitoring
from components.specs.gateway_picker import gateway_peers, picker_queue_query
from components.specs.model_runner import FleetSpec
from components.specs.pod import meta
from components.specs.system_network import PROMETHEUS, PUBLIC_INTERNET_EXCEPT
from components.specs.tailscale import ingress_proxy_peer, tailnet_ingress_args
from components.specs.warm_floor import cron_triggers

TAILNET_NAMESPACE = "tailscale"
"""Where the Tailscale operator and its proxy pods run."""


def tailnet_host(fleet: str, env: str) -> str:
    """A fleet's MagicDNS name: ``https://<fleet>-<env>.<tailnet>`` (one tailnet serves every
    environment, so the environment is part of the name)."""
    return k8s_name(fleet, env)


def tailnet_ingress(f: FleetSpec) -> k8s.networking.v1.IngressInitArgs:
    """The fleet's tailnet endpoint: the operator's HTTPS proxy, tagged as a model runner of this
    environment (the tailnet policy lets only the ``models`` principals reach it, on 443)."""
    return tailnet_ingress_args(
        name=f.resource_name,
        namespace=f.namespace,
        host=tailnet_host(f.name, f.env),
        service=f.resource_name,
        port=f.spec.port,
        tags=[MODEL_TAG, env_tag(f.env)],
        labels=f.labels,
    )


def service_args(f: FleetSpec) -> k8s.core.v1.ServiceInitArgs:
    # ClusterIP only: the tailnet reaches it through the operator's Ingress proxy, never a load balancer.
    return k8s.core.v1.ServiceInitArgs(
        metadata=meta(f),
        spec=k8s.core.v1.ServiceSpecArgs(
            type="ClusterIP",
            selector=f.selector,
            ports=[k8s.core.v1.ServicePortArgs(name="http", port=f.spec.port, target_port="http", protocol="TCP")],
        ),
    )


def pdb_args(f: FleetSpec) -> k8s.policy.v1.PodDisruptionBudgetInitArgs:
    return k8s.policy.v1.PodDisruptionBudgetInitArgs(
        metadata=meta(f),
        spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
            max_unavailable=1, selector=k8s.meta.v1.LabelSelectorArgs(match_labels=f.selector)
        ),
    )


def _internet_https() -> k8s.networking.v1.NetworkPolicyEgressRuleArgs:
    return k8s.networking.v1.NetworkPolicyEgressRuleArgs(
        to=[
            k8s.networking.v1.NetworkPolicyPeerArgs(
                ip_block=k8s.networking.v1.IPBlockArgs(
                    cidr="0.0.0.0/0",
                    except_=list(PUBLIC_INTERNET_EXCEPT),
                )
            )
        ],
        ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=443, protocol="TCP")],
    )


WEIGHTS_WAIVER = {"ai-infra.io/egress-waiver": "model weights download over HTTPS (Hugging Face Hub / Ollama registry)"}
S3_WAIVER = {"ai-infra.io/egress-waiver": "model weights streamed from S3 over HTTPS (gateway endpoint; STS for IRSA)"}


def network_policy_args(
    f: FleetSpec, *, tailnet_namespace: str = TAILNET_NAMESPACE
) -> k8s.networking.v1.NetworkPolicyInitArgs:
    """Ingress on the API port from: the fleet's own namespace's pods labelled
    ``ai-infra.io/model-client: "true"`` (not every pod there), the listed client namespaces,
    Prometheus's pods (not the whole monitoring namespace), and for a tailnet fleet only its own
    Ingress proxy pod from the operator's namespace (not the subnet router, not other fleets'
    proxies).
    Egress: none of its own (the namespace's allow-dns only) when a staging Job fills the shared
    cache; HTTPS to the internet (never private ranges or instance metadata) when the pod stages
    its own weights (local NVMe, ephemeral caches)."""
    peers = _callers(f)
    if f.monitoring_namespace:
        # kube-prometheus-stack's Prometheus pods (specs/system_network.py PROMETHEUS).
        peers.append(
            k8s.networking.v1.NetworkPolicyPeerArgs(
                namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                    match_labels={"kubernetes.io/metadata.name": f.monitoring_namespace}
                ),
                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(PROMETHEUS)),
            )
        )
    if f.spec.exposure == "tailnet":
        peers.append(
            ingress_proxy_peer(operator_namespace=tailnet_namespace, namespace=f.namespace, ingress=f.resource_name)
        )
    # S3: the streamer reads S3 (public S3 addresses, routed through the gateway endpoint) and
    # IRSA's credentials come from STS, both over HTTPS; neither has a fixed private address.
    downloads = not f.staged_by_job or f.spec.cache == "s3"
    waiver = S3_WAIVER if f.spec.cache == "s3" else WEIGHTS_WAIVER
    return k8s.networking.v1.NetworkPolicyInitArgs(
        metadata=meta(f, annotations=waiver if downloads else None),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=f.selector),
            policy_types=["Ingress", "Egress"],
            ingress=[
                k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                    from_=peers, ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=f.spec.port, protocol="TCP")]
                )
            ],
            egress=[_internet_https()] if downloads else None,
        ),
    )


def _callers(f: FleetSpec) -> list[k8s.networking.v1.NetworkPolicyPeerArgs]:
    """Behind the gateway: its proxy pods (and the fleet's endpoint picker, which scrapes each
    replica's /metrics on the API port); otherwise the labelled clients and client namespaces."""
    if f.gateway is not None and f.gateway.routed:
        return gateway_peers(f.namespace, f.gateway.picker)
    peers = [
        k8s.networking.v1.NetworkPolicyPeerArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={MODEL_CLIENT_LABEL: "true"})
        )
    ]
    peers += [
        k8s.networking.v1.NetworkPolicyPeerArgs(
            namespace_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"kubernetes.io/metadata.name": ns})
        )
        for ns in sorted(set(f.spec.client_namespaces) - {f.namespace})
    ]
    return peers


def stage_network_policy_args(f: FleetSpec) -> k8s.networking.v1.NetworkPolicyInitArgs:
    """The staging Job's pods: HTTPS out to the model hub, nothing in."""
    return k8s.networking.v1.NetworkPolicyInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=f"{f.resource_name}-stage",
            namespace=f.namespace,
            labels=f.stager_labels,
            annotations=WEIGHTS_WAIVER,
        ),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=f.stager_selector),
            policy_types=["Ingress", "Egress"],
            egress=[_internet_https()],
        ),
    )


METRICS_SOURCE_ANNOTATION = "ai-infra.io/metrics-source"
"""``external`` when KEDA reads a Prometheus outside the stack (the policy pack checks the rest)."""


def scaled_object(f: FleetSpec, prometheus_url: pulumi.Input[str], *, external: bool = False) -> dict[str, Any]:
    """KEDA ScaledObject on queue depth (the engine's ``metrics.queue``, summed over the fleet)."""
    s = f.spec
    query = f'sum({f.engine.queue_metric}{{namespace="{f.namespace}",model_name="{f.name}"}})'
    if f.gateway is not None and f.gateway.picker is not None:
        # At zero replicas the engine exports nothing: the picker's held requests wake the fleet.
        query = f"({query} or vector(0)) + ({picker_queue_query(f.namespace, f.resource_name)} or vector(0))"
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {
            "name": f.resource_name,
            "namespace": f.namespace,
            "labels": f.labels,
            **({"annotations": {METRICS_SOURCE_ANNOTATION: "external"}} if external else {}),
        },
        "spec": {
            "scaleTargetRef": {"kind": f.workload_kind, "name": f.resource_name},
            "minReplicaCount": s.replicas.min,
            "maxReplicaCount": s.replicas.max,
            "pollingInterval": 15,
            "cooldownPeriod": 360,
            "initialCooldownPeriod": 60,
            "fallback": {"failureThreshold": 3, "replicas": max(1, s.replicas.min)},
            "triggers": [
                {
                    "type": "prometheus",
                    "metadata": {"serverAddress": prometheus_url, "query": query, "threshold": "5"},
                },
                *cron_triggers(s),
            ],
        },
    }


def hpa_args(f: FleetSpec) -> k8s.autoscaling.v2.HorizontalPodAutoscalerInitArgs:
    """For engines without Prometheus metrics (Ollama): scale on CPU, which tracks request load."""
    s = f.spec
    return k8s.autoscaling.v2.HorizontalPodAutoscalerInitArgs(
        metadata=meta(f),
        spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
            scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                api_version="apps/v1", kind=f.workload_kind, name=f.resource_name
            ),
            min_replicas=max(1, s.replicas.min),
            max_replicas=s.replicas.max,
            metrics=[
                k8s.autoscaling.v2.MetricSpecArgs(
                    type="Resource",
                    resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                        name="cpu",
                        target=k8s.autoscaling.v2.MetricTargetArgs(type="Utilization", average_utilization=70),
                    ),
                )
            ],
        ),
    )


def service_monitor(f: FleetSpec) -> dict[str, Any]:
    """Prometheus Operator ServiceMonitor for the engine's metrics endpoint (engines that have one)."""
    assert f.engine.metrics_path is not None, f"{f.engine.name} serves no metrics"
    return monitoring.service_monitor(
        f.resource_name, f.namespace, f.labels, f.selector, port="http", path=f.engine.metrics_path
    )
