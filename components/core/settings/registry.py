"""Registry settings: where the platform's images live and which ones a stack builds.

On EKS the registry is ECR: a repository per image (immutable tags, scan on push, KMS, lifecycle),
pull-through caches for the public registries we pull from, and builds of ``images/<name>`` pushed
by content hash and consumed by digest. On an existing cluster it is a registry host of your own,
with a pull secret and push credentials from ``--secret`` keys.
"""

from __future__ import annotations

import re

from pydantic import Field, model_validator

from components.core.settings.base import Problem, Settings, check

IMAGE_NAMES = ("infer", "model-runner", "ollama", "train-heavy", "train-light")
"""The images ``images/`` holds, one folder each (a test keeps the two in step)."""
REQUIRED_BUILD_ARGS: dict[str, tuple[str, ...]] = {"train-heavy": ("EFA_INSTALLER_SHA256",)}
"""Build arguments a Dockerfile refuses to build without (an ``ARG`` with an empty default it
checks; a test keeps this in step with the Dockerfiles)."""
_SECRET_LIKE = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL", re.IGNORECASE)
_ARG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_HOST = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:[0-9]{1,5})?$"
)


class PullThroughCacheSettings(Settings):
    """ECR pull-through cache rules for the upstreams ECR supports that the platform pulls from."""

    ecr_public: bool = True
    registry_k8s: bool = True
    quay: bool = True
    docker_hub_credentials_secret: str | None = None
    """``--secret`` key holding ``username:accessToken`` for Docker Hub (ECR requires credentials)."""
    ghcr_credentials_secret: str | None = None
    """``--secret`` key holding ``username:token`` for GitHub's registry (ECR requires credentials)."""


class RegistrySettings(Settings):
    enabled: bool = False
    """Own a registry: ECR repositories on EKS, ``host`` on an existing cluster."""
    build: list[str] = Field(default_factory=list)
    """Images from ``images/`` this stack builds and pushes (fleets then run them by digest)."""
    build_args: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Per built image, its build arguments (plain values: the image history keeps them)."""
    untagged_expiry_days: int = Field(14, ge=1)
    keep_tagged: int = Field(20, ge=1)
    """Tagged images each repository keeps (large model images are costly to store)."""
    customer_managed_key: bool = True
    """ECR repositories encrypted with the platform's KMS key; False (dev): ECR's AWS-managed key
    (no key to administer)."""
    pull_through_cache: PullThroughCacheSettings = Field(default_factory=PullThroughCacheSettings)
    host: str | None = None
    """Existing clusters: the registry's host (``registry.lab.internal:5000``)."""
    username: str | None = None
    """Existing clusters: the account that pushes and pulls."""
    password_secret: str | None = None
    """Existing clusters: ``--secret`` key holding that account's password or token."""

    @property
    def built_images(self) -> list[str]:
        """Images this stack builds and pushes (their consumers get digests)."""
        return list(self.build) if self.enabled else []

    @model_validator(mode="after")
    def _rules(self) -> RegistrySettings:
        problems: list[Problem] = []
        for i, name in enumerate(self.build):
            if name not in IMAGE_NAMES:
                problems.append((f"build[{i}]", f"has no folder in images/; one of: {', '.join(IMAGE_NAMES)}"))
        if self.build and not self.enabled:
            problems.append(("build", "needs enabled: true (a registry to push to)"))
        for image, args in self.build_args.items():
            if image not in self.build:
                problems.append((f"buildArgs.{image}", "applies only to an image in registry.build"))
            for arg in args:
                if not _ARG_NAME.match(arg):
                    problems.append((f"buildArgs.{image}.{arg}", "must be a Dockerfile ARG name"))
                # The name of a checksum argument (…_SHA256) is not a credential.
                elif _SECRET_LIKE.search(arg) and not arg.endswith("_SHA256"):
                    problems.append(
                        (f"buildArgs.{image}.{arg}", "must not carry a credential (build args stay in the image)")
                    )
        for image in self.build:
            for arg in REQUIRED_BUILD_ARGS.get(image, ()):
                if not self.build_args.get(image, {}).get(arg):
                    problems.append(
                        (f"buildArgs.{image}.{arg}", f"is required to build {image} (its Dockerfile refuses without)")
                    )
        if self.host is not None and not _HOST.match(self.host):
            problems.append(("host", "must be a registry host such as registry.example.com or host:5000"))
        check(problems)
        return self

    @property
    def secret_keys(self) -> list[str]:
        """The ``--secret`` keys these settings name."""
        pull = self.pull_through_cache
        keys = [pull.docker_hub_credentials_secret, pull.ghcr_credentials_secret, self.password_secret]
        return [k for k in keys if k]
