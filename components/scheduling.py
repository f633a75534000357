"""``SchedulingGuardrails``: cluster-wide PriorityClasses, the admission policies that hold each
namespace to the classes it may use and the workload namespaces' pods to trusted, pinned images
(``specs/image_admission.py``), and (where needed) the nvidia RuntimeClass."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.core.naming import resource_name
from components.specs import image_admission
from components.specs import namespace as ns_spec
from components.specs import scheduling as spec

TYPE = "ai-infra:k8s:SchedulingGuardrails"


@dataclass(frozen=True, kw_only=True)
class SchedulingGuardrailsArgs:
    labels: dict[str, str]
    nvidia_runtime_class: bool
    """Create RuntimeClass ``nvidia`` (existing clusters whose default runtime is not NVIDIA's)."""
    tenant_namespaces: dict[str, bool] = field(default_factory=dict)
    """Workload namespace -> whether it serves models: the admission policy's PriorityClass map."""
    images: image_admission.ImageAdmission | None = None
    """The image registries/digests policies for the workload namespaces (none without any)."""


class SchedulingGuardrails(pulumi.ComponentResource):
    """Children: PriorityClasses gpu-serving and gpu-batch; a ValidatingAdmissionPolicy and its
    binding holding pods to the classes their namespace may use; the image registries and digests
    policies and their bindings; RuntimeClass nvidia when asked."""

    serving_priority_class: pulumi.Output[str]

    def __init__(self, name: str, args: SchedulingGuardrailsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        classes = {
            role: k8s.scheduling.v1.PriorityClass(resource_name(name, role), pc_args, opts=child)
            for role, pc_args in spec.priority_class_args(args.labels)
        }
        policy_args, binding_args = ns_spec.priority_admission_policy_args(args.tenant_namespaces, args.labels)
        policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            resource_name(name, "priority-policy"), policy_args, opts=child
        )
        k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            resource_name(name, "priority-binding"),
            binding_args,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        if args.images is not None and args.images.namespaces:
            for vap_args, vap_binding_args in image_admission.image_admission_policy_args(args.images, args.labels):
                short = str(vap_args.metadata.name).removeprefix("ai-infra-")  # type: ignore[union-attr]
                vap = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
                    resource_name(name, f"{short}-policy"), vap_args, opts=child
                )
                k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
                    resource_name(name, f"{short}-binding"),
                    vap_binding_args,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[vap]),
                )
        if args.nvidia_runtime_class:
            k8s.node.v1.RuntimeClass(
                resource_name(name, "nvidia-runtime"), spec.nvidia_runtime_class_args(args.labels), opts=child
            )
        self.serving_priority_class = classes[spec.SERVING_PRIORITY].metadata.apply(lambda m: str(m.name))
        self.register_outputs({"serving_priority_class": self.serving_priority_class})
