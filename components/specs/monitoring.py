"""Pure builders for the monitoring stack: chart values, Alertmanager config, rules and dashboards.

- kube-prometheus-stack 88.5.3 (Prometheus Operator v0.93.1): Prometheus with retention and a
  persistent volume, selecting every ServiceMonitor/PodMonitor/PrometheusRule in the cluster
  (``*SelectorNilUsesHelmValues: false``, so our monitors need no ``release`` label), Alertmanager
  on a config Secret we render, Grafana on an admin Secret we render (or the chart's in-cluster
  random password), the EKS-hidden control plane (controller-manager, scheduler, etcd, kube-proxy)
  not scraped, kube-state-metrics exporting the node labels the cost rules group by;
- NVIDIA's DCGM exporter on GPU nodes (tolerating the GPU taint, ``honorLabels`` so the
  ``pod``/``namespace`` of the workload survive instead of becoming ``exported_*``);
- OpenCost reading this Prometheus.

Every key is checked against the pinned chart (tests/data/helm-values); facts and sources in
``docs/research/monitoring.md``. No secret ever enters these values: charts read Secrets by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.core.labels import POOL_LABEL
from components.specs.dashboards import DASHBOARD_LABEL
from components.specs.helm_values import RESTRICTED_CONTAINER, RESTRICTED_POD
from components.specs.node_pool import ACCELERATOR_LABEL, CAPACITY_LABEL, GPU_PRESENT_LABEL, GPU_TOLERATION

FULLNAME = "kube-prometheus-stack"
"""``fullnameOverride``: fixes the Service names (``<FULLNAME>-prometheus:9090``, at most 26 chars)."""
PROMETHEUS_PORT = 9090
GRAFANA_ADMIN_SECRET = "grafana-admin"
ALERTMANAGER_CONFIG_SECRET = "alertmanager-ai-infra"
COST_NODE_LABELS = (
    POOL_LABEL,
    CAPACITY_LABEL,
    ACCELERATOR_LABEL,
    "node.kubernetes.io/instance-type",
)
"""Node labels kube-state-metrics exports on ``kube_node_labels`` (as ``label_<sanitized>``) for
the cost recording rules; it exports none unless allow-listed."""
EKS_HIDDEN = ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy")
"""Control-plane scrapes that cannot reach anything on EKS (managed control plane; kube-proxy
binds its metrics to localhost)."""
EKS_HIDDEN_RULES = ("etcd", "kubeControllerManager", "kubeSchedulerAlerting", "kubeSchedulerRecording", "kubeProxy")


def prometheus_url(namespace: str) -> str:
    """The in-cluster Prometheus the stack runs (what KEDA and OpenCost read)."""
    return f"http://{FULLNAME}-prometheus.{namespace}.svc:{PROMETHEUS_PORT}"


def kube_prometheus_stack_values(
    *,
    retention: str,
    storage_size: str,
    node_selector: Mapping[str, str] | None,
    grafana_admin_secret: str | None,
    alertmanager_config_secret: str | None,
    managed_control_plane: bool,
) -> dict[str, Any]:
    selector = dict(node_selector or {})
    prometheus_spec: dict[str, Any] = {
        "retention": retention,
        # Select every monitor and rule in every namespace, not only ones labelled release=<ours>.
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "podMonitorSelectorNilUsesHelmValues": False,
        "ruleSelectorNilUsesHelmValues": False,
        "probeSelectorNilUsesHelmValues": False,
        "scrapeConfigSelectorNilUsesHelmValues": False,
        # The default StorageClass (gp3 on EKS, encrypted with the platform key).
        "storageSpec": {
            "volumeClaimTemplate": {
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage_size}}}
            }
        },
        "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"memory": "8Gi"}},
    }
    alertmanager_spec: dict[str, Any] = {}
    if alertmanager_config_secret:
        # Our Secret holds the whole config (receivers carry webhook tokens): never a Helm literal.
        alertmanager_spec.update(useExistingSecret=True, configSecret=alertmanager_config_secret)
    grafana: dict[str, Any] = {
        "sidecar": {"dashboards": {"enabled": True, "label": DASHBOARD_LABEL[0], "labelValue": DASHBOARD_LABEL[1]}},
    }
    if grafana_admin_secret:
        grafana["admin"] = {
            "existingSecret": grafana_admin_secret,
            "userKey": "admin-user",
            "passwordKey": "admin-password",
        }
    if selector:
        prometheus_spec["nodeSelector"] = selector
        alertmanager_spec["nodeSelector"] = selector
        grafana["nodeSelector"] = selector
    values: dict[str, Any] = {
        "fullnameOverride": FULLNAME,
        "prometheus": {"service": {"type": "ClusterIP"}, "prometheusSpec": prometheus_spec},
        "grafana": grafana,
        "kube-state-metrics": {"metricLabelsAllowlist": [f"nodes=[{','.join(COST_NODE_LABELS)}]"]},
    }
    if alertmanager_spec:
        values["alertmanager"] = {"alertmanagerSpec": alertmanager_spec}
    if selector:
        values["prometheusOperator"] = {"nodeSelector": selector}
        values["kube-state-metrics"]["nodeSelector"] = selector
    if managed_control_plane:
        values.update({component: {"enabled": False} for component in EKS_HIDDEN})
        values["defaultRules"] = {"rules": dict.fromkeys(EKS_HIDDEN_RULES, False)}
    return values


SLACK_TEXT = (
    "{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}"
    "{{ if .Annotations.runbook_url }}\nRunbook: {{ .Annotations.runbook_url }}{{ end }}\n{{ end }}"
)
"""Each alert's summary, what to do (``description``) and its ``runbook_url``: Alertmanager's
default Slack text is empty (``slack.default.text``, template/default.tmpl @ v0.34.0, the
version kube-prometheus-stack 88.5.3 runs), so without it a page says only which alert fired.
PagerDuty's default details already list every annotation (``__text_alert_list``)."""


def _receiver(name: str, secret: str, kind: str) -> dict[str, Any]:
    """One receiver with its integration's own config (prometheus/alertmanager
    docs/configuration.md): Slack and PagerDuty do not read Alertmanager's webhook JSON."""
    if kind == "slack":
        return {"name": name, "slack_configs": [{"api_url": secret, "send_resolved": True, "text": SLACK_TEXT}]}
    if kind == "pagerduty":
        return {"name": name, "pagerduty_configs": [{"routing_key": secret, "send_resolved": True}]}
    if kind == "webhook":
        return {"name": name, "webhook_configs": [{"url": secret, "send_resolved": True}]}
    raise ValueError(f"receiver {name}: unknown type {kind!r} (slack, pagerduty, webhook)")


def alertmanager_config(receivers: Mapping[str, tuple[str, list[str], str]]) -> str:
    """Alertmanager's config: alerts go to each receiver whose severities match; ``{name: (secret,
    severities, type)}`` (the secret: a URL, or PagerDuty's routing key). Called on resolved
    secret values inside an ``apply``; the result only ever becomes the data of a Secret (never
    a Helm literal or a log line)."""
    routes = [
        {"receiver": name, "matchers": [f'severity=~"{"|".join(sorted(severities))}"'], "continue": True}
        for name, (_, severities, _kind) in sorted(receivers.items())
    ]
    config = {
        "route": {
            "receiver": "null",
            "group_by": ["alertname", "namespace"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": routes,
        },
        "receivers": [
            {"name": "null"},
            *(_receiver(name, secret, kind) for name, (secret, _, kind) in sorted(receivers.items())),
        ],
    }
    return yaml.safe_dump(config, sort_keys=True)


def dcgm_exporter_values(*, runtime_class: str | None) -> dict[str, Any]:
    """The standalone exporter on GPU nodes only (its default toleration covers only control planes)."""
    values: dict[str, Any] = {
        "tolerations": [GPU_TOLERATION],
        "nodeSelector": {GPU_PRESENT_LABEL: "true"},
        "priorityClassName": "system-node-critical",
        # honorLabels keeps the workload's pod/namespace/container labels (else exported_*).
        "serviceMonitor": {"enabled": True, "honorLabels": True, "interval": "15s"},
    }
    if runtime_class:
        values["runtimeClassName"] = runtime_class
    return values


def opencost_values(*, namespace: str, cluster_id: str, node_selector: Mapping[str, str] | None) -> dict[str, Any]:
    opencost: dict[str, Any] = {
        "prometheus": {
            "internal": {
                "enabled": True,
                "serviceName": f"{FULLNAME}-prometheus",
                "namespaceName": namespace,
                "port": PROMETHEUS_PORT,
            }
        },
        # The chart's own suggested hardening (values.yaml comments at 2.5.14): non-root 1000, no caps.
        "exporter": {
            "defaultClusterId": cluster_id,
            "securityContext": {**RESTRICTED_CONTAINER, "runAsNonRoot": True, "runAsUser": 1000},
        },
        # Grafana shows cost (our cost dashboard); no second UI to expose.
        "ui": {"enabled": False},
        "metrics": {"serviceMonitor": {"enabled": True, "honorLabels": True}},
    }
    if node_selector:
        opencost["nodeSelector"] = dict(node_selector)
    return {"opencost": opencost, "podSecurityContext": {**RESTRICTED_POD, "runAsUser": 1000, "runAsGroup": 1000}}


def secret_args(
    name: str, namespace: str, labels: Mapping[str, str], data: Mapping[str, pulumi.Input[str]]
) -> k8s.core.v1.SecretInitArgs:
    """A Secret a chart reads by name; secret values must already be secret Outputs."""
    return k8s.core.v1.SecretInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=dict(labels)),
        type="Opaque",
        string_data=dict(data),
    )


def service_monitor(
    name: str, namespace: str, labels: Mapping[str, str], selector: Mapping[str, str], *, port: str, path: str
) -> dict[str, Any]:
    """A Prometheus Operator ServiceMonitor scraping ``port``/``path`` of the Services that match
    ``selector`` in their own namespace, every 15 s (fleets' engines, the gateway's pickers)."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "selector": {"matchLabels": dict(selector)},
            "namespaceSelector": {"matchNames": [namespace]},
            "endpoints": [{"port": port, "path": path, "interval": "15s", "scrapeTimeout": "10s"}],
        },
    }


def prometheus_rule(
    name: str, namespace: str, labels: Mapping[str, str], groups: list[dict[str, Any]]
) -> dict[str, Any]:
    """One PrometheusRule with every group (Prometheus selects it: ruleSelectorNilUsesHelmValues false)."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {"groups": groups},
    }


def dashboard_config_map_args(
    dashboard: str, namespace: str, labels: Mapping[str, str], text: str
) -> k8s.core.v1.ConfigMapInitArgs:
    key, value = DASHBOARD_LABEL
    return k8s.core.v1.ConfigMapInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=f"dashboard-{dashboard}", namespace=namespace, labels={**labels, key: value}
        ),
        data={f"{dashboard}.json": text},
    )
