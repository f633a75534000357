"""``HelmAddOn``: one generic component for every plain Helm add-on, registered under its
record's type token and name, so the URNs of KEDA's and metrics-server's releases never move."""

from __future__ import annotations

from typing import Any

from components.core.charts import KEDA as KEDA_CHART
from components.helm_addon import HelmAddOn, HelmAddOnArgs
from components.specs.addons import AddOn, keda, metrics_server
from planner.mocks import RecordingMonitor
from tests.conftest import build_under_mocks

RELEASE = "kubernetes:helm.sh/v3:Release"


def _build(addon: AddOn = keda.ADDON, **kwargs: Any) -> RecordingMonitor:
    helm = addon.helm
    assert helm is not None
    return build_under_mocks(
        lambda: HelmAddOn(
            helm.name,
            HelmAddOnArgs(addon=addon, namespace=addon.namespace, values={"a": 1}, **kwargs),
        )
    )


def test_it_registers_the_records_token_and_a_release_named_after_it() -> None:
    m = _build()
    (component,) = m.by_type("ai-infra:k8s:Keda")
    (release,) = m.by_type(RELEASE)
    assert component.name == "keda" and release.name == "keda-release" and release.parent == component.urn
    assert release.urn.endswith("ai-infra:k8s:Keda$kubernetes:helm.sh/v3:Release::keda-release")
    assert release.inputs["chart"] == KEDA_CHART.name and release.inputs["version"] == KEDA_CHART.version
    assert release.inputs["namespace"] == "keda" and release.inputs["atomic"] is True


def test_metrics_server_keeps_its_own_token() -> None:
    m = _build(metrics_server.ADDON)
    assert [r.name for r in m.by_type("ai-infra:k8s:MetricsServer")] == ["metrics-server"]


def test_a_preinstalled_chart_gets_no_release() -> None:
    m = _build(preinstalled=frozenset({KEDA_CHART.name}))
    assert m.by_type("ai-infra:k8s:Keda") and not m.by_type(RELEASE)
