"""NetworkPolicies for the system namespaces: default-deny plus what each chart's pods need.

Every system namespace gets ``default-deny`` (both directions), ``allow-dns`` and
``allow-apiserver`` (egress to the Kubernetes API, which every controller and Helm hook Job
needs); then one policy per component for the ports it serves and the peers it calls. The ports
and pod labels were read from the pinned charts' templates (kedacore/charts v2.17.2,
kubernetes/autoscaler cluster-autoscaler-chart 9.46.6–9.59.0, NVIDIA dcgm-exporter 4.8.2 and
gpu-operator v25.3.2, sig-storage-local-static-provisioner 2.9.0, kueue 0.19.2, metrics-server 3.13.1,
kube-prometheus-stack 88.5.3 with its grafana / kube-state-metrics subcharts, opencost 2.5.14);
docs/research/upstream.md §
"System namespace traffic" lists each with its file.

How the EKS VPC CNI enforces them (aws-network-policy-agent v1.4.0, network-policy-controller
v1.1.7) shapes the peers:

* the API server reaches webhook and APIService pods from control-plane ENIs in our subnets, so
  those ingress rules name the VPC CIDR (no pod selector can match it);
* egress to a Service is matched on its ClusterIP when the rule's pod selector is a subset of the
  Service's selector (ours are), but the ``kubernetes`` Service has no selector: the API allow names
  its ClusterIP (``/32``) and the VPC CIDR (the endpoints behind it);
* hostNetwork pods (node-exporter, csi-driver-nfs) are not enforced; kubelet probes from the
  pod's own node are always allowed.

On an existing cluster the same rules use ``cluster.existing.networkCidrs`` (nodes, pods and the
control plane) and allow the API on 443 and 6443 (kubeadm's port behind the ClusterIP).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pulumi_kubernetes as k8s

from components.core.naming import k8s_name
from components.specs.namespace import allow_dns_args, default_deny_args
from components.specs.tailscale import PARENT_NAME_LABEL, PARENT_NS_LABEL, PARENT_TYPE_LABEL

GRAFANA_TAILNET_INGRESS = "grafana-tailnet"
"""The Ingress the mesh puts in front of Grafana (components/tailscale_mesh.py)."""
GRAFANA_PODS = {"app.kubernetes.io/name": "grafana"}
GRAFANA_PORT = 3000
"""Grafana's container port (grafana chart: the ``grafana`` container listens on 3000)."""

EGRESS_WAIVER = "ai-infra.io/egress-waiver"
PUBLIC_INTERNET_EXCEPT = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16")
"""Private ranges and instance metadata: never reachable through an internet allow."""

PROMETHEUS = {"app.kubernetes.io/name": "prometheus"}
"""kube-prometheus-stack's Prometheus pods (a subset of its Service selector)."""
KEDA_OPERATOR = {"app": "keda-operator"}
KEDA_METRICS_APISERVER = {"app": "keda-operator-metrics-apiserver"}


@dataclass(frozen=True, kw_only=True)
class ClusterNetwork:
    """What the policies need to know about the cluster's addresses."""

    private_cidrs: tuple[str, ...]
    """Where nodes, pods and the control plane live (the VPC CIDR on EKS)."""
    api_ports: tuple[int, ...] = (443,)
    api_service_ip: str | None = None
    """The ``kubernetes`` Service's ClusterIP (EKS: first address of the service CIDR)."""
    monitoring_namespace: str | None = None
    """Namespace of the stack's Prometheus; None when the stack runs none."""
    external_prometheus_port: int | None = None
    """Port of a Prometheus outside the stack that KEDA queries (monitoring.prometheusUrl)."""
    service_cidr: str | None = None
    """The cluster's Service range when outside ``private_cidrs`` (EKS: 172.20.0.0/16): tailnet
    proxies connect to ClusterIPs, which the VPC CNI matches before translation."""
    tailnet_namespace: str | None = None
    """Namespace of the Tailscale operator and its proxies, when the mesh runs."""
    tailnet_backends: tuple[TailnetBackend, ...] = ()
    """What the tailnet Ingress proxies forward to: the only in-cluster egress they get."""
    subnet_router: str | None = None
    """The Connector's name, when the mesh runs a subnet router."""
    router_routes: tuple[str, ...] = ()
    """The routes it advertises: it may reach them on ``api_ports`` only (the API endpoint)."""
    router_dns_servers: tuple[str, ...] = ()
    """Split-DNS resolvers admins query through it (port 53)."""


@dataclass(frozen=True, kw_only=True)
class TailnetBackend:
    """One tailnet Ingress and the Service behind it: the proxy connects to the Service's
    ClusterIP and port (cmd/k8s-operator/ingress.go @ v1.102.3: ``Proxy: http://<ClusterIP>:<port>``),
    which the VPC CNI matches before translation; CNIs that match after it see the pods' port."""

    namespace: str
    ingress: str
    service_port: int
    pods: Mapping[str, str]
    """The backend pods' labels."""
    target_port: int


PolicyBuilder = Callable[[str, "ClusterNetwork", Mapping[str, str]], list[k8s.networking.v1.NetworkPolicyInitArgs]]
"""An add-on's allows: (its namespace, the cluster's addresses, labels) -> its NetworkPolicies."""


def tcp_port(port: int) -> k8s.networking.v1.NetworkPolicyPortArgs:
    return k8s.networking.v1.NetworkPolicyPortArgs(port=port, protocol="TCP")


def cidr_peers(cidrs: Sequence[str]) -> list[k8s.networking.v1.NetworkPolicyPeerArgs]:
    return [k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr=c)) for c in cidrs]


def internet_peers() -> list[k8s.networking.v1.NetworkPolicyPeerArgs]:
    block = k8s.networking.v1.IPBlockArgs(cidr="0.0.0.0/0", except_=list(PUBLIC_INTERNET_EXCEPT))
    return [k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=block)]


def pod_peer(labels: Mapping[str, str], namespace: str | None = None) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    return k8s.networking.v1.NetworkPolicyPeerArgs(
        pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(labels)),
        namespace_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"kubernetes.io/metadata.name": namespace})
        if namespace
        else None,
    )


def allow_from(
    peers: list[k8s.networking.v1.NetworkPolicyPeerArgs], *ports: int
) -> k8s.networking.v1.NetworkPolicyIngressRuleArgs:
    return k8s.networking.v1.NetworkPolicyIngressRuleArgs(from_=peers, ports=[tcp_port(p) for p in ports] or None)


def allow_to(
    peers: list[k8s.networking.v1.NetworkPolicyPeerArgs], *ports: int
) -> k8s.networking.v1.NetworkPolicyEgressRuleArgs:
    return k8s.networking.v1.NetworkPolicyEgressRuleArgs(to=peers, ports=[tcp_port(p) for p in ports] or None)


def component_policy(
    name: str,
    namespace: str,
    labels: Mapping[str, str],
    pods: Mapping[str, str],
    *,
    ingress: list[k8s.networking.v1.NetworkPolicyIngressRuleArgs] | None = None,
    egress: list[k8s.networking.v1.NetworkPolicyEgressRuleArgs] | None = None,
    waiver: str | None = None,
) -> k8s.networking.v1.NetworkPolicyInitArgs:
    types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules]
    return k8s.networking.v1.NetworkPolicyInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=name,
            namespace=namespace,
            labels=dict(labels),
            annotations={EGRESS_WAIVER: waiver} if waiver else None,
        ),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(pods)),
            policy_types=types,
            ingress=ingress or None,
            egress=egress or None,
        ),
    )


def apiserver_policy(
    namespace: str, net: ClusterNetwork, labels: Mapping[str, str]
) -> k8s.networking.v1.NetworkPolicyInitArgs:
    targets = [*([f"{net.api_service_ip}/32"] if net.api_service_ip else []), *net.private_cidrs]
    return component_policy(
        "allow-apiserver", namespace, labels, {}, egress=[allow_to(cidr_peers(targets), *net.api_ports)]
    )


def prometheus_peers(net: ClusterNetwork) -> list[k8s.networking.v1.NetworkPolicyPeerArgs]:
    return [pod_peer(PROMETHEUS, net.monitoring_namespace)] if net.monitoring_namespace else []


def autoscaler_policies(
    ns: str, net: ClusterNetwork, labels: Mapping[str, str]
) -> list[k8s.networking.v1.NetworkPolicyInitArgs]:
    prom = prometheus_peers(net)
    return [
        component_policy(
            "cluster-autoscaler",
            ns,
            labels,
            {"app.kubernetes.io/name": "aws-cluster-autoscaler"},
            ingress=[allow_from(prom, 8085)] if prom else None,
            egress=[allow_to(internet_peers(), 443)],
            waiver="AWS APIs over NAT: autoscaling, ec2, eks, sts (no VPC endpoints)",
        )
    ]


def gpu_system_policies(
    ns: str, net: ClusterNetwork, labels: Mapping[str, str]
) -> list[k8s.networking.v1.NetworkPolicyInitArgs]:
    prom = prometheus_peers(net)
    # dcgm-exporter (standalone or the operator's) serves 9400; the device plugin listens on nothing.
    return [component_policy("dcgm-exporter-metrics", ns, labels, {}, ingress=[allow_from(prom, 9400)])] if prom else []


def monitoring_policies(
    ns: str, net: ClusterNetwork, labels: Mapping[str, str]
) -> list[k8s.networking.v1.NetworkPolicyInitArgs]:
    prom = [pod_peer(PROMETHEUS)]
    grafana = dict(GRAFANA_PODS)
    opencost = {"app.kubernetes.io/name": "opencost"}
    alertmanager = {"app.kubernetes.io/name": "alertmanager"}
    return [
        component_policy(
            "prometheus",
            ns,
            labels,
            PROMETHEUS,
            ingress=[
                allow_from([pod_peer(grafana), pod_peer(opencost), pod_peer(KEDA_OPERATOR, "keda"), *prom], 9090),
                allow_from(prom, 8080),
            ],
            # Scrape targets are pods and nodes anywhere in the cluster on ports that vary per
            # fleet; Alertmanager is among them.
            egress=[allow_to(cidr_peers(net.private_cidrs))],
        ),
        component_policy(
            "alertmanager",
            ns,
            labels,
            alertmanager,
            ingress=[allow_from(prom, 9093, 8080), allow_from([pod_peer(grafana)], 9093)],
            egress=[allow_to(internet_peers(), 443)],
            waiver="alert receivers: webhook URLs over HTTPS",
        ),
        # Admission webhooks for PrometheusRules (called by the API server) and its own metrics.
        component_policy(
            "prometheus-operator",
            ns,
            labels,
            {"app": "kube-prometheus-stack-operator"},
            ingress=[allow_from(cidr_peers(net.private_cidrs), 10250)],
        ),
        component_policy(
            "grafana",
            ns,
            labels,
            grafana,
            ingress=[allow_from(prom, GRAFANA_PORT), *_grafana_tailnet(ns, net)],
            egress=[allow_to(prom, 9090), allow_to([pod_peer(alertmanager)], 9093)],
        ),
        component_policy(
            "kube-state-metrics",
            ns,
            labels,
            {"app.kubernetes.io/name": "kube-state-metrics"},
            ingress=[allow_from(prom, 8080)],
        ),
        component_policy(
            "opencost",
            ns,
            labels,
            opencost,
            ingress=[allow_from(prom, 9003)],
            egress=[allow_to(prom, 9090), allow_to(internet_peers(), 443)],
            waiver="the AWS price list (pricing.us-east-1.amazonaws.com) over HTTPS",
        ),
    ]


def kueue_policies(
    ns: str, net: ClusterNetwork, labels: Mapping[str, str]
) -> list[k8s.networking.v1.NetworkPolicyInitArgs]:
    # kubernetes-sigs/kueue charts/kueue/templates/manager/manager.yaml @ v0.19.2: webhook-server
    # 9443 and visibility 8082 (the APIService, Service 443 -> 8082), both called by the API
    # server; metrics 8443 (https, scraped with the Prometheus ServiceMonitor).
    prom = prometheus_peers(net)
    return [
        component_policy(
            "kueue-controller-manager",
            ns,
            labels,
            {"app.kubernetes.io/name": "kueue", "control-plane": "controller-manager"},
            ingress=[
                allow_from(cidr_peers(net.private_cidrs), 9443, 8082),
                *([allow_from(prom, 8443)] if prom else []),
            ],
        )
    ]


def _grafana_tailnet(ns: str, net: ClusterNetwork) -> list[k8s.networking.v1.NetworkPolicyIngressRuleArgs]:
    """Grafana's tailnet Ingress proxy pod (and no other pod of the operator's namespace)."""
    if not net.tailnet_namespace:
        return []
    proxy = {PARENT_TYPE_LABEL: "ingress", PARENT_NS_LABEL: ns, PARENT_NAME_LABEL: GRAFANA_TAILNET_INGRESS}
    return [allow_from([pod_peer(proxy, net.tailnet_namespace)], GRAFANA_PORT)]


def tailscale_policies(
    ns: str, net: ClusterNetwork, labels: Mapping[str, str]
) -> list[k8s.networking.v1.NetworkPolicyInitArgs]:
    # The operator and its proxies (StatefulSets it creates, unseen by CrossGuard) reach the
    # coordination server and DERP relays over HTTPS, STUN on UDP 3478 and peers on WireGuard's
    # UDP 41641 (Tailscale KB "What firewall ports should I open"). Inside the cluster and the
    # VPC each proxy reaches only what it forwards to: an Ingress proxy its Service's port (and
    # the backend pods' port), the subnet router the API endpoint's port on its routes and the
    # split-DNS resolvers; the operator only the API server (allow-apiserver). The tailnet
    # policy (grants) is the gate in front, each destination's NetworkPolicy the one behind.
    internet = internet_peers()
    udp = [k8s.networking.v1.NetworkPolicyPortArgs(port=p, protocol="UDP") for p in (3478, 41641)]
    policies = [
        component_policy(
            "tailscale-mesh",
            ns,
            labels,
            {},
            egress=[allow_to(internet, 443), k8s.networking.v1.NetworkPolicyEgressRuleArgs(to=internet, ports=udp)],
            waiver="Tailscale coordination, DERP relays (HTTPS), STUN and WireGuard (UDP)",
        )
    ]
    for b in net.tailnet_backends:
        proxy = {PARENT_TYPE_LABEL: "ingress", PARENT_NS_LABEL: b.namespace, PARENT_NAME_LABEL: b.ingress}
        egress = [allow_to([pod_peer(b.pods, b.namespace)], b.target_port)]
        if net.service_cidr:
            egress.insert(0, allow_to(cidr_peers([net.service_cidr]), b.service_port))
        policies.append(component_policy(k8s_name("proxy", b.namespace, b.ingress), ns, labels, proxy, egress=egress))
    if net.subnet_router and net.router_routes:
        router = {PARENT_TYPE_LABEL: "connector", PARENT_NS_LABEL: ns, PARENT_NAME_LABEL: net.subnet_router}
        egress = [allow_to(cidr_peers(net.router_routes), *net.api_ports)]
        if net.router_dns_servers:
            dns = [k8s.networking.v1.NetworkPolicyPortArgs(port=53, protocol=p) for p in ("UDP", "TCP")]
            egress.append(
                k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                    to=cidr_peers([str(ipaddress.ip_network(ip)) for ip in net.router_dns_servers]), ports=dns
                )
            )
        policies.append(component_policy("subnet-router", ns, labels, router, egress=egress))
    return policies


def system_network_policies(
    namespace: str, net: ClusterNetwork, labels: Mapping[str, str], component: PolicyBuilder | None = None
) -> list[k8s.networking.v1.NetworkPolicyInitArgs]:
    """Default-deny, DNS, the API server, then the namespace's component allows (rule 86):
    ``component`` is its add-on's builder (``components/specs/addons``)."""
    base = [
        default_deny_args(namespace, labels),
        allow_dns_args(namespace, labels),
        apiserver_policy(namespace, net, labels),
    ]
    return base + (component(namespace, net, labels) if component else [])
