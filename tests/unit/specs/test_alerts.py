"""Alerting and recording rules: shape, metric names, and promtool's verdict.

promtool checks the rules' syntax and runs the unit tests in ``tests/data/promtool/`` (synthetic
series; every alert fires in one case and stays quiet in another). Without promtool those tests
skip visibly, except under CI (``CI`` set), where they fail: CI can never pass silently.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.core.engines import ENGINES, VLLM_TTFT_BUCKETS
from components.core.gpu_instances import GPU_INSTANCES
from components.core.naming import k8s_name
from components.specs import alerts, gpu_alerts, metrics
from components.specs.alerts import alert_rule_groups
from components.specs.metrics import RECORDING_RULE, RECORDING_RULES, SCRAPED_METRICS, metrics_in
from components.specs.recording_rules import recording_rule_groups
from tests.conftest import ROOT

PROMTOOL_DATA = ROOT / "tests" / "data" / "promtool"
# The arguments the promtool unit tests were written for (their headers say the same).
ALERT_ARGS: dict[str, Any] = {
    "engines": ("vllm",),
    "ttft_p95_seconds": 2.5,
    "gpu_idle_hours": 2,
    "env": "prod",
    "batch_pending_minutes": 60,
}
PRICES = {"g5.xlarge": 1.006, "g6.xlarge": 0.805, "g6e.12xlarge": 10.493, "p4d.24xlarge": 21.958}
SPOT_FACTOR = 0.6
PROMTOOL_TESTS = {"alerts.test.yaml": "alerts", "recording.test.yaml": "recording"}


def promtool_path() -> str:
    """promtool's path; a visible skip without it, a failure when ``CI`` is set."""
    path = shutil.which("promtool")
    if path:
        return path
    message = "promtool not installed: run .ci/install-promtool.sh (Debian/Ubuntu) or put Prometheus's promtool on PATH"
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{message}; CI is set, so the promtool tests may not be skipped")
    pytest.skip(message)


def run_promtool(*args: str) -> None:
    result = subprocess.run([promtool_path(), *args], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}\n{result.stderr}"


def rules_of(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rule for group in groups for rule in group["rules"]]


def alert_rules(**overrides: Any) -> list[dict[str, Any]]:
    return [r for r in rules_of(alert_rule_groups(**{**ALERT_ARGS, **overrides})) if "alert" in r]


def write_rules(directory: Path, groups: list[dict[str, Any]]) -> Path:
    path = directory / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False, width=1000))
    return path


ALERTS = alert_rules()
ALERT_NAMES = [r["alert"] for r in ALERTS]
RECORDING = recording_rule_groups(prices=PRICES, spot_factor=SPOT_FACTOR)

# -- shape ------------------------------------------------------------------------------------


def test_alert_names_are_unique() -> None:
    assert len(ALERT_NAMES) == len(set(ALERT_NAMES))


def test_group_names_are_unique() -> None:
    names = [g["name"] for g in [*alert_rule_groups(**ALERT_ARGS), *RECORDING]]
    assert len(names) == len(set(names))


def test_the_requested_alerts_exist() -> None:
    assert set(ALERT_NAMES) >= {
        "GpuXidErrorFatal",
        "GpuTemperatureHigh",
        "GpuPowerHigh",
        "GpuMemoryNearFull",
        "GpuIdle",
        "VllmRequestsWaiting",
        "VllmKvCacheHigh",
        "VllmTimeToFirstTokenSlo",
        "ModelRunnerNotReady",
        "PodCrashLooping",
        "NodeNotReady",
        "PersistentVolumeAlmostFull",
        "ClusterAutoscalerScaleUpFailed",
        "KueueWorkloadsPending",
    }


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_alert_has_severity_summary_runbook_and_for(env: str) -> None:
    for rule in alert_rules(env=env):
        name = rule["alert"]
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        assert rule["labels"]["env"] == env, name
        assert rule["annotations"]["summary"].strip(), name
        # kube-prometheus-stack's annotation names: description and runbook_url, never "runbook".
        assert set(rule["annotations"]) == {"summary", "description"}, name
        description = rule["annotations"]["description"]
        assert description.strip() and "://" not in description, f"{name}: description must be URL-free text"
        assert re.fullmatch(r"\d+[mh]", rule["for"]), f"{name}: for {rule['for']!r}"


def test_serving_alerts_page_only_at_the_slo_severity_critical() -> None:
    def severity(slo: str) -> dict[str, str]:
        return {r["alert"]: r["labels"]["severity"] for r in alert_rules(slo_severity=slo)}

    prod, dev = severity("critical"), severity("warning")
    assert prod["VllmTimeToFirstTokenSlo"] == prod["ModelRunnerNotReady"] == "critical"
    assert dev["VllmTimeToFirstTokenSlo"] == dev["ModelRunnerNotReady"] == "warning"
    # Hardware is broken in any environment.
    assert prod["GpuXidErrorFatal"] == dev["GpuXidErrorFatal"] == "critical"


@pytest.mark.parametrize(("hours", "duration"), [(2, "2h"), (1.5, "90m"), (0.25, "15m"), (24, "24h")])
def test_gpu_idle_hours_become_a_prometheus_duration(hours: float, duration: str) -> None:
    idle = next(r for r in alert_rules(gpu_idle_hours=hours) if r["alert"] == "GpuIdle")
    assert idle["for"] == duration
    assert f"idle for {duration}" in idle["annotations"]["summary"]


def test_ttft_slo_is_the_threshold() -> None:
    rule = next(r for r in alert_rules(ttft_p95_seconds=1.0) if r["alert"] == "VllmTimeToFirstTokenSlo")
    assert rule["expr"].endswith("> 1")
    assert "by (namespace, model_name, le)" in rule["expr"]
    assert "(SLO 1s)" in rule["annotations"]["summary"]


def test_ttft_slo_sits_on_a_vllm_bucket_boundary() -> None:
    """Between two boundaries histogram_quantile interpolates: the default must be a boundary."""
    assert ALERT_ARGS["ttft_p95_seconds"] in VLLM_TTFT_BUCKETS
    with pytest.raises(ValueError, match="bucket boundary"):
        alert_rules(ttft_p95_seconds=2.0)


def test_runbook_url_per_alert_when_a_base_is_given() -> None:
    rules = alert_rules(runbook_base_url="https://runbooks.example.com/ai-infra")
    for rule in rules:
        assert "runbook" not in rule["annotations"]
        url = rule["annotations"]["runbook_url"]
        assert url == f"https://runbooks.example.com/ai-infra#{rule['alert'].lower()}"


@pytest.mark.parametrize(
    "overrides",
    [
        {"ttft_p95_seconds": 0},
        {"ttft_p95_seconds": 2.0},
        {"gpu_idle_hours": 0},
        {"gpu_idle_hours": -1},
        {"gpu_idle_hours": 0.001},
        {"env": ""},
        {"batch_pending_minutes": 0},
    ],
)
def test_bad_alert_arguments_are_rejected(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        alert_rule_groups(**{**ALERT_ARGS, **overrides})


@pytest.mark.parametrize("kwargs", [{"spot_factor": 0}, {"spot_factor": 1.5}, {"prices": {"g6.xlarge": -1.0}}])
def test_bad_recording_arguments_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        recording_rule_groups(**{"prices": PRICES, "spot_factor": SPOT_FACTOR, **kwargs})


def test_power_ratings_cover_every_gpu_in_the_catalogue() -> None:
    assert {i.gpu_model for i in GPU_INSTANCES.values()} <= set(gpu_alerts.GPU_BOARD_POWER_WATTS)
    regexes = [regex for regex, _ in gpu_alerts.GPU_BOARD_POWER_WATTS.values()]
    assert len(regexes) == len(set(regexes)), "two models with one regex would double a GPU's series"


@pytest.mark.parametrize(
    ("model_name", "rated"),
    [
        ("Tesla T4", "T4"),
        ("NVIDIA A10G", "A10G"),
        ("NVIDIA L4", "L4"),
        ("NVIDIA-L4", "L4"),
        ("NVIDIA L40S", "L40S"),
        ("NVIDIA A100-SXM4-40GB", "A100"),
        ("NVIDIA A100-SXM4-80GB", "A100-80GB"),
        ("NVIDIA H100 80GB HBM3", "H100"),
        ("NVIDIA H200", "H200"),
    ],
)
def test_each_dcgm_model_name_matches_exactly_one_power_rating(model_name: str, rated: str) -> None:
    # PromQL regexes are fully anchored, like re.fullmatch.
    matches = [m for m, (regex, _) in gpu_alerts.GPU_BOARD_POWER_WATTS.items() if re.fullmatch(regex, model_name)]
    assert matches == [rated]


def test_model_runner_regex_selects_fleet_workloads_only() -> None:
    regex = alerts.model_runner_name_regex()
    for engine in ENGINES:
        assert re.fullmatch(regex, k8s_name(engine, "qwen-instruct"))
    for other in ("grafana", "keda-operator", "vllm", "my-vllm-proxy"):
        assert not re.fullmatch(regex, other)


# -- metric names -----------------------------------------------------------------------------


def test_every_rule_reads_only_scraped_metrics() -> None:
    groups = [*alert_rule_groups(**ALERT_ARGS), *RECORDING]
    for rule in rules_of(groups):
        unknown = metrics_in(rule["expr"]) - set(SCRAPED_METRICS)
        assert not unknown, f"{rule.get('alert') or rule.get('record')}: {sorted(unknown)} not in SCRAPED_METRICS"
        assert metrics_in(rule["expr"]), f"{rule.get('alert') or rule.get('record')} reads no metric?"


def test_recording_rules_are_the_catalogued_ones() -> None:
    recorded = [r["record"] for r in rules_of(RECORDING)]
    assert recorded == list(RECORDING_RULES)
    assert {m for m, source in SCRAPED_METRICS.items() if source == RECORDING_RULE} == set(RECORDING_RULES)


def test_rules_read_recordings_only_after_they_are_recorded() -> None:
    # Rules of a group run in order; reading a later rule would see the previous evaluation's value.
    seen: set[str] = set()
    for rule in rules_of(RECORDING):
        assert metrics_in(rule["expr"]) & set(RECORDING_RULES) <= seen, rule["record"]
        seen.add(rule["record"])


def test_without_prices_the_cost_rule_is_left_out() -> None:
    recorded = [r["record"] for r in rules_of(recording_rule_groups(prices={}, spot_factor=SPOT_FACTOR))]
    assert metrics.POOL_USD_PER_HOUR not in recorded
    assert metrics.POOL_GPUS in recorded


def test_catalogue_uses_current_upstream_names() -> None:
    # vLLM 0.11 renamed the KV cache gauge; its counters are exposed with _total.
    assert "vllm:kv_cache_usage_perc" in SCRAPED_METRICS
    assert "vllm:gpu_cache_usage_perc" not in SCRAPED_METRICS
    for counter in ("prompt_tokens", "generation_tokens", "num_preemptions", "request_success"):
        assert f"vllm:{counter}_total" in SCRAPED_METRICS
        assert f"vllm:{counter}" not in SCRAPED_METRICS
    assert "vllm:time_to_first_token_seconds_bucket" in SCRAPED_METRICS
    for name in ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_XID_ERRORS"):
        assert name in SCRAPED_METRICS
    # Not in the dcgm-exporter chart's default counter list.
    assert "DCGM_FI_DEV_POWER_MGMT_LIMIT" not in SCRAPED_METRICS


def test_every_catalogue_entry_names_its_exporter() -> None:
    for name, exporter in SCRAPED_METRICS.items():
        assert re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", name), name
        assert exporter.strip(), name


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("up", {"up"}),
        ('sum by (namespace, le) (rate(vllm:x_bucket{model_name="a"}[5m]))', {"vllm:x_bucket"}),
        ("histogram_quantile(0.95, sum(rate(a_bucket[5m])) by (le))", {"a_bucket"}),
        ('a / on(node) group_left(pool) b{pool=~"$pool"}', {"a", "b"}),
        ("a * on (node) group_right c", {"a", "c"}),
        ('label_replace(a, "node", "$1", "Hostname", "(.+)")', {"a"}),
        ("a offset 15m unless b offset 1h", {"a", "b"}),
        ("a > bool 0.95 and b < 1e3 or c == 0x1F", {"a", "b", "c"}),
        ("sum_over_time(a[$__range]) / 60 * $__range_s", {"a"}),
        ("rate(a[$__rate_interval]) > ${threshold}", {"a"}),
        ("max_over_time(a[1h:5m])", {"a"}),
        ("sum without (instance) (a)", {"a"}),
        ('count_values("xid", a)', {"a"}),
        ("avg(a) BY (pool)", {"a"}),
        ("topk(5, node:pool_info:max)", {"node:pool_info:max"}),
        ("a{b=`c d`} + Inf - NaN", {"a"}),
        ("vector(1)", set()),
        ('{__name__="a"}', set()),
    ],
)
def test_metrics_in(expr: str, expected: set[str]) -> None:
    assert metrics_in(expr) == expected


# -- promtool ---------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_promtool_accepts_the_alert_rules(tmp_path: Path, env: str) -> None:
    run_promtool("check", "rules", str(write_rules(tmp_path, alert_rule_groups(**{**ALERT_ARGS, "env": env}))))


def test_promtool_accepts_the_recording_rules(tmp_path: Path) -> None:
    run_promtool("check", "rules", str(write_rules(tmp_path, RECORDING)))


@pytest.mark.parametrize("test_file", sorted(PROMTOOL_TESTS))
def test_promtool_unit_tests(tmp_path: Path, test_file: str) -> None:
    """The rules under test are written next to a copy of the test file (``rule_files: [rules.yaml]``)."""
    groups = alert_rule_groups(**ALERT_ARGS) if PROMTOOL_TESTS[test_file] == "alerts" else RECORDING
    write_rules(tmp_path, groups)
    shutil.copy(PROMTOOL_DATA / test_file, tmp_path / test_file)
    run_promtool("test", "rules", str(tmp_path / test_file))


def load_promtool_tests(name: str) -> list[dict[str, Any]]:
    doc = yaml.safe_load((PROMTOOL_DATA / name).read_text())
    assert doc["rule_files"] == ["rules.yaml"]
    return list(doc["tests"])


def test_promtool_tests_make_every_alert_fire_and_stay_quiet() -> None:
    cases = [case for test in load_promtool_tests("alerts.test.yaml") for case in test.get("alert_rule_test", [])]
    for name in ALERT_NAMES:
        outcomes = [bool(case.get("exp_alerts")) for case in cases if case["alertname"] == name]
        assert True in outcomes, f"{name}: no promtool case where it fires"
        assert False in outcomes, f"{name}: no promtool case where it stays quiet"
    assert {case["alertname"] for case in cases} <= set(ALERT_NAMES), "a promtool case names an unknown alert"


def test_promtool_tests_check_every_recording_rule() -> None:
    tested = {
        case["expr"] for test in load_promtool_tests("recording.test.yaml") for case in test.get("promql_expr_test", [])
    }
    assert set(RECORDING_RULES) <= tested


def test_the_batch_alert_exists_only_with_kueue() -> None:
    assert "KueueWorkloadsPending" not in [r["alert"] for r in alert_rules(batch_pending_minutes=None)]
    rule = next(r for r in alert_rules(batch_pending_minutes=90) if r["alert"] == "KueueWorkloadsPending")
    assert rule["for"] == "90m" and 'replica_role="leader"' in rule["expr"]
