"""ai-infra: load settings -> make providers -> instantiate components -> export.

Wiring only: every decision lives in the settings (``components/core/settings``, derived facts
are properties of ``StackSettings``) and in the components. One function per layer, called in
order — cluster, namespaces and guardrails, storage, workloads, batch — each taking what the layers
before it produced; a new capability is one more function and one more call at the bottom.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_tailscale as tailscale

from components.batch_job import BatchJob, BatchJobArgs, S3OutputArgs
from components.batch_queue import BatchQueue, BatchQueueArgs, QueueSpec
from components.block_storage import BlockStorage, BlockStorageArgs
from components.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from components.core.engines import VLLM
from components.core.labels import aws_tags, selector_labels, standard_labels
from components.core.naming import k8s_name, resource_name
from components.core.settings import (
    EKS_API_SERVICE_IP,
    EKS_SERVICE_CIDR,
    IMAGE_NAMES,
    PROJECT,
    EksSettings,
    StackSettings,
    load_secrets,
    load_settings,
)
from components.core.settings.engines import served_engines
from components.core.settings.gateway import fleet_gateway
from components.core.settings.tailscale import OAUTH_CLIENT_ID_KEY, OAUTH_CLIENT_SECRET_KEY
from components.eks_cluster import EksCluster, EksClusterArgs
from components.gateway import deploy_gateway, tailnet_backends
from components.gpu_node_pool import GpuNodePool, GpuNodePoolArgs
from components.gpu_software import GpuSoftware, GpuSoftwareArgs
from components.keda import Keda, KedaArgs
from components.metrics_server import MetricsServer, MetricsServerArgs
from components.model_runner_fleet import ModelRunnerFleet, ModelRunnerFleetArgs
from components.monitoring_stack import MonitoringStack, MonitoringStackArgs
from components.namespaces import PlatformNamespace, PlatformNamespaceArgs
from components.network import Network, NetworkArgs
from components.nvme_storage import NvmeStorage, NvmeStorageArgs
from components.registry import EcrArgs, HostArgs, Registry, RegistryArgs
from components.scheduling import SchedulingGuardrails, SchedulingGuardrailsArgs
from components.shared_storage import EfsArgs, SharedStorage, SharedStorageArgs
from components.specs.alerts import alert_rule_groups
from components.specs.aws_iam import node_role_name, role_arn
from components.specs.batch import JobPlan, queue_quota
from components.specs.cost import cost_tags, instance_prices, spot_fractions, stack_cost
from components.specs.dashboards import dashboards
from components.specs.helm_values import SYSTEM_POOL_SELECTOR
from components.specs.image_admission import DEV_REGISTRIES, PROD_REGISTRIES, ImageAdmission, repository_of
from components.specs.model_runner import fleet_spec
from components.specs.model_serving import TAILNET_NAMESPACE, tailnet_host
from components.specs.namespace import SYSTEM_NAMESPACES
from components.specs.recording_rules import recording_rule_groups
from components.specs.registry import cache_rules, ecr_host
from components.specs.scheduling import NVIDIA_RUNTIME_CLASS
from components.specs.storage import SHARED_CLASS
from components.specs.system_network import (
    GRAFANA_PODS,
    GRAFANA_PORT,
    GRAFANA_TAILNET_INGRESS,
    ClusterNetwork,
    TailnetBackend,
)
from components.specs.tailnet_policy import TailnetPolicyInput
from components.specs.tailscale import GRAFANA_SERVICE_PORT
from components.tailscale_mesh import AuthKeyArgs, OperatorArgs, TailscaleMesh, TailscaleMeshArgs


@dataclass(frozen=True)
class AwsPlatform:
    """What the AWS layer made that later layers use."""

    provider: aws.Provider
    tags: dict[str, str]
    account_id: str
    region: str
    network: Network
    cluster: EksCluster
    pools: dict[str, GpuNodePool]


@dataclass(frozen=True)
class ClusterLayer:
    k8s_provider: k8s.Provider
    kubeconfig: pulumi.Input[str]
    aws: AwsPlatform | None
    """None on an existing cluster."""

    @property
    def k8s_opts(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(provider=self.k8s_provider)

    @property
    def all_providers(self) -> list[pulumi.ProviderResource]:
        return [self.aws.provider, self.k8s_provider] if self.aws else [self.k8s_provider]


@dataclass(frozen=True)
class Namespaces:
    system: dict[str, PlatformNamespace]
    workload: dict[str, PlatformNamespace]


def aws_platform(s: StackSettings, eks: EksSettings, cluster_name: str, cost: dict[str, Any]) -> AwsPlatform:
    """VPC, hardened EKS control plane and the GPU node pools."""
    env = s.environment.value
    tags = aws_tags(env=env, team=s.team, cost_center=s.cost_center)
    provider = aws.Provider("aws", region=eks.region, default_tags=aws.ProviderDefaultTagsArgs(tags=tags))
    opts = pulumi.ResourceOptions(provider=provider)
    invoke_opts = pulumi.InvokeOptions(provider=provider)
    account_id = aws.get_caller_identity(opts=invoke_opts).account_id
    zones = list(aws.get_availability_zones(state="available", opts=invoke_opts).names[: eks.availability_zones])
    network = Network(
        "network",
        NetworkArgs(
            cluster_name=cluster_name,
            vpc_cidr=eks.vpc_cidr,
            availability_zones=zones,
            single_nat=eks.nat_gateways == "single",
            account_id=account_id,
            region=eks.region,
            flow_log_retention_days=eks.log_retention_days,
            public_load_balancers=not s.is_prod,
            retain=s.is_prod,
            tags=tags,
            key_admins=eks.key_admins,
        ),
        opts=opts,
    )
    cluster = EksCluster(
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
            protect_data=s.is_prod,
            admin_principal_arns=list(eks.admin_principal_arns),
            operator_principal_arns=list(eks.operator_principal_arns),
            viewer_principal_arns=list(eks.viewer_principal_arns),
            cluster_tags=cost_tags(cost),
        ),
        opts=opts,
    )
    pools = {
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
                env=env,
                team=s.team,
                tags=tags,
            ),
            # GPU nodes start only once aws-node runs with its own role (nodes carry no CNI policy).
            opts=pulumi.ResourceOptions(provider=provider, depends_on=[cluster.vpc_cni]),
        )
        for pool_name, pool in sorted(s.node_pools.items())
    }
    return AwsPlatform(
        provider=provider,
        tags=tags,
        account_id=account_id,
        region=eks.region,
        network=network,
        cluster=cluster,
        pools=pools,
    )


def cluster_layer(s: StackSettings, cluster_name: str, cost: dict[str, Any]) -> ClusterLayer:
    """The cluster and the one Kubernetes provider every Kubernetes resource uses."""
    if s.on_aws and s.cluster.eks is not None:
        platform = aws_platform(s, s.cluster.eks, cluster_name, cost)
        kubeconfig = platform.cluster.kubeconfig
        provider = k8s.Provider(
            "k8s",
            kubeconfig=kubeconfig,
            enable_server_side_apply=True,
            # Everything applied through this provider waits for admin access, nodes and the CNI.
            opts=pulumi.ResourceOptions(depends_on=platform.cluster.kubernetes_ready),
        )
        return ClusterLayer(k8s_provider=provider, kubeconfig=kubeconfig, aws=platform)
    existing = s.cluster.existing
    assert existing is not None  # settings guarantee it in existing mode
    provider = k8s.Provider(
        "k8s", kubeconfig=existing.kubeconfig, context=existing.context, enable_server_side_apply=True
    )
    return ClusterLayer(k8s_provider=provider, kubeconfig=existing.kubeconfig, aws=None)


def cluster_network(s: StackSettings) -> ClusterNetwork:
    """The addresses system NetworkPolicies name: the VPC on EKS, the configured ranges elsewhere."""
    backends = [
        TailnetBackend(
            namespace=m.namespace,
            ingress=k8s_name(m.engine_record.name, name),
            service_port=m.port,
            pods=selector_labels(app=m.engine_record.name, instance=name),
            target_port=m.port,
        )
        for name, m in sorted(s.models.items())
        if m.exposure == "tailnet"
    ]
    backends += tailnet_backends(s)
    if s.tailscale_operator and s.monitoring.enabled:
        backends.append(
            TailnetBackend(
                namespace=s.monitoring.namespace,
                ingress=GRAFANA_TAILNET_INGRESS,
                service_port=GRAFANA_SERVICE_PORT,
                pods=GRAFANA_PODS,
                target_port=GRAFANA_PORT,
            )
        )
    ts = s.tailscale
    common: dict[str, Any] = {
        "monitoring_namespace": s.scrape_namespace,
        "external_prometheus_port": s.external_prometheus_port,
        "tailnet_namespace": TAILNET_NAMESPACE if s.tailscale_operator else None,
        "tailnet_backends": tuple(backends) if s.tailscale_operator else (),
        "subnet_router": resource_name("mesh", "router") if s.subnet_routes else None,
        "router_routes": tuple(s.subnet_routes),
        "router_dns_servers": tuple(sorted({ip for servers in ts.split_dns.values() for ip in servers})),
    }
    if s.cluster.eks is not None:
        return ClusterNetwork(
            private_cidrs=(s.cluster.eks.vpc_cidr,),
            api_service_ip=EKS_API_SERVICE_IP,
            service_cidr=EKS_SERVICE_CIDR,
            **common,
        )
    assert s.cluster.existing is not None
    return ClusterNetwork(private_cidrs=tuple(s.cluster.existing.network_cidrs), api_ports=(443, 6443), **common)


def image_admission(s: StackSettings, c: ClusterLayer) -> ImageAdmission:
    """What the workload namespaces' image admission policies allow: the environment's trusted
    registries (the pack's), the stack's own registry, and the images its settings name."""
    own: list[str] = []
    if s.registry.enabled and c.aws is not None:
        own.append(f"{ecr_host(c.aws.account_id, c.aws.region)}/")
    elif s.registry.enabled and s.registry.host:
        own.append(f"{s.registry.host}/")
    named = [s.model_images.for_engine(m.engine) for m in s.models.values() if not s.engine_image_built(m.engine)]
    named += [job.image for name, job in s.jobs.items() if not s.job_image_built(name)]
    return ImageAdmission(
        namespaces=tuple(sorted(s.namespaces)),
        prefixes=(*own, *(PROD_REGISTRIES if s.is_prod else DEV_REGISTRIES)),
        repositories=tuple(sorted({repository_of(image) for image in named})),
        deny_tags=s.is_prod,
    )


def namespaces_layer(s: StackSettings, c: ClusterLayer) -> Namespaces:
    """Namespaces with their guardrails and the cluster-wide scheduling classes."""
    env, team = s.environment.value, s.team
    network = cluster_network(s)
    system = {
        name: PlatformNamespace(
            f"ns-{name}",
            PlatformNamespaceArgs(
                name=name,
                labels=standard_labels(env=env, team=team, app=name, component="system-namespace"),
                pod_security=SYSTEM_NAMESPACES[name],
                network=network,
            ),
            opts=c.k8s_opts,
        )
        for name in s.system_namespaces
    }
    workload = {
        name: PlatformNamespace(
            f"ns-{name}",
            PlatformNamespaceArgs(
                name=name,
                labels=standard_labels(env=env, team=team, app=name, component="namespace"),
                pod_security="restricted",
                workload=ns_settings,
                serving=name in s.serving_namespaces,
                batch=name in s.batch_namespaces,
            ),
            opts=c.k8s_opts,
        )
        for name, ns_settings in sorted(s.namespaces.items())
    }
    SchedulingGuardrails(
        "scheduling",
        SchedulingGuardrailsArgs(
            labels=standard_labels(env=env, team=team, app="scheduling", component="guardrails"),
            nvidia_runtime_class=s.nvidia_runtime_class,
            tenant_namespaces={name: name in s.serving_namespaces for name in s.namespaces},
            images=image_admission(s, c),
        ),
        opts=c.k8s_opts,
    )
    return Namespaces(system=system, workload=workload)


def registry_layer(
    s: StackSettings, c: ClusterLayer, ns: Namespaces, cluster_name: str, secrets: dict[str, pulumi.Output[str]]
) -> Registry | None:
    """ECR (or your registry host) and the builds of ``images/`` that fleets then run by digest."""
    reg = s.registry
    if not reg.enabled:
        return None
    cache = reg.pull_through_cache
    ecr = (
        EcrArgs(
            repository_prefix=cluster_name,
            # The platform CMK in prod; elsewhere ECR's AWS-managed key (no key to administer).
            kms_key_arn=c.aws.cluster.kms_key_arn if s.is_prod else None,
            pull_principals=[role_arn(c.aws.account_id, node_role_name(cluster_name))],
            pull_after=[c.aws.cluster.node_role],
            node_role_name=c.aws.cluster.node_role_name,
            account_id=c.aws.account_id,
            region=c.aws.region,
            tags=c.aws.tags,
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
        if c.aws is not None
        else None
    )
    host = (
        HostArgs(
            host=reg.host,
            username=reg.username,
            password=secrets[reg.password_secret] if reg.password_secret else None,
            pull_secret_namespaces=sorted(ns.workload),
        )
        if c.aws is None and reg.host is not None
        else None
    )
    return Registry(
        "registry",
        RegistryArgs(
            images=list(IMAGE_NAMES),
            build=s.built_images,
            build_args={k: dict(v) for k, v in reg.build_args.items()},
            context_root="images",
            source_root=Path(__file__).resolve().parent / "images",
            retain=s.is_prod,
            ecr=ecr,
            host=host,
            labels=standard_labels(env=s.environment.value, team=s.team, app="registry", component="registry"),
        ),
        opts=pulumi.ResourceOptions(
            providers=c.all_providers, depends_on=list(ns.workload.values()) if host is not None else []
        ),
    )


def observability_layer(
    s: StackSettings, c: ClusterLayer, ns: Namespaces, cluster_name: str, secrets: dict[str, pulumi.Output[str]]
) -> MonitoringStack | None:
    """The monitoring stack first, so everything shipping a ServiceMonitor finds its CRDs."""
    m = s.monitoring
    if not m.enabled:
        return None
    namespace = ns.system[m.namespace]
    return MonitoringStack(
        "monitoring",
        MonitoringStackArgs(
            namespace=m.namespace,
            labels=standard_labels(env=s.environment.value, team=s.team, app="monitoring", component="monitoring"),
            retention=m.retention,
            storage_size=m.storage_size,
            cluster_id=cluster_name,
            managed_control_plane=s.on_aws,
            node_selector=dict(SYSTEM_POOL_SELECTOR) if s.on_aws else None,
            grafana_admin_password=secrets[s.grafana_admin_key] if s.grafana_admin_key else None,
            alert_receivers={
                name: (secrets[r.secret_key], list(r.severities), r.type) for name, r in m.alert_receivers.items()
            },
            rule_groups=[
                *alert_rule_groups(
                    engines=served_engines(s),
                    ttft_p95_seconds=m.ttft_p95_seconds,
                    gpu_idle_hours=m.gpu_idle_hours,
                    env=s.environment.value,
                    batch_pending_minutes=s.batch.pending_alert_minutes if s.batch.enabled else None,
                    runbook_base_url=m.runbook_base_url,
                ),
                *recording_rule_groups(prices=instance_prices(s), spot_factor=spot_fractions(s)),
            ],
            dashboards=dashboards(served_engines(s)),
            # The GPU operator runs its own DCGM exporter (GpuSoftware turns its monitor on).
            dcgm_namespace=ns.system["gpu-system"].namespace_name
            if m.dcgm and s.gpu.stack == "device-plugin"
            else None,
            runtime_class=NVIDIA_RUNTIME_CLASS if s.nvidia_runtime_class else None,
            opencost=m.opencost,
            depends_on=[namespace],
            preinstalled=s.preinstalled,
            chart_digests=s.all_chart_digests,
        ),
        opts=c.k8s_opts,
    )


def mesh_layer(
    s: StackSettings, c: ClusterLayer, ns: Namespaces, cluster_name: str, secrets: dict[str, pulumi.Output[str]]
) -> TailscaleMesh | None:
    """The Tailscale mesh: tailnet policy, keys for machines outside the cluster, the operator
    (tailnet endpoints) and the subnet router to the private API endpoint."""
    ts = s.tailscale
    if not ts.enabled:
        return None
    env = s.environment.value
    # The stack's OAuth client manages the tailnet (policy, DNS, settings, keys, the operator's client).
    provider = tailscale.Provider(
        "tailscale",
        oauth_client_id=secrets[OAUTH_CLIENT_ID_KEY],
        oauth_client_secret=secrets[OAUTH_CLIENT_SECRET_KEY],
    )
    policy = TailnetPolicyInput(
        env=env,
        groups={k: list(v) for k, v in ts.groups.items()},
        tag_owners=s.tailscale_tag_owners,
        models=list(ts.access.models),
        monitoring=list(ts.access.monitoring) if s.monitoring.enabled and s.tailscale_operator else [],
        admins=list(ts.access.admins),
        routes=s.subnet_routes,
        dns_servers=sorted({ip for servers in ts.split_dns.values() for ip in servers}),
        ssh_users=list(ts.ssh.users) if ts.ssh.enabled else [],
        ssh_check=s.is_prod,
        model_ports=sorted({m.port for m in s.models.values()}) or [VLLM.port],
        operator_tags=list(ts.operator.tags),
        proxy_tags=list(ts.operator.proxy_tags),
        api_ports=list(cluster_network(s).api_ports),
    )
    operator = None
    if s.tailscale_operator:
        namespace = ns.system["tailscale"]
        use_stack_client = ts.operator.oauth_client == "stack"
        operator = OperatorArgs(
            namespace=namespace.namespace_name,
            hostname=k8s_name(cluster_name, "operator"),
            tags=list(ts.operator.tags),
            proxy_tags=list(ts.operator.proxy_tags),
            labels=standard_labels(env=env, team=s.team, app="tailscale", component="mesh"),
            client_id=secrets[OAUTH_CLIENT_ID_KEY] if use_stack_client else None,
            client_secret=secrets[OAUTH_CLIENT_SECRET_KEY] if use_stack_client else None,
            node_selector=dict(SYSTEM_POOL_SELECTOR) if s.on_aws else None,
            routes=s.subnet_routes,
            router_hostname=k8s_name(cluster_name, "router"),
            grafana_namespace=s.monitoring.namespace if s.monitoring.enabled else None,
            grafana_host=k8s_name("grafana", env),
            depends_on=[namespace],
            image_digests=s.chart_digests("tailscale-operator"),
        )
    return TailscaleMesh(
        "mesh",
        TailscaleMeshArgs(
            policy=policy,
            auth_keys={
                n: AuthKeyArgs(tags=list(k.tags), reusable=k.reusable, description=k.description)
                for n, k in ts.auth_keys.items()
            },
            key_expiry_seconds=ts.key_expiry_seconds,
            # Outside prod: no value, so a dev stack never turns a shared tailnet's approval off.
            device_approval=True if s.is_prod else None,
            magic_dns=ts.magic_dns,
            split_dns={d: list(v) for d, v in ts.split_dns.items()},
            operator=operator,
            own_policy=ts.policy == "own",
        ),
        opts=pulumi.ResourceOptions(providers=[provider, c.k8s_provider]),
    )


def platform_services_layer(
    s: StackSettings, c: ClusterLayer, ns: Namespaces, monitoring: MonitoringStack | None, cluster_name: str
) -> None:
    """What makes GPUs schedulable and pools elastic: NVIDIA's software and cluster-autoscaler."""
    after_monitoring = [monitoring] if monitoring else []
    GpuSoftware(
        "gpu",
        GpuSoftwareArgs(
            stack=s.gpu.stack,
            namespace=ns.system["gpu-system"].namespace_name,
            pools=dict(s.node_pools),
            accelerated_ami=s.on_aws,
            runtime_class=NVIDIA_RUNTIME_CLASS if s.nvidia_runtime_class else None,
            dcgm_service_monitor=monitoring is not None and s.monitoring.dcgm,
            preinstalled=s.preinstalled,
            chart_digests=s.all_chart_digests,
        ),
        opts=pulumi.ResourceOptions(provider=c.k8s_provider, depends_on=after_monitoring),
    )
    if c.aws is not None and s.cluster.eks is not None:
        ClusterAutoscaler(
            "autoscaler",
            ClusterAutoscalerArgs(
                cluster_name=cluster_name,
                kubernetes_version=s.cluster.kubernetes_version,
                region=s.cluster.eks.region,
                namespace=ns.system["autoscaler"].namespace_name,
                oidc_provider_arn=c.aws.cluster.oidc_provider_arn,
                oidc_issuer=c.aws.cluster.oidc_issuer,
                tags=c.aws.tags,
                serving_pools=s.serving_pools,
                service_monitor=monitoring is not None,
                preinstalled=s.preinstalled,
                image_digests=s.chart_digests("cluster-autoscaler"),
            ),
            opts=pulumi.ResourceOptions(
                providers=c.all_providers, depends_on=[*c.aws.pools.values(), *after_monitoring]
            ),
        )


def storage_layer(s: StackSettings, c: ClusterLayer, ns: Namespaces) -> SharedStorage | None:
    """Default block storage, local NVMe volumes and the shared model-weights store."""
    storage = s.storage
    labels = standard_labels(env=s.environment.value, team=s.team, app="storage", component="storage")
    if c.aws is not None:
        BlockStorage(
            "block-storage", BlockStorageArgs(kms_key_arn=c.aws.cluster.kms_key_arn, labels=labels), opts=c.k8s_opts
        )
    if storage.nvme.enabled:
        NvmeStorage(
            "nvme-storage",
            NvmeStorageArgs(
                namespace=ns.system["storage-system"].namespace_name,
                pools=s.local_pv_pools,
                host_dir=storage.nvme.host_dir,
                labels=labels,
                preinstalled=s.preinstalled,
                chart_digests=s.all_chart_digests,
            ),
            opts=c.k8s_opts,
        )
    if storage.shared.backend == "none":
        return None
    return SharedStorage(
        "shared-storage",
        SharedStorageArgs(
            backend=storage.shared.backend,
            labels=labels,
            retain=s.is_prod,
            cache_namespaces={n: ns.workload[n] for n in s.cache_namespaces},
            cache_class=storage.model_cache_class,
            cache_size=storage.model_cache_size,
            writer_fleets=s.fleet_weight_volumes,
            efs=EfsArgs(
                vpc_id=c.aws.network.vpc_id,
                subnet_ids=list(c.aws.network.private_subnets),
                node_security_group_id=c.aws.cluster.cluster_security_group_id,
                backups=storage.shared.backups,
                throughput_mode=storage.shared.throughput_mode,
                tags=c.aws.tags,
                csi_role_name=c.aws.cluster.efs_csi_role.name if c.aws.cluster.efs_csi_role else None,
                account_id=c.aws.account_id,
                key_admins=s.cluster.eks.key_admins if s.cluster.eks else [],
            )
            if c.aws is not None
            else None,
            nfs=storage.shared.nfs,
            driver_namespace=ns.system["storage-system"].namespace_name if s.needs_storage_system else None,
            nfs_controller_replicas=2 if s.is_prod else 1,
            preinstalled=s.preinstalled,
            chart_digests=s.all_chart_digests,
        ),
        opts=pulumi.ResourceOptions(providers=c.all_providers),
    )


def _pick(key: str, refs: dict[str, str]) -> str:
    return refs[key]


def workloads_layer(
    s: StackSettings,
    c: ClusterLayer,
    ns: Namespaces,
    shared_storage: SharedStorage | None,
    monitoring: MonitoringStack | None,
    registry: Registry | None,
    mesh: TailscaleMesh | None,
    secrets: dict[str, pulumi.Output[str]],
) -> dict[str, ModelRunnerFleet]:
    """KEDA when a fleet scales on queue depth, metrics-server when one scales on CPU, then one
    ModelRunnerFleet per model."""
    keda = (
        Keda(
            "keda",
            KedaArgs(
                namespace=ns.system["keda"].namespace_name,
                service_monitor=monitoring is not None,
                watch_namespaces=s.keda_namespaces,
                preinstalled=s.preinstalled,
                chart_digests=s.all_chart_digests,
            ),
            opts=pulumi.ResourceOptions(provider=c.k8s_provider, depends_on=[monitoring] if monitoring else []),
        )
        if s.needs_keda
        else None
    )
    if s.needs_metrics_server:
        # CPU HPAs (engines without a queue metric) read the resource metrics API it serves.
        MetricsServer(
            "metrics-server",
            MetricsServerArgs(
                namespace=ns.system["metrics-server"].namespace_name,
                node_selector=dict(SYSTEM_POOL_SELECTOR) if s.on_aws else None,
                replicas=2 if s.is_prod else 1,
                service_monitor=monitoring is not None,
                preinstalled=s.preinstalled,
                chart_digests=s.all_chart_digests,
            ),
            opts=pulumi.ResourceOptions(provider=c.k8s_provider, depends_on=[monitoring] if monitoring else []),
        )
    # An external Prometheus when settings name one, else the stack's own (settings require one of them).
    queue_metrics: pulumi.Input[str] = s.monitoring.prometheus_url or (monitoring.prometheus_url if monitoring else "")
    fleets = {}
    for name, model in sorted(s.models.items()):
        keys = s.fleet_secret_keys(name)
        image: pulumi.Input[str] = s.model_images.for_engine(model.engine)
        folder = model.engine_record.image  # None: the engine always runs modelImages.<engine>
        if registry is not None and folder is not None and s.engine_image_built(model.engine):
            image = registry.image_refs.apply(partial(_pick, folder))
        fleet = fleet_spec(
            name,
            model,
            image=image,
            env=s.environment.value,
            team=s.team,
            api_key=keys.api_key is not None or s.generates_api_key(name),
            hf_token=keys.hf_token is not None,
            monitoring_namespace=s.scrape_namespace,
            runtime_class=NVIDIA_RUNTIME_CLASS if s.nvidia_runtime_class else None,
            pull_secret=registry.pull_secret if registry is not None else None,
            own_weights_volume=name in s.fleet_weight_volumes,
            # Kueue holds unlabelled Jobs in batch namespaces: the staging Job names a queue there.
            stage_queue=min(s.namespaces[model.namespace].queues) if model.namespace in s.batch_namespaces else None,
            gateway=fleet_gateway(s, name),
        )
        fleets[name] = ModelRunnerFleet(
            f"model-{name}",
            ModelRunnerFleetArgs(
                fleet=fleet,
                api_key=secrets[keys.api_key] if keys.api_key else None,
                generate_api_key=s.generates_api_key(name),
                hf_token=secrets[keys.hf_token] if keys.hf_token else None,
                prometheus_url=queue_metrics,
                prometheus_external=s.queue_metrics_external,
                keda=keda,
                service_monitor=s.monitoring.enabled,
                monitoring=monitoring,
                tailnet_operator=mesh.operator if mesh is not None else None,
                depends_on=[ns.workload[model.namespace], *([shared_storage] if shared_storage else [])],
            ),
            opts=c.k8s_opts,
        )
    return fleets


def batch_layer(
    s: StackSettings,
    c: ClusterLayer,
    ns: Namespaces,
    shared_storage: SharedStorage | None,
    monitoring: MonitoringStack | None,
    registry: Registry | None,
    secrets: dict[str, pulumi.Output[str]],
) -> dict[str, BatchJob]:
    """Kueue and its queues, then one BatchJob per ``jobs:`` entry (submitted to its LocalQueue)."""
    if not s.batch.enabled:
        return {}
    env, team = s.environment.value, s.team
    queue = BatchQueue(
        "batch",
        BatchQueueArgs(
            namespace=ns.system["kueue-system"].namespace_name,
            queues={
                name: QueueSpec(
                    pool=q.pool,
                    quota=queue_quota(s.node_pools[q.pool], s.queue_gpus(name)),
                    namespaces=s.queue_namespaces(name),
                )
                for name, q in sorted(s.batch.queues.items())
            },
            cohort=s.batch.cohort,
            pods_ready_timeout=s.batch.pods_ready_timeout,
            labels=standard_labels(env=env, team=team, app="kueue", component="batch-queue"),
            service_monitor=monitoring is not None,
            prometheus_namespace=s.monitoring.namespace,
            node_selector=dict(SYSTEM_POOL_SELECTOR) if s.on_aws else None,
            replicas=2 if s.is_prod else 1,
            preinstalled=s.preinstalled,
            image_digests=s.chart_digests("kueue"),
            depends_on=[
                ns.system["kueue-system"],
                *(ns.workload[n] for n in s.batch_namespaces),
                *([monitoring] if monitoring else []),
            ],
        ),
        opts=c.k8s_opts,
    )
    jobs = {}
    for name, job in sorted(s.jobs.items()):
        image: pulumi.Input[str] = job.image
        if registry is not None and s.job_image_built(name):
            image = registry.image_refs.apply(partial(_pick, job.image))
        token_key = s.job_hf_token_key(name)
        plan = JobPlan(
            name=name,
            spec=job,
            pool=s.batch.queues[job.queue].pool,
            image=image,
            env=env,
            team=team,
            hf_token_secret=k8s_name(name, "hf-token") if token_key else None,
            runtime_class=NVIDIA_RUNTIME_CLASS if s.nvidia_runtime_class else None,
            pull_secret=registry.pull_secret if registry is not None else None,
            output_class=SHARED_CLASS if job.output is not None and job.output.volume is not None else None,
        )
        s3 = job.output.s3 if job.output is not None else None
        jobs[name] = BatchJob(
            f"job-{name}",
            BatchJobArgs(
                job=plan,
                hf_token=secrets[token_key] if token_key else None,
                # Settings allow an S3 output only on EKS.
                s3=S3OutputArgs(
                    oidc_provider_arn=c.aws.cluster.oidc_provider_arn,
                    oidc_issuer=c.aws.cluster.oidc_issuer,
                    tags=c.aws.tags,
                )
                if s3 is not None and c.aws is not None
                else None,
                retain_output=s.is_prod,
                depends_on=[ns.workload[job.namespace], queue, *([shared_storage] if shared_storage else [])],
            ),
            opts=pulumi.ResourceOptions(providers=c.all_providers),
        )
    return jobs


settings = load_settings()
for key, message in settings.warnings:
    pulumi.log.warn(f"{PROJECT}:{key}: {message}")
secrets = load_secrets(settings)
cluster_name = k8s_name(settings.cluster.name, pulumi.get_stack())

cost = stack_cost(settings)

cluster = cluster_layer(settings, cluster_name, cost)
namespaces = namespaces_layer(settings, cluster)
registry = registry_layer(settings, cluster, namespaces, cluster_name, secrets)
monitoring = observability_layer(settings, cluster, namespaces, cluster_name, secrets)
mesh = mesh_layer(settings, cluster, namespaces, cluster_name, secrets)
platform_services_layer(settings, cluster, namespaces, monitoring, cluster_name)
shared_storage = storage_layer(settings, cluster, namespaces)
fleets = workloads_layer(settings, cluster, namespaces, shared_storage, monitoring, registry, mesh, secrets)
jobs = batch_layer(settings, cluster, namespaces, shared_storage, monitoring, registry, secrets)
deploy_gateway(
    settings,
    k8s_provider=cluster.k8s_provider,
    namespaces=namespaces.workload,
    gateway_namespace=namespaces.system.get("gateway"),
    network=cluster_network(settings),
    monitoring=monitoring,
    tailnet_operator=mesh.operator if mesh is not None else None,
    after=list(fleets.values()),
)

pulumi.export("environment", settings.environment.value)
pulumi.export("clusterName", cluster_name)
pulumi.export("kubeconfig", pulumi.Output.secret(cluster.kubeconfig))
pulumi.export("workloadNamespaces", sorted(namespaces.workload))
pulumi.export("systemNamespaces", sorted(namespaces.system))
pulumi.export(
    "models",
    {name: {"endpoint": f.endpoint, "service": f.service_name, "namespace": f.namespace} for name, f in fleets.items()},
)
api_keys = {name: f.api_key for name, f in fleets.items() if f.api_key is not None}
if api_keys:
    # Only as a secret: `pulumi stack output modelApiKeys --show-secrets` for a client's key.
    pulumi.export("modelApiKeys", pulumi.Output.secret(api_keys))
pulumi.export("storageClasses", sorted(settings.storage_classes))
pulumi.export("costEstimate", cost)
if registry is not None:
    pulumi.export("images", registry.image_refs)
    pulumi.export("pullThroughCachePrefixes", registry.cache_prefixes)
if monitoring is not None:
    pulumi.export("prometheusUrl", monitoring.prometheus_url)
if jobs:
    pulumi.export(
        "jobs",
        {
            name: {
                "kind": j.kind,
                "name": j.job_name,
                **({"rerun": j.rerun} if settings.jobs[name].run == "now" else {}),
            }
            for name, j in jobs.items()
        },
    )
if mesh is not None:
    tailnet = settings.tailscale.tailnet
    pulumi.export(
        "tailnetEndpoints",
        {
            name: f"https://{tailnet_host(name, settings.environment.value)}.{tailnet}/v1"
            for name in settings.tailnet_fleets
        },
    )
    # Only as a secret: `pulumi stack output tailnetAuthKeys --show-secrets` to join a machine.
    pulumi.export("tailnetAuthKeys", pulumi.Output.secret(mesh.auth_keys))
