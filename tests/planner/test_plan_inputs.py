"""``make plan`` on stack files of a test's own: exit 2 on bad input, declared types, no leaked
secrets, and the plan diff against the previous plan.

Split from ``test_plan_cli`` so these run beside its shared plans on the other xdist worker (each
plans into its own temporary project and output folder; none reads the shared plans).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import ROOT
from tests.planner.test_plan_cli import plan, plan_subprocess, project_copy, sharing_program_runs


def test_invalid_config_exits_2_naming_every_key_and_keeps_the_previous_plan(tmp_path: Path) -> None:
    project_copy(tmp_path)
    (tmp_path / "Pulumi.broken.yaml").write_text(
        yaml.safe_dump(
            {
                "config": {
                    "ai-infra:environment": "prod",
                    "ai-infra:colour": "blue",
                    "ai-infra:cluster": {"kubernetesVersion": "1.19"},
                    "ai-infra:nodePools": {"serving": {"minSize": 5, "maxSize": 1, "instanceTypes": ["g5.xlarge"]}},
                }
            }
        )
    )
    out = tmp_path / "build" / "broken"
    out.mkdir(parents=True)
    (out / "stale.json").write_text("{}")
    result = plan_subprocess("broken", out, tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    for key in ("ai-infra:colour", "ai-infra:cluster.kubernetesVersion", "ai-infra:nodePools.serving.minSize"):
        assert key in result.stderr
    assert "Pulumi.broken.yaml" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    # Nothing new is written; what was there stays (to compare with once the config is fixed).
    assert [p.name for p in out.iterdir()] == ["stale.json"]


def test_bad_batch_input_exits_2_with_each_key_path(tmp_path: Path) -> None:
    """The issue's bad input: a worker wider than a node, a queue over its pool's cap, an image
    neither built nor a digest in prod, a job in a namespace without the queue."""
    project_copy(tmp_path)
    job = {"queue": "batch-infer", "command": ["python", "x.py"], "image": "ghcr.io/acme/t@sha256:" + "ab" * 32}
    config = {
        "ai-infra:environment": "prod",
        "ai-infra:cluster": {"eks": {"adminPrincipalArns": ["arn:aws:iam::123456789012:role/admin"]}},
        "ai-infra:batch": {"queues": {"train": {"gpus": 40}}},
        "ai-infra:jobs": {
            "wide": {**job, "gpusPerWorker": 9},
            "tagged": {**job, "image": "ghcr.io/acme/t:v1"},
            "stray": {**job, "namespace": "models"},
        },
    }
    (tmp_path / "Pulumi.batch.yaml").write_text(yaml.safe_dump({"config": config}))
    result = plan("batch", tmp_path / "out", tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    for key in (
        "ai-infra:jobs.wide.gpusPerWorker",
        "ai-infra:batch.queues.train.gpus",
        "ai-infra:jobs.tagged.image",
        "ai-infra:jobs.stray.queue",
    ):
        assert key in result.stderr, key
    assert "Traceback" not in result.stderr + result.stdout


def test_declared_config_types_are_checked(tmp_path: Path) -> None:
    project_copy(tmp_path)
    (tmp_path / "Pulumi.typed.yaml").write_text(
        yaml.safe_dump({"config": {"ai-infra:environment": "dev", "ai-infra:cluster": "aws-eks"}})
    )
    result = plan("typed", tmp_path / "out", tmp_path)
    assert result.returncode == 2
    assert "Stack 'typed' with configuration key 'cluster' must be of type 'object'" in result.stderr


def test_secrets_never_reach_plan_files(tmp_path: Path) -> None:
    project_copy(tmp_path)
    config = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]
    config["ai-infra:hfToken"] = {"secure": "v1:c2VjcmV0LWhm"}
    config["ai-infra:models"] = {"coder-32b": {"apiKeySecret": "coderKey"}}
    config["ai-infra:coderKey"] = {"secure": "v1:c2VjcmV0LWdyYWZhbmE="}
    (tmp_path / "Pulumi.sec.yaml").write_text(yaml.safe_dump({"config": config}))
    out = tmp_path / "out"
    result = plan("sec", out, tmp_path, "--skip-preview-check")
    assert result.returncode == 0, result.stderr
    text = "".join(p.read_text() for p in out.rglob("*") if p.is_file())
    assert "plan-placeholder" not in text and "c2VjcmV0" not in text
    # The mesh's minted auth key and the operator's OAuth client secret (mock values) neither.
    assert "tskey-" not in text and "mock-client-" not in text
    # A secret map keeps its keys (the key names), every value "[secret]".
    assert json.loads((out / "plan.json").read_text())["outputs"]["tailnetAuthKeys"] == {"rented-gpu": "[secret]"}
    # No Secret is an applicable manifest (`kubectl apply -f manifests` would overwrite the real
    # one with "[secret]"): secrets/ lists each one's keys, in a file kubectl refuses.
    assert not list(out.glob("manifests/**/secret-*.yaml"))
    secret = yaml.safe_load((out / "secrets" / "models" / "coder-32b-api-key.yaml").read_text())
    assert secret["keys"] == ["api-key"] and secret["secret"] == "coder-32b-api-key"
    assert "apiVersion" not in secret and "kind" not in secret and "stringData" not in secret
    assert json.loads((out / "settings.json").read_text())["secretKeys"] == [
        "coderKey",
        "hfToken",
        "tailscaleOauthClientId",
        "tailscaleOauthClientSecret",
    ]


def test_plan_diff_shows_what_changed_and_the_cost_delta(tmp_path: Path) -> None:
    project_copy(tmp_path)
    config = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    # Named dev with dev's config, the first plan is the shared dev run (test_plan_cli._shared_run).
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}))
    out = tmp_path / "out"
    with sharing_program_runs():
        first = plan("dev", out, tmp_path, "--no-policies")
    assert first.returncode == 0 and "Since the previous plan" not in first.stdout
    assert not (out / "diff.txt").exists()
    config["ai-infra:nodePools"] = {"gpu": {"maxSize": 4, "gpuCap": 4}}
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}))
    second = plan("dev", out, tmp_path, "--no-policies")
    assert second.returncode == 0, second.stderr
    # One more spot g6.2xlarge at max (0.9776 x 0.55); idle unchanged.
    assert "Since the previous plan: 0 added, " in second.stdout and "max +0.54 USD/h" in second.stdout
    assert "idle +0.00 USD/h" in second.stdout
    # The fields that change, not just the resource (issue 22 item 13).
    assert "~ pool-gpu-ng: inputs.scalingConfig.maxSize" in second.stdout


def test_a_cut_diff_lists_every_change_in_diff_txt(tmp_path: Path) -> None:
    """A team change retags ~100 resources: the terminal shows 15 and points at diff.txt, which
    has every URN with its fields; a tag on eks-cluster reads as a tag, not a cluster update."""
    project_copy(tmp_path)
    config = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}))
    out = tmp_path / "out"
    with sharing_program_runs():
        assert plan("dev", out, tmp_path, "--no-policies").returncode == 0
    config["ai-infra:team"] = "ml-research"
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}))
    second = plan("dev", out, tmp_path, "--no-policies")
    assert second.returncode == 0, second.stderr
    changed = int(second.stdout.split("Since the previous plan: 0 added, ")[1].split(" changed")[0])
    assert changed > 15 and "(every change, with its fields: out/diff.txt)" in second.stdout
    diff = (out / "diff.txt").read_text()
    assert diff.count("\n~ ") + diff.startswith("~ ") == changed
    assert "EksCluster$aws:eks/cluster:Cluster::eks-cluster\n    inputs.tags.Owner\n" in diff
