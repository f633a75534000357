"""``Network``: the VPC an EKS cluster lives in.

Private subnets (one per AZ) hold every node; public subnets exist only for the NAT gateways
(one in dev to save money, one per AZ in prod so an AZ outage does not cut egress). Subnets
carry the tags the AWS load balancer controller uses to place internal load balancers; public
subnets are tagged for internet-facing ones only outside prod, where nothing should be public.

Every VPC records its traffic: flow logs (all traffic) into a log group encrypted with its own
KMS key, delivered by a role limited to that group. The VPC's default security group is adopted
and emptied, so nothing that lands in it by accident can talk (rule 89).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.core.naming import resource_name
from components.specs import aws_iam

TYPE = "ai-infra:aws:Network"


def subnet_cidrs(vpc_cidr: str, azs: int) -> tuple[list[str], list[str]]:
    """Carve ``vpc_cidr``: large private subnets (nodes, pod IPs) first, small public ones after."""
    net = ipaddress.IPv4Network(vpc_cidr)  # VPC primary CIDRs are IPv4
    private = list(net.subnets(prefixlen_diff=2))[:azs]  # /18s of a /16: room for pod IPs
    tail = list(net.subnets(prefixlen_diff=2))[3]
    public = list(tail.subnets(new_prefix=min(tail.prefixlen + 4, 28)))[:azs]
    return [str(c) for c in private], [str(c) for c in public]


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    cluster_name: str
    """EKS cluster name, for the kubernetes.io/cluster/<name> subnet tags."""
    vpc_cidr: str
    availability_zones: list[str]
    """AZ names (known length; one private and one public subnet each)."""
    single_nat: bool
    """One NAT gateway for all AZs (dev) instead of one per AZ (prod)."""
    account_id: str
    region: str
    flow_log_retention_days: int
    public_load_balancers: bool
    """Tag public subnets for internet-facing load balancers (never in prod)."""
    retain: bool
    """Keep the flow-log key and group (prod): protect and retain on delete."""
    tags: dict[str, str]
    key_admins: list[str] = field(default_factory=list)
    """Principals allowed to disable, delete or re-policy the flow-log key (see aws_iam.key_admin_guard)."""


class Network(pulumi.ComponentResource):
    """Children: Vpc, its emptied DefaultSecurityGroup, flow logs (Key, LogGroup, Role, FlowLog),
    InternetGateway, public/private Subnets and RouteTables, Eips, NatGateways."""

    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags
        self.vpc = aws.ec2.Vpc(
            resource_name(name, "vpc"),
            cidr_block=args.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**tags, "Name": args.cluster_name},
            opts=child,
        )
        # Adopting the default security group with no rules removes the ones AWS created.
        aws.ec2.DefaultSecurityGroup(
            resource_name(name, "default-sg"),
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[],
            tags={**tags, "Name": f"{args.cluster_name}-default-unused"},
            opts=child,
        )
        self._flow_logs(name, args)
        igw = aws.ec2.InternetGateway(
            resource_name(name, "igw"), vpc_id=self.vpc.id, tags={**tags, "Name": args.cluster_name}, opts=child
        )
        private_cidrs, public_cidrs = subnet_cidrs(args.vpc_cidr, len(args.availability_zones))

        public_rt = aws.ec2.RouteTable(
            resource_name(name, "public-rt"),
            vpc_id=self.vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags={**tags, "Name": f"{args.cluster_name}-public"},
            opts=child,
        )
        nats: list[aws.ec2.NatGateway] = []
        private_ids: list[pulumi.Output[str]] = []
        self.private_route_table_ids: list[pulumi.Output[str]] = []
        """The private subnets' route tables (``_private_subnet`` adds each; an S3 gateway endpoint uses them)."""
        for i, az in enumerate(args.availability_zones):
            public = self._public_subnet(name, args, az, public_cidrs[i], public_rt)
            if i == 0 or not args.single_nat:
                nats.append(self._nat_gateway(name, args, az, public, igw))
            nat = nats[0] if args.single_nat else nats[i]
            private_ids.append(self._private_subnet(name, args, az, private_cidrs[i], nat).id)

        self.vpc_id = self.vpc.id
        # Both forms: a list output for the cluster, and one output per AZ where a count must be known.
        self.private_subnets = private_ids
        self.private_subnet_ids = pulumi.Output.all(*private_ids).apply(list)
        self.register_outputs({"vpc_id": self.vpc_id, "private_subnet_ids": self.private_subnet_ids})

    def _public_subnet(
        self, name: str, args: NetworkArgs, az: str, cidr: str, route_table: aws.ec2.RouteTable
    ) -> aws.ec2.Subnet:
        child = pulumi.ResourceOptions(parent=self)
        public = aws.ec2.Subnet(
            resource_name(name, f"public-{az}"),
            vpc_id=self.vpc.id,
            cidr_block=cidr,
            availability_zone=az,
            # Only NAT gateways live here; nothing gets a public IP implicitly.
            map_public_ip_on_launch=False,
            tags={
                **args.tags,
                **_cluster_tag(args.cluster_name),
                "Name": f"{args.cluster_name}-public-{az}",
                **({"kubernetes.io/role/elb": "1"} if args.public_load_balancers else {}),
            },
            opts=child,
        )
        aws.ec2.RouteTableAssociation(
            resource_name(name, f"public-{az}"), subnet_id=public.id, route_table_id=route_table.id, opts=child
        )
        return public

    def _nat_gateway(
        self, name: str, args: NetworkArgs, az: str, public: aws.ec2.Subnet, igw: aws.ec2.InternetGateway
    ) -> aws.ec2.NatGateway:
        eip = aws.ec2.Eip(
            resource_name(name, f"nat-{az}"), domain="vpc", tags=args.tags, opts=pulumi.ResourceOptions(parent=self)
        )
        return aws.ec2.NatGateway(
            resource_name(name, f"nat-{az}"),
            allocation_id=eip.id,
            subnet_id=public.id,
            tags={**args.tags, "Name": f"{args.cluster_name}-{az}"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
        )

    def _private_subnet(
        self, name: str, args: NetworkArgs, az: str, cidr: str, nat: aws.ec2.NatGateway
    ) -> aws.ec2.Subnet:
        """A private subnet (where nodes and internal load balancers live), routed out through ``nat``."""
        child = pulumi.ResourceOptions(parent=self)
        private = aws.ec2.Subnet(
            resource_name(name, f"private-{az}"),
            vpc_id=self.vpc.id,
            cidr_block=cidr,
            availability_zone=az,
            tags={
                **args.tags,
                **_cluster_tag(args.cluster_name),
                "Name": f"{args.cluster_name}-private-{az}",
                "kubernetes.io/role/internal-elb": "1",
            },
            opts=child,
        )
        rt = aws.ec2.RouteTable(
            resource_name(name, f"private-{az}"),
            vpc_id=self.vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
            tags={**args.tags, "Name": f"{args.cluster_name}-private-{az}"},
            opts=child,
        )
        aws.ec2.RouteTableAssociation(
            resource_name(name, f"private-{az}"), subnet_id=private.id, route_table_id=rt.id, opts=child
        )
        self.private_route_table_ids.append(rt.id)
        return private

    def _flow_logs(self, name: str, args: NetworkArgs) -> None:
        child = pulumi.ResourceOptions(parent=self)
        keep = pulumi.ResourceOptions(parent=self, protect=args.retain, retain_on_delete=args.retain)
        group_name = f"/aws/vpc/{args.cluster_name}/flow-logs"
        key = aws.kms.Key(
            resource_name(name, "flow-logs-key"),
            description=f"ai-infra {args.cluster_name}: VPC flow logs",
            enable_key_rotation=True,
            deletion_window_in_days=30 if args.retain else 7,
            policy=aws_iam.logs_key_policy(args.account_id, args.region, group_name, args.key_admins),
            tags=args.tags,
            opts=keep,
        )
        group = aws.cloudwatch.LogGroup(
            resource_name(name, "flow-logs"),
            name=group_name,
            retention_in_days=args.flow_log_retention_days,
            kms_key_id=key.arn,
            tags=args.tags,
            opts=keep,
        )
        role = aws.iam.Role(
            resource_name(name, "flow-logs"),
            assume_role_policy=aws_iam.assume_role_policy("vpc-flow-logs.amazonaws.com", args.account_id),
            tags=args.tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            resource_name(name, "flow-logs"),
            role=role.id,
            # The group's ARN spelled out (known in a first preview, so IAM policies can judge it).
            policy=aws_iam.flow_logs_role_policy(
                f"arn:aws:logs:{args.region}:{args.account_id}:log-group:{group_name}"
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            resource_name(name, "flow-logs"),
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=600,
            tags=args.tags,
            opts=child,
        )


def _cluster_tag(cluster_name: str) -> dict[str, str]:
    """Subnets the cluster's load balancers may use carry the cluster's tag."""
    return {f"kubernetes.io/cluster/{cluster_name}": "shared"}
