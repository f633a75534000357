"""Batch work through the whole program: both stacks plan the queue, dev its example job, and a
prod stack with jobs passes every mandatory policy on the job pods (pod security, images, GPU
scheduling, quotas, network) with the pack's prod config."""

from __future__ import annotations

import json
from collections import Counter

from components.core.settings import deep_merge
from planner.policy_host import analyze_all
from tests.conftest import ROOT, run_stack, stack_file_config, stack_run, stack_secret_keys

KUEUE = "kubernetes:kueue.x-k8s.io/v1beta2"


def test_both_stacks_plan_kueue_and_its_queues() -> None:
    for stack in ("dev", "prod"):
        run = stack_run(stack)
        types = Counter(r.type for r in run.registrations)
        assert types[f"{KUEUE}:ResourceFlavor"] == 1 and types[f"{KUEUE}:ClusterQueue"] >= 1, stack
        assert types[f"{KUEUE}:LocalQueue"] == types[f"{KUEUE}:ClusterQueue"], stack  # one namespace opts in
        release = next(
            r for r in run.registrations if r.type.endswith("helm.sh/v3:Release") and r.inputs["name"] == "kueue"
        )
        assert release.inputs["namespace"] == "kueue-system"


def test_prod_alerts_on_pending_workloads_and_scrapes_kueue() -> None:
    run = stack_run("prod")
    rules = [r for r in run.registrations if r.type.endswith(":PrometheusRule")]
    alerts = {rule.get("alert") for r in rules for g in r.inputs["spec"]["groups"] for rule in g["rules"]}
    assert "KueueWorkloadsPending" in alerts
    release = next(
        r for r in run.registrations if r.type.endswith("helm.sh/v3:Release") and r.inputs["name"] == "kueue"
    )
    assert release.inputs["values"]["enablePrometheus"] is True


def test_dev_renders_its_example_job_as_a_suspended_template_and_prod_carries_none() -> None:
    dev, prod = stack_run("dev"), stack_run("prod")
    crons = [r.inputs for r in dev.registrations if r.type == "kubernetes:batch/v1:CronJob"]
    assert [c["metadata"]["name"] for c in crons] == ["finetune-example"] and crons[0]["spec"]["suspend"] is True
    # A template has no `rerun` (runs are created from it with kubectl).
    assert dev.outputs["jobs"] == {"finetune-example": {"kind": "CronJob", "name": "finetune-example"}}
    # (fleets' weight-staging Jobs are the platform's, not batch work)
    assert not [
        r for r in prod.registrations if r.type.startswith("kubernetes:batch/v1:") and "ModelRunnerFleet$" not in r.urn
    ]


def test_a_prod_stack_with_jobs_passes_every_mandatory_policy() -> None:
    config = stack_file_config("prod")
    config.update(
        {
            "ai-infra:registry": {"build": ["model-runner", "ollama", "train-light"]},
            "ai-infra:namespaces": {"training": {"modelCache": True}},
            # Its staging Job fills training's model cache, which the finetune job reads.
            "ai-infra:models": deep_merge(config["ai-infra:models"], {"qwen-coder": {"namespace": "training"}}),
            "ai-infra:hfToken": "hf_x",
            "ai-infra:jobs": {
                "finetune": {
                    "queue": "train",
                    "image": "train-light",
                    "command": ["torchrun", "train.py"],
                    "run": "now",
                    "workers": 2,
                    "gpusPerWorker": 4,
                    "cpu": "32",
                    "memory": "256Gi",
                    "scratch": "local-nvme",
                    "modelCache": True,
                    "output": {"s3": {"bucket": "acme-ml-results", "prefix": "finetune"}},
                },
                "nightly-eval": {
                    "queue": "batch-infer",
                    "image": "train-light",
                    "command": ["python", "eval.py"],
                    "run": "scheduled",
                    "schedule": "0 2 * * *",
                    "timeZone": "Europe/Berlin",
                    "output": {"volume": {"size": "50Gi"}},
                },
            },
        }
    )
    run = run_stack("prod", config, secret_keys=[*stack_secret_keys("prod"), "ai-infra:hfToken"])
    kinds = Counter(
        r.type.rsplit(":", 1)[-1]
        for r in run.registrations
        if ("batch/v1" in r.type or "core/v1:Service" in r.type) and "ModelRunnerFleet$" not in r.urn
    )
    assert kinds["Job"] == 1 and kinds["CronJob"] == 1
    # Results outlive the pods: a retained claim for one, an IRSA role on one S3 prefix for the other.
    (claim,) = [r for r in run.registrations if r.name == "job-nightly-eval-output"]
    assert claim.protect and claim.retain_on_delete
    (role,) = [r for r in run.registrations if r.type == "aws:iam/role:Role" and r.name == "job-finetune-irsa"]
    assert "system:serviceaccount:training:finetune" in role.inputs["assumeRolePolicy"]
    assert run.outputs["jobs"]["finetune"]["rerun"].startswith("pulumi up --replace 'urn:pulumi:prod::ai-infra::")
    pack = json.loads((ROOT / "policies" / "prod.json").read_text())
    found = analyze_all(ROOT / "policies", pack, run.registrations)
    job_urns = {r.urn for r in run.registrations if "job-" in r.urn}
    assert len(job_urns) > 6  # two jobs: accounts, policies, Secret, Service, Job, CronJob
    mandatory = [f"{v.policy}: {v.message}" for v in found if v.level == "mandatory"]
    assert mandatory == []
    assert not [v for v in found if v.urn in job_urns], "a job resource draws a policy finding"
