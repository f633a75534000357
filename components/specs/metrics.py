"""The metric catalogue: every series a rule or dashboard may read, and who exports it.

A metric renamed upstream (vLLM's ``gpu_cache_usage_perc`` became ``kv_cache_usage_perc``) makes an
alert silently never fire. ``SCRAPED_METRICS`` holds the names confirmed at the pinned versions
(docs/research/monitoring.md: kube-state-metrics v2.20.0, dcgm-exporter 4.5.3-4.8.2's chart counter
list, vLLM 0.11.0, SGLang 0.5.23 (docs/research/sglang.md),
cluster-autoscaler 1.34.2, KEDA 2.17.2, node_exporter 1.12.1; OpenCost read at
v1.112.0) plus our recording rules' names; ``metrics_in`` extracts the metric names of a PromQL
expression, so tests hold every alert, recording rule and dashboard query to the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# -- the metric catalogue ---------------------------------------------------------------------

VLLM = "vllm 0.11.0"
SGLANG = "sglang 0.5.23"
DCGM = "dcgm-exporter 4.8.2 (chart default counters)"
KSM = "kube-state-metrics 2.20.0"
KUBELET = "kubelet"
NODE_EXPORTER = "node-exporter 1.12.1"
CLUSTER_AUTOSCALER = "cluster-autoscaler 1.34"
KEDA = "keda 2.17"
KUEUE = "kueue 0.19.2"
OPENCOST = "opencost"
RECORDING_RULE = "ai-infra recording rule"

# Recording rule names (level:metric:operation). Dashboards read these instead of repeating the
# node-label joins; they are listed in SCRAPED_METRICS so one check covers rules and dashboards.
NODE_POOL_INFO = "node:pool_info:max"
NAMESPACE_GPUS_REQUESTED = "namespace:gpus_requested:sum"
NAMESPACE_GPU_HOURS = "namespace:gpu_hours:1h"
POOL_GPUS = "pool:gpus:sum"
POOL_GPU_HOURS = "pool:gpu_hours:1h"
POOL_USD_PER_HOUR = "pool:usd_per_hour:sum"
POOL_GPU_UTILIZATION = "pool:gpu_utilization:avg"
POOL_GPU_MEMORY_USED = "pool:gpu_memory_used:ratio"
POOL_GPU_POWER = "pool:gpu_power_watts:sum"
RECORDING_RULES: tuple[str, ...] = (
    NODE_POOL_INFO,
    NAMESPACE_GPUS_REQUESTED,
    NAMESPACE_GPU_HOURS,
    POOL_GPUS,
    POOL_GPU_HOURS,
    POOL_GPU_UTILIZATION,
    POOL_GPU_MEMORY_USED,
    POOL_GPU_POWER,
    POOL_USD_PER_HOUR,
)


def _histogram(name: str) -> list[str]:
    """The three series a Prometheus histogram is exposed as."""
    return [f"{name}_bucket", f"{name}_sum", f"{name}_count"]


def _catalogue(exporter: str, names: Iterable[str]) -> dict[str, str]:
    return dict.fromkeys(names, exporter)


SCRAPED_METRICS: dict[str, str] = {
    # vLLM V1 engine (vllm/v1/metrics/loggers.py @ v0.11.0); counters carry ``_total``.
    **_catalogue(
        VLLM,
        [
            "vllm:num_requests_running",
            "vllm:num_requests_waiting",
            "vllm:kv_cache_usage_perc",
            "vllm:prompt_tokens_total",
            "vllm:generation_tokens_total",
            "vllm:num_preemptions_total",
            "vllm:request_success_total",
            *_histogram("vllm:time_to_first_token_seconds"),
            *_histogram("vllm:e2e_request_latency_seconds"),
            *_histogram("vllm:request_queue_time_seconds"),
            *_histogram("vllm:request_inference_time_seconds"),
            *_histogram("vllm:request_prefill_time_seconds"),
            *_histogram("vllm:request_decode_time_seconds"),
            *_histogram("vllm:inter_token_latency_seconds"),
            *_histogram("vllm:request_prompt_tokens"),
            *_histogram("vllm:request_generation_tokens"),
        ],
    ),
    # SGLang (sglang/srt/observability/metrics_collector.py @ 0.5.23, with --enable-metrics).
    **_catalogue(
        SGLANG,
        [
            "sglang:num_running_reqs",
            "sglang:num_queue_reqs",
            "sglang:token_usage",
            "sglang:cache_hit_rate",
            "sglang:gen_throughput",
            "sglang:num_retracted_requests_total",
            "sglang:prompt_tokens_total",
            "sglang:generation_tokens_total",
            "sglang:num_requests_total",
            *_histogram("sglang:time_to_first_token_seconds"),
            *_histogram("sglang:inter_token_latency_seconds"),
            *_histogram("sglang:e2e_request_latency_seconds"),
            *_histogram("sglang:queue_time_seconds"),
        ],
    ),
    # The chart's ConfigMap counter list (what runs, not etc/default-counters.csv); DCGM field
    # names are exported as-is, counters without a ``_total`` suffix.
    **_catalogue(
        DCGM,
        [
            "DCGM_FI_DEV_SM_CLOCK",
            "DCGM_FI_DEV_MEM_CLOCK",
            "DCGM_FI_DEV_MEMORY_TEMP",
            "DCGM_FI_DEV_GPU_TEMP",
            "DCGM_FI_DEV_POWER_USAGE",
            "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
            "DCGM_FI_DEV_PCIE_REPLAY_COUNTER",
            "DCGM_FI_DEV_GPU_UTIL",
            "DCGM_FI_DEV_MEM_COPY_UTIL",
            "DCGM_FI_DEV_ENC_UTIL",
            "DCGM_FI_DEV_DEC_UTIL",
            "DCGM_FI_DEV_XID_ERRORS",
            "DCGM_FI_DEV_FB_FREE",
            "DCGM_FI_DEV_FB_USED",
            "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL",
            "DCGM_FI_DEV_VGPU_LICENSE_STATUS",
            "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS",
            "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS",
            "DCGM_FI_DEV_ROW_REMAP_FAILURE",
            "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
            "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
            "DCGM_FI_PROF_DRAM_ACTIVE",
            "DCGM_FI_PROF_PCIE_TX_BYTES",
            "DCGM_FI_PROF_PCIE_RX_BYTES",
        ],
    ),
    **_catalogue(
        KSM,
        [
            "kube_node_labels",
            "kube_node_info",
            "kube_node_status_condition",
            "kube_node_status_capacity",
            "kube_node_status_allocatable",
            "kube_node_spec_unschedulable",
            "kube_pod_info",
            "kube_pod_status_phase",
            "kube_pod_status_ready",
            "kube_pod_status_unschedulable",
            "kube_pod_container_status_waiting_reason",
            "kube_pod_container_status_restarts_total",
            "kube_pod_container_resource_requests",
            "kube_pod_container_resource_limits",
            "kube_deployment_spec_replicas",
            "kube_deployment_status_replicas",
            "kube_deployment_status_replicas_available",
            "kube_deployment_status_replicas_ready",
            "kube_deployment_status_replicas_unavailable",
            "kube_statefulset_replicas",
            "kube_statefulset_status_replicas",
            "kube_statefulset_status_replicas_available",
            "kube_statefulset_status_replicas_ready",
            "kube_persistentvolumeclaim_info",
            "kube_persistentvolumeclaim_resource_requests_storage_bytes",
        ],
    ),
    **_catalogue(KUBELET, ["kubelet_volume_stats_used_bytes", "kubelet_volume_stats_capacity_bytes"]),
    **_catalogue(
        NODE_EXPORTER,
        [
            "node_cpu_seconds_total",
            "node_load1",
            "node_memory_MemAvailable_bytes",
            "node_memory_MemTotal_bytes",
            "node_filesystem_avail_bytes",
            "node_filesystem_size_bytes",
            "node_network_receive_bytes_total",
            "node_network_transmit_bytes_total",
        ],
    ),
    **_catalogue(
        CLUSTER_AUTOSCALER,
        [
            "cluster_autoscaler_unschedulable_pods_count",
            "cluster_autoscaler_failed_scale_ups_total",
            "cluster_autoscaler_scaled_up_nodes_total",
            "cluster_autoscaler_scaled_up_gpu_nodes_total",
            "cluster_autoscaler_failed_gpu_scale_ups_total",
            "cluster_autoscaler_scaled_down_nodes_total",
            "cluster_autoscaler_scaled_down_gpu_nodes_total",
            "cluster_autoscaler_nodes_count",
            "cluster_autoscaler_unneeded_nodes_count",
            "cluster_autoscaler_cluster_safe_to_autoscale",
            "cluster_autoscaler_last_activity",
            "cluster_autoscaler_errors_total",
        ],
    ),
    **_catalogue(
        KEDA,
        [
            "keda_scaler_metrics_value",
            "keda_scaler_active",
            "keda_scaler_detail_errors_total",
            "keda_scaled_object_errors_total",
            "keda_scaled_object_paused",
        ],
    ),
    # Kueue (site/content/en/docs/reference/metrics.md, generated from pkg/metrics/metrics.go @ v0.19.2);
    # every series carries replica_role (leader | follower | standalone).
    **_catalogue(
        KUEUE,
        [
            "kueue_pending_workloads",
            *_histogram("kueue_admission_wait_time_seconds"),
            "kueue_admitted_active_workloads",
            "kueue_admitted_workloads_total",
            "kueue_evicted_workloads_total",
            "kueue_preempted_workloads_total",
            "kueue_cluster_queue_status",
        ],
    ),
    **_catalogue(
        OPENCOST,
        [
            "node_total_hourly_cost",
            "node_gpu_hourly_cost",
            "node_cpu_hourly_cost",
            "node_ram_hourly_cost",
            "node_gpu_count",
            "kubecost_node_is_spot",
            "container_gpu_allocation",
            "container_cpu_allocation",
            "container_memory_allocation_bytes",
            "pv_hourly_cost",
        ],
    ),
    **_catalogue(RECORDING_RULE, RECORDING_RULES),
}
"""Every series name a rule or dashboard may read -> the exporter that provides it."""

# -- metric names in PromQL -------------------------------------------------------------------

# Functions and aggregation operators of PromQL (Prometheus 3.x); identifiers followed by ``(``
# are calls anyway, this list also catches ``sum by (...) (...)`` once the label list is gone.
_FUNCTION_NAMES = """
abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes clamp
clamp_max clamp_min cos cosh count_over_time day_of_month day_of_week day_of_year days_in_month
deg delta deriv double_exponential_smoothing exp floor histogram_avg histogram_count
histogram_fraction histogram_quantile histogram_stddev histogram_stdvar histogram_sum
holt_winters hour idelta increase info irate label_join label_replace last_over_time ln log10
log2 mad_over_time max_over_time min_over_time minute month pi predict_linear present_over_time
quantile_over_time rad rate resets round scalar sgn sin sinh sort sort_by_label
sort_by_label_desc sort_desc sqrt stddev_over_time stdvar_over_time sum_over_time tan tanh time
timestamp vector year sum min max avg group stddev stdvar count count_values bottomk topk
quantile limitk limit_ratio
"""
_PROMQL_FUNCTIONS = frozenset(_FUNCTION_NAMES.split())
_KEYWORD_NAMES = "by without on ignoring group_left group_right bool offset and or unless atan2 start end inf nan"
_PROMQL_KEYWORDS = frozenset(_KEYWORD_NAMES.split())
_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
# Grafana template variables: ${datasource}, $__rate_interval, [[var]].
_TEMPLATE_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+|\[\[\w+\]\]")
_LABEL_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\[\]]*\]")
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE)
# Not preceded by a word character, dot, colon or ``$``: skips the tails of numbers (1e3, 5m).
_IDENTIFIER = re.compile(r"(?<![\w.:$])[A-Za-z_:][\w:]*")


def metrics_in(expr: str) -> set[str]:
    """Metric names read by the PromQL expression ``expr`` (good enough for our rules and panels).

    String literals, template variables, label matchers, range and subquery brackets and the
    label lists of ``by``/``without``/``on``/``ignoring``/``group_*`` are removed first; what is
    left that is neither a call, a function, nor a keyword is a metric name.
    """
    text = _STRING_LITERAL.sub(" ", expr)
    text = _TEMPLATE_VARIABLE.sub(" ", text)
    text = _LABEL_MATCHERS.sub(" ", text)
    text = _RANGES.sub(" ", text)
    text = _LABEL_LISTS.sub(" ", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name = match.group()
        rest = text[match.end() :].lstrip()
        if rest.startswith("("):
            continue
        if name.lower() in _PROMQL_KEYWORDS or name in _PROMQL_FUNCTIONS:
            continue
        names.add(name)
    return names
