"""The platform-services layer: what makes GPUs schedulable and pools elastic — NVIDIA's software
and, where the stack owns the node groups, the cluster-autoscaler."""

from __future__ import annotations

import pulumi

from components.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from components.gpu_software import GpuSoftware, GpuSoftwareArgs
from components.monitoring_stack import MonitoringStack
from stack.context import StackContext
from stack.namespaces import Namespaces


def platform_services_layer(ctx: StackContext, ns: Namespaces, monitoring: MonitoringStack | None) -> None:
    s, target = ctx.settings, ctx.target
    after_monitoring: list[pulumi.Resource] = [monitoring] if monitoring else []
    GpuSoftware(
        "gpu",
        GpuSoftwareArgs(
            stack=s.gpu.stack,
            namespace=ns.system["gpu-system"].namespace_name,
            pools=dict(s.node_pools),
            accelerated_ami=s.gpu_driver_on_nodes,
            runtime_class=ctx.runtime_class,
            dcgm_service_monitor=monitoring is not None and s.monitoring.dcgm,
            preinstalled=s.preinstalled,
            chart_digests=s.all_chart_digests,
        ),
        opts=pulumi.ResourceOptions(provider=target.k8s_provider, depends_on=after_monitoring),
    )
    scaling = target.node_autoscaling
    if scaling is None:  # the cluster's machines are not ours to scale
        return
    ClusterAutoscaler(
        "autoscaler",
        ClusterAutoscalerArgs(
            cluster_name=ctx.cluster_name,
            kubernetes_version=s.cluster.kubernetes_version,
            region=scaling.region,
            namespace=ns.system["autoscaler"].namespace_name,
            oidc_provider_arn=scaling.identity.oidc_provider_arn,
            oidc_issuer=scaling.identity.oidc_issuer,
            tags=scaling.identity.tags,
            serving_pools=s.serving_pools,
            service_monitor=monitoring is not None,
            preinstalled=s.preinstalled,
            image_digests=s.chart_digests("cluster-autoscaler"),
        ),
        opts=ctx.opts(depends_on=[*scaling.pools, *after_monitoring]),
    )
