"""Pure builders for a model-runner fleet's server pods: one ``ModelSpec``, any engine.

Everything engine-specific (port, server command and arguments, staging script, environment,
probe paths) comes from the engine's record in ``components/core/engines/``; these builders
only assemble it the same way for every engine:

- ``FleetSpec``, the fleet's plain description (a ``WorkloadPlan``, ``pod.py``);
- the server container, running offline from the local cache (read-only), its environment (the
  API key from a Secret-backed env var), mounts and volumes (/dev/shm for tensor parallelism);
- model-aware probes: a startup probe sized for loading weights, readiness that only passes
  when the model is served, liveness on the server's health endpoint;
- GPU requests and limits.

Weights are staged before the server starts (``weight_staging.py``); the pod template and the
workloads around it (Deployment or StatefulSet, ServiceAccount, Secrets) are in
``model_workloads.py``, the objects around the pods (Service, NetworkPolicy, autoscaling,
monitors) in ``model_serving.py``. The restricted security context, GPU placement, token volume
and pull Secret every pod shares are ``pod.py``'s.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.core.engines import CACHE_MOUNT, Engine
from components.core.labels import selector_labels, standard_labels
from components.core.naming import api_key_secret_name, hf_token_secret_name, k8s_name
from components.core.settings import ModelSpec
from components.core.settings.gateway import FleetGateway
from components.specs import weights_s3
from components.specs.compile_cache import compile_cache_env, compile_cache_mounts
from components.specs.node_pool import GPU_RESOURCE
from components.specs.pod import (
    NO_GPU,
    GpuPlacement,
    WorkloadPlan,
    container_security_context,
    gpu_placement,
    hf_token_volume,
    pull_policy,
)
from components.specs.storage import CACHE_PVC, weights_claim_name

MODEL_SERVER = "model-server"
WEIGHT_STAGER = "weight-stager"
EPHEMERAL_CACHE_SIZE = "100Gi"
"""emptyDir limit of an ``ephemeral`` cache (node ephemeral storage)."""
PROBE_PERIOD_S = 10


@dataclass(frozen=True, kw_only=True)
class FleetSpec(WorkloadPlan[ModelSpec]):
    """Everything the builders need about one fleet, as plain values."""

    api_key_secret: str | None = None
    """Kubernetes Secret (key ``api-key``) holding the API key, when the model requires one."""
    monitoring_namespace: str | None = None
    """Prometheus's namespace when monitoring is on (allowed to scrape /metrics)."""
    own_weights_volume: bool = False
    """The staging Job writes through the fleet's own claim (an EFS access point on
    ``/models/<namespace>/<fleet>``) and the servers read that directory of the namespace cache."""
    stage_queue: str | None = None
    """The LocalQueue the staging Job names in a batch namespace, where Kueue holds every Job
    without one (``manageJobsWithoutQueueName``); None elsewhere."""
    weights_uri: pulumi.Input[str] | None = None
    """``cache: s3``: ``s3://<bucket>/<namespace>/<fleet>/<revision>/`` (the bucket's name is an Output)."""
    gateway: FleetGateway | None = None
    """How the fleet stands to the environment's gateway (None: the stack runs none)."""

    @property
    def engine(self) -> Engine:
        return self.spec.engine_record

    @property
    def resource_name(self) -> str:
        """metadata.name of the workload, Service and friends: ``<engine>-<model name>``."""
        return k8s_name(self.engine.name, self.name)

    @property
    def app(self) -> str:
        return self.engine.name

    @property
    def component(self) -> str:
        return MODEL_SERVER

    @property
    def pool_name(self) -> str:
        return self.spec.pool

    @property
    def extra_labels(self) -> dict[str, str]:
        return {"ai-infra.io/model": self.spec.model}

    @property
    def stateful(self) -> bool:
        """Per-replica NVMe cache needs a StatefulSet (one claim per replica)."""
        return self.spec.cache == "local-nvme"

    @property
    def staged_by_job(self) -> bool:
        """A shared cache is filled once per revision by a staging Job: the serving pods then
        never need the internet. Per-pod caches (local NVMe, ephemeral) are filled in the pod."""
        return self.spec.cache in ("shared", "s3")  # s3: the Job uploads to the bucket (weights_s3.py)

    @property
    def stage_job_name(self) -> str:
        """``stage-<fleet>-<hash>``: a new model, revision or script makes a new Job (Jobs are immutable)."""
        identity = json.dumps([self.engine.name, self.spec.model, self.spec.revision, stage_script(self)])
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
    def placement(self) -> GpuPlacement:
        """GPU fleets run on their pool's GPU nodes; CPU-only fleets anywhere."""
        return gpu_placement(self.spec.pool, self.runtime_class) if self.uses_gpu else NO_GPU

    @property
    def workload_kind(self) -> str:
        return "StatefulSet" if self.stateful else "Deployment"

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
    weights_uri: pulumi.Input[str] | None = None,
    gateway: FleetGateway | None = None,
) -> FleetSpec:
    """A fleet's plain description; Secrets are named after the fleet when it has the credential."""
    return FleetSpec(
        name=name,
        spec=spec,
        image=image,
        env=env,
        team=team,
        api_key_secret=api_key_secret_name(name) if api_key else None,
        hf_token_secret=hf_token_secret_name(name) if hf_token else None,
        monitoring_namespace=monitoring_namespace,
        runtime_class=runtime_class,
        pull_secret=pull_secret,
        own_weights_volume=own_weights_volume,
        stage_queue=stage_queue,
        weights_uri=weights_uri,
        gateway=gateway,
    )


def stage_script(f: FleetSpec) -> str:
    """The engine's staging script; with ``cache: s3`` followed by the upload to the bucket."""
    script = f.engine.stage_script(f.spec)
    return script + weights_s3.upload_script(f.spec) if f.spec.cache == "s3" else script


# -- the server container ---------------------------------------------------------------------


def resources(f: FleetSpec) -> k8s.core.v1.ResourceRequirementsArgs:
    s = f.spec
    requests: dict[str, str] = {"cpu": s.cpu, "memory": s.memory}
    limits: dict[str, str] = {"memory": s.memory}
    if f.uses_gpu:
        requests[GPU_RESOURCE] = limits[GPU_RESOURCE] = str(s.gpus_per_replica)
    return k8s.core.v1.ResourceRequirementsArgs(requests=requests, limits=limits)


def env_vars(f: FleetSpec, *, offline: bool) -> list[k8s.core.v1.EnvVarArgs]:
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


def pod_mounts(f: FleetSpec, *, read_only_cache: bool, stager: bool = False) -> list[k8s.core.v1.VolumeMountArgs]:
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
        env=env_vars(f, offline=True) + compile_cache_env(s) + weights_s3.weights_env(f.weights_uri),
        resources=resources(f),
        volume_mounts=pod_mounts(f, read_only_cache=True) + compile_cache_mounts(s, f.name),
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


# -- volumes ----------------------------------------------------------------------------------


def volumes(f: FleetSpec, *, stager: bool = False) -> list[k8s.core.v1.VolumeArgs]:
    vols = [
        k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="10Gi")),
        k8s.core.v1.VolumeArgs(
            name="home", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=f.engine.home_size)
        ),
    ]
    if f.spec.cache in ("ephemeral", "s3"):  # s3: the staging Job's download space
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
