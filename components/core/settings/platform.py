"""Platform settings: what prod and dev do differently about data, availability and admission.

Every difference between the environments is a field here (or in its section: ``cluster.eks``,
``registry``, ``tailscale``) with the production-sane value as its default; the dev preset
(``components/core/presets.py``) sets the cheaper values, and a stack file may set either.
Nothing outside the settings asks which environment a stack is.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from components.core.settings.base import Settings


class PlatformSettings(Settings):
    retain_data: bool = True
    """Protect the data stores and keep them on delete: the EKS cluster's KMS keys, VPC flow
    logs, ECR repositories, the shared model-weights store (EFS, or NFS claims' directories) and
    batch jobs' outputs. False (dev): ``pulumi destroy`` removes them."""
    controller_replicas: int = Field(2, ge=1, le=5)
    """Replicas of the system controllers that can run more than one (metrics-server, Kueue, the
    NFS CSI controller): 2 survives a node drain; dev runs 1."""
    trusted_registries: Literal["prod", "dev"] = "prod"
    """Which list of registries the workload namespaces' image admission trusts (besides the
    stack's own): ``prod`` the short list the prod pack allows, ``dev`` adds Docker Hub and
    GitHub's (``components/specs/image_admission.py``)."""
    deny_mutable_tags: bool = True
    """Image admission refuses images named by a mutable tag (``:latest`` or no tag)."""
    generate_api_keys: bool = True
    """A fleet whose engine takes an API key and that names no ``apiKeySecret`` gets a generated
    one (never an unauthenticated API); dev: off, the choice is the fleet's."""
