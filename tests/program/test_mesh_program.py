"""The mesh in whole-program runs: prod plans it with the Connector for its VPC CIDR, dev does not
unless asked, and no Tailscale credential or key appears outside Pulumi's secret wrapper."""

from __future__ import annotations

import json

from planner.render import plan_document
from tests.conftest import MESH, MESH_SECRETS, run_stack, stack_file_config, stack_run

CONNECTOR = "kubernetes:tailscale.com/v1alpha1:Connector"
TAILNET_WIDE = {
    "tailscale:index/acl:Acl",
    "tailscale:index/tailnetSettings:TailnetSettings",
    "tailscale:index/dnsPreferences:DnsPreferences",
}


def test_prod_plans_the_mesh_and_the_connector_for_its_vpc_cidr() -> None:
    run = stack_run("prod")
    types = {r.type for r in run.registrations}
    assert {"tailscale:index/acl:Acl", "tailscale:index/tailnetKey:TailnetKey", CONNECTOR} <= types
    (connector,) = [r.inputs for r in run.registrations if r.type == CONNECTOR]
    assert connector["spec"]["subnetRouter"]["advertiseRoutes"] == ["10.50.0.0/16"]
    namespace = next(
        r.inputs
        for r in run.registrations
        if r.type == "kubernetes:core/v1:Namespace" and r.inputs["metadata"]["name"] == "tailscale"
    )
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    (release,) = [
        r.inputs for r in run.registrations if r.type.endswith(":Release") and r.inputs["chart"] == "tailscale-operator"
    ]
    assert release["version"] == "1.102.3" and release["namespace"] == "tailscale"
    # No public load balancer anywhere: Services are ClusterIP, tailnet reach is an Ingress proxy.
    assert all(
        r.inputs.get("spec", {}).get("type", "ClusterIP") == "ClusterIP"
        for r in run.registrations
        if r.type == "kubernetes:core/v1:Service"
    )


def test_dev_plans_no_mesh_unless_switched_on() -> None:
    assert not [r for r in stack_run("dev").registrations if r.type.startswith("tailscale:")]
    config = stack_file_config("dev") | {"ai-infra:tailscale": MESH["tailscale"]}
    config |= {f"ai-infra:{k}": "plan-placeholder" for k in MESH_SECRETS}
    run = run_stack("dev", config, secret_keys=[f"ai-infra:{k}" for k in sorted(MESH_SECRETS)])
    (connector,) = [r.inputs for r in run.registrations if r.type == CONNECTOR]
    assert connector["spec"]["subnetRouter"]["advertiseRoutes"] == ["10.40.0.0/16"]  # the default vpcCidr
    # A dev stack shares the tailnet by default: no policy file, no tailnet-wide settings.
    assert not [r for r in run.registrations if r.type in TAILNET_WIDE]
    assert [r for r in run.registrations if r.type == "tailscale:index/oauthClient:OauthClient"]  # the operator's
    owned = {**config, "ai-infra:tailscale": {**MESH["tailscale"], "policy": "own"}}
    run = run_stack("dev", owned, secret_keys=[f"ai-infra:{k}" for k in sorted(MESH_SECRETS)])
    assert {r.type for r in run.registrations} >= TAILNET_WIDE
    acl = json.loads(next(r.inputs["acl"] for r in run.registrations if r.type == "tailscale:index/acl:Acl"))
    assert acl["ssh"][0]["action"] == "accept"  # check mode is prod's


def test_no_tailscale_secret_in_plain_outputs_or_plan_json() -> None:
    run = stack_run("prod")
    # The mock engine does mint them (so their absence below means redaction, not emptiness).
    key = next(r for r in run.registrations if r.type == "tailscale:index/tailnetKey:TailnetKey")
    assert str(key.outputs["key"]).startswith("tskey-auth-")
    assert "tskey-auth-" in json.dumps(run.outputs["tailnetAuthKeys"])
    document = json.dumps(plan_document("prod", run.registrations, run.outputs))
    # Mocked values of the minted key, the operator's OAuth client and the stack's placeholders.
    for fragment in ("tskey-", "mock-client-", "plan-placeholder"):
        assert fragment not in document, fragment
    assert json.loads(document)["outputs"]["tailnetAuthKeys"] == {"rented-gpu": "[secret]"}
    provider = next(r for r in run.registrations if r.type == "pulumi:providers:tailscale")
    assert (
        json.loads(json.dumps(plan_document("p", [provider], {})))["resources"][0]["inputs"]["oauthClientSecret"]
        == "[secret]"
    )


def test_prod_tailscale_egress_names_the_real_proxies_and_router() -> None:
    run = stack_run("prod")
    netpols = {
        r.inputs["metadata"]["name"]: r.inputs["spec"]
        for r in run.registrations
        if r.type.endswith(":NetworkPolicy") and r.inputs["metadata"]["namespace"] == "tailscale"
    }
    (connector,) = [r.inputs for r in run.registrations if r.type == CONNECTOR]
    router = netpols["subnet-router"]
    assert router["podSelector"]["matchLabels"]["tailscale.com/parent-resource"] == connector["metadata"]["name"]
    assert router["egress"][0]["ports"] == [{"port": 443, "protocol": "TCP"}]
    ingresses = {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): r.inputs
        for r in run.registrations
        if r.type == "kubernetes:networking.k8s.io/v1:Ingress"
    }
    assert ingresses  # coder-32b and Grafana
    for (namespace, name), ingress in ingresses.items():
        proxy = netpols[f"proxy-{namespace}-{name}"]
        port = ingress["spec"]["defaultBackend"]["service"]["port"]["number"]
        assert proxy["egress"][0]["ports"] == [{"port": port, "protocol": "TCP"}]
    # The admins' grant: the routes on the API endpoint's port only.
    acl = json.loads(next(r.inputs["acl"] for r in run.registrations if r.type == "tailscale:index/acl:Acl"))
    admin_grants = [g for g in acl["grants"] if g["dst"] == connector["spec"]["subnetRouter"]["advertiseRoutes"]]
    assert admin_grants and all(g["ip"] == ["tcp:443"] for g in admin_grants)
