"""``PlatformNamespace``: one namespace with its Pod Security level and, for workload
namespaces, the guardrails every tenant gets (default-deny + DNS NetworkPolicies,
ResourceQuota with a GPU line, LimitRange, the operators' scoped Role); system namespaces get
default-deny plus the allows their charts need (``specs/system_network.py``). In every namespace the ``default``
ServiceAccount's token is no longer mounted.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.core.naming import resource_name
from components.core.settings import NamespaceSettings
from components.specs import namespace as spec
from components.specs.addons import system_network_policies
from components.specs.system_network import ClusterNetwork

TYPE = "ai-infra:k8s:PlatformNamespace"


@dataclass(frozen=True, kw_only=True)
class PlatformNamespaceArgs:
    name: str
    """The namespace's metadata.name (a literal, so policies know it at preview)."""
    labels: dict[str, str]
    """Standard labels (components.core.labels.standard_labels)."""
    pod_security: spec.PodSecurityLevel = "restricted"
    """Pod Security level enforced, warned and audited."""
    workload: NamespaceSettings | None = None
    """Quota and limit settings; set for workload namespaces, None for system namespaces."""
    serving: bool = False
    """The namespace runs model fleets (may use the serving PriorityClass)."""
    batch: bool = False
    """The namespace submits to batch queues (operators may create Jobs there)."""
    network: ClusterNetwork | None = None
    """For system namespaces: the cluster's addresses, for default-deny plus each component's allows."""


class PlatformNamespace(pulumi.ComponentResource):
    """Children: Namespace and a ServiceAccountPatch of ``default`` (no token automount); for
    workload namespaces also NetworkPolicies default-deny and allow-dns, ResourceQuotas
    ``compute`` and ``priority-guard`` (no pods at classes the namespace may not use),
    LimitRange ``defaults`` and the operators' Role and RoleBinding (``ai-infra-operator``); for
    system namespaces given ``network``, the system NetworkPolicies."""

    namespace_name: pulumi.Output[str]
    """metadata.name of the namespace (depends on its creation)."""

    def __init__(self, name: str, args: PlatformNamespaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        self.namespace = k8s.core.v1.Namespace(
            resource_name(name, "ns"),
            spec.namespace_args(args.name, args.pod_security, args.labels),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Children name the namespace through the Namespace's output so they wait for it.
        ns = self.namespace.metadata.apply(lambda m: str(m.name))
        child = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        # Every namespace, system ones too: charts bring their own accounts, and a pod that names
        # none must not get API credentials.
        k8s.core.v1.ServiceAccountPatch(
            resource_name(name, "default-sa"), spec.default_service_account_patch_args(args.name), opts=child
        )
        if args.workload is not None:
            k8s.networking.v1.NetworkPolicy(
                resource_name(name, "default-deny"), spec.default_deny_args(args.name, args.labels), opts=child
            )
            k8s.networking.v1.NetworkPolicy(
                resource_name(name, "allow-dns"), spec.allow_dns_args(args.name, args.labels), opts=child
            )
            k8s.core.v1.ResourceQuota(
                resource_name(name, "quota"),
                spec.resource_quota_args(args.name, args.workload, args.labels),
                opts=child,
            )
            k8s.core.v1.ResourceQuota(
                resource_name(name, "priority-guard"),
                spec.priority_guard_quota_args(
                    args.name, spec.denied_priority_classes(serving=args.serving), args.labels
                ),
                opts=child,
            )
            k8s.core.v1.LimitRange(
                resource_name(name, "limits"),
                spec.limit_range_args(args.name, args.workload, args.labels),
                opts=child,
            )
            role_args, binding_args = spec.operator_role_args(args.name, args.labels, batch=args.batch)
            role = k8s.rbac.v1.Role(resource_name(name, "operator-role"), role_args, opts=child)
            k8s.rbac.v1.RoleBinding(
                resource_name(name, "operator-binding"),
                binding_args,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[role]),
            )
        elif args.network is not None:
            for np_args in system_network_policies(args.name, args.network, args.labels):
                k8s.networking.v1.NetworkPolicy(
                    resource_name(name, str(np_args.metadata.name)),  # type: ignore[union-attr]
                    np_args,
                    opts=child,
                )
        self.namespace_name = ns
        self.register_outputs({"namespace_name": self.namespace_name})
