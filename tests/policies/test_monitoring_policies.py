"""Section K monitoring policies (ServiceMonitors, monitoring stack, recommended labels) both ways."""

from __future__ import annotations

from typing import Any

from aiinfra_policies import monitoring
from aiinfra_policies.constants import DEPLOYMENT, HELM_RELEASE, SERVICE, SERVICE_MONITOR
from tests.conftest import policy_by_name, stack_violations, violations
from tests.policies.test_network_policies import service_props
from tests.policies.test_workloads_policies import gpu_deployment

SVC = SERVICE


def _policy(name: str) -> Any:
    return policy_by_name(monitoring.POLICIES, name)


def _monitor(selector: dict[str, str]) -> tuple[str, dict[str, Any]]:
    return (
        SERVICE_MONITOR,
        {
            "metadata": {"namespace": "models"},
            "spec": {"selector": {"matchLabels": selector}, "endpoints": [{"port": "http"}]},
        },
    )


def test_service_monitor_rule_applies_once_monitoring_exists() -> None:
    policy = _policy("model-runner-has-servicemonitor")
    vllm = gpu_deployment()
    vllm["spec"]["template"]["spec"]["containers"][0]["image"] = "docker.io/vllm/vllm-openai:v0.11.0"
    model = (DEPLOYMENT, vllm)
    prometheus = (HELM_RELEASE, {"chart": "kube-prometheus-stack"})
    assert stack_violations(policy, [model]) == []  # no Prometheus Operator yet
    assert stack_violations(policy, [model, prometheus])
    assert stack_violations(policy, [model, prometheus, _monitor({"app.kubernetes.io/instance": "q"})]) == []
    assert stack_violations(policy, [model, prometheus, _monitor({"app.kubernetes.io/instance": "other"})])


def test_monitoring_stack_present() -> None:
    policy = _policy("monitoring-stack-present")
    model = (DEPLOYMENT, gpu_deployment())
    assert stack_violations(policy, [model])
    assert stack_violations(policy, [model, (HELM_RELEASE, {"chart": "kube-prometheus-stack"})]) == []


def test_recommended_labels() -> None:
    policy = _policy("k8s-recommended-labels")
    assert violations(policy, SVC, service_props()) == []
    bare = service_props()
    bare["metadata"]["labels"] = {"app.kubernetes.io/name": "x"}
    assert violations(policy, SVC, bare) == [
        "metadata.labels must include app.kubernetes.io/component, "
        "app.kubernetes.io/part-of (use components.core.labels.standard_labels)."
    ]
