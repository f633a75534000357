"""``GpuNodePool``: one EKS managed node group of GPU instances that can scale to zero.

Managed node groups do not copy their tags to the Auto Scaling group, yet cluster-autoscaler
reads node-template tags from the ASG to imagine a node when the group is at zero. So the
pool tags its ASG directly (``autoscaling.Tag`` per key). ``maxSize`` is lowered to respect
the pool's GPU cap; there is no SSH (``remoteAccess`` unset; use SSM).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.core.labels import POOL_LABEL
from components.core.naming import k8s_name, resource_name
from components.core.settings import NodePoolSettings
from components.specs import node_pool as spec

TYPE = "ai-infra:aws:GpuNodePool"


@dataclass(frozen=True, kw_only=True)
class GpuNodePoolArgs:
    pool_name: str
    pool: NodePoolSettings
    cluster_name: pulumi.Input[str]
    cluster_name_plain: str
    """The cluster's name as a plain string (autoscaler tag keys must be known at preview)."""
    node_role_arn: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]
    kms_key_arn: pulumi.Input[str]
    nvme_host_dir: str
    env: str
    team: str
    tags: dict[str, str]


class GpuNodePool(pulumi.ComponentResource):
    """Children: LaunchTemplate, NodeGroup (GPU taint, labels), autoscaling Tags on its ASG."""

    node_group_name: pulumi.Output[str]
    labels: dict[str, str]

    def __init__(self, name: str, args: GpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        pool = args.pool
        self.labels = spec.node_labels(args.pool_name, pool, env=args.env, team=args.team)
        tags = {**args.tags, POOL_LABEL: args.pool_name}
        self.launch_template = aws.ec2.LaunchTemplate(
            resource_name(name, "lt"),
            spec.launch_template_args(
                name_prefix=f"{k8s_name(args.cluster_name_plain, args.pool_name)}-",
                root_volume_gib=pool.root_volume_gib,
                kms_key_arn=args.kms_key_arn,
                user_data=spec.user_data(pool, args.nvme_host_dir),
                tags=tags,
                bottlerocket=pool.ami_type.startswith("BOTTLEROCKET"),
            ),
            opts=child,
        )
        self.node_group = aws.eks.NodeGroup(
            resource_name(name, "ng"),
            cluster_name=args.cluster_name,
            node_group_name_prefix=f"{args.pool_name}-",
            node_role_arn=args.node_role_arn,
            subnet_ids=args.subnet_ids,
            ami_type=pool.ami_type,
            capacity_type=pool.capacity_type,
            instance_types=list(pool.instance_types),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=pool.min_size, desired_size=pool.desired_size, max_size=pool.max_nodes
            ),
            labels=self.labels,
            taints=[aws.eks.NodeGroupTaintArgs(**t) for t in spec.gpu_taints()],
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=self.launch_template.id, version=self.launch_template.latest_version.apply(str)
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            tags={**tags, **spec.autoscaler_tags(args.cluster_name_plain, pool, self.labels)},
            opts=pulumi.ResourceOptions(
                parent=self,
                # The autoscaler owns desiredSize once the group exists; don't fight it on every up.
                ignore_changes=["scalingConfig.desiredSize"],
                # Launch-template name prefixes are unique per pool; create the new group first.
                delete_before_replace=False,
            ),
        )
        asg_name = self.node_group.resources.apply(_asg_name)
        for key, value in spec.autoscaler_tags(args.cluster_name_plain, pool, self.labels).items():
            aws.autoscaling.Tag(
                resource_name(name, f"asg-tag-{k8s_name(key.rsplit('/', 1)[-1], max_len=40)}-{_digest(key)}"),
                autoscaling_group_name=asg_name,
                tag=aws.autoscaling.TagTagArgs(key=key, value=value, propagate_at_launch=False),
                opts=child,
            )
        self.node_group_name = self.node_group.node_group_name
        self.register_outputs({"node_group_name": self.node_group_name})


def _asg_name(resources: Sequence[aws.eks.outputs.NodeGroupResource] | None) -> str:
    """The Auto Scaling group behind a managed node group (one per group)."""
    groups = (resources or [])[0].autoscaling_groups or []
    return str(groups[0].name)


def _digest(key: str) -> str:
    """Tag keys share their last segment (e.g. ``nvidia.com/gpu``); the digest keeps names unique."""
    return hashlib.sha256(key.encode()).hexdigest()[:6]
