"""The whole stack's settings: every section, the rules that span sections, and derived facts.

Derived facts (which system namespaces exist, whether KEDA is needed, which secret config key
feeds which fleet) are properties here, so ``__main__.py`` only wires components and every
decision is testable without the mock engine.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from components.core.chart_images import CHART_IMAGES, DIGEST, PLACEHOLDER_DIGEST
from components.core.charts import ADDON_CHARTS
from components.core.cold_start import budget_problems, budget_warnings
from components.core.engines import ENGINES
from components.core.gpu_instances import GPU_INSTANCES
from components.core.prices import on_demand_price
from components.core.quantities import cores, gib
from components.core.settings.base import AwsTagValue, Environment, K8sName, Problem, Quantity, Settings, check
from components.core.settings.batch import BatchSettings, JobSpec
from components.core.settings.capacity import capacity_problems, capacity_warnings
from components.core.settings.cluster import ClusterSettings
from components.core.settings.engines import engine_problems
from components.core.settings.fit import fit_problems, fit_warnings
from components.core.settings.gateway import GATEWAY_NAMESPACE, GatewaySettings, gateway_problems, gateway_warnings
from components.core.settings.models import ModelImages, ModelSpec
from components.core.settings.pools import GpuSoftwareSettings, NodePoolSettings
from components.core.settings.registry import IMAGE_NAMES, RegistrySettings
from components.core.settings.storage import STORAGE_CLASSES, NamespaceSettings, StorageSettings
from components.core.settings.tailscale import (
    GPU_NODE_TAG,
    MODEL_TAG,
    MONITORING_TAG,
    OAUTH_SECRET_KEYS,
    ROUTER_TAG,
    TailscaleSettings,
    env_tag,
)

HF_TOKEN_KEY = "hfToken"
"""The stack-wide Hugging Face token (a ``--secret`` config key)."""
MONITORING_NAMESPACE = "monitoring"
"""The monitoring stack's namespace (its Pod Security exception is listed by this name)."""
GRAFANA_ADMIN_KEY = "grafanaAdminPassword"
"""Grafana's admin password (a ``--secret`` config key; optional)."""
KUEUE_NAMESPACE = "kueue-system"
"""Where Kueue's controller runs (batch.enabled)."""
METRICS_SERVER_NAMESPACE = "metrics-server"
"""Where metrics-server runs (a fleet autoscales on CPU)."""


Severity = Literal["critical", "warning"]
SEVERITIES: tuple[Severity, ...] = ("critical", "warning")


ReceiverType = Literal["slack", "pagerduty", "webhook"]


class AlertReceiverSettings(Settings):
    """One Alertmanager receiver, rendered with its own integration: ``slack`` (an incoming-webhook
    URL: ``slack_configs.api_url``), ``pagerduty`` (an Events API v2 routing key:
    ``pagerduty_configs.routing_key``) or ``webhook`` (Alertmanager's own JSON POSTed to a URL:
    ``webhook_configs.url``). A Slack or PagerDuty URL behind ``webhook`` would reach nobody: they
    do not read Alertmanager's payload."""

    type: ReceiverType = "webhook"
    webhook_url_secret: str | None = Field(None, min_length=1)
    """Name of a ``--secret`` config key holding the URL (``slack``, ``webhook``; URLs carry tokens)."""
    routing_key_secret: str | None = Field(None, min_length=1)
    """Name of a ``--secret`` config key holding the PagerDuty integration (routing) key."""
    severities: list[Severity] = Field(default_factory=lambda: list(SEVERITIES))

    @property
    def secret_key(self) -> str:
        """The config key of the one secret this receiver's type reads."""
        key = self.routing_key_secret if self.type == "pagerduty" else self.webhook_url_secret
        assert key is not None  # the validator below guarantees it
        return key

    @model_validator(mode="after")
    def _secret_for_the_type(self) -> AlertReceiverSettings:
        wanted, other = (
            ("routingKeySecret", "webhookUrlSecret")
            if self.type == "pagerduty"
            else ("webhookUrlSecret", "routingKeySecret")
        )
        present = {"webhookUrlSecret": self.webhook_url_secret, "routingKeySecret": self.routing_key_secret}
        problems: list[Problem] = []
        if present[wanted] is None:
            problems.append((wanted, f"is required for type {self.type} (allowed types: slack, pagerduty, webhook)"))
        if present[other] is not None:
            problems.append((other, f"is not read by type {self.type}: set {wanted} instead"))
        check(problems)
        return self


class MonitoringSettings(Settings):
    enabled: bool = False
    """Run the monitoring stack (Prometheus Operator, Prometheus, Alertmanager, Grafana, GPU and
    cost exporters, our alerts and dashboards) in ``namespace``."""
    prometheus_url: str | None = None
    """An existing Prometheus outside this stack that KEDA reads queue depth from (instead of,
    or without, the monitoring stack)."""
    namespace: K8sName = MONITORING_NAMESPACE
    """Where Prometheus runs (admitted to fleets' /metrics): always ``monitoring`` for the stack's
    own; the namespace of an external Prometheus otherwise."""
    retention: str = Field("15d", pattern=r"^[0-9]+(ms|s|m|h|d|w|y)$")
    """How long Prometheus keeps samples (its ``--storage.tsdb.retention.time``)."""
    storage_size: Quantity = "50Gi"
    """Prometheus's persistent volume (on the default class: gp3 on EKS)."""
    alert_receivers: dict[K8sName, AlertReceiverSettings] = Field(default_factory=dict)
    ttft_p95_seconds: float = Field(2.5, gt=0)
    """Time-to-first-token SLO: alert when a model's p95 stays above it. Only a bucket boundary of
    each fleet's engine's TTFT histogram (``settings/engines.py``): between two boundaries
    histogram_quantile interpolates, and the interpolation, not latency, would decide pages."""
    runbook_base_url: str | None = Field(None, pattern=r"^https://[^\s#]+$")
    """Where the alerts' runbooks live (each alert's ``runbook_url`` is ``<url>#<alert name>``);
    unset: alerts carry their ``description`` only."""
    gpu_idle_hours: float = Field(2.0, gt=0)
    """Alert when a billed GPU node's GPUs stay idle this long."""
    dcgm: bool = True
    """GPU metrics from NVIDIA's DCGM exporter (the GPU operator's own when that stack runs)."""
    opencost: bool = True
    """OpenCost: cost allocation per namespace and pod from this Prometheus."""


AddonName = Literal[ADDON_CHARTS]  # type: ignore[valid-type]
"""The charts the program may install (components/core/charts.py), by chart name."""


class AddonSettings(Settings):
    install: bool = True
    """False: the cluster already runs this operator (its CRDs included), so the program installs
    no chart for it but still creates its own objects for it (ServiceMonitors, queues...)."""
    image_digests: dict[str, str] = Field(default_factory=dict)
    """Image name (``components/core/chart_images.py``) -> ``sha256:...`` the chart runs it by;
    required in prod for every image listed there."""


class CostSettings(Settings):
    budget_usd_per_hour: float | None = Field(None, gt=0)
    """The most this stack may cost per hour at max scale (list prices); the prod policy pack
    refuses a plan over it."""


@dataclass(frozen=True)
class FleetSecretKeys:
    """The secret config keys one fleet reads (None: the fleet gets no such Secret)."""

    api_key: str | None
    hf_token: str | None


class StackSettings(Settings):
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
        """Local PV provisioner or the NFS CSI driver run in ``storage-system``."""
        return self.storage.nvme.enabled or self.storage.shared.backend == "nfs"

    @property
    def tailscale_operator(self) -> bool:
        """The Tailscale operator runs (the mesh is on and its operator not switched off)."""
        return self.tailscale.enabled and self.tailscale.operator.enabled

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
    def system_namespaces(self) -> list[str]:
        """System namespaces this stack creates (sorted)."""
        wanted = {
            "gpu-system": True,
            "tailscale": self.tailscale_operator,
            "autoscaler": self.on_aws,
            "storage-system": self.needs_storage_system,
            "keda": self.needs_keda,
            METRICS_SERVER_NAMESPACE: self.needs_metrics_server,
            MONITORING_NAMESPACE: self.monitoring.enabled,
            KUEUE_NAMESPACE: self.batch.enabled,
            GATEWAY_NAMESPACE: self.gateway.enabled,
        }
        return sorted(name for name, needed in wanted.items() if needed)

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
        """Images this stack builds and pushes (their consumers get digests)."""
        return list(self.registry.build) if self.registry.enabled else []

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
        return q.gpus if q.gpus is not None else max(0, self.pool_gpu_cap(q.pool) - self.pool_serving_gpus(q.pool))

    def pool_serving_gpus(self, pool: str) -> int:
        """GPUs the pool's fleets hold at their minimum replicas (never released to batch jobs)."""
        return sum(m.replicas.min * m.gpus_per_replica for m in self.models.values() if m.pool == pool)

    def pool_gpu_cap(self, pool: str) -> int:
        """GPUs the pool can ever hold (nodes at its capped maximum times GPUs per node)."""
        p = self.node_pools[pool]
        return p.max_nodes * p.gpus_per_node

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
        """KEDA reads an external Prometheus (``monitoring.prometheusUrl``), not the stack's own."""
        return self.monitoring.prometheus_url is not None

    @property
    def external_prometheus_port(self) -> int | None:
        """The port KEDA queries an external Prometheus on (``monitoring.prometheusUrl``), if any."""
        url = self.monitoring.prometheus_url
        if url is None:
            return None
        parsed = urlsplit(url)
        return parsed.port or (443 if parsed.scheme == "https" else 80)

    @property
    def scrape_namespace(self) -> str | None:
        """Prometheus's namespace when monitoring is on (admitted to /metrics), else None."""
        return self.monitoring.namespace if self.monitoring.enabled else None

    def fleet_secret_keys(self, name: str) -> FleetSecretKeys:
        """Which secret config keys feed fleet ``name``: its API key, and the Hugging Face token
        (its own key wins over the stack-wide ``hfToken``; only engines that stage from the Hub)."""
        spec = self.models[name]
        hf_token = spec.hf_token_secret or (HF_TOKEN_KEY if HF_TOKEN_KEY in self.secret_keys else None)
        return FleetSecretKeys(api_key=spec.api_key_secret, hf_token=hf_token if spec.engine_record.hf_token else None)

    def generates_api_key(self, name: str) -> bool:
        """Prod never serves an unauthenticated API: a fleet whose engine takes an API key and
        that names no ``apiKeySecret`` gets a generated one (a ``random`` password, a Secret,
        the ``modelApiKeys`` secret output). Dev keeps the choice (and the real-engine e2e,
        which has no ``random`` provider, creates none)."""
        spec = self.models[name]
        return self.is_prod and spec.api_key_secret is None and spec.engine_record.capabilities.api_key

    def chart_digests(self, chart: str) -> dict[str, str]:
        """The digests ``chart``'s images run by (empty: the chart's tags)."""
        return chart_digest_keys(self).get(chart, ("", {}))[1]

    @property
    def all_chart_digests(self) -> dict[str, dict[str, str]]:
        """``chart_digests`` of every chart the stack installs, by chart name."""
        return {chart: digests for chart, (_, digests) in chart_digest_keys(self).items()}

    @property
    def clamps(self) -> list[Problem]:
        """Values the platform changes from what the settings say, and why (shown in the plan)."""
        found: list[Problem] = []
        for name, pool in sorted(self.node_pools.items()):
            if pool.instances and pool.max_nodes < pool.max_size:
                found.append(
                    (
                        f"nodePools.{name}.maxSize",
                        f"{pool.max_size} -> {pool.max_nodes}: capped by gpuCap {pool.effective_gpu_cap} "
                        f"({pool.gpus_per_node} GPU(s) per node)",
                    )
                )
        return found

    @property
    def warnings(self) -> list[Problem]:
        """Valid but almost certainly not what was meant; the program logs them, the plan prints them."""
        found: list[Problem] = []
        eks = self.cluster.eks if self.on_aws else None
        if eks and eks.endpoint_public_access and all(_documentation_range(c) for c in eks.public_access_cidrs):
            found.append(
                (
                    "cluster.eks.publicAccessCidrs",
                    "lists only documentation ranges (RFC 5737/3849/9637): nobody can reach the API endpoint; "
                    "put your own egress CIDRs here",
                )
            )
        found += capacity_warnings(self)
        found += _tailscale_warnings(self)
        for chart, (key, digests) in chart_digest_keys(self).items():
            for image, digest in sorted(digests.items()):
                if digest == PLACEHOLDER_DIGEST:
                    found.append(
                        (
                            f"{key}.{image}",
                            f"is the all-zero placeholder: replace it with the real digest of {chart}'s {image} "
                            "image before `pulumi up` (a placeholder cannot be pulled)",
                        )
                    )
        found += fit_warnings(self)
        found += budget_warnings(self)
        found += gateway_warnings(self)
        for ns in self.cache_namespaces:
            if not self.cache_filled(ns):
                found.append(
                    (
                        f"namespaces.{ns}.modelCache",
                        f"nothing fills this cache (no shared-cache fleet runs in {ns}, no "
                        "storage.shared.nfs.existingModelsPath): its claim stays empty; set modelCache: false",
                    )
                )
        for name, q in sorted(self.batch.queues.items() if self.batch.enabled else []):
            if q.pool in self.node_pools and self.queue_gpus(name) == 0:
                found.append(
                    (
                        f"batch.queues.{name}.gpus",
                        f"is 0: pool {q.pool}'s fleets hold its whole GPU cap ({self.pool_gpu_cap(q.pool)}) at min "
                        f"replicas, so the queue admits no GPU job; raise nodePools.{q.pool}.gpuCap and maxSize",
                    )
                )
        if not self.monitoring.enabled:
            found.append(
                (
                    "monitoring.enabled",
                    "is false: no metrics, alerts, dashboards or cost allocation in this stack, and nothing "
                    "autoscales on queue depth",
                )
            )
        return found

    # -- rules across sections -----------------------------------------------------------------

    @model_validator(mode="after")
    def _cross_section(self) -> StackSettings:
        problems: list[Problem] = []
        eks = self.cluster.eks if self.on_aws else None
        if self.is_prod and eks and eks.endpoint_public_access:
            problems.append(("cluster.eks.endpointPublicAccess", "must be false in prod (reach it over the tailnet)"))
        if self.is_prod and eks and not eks.admin_principal_arns:
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
            region = eks.region if eks else None
            for i, t in enumerate(pool.instance_types if region else []):
                if t in GPU_INSTANCES and region and on_demand_price(t, region) is None:
                    problems.append(
                        (
                            f"nodePools.{name}.instanceTypes[{i}]",
                            f"{t} has no list price in {region} (not offered there): pick another type or region",
                        )
                    )
            if pool.machine is not None and self.on_aws:
                problems.append(
                    (f"nodePools.{name}.machine", "describes existing machines; EKS pools take instanceTypes")
                )
            if self.is_prod and pool.purpose == "serving" and pool.capacity_type == "SPOT" and pool.min_size < 2:
                problems.append((f"nodePools.{name}.minSize", "a spot serving pool in prod needs at least 2 nodes"))
            if pool.nvme == "local-pv" and not self.storage.nvme.enabled:
                problems.append((f"nodePools.{name}.nvme", "local-pv needs storage.nvme.enabled: true"))
        host_plugin = sorted(n for n, p in self.node_pools.items() if p.host_device_plugin)
        if host_plugin and self.gpu.stack == "gpu-operator":
            problems.append(
                (
                    "gpu.stack",
                    f"gpu-operator would add a second device plugin on Bottlerocket pools ({', '.join(host_plugin)}); "
                    "use device-plugin or AL2023 pools",
                )
            )
        if self.monitoring.enabled and self.monitoring.namespace != MONITORING_NAMESPACE:
            problems.append(
                ("monitoring.namespace", f"the monitoring stack runs in {MONITORING_NAMESPACE}; remove namespace")
            )
        if not self.monitoring.enabled:
            if self.monitoring.alert_receivers:
                problems.append(("monitoring.alertReceivers", "apply only when monitoring.enabled is true"))
            if GRAFANA_ADMIN_KEY in self.secret_keys:
                problems.append((GRAFANA_ADMIN_KEY, "applies only when monitoring.enabled is true (it sets Grafana's)"))
        problems += _registry_problems(self)
        problems += _batch_problems(self)
        problems += _tailscale_problems(self)
        problems += _chart_digest_problems(self)
        problems += _storage_problems(self)
        problems += capacity_problems(self)
        problems += fit_problems(self)
        problems += engine_problems(self)
        problems += budget_problems(self)
        problems += gateway_problems(self)
        for name, spec in self.models.items():
            problems += [(f"models.{name}.{p}", m) for p, m in _model_problems(self, spec)]
        check(problems)
        return self


DOCUMENTATION_RANGES = tuple(
    ipaddress.ip_network(c) for c in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20")
)
"""RFC 5737 (IPv4), RFC 3849 and RFC 9637 (IPv6): reserved for examples, routed nowhere."""


def _documentation_range(cidr: str) -> bool:
    network = ipaddress.ip_network(cidr)
    return any(network.version == d.version and network.subnet_of(d) for d in DOCUMENTATION_RANGES)  # type: ignore[arg-type]


def _registry_problems(s: StackSettings) -> list[Problem]:
    """ECR on EKS, a host of your own elsewhere; prod runs published images only by digest."""
    problems: list[Problem] = []
    reg = s.registry
    if s.on_aws and reg.host is not None:
        problems.append(("registry.host", "applies to existing clusters; on EKS the registry is ECR"))
    if not s.on_aws and reg.enabled:
        if reg.host is None:
            problems.append(("registry.host", "is required on an existing cluster with registry.enabled"))
        if reg.build and not (reg.username and reg.password_secret):
            problems.append(
                ("registry.build", "needs registry.username and registry.passwordSecret to push on an existing cluster")
            )
    if s.is_prod:
        for engine in sorted({m.engine for m in s.models.values()}):
            image = s.model_images.for_engine(engine)
            folder = ENGINES[engine].image
            if not s.engine_image_built(engine) and "@sha256:" not in image:
                build = f", or built here: registry.build: [{folder}]" if folder else ""
                problems.append((f"modelImages.{engine}", f"must be pinned by digest in prod (name@sha256:...){build}"))
    return problems


def chart_digest_keys(s: StackSettings) -> dict[str, tuple[str, dict[str, str]]]:
    """Chart -> (its settings key, the digests given) for each chart with pinnable images the
    stack installs."""
    found: dict[str, tuple[str, dict[str, str]]] = {}
    m = s.monitoring
    # When __main__.py installs each chart (its layers' conditions).
    installs = {
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
    for chart, installed in installs.items():
        if not installed or chart in s.preinstalled or chart not in CHART_IMAGES:
            continue
        if chart == "tailscale-operator":
            found[chart] = ("tailscale.operator.imageDigests", dict(s.tailscale.operator.image_digests))
        else:
            addon = s.addons.get(chart)
            found[chart] = (f"addons.{chart}.imageDigests", dict(addon.image_digests) if addon else {})
    return found


def _chart_digest_problems(s: StackSettings) -> list[Problem]:
    """Known image names, digest syntax; in prod a digest for every image of every chart installed."""
    problems: list[Problem] = []
    given = {f"addons.{name}.imageDigests": (name, dict(a.image_digests)) for name, a in s.addons.items()}
    given["tailscale.operator.imageDigests"] = ("tailscale-operator", dict(s.tailscale.operator.image_digests))
    for key, (chart, digests) in given.items():
        names = [i.name for i in CHART_IMAGES.get(chart, ())]
        for image_name, digest in digests.items():
            if image_name not in names:
                problems.append((f"{key}.{image_name}", f"is not an image of chart {chart}: one of {names or 'none'}"))
            elif not DIGEST.match(digest):
                problems.append((f"{key}.{image_name}", "must be a digest: sha256: and 64 hex digits"))
    if s.is_prod:
        for chart, (key, digests) in chart_digest_keys(s).items():
            for image in CHART_IMAGES[chart]:
                if image.name not in digests:
                    problems.append(
                        (
                            f"{key}.{image.name}",
                            f"is required in prod: the sha256 digest of {image.repository} at the tag chart {chart} "
                            "runs (crane digest <repository>:<tag>); prod runs chart images by digest",
                        )
                    )
    return problems


def _tailscale_warnings(s: StackSettings) -> list[Problem]:
    """Who owns the tailnet: loud when this stack replaces its policy, and what a sharing stack
    needs from the owner; everyone in the tailnet reaching prod's models."""
    ts = s.tailscale
    if not ts.enabled:
        return []
    found: list[Problem] = []
    if ts.policy == "own":
        found.append(
            (
                "tailscale.policy",
                f"is own: `pulumi up` REPLACES THE WHOLE TAILNET POLICY FILE of {ts.tailnet} (adopting the "
                "console's) and sets tailnet-wide settings (HTTPS, MagicDNS, split DNS"
                + (", device approval on" if s.is_prod else "")
                + "); every other stack on this tailnet must use tailscale.policy: shared",
            )
        )
    else:
        tags = sorted(s.tailscale_tag_owners)
        routes = s.subnet_routes
        found.append(
            (
                "tailscale.policy",
                f"is shared: this stack writes no policy; the owning stack's policy must own tags {tags}"
                + (f" and auto-approve routes {routes} for tag:subnet-router" if routes else ""),
            )
        )
    if s.is_prod and "autogroup:member" in ts.access.models:
        found.append(
            (
                "tailscale.access.models",
                "lists autogroup:member: every member of the tailnet may call prod's models; name a group instead",
            )
        )
    return found


def _tailscale_problems(s: StackSettings) -> list[Problem]:
    """The mesh: on only with its tailnet, credentials and admins; tailnet fleets need it; every
    tag a key uses has an owner. Secret values are never read here, only whether they were given."""
    ts = s.tailscale
    problems: list[Problem] = []
    if not ts.enabled:
        for name in s.tailnet_fleets:
            problems.append((f"models.{name}.exposure", "tailnet needs tailscale.enabled: true (or use cluster)"))
        for key in OAUTH_SECRET_KEYS:
            if key in s.secret_keys:
                problems.append((key, "applies only when tailscale.enabled is true"))
        return problems
    if ts.tailnet is None:
        problems.append(
            ("tailscale.tailnet", "is required when tailscale.enabled: the tailnet's DNS name, tail1234.ts.net")
        )
    for key in OAUTH_SECRET_KEYS:
        if key not in s.secret_keys:
            problems.append(
                (
                    key,
                    "is required when tailscale.enabled: the OAuth client's credentials, `pulumi config set --secret`",
                )
            )
    if not ts.access.admins:
        problems.append(
            ("tailscale.access.admins", "must name at least one group:/autogroup: that administers the mesh")
        )
    if ts.access.admins and ts.ssh.enabled and not any(a.startswith("group:") for a in ts.access.admins):
        # sshTests take users or groups, never autogroups: without a group the policy's ssh rules
        # go untested, which Tailscale accepts but the pack (rule 70) refuses.
        problems.append(
            (
                "tailscale.access.admins",
                "must include a group: while tailscale.ssh.enabled (sshTests test SSH from a group; autogroups "
                "cannot be tested): add a group, or set ssh.enabled: false",
            )
        )
    if s.tailnet_fleets and not ts.access.models:
        problems.append(("tailscale.access.models", f"must name who may call the tailnet models {s.tailnet_fleets}"))
    if s.tailnet_fleets and not ts.operator.enabled:
        problems.append(
            ("tailscale.operator.enabled", f"must be true: models {s.tailnet_fleets} are exposed on the tailnet")
        )
    if s.tailnet_fleets and not ts.magic_dns:
        problems.append(("tailscale.magicDns", "must be true: tailnet models are reached by their ts.net names"))
    if s.monitoring.enabled and s.tailscale_operator and not ts.access.monitoring:
        problems.append(("tailscale.access.monitoring", "must name who may open Grafana over the tailnet"))
    router = ts.subnet_router
    if router.enabled and not ts.operator.enabled:
        problems.append(("tailscale.subnetRouter.enabled", "the subnet router is a Connector the operator runs"))
    elif router.enabled and not s.on_aws and not router.routes:
        problems.append(("tailscale.subnetRouter.routes", "must list the CIDRs to advertise on an existing cluster"))
    owned = s.tailscale_tag_owners
    for name, auth_key in ts.auth_keys.items():
        for i, tag in enumerate(auth_key.tags):
            if tag not in owned:
                problems.append(
                    (
                        f"tailscale.authKeys.{name}.tags[{i}]",
                        "has no owner: add it to tailscale.tagOwners (or use tag:gpu-node)",
                    )
                )
    return problems


def _storage_problems(s: StackSettings) -> list[Problem]:
    """Storage rules that span sections: the cache class exists and fits the fleets, NVMe has a pool."""
    problems: list[Problem] = []
    classes = s.storage_classes
    if s.cache_namespaces and s.storage.model_cache_class not in classes:
        problems.append(
            ("storage.modelCacheClass", f"must be a StorageClass this stack creates: {sorted(classes) or 'none'}")
        )
    elif s.cache_namespaces and classes.get(s.storage.model_cache_class) == "ReadWriteOnce":
        shared_multi = [n for n, m in s.models.items() if m.cache == "shared" and m.replicas.max > 1]
        if shared_multi:
            problems.append(
                (
                    "storage.modelCacheClass",
                    f"is ReadWriteOnce but models {', '.join(sorted(shared_multi))} run more than one "
                    "replica on the shared cache; use shared-models",
                )
            )
    nfs = s.storage.shared.nfs
    if nfs is not None and nfs.existing_models_path:
        if s.storage.shared.backend != "nfs":
            problems.append(
                ("storage.shared.nfs.existingModelsPath", "applies only when storage.shared.backend is nfs")
            )
        elif s.storage.model_cache_class != "shared-models":
            problems.append(
                (
                    "storage.shared.nfs.existingModelsPath",
                    "binds the model-cache claims, so storage.modelCacheClass must be shared-models",
                )
            )
    if s.storage.nvme.enabled and not s.local_pv_pools:
        problems.append(
            ("storage.nvme.enabled", "needs at least one node pool with nvme: local-pv (raw instance-store disks)")
        )
    return problems


HF_COMMIT = re.compile(r"[0-9a-f]{40}")
"""A Hugging Face Hub commit: the only revision that cannot change upstream."""


def _model_problems(s: StackSettings, spec: ModelSpec) -> list[Problem]:
    """Cross-field rules of one model spec against the namespaces, pools and storage it names."""
    problems: list[Problem] = []
    if spec.namespace not in s.namespaces:
        problems.append(("namespace", f"must be one of namespaces: {sorted(s.namespaces)}"))
    elif spec.cache == "shared" and not s.namespaces[spec.namespace].model_cache:
        problems.append(("cache", f"shared needs namespaces.{spec.namespace}.modelCache: true"))
    pool = s.node_pools.get(spec.pool)
    if pool is None:
        problems.append(("pool", f"must name a node pool: {sorted(s.node_pools)}"))
    elif pool.instances:
        per_node = pool.gpus_per_node
        if spec.gpus_per_replica > per_node:
            problems.append(
                (
                    "gpusPerReplica",
                    f"{spec.gpus_per_replica} must fit one node of pool {spec.pool} ({per_node} GPU(s) per node; "
                    "tensor parallelism cannot span nodes)",
                )
            )
        elif spec.gpus_per_replica and per_node % spec.gpus_per_replica:
            problems.append(
                ("gpusPerReplica", f"{spec.gpus_per_replica} must divide the pool's {per_node} GPU(s) per node")
            )
    if spec.replicas.max > 1 and spec.cache == "shared" and s.storage.shared.backend == "none":
        problems.append(
            (
                "cache",
                "replicas > 1 with a shared cache needs a ReadWriteMany class (storage.shared.backend efs or nfs)",
            )
        )
    if (
        spec.autoscaled
        and spec.engine_record.autoscaler == "keda"
        and not (s.monitoring.enabled or s.monitoring.prometheus_url)
    ):
        problems.append(
            (
                "replicas.max",
                "autoscaling on queue depth reads Prometheus, and this stack has none: set monitoring.enabled: "
                "true, or monitoring.prometheusUrl to an existing Prometheus (or replicas.max to replicas.min)",
            )
        )
    if s.is_prod and "revision" in spec.engine_record.options and not HF_COMMIT.fullmatch(spec.revision or ""):
        # A branch or tag (``main``) can move upstream between two scale-ups: replicas of one
        # fleet would serve different weights, and nobody reviewed the change.
        problems.append(
            (
                "revision",
                "must be the model repository's 40-hex commit SHA in prod (the Hub's 'Files and versions' "
                "history), not a branch or tag",
            )
        )
    if spec.cache == "local-nvme" and not s.storage.nvme.enabled:
        problems.append(("cache", "local-nvme needs storage.nvme.enabled: true"))
    if spec.cache == "local-nvme" and pool is not None and pool.nvme != "local-pv":
        problems.append(("cache", f"local-nvme needs pool {spec.pool} with nvme: local-pv"))
    return problems


def _batch_problems(s: StackSettings) -> list[Problem]:
    """Queues fit their pools, namespaces opt into queues that exist, jobs fit queue, pool and quota."""
    problems: list[Problem] = []
    known = s.batch.queues if s.batch.enabled else {}
    for ns_name, ns in sorted(s.namespaces.items()):
        for i, queue in enumerate(ns.queues):
            if queue not in known:
                allowed = sorted(known) or "none (set batch.enabled and batch.queues)"
                problems.append((f"namespaces.{ns_name}.queues[{i}]", f"must name a batch queue: {allowed}"))
    by_pool: dict[str, list[str]] = {}
    for name, q in sorted(known.items()):
        pool = s.node_pools.get(q.pool)
        if pool is None or not pool.instances:
            problems.append((f"batch.queues.{name}.pool", f"must name a node pool: {sorted(s.node_pools)}"))
            continue
        by_pool.setdefault(q.pool, []).append(name)
        cap, serving = s.pool_gpu_cap(q.pool), s.pool_serving_gpus(q.pool)
        if q.gpus is not None and q.gpus + serving > cap:
            problems.append((f"batch.queues.{name}.gpus", _over_cap(s, q.pool, f"queue {name}'s {q.gpus}", q.gpus)))
        if not s.queue_namespaces(name):
            problems.append(
                (f"batch.queues.{name}", "no namespace submits to it: list it in namespaces.<namespace>.queues")
            )
    for pool_name, queues in sorted(by_pool.items()):
        cap, serving = s.pool_gpu_cap(pool_name), s.pool_serving_gpus(pool_name)
        total = sum(s.queue_gpus(q) for q in queues)
        if len(queues) > 1 and total + serving > cap:
            shares = " + ".join(f"{q} {s.queue_gpus(q)}" for q in queues)
            problems.append(
                (
                    f"batch.queues.{queues[-1]}.gpus",
                    _over_cap(s, pool_name, f"queues {shares}", total)
                    + ("; give each queue a gpus share" if any(known[q].gpus is None for q in queues) else ""),
                )
            )
    for name, job in sorted(s.jobs.items()):
        problems += [(f"jobs.{name}.{p}", m) for p, m in _job_problems(s, name, job)]
    return problems


def _over_cap(s: StackSettings, pool_name: str, queues: str, queue_gpus: int) -> str:
    """Why queue quotas on a pool cannot all be used: the pool's fleets at min replicas hold GPUs
    that Kueue does not see, so jobs it admits past what is left stay Pending."""
    cap, serving = s.pool_gpu_cap(pool_name), s.pool_serving_gpus(pool_name)
    fleets = ", ".join(
        f"{n} {m.replicas.min * m.gpus_per_replica}" for n, m in sorted(s.models.items()) if m.pool == pool_name
    )
    held = f"its fleets hold {serving} at min replicas ({fleets}) and " if serving else ""
    return (
        f"pool {pool_name} holds {cap} GPU(s) (nodePools.{pool_name}.gpuCap / maxSize); {held}{queues} GPU(s) "
        f"of quota make {serving + queue_gpus}, so Kueue would admit jobs the pool has no GPUs for (they stay "
        f"Pending): "
        f"lower the quota to {max(0, cap - serving)} in all or raise nodePools.{pool_name}.gpuCap and maxSize"
    )


def _job_problems(s: StackSettings, name: str, job: JobSpec) -> list[Problem]:
    problems: list[Problem] = []
    if not s.batch.enabled:
        return [("queue", "jobs need batch.enabled: true (Kueue admits them)")]
    ns = s.namespaces.get(job.namespace)
    if ns is None:
        problems.append(("namespace", f"must be one of namespaces: {sorted(s.namespaces)}"))
    elif job.queue not in ns.queues:
        problems.append(
            (
                "queue",
                f"namespace {job.namespace} has no queue {job.queue}: add it to namespaces.{job.namespace}.queues",
            )
        )
    if job.image in IMAGE_NAMES:
        if not s.job_image_built(name):
            problems.append(
                ("image", f"{job.image} is not built here: add it to registry.build, or give an image reference")
            )
    elif s.is_prod and "@sha256:" not in job.image:
        problems.append(("image", f"must be built here (one of {', '.join(IMAGE_NAMES)}) or pinned by digest in prod"))
    if job.model_cache and ns is not None and not ns.model_cache:
        problems.append(("modelCache", f"needs namespaces.{job.namespace}.modelCache: true"))
    elif job.model_cache and ns is not None and not s.cache_filled(job.namespace):
        problems.append(
            (
                "modelCache",
                f"namespace {job.namespace}'s model cache is never filled: only the staging Jobs of its shared-cache "
                "fleets write it (none runs there), so it would stay empty; serve the model in that namespace "
                "(models.<n>.namespace), point storage.shared.nfs.existingModelsPath at existing weights, or download "
                "in the job (modelCache: false)",
            )
        )
    out = job.output
    if out is not None and out.volume is not None and s.storage.shared.backend == "none":
        problems.append(
            (
                "output.volume",
                "needs a ReadWriteMany class every worker and run can write: storage.shared.backend efs or nfs "
                "(or output.s3 on EKS)",
            )
        )
    if out is not None and out.s3 is not None and not s.on_aws:
        problems.append(
            ("output.s3", "needs cluster.mode aws-eks (the job's IAM role is an IRSA role); use output.volume here")
        )
    problems += _job_capacity_problems(s, job, ns)
    return problems


def _job_capacity_problems(s: StackSettings, job: JobSpec, ns: NamespaceSettings | None) -> list[Problem]:
    """A worker fits one node of the queue's pool; all workers fit the queue and the namespace quota."""
    problems: list[Problem] = []
    queue = s.batch.queues.get(job.queue)
    pool = s.node_pools.get(queue.pool) if queue else None
    gpus = job.workers * job.gpus_per_worker
    if queue is not None and pool is not None and pool.instances:
        node = min(pool.instances, key=lambda i: (i.gpus, i.allocatable_cpu, i.allocatable_memory_gib))
        if job.gpus_per_worker > pool.gpus_per_node:
            problems.append(
                (
                    "gpusPerWorker",
                    f"{job.gpus_per_worker} must fit one node of pool {queue.pool} ({pool.gpus_per_node} GPU(s) "
                    "per node); "
                    "add workers instead",
                )
            )
        if cores(job.cpu) > node.allocatable_cpu:
            problems.append(
                (
                    "cpu",
                    f"a worker needs {cores(job.cpu):g} CPU but a {node.name} node of pool {queue.pool} has about "
                    f"{node.allocatable_cpu:g} for pods",
                )
            )
        if gib(job.memory) > node.allocatable_memory_gib:
            problems.append(
                (
                    "memory",
                    f"a worker needs {gib(job.memory):g} GiB but a {node.name} node of pool {queue.pool} has about "
                    f"{node.allocatable_memory_gib:g} GiB for pods",
                )
            )
        if gpus > s.queue_gpus(job.queue):
            cap, serving = s.pool_gpu_cap(queue.pool), s.pool_serving_gpus(queue.pool)
            derived = (
                ""
                if queue.gpus is not None
                else f" (batch.queues.{job.queue}.gpus is unset: pool {queue.pool}'s GPU cap of {cap} "
                f"less the {serving} its fleets hold at min replicas)"
            )
            problems.append(
                (
                    "workers",
                    f"workers x gpusPerWorker = {gpus} GPUs exceeds queue {job.queue}'s quota of "
                    f"{s.queue_gpus(job.queue)}{derived}: Kueue would never admit it; raise "
                    + (
                        f"batch.queues.{job.queue}.gpus"
                        if queue.gpus is not None
                        else f"nodePools.{queue.pool}.gpuCap and maxSize"
                    ),
                )
            )
        if job.scratch == "local-nvme" and (pool.nvme != "local-pv" or not s.storage.nvme.enabled):
            problems.append(
                ("scratch", f"local-nvme needs storage.nvme.enabled and pool {queue.pool} with nvme: local-pv")
            )
    output_volume = job.output.volume if job.output is not None else None
    if ns is not None:
        q = ns.quota
        checks = [
            ("gpus", gpus, q.gpus),
            ("cpu", job.workers * cores(job.cpu), cores(q.cpu)),
            ("memory", job.workers * gib(job.memory), gib(q.memory)),
            ("pods", job.workers, q.pods),
            ("pvcs", (job.workers if job.scratch == "local-nvme" else 0) + (1 if output_volume else 0), q.pvcs),
        ]
        problems += [
            (
                "workers",
                f"{job.workers} worker(s) need {need:g} {key} but namespaces.{job.namespace}.quota.{key} "
                f"allows {have:g}",
            )
            for key, need, have in checks
            if need > have
        ]
        if output_volume is not None and gib(output_volume.size) > gib(q.storage):
            problems.append(
                (
                    "output.volume.size",
                    f"{gib(output_volume.size):g} GiB needs more storage than namespaces.{job.namespace}.quota.storage "
                    f"allows ({gib(q.storage):g} GiB)",
                )
            )
    return problems
