"""``.pre-commit-config.yaml`` runs the project's own tools, and the repository's YAML passes yamllint.

Every hook is local (``language: system``) and its entry is a tool in ``.venv`` or a Makefile
target, so a hook that names a tool the project does not install fails here, not on a
developer's commit. The hooks cover ruff (lint and format), mypy as ``make typecheck`` runs it,
hadolint on ``images/`` as the image tests run it, and yamllint with ``.yamllint``, which this
test also runs over the repository's YAML.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

CONFIG = ROOT / ".pre-commit-config.yaml"
VENV_BIN = Path(sys.executable).parent


def hooks() -> dict[str, dict[str, Any]]:
    config = yaml.safe_load(CONFIG.read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    return {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}


def test_the_hooks_are_ruff_mypy_hadolint_and_yamllint() -> None:
    assert set(hooks()) == {"ruff", "ruff-format", "mypy", "hadolint", "yamllint"}


def test_every_hook_entry_is_a_project_tool_or_make_target() -> None:
    targets = {m.group(1) for m in re.finditer(r"^([A-Za-z][\w-]*):(?!=)", (ROOT / "Makefile").read_text(), re.M)}
    for hook_id, hook in hooks().items():
        assert hook["language"] == "system", hook_id
        command, *args = shlex.split(hook["entry"])
        if command == "make":
            target = next(a for a in args if not a.startswith("-"))
            assert target in targets, f"{hook_id}: make {target} is not a Makefile target"
            assert hook["pass_filenames"] is False, f"{hook_id}: a make target takes no file names"
        else:
            assert command.startswith(".venv/bin/"), f"{hook_id}: {command} is not a .venv tool"
            tool = VENV_BIN / command.removeprefix(".venv/bin/")
            assert tool.is_file(), f"{hook_id}: {tool} missing (a dev dependency? make venv)"


def test_the_hooks_run_the_tools_as_make_and_the_tests_do() -> None:
    found = hooks()
    makefile = (ROOT / "Makefile").read_text()
    assert "$(PY) -m ruff check ." in makefile and found["ruff"]["entry"].startswith(".venv/bin/ruff check")
    assert "$(PY) -m ruff format --check ." in makefile and found["ruff-format"]["entry"].startswith(
        ".venv/bin/ruff format"
    )
    assert found["mypy"]["entry"] == "make -s typecheck"
    dockerfiles = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "images").glob("*/Dockerfile"))
    assert dockerfiles
    assert all(re.search(found["hadolint"]["files"], f) for f in dockerfiles)
    assert not re.search(found["hadolint"]["files"], "images/README.md")
    assert "--failure-threshold warning" in found["hadolint"]["entry"]
    assert '"--failure-threshold", "warning"' in (ROOT / "tests" / "images" / "test_dockerfiles.py").read_text()


@pytest.mark.scan
def test_the_repositorys_yaml_passes_yamllint() -> None:
    result = subprocess.run(
        [str(VENV_BIN / "yamllint"), "--strict", "-c", str(ROOT / ".yamllint"), "-f", "parsable", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    listed = subprocess.run(
        [str(VENV_BIN / "yamllint"), "-c", str(ROOT / ".yamllint"), "--list-files", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    # The files that matter are linted (not ignored), build output is not.
    for name in (".github/workflows/preview.yml", ".pre-commit-config.yaml", "Pulumi.yaml", "Pulumi.prod.yaml"):
        assert f"./{name}" in listed
    assert not [f for f in listed if f.startswith(("./build/", "./.venv"))]


def test_yamllint_fails_what_it_should(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("key:  value\nlist:\n- a\n-  b\n")
    result = subprocess.run(
        [str(VENV_BIN / "yamllint"), "--strict", "-c", str(ROOT / ".yamllint"), str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "colons" in result.stdout
