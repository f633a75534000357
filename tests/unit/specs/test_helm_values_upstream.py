"""Every Helm value we set exists in the pinned chart version (Helm ignores unknown keys silently).

``tests/data/helm-values/<chart>-<version>.txt`` lists the keys we may set for that chart version,
each verified against the chart's ``values.yaml`` (or, where noted, the template that reads it) at
that version; the header names the source. Bumping a chart in ``policies/charts.json``
fails this test until the new version's list is written from its upstream files.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from components.core import charts
from components.core.charts import Chart
from components.specs import helm_values, kueue, monitoring, storage, tailscale
from components.specs.addons import keda, metrics_server
from tests.conftest import ROOT, settings_for

DATA = ROOT / "tests" / "data" / "helm-values"


def verified_keys(chart: Chart) -> set[str]:
    path = DATA / f"{chart.name}-{chart.version}.txt"
    assert path.exists(), f"{path.name} missing: verify the keys against {chart.name} {chart.version} upstream"
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return {line for line in lines if line}


def flatten(values: Mapping[str, Any], allowed: set[str], prefix: str = "") -> Iterator[str]:
    """Key paths of ``values``; a path listed as ``<path>.*`` is a free-form map (not descended)."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        if f"{path}.*" in allowed:
            yield f"{path}.*"
        elif isinstance(value, Mapping) and value:
            yield from flatten(value, allowed, f"{path}.")
        else:
            yield path


def _pools(**pool_overrides: Any) -> dict[str, Any]:
    return dict(settings_for("prod", nodePools=pool_overrides).node_pools) if pool_overrides else {}


PROD = dict(settings_for("prod").node_pools)
SHARED = dict(
    settings_for(
        "prod",
        nodePools={
            "serving": {"sharing": {"mode": "time-slicing", "replicas": 4}},
            "training": {"sharing": {"mode": "mig", "migStrategy": "mixed", "migProfile": "all-1g.10gb"}},
            "rocket": {"instanceTypes": ["g6e.12xlarge"], "amiType": "BOTTLEROCKET_x86_64_NVIDIA"},
        },
    ).node_pools
)

CASES: list[tuple[Chart, dict[str, Any]]] = [
    *(
        (
            chart,
            helm_values.cluster_autoscaler_values(
                cluster_name="c", region="us-west-2", role_arn="arn", image_tag=tag, gpu_pools=["serving"]
            ),
        )
        for chart, tag in charts.CLUSTER_AUTOSCALER_LINES.values()
    ),
    (charts.NVIDIA_DEVICE_PLUGIN, helm_values.device_plugin_values(PROD)),
    (charts.NVIDIA_DEVICE_PLUGIN, helm_values.device_plugin_values(SHARED, runtime_class="nvidia")),
    (charts.GPU_OPERATOR, helm_values.gpu_operator_values(PROD, accelerated_ami=True)),
    (charts.GPU_OPERATOR, helm_values.gpu_operator_values(SHARED, accelerated_ami=False)),
    (charts.LOCAL_STATIC_PROVISIONER, storage.local_provisioner_values(pools=["training"], host_dir="/mnt/nvme")),
    (charts.CSI_DRIVER_NFS, storage.nfs_driver_values(controller_replicas=2)),
    (charts.KEDA, keda.keda_values()),
    (charts.METRICS_SERVER, metrics_server.metrics_server_values()),
    (
        charts.METRICS_SERVER,
        metrics_server.metrics_server_values(node_selector={"a": "b"}, replicas=2, service_monitor=True),
    ),
    (charts.KEDA, keda.keda_values(service_monitor=True, watch_namespaces=["models", "research"])),
    *(
        (
            chart,
            helm_values.cluster_autoscaler_values(
                cluster_name="c", region="r", role_arn="a", image_tag=tag, service_monitor=True
            ),
        )
        for chart, tag in charts.CLUSTER_AUTOSCALER_LINES.values()
    ),
    (charts.GPU_OPERATOR, helm_values.gpu_operator_values(PROD, accelerated_ami=True, dcgm_service_monitor=True)),
    (
        charts.KUBE_PROMETHEUS_STACK,
        monitoring.kube_prometheus_stack_values(
            retention="15d",
            storage_size="50Gi",
            node_selector={"ai-infra.io/pool": "system"},
            grafana_admin_secret="g",
            alertmanager_config_secret="a",
            managed_control_plane=True,
        ),
    ),
    (charts.DCGM_EXPORTER, monitoring.dcgm_exporter_values(runtime_class="nvidia")),
    (charts.OPENCOST, monitoring.opencost_values(namespace="m", cluster_id="c", node_selector={"a": "b"})),
    (charts.KUEUE, kueue.kueue_values(namespaces=["training"], pods_ready_timeout="20m")),
    (
        charts.KUEUE,
        kueue.kueue_values(
            namespaces=["a", "b"],
            pods_ready_timeout="5m",
            service_monitor=True,
            prometheus_namespace="monitoring",
            node_selector={"ai-infra.io/pool": "system"},
            replicas=2,
        ),
    ),
    (charts.TAILSCALE_OPERATOR, tailscale.operator_values(hostname="op")),
    (
        charts.TAILSCALE_OPERATOR,
        tailscale.operator_values(hostname="op", node_selector={"ai-infra.io/pool": "system"}, proxy_class="sys"),
    ),
]


def _chart_id(chart: Chart) -> str:
    return f"{chart.name}-{chart.version}"


@pytest.mark.parametrize("chart", sorted(set(charts.ALL_CHARTS), key=_chart_id), ids=_chart_id)
def test_every_pinned_chart_version_has_a_verified_key_list(chart: Chart) -> None:
    # agentgateway-crds has an empty values.yaml: its file records that, and we pass no values.
    assert verified_keys(chart) or chart == charts.AGENTGATEWAY_CRDS


@pytest.mark.parametrize(
    ("chart", "values"), CASES, ids=[f"{c.name}-{c.version}-{i}" for i, (c, _) in enumerate(CASES)]
)
def test_values_we_set_exist_in_the_pinned_chart(chart: Chart, values: dict[str, Any]) -> None:
    allowed = verified_keys(chart)
    unknown = sorted(set(flatten(values, allowed)) - allowed)
    assert unknown == [], f"{chart.name} {chart.version} has no such values: {unknown}"


def test_flatten_stops_at_free_form_maps() -> None:
    values = {"nodeSelector": {"a/b": "x"}, "image": {"tag": "v1"}, "tolerations": [{"key": "k"}], "empty": {}}
    assert set(flatten(values, {"nodeSelector.*"})) == {"nodeSelector.*", "image.tag", "tolerations", "empty"}
