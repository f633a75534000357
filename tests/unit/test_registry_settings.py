"""Registry settings: image names match images/, ECR vs a host of your own, prod runs digests."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.core.settings import IMAGE_NAMES, SettingsError, parse_settings
from components.core.settings.registry import REQUIRED_BUILD_ARGS
from tests.conftest import ROOT, settings_for

DIGEST = "@sha256:" + "a" * 64


def _problems(env: str, **overrides: object) -> str:
    with pytest.raises(SettingsError) as err:
        settings_for(env, **overrides)
    return str(err.value)


def test_image_names_are_the_folders_of_images() -> None:
    folders = sorted(p.name for p in (ROOT / "images").iterdir() if (p / "Dockerfile").is_file())
    assert list(IMAGE_NAMES) == folders


def test_every_buildable_engine_builds_from_an_image_folder() -> None:
    from components.core.engines import ENGINES

    buildable = [e for e in ENGINES.values() if e.image is not None]
    assert {e.name for e in buildable} == {"vllm", "ollama"}  # SGLang runs its published image
    for engine in buildable:
        assert engine.image in IMAGE_NAMES
        assert Path(ROOT / "images" / engine.image / "Dockerfile").is_file(), engine.name


def test_prod_preset_builds_the_serving_images() -> None:
    s = settings_for("prod")
    assert s.registry.enabled
    assert s.built_images == ["model-runner", "ollama"]
    assert s.engine_image_built("vllm") and s.engine_image_built("ollama")


def test_unknown_image_and_build_without_registry_are_reported_together() -> None:
    text = _problems("dev", registry={"enabled": False, "build": ["model-runner", "trainer"]})
    assert "registry.build[1]" in text and "has no folder in images/" in text
    assert "registry.build: needs enabled: true" in text


def test_prod_without_a_build_needs_digests() -> None:
    text = _problems("prod", registry={"build": []})
    assert "modelImages.vllm" in text and "pinned by digest" in text
    s = settings_for(
        "prod",
        registry={"build": []},
        modelImages={"vllm": "vllm/vllm-openai" + DIGEST, "ollama": "ollama/ollama" + DIGEST},
    )
    assert s.built_images == []


def test_host_is_for_existing_clusters_and_they_need_push_credentials() -> None:
    assert "registry.host: applies to existing clusters" in _problems("dev", registry={"host": "r.example.com"})

    def existing(registry: dict[str, object]) -> str:
        raw = {"environment": "dev", "cluster": {"mode": "existing", "existing": {"kubeconfig": "/k"}}}
        with pytest.raises(SettingsError) as err:
            parse_settings({**raw, "registry": registry}, stack="dev")
        return str(err.value)

    text = existing({"enabled": True, "build": ["ollama"]})
    assert "registry.host: is required" in text
    assert "registry.build: needs registry.username and registry.passwordSecret" in text
    assert "registry.host: must be a registry host" in existing({"host": "Not A Host"})


def test_build_args_are_plain_named_and_required_where_the_dockerfile_insists() -> None:
    text = _problems(
        "dev",
        registry={
            "build": ["train-heavy"],
            "buildArgs": {"ollama": {"X": "1"}, "train-heavy": {"HF_TOKEN": "x", "bad-name": "1"}},
        },
    )
    assert "registry.buildArgs.ollama: applies only to an image in registry.build" in text
    assert "registry.buildArgs.train-heavy.HF_TOKEN: must not carry a credential" in text
    assert "registry.buildArgs.train-heavy.bad-name: must be a Dockerfile ARG name" in text
    assert "registry.buildArgs.train-heavy.EFA_INSTALLER_SHA256: is required" in text
    ok = settings_for(
        "dev", registry={"build": ["train-heavy"], "buildArgs": {"train-heavy": {"EFA_INSTALLER_SHA256": "ab" * 32}}}
    )
    assert ok.registry.build_args["train-heavy"]["EFA_INSTALLER_SHA256"] == "ab" * 32


def test_required_build_args_match_the_dockerfiles() -> None:
    """An ``ARG`` whose default is empty and which the Dockerfile checks with ``-z`` is required."""
    found: dict[str, tuple[str, ...]] = {}
    for dockerfile in sorted((ROOT / "images").glob("*/Dockerfile")):
        text = dockerfile.read_text()
        required = tuple(
            sorted(
                m.group(1)
                for m in re.finditer(r'^ARG ([A-Z0-9_]+)=""$', text, re.MULTILINE)
                if f'-z "${{{m.group(1)}}}"' in text
            )
        )
        if required:
            found[dockerfile.parent.name] = required
    assert found == REQUIRED_BUILD_ARGS
