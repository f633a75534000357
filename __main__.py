"""ai-infra: load settings -> make providers -> instantiate components -> export.

Everything with logic lives in ``components/``; this file only wires it together so a reader
sees the whole platform at a glance.
"""

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.block_storage import BlockStorage, BlockStorageArgs
from components.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from components.core.labels import aws_tags, standard_labels
from components.core.naming import k8s_name
from components.core.settings import load_secrets, load_settings
from components.eks_cluster import EksCluster, EksClusterArgs
from components.gpu_node_pool import GpuNodePool, GpuNodePoolArgs
from components.gpu_software import GpuSoftware, GpuSoftwareArgs
from components.keda import Keda, KedaArgs
from components.model_runner_fleet import ModelRunnerFleet, ModelRunnerFleetArgs
from components.namespaces import PlatformNamespace, PlatformNamespaceArgs
from components.network import Network, NetworkArgs
from components.nvme_storage import NvmeStorage, NvmeStorageArgs
from components.scheduling import SchedulingGuardrails, SchedulingGuardrailsArgs
from components.shared_storage import EfsArgs, SharedStorage, SharedStorageArgs
from components.specs.cost import cost_estimate
from components.specs.model_runner import FleetSpec
from components.specs.namespace import SYSTEM_NAMESPACES

settings = load_settings()
secrets = load_secrets(settings)
env, team, stack = settings.environment.value, settings.team, pulumi.get_stack()
cluster_name = k8s_name(settings.cluster.name, stack)

# -- cluster and providers --------------------------------------------------------------------
eks = settings.cluster.eks
if settings.on_aws and eks is not None:
    tags = aws_tags(env=env, team=team, cost_center=settings.cost_center)
    aws_provider = aws.Provider("aws", region=eks.region, default_tags=aws.ProviderDefaultTagsArgs(tags=tags))
    aws_opts = pulumi.ResourceOptions(provider=aws_provider)
    invoke_opts = pulumi.InvokeOptions(provider=aws_provider)
    account_id = aws.get_caller_identity(opts=invoke_opts).account_id
    zones = list(aws.get_availability_zones(state="available", opts=invoke_opts).names[: eks.availability_zones])
    network = Network(
        "network",
        NetworkArgs(
            cluster_name=cluster_name,
            vpc_cidr=eks.vpc_cidr,
            availability_zones=zones,
            single_nat=eks.nat_gateways == "single",
            tags=tags,
        ),
        opts=aws_opts,
    )
    cluster = EksCluster(
        "eks",
        EksClusterArgs(
            cluster_name=cluster_name,
            kubernetes_version=settings.cluster.kubernetes_version,
            eks=eks,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            account_id=account_id,
            region=eks.region,
            tags=tags,
            efs_csi=settings.storage.shared.backend == "efs",
            protect_data=settings.is_prod,
            admin_principal_arns=list(eks.admin_principal_arns),
        ),
        opts=aws_opts,
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
                nvme_host_dir=settings.storage.nvme.host_dir,
                env=env,
                team=team,
                tags=tags,
            ),
            opts=aws_opts,
        )
        for pool_name, pool in sorted(settings.node_pools.items())
    }
    k8s_provider = k8s.Provider("k8s", kubeconfig=cluster.kubeconfig, enable_server_side_apply=True)
    kubeconfig: pulumi.Output[str] | str = cluster.kubeconfig
else:
    existing = settings.cluster.existing
    assert existing is not None  # settings guarantee it in existing mode
    k8s_provider = k8s.Provider(
        "k8s", kubeconfig=existing.kubeconfig, context=existing.context, enable_server_side_apply=True
    )
    kubeconfig = existing.kubeconfig
k8s_opts = pulumi.ResourceOptions(provider=k8s_provider)

# -- namespaces and guardrails ----------------------------------------------------------------
storage = settings.storage
needs_storage_system = storage.nvme.enabled or storage.shared.backend == "nfs"
needs_keda = any(m.engine == "vllm" and m.autoscaled for m in settings.models.values())
wanted_system_namespaces = {
    "gpu-system": True,
    "autoscaler": settings.on_aws,
    "storage-system": needs_storage_system,
    "keda": needs_keda,
}
system_namespaces = {
    name: PlatformNamespace(
        f"ns-{name}",
        PlatformNamespaceArgs(
            name=name,
            labels=standard_labels(env=env, team=team, app=name, component="system-namespace"),
            pod_security=level,
        ),
        opts=k8s_opts,
    )
    for name, level in sorted(SYSTEM_NAMESPACES.items())
    if wanted_system_namespaces[name]
}
workload_namespaces = {
    name: PlatformNamespace(
        f"ns-{name}",
        PlatformNamespaceArgs(
            name=name,
            labels=standard_labels(env=env, team=team, app=name, component="namespace"),
            pod_security="restricted",
            workload=ns_settings,
        ),
        opts=k8s_opts,
    )
    for name, ns_settings in sorted(settings.namespaces.items())
}
SchedulingGuardrails(
    "scheduling",
    SchedulingGuardrailsArgs(
        labels=standard_labels(env=env, team=team, app="scheduling", component="guardrails"),
        nvidia_runtime_class=settings.nvidia_runtime_class,
    ),
    opts=k8s_opts,
)
GpuSoftware(
    "gpu",
    GpuSoftwareArgs(
        stack=settings.gpu.stack,
        namespace=system_namespaces["gpu-system"].namespace_name,
        pools=dict(settings.node_pools),
        accelerated_ami=settings.on_aws,
    ),
    opts=k8s_opts,
)
if settings.on_aws and eks is not None:
    ClusterAutoscaler(
        "autoscaler",
        ClusterAutoscalerArgs(
            cluster_name=cluster_name,
            kubernetes_version=settings.cluster.kubernetes_version,
            region=eks.region,
            namespace=system_namespaces["autoscaler"].namespace_name,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            tags=tags,
            serving_pools=[n for n, p in sorted(settings.node_pools.items()) if p.purpose == "serving"],
        ),
        opts=pulumi.ResourceOptions(providers=[aws_provider, k8s_provider], depends_on=list(pools.values())),
    )

# -- storage ----------------------------------------------------------------------------------
storage_labels = standard_labels(env=env, team=team, app="storage", component="storage")
if settings.on_aws:
    BlockStorage(
        "block-storage", BlockStorageArgs(kms_key_arn=cluster.kms_key_arn, labels=storage_labels), opts=k8s_opts
    )
if storage.nvme.enabled:
    NvmeStorage(
        "nvme-storage",
        NvmeStorageArgs(
            namespace=system_namespaces["storage-system"].namespace_name,
            pools=settings.local_pv_pools,
            host_dir=storage.nvme.host_dir,
            labels=storage_labels,
        ),
        opts=k8s_opts,
    )
shared_storage: SharedStorage | None = None
if storage.shared.backend != "none":
    shared_storage = SharedStorage(
        "shared-storage",
        SharedStorageArgs(
            backend=storage.shared.backend,
            labels=storage_labels,
            retain=settings.is_prod,
            cache_namespaces={n: workload_namespaces[n] for n, ns in settings.namespaces.items() if ns.model_cache},
            cache_class=storage.model_cache_class,
            cache_size=storage.model_cache_size,
            efs=EfsArgs(
                vpc_id=network.vpc_id,
                subnet_ids=list(network.private_subnets),
                node_security_group_id=cluster.cluster_security_group_id,
                backups=storage.shared.backups,
                throughput_mode=storage.shared.throughput_mode,
                tags=tags,
            )
            if settings.on_aws
            else None,
            nfs=storage.shared.nfs,
            driver_namespace=system_namespaces["storage-system"].namespace_name if needs_storage_system else None,
            nfs_controller_replicas=2 if settings.is_prod else 1,
        ),
        opts=pulumi.ResourceOptions(providers=[aws_provider, k8s_provider] if settings.on_aws else [k8s_provider]),
    )

# -- model fleets ----------------------------------------------------------------------------
keda = Keda("keda", KedaArgs(namespace=system_namespaces["keda"].namespace_name), opts=k8s_opts) if needs_keda else None
fleets = {}
for model_name, model in sorted(settings.models.items()):
    # A model's own token key wins; otherwise the stack-wide hfToken (vLLM downloads from the Hub).
    hf_token = secrets.model_keys.get(model.hf_token_secret or "") or secrets.hf_token
    hf_token = hf_token if model.engine == "vllm" else None
    api_key = secrets.model_keys.get(model.api_key_secret or "")
    fleet = FleetSpec(
        name=model_name,
        spec=model,
        image=getattr(settings.model_images, model.engine),
        env=env,
        team=team,
        api_key_secret=k8s_name(model_name, "api-key") if api_key is not None else None,
        hf_token_secret=k8s_name(model_name, "hf-token") if hf_token is not None else None,
        monitoring_namespace=settings.monitoring.namespace if settings.monitoring.enabled else None,
    )
    fleets[model_name] = ModelRunnerFleet(
        f"model-{model_name}",
        ModelRunnerFleetArgs(
            fleet=fleet,
            api_key=api_key,
            hf_token=hf_token,
            prometheus_url=settings.monitoring.prometheus_url,
            keda=keda,
            service_monitor=settings.monitoring.enabled,
            depends_on=[workload_namespaces[model.namespace], *([shared_storage] if shared_storage else [])],
        ),
        opts=k8s_opts,
    )

# -- outputs ----------------------------------------------------------------------------------
pulumi.export("environment", env)
pulumi.export("clusterName", cluster_name)
pulumi.export("kubeconfig", pulumi.Output.secret(kubeconfig))
pulumi.export("workloadNamespaces", sorted(workload_namespaces))
pulumi.export("systemNamespaces", sorted(system_namespaces))
pulumi.export(
    "models",
    {name: {"endpoint": f.endpoint, "service": f.service_name, "namespace": f.namespace} for name, f in fleets.items()},
)
pulumi.export("storageClasses", sorted(settings.storage_classes))
pulumi.export("gpuCostEstimate", cost_estimate(dict(settings.node_pools)) if settings.on_aws else {})
pulumi.export("policyPackDir", settings.policies.pack_dir)
pulumi.export("policyConfigFile", settings.policy_config_file)
