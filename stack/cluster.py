"""The cluster layer: pick the target the settings name (the one "EKS or existing?" branch)."""

from __future__ import annotations

from typing import Any

from components.core.settings import StackSettings
from stack.eks import EksTarget
from stack.existing import ExistingTarget
from stack.target import ClusterTarget


def cluster_target(s: StackSettings, cluster_name: str, tags: dict[str, str], cost: dict[str, Any]) -> ClusterTarget:
    """The cluster the settings name: created on EKS, reached by kubeconfig otherwise."""
    if s.on_aws and s.cluster.eks is not None:
        return EksTarget.create(s, s.cluster.eks, cluster_name, tags, cost)
    assert s.cluster.existing is not None  # settings guarantee one of the two
    return ExistingTarget.create(s.cluster.existing)
