"""The stack's root model without its rules: every section, and the facts derived from them.

``StackSections`` holds the sections (one model per section module: ``cluster``, ``pools``,
``storage``, ``models``, ``monitoring``, ``addons``, ``cost``, ``registry``, ``batch``,
``tailscale``, ``gateway``) and the derived facts that need more than one section (which system namespaces
exist, whether KEDA is needed, which secret config key feeds which fleet), so ``__main__.py``
only wires components and every decision is testable without the mock engine. A fact that
follows from one section alone is a property of that section's model (re-exposed here when the
program reads it from the root).

The cross-section rules (``rules/``) take a ``StackSections``; ``stack.StackSettings`` adds the
validator that runs them. Nothing here imports ``rules`` or ``stack``, so the settings have no
import circle, not even for type checking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import Field

from components.core.chart_images import CHART_IMAGES
from components.core.engines import ENGINES
from components.core.settings.addons import AddonName, AddonSettings
from components.core.settings.base import AwsTagValue, Environment, K8sName, Problem, Settings
from components.core.settings.batch import BatchSettings, JobSpec
from components.core.settings.cluster import ClusterSettings
from components.core.settings.cost import CostSettings
from components.core.settings.gateway import GatewaySettings
from components.core.settings.models import ModelImages, ModelSpec
from components.core.settings.monitoring import GRAFANA_ADMIN_KEY, MonitoringSettings
from components.core.settings.platform import PlatformSettings
from components.core.settings.pools import GpuSoftwareSettings, NodePoolSettings
from components.core.settings.registry import RegistrySettings
from components.core.settings.storage import STORAGE_CLASSES, NamespaceSettings, StorageSettings
from components.core.settings.tailscale import (
    GPU_NODE_TAG,
    MODEL_TAG,
    MONITORING_TAG,
    ROUTER_TAG,
    TailscaleSettings,
    env_tag,
)

HF_TOKEN_KEY = "hfToken"
"""The stack-wide Hugging Face token (a ``--secret`` config key)."""


@dataclass(frozen=True)
class FleetSecretKeys:
    """The secret config keys one fleet reads (None: the fleet gets no such Secret)."""

    api_key: str | None
    hf_token: str | None


class StackSections(Settings):
    """The stack's sections and derived facts; ``StackSettings`` adds the cross-section rules."""

    environment: Environment
    team: K8sName = "ml-platform"
    """A DNS label: it is a Kubernetes label value and an AWS tag value, and a DNS label is both."""
    cost_center: AwsTagValue = Field("ml-platform", min_length=1)
    """The ``CostCenter`` tag of every AWS resource (AWS tag values' characters)."""
    cluster: ClusterSettings
    node_pools: dict[K8sName, NodePoolSettings] = Field(default_factory=dict)
    gpu: GpuSoftwareSettings = Field(default_factory=GpuSoftwareSettings)
    namespaces: dict[K8sName, NamespaceSettings] = Field(default_factory=dict)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    models: dict[K8sName, ModelSpec] = Field(default_factory=dict)
    model_images: ModelImages = Field(default_factory=ModelImages)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    cost: CostSettings = Field(default_factory=CostSettings)
    addons: dict[AddonName, AddonSettings] = Field(default_factory=dict)
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
    batch: BatchSettings = Field(default_factory=BatchSettings)
    jobs: dict[K8sName, JobSpec] = Field(default_factory=dict)
    tailscale: TailscaleSettings = Field(default_factory=TailscaleSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
    secret_keys: frozenset[str] = frozenset()
    """Set by the loader: the config keys given with ``--secret`` (presence only, never values).
    Not a stack key: the loader rejects it in stack files."""

    # -- derived facts -------------------------------------------------------------------------

    @property
    def is_prod(self) -> bool:
        return self.environment == Environment.PROD

    @property
    def preinstalled(self) -> frozenset[str]:
        """Charts the cluster already runs (``addons.<chart>.install: false``): none is installed."""
        return frozenset(name for name, a in self.addons.items() if not a.install)

    @property
    def on_aws(self) -> bool:
        return self.cluster.on_aws

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
    def serving_pools(self) -> list[str]:
        return sorted(n for n, p in self.node_pools.items() if p.purpose == "serving")

    @property
    def nvidia_runtime_class(self) -> bool:
        return self.gpu.runtime_class if self.gpu.runtime_class is not None else not self.on_aws

    @property
    def serving_namespaces(self) -> list[str]:
        """Workload namespaces that run model fleets (they may use the serving PriorityClass)."""
        return sorted({m.namespace for m in self.models.values()})

    @property
    def keda_namespaces(self) -> list[str]:
        """Namespaces holding a ScaledObject (a fleet that autoscales on queue depth)."""
        return sorted(
            {m.namespace for m in self.models.values() if m.engine_record.autoscaler == "keda" and m.autoscaled}
        )

    @property
    def needs_keda(self) -> bool:
        """KEDA is installed only when a fleet autoscales on queue depth."""
        return bool(self.keda_namespaces)

    @property
    def needs_metrics_server(self) -> bool:
        """metrics-server is installed only when a fleet autoscales on CPU (an engine without a queue
        metric: its HorizontalPodAutoscaler reads the resource metrics API, which EKS lacks)."""
        return any(m.autoscaled and m.engine_record.autoscaler == "hpa" for m in self.models.values())

    @property
    def needs_storage_system(self) -> bool:
        return self.storage.needs_storage_system

    @property
    def tailscale_operator(self) -> bool:
        return self.tailscale.operator_runs

    @property
    def subnet_routes(self) -> list[str]:
        """What the Connector advertises (empty: no subnet router): the VPC CIDR on EKS by default."""
        ts = self.tailscale
        if not (self.tailscale_operator and ts.subnet_router.enabled):
            return []
        if ts.subnet_router.routes:
            return list(ts.subnet_router.routes)
        return [self.cluster.eks.vpc_cidr] if self.on_aws and self.cluster.eks else []

    @property
    def tailnet_fleets(self) -> list[str]:
        return sorted(n for n, m in self.models.items() if m.exposure == "tailnet")

    @property
    def tailscale_tag_owners(self) -> dict[str, list[str]]:
        """Every tag the stack may use -> who owns it (the platform's, then the settings' own)."""
        admin = ["autogroup:admin"]
        op = self.tailscale.operator
        operator = list(op.tags)
        owned: dict[str, list[str]] = {tag: admin for tag in operator}
        # The operator tags its proxies and the router; admins may tag machines that join with a key.
        owned |= {tag: operator for tag in (*op.proxy_tags, MODEL_TAG, MONITORING_TAG, ROUTER_TAG)}
        owned |= {GPU_NODE_TAG: admin, env_tag(self.environment.value): [*operator, *admin]}
        for tag, owners in self.tailscale.tag_owners.items():
            owned[tag] = list(owners)
        return owned

    @property
    def gpu_driver_on_nodes(self) -> bool:
        """GPU nodes come with the NVIDIA driver and container toolkit (EKS accelerated AMIs);
        elsewhere the GPU operator installs them (and runs its driver images)."""
        return self.on_aws

    @property
    def owns_node_groups(self) -> bool:
        """The stack creates its node groups (EKS), so the cluster-autoscaler scales them."""
        return self.on_aws

    @property
    def cache_namespaces(self) -> list[str]:
        """Workload namespaces that get a ``model-cache`` PVC."""
        return sorted(n for n, ns in self.namespaces.items() if ns.model_cache)

    def cache_filled(self, namespace: str) -> bool:
        """Whether anything writes ``namespace``'s model cache: a shared-cache fleet there (its
        staging Job), or weights that already exist (``storage.shared.nfs.existingModelsPath``)."""
        nfs = self.storage.shared.nfs
        existing = self.storage.shared.backend == "nfs" and nfs is not None and nfs.existing_models_path
        return bool(existing) or any(m.namespace == namespace and m.cache == "shared" for m in self.models.values())

    @property
    def fleet_weight_volumes(self) -> dict[str, str]:
        """Fleets that write their weights through their own EFS access point (fleet -> namespace):
        shared-cache fleets on the EFS-backed ``shared-models`` class."""
        if self.storage.shared.backend != "efs" or self.storage.model_cache_class != "shared-models":
            return {}
        return {name: m.namespace for name, m in sorted(self.models.items()) if m.cache == "shared"}

    @property
    def built_images(self) -> list[str]:
        return self.registry.built_images

    def engine_image_built(self, engine: str) -> bool:
        return ENGINES[engine].image in self.built_images

    @property
    def batch_namespaces(self) -> list[str]:
        """Workload namespaces that submit to a batch queue (a LocalQueue each; Kueue manages
        Jobs only there)."""
        return sorted(n for n, ns in self.namespaces.items() if ns.queues) if self.batch.enabled else []

    def queue_namespaces(self, queue: str) -> list[str]:
        """The namespaces with a LocalQueue for ``queue`` (its ClusterQueue admits only these)."""
        return sorted(n for n, ns in self.namespaces.items() if queue in ns.queues)

    def queue_gpus(self, queue: str) -> int:
        """A queue's nominal GPU quota: its own, else what its pool's GPU cap leaves once the
        pool's fleets hold their minimum replicas (a quota over that admits jobs that stay Pending)."""
        q = self.batch.queues[queue]
        free = self.node_pools[q.pool].schedulable_gpus - self.pool_serving_gpus(q.pool)
        return q.gpus if q.gpus is not None else max(0, free)

    def pool_serving_gpus(self, pool: str) -> int:
        """GPUs the pool's fleets hold at their minimum replicas (never released to batch jobs)."""
        return sum(m.replicas.min * m.gpus_per_replica for m in self.models.values() if m.pool == pool)

    def job_image_built(self, name: str) -> bool:
        return self.jobs[name].image in self.built_images

    def job_hf_token_key(self, name: str) -> str | None:
        """The secret config key whose token job ``name`` mounts (its own, else ``hfToken``)."""
        own = self.jobs[name].hf_token_secret
        return own or (HF_TOKEN_KEY if HF_TOKEN_KEY in self.secret_keys else None)

    @property
    def grafana_admin_key(self) -> str | None:
        """The secret config key holding Grafana's admin password, when set (else the chart
        generates one in-cluster, never in Pulumi state)."""
        return GRAFANA_ADMIN_KEY if GRAFANA_ADMIN_KEY in self.secret_keys else None

    @property
    def queue_metrics_external(self) -> bool:
        return self.monitoring.queue_metrics_external

    @property
    def external_prometheus_port(self) -> int | None:
        return self.monitoring.external_prometheus_port

    @property
    def scrape_namespace(self) -> str | None:
        return self.monitoring.scrape_namespace

    def fleet_secret_keys(self, name: str) -> FleetSecretKeys:
        """Which secret config keys feed fleet ``name``: its API key, and the Hugging Face token
        (its own key wins over the stack-wide ``hfToken``; only engines that stage from the Hub)."""
        spec = self.models[name]
        hf_token = spec.hf_token_secret or (HF_TOKEN_KEY if HF_TOKEN_KEY in self.secret_keys else None)
        return FleetSecretKeys(api_key=spec.api_key_secret, hf_token=hf_token if spec.engine_record.hf_token else None)

    def generates_api_key(self, name: str) -> bool:
        """With ``platform.generateApiKeys`` (prod's default) no API is unauthenticated: a fleet
        whose engine takes an API key and that names no ``apiKeySecret`` gets a generated one (a
        ``random`` password, a Secret, the ``modelApiKeys`` secret output). The dev preset keeps
        the choice (and the real-engine e2e, which has no ``random`` provider, creates none)."""
        spec = self.models[name]
        return (
            self.platform.generate_api_keys and spec.api_key_secret is None and spec.engine_record.capabilities.api_key
        )

    def chart_digests(self, chart: str) -> dict[str, str]:
        """The digests ``chart``'s images run by (empty: the chart's tags)."""
        return self.chart_digest_keys.get(chart, ("", {}))[1]

    @property
    def all_chart_digests(self) -> dict[str, dict[str, str]]:
        """``chart_digests`` of every chart the stack installs, by chart name."""
        return {chart: digests for chart, (_, digests) in self.chart_digest_keys.items()}

    @property
    def chart_installs(self) -> dict[str, bool]:
        """Whether the program installs each chart whose condition the settings know (its layers'
        conditions in ``__main__.py``, before ``addons.<chart>.install: false``). A plain Helm
        add-on not named here runs when its record's ``enabled`` says (components/specs/addons)."""
        s, m = self, self.monitoring
        return {
            "cluster-autoscaler": s.on_aws,
            "nvidia-device-plugin": s.gpu.stack == "device-plugin",
            "gpu-operator": s.gpu.stack == "gpu-operator",
            "local-static-provisioner": s.storage.nvme.enabled,
            "csi-driver-nfs": s.storage.shared.backend == "nfs",
            "keda": s.needs_keda,
            "metrics-server": s.needs_metrics_server,
            "kube-prometheus-stack": m.enabled,
            "dcgm-exporter": m.enabled and m.dcgm and s.gpu.stack == "device-plugin",
            "kueue": s.batch.enabled,
            "tailscale-operator": s.tailscale_operator,
            "agentgateway": s.gateway.enabled,
        }

    @property
    def chart_digest_keys(self) -> dict[str, tuple[str, dict[str, str]]]:
        """Chart -> (its settings key, the digests given) for each chart with pinnable images the
        stack installs, and for each other chart with images whose ``addons.<chart>`` the stack
        sets (a plain add-on's: the generic layer pins its release by them and requires them in
        prod when the record runs it, ``components/specs/addons.digest_problems``)."""
        found: dict[str, tuple[str, dict[str, str]]] = {}
        installs = self.chart_installs
        for chart, installed in installs.items():
            if not installed or chart in self.preinstalled or chart not in CHART_IMAGES:
                continue
            if chart == "tailscale-operator":
                found[chart] = ("tailscale.operator.imageDigests", dict(self.tailscale.operator.image_digests))
            else:
                addon = self.addons.get(chart)
                found[chart] = (f"addons.{chart}.imageDigests", dict(addon.image_digests) if addon else {})
        for chart, given in self.addons.items():
            if chart not in installs and chart in CHART_IMAGES and given.install:
                found[chart] = (f"addons.{chart}.imageDigests", dict(given.image_digests))
        return found

    def missing_chart_digests(self, chart: str, key: str, digests: Mapping[str, str]) -> list[Problem]:
        """Prod's requirement for one installed chart: a digest at ``key`` for every image of it
        that runs with these settings (``rules/charts.py``; a plain add-on's in its layer). None
        outside prod."""
        if not self.is_prod:
            return []
        return [
            (
                f"{key}.{image.name}",
                f"is required in prod: the sha256 digest of {image.repository} at the tag chart {chart} "
                "runs (crane digest <repository>:<tag>); prod runs chart images by digest",
            )
            for image in CHART_IMAGES.get(chart, ())
            if image.name not in digests and (image.runs is None or image.runs(self))
        ]

    @property
    def clamps(self) -> list[Problem]:
        """Values the platform changes from what the settings say, and why (shown in the plan)."""
        return [
            (f"nodePools.{name}.maxSize", clamp)
            for name, pool in sorted(self.node_pools.items())
            if (clamp := pool.clamp) is not None
        ]
