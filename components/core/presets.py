"""Per-environment presets: the starting document every stack's overrides merge into.

Keys are the stack file's camelCase keys (without ``ai-infra:``), so a preset reads like a
stack file. ``dev`` is cheap and reachable (spot GPUs that scale to zero, a public API endpoint
limited to the CIDRs the stack lists, audit logs only); ``prod`` is private, redundant and
retained (on-demand serving pool with ≥ 2 nodes, per-AZ NAT, every control-plane log, backups).
Tests assert prod is strictly safer than dev.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from components.core.settings import Environment

_DEV: dict[str, Any] = {
    "cluster": {
        "mode": "aws-eks",
        "name": "ai-infra",
        "kubernetesVersion": "1.34",
        "eks": {
            "region": "us-west-2",
            "vpcCidr": "10.40.0.0/16",
            "availabilityZones": 2,
            "natGateways": "single",
            "endpointPublicAccess": True,
            "logTypes": ["audit"],
            "logRetentionDays": 14,
            "systemPool": {"instanceTypes": ["m7i.large"], "minSize": 1, "desiredSize": 1, "maxSize": 3},
        },
    },
    "nodePools": {
        "gpu": {
            "instanceTypes": ["g6.xlarge", "g5.xlarge"],
            "capacityType": "SPOT",
            "purpose": "serving",
            "minSize": 0,
            "desiredSize": 0,
            "maxSize": 2,
            "gpuCap": 2,
            "nvme": "raid0",
        },
    },
    "namespaces": {
        "models": {
            "quota": {"gpus": 2, "cpu": "16", "memory": "96Gi", "pods": 20, "pvcs": 10},
            "limits": {"maxMemory": "64Gi"},
            "modelCache": True,
        },
    },
    "storage": {
        "nvme": {"enabled": False},
        "shared": {"backend": "efs", "backups": False},
        "modelCacheSize": "100Gi",
    },
    "models": {
        "qwen-small": {
            "engine": "ollama",
            "model": "qwen2.5:0.5b",
            "pool": "gpu",
            "gpusPerReplica": 1,
            "replicas": {"min": 1, "max": 1},
            "cpu": "2",
            "memory": "8Gi",
            "startupBudgetSeconds": 300,
        },
        "qwen-instruct": {
            "engine": "vllm",
            "model": "Qwen/Qwen2.5-0.5B-Instruct",
            "pool": "gpu",
            "gpusPerReplica": 1,
            "replicas": {"min": 1, "max": 1},
            "maxModelLen": 4096,
            "gpuMemoryUtilization": 0.85,
            "cpu": "2",
            "memory": "12Gi",
        },
    },
}

_PROD: dict[str, Any] = {
    "cluster": {
        "mode": "aws-eks",
        "name": "ai-infra",
        "kubernetesVersion": "1.34",
        "eks": {
            "region": "us-west-2",
            "vpcCidr": "10.50.0.0/16",
            "availabilityZones": 3,
            "natGateways": "per-az",
            "endpointPublicAccess": False,
            "logTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
            "logRetentionDays": 365,
            "systemPool": {"instanceTypes": ["m7i.xlarge"], "minSize": 2, "desiredSize": 3, "maxSize": 6},
        },
    },
    "nodePools": {
        "serving": {
            "instanceTypes": ["g6e.12xlarge"],
            "capacityType": "ON_DEMAND",
            "purpose": "serving",
            "minSize": 2,
            "desiredSize": 2,
            "maxSize": 4,
            "gpuCap": 16,
            "nvme": "raid0",
        },
        "training": {
            "instanceTypes": ["p4d.24xlarge"],
            "capacityType": "SPOT",
            "purpose": "training",
            "minSize": 0,
            "desiredSize": 0,
            "maxSize": 2,
            "gpuCap": 16,
            "nvme": "local-pv",
        },
    },
    "namespaces": {
        "models": {
            "quota": {"gpus": 16, "cpu": "192", "memory": "1536Gi", "pods": 60, "pvcs": 30},
            "modelCache": True,
        },
        "training": {
            "quota": {"gpus": 16, "cpu": "192", "memory": "2048Gi", "pods": 40, "pvcs": 20},
        },
    },
    "storage": {
        "nvme": {"enabled": True},
        "shared": {"backend": "efs", "backups": True},
        "modelCacheSize": "500Gi",
    },
    "models": {
        "deepseek-coder": {
            "engine": "vllm",
            "model": "TheBloke/deepseek-coder-33B-instruct-AWQ",
            "pool": "serving",
            "gpusPerReplica": 2,
            "replicas": {"min": 2, "max": 4},
            "quantization": "awq",
            "maxModelLen": 16384,
            "gpuMemoryUtilization": 0.9,
            "cpu": "8",
            "memory": "96Gi",
            "startupBudgetSeconds": 900,
            "exposure": "tailnet",
        },
        "qwen-coder": {
            "engine": "ollama",
            "model": "qwen2.5-coder:7b",
            "pool": "serving",
            "gpusPerReplica": 1,
            "replicas": {"min": 2, "max": 2},
            "cpu": "4",
            "memory": "24Gi",
        },
    },
}


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


ENV_PRESETS: Mapping[Environment, Mapping[str, Any]] = MappingProxyType(
    {
        Environment.DEV: _freeze({"environment": "dev", **_DEV}),
        Environment.PROD: _freeze({"environment": "prod", **_PROD}),
    }
)
"""Read-only presets; :func:`components.core.settings.deep_merge` copies what it merges."""
