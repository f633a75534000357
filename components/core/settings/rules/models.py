"""Rules of each model fleet against the namespaces, pools, storage and monitoring it names."""

from __future__ import annotations

import re

from components.core.settings.base import Problem
from components.core.settings.models import ModelSpec
from components.core.settings.root import StackSections

HF_COMMIT = re.compile(r"[0-9a-f]{40}")
"""A Hugging Face Hub commit: the only revision that cannot change upstream."""


def model_problems(s: StackSections) -> list[Problem]:
    problems: list[Problem] = []
    for name, spec in s.models.items():
        problems += [(f"models.{name}.{p}", m) for p, m in _model_problems(s, spec)]
    return problems


def _model_problems(s: StackSections, spec: ModelSpec) -> list[Problem]:
    """Cross-field rules of one model spec against the namespaces, pools and storage it names."""
    problems: list[Problem] = []
    if spec.namespace not in s.namespaces:
        problems.append(("namespace", f"must be one of namespaces: {sorted(s.namespaces)}"))
    elif spec.cache == "shared" and not s.namespaces[spec.namespace].model_cache:
        problems.append(("cache", f"shared needs namespaces.{spec.namespace}.modelCache: true"))
    pool = s.node_pools.get(spec.pool)
    if pool is None:
        problems.append(("pool", f"must name a node pool: {sorted(s.node_pools)}"))
    elif pool.instances:
        per_node = pool.gpus_per_node
        if spec.gpus_per_replica > per_node:
            problems.append(
                (
                    "gpusPerReplica",
                    f"{spec.gpus_per_replica} must fit one node of pool {spec.pool} ({per_node} GPU(s) per node; "
                    "tensor parallelism cannot span nodes)",
                )
            )
        elif spec.gpus_per_replica and per_node % spec.gpus_per_replica:
            problems.append(
                ("gpusPerReplica", f"{spec.gpus_per_replica} must divide the pool's {per_node} GPU(s) per node")
            )
    if spec.replicas.max > 1 and spec.cache == "shared" and s.storage.shared.backend == "none":
        problems.append(
            (
                "cache",
                "replicas > 1 with a shared cache needs a ReadWriteMany class (storage.shared.backend efs or nfs)",
            )
        )
    if (
        spec.autoscaled
        and spec.engine_record.autoscaler == "keda"
        and not (s.monitoring.enabled or s.monitoring.prometheus_url)
    ):
        problems.append(
            (
                "replicas.max",
                "autoscaling on queue depth reads Prometheus, and this stack has none: set monitoring.enabled: "
                "true, or monitoring.prometheusUrl to an existing Prometheus (or replicas.max to replicas.min)",
            )
        )
    if s.is_prod and "revision" in spec.engine_record.options and not HF_COMMIT.fullmatch(spec.revision or ""):
        # A branch or tag (``main``) can move upstream between two scale-ups: replicas of one
        # fleet would serve different weights, and nobody reviewed the change.
        problems.append(
            (
                "revision",
                "must be the model repository's 40-hex commit SHA in prod (the Hub's 'Files and versions' "
                "history), not a branch or tag",
            )
        )
    if spec.cache == "local-nvme" and not s.storage.nvme.enabled:
        problems.append(("cache", "local-nvme needs storage.nvme.enabled: true"))
    if spec.cache == "local-nvme" and pool is not None and pool.nvme != "local-pv":
        problems.append(("cache", f"local-nvme needs pool {spec.pool} with nvme: local-pv"))
    return problems
