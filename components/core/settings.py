"""Typed stack settings: the only place that reads ``pulumi.Config``.

``ai-infra:environment`` picks a preset (``presets.py``); every other ``ai-infra:*`` key in the
stack file overrides it (maps merge key by key, lists replace, ``null`` removes a preset
entry). The merged document is validated by frozen pydantic models with ``extra="forbid"``.
Bad input becomes one :class:`SettingsError` that lists every bad key path with the stack file
name and what is allowed, raised before any resource is registered.

Secrets are deliberately *not* in these models: they are read with ``require_secret`` by
:func:`load_secrets` and stay ``Output`` secrets end to end.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args

import pulumi
from pulumi.runtime import config as runtime_config
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components.core.naming import is_dns_label
from components.specs.gpu_instances import GPU_FAMILIES, GPU_INSTANCES, GpuInstance, sizes_of

PROJECT = "ai-infra"


class Environment(StrEnum):
    DEV = "dev"
    PROD = "prod"


KubernetesVersion = Literal["1.32", "1.33", "1.34", "1.35"]
"""EKS versions in standard support that the platform is tested against (rule 55)."""
SUPPORTED_K8S_VERSIONS: tuple[str, ...] = get_args(KubernetesVersion)

LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
EKS_LOG_TYPES: tuple[LogType, ...] = ("api", "audit", "authenticator", "controllerManager", "scheduler")
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class SettingsError(pulumi.RunError):
    """Invalid stack configuration. A ``RunError`` so Pulumi prints it without a traceback."""

    def __init__(self, stack_file: str, problems: list[tuple[str, str]]) -> None:
        self.stack_file = stack_file
        self.problems = sorted(set(problems))
        lines = [f"Invalid configuration in {stack_file} ({len(self.problems)} problem(s)):"]
        lines += [f"  - {path}: {message}" for path, message in self.problems]
        lines.append("Fix these keys in the stack file (or with `pulumi config set --path`).")
        super().__init__("\n".join(lines))


class CrossFieldError(ValueError):
    """Raised by model validators: several ``(relative key path, message)`` problems at once."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p}: {m}" for p, m in problems))


def _check(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise CrossFieldError(problems)


# ---------------------------------------------------------------------------------------------
# Reusable field types
# ---------------------------------------------------------------------------------------------


def _dns_label(value: str) -> str:
    if not is_dns_label(value):
        raise ValueError("must be a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters")
    return value


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"must be a CIDR block such as 10.0.0.0/16 ({exc})") from None
    return value


_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$")


def _quantity(value: str) -> str:
    if not _QUANTITY.match(value):
        raise ValueError("must be a Kubernetes quantity such as 500m, 4, 16Gi")
    return value


K8sName = Annotated[str, AfterValidator(_dns_label)]
Cidr = Annotated[str, AfterValidator(_cidr)]
Quantity = Annotated[str, AfterValidator(_quantity)]


class Model(BaseModel):
    """Base for every settings model: frozen, unknown keys rejected, camelCase keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)


# ---------------------------------------------------------------------------------------------
# Cluster
# ---------------------------------------------------------------------------------------------


class SystemPoolSettings(Model):
    """The small on-demand node group for controllers (autoscaler, CoreDNS, operators)."""

    instance_types: list[str] = Field(default_factory=lambda: ["m7i.large"], min_length=1)
    min_size: int = Field(2, ge=1)
    desired_size: int = Field(2, ge=1)
    max_size: int = Field(4, ge=1)

    @model_validator(mode="after")
    def _sizes(self) -> SystemPoolSettings:
        _check(_size_problems(self.min_size, self.desired_size, self.max_size))
        return self


class EksSettings(Model):
    """AWS EKS cluster settings (``cluster.mode: aws-eks``)."""

    region: str = "us-west-2"
    vpc_cidr: Cidr = "10.40.0.0/16"
    availability_zones: int = Field(3, ge=2, le=3)
    nat_gateways: Literal["single", "per-az"] = "per-az"
    endpoint_public_access: bool = False
    public_access_cidrs: list[Cidr] = Field(default_factory=list)
    log_types: list[Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]] = Field(
        default_factory=lambda: list(EKS_LOG_TYPES)
    )
    log_retention_days: int = 90
    admin_principal_arns: list[str] = Field(default_factory=list)
    system_pool: SystemPoolSettings = Field(default_factory=SystemPoolSettings)

    @model_validator(mode="after")
    def _rules(self) -> EksSettings:
        problems = []
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            problems.append(("logRetentionDays", f"must be one of CloudWatch's values {list(LOG_RETENTION_DAYS)}"))
        if self.endpoint_public_access:
            if not self.public_access_cidrs:
                problems.append(("publicAccessCidrs", "must list the CIDRs allowed to reach a public endpoint"))
            wide = [c for c in self.public_access_cidrs if ipaddress.ip_network(c).prefixlen == 0]
            if wide:
                problems.append(("publicAccessCidrs", "must not contain 0.0.0.0/0 or ::/0 (the whole internet)"))
        for i, arn in enumerate(self.admin_principal_arns):
            if not arn.startswith("arn:aws:iam::"):
                problems.append((f"adminPrincipalArns[{i}]", "must be an IAM role or user ARN"))
        _check(problems)
        return self


class ExistingClusterSettings(Model):
    """An existing cluster reached by kubeconfig (kind on a laptop, on-prem GPU machines)."""

    kubeconfig: str = Field(min_length=1)
    context: str | None = None


class ClusterSettings(Model):
    mode: Literal["aws-eks", "existing"] = "aws-eks"
    name: K8sName = "ai-infra"
    kubernetes_version: KubernetesVersion = "1.34"
    eks: EksSettings | None = None
    existing: ExistingClusterSettings | None = None

    @model_validator(mode="after")
    def _mode(self) -> ClusterSettings:
        problems = []
        if self.mode == "aws-eks" and self.eks is None:
            problems.append(("eks", "is required when mode is aws-eks"))
        if self.mode == "existing" and self.existing is None:
            problems.append(("existing.kubeconfig", "is required when mode is existing (path to a kubeconfig)"))
        if self.mode == "existing" and self.eks is not None:
            problems.append(("eks", "applies only when mode is aws-eks; remove it"))
        _check(problems)
        return self


# ---------------------------------------------------------------------------------------------
# GPU node pools and GPU software
# ---------------------------------------------------------------------------------------------


class GpuSharingSettings(Model):
    """How a pool's GPUs are shared: not at all, time-sliced, or partitioned with MIG."""

    mode: Literal["none", "time-slicing", "mig"] = "none"
    replicas: int | None = None
    rename_by_default: bool = False
    mig_strategy: Literal["single", "mixed"] | None = None
    mig_profile: str | None = None

    @model_validator(mode="after")
    def _combos(self) -> GpuSharingSettings:
        problems = []
        if self.mode == "time-slicing":
            if self.replicas is None or self.replicas < 2:
                problems.append(("replicas", "must be at least 2 for time-slicing"))
            if self.mig_strategy or self.mig_profile:
                problems.append(("mode", "time-slicing and MIG cannot be combined; drop migStrategy/migProfile"))
        elif self.mode == "mig":
            if not self.mig_strategy:
                problems.append(("migStrategy", "is required for MIG: single or mixed"))
            if not self.mig_profile:
                problems.append(("migProfile", "is required for MIG, e.g. all-1g.10gb"))
            if self.replicas is not None:
                problems.append(("replicas", "time-slicing replicas cannot be combined with MIG"))
        elif self.replicas is not None or self.mig_strategy or self.mig_profile:
            problems.append(("mode", "set mode to time-slicing or mig to use sharing options"))
        _check(problems)
        return self


class NodePoolSettings(Model):
    """One GPU node pool (an EKS managed node group on AWS)."""

    instance_types: list[str] = Field(min_length=1)
    capacity_type: Literal["SPOT", "ON_DEMAND"] = "ON_DEMAND"
    purpose: Literal["serving", "training"] = "serving"
    min_size: int = Field(0, ge=0)
    desired_size: int = Field(0, ge=0)
    max_size: int = Field(2, ge=1)
    gpu_cap: int | None = Field(None, ge=1)
    ami_type: Literal["AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA"] = "AL2023_x86_64_NVIDIA"
    root_volume_gib: int = Field(200, ge=50, le=4096)
    nvme: Literal["raid0", "local-pv", "none"] = "raid0"
    sharing: GpuSharingSettings = Field(default_factory=GpuSharingSettings)
    labels: dict[str, str] = Field(default_factory=dict)

    @property
    def instances(self) -> list[GpuInstance]:
        return [GPU_INSTANCES[t] for t in self.instance_types if t in GPU_INSTANCES]

    @property
    def gpus_per_node(self) -> int:
        """GPUs of the smallest instance type (the autoscaler's scale-from-zero template)."""
        return min(i.gpus for i in self.instances)

    @property
    def effective_gpu_cap(self) -> int:
        return self.gpu_cap or self.max_size * max(i.gpus for i in self.instances)

    @model_validator(mode="after")
    def _rules(self) -> NodePoolSettings:
        problems = _size_problems(self.min_size, self.desired_size, self.max_size)
        for i, itype in enumerate(self.instance_types):
            family = itype.split(".", 1)[0]
            if family not in GPU_FAMILIES:
                problems.append((f"instanceTypes[{i}]", f"unknown GPU family; allowed: {', '.join(GPU_FAMILIES)}"))
            elif itype not in GPU_INSTANCES:
                problems.append((f"instanceTypes[{i}]", f"unknown size; allowed: {', '.join(sizes_of(family))}"))
        known = self.instances
        if len(known) == len(self.instance_types):
            if len({i.gpus for i in known}) > 1:
                problems.append(("instanceTypes", "must all have the same GPU count per node (scale-from-zero)"))
            if self.sharing.mode == "mig" and not all(i.mig_capable for i in known):
                problems.append(("sharing.mode", "MIG needs A100/H100/H200 instances (p4d, p4de, p5, p5e)"))
            if self.nvme != "none" and not all(i.nvme_disks for i in known):
                problems.append(("nvme", "needs instance types with NVMe instance store"))
            if self.gpu_cap is not None and self.gpu_cap < self.min_size * self.gpus_per_node:
                problems.append(("gpuCap", "must allow at least minSize nodes' GPUs"))
        _check(problems)
        return self


class GpuSoftwareSettings(Model):
    """The NVIDIA stack that advertises GPUs to the scheduler."""

    stack: Literal["device-plugin", "gpu-operator"] = "device-plugin"
    runtime_class: bool | None = None
    """Create RuntimeClass ``nvidia``; default: only on existing clusters (EKS NVIDIA AMIs need none)."""


# ---------------------------------------------------------------------------------------------
# Namespaces, storage, models, registry, tailscale, monitoring, policies
# ---------------------------------------------------------------------------------------------


class QuotaSettings(Model):
    """A namespace's ResourceQuota (the GPU line is the cost guardrail)."""

    gpus: int = Field(4, ge=0)
    cpu: Quantity = "64"
    memory: Quantity = "512Gi"
    pods: int = Field(50, ge=1)
    pvcs: int = Field(20, ge=0)


class LimitRangeSettings(Model):
    """Container defaults a namespace's LimitRange applies when a pod sets none."""

    default_cpu_request: Quantity = "250m"
    default_memory_request: Quantity = "512Mi"
    default_memory_limit: Quantity = "2Gi"
    max_memory: Quantity = "256Gi"


class NamespaceSettings(Model):
    quota: QuotaSettings = Field(default_factory=QuotaSettings)
    limits: LimitRangeSettings = Field(default_factory=LimitRangeSettings)
    model_cache: bool = False
    """Give the namespace a ``model-cache`` PVC (weights shared by its model fleets)."""


class NfsServerSettings(Model):
    server: str = Field(min_length=1)
    share: str = Field(min_length=1, pattern=r"^/")
    sub_dir: str | None = None


class SharedStorageSettings(Model):
    backend: Literal["efs", "nfs", "none"] = "efs"
    nfs: NfsServerSettings | None = None
    backups: bool = False
    throughput_mode: Literal["elastic", "bursting"] = "elastic"

    @model_validator(mode="after")
    def _backend(self) -> SharedStorageSettings:
        if self.backend == "nfs" and self.nfs is None:
            _check([("nfs", "server and share are required when backend is nfs")])
        return self


class NvmeSettings(Model):
    enabled: bool = True
    host_dir: str = Field("/mnt/nvme-disks", pattern=r"^/")


STORAGE_CLASSES = {"shared-models": "ReadWriteMany", "gp3": "ReadWriteOnce", "local-nvme": "ReadWriteOnce"}
"""The classes the platform creates and the access mode each offers."""


class StorageSettings(Model):
    nvme: NvmeSettings = Field(default_factory=NvmeSettings)
    shared: SharedStorageSettings = Field(default_factory=SharedStorageSettings)
    model_cache_size: Quantity = "200Gi"
    model_cache_class: str = "shared-models"
    """StorageClass of the model-cache PVCs; must be one the platform creates."""


class ReplicaSettings(Model):
    min: int = Field(1, ge=0)
    max: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _order(self) -> ReplicaSettings:
        if self.min > self.max:
            _check([("min", "must not exceed max")])
        return self


class ModelSpec(Model):
    """One model fleet: the single spec both engines (vLLM, Ollama) are rendered from."""

    engine: Literal["vllm", "ollama"]
    model: str = Field(min_length=1)
    revision: str | None = None
    namespace: K8sName = "models"
    pool: str
    gpus_per_replica: int = Field(1, ge=0)
    replicas: ReplicaSettings = Field(default_factory=ReplicaSettings)
    quantization: Literal["awq", "gptq", "fp8", "bitsandbytes"] | None = None
    max_model_len: int | None = Field(None, ge=256)
    gpu_memory_utilization: float = Field(0.9, gt=0.1, le=0.98)
    prefix_caching: bool = True
    chunked_prefill: bool = True
    extra_args: list[str] = Field(default_factory=list)
    cache: Literal["shared", "local-nvme"] = "shared"
    exposure: Literal["cluster", "tailnet"] = "cluster"
    api_key_secret: str | None = None
    """Name of a secret config key holding the API key clients must send (vLLM --api-key)."""
    hf_token_secret: str | None = None
    """Name of a secret config key with a Hugging Face token (default: ``hfToken`` if set)."""
    cpu: Quantity = "4"
    memory: Quantity = "32Gi"
    shm_size: Quantity = "20Gi"
    """/dev/shm for tensor-parallel NCCL traffic (only mounted when gpusPerReplica > 1)."""
    startup_budget_seconds: int = Field(600, ge=60, le=7200)
    """How long weights may take to load before the startup probe gives up."""
    client_namespaces: list[K8sName] = Field(default_factory=list)
    """Namespaces (besides its own) whose pods may call the model."""

    def model_cache_ok(self, settings: StackSettings) -> bool:
        ns = settings.namespaces.get(self.namespace)
        return self.cache != "shared" or ns is None or ns.model_cache

    @property
    def port(self) -> int:
        return 8000 if self.engine == "vllm" else 11434

    @property
    def autoscaled(self) -> bool:
        return self.replicas.max > self.replicas.min


IMAGE_REF = r"^[^:@\s]+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$"


class ModelImages(Model):
    """One image reference per engine: pinned tags now, digests (``@sha256:``) once we build our own."""

    vllm: str = Field("docker.io/vllm/vllm-openai:v0.11.0", pattern=IMAGE_REF)
    ollama: str = Field("docker.io/ollama/ollama:0.12.6", pattern=IMAGE_REF)


class RegistrySettings(Model):
    enabled: bool = False
    repositories: list[K8sName] = Field(default_factory=list)


class TailscaleSettings(Model):
    enabled: bool = False
    tags: list[str] = Field(default_factory=lambda: ["tag:k8s"])


class MonitoringSettings(Model):
    enabled: bool = False
    retention: str = Field("10d", pattern=r"^[0-9]+[dhw]$")
    prometheus_url: str = "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
    """Where KEDA reads vLLM queue depth from."""
    namespace: K8sName = "monitoring"
    """Namespace Prometheus scrapes from (allowed into model namespaces' NetworkPolicies)."""


class PolicySettings(Model):
    pack_dir: str = "policies"
    config_file: str | None = None
    """``--policy-pack-config`` file; defaults to ``policies/<environment>.json``."""


# ---------------------------------------------------------------------------------------------
# The whole stack
# ---------------------------------------------------------------------------------------------


class StackSettings(Model):
    environment: Environment
    team: K8sName = "ml-platform"
    cost_center: str = Field("ml-platform", min_length=1)
    cluster: ClusterSettings
    node_pools: dict[K8sName, NodePoolSettings] = Field(default_factory=dict)
    gpu: GpuSoftwareSettings = Field(default_factory=GpuSoftwareSettings)
    namespaces: dict[K8sName, NamespaceSettings] = Field(default_factory=dict)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    models: dict[K8sName, ModelSpec] = Field(default_factory=dict)
    model_images: ModelImages = Field(default_factory=ModelImages)
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
    tailscale: TailscaleSettings = Field(default_factory=TailscaleSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    policies: PolicySettings = Field(default_factory=PolicySettings)

    @property
    def is_prod(self) -> bool:
        return self.environment == Environment.PROD

    @property
    def on_aws(self) -> bool:
        return self.cluster.mode == "aws-eks"

    @property
    def storage_classes(self) -> dict[str, str]:
        """Classes this stack creates -> access mode."""
        classes = {}
        if self.storage.shared.backend != "none":
            classes["shared-models"] = STORAGE_CLASSES["shared-models"]
        if self.on_aws:
            classes["gp3"] = STORAGE_CLASSES["gp3"]
        if self.storage.nvme.enabled:
            classes["local-nvme"] = STORAGE_CLASSES["local-nvme"]
        return classes

    @property
    def local_pv_pools(self) -> list[str]:
        return sorted(n for n, p in self.node_pools.items() if p.nvme == "local-pv")

    @property
    def nvidia_runtime_class(self) -> bool:
        return self.gpu.runtime_class if self.gpu.runtime_class is not None else not self.on_aws

    @property
    def policy_config_file(self) -> str:
        return self.policies.config_file or f"{self.policies.pack_dir}/{self.environment}.json"

    @model_validator(mode="after")
    def _cross_section(self) -> StackSettings:
        problems: list[tuple[str, str]] = []
        if self.is_prod and self.on_aws and self.cluster.eks and self.cluster.eks.endpoint_public_access:
            problems.append(("cluster.eks.endpointPublicAccess", "must be false in prod (reach it over the tailnet)"))
        if self.is_prod and self.on_aws and self.cluster.eks and not self.cluster.eks.admin_principal_arns:
            problems.append(
                (
                    "cluster.eks.adminPrincipalArns",
                    "must list at least one IAM role ARN in prod (the cluster "
                    "creator is not made admin there; list the deploy role and the on-call admin role)",
                )
            )
        if not self.on_aws and self.storage.shared.backend == "efs":
            problems.append(
                ("storage.shared.backend", "efs needs cluster.mode aws-eks; use nfs (with storage.shared.nfs) or none")
            )
        for name, pool in self.node_pools.items():
            if self.is_prod and pool.purpose == "serving" and pool.capacity_type == "SPOT" and pool.min_size < 2:
                problems.append((f"nodePools.{name}.minSize", "a spot serving pool in prod needs at least 2 nodes"))
            if pool.nvme == "local-pv" and not self.storage.nvme.enabled:
                problems.append((f"nodePools.{name}.nvme", "local-pv needs storage.nvme.enabled: true"))
        problems += _storage_problems(self)
        gpus_by_namespace: dict[str, int] = {}
        for spec in self.models.values():
            gpus_by_namespace[spec.namespace] = (
                gpus_by_namespace.get(spec.namespace, 0) + spec.replicas.max * spec.gpus_per_replica
            )
        for namespace, gpus in sorted(gpus_by_namespace.items()):
            ns = self.namespaces.get(namespace)
            if ns is not None and gpus > ns.quota.gpus:
                problems.append(
                    (
                        f"namespaces.{namespace}.quota.gpus",
                        f"is below the {gpus} GPUs its model fleets need at max replicas",
                    )
                )
        for name, spec in self.models.items():
            if not spec.model_cache_ok(self):
                problems.append((f"models.{name}.cache", f"shared needs namespaces.{spec.namespace}.modelCache: true"))
            problems += [(f"models.{name}.{p}", m) for p, m in _model_problems(self, spec)]
            if spec.namespace not in self.namespaces:
                problems.append((f"models.{name}.namespace", f"must be one of namespaces: {sorted(self.namespaces)}"))
        _check(problems)
        return self


def _storage_problems(self: StackSettings) -> list[tuple[str, str]]:
    """Storage rules that span sections: the cache class exists and fits the fleets, NVMe has a pool."""
    problems: list[tuple[str, str]] = []
    classes = self.storage_classes
    cache_users = [n for n, ns in self.namespaces.items() if ns.model_cache]
    if cache_users and self.storage.model_cache_class not in classes:
        problems.append(
            ("storage.modelCacheClass", f"must be a StorageClass this stack creates: {sorted(classes) or 'none'}")
        )
    elif cache_users and classes.get(self.storage.model_cache_class) == "ReadWriteOnce":
        shared_multi = [n for n, m in self.models.items() if m.cache == "shared" and m.replicas.max > 1]
        if shared_multi:
            problems.append(
                (
                    "storage.modelCacheClass",
                    f"is ReadWriteOnce but models {', '.join(sorted(shared_multi))} run more than one "
                    "replica on the shared cache; use shared-models",
                )
            )
    if self.storage.nvme.enabled and not self.local_pv_pools:
        problems.append(
            ("storage.nvme.enabled", "needs at least one node pool with nvme: local-pv (raw instance-store disks)")
        )
    return problems


def _size_problems(min_size: int, desired: int, max_size: int) -> list[tuple[str, str]]:
    problems = []
    if min_size > max_size:
        problems.append(("minSize", "must not exceed maxSize"))
    if not min_size <= desired <= max_size:
        problems.append(("desiredSize", "must be within [minSize, maxSize]"))
    return problems


def _model_problems(settings: StackSettings, spec: ModelSpec) -> list[tuple[str, str]]:
    """Cross-field rules of one model spec against the pools and storage it names."""
    problems: list[tuple[str, str]] = []
    pool = settings.node_pools.get(spec.pool)
    if pool is None:
        problems.append(("pool", f"must name a node pool: {sorted(settings.node_pools)}"))
    if spec.engine == "vllm":
        if spec.gpus_per_replica < 1:
            problems.append(("gpusPerReplica", "must be at least 1 for vLLM"))
        elif pool is not None and pool.instances:
            per_node = pool.gpus_per_node
            if spec.gpus_per_replica > per_node:
                problems.append(
                    (
                        "gpusPerReplica",
                        f"tensor parallelism must fit one node of pool {spec.pool} ({per_node} GPU(s) per node)",
                    )
                )
            elif per_node % spec.gpus_per_replica:
                problems.append(("gpusPerReplica", f"must divide the pool's {per_node} GPU(s) per node"))
    else:
        if spec.revision is not None:
            problems.append(("revision", "Ollama models take a tag in model (name:tag), no revision"))
        if spec.quantization is not None or spec.max_model_len is not None:
            problems.append(("engine", "quantization and maxModelLen are vLLM options; Ollama tags pick them"))
        if ":" not in spec.model:
            problems.append(("model", "an Ollama model needs a pinned tag, e.g. qwen2.5:0.5b"))
    if spec.replicas.max > 1 and spec.cache == "shared" and settings.storage.shared.backend == "none":
        problems.append(
            (
                "cache",
                "replicas > 1 with a shared cache needs a ReadWriteMany class (storage.shared.backend efs or nfs)",
            )
        )
    if spec.cache == "local-nvme" and not settings.storage.nvme.enabled:
        problems.append(("cache", "local-nvme needs storage.nvme.enabled: true"))
    if spec.cache == "local-nvme" and pool is not None and pool.nvme != "local-pv":
        problems.append(("cache", f"local-nvme needs pool {spec.pool} with nvme: local-pv"))
    if pool is not None and pool.instances and pool.gpus_per_node < 1:
        problems.append(("pool", "must be a GPU pool"))
    return problems


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------

SECRET_KEYS = ("hfToken", "tailscaleOauthClientId", "tailscaleOauthClientSecret", "grafanaAdminPassword")
"""Well-known secret config keys, read by :func:`load_secrets` (never by the models)."""

_FIELD_KEYS = {field.alias or name for name, field in StackSettings.model_fields.items()}


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into ``base``: maps merge recursively, ``None`` deletes, rest replaces."""
    merged: dict[str, Any] = dict(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _format_loc(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _problems_from(exc: ValidationError) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if p not in ("function-after",))
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, CrossFieldError):
            for sub, message in cause.problems:
                problems.append((f"{PROJECT}:{_format_loc((*loc, sub))}", message))
            continue
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key (not part of the settings schema)"
        elif err["type"] == "missing":
            message = "is required"
        problems.append((f"{PROJECT}:{_format_loc(loc)}", message))
    return problems


def stack_file_name(stack: str) -> str:
    return f"Pulumi.{stack}.yaml"


def parse_settings(raw: Mapping[str, Any], *, stack: str, secret_keys: frozenset[str] = frozenset()) -> StackSettings:
    """Validate raw ``{key: value}`` stack config (keys without the ``ai-infra:`` prefix).

    Raises one :class:`SettingsError` listing every problem.
    """
    from components.core.presets import ENV_PRESETS

    stack_file = stack_file_name(stack)
    problems: list[tuple[str, str]] = []
    env_value = raw.get("environment")
    allowed_envs = ", ".join(e.value for e in Environment)
    if env_value is None:
        raise SettingsError(stack_file, [(f"{PROJECT}:environment", f"is required: one of {allowed_envs}")])
    if env_value not in {e.value for e in Environment}:
        raise SettingsError(stack_file, [(f"{PROJECT}:environment", f"must be one of {allowed_envs}")])

    referenced = _referenced_secret_keys(raw)
    for key in sorted(raw):
        if key in _FIELD_KEYS:
            continue
        if key in SECRET_KEYS or key in referenced:
            if key not in secret_keys:
                problems.append((f"{PROJECT}:{key}", "must be a secret: set it with `pulumi config set --secret`"))
            continue
        problems.append(
            (
                f"{PROJECT}:{key}",
                f"unknown key; allowed: {', '.join(sorted(_FIELD_KEYS))}, "
                f"or a secret key ({', '.join(SECRET_KEYS)}, or one a model names)",
            )
        )
    for key in sorted(referenced):
        if key not in raw:
            problems.append((f"{PROJECT}:{key}", "is named by a model spec but not set (use --secret)"))

    overrides = {k: v for k, v in raw.items() if k in _FIELD_KEYS}
    document = _adapt_preset_to_mode(deep_merge(ENV_PRESETS[Environment(env_value)], overrides), overrides)
    settings: StackSettings | None = None
    try:
        settings = StackSettings.model_validate(document)
    except ValidationError as exc:
        problems += _problems_from(exc)
    if problems or settings is None:
        raise SettingsError(stack_file, problems)
    return settings


def _adapt_preset_to_mode(document: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Drop the preset's AWS-only parts when the stack chose an existing cluster.

    Only what the preset supplied is dropped; anything the stack set itself is kept (and then
    validated, so an explicit ``eks`` section or ``efs`` backend in existing mode is reported).
    """
    cluster = document.get("cluster") or {}
    if cluster.get("mode") != "existing":
        return document
    own_cluster = overrides.get("cluster") or {}
    if isinstance(own_cluster, Mapping) and "eks" not in own_cluster:
        document["cluster"] = {k: v for k, v in cluster.items() if k != "eks"}
    own_shared = (
        ((overrides.get("storage") or {}).get("shared") or {}) if isinstance(overrides.get("storage"), Mapping) else {}
    )
    if "backend" not in own_shared:
        document = deep_merge(document, {"storage": {"shared": {"backend": "none"}}})
    return document


def _referenced_secret_keys(raw: Mapping[str, Any]) -> set[str]:
    models = raw.get("models")
    keys: set[str] = set()
    if isinstance(models, Mapping):
        for spec in models.values():
            if isinstance(spec, Mapping):
                for field in ("apiKeySecret", "hfTokenSecret"):
                    if isinstance(spec.get(field), str):
                        keys.add(spec[field])
    return keys


def _raw_stack_config() -> tuple[dict[str, Any], frozenset[str]]:
    """Every ``ai-infra:*`` key the engine passed (JSON-decoded; secrets masked) and which are secret."""
    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    raw: dict[str, Any] = {}
    secrets: set[str] = set()
    for full_key, value in merged.items():
        namespace, _, key = full_key.partition(":")
        if namespace != PROJECT or not key:
            continue
        if runtime_config.is_config_secret(full_key):
            # Only the key's presence matters here; the value is read later with require_secret.
            secrets.add(key)
            raw[key] = "[secret]"
            continue
        try:
            raw[key] = json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError:
            raw[key] = value
    return raw, frozenset(secrets)


def load_settings() -> StackSettings:
    """Read and validate this stack's configuration (raises :class:`SettingsError`)."""
    raw, secret_keys = _raw_stack_config()
    return parse_settings(raw, stack=pulumi.get_stack(), secret_keys=secret_keys)


@dataclass(frozen=True)
class Secrets:
    """Secret config values as ``Output`` secrets; ``None`` when a stack does not set one."""

    hf_token: pulumi.Output[str] | None
    tailscale_oauth_client_id: pulumi.Output[str] | None
    tailscale_oauth_client_secret: pulumi.Output[str] | None
    grafana_admin_password: pulumi.Output[str] | None
    model_keys: Mapping[str, pulumi.Output[str]]


def load_secrets(settings: StackSettings) -> Secrets:
    """Read the secret keys with ``get_secret`` so they never leave ``Output`` form."""
    config = pulumi.Config(PROJECT)
    names = {s.api_key_secret for s in settings.models.values() if s.api_key_secret}
    names |= {s.hf_token_secret for s in settings.models.values() if s.hf_token_secret}
    model_keys = {}
    for name in sorted(names):
        model_keys[name] = config.require_secret(name)
    return Secrets(
        hf_token=config.get_secret("hfToken"),
        tailscale_oauth_client_id=config.get_secret("tailscaleOauthClientId"),
        tailscale_oauth_client_secret=config.get_secret("tailscaleOauthClientSecret"),
        grafana_admin_password=config.get_secret("grafanaAdminPassword"),
        model_keys=model_keys,
    )
