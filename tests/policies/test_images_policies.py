"""Section B policies (image provenance) both ways, and the reference parsing they rely on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aiinfra_policies import images
from aiinfra_policies.constants import DEPLOYMENT
from tests.conftest import ROOT, policy_by_name, violations

ECR = "123456789012.dkr.ecr.us-west-2.amazonaws.com/ai-infra-prod/model-runner"
DIGEST = "@sha256:" + "b" * 64
DOCKER_IMAGE = "docker:index/image:Image"
PROD_REGISTRIES = {"allowedRegistries": ["public.ecr.aws/", "nvcr.io/", "registry.k8s.io/", "quay.io/"]}


def deployment(image: str, pull: str = "IfNotPresent") -> dict[str, Any]:
    container = {"name": "server", "image": image, "imagePullPolicy": pull}
    return {"metadata": {"namespace": "models"}, "spec": {"template": {"spec": {"containers": [container]}}}}


def build(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "imageName": f"{ECR}:c-0123456789ab",
        "build": {"context": "images/model-runner", "platform": "linux/amd64"},
        "skipPush": False,
    }
    props.update(overrides)
    return props


def _check(name: str, typ: str, props: dict[str, Any], config: dict[str, Any] | None = None) -> list[str]:
    return violations(policy_by_name(images.POLICIES, name), typ, props, config)


@pytest.mark.parametrize(
    ("image", "normal"),
    [
        ("ubuntu", "docker.io/library/ubuntu"),
        ("vllm/vllm-openai:v0.11.0", "docker.io/vllm/vllm-openai:v0.11.0"),
        ("localhost/x:1", "localhost/x:1"),
        ("registry.lab:5000/ollama:1", "registry.lab:5000/ollama:1"),
    ],
)
def test_normalize_spells_out_docker_hub(image: str, normal: str) -> None:
    assert images.normalize(image) == normal


def test_tags_and_digests_are_parsed_past_registry_ports() -> None:
    assert images.tag_of("registry.lab:5000/ollama") is None
    assert images.tag_of("registry.lab:5000/ollama:0.12.6") == "0.12.6"
    assert images.tag_of(ECR + ":v1" + DIGEST) == "v1"
    assert images.pinned(ECR + DIGEST)


def test_tag_not_latest_both_ways() -> None:
    assert _check("k8s-image-tag-not-latest", DEPLOYMENT, deployment("vllm/vllm-openai:v0.11.0")) == []
    assert _check("k8s-image-tag-not-latest", DEPLOYMENT, deployment(ECR + DIGEST)) == []
    for bad in ("vllm/vllm-openai", "vllm/vllm-openai:latest"):
        (message,) = _check("k8s-image-tag-not-latest", DEPLOYMENT, deployment(bad))
        assert message.startswith("spec.template.spec.containers[0].image") and "vllm" not in message


def test_digest_pinned_both_ways() -> None:
    assert _check("k8s-image-digest-pinned", DEPLOYMENT, deployment(ECR + DIGEST)) == []
    (message,) = _check("k8s-image-digest-pinned", DEPLOYMENT, deployment("vllm/vllm-openai:v0.11.0"))
    assert "digest" in message and "v0.11.0" not in message


def test_trusted_registry_own_ecr_and_configured_prefixes() -> None:
    assert _check("k8s-image-trusted-registry", DEPLOYMENT, deployment(ECR + DIGEST), PROD_REGISTRIES) == []
    assert _check("k8s-image-trusted-registry", DEPLOYMENT, deployment("nvcr.io/nvidia/cuda:12.8.1")) == []
    # Dev's defaults trust the two engines' Docker Hub organisations; prod's config does not.
    assert _check("k8s-image-trusted-registry", DEPLOYMENT, deployment("vllm/vllm-openai:v0.11.0")) == []
    assert _check("k8s-image-trusted-registry", DEPLOYMENT, deployment("vllm/vllm-openai:v0.11.0"), PROD_REGISTRIES)
    assert _check("k8s-image-trusted-registry", DEPLOYMENT, deployment("evil.example/miner:1"))
    assert _check(
        "k8s-image-trusted-registry",
        DEPLOYMENT,
        deployment(ECR + DIGEST),
        {"allowOwnEcr": False, "allowedRegistries": []},
    )


def test_pull_policy_always_unless_digest() -> None:
    assert _check("k8s-image-pull-policy", DEPLOYMENT, deployment("ollama/ollama:0.12.6", "Always")) == []
    assert _check("k8s-image-pull-policy", DEPLOYMENT, deployment(ECR + DIGEST, "IfNotPresent")) == []
    assert _check("k8s-image-pull-policy", DEPLOYMENT, deployment("ollama/ollama:0.12.6", "IfNotPresent"))


def test_build_push_hygiene_both_ways() -> None:
    name = "image-build-push-hygiene"
    assert _check(name, DOCKER_IMAGE, build(), PROD_REGISTRIES) == []
    assert _check(name, DOCKER_IMAGE, build(build={"context": "c"}))  # platform left to the builder
    assert _check(
        name, DOCKER_IMAGE, build(build={"context": "c", "platform": "linux/amd64", "args": {"HF_TOKEN": "x"}})
    )
    assert _check(name, DOCKER_IMAGE, build(imageName=f"{ECR}:latest"))
    # A credential inside a value, whatever the argument is called (the history keeps it).
    mirror = {"context": "c", "platform": "linux/amd64", "args": {"PIP_INDEX_URL": "https://bot:pw-123@pypi.lab/"}}
    found = _check(name, DOCKER_IMAGE, build(build=mirror), PROD_REGISTRIES)
    assert len(found) == 1 and "PIP_INDEX_URL" in found[0] and "pw-123" not in found[0]
    plain = {"context": "c", "platform": "linux/amd64", "args": {"PIP_INDEX_URL": "https://pypi.lab/simple"}}
    assert _check(name, DOCKER_IMAGE, build(build=plain), PROD_REGISTRIES) == []
    assert _check(name, DOCKER_IMAGE, build(imageName="evil.example/x:1"))
    own = build(imageName="registry.lab:5000/ollama:c-1")
    assert _check(name, DOCKER_IMAGE, own)
    assert _check(name, DOCKER_IMAGE, own, {"pushRegistries": ["registry.lab:5000"]}) == []
    # A build that is not pushed has no push target to judge.
    assert _check(name, DOCKER_IMAGE, build(imageName="local/x", skipPush=True)) == []
    # pulumi-docker-build's Image: platforms and tags.
    new = {"platforms": ["linux/amd64"], "tags": [f"{ECR}:c-1"], "push": True}
    assert _check(name, "docker-build:index:Image", new) == []
    for message in _check(name, DOCKER_IMAGE, build(imageName="evil.example/x:latest", build={"context": "c"})):
        assert "evil" not in message


# 23 ------------------------------------------------------------------------------------------
BASE = "docker.io/nvidia/cuda:12.8.1-base-ubuntu24.04" + DIGEST
GOOD_DOCKERFILE = f"""# syntax=docker/dockerfile:1
ARG BASE={BASE}
FROM ghcr.io/astral-sh/uv:0.13.0{DIGEST} AS uv
FROM ${{BASE}} AS build
COPY --from=uv /uv /bin/uv
RUN apt-get update \\
    # a comment inside a continued line
    && curl -fsSL https://example.invalid/x.tgz -o /tmp/x.tgz
FROM ${{BASE}}
COPY --from=build /opt /opt
USER 10001:10001
"""
PROD_BASES: dict[str, Any] = json.loads((ROOT / "policies" / "prod.json").read_text())["image-dockerfile-base-and-user"]
"""Prod's config of rule 23: the base registries our images use, nothing wider."""


def _dockerfile_violations(tmp_path: Any, text: str, config: dict[str, Any] | None = None) -> list[str]:
    (tmp_path / "img").mkdir(exist_ok=True)
    (tmp_path / "img" / "Dockerfile").write_text(text)
    props = build(build={"context": "img", "dockerfile": "img/Dockerfile", "platform": "linux/amd64"})
    return _check(
        "image-dockerfile-base-and-user", DOCKER_IMAGE, props, {"programRoot": str(tmp_path), **(config or {})}
    )


def test_dockerfile_rule_passes_pinned_trusted_non_root(tmp_path: Any) -> None:
    assert _dockerfile_violations(tmp_path, GOOD_DOCKERFILE) == []
    assert _dockerfile_violations(tmp_path, GOOD_DOCKERFILE, PROD_BASES) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda t: t.replace(f"uv:0.13.0{DIGEST}", "uv:latest"), "line 3: FROM must pin its base"),
        (lambda t: t.replace(f"ghcr.io/astral-sh/uv:0.13.0{DIGEST}", "uv"), "line 3: FROM must pin its base"),
        (lambda t: t.replace("ghcr.io/astral-sh/", "evil.example/"), "line 3: FROM must take its base from"),
        (lambda t: t.replace("ARG BASE=", "ARG OTHER="), "line 4: FROM names a base the pack cannot resolve"),
        (lambda t: t.replace("USER 10001:10001", "USER root"), "final stage must end with USER"),
        (lambda t: t.replace("USER 10001:10001", "USER 0:0"), "final stage must end with USER"),
        (lambda t: t.replace("USER 10001:10001\n", ""), "final stage must end with USER"),
        (lambda t: t + "ADD https://example.invalid/a.tgz /opt/\n", "line 12: ADD must not download from a URL"),
        (lambda t: t.replace("curl -fsSL", "curl -fsSLk"), "line 6: RUN must not use curl -k"),
        (lambda t: t.replace("curl -fsSL", "curl --insecure"), "line 6: RUN must not use curl -k"),
        (lambda t: t.replace("&& curl", "&& sudo curl"), "line 6: RUN must not use sudo"),
        (lambda t: t.replace("curl -fsSL", "wget --no-check-certificate"), "RUN must not use wget"),
        (lambda t: t + 'RUN ["sudo", "true"]\n', "line 12: RUN must not use sudo"),
        (lambda t: t + "RUN --mount=type=cache,target=/c curl -k https://x\n", "line 12: RUN must not use curl -k"),
        (lambda t: t + 'ADD --chown=1:1 ["https://example.invalid/a", "/a"]\n', "line 12: ADD must not download"),
    ],
)
def test_dockerfile_rule_catches_each_problem(tmp_path: Any, mutate: Any, expected: str) -> None:
    found = _dockerfile_violations(tmp_path, mutate(GOOD_DOCKERFILE))
    assert any(expected in message for message in found), found
    assert all(message.startswith("img/Dockerfile ") for message in found)


def test_dockerfile_rule_uses_build_args_and_the_prod_registries(tmp_path: Any) -> None:
    text = GOOD_DOCKERFILE.replace(f"ARG BASE={BASE}", "ARG BASE")
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "Dockerfile").write_text(text)
    props = build(build={"context": "img", "args": {"BASE": BASE}, "platform": "linux/amd64"})
    config = {"programRoot": str(tmp_path)}
    assert _check("image-dockerfile-base-and-user", DOCKER_IMAGE, props, config) == []
    # Prod trusts only the bases our images use: ghcr.io beyond astral-sh is not among them.
    other = text.replace("ghcr.io/astral-sh/", "ghcr.io/someone/")
    (tmp_path / "img" / "Dockerfile").write_text(other)
    assert _check("image-dockerfile-base-and-user", DOCKER_IMAGE, props, config) == []
    assert _check("image-dockerfile-base-and-user", DOCKER_IMAGE, props, {**config, **PROD_BASES})


def test_dockerfile_rule_reports_a_dockerfile_it_cannot_read(tmp_path: Any) -> None:
    props = build(build={"context": "missing", "platform": "linux/amd64"})
    found = _check("image-dockerfile-base-and-user", DOCKER_IMAGE, props, {"programRoot": str(tmp_path)})
    assert found == [
        "build.dockerfile: the Dockerfile cannot be read under the policy's programRoot (set it to the program folder)."
    ]


def test_dockerfile_rule_reads_docker_build_inline_and_location(tmp_path: Any) -> None:
    good = {"context": {"location": "."}, "dockerfile": {"inline": GOOD_DOCKERFILE}, "platforms": ["linux/amd64"]}
    assert _check("image-dockerfile-base-and-user", "docker-build:index:Image", good) == []
    bad = {**good, "dockerfile": {"inline": GOOD_DOCKERFILE.replace("USER 10001:10001", "USER root")}}
    assert _check("image-dockerfile-base-and-user", "docker-build:index:Image", bad)
    (tmp_path / "Dockerfile").write_text("FROM ubuntu\n")
    located = {"context": {"location": "."}, "platforms": ["linux/amd64"]}
    assert (
        len(
            _check(
                "image-dockerfile-base-and-user", "docker-build:index:Image", located, {"programRoot": str(tmp_path)}
            )
        )
        == 3
    )


@pytest.mark.parametrize("image", ["model-runner", "ollama", "infer", "train-light", "train-heavy"])
def test_our_dockerfiles_pass_the_prod_config(image: str) -> None:
    """The images under images/ as the stack builds them (components/registry.py paths), prod's levels."""
    props = build(
        build={"context": f"images/{image}", "dockerfile": f"images/{image}/Dockerfile", "platform": "linux/amd64"}
    )
    assert _check("image-dockerfile-base-and-user", DOCKER_IMAGE, props, {"programRoot": str(ROOT), **PROD_BASES}) == []
