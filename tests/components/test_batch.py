"""BatchQueue and BatchJob under mocks: flavors, quotas, cohort, preemption, and the job pod spec."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import yaml

from components.batch_job import BatchJob, BatchJobArgs, S3OutputArgs
from components.batch_queue import BatchQueue, BatchQueueArgs, QueueSpec
from components.specs import batch as spec
from components.specs import kueue
from planner.mocks import RecordingMonitor
from tests.conftest import build_under_mocks, settings_for

KUEUE = "kubernetes:kueue.x-k8s.io/v1beta2"
SMALL = {"queue": "train", "command": ["python", "train.py"], "cpu": "8", "memory": "64Gi"}
DIGEST = "ghcr.io/acme/trainer@sha256:" + "ab" * 32


def _queue(env: str = "prod", **settings: Any) -> RecordingMonitor:
    s = settings_for(env, **settings)
    queues = {
        name: QueueSpec(
            pool=q.pool,
            quota=kueue.queue_quota(s.node_pools[q.pool], s.queue_gpus(name)),
            namespaces=s.queue_namespaces(name),
        )
        for name, q in s.batch.queues.items()
    }
    return build_under_mocks(
        lambda: BatchQueue(
            "batch",
            BatchQueueArgs(
                namespace="kueue-system",
                queues=queues,
                cohort=s.batch.cohort,
                pods_ready_timeout=s.batch.pods_ready_timeout,
                labels={"app.kubernetes.io/name": "kueue"},
                service_monitor=True,
                replicas=2,
            ),
        )
    )


def _one(m: RecordingMonitor, kind: str, name: str) -> dict[str, Any]:
    return next(r.inputs for r in m.by_type(f"{KUEUE}:{kind}") if r.inputs["metadata"]["name"] == name)


def test_kueue_comes_from_its_oci_chart_with_only_batch_jobs_in_batch_namespaces() -> None:
    m = _queue()
    release = m.by_type("kubernetes:helm.sh/v3:Release")[0].inputs
    assert release["chart"] == "oci://registry.k8s.io/kueue/charts/kueue" and release["version"] == "0.19.2"
    assert "repositoryOpts" not in release and release["name"] == "kueue"
    config = yaml.safe_load(release["values"]["managerConfig"]["controllerManagerConfigYaml"])
    assert config["integrations"]["frameworks"] == ["batch/job"]
    assert config["managedJobsNamespaceSelector"]["matchExpressions"][0]["values"] == ["training"]
    assert config["waitForPodsReady"] == {"timeout": "20m"}
    # An unlabelled Job in a batch namespace (kubectl create job) is held, not run past the queue.
    assert config["manageJobsWithoutQueueName"] is True
    assert release["values"]["enablePrometheus"] is True
    assert release["values"]["controllerManager"]["podDisruptionBudget"]["enabled"] is True


def test_one_flavor_per_pool_with_its_label_and_the_gpu_toleration() -> None:
    m = _queue()
    flavors = m.by_type(f"{KUEUE}:ResourceFlavor")
    assert [f.inputs["metadata"]["name"] for f in flavors] == ["pool-training"]  # both queues share the pool
    flavor = flavors[0].inputs["spec"]
    assert flavor["nodeLabels"] == {"ai-infra.io/pool": "training"}
    assert flavor["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_cluster_queues_share_the_pool_cap_in_one_cohort_with_reclaiming_preemption() -> None:
    m = _queue()
    train, infer = _one(m, "ClusterQueue", "train")["spec"], _one(m, "ClusterQueue", "batch-infer")["spec"]
    assert train["cohortName"] == infer["cohortName"] == "gpu"
    group = train["resourceGroups"][0]
    assert group["coveredResources"] == ["cpu", "memory", "nvidia.com/gpu"]
    quota = {r["name"]: r["nominalQuota"] for r in group["flavors"][0]["resources"]}
    # 12 of the pool's 16 A100s, and 12/8 of a p4d node's allocatable CPU and memory.
    assert quota["nvidia.com/gpu"] == "12" and group["flavors"][0]["name"] == "pool-training"
    infer_gpus = infer["resourceGroups"][0]["flavors"][0]["resources"][2]["nominalQuota"]
    assert int(quota["nvidia.com/gpu"]) + int(infer_gpus) == 16
    assert quota["cpu"].endswith("m") and quota["memory"].endswith("Gi")
    assert train["preemption"] == {"reclaimWithinCohort": "Any", "withinClusterQueue": "LowerPriority"}
    assert train["namespaceSelector"]["matchExpressions"][0]["values"] == ["training"]


def test_each_opted_in_namespace_gets_a_local_queue_after_its_cluster_queue() -> None:
    m = _queue()
    lqs = {
        (r.inputs["metadata"]["namespace"], r.inputs["spec"]["clusterQueue"]) for r in m.by_type(f"{KUEUE}:LocalQueue")
    }
    assert lqs == {("training", "train"), ("training", "batch-infer")}
    for queue in ("train", "batch-infer"):
        lq = next(r for r in m.registrations if r.type.endswith(":LocalQueue") and r.name.endswith(f"-{queue}"))
        cq = next(r for r in m.registrations if r.type.endswith(":ClusterQueue") and r.name.endswith(f"cq-{queue}"))
        assert cq.urn in lq.dependencies


def _job(env: str = "prod", name: str = "ft", token: bool = False, **job: Any) -> tuple[spec.JobPlan, RecordingMonitor]:
    overrides: dict[str, Any] = {"jobs": {name: {**SMALL, "image": DIGEST, **job}}}
    if job.get("modelCache"):
        # A shared-cache fleet in the namespace stages the weights the job reads.
        overrides["namespaces"] = {"training": {"modelCache": True}}
        overrides["models"] = {"qwen-coder": {"namespace": "training"}}
    if job.get("scratch") == "local-nvme" and env == "dev":
        raise ValueError("dev has no local-pv pool")
    s = settings_for(env, **overrides)
    plan = spec.JobPlan(
        name=name,
        spec=s.jobs[name],
        pool=s.batch.queues[s.jobs[name].queue].pool,
        image=DIGEST,
        env=env,
        team="ml",
        hf_token_secret="ft-hf-token" if token else None,
    )
    secret = pulumi.Output.secret("t") if token else None
    return plan, build_under_mocks(lambda: BatchJob(f"job-{name}", BatchJobArgs(job=plan, hf_token=secret)))


def _kinds(m: RecordingMonitor) -> set[str]:
    return {r.type.rsplit(":", 1)[-1] for r in m.registrations if r.custom}


def test_a_template_job_is_a_suspended_cronjob_whose_runs_carry_the_queue_label() -> None:
    _, m = _job()
    assert _kinds(m) == {"ServiceAccount", "NetworkPolicy", "CronJob"}
    cron = m.by_type("kubernetes:batch/v1:CronJob")[0].inputs["spec"]
    assert cron["suspend"] is True and cron["concurrencyPolicy"] == "Forbid"
    assert cron["jobTemplate"]["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "train"
    assert cron["jobTemplate"]["spec"]["ttlSecondsAfterFinished"] == 86400
    assert cron["jobTemplate"]["spec"]["backoffLimit"] == 2


def test_run_now_is_a_job_pulumi_does_not_wait_for() -> None:
    _, m = _job(run="now")
    job = m.by_type("kubernetes:batch/v1:Job")[0].inputs
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "train"
    assert job["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"
    assert job["metadata"]["annotations"]["checkov.io/skip1"].startswith("CKV_K8S_11=")  # waiver with its reason
    assert "suspend" not in job["spec"]  # Kueue's webhook suspends it until admitted
    assert job["spec"]["completionMode"] == "NonIndexed" and job["spec"]["parallelism"] == 1


def test_a_scheduled_job_keeps_its_schedule() -> None:
    _, m = _job(run="scheduled", schedule="0 3 * * *")
    cron = m.by_type("kubernetes:batch/v1:CronJob")[0].inputs["spec"]
    assert cron["schedule"] == "0 3 * * *" and cron["suspend"] is False


def test_the_job_pod_is_restricted_gpu_tolerant_batch_priority_and_mounts_what_it_needs() -> None:
    _, m = _job(run="now", modelCache=True, scratch="local-nvme", token=True, gpusPerWorker=2)
    pod = m.by_type("kubernetes:batch/v1:Job")[0].inputs["spec"]["template"]["spec"]
    assert pod["priorityClassName"] == "gpu-batch" and pod["restartPolicy"] == "Never"
    assert pod["nodeSelector"] == {"ai-infra.io/pool": "training"}
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert pod["automountServiceAccountToken"] is False and pod["serviceAccountName"] == "ft"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    worker = pod["containers"][0]
    sc = worker["securityContext"]
    assert sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"] and sc["capabilities"]["drop"] == ["ALL"]
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == worker["resources"]["requests"]["nvidia.com/gpu"] == "2"
    mounts = {v["mountPath"]: v for v in worker["volumeMounts"]}
    assert mounts["/models"]["readOnly"] is True
    assert mounts["/var/run/secrets/huggingface"]["readOnly"] is True
    assert {"/dev/shm", "/workspace", "/tmp", "/home/app"} <= set(mounts)
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["dshm"]["emptyDir"]["medium"] == "Memory"
    assert volumes["cache"]["persistentVolumeClaim"] == {"claimName": "model-cache", "readOnly": True}
    claim = volumes["scratch"]["ephemeral"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "local-nvme"
    assert volumes["hf-token"]["secret"]["secretName"] == "ft-hf-token"
    env = {e["name"]: e.get("value") for e in worker["env"]}
    assert env["HF_TOKEN_PATH"] == "/var/run/secrets/huggingface/token" and "HF_TOKEN" not in env
    assert {"Secret"} <= _kinds(m)


def test_several_workers_are_an_indexed_job_with_a_headless_rendezvous_service() -> None:
    plan, m = _job(run="now", workers=2, gpusPerWorker=4)
    job = m.by_type("kubernetes:batch/v1:Job")[0].inputs["spec"]
    assert job["completionMode"] == "Indexed" and job["parallelism"] == job["completions"] == 2
    pod = job["template"]["spec"]
    assert pod["subdomain"] == plan.service_name == "ft-workers"
    service = m.by_type("kubernetes:core/v1:Service")[0].inputs
    assert service["metadata"]["name"] == "ft-workers"
    assert service["spec"]["clusterIP"] == "None" and service["spec"]["publishNotReadyAddresses"] is True
    assert service["spec"]["selector"].items() <= job["template"]["metadata"]["labels"].items()
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["MASTER_ADDR"]["value"] == "$(JOB_NAME)-0.ft-workers"
    assert env["NNODES"]["value"] == "2" and env["NPROC_PER_NODE"]["value"] == "4"
    assert "job-completion-index" in env["NODE_RANK"]["valueFrom"]["fieldRef"]["fieldPath"]
    netpol = m.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")[0].inputs["spec"]
    own = {"podSelector": {"matchLabels": plan.selector}}
    assert netpol["ingress"] == [{"from": [own]}] and netpol["egress"][0] == {"to": [own]}


def test_the_dev_example_renders_as_a_small_suspended_template() -> None:
    s = settings_for("dev")
    job = s.jobs["finetune-example"]
    plan = spec.JobPlan(name="finetune-example", spec=job, pool="gpu", image=DIGEST, env="dev", team="ml")
    cron = spec.cronjob_args(plan)
    assert plan.kind == "CronJob" and cron.spec.suspend is True
    assert job.gpus_per_worker == 1 and job.workers == 1


def _env(container: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(e["name"], e.get("value")) for e in container["env"]]


def test_an_output_volume_is_a_kept_shared_claim_mounted_at_output_per_run() -> None:
    """Issue 22 item 11: results outlive the pods, each run under its own name."""
    plan = spec.JobPlan(
        name="ft",
        spec=settings_for("prod", jobs={"ft": {**SMALL, "image": DIGEST, "output": {"volume": {"size": "50Gi"}}}}).jobs[
            "ft"
        ],
        pool="training",
        image=DIGEST,
        env="prod",
        team="ml",
        output_class="shared-models",
    )
    m = build_under_mocks(lambda: BatchJob("job-ft", BatchJobArgs(job=plan, retain_output=True)))
    (claim,) = m.by_type("kubernetes:core/v1:PersistentVolumeClaim")
    assert claim.protect and claim.retain_on_delete
    assert claim.inputs["metadata"] == {**claim.inputs["metadata"], "name": "ft-output", "namespace": "training"}
    assert claim.inputs["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim.inputs["spec"]["storageClassName"] == "shared-models"
    assert claim.inputs["spec"]["resources"]["requests"] == {"storage": "50Gi"}
    cron = m.by_type("kubernetes:batch/v1:CronJob")[0]
    assert claim.urn in cron.dependencies
    pod = cron.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    worker = pod["containers"][0]
    assert {"name": "output", "mountPath": "/output"} in worker["volumeMounts"]
    assert {"name": "output", "persistentVolumeClaim": {"claimName": "ft-output"}} in pod["volumes"]
    names = [n for n, _ in _env(worker)]
    # $(JOB_NAME) expands only from a variable defined before it.
    assert names.index("JOB_NAME") < names.index("OUTPUT_DIR")
    assert dict(_env(worker))["OUTPUT_DIR"] == "/output/$(JOB_NAME)"


def test_an_s3_output_gets_an_irsa_role_on_that_prefix_only() -> None:
    s = settings_for(
        "prod",
        jobs={
            "ft": {**SMALL, "image": DIGEST, "run": "now", "output": {"s3": {"bucket": "acme-ml", "prefix": "runs/ft"}}}
        },
    )
    plan = spec.JobPlan(name="ft", spec=s.jobs["ft"], pool="training", image=DIGEST, env="prod", team="ml")
    s3 = S3OutputArgs(
        oidc_provider_arn="arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/X",
        oidc_issuer="https://oidc.eks.us-west-2.amazonaws.com/id/X",
        tags={},
    )
    m = build_under_mocks(lambda: BatchJob("job-ft", BatchJobArgs(job=plan, s3=s3)))
    (role,) = m.by_type("aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    assert trust["oidc.eks.us-west-2.amazonaws.com/id/X:sub"] == "system:serviceaccount:training:ft"
    (inline,) = m.by_type("aws:iam/rolePolicy:RolePolicy")
    statements = {st["Sid"]: st for st in json.loads(inline.inputs["policy"])["Statement"]}
    assert statements["ReadWriteOwnPrefix"]["Resource"] == "arn:aws:s3:::acme-ml/runs/ft/*"
    assert statements["ListOwnPrefix"]["Condition"] == {"StringLike": {"s3:prefix": ["runs/ft", "runs/ft/*"]}}
    (account,) = m.by_type("kubernetes:core/v1:ServiceAccount")
    assert account.inputs["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
    assert account.inputs["automountServiceAccountToken"] is False
    assert inline.urn in account.dependencies
    worker = m.by_type("kubernetes:batch/v1:Job")[0].inputs["spec"]["template"]["spec"]["containers"][0]
    assert dict(_env(worker))["OUTPUT_URI"] == "s3://acme-ml/runs/ft/$(JOB_NAME)/"
    assert not m.by_type("kubernetes:core/v1:PersistentVolumeClaim")


def test_a_scheduled_job_reads_its_schedule_in_its_time_zone() -> None:
    _, m = _job(run="scheduled", schedule="0 3 * * *", timeZone="Europe/Berlin")
    assert m.by_type("kubernetes:batch/v1:CronJob")[0].inputs["spec"]["timeZone"] == "Europe/Berlin"
