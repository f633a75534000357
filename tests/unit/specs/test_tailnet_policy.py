"""The generated tailnet policy, parsed back: grants only, every tag owned, tests for every tag,
SSH in check mode for prod; and the section J policies pass it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aiinfra_policies import tailscale as pack
from aiinfra_policies.constants import TS_ACL
from components.core.settings import StackSettings
from components.specs.tailnet_policy import TailnetPolicyInput, policy_json, tags_used, tailnet_policy
from tests.conftest import mesh_settings, policy_by_name, violations

MODEL_RUNNER_TAGS = {"tag:model-runner"}


def policy_input(s: StackSettings) -> TailnetPolicyInput:
    """What ``__main__.mesh_layer`` hands the builder."""
    ts = s.tailscale
    return TailnetPolicyInput(
        env=s.environment.value,
        groups=ts.groups,
        tag_owners=s.tailscale_tag_owners,
        models=ts.access.models,
        monitoring=ts.access.monitoring,
        admins=ts.access.admins,
        routes=s.subnet_routes,
        dns_servers=sorted({ip for v in ts.split_dns.values() for ip in v}),
        ssh_users=ts.ssh.users if ts.ssh.enabled else [],
        ssh_check=s.is_prod,
        model_ports=sorted({m.port for m in s.models.values()}),
    )


PROD = mesh_settings(
    "prod",
    models={"coder-32b": {"exposure": "tailnet"}},
    tailscale={"splitDns": {"corp.internal": ["10.50.0.2"]}, "authKeys": {"box": {"tags": ["tag:gpu-node"]}}},
)
DEV = mesh_settings("dev", tailscale={"subnetRouter": {"enabled": False}, "ssh": {"enabled": False}})


def _document(s: StackSettings) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(policy_json(policy_input(s)))
    return document


@pytest.mark.parametrize("s", [PROD, DEV], ids=["prod", "dev"])
def test_every_tag_used_anywhere_has_an_owner(s: StackSettings) -> None:
    document = _document(s)
    owners = document["tagOwners"]
    assert tags_used(document) <= set(owners)
    # The operator owns what it assigns; nobody owns a tag through autogroup:member.
    assert owners["tag:k8s"] == ["tag:k8s-operator"] and owners["tag:model-runner"] == ["tag:k8s-operator"]
    assert all("autogroup:member" not in o for o in owners.values())
    # Tags keys carry and the operator's Ingress and Connector tags are owned too.
    used_elsewhere = {t for k in s.tailscale.auth_keys.values() for t in k.tags} | {"tag:subnet-router"}
    assert used_elsewhere <= set(owners)


@pytest.mark.parametrize("s", [PROD, DEV], ids=["prod", "dev"])
def test_every_model_runner_tag_has_a_deny_test_and_every_tag_a_test(s: StackSettings) -> None:
    document = _document(s)
    tests = document["tests"]
    denied = {d.rsplit(":", 1)[0] for t in tests for d in t.get("deny", [])}
    accepted = {a.rsplit(":", 1)[0] for t in tests for a in t.get("accept", [])}
    assert denied >= MODEL_RUNNER_TAGS
    # Every tag a grant reaches is asserted both ways; every other tag at least denied.
    reached = {d for g in document["grants"] for d in g["dst"] if d.startswith("tag:")}
    assert reached <= accepted and reached <= denied
    assert set(document["tagOwners"]) - reached <= denied
    # Tests name single addresses, never CIDRs, and one numeric port each.
    for entry in [e for t in tests for e in t.get("accept", []) + t.get("deny", [])]:
        assert "/" not in entry and entry.rsplit(":", 1)[1].isdigit()


def test_grants_are_narrow_and_there_are_no_legacy_acls() -> None:
    document = _document(PROD)
    assert "acls" not in document
    by_dst = {tuple(g["dst"]): g for g in document["grants"]}
    assert by_dst[("tag:model-runner",)] == {"src": ["group:ml"], "dst": ["tag:model-runner"], "ip": ["tcp:443"]}
    assert by_dst[("tag:monitoring",)]["ip"] == ["tcp:443"]
    assert by_dst[("tag:gpu-node",)]["src"] in (["tag:gpu-node"], ["group:admins"])
    gpu = [g for g in document["grants"] if g["src"] == ["tag:gpu-node"]]
    assert gpu == [{"src": ["tag:gpu-node"], "dst": ["tag:gpu-node"], "ip": ["*"]}]
    assert by_dst[("10.50.0.0/16",)] == {"src": ["group:admins"], "dst": ["10.50.0.0/16"], "ip": ["tcp:443"]}
    assert by_dst[("10.50.0.2",)]["ip"] == ["tcp:53", "udp:53"]
    assert document["autoApprovers"] == {"routes": {"10.50.0.0/16": ["tag:subnet-router"]}}
    assert all(g["src"] != ["*"] for g in document["grants"])


def test_ssh_is_check_mode_in_prod_accept_in_dev_and_never_root() -> None:
    (prod,) = _document(PROD)["ssh"]
    assert prod == {"action": "check", "src": ["group:admins"], "dst": ["tag:gpu-node"], "users": ["autogroup:nonroot"]}
    assert _document(PROD)["sshTests"] == [
        {"src": "group:admins", "dst": ["tag:gpu-node"], "check": ["ubuntu"], "deny": ["root"]}
    ]
    dev = tailnet_policy(policy_input(mesh_settings("dev")))
    assert dev["ssh"][0]["action"] == "accept" and "sshTests" in dev
    assert "ssh" not in _document(DEV) and "sshTests" not in _document(DEV)


def test_a_group_that_also_administers_gets_no_contradicting_ssh_deny() -> None:
    same = mesh_settings("dev", tailscale={"access": {"models": ["group:admins"]}})
    tests = tailnet_policy(policy_input(same))["tests"]
    admin_tests = [t for t in tests if t["src"] == "group:admins"]
    accepted = {a for t in admin_tests for a in t.get("accept", [])}
    denied = {d for t in admin_tests for d in t.get("deny", [])}
    assert not accepted & denied


@pytest.mark.parametrize("s", [PROD, DEV], ids=["prod", "dev"])
def test_the_section_j_policies_pass_the_generated_policy(s: StackSettings) -> None:
    props = {"acl": policy_json(policy_input(s)), "overwriteExistingContent": False, "resetAclOnDestroy": False}
    for name in ("tailscale-acl-no-allow-all", "tailscale-acl-has-tests", "tailscale-tailnet-settings"):
        assert violations(policy_by_name(pack.POLICIES, name), TS_ACL, props) == [], name
    # SSH with prod's configuration (policies/prod.json): check mode on GPU machines.
    config = {"checkDestinations": ["tag:ai-infra-prod", "tag:gpu-node"]} if s.is_prod else {}
    assert violations(policy_by_name(pack.POLICIES, "tailscale-ssh-restricted"), TS_ACL, props, config) == []


def test_admins_reach_the_routes_on_the_api_ports_only() -> None:
    from dataclasses import replace

    base = policy_input(PROD)
    (grant,) = [g for g in tailnet_policy(base)["grants"] if g["dst"] == list(base.routes)]
    assert grant["ip"] == ["tcp:443"]  # EKS: the private endpoint's port, not the whole VPC's services
    existing = replace(base, api_ports=(443, 6443))
    (grant,) = [g for g in tailnet_policy(existing)["grants"] if g["dst"] == list(base.routes)]
    assert grant["ip"] == ["tcp:443", "tcp:6443"]
    admin_tests = [t for t in tailnet_policy(existing)["tests"] if t["src"] in base.admins]
    assert admin_tests and all(any(a.endswith(":6443") for a in t["accept"]) for t in admin_tests)
