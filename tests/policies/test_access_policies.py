"""Section E policies (cluster access) both ways."""

from __future__ import annotations

from typing import Any

import pytest

from aiinfra_policies import access
from aiinfra_policies.constants import CLUSTER
from tests.conftest import policy_by_name, violations
from tests.policies.test_eks_policies import cluster

CASES: list[tuple[str, str, Any, Any]] = [
    # (policy, type token, compliant props factory, mutation)
    (
        "eks-access-entries-least-privilege",
        CLUSTER,
        cluster,
        lambda p: p["accessConfig"].update(authenticationMode="CONFIG_MAP"),
    ),
    (
        "eks-access-entries-least-privilege",
        CLUSTER,
        cluster,
        lambda p: p["accessConfig"].update(bootstrapClusterCreatorAdminPermissions=True),
    ),
]


@pytest.mark.parametrize(
    ("name", "token", "factory", "mutate"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_policy_both_ways(name: str, token: str, factory: Any, mutate: Any) -> None:
    policy = policy_by_name(access.POLICIES, name)
    assert violations(policy, token, factory()) == []
    props = factory()
    mutate(props)
    assert violations(policy, token, props), f"{name} missed the mutation"
