"""The cost section: the stack's hourly budget at max scale (list prices).

The cost report is ``components/specs/cost.py``'s; the budget is enforced by the prod policy pack
and, for cold starts, by ``components/core/cold_start.py``.
"""

from __future__ import annotations

from pydantic import Field

from components.core.settings.base import Settings


class CostSettings(Settings):
    budget_usd_per_hour: float | None = Field(None, gt=0)
    """The most this stack may cost per hour at max scale (list prices); the prod policy pack
    refuses a plan over it."""
