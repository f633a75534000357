"""Pure builders for a model-runner fleet: one ``ModelSpec`` rendered for vLLM or Ollama.

Everything a fleet's pods need is decided here from plain values:

- the server: vLLM's OpenAI server with arguments derived from the spec (tensor parallelism =
  GPUs per replica, quantization, max length, memory utilization, prefix caching, chunked
  prefill), or Ollama on 11434; both run offline from the local cache;
- a pre-staging init container that downloads the weights into the cache (the Hugging Face
  token is a mounted file, never an env literal; Ollama pulls here, not in ``postStart``);
- model-aware probes: a startup probe sized for loading weights, readiness that only passes
  when the model is served, liveness on the server's health endpoint;
- GPU limits, the GPU toleration and the pool's node selector, /dev/shm for tensor parallelism,
  the serving PriorityClass, and a restricted security context (UID 10001, read-only root FS
  with writable emptyDirs, no capabilities, RuntimeDefault seccomp, no token automount).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.core.labels import selector_labels, standard_labels
from components.core.naming import k8s_name
from components.core.settings import ModelSpec
from components.specs.node_pool import GPU_RESOURCE, GPU_TAINT_KEY
from components.specs.scheduling import SERVING_PRIORITY
from components.specs.storage import CACHE_PVC, LOCAL_CLASS, MODEL_UID

MODEL_SERVER = "model-server"
CACHE_MOUNT = "/models"
HF_HOME = f"{CACHE_MOUNT}/hf"
OLLAMA_MODELS = f"{CACHE_MOUNT}/ollama"
HF_TOKEN_FILE = "/var/run/secrets/huggingface/token"
API_KEY_ENV = "VLLM_API_KEY"
PROBE_PERIOD_S = 10
TAILSCALE_EXPOSE = "tailscale.com/expose"
TAILSCALE_HOSTNAME = "tailscale.com/hostname"


@dataclass(frozen=True)
class FleetSpec:
    """Everything the builders need about one fleet, as plain values."""

    name: str
    spec: ModelSpec
    image: str
    env: str
    team: str
    api_key_secret: str | None = None
    """Kubernetes Secret (key ``api-key``) holding the API key, when the model requires one."""
    hf_token_secret: str | None = None
    """Kubernetes Secret (key ``token``) holding the Hugging Face token, when one is set."""
    monitoring_namespace: str | None = None
    """Prometheus's namespace when monitoring is on (allowed to scrape /metrics)."""

    @property
    def engine(self) -> str:
        return self.spec.engine

    @property
    def namespace(self) -> str:
        return self.spec.namespace

    @property
    def resource_name(self) -> str:
        """metadata.name of the workload, Service and friends: ``<engine>-<model name>``."""
        return k8s_name(self.engine, self.name)

    @property
    def stateful(self) -> bool:
        """Per-replica NVMe cache needs a StatefulSet (one claim per replica)."""
        return self.spec.cache == "local-nvme"

    @property
    def uses_gpu(self) -> bool:
        return self.spec.gpus_per_replica > 0

    @property
    def labels(self) -> dict[str, str]:
        return standard_labels(
            env=self.env,
            team=self.team,
            app=self.engine,
            component=MODEL_SERVER,
            instance=self.name,
            extra={"ai-infra.io/model": self.spec.model, "ai-infra.io/pool": self.spec.pool},
        )

    @property
    def selector(self) -> dict[str, str]:
        return selector_labels(app=self.engine, instance=self.name)

    @property
    def service_host(self) -> str:
        return f"{self.resource_name}.{self.namespace}.svc.cluster.local"

    @property
    def endpoint(self) -> str:
        """In-cluster OpenAI-compatible base URL (Ollama serves the same API under /v1)."""
        return f"http://{self.service_host}:{self.spec.port}/v1"


# -- server arguments -------------------------------------------------------------------------


def vllm_args(f: FleetSpec) -> list[str]:
    """OpenAI server arguments derived from the spec (TP = GPUs per replica)."""
    s = f.spec
    args = [
        s.model,
        "--served-model-name",
        f.name,
        "--host",
        "0.0.0.0",
        "--port",
        str(s.port),
        "--tensor-parallel-size",
        str(s.gpus_per_replica),
        "--gpu-memory-utilization",
        f"{s.gpu_memory_utilization:g}",
        "--enable-prefix-caching" if s.prefix_caching else "--no-enable-prefix-caching",
        "--enable-chunked-prefill" if s.chunked_prefill else "--no-enable-chunked-prefill",
        "--disable-log-requests",
    ]
    if s.revision:
        args += ["--revision", s.revision]
    if s.quantization:
        args += ["--quantization", s.quantization]
    if s.max_model_len:
        args += ["--max-model-len", str(s.max_model_len)]
    return args + list(s.extra_args)


def stage_weights_script(f: FleetSpec) -> str:
    """Idempotent weight download into the cache (snapshot_download skips complete files)."""
    s = f.spec
    if f.engine == "vllm":
        call = {"repo_id": s.model, "revision": s.revision or "main", "cache_dir": f"{HF_HOME}/hub"}
        return (
            f"from huggingface_hub import snapshot_download\nsnapshot_download(**{json.dumps(call, sort_keys=True)})\n"
        )
    # Ollama: start a private server on loopback, pull into the cache, stop it.
    return (
        "set -eu\n"
        "OLLAMA_HOST=127.0.0.1:11435 ollama serve >/tmp/pull.log 2>&1 &\n"
        "pid=$!\n"
        "for _ in $(seq 1 60); do OLLAMA_HOST=127.0.0.1:11435 ollama list >/dev/null 2>&1 && break; sleep 1; done\n"
        f"OLLAMA_HOST=127.0.0.1:11435 ollama pull {s.model}\n"
        "kill $pid\n"
    )


# -- containers -------------------------------------------------------------------------------


def pull_policy(image: str) -> str:
    """A digest never changes; a tag can be re-pushed, so re-check it (only the manifest is fetched)."""
    return "IfNotPresent" if "@sha256:" in image else "Always"


def container_security_context() -> k8s.core.v1.SecurityContextArgs:
    return k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        run_as_non_root=True,
        run_as_user=MODEL_UID,
        run_as_group=MODEL_UID,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
    )


def pod_security_context() -> k8s.core.v1.PodSecurityContextArgs:
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=MODEL_UID,
        run_as_group=MODEL_UID,
        fs_group=MODEL_UID,
        fs_group_change_policy="OnRootMismatch",
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def resources(f: FleetSpec) -> k8s.core.v1.ResourceRequirementsArgs:
    s = f.spec
    requests: dict[str, str] = {"cpu": s.cpu, "memory": s.memory}
    limits: dict[str, str] = {"memory": s.memory}
    if f.uses_gpu:
        requests[GPU_RESOURCE] = limits[GPU_RESOURCE] = str(s.gpus_per_replica)
    return k8s.core.v1.ResourceRequirementsArgs(requests=requests, limits=limits)


def _env(f: FleetSpec, *, offline: bool) -> list[k8s.core.v1.EnvVarArgs]:
    env = [k8s.core.v1.EnvVarArgs(name="HOME", value="/home/app")]
    if f.engine == "vllm":
        env += [
            k8s.core.v1.EnvVarArgs(name="HF_HOME", value=HF_HOME),
            k8s.core.v1.EnvVarArgs(name="VLLM_NO_USAGE_STATS", value="1"),
            k8s.core.v1.EnvVarArgs(name="DO_NOT_TRACK", value="1"),
        ]
        if offline:
            # The server only ever reads the pre-staged cache; no network fetch at start.
            env += [k8s.core.v1.EnvVarArgs(name="HF_HUB_OFFLINE", value="1")]
        elif f.hf_token_secret:
            env += [k8s.core.v1.EnvVarArgs(name="HF_TOKEN_PATH", value=HF_TOKEN_FILE)]
        if offline and f.api_key_secret:
            env += [
                k8s.core.v1.EnvVarArgs(
                    name=API_KEY_ENV,
                    value_from=k8s.core.v1.EnvVarSourceArgs(
                        secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=f.api_key_secret, key="api-key")
                    ),
                )
            ]
    else:
        env += [
            k8s.core.v1.EnvVarArgs(name="OLLAMA_MODELS", value=OLLAMA_MODELS),
            k8s.core.v1.EnvVarArgs(name="OLLAMA_HOST", value=f"0.0.0.0:{f.spec.port}"),
            # The cache is read-only for the server: never prune or write blobs there.
            k8s.core.v1.EnvVarArgs(name="OLLAMA_NOPRUNE", value="1"),
            k8s.core.v1.EnvVarArgs(name="OLLAMA_KEEP_ALIVE", value="-1"),
        ]
    return env


def _http(path: str, port: int) -> k8s.core.v1.HTTPGetActionArgs:
    return k8s.core.v1.HTTPGetActionArgs(path=path, port=port)


@dataclass(frozen=True)
class Probes:
    startup: k8s.core.v1.ProbeArgs
    readiness: k8s.core.v1.ProbeArgs
    liveness: k8s.core.v1.ProbeArgs


def probes(f: FleetSpec) -> Probes:
    """startup (weights loading), readiness (model served), liveness (process healthy)."""
    s = f.spec
    failures = max(1, s.startup_budget_seconds // PROBE_PERIOD_S)
    if f.engine == "vllm":
        health = _http("/health", s.port)
        if f.api_key_secret:
            # /v1/models needs the key; ask with it from inside the pod (the key never leaves it).
            ready_check = (
                "import os,urllib.request as u;"
                f"r=u.Request('http://127.0.0.1:{s.port}/v1/models',"
                f"headers={{'Authorization':'Bearer '+os.environ['{API_KEY_ENV}']}});"
                f"assert '{f.name}' in u.urlopen(r,timeout=3).read().decode()"
            )
            ready = k8s.core.v1.ProbeArgs(
                exec_=k8s.core.v1.ExecActionArgs(command=["python3", "-c", ready_check]),
                period_seconds=5,
                timeout_seconds=5,
                failure_threshold=3,
            )
        else:
            ready = k8s.core.v1.ProbeArgs(http_get=_http("/v1/models", s.port), period_seconds=5, failure_threshold=3)
    else:
        health = _http("/", s.port)
        ready = k8s.core.v1.ProbeArgs(
            exec_=k8s.core.v1.ExecActionArgs(command=["ollama", "show", s.model]),
            period_seconds=5,
            timeout_seconds=5,
            failure_threshold=3,
        )
    return Probes(
        startup=k8s.core.v1.ProbeArgs(
            http_get=health, period_seconds=PROBE_PERIOD_S, failure_threshold=failures, timeout_seconds=5
        ),
        readiness=ready,
        liveness=k8s.core.v1.ProbeArgs(
            http_get=health, period_seconds=PROBE_PERIOD_S, failure_threshold=3, timeout_seconds=5
        ),
    )


def _mounts(f: FleetSpec, *, read_only_cache: bool) -> list[k8s.core.v1.VolumeMountArgs]:
    mounts = [
        k8s.core.v1.VolumeMountArgs(name="cache", mount_path=CACHE_MOUNT, read_only=read_only_cache),
        k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
        k8s.core.v1.VolumeMountArgs(name="home", mount_path="/home/app"),
    ]
    if f.spec.gpus_per_replica > 1:
        mounts.append(k8s.core.v1.VolumeMountArgs(name="dshm", mount_path="/dev/shm"))
    return mounts


def server_container(f: FleetSpec) -> k8s.core.v1.ContainerArgs:
    s = f.spec
    command = ["vllm", "serve"] if f.engine == "vllm" else ["ollama", "serve"]
    checks = probes(f)
    return k8s.core.v1.ContainerArgs(
        name="server",
        image=f.image,
        image_pull_policy=pull_policy(f.image),
        command=command,
        args=vllm_args(f) if f.engine == "vllm" else None,
        ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=s.port, protocol="TCP")],
        env=_env(f, offline=True),
        resources=resources(f),
        volume_mounts=_mounts(f, read_only_cache=True),
        security_context=container_security_context(),
        startup_probe=checks.startup,
        readiness_probe=checks.readiness,
        liveness_probe=checks.liveness,
    )


def stage_container(f: FleetSpec) -> k8s.core.v1.ContainerArgs:
    """Writes the weights into the cache before the server starts (RW cache, token as a file)."""
    mounts = _mounts(f, read_only_cache=False)
    if f.engine == "vllm" and f.hf_token_secret:
        mounts.append(
            k8s.core.v1.VolumeMountArgs(name="hf-token", mount_path="/var/run/secrets/huggingface", read_only=True)
        )
    command = ["python3", "-c"] if f.engine == "vllm" else ["/bin/sh", "-c"]
    return k8s.core.v1.ContainerArgs(
        name="stage-weights",
        image=f.image,
        image_pull_policy=pull_policy(f.image),
        command=[*command, stage_weights_script(f)],
        env=_env(f, offline=False),
        # Downloading needs CPU and memory, not the GPU.
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "1", "memory": "2Gi"}, limits={"memory": "4Gi"}
        ),
        volume_mounts=[m for m in mounts if m.name != "dshm"],
        security_context=container_security_context(),
    )


# -- pod --------------------------------------------------------------------------------------


def volumes(f: FleetSpec) -> list[k8s.core.v1.VolumeArgs]:
    vols = [
        k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="10Gi")),
        k8s.core.v1.VolumeArgs(name="home", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="1Gi")),
    ]
    if not f.stateful:
        vols.append(
            k8s.core.v1.VolumeArgs(
                name="cache",
                persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(claim_name=CACHE_PVC),
            )
        )
    if f.spec.gpus_per_replica > 1:
        vols.append(
            k8s.core.v1.VolumeArgs(
                name="dshm", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(medium="Memory", size_limit=f.spec.shm_size)
            )
        )
    if f.engine == "vllm" and f.hf_token_secret:
        vols.append(
            k8s.core.v1.VolumeArgs(
                name="hf-token",
                secret=k8s.core.v1.SecretVolumeSourceArgs(
                    secret_name=f.hf_token_secret,
                    default_mode=0o440,
                    items=[k8s.core.v1.KeyToPathArgs(key="token", path="token")],
                ),
            )
        )
    return vols


def pod_template(f: FleetSpec, service_account: str) -> k8s.core.v1.PodTemplateSpecArgs:
    tolerations = (
        [k8s.core.v1.TolerationArgs(key=GPU_TAINT_KEY, operator="Exists", effect="NoSchedule")] if f.uses_gpu else None
    )
    node_selector = {"ai-infra.io/pool": f.spec.pool} if f.uses_gpu else None
    return k8s.core.v1.PodTemplateSpecArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(labels=f.labels),
        spec=k8s.core.v1.PodSpecArgs(
            service_account_name=service_account,
            automount_service_account_token=False,
            enable_service_links=False,
            priority_class_name=SERVING_PRIORITY if f.uses_gpu else None,
            security_context=pod_security_context(),
            init_containers=[stage_container(f)],
            containers=[server_container(f)],
            volumes=volumes(f),
            tolerations=tolerations,
            node_selector=node_selector,
            termination_grace_period_seconds=60,
            topology_spread_constraints=[
                k8s.core.v1.TopologySpreadConstraintArgs(
                    max_skew=1,
                    topology_key="kubernetes.io/hostname",
                    when_unsatisfiable="ScheduleAnyway",
                    label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=f.selector),
                )
            ],
        ),
    )


def _meta(f: FleetSpec, name: str | None = None, **extra: Any) -> k8s.meta.v1.ObjectMetaArgs:
    return k8s.meta.v1.ObjectMetaArgs(name=name or f.resource_name, namespace=f.namespace, labels=f.labels, **extra)


def secret_args(f: FleetSpec, name: str, key: str, value: pulumi.Input[str]) -> k8s.core.v1.SecretInitArgs:
    """A Secret holding one credential; ``value`` must already be a secret Output."""
    return k8s.core.v1.SecretInitArgs(metadata=_meta(f, name), type="Opaque", string_data={key: value})


def service_account_args(f: FleetSpec) -> k8s.core.v1.ServiceAccountInitArgs:
    return k8s.core.v1.ServiceAccountInitArgs(metadata=_meta(f), automount_service_account_token=False)


def deployment_args(f: FleetSpec) -> k8s.apps.v1.DeploymentInitArgs:
    s = f.spec
    # Replace one pod at a time and never surge: a surge pod would need GPUs the pool may not have.
    strategy = k8s.apps.v1.DeploymentStrategyArgs(
        type="RollingUpdate",
        rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_surge=0, max_unavailable=1),
    )
    return k8s.apps.v1.DeploymentInitArgs(
        metadata=_meta(f),
        spec=k8s.apps.v1.DeploymentSpecArgs(
            # Autoscaled fleets leave replicas to the autoscaler (see ignore_changes in the component).
            replicas=s.replicas.min if s.replicas.min > 0 else 1,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=f.selector),
            strategy=strategy,
            progress_deadline_seconds=max(1200, s.startup_budget_seconds * 2),
            template=pod_template(f, f.resource_name),
        ),
    )


def statefulset_args(f: FleetSpec) -> k8s.apps.v1.StatefulSetInitArgs:
    """Per-replica NVMe cache: each replica claims its own local-nvme volume."""
    s = f.spec
    return k8s.apps.v1.StatefulSetInitArgs(
        metadata=_meta(f),
        spec=k8s.apps.v1.StatefulSetSpecArgs(
            replicas=s.replicas.min if s.replicas.min > 0 else 1,
            service_name=f.resource_name,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=f.selector),
            pod_management_policy="Parallel",
            template=pod_template(f, f.resource_name),
            persistent_volume_claim_retention_policy=k8s.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs(
                when_deleted="Delete", when_scaled="Retain"
            ),
            volume_claim_templates=[
                k8s.core.v1.PersistentVolumeClaimArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(name="cache", labels={"ai-infra.io/data": "scratch"}),
                    spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                        access_modes=["ReadWriteOnce"],
                        storage_class_name=LOCAL_CLASS,
                        resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": "500Gi"}),
                    ),
                )
            ],
        ),
    )


def service_args(f: FleetSpec) -> k8s.core.v1.ServiceInitArgs:
    annotations = None
    if f.spec.exposure == "tailnet":
        # Read by the Tailscale operator: a tailnet-only proxy instead of a public load balancer.
        annotations = {TAILSCALE_EXPOSE: "true", TAILSCALE_HOSTNAME: k8s_name(f.name, f.env)}
    return k8s.core.v1.ServiceInitArgs(
        metadata=_meta(f, annotations=annotations),
        spec=k8s.core.v1.ServiceSpecArgs(
            type="ClusterIP",
            selector=f.selector,
            ports=[k8s.core.v1.ServicePortArgs(name="http", port=f.spec.port, target_port="http", protocol="TCP")],
        ),
    )


def pdb_args(f: FleetSpec) -> k8s.policy.v1.PodDisruptionBudgetInitArgs:
    return k8s.policy.v1.PodDisruptionBudgetInitArgs(
        metadata=_meta(f),
        spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
            max_unavailable=1, selector=k8s.meta.v1.LabelSelectorArgs(match_labels=f.selector)
        ),
    )


def network_policy_args(
    f: FleetSpec, *, tailnet_namespace: str = "tailscale"
) -> k8s.networking.v1.NetworkPolicyInitArgs:
    """Ingress: same namespace, listed client namespaces, the tailnet proxy, Prometheus.
    Egress: HTTPS to the internet (weights), never to private ranges or instance metadata."""
    peers = [k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs())]
    sources = sorted(set(f.spec.client_namespaces) | ({tailnet_namespace} if f.spec.exposure == "tailnet" else set()))
    if f.monitoring_namespace:
        sources = sorted({*sources, f.monitoring_namespace})
    peers += [
        k8s.networking.v1.NetworkPolicyPeerArgs(
            namespace_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"kubernetes.io/metadata.name": ns})
        )
        for ns in sources
    ]
    return k8s.networking.v1.NetworkPolicyInitArgs(
        metadata=_meta(
            f,
            annotations={
                "ai-infra.io/egress-waiver": "model weights download over HTTPS (Hugging Face Hub / Ollama registry)"
            },
        ),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=f.selector),
            policy_types=["Ingress", "Egress"],
            ingress=[
                k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                    from_=peers, ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=f.spec.port, protocol="TCP")]
                )
            ],
            egress=[
                k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                    to=[
                        k8s.networking.v1.NetworkPolicyPeerArgs(
                            ip_block=k8s.networking.v1.IPBlockArgs(
                                cidr="0.0.0.0/0",
                                except_=["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"],
                            )
                        )
                    ],
                    ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=443, protocol="TCP")],
                )
            ],
        ),
    )


def scaled_object(f: FleetSpec, prometheus_url: str) -> dict[str, Any]:
    """KEDA ScaledObject on vLLM queue depth (requests waiting per replica)."""
    s = f.spec
    query = f'sum(vllm:num_requests_waiting{{namespace="{f.namespace}",model_name="{f.name}"}})'
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": f.resource_name, "namespace": f.namespace, "labels": f.labels},
        "spec": {
            "scaleTargetRef": {"kind": "StatefulSet" if f.stateful else "Deployment", "name": f.resource_name},
            "minReplicaCount": s.replicas.min,
            "maxReplicaCount": s.replicas.max,
            "pollingInterval": 15,
            "cooldownPeriod": 360,
            "initialCooldownPeriod": 60,
            "fallback": {"failureThreshold": 3, "replicas": max(1, s.replicas.min)},
            "triggers": [
                {
                    "type": "prometheus",
                    "metadata": {"serverAddress": prometheus_url, "query": query, "threshold": "5"},
                }
            ],
        },
    }


def hpa_args(f: FleetSpec) -> k8s.autoscaling.v2.HorizontalPodAutoscalerInitArgs:
    """Ollama exposes no Prometheus metrics: scale on CPU, which tracks its request load."""
    s = f.spec
    return k8s.autoscaling.v2.HorizontalPodAutoscalerInitArgs(
        metadata=_meta(f),
        spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
            scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                api_version="apps/v1", kind="StatefulSet" if f.stateful else "Deployment", name=f.resource_name
            ),
            min_replicas=max(1, s.replicas.min),
            max_replicas=s.replicas.max,
            metrics=[
                k8s.autoscaling.v2.MetricSpecArgs(
                    type="Resource",
                    resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                        name="cpu",
                        target=k8s.autoscaling.v2.MetricTargetArgs(type="Utilization", average_utilization=70),
                    ),
                )
            ],
        ),
    )


def service_monitor(f: FleetSpec) -> dict[str, Any]:
    """Prometheus Operator ServiceMonitor for vLLM's /metrics."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": f.resource_name, "namespace": f.namespace, "labels": f.labels},
        "spec": {
            "selector": {"matchLabels": f.selector},
            "namespaceSelector": {"matchNames": [f.namespace]},
            "endpoints": [{"port": "http", "path": "/metrics", "interval": "15s", "scrapeTimeout": "10s"}],
        },
    }
