"""``ExistingTarget``: a cluster the stack does not own, reached by kubeconfig.

Nothing AWS: no IRSA, no default block class, no EFS or ECR, no node autoscaling (the machines
are yours). The system NetworkPolicies use ``cluster.existing.networkCidrs`` and allow the API
on 443 and 6443 (kubeadm's port behind the ClusterIP).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.core.settings import ExistingClusterSettings, StackSettings
from components.registry import EcrArgs, HostArgs
from components.shared_storage import EfsArgs
from components.weights_bucket import WeightsBucketArgs
from stack.target import ClusterAddresses, NodeAutoscaling, WorkloadIdentity


def existing_addresses(existing: ExistingClusterSettings) -> ClusterAddresses:
    return ClusterAddresses(private_cidrs=tuple(existing.network_cidrs), api_ports=(443, 6443))


def host_args(
    s: StackSettings, secrets: dict[str, pulumi.Output[str]], workload_namespaces: list[str]
) -> HostArgs | None:
    """The registry host the settings name, with a pull Secret in every workload namespace."""
    reg = s.registry
    if reg.host is None:
        return None
    return HostArgs(
        host=reg.host,
        username=reg.username,
        password=secrets[reg.password_secret] if reg.password_secret else None,
        pull_secret_namespaces=sorted(workload_namespaces),
    )


@dataclass(frozen=True)
class ExistingTarget:
    k8s_provider: k8s.Provider
    kubeconfig: pulumi.Input[str]
    addresses: ClusterAddresses
    system_node_selector: dict[str, str] | None = None
    managed_control_plane: bool = False
    workload_identity: WorkloadIdentity | None = None
    node_autoscaling: NodeAutoscaling | None = None
    block_storage_key: pulumi.Input[str] | None = None

    @classmethod
    def create(cls, existing: ExistingClusterSettings) -> ExistingTarget:
        provider = k8s.Provider(
            "k8s", kubeconfig=existing.kubeconfig, context=existing.context, enable_server_side_apply=True
        )
        return cls(k8s_provider=provider, kubeconfig=existing.kubeconfig, addresses=existing_addresses(existing))

    @property
    def providers(self) -> list[pulumi.ProviderResource]:
        return [self.k8s_provider]

    def registry_prefix(self, s: StackSettings) -> str | None:
        return f"{s.registry.host}/" if s.registry.enabled and s.registry.host else None

    def registry_backend(
        self, s: StackSettings, secrets: dict[str, pulumi.Output[str]], workload_namespaces: list[str]
    ) -> tuple[EcrArgs | None, HostArgs | None]:
        return None, host_args(s, secrets, workload_namespaces)

    def efs(self, s: StackSettings) -> EfsArgs | None:
        return None

    def weights_bucket(self, s: StackSettings) -> WeightsBucketArgs | None:
        return None  # settings refuse cache s3 here: no IRSA to hand pods read-only credentials
