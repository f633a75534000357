"""The stack's settings: the root model with its cross-section rules.

``StackSections`` (``root.py``) holds every section and the facts derived from them; this class
adds one validator that runs every rule in ``rules.RULES`` and raises all their problems at
once, and ``warnings``, every ``rules.WARNINGS`` entry's. Section models live one per module
(``cluster``, ``pools``, ``storage``, ``models``, ``monitoring``, ``addons``, ``cost``,
``registry``, ``batch``, ``tailscale``, ``gateway``); their own rules are validators on them.
"""

from __future__ import annotations

from pydantic import model_validator

from components.core.settings.base import Problem, check
from components.core.settings.root import StackSections
from components.core.settings.rules import RULES, WARNINGS


class StackSettings(StackSections):
    """A whole stack, validated across sections (what the loader returns)."""

    @property
    def warnings(self) -> list[Problem]:
        """Valid but almost certainly not what was meant; the program logs them, the plan prints them."""
        return [warning for rule in WARNINGS for warning in rule(self)]

    @model_validator(mode="after")
    def _cross_section(self) -> StackSettings:
        check([problem for rule in RULES for problem in rule(self)])
        return self
