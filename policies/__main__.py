"""The ai-infra policy pack: serves ``ALL_POLICIES`` (rules listed in ``policies/RULES.md``) and nothing else.

Constructing ``PolicyPack`` starts the Analyzer gRPC server, prints its port and blocks, which
is exactly what the Pulumi engine expects from ``python -u __main__.py``. Never import this
module in tests; import ``aiinfra_policies`` or ``aiinfra_policies.<domain>`` instead.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from aiinfra_policies import ALL_POLICIES
from aiinfra_policies.sdk_speed import convert_properties_once

convert_properties_once()  # each resource's properties converted once per call, not per policy
PolicyPack(
    name="ai-infra",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[*ALL_POLICIES],  # a fresh list[Policy]: the SDK's parameter type is invariant
    description="Security, cost and reliability standards for the ai-infra GPU platform.",
)
