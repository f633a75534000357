"""``EksTarget``: the cluster the stack owns on AWS — VPC, hardened EKS control plane, GPU pools.

It creates the AWS provider, ``Network``, ``EksCluster`` and one ``GpuNodePool`` per pool, then
the one Kubernetes provider (which waits for admin access, nodes and the CNI), and answers the
layers' questions from what it made: IRSA, the platform KMS key, ECR, EFS, node autoscaling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.core.settings import EKS_API_SERVICE_IP, EKS_SERVICE_CIDR, EksSettings, StackSettings
from components.eks_cluster import EksCluster, EksClusterArgs
from components.gpu_node_pool import GpuNodePool, GpuNodePoolArgs
from components.network import Network, NetworkArgs
from components.registry import EcrArgs, HostArgs
from components.shared_storage import EfsArgs
from components.specs.aws_iam import node_role_name, role_arn
from components.specs.cost import cost_tags
from components.specs.helm_values import SYSTEM_POOL_SELECTOR
from components.specs.registry import cache_rules, ecr_host
from components.weights_bucket import WeightsBucketArgs
from stack.target import ClusterAddresses, NodeAutoscaling, WorkloadIdentity


def eks_addresses(eks: EksSettings) -> ClusterAddresses:
    return ClusterAddresses(
        private_cidrs=(eks.vpc_cidr,), api_service_ip=EKS_API_SERVICE_IP, service_cidr=EKS_SERVICE_CIDR
    )


@dataclass(frozen=True)
class EksTarget:
    settings: StackSettings
    eks: EksSettings
    cluster_name: str
    provider: aws.Provider
    tags: dict[str, str]
    account_id: str
    network: Network
    cluster: EksCluster
    pools: dict[str, GpuNodePool]
    k8s_provider: k8s.Provider

    managed_control_plane = True

    @property
    def system_node_selector(self) -> dict[str, str]:
        return dict(SYSTEM_POOL_SELECTOR)

    @classmethod
    def create(
        cls, s: StackSettings, eks: EksSettings, cluster_name: str, tags: dict[str, str], cost: dict[str, Any]
    ) -> EksTarget:
        provider = aws.Provider("aws", region=eks.region, default_tags=aws.ProviderDefaultTagsArgs(tags=tags))
        invoke_opts = pulumi.InvokeOptions(provider=provider)
        account_id = aws.get_caller_identity(opts=invoke_opts).account_id
        zones = list(aws.get_availability_zones(state="available", opts=invoke_opts).names[: eks.availability_zones])
        network = _network(s, eks, cluster_name, zones, account_id, tags, provider)
        cluster = _cluster(s, eks, cluster_name, network, account_id, tags, cost, provider)
        pools = _pools(s, cluster_name, network, cluster, tags, provider)
        k8s_provider = k8s.Provider(
            "k8s",
            kubeconfig=cluster.kubeconfig,
            enable_server_side_apply=True,
            # Everything applied through this provider waits for admin access, nodes and the CNI.
            opts=pulumi.ResourceOptions(depends_on=cluster.kubernetes_ready),
        )
        return cls(
            settings=s,
            eks=eks,
            cluster_name=cluster_name,
            provider=provider,
            tags=tags,
            account_id=account_id,
            network=network,
            cluster=cluster,
            pools=pools,
            k8s_provider=k8s_provider,
        )

    @property
    def kubeconfig(self) -> pulumi.Input[str]:
        return self.cluster.kubeconfig

    @property
    def providers(self) -> list[pulumi.ProviderResource]:
        return [self.provider, self.k8s_provider]

    @property
    def addresses(self) -> ClusterAddresses:
        return eks_addresses(self.eks)

    @property
    def workload_identity(self) -> WorkloadIdentity:
        return WorkloadIdentity(
            oidc_provider_arn=self.cluster.oidc_provider_arn, oidc_issuer=self.cluster.oidc_issuer, tags=self.tags
        )

    @property
    def node_autoscaling(self) -> NodeAutoscaling:
        return NodeAutoscaling(region=self.eks.region, identity=self.workload_identity, pools=list(self.pools.values()))

    @property
    def block_storage_key(self) -> pulumi.Input[str]:
        return self.cluster.kms_key_arn

    def registry_prefix(self, s: StackSettings) -> str | None:
        return f"{ecr_host(self.account_id, self.eks.region)}/" if s.registry.enabled else None

    def registry_backend(
        self, s: StackSettings, secrets: dict[str, pulumi.Output[str]], workload_namespaces: list[str]
    ) -> tuple[EcrArgs | None, HostArgs | None]:
        reg = s.registry
        cache = reg.pull_through_cache
        ecr = EcrArgs(
            repository_prefix=self.cluster_name,
            # The platform CMK (registry.customerManagedKey); else ECR's AWS-managed key.
            kms_key_arn=self.cluster.kms_key_arn if reg.customer_managed_key else None,
            pull_principals=[role_arn(self.account_id, node_role_name(self.cluster_name))],
            pull_after=[self.cluster.node_role],
            node_role_name=self.cluster.node_role_name,
            account_id=self.account_id,
            region=self.eks.region,
            tags=self.tags,
            untagged_expiry_days=reg.untagged_expiry_days,
            keep_tagged=reg.keep_tagged,
            cache_rules=cache_rules(
                ecr_public=cache.ecr_public,
                registry_k8s=cache.registry_k8s,
                quay=cache.quay,
                docker_hub=cache.docker_hub_credentials_secret,
                ghcr=cache.ghcr_credentials_secret,
            ),
            cache_credentials={k: secrets[k] for k in reg.secret_keys if k != reg.password_secret},
        )
        return ecr, None

    def efs(self, s: StackSettings) -> EfsArgs:
        shared = s.storage.shared
        return EfsArgs(
            vpc_id=self.network.vpc_id,
            subnet_ids=list(self.network.private_subnets),
            node_security_group_id=self.cluster.cluster_security_group_id,
            backups=shared.backups,
            throughput_mode=shared.throughput_mode,
            tags=self.tags,
            csi_role_name=self.cluster.efs_csi_role.name if self.cluster.efs_csi_role else None,
            account_id=self.account_id,
            key_admins=self.eks.key_admins,
        )

    def weights_bucket(self, s: StackSettings) -> WeightsBucketArgs:
        return WeightsBucketArgs(
            env=s.environment.value,
            account_id=self.account_id,
            region=self.eks.region,
            vpc_id=self.network.vpc_id,
            route_table_ids=list(self.network.private_route_table_ids),
            retain=s.platform.retain_data,
            tags=self.tags,
            key_admins=self.eks.key_admins,
        )


def _network(
    s: StackSettings,
    eks: EksSettings,
    cluster_name: str,
    zones: list[str],
    account_id: str,
    tags: dict[str, str],
    provider: aws.Provider,
) -> Network:
    return Network(
        "network",
        NetworkArgs(
            cluster_name=cluster_name,
            vpc_cidr=eks.vpc_cidr,
            availability_zones=zones,
            single_nat=eks.nat_gateways == "single",
            account_id=account_id,
            region=eks.region,
            flow_log_retention_days=eks.log_retention_days,
            public_load_balancers=eks.public_load_balancers,
            retain=s.platform.retain_data,
            tags=tags,
            key_admins=eks.key_admins,
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )


def _cluster(
    s: StackSettings,
    eks: EksSettings,
    cluster_name: str,
    network: Network,
    account_id: str,
    tags: dict[str, str],
    cost: dict[str, Any],
    provider: aws.Provider,
) -> EksCluster:
    return EksCluster(
        "eks",
        EksClusterArgs(
            cluster_name=cluster_name,
            kubernetes_version=s.cluster.kubernetes_version,
            eks=eks,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            account_id=account_id,
            region=eks.region,
            tags=tags,
            efs_csi=s.storage.shared.backend == "efs",
            protect_data=s.platform.retain_data,
            admin_principal_arns=list(eks.admin_principal_arns),
            operator_principal_arns=list(eks.operator_principal_arns),
            viewer_principal_arns=list(eks.viewer_principal_arns),
            cluster_tags=cost_tags(cost),
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )


def _pools(
    s: StackSettings,
    cluster_name: str,
    network: Network,
    cluster: EksCluster,
    tags: dict[str, str],
    provider: aws.Provider,
) -> dict[str, GpuNodePool]:
    return {
        pool_name: GpuNodePool(
            f"pool-{pool_name}",
            GpuNodePoolArgs(
                pool_name=pool_name,
                pool=pool,
                cluster_name=cluster.cluster_name,
                cluster_name_plain=cluster_name,
                node_role_arn=cluster.node_role_arn,
                subnet_ids=network.private_subnet_ids,
                kms_key_arn=cluster.kms_key_arn,
                nvme_host_dir=s.storage.nvme.host_dir,
                env=s.environment.value,
                team=s.team,
                tags=tags,
            ),
            # GPU nodes start only once aws-node runs with its own role (nodes carry no CNI policy).
            opts=pulumi.ResourceOptions(provider=provider, depends_on=[cluster.vpc_cni]),
        )
        for pool_name, pool in sorted(s.node_pools.items())
    }
