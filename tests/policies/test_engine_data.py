"""The pack's engine data held to the engine registry (issue 24 item 3): the pack cannot import
the program, so what it knows about engines is a copy, and this test keeps the copy true."""

from __future__ import annotations

import json

from aiinfra_policies import constants, hardening, images
from components.core.engines import ENGINES
from components.specs.image_admission import DEV_REGISTRIES
from tests.conftest import ROOT


def test_every_engine_is_known_to_the_pack_as_a_model_server() -> None:
    for engine in ENGINES.values():
        assert any(part in engine.default_image for part in constants.MODEL_IMAGES), engine.name
    assert len(constants.MODEL_IMAGES) == len(ENGINES)


def test_every_engines_published_image_is_from_a_trusted_dev_registry() -> None:
    for engine in ENGINES.values():
        assert any(engine.default_image.startswith(p) for p in images.DEFAULT_REGISTRIES), engine.name
        assert any(engine.default_image.startswith(p) for p in DEV_REGISTRIES), engine.name


def test_the_api_key_env_var_of_every_keyed_engine_is_reviewed_in_both_packs() -> None:
    keyed = {e.api_key_env for e in ENGINES.values() if e.capabilities.api_key}
    assert keyed == {"VLLM_API_KEY", "SGLANG_API_KEY"}
    for pack in ("dev.json", "prod.json"):
        config = json.loads((ROOT / "policies" / pack).read_text())
        allowed = {v for rule in config.values() if isinstance(rule, dict) for v in rule.get("allowedEnvVars", [])}
        assert keyed <= allowed, pack


def test_every_hub_engines_server_command_is_held_to_a_pinned_revision() -> None:
    for engine in ENGINES.values():
        line = [*engine.server_command, "--model-path", "m"]
        assert hardening._serves_hub_model(line) == ("revision" in engine.options), engine.name
