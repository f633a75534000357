"""Registry settings: image names match images/, ECR vs a host of your own, prod runs digests."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.core.settings import IMAGE_NAMES, SettingsError, parse_settings
from tests.conftest import ROOT, settings_for

DIGEST = "@sha256:" + "a" * 64


def _problems(env: str, **overrides: object) -> str:
    with pytest.raises(SettingsError) as err:
        settings_for(env, **overrides)
    return str(err.value)


def test_image_names_are_the_folders_of_images() -> None:
    folders = sorted(p.name for p in (ROOT / "images").iterdir() if (p / "Dockerfile").is_file())
    assert list(IMAGE_NAMES) == folders


def test_every_engine_builds_from_an_image_folder() -> None:
    from components.core.engines import ENGINES

    for engine in ENGINES.values():
        assert Path(ROOT / "images" / engine.image / "Dockerfile").is_file(), engine.name


def test_prod_preset_builds_the_serving_images() -> None:
    s = settings_for("prod")
    assert s.registry.enabled
    assert s.built_images == ["model-runner", "ollama"]
    assert s.engine_image_built("vllm") and s.engine_image_built("ollama")


def test_unknown_image_and_build_without_registry_are_reported_together() -> None:
    text = _problems("dev", registry={"build": ["model-runner", "trainer"]})
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
