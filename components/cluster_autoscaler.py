"""``ClusterAutoscaler``: scales the GPU node groups, including from and to zero.

Installed from the official chart with an IRSA role that may only change ASGs tagged as owned
by this cluster. The ``priority`` expander prefers on-demand serving pools; ``least-waste``
breaks ties. Chart line and image tag follow the cluster's minor version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.core.charts import CLUSTER_AUTOSCALER_LINES
from components.core.naming import resource_name
from components.resources.helm import pinned_release
from components.resources.irsa import irsa_role
from components.specs import aws_iam
from components.specs.helm_values import cluster_autoscaler_values

TYPE = "ai-infra:k8s:ClusterAutoscaler"
SERVICE_ACCOUNT = "cluster-autoscaler"


@dataclass(frozen=True, kw_only=True)
class ClusterAutoscalerArgs:
    cluster_name: str
    kubernetes_version: str
    region: str
    namespace: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    serving_pools: list[str]
    tags: dict[str, str]
    service_monitor: bool = False
    preinstalled: frozenset[str] = frozenset()
    """Charts the cluster already runs (``addons``): their releases are not created."""
    image_digests: dict[str, str] = field(default_factory=dict)
    """The chart's images by digest (``addons.<chart>.imageDigests``; prod requires them)."""
    """Ship the chart's ServiceMonitor (the monitoring stack, and so its CRD, exists)."""


class ClusterAutoscaler(pulumi.ComponentResource):
    """Children: IAM Policy + IRSA Role, helm.v3.Release ``cluster-autoscaler``."""

    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterAutoscalerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        policy = aws.iam.Policy(
            resource_name(name, "policy"),
            description="cluster-autoscaler: scale only ASGs owned by this cluster",
            policy=aws_iam.cluster_autoscaler_policy(args.cluster_name),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        irsa = irsa_role(
            self,
            name,
            oidc_provider_arn=args.oidc_provider_arn,
            oidc_issuer=args.oidc_issuer,
            namespace="autoscaler",
            service_account=SERVICE_ACCOUNT,
            policy_arns=[policy.arn],
            tags=args.tags,
        )
        chart, image_tag = CLUSTER_AUTOSCALER_LINES[args.kubernetes_version]
        values = irsa.role.arn.apply(
            lambda arn: cluster_autoscaler_values(
                cluster_name=args.cluster_name,
                region=args.region,
                role_arn=arn,
                image_tag=image_tag,
                gpu_pools=args.serving_pools,
                service_monitor=args.service_monitor,
            )
        )
        pinned_release(
            self,
            resource_name(name, "release"),
            chart,
            namespace=args.namespace,
            values=values,
            depends_on=irsa.permissions,
            preinstalled=args.preinstalled,
            image_digests=args.image_digests,
        )
        self.role_arn = irsa.role.arn
        self.register_outputs({"role_arn": self.role_arn})
