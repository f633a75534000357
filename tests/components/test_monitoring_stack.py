"""``MonitoringStack`` under the mock engine: charts, secrets kept secret, rules, dashboards, exporters."""

from __future__ import annotations

import json

import pulumi
import yaml

from components.monitoring_stack import MonitoringStack, MonitoringStackArgs
from components.specs import monitoring as spec
from planner.mocks import SECRET_SIG
from planner.render import redact
from tests.conftest import build_under_mocks, stack_run

LABELS = {"app.kubernetes.io/name": "monitoring"}


def _build(**overrides: object):
    def build() -> MonitoringStack:
        args = {
            "namespace": "monitoring",
            "labels": LABELS,
            "retention": "15d",
            "storage_size": "50Gi",
            "cluster_id": "ai-infra-prod",
            "managed_control_plane": True,
            "node_selector": {"ai-infra.io/pool": "system"},
            "rule_groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up == 0", "for": "5m"}]}],
            "dashboards": {"gpu-fleet": '{"title": "GPU"}'},
            "dcgm_namespace": "gpu-system",
            **overrides,
        }
        return MonitoringStack("monitoring", MonitoringStackArgs(**args))

    return build_under_mocks(build)


def _release(m, chart: str) -> dict:
    return next(r.inputs for r in m.by_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == chart)


def test_prometheus_selects_every_monitor_keeps_data_and_skips_the_eks_control_plane() -> None:
    values = _release(_build(), "kube-prometheus-stack")["values"]
    spec_ = values["prometheus"]["prometheusSpec"]
    for kind in ("serviceMonitor", "podMonitor", "rule", "probe", "scrapeConfig"):
        assert spec_[f"{kind}SelectorNilUsesHelmValues"] is False
    assert spec_["retention"] == "15d"
    assert spec_["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == "50Gi"
    assert values["prometheus"]["service"]["type"] == "ClusterIP"
    assert all(values[c]["enabled"] is False for c in spec.EKS_HIDDEN)
    allowlist = values["kube-state-metrics"]["metricLabelsAllowlist"][0]
    assert allowlist.startswith("nodes=[") and "ai-infra.io/pool" in allowlist


def test_grafana_admin_and_alertmanager_config_are_secrets_never_helm_literals() -> None:
    password = pulumi.Output.secret("grafana-pw")
    webhook = pulumi.Output.secret("https://hooks.example.com/T0/B0/secret")
    m = _build(grafana_admin_password=password, alert_receivers={"oncall": (webhook, ["critical"], "webhook")})
    values = _release(m, "kube-prometheus-stack")["values"]
    assert values["grafana"]["admin"]["existingSecret"] == spec.GRAFANA_ADMIN_SECRET
    assert values["alertmanager"]["alertmanagerSpec"] == {
        "useExistingSecret": True,
        "configSecret": spec.ALERTMANAGER_CONFIG_SECRET,
        "nodeSelector": {"ai-infra.io/pool": "system"},
    }
    text = json.dumps(redact([r.inputs for r in m.registrations]))
    assert "grafana-pw" not in text and "hooks.example.com" not in text
    secrets = {r.inputs["metadata"]["name"]: r.inputs for r in m.by_type("kubernetes:core/v1:Secret")}
    assert SECRET_SIG in secrets[spec.GRAFANA_ADMIN_SECRET]["stringData"]
    config = secrets[spec.ALERTMANAGER_CONFIG_SECRET]["stringData"]
    assert SECRET_SIG in config  # the whole map is secret
    rendered = yaml.safe_load(config["value"]["alertmanager.yaml"])
    route = rendered["route"]["routes"][0]
    assert route["receiver"] == "oncall" and route["matchers"] == ['severity=~"critical"']


def test_without_a_password_grafana_generates_one_in_cluster() -> None:
    values = _release(_build(), "kube-prometheus-stack")["values"]
    assert "admin" not in values["grafana"] and not _build().by_type("kubernetes:core/v1:Secret")


def test_rules_dashboards_and_exporters_wait_for_the_operator() -> None:
    m = _build()
    release_urn = next(
        r.urn for r in m.by_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "kube-prometheus-stack"
    )
    rule = m.by_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")[0]
    assert release_urn in rule.dependencies and rule.inputs["spec"]["groups"][0]["name"] == "g"
    dashboard = m.by_type("kubernetes:core/v1:ConfigMap")[0].inputs
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1" and "gpu-fleet.json" in dashboard["data"]
    dcgm = next(r for r in m.by_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "dcgm-exporter")
    assert release_urn in dcgm.dependencies and dcgm.inputs["namespace"] == "gpu-system"
    assert dcgm.inputs["values"]["serviceMonitor"]["honorLabels"] is True
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in dcgm.inputs["values"][
        "tolerations"
    ]
    opencost = _release(m, "opencost")["values"]["opencost"]
    assert opencost["prometheus"]["internal"]["serviceName"] == f"{spec.FULLNAME}-prometheus"


def test_prod_plans_monitoring_and_keda_reads_its_prometheus() -> None:
    run = stack_run("prod")
    charts = {r.inputs["chart"] for r in run.registrations if r.type == "kubernetes:helm.sh/v3:Release"}
    assert {"kube-prometheus-stack", "dcgm-exporter", "opencost"} <= charts
    scaled = next(r for r in run.registrations if r.type == "kubernetes:keda.sh/v1alpha1:ScaledObject")
    address = scaled.inputs["spec"]["triggers"][0]["metadata"]["serverAddress"]
    assert address == spec.prometheus_url("monitoring") == "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
    assert run.outputs["prometheusUrl"] == address
    monitors = {r.inputs["metadata"]["name"] for r in run.registrations if r.type.endswith(":ServiceMonitor")}
    assert "vllm-coder-32b" in monitors


def test_the_dev_stack_file_runs_the_monitoring_stack() -> None:
    run = stack_run("dev")
    charts = {r.inputs["name"] for r in run.registrations if r.type.endswith(":Release")}
    assert "kube-prometheus-stack" in charts and "prometheusUrl" in run.outputs


def test_a_stack_without_monitoring_autoscales_nothing_on_prometheus() -> None:
    run = stack_run("local")  # the dev preset: monitoring off
    assert not [r for r in run.registrations if r.type.endswith(":ServiceMonitor") or r.type.endswith(":ScaledObject")]
    assert "prometheusUrl" not in run.outputs
