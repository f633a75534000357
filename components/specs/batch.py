"""Pure builders for batch GPU work: Kueue's chart values and queues, and the jobs run through them.

Kueue (v0.19.2, ``docs/research/kueue.md``) admits a Job when its queue has quota and suspends it
until then. Per GPU pool a ``ResourceFlavor`` (the pool's node label, the GPU taint as a
toleration Kueue adds to admitted pods); per job class a ``ClusterQueue`` in one cohort, its GPU
quota from the pool's cap and CPU/memory in proportion (a GPU's share of a node), so queues on
one pool lend each other idle quota and reclaim it by preemption; per opted-in namespace a
``LocalQueue``. Serving wins over batch on a shared pool through kube-scheduler preemption
(PriorityClass ``gpu-serving`` over ``gpu-batch``, ``specs/scheduling.py``): Kueue manages only
``batch/v1`` Jobs, and only in the batch namespaces, so a Kueue outage never blocks serving pods.

Jobs: one worker is a ``batch/v1`` Job; more are an *indexed* Job (``completionMode: Indexed``,
``parallelism = completions = workers``) with a headless Service for torchrun's rendezvous
(``MASTER_ADDR`` is index 0's stable DNS name). Chosen over JobSet: no second controller or
alpha API (JobSet serves only ``v1alpha2``), Kueue's default ``batch/job`` integration admits
all workers as one PodSet, and the Service's lifecycle is ours. A ``template`` is a suspended
CronJob: ``kubectl create job --from=cronjob/<name>`` submits a run with the queue label
(kubectl copies the ``jobTemplate``'s labels onto the Job: kubernetes/kubectl
pkg/cmd/create/create_job.go ``createJobFromCronJob``). Pods are restricted (UID 10001,
read-only root, no capabilities, RuntimeDefault seccomp, no token), tolerate the GPU taint, run at
``gpu-batch`` priority, and mount the model cache read-only, scratch, ``/dev/shm`` and the
Hugging Face token as a file. Results outlive the pods through ``output``: a ReadWriteMany claim
at ``/output`` (``$OUTPUT_DIR`` = ``/output/<run>``) or an S3 prefix (``$OUTPUT_URI``) the job's
IRSA role may write; ``<run>`` is the Job's name, so runs created from one CronJob never collide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.core.engines import HF_TOKEN_FILE
from components.core.labels import KUEUE_QUEUE_LABEL, POOL_LABEL, selector_labels, standard_labels
from components.core.naming import k8s_name
from components.core.settings import JobSpec, NodePoolSettings
from components.core.settings.batch import OUTPUT_MOUNT
from components.specs.pod import (
    container_security_context,
    hf_token_volume,
    pod_security_context,
    pull_policy,
)
from components.specs.node_pool import GPU_RESOURCE, GPU_TAINT_KEY
from components.specs.scheduling import BATCH_PRIORITY
from components.specs.storage import CACHE_PVC, LOCAL_CLASS

KUEUE_API = "kueue.x-k8s.io/v1beta2"
"""The version Kueue 0.19.2 stores (v1beta1 is still served but deprecated, and needs the
conversion webhook): config/components/crd/bases/kueue.x-k8s.io_clusterqueues.yaml @ v0.19.2."""
QUEUE_LABEL = KUEUE_QUEUE_LABEL
BATCH_JOB_COMPONENT = "batch-job"
COVERED_RESOURCES = ("cpu", "memory", GPU_RESOURCE)
"""Everything a job pod requests must be covered (Kueue's default ``BlockUndeclared``), in this
order in every flavor (the webhook requires the order of ``coveredResources``)."""
RENDEZVOUS_PORT = 29500
"""torchrun's default ``--master-port``."""
SKIP_AWAIT = {"pulumi.com/skipAwait": "true"}
"""A Job Kueue holds suspended would block ``pulumi up`` until the Job awaiter times out
(pulumi-kubernetes provider/pkg/await/job.go @ v4.32.0)."""
TEMPLATE_SCHEDULE = "0 0 1 1 *"
"""A template CronJob is suspended, so its schedule never fires; one a year if someone resumes it."""
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
WORKSPACE = "/workspace"
"""train-light/train-heavy's WORKDIR, where a job writes (``images/train-light/README.md``)."""


# -- Kueue -----------------------------------------------------------------------------------------
def kueue_config(*, namespaces: list[str], pods_ready_timeout: str) -> dict[str, Any]:
    """Kueue's ``Configuration`` (config.kueue.x-k8s.io/v1beta2). Setting it replaces the chart's
    default string, so its defaults are restated (health, metrics, webhook, leader election,
    concurrency, client QPS: charts/kueue/values.yaml @ v0.19.2); then only ``batch/job`` is
    integrated (the default list includes ``pod``, ``deployment`` and ``statefulset``, whose
    webhooks would fail every pod create in the cluster while Kueue is down) and only the batch
    namespaces are managed (the chart copies ``managedJobsNamespaceSelector`` onto its webhooks:
    templates/webhook/manifests.yaml). ``waitForPodsReady`` requeues an admitted job whose pods do
    not all start in time (apis/config/v1beta2/configuration_types.go: ``timeout`` is required).

    ``manageJobsWithoutQueueName: true``: a Job created in a batch namespace without the queue
    label (``kubectl create job``) is suspended by Kueue's webhook and its Workload names no
    LocalQueue, so it never starts — it cannot skip the queue and its GPU quota. The namespace
    selector bounds this to the batch namespaces (for ``batch/job`` the selector "only modulates
    the effects of ManageJobsWithoutQueueName": apis/config/v1beta2/configuration_types.go,
    pkg/controller/jobframework/utils.go ``WorkloadShouldBeSuspended`` @ v0.19.2; there is no
    per-Job opt-out). A fleet's weight-staging Job in a batch namespace therefore names the
    namespace's first queue (``FleetSpec.stage_queue``) and waits for its CPU/memory quota; in
    serving namespaces staging Jobs stay unmanaged."""
    return {
        "apiVersion": "config.kueue.x-k8s.io/v1beta2",
        "kind": "Configuration",
        "health": {"healthProbeBindAddress": ":8081"},
        "metrics": {"bindAddress": ":8443"},
        "webhook": {"port": 9443},
        "leaderElection": {"leaderElect": True, "resourceName": "c1f6bfd2.kueue.x-k8s.io"},
        "controller": {
            "groupKindConcurrency": {
                "Job.batch": 5,
                "Pod": 5,
                "Workload.kueue.x-k8s.io": 10,
                "LocalQueue.kueue.x-k8s.io": 5,
                "ClusterQueue.kueue.x-k8s.io": 5,
                "ResourceFlavor.kueue.x-k8s.io": 1,
            }
        },
        "clientConnection": {"qps": 300, "burst": 500},
        "manageJobsWithoutQueueName": True,
        "managedJobsNamespaceSelector": {
            "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": sorted(namespaces)}]
        },
        "waitForPodsReady": {"timeout": pods_ready_timeout},
        "integrations": {"frameworks": ["batch/job"]},
    }


def kueue_values(
    *,
    namespaces: list[str],
    pods_ready_timeout: str,
    service_monitor: bool = False,
    prometheus_namespace: str = "monitoring",
    node_selector: Mapping[str, str] | None = None,
    replicas: int = 1,
) -> dict[str, Any]:
    """Values for the kueue chart 0.19.2 (keys: tests/data/helm-values/kueue-0.19.2.txt).

    The chart's own security contexts are already restricted (runAsNonRoot, RuntimeDefault
    seccomp, read-only root, drop ALL) and cert-manager is not needed (Kueue rotates its own
    webhook certificates). ``enablePrometheus`` renders a ServiceMonitor scraping the HTTPS
    metrics port with the Prometheus ServiceAccount's token; kube-prometheus-stack's Prometheus
    ClusterRole may GET ``/metrics`` (templates/prometheus/clusterrole.yaml @ 88.5.3)."""
    values: dict[str, Any] = {
        "enablePrometheus": service_monitor,
        "metrics": {"prometheusNamespace": prometheus_namespace},
        "managerConfig": {
            "controllerManagerConfigYaml": yaml.safe_dump(
                kueue_config(namespaces=namespaces, pods_ready_timeout=pods_ready_timeout), sort_keys=False
            )
        },
        "controllerManager": {
            "replicas": replicas,
            "podDisruptionBudget": {"enabled": replicas > 1, "minAvailable": 1},
            "manager": {
                # The chart's default requests; the memory limit equals the request (no CPU limit).
                "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"memory": "512Mi"}},
            },
        },
    }
    if node_selector:
        values["controllerManager"]["nodeSelector"] = dict(node_selector)
    return values


def flavor_name(pool: str) -> str:
    return k8s_name("pool", pool)


def resource_flavor(pool: str, labels: Mapping[str, str]) -> dict[str, Any]:
    """One flavor per GPU pool: admitted pods get the pool's node label and the GPU toleration
    (apis/kueue/v1beta2/resourceflavor_types.go @ v0.19.2)."""
    return {
        "apiVersion": KUEUE_API,
        "kind": "ResourceFlavor",
        "metadata": {"name": flavor_name(pool), "labels": dict(labels)},
        "spec": {
            "nodeLabels": {POOL_LABEL: pool},
            "tolerations": [{"key": GPU_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}],
        },
    }


def queue_quota(pool: NodePoolSettings, gpus: int) -> dict[str, str]:
    """A queue's nominal quota: ``gpus``, and a GPU's share of the smallest node's allocatable CPU
    and memory for each (a job asking more per GPU could not fit the node anyway)."""
    node = min(pool.instances, key=lambda i: (i.allocatable_cpu, i.allocatable_memory_gib))
    per_gpu_cpu = node.allocatable_cpu / pool.gpus_per_node
    per_gpu_mem = node.allocatable_memory_gib / pool.gpus_per_node
    return {
        "cpu": f"{int(per_gpu_cpu * gpus * 1000)}m",
        "memory": f"{int(per_gpu_mem * gpus)}Gi",
        GPU_RESOURCE: str(gpus),
    }


def cluster_queue(
    name: str,
    *,
    pool: str,
    quota: Mapping[str, str],
    cohort: str,
    namespaces: list[str],
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """A job class on one pool (apis/kueue/v1beta2/clusterqueue_types.go @ v0.19.2).

    ``cohortName``: queues lend idle quota to the cohort and borrow from it. Preemption: a queue
    takes back what it lent from any borrower (``reclaimWithinCohort: Any``) and a higher
    priority job preempts lower ones in its own queue. Only the opted-in namespaces may submit
    (an unset selector would admit none, ``{}`` all)."""
    return {
        "apiVersion": KUEUE_API,
        "kind": "ClusterQueue",
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": {
            "cohortName": cohort,
            "namespaceSelector": {
                "matchExpressions": [
                    {"key": "kubernetes.io/metadata.name", "operator": "In", "values": sorted(namespaces)}
                ]
            },
            "queueingStrategy": "BestEffortFIFO",
            "resourceGroups": [
                {
                    "coveredResources": list(COVERED_RESOURCES),
                    "flavors": [
                        {
                            "name": flavor_name(pool),
                            "resources": [{"name": r, "nominalQuota": quota[r]} for r in COVERED_RESOURCES],
                        }
                    ],
                }
            ],
            "preemption": {"reclaimWithinCohort": "Any", "withinClusterQueue": "LowerPriority"},
        },
    }


def local_queue(queue: str, namespace: str, labels: Mapping[str, str]) -> dict[str, Any]:
    """The namespace's door to ClusterQueue ``queue``; jobs name it in ``kueue.x-k8s.io/queue-name``."""
    return {
        "apiVersion": KUEUE_API,
        "kind": "LocalQueue",
        "metadata": {"name": queue, "namespace": namespace, "labels": dict(labels)},
        "spec": {"clusterQueue": queue},
    }


# -- jobs ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JobPlan:
    """Everything the job builders need, as plain values."""

    name: str
    spec: JobSpec
    pool: str
    image: pulumi.Input[str]
    """A reference from settings, or the registry's push (an Output: ``repository@sha256:``)."""
    env: str
    team: str
    hf_token_secret: str | None = None
    """Kubernetes Secret (key ``token``) with the Hugging Face token, when one is set."""
    runtime_class: str | None = None
    pull_secret: str | None = None
    output_class: str | None = None
    """The StorageClass of the output claim, when the job keeps its results on a volume."""

    @property
    def namespace(self) -> str:
        return self.spec.namespace

    @property
    def resource_name(self) -> str:
        return k8s_name(self.name)

    @property
    def indexed(self) -> bool:
        return self.spec.workers > 1

    @property
    def service_name(self) -> str:
        """The headless Service (the pods' subdomain) of a multi-worker job."""
        return k8s_name(self.name, "workers")

    @property
    def kind(self) -> str:
        return "Job" if self.spec.run == "now" else "CronJob"

    @property
    def output_claim(self) -> str | None:
        """The output PVC (``<job>-output``) when results go to a volume."""
        out = self.spec.output
        return k8s_name(self.name, "output") if out is not None and out.volume is not None else None

    @property
    def output_uri(self) -> str | None:
        """``s3://<bucket>/<prefix>`` when results go to S3."""
        out = self.spec.output
        return f"s3://{out.s3.bucket}/{out.s3.prefix}" if out is not None and out.s3 is not None else None

    @property
    def labels(self) -> dict[str, str]:
        return standard_labels(
            env=self.env,
            team=self.team,
            app=self.name,
            component=BATCH_JOB_COMPONENT,
            instance=self.name,
            extra={POOL_LABEL: self.pool},
        )

    @property
    def selector(self) -> dict[str, str]:
        return selector_labels(app=self.name, instance=self.name)


def meta(p: JobPlan, name: str | None = None, **extra: Any) -> k8s.meta.v1.ObjectMetaArgs:
    return k8s.meta.v1.ObjectMetaArgs(name=name or p.resource_name, namespace=p.namespace, labels=p.labels, **extra)


def worker_resources(spec: JobSpec) -> k8s.core.v1.ResourceRequirementsArgs:
    gpus = str(spec.gpus_per_worker)
    return k8s.core.v1.ResourceRequirementsArgs(
        requests={"cpu": spec.cpu, "memory": spec.memory, GPU_RESOURCE: gpus},
        limits={"memory": spec.memory, GPU_RESOURCE: gpus},
    )


def worker_env(p: JobPlan) -> list[k8s.core.v1.EnvVarArgs]:
    """Where to read and write, and (several workers) torchrun's rendezvous: ``NODE_RANK`` is the
    completion index, ``MASTER_ADDR`` index 0's ``<job>-0.<service>`` (a run created from a
    CronJob has a generated name, so the Job's name is read from the pod's label)."""
    s = p.spec
    writable = WORKSPACE if s.scratch != "none" else "/home/app"
    pairs = [("HOME", "/home/app"), ("HF_HOME", f"{writable}/hf")]
    if s.model_cache:
        # Weights the namespace's fleets staged; read-only here.
        pairs.append(("HF_HUB_CACHE", "/models/hf/hub"))
    if p.hf_token_secret:
        pairs.append(("HF_TOKEN_PATH", HF_TOKEN_FILE))
    env = [k8s.core.v1.EnvVarArgs(name=n, value=v) for n, v in pairs]
    if p.indexed or s.output is not None:
        env.append(
            k8s.core.v1.EnvVarArgs(
                name="JOB_NAME",
                value_from=k8s.core.v1.EnvVarSourceArgs(
                    field_ref=k8s.core.v1.ObjectFieldSelectorArgs(
                        field_path="metadata.labels['batch.kubernetes.io/job-name']"
                    )
                ),
            )
        )
    # Each run (a Job, or one created from the CronJob) writes under its own name: runs of one
    # job never overwrite each other, and a rerun's results sit beside the first run's.
    if p.output_claim:
        env.append(k8s.core.v1.EnvVarArgs(name="OUTPUT_DIR", value=f"{OUTPUT_MOUNT}/$(JOB_NAME)"))
    if p.output_uri:
        env.append(k8s.core.v1.EnvVarArgs(name="OUTPUT_URI", value=f"{p.output_uri}/$(JOB_NAME)/"))
    if p.indexed:
        env += [
            k8s.core.v1.EnvVarArgs(
                name="NODE_RANK",
                value_from=k8s.core.v1.EnvVarSourceArgs(
                    field_ref=k8s.core.v1.ObjectFieldSelectorArgs(
                        field_path="metadata.annotations['batch.kubernetes.io/job-completion-index']"
                    )
                ),
            ),
            k8s.core.v1.EnvVarArgs(name="NNODES", value=str(s.workers)),
            k8s.core.v1.EnvVarArgs(name="NPROC_PER_NODE", value=str(s.gpus_per_worker)),
            k8s.core.v1.EnvVarArgs(name="MASTER_ADDR", value=f"$(JOB_NAME)-0.{p.service_name}"),
            k8s.core.v1.EnvVarArgs(name="MASTER_PORT", value=str(RENDEZVOUS_PORT)),
        ]
    return env


def worker_mounts(p: JobPlan) -> list[k8s.core.v1.VolumeMountArgs]:
    s = p.spec
    mounts = [
        k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
        k8s.core.v1.VolumeMountArgs(name="home", mount_path="/home/app"),
        k8s.core.v1.VolumeMountArgs(name="dshm", mount_path="/dev/shm"),
    ]
    if s.scratch != "none":
        mounts.append(k8s.core.v1.VolumeMountArgs(name="scratch", mount_path=WORKSPACE))
    if s.model_cache:
        mounts.append(k8s.core.v1.VolumeMountArgs(name="cache", mount_path="/models", read_only=True))
    if p.output_claim:
        mounts.append(k8s.core.v1.VolumeMountArgs(name="output", mount_path=OUTPUT_MOUNT))
    if p.hf_token_secret:
        mounts.append(
            k8s.core.v1.VolumeMountArgs(name="hf-token", mount_path=HF_TOKEN_FILE.rsplit("/", 1)[0], read_only=True)
        )
    return mounts


def worker_volumes(p: JobPlan) -> list[k8s.core.v1.VolumeArgs]:
    s = p.spec
    vols = [
        k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="10Gi")),
        k8s.core.v1.VolumeArgs(name="home", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="10Gi")),
        # NCCL and DataLoader workers share memory through /dev/shm (it counts against the memory limit).
        k8s.core.v1.VolumeArgs(
            name="dshm", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(medium="Memory", size_limit=s.shm_size)
        ),
    ]
    if s.scratch == "ephemeral":
        vols.append(
            k8s.core.v1.VolumeArgs(
                name="scratch", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=s.scratch_size)
            )
        )
    elif s.scratch == "local-nvme":
        # A generic ephemeral volume: a claim per pod on the local NVMe class, deleted with the pod.
        vols.append(
            k8s.core.v1.VolumeArgs(
                name="scratch",
                ephemeral=k8s.core.v1.EphemeralVolumeSourceArgs(
                    volume_claim_template=k8s.core.v1.PersistentVolumeClaimTemplateArgs(
                        metadata=k8s.meta.v1.ObjectMetaArgs(labels={"ai-infra.io/data": "scratch"}),
                        spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                            access_modes=["ReadWriteOnce"],
                            storage_class_name=LOCAL_CLASS,
                            resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": s.scratch_size}),
                        ),
                    )
                ),
            )
        )
    if s.model_cache:
        vols.append(
            k8s.core.v1.VolumeArgs(
                name="cache",
                persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                    claim_name=CACHE_PVC, read_only=True
                ),
            )
        )
    if p.output_claim:
        vols.append(
            k8s.core.v1.VolumeArgs(
                name="output",
                persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(claim_name=p.output_claim),
            )
        )
    if p.hf_token_secret:
        vols.append(hf_token_volume(p.hf_token_secret))
    return vols


def worker_container(p: JobPlan) -> k8s.core.v1.ContainerArgs:
    s = p.spec
    ports = (
        [k8s.core.v1.ContainerPortArgs(name="rendezvous", container_port=RENDEZVOUS_PORT, protocol="TCP")]
        if p.indexed
        else None
    )
    return k8s.core.v1.ContainerArgs(
        name="worker",
        image=p.image,
        image_pull_policy=pull_policy(p.image),
        command=list(s.command),
        args=list(s.args) or None,
        env=worker_env(p),
        ports=ports,
        resources=worker_resources(s),
        volume_mounts=worker_mounts(p),
        security_context=container_security_context(),
    )


def pod_template(p: JobPlan) -> k8s.core.v1.PodTemplateSpecArgs:
    return k8s.core.v1.PodTemplateSpecArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(labels=p.labels),
        spec=k8s.core.v1.PodSpecArgs(
            # The Job retries failed pods (backoffLimit); a restarted container would lose its rank.
            restart_policy="Never",
            service_account_name=p.resource_name,
            automount_service_account_token=False,
            image_pull_secrets=[k8s.core.v1.LocalObjectReferenceArgs(name=p.pull_secret)] if p.pull_secret else None,
            enable_service_links=False,
            priority_class_name=BATCH_PRIORITY,
            runtime_class_name=p.runtime_class,
            subdomain=p.service_name if p.indexed else None,
            security_context=pod_security_context(),
            containers=[worker_container(p)],
            volumes=worker_volumes(p),
            # The same as the pool's flavor gives admitted pods, so the pod is right without Kueue too.
            node_selector={POOL_LABEL: p.pool},
            tolerations=[k8s.core.v1.TolerationArgs(key=GPU_TAINT_KEY, operator="Exists", effect="NoSchedule")],
            termination_grace_period_seconds=60,
        ),
    )


def job_spec(p: JobPlan) -> k8s.batch.v1.JobSpecArgs:
    s = p.spec
    return k8s.batch.v1.JobSpecArgs(
        parallelism=s.workers,
        completions=s.workers,
        completion_mode="Indexed" if p.indexed else "NonIndexed",
        backoff_limit=s.backoff_limit,
        ttl_seconds_after_finished=s.ttl_seconds_after_finished,
        template=pod_template(p),
    )


def queue_labels(p: JobPlan) -> dict[str, str]:
    return {**p.labels, QUEUE_LABEL: p.spec.queue}


NO_CPU_LIMIT = {
    # checkov reads its waivers from the object (README lists them). Workers request CPU and cap
    # memory; a CPU limit's CFS quota starves data loaders and NCCL's progress threads.
    "checkov.io/skip1": "CKV_K8S_11=no CPU limit on GPU workers: CFS throttling starves data loading and "
    "NCCL progress; CPU requests and memory limits are set"
}


def job_args(p: JobPlan) -> k8s.batch.v1.JobInitArgs:
    """``run: now``: Kueue's webhook suspends the Job at create and resumes it on admission."""
    return k8s.batch.v1.JobInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=p.resource_name,
            namespace=p.namespace,
            labels=queue_labels(p),
            annotations={**SKIP_AWAIT, **NO_CPU_LIMIT},
        ),
        spec=job_spec(p),
    )


def cronjob_args(p: JobPlan) -> k8s.batch.v1.CronJobInitArgs:
    """``template`` (suspended) or ``scheduled``: each run is a Job carrying the queue label."""
    s = p.spec
    return k8s.batch.v1.CronJobInitArgs(
        metadata=meta(p, annotations=NO_CPU_LIMIT),
        spec=k8s.batch.v1.CronJobSpecArgs(
            schedule=s.schedule or TEMPLATE_SCHEDULE,
            time_zone=s.time_zone,
            suspend=s.run == "template",
            # One run at a time: runs would share the rendezvous Service and the queue's quota.
            concurrency_policy="Forbid",
            successful_jobs_history_limit=1,
            failed_jobs_history_limit=1,
            job_template=k8s.batch.v1.JobTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=queue_labels(p)), spec=job_spec(p)
            ),
        ),
    )


def headless_service_args(p: JobPlan) -> k8s.core.v1.ServiceInitArgs:
    """Stable ``<job>-<index>.<service>`` names for the workers, published before they are ready
    (torchrun's rendezvous happens before anything is "ready")."""
    return k8s.core.v1.ServiceInitArgs(
        metadata=meta(p, p.service_name),
        spec=k8s.core.v1.ServiceSpecArgs(
            cluster_ip="None",
            selector=p.selector,
            publish_not_ready_addresses=True,
            ports=[
                k8s.core.v1.ServicePortArgs(
                    name="rendezvous", port=RENDEZVOUS_PORT, target_port=RENDEZVOUS_PORT, protocol="TCP"
                )
            ],
        ),
    )


def network_policy_args(p: JobPlan) -> k8s.networking.v1.NetworkPolicyInitArgs:
    """The namespace denies everything; a job's workers may reach each other (rendezvous and NCCL
    pick ports freely) and HTTPS on the internet (datasets, the Hub), never private ranges or
    instance metadata. Nothing else may reach them."""
    own = [k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=p.selector))]
    return k8s.networking.v1.NetworkPolicyInitArgs(
        metadata=meta(
            p, annotations={"ai-infra.io/egress-waiver": "datasets and checkpoints over HTTPS (Hugging Face Hub)"}
        ),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=p.selector),
            policy_types=["Ingress", "Egress"],
            ingress=[k8s.networking.v1.NetworkPolicyIngressRuleArgs(from_=own)],
            egress=[
                k8s.networking.v1.NetworkPolicyEgressRuleArgs(to=own),
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
                ),
            ],
        ),
    )


def service_account_args(p: JobPlan, role_arn: pulumi.Input[str] | None = None) -> k8s.core.v1.ServiceAccountInitArgs:
    """No API token; with ``role_arn`` (S3 output) EKS's pod identity webhook gives the pods that
    IAM role through a projected web-identity token of its own, not the API token."""
    annotations = {IRSA_ANNOTATION: role_arn} if role_arn is not None else None
    return k8s.core.v1.ServiceAccountInitArgs(
        metadata=meta(p, annotations=annotations), automount_service_account_token=False
    )


def output_pvc_args(p: JobPlan) -> k8s.core.v1.PersistentVolumeClaimInitArgs:
    """The job's results volume: ReadWriteMany on the shared class, so every worker and every run
    mounts it at once (``/output/<run>``)."""
    out = p.spec.output
    assert p.output_claim is not None and out is not None and out.volume is not None and p.output_class
    return k8s.core.v1.PersistentVolumeClaimInitArgs(
        metadata=meta(p, p.output_claim),
        spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
            access_modes=["ReadWriteMany"],
            storage_class_name=p.output_class,
            resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": out.volume.size}),
        ),
    )


def secret_args(p: JobPlan, value: pulumi.Input[str]) -> k8s.core.v1.SecretInitArgs:
    """The Hugging Face token; ``value`` must already be a secret Output."""
    assert p.hf_token_secret is not None
    return k8s.core.v1.SecretInitArgs(metadata=meta(p, p.hf_token_secret), type="Opaque", string_data={"token": value})
