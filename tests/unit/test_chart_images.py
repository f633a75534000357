"""Chart images by digest: the table matches each pinned chart's defaults, prod requires a digest
for every image of every chart it installs, and the release values run them by digest."""

from __future__ import annotations

from typing import Any

import pytest

from components.core.chart_images import CHART_IMAGES, PLACEHOLDER_DIGEST, digest_values
from components.core.charts import CLUSTER_AUTOSCALER_LINES, KUEUE, TAILSCALE_OPERATOR
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
    # kubernetes-sigs/kueue hack/helm-chart-package.sh @ v0.19.2: registry.k8s.io/kueue + the git tag.
    "kueue-0.19.2": {"manager": ("registry.k8s.io/kueue/kueue", "v0.19.2")},
    # tailscale/tailscale cmd/k8s-operator/deploy/chart/values.yaml @ v1.102.3: tag "" = appVersion.
    "tailscale-operator-1.102.3": {
        "operator": ("tailscale/k8s-operator", "v1.102.3"),
        "proxy": ("tailscale/tailscale", "v1.102.3"),
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
    for chart in (KUEUE, TAILSCALE_OPERATOR):
        defaults = UPSTREAM_DEFAULTS[f"{chart.name}-{chart.version}"]
        assert {i.name: (i.repository, i.default_tag) for i in CHART_IMAGES[chart.name]} == defaults
        keys = verified_keys(chart)
        for image in CHART_IMAGES[chart.name]:
            leaf = "digest" if image.style == "digest" else "tag"
            assert ".".join((*image.path, leaf)) in keys, f"{chart.name}: {image.name}'s {leaf} key"


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
    dev = {r.inputs["name"]: r.inputs["values"] for r in stack_run("dev").registrations if r.type.endswith(":Release")}
    assert "@" not in dev["cluster-autoscaler"]["image"]["tag"]
