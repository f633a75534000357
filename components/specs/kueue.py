"""Pure builders for Kueue: its chart values and configuration, and the queues batch jobs run through.

Kueue (v0.19.2, ``docs/research/kueue.md``) admits a Job when its queue has quota and suspends it
until then. Per GPU pool a ``ResourceFlavor`` (the pool's node label, the GPU taint as a
toleration Kueue adds to admitted pods); per job class a ``ClusterQueue`` in one cohort, its GPU
quota from the pool's cap and CPU/memory in proportion (a GPU's share of a node), so queues on
one pool lend each other idle quota and reclaim it by preemption; per opted-in namespace a
``LocalQueue``. Serving wins over batch on a shared pool through kube-scheduler preemption
(PriorityClass ``gpu-serving`` over ``gpu-batch``, ``specs/scheduling.py``): Kueue manages only
``batch/v1`` Jobs, and only in the batch namespaces, so a Kueue outage never blocks serving pods.
The jobs themselves are ``batch.py``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from components.core.labels import POOL_LABEL
from components.core.naming import k8s_name
from components.core.settings import NodePoolSettings
from components.specs.node_pool import GPU_RESOURCE, GPU_TOLERATION

KUEUE_API = "kueue.x-k8s.io/v1beta2"
"""The version Kueue 0.19.2 stores (v1beta1 is still served but deprecated, and needs the
conversion webhook): config/components/crd/bases/kueue.x-k8s.io_clusterqueues.yaml @ v0.19.2."""
COVERED_RESOURCES = ("cpu", "memory", GPU_RESOURCE)
"""Everything a job pod requests must be covered (Kueue's default ``BlockUndeclared``), in this
order in every flavor (the webhook requires the order of ``coveredResources``)."""


def kueue_config(*, namespaces: list[str], pods_ready_timeout: str) -> dict[str, Any]:
    """Kueue's ``Configuration`` (config.kueue.x-k8s.io/v1beta2). Setting it replaces the chart's
    default string, so its defaults are restated (health, metrics, webhook, leader election,
    concurrency, client QPS: charts/kueue/values.yaml @ v0.19.2); then only ``batch/job`` is
    integrated (the default list includes ``pod``, ``deployment`` and ``statefulset``, whose
    webhooks would fail every pod create in the cluster while Kueue is down) and only the batch
    namespaces are managed (the chart copies ``managedJobsNamespaceSelector`` onto its webhooks:
    templates/webhook/manifests.yaml). ``waitForPodsReady`` requeues an admitted job whose pods do
    not all start in time (apis/config/v1beta2/configuration_types.go: ``timeout`` is required).

    ``manageJobsWithoutQueueName: true``: a Job created in a batch namespace without the queue
    label (``kubectl create job``) is suspended by Kueue's webhook and its Workload names no
    LocalQueue, so it never starts — it cannot skip the queue and its GPU quota. The namespace
    selector bounds this to the batch namespaces (for ``batch/job`` the selector "only modulates
    the effects of ManageJobsWithoutQueueName": apis/config/v1beta2/configuration_types.go,
    pkg/controller/jobframework/utils.go ``WorkloadShouldBeSuspended`` @ v0.19.2; there is no
    per-Job opt-out). A fleet's weight-staging Job in a batch namespace therefore names the
    namespace's first queue (``FleetSpec.stage_queue``) and waits for its CPU/memory quota; in
    serving namespaces staging Jobs stay unmanaged."""
    return {
        "apiVersion": "config.kueue.x-k8s.io/v1beta2",
        "kind": "Configuration",
        "health": {"healthProbeBindAddress": ":8081"},
        "metrics": {"bindAddress": ":8443"},
        "webhook": {"port": 9443},
        "leaderElection": {"leaderElect": True, "resourceName": "c1f6bfd2.kueue.x-k8s.io"},
        "controller": {
            "groupKindConcurrency": {
                "Job.batch": 5,
                "Pod": 5,
                "Workload.kueue.x-k8s.io": 10,
                "LocalQueue.kueue.x-k8s.io": 5,
                "ClusterQueue.kueue.x-k8s.io": 5,
                "ResourceFlavor.kueue.x-k8s.io": 1,
            }
        },
        "clientConnection": {"qps": 300, "burst": 500},
        "manageJobsWithoutQueueName": True,
        "managedJobsNamespaceSelector": {
            "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": sorted(namespaces)}]
        },
        "waitForPodsReady": {"timeout": pods_ready_timeout},
        "integrations": {"frameworks": ["batch/job"]},
    }


def kueue_values(
    *,
    namespaces: list[str],
    pods_ready_timeout: str,
    service_monitor: bool = False,
    prometheus_namespace: str = "monitoring",
    node_selector: Mapping[str, str] | None = None,
    replicas: int = 1,
) -> dict[str, Any]:
    """Values for the kueue chart 0.19.2 (keys: tests/data/helm-values/kueue-0.19.2.txt).

    The chart's own security contexts are already restricted (runAsNonRoot, RuntimeDefault
    seccomp, read-only root, drop ALL) and cert-manager is not needed (Kueue rotates its own
    webhook certificates). ``enablePrometheus`` renders a ServiceMonitor scraping the HTTPS
    metrics port with the Prometheus ServiceAccount's token; kube-prometheus-stack's Prometheus
    ClusterRole may GET ``/metrics`` (templates/prometheus/clusterrole.yaml @ 88.5.3)."""
    values: dict[str, Any] = {
        "enablePrometheus": service_monitor,
        "metrics": {"prometheusNamespace": prometheus_namespace},
        "managerConfig": {
            "controllerManagerConfigYaml": yaml.safe_dump(
                kueue_config(namespaces=namespaces, pods_ready_timeout=pods_ready_timeout), sort_keys=False
            )
        },
        "controllerManager": {
            "replicas": replicas,
            "podDisruptionBudget": {"enabled": replicas > 1, "minAvailable": 1},
            "manager": {
                # The chart's default requests; the memory limit equals the request (no CPU limit).
                "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"memory": "512Mi"}},
            },
        },
    }
    if node_selector:
        values["controllerManager"]["nodeSelector"] = dict(node_selector)
    return values


def flavor_name(pool: str) -> str:
    return k8s_name("pool", pool)


def resource_flavor(pool: str, labels: Mapping[str, str]) -> dict[str, Any]:
    """One flavor per GPU pool: admitted pods get the pool's node label and the GPU toleration
    (apis/kueue/v1beta2/resourceflavor_types.go @ v0.19.2)."""
    return {
        "apiVersion": KUEUE_API,
        "kind": "ResourceFlavor",
        "metadata": {"name": flavor_name(pool), "labels": dict(labels)},
        "spec": {
            "nodeLabels": {POOL_LABEL: pool},
            "tolerations": [dict(GPU_TOLERATION)],
        },
    }


def queue_quota(pool: NodePoolSettings, gpus: int) -> dict[str, str]:
    """A queue's nominal quota: ``gpus``, and a GPU's share of the smallest node's allocatable CPU
    and memory for each (a job asking more per GPU could not fit the node anyway)."""
    node = min(pool.instances, key=lambda i: (i.allocatable_cpu, i.allocatable_memory_gib))
    per_gpu_cpu = node.allocatable_cpu / pool.gpus_per_node
    per_gpu_mem = node.allocatable_memory_gib / pool.gpus_per_node
    return {
        "cpu": f"{int(per_gpu_cpu * gpus * 1000)}m",
        "memory": f"{int(per_gpu_mem * gpus)}Gi",
        GPU_RESOURCE: str(gpus),
    }


def cluster_queue(
    name: str,
    *,
    pool: str,
    quota: Mapping[str, str],
    cohort: str,
    namespaces: list[str],
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """A job class on one pool (apis/kueue/v1beta2/clusterqueue_types.go @ v0.19.2).

    ``cohortName``: queues lend idle quota to the cohort and borrow from it. Preemption: a queue
    takes back what it lent from any borrower (``reclaimWithinCohort: Any``) and a higher
    priority job preempts lower ones in its own queue. Only the opted-in namespaces may submit
    (an unset selector would admit none, ``{}`` all)."""
    return {
        "apiVersion": KUEUE_API,
        "kind": "ClusterQueue",
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": {
            "cohortName": cohort,
            "namespaceSelector": {
                "matchExpressions": [
                    {"key": "kubernetes.io/metadata.name", "operator": "In", "values": sorted(namespaces)}
                ]
            },
            "queueingStrategy": "BestEffortFIFO",
            "resourceGroups": [
                {
                    "coveredResources": list(COVERED_RESOURCES),
                    "flavors": [
                        {
                            "name": flavor_name(pool),
                            "resources": [{"name": r, "nominalQuota": quota[r]} for r in COVERED_RESOURCES],
                        }
                    ],
                }
            ],
            "preemption": {"reclaimWithinCohort": "Any", "withinClusterQueue": "LowerPriority"},
        },
    }


def local_queue(queue: str, namespace: str, labels: Mapping[str, str]) -> dict[str, Any]:
    """The namespace's door to ClusterQueue ``queue``; jobs name it in ``kueue.x-k8s.io/queue-name``."""
    return {
        "apiVersion": KUEUE_API,
        "kind": "LocalQueue",
        "metadata": {"name": queue, "namespace": namespace, "labels": dict(labels)},
        "spec": {"clusterQueue": queue},
    }
