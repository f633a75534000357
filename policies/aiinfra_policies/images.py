"""Section B of ``policies/RULES.md``: image provenance (rules 18–22).

What a node runs must be the image that was reviewed: a tag is a pointer anyone with push
rights can move, so containers name an explicit tag (18) and, in prod, a digest (19), from a
registry the platform trusts (20). A tag that is not a digest is re-checked on every start
(21). Images the stack builds (``docker:index/image:Image``) push only to a trusted registry,
for the GPU nodes' platform, and never take credentials as build arguments (22).

Rule 23 (reading the Dockerfiles a build names) is not a policy: the engine hands a pack
resource inputs, not files. ``tests/images/test_dockerfiles.py`` holds every Dockerfile of
``images/`` to it (pinned bases, non-root user, no URL ``ADD``), with hadolint and checkov.

An image a build produces in this stack is known only after the build: in a first preview
these checks cannot read it and the plan's preview report lists them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel

from aiinfra_policies.common import Report, RulePolicy, Subject, containers, policy
from aiinfra_policies.constants import DOCKER_IMAGES, WORKLOAD_TYPES

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
]
"""Trusted prefixes outside the own ECR (dev's defaults; ``policies/prod.json`` narrows them)."""
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
    if r.props.get("skipPush") is True or r.props.get("push") is False:
        return
    names = [r.props.get("imageName")] if "imageName" in r.props else list(r.props.get("tags") or [])
    for name in names:
        if not isinstance(name, str) or tag_of(name) in (None, "latest"):
            report("The pushed image must carry an explicit tag (not latest); consumers then use its digest.")
        elif not (trusted(name, r.config) or normalize(name).split("/", 1)[0] in r.config.get("pushRegistries", [])):
            report("Images must be pushed to the own ECR or a host in the policy's pushRegistries.")


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
]
