"""Prometheus recording rules: GPU-hours per namespace and per pool, and the pools' $/h.

The cost group runs every minute over kube-state-metrics' node labels (the allow-listed
``ai-infra.io/pool``, ``ai-infra.io/capacity-type`` and ``node.kubernetes.io/instance-type``) and
the DCGM exporter's GPU series; list prices come from the stack's instance catalogue. promtool
unit tests (``tests/data/promtool/recording.test.yaml``) check every rule on synthetic series.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from components.core.gpu_instances import GPU_INSTANCES
from components.specs.metrics import (
    NAMESPACE_GPU_HOURS,
    NAMESPACE_GPUS_REQUESTED,
    NODE_POOL_INFO,
    POOL_GPU_HOURS,
    POOL_GPU_MEMORY_USED,
    POOL_GPU_POWER,
    POOL_GPU_UTILIZATION,
    POOL_GPUS,
    POOL_USD_PER_HOUR,
)

# -- recording rules --------------------------------------------------------------------------


RECORDING_INTERVAL = "1m"
SAMPLES_PER_HOUR = 60
"""The cost group runs every minute, so a recorded GPU count summed over an hour's samples and
divided by 60 is GPU-hours (dashboards use the same ``/ 60`` over their time range)."""


def _last_hour(gpus_series: str) -> str:
    """GPU-hours of the trailing hour from a recorded GPU count.

    ``sum_over_time / 60`` counts a series absent for part of the hour (a pool scaled up from
    zero, a namespace that just started a pod) as 0 for that part; ``avg_over_time`` would
    average only the minutes it existed and overstate it. The window is just under an hour so it
    holds exactly 60 one-minute samples under both Prometheus 2 (closed) and 3 (left-open) ranges.
    """
    return f"sum_over_time({gpus_series}[59m30s]) / {SAMPLES_PER_HOUR}"


def _price(value: float) -> str:
    return repr(round(value, 6))


def _instance_type_regex(types: Iterable[str]) -> str:
    """A raw-string (backtick) PromQL regex matching exactly ``types``."""
    return "`" + "|".join(re.escape(t) for t in sorted(types)) + "`"


def _per_gpu_in_pool(metric_expr: str) -> str:
    """Per-GPU series of ``metric_expr`` with the GPU's node pool as label ``pool``.

    dcgm-exporter's ``Hostname`` is the node name (NODE_NAME from spec.nodeName), which joins the
    node's recorded pool; GPUs on nodes without an ``ai-infra.io/pool`` label drop out.
    """
    return (
        f'label_replace(max by (Hostname, UUID) ({metric_expr}), "node", "$1", "Hostname", "(.+)") '
        f"* on(node) group_left(pool) {NODE_POOL_INFO}"
    )


def _pool_gpus_expr() -> str:
    """Physical GPUs per pool: node counts by instance type times the catalogue's GPUs per type.

    From the catalogue rather than ``kube_node_status_capacity``: time-slicing advertises
    ``replicas`` GPUs per GPU and MIG advertises slices, but AWS bills the physical GPUs.
    """
    by_count: dict[int, list[str]] = {}
    for name, instance in GPU_INSTANCES.items():
        by_count.setdefault(instance.gpus, []).append(name)
    terms = [
        f"{NODE_POOL_INFO}{{instance_type=~{_instance_type_regex(types)}}} * {count}"
        for count, types in sorted(by_count.items())
    ]
    # ``or`` (not ``+``): the terms hold different nodes, and ``+`` would keep only common labels.
    return f"sum by (pool) ({' or '.join(terms)})"


def _pool_usd_expr(prices: Mapping[str, float], spot_factor: float | Mapping[str, float]) -> str:
    terms = []
    for instance_type, price in sorted(prices.items()):
        factor = spot_factor if isinstance(spot_factor, float | int) else spot_factor.get(instance_type, 1.0)
        selector = f'{NODE_POOL_INFO}{{instance_type="{instance_type}",capacity_type'
        terms.append(f'{selector}="spot"}} * {_price(price * factor)}')
        # Nodes without a capacity-type label (existing clusters) are priced on-demand.
        terms.append(f'{selector}!="spot"}} * {_price(price)}')
    return f"sum by (pool) ({' or '.join(terms)})"


def recording_rule_groups(
    *, prices: Mapping[str, float], spot_factor: float | Mapping[str, float]
) -> list[dict[str, Any]]:
    """PrometheusRule ``spec.groups`` with the GPU-hours and cost recording rules.

    ``prices`` maps instance type -> on-demand USD per hour; nodes labelled
    ``ai-infra.io/capacity-type=spot`` cost ``price * spot_factor`` (one factor, or one per
    instance type: the cost report's per-family spot estimates). Nodes of unpriced types are
    left out of ``pool:usd_per_hour:sum`` (it under-reports, never invents a price); with no
    prices at all the rule is omitted. ``*:gpu_hours:1h`` is the GPU-hours used in the trailing
    hour.

    One group, in dependency order: rules in a group run sequentially, so each one reads the
    values its predecessors recorded in the same evaluation.
    """
    factors = [spot_factor] if isinstance(spot_factor, float | int) else list(spot_factor.values())
    if not all(0 < f <= 1 for f in factors):
        raise ValueError("spot_factor must be in (0, 1]")
    if any(price < 0 for price in prices.values()):
        raise ValueError("prices must not be negative")
    node_pool_info = (
        "max by (node, pool, instance_type, capacity_type) ("
        'label_replace(label_replace(label_replace(kube_node_labels{label_ai_infra_io_pool!=""}, '
        '"pool", "$1", "label_ai_infra_io_pool", "(.+)"), '
        '"instance_type", "$1", "label_node_kubernetes_io_instance_type", "(.+)"), '
        '"capacity_type", "$1", "label_ai_infra_io_capacity_type", "(.+)"))'
    )
    # What namespaces hold: whole GPUs or time-slices (``nvidia.com/gpu.shared`` when renamed) of
    # running pods; pending and finished pods hold nothing.
    namespace_gpus = (
        "sum by (namespace) ("
        "max by (namespace, pod, uid, container) "
        '(kube_pod_container_resource_requests{resource=~"nvidia_com_gpu|nvidia_com_gpu_shared"}) '
        "* on(namespace, pod, uid) group_left() "
        'max by (namespace, pod, uid) (kube_pod_status_phase{phase="Running"} == 1))'
    )
    rules: list[dict[str, Any]] = [
        {"record": NODE_POOL_INFO, "expr": node_pool_info},
        {"record": NAMESPACE_GPUS_REQUESTED, "expr": namespace_gpus},
        {"record": NAMESPACE_GPU_HOURS, "expr": _last_hour(NAMESPACE_GPUS_REQUESTED)},
        {"record": POOL_GPUS, "expr": _pool_gpus_expr()},
        {"record": POOL_GPU_HOURS, "expr": _last_hour(POOL_GPUS)},
        {
            "record": POOL_GPU_UTILIZATION,
            "expr": f"avg by (pool) ({_per_gpu_in_pool('DCGM_FI_DEV_GPU_UTIL')})",
        },
        {
            "record": POOL_GPU_MEMORY_USED,
            "expr": (
                f"sum by (pool) ({_per_gpu_in_pool('DCGM_FI_DEV_FB_USED')}) / sum by (pool) "
                f"({_per_gpu_in_pool('DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE')})"
            ),
        },
        {"record": POOL_GPU_POWER, "expr": f"sum by (pool) ({_per_gpu_in_pool('DCGM_FI_DEV_POWER_USAGE')})"},
    ]
    if prices:
        rules.append({"record": POOL_USD_PER_HOUR, "expr": _pool_usd_expr(prices, spot_factor)})
    return [{"name": "ai-infra-gpu-cost", "interval": RECORDING_INTERVAL, "rules": rules}]
