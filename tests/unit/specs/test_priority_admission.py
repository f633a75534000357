"""The PriorityClass ValidatingAdmissionPolicy: its CEL evaluated (cel-python) as the API server would."""

from __future__ import annotations

from typing import Any

import celpy
import pytest

from components.specs import namespace as spec

TENANTS = {"models": True, "training": False}


def _admit(pod_spec: dict[str, Any], namespace: str) -> list[str]:
    """Messages of the validations a pod fails in ``namespace`` (empty: admitted)."""
    policy: Any = spec.priority_admission_policy_args(TENANTS, {})[0]
    env = celpy.Environment()
    request = {"namespace": namespace}
    pod = {"metadata": {"name": "p"}, "spec": pod_spec}
    variables: dict[str, Any] = {}
    for variable in policy.spec.variables:
        activation = {"object": celpy.json_to_cel(pod), "request": celpy.json_to_cel(request)}
        variables[variable.name] = env.program(env.compile(variable.expression)).evaluate(activation)
    activation = {
        "object": celpy.json_to_cel(pod),
        "request": celpy.json_to_cel(request),
        "variables": celpy.celtypes.MapType({celpy.celtypes.StringType(k): v for k, v in variables.items()}),
    }
    failed = []
    for validation in policy.spec.validations:
        if not env.program(env.compile(validation.expression)).evaluate(activation):
            failed.append(str(validation.message or validation.message_expression))
    return failed


@pytest.mark.parametrize(
    ("namespace", "priority", "admitted"),
    [
        ("models", "gpu-serving", True),
        ("models", None, True),
        ("models", "gpu-batch", True),
        ("models", "system-node-critical", False),
        ("training", "gpu-batch", True),
        ("training", "gpu-serving", False),
        ("training", "system-cluster-critical", False),
        ("someones-namespace", "gpu-serving", False),  # not ours: still cannot preempt vLLM
        ("kube-system", "system-node-critical", True),  # system namespaces keep their classes
        ("gpu-system", "system-node-critical", True),
    ],
)
def test_pods_use_only_the_priority_classes_their_namespace_may(
    namespace: str, priority: str | None, admitted: bool
) -> None:
    pod_spec: dict[str, Any] = {"containers": [{"name": "c", "image": "i"}]}
    if priority is not None:
        pod_spec["priorityClassName"] = priority
    assert (_admit(pod_spec, namespace) == []) == admitted


def test_the_binding_denies_and_the_policy_fails_closed_on_pod_creation() -> None:
    policy: Any
    binding: Any
    policy, binding = spec.priority_admission_policy_args(TENANTS, {"app.kubernetes.io/part-of": "ai-infra"})
    assert policy.spec.failure_policy == "Fail"
    (rule,) = policy.spec.match_constraints.resource_rules
    assert (rule.resources, rule.operations) == (["pods"], ["CREATE"])
    assert binding.spec.validation_actions == ["Deny"]
    assert binding.spec.policy_name == policy.metadata.name == spec.PRIORITY_ADMISSION_POLICY
