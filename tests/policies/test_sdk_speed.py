"""``aiinfra_policies.sdk_speed``: the SDK's analyzer converts each resource's properties once per
call (not once per policy) and answers exactly as before."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel
from pulumi_policy import policy as sdk

from aiinfra_policies import ALL_POLICIES
from aiinfra_policies.sdk_speed import convert_properties_once

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
    # The same answers as the SDK's own conversion gives (the real module, called directly).
    sdk.json_format = json_format
    try:
        plain = _servicer().Analyze(request, None)
        plain_stack = sdk._PolicyAnalyzerServicer.AnalyzeStack(_servicer(), stack, None)
    finally:
        sdk.json_format = memo
    assert _answer(patched) == _answer(plain) and ("k8s-no-privileged-containers" in {p for p, _ in _answer(plain)})
    assert _answer(patched_stack) == _answer(plain_stack)
