"""SGLang, the engine added as data (issue 24 item 3): settings -> manifests -> capacity/fit ->
alerts -> dashboard, from one ``engine: sglang`` spec. Flags and names: docs/research/sglang.md
(SGLang 0.5.23's own parser and sources)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from components.core.engines import ENGINES, SGLANG, SGLANG_TTFT_BUCKETS, VLLM
from components.core.settings import ReplicaSettings, SettingsError
from components.core.settings.engines import served_engines, slo_buckets
from components.specs import model_runner as spec
from components.specs import model_serving as serving
from components.specs import weight_staging as staging
from components.specs.alerts import alert_rule_groups
from components.specs.dashboards import dashboards
from tests.conftest import settings_for

SG = {"engine": "sglang"}
"""Dev's vLLM fleet ``qwen-instruct`` switched to SGLang (same model, pool, revision, options)."""


def _fleet(env: str = "dev", api_key: bool = False, monitoring_on: bool = False, **overrides: Any) -> spec.FleetSpec:
    extra: dict[str, Any] = {"monitoring": {"enabled": True, "ttftP95Seconds": 1}} if monitoring_on else {}
    s = settings_for(env, models={"qwen-instruct": {**SG, **overrides}}, **extra)
    return spec.fleet_spec(
        "qwen-instruct",
        s.models["qwen-instruct"],
        image=s.model_images.for_engine("sglang"),
        env=env,
        team="ml",
        api_key=api_key,
        hf_token=False,
        monitoring_namespace="monitoring",
    )


def _problems(**overrides: Any) -> dict[str, str]:
    with pytest.raises(SettingsError) as caught:
        settings_for("dev", models={"qwen-instruct": {**SG, **overrides}})
    return dict(caught.value.problems)


# -- settings ---------------------------------------------------------------------------------


def test_the_engine_name_and_image_settings_derive_from_the_registry() -> None:
    s = settings_for("dev", models={"qwen-instruct": SG})
    assert s.models["qwen-instruct"].engine_record is SGLANG
    assert s.model_images.for_engine("sglang") == "docker.io/lmsysorg/sglang:v0.5.23"
    assert set(type(s.model_images).model_fields) == set(ENGINES)
    assert served_engines(s) == ("ollama", "sglang")


def test_vllm_only_extra_args_are_rejected_with_the_spec_key_to_use() -> None:
    with pytest.raises(SettingsError) as caught:
        settings_for(
            "dev",
            models={"qwen-instruct": {**SG, "extraArgs": ["--max-model-len=8192", "--enable-prefix-caching"]}},
        )
    messages = [m for path, m in caught.value.problems if path == "ai-infra:models.qwen-instruct.extraArgs"]
    assert len(messages) == 2
    assert any(
        "--max-model-len is not an SGLang flag" in m and "use maxModelLen (becomes --context-length)" in m
        for m in messages
    )
    assert any("--enable-prefix-caching" in m and "use prefixCaching" in m for m in messages)
    # SGLang's own flags pass.
    assert settings_for("dev", models={"qwen-instruct": {**SG, "extraArgs": ["--watchdog-timeout", "600"]}})


def test_the_ttft_slo_must_be_a_boundary_of_the_fleets_engines() -> None:
    # 2.5 (the default) is a vLLM boundary but not an SGLang one.
    with pytest.raises(SettingsError) as caught:
        settings_for("dev", models={"qwen-instruct": SG}, monitoring={"enabled": True})
    message = dict(caught.value.problems)["ai-infra:monitoring.ttftP95Seconds"]
    assert "of sglang" in message and "0.1, 0.2, 0.4" in message
    both = settings_for(
        "dev",
        models={"qwen-small": {**SG, "model": "Qwen/Qwen2.5-0.5B-Instruct"}},
        monitoring={"enabled": True, "ttftP95Seconds": 1},
    )
    assert set(slo_buckets(both)) == set(SGLANG_TTFT_BUCKETS) & set(VLLM.metrics.ttft_buckets)
    assert settings_for("dev", models={"qwen-instruct": SG}, monitoring={"enabled": True, "ttftP95Seconds": 2})


# -- manifests --------------------------------------------------------------------------------


def test_server_args_map_the_spec_to_sglang_flags() -> None:
    f = _fleet(prefixCaching=False, chunkedPrefill=False, quantization="fp8")
    c = spec.server_container(f)
    assert c.command == ["python3", "-m", "sglang.launch_server"]
    args = c.args
    assert isinstance(args, list)
    pairs = dict(zip(args[::2], args[1::2], strict=False))
    assert args[:2] == ["--model-path", "Qwen/Qwen2.5-0.5B-Instruct"]
    assert args[args.index("--host") + 1] == "0.0.0.0" and args[args.index("--port") + 1] == "30000"
    assert args[args.index("--tp-size") + 1] == "1"
    assert args[args.index("--context-length") + 1] == "4096"  # maxModelLen
    assert args[args.index("--mem-fraction-static") + 1] == "0.85"  # gpuMemoryUtilization
    assert args[args.index("--revision") + 1] == "7ae557604adf67be50417f59c2c2f167def9a775"
    assert args[args.index("--quantization") + 1] == "fp8"
    assert args[args.index("--chunked-prefill-size") + 1] == "-1"
    assert "--disable-radix-cache" in args and "--enable-metrics" in args
    assert pairs.get("--served-model-name") == "qwen-instruct"
    assert not [a for a in args if a.startswith(("--max-model-len", "--gpu-memory", "--enable-prefix", "--tensor"))]
    assert c.ports[0].container_port == 30000


def test_probes_env_and_service_use_sglangs_endpoints() -> None:
    f = _fleet()
    c = spec.server_container(f)
    assert c.startup_probe.http_get.path == "/health" and c.liveness_probe.http_get.path == "/health"
    assert c.readiness_probe.http_get.path == "/ready" and c.readiness_probe.exec_ is None
    env = {e.name: e.value for e in c.env}
    assert env["SGLANG_ENABLE_HEALTH_ENDPOINT_GENERATION"] == "0"  # /health must not generate
    assert env["HF_HUB_OFFLINE"] == "1" and env["HF_HOME"] == "/models/hf"
    assert "/tmp" in [m.mount_path for m in c.volume_mounts]  # prometheus multiprocess dir
    assert f.resource_name == "sglang-qwen-instruct" and f.endpoint.endswith(":30000/v1")
    service = serving.service_args(f)
    assert service.spec.ports[0].port == 30000
    # Weights stage exactly as for vLLM.
    assert "snapshot_download" in staging.stage_container(f).command[-1]


def test_the_api_key_reaches_sglang_through_the_args_hook_never_as_a_literal() -> None:
    f = _fleet(api_key=True)
    c = spec.server_container(f)
    assert c.args[-2:] == ["--api-key", "$(SGLANG_API_KEY)"]
    (key,) = [e for e in c.env if e.name == "SGLANG_API_KEY"]
    assert key.value is None and key.value_from.secret_key_ref.name == "qwen-instruct-api-key"
    assert "--api-key" not in (spec.server_container(_fleet()).args or [])
    # vLLM reads its env var itself: no argument carries the key.
    assert "--api-key" not in VLLM.api_key_args("VLLM_API_KEY")


def test_autoscaling_uses_sglangs_queue_metric() -> None:
    f = _fleet(monitoring_on=True)
    # Only the trigger is under test: the fleet's max (quota and pool caps are checked elsewhere).
    f = replace(f, spec=f.spec.model_copy(update={"replicas": ReplicaSettings(min=1, max=2)}))
    scaled = serving.scaled_object(f, "http://prometheus:9090")
    assert "sglang:num_queue_reqs" in json.dumps(scaled)


# -- capacity / fit ---------------------------------------------------------------------------


def test_weights_and_kv_cache_fit_are_checked_as_for_vllm() -> None:
    problems = _problems(maxModelLen=10_000_000)
    assert "SGLang refuses to start" in problems["ai-infra:models.qwen-instruct.maxModelLen"]
    big = _problems(model="Qwen/Qwen2.5-72B-Instruct", revision=None)
    assert "SGLang may fill" in big["ai-infra:models.qwen-instruct.gpusPerReplica"]


# -- alerts and dashboard ---------------------------------------------------------------------


def test_alerts_are_generated_from_the_engines_metric_names() -> None:
    groups = alert_rule_groups(engines=("vllm", "sglang"), ttft_p95_seconds=1.0, gpu_idle_hours=2, env="prod")
    rules = {r["alert"]: r for g in groups for r in g["rules"] if "alert" in r}
    assert "sglang:num_queue_reqs" in rules["SglangRequestsWaiting"]["expr"]
    assert "sglang:token_usage" in rules["SglangKvCacheHigh"]["expr"]
    assert "sglang:time_to_first_token_seconds_bucket" in rules["SglangTimeToFirstTokenSlo"]["expr"]
    assert "VllmTimeToFirstTokenSlo" in rules
    only = alert_rule_groups(engines=("sglang",), ttft_p95_seconds=1.0, gpu_idle_hours=2, env="dev")
    assert not [r for g in only for r in g["rules"] if r.get("alert", "").startswith("Vllm")]
    with pytest.raises(ValueError, match="SGLang TTFT bucket"):
        alert_rule_groups(engines=("sglang",), ttft_p95_seconds=2.5, gpu_idle_hours=2, env="dev")


def test_the_dashboard_is_redrawn_for_sglang() -> None:
    boards = dashboards(("sglang",))
    assert "model-serving" in boards and "model-serving-sglang" in boards
    text = boards["model-serving-sglang"]
    board = json.loads(text)
    assert "vllm:" not in text and board["uid"] == "ai-infra-model-serving-sglang"
    assert "sglang:num_queue_reqs" in text and "sglang:token_usage" in text
    titles = [p["title"] for p in board["panels"]]
    assert "Finished requests/s by reason" not in titles  # no finished_reason counter in SGLang
    assert "KV cache usage" in titles and "Time to first token" in titles
    assert "model-serving-sglang" not in dashboards(("vllm", "ollama"))


def test_every_engines_metric_names_are_in_the_catalogue() -> None:
    from components.specs.metrics import SCRAPED_METRICS, metrics_in

    for engine in ENGINES.values():
        if engine.metrics is None:
            continue
        m = engine.metrics
        names = [m.queue, m.kv_cache, f"{m.ttft}_bucket", m.preemptions, *m.dashboard.values()]
        assert [n for n in names if n not in SCRAPED_METRICS and f"{n}_bucket" not in SCRAPED_METRICS] == [], engine
    groups = alert_rule_groups(engines=("sglang",), ttft_p95_seconds=1.0, gpu_idle_hours=2, env="dev")
    exprs = [r["expr"] for g in groups for r in g["rules"]]
    board = json.loads(dashboards(("sglang",))["model-serving-sglang"])
    exprs += [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    unknown = {n for e in exprs for n in metrics_in(e) if n.startswith("sglang:") and n not in SCRAPED_METRICS}
    assert unknown == set()
