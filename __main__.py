"""ai-infra: load settings -> make providers and the cluster target -> instantiate layers -> export.

Wiring only. Every decision lives in the settings (``components/core/settings``, with the
per-environment values in ``components/core/presets.py``), in the layers (``stack/``: one module
per layer, pure planning functions beside the function that creates its components) and in the
components. ``stack/cluster.py`` is the one place that asks "EKS or existing?". A new capability
is one more layer module and one more call below.
"""

from __future__ import annotations

import pulumi

from components.core.settings import PROJECT, load_secrets, load_settings
from stack.addons import helm_addons_layer
from stack.batch import batch_layer
from stack.cluster import cluster_cost
from stack.context import stack_context
from stack.exports import Layers, export_outputs
from stack.gateway import gateway_layer
from stack.mesh import mesh_layer
from stack.namespaces import namespaces_layer
from stack.observability import observability_layer
from stack.platform import platform_services_layer
from stack.registry import registry_layer
from stack.storage import storage_layer
from stack.weights import weights_layer
from stack.workloads import workloads_layer

settings = load_settings()
for key, message in settings.warnings:
    pulumi.log.warn(f"{PROJECT}:{key}: {message}")
ctx = stack_context(settings, pulumi.get_stack(), load_secrets(settings), cluster_cost(settings))

namespaces = namespaces_layer(ctx)
registry = registry_layer(ctx, namespaces)
monitoring = observability_layer(ctx, namespaces)
mesh = mesh_layer(ctx, namespaces)
platform_services_layer(ctx, namespaces, monitoring)
shared_storage = storage_layer(ctx, namespaces)
addons = helm_addons_layer(ctx, namespaces, monitoring)
weights = weights_layer(ctx)
fleets = workloads_layer(ctx, namespaces, shared_storage, monitoring, registry, mesh, addons.get("keda"), weights)
jobs = batch_layer(ctx, namespaces, shared_storage, monitoring, registry)
gateway = gateway_layer(ctx, namespaces, monitoring, mesh, fleets)

export_outputs(
    ctx,
    Layers(
        namespaces=namespaces,
        registry=registry,
        monitoring=monitoring,
        mesh=mesh,
        fleets=fleets,
        jobs=jobs,
        gateway=gateway,
    ),
)
