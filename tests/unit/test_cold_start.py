"""Cold start at plan time (issue 26 items 1-2): phases against hand-computed numbers, the budget
check and the scale-from-zero warning."""

from __future__ import annotations

from typing import Any

import pytest

from components.core import cold_start as cs
from components.core.engines import OLLAMA, SGLANG, VLLM
from components.core.gpu_instances import GPU_INSTANCES
from components.core.model_catalogue import MODELS
from components.core.settings import SettingsError
from tests.conftest import settings_for

QWEN_7B = MODELS["Qwen/Qwen2.5-7B-Instruct"]  # 15.2 GB
CODER_32B = MODELS["Qwen/Qwen2.5-Coder-32B-Instruct-AWQ"]  # 19.3 GB
MON = {"enabled": True}


EFS_DEFAULT_LOADER = 1_572_864_000 * 0.3  # 1500 MiB/s x vLLM's default loader's 30 % share: 471,859,200 B/s


def test_weight_load_for_two_models_on_two_caches_by_hand() -> None:
    efs = cs.cache_read("shared", "efs", "elastic")  # 1500 MiB/s = 1,572,864,000 B/s
    nvme = cs.cache_read("local-nvme", "efs", "elastic")  # 2000 MB/s
    share = VLLM.startup.loader_share
    assert cs.weight_load(QWEN_7B, efs, share).seconds == pytest.approx(15.2e9 / EFS_DEFAULT_LOADER)  # 32.21 s
    assert cs.weight_load(CODER_32B, efs, share).seconds == pytest.approx(40.90, abs=0.01)
    assert cs.weight_load(QWEN_7B, nvme, share).seconds == pytest.approx(25.33, abs=0.01)  # 600 MB/s
    assert cs.weight_load(CODER_32B, nvme, share).seconds == pytest.approx(32.17, abs=0.01)
    # Without a loader share (the streamer, or Ollama) the cache's whole rate.
    assert cs.weight_load(QWEN_7B, nvme).seconds == pytest.approx(7.6)
    # A per-pod cache downloads first (200 MB/s); the shared one and S3 were staged by the Job.
    assert cs.weight_download(QWEN_7B, "shared") is None
    assert cs.weight_download(QWEN_7B, "s3") is None
    download = cs.weight_download(CODER_32B, "local-nvme")
    assert download is not None and download.seconds == pytest.approx(96.5)


def test_s3_streams_at_the_streamer_rate_capped_by_the_link_by_hand() -> None:
    small, large = GPU_INSTANCES["g6.xlarge"], GPU_INSTANCES["g6e.12xlarge"]
    capped, full = cs.s3_read(small), cs.s3_read(large)
    assert capped.value == pytest.approx(312.5)  # 2.5 Gbps link < the streamer's 1000 MB/s
    assert full.value == 1000 and full.confidence == "UNVERIFIED"
    assert cs.weight_load(QWEN_7B, capped).seconds == pytest.approx(48.64, abs=0.01)
    assert cs.weight_load(CODER_32B, capped).seconds == pytest.approx(61.76, abs=0.01)
    assert cs.weight_load(QWEN_7B, full).seconds == pytest.approx(15.2)
    assert cs.weight_load(CODER_32B, full).seconds == pytest.approx(19.3)


def test_image_pull_engine_init_and_node_boot_by_hand() -> None:
    g6 = GPU_INSTANCES["g6.xlarge"]  # 2.5 Gbps = 312.5 MB/s, below the 5 Gbps internet cap
    pull = cs.image_pull(VLLM, g6, in_region=False)
    # max(12.64 GB / 312.5 MB/s = 40.4 s, 12.64 GB / 62 MB/s = 203.9 s): unpack bound.
    assert pull.seconds == pytest.approx(12.64e9 / 62e6)
    soci = cs.image_pull(VLLM, g6, in_region=False, soci=True)
    assert soci.seconds == pytest.approx(12.64e9 / 62e6 * 0.86)
    # SGLang's image figure is vLLM's (UNVERIFIED, marked so in its record).
    assert cs.image_pull(SGLANG, g6, in_region=False).figures["compressedSize"].confidence == "UNVERIFIED"
    assert cs.engine_init(VLLM, []).seconds == 10 + 85 + 17
    assert cs.engine_init(VLLM, [], compile_cache=True).seconds == 10 + 7.5 + 17
    assert cs.engine_init(VLLM, ["--enforce-eager"]).seconds == 10
    assert cs.engine_init(OLLAMA, []).seconds == 5
    # SGLang: 20 s init + 17 s graphs, no compile by default; graphs off with the decode backend disabled.
    assert cs.engine_init(SGLANG, []).seconds == 20 + 17
    assert cs.engine_init(SGLANG, ["--cuda-graph-backend-decode", "disabled"]).seconds == 20
    assert cs.engine_init(SGLANG, ["--cuda-graph-backend-decode=disabled"]).seconds == 20
    assert cs.node_boot("AL2023_x86_64_NVIDIA").seconds == 150


def _vllm(**extra: Any) -> dict[str, Any]:
    fleet = {
        "engine": "vllm",
        "model": "Qwen/Qwen2.5-7B-Instruct",
        "pool": "gpu",
        "maxModelLen": 4096,
        "cpu": "2",
        "memory": "12Gi",
        **extra,
    }
    return {"models": {"qwen-small": None, "qwen-instruct": fleet}}


def test_a_fleet_estimate_and_changing_the_cache_changes_it() -> None:
    shared = cs.estimates(settings_for("dev", **_vllm()))["qwen-instruct"]
    # Dev's pool may stand at zero: node boot 150 + pull 203.9 + EFS 32.2 + vLLM 112 = 498.1 s.
    load = 15.2e9 / EFS_DEFAULT_LOADER
    assert [p.name for p in shared.phases] == ["nodeBoot", "imagePull", "weightLoad", "engineInit"]
    assert shared.total == pytest.approx(150 + 12.64e9 / 62e6 + load + 112)
    assert shared.slowest.name == "imagePull"
    assert shared.probed == pytest.approx(load + 112)
    assert shared.fast_paths["compileCache"] == (False, pytest.approx(shared.total - 85 + 7.5))
    # The streamer on g6.xlarge: 48.6 s at the 2.5 Gbps link instead of 32.2 s from EFS (slower here).
    assert shared.fast_paths["s3Streamer"] == (False, pytest.approx(shared.total - load + 15.2e9 / 312.5e6))
    ephemeral = cs.estimates(settings_for("dev", **_vllm(cache="ephemeral")))["qwen-instruct"]
    # Download 76 s (200 MB/s) and an emptyDir read of 202.7 s (250 MB/s x 0.3) replace the EFS read.
    assert ephemeral.total == pytest.approx(shared.total - load + 76 + 15.2e9 / 75e6)
    assert "compileCache" not in ephemeral.fast_paths and "s3Streamer" not in ephemeral.fast_paths
    s3 = cs.estimates(settings_for("dev", **_vllm(cache="s3", loadFormat="runai_streamer")))["qwen-instruct"]
    assert s3.total == pytest.approx(shared.fast_paths["s3Streamer"][1])
    assert s3.fast_paths["s3Streamer"] == (True, pytest.approx(shared.total))


def test_a_budget_below_the_estimate_is_an_error_naming_both_numbers_and_the_key() -> None:
    # Probed: 32.2 + 112 = 144 s; the error floor at -50 % is 72 s.
    with pytest.raises(SettingsError) as info:
        settings_for("dev", **_vllm(startupBudgetSeconds=60))
    message = dict(info.value.problems)["ai-infra:models.qwen-instruct.startupBudgetSeconds"]
    assert "60 s is shorter than" in message and "144 s" in message
    # Within the margin: valid, with a warning.
    warned = dict(settings_for("dev", **_vllm(startupBudgetSeconds=100)).warnings)
    assert "within the error margin" in warned["models.qwen-instruct.startupBudgetSeconds"]
    assert "models.qwen-instruct.startupBudgetSeconds" not in dict(settings_for("dev", **_vllm()).warnings)


def test_scale_from_zero_longer_than_the_client_timeout_is_a_warning_with_the_fix() -> None:
    # Ephemeral: 150 + 203.9 + 76 + 202.7 + 112 = 744.5 s > 600 s.
    slow = settings_for("dev", **_vllm(cache="ephemeral", replicas={"min": 0, "max": 1}), monitoring=MON)
    message = dict(slow.warnings)["models.qwen-instruct.replicas.min"]
    assert "745 s" in message and "600 s" in message and "set replicas.min: 1" in message
    fast = settings_for("dev", **_vllm(replicas={"min": 0, "max": 1}), monitoring=MON)  # shared EFS: ~498 s
    assert "models.qwen-instruct.replicas.min" not in dict(fast.warnings)


def test_the_presets_budgets_cover_their_estimates() -> None:
    for env in ("dev", "prod"):
        s = settings_for(env)
        for name, e in cs.estimates(s).items():
            assert s.models[name].startup_budget_seconds >= e.probed, (env, name)


def test_startup_json_lists_every_phase_with_its_sources() -> None:
    report = cs.startup_report(settings_for("prod"))
    coder = report["fleets"]["coder-32b"]
    assert set(coder["phases"]) == {"nodeBoot", "imagePull", "weightLoad", "engineInit"}
    for phase in coder["phases"].values():
        assert all(f["source"] and f["confidence"] for f in phase["figures"].values())
    assert report["errorMargin"] == cs.ERROR_MARGIN


def test_the_plan_line_gives_every_phase_and_they_add_up_to_the_total() -> None:
    s = settings_for("prod")
    (line,) = [x for x in cs.summary_lines(s) if x.startswith("Cold start coder-32b:")]
    e = cs.estimates(s)["coder-32b"]
    head = line.split(" (slowest:")[0]
    total, phases = head.removeprefix("Cold start coder-32b: ~").split(" s = ")
    named = dict(part.rsplit(" ", 1) for part in phases.split(" + "))
    assert list(named) == [p.name for p in e.phases] == ["nodeBoot", "imagePull", "weightLoad", "engineInit"]
    assert abs(sum(int(v) for v in named.values()) - int(total)) <= len(named)  # each rounded to a second
