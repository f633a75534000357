"""Policy domains of the ai-infra pack, one module per section of ``policies/RULES.md``.

``ALL_POLICIES`` is what ``policies/__main__.py`` serves, in rule-table section order.
"""

from aiinfra_policies import (
    access,
    batch,
    contracts,
    ecr,
    eks,
    gateway,
    hardening,
    images,
    monitoring,
    network,
    platform,
    pod_context,
    pod_security,
    secrets,
    storage,
    tailscale,
    workloads,
)
from aiinfra_policies.common import RulePolicy

DOMAINS = (
    pod_security,
    pod_context,
    images,
    workloads,
    network,
    access,
    secrets,
    storage,
    eks,
    ecr,
    tailscale,
    monitoring,
    platform,
    contracts,
    hardening,
    batch,
    gateway,
)
"""The domain modules in section order: A (pod_security, pod_context), B, C, D, E, F, G, H, I,
J (tailscale), K (monitoring, platform), L (contracts, hardening), M (batch), N (gateway)."""

ALL_POLICIES: list[RulePolicy] = [p for module in DOMAINS for p in module.POLICIES]
