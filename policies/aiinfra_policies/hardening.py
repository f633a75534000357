"""Section L of ``policies/RULES.md``: hardening found by a CIS EKS / EKS Best Practices review of
the prod plan (rules 83–89; the rest of the range arrives with the security issue's fixes).

A VPC records its traffic and its default security group admits nothing (89): flow logs are the
only record of what a compromised pod talked to, and the default group is where an ENI lands
when someone forgets to name one. Resources are matched through their property dependencies
(which VPC a flow log's ``vpcId`` came from), so the rule runs in a first preview too, before
any id exists.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, StackValidationArgs

from aiinfra_policies.common import Report, RulePolicy, policy
from aiinfra_policies.constants import DEFAULT_SG, FLOW_LOG, VPC

M = EnforcementLevel.MANDATORY
A = EnforcementLevel.ADVISORY


# 89 ------------------------------------------------------------------------------------------
def _vpc_urns(r: object, key: str) -> set[str]:
    deps = getattr(r, "property_dependencies", {}).get(key, [])
    return {d.urn for d in deps if d.resource_type == VPC}


def _vpc_flow_logs(args: StackValidationArgs, report: Report) -> None:
    logged = {u for r in args.resources if r.resource_type == FLOW_LOG for u in _vpc_urns(r, "vpcId")}
    closed = {
        u
        for r in args.resources
        if r.resource_type == DEFAULT_SG and not r.props.get("ingress") and not r.props.get("egress")
        for u in _vpc_urns(r, "vpcId")
    }
    for vpc in (r for r in args.resources if r.resource_type == VPC):
        if vpc.urn not in logged:
            report("The VPC needs an aws.ec2.FlowLog (traffic type ALL) delivering to an encrypted log group.", vpc.urn)
        if vpc.urn not in closed:
            report(
                "The VPC's default security group must be adopted with no rules (aws.ec2.DefaultSecurityGroup).",
                vpc.urn,
            )


POLICIES: list[RulePolicy] = [
    policy(
        "vpc-flow-logs",
        rule="89",
        description="Every VPC has flow logs, and its default security group has no rules.",
        remediation="Build VPCs with components/network.py (flow logs with their own key, default group emptied).",
        level=A,
        stack=True,
        check=_vpc_flow_logs,
    ),
]
