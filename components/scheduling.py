"""``SchedulingGuardrails``: cluster-wide PriorityClasses and (where needed) the nvidia RuntimeClass."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.core.naming import resource_name
from components.specs import scheduling as spec

TYPE = "ai-infra:k8s:SchedulingGuardrails"


@dataclass(frozen=True, kw_only=True)
class SchedulingGuardrailsArgs:
    labels: dict[str, str]
    nvidia_runtime_class: bool
    """Create RuntimeClass ``nvidia`` (existing clusters whose default runtime is not NVIDIA's)."""


class SchedulingGuardrails(pulumi.ComponentResource):
    """Children: PriorityClasses gpu-serving and gpu-batch; RuntimeClass nvidia when asked."""

    serving_priority_class: pulumi.Output[str]

    def __init__(self, name: str, args: SchedulingGuardrailsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        classes = {
            role: k8s.scheduling.v1.PriorityClass(resource_name(name, role), pc_args, opts=child)
            for role, pc_args in spec.priority_class_args(args.labels)
        }
        if args.nvidia_runtime_class:
            k8s.node.v1.RuntimeClass(
                resource_name(name, "nvidia-runtime"), spec.nvidia_runtime_class_args(args.labels), opts=child
            )
        self.serving_priority_class = classes[spec.SERVING_PRIORITY].metadata.apply(lambda m: str(m.name))
        self.register_outputs({"serving_priority_class": self.serving_priority_class})
