"""The rules that span settings sections, one module per domain, registered in two lists.

Each rule is a function of the whole stack (``root.StackSections``) returning ``(key path,
message)`` problems; a section's own rules stay on its model. ``StackSettings`` runs every
``RULES`` entry and raises their problems together (all errors at once), and its ``warnings``
concatenates every ``WARNINGS`` entry. Both lists run in order, and the order is what the plan
prints: append a new rule where its messages should appear.

A new cross-section rule: a function in the module of its domain (or a new module here), added
to ``RULES`` (or ``WARNINGS``), with a test under ``tests/unit`` that fails without it.
"""

from __future__ import annotations

from collections.abc import Callable

from components.core.cold_start import budget_problems, budget_warnings
from components.core.settings.base import Problem
from components.core.settings.fast_paths import fast_path_problems, fast_path_warnings
from components.core.settings.root import StackSections
from components.core.settings.rules import (
    batch,
    capacity,
    charts,
    cluster,
    engines,
    fit,
    gateway,
    jobs,
    mesh,
    models,
    monitoring,
    pools,
    registry,
    storage,
)

Rule = Callable[[StackSections], list[Problem]]

RULES: tuple[Rule, ...] = (
    cluster.prod_cluster_problems,
    storage.efs_needs_eks_problems,
    pools.pool_problems,
    monitoring.monitoring_problems,
    registry.registry_problems,
    batch.batch_problems,
    jobs.job_problems,
    mesh.tailscale_problems,
    charts.chart_digest_problems,
    storage.storage_problems,
    capacity.capacity_problems,
    fit.fit_problems,
    engines.engine_problems,
    fast_path_problems,
    budget_problems,
    gateway.gateway_problems,
    models.model_problems,
)
"""Errors: the stack is refused (every problem of every rule at once)."""

WARNINGS: tuple[Rule, ...] = (
    cluster.documentation_range_warnings,
    capacity.capacity_warnings,
    mesh.tailscale_warnings,
    charts.placeholder_digest_warnings,
    fit.fit_warnings,
    budget_warnings,
    fast_path_warnings,
    gateway.gateway_warnings,
    storage.unfilled_cache_warnings,
    batch.empty_queue_warnings,
    monitoring.no_monitoring_warnings,
)
"""Valid but almost certainly not what was meant: the program logs them, the plan prints them."""
