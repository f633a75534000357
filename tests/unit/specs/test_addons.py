"""The system add-ons list (issue 24 item 2): one record per system namespace, and everything
that names a system namespace, its Pod Security level or its allows iterates it."""

from __future__ import annotations

import ast

import pytest

from components.core.charts import ADDON_CHARTS, ALL_CHARTS, Chart
from components.specs.addons import (
    ADDONS,
    HELM_ADDONS,
    SYSTEM_NAMESPACES,
    AddOn,
    ValuesInputs,
    digest_problems,
    discovered,
    lockfile_position,
    system_namespaces,
)
from components.specs.addons.keda import ADDON as KEDA
from components.specs.addons.metrics_server import ADDON as METRICS_SERVER
from tests.conftest import ROOT, settings_for


def test_one_record_per_namespace_and_every_chart_belongs_to_one() -> None:
    namespaces = [a.namespace for a in ADDONS]
    assert len(namespaces) == len(set(namespaces))
    owned = {c for a in ADDONS for c in a.charts}
    assert owned == set(ALL_CHARTS)


def test_plain_addons_are_found_and_the_order_follows_the_lockfile() -> None:
    # Each module exporting ADDON is found (no list to edit), by module name.
    assert discovered() == [KEDA, METRICS_SERVER]
    # The order the list had when it was written out (the plan snapshots depend on HELM_ADDONS').
    assert [a.namespace for a in ADDONS] == [
        "gpu-system",
        "storage-system",
        "autoscaler",
        "keda",
        "kueue-system",
        "metrics-server",
        "monitoring",
        "tailscale",
        "gateway",
    ]
    assert [a.namespace for a in HELM_ADDONS] == ["keda", "metrics-server"]


def test_a_record_must_name_its_chart_from_the_lockfile() -> None:
    stray = AddOn(
        namespace="stray", pod_security="restricted", charts=(Chart("x", "https://x", "1.0.0"),), enabled=bool
    )
    with pytest.raises(LookupError, match=r"its charts must be policies/charts\.json's pins"):
        lockfile_position(stray)


def test_prod_digests_of_the_plain_addons_the_settings_know_are_the_settings_rule() -> None:
    # KEDA and metrics-server have their conditions in the settings (chart_installs): nothing left here.
    prod = settings_for("prod")
    assert prod.needs_keda and digest_problems(prod) == []
    assert digest_problems(settings_for("dev")) == []


def test_the_addons_setting_lists_exactly_the_preinstallable_charts() -> None:
    preinstallable = {c.name for a in ADDONS if a.preinstallable for c in a.charts}
    assert preinstallable == set(ADDON_CHARTS)
    assert not next(a for a in ADDONS if a.namespace == "tailscale").preinstallable


def test_plain_helm_addons_keep_their_type_tokens_and_names() -> None:
    # URNs of their releases name these: they never change.
    assert {(a.type_token, a.helm.name) for a in HELM_ADDONS if a.helm} == {
        ("ai-infra:k8s:Keda", "keda"),
        ("ai-infra:k8s:MetricsServer", "metrics-server"),
    }
    assert all(len(a.charts) == 1 for a in HELM_ADDONS)


def test_an_addon_installed_by_its_own_component_has_no_type_token() -> None:
    own = next(a for a in ADDONS if a.helm is None)
    with pytest.raises(ValueError, match="its own component"):
        _ = own.type_token


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ("dev", ["autoscaler", "gpu-system", "kueue-system"]),
        ("prod", ["autoscaler", "gpu-system", "keda", "kueue-system", "monitoring", "storage-system"]),
    ],
)
def test_system_namespaces_follow_the_records(env: str, expected: list[str]) -> None:
    assert system_namespaces(settings_for(env)) == expected
    assert set(expected) <= set(SYSTEM_NAMESPACES)


def test_the_values_builders_read_the_settings() -> None:
    prod, dev = settings_for("prod"), settings_for("dev")
    on_prod = ValuesInputs(settings=prod, service_monitor=True, system_node_selector={"pool": "system"})
    assert METRICS_SERVER.helm is not None and KEDA.helm is not None
    values = METRICS_SERVER.helm.values(on_prod)
    assert values["replicas"] == 2 and values["nodeSelector"] == {"pool": "system"} and values["serviceMonitor"]
    on_dev = ValuesInputs(settings=dev, service_monitor=False, system_node_selector=None)
    assert METRICS_SERVER.helm.values(on_dev) == {"replicas": 1}
    assert prod.keda_namespaces and KEDA.helm.values(on_prod)["watchNamespace"] == ",".join(prod.keda_namespaces)


def test_no_system_namespace_name_is_written_outside_its_record() -> None:
    """The program's namespaces come from the records: no layer or component keys a dict of them."""
    for path in [*(ROOT / "stack").glob("*.py"), ROOT / "components" / "namespaces.py"]:
        tree = ast.parse(path.read_text())
        dicts = [n for n in ast.walk(tree) if isinstance(n, ast.Dict)]
        keys = {k.value for d in dicts for k in d.keys if isinstance(k, ast.Constant)}
        assert not keys & set(SYSTEM_NAMESPACES), path.name
