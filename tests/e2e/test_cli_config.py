"""The real Pulumi CLI judges every stack file, and its verdict must be the planner's.

``planner/stack_config.py`` re-implements the CLI's config checks so the offline plan refuses
what ``pulumi preview`` would refuse, in the CLI's words. Here the real CLI (``make tools``)
previews each stack file — ours (dev, prod, local, the e2e stack) and the bad ones of
``tests/planner/test_stack_config.py`` — against a project with the same ``Pulumi.yaml`` config
section and an empty program, so the only thing judged is the config (no provider, no network).
Any disagreement fails:

- the planner refuses → the CLI refuses, with the planner's message in its output;
- the planner flags undecryptable ``secure:`` placeholders → the CLI refuses with "bad value";
- the planner accepts → the CLI previews the (empty) program successfully.

Then the real program runs for the EKS stacks (dev, and prod with its placeholders replaced by
real ciphertexts): both get past config validation and stop at the missing AWS plugin, which
cannot be built from the Go module proxy (its upstream is a git submodule) — expected, asserted.

Every CLI process runs in a network namespace with only loopback when ``unshare -n`` works here
(root), so nothing it starts can send traffic off the machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from planner.stack_config import StackConfigError, load_stack_config
from tests.e2e.cluster import BIN, ROOT
from tests.planner.test_stack_config import COMPLETE, PROJECT

pytestmark = pytest.mark.e2e

WORK = ROOT / ".cache" / "engine" / "cli"
TIMEOUT_S = 180
SECRET = "__SECRET__"
"""Replaced by a real ciphertext for the test stack's passphrase salt."""
EMPTY_PROGRAM = "import pulumi\n\npulumi.export('judged', True)\n"
AWS_PLUGIN_MISSING = "no resource plugin 'pulumi-resource-aws' found"


@dataclass(frozen=True)
class Case:
    name: str
    text: str | bytes
    project: dict[str, Any] | None = None
    """``Pulumi.yaml`` for the case (default: the test project of test_stack_config)."""
    same_words: bool = True
    """The planner's first message is the CLI's own wording (else only the verdict must agree)."""
    stricter: str = ""
    """Why the planner refuses what the CLI lets through (a deliberate, documented difference)."""


GOOD = COMPLETE.replace("v1:AAAA", SECRET)
WITH_ZONE = {**PROJECT, "config": {**PROJECT["config"], "zone": {"type": "string"}}}
OLD_CLI = {**PROJECT, "requiredPulumiVersion": ">=3.100.0"}

CASES = [
    Case("complete", GOOD),
    Case("missing-two-keys", "config:\n  ai-infra:environment: dev\n"),
    Case("missing-three-keys", "config:\n  ai-infra:environment: dev\n", project=WITH_ZONE),
    Case("placeholder-secret", COMPLETE),
    Case("plain-secret", GOOD.replace(f"  ai-infra:token:\n    secure: {SECRET}\n", "  ai-infra:token: plain\n")),
    Case(
        "strings-and-integers-from-any-scalar",
        GOOD.replace("ai-infra:costCenter: cc", "ai-infra:costCenter: 4242") + "  ai-infra:replicas: '7'\n",
    ),
    Case("list-is-not-a-string", GOOD.replace("ai-infra:costCenter: cc", "ai-infra:costCenter: [a]")),
    Case("on-is-not-a-boolean", GOOD + "  ai-infra:debug: on\n"),
    Case("string-is-not-an-object", GOOD.replace("ai-infra:gpu: {}", "ai-infra:gpu: device-plugin")),
    Case("key-without-namespace", GOOD + "  team: research\n"),
    Case("duplicate-key", GOOD + "  ai-infra:environment: prod\n"),
    Case(
        "object-types-need-a-recent-cli",
        GOOD,
        project=OLD_CLI,
        stricter="the range admits CLIs before 3.187.0, which fail every type: object value; ours is newer",
    ),
    Case(
        "merge-keys",
        GOOD + "  ai-infra:models:\n    base: &base {engine: vllm}\n    coder:\n      <<: *base\n      cpu: '8'\n",
    ),
    Case("two-merge-keys", GOOD + "  ai-infra:models:\n    a:\n      <<: {x: 1}\n      <<: {y: 1}\n"),
    Case("merge-of-a-scalar", GOOD + "  ai-infra:models:\n    a:\n      <<: 1\n"),
    Case("top-level-list", "- config\n", same_words=False),
    Case("top-level-scalar", "42\n", same_words=False),
    Case("not-utf8", b"config:\n  ai-infra:team: \xe9quipe\n", same_words=False),
    Case("utf16-with-bom", GOOD.encode("utf-16")),
    Case(
        "setting-outside-config",
        GOOD + "aws:region: us-east-1\n",
        stricter="the CLI ignores top-level keys it does not know; a setting there would silently do nothing",
    ),
]


@dataclass
class Cli:
    env: dict[str, str]
    isolate: list[str]
    stacks: int = 0

    def run(self, cwd: Path, *args: str, timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.isolate, str(BIN / "pulumi"), *args, "--non-interactive"],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def project(self, where: Path, project: dict[str, Any], text: str | bytes) -> Judged:
        """A project with ``project``'s config section, an empty program and a new stack whose
        file is ``text``: its own passphrase salt appended (a top-level key after everything, so
        line numbers hold) and ``__SECRET__`` replaced by a ciphertext of that salt. Each case has
        its own stack (a stack file without its salt gets a new one from the CLI)."""
        shutil.rmtree(where, ignore_errors=True)
        where.mkdir(parents=True)
        judged = {**project, "runtime": {"name": "python", "options": {"virtualenv": str(ROOT / ".venv")}}}
        (where / "Pulumi.yaml").write_text(yaml.safe_dump(judged, sort_keys=False))
        (where / "__main__.py").write_text(EMPTY_PROGRAM)
        self.stacks += 1
        stack = f"s{self.stacks}"
        init = self.run(where, "stack", "init", stack)
        assert init.returncode == 0, init.stderr
        stack_file = where / f"Pulumi.{stack}.yaml"
        done = self.run(where, "config", "set", "--secret", "ai-infra:token", "not-a-real-token", "--stack", stack)
        assert done.returncode == 0, done.stderr
        seeded = yaml.safe_load(stack_file.read_text())
        salt, ciphertext = seeded["encryptionsalt"], seeded["config"]["ai-infra:token"]["secure"]
        if isinstance(text, bytes):
            if text.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its byte-order mark
                decoded = text.decode("utf-16") + f"encryptionsalt: {salt}\n"
                text = decoded.replace(SECRET, ciphertext).encode("utf-16")
            stack_file.write_bytes(text)
            return Judged(where, stack, salt, ciphertext)
        if _is_mapping(text):
            text += f"encryptionsalt: {salt}\n"
        stack_file.write_text(text.replace(SECRET, ciphertext))
        return Judged(where, stack, salt, ciphertext)


@dataclass(frozen=True)
class Judged:
    where: Path
    stack: str
    salt: str
    ciphertext: str


def _is_mapping(text: str) -> bool:
    try:
        return isinstance(yaml.load(text, Loader=yaml.BaseLoader), dict)  # BaseLoader builds no tags
    except yaml.YAMLError:
        return False


def _isolation() -> list[str]:
    probe = ["unshare", "-n", "sh", "-c", "ip link set lo up"]
    usable = shutil.which("unshare") and shutil.which("ip")
    if usable and subprocess.run(probe, capture_output=True, timeout=10, check=False).returncode == 0:
        return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "isolated"]
    return []


@pytest.fixture(scope="module")
def cli() -> Iterator[Cli]:
    if not all((BIN / t).exists() for t in ("pulumi", "pulumi-language-python", "pulumi-language-python-exec")):
        pytest.fail("the engine is not built: run make tools")
    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "home").mkdir(parents=True)
    (WORK / "state").mkdir()
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(BIN), str(ROOT / ".venv-bootstrap" / "bin"), os.environ.get("PATH", "")]),
        "PULUMI_HOME": str(WORK / "home"),
        "PULUMI_BACKEND_URL": f"file://{WORK / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "cli-config-only",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "UV_OFFLINE": "1",
    }
    yield Cli(env, isolate=_isolation())
    shutil.rmtree(WORK, ignore_errors=True)


def _planner(judged: Judged) -> tuple[list[str], list[str]]:
    """The planner's verdict: its refusal messages (empty when it accepts) and the keys whose
    placeholders a real preview cannot decrypt."""
    try:
        config = load_stack_config(judged.where, judged.stack)
    except StackConfigError as exc:
        return [message for _, message in exc.problems], []
    return [], config.undecryptable


def _judge(cli: Cli, judged: Judged, case: Case) -> None:
    refused, undecryptable = _planner(judged)
    done = cli.run(judged.where, "preview", "--stack", judged.stack)
    said = done.stdout + done.stderr
    if case.stricter:
        assert refused and done.returncode == 0, (case.name, refused, said[-2000:])
    elif refused:
        assert done.returncode != 0, f"{case.name}: the planner refuses ({refused[0]}) but the CLI previewed"
        if case.same_words:
            assert refused[0] in said, f"{case.name}: the CLI said\n{said[-2000:]}\nthe planner said\n{refused[0]}"
    elif undecryptable:
        assert done.returncode != 0 and "validating stack config: bad value" in said, (case.name, said[-2000:])
    else:
        assert done.returncode == 0, f"{case.name}: the planner accepts but the CLI refused:\n{said[-3000:]}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_cli_and_the_planner_agree_on_a_bad_stack_file(cli: Cli, case: Case) -> None:
    _judge(cli, cli.project(WORK / case.name, case.project or PROJECT, case.text), case)


def _our_stack_files() -> dict[str, str]:
    files = {p.name.split(".")[1]: p.read_text() for p in sorted(ROOT.glob("Pulumi.*.yaml"))}
    files.pop("e2e", None)  # the e2e fixture's scratch copy, if a run is under way
    e2e = (Path(__file__).with_name("Pulumi.e2e.yaml")).read_text()
    files["e2e"] = e2e.replace("@KUBECONFIG@", str(WORK / "kubeconfig"))
    return files


ROOT_PROJECT: dict[str, Any] = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())


@pytest.mark.parametrize("stack", sorted(_our_stack_files()))
def test_the_cli_accepts_our_stack_files_as_the_planner_does(cli: Cli, stack: str) -> None:
    _judge(cli, cli.project(WORK / f"stack-{stack}", ROOT_PROJECT, _our_stack_files()[stack]), Case(stack, ""))
    # Every stack file of ours gets past config validation once its placeholders hold real
    # ciphertexts (prod's two Tailscale OAuth entries are placeholders for the offline plan).
    text = re.sub(r"secure: v1:placeholder[\w-]*", f"secure: {SECRET}", _our_stack_files()[stack])
    judged = cli.project(WORK / f"stack-{stack}-set", ROOT_PROJECT, text)
    assert _planner(judged) == ([], [])
    done = cli.run(judged.where, "preview", "--stack", judged.stack)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_real_program_of_an_eks_stack_stops_only_at_the_missing_aws_plugin(cli: Cli, stack: str) -> None:
    """Config passes, settings parse and the program runs under the real engine up to the first
    AWS resource, which needs pulumi-resource-aws (not buildable from the module proxy)."""
    text = re.sub(r"secure: v1:placeholder[\w-]*", f"secure: {SECRET}", _our_stack_files()[stack])
    judged = cli.project(WORK / f"real-{stack}", ROOT_PROJECT, text)
    # The stack belongs to project ai-infra, like ROOT's; --config-file keeps ROOT clean.
    config_file = judged.where / f"Pulumi.{judged.stack}.yaml"
    done = cli.run(ROOT, "preview", "--stack", judged.stack, "--config-file", str(config_file))
    said = done.stdout + done.stderr
    assert done.returncode != 0
    assert "validating stack config" not in said and "SettingsError" not in said, said[-3000:]
    assert AWS_PLUGIN_MISSING in said, said[-3000:]
