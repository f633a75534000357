"""The stack's outputs: what clients and operators read with ``pulumi stack output``.

Credentials (kubeconfig, API keys, tailnet auth keys) are exported only as secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from components.batch_job import BatchJob
from components.gateway import InferenceGateway
from components.model_runner_fleet import ModelRunnerFleet
from components.monitoring_stack import MonitoringStack
from components.registry import Registry
from components.specs.model_serving import tailnet_host
from components.tailscale_mesh import TailscaleMesh
from stack.context import StackContext
from stack.namespaces import Namespaces


@dataclass(frozen=True, kw_only=True)
class Layers:
    """What the layers made that the outputs read."""

    namespaces: Namespaces
    registry: Registry | None
    monitoring: MonitoringStack | None
    mesh: TailscaleMesh | None
    fleets: Mapping[str, ModelRunnerFleet]
    jobs: Mapping[str, BatchJob]
    gateway: InferenceGateway | None = None


def export_outputs(ctx: StackContext, made: Layers) -> None:
    s = ctx.settings
    pulumi.export("environment", ctx.env)
    pulumi.export("clusterName", ctx.cluster_name)
    pulumi.export("kubeconfig", pulumi.Output.secret(ctx.target.kubeconfig))
    pulumi.export("workloadNamespaces", sorted(made.namespaces.workload))
    pulumi.export("systemNamespaces", sorted(made.namespaces.system))
    pulumi.export(
        "models",
        {
            name: {"endpoint": f.endpoint, "service": f.service_name, "namespace": f.namespace}
            for name, f in made.fleets.items()
        },
    )
    api_keys = {name: f.api_key for name, f in made.fleets.items() if f.api_key is not None}
    if api_keys:
        # Only as a secret: `pulumi stack output modelApiKeys --show-secrets` for a client's key.
        pulumi.export("modelApiKeys", pulumi.Output.secret(api_keys))
    pulumi.export("storageClasses", sorted(s.storage_classes))
    pulumi.export("costEstimate", ctx.cost)
    if made.registry is not None:
        pulumi.export("images", made.registry.image_refs)
        pulumi.export("pullThroughCachePrefixes", made.registry.cache_prefixes)
    if made.monitoring is not None:
        pulumi.export("prometheusUrl", made.monitoring.prometheus_url)
    if made.jobs:
        pulumi.export(
            "jobs",
            {
                name: {"kind": j.kind, "name": j.job_name, **({"rerun": j.rerun} if s.jobs[name].run == "now" else {})}
                for name, j in made.jobs.items()
            },
        )
    if made.mesh is not None:
        tailnet = s.tailscale.tailnet
        pulumi.export(
            "tailnetEndpoints",
            {name: f"https://{tailnet_host(name, ctx.env)}.{tailnet}/v1" for name in s.tailnet_fleets},
        )
        # Only as a secret: `pulumi stack output tailnetAuthKeys --show-secrets` to join a machine.
        pulumi.export("tailnetAuthKeys", pulumi.Output.secret(made.mesh.auth_keys))
    if made.gateway is not None:
        pulumi.export("gateway", made.gateway.base_url)
        # Only as a secret: `pulumi stack output gatewayClientKeys --show-secrets` for a client's key.
        pulumi.export("gatewayClientKeys", made.gateway.client_keys)
