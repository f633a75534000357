"""Registry rules: ECR on EKS, a host of your own elsewhere; prod runs engine images by digest."""

from __future__ import annotations

from components.core.engines import ENGINES
from components.core.settings.base import Problem
from components.core.settings.root import StackSections


def registry_problems(s: StackSections) -> list[Problem]:
    """ECR on EKS, a host of your own elsewhere; prod runs published images only by digest."""
    problems: list[Problem] = []
    reg = s.registry
    if s.on_aws and reg.host is not None:
        problems.append(("registry.host", "applies to existing clusters; on EKS the registry is ECR"))
    if not s.on_aws and reg.enabled:
        if reg.host is None:
            problems.append(("registry.host", "is required on an existing cluster with registry.enabled"))
        if reg.build and not (reg.username and reg.password_secret):
            problems.append(
                ("registry.build", "needs registry.username and registry.passwordSecret to push on an existing cluster")
            )
    if s.is_prod:
        for engine in sorted({m.engine for m in s.models.values()}):
            image = s.model_images.for_engine(engine)
            folder = ENGINES[engine].image
            if not s.engine_image_built(engine) and "@sha256:" not in image:
                build = f", or built here: registry.build: [{folder}]" if folder else ""
                problems.append((f"modelImages.{engine}", f"must be pinned by digest in prod (name@sha256:...){build}"))
    return problems
