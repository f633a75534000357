"""``make plan`` end to end: files, determinism, exit codes, strict manifest validation, no leaked secrets.

Plans run in-process (``planner.__main__.main``) where a test is about their output; two run as
a subprocess, as ``make plan`` does: the cross-process determinism check and exit code 2.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from planner import __main__ as planner_main
from planner.__main__ import main
from planner.engine import run_program
from planner.stack_config import load_stack_config
from tests.conftest import ROOT, stack_run

# One worker plans the three stacks once (module fixture) and runs every test that reads them:
# this module is one of conftest.WHOLE_MODULES.

STACKS = ["dev", "prod", "local"]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def _args(stack: str, out: Path, project_dir: Path, *extra: str) -> list[str]:
    return ["--stack", stack, "--project-dir", str(project_dir), "--out", str(out), *extra]


def plan(stack: str, out: Path, project_dir: Path = ROOT, *extra: str) -> Result:
    """``make plan`` in this process (the program, mocks and policy host as the CLI runs them)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(_args(stack, out, project_dir, *extra))
    return Result(code, stdout.getvalue(), stderr.getvalue())


def project_copy(tmp_path: Path) -> Path:
    """A project folder sharing the program, components and pack, for stack files of a test's own."""
    for name in PROGRAM:
        (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


def plan_subprocess(stack: str, out: Path, project_dir: Path = ROOT, *extra: str) -> Result:
    done = subprocess.run(
        [sys.executable, "-m", "planner", *_args(stack, out, project_dir, *extra)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


PROGRAM = ("Pulumi.yaml", "__main__.py", "components", "stack", "policies")
"""What :func:`project_copy` links: a copy with these runs the project's own program."""


def _shared_run(project_dir: Path, stack: str, config: dict[str, str], secret_keys: list[str], **kw: bool) -> Any:
    """The planner's program run, shared with the program tests when it is the same run (the
    project's program, possibly through :func:`project_copy`, on the project's stack file's own
    config, not a preview): the test is about what the planner makes of it."""
    same_program = all((project_dir / name).resolve() == ROOT / name for name in PROGRAM)
    own = load_stack_config(ROOT, stack) if (ROOT / f"Pulumi.{stack}.yaml").exists() else None
    if same_program and not kw.get("preview") and own and (config, secret_keys) == (own.config, own.secret_keys):
        return stack_run(stack)
    return run_program(project_dir, stack, config, secret_keys, **kw)


@contextlib.contextmanager
def sharing_program_runs() -> Iterator[None]:
    """In-process plans of a stack file's own config reuse ``stack_run`` (see :func:`_shared_run`)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(planner_main, "run_program", _shared_run)
        yield


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    out = {}
    with sharing_program_runs():
        for stack in STACKS:
            target = tmp_path_factory.mktemp(stack) / stack
            # The preview-like second run is checked once (prod); it adds a program run per plan.
            result = plan(stack, target, ROOT, *([] if stack == "prod" else ["--skip-preview-check"]))
            assert result.returncode == 0, result.stdout + result.stderr
            assert "Policy violations: 0 mandatory" in result.stdout
            out[stack] = target
    yield out


@pytest.mark.parametrize("stack", STACKS)
def test_plan_writes_every_file(plans: dict[str, Path], stack: str) -> None:
    out = plans[stack]
    document = json.loads((out / "plan.json").read_text())
    assert document["stack"] == stack and document["resources"]
    for resource in document["resources"]:
        assert set(resource) >= {"urn", "type", "name", "parent", "inputs"}
    report = json.loads((out / "policy-report.json").read_text())
    assert all(set(v) == {"policy", "level", "urn", "message"} for v in report["violations"])
    assert list((out / "manifests").rglob("*.yaml"))


def test_readme_explains_every_dev_advisory_and_prod_has_none(plans: dict[str, Path]) -> None:
    """README's Policies section lists each advisory the dev plan reports, with its reason."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Policies") : readme.index("## Security: what is enforced where")]
    dev = json.loads((plans["dev"] / "policy-report.json").read_text())["violations"]
    for name in sorted({v["policy"] for v in dev if v["level"] == "advisory"}):
        assert f"* `{name}`" in section, f"README: say why {name} is advisory in dev"
    assert json.loads((plans["prod"] / "policy-report.json").read_text())["violations"] == []


def test_report_names_mandatory_policies_a_preview_cannot_evaluate(plans: dict[str, Path]) -> None:
    report = json.loads((plans["prod"] / "policy-report.json").read_text())
    prod_levels = json.loads((ROOT / "policies" / "prod.json").read_text())
    skipped = {entry["policy"] for entry in report["unknownAtPreview"]}
    # Computed ARNs (KMS key, EFS file system) are unknown until apply in a first preview.
    assert {"efs-policy-allows-mounts", "ebs-class-key-usable-by-csi"} <= skipped
    # A key that must merely be set counts an unknown as set; fleets are told apart by label, not
    # by the registry's digest (known only after the build).
    assert not {"efs-encrypted-cmk", "model-runner-has-servicemonitor"} & skipped
    for name in skipped:
        level = prod_levels[name] if isinstance(prod_levels[name], str) else prod_levels[name]["enforcementLevel"]
        assert level == "mandatory", name
    assert json.loads((plans["dev"] / "policy-report.json").read_text())["unknownAtPreview"] == []


def test_two_runs_in_two_processes_are_byte_identical(plans: dict[str, Path], tmp_path: Path) -> None:
    # Another interpreter (its own hash seed): the program's output must not depend on it. The
    # subprocess is `make plan` itself, so its preview-like run is the forked child's
    # (planner/forked.py), while the fixture's ran in-process: the findings must not differ either.
    again = tmp_path / "prod"
    result = plan_subprocess("prod", again, ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    first = {p.relative_to(plans["prod"]): p.read_bytes() for p in plans["prod"].rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []
    assert json.loads((again / "policy-report.json").read_text())["unknownAtPreview"]


@pytest.mark.scan
def test_manifests_pass_strict_kubernetes_validation(plans: dict[str, Path]) -> None:
    """Every core manifest of every stack, against the schemas of that stack's Kubernetes version
    (one validator run per version; custom resources are checked by tests/unit/specs/test_crd_schemas.py)."""
    from planner.validate_manifests import core_manifests, kubernetes_version, validate

    by_version: dict[str, list[Path]] = {}
    for stack in STACKS:
        core = core_manifests(plans[stack])
        assert core, stack
        by_version.setdefault(kubernetes_version(plans[stack]), []).extend(core)
    for k8s_version, manifests in sorted(by_version.items()):
        result = validate(manifests, k8s_version)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.scan
def test_checkov_passes_the_prod_manifests_with_waivers_only_on_the_objects(plans: dict[str, Path]) -> None:
    """`make scan STACK=prod`'s checkov run: zero failures, no CLI skips (a waiver is a
    `checkov.io/skip` annotation with its reason on the object itself)."""
    checkov = ROOT / ".venv-checkov" / "bin" / "checkov"
    if not checkov.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{checkov} missing under CI: make checkov-venv")
        pytest.skip("checkov not installed: make checkov-venv")
    result = subprocess.run(
        [
            str(checkov),
            "--compact",
            "--skip-download",
            "--framework",
            "kubernetes",
            "-d",
            str(plans["prod"] / "manifests"),
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    # (without --quiet, so the JSON lists skipped checks too)
    summary = report["summary"]
    assert summary["failed"] == 0, [c["check_id"] + " " + c["resource"] for c in report["results"]["failed_checks"]]
    skipped = report["results"]["skipped_checks"]
    # The waivers: no CPU limit on inference servers, vLLM's API key from the environment; each with its reason.
    assert {c["check_id"] for c in skipped} == {"CKV_K8S_11", "CKV_K8S_35"}
    assert all(c["check_result"]["suppress_comment"] for c in skipped)


def test_settings_json_is_the_effective_settings_without_secret_values(plans: dict[str, Path]) -> None:
    settings = json.loads((plans["prod"] / "settings.json").read_text())
    assert settings["models"]["coder-32b"]["gpuMemoryUtilization"] == 0.9  # the field default, resolved
    assert settings["cluster"]["eks"]["logRetentionDays"] == 365  # the preset
    assert settings["secretKeys"] == ["tailscaleOauthClientId", "tailscaleOauthClientSecret"]
    cost = json.loads((plans["prod"] / "cost.json").read_text())
    # Prod's stack file: one replica (2 GPUs) outside business hours, a second held by the warm floor.
    assert cost["fleets"]["coder-32b"]["gpus"] == {"minReplicas": 2, "maxReplicas": 8}
    assert cost["fleets"]["coder-32b"]["warmFloor"]["extraGpus"] == 2


def test_every_warning_and_advisory_names_the_key_that_fixes_it(plans: dict[str, Path]) -> None:
    """Issue 22 item 13: each warning and each policy finding names an ai-infra: key, and no
    finding has an empty resource name (stack policies name the stack)."""
    for stack in STACKS:
        summary = (plans[stack] / "summary.txt").read_text().splitlines()
        warnings = [line for line in summary if line.startswith("Warning: ")]
        findings = [line for line in summary if line.startswith(("  ! [", "  ✗ ["))]
        for line in warnings:
            assert line.startswith("Warning: ai-infra:"), line
        for line in findings:
            assert "ai-infra:" in line, line
            assert ":  —" not in line, line


def test_a_placeholder_secret_is_flagged_as_undecryptable(plans: dict[str, Path]) -> None:
    """Issue 22 item 14: prod's stack file carries `secure: v1:placeholder…` so the offline plan
    runs; a real preview cannot decrypt that, and the summary says so per key (never the value)."""
    summary = (plans["prod"] / "summary.txt").read_text()
    for key in ("ai-infra:tailscaleOauthClientId", "ai-infra:tailscaleOauthClientSecret"):
        assert f"Warning: {key}: its secure: value is a placeholder no secrets provider can decrypt" in summary
    assert "placeholder-set-with" not in summary
    assert "its secure: value" not in (plans["dev"] / "summary.txt").read_text()


SNAPSHOT_PARTS = ("summary.txt", "cost.json", "manifests", "helm")


def _snapshot_files(root: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for part in SNAPSHOT_PARTS:
        path = root / part
        for f in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            files[str(f.relative_to(root))] = f.read_bytes()
    return files


@pytest.mark.parametrize("stack", STACKS)
def test_the_plan_matches_its_snapshot(plans: dict[str, Path], stack: str) -> None:
    """tests/snapshots/<stack>/ is the plan reviewers read in a pull request: refresh it with
    `make snapshot` whenever the plan changes on purpose."""
    snapshot = _snapshot_files(ROOT / "tests" / "snapshots" / stack)
    planned = _snapshot_files(plans[stack])
    added, removed = sorted(set(planned) - set(snapshot)), sorted(set(snapshot) - set(planned))
    changed = sorted(name for name in set(planned) & set(snapshot) if planned[name] != snapshot[name])
    assert not (added or removed or changed), (
        f"the {stack} plan differs from tests/snapshots/{stack} (run `make snapshot` and review the diff): "
        f"added {added[:5]}, removed {removed[:5]}, changed {changed[:5]}"
    )


def test_the_plan_writes_each_fleets_cold_start_with_its_sources(plans: dict[str, Path]) -> None:
    # issue 26: startup.json beside cost.json; the summary prints the total and the slowest phase.
    report = json.loads((plans["prod"] / "startup.json").read_text())
    coder = report["fleets"]["coder-32b"]
    assert coder["slowestPhase"] == "imagePull" and coder["totalSeconds"] > coder["probedSeconds"] > 0
    assert "Cold start coder-32b: ~" in (plans["prod"] / "summary.txt").read_text()
    # An existing cluster's machines are there already: no node boot.
    local = json.loads((plans["local"] / "startup.json").read_text())
    assert local["fleets"] and all("nodeBoot" not in f["phases"] for f in local["fleets"].values())
    # Each fast path with the total the other way: what it buys (prod streams coder-32b from S3).
    assert coder["fastPaths"]["s3Streamer"]["enabled"] is True
    assert coder["fastPaths"]["s3Streamer"]["totalSecondsWithout"] > coder["totalSeconds"]
    assert coder["fastPaths"]["sociParallelPull"]["totalSecondsWith"] < coder["totalSeconds"]
    dev = json.loads((plans["dev"] / "startup.json").read_text())["fleets"]["qwen-instruct"]
    assert dev["fastPaths"]["compileCache"] == {
        "enabled": True,
        "totalSecondsWithout": pytest.approx(dev["totalSeconds"] + 77.5, abs=0.2),
    }
