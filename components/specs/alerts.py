"""Prometheus alerting and recording rules for the GPU/LLM platform, as plain dicts.

What: the ``spec.groups`` content of the platform's PrometheusRules: alerts on GPU health (XID,
temperature, power, memory), GPU waste (idle on a billed node), model serving (queueing, KV
cache, time-to-first-token SLO, runners not ready) and the cluster around them (crash loops,
node readiness, full volumes, autoscaler failures); recording rules for GPU-hours per namespace
and per pool and the pools' list-price $/h. ``SCRAPED_METRICS`` names every series any rule or
dashboard may read, and which exporter provides it; ``metrics_in`` lets tests hold every
expression to that list.

Why: a metric renamed upstream (vLLM's ``gpu_cache_usage_perc`` became ``kv_cache_usage_perc``)
makes an alert silently never fire. Names here are the ones confirmed at the pinned versions
(docs/research/monitoring.md; kube-state-metrics v2.20.0, dcgm-exporter 4.5.3-4.8.2's chart
counter list, vLLM 0.11.0, cluster-autoscaler 1.34.2, KEDA 2.17.2, node_exporter 1.12.1; OpenCost
read at v1.112.0), and promtool unit tests (``tests/data/promtool``) prove each alert fires and
stays quiet on synthetic series.

Label conventions the expressions rely on:
- dcgm-exporter: ``gpu``, ``UUID``, ``modelName``, ``Hostname`` (the chart sets ``NODE_NAME`` from
  ``spec.nodeName``, so ``Hostname`` is the Kubernetes node name and joins ``kube_node_labels``'s
  ``node``); ``pod``/``namespace``/``container`` only on GPUs allocated to a pod, and only kept
  when the ServiceMonitor honours labels. GPU-level expressions therefore aggregate
  ``max by (Hostname, UUID, gpu, modelName)`` so label churn as pods come and go (and one series
  per pod on time-sliced GPUs) never splits or duplicates a GPU.
- kube-state-metrics: node labels as ``label_<sanitized key>`` on ``kube_node_labels`` for the
  allow-listed keys ``ai-infra.io/pool``, ``ai-infra.io/capacity-type`` and
  ``node.kubernetes.io/instance-type``.
- vLLM: ``model_name`` (served model name) plus the ServiceMonitor's ``namespace``/``pod``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from components.core.engines import ENGINES
from components.core.gpu_instances import GPU_INSTANCES

# -- the metric catalogue ---------------------------------------------------------------------

VLLM = "vllm 0.11.0"
DCGM = "dcgm-exporter 4.8.2 (chart default counters)"
KSM = "kube-state-metrics 2.20.0"
KUBELET = "kubelet"
NODE_EXPORTER = "node-exporter 1.12.1"
CLUSTER_AUTOSCALER = "cluster-autoscaler 1.34"
KEDA = "keda 2.17"
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


# -- alerting rules ---------------------------------------------------------------------------

GPU_LABELS = "Hostname, UUID, gpu, modelName"
"""One series per physical GPU (see the module docstring on label churn)."""

FATAL_XIDS: tuple[int, ...] = (48, 61, 62, 64, 74, 79, 92, 95, 119, 120, 140)
"""XIDs that mean the GPU needs a reset or the node replacing (NVIDIA's XID catalogue: double-bit
ECC 48, uncontained ECC 95, unrecovered ECC 140, row-remap failure 64, micro-controller halts 61/62,
NVLink 74, fallen off the bus 79, high single-bit ECC rate 92, GSP errors 119/120). Other XIDs
(13, 31, 43, 45...) are usually the application's fault and clear with a pod restart."""

GPU_BOARD_POWER_WATTS: dict[str, tuple[str, int]] = {
    "T4": (".*T4", 70),
    "A10G": (".*A10G", 300),
    "L4": (".*L4", 72),
    "L40S": (".*L40S", 350),
    "A100": (".*A100.*40GB", 400),
    "A100-80GB": (".*A100.*80GB", 400),
    "H100": (".*H100.*", 700),
    "H200": (".*H200.*", 700),
}
"""Catalogue GPU model -> (regex on DCGM ``modelName``, rated board power in W). The enforced limit
(DCGM_FI_DEV_POWER_MGMT_LIMIT) is not in the chart's default counters, and one absolute threshold
cannot serve a 70 W T4 and a 700 W H100, so power is judged against the model's rating.
``modelName`` is NVML's name ("Tesla T4", "NVIDIA A10G", "NVIDIA L4", "NVIDIA A100-SXM4-80GB");
the regexes are anchored by PromQL and tolerate ``--replace-blanks-in-model-name``."""

GPU_TEMPERATURE_CELSIUS = 85
"""Below the slowdown temperatures of the catalogue's data-centre GPUs: a warning, not a throttle."""
GPU_POWER_RATIO = 0.97
GPU_MEMORY_RATIO = 0.95
KV_CACHE_RATIO = 0.9
PVC_USED_RATIO = 0.9


def model_runner_name_regex() -> str:
    """Workload names of model runners: ``<engine>-<fleet>`` (``k8s_name(engine, fleet)``).

    kube-state-metrics' deployment and statefulset series carry no pod labels (only allow-listed
    object labels, and none are allow-listed for workloads), so the workload's name is what selects
    model runners; a new engine in ``ENGINES`` is covered without touching the rule.
    """
    return "(" + "|".join(sorted(ENGINES)) + ")-.+"


def _duration(minutes: float) -> str:
    """A Prometheus duration (integers only: 1.5 h is ``90m``)."""
    whole = round(minutes)
    if whole < 1:
        raise ValueError("durations must be at least one minute")
    return f"{whole // 60}h" if whole % 60 == 0 else f"{whole}m"


def _gpu(expr: str) -> str:
    return f"max by ({GPU_LABELS}) ({expr})"


def _alert(name: str, expr: str, *, for_: str, severity: str, summary: str, runbook: str, env: str) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, "env": env},
        "annotations": {"summary": summary, "runbook": runbook},
    }


def _gpu_alerts(*, gpu_idle_hours: float, env: str) -> list[dict[str, Any]]:
    fatal = "|".join(str(x) for x in FATAL_XIDS)
    xid_labels = f"{GPU_LABELS}, err_code, err_msg"
    power = " or ".join(
        _gpu('DCGM_FI_DEV_POWER_USAGE{modelName=~"' + regex + '"}') + f" / {watts}"
        for regex, watts in GPU_BOARD_POWER_WATTS.values()
    )
    used, free = _gpu("DCGM_FI_DEV_FB_USED"), _gpu("DCGM_FI_DEV_FB_FREE")
    idle_for = _duration(gpu_idle_hours * 60)
    where = "GPU {{ $labels.gpu }} ({{ $labels.modelName }}) on {{ $labels.Hostname }}"
    return [
        _alert(
            "GpuXidErrorFatal",
            # The gauge holds the last XID until the driver or exporter restarts, so this keeps
            # firing until the GPU is reset or the node replaced: exactly when action is needed.
            f'max by ({xid_labels}) (DCGM_FI_DEV_XID_ERRORS{{err_code=~"{fatal}"}}) > 0',
            for_="1m",
            severity="critical",
            summary=f"{where} reported XID {{{{ $labels.err_code }}}} ({{{{ $labels.err_msg }}}})",
            runbook=(
                "Hardware-class XID: cordon and drain the node (kubectl drain), then terminate the "
                "instance so the autoscaler replaces it; a GPU reset alone rarely clears it on EKS."
            ),
            env=env,
        ),
        _alert(
            "GpuXidError",
            # The gauge is sticky (dcgm-exporter#190), so alert on a code that was not there 15m
            # ago: fires once per new XID instead of forever after a routine XID 43/45.
            f'max by ({xid_labels}) (DCGM_FI_DEV_XID_ERRORS{{err_code!~"0|{fatal}"}}) '
            f"unless max by ({xid_labels}) (DCGM_FI_DEV_XID_ERRORS offset 15m)",
            for_="1m",
            severity="warning",
            summary=f"{where} reported XID {{{{ $labels.err_code }}}} ({{{{ $labels.err_msg }}}})",
            runbook=(
                "Usually an application fault (bad kernel, OOM, killed process): check the logs of the "
                "pod on that GPU and restart it; if the same node keeps reporting XIDs, drain it."
            ),
            env=env,
        ),
        _alert(
            "GpuTemperatureHigh",
            f"{_gpu('DCGM_FI_DEV_GPU_TEMP')} > {GPU_TEMPERATURE_CELSIUS}",
            for_="10m",
            severity="warning",
            summary=f"{where} is at {{{{ $value }}}} °C",
            runbook=(
                "Sustained heat precedes thermal throttling: compare with the other GPUs of the node "
                "(one hot GPU is a hardware fault: drain the node), otherwise report it to AWS support."
            ),
            env=env,
        ),
        _alert(
            "GpuPowerHigh",
            f"({power}) > {GPU_POWER_RATIO}",
            for_="30m",
            severity="warning",
            summary=f"{where} draws {{{{ $value | humanizePercentage }}}} of its rated board power",
            runbook=(
                "The GPU is power-capped, so clocks and throughput drop: spread the load (more "
                "replicas, KEDA max), or move the fleet to a larger GPU type."
            ),
            env=env,
        ),
        _alert(
            "GpuMemoryNearFull",
            f"{used} / ({used} + {free}) > {GPU_MEMORY_RATIO}",
            for_="15m",
            severity="warning",
            summary=f"{where} has {{{{ $value | humanizePercentage }}}} of its memory in use",
            runbook=(
                "Next allocation may fail with CUDA OOM. vLLM pre-allocates gpuMemoryUtilization of "
                "the memory, so keep it at 0.93 or less; otherwise lower maxModelLen or give the "
                "model more GPUs (gpusPerReplica)."
            ),
            env=env,
        ),
        _alert(
            "GpuIdle",
            # ``for`` rather than a range over hours: a node that booted 10 minutes ago cannot
            # fire, and Prometheus restores the pending state across restarts.
            f"{_gpu('DCGM_FI_DEV_GPU_UTIL')} == 0",
            for_=idle_for,
            severity="warning",
            summary=f"{where} has been idle for {idle_for} on a running (billed) node",
            runbook=(
                "Paying for an unused GPU: if a fleet holds it, lower its replicas.min or let KEDA "
                "scale it down; if nothing holds it, find what keeps the node (pool minSize, a "
                "PodDisruptionBudget, a scale-down-disabled annotation) in cluster-autoscaler's logs."
            ),
            env=env,
        ),
    ]


def _serving_alerts(*, ttft_p95_seconds: float, env: str) -> list[dict[str, Any]]:
    # Paging is for production; a dev SLO breach is a note for the morning.
    slo_severity = "critical" if env == "prod" else "warning"
    model = "{{ $labels.namespace }}/{{ $labels.model_name }}"
    names = model_runner_name_regex()
    deployment_gap = (
        f'max by (namespace, deployment) (kube_deployment_spec_replicas{{deployment=~"{names}"}}) '
        f'- max by (namespace, deployment) (kube_deployment_status_replicas_available{{deployment=~"{names}"}})'
    )
    statefulset_gap = (
        f'max by (namespace, statefulset) (kube_statefulset_replicas{{statefulset=~"{names}"}}) '
        f'- max by (namespace, statefulset) (kube_statefulset_status_replicas_available{{statefulset=~"{names}"}})'
    )
    return [
        _alert(
            "VllmRequestsWaiting",
            # ``for`` needs the queue non-empty at every evaluation: sustained, not a burst.
            "sum by (namespace, model_name) (vllm:num_requests_waiting) > 0",
            for_="15m",
            severity="warning",
            summary=f"{{{{ $value }}}} requests have been queueing for {model} for 15 minutes",
            runbook=(
                "The fleet is saturated: check that KEDA scaled it (ScaledObject status, replicas.max) "
                "and that new replicas found GPU nodes (PodsUnschedulable, pool maxSize and gpuCap)."
            ),
            env=env,
        ),
        _alert(
            "VllmKvCacheHigh",
            f"max by (namespace, model_name, pod) (vllm:kv_cache_usage_perc) > {KV_CACHE_RATIO}",
            for_="15m",
            severity="warning",
            summary=f"KV cache of {{{{ $labels.pod }}}} ({model}) is {{{{ $value | humanizePercentage }}}} full",
            runbook=(
                "A full KV cache preempts running requests (vllm:num_preemptions_total rises): add "
                "replicas, raise gpuMemoryUtilization if GPU memory allows, or lower maxModelLen."
            ),
            env=env,
        ),
        _alert(
            "VllmTimeToFirstTokenSlo",
            "histogram_quantile(0.95, sum by (namespace, model_name, le) "
            f"(rate(vllm:time_to_first_token_seconds_bucket[5m]))) > {ttft_p95_seconds:g}",
            for_="10m",
            severity=slo_severity,
            summary=(
                f"p95 time to first token of {model} is {{{{ $value | humanizeDuration }}}} (SLO {ttft_p95_seconds:g}s)"
            ),
            runbook=(
                "Prefill is queueing or slow: check VllmRequestsWaiting and KV cache usage, scale the "
                "fleet out, and look for long prompts (vllm:request_prompt_tokens) or chunked prefill off."
            ),
            env=env,
        ),
        _alert(
            "ModelRunnerNotReady",
            # Unready replicas of a model runner: Deployments, or StatefulSets on local NVMe.
            # ``for`` covers a scale-up from zero: node boot plus the default 10-minute startup budget.
            f"({deployment_gap}) > 0 or ({statefulset_gap}) > 0",
            for_="30m",
            severity=slo_severity,
            summary=(
                "{{ $value }} replicas of model runner {{ $labels.namespace }}/"
                "{{ $labels.deployment }}{{ $labels.statefulset }} have not been available for 30 minutes"
            ),
            runbook=(
                "kubectl describe the pods: Pending means no GPU node (see PodsUnschedulable), a "
                "failing startup probe means weights still loading or a bad model/revision (init "
                "container logs), CrashLoopBackOff means the server exits (its logs)."
            ),
            env=env,
        ),
    ]


def _cluster_alerts(*, env: str) -> list[dict[str, Any]]:
    return [
        _alert(
            "PodCrashLooping",
            # ``max_over_time``: the waiting reason disappears while the container briefly runs.
            "max by (namespace, pod, container) (max_over_time("
            'kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m])) >= 1',
            for_="15m",
            severity="warning",
            summary="Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} is crash-looping",
            runbook="kubectl logs --previous for the exit reason; OOMKilled means raise the memory request.",
            env=env,
        ),
        _alert(
            "NodeNotReady",
            'max by (node) (kube_node_status_condition{condition="Ready",status="true"}) == 0',
            for_="15m",
            severity="warning",
            summary="Node {{ $labels.node }} has not been Ready for 15 minutes",
            runbook=(
                "kubectl describe node for the failing condition (kubelet, network, disk pressure); "
                "on a GPU node also check the NVIDIA device plugin. Terminate the instance if it does "
                "not recover: its node group replaces it."
            ),
            env=env,
        ),
        _alert(
            "PersistentVolumeAlmostFull",
            "max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes) "
            "/ max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_capacity_bytes) "
            f"> {PVC_USED_RATIO}",
            for_="15m",
            severity="warning",
            summary=(
                "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is "
                "{{ $value | humanizePercentage }} full"
            ),
            runbook=(
                "gp3 classes expand: raise the claim's storage request (modelCacheSize for model "
                "caches), or delete stale model revisions from the cache."
            ),
            env=env,
        ),
        _alert(
            "ClusterAutoscalerScaleUpFailed",
            # The counter is initialised to 0 for every reason, so increase() sees the first failure.
            "sum by (reason) (increase(cluster_autoscaler_failed_scale_ups_total[30m])) > 0",
            for_="1m",
            severity="warning",
            summary="cluster-autoscaler failed to scale up ({{ $labels.reason }}) in the last 30 minutes",
            runbook=(
                "cluster-autoscaler logs and the node group's Auto Scaling activity: spot GPU capacity "
                "(InsufficientInstanceCapacity: add instance types or on-demand), quotas, or launch "
                "template errors."
            ),
            env=env,
        ),
        _alert(
            "PodsUnschedulable",
            'max(cluster_autoscaler_unschedulable_pods_count{type="unschedulable"}) > 0',
            for_="30m",
            severity="warning",
            summary="{{ $value }} pods have been unschedulable for 30 minutes",
            runbook=(
                "kubectl get events for FailedScheduling: a pool at maxSize or gpuCap, a namespace "
                "GPU quota, or a request no pool's instance type can satisfy."
            ),
            env=env,
        ),
    ]


def alert_rule_groups(*, ttft_p95_seconds: float, gpu_idle_hours: float, env: str) -> list[dict[str, Any]]:
    """PrometheusRule ``spec.groups``: GPU, model-serving and cluster alerts.

    ``ttft_p95_seconds`` is the time-to-first-token SLO, ``gpu_idle_hours`` how long a GPU may sit
    idle before it is reported, ``env`` is put on every alert and makes the serving alerts
    critical in ``prod`` (warnings elsewhere).
    """
    if ttft_p95_seconds <= 0:
        raise ValueError("ttft_p95_seconds must be positive")
    if gpu_idle_hours <= 0:
        raise ValueError("gpu_idle_hours must be positive")
    if not env:
        raise ValueError("env must not be empty")
    return [
        {"name": "ai-infra-gpu", "rules": _gpu_alerts(gpu_idle_hours=gpu_idle_hours, env=env)},
        {"name": "ai-infra-model-serving", "rules": _serving_alerts(ttft_p95_seconds=ttft_p95_seconds, env=env)},
        {"name": "ai-infra-cluster", "rules": _cluster_alerts(env=env)},
    ]


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


def _pool_usd_expr(prices: Mapping[str, float], spot_factor: float) -> str:
    terms = []
    for instance_type, price in sorted(prices.items()):
        selector = f'{NODE_POOL_INFO}{{instance_type="{instance_type}",capacity_type'
        terms.append(f'{selector}="spot"}} * {_price(price * spot_factor)}')
        # Nodes without a capacity-type label (existing clusters) are priced on-demand.
        terms.append(f'{selector}!="spot"}} * {_price(price)}')
    return f"sum by (pool) ({' or '.join(terms)})"


def recording_rule_groups(*, prices: Mapping[str, float], spot_factor: float) -> list[dict[str, Any]]:
    """PrometheusRule ``spec.groups`` with the GPU-hours and cost recording rules.

    ``prices`` maps instance type -> on-demand USD per hour; nodes labelled
    ``ai-infra.io/capacity-type=spot`` cost ``price * spot_factor``. Nodes of unpriced types are
    left out of ``pool:usd_per_hour:sum`` (it under-reports, never invents a price); with no
    prices at all the rule is omitted. ``*:gpu_hours:1h`` is the GPU-hours used in the trailing
    hour.

    One group, in dependency order: rules in a group run sequentially, so each one reads the
    values its predecessors recorded in the same evaluation.
    """
    if not 0 < spot_factor <= 1:
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
