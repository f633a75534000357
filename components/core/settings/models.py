"""Model fleet settings: one ``ModelSpec`` per fleet, rendered for any engine in ``engines.py``.

Options only one engine reads (``quantization`` is vLLM's; Ollama's tag picks it) are rejected
on the other engine instead of being silently ignored. The images each engine runs are pinned
here too (tags now, ``@sha256:`` digests once the registry builds them).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, create_model, field_validator, model_validator

from components.core.engines import ENGINES, Engine
from components.core.model_catalogue import MODELS, ModelFacts
from components.core.quantities import cores, gib
from components.core.settings.base import K8sName, Problem, Quantity, Settings, check


class ReplicaSettings(Settings):
    min: int = Field(1, ge=0)
    max: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _order(self) -> ReplicaSettings:
        if self.min > self.max:
            check([("min", "must not exceed max")])
        return self


class WarmFloorSettings(Settings):
    """A KEDA cron trigger (``keda.sh/v1alpha1`` trigger ``cron``: ``timezone``, ``start``,
    ``end``, ``desiredReplicas``, pkg/scalers/cron_scaler.go @ v2.17.2): the fleet holds
    ``replicas`` between ``start`` and ``end`` so business hours see no cold start."""

    start: str = Field(min_length=1)
    """Five-field cron of when the floor starts (``0 8 * * 1-5``)."""
    end: str = Field(min_length=1)
    """Five-field cron of when it ends (``0 18 * * 1-5``)."""
    timezone: str = Field(min_length=1)
    """An IANA time zone name (``Europe/Berlin``)."""
    replicas: int = Field(1, ge=1)
    """Replicas held in the window (KEDA ``desiredReplicas``)."""


class ModelFactsSettings(Settings):
    """A model the catalogue (``components/core/model_catalogue.py``) lacks, described from its
    ``config.json`` on the Hub: the plan checks its weights and context fit with these numbers."""

    parameters_b: float = Field(gt=0)
    """Parameters in billions (``parametersB: 7.6``)."""
    dtype: str = Field(pattern=r"^(bfloat16|float16|float32|fp8|awq|gptq|gguf-[A-Za-z0-9_]+)$")
    """The checkpoint's precision (``torch_dtype``, or ``quantization_config.quant_method``): bfloat16,
    float16, float32, fp8, awq, gptq, or an Ollama tag's GGUF type (gguf-q4_K_M)."""
    weights_gb: float = Field(gt=0)
    """The weights' size in GB as the Hub lists it (the sum of the safetensors files)."""
    layers: int | None = Field(None, ge=1)
    """``num_hidden_layers`` (vLLM needs it, with kvHeads, headDim and maxContext)."""
    kv_heads: int | None = Field(None, ge=1)
    """``num_key_value_heads``."""
    head_dim: int | None = Field(None, ge=1)
    """``head_dim``, or ``hidden_size / num_attention_heads``."""
    max_context: int | None = Field(None, ge=1)
    """``max_position_embeddings``."""
    source: str | None = None
    """Where the numbers come from (the config.json's URL)."""

    def as_facts(self, gated: bool) -> ModelFacts:
        return ModelFacts(
            parameters_b=self.parameters_b,
            dtype=self.dtype,
            weights_gb=self.weights_gb,
            layers=self.layers,
            kv_heads=self.kv_heads,
            head_dim=self.head_dim,
            max_context=self.max_context,
            gated=gated,
            source=self.source or "settings",
        )


VLLM_FACTS = ("layers", "kvHeads", "headDim", "maxContext")
"""What vLLM's context check needs beyond the weights."""


class ModelSpec(Settings):
    """One model fleet: the single spec every engine (``ENGINES``) is rendered from."""

    engine: str
    """A name in ``ENGINES`` (checked below, so a new engine module is all it takes)."""
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
    cache: Literal["shared", "local-nvme", "ephemeral", "s3"] = "shared"
    """Where weights live: the namespace's shared ``model-cache`` PVC, a per-replica local NVMe
    volume, an emptyDir each pod downloads into (no shared storage: laptops, small boxes), or the
    environment's weights bucket, streamed by vLLM's Run:ai streamer (``loadFormat``; EKS only)."""
    load_format: Literal["auto", "runai_streamer"] = "auto"
    """vLLM's ``--load-format``: ``runai_streamer`` streams safetensors from S3 (``cache: s3``)."""
    compile_cache: bool = False
    """Keep the engine's compile caches (vLLM ``VLLM_CACHE_ROOT``) in a writable per-fleet
    directory of the shared cache, so a second replica starts warm (``cache: shared`` only)."""
    warm_floor: WarmFloorSettings | None = None
    """Keep ``replicas`` warm in a cron window (KEDA cron trigger), min 0 outside it."""
    exposure: Literal["cluster", "tailnet"] = "cluster"
    api_key_secret: str | None = None
    """Name of a secret config key holding the API key clients must send (vLLM ``--api-key``)."""
    hf_token_secret: str | None = None
    """Name of a secret config key with a Hugging Face token (default: ``hfToken`` if set)."""
    cpu: Quantity = "4"
    memory: Quantity = "32Gi"
    shm_size: Quantity = "20Gi"
    """/dev/shm for tensor-parallel NCCL traffic (mounted when gpusPerReplica > 1 on an engine with
    tensor parallelism)."""
    startup_budget_seconds: int = Field(600, ge=60, le=7200)
    """How long weights may take to load before the startup probe gives up."""
    drain_seconds: int = Field(30, ge=0, le=3600)
    """preStop sleep on scale-down: how long in-flight requests may run after the pod leaves the
    Service before the engine gets SIGTERM (0: none); the grace period is this plus 30 s."""
    client_namespaces: list[K8sName] = Field(default_factory=list)
    """Namespaces (besides its own) whose pods may call the model."""
    facts: ModelFactsSettings | None = None
    """The model's size and shape when the catalogue lacks it (they replace its row when given)."""
    gated: bool | None = None
    """The Hub gates the weights (a token is needed); default: the catalogue's flag."""

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if value not in ENGINES:
            raise ValueError(f"must be one of: {', '.join(sorted(ENGINES))}")
        return value

    @property
    def model_facts(self) -> ModelFacts | None:
        """The numbers the fit checks use: ``facts`` when given, else the catalogue's row."""
        row = MODELS.get(self.model)
        gated = self.gated if self.gated is not None else bool(row and row.gated)
        if self.facts is not None:
            return self.facts.as_facts(gated)
        if row is None:
            return None
        return replace(row, gated=gated)

    @property
    def engine_record(self) -> Engine:
        return ENGINES[self.engine]

    @property
    def port(self) -> int:
        return self.engine_record.port

    @property
    def autoscaled(self) -> bool:
        return self.replicas.max > self.replicas.min

    @model_validator(mode="after")
    def _engine_rules(self) -> ModelSpec:
        engine = self.engine_record
        problems: list[Problem] = []
        # Options another engine reads: set here, they would do nothing.
        other_options = sorted({o for e in ENGINES.values() if e is not engine for o in e.options} - engine.options)
        for field_name in sorted(self.model_fields_set):
            key = ModelSpec.model_fields[field_name].alias or field_name
            if key in other_options:
                owners = sorted(e.name for e in ENGINES.values() if key in e.options)
                hint = f"; {engine.foreign_option_hint}" if engine.foreign_option_hint else ""
                problems.append((key, f"is an option of {', '.join(owners)} only; {engine.name} ignores it{hint}"))
        if self.gpus_per_replica < engine.min_gpus:
            problems.append(("gpusPerReplica", f"must be at least {engine.min_gpus} for {engine.name}"))
        if self.facts is not None and engine.capabilities.kv_fit:
            given = self.facts.model_dump(by_alias=True)
            problems += [
                (f"facts.{key}", f"is required for {engine.name} (its KV-cache check reads it)")
                for key in VLLM_FACTS
                if given[key] is None
            ]
        problems += engine.rules(self)
        check(problems)
        return self


IMAGE_REF = r"^[^:@\s]+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$"


class ModelImagesBase(Settings):
    """One image reference per engine (``modelImages.<engine>``): pinned tags by default, digests
    (``@sha256:``) in prod. The fields are generated from ``ENGINES`` below."""

    def for_engine(self, engine: str) -> str:
        image: str = getattr(self, engine)
        return image


_IMAGE_FIELDS: dict[str, Any] = {
    name: (str, Field(e.default_image, pattern=IMAGE_REF)) for name, e in sorted(ENGINES.items())
}
if TYPE_CHECKING:
    ModelImages = ModelImagesBase
else:
    ModelImages = create_model("ModelImages", __base__=ModelImagesBase, __module__=__name__, **_IMAGE_FIELDS)


STAGE_CPU, STAGE_MEMORY_GIB, STAGE_MEMORY_LIMIT_GIB = 1.0, 2.0, 4.0
"""The weight-staging init container's requests and limit (``specs/weight_staging.stage_resources``);
an init container runs alone, so a pod needs the larger of it and the server."""


def pod_request(spec: ModelSpec) -> tuple[float, float, float]:
    """(CPU cores, memory GiB requested, memory GiB limit) one replica's pod counts against a node and a quota."""
    return (
        max(cores(spec.cpu), STAGE_CPU),
        max(gib(spec.memory), STAGE_MEMORY_GIB),
        max(gib(spec.memory), STAGE_MEMORY_LIMIT_GIB),
    )
