"""Pure model-runner builders: server args, probes, security context, volumes, GPU scheduling."""

from __future__ import annotations

from typing import Any

import pulumi_kubernetes as k8s
import pytest

from components.core.engines import HF_TOKEN_FILE
from components.specs import model_runner as spec
from components.specs import model_serving as serving
from components.specs import model_workloads as workloads
from components.specs import weight_staging as staging
from tests.conftest import settings_for


def fleet(name: str = "qwen-instruct", env: str = "dev", **spec_overrides: Any) -> spec.FleetSpec:
    settings = settings_for(env, models={name: spec_overrides} if spec_overrides else {})
    model = settings.models[name]
    return spec.FleetSpec(name=name, spec=model, image=getattr(settings.model_images, model.engine), env=env, team="ml")


def test_vllm_args_derive_from_the_spec() -> None:
    f = fleet("coder-32b", env="prod")
    args = _args(f)
    assert args[0] == "Qwen/Qwen2.5-Coder-32B-Instruct-AWQ"
    pairs = dict(zip(args[1::2], args[2::2], strict=False))
    assert args[args.index("--tensor-parallel-size") + 1] == "2"
    assert "--quantization" not in args  # AWQ: vLLM reads it from the checkpoint and picks awq_marlin
    assert "--disable-log-requests" not in args  # deprecated, no effect in v0.11.0
    assert args[args.index("--max-model-len") + 1] == "16384"
    assert args[args.index("--gpu-memory-utilization") + 1] == "0.9"
    assert "--enable-prefix-caching" in args and "--enable-chunked-prefill" in args
    assert pairs["--served-model-name"] == "coder-32b"


def test_vllm_flags_follow_switches_and_extra_args() -> None:
    f = fleet(prefixCaching=False, chunkedPrefill=False, extraArgs=["--seed", "7"], revision="abc123")
    args = _args(f)
    assert "--no-enable-prefix-caching" in args and "--no-enable-chunked-prefill" in args
    assert args[-2:] == ["--seed", "7"] and args[args.index("--revision") + 1] == "abc123"


def _args(f: spec.FleetSpec) -> list[str]:
    args = spec.server_container(f).args
    assert isinstance(args, list)
    return args


def _container(f: spec.FleetSpec) -> k8s.core.v1.ContainerArgs:
    return spec.server_container(f)


def test_probes_wait_for_the_model() -> None:
    vllm = _container(fleet())
    assert vllm.startup_probe.http_get.path == "/health"
    assert vllm.startup_probe.period_seconds * vllm.startup_probe.failure_threshold == 600
    assert vllm.readiness_probe.http_get.path == "/v1/models"
    assert vllm.liveness_probe.http_get.path == "/health"
    ollama = _container(fleet("qwen-small"))
    assert ollama.readiness_probe.exec_.command == ["ollama", "show", "qwen2.5:0.5b"]
    assert ollama.liveness_probe.http_get.port == 11434


def test_api_key_readiness_asks_with_the_key_from_the_pod() -> None:
    f = spec.FleetSpec(name="q", spec=fleet().spec, image="i", env="dev", team="t", api_key_secret="q-api-key")
    c = _container(f)
    assert c.readiness_probe.exec_.command[0] == "python3"
    key_env = next(e for e in c.env if e.name == "VLLM_API_KEY")
    assert key_env.value_from.secret_key_ref.name == "q-api-key" and key_env.value is None


def test_restricted_security_context_everywhere() -> None:
    f = fleet()
    for c in (_container(f), staging.stage_container(f)):
        sc = c.security_context
        assert sc.allow_privilege_escalation is False and sc.read_only_root_filesystem is True
        assert sc.run_as_non_root is True and sc.run_as_user == 10001 and sc.capabilities.drop == ["ALL"]
    pod = workloads.pod_template(f, "sa").spec
    assert pod.automount_service_account_token is False and pod.service_account_name == "sa"
    assert pod.security_context.seccomp_profile.type == "RuntimeDefault"


def test_server_reads_cache_read_only_and_stager_writes_it() -> None:
    f = fleet()
    server_mounts = {m.name: m for m in _container(f).volume_mounts}
    stage_mounts = {m.name: m for m in staging.stage_container(f).volume_mounts}
    assert server_mounts["cache"].read_only is True and stage_mounts["cache"].read_only is False
    env = {e.name: e.value for e in _container(f).env}
    assert env["HF_HOME"] == "/models/hf" and env["HF_HUB_OFFLINE"] == "1"
    assert "HF_HUB_OFFLINE" not in {e.name for e in staging.stage_container(f).env}


def test_hf_token_is_a_mounted_file_never_an_env_literal() -> None:
    f = spec.FleetSpec(name="q", spec=fleet().spec, image="i", env="dev", team="t", hf_token_secret="q-hf-token")
    stage = staging.stage_container(f)
    env = {e.name: e for e in stage.env}
    assert env["HF_TOKEN_PATH"].value == HF_TOKEN_FILE
    assert all(e.value_from is None for e in stage.env)
    vols = {v.name: v for v in spec.volumes(f)}
    assert vols["hf-token"].secret.secret_name == "q-hf-token"
    assert "hf-token" in {m.name for m in stage.volume_mounts}
    assert "hf-token" not in {m.name for m in _container(f).volume_mounts}


def test_ollama_pulls_in_an_init_container_not_post_start() -> None:
    f = fleet("qwen-small")
    stage = staging.stage_container(f)
    assert "ollama pull qwen2.5:0.5b" in stage.command[-1]
    lifecycle = _container(f).lifecycle
    assert lifecycle is None or lifecycle.post_start is None  # only the drain's preStop
    assert {e.name: e.value for e in _container(f).env}["OLLAMA_MODELS"] == "/models/ollama"


@pytest.mark.parametrize(("gpus", "shm"), [(1, False), (2, True)])
def test_shm_only_with_tensor_parallelism(gpus: int, shm: bool) -> None:
    settings = settings_for("prod", models={"coder-32b": {"gpusPerReplica": gpus}})
    f = spec.FleetSpec(name="coder-32b", spec=settings.models["coder-32b"], image="i", env="prod", team="t")
    dshm = [v for v in spec.volumes(f) if v.name == "dshm"]
    assert bool(dshm) is shm
    if shm:
        assert dshm[0].empty_dir.medium == "Memory"


def test_gpu_scheduling() -> None:
    f = fleet("coder-32b", env="prod")
    pod = workloads.pod_template(f, "sa").spec
    assert pod.node_selector == {"ai-infra.io/pool": "serving"}
    assert pod.tolerations[0].key == "nvidia.com/gpu" and pod.priority_class_name == "gpu-serving"
    res = _container(f).resources
    assert res.limits["nvidia.com/gpu"] == res.requests["nvidia.com/gpu"] == "2"
    assert res.limits["memory"] == "96Gi"


def test_cpu_only_ollama_does_not_touch_gpu_nodes() -> None:
    f = fleet("qwen-small", gpusPerReplica=0)
    pod = workloads.pod_template(f, "sa").spec
    assert pod.tolerations is None and pod.node_selector is None and pod.priority_class_name is None
    assert "nvidia.com/gpu" not in _container(f).resources.limits


def _on_tailnet(f: spec.FleetSpec, **overrides: Any) -> spec.FleetSpec:
    """The fleet with ``exposure: tailnet`` (settings accept that only with the mesh on)."""
    return spec.FleetSpec(
        name=f.name,
        spec=f.spec.model_copy(update={"exposure": "tailnet"}),
        image=f.image,
        env=f.env,
        team=f.team,
        **overrides,
    )


def test_tailnet_exposure_is_an_ingress_in_front_of_a_cluster_ip_service() -> None:
    f = _on_tailnet(fleet("coder-32b", env="prod"))
    svc = serving.service_args(f)
    assert svc.spec.type == "ClusterIP" and svc.metadata.annotations is None
    ingress = serving.tailnet_ingress(f)
    assert ingress.spec.ingress_class_name == "tailscale"
    assert ingress.spec.tls[0].hosts == ["coder-32b-prod"]
    backend = ingress.spec.default_backend.service
    assert (backend.name, backend.port.number) == ("vllm-coder-32b", 8000)
    assert ingress.metadata.annotations == {"tailscale.com/tags": "tag:model-runner,tag:ai-infra-prod"}


def test_network_policy_allows_clients_and_the_fleets_own_tailnet_proxy_and_leaves_https_to_the_stager() -> None:
    f = _on_tailnet(fleet("coder-32b", env="prod", clientNamespaces=["apps"]), monitoring_namespace="monitoring")
    np = serving.network_policy_args(f).spec
    peers = np.ingress[0].from_
    whole_namespaces = {
        p.namespace_selector.match_labels["kubernetes.io/metadata.name"]
        for p in peers
        if p.namespace_selector and p.pod_selector is None
    }
    # Only listed client namespaces are admitted whole: from monitoring Prometheus's pods, from the
    # operator's namespace the proxy pod of this fleet's Ingress, from its own the labelled clients.
    assert whole_namespaces == {"apps"}
    prometheus, proxy = [p for p in peers if p.namespace_selector and p.pod_selector is not None]
    assert prometheus.namespace_selector.match_labels == {"kubernetes.io/metadata.name": "monitoring"}
    assert prometheus.pod_selector.match_labels == {"app.kubernetes.io/name": "prometheus"}
    (own,) = [p for p in peers if p.namespace_selector is None]
    assert own.pod_selector.match_labels == {"ai-infra.io/model-client": "true"}
    assert proxy.namespace_selector.match_labels == {"kubernetes.io/metadata.name": "tailscale"}
    assert proxy.pod_selector.match_labels == {
        "tailscale.com/parent-resource-type": "ingress",
        "tailscale.com/parent-resource-ns": "models",
        "tailscale.com/parent-resource": "vllm-coder-32b",
    }
    assert [p.port for p in np.ingress[0].ports] == [8000]
    cluster_only = serving.network_policy_args(fleet("coder-32b", env="prod")).spec
    assert all(p.pod_selector is None for p in cluster_only.ingress[0].from_ if p.namespace_selector)
    assert not [p for p in cluster_only.ingress[0].from_ if p.pod_selector and not p.pod_selector.match_labels]
    # The shared cache is filled by the staging Job: the server pods have no egress of their own.
    assert f.staged_by_job and np.egress is None
    egress = serving.stage_network_policy_args(f).spec.egress[0]
    assert egress.ports[0].port == 443 and "169.254.0.0/16" in egress.to[0].ip_block.except_


def test_scaled_object_scales_on_queue_depth() -> None:
    so = serving.scaled_object(fleet("coder-32b", env="prod"), "http://prom:9090")
    assert so["spec"]["minReplicaCount"] == 2 and so["spec"]["maxReplicaCount"] == 4
    trigger = so["spec"]["triggers"][0]
    assert (
        "vllm:num_requests_waiting" in trigger["metadata"]["query"]
        and trigger["metadata"]["serverAddress"] == "http://prom:9090"
    )


def test_endpoint_is_the_in_cluster_openai_url() -> None:
    assert fleet().endpoint == "http://vllm-qwen-instruct.models.svc.cluster.local:8000/v1"


def test_a_staging_job_in_a_batch_namespace_names_its_queue() -> None:
    # Kueue holds unlabelled Jobs there (manageJobsWithoutQueueName): the staging Job must queue.
    from dataclasses import replace

    f = fleet("coder-32b", env="prod")
    assert "kueue.x-k8s.io/queue-name" not in (staging.stage_job_args(f).metadata.labels or {})
    queued = staging.stage_job_args(replace(f, stage_queue="train")).metadata.labels
    assert queued["kueue.x-k8s.io/queue-name"] == "train"


def test_scale_down_drains_before_sigterm_within_the_grace_period() -> None:
    # issue 26 item 3: preStop sleeps drainSeconds; the grace period outlasts the sleep and the exit.
    f = fleet(drainSeconds=120)
    hook = _container(f).lifecycle.pre_stop.sleep
    assert hook.seconds == 120
    assert workloads.pod_template(f, "sa").spec.termination_grace_period_seconds == 120 + workloads.ENGINE_EXIT_SECONDS
    assert _container(fleet(drainSeconds=0)).lifecycle is None
    assert workloads.pod_template(fleet(drainSeconds=0), "sa").spec.termination_grace_period_seconds == 30
