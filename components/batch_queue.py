"""``BatchQueue``: Kueue and its queues on the GPU pools, so batch jobs wait for free GPUs.

Kueue 0.19.2 from its OCI chart (only ``batch/v1`` Jobs, only in the batch namespaces), then a
``ResourceFlavor`` per pool a queue uses, a ``ClusterQueue`` per job class in one cohort (GPU quota
from the pool's cap, reclaim-by-preemption), and a ``LocalQueue`` per opted-in namespace. The
queue objects wait for the release: Kueue's CRDs, validating webhooks and conversion live in it,
and the atomic release is ready only once Kueue's webhook certificates are. See
``components/specs/kueue.py`` for the choices and their upstream sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.core.charts import KUEUE
from components.core.naming import resource_name
from components.resources.custom_resource import custom_resource
from components.resources.helm import pinned_release
from components.specs import kueue as spec

TYPE = "ai-infra:k8s:BatchQueue"


@dataclass(frozen=True)
class QueueSpec:
    """One ClusterQueue: its pool and nominal quota, and the namespaces with a LocalQueue to it."""

    pool: str
    quota: dict[str, str]
    namespaces: list[str]


@dataclass(frozen=True, kw_only=True)
class BatchQueueArgs:
    namespace: pulumi.Input[str]
    """Kueue's namespace (``kueue-system``)."""
    queues: dict[str, QueueSpec]
    cohort: str
    pods_ready_timeout: str
    labels: dict[str, str]
    service_monitor: bool = False
    """Ship the chart's ServiceMonitor (the monitoring stack, and so its CRD, exists)."""
    prometheus_namespace: str = "monitoring"
    node_selector: Mapping[str, str] | None = None
    """Where Kueue's controller runs (the system pool on EKS)."""
    replicas: int = 1
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    """The batch namespaces (their LocalQueues) and the monitoring stack (its CRDs)."""
    preinstalled: frozenset[str] = frozenset()
    """Charts the cluster already runs (``addons``): their releases are not created."""
    image_digests: dict[str, str] = field(default_factory=dict)
    """The chart's images by digest (``addons.<chart>.imageDigests``; prod requires them)."""


class BatchQueue(pulumi.ComponentResource):
    """Children: helm.v3.Release ``kueue``; ResourceFlavors, ClusterQueues and LocalQueues."""

    release_name: pulumi.Output[str | None]
    local_queues: pulumi.Output[dict[str, list[str]]]
    """Namespace -> the LocalQueues jobs there may name."""

    def __init__(self, name: str, args: BatchQueueArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        namespaces = sorted({ns for q in args.queues.values() for ns in q.namespaces})
        release = pinned_release(
            self,
            resource_name(name, "release"),
            KUEUE,
            namespace=args.namespace,
            values=spec.kueue_values(
                namespaces=namespaces,
                pods_ready_timeout=args.pods_ready_timeout,
                service_monitor=args.service_monitor,
                prometheus_namespace=args.prometheus_namespace,
                node_selector=args.node_selector,
                replicas=args.replicas,
            ),
            depends_on=args.depends_on,
            preinstalled=args.preinstalled,
            image_digests=args.image_digests,
        )
        kueue = [release] if release else []
        after = pulumi.ResourceOptions(parent=self, depends_on=[*kueue, *args.depends_on])
        flavors = {
            pool: custom_resource(
                resource_name(name, spec.flavor_name(pool)), spec.resource_flavor(pool, args.labels), after
            )
            for pool in sorted({q.pool for q in args.queues.values()})
        }
        for queue, q in sorted(args.queues.items()):
            cq = custom_resource(
                resource_name(name, f"cq-{queue}"),
                spec.cluster_queue(
                    queue,
                    pool=q.pool,
                    quota=q.quota,
                    cohort=args.cohort,
                    namespaces=q.namespaces,
                    labels=args.labels,
                ),
                pulumi.ResourceOptions(parent=self, depends_on=[*kueue, flavors[q.pool]]),
            )
            for ns in q.namespaces:
                custom_resource(
                    resource_name(name, f"lq-{ns}-{queue}"),
                    spec.local_queue(queue, ns, args.labels),
                    pulumi.ResourceOptions(parent=self, depends_on=[cq, *args.depends_on]),
                )
        self.release_name = pulumi.Output.from_input(release.name if release else None)
        by_namespace = {ns: sorted(q for q, s in args.queues.items() if ns in s.namespaces) for ns in namespaces}
        self.local_queues = pulumi.Output.from_input(by_namespace)
        self.register_outputs({"release_name": self.release_name, "local_queues": self.local_queues})
