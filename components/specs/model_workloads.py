"""Pure builders for a fleet's workload: its pod template, Deployment or StatefulSet, ServiceAccount
and credential Secrets.

The pod runs the server container (``model_runner.py``) after the weights are in its cache
(``weight_staging.py``), with the serving PriorityClass and the pool's GPU placement (``pod.py``)
when it uses GPUs, spread across nodes, and a grace period longer than its drain. Rollouts never
surge (a surge pod would need GPUs the pool may not have); a per-replica NVMe cache makes the
workload a StatefulSet with one claim per replica.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.core.settings.gateway import EXPOSURE_ANNOTATION, EXPOSURE_REASON_ANNOTATION
from components.specs.model_runner import FleetSpec, server_container, volumes
from components.specs.pod import meta, pod_spec
from components.specs.scheduling import SERVING_PRIORITY
from components.specs.storage import LOCAL_CLASS
from components.specs.weight_staging import init_containers

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
ENGINE_EXIT_SECONDS = 30
"""After SIGTERM, time for the engine to free its GPUs and exit (vLLM's engine-core processes,
Ollama's runner): an estimate, UNVERIFIED; the kubelet sends SIGKILL after the grace period."""


def termination_grace_seconds(f: FleetSpec) -> int:
    """Longer than the preStop drain and the engine's exit together (the grace period counts both)."""
    return f.spec.drain_seconds + ENGINE_EXIT_SECONDS


def pod_template(f: FleetSpec, service_account: str) -> k8s.core.v1.PodTemplateSpecArgs:
    return k8s.core.v1.PodTemplateSpecArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(labels=f.labels),
        spec=pod_spec(
            f,
            service_account=service_account,
            containers=[server_container(f)],
            volumes=volumes(f),
            placement=f.placement,
            priority_class_name=SERVING_PRIORITY if f.uses_gpu else None,
            init_containers=init_containers(f),
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


def secret_args(f: FleetSpec, name: str, key: str, value: pulumi.Input[str]) -> k8s.core.v1.SecretInitArgs:
    """A Secret holding one credential; ``value`` must already be a secret Output."""
    return k8s.core.v1.SecretInitArgs(metadata=meta(f, name), type="Opaque", string_data={key: value})


def service_account_args(
    f: FleetSpec, role_arn: pulumi.Input[str] | None = None, name: str | None = None
) -> k8s.core.v1.ServiceAccountInitArgs:
    """The fleet's (or, named, its stager's) ServiceAccount; with IRSA's role annotation for S3."""
    annotations = {"eks.amazonaws.com/role-arn": role_arn} if role_arn is not None else None
    return k8s.core.v1.ServiceAccountInitArgs(
        metadata=meta(f, name, annotations=annotations), automount_service_account_token=False
    )


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
