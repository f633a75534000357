"""Section K meta policies (Helm allowlist, AWS tags) both ways."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aiinfra_policies import platform
from aiinfra_policies.constants import CLUSTER, HELM_RELEASE
from tests.conftest import policy_by_name, stack_violations, violations
from tests.policies.test_eks_policies import cluster

CASES: list[tuple[str, str, Any, Any]] = [
    # (policy, type token, compliant props factory, mutation)
    ("resources-tagged", CLUSTER, cluster, lambda p: p.update(tags={"Environment": "prod"})),
]


@pytest.mark.parametrize(
    ("name", "token", "factory", "mutate"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_policy_both_ways(name: str, token: str, factory: Any, mutate: Any) -> None:
    policy = policy_by_name(platform.POLICIES, name)
    assert violations(policy, token, factory()) == []
    props = factory()
    mutate(props)
    assert violations(policy, token, props), f"{name} missed the mutation"


def test_helm_release_allowlist() -> None:
    policy = policy_by_name(platform.POLICIES, "helm-release-allowlisted")
    config = {
        "allowedCharts": {
            "nvidia-device-plugin": {"repo": "https://nvidia.github.io/k8s-device-plugin", "version": "0.17.2"}
        }
    }
    good = {
        "chart": "nvidia-device-plugin",
        "version": "0.17.2",
        "repositoryOpts": {"repo": "https://nvidia.github.io/k8s-device-plugin"},
    }
    assert violations(policy, HELM_RELEASE, good, config) == []
    assert violations(policy, HELM_RELEASE, {**good, "version": "0.18.0"}, config)
    assert violations(policy, HELM_RELEASE, {**good, "repositoryOpts": {"repo": "https://evil.example"}}, config)
    assert violations(policy, HELM_RELEASE, {**good, "chart": "other"}, config)


def test_helm_release_allowlist_takes_an_oci_chart_without_a_repo() -> None:
    policy = policy_by_name(platform.POLICIES, "helm-release-allowlisted")
    oci = "oci://registry.k8s.io/kueue/charts/kueue"
    config = {"allowedCharts": {oci: {"version": "0.19.2"}}}
    assert violations(policy, HELM_RELEASE, {"chart": oci, "version": "0.19.2"}, config) == []
    assert violations(policy, HELM_RELEASE, {"chart": "kueue", "version": "0.19.2"}, config)
    hijacked = {"chart": oci, "version": "0.19.2", "repositoryOpts": {"repo": "https://evil.example"}}
    assert violations(policy, HELM_RELEASE, hijacked, config)


def test_without_allowed_charts_the_lockfile_is_the_allowlist() -> None:
    policy = policy_by_name(platform.POLICIES, "helm-release-allowlisted")
    keda = {"chart": "keda", "version": "2.17.2", "repositoryOpts": {"repo": "https://kedacore.github.io/charts"}}
    assert violations(policy, HELM_RELEASE, keda) == []
    assert violations(policy, HELM_RELEASE, {**keda, "version": "2.17.3"})
    assert violations(policy, HELM_RELEASE, {**keda, "chart": "unpinned"})
    autoscaler = {
        "chart": "cluster-autoscaler",
        "version": "9.53.0",
        "repositoryOpts": {"repo": "https://kubernetes.github.io/autoscaler"},
    }
    assert violations(policy, HELM_RELEASE, autoscaler) == []
    # A stack's own allowedCharts still wins over the lockfile.
    assert violations(policy, HELM_RELEASE, keda, {"allowedCharts": {"other": {"version": "1.0.0"}}})


def test_the_lockfile_reads_as_allowed_charts(tmp_path: Path) -> None:
    lockfile = tmp_path / "charts.json"
    lockfile.write_text(
        json.dumps(
            {
                "charts": {
                    "foo": {"repo": "https://charts.example.org", "version": "1.2.3"},
                    "bar": {"repo": "oci://registry.example.org/charts", "version": "v0.1.0"},
                    "baz": {
                        "repo": "https://b.example.org",
                        "lines": {"1.33": {"version": "1.0.0"}, "1.34": {"version": "2.0.0"}},
                    },
                }
            }
        )
    )
    assert platform.lockfile_allowlist(lockfile) == {
        "foo": {"repo": "https://charts.example.org", "version": "1.2.3"},
        "oci://registry.example.org/charts/bar": {"version": "v0.1.0"},
        "baz": {"repo": "https://b.example.org", "versions": ["1.0.0", "2.0.0"]},
    }
    lockfile.write_text('{"charts": {"foo": {"version": "1.2.3"}}}')
    with pytest.raises(ValueError, match=r"policies/charts\.json: cannot read the chart pins"):
        platform.lockfile_allowlist(lockfile)


def test_cost_within_budget_compares_the_cluster_cost_tags() -> None:
    def tagged(max_cost: str, budget: str | None) -> dict[str, object]:
        tags = {"ai-infra.io/max-usd-per-hour": max_cost}
        if budget is not None:
            tags["ai-infra.io/budget-usd-per-hour"] = budget
        return {"tags": tags}

    policy = policy_by_name(platform.POLICIES, "cost-within-budget")
    assert stack_violations(policy, [(CLUSTER, tagged("68.32", "50.00"))])
    assert stack_violations(policy, [(CLUSTER, tagged("68.32", "70.00"))]) == []
    # No budget set is a violation too (issue 22: prod planned $97k/month clean without one).
    missing = stack_violations(policy, [(CLUSTER, tagged("68.32", None))])
    assert missing and "ai-infra:cost.budgetUsdPerHour" in missing[0]
    over = stack_violations(policy, [(CLUSTER, tagged("68.32", "50.00"))])[0]
    assert "68.32" not in over and "50.00" not in over  # never quotes values
