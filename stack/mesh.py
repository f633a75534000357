"""The mesh layer: the tailnet policy, keys for machines outside the cluster, the Tailscale
operator (tailnet endpoints) and the subnet router to the private API endpoint."""

from __future__ import annotations

import pulumi
import pulumi_tailscale as tailscale

from components.core.engines import VLLM
from components.core.naming import k8s_name
from components.core.settings import StackSettings
from components.core.settings.tailscale import OAUTH_CLIENT_ID_KEY, OAUTH_CLIENT_SECRET_KEY
from components.specs.tailnet_policy import TailnetPolicyInput
from components.tailscale_mesh import AuthKeyArgs, OperatorArgs, TailscaleMesh, TailscaleMeshArgs
from stack.context import StackContext
from stack.namespaces import Namespaces
from stack.network import split_dns_servers
from stack.target import ClusterAddresses


def tailnet_policy(s: StackSettings, addresses: ClusterAddresses) -> TailnetPolicyInput:
    """What the tailnet policy grants (``specs/tailnet_policy.py`` renders it)."""
    ts = s.tailscale
    return TailnetPolicyInput(
        env=s.environment.value,
        groups={k: list(v) for k, v in ts.groups.items()},
        tag_owners=s.tailscale_tag_owners,
        models=list(ts.access.models),
        monitoring=list(ts.access.monitoring) if s.monitoring.enabled and s.tailscale_operator else [],
        admins=list(ts.access.admins),
        routes=s.subnet_routes,
        dns_servers=list(split_dns_servers(s)),
        ssh_users=list(ts.ssh.users) if ts.ssh.enabled else [],
        ssh_check=ts.ssh.check,
        # No fleet yet: the grant names the first engine's port, so the policy stays valid.
        model_ports=sorted({m.port for m in s.models.values()}) or [VLLM.port],
        operator_tags=list(ts.operator.tags),
        proxy_tags=list(ts.operator.proxy_tags),
        api_ports=list(addresses.api_ports),
    )


def operator_args(ctx: StackContext, ns: Namespaces) -> OperatorArgs | None:
    """The Tailscale operator, when it runs (``tailscale.operator.enabled``)."""
    s = ctx.settings
    ts = s.tailscale
    if not s.tailscale_operator:
        return None
    namespace = ns.system["tailscale"]
    use_stack_client = ts.operator.oauth_client == "stack"
    return OperatorArgs(
        namespace=namespace.namespace_name,
        hostname=k8s_name(ctx.cluster_name, "operator"),
        tags=list(ts.operator.tags),
        proxy_tags=list(ts.operator.proxy_tags),
        labels=ctx.labels("tailscale", "mesh"),
        client_id=ctx.secrets[OAUTH_CLIENT_ID_KEY] if use_stack_client else None,
        client_secret=ctx.secrets[OAUTH_CLIENT_SECRET_KEY] if use_stack_client else None,
        node_selector=ctx.system_node_selector,
        routes=s.subnet_routes,
        router_hostname=k8s_name(ctx.cluster_name, "router"),
        grafana_namespace=s.monitoring.namespace if s.monitoring.enabled else None,
        grafana_host=k8s_name("grafana", ctx.env),
        depends_on=[namespace],
        image_digests=s.chart_digests("tailscale-operator"),
    )


def mesh_layer(ctx: StackContext, ns: Namespaces) -> TailscaleMesh | None:
    ts = ctx.settings.tailscale
    if not ts.enabled:
        return None
    # The stack's OAuth client manages the tailnet (policy, DNS, settings, keys, the operator's client).
    provider = tailscale.Provider(
        "tailscale",
        oauth_client_id=ctx.secrets[OAUTH_CLIENT_ID_KEY],
        oauth_client_secret=ctx.secrets[OAUTH_CLIENT_SECRET_KEY],
    )
    return TailscaleMesh(
        "mesh",
        TailscaleMeshArgs(
            policy=tailnet_policy(ctx.settings, ctx.target.addresses),
            auth_keys={
                n: AuthKeyArgs(tags=list(k.tags), reusable=k.reusable, description=k.description)
                for n, k in ts.auth_keys.items()
            },
            key_expiry_seconds=ts.key_expiry_seconds,
            # No value unless required: a dev stack never turns a shared tailnet's approval off.
            device_approval=True if ts.require_device_approval else None,
            magic_dns=ts.magic_dns,
            split_dns={d: list(v) for d, v in ts.split_dns.items()},
            operator=operator_args(ctx, ns),
            own_policy=ts.policy == "own",
        ),
        opts=pulumi.ResourceOptions(providers=[provider, ctx.target.k8s_provider]),
    )
