"""Pre-installed operators (``addons.<chart>.install: false``): no chart, our objects still made.

Users of existing clusters often run kube-prometheus-stack, KEDA or Kueue already, and the real-
engine e2e stack (tests/e2e/Pulumi.e2e.yaml) relies on it because charts cannot be fetched here.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.core.charts import ADDON_CHARTS
from components.core.settings import SettingsError
from planner.summary import preinstalled_lines
from tests.conftest import run_stack, settings_for, stack_file_config, stack_run

RELEASE = "kubernetes:helm.sh/v3:Release"


def _releases(config: dict[str, Any]) -> set[str]:
    run = run_stack("local", config)
    return {str(r.inputs["name"]) for r in run.registrations if r.type == RELEASE}


def test_a_preinstalled_chart_is_not_installed_but_its_users_remain() -> None:
    config = stack_file_config("local")
    installed = _releases(config)
    assert {"kueue", "nvidia-device-plugin"} <= installed
    config["ai-infra:addons"] = {"kueue": {"install": False}}
    run = run_stack("local", config)
    names = {str(r.inputs["name"]) for r in run.registrations if r.type == RELEASE}
    assert names == installed - {"kueue"}
    # The queues Kueue serves are still created (against the CRDs the cluster already has).
    assert [r for r in run.registrations if r.type == "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue"]


def test_every_chart_can_be_preinstalled_and_then_none_is_installed() -> None:
    config = stack_file_config("local")
    config["ai-infra:addons"] = {name: {"install": False} for name in ADDON_CHARTS}
    assert _releases(config) == set()


def test_the_e2e_stack_installs_no_chart() -> None:
    """The real engine cannot download charts: the e2e stack must preinstall every one it uses."""
    run = stack_run("e2e")
    assert not [r for r in run.registrations if r.type == RELEASE]


def test_an_unknown_addon_is_an_error_naming_the_key() -> None:
    with pytest.raises(SettingsError) as info:
        settings_for("dev", addons={"tailscale-operator": {"install": False}, "keda": {"instal": False}})
    text = str(info.value)
    assert "addons.tailscale-operator" in text and "addons.keda.instal" in text


def test_the_plan_says_which_operators_it_expects() -> None:
    settings = settings_for("dev", addons={"keda": {"install": False}, "kueue": {"install": False}})
    lines = preinstalled_lines(settings)
    assert lines[0].startswith("Expected on the cluster already")
    assert [line.split()[0] for line in lines[1:]] == ["keda", "kueue"]
    assert "0.19.2" in lines[2]
    assert preinstalled_lines(settings_for("dev")) == []
