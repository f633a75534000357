"""Section K of ``policies/RULES.md``, meta rules 75 and 77: what every component must respect.

Helm releases install objects CrossGuard never sees, so the only control is *which* charts at
*which* versions may be installed (75). The allowlist is the chart lockfile ``policies/charts.json``
the program installs from (read here, beside the pack, so ``pulumi policy publish`` ships it and
the pack imports nothing of the program's); a stack's policy config may still override it with
``allowedCharts``. AWS resources carry the tags that attribute cost (GPU spend above all) and
ownership (77).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel, StackValidationArgs

from aiinfra_policies.common import Report, RulePolicy, Subject, policy
from aiinfra_policies.constants import (
    ACCESS_ENTRY,
    ACCESS_POINT,
    ADDON,
    CLUSTER,
    ECR_REPOSITORY,
    EFS,
    HELM_RELEASE,
    IAM_POLICY,
    KMS_KEY,
    LAUNCH_TEMPLATE,
    LOG_GROUP,
    NODE_GROUP,
    ROLE,
)

A = EnforcementLevel.ADVISORY
REQUIRED_TAGS = ("Environment", "Owner", "CostCenter")
# The tag-bearing AWS types of the platform's components (attachments, associations and routes take no tags).
TAGGABLE = frozenset(
    {
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
        "aws:ec2/routeTable:RouteTable",
        LAUNCH_TEMPLATE,
        "aws:ec2/securityGroup:SecurityGroup",
        CLUSTER,
        NODE_GROUP,
        ADDON,
        ACCESS_ENTRY,
        KMS_KEY,
        LOG_GROUP,
        ROLE,
        IAM_POLICY,
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        EFS,
        ACCESS_POINT,
        ECR_REPOSITORY,
        "aws:backup/vault:Vault",
        "aws:backup/plan:Plan",
    }
)


# 75 ------------------------------------------------------------------------------------------
LOCKFILE = Path(__file__).resolve().parent.parent / "charts.json"


def lockfile_allowlist(path: Path = LOCKFILE) -> dict[str, dict[str, Any]]:
    """The lockfile as ``allowedCharts``: chart name -> {repo, version}, or {repo, versions} for a
    chart line per Kubernetes minor; an OCI chart keyed by its full ``oci://`` reference (what the
    release's ``chart`` is), with no repo. The program validates the file strictly
    (components/core/charts.py); this reads only the pins."""
    try:
        charts = json.loads(path.read_text())["charts"]
        allowed: dict[str, dict[str, Any]] = {}
        for name, entry in charts.items():
            repo = entry["repo"]
            lines = entry.get("lines")
            pins = (
                {"versions": [line["version"] for line in lines.values()]} if lines else {"version": entry["version"]}
            )
            oci = repo.startswith("oci://")
            allowed[f"{repo}/{name}" if oci else name] = pins if oci else {"repo": repo, **pins}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"policies/charts.json: cannot read the chart pins ({exc!r})") from None
    return allowed


ALLOWED_CHARTS = lockfile_allowlist()


def _helm_allowlisted(r: Subject, report: Report) -> None:
    allowed = r.config.get("allowedCharts") or ALLOWED_CHARTS
    chart = r.props.get("chart")
    entry = allowed.get(chart) if isinstance(chart, str) else None
    if not isinstance(entry, Mapping):
        report(
            "chart is not in the chart lockfile policies/charts.json (or the policy config's allowedCharts); "
            "pin it there, with repo and version, after review."
        )
        return
    repo = (r.props.get("repositoryOpts") or {}).get("repo")
    if repo != entry.get("repo"):
        report("repositoryOpts.repo must be the allowlisted official repository for this chart.")
    # One pinned version, or a list where the chart line follows the cluster's version.
    versions = entry.get("versions") or [entry.get("version")]
    if r.props.get("version") not in versions:
        report("version must be pinned to the allowlisted chart version.")


# 77 ------------------------------------------------------------------------------------------
def _tagged(r: Subject, report: Report) -> None:
    tags = r.props.get("tags") or {}
    missing = [t for t in REQUIRED_TAGS if not tags.get(t)]
    if missing:
        report(f"tags must include {', '.join(missing)} (cost allocation and ownership).")


# budget (stack) ------------------------------------------------------------------------------
MAX_COST_TAG = "ai-infra.io/max-usd-per-hour"
BUDGET_TAG = "ai-infra.io/budget-usd-per-hour"


def _within_budget(args: StackValidationArgs, report: Report) -> None:
    """The program tags the cluster with its max-scale estimate and the stack's budget
    (``cost.budgetUsdPerHour``): policies see resources, not stack outputs."""
    for r in args.resources:
        if r.resource_type != CLUSTER:
            continue
        tags = r.props.get("tags") or {}
        if MAX_COST_TAG not in tags:
            continue
        if BUDGET_TAG not in tags:
            # A priced stack without a budget is how a pool raised to 10 nodes planned clean.
            report(
                "The stack has no budget: set ai-infra:cost.budgetUsdPerHour (its max-scale figure is in "
                "build/<stack>/cost.json).",
                r.urn,
            )
            continue
        try:
            over = float(tags[MAX_COST_TAG]) > float(tags[BUDGET_TAG])
        except ValueError:
            report(f"tags {MAX_COST_TAG} and {BUDGET_TAG} must be numbers (USD per hour).", r.urn)
            continue
        if over:
            report(
                "The stack's cost at max scale exceeds ai-infra:cost.budgetUsdPerHour: lower node pools' maxSize or "
                "gpuCap, or raise the budget (build/<stack>/cost.json has the figures).",
                r.urn,
            )


POLICIES: list[RulePolicy] = [
    # No excludeNamespaces: a waiver here would let any chart in, which is the one thing 75 guards.
    policy(
        "helm-release-allowlisted",
        rule="75",
        description="Helm releases may only install allowlisted official charts at pinned versions.",
        remediation="Pin the chart (repo and version) in the chart lockfile policies/charts.json after review.",
        level=A,
        severity="medium",
        standard="pulumi/pulumi#10055 (Helm Release bypasses CrossGuard)",
        types={HELM_RELEASE},
        schema={
            "allowedCharts": {
                "type": "object",
                "default": {},
                "description": "chart name -> {repo, version}, or {repo, versions} where the chart line follows "
                "the cluster version; an OCI chart is keyed by its oci:// reference, with no repo. Empty (the "
                "default): the chart lockfile policies/charts.json",
            }
        },
        check=_helm_allowlisted,
    ),
    policy(
        "resources-tagged",
        rule="77",
        description="Taggable AWS resources must carry Environment, Owner and CostCenter tags.",
        remediation="Pass components.core.labels.aws_tags(...) as the resource's tags.",
        level=A,
        severity="low",
        standard="Pulumi best practice resource-tagging",
        types=TAGGABLE,
        check=_tagged,
    ),
    policy(
        "cost-within-budget",
        rule=None,
        section="K",
        description="A stack's max-scale cost must stay within its budget, and an EKS stack must have one.",
        remediation="Lower maxSize/gpuCap of the pools, or raise ai-infra:cost.budgetUsdPerHour.",
        level=A,
        severity="medium",
        standard="project convention (FinOps budget; cost.json)",
        stack=True,
        check=_within_budget,
    ),
]
