"""Policy domains of the ai-infra pack, one module per section of ``policies/RULES.md``.

``ALL_POLICIES`` is what ``policies/__main__.py`` serves, in rule-table section order. There is
no ``images`` (B), RBAC (rest of E) or ECR/Tailscale (I, J) module yet: a module appears with
its first rule.
"""

from aiinfra_policies import (
    access,
    contracts,
    eks,
    monitoring,
    network,
    platform,
    pod_security,
    secrets,
    storage,
    workloads,
)
from aiinfra_policies.common import RulePolicy

DOMAINS = (pod_security, workloads, network, access, secrets, storage, eks, monitoring, platform, contracts)
"""The domain modules in section order: A, C, D, E, F, G, H, K (monitoring), K (platform), L."""

ALL_POLICIES: list[RulePolicy] = [p for module in DOMAINS for p in module.POLICIES]
