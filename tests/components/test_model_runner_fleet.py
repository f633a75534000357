"""ModelRunnerFleet under mocks: what each spec produces (PDB, autoscaler, ServiceMonitor, secrets)."""

from __future__ import annotations

import json
from typing import Any

import pulumi

from components.model_runner_fleet import ModelRunnerFleet, ModelRunnerFleetArgs
from components.specs import model_runner as spec
from components.specs import model_workloads as workloads
from components.specs import weight_staging as staging
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
    assert _types(m) == {"ServiceAccount", "Job", "Deployment", "Service", "NetworkPolicy"}


def test_prod_vllm_fleet_gets_pdb_scaledobject_and_ignores_replicas() -> None:
    m = _build(_fleet("coder-32b", "prod"), prometheus_url="http://prom:9090")
    assert _types(m) == {
        "ServiceAccount",
        "Job",
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
    settings = settings_for(
        "prod",
        models={"coder-32b": {"pool": "training", "cache": "local-nvme"}},
        batch={"queues": {"train": {"gpus": 8}}},  # the fleet holds 4 of the pool's 16 GPUs
    )
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


def test_a_shared_cache_is_staged_by_a_job_and_the_servers_never_reach_the_internet() -> None:
    m = _build(_fleet("coder-32b", "prod"), prometheus_url="http://prom:9090")
    (job,) = m.by_type("kubernetes:batch/v1:Job")
    (deployment,) = m.by_type("kubernetes:apps/v1:Deployment")
    assert job.urn in deployment.dependencies  # weights first, then pods
    policies = {r.inputs["metadata"]["name"]: r for r in m.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    server, stager = policies["vllm-coder-32b"], policies["vllm-coder-32b-stage"]
    assert "egress" not in server.inputs["spec"] and "annotations" not in server.inputs["metadata"]
    assert stager.urn in job.dependencies and stager.inputs["spec"]["egress"][0]["ports"] == [
        {"port": 443, "protocol": "TCP"}
    ]
    # The stager's pods are not the fleet's: the Service, PDB and server policy never select them.
    stage_labels = job.inputs["spec"]["template"]["metadata"]["labels"]
    selector = deployment.inputs["spec"]["selector"]["matchLabels"]
    assert not all(stage_labels.get(k) == v for k, v in selector.items())
    assert stager.inputs["spec"]["podSelector"]["matchLabels"].items() <= stage_labels.items()
    # The Job downloads (with the token file, RW cache); the server pods only verify, offline.
    (stage,) = job.inputs["spec"]["template"]["spec"]["containers"]
    assert "snapshot_download" in stage["command"][-1] and "local_files_only" not in stage["command"][-1]
    (verify,) = deployment.inputs["spec"]["template"]["spec"]["initContainers"]
    assert verify["name"] == "verify-weights" and '"local_files_only": true' in verify["command"][-1]
    assert {"name": "HF_HUB_OFFLINE", "value": "1"} in verify["env"]
    assert all(mount.get("readOnly") for mount in verify["volumeMounts"] if mount["name"] == "cache")


def test_the_staging_job_is_renamed_by_revision_and_runs_restricted_without_gpus() -> None:
    f = _fleet("coder-32b", "prod")
    job: Any = staging.stage_job_args(f)
    other = spec.FleetSpec(
        name=f.name, spec=f.spec.model_copy(update={"revision": "0" * 40}), image=f.image, env="prod", team="ml"
    )
    assert job.metadata.name.startswith("stage-coder-32b-") and other.stage_job_name != f.stage_job_name
    pod = job.spec.template.spec
    assert pod.restart_policy == "Never" and pod.automount_service_account_token is False
    assert pod.tolerations is None and pod.node_selector is None  # CPU nodes: no GPU held while downloading
    (container,) = pod.containers
    assert container.security_context.allow_privilege_escalation is False and container.resources.limits


def test_per_pod_caches_still_stage_in_the_pod_with_https_egress() -> None:
    settings = settings_for(
        "prod",
        models={"coder-32b": {"pool": "training", "cache": "local-nvme"}},
        batch={"queues": {"train": {"gpus": 8}}},  # the fleet holds 4 of the pool's 16 GPUs
    )
    f = spec.FleetSpec(name="coder-32b", spec=settings.models["coder-32b"], image="i", env="prod", team="ml")
    assert not f.staged_by_job
    m = _build(f, prometheus_url="http://prom:9090")
    assert m.by_type("kubernetes:batch/v1:Job") == []
    (policy,) = m.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    assert policy.inputs["spec"]["egress"][0]["ports"] == [{"port": 443, "protocol": "TCP"}]
    assert "ai-infra.io/egress-waiver" in policy.inputs["metadata"]["annotations"]


def test_with_its_own_write_path_the_stager_writes_its_claim_and_servers_read_their_directory() -> None:
    f = _fleet("coder-32b", "prod", own_weights_volume=True)
    job: Any = staging.stage_job_args(f)
    (cache,) = [v for v in job.spec.template.spec.volumes if v.name == "cache"]
    assert cache.persistent_volume_claim.claim_name == "model-weights-coder-32b"
    (stage,) = job.spec.template.spec.containers
    assert all(m.sub_path is None for m in stage.volume_mounts)
    pod: Any = workloads.pod_template(f, "sa").spec
    (cache,) = [v for v in pod.volumes if v.name == "cache"]
    assert cache.persistent_volume_claim.claim_name == "model-cache"
    for container in [*pod.init_containers, *pod.containers]:
        (mount,) = [m for m in container.volume_mounts if m.name == "cache"]
        assert mount.sub_path == "coder-32b" and mount.read_only
