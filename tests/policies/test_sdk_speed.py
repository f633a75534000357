"""``aiinfra_policies.sdk_speed``: the SDK's analyzer reads each resource's properties once per
call (not once per policy) and answers exactly as before; no policy writes to the properties
the policies now share."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel, StackValidationPolicy
from pulumi_policy import deserialize as sdk_deserialize
from pulumi_policy import policy as sdk
from pulumi_policy import proxy as sdk_proxy

from aiinfra_policies import ALL_POLICIES
from aiinfra_policies.sdk_speed import convert_properties_once
from tests.conftest import ROOT, stack_run, stack_violations, violations

PRIVILEGED: dict[str, Any] = {
    "metadata": {"name": "server", "namespace": "models"},
    "spec": {
        "template": {
            "spec": {"containers": [{"name": "server", "image": "x:1", "securityContext": {"privileged": True}}]}
        }
    },
}
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def _servicer() -> Any:
    return sdk._PolicyAnalyzerServicer("ai-infra", "0.0.1", [*ALL_POLICIES], EnforcementLevel.ADVISORY)


def _request(name: str, props: dict[str, Any]) -> Any:
    request = analyzer_pb2.AnalyzeRequest(type=DEPLOYMENT, name=name, urn=f"urn:pulumi:t::p::{DEPLOYMENT}::{name}")
    request.properties.update(props)
    return request


def _answer(response: Any) -> list[tuple[str, str]]:
    return sorted((d.policyName, d.message) for d in response.diagnostics)


def _stack_request(names: list[str]) -> Any:
    request = analyzer_pb2.AnalyzeStackRequest()
    for name in names:
        resource = request.resources.add(type=DEPLOYMENT, name=name, urn=f"urn:pulumi:t::p::{DEPLOYMENT}::{name}")
        resource.properties.update(PRIVILEGED)
    return request


def test_each_resource_is_converted_once_per_call_and_the_answers_do_not_change() -> None:
    request, stack = _request("server", PRIVILEGED), _stack_request(["a", "b", "c"])
    memo = convert_properties_once()
    assert memo is not None and convert_properties_once() is memo  # idempotent
    before = memo.conversions
    patched = _servicer().Analyze(request, None)
    assert memo.conversions - before == 1  # ~95 policies, one conversion
    before = memo.conversions
    patched_stack = _servicer().AnalyzeStack(stack, None)
    assert memo.conversions - before == 3  # every stack policy reads the same three conversions
    # The same answers as the SDK's own functions give (called directly, nothing memoized).
    patched_functions = (sdk.json_format, sdk.deserialize_properties, sdk.unknown_checking_proxy)
    sdk.json_format = json_format
    sdk.deserialize_properties = sdk_deserialize.deserialize_properties
    sdk.unknown_checking_proxy = sdk_proxy.unknown_checking_proxy
    try:
        plain = _servicer().Analyze(request, None)
        plain_stack = _servicer().AnalyzeStack(stack, None)
    finally:
        sdk.json_format, sdk.deserialize_properties, sdk.unknown_checking_proxy = patched_functions
    assert _answer(patched) == _answer(plain) and ("k8s-no-privileged-containers" in {p for p, _ in _answer(plain)})
    assert _answer(patched_stack) == _answer(plain_stack)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_policy_writes_to_the_properties_it_is_given(stack: str) -> None:
    """The memo hands every policy the same properties object: each policy must only read it."""
    config = json.loads((ROOT / "policies" / f"{stack}.json").read_text())
    resources = [
        (r.type, r.inputs)
        for r in stack_run(stack).registrations
        if r.custom and not r.type.startswith("pulumi:providers:")
    ]
    before = copy.deepcopy(resources)
    for policy in ALL_POLICIES:
        given = config.get(policy.name)
        policy_config = given if isinstance(given, dict) else {}
        if isinstance(policy, StackValidationPolicy):
            stack_violations(policy, resources, policy_config)
        else:
            for typ, props in resources:
                violations(policy, typ, props, policy_config)
    assert resources == before
