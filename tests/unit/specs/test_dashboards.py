"""Grafana dashboards: valid canonical JSON, unique ids, the datasource variable everywhere, and
every query reading only scraped metrics or our recording rules (and parsing, per promtool)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.specs.addons import SYSTEM_NAMESPACES
from components.specs.alerts import model_runner_name_regex
from components.specs.dashboards import (
    DASHBOARD_DIR,
    DASHBOARD_LABEL,
    DCGM_EXPORTER_NAMESPACE,
    canonical,
    dashboards,
)
from components.specs.metrics import RECORDING_RULE, SCRAPED_METRICS, metrics_in
from components.specs.recording_rules import SAMPLES_PER_HOUR, recording_rule_groups
from tests.unit.specs.test_alerts import PRICES, SPOT_FACTOR, run_promtool

DASHBOARDS = {stem: json.loads(text) for stem, text in dashboards().items()}
RECORDED = {
    rule["record"] for group in recording_rule_groups(prices=PRICES, spot_factor=SPOT_FACTOR) for rule in group["rules"]
}
CATALOGUED_RECORDINGS = {name for name, source in SCRAPED_METRICS.items() if source == RECORDING_RULE}
DATASOURCE = "${datasource}"
# What Grafana substitutes before the query reaches Prometheus (for promtool's parser).
GRAFANA_SUBSTITUTIONS = {
    "$__rate_interval": "5m",
    "$__range_s": "21600",
    "$__range": "6h",
}


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])  # collapsed rows nest their panels


def targets(board: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for panel in panels(board):
        for target in panel.get("targets", []):
            yield panel["title"], target


def variables(board: dict[str, Any]) -> list[dict[str, Any]]:
    return list(board["templating"]["list"])


def variable_query(variable: dict[str, Any]) -> str:
    query = variable["query"]
    return str(query["query"] if isinstance(query, dict) else query)


def variable_exprs(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """The PromQL inside ``label_values(<expr>, <label>)`` of each query variable."""
    for variable in variables(board):
        if variable["type"] == "query":
            match = re.fullmatch(r"label_values\((.+),\s*\w+\)", variable_query(variable))
            assert match, f"{variable['name']}: only label_values(<expr>, <label>) queries are expected"
            yield variable["name"], match.group(1)


def all_exprs(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for title, target in targets(board):
        yield title, target["expr"]
    yield from variable_exprs(board)


def test_the_three_dashboards() -> None:
    assert list(dashboards()) == ["cost", "gpu-fleet", "model-serving"]


def test_dashboard_label_is_the_sidecar_default() -> None:
    assert DASHBOARD_LABEL == ("grafana_dashboard", "1")


@pytest.mark.parametrize("path", sorted(DASHBOARD_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_files_are_canonical_json(path: Path) -> None:
    text = path.read_text()
    assert text == canonical(text), f"{path.name}: store it as json.dumps(indent=2, sort_keys=True) + newline"
    assert dashboards()[path.stem] == text


@pytest.mark.parametrize("stem", sorted(DASHBOARDS))
def test_dashboard_shape(stem: str) -> None:
    board = DASHBOARDS[stem]
    assert board["schemaVersion"] == 39
    assert board["title"].startswith("ai-infra / ")
    assert re.fullmatch(r"[a-z0-9-]{1,40}", board["uid"]), "Grafana uids are at most 40 characters"
    assert board["id"] is None, "an id is per Grafana instance; provisioned dashboards have none"
    assert list(panels(board))


def test_dashboard_uids_are_unique() -> None:
    uids = [board["uid"] for board in DASHBOARDS.values()]
    assert len(uids) == len(set(uids))


@pytest.mark.parametrize("stem", sorted(DASHBOARDS))
def test_panel_ids_are_unique_and_panels_do_not_overlap(stem: str) -> None:
    board = DASHBOARDS[stem]
    ids = [panel["id"] for panel in panels(board)]
    assert len(ids) == len(set(ids))
    boxes = []
    for panel in panels(board):
        grid = panel["gridPos"]
        assert all(isinstance(grid[k], int) for k in ("h", "w", "x", "y")), panel["title"]
        assert grid["x"] + grid["w"] <= 24, f"{panel['title']}: wider than the 24-column grid"
        boxes.append((panel["title"], grid))
    for i, (title_a, a) in enumerate(boxes):
        for title_b, b in boxes[i + 1 :]:
            overlap = (
                a["x"] < b["x"] + b["w"]
                and b["x"] < a["x"] + a["w"]
                and a["y"] < b["y"] + b["h"]
                and b["y"] < a["y"] + a["h"]
            )
            assert not overlap, f"{title_a!r} overlaps {title_b!r}"


@pytest.mark.parametrize("stem", sorted(DASHBOARDS))
def test_everything_queries_the_datasource_variable(stem: str) -> None:
    board = DASHBOARDS[stem]
    datasource = [v for v in variables(board) if v["name"] == "datasource"]
    assert len(datasource) == 1
    assert datasource[0]["type"] == "datasource" and datasource[0]["query"] == "prometheus"
    for panel in panels(board):
        assert panel["datasource"] == {"type": "prometheus", "uid": DATASOURCE}, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == {"type": "prometheus", "uid": DATASOURCE}, panel["title"]
            assert target["expr"].strip(), panel["title"]
    for variable in variables(board):
        if variable["type"] == "query":
            assert variable["datasource"] == {"type": "prometheus", "uid": DATASOURCE}, variable["name"]


@pytest.mark.parametrize("stem", sorted(DASHBOARDS))
def test_queries_use_only_defined_variables(stem: str) -> None:
    board = DASHBOARDS[stem]
    defined = {v["name"] for v in variables(board)}
    for where, expr in all_exprs(board):
        used = set(re.findall(r"\$\{?(\w+)", expr)) - {"__rate_interval", "__range", "__range_s", "__interval"}
        assert used <= defined, f"{where}: {sorted(used - defined)} undefined"


@pytest.mark.parametrize("stem", sorted(DASHBOARDS))
def test_queries_read_scraped_metrics_or_recording_rules(stem: str) -> None:
    for where, expr in all_exprs(DASHBOARDS[stem]):
        read = metrics_in(expr)
        assert read, f"{where}: no metric in {expr!r}"
        unknown = read - set(SCRAPED_METRICS) - RECORDED
        assert not unknown, f"{where}: {sorted(unknown)} is neither scraped nor recorded"
        # A recording rule the catalogue names must really be recorded by recording_rule_groups.
        assert read & CATALOGUED_RECORDINGS <= RECORDED, where


def test_hour_sums_match_the_recording_interval() -> None:
    """``sum_over_time`` of a recorded series counts one sample per minute: / 60 makes hours."""
    for board in DASHBOARDS.values():
        for where, expr in all_exprs(board):
            if "sum_over_time(" in expr:
                assert f"/ {SAMPLES_PER_HOUR}" in expr, where


def test_model_serving_selects_the_same_runners_as_the_alert() -> None:
    exprs = [expr for _, expr in all_exprs(DASHBOARDS["model-serving"]) if "kube_" in expr]
    assert exprs and all(model_runner_name_regex() in expr for expr in exprs)


def test_promtool_parses_every_dashboard_query(tmp_path: Path) -> None:
    rules = []
    for stem, board in DASHBOARDS.items():
        for i, (_, expr) in enumerate(all_exprs(board)):
            for variable, value in GRAFANA_SUBSTITUTIONS.items():
                expr = expr.replace(variable, value)
            expr = re.sub(r"\$\{?\w+\}?", ".*", expr)  # multi-value variables are regex alternatives
            rules.append({"record": f"dashboard:{stem.replace('-', '_')}:q{i}", "expr": expr})
    path = tmp_path / "dashboards.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}, width=1000))
    run_promtool("check", "rules", str(path))


def test_per_pod_gpu_panels_exclude_the_exporters_own_namespace() -> None:
    """Unallocated GPUs carry the exporter pod's target labels: they are not a workload's."""
    assert DCGM_EXPORTER_NAMESPACE in SYSTEM_NAMESPACES
    board = json.loads(dashboards()["gpu-fleet"])
    per_pod = [(t, e) for t, e in all_exprs(board) if "DCGM_FI_" in e and re.search(r"by \([^)]*\bpod\b", e)]
    assert per_pod
    for title, expr in per_pod:
        assert f'namespace!="{DCGM_EXPORTER_NAMESPACE}"' in expr, title
