"""The namespaces layer: system and workload namespaces, their guardrails, the scheduling classes
and the workload namespaces' image admission."""

from __future__ import annotations

from dataclasses import dataclass

from components.core.settings import StackSettings
from components.namespaces import PlatformNamespace, PlatformNamespaceArgs
from components.scheduling import SchedulingGuardrails, SchedulingGuardrailsArgs
from components.specs.addons import SYSTEM_NAMESPACES, system_namespaces
from components.specs.image_admission import DEV_REGISTRIES, PROD_REGISTRIES, ImageAdmission, repository_of
from stack.context import StackContext
from stack.network import cluster_network

TRUSTED_REGISTRIES = {"prod": PROD_REGISTRIES, "dev": DEV_REGISTRIES}
"""``platform.trustedRegistries`` -> the registries image admission trusts."""


@dataclass(frozen=True)
class Namespaces:
    system: dict[str, PlatformNamespace]
    workload: dict[str, PlatformNamespace]


def image_admission(s: StackSettings, own_registry: str | None) -> ImageAdmission:
    """What the workload namespaces' image admission policies allow: the trusted registries
    (``platform.trustedRegistries``), the stack's own registry, and the images its settings name."""
    named = [s.model_images.for_engine(m.engine) for m in s.models.values() if not s.engine_image_built(m.engine)]
    named += [job.image for name, job in s.jobs.items() if not s.job_image_built(name)]
    return ImageAdmission(
        namespaces=tuple(sorted(s.namespaces)),
        prefixes=(*([own_registry] if own_registry else []), *TRUSTED_REGISTRIES[s.platform.trusted_registries]),
        repositories=tuple(sorted({repository_of(image) for image in named})),
        deny_tags=s.platform.deny_mutable_tags,
    )


def namespaces_layer(ctx: StackContext) -> Namespaces:
    """Namespaces with their guardrails and the cluster-wide scheduling classes."""
    s, target = ctx.settings, ctx.target
    network = cluster_network(s, target.addresses)
    system = {
        name: PlatformNamespace(
            f"ns-{name}",
            PlatformNamespaceArgs(
                name=name,
                labels=ctx.labels(name, "system-namespace"),
                pod_security=SYSTEM_NAMESPACES[name],
                network=network,
            ),
            opts=ctx.k8s_opts,
        )
        for name in system_namespaces(s)
    }
    workload = {
        name: PlatformNamespace(
            f"ns-{name}",
            PlatformNamespaceArgs(
                name=name,
                labels=ctx.labels(name, "namespace"),
                pod_security="restricted",
                workload=ns_settings,
                serving=name in s.serving_namespaces,
                batch=name in s.batch_namespaces,
            ),
            opts=ctx.k8s_opts,
        )
        for name, ns_settings in sorted(s.namespaces.items())
    }
    SchedulingGuardrails(
        "scheduling",
        SchedulingGuardrailsArgs(
            labels=ctx.labels("scheduling", "guardrails"),
            nvidia_runtime_class=s.nvidia_runtime_class,
            tenant_namespaces={name: name in s.serving_namespaces for name in s.namespaces},
            images=image_admission(s, target.registry_prefix(s)),
        ),
        opts=ctx.k8s_opts,
    )
    return Namespaces(system=system, workload=workload)
