"""The workloads layer: one ``ModelRunnerFleet`` per model (the add-ons they scale with come
first: ``stack/addons.py``)."""

from __future__ import annotations

import pulumi

from components.core.settings.gateway import fleet_gateway
from components.model_runner_fleet import ModelRunnerFleet, ModelRunnerFleetArgs
from components.monitoring_stack import MonitoringStack
from components.registry import Registry
from components.shared_storage import SharedStorage
from components.specs.model_runner import FleetSpec, fleet_spec
from components.tailscale_mesh import TailscaleMesh
from components.weights_bucket import WeightsBucket
from stack.context import StackContext
from stack.images import image_ref
from stack.namespaces import Namespaces
from stack.weights import fleet_weights


def plan_fleet(
    ctx: StackContext, name: str, registry: Registry | None, weights_uri: pulumi.Input[str] | None = None
) -> FleetSpec:
    """Fleet ``name``'s spec: its image, its Secrets, where it runs."""
    s = ctx.settings
    model = s.models[name]
    keys = s.fleet_secret_keys(name)
    # The engine's own image folder, when the stack builds it (else modelImages.<engine>).
    folder = model.engine_record.image if s.engine_image_built(model.engine) else None
    return fleet_spec(
        name,
        model,
        image=image_ref(s.model_images.for_engine(model.engine), folder, registry),
        env=ctx.env,
        team=ctx.team,
        api_key=keys.api_key is not None or s.generates_api_key(name),
        hf_token=keys.hf_token is not None,
        monitoring_namespace=s.scrape_namespace,
        runtime_class=ctx.runtime_class,
        pull_secret=registry.pull_secret if registry is not None else None,
        own_weights_volume=name in s.fleet_weight_volumes,
        # Kueue holds unlabelled Jobs in batch namespaces: the staging Job names a queue there.
        stage_queue=min(s.namespaces[model.namespace].queues) if model.namespace in s.batch_namespaces else None,
        weights_uri=weights_uri,
        gateway=fleet_gateway(s, name),
    )


def workloads_layer(
    ctx: StackContext,
    ns: Namespaces,
    shared_storage: SharedStorage | None,
    monitoring: MonitoringStack | None,
    registry: Registry | None,
    mesh: TailscaleMesh | None,
    keda: pulumi.Resource | None,
    weights: WeightsBucket | None = None,
) -> dict[str, ModelRunnerFleet]:
    """``keda``: the KEDA add-on when installed (ScaledObjects wait for its CRDs); ``weights``: the
    S3 weights bucket (``stack/weights.py``) when a fleet streams from it."""
    s = ctx.settings
    # An external Prometheus when settings name one, else the stack's own (settings require one of them).
    queue_metrics: pulumi.Input[str] = s.monitoring.prometheus_url or (monitoring.prometheus_url if monitoring else "")
    fleets = {}
    for name, model in sorted(s.models.items()):
        keys = s.fleet_secret_keys(name)
        uri, s3 = fleet_weights(ctx, weights, name, model)
        fleets[name] = ModelRunnerFleet(
            f"model-{name}",
            ModelRunnerFleetArgs(
                fleet=plan_fleet(ctx, name, registry, uri),
                api_key=ctx.secret(keys.api_key),
                generate_api_key=s.generates_api_key(name),
                hf_token=ctx.secret(keys.hf_token),
                prometheus_url=queue_metrics,
                prometheus_external=s.queue_metrics_external,
                keda=keda,
                service_monitor=s.monitoring.enabled,
                monitoring=monitoring,
                tailnet_operator=mesh.operator if mesh is not None else None,
                depends_on=[ns.workload[model.namespace], *([shared_storage] if shared_storage else [])],
                s3=s3,
            ),
            opts=ctx.k8s_opts,
        )
    return fleets
