"""Pure builders for batch GPU jobs, run through Kueue's queues (``kueue.py``).

One worker is a ``batch/v1`` Job; more are an *indexed* Job (``completionMode: Indexed``,
``parallelism = completions = workers``) with a headless Service for torchrun's rendezvous
(``MASTER_ADDR`` is index 0's stable DNS name). Chosen over JobSet: no second controller or
alpha API (JobSet serves only ``v1alpha2``), Kueue's default ``batch/job`` integration admits
all workers as one PodSet, and the Service's lifecycle is ours. A ``template`` is a suspended
CronJob: ``kubectl create job --from=cronjob/<name>`` submits a run with the queue label
(kubectl copies the ``jobTemplate``'s labels onto the Job: kubernetes/kubectl
pkg/cmd/create/create_job.go ``createJobFromCronJob``). Pods are restricted and placed on their
GPU pool the way every platform pod is (``pod.py``), run at ``gpu-batch`` priority, and mount the
model cache read-only, scratch, ``/dev/shm`` and the Hugging Face token as a file. Results
outlive the pods through ``output``: a ReadWriteMany claim at ``/output`` (``$OUTPUT_DIR`` =
``/output/<run>``) or an S3 prefix (``$OUTPUT_URI``) the job's IRSA role may write; ``<run>`` is
the Job's name, so runs created from one CronJob never collide.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.core.engines import CACHE_MOUNT, HF_TOKEN_FILE
from components.core.labels import KUEUE_QUEUE_LABEL
from components.core.naming import k8s_name
from components.core.settings import JobSpec
from components.core.settings.batch import OUTPUT_MOUNT
from components.specs.kueue import queue_quota as queue_quota  # the program sizes queues with it from here
from components.specs.node_pool import GPU_RESOURCE
from components.specs.pod import (
    WorkloadPlan,
    container_security_context,
    gpu_placement,
    hf_token_mount,
    hf_token_volume,
    meta,
    pod_spec,
    pull_policy,
)
from components.specs.scheduling import BATCH_PRIORITY
from components.specs.storage import CACHE_PVC, LOCAL_CLASS
from components.specs.system_network import PUBLIC_INTERNET_EXCEPT

QUEUE_LABEL = KUEUE_QUEUE_LABEL
BATCH_JOB_COMPONENT = "batch-job"
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


@dataclass(frozen=True, kw_only=True)
class JobPlan(WorkloadPlan[JobSpec]):
    """Everything the job builders need, as plain values."""

    pool: str
    output_class: str | None = None
    """The StorageClass of the output claim, when the job keeps its results on a volume."""

    @property
    def resource_name(self) -> str:
        return k8s_name(self.name)

    @property
    def app(self) -> str:
        return self.name

    @property
    def component(self) -> str:
        return BATCH_JOB_COMPONENT

    @property
    def pool_name(self) -> str:
        return self.pool

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
        pairs.append(("HF_HUB_CACHE", f"{CACHE_MOUNT}/hf/hub"))
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
        mounts.append(k8s.core.v1.VolumeMountArgs(name="cache", mount_path=CACHE_MOUNT, read_only=True))
    if p.output_claim:
        mounts.append(k8s.core.v1.VolumeMountArgs(name="output", mount_path=OUTPUT_MOUNT))
    if p.hf_token_secret:
        mounts.append(hf_token_mount())
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
        spec=pod_spec(
            p,
            service_account=p.resource_name,
            containers=[worker_container(p)],
            volumes=worker_volumes(p),
            # The same as the pool's flavor gives admitted pods, so the pod is right without Kueue too.
            placement=gpu_placement(p.pool, p.runtime_class),
            # The Job retries failed pods (backoffLimit); a restarted container would lose its rank.
            restart_policy="Never",
            priority_class_name=BATCH_PRIORITY,
            subdomain=p.service_name if p.indexed else None,
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
                                except_=list(PUBLIC_INTERNET_EXCEPT),
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
