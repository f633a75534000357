"""Monitoring settings (``settings/monitoring.py``) and the monitoring and engine-SLO rules across sections
(``settings/rules/monitoring.py``, ``rules/engines.py``)."""

from __future__ import annotations

from components.core.settings import deep_merge, parse_settings
from tests.conftest import DEV_CIDRS, PROD_ADMINS, settings_for
from tests.unit.settings_problems import stack_problems as _problems


def test_a_stack_without_monitoring_is_told_what_it_lacks() -> None:
    warnings = dict(settings_for("dev").warnings)
    assert "nothing autoscales on queue depth" in warnings["monitoring.enabled"]
    assert "monitoring.enabled" not in dict(settings_for("prod").warnings)


def test_queue_depth_autoscaling_needs_a_prometheus() -> None:
    raw = {
        "environment": "dev",
        **DEV_CIDRS,
        "namespaces": {"models": {"quota": {"gpus": 3}}},
        "models": {"qwen-instruct": {"replicas": {"min": 1, "max": 2}}},
    }
    assert "monitoring.enabled" in _problems(raw)["ai-infra:models.qwen-instruct.replicas.max"]
    external = deep_merge(raw, {"monitoring": {"prometheusUrl": "http://prometheus.obs.svc:9090"}})
    assert parse_settings(external, stack="dev").queue_metrics_external


def test_monitoring_receivers_need_secret_webhooks_and_the_stack() -> None:
    raw = {
        "environment": "prod",
        **PROD_ADMINS,
        "monitoring": {"alertReceivers": {"oncall": {"webhookUrlSecret": "oncallWebhook"}}},
    }
    assert "not set" in _problems(raw, stack="prod")["ai-infra:oncallWebhook"]
    assert "--secret" in _problems({**raw, "oncallWebhook": "https://x"}, stack="prod")["ai-infra:oncallWebhook"]
    ok = parse_settings({**raw, "oncallWebhook": "[secret]"}, stack="prod", secret_keys=frozenset({"oncallWebhook"}))
    assert ok.monitoring.alert_receivers["oncall"].severities == ["critical", "warning"]
    off = deep_merge(raw, {"monitoring": {"enabled": False}, "models": {"coder-32b": {"replicas": {"max": 2}}}})
    problems = _problems({**off, "oncallWebhook": "[secret]"}, stack="prod", secret_keys=frozenset({"oncallWebhook"}))
    assert "monitoring.enabled" in problems["ai-infra:monitoring.alertReceivers"]


def test_ttft_slo_must_be_a_vllm_bucket_boundary() -> None:
    """Between two boundaries, interpolation (not latency) decides pages: boundaries only, named.
    With monitoring on, the boundaries of the fleets' engines (dev's alerting fleet is vLLM)."""
    on = {"monitoring": {"enabled": True, "ttftP95Seconds": 2}}
    problems = _problems(deep_merge({"environment": "dev", **DEV_CIDRS}, on))
    message = problems["ai-infra:monitoring.ttftP95Seconds"]
    assert "bucket boundary" in message and "2.5" in message and "1, 2.5" in message
    assert settings_for("dev", monitoring={"ttftP95Seconds": 2.5})
