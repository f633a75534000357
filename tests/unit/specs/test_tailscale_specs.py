"""The operator's objects as the pinned operator (1.102.3) reads them: values without credentials,
the Connector and ProxyClass against their CRD schemas (and the Connector's CEL rules)."""

from __future__ import annotations

import json
from typing import Any

from components.specs import tailscale as spec
from tests.unit.specs.test_crd_schemas import errors

CONNECTOR = "kubernetes:tailscale.com/v1alpha1:Connector"
PROXY_CLASS = "kubernetes:tailscale.com/v1alpha1:ProxyClass"
LABELS = {"app.kubernetes.io/name": "tailscale"}


def _connector(**overrides: Any) -> dict[str, Any]:
    doc = spec.connector(
        "mesh-router",
        routes=["10.50.0.0/16"],
        tags=["tag:subnet-router", "tag:ai-infra-prod"],
        hostname="ai-infra-prod-router",
        labels=LABELS,
        proxy_class="mesh-system",
    )
    doc["spec"].update(overrides)
    return doc


def _cel(spec_: dict[str, Any]) -> list[str]:
    """The Connector CRD's x-kubernetes-validations (tailscale.com_connectors.yaml @ v1.102.3),
    which JSON Schema cannot express, as Python."""
    found = []
    if not ("subnetRouter" in spec_ or spec_.get("exitNode") is True or "appConnector" in spec_):
        found.append("needs one of exit node, subnet router or app connector")
    if "appConnector" in spec_ and ("subnetRouter" in spec_ or spec_.get("exitNode") is True):
        found.append("appConnector is exclusive")
    if "hostname" in spec_ and "hostnamePrefix" in spec_:
        found.append("hostname and hostnamePrefix are exclusive")
    if "hostname" in spec_ and spec_.get("replicas", 1) > 1:
        found.append("hostname only with at most one replica")
    return found


def test_connector_matches_the_pinned_crd_and_its_rules() -> None:
    doc = _connector()
    assert errors(CONNECTOR, doc) == [] and _cel(doc["spec"]) == []
    assert doc["spec"]["subnetRouter"] == {"advertiseRoutes": ["10.50.0.0/16"]}


def test_connector_schema_rejects_what_the_operator_would() -> None:
    bad_tag = _connector(tags=["subnet-router"])
    assert any("tags" in e for e in errors(CONNECTOR, bad_tag))
    typo = json.loads(json.dumps(_connector()))
    typo["spec"]["subnetRouter"] = {"routes": ["10.50.0.0/16"]}  # the field is advertiseRoutes
    assert any("advertiseRoutes" in e or "routes" in e for e in errors(CONNECTOR, typo))
    assert _cel(_connector(replicas=2)) and _cel({"hostname": "x"})


def test_proxy_class_matches_the_pinned_crd() -> None:
    doc = spec.proxy_class("mesh-system", node_selector={"ai-infra.io/pool": "system"}, labels=LABELS)
    assert errors(PROXY_CLASS, doc) == []
    doc["spec"]["statefulSet"]["pod"]["nodeSelectors"] = {}
    assert any("nodeSelectors" in e for e in errors(PROXY_CLASS, doc))


def test_operator_values_carry_no_credentials_and_the_tag_shapes_the_chart_wants() -> None:
    values = spec.operator_values(hostname="ai-infra-prod-operator", proxy_class="mesh-system")
    assert "oauth" not in values and "oauthSecretVolume" not in values
    assert values["operatorConfig"]["defaultTags"] == ["tag:k8s-operator"]  # a list (joined by the template)
    assert values["proxyConfig"]["defaultTags"] == "tag:k8s"  # a string (printed verbatim)
    assert values["apiServerProxyConfig"] == {"mode": "false"}
    custom = spec.operator_values(hostname="op", tags=["tag:a", "tag:b"], proxy_tags=["tag:p", "tag:q"])
    assert custom["operatorConfig"]["defaultTags"] == ["tag:a", "tag:b"]
    assert custom["proxyConfig"]["defaultTags"] == "tag:p,tag:q"


def test_operator_oauth_secret_holds_only_secret_outputs() -> None:
    import pulumi

    args = spec.oauth_secret_args(namespace="tailscale", client_id="id", client_secret="s", labels=LABELS)
    assert args.metadata.name == "operator-oauth"
    assert set(args.string_data) == {"client_id", "client_secret"}
    assert all(isinstance(v, pulumi.Output) for v in args.string_data.values())
