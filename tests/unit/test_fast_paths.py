"""Cold-start fast paths as settings (issue 26 item 3-4): SOCI, the S3 streamer, the compile cache
and the warm floor; each accepted where it applies and refused with its key where it cannot."""

from __future__ import annotations

from typing import Any

import pytest

from components.core.settings import SettingsError, parse_settings
from components.core.settings.fast_paths import parse_cron, warm_floor_hours
from components.core.settings.models import WarmFloorSettings
from components.specs import model_runner as runner
from tests.conftest import settings_for

VLLM_FLEET = {"engine": "vllm", "model": "Qwen/Qwen2.5-7B-Instruct", "pool": "gpu", "maxModelLen": 4096}
MON = {"enabled": True}


def _dev(**fleet: Any) -> dict[str, Any]:
    return {"models": {"qwen-small": None, "qwen-instruct": {**VLLM_FLEET, **fleet}}}


def _problems(env: str = "dev", **overrides: Any) -> dict[str, str]:
    with pytest.raises(SettingsError) as info:
        settings_for(env, **overrides)
    return {k.removeprefix("ai-infra:"): m for k, m in info.value.problems}


def _server(**fleet: Any) -> Any:
    s = settings_for("dev", **_dev(**fleet))
    f = runner.FleetSpec(name="qwen-instruct", spec=s.models["qwen-instruct"], image="img", env="dev", team="ml")
    return runner.server_container(f)


def test_the_compile_cache_is_a_writable_per_fleet_sub_path_and_the_weights_stay_read_only() -> None:
    server = _server(compileCache=True)
    mounts = {m.mount_path: m for m in server.volume_mounts}
    assert mounts["/models"].read_only is True
    assert mounts["/compile-cache"].read_only is False
    assert mounts["/compile-cache"].name == "cache"
    assert mounts["/compile-cache"].sub_path == "compile-cache/qwen-instruct"
    assert {e.name: e.value for e in server.env}["VLLM_CACHE_ROOT"] == "/compile-cache"
    off = _server()
    assert "/compile-cache" not in {m.mount_path for m in off.volume_mounts}
    assert "VLLM_CACHE_ROOT" not in {e.name for e in off.env}


def test_the_compile_cache_is_refused_where_it_cannot_work() -> None:
    assert (
        "keeps no compile cache"
        in _problems(models={"qwen-small": {"compileCache": True}})["models.qwen-small.compileCache"]
    )
    assert (
        "needs cache shared"
        in _problems(**_dev(compileCache=True, cache="ephemeral"))["models.qwen-instruct.compileCache"]
    )
    assert (
        "eager"
        in _problems(**_dev(compileCache=True, extraArgs=["--enforce-eager"]))["models.qwen-instruct.compileCache"]
    )


def test_soci_only_on_an_ami_that_ships_it() -> None:
    pool = {"nodePools": {"gpu": {"soci": True}}}
    message = _problems(**pool)["nodePools.gpu.soci"]
    assert "AL2023_x86_64_NVIDIA does not ship the SOCI snapshotter" in message and "BOTTLEROCKET" in message
    ok = settings_for("dev", nodePools={"gpu": {"soci": True, "amiType": "BOTTLEROCKET_x86_64_NVIDIA"}})
    assert ok.node_pools["gpu"].soci


def test_the_streamer_needs_s3_vllm_and_eks() -> None:
    assert (
        "wired for cache s3 only" in _problems(**_dev(loadFormat="runai_streamer"))["models.qwen-instruct.loadFormat"]
    )
    assert "must be runai_streamer" in _problems(**_dev(cache="s3"))["models.qwen-instruct.loadFormat"]
    sglang = {"models": {"qwen-small": None, "sg": {**VLLM_FLEET, "engine": "sglang", "cache": "s3"}}}
    assert "cannot read s3://" in _problems(**sglang)["models.sg.cache"]
    sglang["models"]["sg"]["loadFormat"] = "runai_streamer"
    assert "option of vllm only" in _problems(**sglang)["models.sg.loadFormat"]
    s = settings_for("dev", **_dev(cache="s3", loadFormat="runai_streamer"))
    assert s.models["qwen-instruct"].cache == "s3"


def test_s3_on_an_existing_cluster_is_refused_with_the_reason() -> None:
    existing = {
        "environment": "dev",
        "cluster": {"mode": "existing", "existing": {"kubeconfig": "/k"}},
        "nodePools": {
            "gpu": {"instanceTypes": None, "machine": {"gpus": 2, "gpuModel": "L4", "cpu": 16, "memoryGib": 64}}
        },
        "storage": {"shared": {"backend": "nfs", "nfs": {"server": "nfs.lab", "share": "/x"}}},
        **_dev(cache="s3", loadFormat="runai_streamer"),
    }
    with pytest.raises(SettingsError) as info:
        parse_settings(existing, stack="local")
    message = dict(info.value.problems)["ai-infra:models.qwen-instruct.cache"]
    assert "aws-eks" in message and "no IRSA" in message


def test_cron_windows_by_hand() -> None:
    business = WarmFloorSettings(start="0 8 * * 1-5", end="0 18 * * 1-5", timezone="Europe/Berlin")
    assert warm_floor_hours(business) == 50  # 10 h x 5 days
    overnight = WarmFloorSettings(start="30 22 * * *", end="0 6 * * *", timezone="UTC")
    assert warm_floor_hours(overnight) == 7.5 * 7
    assert parse_cron("*/15 8-17 * * mon-fri")[0] == {0, 15, 30, 45}
    for bad in ("0 8 * *", "61 8 * * *", "0 8 * * 1-9", "x 8 * * *"):
        with pytest.raises(ValueError):
            parse_cron(bad)


def _floor(**floor: Any) -> dict[str, Any]:
    window = {"start": "0 8 * * 1-5", "end": "0 18 * * 1-5", "timezone": "Europe/Berlin", **floor}
    return {**_dev(replicas={"min": 0, "max": 2}, warmFloor=window), "monitoring": MON}


def test_warm_floor_bad_input() -> None:
    assert "never ends" in _problems(**_floor(end="0 8 * * 1-5"))["models.qwen-instruct.warmFloor.end"]
    assert "must be weekly" in _problems(**_floor(end="0 8 31 2 *"))["models.qwen-instruct.warmFloor.end"]
    assert (
        "not an IANA time zone"
        in _problems(**_floor(timezone="Mars/Olympus"))["models.qwen-instruct.warmFloor.timezone"]
    )
    assert "not a cron schedule" in _problems(**_floor(start="0 25 * * *"))["models.qwen-instruct.warmFloor.start"]
    assert "exceeds replicas.max" in _problems(**_floor(replicas=3))["models.qwen-instruct.warmFloor.replicas"]
    window = _floor()["models"]["qwen-instruct"]["warmFloor"]
    ollama = {"models": {"qwen-small": {"replicas": {"min": 0, "max": 2}, "warmFloor": window}}}
    assert "KEDA-scaled" in _problems(**ollama)["models.qwen-small.warmFloor"]
    ok = settings_for("dev", **_floor())
    assert ok.models["qwen-instruct"].warm_floor is not None


def test_soci_goes_into_bottlerocket_user_data_and_changes_the_estimate() -> None:
    import base64

    from components.core import cold_start as cs
    from components.specs import node_pool

    bottlerocket = {"amiType": "BOTTLEROCKET_x86_64_NVIDIA"}
    off = settings_for("dev", nodePools={"gpu": bottlerocket}, **_dev())
    on = settings_for("dev", nodePools={"gpu": {**bottlerocket, "soci": True}}, **_dev())
    toml = base64.b64decode(node_pool.user_data(on.node_pools["gpu"], "/mnt")).decode()
    assert 'snapshotter = "soci"' in toml and 'pull-mode = "parallel-pull-unpack"' in toml
    assert '"/var/lib/soci-snapshotter"]]' in toml  # its layers on the RAID0 array too
    assert "soci" not in base64.b64decode(node_pool.user_data(off.node_pools["gpu"], "/mnt")).decode()
    before, after = cs.estimates(off)["qwen-instruct"], cs.estimates(on)["qwen-instruct"]
    pull = 12.64e9 / 62e6  # g6.xlarge: unpack-bound (see test_cold_start)
    assert after.total == pytest.approx(before.total - pull * 0.14)
    assert before.fast_paths["sociParallelPull"] == (False, pytest.approx(after.total))
    assert after.fast_paths["sociParallelPull"] == (True, pytest.approx(before.total))


def test_the_warm_floor_is_a_keda_cron_trigger_and_costs_its_hours() -> None:
    from components.specs import model_serving as serving
    from stack.cluster import cluster_cost

    s = settings_for("dev", **_floor())
    f = runner.FleetSpec(name="qwen-instruct", spec=s.models["qwen-instruct"], image="img", env="dev", team="ml")
    triggers = serving.scaled_object(f, "http://prom:9090")["spec"]["triggers"]
    assert [t["type"] for t in triggers] == ["prometheus", "cron"]
    assert triggers[1]["metadata"] == {
        "timezone": "Europe/Berlin",
        "start": "0 8 * * 1-5",
        "end": "0 18 * * 1-5",
        "desiredReplicas": "1",
    }
    fleet = cluster_cost(s)["fleets"]["qwen-instruct"]
    floor = fleet["warmFloor"]
    # 1 GPU above min 0, 50 h a week, at the pool's cheapest per-GPU price.
    assert floor["extraGpus"] == 1 and floor["hoursPerWeek"] == 50
    assert floor["usdPerWeek"] == pytest.approx(fleet["usdPerGpuHour"] * 50, abs=0.01)
    assert floor["usdPerMonth"] == pytest.approx(fleet["usdPerGpuHour"] * 50 * 52 / 12, abs=0.01)
    plain = settings_for("dev", **_dev(replicas={"min": 0, "max": 2}), monitoring=MON)
    assert "warmFloor" not in cluster_cost(plain)["fleets"]["qwen-instruct"]
