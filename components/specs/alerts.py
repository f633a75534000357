"""Prometheus alerting rules for the GPU/LLM platform, as plain dicts.

What: the ``spec.groups`` content of the platform's alerts on GPU health (XID, temperature, power,
memory), GPU waste (idle on a billed node), model serving (queueing, KV cache, time-to-first-token
SLO, runners not ready), the cluster around them (crash loops, node readiness, full volumes,
autoscaler failures) and batch queues (Kueue workloads pending too long). Every metric they read
is in ``metrics.SCRAPED_METRICS`` (tests check with ``metrics.metrics_in``); the GPU rules are
``gpu_alerts.py``'s, one rule's shape ``alert_rule.py``'s, the recording rules ``recording_rules.py``'s.

Why: a metric renamed upstream (vLLM's ``gpu_cache_usage_perc`` became ``kv_cache_usage_perc``)
makes an alert silently never fire. Names here are the ones confirmed at the pinned versions
(docs/research/monitoring.md; kube-state-metrics v2.20.0, dcgm-exporter 4.5.3-4.8.2's chart
counter list, vLLM 0.11.0, cluster-autoscaler 1.34.2, KEDA 2.17.2, node_exporter 1.12.1; OpenCost
read at v1.112.0; Kueue 0.19.2: docs/research/kueue.md), and promtool unit tests
(``tests/data/promtool``) prove each alert fires and stays quiet on synthetic series.

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

from typing import Any, Literal

from components.core.engines import ENGINES, Engine
from components.specs.alert_rule import alert, duration
from components.specs.gpu_alerts import gpu_alerts

# -- alerting rules ---------------------------------------------------------------------------

KV_CACHE_RATIO = 0.9
PVC_USED_RATIO = 0.9


def model_runner_name_regex() -> str:
    """Workload names of model runners: ``<engine>-<fleet>`` (``k8s_name(engine, fleet)``).

    kube-state-metrics' deployment and statefulset series carry no pod labels (only allow-listed
    object labels, and none are allow-listed for workloads), so the workload's name is what selects
    model runners; a new engine in ``ENGINES`` is covered without touching the rule.
    """
    return "(" + "|".join(sorted(ENGINES)) + ")-.+"


def runbook_url(base: str, alert: str) -> str:
    """The alert's runbook: ``<base>#<alert name in lower case>`` (one anchor per alert)."""
    return f"{base}#{alert.lower()}"


def _engine_alerts(engine: Engine, *, ttft_p95_seconds: float, env: str, slo_severity: str) -> list[dict[str, Any]]:
    """Queueing, KV cache and TTFT SLO of one engine's fleets, from its metric names."""
    assert engine.metrics is not None
    m, prefix = engine.metrics, engine.title
    model = "{{ $labels.namespace }}/{{ $labels.model_name }}"
    return [
        alert(
            f"{prefix}RequestsWaiting",
            # ``for`` needs the queue non-empty at every evaluation: sustained, not a burst.
            f"sum by (namespace, model_name) ({m.queue}) > 0",
            for_="15m",
            severity="warning",
            summary=f"{{{{ $value }}}} requests have been queueing for {model} for 15 minutes",
            runbook=(
                "The fleet is saturated: check that KEDA scaled it (ScaledObject status, replicas.max) "
                "and that new replicas found GPU nodes (PodsUnschedulable, pool maxSize and gpuCap)."
            ),
            env=env,
        ),
        alert(
            f"{prefix}KvCacheHigh",
            f"max by (namespace, model_name, pod) ({m.kv_cache}) > {KV_CACHE_RATIO}",
            for_="15m",
            severity="warning",
            summary=f"KV cache of {{{{ $labels.pod }}}} ({model}) is {{{{ $value | humanizePercentage }}}} full",
            runbook=(
                f"A full KV cache preempts running requests ({m.preemptions} rises): add "
                "replicas, raise gpuMemoryUtilization if GPU memory allows, or lower maxModelLen."
            ),
            env=env,
        ),
        alert(
            f"{prefix}TimeToFirstTokenSlo",
            "histogram_quantile(0.95, sum by (namespace, model_name, le) "
            f"(rate({m.ttft}_bucket[5m]))) > {ttft_p95_seconds:g}",
            for_="10m",
            severity=slo_severity,
            summary=(
                f"p95 time to first token of {model} is {{{{ $value | humanizeDuration }}}} (SLO {ttft_p95_seconds:g}s)"
            ),
            runbook=(
                f"Prefill is queueing or slow: check {prefix}RequestsWaiting and KV cache usage, scale the "
                f"fleet out, and look for long prompts ({m.prompt_tokens}) or chunked prefill off."
            ),
            env=env,
        ),
    ]


def _serving_alerts(
    *, engines: tuple[Engine, ...], ttft_p95_seconds: float, env: str, slo_severity: str
) -> list[dict[str, Any]]:
    names = model_runner_name_regex()
    deployment_gap = (
        f'max by (namespace, deployment) (kube_deployment_spec_replicas{{deployment=~"{names}"}}) '
        f'- max by (namespace, deployment) (kube_deployment_status_replicas_available{{deployment=~"{names}"}})'
    )
    statefulset_gap = (
        f'max by (namespace, statefulset) (kube_statefulset_replicas{{statefulset=~"{names}"}}) '
        f'- max by (namespace, statefulset) (kube_statefulset_status_replicas_available{{statefulset=~"{names}"}})'
    )
    per_engine = [
        rule
        for engine in engines
        if engine.metrics
        for rule in _engine_alerts(engine, ttft_p95_seconds=ttft_p95_seconds, env=env, slo_severity=slo_severity)
    ]
    return [
        *per_engine,
        alert(
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
        alert(
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
        alert(
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
        alert(
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
        alert(
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
        alert(
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


def _batch_alerts(*, pending_minutes: float, env: str) -> list[dict[str, Any]]:
    pending_for = duration(pending_minutes)
    return [
        alert(
            "KueueWorkloadsPending",
            # Pending counts both active (waiting for quota) and inadmissible (can never fit as
            # is) workloads. Only the leader's series: a follower replica reports the same queues.
            'sum by (cluster_queue) (kueue_pending_workloads{replica_role="leader"}) > 0',
            for_=pending_for,
            severity="warning",
            summary=(
                "ClusterQueue {{ $labels.cluster_queue }} has had pending workloads for "
                f"{pending_for} ({{{{ $value }}}} now)"
            ),
            runbook=(
                "kubectl get workloads -A and kubectl describe workload for the reason: quota in use "
                "(raise the queue's gpus, or wait), inadmissible (a job asks more than the queue or a "
                "node has), or a LocalQueue or ClusterQueue that is stopped."
            ),
            env=env,
        )
    ]


def alert_rule_groups(
    *,
    engines: tuple[str, ...],
    ttft_p95_seconds: float,
    gpu_idle_hours: float,
    env: str,
    slo_severity: Literal["critical", "warning"] = "critical",
    batch_pending_minutes: float | None = None,
    runbook_base_url: str | None = None,
) -> list[dict[str, Any]]:
    """PrometheusRule ``spec.groups``: GPU, model-serving and cluster alerts, and batch queues' when
    ``batch_pending_minutes`` is set (Kueue runs).

    ``engines`` are the fleets' engines (each with metrics gets its queue, KV-cache and TTFT
    alerts, in this order); ``ttft_p95_seconds`` is the time-to-first-token SLO (a bucket boundary
    of each of those engines), ``gpu_idle_hours`` how long a GPU may sit idle before it is
    reported, ``env`` is put on every alert, ``slo_severity`` is the serving alerts' severity
    (``monitoring.sloSeverity``: critical pages; dev's preset says warning);
    ``batch_pending_minutes`` how long a queue may hold pending workloads; ``runbook_base_url``
    gives every alert a ``runbook_url``.
    """
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise ValueError(f"unknown engines: {unknown}")
    records = tuple(ENGINES[e] for e in engines)
    for engine in records:
        if engine.metrics and ttft_p95_seconds not in engine.metrics.ttft_buckets:
            raise ValueError(
                f"ttft_p95_seconds must be a {engine.label} TTFT bucket boundary: {engine.metrics.ttft_buckets}"
            )
    if gpu_idle_hours <= 0:
        raise ValueError("gpu_idle_hours must be positive")
    if not env:
        raise ValueError("env must not be empty")
    if batch_pending_minutes is not None and batch_pending_minutes <= 0:
        raise ValueError("batch_pending_minutes must be positive")
    groups: list[dict[str, Any]] = [
        {"name": "ai-infra-gpu", "rules": gpu_alerts(gpu_idle_hours=gpu_idle_hours, env=env)},
        {
            "name": "ai-infra-model-serving",
            "rules": _serving_alerts(
                engines=records, ttft_p95_seconds=ttft_p95_seconds, env=env, slo_severity=slo_severity
            ),
        },
        {"name": "ai-infra-cluster", "rules": _cluster_alerts(env=env)},
    ]
    if batch_pending_minutes is not None:
        groups.append(
            {"name": "ai-infra-batch", "rules": _batch_alerts(pending_minutes=batch_pending_minutes, env=env)}
        )
    if runbook_base_url:
        for group in groups:
            for rule in group["rules"]:
                rule["annotations"]["runbook_url"] = runbook_url(runbook_base_url, rule["alert"])
    return groups
