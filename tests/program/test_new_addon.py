"""A new plain Helm add-on is two files (issue 24, item 2): its chart's entry in the lockfile
``policies/charts.json`` and its record module ``components/specs/addons/<name>.py``.

The proof writes exactly those two files for a fake add-on, ``echo``, into a copy of the project
and runs the copy in a fresh interpreter (the lockfile is read at import): its namespace, its
NetworkPolicies, its generic ``HelmAddOn`` release (pinned by a digest the stack gives), the
settings key ``addons.echo`` and the policy pack's allowlist all pick it up, and prod requires its
image digests, with no other file edited. docs/architecture.md's walkthrough names the same two.
"""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, TEST_DIGEST

WRITTEN = ("policies/charts.json", "components/specs/addons/{name}.py")
"""The files a developer writes for a new plain add-on (``{name}``: its module name)."""

COPIED = (
    "components",
    "stack",
    "planner",
    "policies",
    "__main__.py",
    "Pulumi.yaml",
    "Pulumi.local.yaml",
    "Pulumi.prod.yaml",
)

ECHO_MODULE = '''"""echo: a fake plain Helm add-on (tests/program/test_new_addon.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi_kubernetes as k8s

from components.core.charts import chart
from components.specs.addons.base import AddOn, HelmRelease, ValuesInputs
from components.specs.system_network import ClusterNetwork, allow_from, cidr_peers, component_policy


def echo_policies(
    ns: str, net: ClusterNetwork, labels: Mapping[str, str]
) -> list[k8s.networking.v1.NetworkPolicyInitArgs]:
    pods = {"app.kubernetes.io/name": "echo"}
    return [component_policy("echo", ns, labels, pods, ingress=[allow_from(cidr_peers(net.private_cidrs), 8080)])]


def _values(i: ValuesInputs) -> dict[str, Any]:
    return {"replicas": i.settings.platform.controller_replicas}


ADDON = AddOn(
    namespace="echo",
    pod_security="restricted",
    charts=(chart("echo"),),
    enabled=lambda s: True,
    network_policies=echo_policies,
    helm=HelmRelease(type_token="ai-infra:k8s:Echo", name="echo", values=_values),
)
'''

ECHO_CHART = {
    "repo": "https://charts.example.org/echo",
    "version": "1.0.0",
    "preinstallable": True,
    "source": "example/echo charts/echo @ v1.0.0 (a fake chart)",
    "images": [
        {
            "name": "echo",
            "repository": "registry.example.org/echo",
            "path": ["image"],
            "style": "tag",
            "defaultTag": "v1.0.0",
            "source": "example/echo charts/echo/values.yaml `image` @ v1.0.0",
        }
    ],
}

DRIVER = """
import json, sys
from pathlib import Path

from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs

from aiinfra_policies import platform
from components.core.settings import SettingsError, decode_config, parse_settings
from components.specs.addons import digest_problems
from planner.engine import run_program
from planner.stack_config import load_stack_config

root, digest = Path.cwd(), sys.argv[1]
facts = {"allowlist": platform.ALLOWED_CHARTS.get("echo")}

def settings(stack, config):
    raw, secrets, foreign = decode_config(config, frozenset(load_stack_config(root, stack).secret_keys))
    return parse_settings(raw, stack=stack, secret_keys=secrets, foreign_keys=foreign)

# local: the smallest stack file (an existing cluster); the add-on's wiring is the same on every one.
small = load_stack_config(root, "local")
config = small.config | {"ai-infra:addons": json.dumps({"echo": {"imageDigests": {"echo": digest}}})}
run = run_program(root, "local", config, small.secret_keys)
meta = lambda r: r.inputs.get("metadata") or {}
facts["namespaces"] = [meta(r).get("name") for r in run.registrations if r.type == "kubernetes:core/v1:Namespace"]
facts["policies"] = sorted(
    meta(r)["name"] for r in run.registrations
    if r.type.endswith(":NetworkPolicy") and meta(r).get("namespace") == "echo"
)
(release,) = [r for r in run.registrations if r.type.endswith(":Release") and r.inputs["name"] == "echo"]
facts["release"] = {"urn": release.urn, **{k: release.inputs[k] for k in ("chart", "version", "namespace", "values")}}
facts["repo"] = release.inputs["repositoryOpts"]["repo"]
(policy,) = [p for p in platform.POLICIES if p.name == "helm-release-allowlisted"]
found = []
opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
args = ResourceValidationArgs(release.type, release.inputs, release.urn, release.name, opts, None, {})
policy.validate(args, lambda message, urn=None: found.append(message))
facts["violations"] = found

preinstalled = settings("local", small.config | {"ai-infra:addons": '{"echo": {"install": false}}'}).preinstalled
facts["preinstalled"] = sorted(preinstalled)
try:
    settings("local", small.config | {"ai-infra:addons": json.dumps({"echo": {"imageDigests": {"nope": digest}}})})
except SettingsError as err:
    facts["unknown_image"] = str(err)
prod = settings("prod", load_stack_config(root, "prod").config)
facts["prod_missing"] = digest_problems(prod)
# The program refuses it before it registers anything (a real `pulumi up` never stops half-way).
import planner.engine as engine
monitors = []
real_start = engine.start_mocks
engine.start_mocks = lambda *a, **k: monitors.append(real_start(*a, **k)) or monitors[-1]
prod_stack = load_stack_config(root, "prod")
try:
    run_program(root, "prod", prod_stack.config, prod_stack.secret_keys)
except SettingsError as err:
    facts["prod_refused"] = str(err)
facts["prod_registered"] = len(monitors[-1].registrations)
print(json.dumps(facts))
"""


def _copy_project(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "venv", ".venv*", ".mypy_cache")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore)
        else:
            shutil.copy2(source, dest / name)


def _changed(copy: Path) -> set[str]:
    """Files of the copy that differ from the project's (added or edited)."""
    changed = set()
    for path in copy.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(copy)
            original = ROOT / rel
            if not original.exists() or not filecmp.cmp(path, original, shallow=False):
                changed.add(str(rel))
    return changed


def _add_echo(copy: Path) -> None:
    (copy / WRITTEN[1].format(name="echo")).write_text(ECHO_MODULE)
    lockfile = copy / WRITTEN[0]
    document = json.loads(lockfile.read_text())
    document["charts"]["echo"] = ECHO_CHART
    lockfile.write_text(json.dumps(document, indent=2) + "\n")


def _run(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{copy}{os.pathsep}{copy / 'policies'}", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True, timeout=300)


def test_a_new_plain_addon_is_its_lockfile_entry_and_its_record_module(tmp_path: Path) -> None:
    _copy_project(tmp_path)
    _add_echo(tmp_path)
    assert _changed(tmp_path) == {f.format(name="echo") for f in WRITTEN}
    done = _run(tmp_path, "-c", DRIVER, TEST_DIGEST)
    assert done.returncode == 0, done.stderr
    facts: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    # Its namespace, with the system defaults and its own allow.
    assert "echo" in facts["namespaces"]
    assert facts["policies"] == ["allow-apiserver", "allow-dns", "default-deny", "echo"]
    # The generic HelmAddOn installs the lockfile's pin under the record's type token, by digest.
    release = facts["release"]
    assert release["urn"].endswith("ai-infra:k8s:Echo$kubernetes:helm.sh/v3:Release::echo-release")
    assert (release["chart"], release["version"], release["namespace"]) == ("echo", "1.0.0", "echo")
    assert facts["repo"] == "https://charts.example.org/echo"
    assert release["values"] == {"replicas": 1, "image": {"tag": f"v1.0.0@{TEST_DIGEST}"}}
    # The pack allowlists it from the same lockfile (dev.json and prod.json give only levels).
    assert facts["allowlist"] == {"repo": "https://charts.example.org/echo", "version": "1.0.0"}
    assert facts["violations"] == []
    # The settings key addons.echo: preinstallable, its image names known, its digests required in prod.
    assert "echo" in facts["preinstalled"]
    assert (
        "ai-infra:addons.echo.imageDigests.nope: is not an image of chart echo: one of ['echo']"
        in facts["unknown_image"]
    )
    assert [key for key, _ in facts["prod_missing"]] == ["addons.echo.imageDigests.echo"]
    assert "ai-infra:addons.echo.imageDigests.echo: is required in prod" in facts["prod_refused"]
    assert facts["prod_registered"] == 0


def test_a_broken_lockfile_stops_the_program_with_a_message_not_a_traceback(tmp_path: Path) -> None:
    _copy_project(tmp_path)
    lockfile = tmp_path / WRITTEN[0]
    lockfile.write_text(lockfile.read_text().replace('"version": "2.17.2"', '"version": "2.17"', 1))
    done = _run(tmp_path, "-c", "import components.core.charts")
    assert done.returncode == 2  # the planner's "invalid configuration"
    assert done.stderr.strip() == (
        "policies/charts.json: charts.keda.version: '2.17' is not a chart version (SemVer, e.g. 2.17.2 or v1.9.0)"
    )


def test_the_walkthrough_names_exactly_the_two_files() -> None:
    """docs/architecture.md's "Adding a Helm add-on": its numbered steps are the files written."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Adding a Helm add-on", 1)[1].split("\n## ", 1)[0]
    steps = re.findall(r"^\d+\. \*\*`([^`]+)`", section, flags=re.MULTILINE)
    assert steps == [f.format(name="foo") for f in WRITTEN]
