"""Section J policies (Tailscale) both ways."""

from __future__ import annotations

import json
from typing import Any

from aiinfra_policies import tailscale
from aiinfra_policies.constants import (
    INGRESS,
    SERVICE,
    TS_ACL,
    TS_CONNECTOR,
    TS_OAUTH_CLIENT,
    TS_TAILNET_KEY,
    TS_TAILNET_SETTINGS,
)
from tests.conftest import policy_by_name, stack_violations, violations


def _one(name: str, typ: str, props: dict[str, Any], config: dict[str, Any] | None = None) -> list[str]:
    return violations(policy_by_name(tailscale.POLICIES, name), typ, props, config)


def key(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "tags": ["tag:gpu-node"],
        "ephemeral": True,
        "preauthorized": True,
        "reusable": False,
        "expiry": 3600,
    }
    props.update(overrides)
    return props


POLICY: dict[str, Any] = {
    "groups": {"group:ml": ["ml@example.com"], "group:admins": ["a@example.com"]},
    "tagOwners": {
        "tag:k8s-operator": ["autogroup:admin"],
        "tag:model-runner": ["tag:k8s-operator"],
        "tag:subnet-router": ["tag:k8s-operator"],
        "tag:gpu-node": ["autogroup:admin"],
    },
    "grants": [
        {"src": ["group:ml"], "dst": ["tag:model-runner"], "ip": ["tcp:443"]},
        {"src": ["tag:gpu-node"], "dst": ["tag:gpu-node"], "ip": ["*"]},
    ],
    "autoApprovers": {"routes": {"10.50.0.0/16": ["tag:subnet-router"]}},
    "ssh": [{"action": "check", "src": ["group:admins"], "dst": ["tag:gpu-node"], "users": ["autogroup:nonroot"]}],
    "tests": [{"src": "group:ml", "accept": ["tag:model-runner:443"], "deny": ["tag:model-runner:8000"]}],
    "sshTests": [{"src": "group:admins", "dst": ["tag:gpu-node"], "check": ["ubuntu"], "deny": ["root"]}],
}


def acl(policy: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    return {"acl": json.dumps(policy if policy is not None else POLICY), **overrides}


def changed(**sections: Any) -> dict[str, Any]:
    return acl({**POLICY, **sections})


# 67 -------------------------------------------------------------------------------------------
def test_authkey_scoped() -> None:
    name = "tailscale-authkey-scoped"
    assert _one(name, TS_TAILNET_KEY, key()) == []
    assert _one(name, TS_TAILNET_KEY, key(reusable=True)) == []  # ephemeral, so reusable is fine
    assert _one(name, TS_TAILNET_KEY, key(tags=[]))
    assert _one(name, TS_TAILNET_KEY, key(tags=["gpu-node"]))
    assert _one(name, TS_TAILNET_KEY, key(ephemeral=False))
    assert _one(name, TS_TAILNET_KEY, key(ephemeral=False, reusable=True, tags=[]))
    assert _one(name, TS_TAILNET_KEY, key(expiry=172_800), {"maxExpirySeconds": 86_400})
    # Unset expiry is the provider's 90 days: over prod's day.
    unset = {k: v for k, v in key().items() if k != "expiry"}
    assert _one(name, TS_TAILNET_KEY, unset) == [] and _one(name, TS_TAILNET_KEY, unset, {"maxExpirySeconds": 86_400})


# 68 -------------------------------------------------------------------------------------------
def test_acl_no_allow_all() -> None:
    name = "tailscale-acl-no-allow-all"
    assert _one(name, TS_ACL, acl()) == []
    assert _one(name, TS_ACL, changed(acls=[{"action": "accept", "src": ["*"], "dst": ["*:*"]}]))
    assert _one(name, TS_ACL, changed(grants=[{"src": ["*"], "dst": ["*"], "ip": ["*"]}]))
    wide_model = [{"src": ["group:ml"], "dst": ["tag:model-runner"], "ip": ["*"]}]
    assert _one(name, TS_ACL, changed(grants=wide_model))
    assert _one(name, TS_ACL, changed(acls=[{"action": "accept", "src": ["group:ml"], "dst": ["tag:model-runner:*"]}]))
    assert _one(name, TS_ACL, {"acl": "{not json"})
    # HuJSON: comments and trailing commas are fine.
    grant = '{"src": ["group:ml"], "dst": ["tag:model-runner"], "ip": ["tcp:443"],}'
    hujson = '{\n  // who reaches models\n  "grants": [' + grant + ",],\n}"
    assert _one(name, TS_ACL, {"acl": hujson}) == []


# 69 -------------------------------------------------------------------------------------------
def test_tag_owners_consistent() -> None:
    policy = policy_by_name(tailscale.POLICIES, "tailscale-tag-owners-consistent")
    ingress = {
        "metadata": {"name": "m", "namespace": "models", "annotations": {"tailscale.com/tags": "tag:model-runner"}},
    }
    good = [
        (TS_ACL, acl()),
        (TS_TAILNET_KEY, key()),
        (TS_OAUTH_CLIENT, {"tags": ["tag:k8s-operator"], "scopes": ["auth_keys"]}),
        (TS_CONNECTOR, {"spec": {"tags": ["tag:subnet-router"]}}),
        (INGRESS, ingress),
    ]
    assert stack_violations(policy, good) == []
    assert stack_violations(policy, [*good, (TS_TAILNET_KEY, key(tags=["tag:unowned"]))])
    assert stack_violations(policy, [*good, (TS_CONNECTOR, {"spec": {"tags": ["tag:gpu-node"]}})])  # not the operator's
    unowned_in_grant = changed(grants=[{"src": ["tag:stray"], "dst": ["tag:gpu-node"], "ip": ["tcp:22"]}])
    assert stack_violations(policy, [(TS_ACL, unowned_in_grant)])
    member_owned = changed(tagOwners={**POLICY["tagOwners"], "tag:gpu-node": ["autogroup:member"]})
    assert stack_violations(policy, [(TS_ACL, member_owned)])


# 70 -------------------------------------------------------------------------------------------
def test_acl_has_tests() -> None:
    name = "tailscale-acl-has-tests"
    assert _one(name, TS_ACL, acl()) == []
    assert _one(name, TS_ACL, changed(tests=[]))
    assert _one(name, TS_ACL, changed(tests=[{"src": "group:ml", "accept": ["tag:model-runner:443"]}]))
    assert _one(name, TS_ACL, changed(sshTests=[]))


# 71 -------------------------------------------------------------------------------------------
def test_ssh_restricted() -> None:
    name = "tailscale-ssh-restricted"
    prod = {"checkDestinations": ["tag:ai-infra-prod", "tag:gpu-node"]}
    assert _one(name, TS_ACL, acl(), prod) == []
    accept = [{"action": "accept", "src": ["group:admins"], "dst": ["tag:gpu-node"], "users": ["ubuntu"]}]
    assert _one(name, TS_ACL, changed(ssh=accept)) == []  # dev: not a protected destination
    assert _one(name, TS_ACL, changed(ssh=accept), prod)
    assert _one(name, TS_ACL, changed(ssh=[{**POLICY["ssh"][0], "src": ["*"]}]))
    assert _one(name, TS_ACL, changed(ssh=[{**POLICY["ssh"][0], "users": ["root"]}]))
    assert _one(name, TS_ACL, changed(ssh=[{**POLICY["ssh"][0], "src": ["tag:ci"]}]))


# 72 -------------------------------------------------------------------------------------------
def test_tailnet_settings() -> None:
    name = "tailscale-tailnet-settings"
    good = {"aclsExternallyManagedOn": True, "devicesApprovalOn": True}
    assert _one(name, TS_TAILNET_SETTINGS, good, {"requireDeviceApproval": True}) == []
    assert _one(name, TS_TAILNET_SETTINGS, {**good, "aclsExternallyManagedOn": False})
    assert _one(name, TS_TAILNET_SETTINGS, {"aclsExternallyManagedOn": True}) == []
    assert _one(name, TS_TAILNET_SETTINGS, {"aclsExternallyManagedOn": True}, {"requireDeviceApproval": True})
    assert _one(name, TS_ACL, acl(resetAclOnDestroy=False)) == []
    assert _one(name, TS_ACL, acl(resetAclOnDestroy=True))
    assert _one(name, TS_ACL, acl(overwriteExistingContent=True))


def test_messages_never_quote_the_policy() -> None:
    leaky = changed(grants=[{"src": ["*"], "dst": ["*"], "ip": ["*"]}], tests=[])
    for p in tailscale.POLICIES:
        if p.name != "tailscale-tag-owners-consistent":
            for message in violations(p, TS_ACL, leaky):
                assert "ml@example.com" not in message and "group:ml" not in message


def test_tag_owners_follow_the_configured_operator_tags() -> None:
    policy = policy_by_name(tailscale.POLICIES, "tailscale-tag-owners-consistent")
    owned = changed(tagOwners={**POLICY["tagOwners"], "tag:ts-op": ["autogroup:admin"], "tag:edge": ["tag:ts-op"]})
    connector = (TS_CONNECTOR, {"spec": {"tags": ["tag:edge"]}})
    assert stack_violations(policy, [(TS_ACL, owned), connector])  # owned, but not by tag:k8s-operator
    assert stack_violations(policy, [(TS_ACL, owned), connector], {"operatorTags": ["tag:ts-op"]}) == []


# 67b ------------------------------------------------------------------------------------------
def test_oauth_client_scoped() -> None:
    name = "tailscale-oauth-client-scoped"
    operator = {"scopes": ["devices:core", "auth_keys", "services"], "tags": ["tag:k8s-operator"]}
    assert _one(name, TS_OAUTH_CLIENT, operator) == []
    assert _one(name, TS_OAUTH_CLIENT, {**operator, "scopes": ["policy_file:read", "devices:core"]}) == []
    assert len(_one(name, TS_OAUTH_CLIENT, {**operator, "scopes": ["all"]})) == 1
    writes_policy = {**operator, "scopes": ["devices:core", "policy_file"]}
    assert len(_one(name, TS_OAUTH_CLIENT, writes_policy)) == 1
    assert _one(name, TS_OAUTH_CLIENT, writes_policy, {"allowPolicyFileWrite": True}) == []


# 68 (whole address ranges) ---------------------------------------------------------------------
def test_grants_never_open_every_port_of_an_address_range() -> None:
    name = "tailscale-acl-no-allow-all"
    on_443 = [{"src": ["group:admins"], "dst": ["10.50.0.0/16"], "ip": ["tcp:443"]}]
    assert _one(name, TS_ACL, changed(grants=on_443)) == []
    for ports in (["*"], ["tcp:*"], ["0-65535"], ["tcp:1-65535"], []):
        wide = [{"src": ["group:admins"], "dst": ["10.50.0.0/16"], "ip": ports}]
        found = _one(name, TS_ACL, changed(grants=wide))
        assert len(found) == 1 and "address range" in found[0], ports
    legacy = [{"action": "accept", "src": ["group:admins"], "dst": ["10.50.0.0/16:*"]}]
    assert len(_one(name, TS_ACL, changed(acls=legacy))) == 1
    legacy_443 = [{"action": "accept", "src": ["group:admins"], "dst": ["10.50.0.0/16:443"]}]
    assert _one(name, TS_ACL, changed(acls=legacy_443)) == []
    app = [{"src": ["group:admins"], "dst": ["10.50.0.0/16"], "app": {"example.com/cap/x": [{}]}}]
    assert _one(name, TS_ACL, changed(grants=app)) == []
    # A tag on every port is a different question (GPU machines among themselves), not a range.
    assert _one(name, TS_ACL, changed(grants=[{"src": ["tag:gpu-node"], "dst": ["tag:gpu-node"], "ip": ["*"]}])) == []


# 68b ------------------------------------------------------------------------------------------
def test_no_funnel() -> None:
    name = "tailscale-no-funnel"
    ingress = {"metadata": {"name": "grafana", "namespace": "monitoring", "annotations": {"tailscale.com/tags": "t"}}}
    assert _one(name, INGRESS, ingress) == []
    funnel = {"metadata": {**ingress["metadata"], "annotations": {"tailscale.com/funnel": "true"}}}
    assert len(_one(name, INGRESS, funnel)) == 1
    assert len(_one(name, SERVICE, funnel)) == 1
    assert _one(name, INGRESS, funnel, {"excludeNamespaces": ["monitoring"]}) == []
    assert _one(name, SERVICE, {"metadata": {"annotations": {"tailscale.com/funnel": "false"}}}) == []
    assert _one(name, TS_ACL, acl()) == []
    assert len(_one(name, TS_ACL, changed(nodeAttrs=[{"target": ["group:ml"], "attr": ["funnel"]}]))) == 1
