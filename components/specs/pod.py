"""Pure builders every platform pod shares: fleets' servers and weight stagers, batch workers.

One home for the facts each of those pods must get the same way, so a fix lands everywhere:

- ``WorkloadPlan``: the plain values a workload is built from (name, image, environment, team,
  credentials' Secret names, RuntimeClass, pull Secret) and what derives from them — its labels
  (the pool label included, so cost and policies can attribute it), selector and metadata.
  ``FleetSpec`` (``model_runner.py``) and ``JobPlan`` (``batch.py``) extend it.
- the restricted security context (Pod Security ``restricted``: non-root UID/GID 10001,
  RuntimeDefault seccomp, no privilege escalation, every capability dropped, read-only root
  filesystem) and a pod spec that never mounts the API token nor injects service links;
- GPU placement: the pool's node selector, the GPU taint's toleration, and the RuntimeClass
  where the stack creates one (containerd's default runtime is not NVIDIA's everywhere);
- the Hugging Face token as a read-only file (``HF_TOKEN_FILE``), never an env literal;
- the registry pull Secret reference and the image pull policy.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import pulumi
import pulumi_kubernetes as k8s

from components.core.engines import HF_TOKEN_FILE
from components.core.labels import POOL_LABEL, selector_labels, standard_labels
from components.specs.node_pool import GPU_TOLERATION
from components.specs.storage import MODEL_UID

HF_TOKEN_VOLUME = "hf-token"


class _Namespaced(Protocol):
    @property
    def namespace(self) -> str: ...


SpecT = TypeVar("SpecT", bound=_Namespaced)


@dataclass(frozen=True, kw_only=True)
class WorkloadPlan(ABC, Generic[SpecT]):
    """What every workload plan holds, as plain values, and the names and labels derived from it."""

    name: str
    spec: SpecT
    image: pulumi.Input[str]
    """A reference from settings, or the registry's push (an Output: always ``repository@sha256:``)."""
    env: str
    team: str
    hf_token_secret: str | None = None
    """Kubernetes Secret (key ``token``) holding the Hugging Face token, when one is set."""
    runtime_class: str | None = None
    """RuntimeClass of GPU pods, where the stack creates one (containerd's default is not NVIDIA's)."""
    pull_secret: str | None = None
    """The registry pull Secret in the workload's namespace (a registry host of your own)."""

    @property
    @abstractmethod
    def resource_name(self) -> str:
        """metadata.name of the workload and the objects around it."""

    @property
    @abstractmethod
    def app(self) -> str:
        """``app.kubernetes.io/name`` of the workload's pods."""

    @property
    @abstractmethod
    def component(self) -> str:
        """``app.kubernetes.io/component`` of the workload's pods."""

    @property
    @abstractmethod
    def pool_name(self) -> str:
        """The node pool the workload runs on (its ``POOL_LABEL``)."""

    @property
    def extra_labels(self) -> dict[str, str]:
        """Labels beyond the standard set and the pool label."""
        return {}

    @property
    def namespace(self) -> str:
        return self.spec.namespace

    @property
    def labels(self) -> dict[str, str]:
        return standard_labels(
            env=self.env,
            team=self.team,
            app=self.app,
            component=self.component,
            instance=self.name,
            extra={**self.extra_labels, POOL_LABEL: self.pool_name},
        )

    @property
    def selector(self) -> dict[str, str]:
        return selector_labels(app=self.app, instance=self.name)


def meta(plan: WorkloadPlan[Any], name: str | None = None, **extra: Any) -> k8s.meta.v1.ObjectMetaArgs:
    """Metadata every object of a workload shares: its name (default the workload's), namespace, labels."""
    return k8s.meta.v1.ObjectMetaArgs(
        name=name or plan.resource_name, namespace=plan.namespace, labels=plan.labels, **extra
    )


# -- security ---------------------------------------------------------------------------------


def pull_policy(image: pulumi.Input[str]) -> str:
    """A digest never changes; a tag can be re-pushed, so re-check it (only the manifest is fetched).
    An Output is the registry's push, always a digest."""
    return "IfNotPresent" if not isinstance(image, str) or "@sha256:" in image else "Always"


def container_security_context() -> k8s.core.v1.SecurityContextArgs:
    return k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        run_as_non_root=True,
        run_as_user=MODEL_UID,
        run_as_group=MODEL_UID,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
    )


def pod_security_context() -> k8s.core.v1.PodSecurityContextArgs:
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=MODEL_UID,
        run_as_group=MODEL_UID,
        fs_group=MODEL_UID,
        fs_group_change_policy="OnRootMismatch",
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def image_pull_secrets(pull_secret: str | None) -> list[k8s.core.v1.LocalObjectReferenceArgs] | None:
    return [k8s.core.v1.LocalObjectReferenceArgs(name=pull_secret)] if pull_secret else None


# -- GPU placement ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GpuPlacement:
    """Where a pod may run: a GPU pool's nodes (selector, taint toleration, runtime) or anywhere."""

    node_selector: dict[str, str] | None = None
    tolerations: list[k8s.core.v1.TolerationArgs] | None = None
    runtime_class_name: str | None = None


NO_GPU = GpuPlacement()


def gpu_toleration() -> k8s.core.v1.TolerationArgs:
    """Tolerates the taint every GPU pool carries (``node_pool.gpu_taints``)."""
    t = GPU_TOLERATION
    return k8s.core.v1.TolerationArgs(key=t["key"], operator=t["operator"], effect=t["effect"])


def gpu_placement(pool: str, runtime_class: str | None = None) -> GpuPlacement:
    return GpuPlacement(
        node_selector={POOL_LABEL: pool}, tolerations=[gpu_toleration()], runtime_class_name=runtime_class
    )


def pod_spec(
    plan: WorkloadPlan[Any],
    *,
    service_account: str,
    containers: list[k8s.core.v1.ContainerArgs],
    volumes: list[k8s.core.v1.VolumeArgs],
    placement: GpuPlacement = NO_GPU,
    **extra: Any,
) -> k8s.core.v1.PodSpecArgs:
    """A restricted pod: no API token, no service links, the restricted security context, the pull
    Secret when there is one, and ``placement``; ``extra`` sets the rest (restart policy, priority)."""
    return k8s.core.v1.PodSpecArgs(
        service_account_name=service_account,
        automount_service_account_token=False,
        image_pull_secrets=image_pull_secrets(plan.pull_secret),
        enable_service_links=False,
        security_context=pod_security_context(),
        containers=containers,
        volumes=volumes,
        node_selector=placement.node_selector,
        tolerations=placement.tolerations,
        runtime_class_name=placement.runtime_class_name,
        **extra,
    )


# -- Hugging Face token -----------------------------------------------------------------------


def hf_token_volume(secret_name: str) -> k8s.core.v1.VolumeArgs:
    """The Hugging Face token as a file (``HF_TOKEN_FILE``'s folder), never an env literal."""
    return k8s.core.v1.VolumeArgs(
        name=HF_TOKEN_VOLUME,
        secret=k8s.core.v1.SecretVolumeSourceArgs(
            secret_name=secret_name,
            default_mode=0o440,
            items=[k8s.core.v1.KeyToPathArgs(key="token", path="token")],
        ),
    )


def hf_token_mount() -> k8s.core.v1.VolumeMountArgs:
    return k8s.core.v1.VolumeMountArgs(name=HF_TOKEN_VOLUME, mount_path=HF_TOKEN_FILE.rsplit("/", 1)[0], read_only=True)
