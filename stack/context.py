"""``StackContext``: what every layer shares, made once from the settings and the cluster target.

The environment, team, standard labels, AWS tags, secrets, the system node selector and the
NVIDIA runtime class are decided here, so no layer repeats a conditional for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.core.labels import aws_tags, standard_labels
from components.core.naming import k8s_name
from components.core.settings import PROJECT, SettingsError, StackSettings, stack_file_name
from components.specs.addons import digest_problems
from components.specs.scheduling import NVIDIA_RUNTIME_CLASS
from stack.cluster import cluster_target
from stack.target import ClusterTarget


def stack_tags(s: StackSettings) -> dict[str, str]:
    """Every AWS resource's tags (the AWS provider's default tags)."""
    return aws_tags(env=s.environment.value, team=s.team, cost_center=s.cost_center)


@dataclass(frozen=True)
class StackContext:
    settings: StackSettings
    cluster_name: str
    """``<cluster.name>-<stack>``: names the EKS cluster, ECR prefix, tailnet hostnames."""
    secrets: Mapping[str, pulumi.Output[str]]
    """Every ``--secret`` config key the stack set, as Output secrets (never decoded here)."""
    cost: dict[str, Any]
    """The stack's cost estimate (``stack/cluster.cluster_cost``): the cluster's cost tags and an export."""
    target: ClusterTarget
    """The cluster (``stack/target.py``)."""

    @property
    def env(self) -> str:
        return self.settings.environment.value

    @property
    def team(self) -> str:
        return self.settings.team

    def labels(self, app: str, component: str) -> dict[str, str]:
        """The standard labels of one of the stack's objects."""
        return standard_labels(env=self.env, team=self.team, app=app, component=component)

    @property
    def tags(self) -> dict[str, str]:
        return stack_tags(self.settings)

    @property
    def k8s_opts(self) -> pulumi.ResourceOptions:
        """Options of a component with only Kubernetes children."""
        return pulumi.ResourceOptions(provider=self.target.k8s_provider)

    def opts(self, *, depends_on: list[pulumi.Resource] | None = None) -> pulumi.ResourceOptions:
        """Options of a component with AWS and Kubernetes children (every provider the target has)."""
        return pulumi.ResourceOptions(providers=self.target.providers, depends_on=depends_on)

    @property
    def system_node_selector(self) -> dict[str, str] | None:
        """Where system controllers run (the EKS system pool); None: anywhere."""
        return self.target.system_node_selector

    @property
    def runtime_class(self) -> str | None:
        """The RuntimeClass GPU pods name, where the stack creates one (``gpu.runtimeClass``)."""
        return NVIDIA_RUNTIME_CLASS if self.settings.nvidia_runtime_class else None

    def secret(self, key: str | None) -> pulumi.Output[str] | None:
        """The secret config key's value, or None when no key is named."""
        return self.secrets[key] if key else None


def stack_context(
    settings: StackSettings, stack: str, secrets: Mapping[str, pulumi.Output[str]], cost: dict[str, Any]
) -> StackContext:
    """The context, with the cluster target it creates (``stack/cluster.py``).

    First, before any resource: prod's digests for a plain add-on the settings cannot judge (only
    its record knows when it runs, ``components/specs/addons.digest_problems``), refused like any
    settings problem, so a real ``pulumi up`` never stops half-way over them."""
    missing = digest_problems(settings)
    if missing:
        raise SettingsError(stack_file_name(stack), [(f"{PROJECT}:{k}", m) for k, m in missing])
    cluster_name = k8s_name(settings.cluster.name, stack)
    target = cluster_target(settings, cluster_name, stack_tags(settings), cost)
    return StackContext(settings=settings, cluster_name=cluster_name, secrets=secrets, cost=cost, target=target)
