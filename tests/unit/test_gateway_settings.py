"""The ``gateway`` section (issue 25): a good stack, and each bad input the issue names (exit 2 with
the key path, every problem at once, never the value of a key)."""

from __future__ import annotations

from typing import Any

import pytest

from components.core.chart_images import PLACEHOLDER_DIGEST
from components.core.settings import SettingsError, parse_settings
from components.core.settings.gateway import (
    PICKER_DIGEST,
    PICKER_IMAGE,
    PROXY_DIGEST,
    fleet_gateway,
    gateway_exposure,
    gateway_routes,
    gateway_summary_lines,
    served_model_name,
)
from components.specs.addons import system_namespaces
from tests.conftest import DEV_CIDRS, TEST_DIGEST, mesh_settings, settings_for
from tests.unit.settings_problems import stack_problems

CLIENTS = {
    "notebooks": {"models": ["qwen-instruct", "qwen2.5:0.5b"], "requestsPerMinute": 60},
    "ci": {"models": ["qwen2.5:0.5b"], "requestsPerMinute": 120, "tokensPerMinute": 5000},
}


def _on(**gateway: Any) -> dict[str, Any]:
    return {"gateway": {"enabled": True, "clients": CLIENTS, **gateway}}


def _problems(env: str = "dev", **overrides: Any) -> str:
    with pytest.raises(SettingsError) as err:
        settings_for(env, **overrides)
    return str(err.value)


def test_a_good_gateway_routes_every_fleet_by_the_name_its_engine_serves() -> None:
    s = settings_for("dev", **_on())
    routes = {r.model: r for r in gateway_routes(s)}
    # vLLM serves the fleet name (--served-model-name), Ollama its tag.
    assert set(routes) == {"qwen-instruct", "qwen2.5:0.5b"}
    assert routes["qwen-instruct"].pool and not routes["qwen2.5:0.5b"].pool
    assert routes["qwen2.5:0.5b"].clients == ("ci", "notebooks")
    assert routes["qwen-instruct"].clients == ("notebooks",)
    assert served_model_name("qwen-small", s.models["qwen-small"]) == "qwen2.5:0.5b"
    assert "gateway" in system_namespaces(s) and gateway_exposure(s) == "cluster"
    picker = fleet_gateway(s, "qwen-instruct")
    assert picker is not None and picker.routed and picker.picker == "vllm-qwen-instruct-epp"
    ollama = fleet_gateway(s, "qwen-small")
    assert ollama is not None and ollama.picker is None
    # Off: no routes, no namespace, fleets keep their own callers.
    off = settings_for("dev")
    assert gateway_routes(off) == [] and fleet_gateway(off, "qwen-small") is None
    assert "gateway" not in system_namespaces(off)


def test_the_plan_lists_each_models_route_and_clients() -> None:
    s = settings_for("dev", **_on(direct={}))
    lines = gateway_summary_lines(s, {"gateway": "http://ai.gateway.svc.cluster.local/v1"})
    assert lines[0].startswith("Gateway: http://ai.gateway.svc.cluster.local/v1")
    assert (
        "  model qwen-instruct -> InferencePool models/vllm-qwen-instruct (endpoint picker); clients: notebooks"
        in lines
    )
    assert "  model qwen2.5:0.5b -> Service models/ollama-qwen-small:11434; clients: ci, notebooks" in lines
    assert "  client ci: 120 requests/min per replica, 5000 tokens/min" in lines


def test_a_direct_fleet_is_not_routed_and_keeps_its_reason() -> None:
    clients = {"ci": {"models": ["qwen2.5:0.5b"], "requestsPerMinute": 10}}
    s = settings_for("dev", gateway={"enabled": True, "clients": clients, "direct": {"qwen-instruct": "batch scorer"}})
    assert [r.model for r in gateway_routes(s)] == ["qwen2.5:0.5b"]
    direct = fleet_gateway(s, "qwen-instruct")
    assert direct is not None and not direct.routed and direct.direct_reason == "batch scorer"


def test_with_the_mesh_the_gateway_is_on_the_tailnet() -> None:
    s = mesh_settings("dev", **_on())
    assert gateway_exposure(s) == "tailnet"
    assert gateway_exposure(mesh_settings("dev", **_on(exposure="cluster"))) == "cluster"


def test_a_client_naming_a_model_no_fleet_serves_is_refused() -> None:
    text = _problems(gateway={"enabled": True, "clients": {"ci": {"models": ["gpt-4"], "requestsPerMinute": 5}}})
    assert (
        "ai-infra:gateway.clients.ci.models[0]: must be a model the gateway serves: ['qwen-instruct', 'qwen2.5:0.5b']"
        in text
    )
    # The Ollama fleet's name is not what it serves: its tag is.
    text = _problems(gateway={"enabled": True, "clients": {"ci": {"models": ["qwen-small"], "requestsPerMinute": 5}}})
    assert "gateway.clients.ci.models[0]" in text


def test_two_fleets_serving_one_model_name_are_refused() -> None:
    twin = {"engine": "ollama", "model": "qwen2.5:0.5b", "pool": "gpu", "cpu": "2", "memory": "8Gi"}
    text = _problems(models={"qwen-twin": twin}, namespaces={"models": {"quota": {"gpus": 3}}}, **_on())
    assert "ai-infra:models.qwen-twin.model: fleets qwen-small, qwen-twin serve the same model name" in text


@pytest.mark.parametrize("rate", [0, -5])
def test_a_rate_of_zero_or_below_is_refused(rate: int) -> None:
    clients = {"ci": {"models": ["qwen2.5:0.5b"], "requestsPerMinute": rate, "tokensPerMinute": rate}}
    text = _problems(gateway={"enabled": True, "clients": clients})
    assert "ai-infra:gateway.clients.ci.requestsPerMinute: must be a whole number of at least 1" in text
    assert "ai-infra:gateway.clients.ci.tokensPerMinute: must be at least 1" in text


def test_a_key_in_plain_text_is_refused_without_printing_it() -> None:
    clients = {"ci": {"models": ["qwen2.5:0.5b"], "requestsPerMinute": 5, "key": "sk-very-secret-value"}}
    text = _problems(gateway={"enabled": True, "clients": clients})
    assert "ai-infra:gateway.clients.ci.key: must not be set: a key in the stack file is plain text" in text
    assert "sk-very-secret-value" not in text
    secure = {"ci": {"models": ["qwen2.5:0.5b"], "requestsPerMinute": 5, "key": {"secure": "v1:abc"}}}
    assert "gateway.clients.ci.key: must not be set" in _problems(gateway={"enabled": True, "clients": secure})


def test_a_client_brings_its_key_from_a_secret_config_key() -> None:
    clients = {"ci": {"models": ["qwen2.5:0.5b"], "requestsPerMinute": 5, "keySecret": "ciGatewayKey"}}
    raw = {"environment": "dev", **DEV_CIDRS, "gateway": {"enabled": True, "clients": clients}}
    s = parse_settings({**raw, "ciGatewayKey": "[secret]"}, stack="dev", secret_keys=frozenset({"ciGatewayKey"}))
    assert s.gateway.clients["ci"].key_secret == "ciGatewayKey" and "ciGatewayKey" in s.secret_keys
    assert any("key: secret config ciGatewayKey" in line for line in gateway_summary_lines(s, {}))


def test_a_key_secret_that_is_not_set_or_not_a_secret_is_refused_without_its_value() -> None:
    clients = {"ci": {"models": ["qwen2.5:0.5b"], "requestsPerMinute": 5, "keySecret": "ciGatewayKey"}}
    raw = {"environment": "dev", **DEV_CIDRS, "gateway": {"enabled": True, "clients": clients}}
    missing = stack_problems(raw)
    assert missing["ai-infra:ciGatewayKey"].startswith("is named in this stack (a model, job, alert receiver, gateway")
    assert "not set: use `pulumi config set --secret`" in missing["ai-infra:ciGatewayKey"]
    plain = stack_problems({**raw, "ciGatewayKey": "sk-plain-value"})
    assert plain["ai-infra:ciGatewayKey"] == "must be a secret: set it with `pulumi config set --secret`"
    assert "sk-plain-value" not in str(plain)


def test_the_gateway_on_with_no_fleet_is_refused() -> None:
    text = _problems(models={"qwen-small": None, "qwen-instruct": None}, gateway={"enabled": True})
    assert "ai-infra:gateway.enabled: is true but no fleet is behind it" in text


def test_every_problem_is_reported_at_once() -> None:
    clients = {
        "a": {"models": ["nope"], "requestsPerMinute": 0},
        "b": {"models": ["qwen2.5:0.5b"], "requestsPerMinute": 1, "key": "x"},
    }
    text = _problems(gateway={"enabled": True, "clients": clients, "direct": {"ghost": "why"}})
    for key in ("clients.a.models[0]", "clients.a.requestsPerMinute", "clients.b.key", "direct.ghost"):
        assert f"ai-infra:gateway.{key}" in text


def test_clients_without_an_enabled_gateway_and_a_tailnet_without_the_mesh_are_refused() -> None:
    assert "ai-infra:gateway.enabled: is false" in _problems(gateway={"clients": CLIENTS})
    assert "ai-infra:gateway.exposure: tailnet needs tailscale.enabled" in _problems(**_on(exposure="tailnet"))


def replace_picker(settings: Any, image: str) -> str:
    return settings.gateway.model_copy(update={"picker_image": image}).picker_reference


def test_prod_pins_the_picker_and_proxy_by_digest() -> None:
    prod = {"gateway": {"enabled": True, "clients": {"x": {"models": ["coder-32b"], "requestsPerMinute": 5}}}}
    # The pinned releases come with their digests (upstream's tag or a mirror's copy of it) ...
    released = settings_for("prod", **prod, addons={"agentgateway": {"imageDigests": {"controller": TEST_DIGEST}}})
    assert released.gateway.picker_reference == f"{PICKER_IMAGE}@{PICKER_DIGEST}"
    assert released.gateway.proxy_digest == PROXY_DIGEST
    mirror = "123456789012.dkr.ecr.us-west-2.amazonaws.com/p/llm-d-router-endpoint-picker:v0.10.0"
    assert replace_picker(released, mirror).endswith(f":v0.10.0@{PICKER_DIGEST}")
    # ... another release has no known digest: prod refuses it unpinned, and an unset proxy digest.
    other = {**prod["gateway"], "pickerImage": "ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.11.0"}
    text = _problems("prod", gateway={**other, "proxyDigest": None})
    assert "ai-infra:gateway.pickerDigest: is required in prod" in text
    assert "ai-infra:gateway.proxyDigest: is required in prod" in text
    assert "ai-infra:gateway.pickerImage: must be name:tag only" in _problems(
        "dev", **_on(pickerImage=f"ghcr.io/llm-d/llm-d-router-endpoint-picker@{TEST_DIGEST}")
    )
    pinned = settings_for(
        "prod",
        gateway={**prod["gateway"], "pickerDigest": PLACEHOLDER_DIGEST, "proxyDigest": TEST_DIGEST},
        addons={"agentgateway": {"imageDigests": {"controller": TEST_DIGEST}}},
    )
    assert pinned.gateway.picker_reference.endswith(f":v0.10.0@{PLACEHOLDER_DIGEST}")
    assert "all-zero placeholder" in dict(pinned.warnings)["gateway.pickerDigest"]
    assert "addons.agentgateway.imageDigests.controller" not in dict(pinned.warnings)
