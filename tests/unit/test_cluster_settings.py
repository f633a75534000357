"""Cluster settings (``settings/cluster.py``) and the cluster rules across sections
(``settings/rules/cluster.py``): endpoint, admins, access levels, existing clusters, network ranges."""

from __future__ import annotations

from components.core.settings import parse_settings
from tests.conftest import PROD_ADMINS
from tests.unit.settings_problems import stack_problems as _problems


def test_public_endpoint_needs_narrow_cidrs() -> None:
    assert "CIDRs allowed" in _problems({"environment": "dev"})["ai-infra:cluster.eks.publicAccessCidrs"]
    wide = {"environment": "dev", "cluster": {"eks": {"publicAccessCidrs": ["0.0.0.0/0"]}}}
    assert "whole internet" in _problems(wide)["ai-infra:cluster.eks.publicAccessCidrs"]
    public_prod = {
        "environment": "prod",
        "cluster": {"eks": {"endpointPublicAccess": True, "publicAccessCidrs": ["10.0.0.0/8"]}},
    }
    assert "ai-infra:cluster.eks.endpointPublicAccess" in _problems(public_prod, stack="prod")


def test_prod_needs_explicit_cluster_admins() -> None:
    assert "ai-infra:cluster.eks.adminPrincipalArns" in _problems({"environment": "prod"}, stack="prod")


def test_existing_mode_needs_a_kubeconfig_and_drops_aws_presets() -> None:
    problems = _problems({"environment": "dev", "cluster": {"mode": "existing"}})
    assert "kubeconfig" in problems["ai-infra:cluster.existing.kubeconfig"]
    existing_prod = {"mode": "existing", "existing": {"kubeconfig": "/k"}}
    ok = parse_settings(
        {
            "environment": "prod",
            "cluster": existing_prod,
            "namespaces": {"models": {"modelCache": False}},
            "models": {"coder-32b": None, "qwen-coder": None},  # null removes a preset entry
            "addons": PROD_ADMINS["addons"],
        },
        stack="prod",
    )
    assert ok.cluster.eks is None and ok.storage.shared.backend == "none"
    efs = {
        "environment": "dev",
        "cluster": {"mode": "existing", "existing": {"kubeconfig": "/k"}},
        "storage": {"shared": {"backend": "efs"}},
    }
    assert "aws-eks" in _problems(efs)["ai-infra:storage.shared.backend"]


def test_each_principal_gets_one_access_level() -> None:
    arn = "arn:aws:iam::123456789012:role/oncall"
    problems = _problems(
        {
            "environment": "prod",
            **PROD_ADMINS,
            "cluster": {"eks": {"operatorPrincipalArns": [arn], "viewerPrincipalArns": [arn, "oncall"]}},
        },
        stack="prod",
    )
    assert "already in operatorPrincipalArns" in problems["ai-infra:cluster.eks.viewerPrincipalArns[0]"]
    assert "IAM role or user ARN" in problems["ai-infra:cluster.eks.viewerPrincipalArns[1]"]


def test_the_vpc_must_not_overlap_the_clusters_service_range() -> None:
    raw = {"environment": "prod", **PROD_ADMINS, "cluster": {"eks": {"vpcCidr": "172.16.0.0/12"}}}
    assert "172.20.0.0/16" in _problems(raw, stack="prod")["ai-infra:cluster.eks.vpcCidr"]


def test_existing_clusters_name_their_ranges_for_system_network_policies() -> None:
    existing = {"mode": "existing", "existing": {"kubeconfig": "/k", "networkCidrs": ["not-a-cidr"]}}
    assert "ai-infra:cluster.existing.networkCidrs[0]" in _problems({"environment": "dev", "cluster": existing})
    from components.core.settings import ExistingClusterSettings

    assert "10.0.0.0/8" in ExistingClusterSettings(kubeconfig="/k").network_cidrs  # RFC 1918 by default
