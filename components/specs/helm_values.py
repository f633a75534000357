"""Pure Helm values for the third-party charts the platform installs.

Every chart's pods that must run on GPU nodes tolerate the GPU taint; everything else lands on
the system pool. Values never carry secrets (charts get credentials from existing Secrets).
"""

from __future__ import annotations

from typing import Any

import yaml

from components.core.charts import GPU_OPERATOR
from components.core.labels import POOL_LABEL
from components.core.settings import NodePoolSettings
from components.specs.node_pool import GPU_PRESENT_LABEL, GPU_TOLERATION

SYSTEM_POOL_SELECTOR = {POOL_LABEL: "system"}


def cluster_autoscaler_values(
    *,
    cluster_name: str,
    region: str,
    role_arn: str,
    image_tag: str,
    expander: str = "priority,least-waste",
    gpu_pools: list[str] | None = None,
    service_monitor: bool = False,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "autoDiscovery": {"clusterName": cluster_name},
        "awsRegion": region,
        "cloudProvider": "aws",
        "image": {"tag": image_tag},
        "rbac": {
            "serviceAccount": {
                "name": "cluster-autoscaler",
                "annotations": {"eks.amazonaws.com/role-arn": role_arn},
            }
        },
        "extraArgs": {
            "expander": expander,
            "balance-similar-node-groups": "true",
            "skip-nodes-with-local-storage": "false",
            # GPU nodes are expensive: release them quickly once empty.
            "scale-down-unneeded-time": "5m",
            "scale-down-delay-after-add": "5m",
        },
        "nodeSelector": SYSTEM_POOL_SELECTOR,
        "priorityClassName": "system-cluster-critical",
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65534,
            "runAsGroup": 65534,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containerSecurityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    if service_monitor:
        # Release namespace; Prometheus selects every ServiceMonitor (selectors not label-bound).
        values["serviceMonitor"] = {"enabled": True, "interval": "30s"}
    if "priority" in expander:
        # Prefer on-demand serving pools over spot training pools when both could fit a pod.
        # A string is passed through verbatim: priorities are integer keys, which a JSON map
        # (how Pulumi sends values) would turn into strings the autoscaler cannot parse.
        lines = ["10:", "  - .*", "50:"] + [f"  - .*{p}.*" for p in gpu_pools or []]
        values["expanderPriorities"] = "\n".join(lines) + "\n"
    return values


def device_plugin_sharing_config(pools: dict[str, NodePoolSettings]) -> dict[str, Any]:
    """Named device-plugin configs, one per pool that shares GPUs (selected by node label).

    Each config is a document; the charts want it as YAML text (see the two values builders)."""
    configs: dict[str, Any] = {}
    for name, pool in sorted(pools.items()):
        if pool.host_device_plugin:
            continue
        sharing = pool.sharing
        if sharing.mode == "time-slicing":
            configs[name] = {
                "version": "v1",
                "sharing": {
                    "timeSlicing": {
                        "renameByDefault": sharing.rename_by_default,
                        # A pod asking for 2 slices would get 2 slices of the *same* GPU: refuse it.
                        "failRequestsGreaterThanOne": True,
                        "resources": [{"name": "nvidia.com/gpu", "replicas": sharing.replicas}],
                    }
                },
            }
        elif sharing.mode == "mig":
            configs[name] = {"version": "v1", "flags": {"migStrategy": sharing.mig_strategy}}
    if not configs:
        return {}
    return {"map": {"default": {"version": "v1", "flags": {"migStrategy": "none"}}, **configs}, "default": "default"}


def mig_strategy(pools: dict[str, NodePoolSettings]) -> str:
    """One strategy for the cluster: mixed if any pool needs it, single if any uses MIG, else none."""
    strategies = {p.sharing.mig_strategy for p in pools.values() if p.sharing.mode == "mig"}
    if "mixed" in strategies:
        return "mixed"
    return "single" if strategies else "none"


def device_plugin_values(pools: dict[str, NodePoolSettings], *, runtime_class: str | None = None) -> dict[str, Any]:
    """The device plugin on GPU nodes only (label set by every pool), never on pools whose AMI runs
    NVIDIA's plugin on the host (Bottlerocket), with each sharing config as YAML text."""
    values: dict[str, Any] = {
        "migStrategy": mig_strategy(pools),
        "failOnInitError": True,
        "tolerations": [GPU_TOLERATION, {"key": "CriticalAddonsOnly", "operator": "Exists"}],
        "nodeSelector": {GPU_PRESENT_LABEL: "true"},
        "priorityClassName": "system-node-critical",
        # GPU feature discovery only writes a features file that Node Feature Discovery turns into
        # labels; without NFD it labels nothing and runs privileged for no effect. Our pools label
        # their nodes themselves (chart v0.17.2 README, Chart.yaml condition nfd.enabled,gfd.enabled).
        "gfd": {"enabled": False},
        "nfd": {"enabled": False},
    }
    if runtime_class:
        values["runtimeClassName"] = runtime_class
    host_plugin = sorted(n for n, p in pools.items() if p.host_device_plugin)
    if host_plugin:
        values["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": POOL_LABEL, "operator": "NotIn", "values": host_plugin}]}
                    ]
                }
            }
        }
    config = device_plugin_sharing_config(pools)
    if config:
        # config.map entries are YAML strings: templates/configmap.yml indents them and _helpers.tpl
        # parses them with fromYaml (chart v0.17.2); a map would break rendering.
        values["config"] = {**config, "map": {k: _yaml_dump(v) for k, v in config["map"].items()}}
    return values


def gpu_operator_values(
    pools: dict[str, NodePoolSettings], *, accelerated_ami: bool, dcgm_service_monitor: bool = False
) -> dict[str, Any]:
    """GPU operator with driver and toolkit off on AMIs that ship them (AL2023/Bottlerocket NVIDIA)."""
    values: dict[str, Any] = {
        "driver": {"enabled": not accelerated_ami},
        "toolkit": {"enabled": not accelerated_ami},
        "mig": {"strategy": mig_strategy(pools) if mig_strategy(pools) != "none" else "single"},
        "migManager": {
            "enabled": any(p.sharing.mode == "mig" for p in pools.values()),
            "env": [{"name": "WITH_REBOOT", "value": "true"}],
        },
        "daemonsets": {"tolerations": [GPU_TOLERATION], "priorityClassName": "system-node-critical"},
        "node-feature-discovery": {"worker": {"tolerations": [GPU_TOLERATION]}},
        # Its DCGM exporter only when the monitoring stack scrapes it (honorLabels keeps pod labels).
        "dcgmExporter": (
            {"enabled": True, "serviceMonitor": {"enabled": True, "honorLabels": True}}
            if dcgm_service_monitor
            else {"enabled": False}
        ),
        # No operator.defaultRuntime: removed in v25.3.0 (the operator detects containerd itself).
        # The operator's and validator's tags pinned to the release (chart_images.py "gpu-operator"):
        # left unset they follow the published chart's appVersion, which the chart source lacks.
        "operator": {"version": GPU_OPERATOR.version},
        "validator": {"version": GPU_OPERATOR.version},
    }
    config = device_plugin_sharing_config(pools)
    if config:
        values["devicePlugin"] = {
            "config": {
                "name": "device-plugin-config",
                "create": True,
                "default": "default",
                "data": {k: _yaml_dump(v) for k, v in config["map"].items()},
            }
        }
    return values


def _yaml_dump(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=True)


RESTRICTED_POD = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
