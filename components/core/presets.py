"""Per-environment presets: only what differs from the settings' field defaults.

Field defaults (on the settings classes) are the secure, production-sane values; a preset holds
just what its environment changes, plus the entries only it defines (node pools, namespaces,
models). Keys are the stack file's camelCase keys (without ``ai-infra:``), so a preset reads
like a stack file. ``dev`` is cheap and reachable (spot GPUs that scale to zero, a public API
endpoint limited to the CIDRs the stack lists, audit logs only); ``prod`` is private, redundant
and retained. Tests assert prod is safer than dev and that no preset value repeats a default.

Plain data with no imports of ours: the settings loader imports this module, never the reverse.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

_DEV: dict[str, Any] = {
    "cluster": {
        "eks": {
            "availabilityZones": 2,
            "natGateways": "single",
            "endpointPublicAccess": True,
            "publicLoadBalancers": True,
            "logTypes": ["audit"],
            "logRetentionDays": 14,
            "systemPool": {"minSize": 1, "desiredSize": 1, "maxSize": 3},
        },
    },
    "nodePools": {
        # Two sizes of one GPU model (L4): spot capacity from either, one accelerator label. Three
        # GPUs: the two fleets hold one each at min replicas, the train queue gets the third.
        "gpu": {"instanceTypes": ["g6.xlarge", "g6.2xlarge"], "capacityType": "SPOT", "maxSize": 3, "gpuCap": 3},
    },
    "namespaces": {
        "models": {
            "quota": {"gpus": 2, "cpu": "16", "memory": "96Gi", "pods": 20, "pvcs": 10},
            "limits": {"maxMemory": "64Gi"},
            "modelCache": True,
        },
        # Batch jobs (Kueue's LocalQueue train); one GPU, so a job never starves the fleets' quota.
        "training": {
            "quota": {"gpus": 1, "cpu": "4", "memory": "16Gi", "pods": 5, "pvcs": 2},
            "limits": {"maxMemory": "16Gi"},
            "queues": ["train"],
        },
    },
    "storage": {"modelCacheSize": "100Gi"},
    # The same images prod runs, built here and run by digest (`pulumi up` needs a Docker daemon);
    # `registry: {build: []}` runs the engines' published tags instead. train-light runs the example job.
    "registry": {"enabled": True, "build": ["model-runner", "ollama", "train-light"], "customerManagedKey": False},
    # Cheap and disposable: one replica per controller, data deleted with the stack, the broader
    # registry list and mutable tags admitted, Tailscale SSH without re-authentication, and the
    # tailnet's device approval left as the tailnet has it.
    "platform": {
        "retainData": False,
        "controllerReplicas": 1,
        "trustedRegistries": "dev",
        "denyMutableTags": False,
        "generateApiKeys": False,
    },
    "tailscale": {"ssh": {"check": False}, "requireDeviceApproval": False},
    "monitoring": {"sloSeverity": "warning"},
    # Kueue on the one GPU pool: serving outranks the queue's jobs there (PriorityClass gpu-serving).
    # No gpus share: the queue gets what the pool's cap leaves past the fleets' min replicas (1).
    "batch": {"enabled": True, "queues": {"train": {"pool": "gpu"}}},
    # Advisory in dev: the preset at max scale is about 2.10 USD/h (3 spot L4 nodes, 3 system nodes,
    # control plane, NAT, EFS); 3.00 leaves room for one more fleet node (README, day one) and
    # spot prices above the estimate, and flags a pool raised beyond that (about 2,190 USD/month).
    "cost": {"budgetUsdPerHour": 3.0},
    # A template (a suspended CronJob): nothing runs until someone submits it with
    # `kubectl create job --from=cronjob/finetune-example -n training <run-name>`.
    "jobs": {
        "finetune-example": {
            "queue": "train",
            "image": "train-light",
            "command": [
                "python",
                "-c",
                "import torch; assert torch.cuda.is_available(); print(torch.cuda.get_device_name(0))",
            ],
            "cpu": "2",
            "memory": "8Gi",
            "shmSize": "1Gi",
            "scratchSize": "20Gi",
        },
    },
    "models": {
        "qwen-small": {
            "engine": "ollama",
            "model": "qwen2.5:0.5b",
            "pool": "gpu",
            "cpu": "2",
            "memory": "8Gi",
            "startupBudgetSeconds": 300,
        },
        "qwen-instruct": {
            "engine": "vllm",
            "model": "Qwen/Qwen2.5-0.5B-Instruct",
            # The commit every replica serves (a branch could change between two scale-ups).
            "revision": "7ae557604adf67be50417f59c2c2f167def9a775",
            "pool": "gpu",
            "maxModelLen": 4096,
            "gpuMemoryUtilization": 0.85,
            "cpu": "2",
            "memory": "12Gi",
        },
    },
}

_PROD: dict[str, Any] = {
    "cluster": {
        "eks": {
            "vpcCidr": "10.50.0.0/16",
            "logRetentionDays": 365,
            "systemPool": {"instanceTypes": ["m7i.xlarge"], "desiredSize": 3, "maxSize": 6},
        },
    },
    # Prod's stack owns the tailnet policy and tailnet-wide settings; other stacks on the same
    # tailnet (dev ones: the field's default) use `shared` and add only their devices and keys.
    "tailscale": {"policy": "own"},
    "nodePools": {
        "serving": {"instanceTypes": ["g6e.12xlarge"], "minSize": 2, "desiredSize": 2, "maxSize": 4, "gpuCap": 16},
        "training": {
            "instanceTypes": ["p4d.24xlarge"],
            "capacityType": "SPOT",
            "purpose": "training",
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
            "quota": {"gpus": 16, "cpu": "192", "memory": "2048Gi", "pods": 40},
            "queues": ["train", "batch-infer"],
        },
    },
    # Kueue on the training pool: two job classes share its 16 GPUs and borrow each other's idle
    # share through the cohort. Prod carries no jobs in settings; users submit them (README).
    "batch": {
        "enabled": True,
        "queues": {"train": {"pool": "training", "gpus": 12}, "batch-infer": {"pool": "training", "gpus": 4}},
    },
    "storage": {
        "nvme": {"enabled": True},
        "shared": {"backups": True},
        "modelCacheSize": "500Gi",
    },
    "monitoring": {"enabled": True},
    # Mandatory in prod (cost-within-budget): the preset at max scale is about 68 USD/h (4 on-demand
    # g6e.12xlarge serving nodes 42, 2 spot p4d.24xlarge training nodes 24, 6 system nodes, NAT x3,
    # EFS); 75 is that plus ~10 % for spot above its estimate, so a pool raised past its preset
    # size (one more serving node is +10.49) fails the plan until the budget is raised on purpose.
    "cost": {"budgetUsdPerHour": 75.0},
    # Our own model-runner and Ollama images, built here and run by digest.
    "registry": {"enabled": True, "build": ["model-runner", "ollama"]},
    "models": {
        "coder-32b": {
            "engine": "vllm",
            "model": "Qwen/Qwen2.5-Coder-32B-Instruct-AWQ",
            # Prod serves a commit, never a branch. This one (2024-11-18) is the revision several
            # independent vLLM deployments pin for this checkpoint; bump it in a reviewed change.
            "revision": "1ed0a6145da0ce550c628e8e8b678f51e695995d",
            "pool": "serving",
            "gpusPerReplica": 2,
            "replicas": {"min": 2, "max": 4},
            "quantization": "awq",
            "maxModelLen": 16384,
            "cpu": "8",
            "memory": "96Gi",
            "startupBudgetSeconds": 900,
        },
        "qwen-coder": {
            "engine": "ollama",
            "model": "qwen2.5-coder:7b",
            "pool": "serving",
            "replicas": {"min": 2, "max": 2},
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


ENV_PRESETS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "dev": _freeze({"environment": "dev", **_DEV}),
        "prod": _freeze({"environment": "prod", **_PROD}),
    }
)
"""Read-only presets by environment name; ``deep_merge`` copies what it merges."""
