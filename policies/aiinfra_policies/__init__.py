"""Policy domains of the ai-infra pack; ``ALL_POLICIES`` is what the pack serves."""

from typing import Any

from aiinfra_policies import eks, network, platform, pod_security, storage, workloads

ALL_POLICIES: list[Any] = [
    *pod_security.POLICIES,
    *workloads.POLICIES,
    *eks.POLICIES,
    *network.POLICIES,
    *storage.POLICIES,
    *platform.POLICIES,
]
