"""Bad input that used to plan (issue 23 §5): each exits 2 naming the stack file and the key path,
says what is allowed, never prints the value, and writes no plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.planner.test_plan_cli import Result, plan, project_copy

DEV = {"ai-infra:environment": "dev", "ai-infra:cluster": {"eks": {"publicAccessCidrs": ["203.0.113.0/24"]}}}


def _plan(tmp_path: Path, config: dict[str, Any] | None = None, text: str | bytes | None = None, *extra: str) -> Result:
    tmp_path.mkdir(parents=True, exist_ok=True)
    project_copy(tmp_path)
    stack_file = tmp_path / "Pulumi.bad.yaml"
    if isinstance(text, bytes):
        stack_file.write_bytes(text)
    else:
        stack_file.write_text(text if text is not None else yaml.safe_dump({"config": {**DEV, **(config or {})}}))
    return plan("bad", tmp_path / "out", tmp_path, *extra)


def _refused(result: Result, *keys: str) -> str:
    """The run exited 2 without a traceback and without writing a plan; its stderr names every key."""
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    assert "Pulumi.bad.yaml" in result.stderr
    for key in keys:
        assert key in result.stderr, key
    return output


def test_an_out_of_range_cron_schedule_is_refused(tmp_path: Path) -> None:
    job = {"run": "scheduled", "schedule": "75 26 * * *"}
    result = _plan(tmp_path, {"ai-infra:jobs": {"finetune-example": job}})
    output = _refused(result, "ai-infra:jobs.finetune-example.schedule")
    assert "minute field takes 0-59" in output and "75 26" not in output
    assert not (tmp_path / "out").exists()


def test_a_credential_inside_a_url_is_refused_and_never_written(tmp_path: Path) -> None:
    password = "pl4n-must-n0t-keep"
    config = {
        "ai-infra:registry": {"buildArgs": {"train-light": {"PIP_INDEX_URL": f"https://bot:{password}@pypi.lab/"}}},
        "ai-infra:models": {"qwen-small": {"extraArgs": ["--download-dir", f"s3://ak:{password}@bucket/x"]}},
        "ai-infra:jobs": {"finetune-example": {"args": ["--token", password]}},
    }
    result = _plan(tmp_path, config)
    output = _refused(
        result,
        "ai-infra:registry.buildArgs.train-light.PIP_INDEX_URL",
        "ai-infra:models.qwen-small.extraArgs[1]",
        "ai-infra:jobs.finetune-example.args[0]",
    )
    assert password not in output and "credential inside a URL" in output and "command line" in output
    assert not (tmp_path / "out").exists()  # neither plan.json nor settings.json


def test_a_stack_file_that_is_not_a_mapping_or_not_utf8_is_refused(tmp_path: Path) -> None:
    for text, kind in (("- environment: dev\n", "not a list"), ("dev\n", "not a single value")):
        output = _refused(_plan(tmp_path / kind.replace(" ", "-"), text=text), "(file)")
        assert kind in output and "config:" in output
    latin1 = "config:\n  ai-infra:environment: dev\n  ai-infra:team: équipe\n".encode("latin-1")
    output = _refused(_plan(tmp_path / "latin1", text=latin1), "(file)")
    assert "not UTF-8" in output and "quipe" not in output


def test_merge_keys_plan_as_the_cli_reads_them(tmp_path: Path) -> None:
    text = (
        "config:\n"
        "  ai-infra:environment: dev\n"
        "  ai-infra:cluster:\n"
        "    eks:\n"
        "      publicAccessCidrs: [203.0.113.0/24]\n"
        "  ai-infra:nodePools:\n"
        "    gpu: &spot {maxSize: 3, gpuCap: 3}\n"
        "    gpu-big:\n"
        "      <<: *spot\n"
        "      instanceTypes: [g6e.xlarge]\n"
        "      maxSize: 1\n"
        "      gpuCap: 1\n"
    )
    # The settings are the subject: no policies, so no preview-like second run either.
    result = _plan(tmp_path, None, text, "--no-policies")
    assert result.returncode == 0, result.stdout + result.stderr
    settings = yaml.safe_load((tmp_path / "out" / "settings.json").read_text())
    assert settings["nodePools"]["gpu-big"]["maxSize"] == 1  # the mapping's own key wins


def test_tag_values_aws_refuses_are_refused(tmp_path: Path) -> None:
    result = _plan(tmp_path, {"ai-infra:costCenter": "ml#platform;drop", "ai-infra:team": "ML Team!"})
    output = _refused(result, "ai-infra:costCenter", "ai-infra:team")
    assert "AWS tag value" in output and "ml#platform" not in output
