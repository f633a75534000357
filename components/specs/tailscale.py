"""Pure builders for the Tailscale operator and the objects it reads.

The operator (chart ``tailscale-operator`` 1.102.3) runs in its own ``tailscale`` namespace and
reads its OAuth credentials from the ``operator-oauth`` Secret there when the chart is given none
(cmd/k8s-operator/deploy/chart/templates/deployment.yaml @ v1.102.3): the stack writes that
Secret from ``Output`` secrets, so no credential is ever a Helm value. What it serves:

* a **tailnet Ingress** (``ingressClassName: tailscale``, ``tls.hosts: [<host>]``) per exposed
  Service: a userspace proxy serving ``https://<host>.<tailnet>`` with a Let's Encrypt certificate
  and forwarding to the Service's port (cmd/k8s-operator/ingress.go @ v1.102.3);
* a **Connector** subnet router advertising the VPC CIDR (tailscale.com_connectors.yaml);
* a **ProxyClass** that keeps those proxies on the system pool, never on GPU nodes.

Every custom resource here validates against the pinned CRD in tests (tests/data/crds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.core.charts import KUBE_PROMETHEUS_STACK
from components.core.settings.tailscale import OPERATOR_TAG, PROXY_TAG

API_VERSION = "tailscale.com/v1alpha1"
INGRESS_CLASS = "tailscale"
"""The chart's IngressClass (values ``ingressClass.name``, default ``tailscale``)."""
OAUTH_SECRET = "operator-oauth"
"""The Secret the operator mounts when the chart gets no credentials (keys client_id, client_secret)."""
TAGS_ANNOTATION = "tailscale.com/tags"
# Labels the operator puts on a proxy's pods (cmd/k8s-operator/svc.go childResourceLabels @ v1.102.3).
PARENT_TYPE_LABEL = "tailscale.com/parent-resource-type"
PARENT_NS_LABEL = "tailscale.com/parent-resource-ns"
PARENT_NAME_LABEL = "tailscale.com/parent-resource"

GRAFANA_SERVICE = f"{KUBE_PROMETHEUS_STACK.name}-grafana"
"""Grafana's Service: ``<release>-grafana``; the release is named after the chart (``pinned_release``),
and grafana's ``grafana.fullname`` (charts/grafana/templates/_helpers.tpl) appends ``-grafana`` to a
release name that does not contain it; kube-prometheus-stack sets no grafana ``fullnameOverride``."""
GRAFANA_SERVICE_PORT = 80
"""grafana chart values.yaml ``service.port`` (80); kube-prometheus-stack 88.5.3 sets only the port's
name (``grafana.service.portName``), not the port."""


def operator_values(
    *,
    hostname: str,
    tags: Sequence[str] = (OPERATOR_TAG,),
    proxy_tags: Sequence[str] = (PROXY_TAG,),
    node_selector: Mapping[str, str] | None = None,
    proxy_class: str | None = None,
) -> dict[str, Any]:
    """Values for ``tailscale-operator`` 1.102.3 (keys in tests/data/helm-values). No ``oauth.*``:
    empty credentials make the chart mount the ``operator-oauth`` Secret we create."""
    operator: dict[str, Any] = {
        # A list (the template joins it); the operator's own device is tagged with it.
        "defaultTags": list(tags),
        "hostname": hostname,
    }
    if node_selector:
        operator["nodeSelector"] = dict(node_selector)
    proxy: dict[str, Any] = {
        # A comma-separated string: the template prints it verbatim (values.yaml @ v1.102.3).
        "defaultTags": ",".join(proxy_tags),
    }
    if proxy_class:
        proxy["defaultProxyClass"] = proxy_class
    return {
        "installCRDs": True,
        "operatorConfig": operator,
        "proxyConfig": proxy,
        # No Kubernetes API server proxy: admins reach the API through the subnet router.
        "apiServerProxyConfig": {"mode": "false"},
        "ingressClass": {"enabled": True, "name": INGRESS_CLASS},
    }


def oauth_secret_args(
    *,
    namespace: pulumi.Input[str],
    client_id: pulumi.Input[str],
    client_secret: pulumi.Input[str],
    labels: Mapping[str, str],
) -> k8s.core.v1.SecretInitArgs:
    """The operator's credentials; both values are ``Output`` secrets (never literals)."""
    return k8s.core.v1.SecretInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(name=OAUTH_SECRET, namespace=namespace, labels=dict(labels)),
        type="Opaque",
        string_data={
            "client_id": pulumi.Output.secret(client_id),
            "client_secret": pulumi.Output.secret(client_secret),
        },
    )


def proxy_class(name: str, *, node_selector: Mapping[str, str], labels: Mapping[str, str]) -> dict[str, Any]:
    """Proxies (Ingress, Connector) on the system pool (``spec.statefulSet.pod.nodeSelector``)."""
    return {
        "apiVersion": API_VERSION,
        "kind": "ProxyClass",
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": {"statefulSet": {"pod": {"nodeSelector": dict(node_selector)}}},
    }


def connector(
    name: str,
    *,
    routes: Sequence[str],
    tags: Sequence[str],
    hostname: str,
    labels: Mapping[str, str],
    proxy_class: str | None = None,
) -> dict[str, Any]:
    """A subnet router (cluster-scoped). Tags are immutable once created (CRD ``tags`` rule)."""
    spec: dict[str, Any] = {
        "subnetRouter": {"advertiseRoutes": list(routes)},
        "tags": list(tags),
        "hostname": hostname,
    }
    if proxy_class:
        spec["proxyClass"] = proxy_class
    return {
        "apiVersion": API_VERSION,
        "kind": "Connector",
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": spec,
    }


def tailnet_ingress_args(
    *,
    name: str,
    namespace: str,
    host: str,
    service: str,
    port: int,
    tags: Sequence[str],
    labels: Mapping[str, str],
) -> k8s.networking.v1.IngressInitArgs:
    """``https://<host>.<tailnet>`` for a ClusterIP Service: the first label of ``tls[0].hosts[0]``
    is the proxy's MagicDNS name; the proxy forwards plain HTTP to ``service:port``."""
    return k8s.networking.v1.IngressInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=name, namespace=namespace, labels=dict(labels), annotations={TAGS_ANNOTATION: ",".join(tags)}
        ),
        spec=k8s.networking.v1.IngressSpecArgs(
            ingress_class_name=INGRESS_CLASS,
            default_backend=k8s.networking.v1.IngressBackendArgs(
                service=k8s.networking.v1.IngressServiceBackendArgs(
                    name=service, port=k8s.networking.v1.ServiceBackendPortArgs(number=port)
                )
            ),
            tls=[k8s.networking.v1.IngressTLSArgs(hosts=[host])],
        ),
    )


def ingress_proxy_peer(
    *, operator_namespace: str, namespace: str, ingress: str
) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    """The one proxy pod serving ``namespace/ingress`` (it opens its own connection to the
    Service, so the source is that pod): both selectors in one peer, so they must both match."""
    return k8s.networking.v1.NetworkPolicyPeerArgs(
        namespace_selector=k8s.meta.v1.LabelSelectorArgs(
            match_labels={"kubernetes.io/metadata.name": operator_namespace}
        ),
        pod_selector=k8s.meta.v1.LabelSelectorArgs(
            match_labels={PARENT_TYPE_LABEL: "ingress", PARENT_NS_LABEL: namespace, PARENT_NAME_LABEL: ingress}
        ),
    )
