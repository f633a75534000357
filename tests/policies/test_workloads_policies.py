"""Section C policies both ways: compliant resources pass, each violation is reported."""

from __future__ import annotations

from typing import Any

from aiinfra_policies import workloads
from aiinfra_policies.common import ResourceRule
from aiinfra_policies.constants import DEPLOYMENT, NODE_GROUP, STATEFULSET
from tests.conftest import policy_by_name, stack_violations, violations
from tests.policies.test_eks_policies import node_group
from tests.policies.test_pod_security import compliant_deployment


def gpu_deployment(replicas: int = 2) -> dict[str, Any]:
    props = compliant_deployment()
    props["spec"]["replicas"] = replicas
    props["spec"]["template"]["metadata"] = {
        "labels": {
            "app.kubernetes.io/name": "vllm",
            "app.kubernetes.io/instance": "q",
            "app.kubernetes.io/component": "model-server",
        }
    }
    pod = props["spec"]["template"]["spec"]
    pod["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    pod["nodeSelector"] = {"ai-infra.io/pool": "serving"}
    for c in pod["containers"] + pod["initContainers"]:
        c["resources"] = {
            "requests": {"cpu": "4", "memory": "32Gi", "nvidia.com/gpu": "1"},
            "limits": {"memory": "32Gi", "nvidia.com/gpu": "1"},
        }
        c["livenessProbe"] = {"httpGet": {"path": "/health", "port": 8000}}
        c["startupProbe"] = {"httpGet": {"path": "/health", "port": 8000}}
    return props


def _pod(p: dict[str, Any]) -> dict[str, Any]:
    return p["spec"]["template"]["spec"]


def _check(name: str, props: dict[str, Any]) -> list[str]:
    return violations(policy_by_name(workloads.POLICIES, name), DEPLOYMENT, props)


def test_compliant_gpu_deployment_passes_every_resource_rule() -> None:
    for policy in workloads.POLICIES:
        if isinstance(policy, ResourceRule):
            assert violations(policy, DEPLOYMENT, gpu_deployment()) == [], policy.name


def test_requests_and_memory_limits() -> None:
    props = gpu_deployment()
    del _pod(props)["containers"][0]["resources"]["limits"]["memory"]
    assert _check("k8s-requests-and-memory-limits", props) == [
        "spec.template.spec.containers[0].resources.limits.memory must be set."
    ]


def test_gpu_resources_well_formed() -> None:
    requests_only = gpu_deployment()
    del _pod(requests_only)["containers"][0]["resources"]["limits"]["nvidia.com/gpu"]
    assert _check("k8s-gpu-resources-well-formed", requests_only)
    unequal = gpu_deployment()
    _pod(unequal)["containers"][0]["resources"]["requests"]["nvidia.com/gpu"] = "2"
    assert _check("k8s-gpu-resources-well-formed", unequal)
    fractional = gpu_deployment()
    _pod(fractional)["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] = "0.5"
    assert _check("k8s-gpu-resources-well-formed", fractional)


def test_gpu_pods_target_gpu_nodes_and_cpu_pods_do_not() -> None:
    no_toleration = gpu_deployment()
    _pod(no_toleration)["tolerations"] = []
    assert _check("k8s-gpu-pods-target-gpu-nodes", no_toleration)
    no_selector = gpu_deployment()
    del _pod(no_selector)["nodeSelector"]
    assert _check("k8s-gpu-pods-target-gpu-nodes", no_selector)
    cpu_pod = compliant_deployment()
    _pod(cpu_pod)["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists"}]
    assert _check("k8s-gpu-pods-target-gpu-nodes", cpu_pod)
    assert _check("k8s-gpu-pods-target-gpu-nodes", compliant_deployment()) == []


def test_gpu_node_groups_are_tainted() -> None:
    policy = policy_by_name(workloads.POLICIES, "eks-gpu-nodegroup-tainted")
    assert violations(policy, NODE_GROUP, node_group()) == []
    props = node_group()
    props.update(taints=[])
    assert violations(policy, NODE_GROUP, props), "eks-gpu-nodegroup-tainted missed the mutation"


def test_model_servers_need_startup_probes() -> None:
    props = gpu_deployment()
    del _pod(props)["containers"][0]["startupProbe"]
    assert _check("k8s-probes-configured", props) == ["spec.template.spec.containers[0].startupProbe must be set."]


QUOTA = (
    "kubernetes:core/v1:ResourceQuota",
    {"metadata": {"namespace": "models"}, "spec": {"hard": {"requests.nvidia.com/gpu": "4"}}},
)
LIMITS = ("kubernetes:core/v1:LimitRange", {"metadata": {"namespace": "models"}})


def test_namespace_quota_and_limitrange_stack_rule() -> None:
    policy = policy_by_name(workloads.POLICIES, "k8s-namespace-quota-limitrange")
    workload = (DEPLOYMENT, gpu_deployment())
    assert stack_violations(policy, [workload, QUOTA, LIMITS]) == []
    assert len(stack_violations(policy, [workload])) == 2
    cpu_only_quota = (
        "kubernetes:core/v1:ResourceQuota",
        {"metadata": {"namespace": "models"}, "spec": {"hard": {"pods": "5"}}},
    )
    assert stack_violations(policy, [workload, cpu_only_quota, LIMITS]) == [
        "Namespace models runs GPU workloads; its ResourceQuota must cap requests.nvidia.com/gpu."
    ]
    # A scoped quota next to the compute quota neither hides nor replaces its GPU cap.
    scoped = (
        "kubernetes:core/v1:ResourceQuota",
        {
            "metadata": {"namespace": "models"},
            "spec": {"hard": {"pods": "0"}, "scopeSelector": {"matchExpressions": [{"scopeName": "PriorityClass"}]}},
        },
    )
    assert stack_violations(policy, [workload, QUOTA, scoped, LIMITS]) == []
    assert stack_violations(policy, [workload, scoped, LIMITS])


def _pdb(selector: dict[str, str], **spec: Any) -> tuple[str, dict[str, Any]]:
    return (
        "kubernetes:policy/v1:PodDisruptionBudget",
        {"metadata": {"namespace": "models", "name": "p"}, "spec": {"selector": {"matchLabels": selector}, **spec}},
    )


def test_pdb_for_replicated_stack_rule() -> None:
    policy = policy_by_name(workloads.POLICIES, "k8s-pdb-for-replicated")
    deployment = (STATEFULSET, gpu_deployment(replicas=3))
    good = _pdb({"app.kubernetes.io/instance": "q"}, maxUnavailable=1)
    assert stack_violations(policy, [deployment, good]) == []
    assert stack_violations(policy, [deployment])
    assert stack_violations(policy, [deployment, _pdb({"app.kubernetes.io/instance": "other"}, maxUnavailable=1)])
    assert stack_violations(policy, [deployment, _pdb({"app.kubernetes.io/instance": "q"}, maxUnavailable=0)])
    single = (DEPLOYMENT, gpu_deployment(replicas=1))
    assert stack_violations(policy, [single]) == []
