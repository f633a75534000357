"""Typed stack settings: the only place that reads ``pulumi.Config``.

One module per section — ``cluster``, ``pools``, ``storage`` (namespaces and storage), ``models``,
``monitoring``, ``addons``, ``cost``, ``registry``, ``batch``, ``tailscale`` — each with its own
rules and the facts derived from it alone; the root model with the facts that span sections
(``root.StackSections``); the rules that span sections, one module per domain registered in one
list (``rules/``); the validated root that runs them (``stack.StackSettings``); the base class and
field types (``base``); and the loader that merges presets, validates and reads secrets
(``loader``). Import from here; the modules are an implementation detail.
"""

from components.core.settings.base import (
    PROJECT,
    CrossFieldError,
    Environment,
    Problem,
    Settings,
    SettingsError,
)
from components.core.settings.batch import BatchSettings, JobSpec, QueueSettings
from components.core.settings.cluster import (
    EKS_API_SERVICE_IP,
    EKS_LOG_TYPES,
    EKS_SERVICE_CIDR,
    SUPPORTED_K8S_VERSIONS,
    ClusterSettings,
    EksSettings,
    ExistingClusterSettings,
    SystemPoolSettings,
)
from components.core.settings.cost import CostSettings
from components.core.settings.loader import (
    FIELD_KEYS,
    NOT_AVAILABLE_YET,
    SECRET_KEYS,
    decode_config,
    deep_merge,
    effective_settings,
    load_secrets,
    load_settings,
    parse_settings,
    stack_file_name,
)
from components.core.settings.models import ModelImages, ModelSpec, ReplicaSettings
from components.core.settings.monitoring import AlertReceiverSettings, MonitoringSettings
from components.core.settings.pools import GpuSharingSettings, GpuSoftwareSettings, MachineSettings, NodePoolSettings
from components.core.settings.registry import IMAGE_NAMES, PullThroughCacheSettings, RegistrySettings
from components.core.settings.root import FleetSecretKeys, StackSections
from components.core.settings.stack import StackSettings
from components.core.settings.storage import (
    STORAGE_CLASSES,
    LimitRangeSettings,
    NamespaceSettings,
    NfsServerSettings,
    NvmeSettings,
    QuotaSettings,
    SharedStorageSettings,
    StorageSettings,
)
from components.core.settings.tailscale import (
    OAUTH_SECRET_KEYS,
    AccessSettings,
    AuthKeySettings,
    OperatorSettings,
    SshSettings,
    SubnetRouterSettings,
    TailscaleSettings,
)

__all__ = [
    "EKS_API_SERVICE_IP",
    "EKS_LOG_TYPES",
    "EKS_SERVICE_CIDR",
    "FIELD_KEYS",
    "IMAGE_NAMES",
    "NOT_AVAILABLE_YET",
    "OAUTH_SECRET_KEYS",
    "PROJECT",
    "SECRET_KEYS",
    "STORAGE_CLASSES",
    "SUPPORTED_K8S_VERSIONS",
    "AccessSettings",
    "AlertReceiverSettings",
    "AuthKeySettings",
    "BatchSettings",
    "ClusterSettings",
    "CostSettings",
    "CrossFieldError",
    "EksSettings",
    "Environment",
    "ExistingClusterSettings",
    "FleetSecretKeys",
    "GpuSharingSettings",
    "GpuSoftwareSettings",
    "JobSpec",
    "LimitRangeSettings",
    "MachineSettings",
    "ModelImages",
    "ModelSpec",
    "MonitoringSettings",
    "NamespaceSettings",
    "NfsServerSettings",
    "NodePoolSettings",
    "NvmeSettings",
    "OperatorSettings",
    "Problem",
    "PullThroughCacheSettings",
    "QueueSettings",
    "QuotaSettings",
    "RegistrySettings",
    "ReplicaSettings",
    "Settings",
    "SettingsError",
    "SharedStorageSettings",
    "SshSettings",
    "StackSections",
    "StackSettings",
    "StorageSettings",
    "SubnetRouterSettings",
    "SystemPoolSettings",
    "TailscaleSettings",
    "decode_config",
    "deep_merge",
    "effective_settings",
    "load_secrets",
    "load_settings",
    "parse_settings",
    "stack_file_name",
]
