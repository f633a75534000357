"""Pack metadata, its layout by rule-table section, and the per-environment config files."""

from __future__ import annotations

import json
import re

import pytest
from pulumi_policy import Severity

from aiinfra_policies import ALL_POLICIES, DOMAINS, platform
from aiinfra_policies.common import SECTIONS, RulePolicy, framework_of, section_of
from tests.conftest import ROOT, policy_by_name, stack_run, violations

ORDER = {"disabled": 0, "advisory": 1, "mandatory": 2}


def _levels(env: str) -> dict[str, str]:
    config = json.loads((ROOT / "policies" / f"{env}.json").read_text())
    return {k: v if isinstance(v, str) else v["enforcementLevel"] for k, v in config.items()}


DOMAIN_PREFIXES = {
    "k8s": "Kubernetes objects (any cluster)",
    "image": "container image builds",
    "model": "model servers and their weights",
    "batch": "Kueue batch work",
    "gateway": "the inference gateway (Gateway, routes, keys)",
    "helm": "Helm releases",
    "keda": "KEDA",
    "gpu": "GPU software (device plugin, operator)",
    "priorityclass": "PriorityClasses and their quotas",
    "monitoring": "the monitoring stack",
    "eks": "EKS clusters, node groups, add-ons, access",
    "ec2": "EC2 launch templates",
    "vpc": "VPCs and the VPC CNI",
    "iam": "IAM policies and roles",
    "kms": "KMS keys",
    "ecr": "ECR repositories",
    "tailscale": "the Tailscale mesh (tailnet policy, keys, settings)",
    "efs": "EFS file systems",
    "ebs": "EBS volumes and their classes",
    "s3": "S3 buckets",
    "data": "resources holding data (protect)",
    "resources": "every taggable AWS resource",
    "cost": "the stack's cost",
}
"""The first word of every policy name: the domain it checks. A new domain is added here with what it covers."""
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")


def test_policy_names_unique_kebab_and_domain_prefixed() -> None:
    names = [p.name for p in ALL_POLICIES]
    assert len(names) == len(set(names))
    for name in names:
        assert KEBAB.match(name) and name != "all", name
        assert name.split("-", 1)[0] in DOMAIN_PREFIXES, f"{name}: no known domain prefix"


@pytest.mark.parametrize("policy", ALL_POLICIES, ids=lambda p: p.name)
def test_policy_metadata_is_complete(policy: RulePolicy) -> None:
    """One-line description, remediation, severity and a framework reference taken from the standard."""
    assert policy.description.endswith(".") and "\n" not in policy.description
    assert policy.remediation_steps and policy.remediation_steps.strip()
    assert isinstance(policy.severity, Severity)
    framework = policy.framework
    assert framework is not None and framework.name and framework.reference
    assert framework.reference in policy.standard and framework.specification == policy.standard


def test_framework_is_the_most_authoritative_standard_cited() -> None:
    cis = framework_of("PSS baseline; CKV_K8S_16; CIS EKS 4.2.1")
    assert (cis.name, cis.version, cis.reference) == ("CIS Amazon EKS Benchmark", "1.0.1", "CIS EKS 4.2.1")
    assert framework_of("PSS restricted; CKV_K8S_31; NSA 1.10").reference == "PSS restricted"
    assert framework_of("CKV_AWS_51; Security Hub ECR.2").reference == "CKV_AWS_51"
    own = framework_of("project convention (FinOps budget; cost.json)")
    assert (own.name, own.reference) == ("ai-infra project convention", "project convention (FinOps budget; cost.json)")
    assert framework_of("KEDA prometheus scaler").name == "upstream documentation"


def test_env_configs_cover_every_policy_and_prod_is_never_weaker() -> None:
    dev, prod = _levels("dev"), _levels("prod")
    names = {p.name for p in ALL_POLICIES}
    assert set(dev) == names and set(prod) == names
    for name in names:
        assert ORDER[prod[name]] >= ORDER[dev[name]], name


def test_dev_config_matches_code_defaults() -> None:
    dev = _levels("dev")
    for p in ALL_POLICIES:
        assert dev[p.name] == p.enforcement_level.value, p.name


def test_section_a_is_mandatory_in_prod() -> None:
    prod = _levels("prod")
    from aiinfra_policies import pod_context, pod_security

    for name in [p.name for p in [*pod_security.POLICIES, *pod_context.POLICIES]]:
        assert prod[name] == "mandatory", name


def test_namespace_exceptions_match_the_platform_system_namespaces() -> None:
    from components.specs.addons import SYSTEM_NAMESPACES

    expected = {name: level for name, level in SYSTEM_NAMESPACES.items() if level != "restricted"}
    for env in ("dev", "prod"):
        config = json.loads((ROOT / "policies" / f"{env}.json").read_text())
        assert config["k8s-namespace-pss-labels"]["exceptions"] == expected, env


def test_the_packs_allowlist_is_exactly_what_the_records_install() -> None:
    """The pack reads the lockfile itself (it imports nothing of ours) and the program loads it
    strictly: the two readings must agree chart for chart, repo for repo, version for version."""
    # Every chart the program installs is an add-on's (tests/unit/specs/test_addons.py).
    from components.specs.addons import ADDONS

    charts = [c for a in ADDONS for c in a.charts]
    versions: dict[str, list[str]] = {}
    for c in charts:
        versions.setdefault(c.reference, []).append(c.version)
    # An OCI chart is keyed by its full oci:// reference (the release's chart) and has no repo.
    repos = {c.reference: {} if c.oci else {"repo": c.repo} for c in charts}
    expected = {
        ref: {**repos[ref], "version": v[0]} if len(v) == 1 else {**repos[ref], "versions": v}
        for ref, v in versions.items()
    }
    assert expected == platform.ALLOWED_CHARTS
    for env in ("dev", "prod"):
        # Only the level: a second allowlist here could drift from the lockfile again.
        config = json.loads((ROOT / "policies" / f"{env}.json").read_text())
        assert isinstance(config["helm-release-allowlisted"], str), env


@pytest.mark.parametrize("stack", ["dev", "prod", "local"])
def test_every_release_a_stack_plans_is_allowlisted(stack: str) -> None:
    policy = policy_by_name(platform.POLICIES, "helm-release-allowlisted")
    releases = [r for r in stack_run(stack).registrations if r.type == "kubernetes:helm.sh/v3:Release"]
    assert releases
    for release in releases:
        assert violations(policy, release.type, release.inputs) == [], release.name


MODULE_SECTIONS = {
    "pod_security": {"A"},
    "pod_context": {"A"},
    "images": {"B"},
    "workloads": {"C"},
    "network": {"D"},
    "access": {"E"},
    "secrets": {"F"},
    "storage": {"G"},
    "eks": {"H"},
    "ecr": {"I"},
    "tailscale": {"J"},
    "monitoring": {"K"},
    "platform": {"K"},
    "contracts": {"L"},
    "hardening": {"L"},
    "batch": {"M"},
    "gateway": {"N"},
}


def test_each_module_holds_one_section_and_names_the_rules_file() -> None:
    assert [m.__name__.rsplit(".", 1)[-1] for m in DOMAINS] == list(MODULE_SECTIONS)
    for module in DOMAINS:
        short = module.__name__.rsplit(".", 1)[-1]
        assert module.POLICIES, f"{short} has no policies: drop the module"
        assert {p.section for p in module.POLICIES} == MODULE_SECTIONS[short], short
        assert module.__doc__ and "policies/RULES.md" in module.__doc__, short


def test_rule_metadata_is_consistent_and_in_section_order() -> None:
    for p in ALL_POLICIES:
        assert p.section in SECTIONS
        assert p.rule is None or section_of(p.rule) == p.section, p.name
    sections = [p.section for p in ALL_POLICIES]
    assert sections == sorted(sections)
    numbered = [p.rule for p in ALL_POLICIES if p.rule is not None]
    assert len(numbered) == len(set(numbered)), "two policies claim the same rule number"
