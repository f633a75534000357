"""``ClusterTarget``: the cluster the stack deploys onto, and the only question "EKS or existing?".

Like CDK's owned and unowned constructs (``Cluster`` vs ``Cluster.fromClusterAttributes``), a
target answers the same questions for both kinds of cluster: ``EksTarget`` (``stack/eks.py``)
creates the VPC, control plane and GPU pools and answers from them; ``ExistingTarget``
(``stack/existing.py``) answers from ``cluster.existing``. A capability only one kind has (IRSA,
the default gp3 class, EFS, ECR, the cluster-autoscaler) is ``None`` on the other, so the layers
ask "is there workload identity?", never "is this EKS?". ``stack/cluster.py`` picks one: the
one branch on the cluster's mode outside the settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import pulumi
import pulumi_kubernetes as k8s

from components.core.settings import StackSettings
from components.registry import EcrArgs, HostArgs
from components.shared_storage import EfsArgs
from components.weights_bucket import WeightsBucketArgs


@dataclass(frozen=True, kw_only=True)
class ClusterAddresses:
    """Where the cluster's nodes, pods, control plane and Services live (system NetworkPolicies)."""

    private_cidrs: tuple[str, ...]
    api_ports: tuple[int, ...] = (443,)
    api_service_ip: str | None = None
    """The ``kubernetes`` Service's ClusterIP, when known (EKS: first address of the service CIDR)."""
    service_cidr: str | None = None
    """The Service range when outside ``private_cidrs`` (EKS: 172.20.0.0/16)."""


@dataclass(frozen=True, kw_only=True)
class WorkloadIdentity:
    """What an IRSA role needs: the cluster's OIDC provider and the AWS tags."""

    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    tags: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class NodeAutoscaling:
    """What the cluster-autoscaler needs: the region, its identity, the node pools it scales."""

    region: str
    identity: WorkloadIdentity
    pools: Sequence[pulumi.Resource]
    """It starts once they exist (its ASG discovery finds them)."""


class ClusterTarget(Protocol):
    """The cluster, as every layer sees it."""

    @property
    def k8s_provider(self) -> k8s.Provider: ...

    @property
    def kubeconfig(self) -> pulumi.Input[str]: ...

    @property
    def providers(self) -> list[pulumi.ProviderResource]:
        """Every provider a component with both AWS and Kubernetes children takes."""
        ...

    @property
    def addresses(self) -> ClusterAddresses: ...

    @property
    def system_node_selector(self) -> dict[str, str] | None:
        """Where system controllers run (the EKS system pool), None: anywhere."""
        ...

    @property
    def managed_control_plane(self) -> bool:
        """The control plane's components are not scrapeable (EKS runs them)."""
        ...

    @property
    def workload_identity(self) -> WorkloadIdentity | None:
        """IRSA, where the cluster has it (S3 job outputs)."""
        ...

    @property
    def node_autoscaling(self) -> NodeAutoscaling | None:
        """The cluster-autoscaler's inputs, where the stack owns the node groups."""
        ...

    @property
    def block_storage_key(self) -> pulumi.Input[str] | None:
        """The KMS key of the stack's default block class (gp3), where it creates one."""
        ...

    def registry_prefix(self, s: StackSettings) -> str | None:
        """The stack's own registry, as an image reference prefix (``host/``), if it has one."""
        ...

    def registry_backend(
        self, s: StackSettings, secrets: dict[str, pulumi.Output[str]], workload_namespaces: list[str]
    ) -> tuple[EcrArgs | None, HostArgs | None]:
        """ECR on EKS; the configured host elsewhere (None when the stack names none)."""
        ...

    def efs(self, s: StackSettings) -> EfsArgs | None:
        """The shared store's EFS inputs, where the VPC is the stack's."""
        ...

    def weights_bucket(self, s: StackSettings) -> WeightsBucketArgs | None:
        """The S3 weights bucket's inputs (``cache: s3``), where the VPC is the stack's."""
        ...
