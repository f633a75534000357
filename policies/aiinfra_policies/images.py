"""Section B of ``policies/RULES.md``: image provenance (rules 18–23).

What a node runs must be the image that was reviewed: a tag is a pointer anyone with push
rights can move, so containers name an explicit tag (18) and, in prod, a digest (19), from a
registry the platform trusts (20). A tag that is not a digest is re-checked on every start
(21). Images the stack builds (``docker:index/image:Image``) push only to a trusted registry,
for the GPU nodes' platform, and never take credentials as build arguments, by name or as a
URL's password in a value (22).

A build's Dockerfile decides what the image is made of and who it runs as (23): every base
pinned (a version tag or a digest, never latest) from a trusted registry, the final stage's
``USER`` not root, no ``ADD`` from a URL (unverified downloads), no ``sudo`` and no TLS
verification switched off (``curl -k``, ``wget --no-check-certificate``). The engine hands a pack
resource inputs, not files, but a local pack runs on the machine that runs the program: the CLI
starts it with the pack folder as working directory (``docs/research/pulumi-cli.md`` B1), and the
image's ``build.dockerfile`` (pulumi-docker: relative to the program's folder, default
``<context>/Dockerfile``; provider/image.go ``marshalBuildAndApplyDefaults``) is found under the
policy's ``programRoot`` (default ``..``: the pack lives in the program's ``policies/``);
pulumi-docker-build's ``dockerfile.location`` (default ``<context.location>/Dockerfile``) the same
way, and its ``dockerfile.inline`` as given. A Dockerfile the pack cannot read is a violation,
not a pass. ``tests/images/test_dockerfiles.py``
checks the same files further (digests' provenance, exact Python pins), with hadolint and checkov.

An image a build produces in this stack is known only after the build: in a first preview
these checks cannot read it and the plan's preview report lists them.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel

from aiinfra_policies.common import Report, RulePolicy, Subject, containers, policy
from aiinfra_policies.constants import DOCKER_IMAGES, WORKLOAD_TYPES
from aiinfra_policies.secrets import url_credential

M = EnforcementLevel.MANDATORY
A = EnforcementLevel.ADVISORY

OWN_ECR = re.compile(r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/")
"""The account's own ECR (``allowOwnEcr``): repositories this stack or its pull-through caches fill."""
DEFAULT_REGISTRIES = [
    "public.ecr.aws/",
    "nvcr.io/",
    "registry.k8s.io/",
    "quay.io/",
    "ghcr.io/",
    "docker.io/vllm/",
    "docker.io/ollama/",
    "docker.io/lmsysorg/",
]
"""Trusted prefixes outside the own ECR (dev's defaults; ``policies/prod.json`` narrows them)."""
BASE_REGISTRIES = [*DEFAULT_REGISTRIES, "docker.io/nvidia/"]
"""Trusted base-image prefixes for Dockerfiles (rule 23): the workload registries plus NVIDIA's
CUDA bases on Docker Hub, which the training and inference images build on."""
SECRET_ARG = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL", re.IGNORECASE)
GPU_PLATFORM = "linux/amd64"


def normalize(image: str) -> str:
    """The reference with its registry host spelled out (``vllm/x`` -> ``docker.io/vllm/x``)."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return image
    return f"docker.io/{image}" if rest else f"docker.io/library/{image}"


def tag_of(image: str) -> str | None:
    """The tag of a reference (``None`` when it has none); a digest reference may carry one too."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def pinned(image: str) -> bool:
    return "@sha256:" in image


def trusted(image: str, config: Mapping[str, Any]) -> bool:
    full = normalize(image)
    if config.get("allowOwnEcr", True) and OWN_ECR.match(full):
        return True
    return any(full.startswith(prefix) for prefix in config.get("allowedRegistries", DEFAULT_REGISTRIES))


def _images(r: Subject) -> list[tuple[str, Any]]:
    return [(f"{r.pod_path}.{cpath}.image", c.get("image")) for cpath, c in containers(r.pod)]


# 18 ------------------------------------------------------------------------------------------
def _tag_not_latest(r: Subject, report: Report) -> None:
    for path, image in _images(r):
        if not isinstance(image, str) or not image:
            report(f"{path} must name an image.")
        elif not pinned(image) and tag_of(image) in (None, "latest"):
            report(f"{path} must name an explicit version tag (not latest) or a digest.")


# 19 ------------------------------------------------------------------------------------------
def _digest(r: Subject, report: Report) -> None:
    for path, image in _images(r):
        if isinstance(image, str) and not pinned(image):
            report(f"{path} must be pinned by digest (name@sha256:...): build it here (registry.build) or pin it.")


# 20 ------------------------------------------------------------------------------------------
def _trusted_registry(r: Subject, report: Report) -> None:
    for path, image in _images(r):
        if isinstance(image, str) and image and not trusted(image, r.config):
            report(f"{path} must come from the own ECR or a registry in the policy's allowedRegistries.")


# 21 ------------------------------------------------------------------------------------------
def _pull_policy(r: Subject, report: Report) -> None:
    for cpath, c in containers(r.pod):
        image = c.get("image")
        if isinstance(image, str) and not pinned(image) and c.get("imagePullPolicy") != "Always":
            report(f"{r.pod_path}.{cpath}.imagePullPolicy must be Always for an image not pinned by digest.")


# 22 ------------------------------------------------------------------------------------------
def _build_hygiene(r: Subject, report: Report) -> None:
    build = r.props.get("build")
    build = build if isinstance(build, Mapping) else {}
    # Build settings first: they are known at preview, the pushed name may not be.
    platform = build.get("platform") or ",".join(r.props.get("platforms") or [])
    if platform != GPU_PLATFORM:
        report(f"build.platform must be {GPU_PLATFORM} (the GPU nodes' platform), set explicitly.")
    args = build.get("args") or r.props.get("buildArgs") or {}
    if isinstance(args, Mapping) and any(SECRET_ARG.search(str(k)) for k in args):
        report("Build arguments must not carry credentials (they stay in the image history); use build secrets.")
    for key in args if isinstance(args, Mapping) else []:
        if url_credential(args.get(key)):
            report(
                f"Build argument {key} holds a URL with a password (it stays in the image history); use build secrets."
            )
    if r.props.get("skipPush") is True or r.props.get("push") is False:
        return
    names = [r.props.get("imageName")] if "imageName" in r.props else list(r.props.get("tags") or [])
    for name in names:
        if not isinstance(name, str) or tag_of(name) in (None, "latest"):
            report("The pushed image must carry an explicit tag (not latest); consumers then use its digest.")
        elif not (trusted(name, r.config) or normalize(name).split("/", 1)[0] in r.config.get("pushRegistries", [])):
            report("Images must be pushed to the own ECR or a host in the policy's pushRegistries.")


# 23 ------------------------------------------------------------------------------------------
URL_SOURCE = re.compile(r"^(https?|ftp|git)://|^git@", re.IGNORECASE)
ARG_REF = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
ROOT_USERS = frozenset({"root", "0"})


def dockerfile_lines(text: str) -> list[tuple[int, str, str]]:
    """``(line, KEYWORD, arguments)`` per instruction, continuations joined, comments dropped."""
    out: list[tuple[int, str, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        start = start or number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).strip().partition(" ")
        out.append((start, keyword.upper(), args.strip()))
        pending, start = "", 0
    return out


def _exec_form(rest: str) -> list[str] | None:
    """The words of an exec-form (JSON array) instruction, ``None`` for the shell form."""
    if not rest.startswith("["):
        return None
    try:
        words = json.loads(rest)
    except ValueError:
        return None
    return [str(w) for w in words] if isinstance(words, list) else None


def _commands(script: str) -> Iterator[list[str]]:
    """Each simple command of a RUN line as words, leading ``VAR=value`` assignments dropped."""
    exec_words = _exec_form(script)
    if exec_words is not None:
        yield exec_words
        return
    for part in re.split(r"&&|\|\||[;&|\n]", script):
        try:
            words = shlex.split(part)
        except ValueError:
            words = part.split()
        while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
            words = words[1:]
        if words:
            yield words


def _insecure(script: str) -> str | None:
    for words in _commands(script):
        tool = Path(words[0]).name
        if "sudo" in (tool, *words):
            return "sudo"
        flags = words[1:]
        if tool == "curl" and any(f in ("-k", "--insecure") or re.match(r"^-[A-Za-z]*k[A-Za-z]*$", f) for f in flags):
            return "curl -k"
        if tool == "wget" and "--no-check-certificate" in flags:
            return "wget --no-check-certificate"
    return None


def _dockerfile_source(r: Subject) -> tuple[str, str | None, Mapping[str, Any]]:
    """``(key path, Dockerfile path or None, build args)``; an inline docker-build Dockerfile has no path."""
    if r.type == "docker-build:index:Image":
        dockerfile = r.props.get("dockerfile") or {}
        context = (r.props.get("context") or {}).get("location") or "."
        if dockerfile.get("inline"):
            return "dockerfile.inline", None, r.props.get("buildArgs") or {}
        return (
            "dockerfile.location",
            dockerfile.get("location") or f"{context}/Dockerfile",
            r.props.get("buildArgs") or {},
        )
    build = r.props.get("build")
    build = build if isinstance(build, Mapping) else {"context": build} if isinstance(build, str) else {}
    context = build.get("context") or "."
    return "build.dockerfile", build.get("dockerfile") or f"{context}/Dockerfile", build.get("args") or {}


def dockerfile_problems(text: str, config: Mapping[str, Any], build_args: Mapping[str, Any]) -> Iterator[str]:
    """What rule 23 finds in one Dockerfile, as ``line N: ...`` (never quoting a value)."""
    args = {str(k): str(v) for k, v in build_args.items()}
    config = {"allowedRegistries": BASE_REGISTRIES, **config}
    stages: dict[str, str | None] = {}  # stage name -> its USER
    user: str | None = None
    current = ""  # the stage being read, when it has a name
    seen_from = False
    for line, keyword, rest in dockerfile_lines(text):
        if keyword == "ARG" and not seen_from:
            name, _, default = rest.partition("=")
            args.setdefault(name.strip(), default.strip().strip('"'))
        elif keyword == "FROM":
            seen_from = True
            words = [w for w in rest.split() if not w.startswith("--")]
            ref = ARG_REF.sub(lambda m: args.get(m.group(1), m.group(0)), words[0] if words else "")
            if "$" in ref or not ref:
                yield f"line {line}: FROM names a base the pack cannot resolve (a build argument without a value)."
            elif ref.lower() in stages:
                user = stages[ref.lower()]
            elif ref.lower() == "scratch":
                user = None
            else:
                user = None  # a base image's own USER is not known here: the Dockerfile must set one
                if not pinned(ref) and tag_of(ref) in (None, "latest"):
                    yield f"line {line}: FROM must pin its base by a version tag or digest, never latest."
                if not trusted(ref, config):
                    yield f"line {line}: FROM must take its base from the own ECR or the policy's allowedRegistries."
            if len(words) >= 3 and words[-2].upper() == "AS":
                stages[words[-1].lower()] = user
                current = words[-1].lower()
            else:
                current = ""
        elif keyword == "USER":
            user = rest.split()[0] if rest.split() else ""
            if current:
                stages[current] = user
        elif keyword == "ADD":
            words = [w for w in rest.split() if not w.startswith("--")]
            exec_words = _exec_form(" ".join(words))
            sources = (exec_words if exec_words is not None else words)[:-1]
            if any(URL_SOURCE.match(s) for s in sources):
                yield f"line {line}: ADD must not download from a URL (fetch with a checksum in RUN, or COPY)."
        elif keyword == "RUN":
            found = _insecure(re.sub(r"^(--\S+\s+)+", "", rest))  # RUN's own --mount/--network flags first
            if found:
                yield f"line {line}: RUN must not use {found}."
    if not seen_from:
        yield "the Dockerfile has no FROM."
    elif user is None or "$" in user or user.split(":", 1)[0] in ROOT_USERS or not user:
        yield "the final stage must end with USER set to a fixed non-root user (numeric UID, e.g. 10001:10001)."


def _dockerfile(r: Subject, report: Report) -> None:
    key, location, build_args = _dockerfile_source(r)
    if location is None:
        text = str((r.props.get("dockerfile") or {}).get("inline") or "")
        where = key
    else:
        path = Path(location)
        if not path.is_absolute():
            path = Path(str(r.config.get("programRoot", ".."))) / path
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError):
            report(
                f"{key}: the Dockerfile cannot be read under the policy's programRoot (set it to the program folder)."
            )
            return
        where = location
    for problem in dockerfile_problems(text, r.config, build_args if isinstance(build_args, Mapping) else {}):
        report(f"{where} {problem}")


_REGISTRIES_SCHEMA: dict[str, dict[str, Any]] = {
    "allowedRegistries": {
        "type": "array",
        "items": {"type": "string"},
        "default": DEFAULT_REGISTRIES,
        "description": "Trusted image reference prefixes (host/path/), besides the own ECR.",
    },
    "allowOwnEcr": {"type": "boolean", "default": True},
}

POLICIES: list[RulePolicy] = [
    policy(
        "k8s-image-tag-not-latest",
        rule="18",
        description="Containers name an explicit version tag or a digest, never latest.",
        remediation="Pin the image to a version tag or, better, a digest.",
        level=A,
        severity="medium",
        standard="CKV_K8S_14; OPA image_security",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_tag_not_latest,
    ),
    policy(
        "k8s-image-digest-pinned",
        rule="19",
        description="Containers run images pinned by digest (what was reviewed is what runs).",
        remediation="Build the image in this stack (ai-infra:registry.build) or pin modelImages by @sha256 digest.",
        level=A,
        severity="medium",
        standard="CKV_K8S_43; CIS EKS 4.5.1",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_digest,
    ),
    policy(
        "k8s-image-trusted-registry",
        rule="20",
        description="Images come from the own ECR or a trusted registry.",
        remediation="Pull through the stack's ECR caches or push to ECR; or list the registry in the policy config.",
        level=A,
        severity="high",
        standard="CIS EKS 5.1.4; hadolint DL3026",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        schema=_REGISTRIES_SCHEMA,
        check=_trusted_registry,
    ),
    policy(
        "k8s-image-pull-policy",
        rule="21",
        description="An image not pinned by digest is pulled on every start (a moved tag is noticed).",
        remediation="Set imagePullPolicy: Always, or pin the image by digest.",
        level=A,
        severity="low",
        standard="CKV_K8S_15",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_pull_policy,
    ),
    policy(
        "image-build-push-hygiene",
        rule="22",
        description="Built images: explicit platform, no credentials in build args, tagged, pushed where trusted.",
        remediation="Build with components/registry.py (linux/amd64, content tags, ECR); credentials as build secrets.",
        level=A,
        severity="high",
        standard="CKV_DOCKER_7; hadolint DL3006/DL3007",
        types=DOCKER_IMAGES,
        schema={
            **_REGISTRIES_SCHEMA,
            "pushRegistries": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Registry hosts of your own that builds may push to (existing clusters).",
            },
        },
        check=_build_hygiene,
    ),
    policy(
        "image-dockerfile-base-and-user",
        rule="23",
        description="Built images: pinned, trusted bases; a non-root final USER; no URL ADD, sudo or curl -k.",
        remediation="Pin every FROM (tag and digest) from a trusted registry, end with USER 10001:10001, COPY files.",
        level=A,
        severity="high",
        standard="hadolint DL3006/DL3007/DL3026/DL3002/DL3020/DL3004; CKV_DOCKER_3/4/7/8; CIS EKS 5.1.4",
        types=DOCKER_IMAGES,
        schema={
            "programRoot": {
                "type": "string",
                "default": "..",
                "description": "The program's folder, relative to the pack's (the CLI runs a local pack in it).",
            },
            "allowedRegistries": {**_REGISTRIES_SCHEMA["allowedRegistries"], "default": BASE_REGISTRIES},
            "allowOwnEcr": _REGISTRIES_SCHEMA["allowOwnEcr"],
        },
        check=_dockerfile,
    ),
]
