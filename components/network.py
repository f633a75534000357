"""``Network``: the VPC an EKS cluster lives in.

Private subnets (one per AZ) hold every node; public subnets exist only for the NAT gateways
(one in dev to save money, one per AZ in prod so an AZ outage does not cut egress). Subnets
carry the tags the AWS load balancer controller uses to place internal load balancers.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.core.naming import resource_name

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
    tags: dict[str, str]


class Network(pulumi.ComponentResource):
    """Children: Vpc, InternetGateway, public/private Subnets and RouteTables, Eips, NatGateways."""

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
        igw = aws.ec2.InternetGateway(
            resource_name(name, "igw"), vpc_id=self.vpc.id, tags={**tags, "Name": args.cluster_name}, opts=child
        )
        private_cidrs, public_cidrs = subnet_cidrs(args.vpc_cidr, len(args.availability_zones))
        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}

        public_rt = aws.ec2.RouteTable(
            resource_name(name, "public-rt"),
            vpc_id=self.vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags={**tags, "Name": f"{args.cluster_name}-public"},
            opts=child,
        )
        nats: list[aws.ec2.NatGateway] = []
        private_ids: list[pulumi.Output[str]] = []
        for i, az in enumerate(args.availability_zones):
            public = aws.ec2.Subnet(
                resource_name(name, f"public-{az}"),
                vpc_id=self.vpc.id,
                cidr_block=public_cidrs[i],
                availability_zone=az,
                # Only NAT gateways live here; nothing gets a public IP implicitly.
                map_public_ip_on_launch=False,
                tags={**tags, **cluster_tag, "Name": f"{args.cluster_name}-public-{az}", "kubernetes.io/role/elb": "1"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                resource_name(name, f"public-{az}"), subnet_id=public.id, route_table_id=public_rt.id, opts=child
            )
            if i == 0 or not args.single_nat:
                eip = aws.ec2.Eip(resource_name(name, f"nat-{az}"), domain="vpc", tags=tags, opts=child)
                nats.append(
                    aws.ec2.NatGateway(
                        resource_name(name, f"nat-{az}"),
                        allocation_id=eip.id,
                        subnet_id=public.id,
                        tags={**tags, "Name": f"{args.cluster_name}-{az}"},
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                    )
                )
            private = aws.ec2.Subnet(
                resource_name(name, f"private-{az}"),
                vpc_id=self.vpc.id,
                cidr_block=private_cidrs[i],
                availability_zone=az,
                tags={
                    **tags,
                    **cluster_tag,
                    "Name": f"{args.cluster_name}-private-{az}",
                    "kubernetes.io/role/internal-elb": "1",
                },
                opts=child,
            )
            nat = nats[0] if args.single_nat else nats[i]
            rt = aws.ec2.RouteTable(
                resource_name(name, f"private-{az}"),
                vpc_id=self.vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags={**tags, "Name": f"{args.cluster_name}-private-{az}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                resource_name(name, f"private-{az}"), subnet_id=private.id, route_table_id=rt.id, opts=child
            )
            private_ids.append(private.id)

        self.vpc_id = self.vpc.id
        # Both forms: a list output for the cluster, and one output per AZ where a count must be known.
        self.private_subnets = private_ids
        self.private_subnet_ids = pulumi.Output.all(*private_ids).apply(list)
        self.register_outputs({"vpc_id": self.vpc_id, "private_subnet_ids": self.private_subnet_ids})
