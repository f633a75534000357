"""Pure builders for cluster-wide scheduling guardrails: PriorityClasses and RuntimeClass.

Serving outranks batch/training so an inference replica can preempt a training job when GPUs
are short; batch never preempts anything. The ``nvidia`` RuntimeClass is only needed where
containerd's default runtime is not NVIDIA's (existing clusters using the GPU operator's
toolkit); EKS accelerated AMIs make nvidia the default runtime already.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi_kubernetes as k8s

from components.specs.node_pool import GPU_PRESENT_LABEL
from components.specs.pod import gpu_toleration

SERVING_PRIORITY = "gpu-serving"
NVIDIA_RUNTIME_CLASS = "nvidia"
BATCH_PRIORITY = "gpu-batch"


def priority_class_args(labels: Mapping[str, str]) -> list[tuple[str, k8s.scheduling.v1.PriorityClassInitArgs]]:
    return [
        (
            SERVING_PRIORITY,
            k8s.scheduling.v1.PriorityClassInitArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(name=SERVING_PRIORITY, labels=dict(labels)),
                value=100000,
                global_default=False,
                preemption_policy="PreemptLowerPriority",
                description="Online model serving on GPUs; may preempt batch work.",
            ),
        ),
        (
            BATCH_PRIORITY,
            k8s.scheduling.v1.PriorityClassInitArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(name=BATCH_PRIORITY, labels=dict(labels)),
                value=1000,
                global_default=False,
                preemption_policy="Never",
                description="Training and batch GPU jobs; never preempts, may be preempted.",
            ),
        ),
    ]


def nvidia_runtime_class_args(labels: Mapping[str, str]) -> k8s.node.v1.RuntimeClassInitArgs:
    return k8s.node.v1.RuntimeClassInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(name=NVIDIA_RUNTIME_CLASS, labels=dict(labels)),
        handler=NVIDIA_RUNTIME_CLASS,
        scheduling=k8s.node.v1.SchedulingArgs(
            node_selector={GPU_PRESENT_LABEL: "true"},
            tolerations=[gpu_toleration()],
        ),
    )
