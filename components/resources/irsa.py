"""IRSA roles: an IAM role that only one ServiceAccount of one cluster can assume.

A helper rather than a component: each component creates its controllers' roles as its own
children (``parent``), so a role lives and dies with the thing that uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.core.naming import resource_name
from components.specs import aws_iam


@dataclass(frozen=True)
class IrsaRole:
    role: aws.iam.Role
    permissions: list[pulumi.Resource]
    """Its policy attachments and inline policies: what a consumer must wait for, not just the role."""


def irsa_role(
    parent: pulumi.Resource,
    name: str,
    *,
    oidc_provider_arn: pulumi.Input[str],
    oidc_issuer: pulumi.Input[str],
    namespace: str,
    service_account: str,
    policy_arns: list[pulumi.Input[str]],
    tags: dict[str, str],
    inline_policies: Mapping[str, pulumi.Input[str]] | None = None,
) -> IrsaRole:
    """Create the role (``<name>-irsa``), attach ``policy_arns`` and add ``inline_policies`` (by name)."""
    role = aws.iam.Role(
        resource_name(name, "irsa"),
        assume_role_policy=aws_iam.irsa_trust_policy_output(oidc_provider_arn, oidc_issuer, namespace, service_account),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    permissions: list[pulumi.Resource] = []
    for i, arn in enumerate(policy_arns):
        permissions.append(
            aws.iam.RolePolicyAttachment(
                resource_name(name, f"irsa-{i}"),
                role=role.name,
                policy_arn=arn,
                opts=pulumi.ResourceOptions(parent=parent),
            )
        )
    for policy_name, document in sorted((inline_policies or {}).items()):
        permissions.append(
            aws.iam.RolePolicy(
                resource_name(name, f"irsa-{policy_name}"),
                role=role.name,
                policy=document,
                opts=pulumi.ResourceOptions(parent=parent),
            )
        )
    return IrsaRole(role=role, permissions=permissions)
