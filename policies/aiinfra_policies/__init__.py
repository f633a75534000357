"""Policy domains of the ai-infra pack; ``ALL_POLICIES`` is what the pack serves."""

from typing import Any

from aiinfra_policies import pod_security

ALL_POLICIES: list[Any] = [*pod_security.POLICIES]
