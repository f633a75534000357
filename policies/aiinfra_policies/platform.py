"""Section K meta rules that concern every component: Helm chart allowlist (75), AWS tags (77).

Helm releases install objects CrossGuard never sees, so the only control is *which* charts at
*which* versions may be installed; the allowlist lives in the policy config next to the levels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from aiinfra_policies.common import Report, adapt_resource

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
REQUIRED_TAGS = ("Environment", "Owner", "CostCenter")
TAGGABLE = frozenset(
    {
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:eks/cluster:Cluster",
        "aws:eks/nodeGroup:NodeGroup",
        "aws:eks/addon:Addon",
        "aws:eks/accessEntry:AccessEntry",
        "aws:kms/key:Key",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:iam/role:Role",
        "aws:iam/policy:Policy",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:efs/fileSystem:FileSystem",
        "aws:efs/accessPoint:AccessPoint",
        "aws:ecr/repository:Repository",
        "aws:backup/vault:Vault",
        "aws:backup/plan:Plan",
    }
)


def _helm_allowlisted(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != HELM_RELEASE:
        return
    allowed = (args.get_config() or {}).get("allowedCharts") or {}
    chart = args.props.get("chart")
    entry = allowed.get(chart) if isinstance(chart, str) else None
    if not isinstance(entry, Mapping):
        report("chart is not in the policy config's allowedCharts; add it there (with repo and version) after review.")
        return
    repo = (args.props.get("repositoryOpts") or {}).get("repo")
    if repo != entry.get("repo"):
        report("repositoryOpts.repo must be the allowlisted official repository for this chart.")
    if args.props.get("version") != entry.get("version"):
        report("version must be pinned to the allowlisted chart version.")


def _tagged(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type not in TAGGABLE:
        return
    tags = args.props.get("tags") or {}
    missing = [t for t in REQUIRED_TAGS if not tags.get(t)]
    if missing:
        report(f"tags must include {', '.join(missing)} (cost allocation and ownership).")


POLICIES: list[Any] = [
    ResourceValidationPolicy(
        name="helm-release-allowlisted",
        description="Helm releases may only install allowlisted official charts at pinned versions.",
        validate=adapt_resource(_helm_allowlisted),
        enforcement_level=EnforcementLevel.ADVISORY,
        remediation_steps="Pin the chart in components/core/charts.py and allowlist it in policies/<env>.json.",
        config_schema=PolicyConfigSchema(
            properties={
                "allowedCharts": {"type": "object", "default": {}, "description": "chart name -> {repo, version}"}
            }
        ),
    ),
    ResourceValidationPolicy(
        name="resources-tagged",
        description="Taggable AWS resources must carry Environment, Owner and CostCenter tags.",
        validate=adapt_resource(_tagged),
        enforcement_level=EnforcementLevel.ADVISORY,
        remediation_steps="Pass components.core.labels.aws_tags(...) as the resource's tags.",
    ),
]
