"""Prometheus alerting rules on GPU health and waste, from dcgm-exporter's metrics.

XID errors (hardware-class ones apart), temperature, power against the board's rating, memory,
and a GPU idle on a billed node. dcgm-exporter's labels: ``gpu``, ``UUID``, ``modelName``,
``Hostname`` (the Kubernetes node name); ``pod``/``namespace``/``container`` only on GPUs allocated
to a pod, so every expression aggregates ``max by (Hostname, UUID, gpu, modelName)`` and label
churn never splits or duplicates a GPU (``alerts.py``'s docstring has the conventions and the
pinned versions the metric names were confirmed at).
"""

from __future__ import annotations

from typing import Any

from components.specs.alert_rule import alert, duration

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


def _gpu(expr: str) -> str:
    return f"max by ({GPU_LABELS}) ({expr})"


_WHERE = "GPU {{ $labels.gpu }} ({{ $labels.modelName }}) on {{ $labels.Hostname }}"
"""How a GPU alert names its GPU (dcgm-exporter's labels)."""


def gpu_alerts(*, gpu_idle_hours: float, env: str) -> list[dict[str, Any]]:
    """The ``ai-infra-gpu`` group's rules: faults first, then load and waste."""
    return [*_fault_alerts(env=env), *_load_alerts(gpu_idle_hours=gpu_idle_hours, env=env)]


def _fault_alerts(*, env: str) -> list[dict[str, Any]]:
    """XID errors: hardware-class ones (drain and replace the node) and the rest (usually the app)."""
    fatal = "|".join(str(x) for x in FATAL_XIDS)
    xid_labels = f"{GPU_LABELS}, err_code, err_msg"
    where = _WHERE
    return [
        alert(
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
        alert(
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
    ]


def _load_alerts(*, gpu_idle_hours: float, env: str) -> list[dict[str, Any]]:
    """Heat, power, memory and idleness: a GPU that throttles, is about to OOM, or is paid for unused."""
    power = " or ".join(
        _gpu('DCGM_FI_DEV_POWER_USAGE{modelName=~"' + regex + '"}') + f" / {watts}"
        for regex, watts in GPU_BOARD_POWER_WATTS.values()
    )
    used, free = _gpu("DCGM_FI_DEV_FB_USED"), _gpu("DCGM_FI_DEV_FB_FREE")
    idle_for = duration(gpu_idle_hours * 60)
    where = _WHERE
    return [
        alert(
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
        alert(
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
        alert(
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
        alert(
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
