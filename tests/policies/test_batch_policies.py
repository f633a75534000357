"""Section M (batch) policies both ways: queue named, whole GPUs tolerated, never serving priority."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aiinfra_policies import batch
from aiinfra_policies.constants import CRONJOB, JOB, JOBSET, RESOURCE_QUOTA
from tests.conftest import policy_by_name, stack_violations, violations
from tests.unit.specs.test_crd_schemas import errors

LQ = "kubernetes:kueue.x-k8s.io/v1beta2:LocalQueue"


def pod(gpus: str = "1") -> dict[str, Any]:
    return {
        "priorityClassName": "gpu-batch",
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "containers": [
            {"name": "worker", "resources": {"requests": {"nvidia.com/gpu": gpus}, "limits": {"nvidia.com/gpu": gpus}}}
        ],
    }


def job(queue: str | None = "train", namespace: str = "training") -> dict[str, Any]:
    labels = {"kueue.x-k8s.io/queue-name": queue} if queue else {}
    return {
        "kind": "Job",
        "metadata": {"name": "ft", "namespace": namespace, "labels": labels},
        "spec": {"template": {"spec": pod()}},
    }


def cronjob(queue: str | None = "train") -> dict[str, Any]:
    labels = {"kueue.x-k8s.io/queue-name": queue} if queue else {}
    return {
        "kind": "CronJob",
        "metadata": {"name": "ft", "namespace": "training"},
        "spec": {"jobTemplate": {"metadata": {"labels": labels}, "spec": {"template": {"spec": pod()}}}},
    }


def jobset() -> dict[str, Any]:
    return {
        "kind": "JobSet",
        "metadata": {"name": "ft", "namespace": "training", "labels": {"kueue.x-k8s.io/queue-name": "train"}},
        "spec": {"replicatedJobs": [{"name": "workers", "template": {"spec": {"template": {"spec": pod()}}}}]},
    }


def test_the_jobset_fixture_is_a_jobset_of_the_version_kueue_integrates() -> None:
    """The policies read JobSet pod templates where JobSet v0.12.0 puts them."""
    doc = {"apiVersion": "jobset.x-k8s.io/v1alpha2", **jobset()}
    assert errors(JOBSET, doc) == []
    wrong = copy.deepcopy(doc)
    wrong["spec"]["replicatedJobs"][0]["jobTemplate"] = wrong["spec"]["replicatedJobs"][0].pop("template")
    assert errors(JOBSET, wrong)


QUOTA = (RESOURCE_QUOTA, {"metadata": {"name": "compute", "namespace": "training"}, "spec": {"hard": {"pods": "5"}}})
QUEUE = (LQ, {"metadata": {"name": "train", "namespace": "training"}, "spec": {"clusterQueue": "train"}})


def test_jobs_in_a_workload_namespace_name_one_of_its_local_queues() -> None:
    policy = policy_by_name(batch.POLICIES, "batch-job-names-localqueue")
    ok = [QUOTA, QUEUE, (JOB, job()), (CRONJOB, cronjob()), (JOBSET, jobset())]
    assert stack_violations(policy, ok) == []
    unlabelled = stack_violations(policy, [QUOTA, QUEUE, (JOB, job(queue=None)), (CRONJOB, cronjob(queue=None))])
    assert len(unlabelled) == 2
    assert "spec.jobTemplate.metadata.labels[kueue.x-k8s.io/queue-name]" in unlabelled[1]
    assert stack_violations(policy, [QUOTA, QUEUE, (JOB, job(queue="other"))])  # no such LocalQueue
    assert stack_violations(policy, [QUOTA, (JOB, job())])  # the queue is not created by the stack
    # A namespace without a ResourceQuota is no exception: the Job still takes GPUs nothing counted.
    no_quota = [QUEUE, (JOB, job(queue=None, namespace="scratch")), (JOB, job(queue=None, namespace="kube-system"))]
    assert len(stack_violations(policy, no_quota)) == 2
    assert stack_violations(policy, [QUEUE, (JOB, job())]) == []  # named, no quota in the namespace: fine
    assert len(stack_violations(policy, [(JOB, job(namespace="scratch"))])) == 1  # names a queue it lacks
    # Only the policy's excludeNamespaces waiver skips a namespace.
    assert stack_violations(policy, no_quota, {"excludeNamespaces": ["scratch", "kube-system"]}) == []
    # A fleet's weight-staging Job is the platform's CPU-only download: no queue needed...
    stager = job(queue=None)
    stager["metadata"]["labels"]["app.kubernetes.io/component"] = "weight-stager"
    stager["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "1"}}
    assert stack_violations(policy, [QUOTA, (JOB, stager)]) == []
    # ...but the label does not let a GPU job skip its queue.
    gpu_stager = job(queue=None)
    gpu_stager["metadata"]["labels"]["app.kubernetes.io/component"] = "weight-stager"
    assert stack_violations(policy, [QUOTA, (JOB, gpu_stager)])


@pytest.mark.parametrize("token,factory", [(JOB, job), (CRONJOB, cronjob), (JOBSET, jobset)])
def test_batch_gpu_pods_request_whole_gpus_and_tolerate_the_taint(token: str, factory: Any) -> None:
    policy = policy_by_name(batch.POLICIES, "batch-gpu-whole-and-tolerated")
    assert violations(policy, token, factory()) == []
    props = factory()
    spec = batch.pod_specs(token, props)
    _, first = next(spec)
    first["tolerations"] = []
    assert any("tolerations" in m for m in violations(policy, token, props))
    sliced = factory()
    _, first = next(batch.pod_specs(token, sliced))
    first["containers"][0]["resources"] = {"limits": {"nvidia.com/mig-1g.10gb": "1"}}
    assert any("whole GPUs" in m for m in violations(policy, token, sliced))
    half = factory()
    _, first = next(batch.pod_specs(token, half))
    first["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] = "0.5"
    assert any("whole number" in m for m in violations(policy, token, half))


def test_cpu_only_batch_pods_need_no_gpu_toleration() -> None:
    policy = policy_by_name(batch.POLICIES, "batch-gpu-whole-and-tolerated")
    props = job()
    props["spec"]["template"]["spec"] = {"containers": [{"name": "c", "resources": {"limits": {"memory": "1Gi"}}}]}
    assert violations(policy, JOB, props) == []


@pytest.mark.parametrize("token,factory", [(JOB, job), (CRONJOB, cronjob), (JOBSET, jobset)])
def test_batch_work_never_takes_the_serving_priority(token: str, factory: Any) -> None:
    policy = policy_by_name(batch.POLICIES, "batch-not-serving-priority")
    assert violations(policy, token, factory()) == []
    props = factory()
    _, first = next(batch.pod_specs(token, props))
    first["priorityClassName"] = "gpu-serving"
    assert any("priorityClassName" in m for m in violations(policy, token, props))
    labelled = copy.deepcopy(factory())
    where = labelled["spec"]["jobTemplate"]["metadata"] if token == CRONJOB else labelled["metadata"]
    where["labels"]["kueue.x-k8s.io/priority-class"] = "gpu-serving"
    assert violations(policy, token, labelled)
    # Config can name more serving classes.
    props = factory()
    _, first = next(batch.pod_specs(token, props))
    first["priorityClassName"] = "interactive"
    assert violations(policy, token, props, {"servingPriorityClasses": ["gpu-serving", "interactive"]})


def test_messages_quote_no_values() -> None:
    policy = policy_by_name(batch.POLICIES, "batch-job-names-localqueue")
    found = stack_violations(policy, [QUOTA, QUEUE, (JOB, job(queue="secret-queue-name"))])
    assert found and all("secret-queue-name" not in m for m in found)
