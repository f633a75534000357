"""Every custom resource the plan renders validates against its CRD schema at the pinned version.

``tests/data/crds/<group>-<version>-<Kind>.json`` holds, for each kind we render, the fields we set
as the upstream CRD's ``openAPIV3Schema`` types them at the pinned chart version (the ``$comment``
names the file and tag); any other field is rejected, so a typo or a field the pinned operator
does not know fails here instead of being pruned by the API server on the first ``up``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import ROOT, stack_run

DATA = ROOT / "tests" / "data" / "crds"
BUILT_IN_GROUPS = ("apps", "batch", "policy", "autoscaling", "core", "helm.sh")
CRD_GROUPS_UNDER_K8S_IO = ("gateway.networking.k8s.io", "inference.networking.k8s.io")
"""SIG projects whose CRDs use a protected ``k8s.io`` group (not ``x-k8s.io``): custom all the same."""


def _schema_path(resource_type: str) -> Path:
    api_version, kind = resource_type.removeprefix("kubernetes:").rsplit(":", 1)
    return DATA / f"{api_version.replace('/', '-')}-{kind}.json"


def _is_custom(resource_type: str) -> bool:
    if not resource_type.startswith("kubernetes:") or resource_type.startswith("kubernetes:helm.sh"):
        return False
    group = resource_type.removeprefix("kubernetes:").split("/", 1)[0]
    # Built-in groups end in k8s.io (storage.k8s.io); SIG projects' CRDs in x-k8s.io (kueue.x-k8s.io).
    built_in = group.endswith("k8s.io") and not group.endswith("x-k8s.io") and group not in CRD_GROUPS_UNDER_K8S_IO
    return "/" in resource_type and "." in group and not built_in and group not in BUILT_IN_GROUPS


def errors(resource_type: str, document: dict[str, Any]) -> list[str]:
    schema = json.loads(_schema_path(resource_type).read_text())
    validator = jsonschema.Draft7Validator(schema)
    return sorted(f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document))


def custom_resources(stack: str) -> list[tuple[str, str, dict[str, Any]]]:
    return sorted((r.type, r.name, r.inputs) for r in stack_run(stack).registrations if r.custom and _is_custom(r.type))


def test_the_plans_render_custom_resources() -> None:
    kinds = {t for stack in ("dev", "prod", "local") for t, _, _ in custom_resources(stack)}
    assert {
        "kubernetes:keda.sh/v1alpha1:ScaledObject",
        "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
        "kubernetes:kueue.x-k8s.io/v1beta2:ResourceFlavor",
        "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue",
        "kubernetes:kueue.x-k8s.io/v1beta2:LocalQueue",
        "kubernetes:tailscale.com/v1alpha1:Connector",
        "kubernetes:tailscale.com/v1alpha1:ProxyClass",
        "kubernetes:gateway.networking.k8s.io/v1:Gateway",
        "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
        "kubernetes:gateway.networking.k8s.io/v1:ReferenceGrant",
        "kubernetes:inference.networking.k8s.io/v1:InferencePool",
        "kubernetes:agentgateway.dev/v1alpha1:AgentgatewayPolicy",
        "kubernetes:agentgateway.dev/v1alpha1:AgentgatewayParameters",
    } <= kinds


@pytest.mark.parametrize("stack", ["dev", "prod", "local"])
def test_every_custom_resource_matches_its_crd(stack: str) -> None:
    for resource_type, name, inputs in custom_resources(stack):
        assert _schema_path(resource_type).exists(), f"no CRD schema for {resource_type}: add it from the pinned CRD"
        assert errors(resource_type, inputs) == [], f"{stack}: {name}"


def test_unknown_fields_are_rejected() -> None:
    so = next(inputs for t, _, inputs in custom_resources("prod") if t.endswith(":ScaledObject"))
    typo = json.loads(json.dumps(so))
    typo["spec"]["maxReplicas"] = 4  # the field is maxReplicaCount
    typo["spec"]["triggers"][0]["metadata"]["threshold"] = 5  # must be a string
    found = errors("kubernetes:keda.sh/v1alpha1:ScaledObject", typo)
    assert any("maxReplicas" in e for e in found) and any("threshold" in e for e in found)


def test_kueue_v1beta1_names_and_bad_enums_are_rejected() -> None:
    cq = next(inputs for t, _, inputs in custom_resources("prod") if t.endswith(":ClusterQueue"))
    assert cq["spec"]["cohortName"]
    old = json.loads(json.dumps(cq))
    old["spec"]["cohort"] = old["spec"].pop("cohortName")  # v1beta1's name for it
    old["spec"]["preemption"]["reclaimWithinCohort"] = "Sometimes"
    found = errors("kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue", old)
    assert any("cohort" in e for e in found) and any("Sometimes" in e for e in found)
    lq = next(inputs for t, _, inputs in custom_resources("prod") if t.endswith(":LocalQueue"))
    assert errors("kubernetes:kueue.x-k8s.io/v1beta2:LocalQueue", {**lq, "spec": {"clusterQueue": "Not_A_Name"}})
