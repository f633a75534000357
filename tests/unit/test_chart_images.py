"""Chart images by digest: the table matches each pinned chart's defaults, prod requires a digest
for every image of every chart it installs, and the release values run them by digest."""

from __future__ import annotations

from typing import Any

import pytest

from components.core import charts
from components.core.chart_images import CHART_IMAGES, CHART_PINNED, PLACEHOLDER_DIGEST, digest_values
from components.core.charts import CLUSTER_AUTOSCALER_LINES
from components.core.settings import SettingsError
from tests.conftest import TEST_DIGEST, mesh_settings, settings_for, stack_run
from tests.unit.specs.test_helm_values_upstream import verified_keys

UPSTREAM_DEFAULTS: dict[str, dict[str, tuple[str, str]]] = {
    # image -> (repository, tag) as the chart's values.yaml / packaging sets them by default.
    # kubernetes/autoscaler charts/cluster-autoscaler/values.yaml `image` @ cluster-autoscaler-chart-9.46.6
    # (13dba175), 9.51.0 (9befb31f), 9.53.0 (a2db9eb7), 9.59.0 (5a0b98e4).
    "cluster-autoscaler-9.46.6": {"cluster-autoscaler": ("registry.k8s.io/autoscaling/cluster-autoscaler", "v1.32.0")},
    "cluster-autoscaler-9.51.0": {"cluster-autoscaler": ("registry.k8s.io/autoscaling/cluster-autoscaler", "v1.33.0")},
    "cluster-autoscaler-9.53.0": {"cluster-autoscaler": ("registry.k8s.io/autoscaling/cluster-autoscaler", "v1.34.2")},
    "cluster-autoscaler-9.59.0": {"cluster-autoscaler": ("registry.k8s.io/autoscaling/cluster-autoscaler", "v1.35.0")},
    # agentgateway/agentgateway controller/install/helm/agentgateway/values.yaml `image.registry`
    # cr.agentgateway.dev, `controller.image.repository` controller, tag "" = the v-prefixed
    # appVersion injected by controller/Makefile release-charts @ v1.4.1.
    "agentgateway-v1.4.1": {"controller": ("cr.agentgateway.dev/controller", "v1.4.1")},
    # kubernetes-sigs/kueue hack/helm-chart-package.sh @ v0.19.2: registry.k8s.io/kueue + the git tag.
    "kueue-0.19.2": {"manager": ("registry.k8s.io/kueue/kueue", "v0.19.2")},
    # tailscale/tailscale cmd/k8s-operator/deploy/chart/values.yaml @ v1.102.3: tag "" = appVersion.
    "tailscale-operator-1.102.3": {
        "operator": ("tailscale/k8s-operator", "v1.102.3"),
        "proxy": ("tailscale/tailscale", "v1.102.3"),
    },
    # prometheus-community/helm-charts charts/kube-prometheus-stack/values.yaml @ kube-prometheus-stack-88.5.3
    # (tag "" = Chart.yaml appVersion v0.93.1); grafana-community/helm-charts charts/grafana/values.yaml @
    # grafana-12.11.1 (tag "" = appVersion 13.2.0); charts/kube-state-metrics @ kube-state-metrics-8.4.0
    # (v + appVersion 2.20.0); charts/prometheus-node-exporter @ prometheus-node-exporter-4.56.1
    # (v + appVersion 1.12.1, -distroless: kube-prometheus-stack's `image.distroless: true`).
    "kube-prometheus-stack-88.5.3": {
        "prometheus-operator": ("quay.io/prometheus-operator/prometheus-operator", "v0.93.1"),
        "config-reloader": ("quay.io/prometheus-operator/prometheus-config-reloader", "v0.93.1"),
        "webhook-certgen": ("ghcr.io/jkroepke/kube-webhook-certgen", "1.8.7"),
        "prometheus": ("quay.io/prometheus/prometheus", "v3.14.0-distroless"),
        "alertmanager": ("quay.io/prometheus/alertmanager", "v0.34.0"),
        "grafana": ("docker.io/grafana/grafana", "13.2.0"),
        "grafana-sidecar": ("quay.io/kiwigrid/k8s-sidecar", "2.10.1"),
        "kube-state-metrics": ("registry.k8s.io/kube-state-metrics/kube-state-metrics", "v2.20.0"),
        "node-exporter": ("quay.io/prometheus/node-exporter", "v1.12.1-distroless"),
    },
    # NVIDIA/k8s-device-plugin deployments/helm/nvidia-device-plugin/values.yaml @ v0.17.2 (tag "" = v + appVersion).
    "nvidia-device-plugin-0.17.2": {"device-plugin": ("nvcr.io/nvidia/k8s-device-plugin", "v0.17.2")},
    # NVIDIA/dcgm-exporter deployment/values.yaml @ 4.5.3-4.8.2.
    "dcgm-exporter-4.8.2": {"dcgm-exporter": ("nvcr.io/nvidia/k8s/dcgm-exporter", "4.5.3-4.8.2-distroless")},
    # kedacore/charts keda/values.yaml @ v2.17.2 (registry ghcr.io; tag "" = appVersion 2.17.2).
    "keda-2.17.2": {
        "operator": ("ghcr.io/kedacore/keda", "2.17.2"),
        "metrics-apiserver": ("ghcr.io/kedacore/keda-metrics-apiserver", "2.17.2"),
        "webhooks": ("ghcr.io/kedacore/keda-admission-webhooks", "2.17.2"),
    },
    # kubernetes-sigs/sig-storage-local-static-provisioner helm/provisioner/values.yaml `image` @
    # local-static-provisioner-2.9.0 (`:v{{ .Chart.AppVersion }}`, appVersion 2.9.0).
    "local-static-provisioner-2.9.0": {
        "provisioner": ("registry.k8s.io/sig-storage/local-volume-provisioner", "v2.9.0")
    },
    # kubernetes-csi/csi-driver-nfs charts/v4.13.4/csi-driver-nfs/values.yaml `image.*` @ v4.13.4
    # (baseRepo registry.k8s.io + the sidecars' `/sig-storage/...` repositories).
    "csi-driver-nfs-4.13.4": {
        "nfs": ("registry.k8s.io/sig-storage/nfsplugin", "v4.13.4"),
        "csi-provisioner": ("registry.k8s.io/sig-storage/csi-provisioner", "v6.3.0"),
        "csi-resizer": ("registry.k8s.io/sig-storage/csi-resizer", "v2.2.0"),
        "csi-snapshotter": ("registry.k8s.io/sig-storage/csi-snapshotter", "v8.6.0"),
        "livenessprobe": ("registry.k8s.io/sig-storage/livenessprobe", "v2.19.0"),
        "node-driver-registrar": ("registry.k8s.io/sig-storage/csi-node-driver-registrar", "v2.17.0"),
    },
    # NVIDIA/gpu-operator deployments/gpu-operator/values.yaml @ v25.3.2 (repository/image, version);
    # operator and validator: versions.mk `VERSION ?= v25.3.2` (the Makefile's IMAGE_TAG); NFD: the
    # vendored charts/node-feature-discovery appVersion v0.17.3.
    "gpu-operator-v25.3.2": {
        "operator": ("nvcr.io/nvidia/gpu-operator", "v25.3.2"),
        "validator": ("nvcr.io/nvidia/cloud-native/gpu-operator-validator", "v25.3.2"),
        "init": ("nvcr.io/nvidia/cuda", "12.8.1-base-ubi9"),
        "device-plugin": ("nvcr.io/nvidia/k8s-device-plugin", "v0.17.3"),
        "gfd": ("nvcr.io/nvidia/k8s-device-plugin", "v0.17.3"),
        "nfd": ("registry.k8s.io/nfd/node-feature-discovery", "v0.17.3"),
        "dcgm-exporter": ("nvcr.io/nvidia/k8s/dcgm-exporter", "4.2.3-4.1.3-ubuntu22.04"),
        "mig-manager": ("nvcr.io/nvidia/cloud-native/k8s-mig-manager", "v0.12.2-ubuntu20.04"),
        "driver": ("nvcr.io/nvidia/driver", "570.148.08"),
        "driver-manager": ("nvcr.io/nvidia/cloud-native/k8s-driver-manager", "v0.8.0"),
        "toolkit": ("nvcr.io/nvidia/k8s/container-toolkit", "v1.17.8-ubuntu20.04"),
    },
    # kubernetes-sigs/metrics-server charts/metrics-server/values.yaml @ metrics-server-helm-chart-3.13.1
    # (tag "" = v + appVersion 0.8.1).
    "metrics-server-3.13.1": {"metrics-server": ("registry.k8s.io/metrics-server/metrics-server", "v0.8.1")},
}

CHART_PINNED_UPSTREAM = {
    # opencost/opencost-helm-chart charts/opencost/values.yaml `opencost.exporter.image` @ opencost-2.5.14.
    "opencost-2.5.14": {
        "exporter": "ghcr.io/opencost/opencost:1.120.0"
        "@sha256:c4fbe5f8fad2bc54872350460e705bf9ab43c90efa784a0cdf3a2a39a66b3b82"
    },
}


def _patch(tag: str) -> tuple[int, ...]:
    return tuple(int(p) for p in tag.removeprefix("v").split("."))


def test_the_table_matches_each_pinned_charts_defaults() -> None:
    for chart, tag in CLUSTER_AUTOSCALER_LINES.values():
        ((repository, default_tag),) = UPSTREAM_DEFAULTS[f"{chart.name}-{chart.version}"].values()
        (image,) = CHART_IMAGES[chart.name]
        assert image.repository == repository
        # We run the newest patch of the chart's minor: never another minor, never older.
        assert _patch(tag)[:2] == _patch(default_tag)[:2] and _patch(tag) >= _patch(default_tag)
    others = [c for c in charts.ALL_CHARTS if c.name in CHART_IMAGES and c.name != "cluster-autoscaler"]
    assert {c.name for c in others} | {"cluster-autoscaler"} == set(CHART_IMAGES)
    for chart in others:
        defaults = UPSTREAM_DEFAULTS[f"{chart.name}-{chart.version}"]
        assert {i.name: (i.repository, i.default_tag) for i in CHART_IMAGES[chart.name]} == defaults
        keys = verified_keys(chart)
        for image in CHART_IMAGES[chart.name]:
            leaf = ".".join(image.leaf)
            assert leaf in keys, f"{chart.name}: {image.name}'s {leaf} key"
    for chart in charts.ALL_CHARTS:
        if chart.name in CHART_PINNED:
            assert CHART_PINNED[chart.name] == CHART_PINNED_UPSTREAM[f"{chart.name}-{chart.version}"]


def test_every_installed_chart_is_pinned_or_a_known_exception() -> None:
    # gateway-crds-helm and agentgateway-crds hold CRDs only (no Deployment, no image).
    covered = set(CHART_IMAGES) | set(CHART_PINNED) | {"gateway-crds-helm", "agentgateway-crds"}
    assert {c.name for c in charts.ALL_CHARTS} <= covered


def test_digests_go_where_each_chart_reads_them() -> None:
    tagged = digest_values("cluster-autoscaler", {"cluster-autoscaler": TEST_DIGEST}, {"image": {"tag": "v1.34.5"}})
    assert tagged == {"image": {"tag": f"v1.34.5@{TEST_DIGEST}"}}
    assert digest_values("kueue", {"manager": TEST_DIGEST}, {}) == {
        "controllerManager": {"manager": {"image": {"tag": f"v0.19.2@{TEST_DIGEST}"}}}
    }
    assert digest_values("tailscale-operator", {"proxy": TEST_DIGEST}, {}) == {
        "proxyConfig": {"image": {"digest": TEST_DIGEST}}
    }
    assert digest_values("keda", {"x": TEST_DIGEST}, {}) == {}
    hex_only = TEST_DIGEST.removeprefix("sha256:")
    assert digest_values("kube-prometheus-stack", {"grafana": TEST_DIGEST, "kube-state-metrics": TEST_DIGEST}, {}) == {
        "grafana": {"image": {"sha": hex_only}},
        "kube-state-metrics": {"image": {"sha": TEST_DIGEST}},
    }
    assert digest_values("local-static-provisioner", {"provisioner": TEST_DIGEST}, {}) == {
        "image": f"registry.k8s.io/sig-storage/local-volume-provisioner:v2.9.0@{TEST_DIGEST}"
    }
    assert digest_values("keda", {"operator": TEST_DIGEST}, {}) == {"image": {"keda": {"tag": f"2.17.2@{TEST_DIGEST}"}}}
    # gpu-operator: `version` keys, the release tag kept in front; the NFD sub-chart's `image.tag`.
    pinned = digest_values(
        "gpu-operator",
        {"operator": TEST_DIGEST, "driver": TEST_DIGEST, "nfd": TEST_DIGEST},
        {"operator": {"version": "v25.3.2"}},
    )
    assert pinned == {
        "operator": {"version": f"v25.3.2@{TEST_DIGEST}"},
        "driver": {"version": f"570.148.08@{TEST_DIGEST}"},
        "node-feature-discovery": {"image": {"tag": f"v0.17.3@{TEST_DIGEST}"}},
    }


def test_gpu_operator_pins_its_own_tag_and_prod_requires_only_the_operands_that_run() -> None:
    from components.specs.helm_values import gpu_operator_values

    values = gpu_operator_values({}, accelerated_ami=True)
    assert values["operator"]["version"] == values["validator"]["version"] == charts.GPU_OPERATOR.version
    unset = {"imageDigests": {image.name: None for image in CHART_IMAGES["gpu-operator"]}}
    text = _problems("prod", gpu={"stack": "gpu-operator"}, addons={"gpu-operator": unset})
    for name in ("operator", "validator", "init", "device-plugin", "gfd", "nfd", "dcgm-exporter"):
        assert f"ai-infra:addons.gpu-operator.imageDigests.{name}: is required in prod" in text
    # EKS's accelerated AMIs ship the driver and toolkit (turned off), and no pool uses MIG.
    for name in ("driver", "driver-manager", "toolkit", "mig-manager"):
        assert f"imageDigests.{name}:" not in text


def _problems(env: str, **overrides: Any) -> str:
    with pytest.raises(SettingsError) as err:
        settings_for(env, **overrides)
    return str(err.value)


def test_prod_requires_a_digest_for_every_chart_image_it_installs() -> None:
    text = _problems("prod", addons={"kueue": {"imageDigests": {"manager": None}}})
    assert "ai-infra:addons.kueue.imageDigests.manager: is required in prod: the sha256 digest of " in text
    assert "registry.k8s.io/kueue/kueue" in text
    with pytest.raises(SettingsError) as err:
        mesh_settings("prod", tailscale={"operator": {"imageDigests": {"proxy": None}}})
    assert "ai-infra:tailscale.operator.imageDigests.proxy: is required in prod" in str(err.value)
    # A chart the cluster already runs needs none; dev needs none.
    settings_for("prod", addons={"kueue": {"install": False, "imageDigests": {"manager": None}}})
    assert settings_for("dev").chart_digests("kueue") == {}


def test_bad_digests_and_unknown_images_are_refused() -> None:
    text = _problems("dev", addons={"kueue": {"imageDigests": {"manager": "latest", "viz": TEST_DIGEST}}})
    assert "ai-infra:addons.kueue.imageDigests.manager: must be a digest: sha256: and 64 hex digits" in text
    assert "ai-infra:addons.kueue.imageDigests.viz: is not an image of chart kueue: one of ['manager']" in text


def test_placeholder_digests_are_warned_about() -> None:
    s = settings_for("prod", addons={"kueue": {"imageDigests": {"manager": PLACEHOLDER_DIGEST}}})
    assert "all-zero placeholder" in dict(s.warnings)["addons.kueue.imageDigests.manager"]


def test_prod_releases_run_chart_images_by_digest() -> None:
    releases = {
        r.inputs["name"]: r.inputs["values"] for r in stack_run("prod").registrations if r.type.endswith(":Release")
    }
    assert "@sha256:" in releases["cluster-autoscaler"]["image"]["tag"]
    assert "@sha256:" in releases["kueue"]["controllerManager"]["manager"]["image"]["tag"]
    for block in ("operatorConfig", "proxyConfig"):
        assert releases["tailscale-operator"][block]["image"]["digest"].startswith("sha256:")
    kps = releases["kube-prometheus-stack"]
    assert len(kps["prometheus"]["prometheusSpec"]["image"]["sha"]) == 64
    assert kps["prometheus-node-exporter"]["image"]["digest"].startswith("sha256:")
    assert "@sha256:" in releases["nvidia-device-plugin"]["image"]["tag"]
    assert "@sha256:" in releases["keda"]["image"]["metricsApiServer"]["tag"]
    dev = {r.inputs["name"]: r.inputs["values"] for r in stack_run("dev").registrations if r.type.endswith(":Release")}
    assert "@" not in dev["cluster-autoscaler"]["image"]["tag"]
