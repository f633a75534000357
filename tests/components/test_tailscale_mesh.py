"""``TailscaleMesh`` under the recording mocks: the policy adopted safely, keys tagged and secret,
the operator's credentials only in its Secret, and the Connector after the policy."""

from __future__ import annotations

import json
from typing import Any

import pulumi

from components.specs.tailnet_policy import TailnetPolicyInput
from components.tailscale_mesh import (
    STACK_OWNED,
    TAILNET_WIDE,
    AuthKeyArgs,
    OperatorArgs,
    TailscaleMesh,
    TailscaleMeshArgs,
)
from planner.mocks import SECRET_SIG, RecordingMonitor
from planner.render import redact
from tests.conftest import build_under_mocks

ACL = "tailscale:index/acl:Acl"
KEY = "tailscale:index/tailnetKey:TailnetKey"
CLIENT = "tailscale:index/oauthClient:OauthClient"
SECRET = "kubernetes:core/v1:Secret"
RELEASE = "kubernetes:helm.sh/v3:Release"
CONNECTOR = "kubernetes:tailscale.com/v1alpha1:Connector"

POLICY = TailnetPolicyInput(
    env="prod",
    groups={"group:admins": ["a@example.com"]},
    tag_owners={"tag:gpu-node": ["autogroup:admin"], "tag:k8s-operator": ["autogroup:admin"]},
    admins=["group:admins"],
    routes=["10.50.0.0/16"],
)


def _mesh(operator: OperatorArgs | None = None, **overrides: Any) -> tuple[RecordingMonitor, dict[str, Any]]:
    built: dict[str, Any] = {}

    overrides.setdefault("device_approval", True)

    def build() -> TailscaleMesh:
        args = TailscaleMeshArgs(
            policy=POLICY,
            auth_keys={"box": AuthKeyArgs(tags=["tag:gpu-node"])},
            key_expiry_seconds=3600,
            split_dns={"corp.internal": ["10.50.0.2"]},
            operator=operator,
            **overrides,
        )
        mesh = TailscaleMesh("mesh", args)
        built["mesh"] = mesh
        return mesh

    return build_under_mocks(build), built


def _operator(**overrides: Any) -> OperatorArgs:
    values: dict[str, Any] = {
        "namespace": "tailscale",
        "hostname": "ai-infra-prod-operator",
        "labels": {"app.kubernetes.io/name": "tailscale"},
        "node_selector": {"ai-infra.io/pool": "system"},
        "routes": ["10.50.0.0/16"],
        "router_hostname": "ai-infra-prod-router",
        "grafana_namespace": "monitoring",
    }
    values.update(overrides)
    return OperatorArgs(**values)


def test_the_policy_is_adopted_never_reset_and_kept_on_delete() -> None:
    m, _ = _mesh()
    (acl,) = m.by_type(ACL)
    assert acl.inputs["overwriteExistingContent"] is False and acl.inputs["resetAclOnDestroy"] is False
    assert acl.retain_on_delete
    assert json.loads(acl.inputs["acl"])["grants"]
    settings = m.by_type("tailscale:index/tailnetSettings:TailnetSettings")[0].inputs
    assert settings == {"aclsExternallyManagedOn": True, "devicesApprovalOn": True, "httpsEnabled": True}
    assert m.by_type("tailscale:index/dnsSplitNameservers:DnsSplitNameservers")[0].inputs == {
        "domain": "corp.internal",
        "nameservers": ["10.50.0.2"],
    }


def test_every_tailnet_wide_resource_is_retained_on_delete() -> None:
    """DnsPreferences' Delete sets empty preferences (MagicDNS off tailnet-wide) and a split-DNS
    Delete empties the domain for every device (TF provider v0.29.2): the stack must let go."""
    m, _ = _mesh(operator=_operator())
    recorded = {r.type for r in m.registrations if r.type.startswith("tailscale:")}
    assert recorded <= set(TAILNET_WIDE) | set(STACK_OWNED), "classify every new tailscale resource"
    assert set(TAILNET_WIDE) <= recorded
    for r in m.registrations:
        if r.type in TAILNET_WIDE:
            assert r.retain_on_delete, r.name
        elif r.type in STACK_OWNED:
            assert not r.retain_on_delete, r.name


def test_outside_prod_device_approval_is_not_sent() -> None:
    """``False`` would turn approval off for the whole (shared) tailnet; no value keeps it."""
    m, _ = _mesh(device_approval=None)
    settings = m.by_type("tailscale:index/tailnetSettings:TailnetSettings")[0].inputs
    assert "devicesApprovalOn" not in settings
    assert settings == {"aclsExternallyManagedOn": True, "httpsEnabled": True}


def test_keys_are_tagged_ephemeral_preauthorized_short_and_after_the_policy() -> None:
    m, built = _mesh()
    (key,) = m.by_type(KEY)
    assert key.inputs["tags"] == ["tag:gpu-node"] and key.inputs["expiry"] == 3600
    assert key.inputs["ephemeral"] is True and key.inputs["preauthorized"] is True and key.inputs["reusable"] is False
    assert m.by_type(ACL)[0].urn in key.dependencies
    from pulumi.runtime.sync_await import _sync_await

    keys: pulumi.Output[Any] = built["mesh"].auth_keys
    assert _sync_await(keys.is_secret())


def test_without_the_operator_nothing_runs_in_the_cluster() -> None:
    m, _ = _mesh()
    assert not [r for r in m.registrations if r.type.startswith("kubernetes:")]
    assert not m.by_type(CLIENT)


def test_the_operator_gets_its_own_client_only_through_its_secret() -> None:
    m, _ = _mesh(_operator())
    (client,) = m.by_type(CLIENT)
    assert client.inputs["tags"] == ["tag:k8s-operator"] and "auth_keys" in client.inputs["scopes"]
    (secret,) = m.by_type(SECRET)
    assert secret.inputs["metadata"]["name"] == "operator-oauth"
    assert SECRET_SIG in json.dumps(secret.inputs["stringData"])
    assert redact(secret.inputs["stringData"]) == {"client_id": "[secret]", "client_secret": "[secret]"}
    (release,) = m.by_type(RELEASE)
    assert secret.urn in release.dependencies and "oauth" not in release.inputs["values"]
    assert "tskey" not in json.dumps(redact([r.inputs for r in m.registrations]))


def test_the_stack_client_mode_creates_no_client() -> None:
    stack_id = pulumi.Output.secret("id")
    stack_secret = pulumi.Output.secret("s")
    m, _ = _mesh(_operator(client_id=stack_id, client_secret=stack_secret))
    assert not m.by_type(CLIENT) and m.by_type(SECRET)


def test_the_connector_waits_for_the_policy_and_the_crds() -> None:
    m, _ = _mesh(_operator())
    (connector,) = m.by_type(CONNECTOR)
    assert m.by_type(ACL)[0].urn in connector.dependencies and m.by_type(RELEASE)[0].urn in connector.dependencies
    assert connector.inputs["spec"]["subnetRouter"] == {"advertiseRoutes": ["10.50.0.0/16"]}
    grafana = [
        r
        for r in m.by_type("kubernetes:networking.k8s.io/v1:Ingress")
        if r.inputs["metadata"]["namespace"] == "monitoring"
    ]
    assert grafana and grafana[0].inputs["spec"]["defaultBackend"]["service"]["name"] == "kube-prometheus-stack-grafana"
    no_router, _ = _mesh(_operator(routes=[], grafana_namespace=None))
    assert not no_router.by_type(CONNECTOR) and not no_router.by_type("kubernetes:networking.k8s.io/v1:Ingress")
