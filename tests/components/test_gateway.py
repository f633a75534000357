"""InferenceGateway under mocks (routes, pools, policies, keys kept secret, charts and their
order), and the program's exports: the base URL, and the client keys only as a secret."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pulumi

from components.core.settings.gateway import GatewayRoute
from components.gateway import InferenceGateway, InferenceGatewayArgs
from planner.mocks import SECRET_SIG, SECRET_SIG_VALUE, RecordingMonitor
from planner.render import plan_document
from tests.conftest import build_under_mocks, run_stack, stack_file_config, stack_run, stack_secret_keys

VLLM = GatewayRoute("qwen-instruct", "qwen-instruct", "models", "vllm", 8000, ("notebooks",))
OLLAMA = GatewayRoute("qwen2.5:0.5b", "qwen-small", "models", "ollama", 11434, ("ci", "notebooks"))
POLICY = "kubernetes:agentgateway.dev/v1alpha1:AgentgatewayPolicy"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"


def _build(**overrides: Any) -> RecordingMonitor:
    args: dict[str, Any] = {
        "routes": [VLLM, OLLAMA],
        "clients": {"ci": (120, None), "notebooks": (60, 9000)},
        "namespace": "gateway",
        "env": "dev",
        "team": "ml",
        "picker_image": "ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0",
        "api_cidrs": ["10.0.0.0/16"],
        **overrides,
    }
    # Outputs (a given key) can only be made inside the mocked run.
    given = args.pop("given_keys_factory", None)
    return build_under_mocks(
        lambda: InferenceGateway("gateway", InferenceGatewayArgs(**args, **({"given_keys": given()} if given else {})))
    )


def _names(m: RecordingMonitor, typ: str) -> set[str]:
    return {r.inputs["metadata"]["name"] for r in m.by_type(typ)}


def test_routes_pools_and_policies_per_model() -> None:
    m = _build()
    assert _names(m, ROUTE) == {"model-qwen-instruct", "model-qwen-small", "models-list"}
    assert _names(m, POLICY) == {
        "ai-pre-routing",
        "ai-clients",
        "model-qwen-instruct",
        "model-qwen-small",
        "models-list",
    }
    # Only the vLLM fleet gets a pool and a picker.
    assert _names(m, "kubernetes:inference.networking.k8s.io/v1:InferencePool") == {"vllm-qwen-instruct"}
    assert _names(m, "kubernetes:apps/v1:Deployment") == {"vllm-qwen-instruct-epp"}
    assert _names(m, "kubernetes:gateway.networking.k8s.io/v1:ReferenceGrant") == {"gateway-routes"}
    routes = {r.inputs["metadata"]["name"]: r.inputs for r in m.by_type(ROUTE)}
    (ref,) = routes["model-qwen-small"]["spec"]["rules"][0]["backendRefs"]
    assert ref == {"group": "", "kind": "Service", "name": "ollama-qwen-small", "namespace": "models", "port": 11434}
    assert routes["model-qwen-instruct"]["spec"]["rules"][0]["timeouts"] == {"request": "900s"}
    policies = {r.inputs["metadata"]["name"]: r.inputs for r in m.by_type(POLICY)}
    assert policies["model-qwen-small"]["spec"]["traffic"]["authorization"]["policy"]["matchExpressions"] == [
        "apiKey.client in ['ci', 'notebooks']"
    ]
    limits = policies["ai-clients"]["spec"]["traffic"]["rateLimit"]["conditional"]
    assert [c["condition"] for c in limits] == ["apiKey.client == 'ci'", "apiKey.client == 'notebooks'"]
    # No monitoring: no monitors, alert or dashboard; no mesh: no tailnet Ingress.
    assert not m.by_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")
    assert not m.by_type("kubernetes:networking.k8s.io/v1:Ingress")


def test_each_client_key_is_generated_and_reaches_only_the_key_secret_as_a_secret() -> None:
    m = _build()
    passwords = m.by_type("random:index/randomPassword:RandomPassword")
    assert sorted(p.name for p in passwords) == ["gateway-key-ci", "gateway-key-notebooks"]
    assert all(p.inputs["length"] >= 32 and p.inputs["special"] is False for p in passwords)
    (secret,) = m.by_type("kubernetes:core/v1:Secret")
    assert secret.inputs["metadata"]["name"] == "ai-gateway-keys"
    assert SECRET_SIG in json.dumps(secret.inputs["stringData"])
    others = json.dumps([r.inputs for r in m.registrations if r is not secret and r.custom])
    assert "mock-random-" not in others


OWN_KEY = "sk-own-key-from-secret-config"


def test_a_client_with_its_own_key_gets_no_password_and_its_key_reaches_only_the_key_secret() -> None:
    m = _build(given_keys_factory=lambda: {"ci": pulumi.Output.secret(OWN_KEY)})
    (password,) = m.by_type("random:index/randomPassword:RandomPassword")
    assert password.name == "gateway-key-notebooks"
    (secret,) = m.by_type("kubernetes:core/v1:Secret")
    data = secret.inputs["stringData"]
    assert data[SECRET_SIG] == SECRET_SIG_VALUE and OWN_KEY in json.dumps(data)
    entries = {c: json.loads(v) for c, v in data["value"].items()}
    assert entries["ci"] == {"key": OWN_KEY, "metadata": {"client": "ci"}}
    others = json.dumps([r.inputs for r in m.registrations if r is not secret])
    assert OWN_KEY not in others


def test_a_gateway_without_clients_has_an_empty_key_secret_and_admits_nobody() -> None:
    m = _build(clients={}, routes=[replace(OLLAMA, clients=())])
    assert not m.by_type("random:index/randomPassword:RandomPassword")
    (secret,) = m.by_type("kubernetes:core/v1:Secret")
    assert secret.inputs["metadata"]["name"] == "ai-gateway-keys"
    # No stringData key at all: an empty one made the real engine replace the Secret on every preview.
    assert "stringData" not in secret.inputs
    policies = {r.inputs["metadata"]["name"]: r.inputs for r in m.by_type(POLICY)}
    assert policies["model-qwen-small"]["spec"]["traffic"]["authorization"]["policy"]["matchExpressions"] == [
        "apiKey.client in []"
    ]
    assert "traffic" not in policies["ai-clients"]["spec"]


def test_charts_install_in_order_unless_the_cluster_runs_them() -> None:
    m = _build()
    releases = {r.inputs["name"]: r for r in m.by_type("kubernetes:helm.sh/v3:Release")}
    assert set(releases) == {"gateway-crds-helm", "agentgateway-crds", "agentgateway"}
    controller = releases["agentgateway"]
    assert controller.inputs["chart"] == "oci://ghcr.io/agentgateway/charts/agentgateway"
    assert controller.inputs["version"] == "v1.4.1" and controller.inputs["values"]["inferenceExtension"]["enabled"]
    assert {releases["gateway-crds-helm"].urn, releases["agentgateway-crds"].urn} <= set(controller.dependencies)
    (crd,) = m.by_type("kubernetes:yaml/v2:ConfigFile")
    assert crd.inputs["file"].endswith("/v1.5.0/config/crd/bases/inference.networking.k8s.io_inferencepools.yaml")
    pre = _build(preinstalled=frozenset({"gateway-crds-helm", "agentgateway-crds", "agentgateway"}))
    assert not pre.by_type("kubernetes:helm.sh/v3:Release") and not pre.by_type("kubernetes:yaml/v2:ConfigFile")
    assert _names(pre, "kubernetes:gateway.networking.k8s.io/v1:Gateway") == {"ai"}


def test_monitoring_adds_the_pickers_monitors_the_alert_and_the_dashboard() -> None:
    m = _build(monitoring_namespace="monitoring", replicas=2)
    assert _names(m, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor") == {"vllm-qwen-instruct-epp"}
    (rule,) = m.by_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    assert rule.inputs["spec"]["groups"][0]["rules"][0]["alert"] == "GatewayEndpointPickerDown"
    assert "dashboard-ai-gateway" in _names(m, "kubernetes:core/v1:ConfigMap")
    assert _names(m, "kubernetes:policy/v1:PodDisruptionBudget") == {"vllm-qwen-instruct-epp"}


def test_the_program_exports_the_base_url_and_the_keys_only_as_a_secret() -> None:
    dev, prod = stack_run("dev"), stack_run("prod")
    assert dev.outputs["gateway"] == "http://ai.gateway.svc.cluster.local/v1"
    assert prod.outputs["gateway"] == "https://ai-prod.example-tailnet.ts.net/v1"
    for run, stack in ((dev, "dev"), (prod, "prod")):
        assert SECRET_SIG in json.dumps(run.outputs["gatewayClientKeys"])
        assert "mock-random-" not in json.dumps(plan_document(stack, run.registrations, run.outputs))
    (ingress,) = [r for r in prod.registrations if r.urn.endswith("gateway-tailnet")]
    assert ingress.inputs["spec"]["defaultBackend"]["service"] == {"name": "ai", "port": {"number": 80}}


def test_a_key_from_secret_config_is_exported_only_inside_the_secret_output() -> None:
    config = stack_file_config("dev")
    config["ai-infra:gateway"] = {
        **config["ai-infra:gateway"],
        "clients": {"ci": {"models": ["qwen2.5:0.5b"], "requestsPerMinute": 5, "keySecret": "ciGatewayKey"}},
    }
    config["ai-infra:ciGatewayKey"] = OWN_KEY
    run = run_stack("dev", config, [*stack_secret_keys("dev"), "ai-infra:ciGatewayKey"])
    assert not [r for r in run.registrations if r.type.startswith("random:") and r.name.startswith("gateway-")]
    exported = run.outputs["gatewayClientKeys"]
    assert exported == {SECRET_SIG: "secret", "value": {"ci": OWN_KEY}}  # the run marks a secret output so
    others = {k: v for k, v in run.outputs.items() if k != "gatewayClientKeys"}
    assert OWN_KEY not in json.dumps(others)
    (secret,) = [r for r in run.registrations if r.urn.endswith("::gateway-keys")]
    assert OWN_KEY not in json.dumps([r.inputs for r in run.registrations if r is not secret])
    assert OWN_KEY not in json.dumps(plan_document("dev", run.registrations, run.outputs))
