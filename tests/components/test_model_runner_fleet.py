"""ModelRunnerFleet under mocks: what each spec produces (PDB, autoscaler, ServiceMonitor, secrets)."""

from __future__ import annotations

import json

import pulumi

from components.model_runner_fleet import ModelRunnerFleet, ModelRunnerFleetArgs
from components.specs import model_runner as spec
from planner.mocks import SECRET_SIG, RecordingMonitor
from tests.conftest import build_under_mocks, settings_for


def _fleet(name: str, env: str, **kwargs: object) -> spec.FleetSpec:
    settings = settings_for(env)
    model = settings.models[name]
    return spec.FleetSpec(
        name=name, spec=model, image=getattr(settings.model_images, model.engine), env=env, team="ml", **kwargs
    )


def _build(f: spec.FleetSpec, **args: object) -> RecordingMonitor:
    return build_under_mocks(lambda: ModelRunnerFleet(f"model-{f.name}", ModelRunnerFleetArgs(fleet=f, **args)))


def _types(m: RecordingMonitor) -> set[str]:
    return {r.type.rsplit(":", 1)[-1] for r in m.registrations if r.custom}


def test_single_replica_dev_fleet() -> None:
    m = _build(_fleet("qwen-instruct", "dev"))
    assert _types(m) == {"ServiceAccount", "Deployment", "Service", "NetworkPolicy"}


def test_prod_vllm_fleet_gets_pdb_scaledobject_and_ignores_replicas() -> None:
    m = _build(_fleet("coder-32b", "prod"), prometheus_url="http://prom:9090")
    assert _types(m) == {
        "ServiceAccount",
        "Deployment",
        "Service",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "ScaledObject",
    }
    scaled = m.by_type("kubernetes:keda.sh/v1alpha1:ScaledObject")[0].inputs
    assert scaled["spec"]["scaleTargetRef"] == {"kind": "Deployment", "name": "vllm-coder-32b"}


def test_service_monitor_only_when_monitoring_is_on() -> None:
    f = _fleet("coder-32b", "prod")
    assert "ServiceMonitor" not in _types(_build(f))
    monitor = _build(f, service_monitor=True).by_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")[0].inputs
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"


def test_ollama_autoscales_with_an_hpa() -> None:
    settings = settings_for(
        "prod",
        models={"qwen-coder": {"replicas": {"min": 1, "max": 3}}},
        namespaces={"models": {"quota": {"gpus": 16}}},
    )
    f = spec.FleetSpec(name="qwen-coder", spec=settings.models["qwen-coder"], image="i", env="prod", team="t")
    m = _build(f)
    hpa = m.by_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")[0].inputs
    assert hpa["spec"]["minReplicas"] == 1 and hpa["spec"]["maxReplicas"] == 3


def test_local_nvme_cache_uses_a_statefulset_with_claims() -> None:
    settings = settings_for("prod", models={"coder-32b": {"pool": "training", "cache": "local-nvme"}})
    f = spec.FleetSpec(name="coder-32b", spec=settings.models["coder-32b"], image="i", env="prod", team="t")
    m = _build(f, prometheus_url="http://p")
    sts = m.by_type("kubernetes:apps/v1:StatefulSet")[0].inputs
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "local-nvme"
    assert not m.by_type("kubernetes:apps/v1:Deployment")


def test_secrets_are_kubernetes_secrets_from_output_secrets() -> None:
    f = _fleet("qwen-instruct", "dev", api_key_secret="qwen-instruct-api-key", hf_token_secret="qwen-instruct-hf-token")
    m = _build(f, api_key=pulumi.Output.secret("sk-test"), hf_token=pulumi.Output.secret("hf_test"))
    secrets = m.by_type("kubernetes:core/v1:Secret")
    assert {s.inputs["metadata"]["name"] for s in secrets} == {"qwen-instruct-api-key", "qwen-instruct-hf-token"}
    for s in secrets:
        assert SECRET_SIG in s.inputs["stringData"]
    deployment = json.dumps(m.by_type("kubernetes:apps/v1:Deployment")[0].inputs)
    assert "sk-test" not in deployment and "hf_test" not in deployment
