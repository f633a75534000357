"""Section F policies (secrets) both ways."""

from __future__ import annotations

from typing import Any

import pytest

from aiinfra_policies import secrets
from aiinfra_policies.constants import CLUSTER
from tests.conftest import policy_by_name, violations
from tests.policies.test_eks_policies import cluster

CASES: list[tuple[str, str, Any, Any]] = [
    # (policy, type token, compliant props factory, mutation)
    ("eks-secrets-envelope-encryption-cmk", CLUSTER, cluster, lambda p: p.pop("encryptionConfig")),
]


@pytest.mark.parametrize(
    ("name", "token", "factory", "mutate"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_policy_both_ways(name: str, token: str, factory: Any, mutate: Any) -> None:
    policy = policy_by_name(secrets.POLICIES, name)
    assert violations(policy, token, factory()) == []
    props = factory()
    mutate(props)
    assert violations(policy, token, props), f"{name} missed the mutation"
