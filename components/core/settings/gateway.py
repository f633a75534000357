"""The ``gateway`` section: one OpenAI-compatible endpoint per environment (issue 25).

With ``gateway.enabled`` every fleet not listed under ``direct`` is reached through one Gateway
(agentgateway, ``components/gateway.py``): the request's ``model`` picks the fleet, each client
has an API key (generated, or its own from a secret config key, ``keySecret``) and its own rate
limit. The rules that span sections (a client naming a
model no fleet serves, two fleets serving one model name, a rate of 0, a key in the stack file,
the gateway on with no fleet) are ``rules/gateway.py``, registered in ``rules.RULES`` and
``rules.WARNINGS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from components.core.naming import api_key_secret_name, k8s_name
from components.core.settings.base import K8sName, Settings

if TYPE_CHECKING:
    from components.core.settings.models import ModelSpec
    from components.core.settings.root import StackSections

GATEWAY_NAMESPACE = "gateway"
"""Where the controller, the Gateway, its proxy pods and the key Secret live (a system namespace)."""
PICKER_IMAGE = "ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0"
"""The endpoint picker (EPP) of llm-d/llm-d-router v0.10.0: registry ``ghcr.io/llm-d``, repository
``llm-d-router-endpoint-picker``, the release tag (hack/push-chart.sh @ v0.10.0, which writes them
into the published chart's ``router.epp.image``; in git the chart says ``tag: main``)."""
PICKER_DIGEST = "sha256:2e516fa1310da7be59b82beb1445362139597d6d553ef04d546716abe3aaaa70"
"""The OCI index digest of ``PICKER_IMAGE`` (the v0.10.0 tag on ghcr.io): no registry can be
reached here, so it is the digest three public records of that tag agree on (one resolved it from
GHCR's manifest index on 2026-08-27, "Router EPP image" row; two others cite ``2e516f…aaaa70`` for
v0.10.0). A mirror made with ``crane copy`` keeps it, so it also pins prod's ECR copy."""
PROXY_DIGEST = "sha256:efd79355b89094a8225a9db465d9a01dc656b377f0bab458761b935a13231d29"
"""The OCI digest of ``cr.agentgateway.dev/agentgateway:v1.4.1`` (the proxy image the v1.4.1 chart
runs), as four public repositories pin that tag; ``gateway.proxyDigest`` overrides it."""
MAX_CLIENTS = 16
"""``rateLimit.conditional`` holds at most 16 entries (agentgateway controller/api/v1alpha1/agentgateway/
agentgateway_policy_types.go ``+kubebuilder:validation:MaxItems=16`` @ v1.4.1): one per client."""
PICKER_ENGINES = frozenset({"vllm"})
"""Engines whose fleets get an InferencePool and endpoint picker: the picker reads vLLM's queue and
KV-cache metrics (llm-d-router pkg/epp/framework/plugins/datalayer/extractor/metrics @ v0.10.0).
Other engines' fleets are routed to their Service."""
EXPOSURE_ANNOTATION = "ai-infra.io/exposure"
"""``direct`` on a model server not behind the gateway (the pack's gateway rule reads it) ..."""
EXPOSURE_REASON_ANNOTATION = "ai-infra.io/exposure-reason"
"""... with the reason from ``gateway.direct``."""


class GatewayClientSettings(Settings):
    """One caller of the gateway: which models it may call and how fast."""

    models: list[str] = Field(min_length=1)
    """Model names as clients send them in ``model`` (see :func:`served_model_name`)."""
    requests_per_minute: int
    """Requests per minute per gateway replica (agentgateway's local limits are per proxy)."""
    tokens_per_minute: int | None = None
    """LLM tokens per minute per replica (agentgateway counts tokens on its LLM path; see
    docs/architecture.md for what is and is not verified)."""
    key_secret: str | None = None
    """Name of a secret config key (``pulumi config set --secret <name>``) holding this client's
    API key, like a fleet's ``apiKeySecret``: the key is read as a secret Output
    (``load_secrets``) and no key is generated for the client. Unset: a generated key."""
    key: Any = Field(None, repr=False)
    """Never accepted (a key in the stack file is plain text): keys are generated or named by
    ``keySecret``. Declared only so a stack that sets it gets that message instead of "unknown key"."""


class GatewaySettings(Settings):
    enabled: bool = False
    """Put every fleet (except ``direct`` ones) behind one OpenAI-compatible endpoint."""
    replicas: int = Field(1, ge=1, le=10)
    """Proxy replicas (rate limits apply per replica)."""
    max_hold_seconds: int = Field(300, ge=0, le=3600)
    """How long a request for a fleet at zero replicas is held while KEDA scales it up (the
    picker's flow-control TTL); then the client gets 503."""
    request_timeout_seconds: int = Field(600, ge=1, le=3600)
    """How long one request may run once a replica serves it (the route allows hold + this)."""
    exposure: Literal["cluster", "tailnet"] | None = None
    """``tailnet``: also ``https://ai-<env>.<tailnet>/v1`` (default when the mesh is on)."""
    picker_image: str = PICKER_IMAGE
    """The endpoint picker image (prod: by digest, from a trusted registry or the stack's ECR)."""
    picker_digest: str | None = Field(None, pattern=r"^sha256:[0-9a-f]{64}$")
    """The picker image's digest (prod requires one): the pod runs ``pickerImage@<digest>``. Unset
    with a ``pickerImage`` of the pinned release tag, it is ``PICKER_DIGEST``."""
    proxy_digest: str | None = Field(PROXY_DIGEST, pattern=r"^sha256:[0-9a-f]{64}$")
    """The proxy image's digest (``cr.agentgateway.dev/agentgateway:v1.4.1``), required in prod: the
    controller renders the proxy Deployment, so it is pinned through AgentgatewayParameters
    ``spec.image.digest`` (agentgateway controller/pkg/deployer/agentgateway_parameters.go @ v1.4.1)."""
    direct: dict[K8sName, str] = Field(default_factory=dict)
    """Fleets not behind the gateway, each with the reason (they keep their own Service rules)."""
    clients: dict[K8sName, GatewayClientSettings] = Field(default_factory=dict)

    @property
    def picker_pin(self) -> str | None:
        """The picker's digest: ``pickerDigest``, else ``PICKER_DIGEST`` for an image of the pinned
        release (upstream's or a mirror's ``.../llm-d-router-endpoint-picker:v0.10.0``), else none."""
        if self.picker_digest:
            return self.picker_digest
        pinned_release = PICKER_IMAGE.rsplit("/", 1)[1]
        return PICKER_DIGEST if self.picker_image.rsplit("/", 1)[-1] == pinned_release else None

    @property
    def picker_reference(self) -> str:
        """What the picker pods run: the tag, and its digest when one is known."""
        pin = self.picker_pin
        return f"{self.picker_image}@{pin}" if pin else self.picker_image


@dataclass(frozen=True)
class GatewayRoute:
    """One model behind the gateway: what clients send and where it goes."""

    model: str
    """The ``model`` value of requests (what the engine serves)."""
    fleet: str
    namespace: str
    engine: str
    port: int
    clients: tuple[str, ...]
    api_key_secret: str | None = None
    """The fleet's own API-key Secret (key ``api-key``) when its engine checks one: the gateway
    sends that key to the fleet in place of the client's (a backend auth policy)."""

    @property
    def pool(self) -> bool:
        """Routed through an InferencePool and its endpoint picker (else to the fleet's Service)."""
        return self.engine in PICKER_ENGINES


@dataclass(frozen=True)
class FleetGateway:
    """How one fleet stands to the gateway (what its NetworkPolicy, annotations and autoscaler read)."""

    direct_reason: str | None = None
    """Set: the fleet is not behind the gateway (it keeps its own callers' rules), and why."""
    picker: str | None = None
    """The endpoint picker's name, when requests reach the fleet through an InferencePool."""

    @property
    def routed(self) -> bool:
        return self.direct_reason is None


def fleet_gateway(s: StackSections, fleet: str) -> FleetGateway | None:
    """None when the stack runs no gateway."""
    g = s.gateway
    if not g.enabled:
        return None
    if fleet in g.direct:
        return FleetGateway(direct_reason=g.direct[fleet])
    spec = s.models[fleet]
    picker = k8s_name(spec.engine, fleet, "epp") if spec.engine in PICKER_ENGINES else None
    return FleetGateway(picker=picker)


def served_model_name(fleet: str, spec: ModelSpec) -> str:
    """What clients put in ``model``: the fleet's name for engines started with
    ``--served-model-name <fleet>`` (vLLM, SGLang; engines/vllm.py, sglang.py), the Ollama tag for
    Ollama (its OpenAI API answers to the tag it pulled)."""
    return spec.model if spec.engine == "ollama" else fleet


def gateway_routes(s: StackSections) -> list[GatewayRoute]:
    """The models behind the gateway (empty when it is off), sorted by model name."""
    g = s.gateway
    if not g.enabled:
        return []
    routes = []
    for fleet, spec in sorted(s.models.items()):
        if fleet in g.direct:
            continue
        model = served_model_name(fleet, spec)
        clients = tuple(sorted(c for c, cs in g.clients.items() if model in cs.models))
        keyed = s.fleet_secret_keys(fleet).api_key is not None or s.generates_api_key(fleet)
        key = api_key_secret_name(fleet) if keyed else None  # the Secret fleet_spec names
        routes.append(GatewayRoute(model, fleet, spec.namespace, spec.engine, spec.port, clients, key))
    return sorted(routes, key=lambda r: r.model)


def gateway_exposure(s: StackSections) -> str:
    """``tailnet`` or ``cluster`` (the default follows the mesh)."""
    g = s.gateway
    if g.exposure is not None:
        return g.exposure
    return "tailnet" if s.tailscale_operator else "cluster"


def gateway_summary_lines(s: StackSections, outputs: dict[str, Any]) -> list[str]:
    """The plan's "Gateway:" block: the base URL, and each model's route and allowed clients."""
    routes = gateway_routes(s)
    if not routes:
        return []
    g = s.gateway
    lines = [
        f"Gateway: {outputs.get('gateway', '?')} (agentgateway; {g.replicas} replica(s); "
        f"requests for a fleet at zero held up to {g.max_hold_seconds}s)"
    ]
    for r in routes:
        backend = k8s_name(r.engine, r.fleet)
        target = (
            f"InferencePool {r.namespace}/{backend} (endpoint picker)"
            if r.pool
            else f"Service {r.namespace}/{backend}:{r.port}"
        )
        lines.append(f"  model {r.model} -> {target}; clients: {', '.join(r.clients) or 'none'}")
    for name, c in sorted(g.clients.items()):
        tokens = f", {c.tokens_per_minute} tokens/min" if c.tokens_per_minute else ""
        # The config key's name only (never its value); no name: the stack generates the key.
        key = f"; key: secret config {c.key_secret}" if c.key_secret else ""
        lines.append(f"  client {name}: {c.requests_per_minute} requests/min per replica{tokens}{key}")
    for fleet, reason in sorted(g.direct.items()):
        lines.append(f"  fleet {fleet}: direct (not behind the gateway) — {reason}")
    return lines
