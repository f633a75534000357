"""Pure builders for a model-runner fleet's pods: one ``ModelSpec``, any engine.

Everything engine-specific (port, server command and arguments, staging script, environment,
probe paths) comes from the engine's record in ``components/core/engines.py``; these builders
only assemble it the same way for every engine:

- the server container, running offline from the local cache (read-only);
- weights staged before the server starts (the Hugging Face token is a mounted file, never an
  env literal; Ollama pulls there, not in ``postStart``): for a shared cache by a staging Job per
  revision (``stage_job_args``), the only part of the fleet that may reach the internet, and the
  pods only verify offline; for per-pod caches (local NVMe, ephemeral) by an init container;
- model-aware probes: a startup probe sized for loading weights, readiness that only passes
  when the model is served, liveness on the server's health endpoint;
- GPU limits, the GPU toleration and the pool's node selector, /dev/shm for tensor parallelism,
  the serving PriorityClass, and a restricted security context (UID 10001, read-only root FS
  with writable emptyDirs, no capabilities, RuntimeDefault seccomp, no token automount).

The objects around the pods (Service, NetworkPolicy, autoscaling, monitors) are in
``model_serving.py``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.core.engines import CACHE_MOUNT, HF_TOKEN_FILE, Engine
from components.core.labels import KUEUE_QUEUE_LABEL, POOL_LABEL, selector_labels, standard_labels
from components.core.naming import k8s_name
from components.core.settings import ModelSpec
from components.core.settings.gateway import EXPOSURE_ANNOTATION, EXPOSURE_REASON_ANNOTATION, FleetGateway
from components.specs.node_pool import GPU_RESOURCE, GPU_TAINT_KEY
from components.specs.scheduling import SERVING_PRIORITY
from components.specs.storage import CACHE_PVC, LOCAL_CLASS, MODEL_UID, weights_claim_name

MODEL_SERVER = "model-server"
NO_CPU_LIMIT = {
    # checkov reads its waivers from the object (README "Policies" lists them). The server has CPU
    # requests and memory limits; a CPU limit's CFS quota stalls token generation under load.
    "checkov.io/skip1": "CKV_K8S_11=no CPU limit on inference servers: CFS throttling stalls token "
    "generation; CPU requests and memory limits are set"
}
API_KEY_IN_ENV = {
    # vLLM takes its API key only as --api-key (visible in `ps` and the pod spec) or VLLM_API_KEY
    # (vllm-project/vllm docs, OpenAI-compatible server: "pass in the argument --api-key or
    # environment variable VLLM_API_KEY"): the environment, from a Secret, is the
    # lesser exposure. The pack's rule 42 names it in allowedEnvVars for the same reason.
    # SGLang reads only --api-key; the key still comes from a Secret-backed env var
    # (engine.api_key_env), which its args name as $(VAR), so the pod spec never holds it.
    "checkov.io/skip2": "CKV_K8S_35=vLLM reads its API key only from VLLM_API_KEY or a command-line flag; "
    "the variable comes from a Secret"
}
WEIGHT_STAGER = "weight-stager"
STAGE_TIMEOUT_S = 3600
"""How long one staging Job may download (a 70 B checkpoint is ~140 GB)."""
EPHEMERAL_CACHE_SIZE = "100Gi"
"""emptyDir limit of an ``ephemeral`` cache (node ephemeral storage)."""
PROBE_PERIOD_S = 10


@dataclass(frozen=True)
class FleetSpec:
    """Everything the builders need about one fleet, as plain values."""

    name: str
    spec: ModelSpec
    image: pulumi.Input[str]
    """A reference from settings, or the registry's push (an Output: always ``repository@sha256:``)."""
    env: str
    team: str
    api_key_secret: str | None = None
    """Kubernetes Secret (key ``api-key``) holding the API key, when the model requires one."""
    hf_token_secret: str | None = None
    """Kubernetes Secret (key ``token``) holding the Hugging Face token, when one is set."""
    monitoring_namespace: str | None = None
    """Prometheus's namespace when monitoring is on (allowed to scrape /metrics)."""
    runtime_class: str | None = None
    """RuntimeClass of GPU pods, where the stack creates one (containerd's default is not NVIDIA's)."""
    pull_secret: str | None = None
    """The registry pull Secret in the fleet's namespace (a registry host of your own)."""
    own_weights_volume: bool = False
    stage_queue: str | None = None
    """The LocalQueue the staging Job names in a batch namespace, where Kueue holds every Job
    without one (``manageJobsWithoutQueueName``); None elsewhere."""
    """The staging Job writes through the fleet's own claim (an EFS access point on
    ``/models/<namespace>/<fleet>``) and the servers read that directory of the namespace cache."""
    gateway: FleetGateway | None = None
    """How the fleet stands to the environment's gateway (None: the stack runs none)."""

    @property
    def engine(self) -> Engine:
        return self.spec.engine_record

    @property
    def namespace(self) -> str:
        return self.spec.namespace

    @property
    def resource_name(self) -> str:
        """metadata.name of the workload, Service and friends: ``<engine>-<model name>``."""
        return k8s_name(self.engine.name, self.name)

    @property
    def stateful(self) -> bool:
        """Per-replica NVMe cache needs a StatefulSet (one claim per replica)."""
        return self.spec.cache == "local-nvme"

    @property
    def staged_by_job(self) -> bool:
        """A shared cache is filled once per revision by a staging Job: the serving pods then
        never need the internet. Per-pod caches (local NVMe, ephemeral) are filled in the pod."""
        return self.spec.cache == "shared"

    @property
    def stage_job_name(self) -> str:
        """``stage-<fleet>-<hash>``: a new model, revision or script makes a new Job (Jobs are immutable)."""
        identity = json.dumps(
            [self.engine.name, self.spec.model, self.spec.revision, self.engine.stage_script(self.spec)]
        )
        return k8s_name("stage", self.name, hashlib.sha256(identity.encode()).hexdigest()[:8])

    @property
    def stager_labels(self) -> dict[str, str]:
        """Labels of the staging Job's pods: never matched by the fleet's Service, PDB or policies."""
        return standard_labels(
            env=self.env, team=self.team, app=self.engine.name, component=WEIGHT_STAGER, instance=f"{self.name}-weights"
        )

    @property
    def stager_selector(self) -> dict[str, str]:
        return selector_labels(app=self.engine.name, instance=f"{self.name}-weights")

    @property
    def uses_gpu(self) -> bool:
        return self.spec.gpus_per_replica > 0

    @property
    def workload_kind(self) -> str:
        return "StatefulSet" if self.stateful else "Deployment"

    @property
    def labels(self) -> dict[str, str]:
        return standard_labels(
            env=self.env,
            team=self.team,
            app=self.engine.name,
            component=MODEL_SERVER,
            instance=self.name,
            extra={"ai-infra.io/model": self.spec.model, POOL_LABEL: self.spec.pool},
        )

    @property
    def selector(self) -> dict[str, str]:
        return selector_labels(app=self.engine.name, instance=self.name)

    @property
    def service_host(self) -> str:
        return f"{self.resource_name}.{self.namespace}.svc.cluster.local"

    @property
    def endpoint(self) -> str:
        """In-cluster OpenAI-compatible base URL (Ollama serves the same API under /v1)."""
        return f"http://{self.service_host}:{self.spec.port}/v1"


def fleet_spec(
    name: str,
    spec: ModelSpec,
    *,
    image: pulumi.Input[str],
    env: str,
    team: str,
    api_key: bool,
    hf_token: bool,
    monitoring_namespace: str | None,
    runtime_class: str | None = None,
    pull_secret: str | None = None,
    own_weights_volume: bool = False,
    stage_queue: str | None = None,
    gateway: FleetGateway | None = None,
) -> FleetSpec:
    """A fleet's plain description; Secrets are named after the fleet when it has the credential."""
    return FleetSpec(
        name=name,
        spec=spec,
        image=image,
        env=env,
        team=team,
        api_key_secret=k8s_name(name, "api-key") if api_key else None,
        hf_token_secret=k8s_name(name, "hf-token") if hf_token else None,
        monitoring_namespace=monitoring_namespace,
        runtime_class=runtime_class,
        pull_secret=pull_secret,
        own_weights_volume=own_weights_volume,
        stage_queue=stage_queue,
        gateway=gateway,
    )


# -- containers -------------------------------------------------------------------------------


def pull_policy(image: pulumi.Input[str]) -> str:
    """A digest never changes; a tag can be re-pushed, so re-check it (only the manifest is fetched).
    An Output is the registry's push, always a digest."""
    return "IfNotPresent" if not isinstance(image, str) or "@sha256:" in image else "Always"


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
    pairs = [("HOME", "/home/app"), *f.engine.env(offline, f.hf_token_secret is not None)]
    env = [k8s.core.v1.EnvVarArgs(name=name, value=value) for name, value in pairs]
    if offline and f.api_key_secret and f.engine.api_key_env:
        env.append(
            k8s.core.v1.EnvVarArgs(
                name=f.engine.api_key_env,
                value_from=k8s.core.v1.EnvVarSourceArgs(
                    secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=f.api_key_secret, key="api-key")
                ),
            )
        )
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
    s, engine = f.spec, f.engine
    failures = max(1, s.startup_budget_seconds // PROBE_PERIOD_S)
    health = _http(engine.health_path, s.port)
    ready_command = engine.ready_exec(s, f.name, f.api_key_secret is not None)
    if ready_command is not None:
        ready = k8s.core.v1.ProbeArgs(
            exec_=k8s.core.v1.ExecActionArgs(command=ready_command),
            period_seconds=5,
            timeout_seconds=5,
            failure_threshold=3,
        )
    else:
        ready = k8s.core.v1.ProbeArgs(http_get=_http(engine.ready_path, s.port), period_seconds=5, failure_threshold=3)
    return Probes(
        startup=k8s.core.v1.ProbeArgs(
            http_get=health, period_seconds=PROBE_PERIOD_S, failure_threshold=failures, timeout_seconds=5
        ),
        readiness=ready,
        liveness=k8s.core.v1.ProbeArgs(
            http_get=health, period_seconds=PROBE_PERIOD_S, failure_threshold=3, timeout_seconds=5
        ),
    )


def _mounts(f: FleetSpec, *, read_only_cache: bool, stager: bool = False) -> list[k8s.core.v1.VolumeMountArgs]:
    # Readers of a fleet with its own write path see only its directory of the namespace cache;
    # the stager's own claim is rooted there already.
    sub_path = f.name if f.own_weights_volume and not stager else None
    mounts = [
        k8s.core.v1.VolumeMountArgs(name="cache", mount_path=CACHE_MOUNT, read_only=read_only_cache, sub_path=sub_path),
        k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
        k8s.core.v1.VolumeMountArgs(name="home", mount_path="/home/app"),
    ]
    if f.spec.gpus_per_replica > 1 and f.engine.capabilities.tensor_parallel:  # NCCL traffic
        mounts.append(k8s.core.v1.VolumeMountArgs(name="dshm", mount_path="/dev/shm"))
    return mounts


def server_args(f: FleetSpec) -> list[str]:
    """The engine's arguments, plus its API-key hook when the fleet has a key (the key itself stays
    in the Secret-backed env var; SGLang's hook names it as ``$(VAR)``, which Kubernetes expands)."""
    args = f.engine.server_args(f.spec, f.name)
    if f.api_key_secret and f.engine.api_key_env:
        args += f.engine.api_key_args(f.engine.api_key_env)
    return args


def server_container(f: FleetSpec) -> k8s.core.v1.ContainerArgs:
    s = f.spec
    checks = probes(f)
    return k8s.core.v1.ContainerArgs(
        name="server",
        image=f.image,
        image_pull_policy=pull_policy(f.image),
        command=list(f.engine.server_command),
        args=server_args(f) or None,
        ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=s.port, protocol="TCP")],
        env=_env(f, offline=True),
        resources=resources(f),
        volume_mounts=_mounts(f, read_only_cache=True),
        security_context=container_security_context(),
        startup_probe=checks.startup,
        readiness_probe=checks.readiness,
        liveness_probe=checks.liveness,
        # Graceful drain (issue 26): the pod leaves the Service's endpoints when deletion starts, but
        # vLLM v0.11.0 cancels its HTTP server on SIGTERM without waiting for requests
        # (vllm/entrypoints/launcher.py serve_http, signal_handler; no shutdown timeout at that pin).
        # Sleeping before SIGTERM lets in-flight requests finish and the endpoint change propagate.
        lifecycle=k8s.core.v1.LifecycleArgs(
            pre_stop=k8s.core.v1.LifecycleHandlerArgs(sleep=k8s.core.v1.SleepActionArgs(seconds=s.drain_seconds))
        )
        if s.drain_seconds
        else None,
    )


def stage_container(f: FleetSpec, *, in_job: bool = False) -> k8s.core.v1.ContainerArgs:
    """Writes the weights into the cache before the server starts (RW cache, token as a file)."""
    mounts = _mounts(f, read_only_cache=False, stager=in_job)
    if f.hf_token_secret:
        mounts.append(
            k8s.core.v1.VolumeMountArgs(name="hf-token", mount_path=HF_TOKEN_FILE.rsplit("/", 1)[0], read_only=True)
        )
    return k8s.core.v1.ContainerArgs(
        name="stage-weights",
        image=f.image,
        image_pull_policy=pull_policy(f.image),
        command=[*f.engine.stage_command, f.engine.stage_script(f.spec)],
        env=_env(f, offline=False),
        # Downloading needs CPU and memory, not the GPU; a download may be throttled.
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "1", "memory": "2Gi"}, limits={"cpu": "2", "memory": "4Gi"}
        ),
        volume_mounts=[m for m in mounts if m.name != "dshm"],
        security_context=container_security_context(),
    )


def verify_container(f: FleetSpec, script: str) -> k8s.core.v1.ContainerArgs:
    """Checks, offline and read-only, that the staging Job left complete weights in the cache."""
    return k8s.core.v1.ContainerArgs(
        name="verify-weights",
        image=f.image,
        image_pull_policy=pull_policy(f.image),
        command=[*f.engine.stage_command, script],
        env=_env(f, offline=True),
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "100m", "memory": "256Mi"}, limits={"cpu": "1", "memory": "1Gi"}
        ),
        volume_mounts=[m for m in _mounts(f, read_only_cache=True) if m.name != "dshm"],
        security_context=container_security_context(),
    )


def init_containers(f: FleetSpec) -> list[k8s.core.v1.ContainerArgs] | None:
    """Per-pod caches are filled here; a shared cache was filled by the staging Job, so only verified."""
    if not f.staged_by_job:
        return [stage_container(f)]
    verify = f.engine.verify_script
    return [verify_container(f, verify(f.spec))] if verify else None


# -- pod --------------------------------------------------------------------------------------


def volumes(f: FleetSpec, *, stager: bool = False) -> list[k8s.core.v1.VolumeArgs]:
    vols = [
        k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="10Gi")),
        k8s.core.v1.VolumeArgs(
            name="home", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=f.engine.home_size)
        ),
    ]
    if f.spec.cache == "ephemeral":
        # Weights are downloaded again by every new pod; the volume goes with the pod.
        vols.append(
            k8s.core.v1.VolumeArgs(
                name="cache", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=EPHEMERAL_CACHE_SIZE)
            )
        )
    elif not f.stateful:
        vols.append(
            k8s.core.v1.VolumeArgs(
                name="cache",
                persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                    claim_name=weights_claim_name(f.name) if stager and f.own_weights_volume else CACHE_PVC
                ),
            )
        )
    if f.spec.gpus_per_replica > 1 and f.engine.capabilities.tensor_parallel:  # NCCL traffic
        vols.append(
            k8s.core.v1.VolumeArgs(
                name="dshm", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(medium="Memory", size_limit=f.spec.shm_size)
            )
        )
    if f.hf_token_secret:
        vols.append(hf_token_volume(f.hf_token_secret))
    return vols


def hf_token_volume(secret_name: str) -> k8s.core.v1.VolumeArgs:
    """The Hugging Face token as a file (``HF_TOKEN_FILE``'s folder), never an env literal."""
    return k8s.core.v1.VolumeArgs(
        name="hf-token",
        secret=k8s.core.v1.SecretVolumeSourceArgs(
            secret_name=secret_name,
            default_mode=0o440,
            items=[k8s.core.v1.KeyToPathArgs(key="token", path="token")],
        ),
    )


ENGINE_EXIT_SECONDS = 30
"""After SIGTERM, time for the engine to free its GPUs and exit (vLLM's engine-core processes,
Ollama's runner): an estimate, UNVERIFIED; the kubelet sends SIGKILL after the grace period."""


def termination_grace_seconds(f: FleetSpec) -> int:
    """Longer than the preStop drain and the engine's exit together (the grace period counts both)."""
    return f.spec.drain_seconds + ENGINE_EXIT_SECONDS


def pod_template(f: FleetSpec, service_account: str) -> k8s.core.v1.PodTemplateSpecArgs:
    tolerations = (
        [k8s.core.v1.TolerationArgs(key=GPU_TAINT_KEY, operator="Exists", effect="NoSchedule")] if f.uses_gpu else None
    )
    node_selector = {POOL_LABEL: f.spec.pool} if f.uses_gpu else None
    return k8s.core.v1.PodTemplateSpecArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(labels=f.labels),
        spec=k8s.core.v1.PodSpecArgs(
            service_account_name=service_account,
            automount_service_account_token=False,
            image_pull_secrets=[k8s.core.v1.LocalObjectReferenceArgs(name=f.pull_secret)] if f.pull_secret else None,
            enable_service_links=False,
            priority_class_name=SERVING_PRIORITY if f.uses_gpu else None,
            runtime_class_name=f.runtime_class if f.uses_gpu else None,
            security_context=pod_security_context(),
            init_containers=init_containers(f),
            containers=[server_container(f)],
            volumes=volumes(f),
            tolerations=tolerations,
            node_selector=node_selector,
            termination_grace_period_seconds=termination_grace_seconds(f),
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


def meta(f: FleetSpec, name: str | None = None, **extra: Any) -> k8s.meta.v1.ObjectMetaArgs:
    """Metadata every fleet object shares: its name (default the fleet's), namespace and labels."""
    return k8s.meta.v1.ObjectMetaArgs(name=name or f.resource_name, namespace=f.namespace, labels=f.labels, **extra)


def secret_args(f: FleetSpec, name: str, key: str, value: pulumi.Input[str]) -> k8s.core.v1.SecretInitArgs:
    """A Secret holding one credential; ``value`` must already be a secret Output."""
    return k8s.core.v1.SecretInitArgs(metadata=meta(f, name), type="Opaque", string_data={key: value})


def service_account_args(f: FleetSpec) -> k8s.core.v1.ServiceAccountInitArgs:
    return k8s.core.v1.ServiceAccountInitArgs(metadata=meta(f), automount_service_account_token=False)


def _workload_annotations(f: FleetSpec) -> dict[str, str]:
    keyed = f.api_key_secret is not None and f.engine.api_key_env is not None
    direct = (
        {EXPOSURE_ANNOTATION: "direct", EXPOSURE_REASON_ANNOTATION: f.gateway.direct_reason}
        if f.gateway is not None and f.gateway.direct_reason is not None
        else {}
    )
    return {**NO_CPU_LIMIT, **(API_KEY_IN_ENV if keyed else {}), **direct}


def deployment_args(f: FleetSpec) -> k8s.apps.v1.DeploymentInitArgs:
    s = f.spec
    # Replace one pod at a time and never surge: a surge pod would need GPUs the pool may not have.
    strategy = k8s.apps.v1.DeploymentStrategyArgs(
        type="RollingUpdate",
        rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_surge=0, max_unavailable=1),
    )
    return k8s.apps.v1.DeploymentInitArgs(
        metadata=meta(f, annotations=_workload_annotations(f)),
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
        metadata=meta(f, annotations=_workload_annotations(f)),
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


def stage_job_args(f: FleetSpec) -> k8s.batch.v1.JobInitArgs:
    """The Job that downloads one revision of the weights into the shared cache.

    It is the only workload of the fleet with internet egress (its own NetworkPolicy), holds the
    Hugging Face token, runs on CPU nodes, and writes while the servers only read. The fleet's
    workload waits for it (``pulumi up`` reports the download), and its name changes with the
    revision, so a new revision is downloaded before any pod is rolled.
    """
    vols = [v for v in volumes(f, stager=True) if v.name != "dshm"]
    return k8s.batch.v1.JobInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=f.stage_job_name,
            namespace=f.namespace,
            labels={**f.stager_labels, **({KUEUE_QUEUE_LABEL: f.stage_queue} if f.stage_queue else {})},
        ),
        spec=k8s.batch.v1.JobSpecArgs(
            backoff_limit=3,
            active_deadline_seconds=STAGE_TIMEOUT_S,
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=f.stager_labels),
                spec=k8s.core.v1.PodSpecArgs(
                    service_account_name=f.resource_name,
                    automount_service_account_token=False,
                    image_pull_secrets=[k8s.core.v1.LocalObjectReferenceArgs(name=f.pull_secret)]
                    if f.pull_secret
                    else None,
                    enable_service_links=False,
                    restart_policy="Never",
                    security_context=pod_security_context(),
                    containers=[stage_container(f, in_job=True)],
                    volumes=vols,
                ),
            ),
        ),
    )
