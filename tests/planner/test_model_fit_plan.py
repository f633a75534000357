"""The plan refuses a model that cannot fit (issue 22 item 5, issue 23 §5): exit 2, no plan
written, every key with its numbers in one run."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.planner.test_plan_cli import plan, project_copy


def test_a_72b_model_on_two_24gb_gpus_exits_2_with_the_numbers(tmp_path: Path) -> None:
    # The trial: Qwen2.5-72B (~145 GB) with TP2 on an on-prem pool of 2 x 24 GB GPUs, and
    # the preset's small model asked for more context than it has.
    project_copy(tmp_path)
    local = yaml.safe_load((Path(__file__).resolve().parents[2] / "Pulumi.local.yaml").read_text())
    config = local["config"]
    machine = config["ai-infra:nodePools"]["gpu"]["machine"]
    machine.pop("gpuMemoryGib", None)
    machine["gpuModel"] = "RTX-4090"  # 24 GB, known (components/core/gpu_instances.py)
    config["ai-infra:models"] = {
        "big": {"engine": "vllm", "model": "Qwen/Qwen2.5-72B-Instruct", "pool": "gpu", "gpusPerReplica": 2},
        "qwen-small": None,
        "qwen-instruct": {"maxModelLen": 65536},
    }
    (tmp_path / "Pulumi.fit.yaml").write_text(yaml.safe_dump({"config": config}))
    result = plan("fit", tmp_path / "out", tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output and not (tmp_path / "out").exists()
    assert "ai-infra:models.big.gpusPerReplica: Qwen/Qwen2.5-72B-Instruct's weights take 135.4 GiB" in result.stderr
    assert "ai-infra:models.qwen-instruct.maxModelLen: 65536 is above" in result.stderr
