"""The engine registry (issue 24 item 3): capabilities decide which spec keys an engine reads and
what its pods get; every engine's record is complete."""

from __future__ import annotations

from dataclasses import replace

import pytest

from components.core.engines import ENGINES, OLLAMA, SGLANG, VLLM
from components.core.engines.base import CAPABILITY_OPTIONS
from components.specs import model_runner as spec
from tests.conftest import settings_for


def test_capabilities_add_their_spec_keys() -> None:
    assert {"prefixCaching", "quantization", "apiKeySecret"} <= VLLM.options
    # loadFormat (the S3 streamer) is wired for vLLM only (issue 26).
    assert SGLANG.options == VLLM.options - {"loadFormat"}
    assert not set(CAPABILITY_OPTIONS) & OLLAMA.options
    without = replace(SGLANG, capabilities=replace(SGLANG.capabilities, quantization=False))
    assert "quantization" not in without.options and "revision" in without.options


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_every_engine_record_is_complete(name: str) -> None:
    engine = ENGINES[name]
    assert engine.name == name and engine.label and engine.title[0].isupper()
    assert engine.default_image.startswith("docker.io/")
    assert (engine.metrics is None) == (engine.metrics_path is None)
    assert engine.capabilities.api_key == (engine.api_key_env is not None)
    if engine.metrics:
        assert engine.metrics.ttft_buckets == tuple(sorted(engine.metrics.ttft_buckets))
        assert {"waiting", "kv_cache", "ttft"} <= set(engine.metrics.dashboard)


@pytest.mark.parametrize(("fleet", "mounted"), [("qwen-instruct", True), ("qwen-small", False)])
def test_shm_is_mounted_for_tensor_parallel_engines_only(fleet: str, mounted: bool) -> None:
    s = settings_for("dev")
    model = s.models[fleet].model_copy(update={"gpus_per_replica": 2})
    f = spec.FleetSpec(name=fleet, spec=model, image="img:1", env="dev", team="ml")
    assert ("/dev/shm" in [m.mount_path for m in spec.server_container(f).volume_mounts]) == mounted
