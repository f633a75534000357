"""Section N (gateway) policies both ways: model servers behind the gateway or marked direct,
client keys only in managed Secrets, the gateway never a public load balancer (the prod plan's
zero violations are asserted by tests/planner/test_plan_cli.py)."""

from __future__ import annotations

import copy
from typing import Any

from aiinfra_policies import gateway
from tests.conftest import policy_by_name, stack_violations

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
PODS = {"app.kubernetes.io/name": "vllm", "app.kubernetes.io/instance": "q"}


def _server(annotations: dict[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    return (
        DEPLOYMENT,
        {
            "metadata": {
                "name": "vllm-q",
                "namespace": "models",
                "labels": {"app.kubernetes.io/component": "model-server"},
                "annotations": annotations or {},
            },
            "spec": {"template": {"metadata": {"labels": dict(PODS)}}},
        },
    )


def _gateway(params: str = "ai-gateway", addresses: list[Any] | None = None) -> tuple[str, dict[str, Any]]:
    spec: dict[str, Any] = {"infrastructure": {"parametersRef": {"name": params}}}
    if addresses:
        spec["addresses"] = addresses
    return gateway.GATEWAY, {"metadata": {"name": "ai", "namespace": "gateway"}, "spec": spec}


def _params(kind: str = "ClusterIP") -> tuple[str, dict[str, Any]]:
    return gateway.AGW_PARAMETERS, {
        "metadata": {"name": "ai-gateway", "namespace": "gateway"},
        "spec": {"service": {"spec": {"type": kind}}},
    }


def _route(kind: str, name: str) -> tuple[str, dict[str, Any]]:
    ref = {"kind": kind, "name": name, "namespace": "models"}
    return gateway.HTTP_ROUTE, {
        "metadata": {"name": "r", "namespace": "gateway"},
        "spec": {"rules": [{"backendRefs": [ref]}]},
    }


def _pool() -> tuple[str, dict[str, Any]]:
    return gateway.INFERENCE_POOL, {
        "metadata": {"name": "vllm-q", "namespace": "models"},
        "spec": {"selector": {"matchLabels": dict(PODS)}},
    }


BEHIND = policy_by_name(gateway.POLICIES, "gateway-model-server-behind-gateway")
KEYS = policy_by_name(gateway.POLICIES, "gateway-keys-not-plain")
PUBLIC = policy_by_name(gateway.POLICIES, "gateway-service-not-public")


def test_a_model_server_behind_a_pool_or_service_route_passes_and_one_beside_it_fails() -> None:
    assert stack_violations(BEHIND, [_gateway(), _server(), _pool(), _route("InferencePool", "vllm-q")]) == []
    service = (SERVICE, {"metadata": {"name": "vllm-q", "namespace": "models"}, "spec": {"selector": dict(PODS)}})
    assert stack_violations(BEHIND, [_gateway(), _server(), service, _route("Service", "vllm-q")]) == []
    # A pool no route names, or a route to another namespace's pool, leaves the server exposed.
    (msg,) = stack_violations(BEHIND, [_gateway(), _server(), _pool()])
    assert "behind no HTTPRoute of the gateway" in msg
    other = copy.deepcopy(_pool())
    other[1]["metadata"]["namespace"] = "elsewhere"
    assert stack_violations(BEHIND, [_gateway(), _server(), other, _route("InferencePool", "vllm-q")])
    # Without a gateway the rule does not apply.
    assert stack_violations(BEHIND, [_server()]) == []


def test_a_direct_model_server_needs_its_reason() -> None:
    direct = {gateway.EXPOSURE: "direct", gateway.EXPOSURE_REASON: "batch scorer calls the Service"}
    assert stack_violations(BEHIND, [_gateway(), _server(direct)]) == []
    (msg,) = stack_violations(BEHIND, [_gateway(), _server({gateway.EXPOSURE: "direct"})])
    assert gateway.EXPOSURE_REASON in msg


def _auth(ref: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    auth: dict[str, Any] = {"mode": "Strict", **({"secretRef": ref} if ref else {})}
    return gateway.AGW_POLICY, {
        "metadata": {"name": "ai-pre-routing", "namespace": "gateway"},
        "spec": {"traffic": {"apiKeyAuthentication": auth}},
    }


def test_keys_come_only_from_a_managed_secret() -> None:
    secret = ("kubernetes:core/v1:Secret", {"metadata": {"name": "ai-gateway-keys", "namespace": "gateway"}})
    assert stack_violations(KEYS, [secret, _auth({"name": "ai-gateway-keys"})]) == []
    (msg,) = stack_violations(KEYS, [_auth({"name": "ai-gateway-keys"})])
    assert "Secret this stack manages" in msg
    assert stack_violations(KEYS, [secret, _auth(None)])
    leaked = (
        "kubernetes:core/v1:ConfigMap",
        {"metadata": {"name": "c"}, "data": {"ci": '{"key": "sk-1", "metadata": {"client": "ci"}}'}},
    )
    (msg,) = stack_violations(KEYS, [leaked])
    assert msg.startswith("data[ci] holds an API key entry") and "sk-1" not in msg
    fine = ("kubernetes:core/v1:ConfigMap", {"metadata": {"name": "c"}, "data": {"config": "key: value"}})
    assert stack_violations(KEYS, [fine]) == []


def test_the_gateway_is_never_a_public_load_balancer() -> None:
    assert stack_violations(PUBLIC, [_gateway(), _params()]) == []
    (msg,) = stack_violations(PUBLIC, [_gateway(), _params("LoadBalancer")])
    assert "ClusterIP" in msg
    assert stack_violations(PUBLIC, [_gateway()])  # no parameters: the controller's LoadBalancer
    (msg,) = stack_violations(PUBLIC, [_gateway(addresses=[{"value": "1.2.3.4"}]), _params()])
    assert "spec.addresses" in msg and "1.2.3.4" not in msg
