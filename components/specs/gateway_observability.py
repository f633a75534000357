"""The gateway's own dashboard (requests and errors per client and model, tokens per model) and
the alert on an endpoint picker being down (with ``failureMode: FailClose`` a dead picker
means every request for its model fails).

Metric names: agentgateway's ``agentgateway_requests_total`` (the ``requests`` counter under
``agent_core::metrics::PREFIX`` "agentgateway", crates/agentgateway/src/telemetry/metrics.rs and
crates/core/src/metrics.rs @ v1.4.1) carries the ``client`` label our Gateway policy adds
(``frontend.metrics.attributes``); the picker's ``llm_d_epp_request_input_tokens`` /
``llm_d_epp_request_output_tokens`` histograms (llm-d-router docs/metrics.md @ v0.10.0) count
tokens per model. Per-client tokens are not available: agentgateway records token usage on its
LLM backends only, and our routes send to InferencePools and Services.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi_kubernetes as k8s

from components.core.labels import standard_labels
from components.specs.dashboards import DASHBOARD_LABEL
from components.specs.gateway_picker import PickerSpec

DASHBOARD = "ai-gateway"
ALERT = "GatewayEndpointPickerDown"


def labels(env: str, team: str, app: str) -> dict[str, str]:
    return standard_labels(env=env, team=team, app=app, component="inference-gateway")


def picker_alert_rule(
    pickers: Sequence[PickerSpec], namespace: str, rule_labels: Mapping[str, str], *, severity: str
) -> dict[str, Any]:
    """One alert per picker: no ready scrape of it for 5 minutes (the Service's ServiceMonitor
    makes ``job`` the Service name)."""
    rules = [
        {
            "alert": ALERT,
            "expr": f'absent(up{{namespace="{p.namespace}",job="{p.name}"}} == 1)',
            "for": "5m",
            "labels": {"severity": severity, "pool": p.pool, "namespace": p.namespace},
            "annotations": {
                "summary": f"The endpoint picker of {p.namespace}/{p.pool} is down",
                "description": (
                    f"No healthy scrape of {p.namespace}/{p.name} for 5 minutes: requests for model {p.fleet} "
                    "fail (the pool fails closed). Check the picker Deployment's pods and events."
                ),
            },
        }
        for p in pickers
    ]
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "ai-gateway-rules", "namespace": namespace, "labels": dict(rule_labels)},
        "spec": {"groups": [{"name": "ai-gateway", "rules": rules}]},
    }


def _panel(pid: int, title: str, expr: str, legend: str, unit: str, y: int, x: int) -> dict[str, Any]:
    return {
        "id": pid,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": "A", "expr": expr, "legendFormat": legend}],
    }


def dashboard() -> str:
    """Requests/s per client, errors per client, requests per model route, tokens/s per model."""
    panels = [
        _panel(
            1,
            "Requests per client",
            "sum by (client) (rate(agentgateway_requests_total[5m]))",
            "{{client}}",
            "reqps",
            0,
            0,
        ),
        _panel(
            2,
            "Rejected or failed per client (4xx/5xx)",
            'sum by (client, status) (rate(agentgateway_requests_total{status=~"4..|5.."}[5m]))',
            "{{client}} {{status}}",
            "reqps",
            0,
            12,
        ),
        _panel(
            3,
            "Requests per route",
            "sum by (route) (rate(agentgateway_requests_total[5m]))",
            "{{route}}",
            "reqps",
            8,
            0,
        ),
        _panel(
            4,
            "Tokens per model (in + out)",
            "sum by (model_name) (rate(llm_d_epp_request_input_tokens_sum[5m])"
            " + rate(llm_d_epp_request_output_tokens_sum[5m]))",
            "{{model_name}}",
            "short",
            8,
            12,
        ),
    ]
    board = {
        "title": "AI gateway: clients and models",
        "uid": DASHBOARD,
        "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]},
        "panels": panels,
    }
    return json.dumps(board, indent=2, sort_keys=True) + "\n"


def dashboard_config_map_args(namespace: str, cm_labels: Mapping[str, str]) -> k8s.core.v1.ConfigMapInitArgs:
    key, value = DASHBOARD_LABEL
    return k8s.core.v1.ConfigMapInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=f"dashboard-{DASHBOARD}", namespace=namespace, labels={**cm_labels, key: value}
        ),
        data={f"{DASHBOARD}.json": dashboard()},
    )
