"""Pure builders that put a fleet's weights in its cache before any server starts.

Weights are never downloaded by the server itself (it runs offline) and never in ``postStart``
(Ollama pulls here too): the Hugging Face token is a mounted file, never an env literal.

- a shared cache is filled by a staging Job per revision (``stage_job_args``), the only part of
  the fleet that may reach the internet; the server pods only verify, offline and read-only,
  that the weights are complete (``verify_container``);
- per-pod caches (local NVMe, ephemeral) are filled by an init container in each pod.

The stager's CPU and memory are the numbers the capacity check counts
(``components/core/settings/models.pod_request``): an init container runs alone, so a pod needs
the larger of it and the server.
"""

from __future__ import annotations

import pulumi_kubernetes as k8s

from components.core.labels import KUEUE_QUEUE_LABEL
from components.core.settings.models import STAGE_CPU, STAGE_MEMORY_GIB, STAGE_MEMORY_LIMIT_GIB
from components.specs import weights_s3
from components.specs.model_runner import FleetSpec, env_vars, pod_mounts, stage_script, volumes
from components.specs.pod import container_security_context, hf_token_mount, pod_spec, pull_policy

STAGE_TIMEOUT_S = 3600
"""How long one staging Job may download (a 70 B checkpoint is ~140 GB)."""
STAGE_CPU_LIMIT = "2"
"""A download may be throttled: it needs CPU and memory, not the GPU."""


def stage_resources() -> k8s.core.v1.ResourceRequirementsArgs:
    return k8s.core.v1.ResourceRequirementsArgs(
        requests={"cpu": f"{STAGE_CPU:g}", "memory": f"{STAGE_MEMORY_GIB:g}Gi"},
        limits={"cpu": STAGE_CPU_LIMIT, "memory": f"{STAGE_MEMORY_LIMIT_GIB:g}Gi"},
    )


def stage_container(f: FleetSpec, *, in_job: bool = False) -> k8s.core.v1.ContainerArgs:
    """Writes the weights into the cache before the server starts (RW cache, token as a file)."""
    mounts = pod_mounts(f, read_only_cache=False, stager=in_job)
    if f.hf_token_secret:
        mounts.append(hf_token_mount())
    return k8s.core.v1.ContainerArgs(
        name="stage-weights",
        image=f.image,
        image_pull_policy=pull_policy(f.image),
        command=[*f.engine.stage_command, stage_script(f)],
        env=env_vars(f, offline=False) + weights_s3.weights_env(f.weights_uri),
        resources=stage_resources(),
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
        env=env_vars(f, offline=True),
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "100m", "memory": "256Mi"}, limits={"cpu": "1", "memory": "1Gi"}
        ),
        volume_mounts=[m for m in pod_mounts(f, read_only_cache=True) if m.name != "dshm"],
        security_context=container_security_context(),
    )


def init_containers(f: FleetSpec) -> list[k8s.core.v1.ContainerArgs] | None:
    """Per-pod caches are filled here; a shared cache was filled by the staging Job, so only verified."""
    if not f.staged_by_job:
        return [stage_container(f)]
    verify = f.engine.verify_script
    # S3: nothing is on a volume to verify; the streamer fails the start if an object is missing.
    return [verify_container(f, verify(f.spec))] if verify and f.spec.cache != "s3" else None


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
                spec=pod_spec(
                    f,
                    # S3: the stager's own account holds the write role; the servers' only reads.
                    service_account=weights_s3.stager_account(f.resource_name)
                    if f.spec.cache == "s3"
                    else f.resource_name,
                    containers=[stage_container(f, in_job=True)],
                    volumes=vols,
                    restart_policy="Never",
                ),
            ),
        ),
    )
