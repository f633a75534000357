"""The gateway layer: one OpenAI-compatible endpoint in front of the fleets (``InferenceGateway``,
issue 25), when ``gateway.enabled``.

It comes after the workloads (routes, pools and pickers name the fleets' Services and pods) and
reads the cluster only through the target's capabilities (its addresses for the pickers' API
egress, where system controllers run), so it asks nothing about the kind of cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pulumi

from components.core.settings.gateway import GATEWAY_NAMESPACE, gateway_exposure, gateway_routes
from components.gateway import InferenceGateway, InferenceGatewayArgs
from components.model_runner_fleet import ModelRunnerFleet
from components.monitoring_stack import MonitoringStack
from components.specs.gateway import GATEWAY_NAME
from components.specs.model_serving import tailnet_host
from components.tailscale_mesh import TailscaleMesh
from stack.context import StackContext
from stack.namespaces import Namespaces


def plan_gateway(ctx: StackContext) -> InferenceGatewayArgs:
    """The gateway's arguments from the settings and the target (without its dependencies)."""
    s, addresses = ctx.settings, ctx.target.addresses
    g = s.gateway
    tailnet = gateway_exposure(s) == "tailnet"
    return InferenceGatewayArgs(
        routes=gateway_routes(s),
        clients={n: (c.requests_per_minute, c.tokens_per_minute) for n, c in sorted(g.clients.items())},
        # A client's own key (`keySecret`) is read like a fleet's apiKeySecret: a require_secret Output.
        given_keys={n: ctx.secrets[c.key_secret] for n, c in sorted(g.clients.items()) if c.key_secret},
        namespace=GATEWAY_NAMESPACE,
        env=ctx.env,
        team=ctx.team,
        replicas=g.replicas,
        hold_seconds=g.max_hold_seconds,
        request_timeout_seconds=g.request_timeout_seconds,
        picker_image=g.picker_reference,
        proxy_digest=g.proxy_digest,
        api_cidrs=[*([f"{addresses.api_service_ip}/32"] if addresses.api_service_ip else []), *addresses.private_cidrs],
        api_ports=addresses.api_ports,
        monitoring_namespace=s.scrape_namespace if s.monitoring.enabled else None,
        alert_severity=s.monitoring.slo_severity,
        tailnet_host=f"{tailnet_host(GATEWAY_NAME, ctx.env)}.{s.tailscale.tailnet}" if tailnet else None,
        node_selector=ctx.system_node_selector,
        preinstalled=s.preinstalled,
        chart_digests=s.all_chart_digests,
    )


def gateway_layer(
    ctx: StackContext,
    ns: Namespaces,
    monitoring: MonitoringStack | None,
    mesh: TailscaleMesh | None,
    fleets: Mapping[str, ModelRunnerFleet],
) -> InferenceGateway | None:
    """The gateway, after its namespace, the fleets' namespaces and the fleets; None when off."""
    gateway_namespace = ns.system.get(GATEWAY_NAMESPACE)
    if not ctx.settings.gateway.enabled or gateway_namespace is None:
        return None
    args = plan_gateway(ctx)
    depends_on: list[pulumi.Resource] = [
        gateway_namespace,
        *(ns.workload[r.namespace] for r in args.routes),
        *fleets.values(),
    ]
    return InferenceGateway(
        "gateway",
        replace(
            args,
            monitoring=monitoring,
            tailnet_operator=mesh.operator if mesh is not None and args.tailnet_host is not None else None,
            depends_on=depends_on,
        ),
        opts=ctx.k8s_opts,
    )
