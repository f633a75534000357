"""Section B policies (image provenance) both ways, and the reference parsing they rely on."""

from __future__ import annotations

from typing import Any

import pytest

from aiinfra_policies import images
from aiinfra_policies.constants import DEPLOYMENT
from tests.conftest import policy_by_name, violations

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
