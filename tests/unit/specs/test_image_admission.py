"""The image ValidatingAdmissionPolicies: their CEL evaluated (cel-python) as the API server
would, on hand-written pods and on every pod template the dev and prod stacks deploy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import celpy
import pytest

from components.specs import image_admission as spec
from tests.conftest import stack_run

ROOT = Path(__file__).resolve().parents[3]
DIGEST = "@sha256:" + "ab" * 32
ADMISSION = spec.ImageAdmission(
    namespaces=("models", "training"),
    prefixes=("123456789012.dkr.ecr.us-west-2.amazonaws.com/", *spec.PROD_REGISTRIES),
    repositories=("reg.internal/train",),
    deny_tags=True,
)


def _failed(admission: spec.ImageAdmission, pod_spec: dict[str, Any]) -> list[str]:
    """Names of the policies whose validation ``pod_spec`` fails."""
    env = celpy.Environment()
    pod = celpy.json_to_cel({"metadata": {"name": "p"}, "spec": pod_spec})
    failed = []
    for policy, _ in spec.image_admission_policy_args(admission, {}):
        p: Any = policy
        variables = {
            celpy.celtypes.StringType(v.name): env.program(env.compile(v.expression)).evaluate({"object": pod})
            for v in p.spec.variables or []
        }
        activation = {"object": pod, "variables": celpy.celtypes.MapType(variables)}
        for validation in p.spec.validations:
            if not env.program(env.compile(validation.expression)).evaluate(activation):
                failed.append(p.metadata.name)
    return failed


def _pod(image: str, *, init: str | None = None, debug: str | None = None) -> dict[str, Any]:
    pod: dict[str, Any] = {"containers": [{"name": "c", "image": image}]}
    if init:
        pod["initContainers"] = [{"name": "i", "image": init}]
    if debug:
        pod["ephemeralContainers"] = [{"name": "d", "image": debug}]
    return pod


@pytest.mark.parametrize(
    ("pod", "failed"),
    [
        (_pod(f"123456789012.dkr.ecr.us-west-2.amazonaws.com/ai/model-runner{DIGEST}"), []),
        (_pod(f"nvcr.io/nvidia/cuda{DIGEST}"), []),
        (_pod(f"reg.internal/train{DIGEST}"), []),  # a repository the stack names
        (_pod("nvcr.io/nvidia/cuda:12.4"), [spec.DIGESTS_POLICY]),
        (_pod(f"docker.io/library/busybox{DIGEST}"), [spec.REGISTRIES_POLICY]),
        (_pod("busybox"), [spec.REGISTRIES_POLICY, spec.DIGESTS_POLICY]),
        (_pod(f"reg.internal/train-evil{DIGEST}"), [spec.REGISTRIES_POLICY]),  # not a prefix of a repository
        (_pod(f"nvcr.io/a{DIGEST}", init="quay.io/x:1"), [spec.DIGESTS_POLICY]),
        (_pod(f"nvcr.io/a{DIGEST}", debug=f"evil.example.com/shell{DIGEST}"), [spec.REGISTRIES_POLICY]),
    ],
)
def test_pods_need_trusted_registries_and_digests(pod: dict[str, Any], failed: list[str]) -> None:
    assert _failed(ADMISSION, pod) == failed


def test_prod_denies_tags_dev_warns_and_both_deny_untrusted_registries() -> None:
    def actions(deny_tags: bool) -> dict[str, list[str]]:
        admission = spec.ImageAdmission(("models",), spec.DEV_REGISTRIES, (), deny_tags)
        return {
            str(b.metadata.name): list(b.spec.validation_actions)
            for _, b in spec.image_admission_policy_args(admission, {})
        }

    assert actions(True) == {spec.REGISTRIES_POLICY: ["Deny"], spec.DIGESTS_POLICY: ["Deny"]}
    assert actions(False) == {spec.REGISTRIES_POLICY: ["Deny"], spec.DIGESTS_POLICY: ["Warn", "Audit"]}
    policy: Any = spec.image_admission_policy_args(ADMISSION, {})[0][0]
    assert policy.spec.failure_policy == "Fail"
    (rule,) = policy.spec.match_constraints.resource_rules
    assert rule.resources == ["pods", "pods/ephemeralcontainers"] and rule.operations == ["CREATE", "UPDATE"]
    (expr,) = policy.spec.match_constraints.namespace_selector.match_expressions
    assert (expr.key, expr.values) == ("kubernetes.io/metadata.name", ["models", "training"])


def test_the_trusted_prefixes_are_the_packs() -> None:
    from aiinfra_policies.images import DEFAULT_REGISTRIES

    prod = json.loads((ROOT / "policies" / "prod.json").read_text())["k8s-image-trusted-registry"]
    assert list(spec.DEV_REGISTRIES) == DEFAULT_REGISTRIES
    assert list(spec.PROD_REGISTRIES) == prod["allowedRegistries"]


def test_repository_of_drops_tag_and_digest() -> None:
    assert spec.repository_of("host:5000/a/b:1.0@sha256:00") == "host:5000/a/b"
    assert spec.repository_of("busybox:1") == "busybox"


def _templates(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec_ = doc.get("spec", {})
    if "jobTemplate" in spec_:
        spec_ = spec_["jobTemplate"]["spec"]
    return [spec_["template"]["spec"]] if "template" in spec_ else []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_pod_the_stack_deploys_in_a_workload_namespace_is_admitted(stack: str) -> None:
    run = stack_run(stack)
    (policy,) = [r for r in run.registrations if r.urn.endswith("scheduling-image-registries-policy")]
    namespaces = tuple(policy.inputs["spec"]["matchConstraints"]["namespaceSelector"]["matchExpressions"][0]["values"])
    variables = {v["name"]: v["expression"] for v in policy.inputs["spec"]["variables"]}
    prefixes = tuple(json.loads(variables["prefixes"].replace("'", '"')))
    repositories = tuple(json.loads(variables["repositories"].replace("'", '"')))
    admission = spec.ImageAdmission(namespaces, prefixes, repositories, deny_tags=stack == "prod")
    pods = [
        template
        for r in run.registrations
        if r.type.split(":")[-1] in ("Deployment", "StatefulSet", "Job", "CronJob")
        and r.inputs.get("metadata", {}).get("namespace") in namespaces
        for template in _templates(r.inputs)
    ]
    assert len(pods) >= 3
    for pod in pods:
        # Both presets run their own builds by digest, and the gateway's endpoint picker by its
        # release's digest (gateway.PICKER_DIGEST): neither policy refuses (nor warns on) them.
        assert _failed(admission, pod) == []
