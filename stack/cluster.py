"""The cluster layer: pick the target the settings name (the one "EKS or existing?" branch), and
price what the stack owns (an EKS stack's AWS resources; nothing on an existing cluster)."""

from __future__ import annotations

from typing import Any

from components.core.settings import EksSettings, StackSettings
from components.specs.cost import UNPRICED, UNPRICED_REGION, instance_prices, stack_cost
from stack.eks import EksTarget
from stack.existing import ExistingTarget
from stack.target import ClusterTarget


def _eks(s: StackSettings) -> EksSettings | None:
    return s.cluster.eks if s.on_aws else None


def cluster_cost(s: StackSettings) -> dict[str, Any]:
    """The cost report: an EKS stack's priced resources; an existing cluster's machines are not priced."""
    eks = _eks(s)
    return stack_cost(s, eks) if eks is not None else dict(UNPRICED)


def node_prices(s: StackSettings) -> dict[str, float]:
    """On-demand USD/h of every instance type the stack's nodes run, in its region (recording rules)."""
    eks = _eks(s)
    if eks is None:
        return instance_prices(s, UNPRICED_REGION)
    return instance_prices(s, eks.region, eks.system_pool.instance_types)


def cluster_target(s: StackSettings, cluster_name: str, tags: dict[str, str], cost: dict[str, Any]) -> ClusterTarget:
    """The cluster the settings name: created on EKS, reached by kubeconfig otherwise."""
    eks = _eks(s)
    if eks is not None:
        return EksTarget.create(s, eks, cluster_name, tags, cost)
    assert s.cluster.existing is not None  # settings guarantee one of the two
    return ExistingTarget.create(s.cluster.existing)
