"""Section L hardening policies (rule 89) both ways, matched by property dependencies."""

from __future__ import annotations

from typing import Any

from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions, StackValidationArgs

from aiinfra_policies import hardening
from aiinfra_policies.constants import DEFAULT_SG, FLOW_LOG, VPC
from tests.conftest import policy_by_name

_OPTS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def _res(typ: str, name: str, props: dict[str, Any], vpc: PolicyResource | None = None) -> PolicyResource:
    deps = {"vpcId": [vpc]} if vpc is not None else {}
    return PolicyResource(typ, props, f"urn:pulumi:t::p::{typ}::{name}", name, _OPTS, None, None, [], deps)


def _check(resources: list[PolicyResource]) -> list[str]:
    found: list[str] = []
    policy = policy_by_name(hardening.POLICIES, "vpc-flow-logs")
    policy.validate(StackValidationArgs(resources, {}), lambda message, urn=None: found.append(message))
    return found


def test_a_logged_vpc_with_an_empty_default_group_passes() -> None:
    vpc = _res(VPC, "vpc", {"cidrBlock": "10.0.0.0/16"})
    flow = _res(FLOW_LOG, "flow", {"trafficType": "ALL"}, vpc)
    sg = _res(DEFAULT_SG, "sg", {"ingress": [], "egress": []}, vpc)
    assert _check([vpc, flow, sg]) == []


def test_missing_flow_logs_or_an_open_default_group_is_reported() -> None:
    vpc = _res(VPC, "vpc", {"cidrBlock": "10.0.0.0/16"})
    other = _res(VPC, "other", {"cidrBlock": "10.1.0.0/16"})
    sg = _res(DEFAULT_SG, "sg", {"ingress": [], "egress": []}, vpc)
    (message,) = _check([vpc, sg])
    assert "FlowLog" in message
    # A flow log on another VPC does not count; nor does a default group that keeps a rule.
    open_sg = _res(DEFAULT_SG, "sg", {"ingress": [{"protocol": "-1", "selfAttr": True}]}, vpc)
    found = _check([vpc, other, _res(FLOW_LOG, "flow", {}, other), open_sg])
    assert len(found) == 3 and all("10.0" not in m for m in found)
