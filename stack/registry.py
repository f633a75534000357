"""The registry layer: ECR (or your registry host) and the builds of ``images/`` that fleets then
run by digest."""

from __future__ import annotations

from pathlib import Path

import pulumi

from components.core.settings import IMAGE_NAMES
from components.registry import Registry, RegistryArgs
from stack.context import StackContext
from stack.namespaces import Namespaces

IMAGES_ROOT = Path(__file__).resolve().parent.parent / "images"
"""``images/`` on this machine (content-hash tags); builds see it as ``images`` (portable plans)."""


def registry_layer(ctx: StackContext, ns: Namespaces) -> Registry | None:
    s = ctx.settings
    reg = s.registry
    if not reg.enabled:
        return None
    ecr, host = ctx.target.registry_backend(s, dict(ctx.secrets), sorted(ns.workload))
    return Registry(
        "registry",
        RegistryArgs(
            images=list(IMAGE_NAMES),
            build=s.built_images,
            build_args={k: dict(v) for k, v in reg.build_args.items()},
            context_root="images",
            source_root=IMAGES_ROOT,
            retain=s.platform.retain_data,
            ecr=ecr,
            host=host,
            labels=ctx.labels("registry", "registry"),
        ),
        opts=pulumi.ResourceOptions(
            providers=ctx.target.providers, depends_on=list(ns.workload.values()) if host is not None else []
        ),
    )
