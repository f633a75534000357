"""Cluster rules: prod's EKS API is private and has named admins; a warning when the public
endpoint admits only documentation ranges (nobody could reach it)."""

from __future__ import annotations

import ipaddress

from components.core.settings.base import Problem
from components.core.settings.root import StackSections

DOCUMENTATION_RANGES = tuple(
    ipaddress.ip_network(c) for c in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20")
)
"""RFC 5737 (IPv4), RFC 3849 and RFC 9637 (IPv6): reserved for examples, routed nowhere."""


def prod_cluster_problems(s: StackSections) -> list[Problem]:
    problems: list[Problem] = []
    eks = s.cluster.eks if s.on_aws else None
    if s.is_prod and eks and eks.endpoint_public_access:
        problems.append(("cluster.eks.endpointPublicAccess", "must be false in prod (reach it over the tailnet)"))
    if s.is_prod and eks and not eks.admin_principal_arns:
        problems.append(
            (
                "cluster.eks.adminPrincipalArns",
                "must list at least one IAM role ARN in prod (the cluster "
                "creator is not made admin there; list the deploy role and the on-call admin role)",
            )
        )
    return problems


def documentation_range_warnings(s: StackSections) -> list[Problem]:
    eks = s.cluster.eks if s.on_aws else None
    if eks and eks.endpoint_public_access and all(_documentation_range(c) for c in eks.public_access_cidrs):
        return [
            (
                "cluster.eks.publicAccessCidrs",
                "lists only documentation ranges (RFC 5737/3849/9637): nobody can reach the API endpoint; "
                "put your own egress CIDRs here",
            )
        ]
    return []


def _documentation_range(cidr: str) -> bool:
    network = ipaddress.ip_network(cidr)
    return any(network.version == d.version and network.subnet_of(d) for d in DOCUMENTATION_RANGES)  # type: ignore[arg-type]
