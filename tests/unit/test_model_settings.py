"""Model fleet settings (``settings/models.py``) and the per-fleet rules across sections
(``settings/rules/models.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from components.core.settings import parse_settings
from tests.conftest import DEV_CIDRS, PROD_ADMINS, settings_for
from tests.unit.settings_problems import stack_problems as _problems


def _model(**spec: Any) -> dict[str, Any]:
    models = {
        "qwen-small": None,
        "qwen-instruct": None,
        "m": {"engine": "vllm", "model": "org/m", "pool": "gpu", "cpu": "2", "memory": "8Gi", **spec},
    }
    return {"environment": "dev", **DEV_CIDRS, "models": models}


def test_model_spec_cross_field_rules() -> None:
    assert "unknown" not in str(_problems(_model(engine="tgi")))  # message lists the allowed engines
    assert "must be one of: ollama, sglang, vllm" in _problems(_model(engine="tgi"))["ai-infra:models.m.engine"]
    assert "at least 1" in _problems(_model(gpusPerReplica=0))["ai-infra:models.m.gpusPerReplica"]
    assert "fit one node" in _problems(_model(gpusPerReplica=2))["ai-infra:models.m.gpusPerReplica"]
    assert "node pool" in _problems(_model(pool="nope"))["ai-infra:models.m.pool"]
    ollama = {"engine": "ollama", "model": "qwen2.5:0.5b", "revision": "abc", "extraArgs": ["--x"]}
    for key in ("revision", "extraArgs"):
        assert "option of sglang, vllm only" in _problems(_model(**ollama))[f"ai-infra:models.m.{key}"]
    assert "model tag" in _problems(_model(**ollama))["ai-infra:models.m.revision"]
    too_wide = {"engine": "ollama", "model": "qwen2.5:0.5b", "gpusPerReplica": 4}
    assert "fit one node" in _problems(_model(**too_wide))["ai-infra:models.m.gpusPerReplica"]
    assert "pinned tag" in _problems(_model(engine="ollama", model="qwen2.5"))["ai-infra:models.m.model"]
    assert "ai-infra:namespaces.models.quota.gpus" in _problems(_model(replicas={"min": 1, "max": 3}))


def test_tensor_parallel_must_divide_the_node() -> None:
    raw = {
        "environment": "prod",
        **PROD_ADMINS,
        "models": {"m": {"engine": "vllm", "model": "org/m", "pool": "serving", "gpusPerReplica": 3}},
    }
    assert "divide" in _problems(raw, stack="prod")["ai-infra:models.m.gpusPerReplica"]


def test_model_secrets_must_be_secret_config() -> None:
    raw = _model(apiKeySecret="mKey")
    assert "not set" in _problems(raw)["ai-infra:mKey"]
    assert "--secret" in _problems({**raw, "mKey": "plaintext"})["ai-infra:mKey"]
    parse_settings({**raw, "mKey": "[secret]"}, stack="dev", secret_keys=frozenset({"mKey"}))


@pytest.mark.parametrize("revision", [None, "main", "v1.0", "1ed0a61", "1ED0A6145DA0CE550C628E8E8B678F51E695995D"])
def test_prod_serves_hugging_face_weights_at_a_commit(revision: str | None) -> None:
    raw = {"environment": "prod", **PROD_ADMINS, "models": {"coder-32b": {"revision": revision}}}
    message = _problems(raw, stack="prod")["ai-infra:models.coder-32b.revision"]
    assert "40-hex commit SHA" in message
    # dev may follow a branch while a model is being tried out.
    dev = settings_for("dev", models={"qwen-instruct": {"revision": "main"}})
    assert dev.models["qwen-instruct"].revision == "main"
