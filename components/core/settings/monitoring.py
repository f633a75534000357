"""The monitoring section: the stack's own Prometheus/Alertmanager/Grafana or an external
Prometheus, alert receivers and the SLOs alerts fire on.

Facts that follow from this section alone (is Prometheus external, which port KEDA queries it on,
which namespace scrapes fleets' /metrics) are properties here; rules that span sections (the
monitoring namespace, receivers and Grafana's password only with the stack's own monitoring) are
``rules/monitoring.py``'s.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from components.core.settings.base import K8sName, Problem, Quantity, Settings, check

MONITORING_NAMESPACE = "monitoring"
"""The monitoring stack's namespace (its Pod Security exception is listed by this name)."""
GRAFANA_ADMIN_KEY = "grafanaAdminPassword"
"""Grafana's admin password (a ``--secret`` config key; optional)."""


Severity = Literal["critical", "warning"]
SEVERITIES: tuple[Severity, ...] = ("critical", "warning")


ReceiverType = Literal["slack", "pagerduty", "webhook"]


class AlertReceiverSettings(Settings):
    """One Alertmanager receiver, rendered with its own integration: ``slack`` (an incoming-webhook
    URL: ``slack_configs.api_url``), ``pagerduty`` (an Events API v2 routing key:
    ``pagerduty_configs.routing_key``) or ``webhook`` (Alertmanager's own JSON POSTed to a URL:
    ``webhook_configs.url``). A Slack or PagerDuty URL behind ``webhook`` would reach nobody: they
    do not read Alertmanager's payload."""

    type: ReceiverType = "webhook"
    webhook_url_secret: str | None = Field(None, min_length=1)
    """Name of a ``--secret`` config key holding the URL (``slack``, ``webhook``; URLs carry tokens)."""
    routing_key_secret: str | None = Field(None, min_length=1)
    """Name of a ``--secret`` config key holding the PagerDuty integration (routing) key."""
    severities: list[Severity] = Field(default_factory=lambda: list(SEVERITIES))

    @property
    def secret_key(self) -> str:
        """The config key of the one secret this receiver's type reads."""
        key = self.routing_key_secret if self.type == "pagerduty" else self.webhook_url_secret
        assert key is not None  # the validator below guarantees it
        return key

    @model_validator(mode="after")
    def _secret_for_the_type(self) -> AlertReceiverSettings:
        wanted, other = (
            ("routingKeySecret", "webhookUrlSecret")
            if self.type == "pagerduty"
            else ("webhookUrlSecret", "routingKeySecret")
        )
        present = {"webhookUrlSecret": self.webhook_url_secret, "routingKeySecret": self.routing_key_secret}
        problems: list[Problem] = []
        if present[wanted] is None:
            problems.append((wanted, f"is required for type {self.type} (allowed types: slack, pagerduty, webhook)"))
        if present[other] is not None:
            problems.append((other, f"is not read by type {self.type}: set {wanted} instead"))
        check(problems)
        return self


class MonitoringSettings(Settings):
    enabled: bool = False
    """Run the monitoring stack (Prometheus Operator, Prometheus, Alertmanager, Grafana, GPU and
    cost exporters, our alerts and dashboards) in ``namespace``."""
    prometheus_url: str | None = None
    """An existing Prometheus outside this stack that KEDA reads queue depth from (instead of,
    or without, the monitoring stack)."""
    namespace: K8sName = MONITORING_NAMESPACE
    """Where Prometheus runs (admitted to fleets' /metrics): always ``monitoring`` for the stack's
    own; the namespace of an external Prometheus otherwise."""
    retention: str = Field("15d", pattern=r"^[0-9]+(ms|s|m|h|d|w|y)$")
    """How long Prometheus keeps samples (its ``--storage.tsdb.retention.time``)."""
    storage_size: Quantity = "50Gi"
    """Prometheus's persistent volume (on the default class: gp3 on EKS)."""
    alert_receivers: dict[K8sName, AlertReceiverSettings] = Field(default_factory=dict)
    ttft_p95_seconds: float = Field(2.5, gt=0)
    """Time-to-first-token SLO: alert when a model's p95 stays above it. Only a bucket boundary of
    each fleet's engine's TTFT histogram (``settings/engines.py``): between two boundaries
    histogram_quantile interpolates, and the interpolation, not latency, would decide pages."""
    runbook_base_url: str | None = Field(None, pattern=r"^https://[^\s#]+$")
    """Where the alerts' runbooks live (each alert's ``runbook_url`` is ``<url>#<alert name>``);
    unset: alerts carry their ``description`` only."""
    gpu_idle_hours: float = Field(2.0, gt=0)
    """Alert when a billed GPU node's GPUs stay idle this long."""
    slo_severity: Severity = "critical"
    """Severity of the serving alerts (SLO breaches, unready model runners): ``critical`` pages;
    dev's preset says ``warning`` (a dev breach is a note for the morning). Hardware alerts are
    critical everywhere."""
    dcgm: bool = True
    """GPU metrics from NVIDIA's DCGM exporter (the GPU operator's own when that stack runs)."""
    opencost: bool = True
    """OpenCost: cost allocation per namespace and pod from this Prometheus."""

    # -- derived facts -------------------------------------------------------------------------

    @property
    def queue_metrics_external(self) -> bool:
        """KEDA reads an external Prometheus (``monitoring.prometheusUrl``), not the stack's own."""
        return self.prometheus_url is not None

    @property
    def external_prometheus_port(self) -> int | None:
        """The port KEDA queries an external Prometheus on (``monitoring.prometheusUrl``), if any."""
        if self.prometheus_url is None:
            return None
        parsed = urlsplit(self.prometheus_url)
        return parsed.port or (443 if parsed.scheme == "https" else 80)

    @property
    def scrape_namespace(self) -> str | None:
        """Prometheus's namespace when monitoring is on (admitted to /metrics), else None."""
        return self.namespace if self.enabled else None
