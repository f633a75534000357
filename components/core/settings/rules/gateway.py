"""Gateway rules that need other sections: clients name served models, one fleet per model name,
no key in the stack file, the tailnet exposure needs the mesh, prod pins the picker and proxy by
digest; warnings for placeholder digests and a gateway that accepts no key."""

from __future__ import annotations

from components.core.chart_images import PLACEHOLDER_DIGEST
from components.core.settings.base import Problem
from components.core.settings.gateway import MAX_CLIENTS, gateway_exposure, served_model_name
from components.core.settings.root import StackSections


def gateway_problems(s: StackSections) -> list[Problem]:
    """Every rule of the ``gateway`` section that needs another section; values are never quoted."""
    g = s.gateway
    problems: list[Problem] = []
    for name, client in sorted(g.clients.items()):
        if "key" in client.model_fields_set:
            problems.append(
                (
                    f"gateway.clients.{name}.key",
                    "must not be set: a key in the stack file is plain text; the stack generates each client's key "
                    "and exports it only as a secret (`pulumi stack output gatewayClientKeys --show-secrets`), "
                    "or name a secret config key with keySecret (`pulumi config set --secret <name>`)",
                )
            )
        if client.requests_per_minute <= 0:
            problems.append((f"gateway.clients.{name}.requestsPerMinute", "must be a whole number of at least 1"))
        if client.tokens_per_minute is not None and client.tokens_per_minute <= 0:
            problems.append((f"gateway.clients.{name}.tokensPerMinute", "must be at least 1 (or left out)"))
    if not g.enabled:
        if g.clients or g.direct:
            problems.append(("gateway.enabled", "is false: clients and direct apply only to an enabled gateway"))
        return problems
    for fleet in sorted(set(g.direct) - set(s.models)):
        problems.append((f"gateway.direct.{fleet}", f"must name a fleet under models: {sorted(s.models)}"))
    for fleet, reason in sorted(g.direct.items()):
        if not reason.strip():
            problems.append((f"gateway.direct.{fleet}", "must say why the fleet is not behind the gateway"))
    served: dict[str, list[str]] = {}
    for fleet, spec in sorted(s.models.items()):
        if fleet not in g.direct:
            served.setdefault(served_model_name(fleet, spec), []).append(fleet)
    if not served:
        problems.append(("gateway.enabled", "is true but no fleet is behind it: add models or set enabled: false"))
    for _, fleets in sorted(served.items()):
        if len(fleets) > 1:
            problems.append(
                (
                    f"models.{fleets[1]}.model",
                    f"fleets {', '.join(fleets)} serve the same model name through the gateway: "
                    "give one another model, or list it under gateway.direct",
                )
            )
    for name, client in sorted(g.clients.items()):
        for i, model in enumerate(client.models):
            if model not in served:
                problems.append(
                    (f"gateway.clients.{name}.models[{i}]", f"must be a model the gateway serves: {sorted(served)}")
                )
    if len(g.clients) > MAX_CLIENTS:
        problems.append(("gateway.clients", f"at most {MAX_CLIENTS} clients (one rate-limit entry each)"))
    if gateway_exposure(s) == "tailnet" and not s.tailscale_operator:
        problems.append(("gateway.exposure", "tailnet needs tailscale.enabled: true (or use cluster)"))
    if "@" in g.picker_image:
        problems.append(("gateway.pickerImage", "must be name:tag only; put the digest in gateway.pickerDigest"))
    if s.is_prod and g.picker_pin is None:
        problems.append(("gateway.pickerDigest", f"is required in prod: the sha256 digest of {g.picker_image}"))
    if s.is_prod and g.proxy_digest is None:
        problems.append(
            ("gateway.proxyDigest", "is required in prod: the sha256 digest of cr.agentgateway.dev/agentgateway:v1.4.1")
        )
    return problems


def gateway_warnings(s: StackSections) -> list[Problem]:
    """Valid but worth a look: a placeholder picker digest, a hold longer than a fleet's startup."""
    g = s.gateway
    if not g.enabled:
        return []
    found: list[Problem] = []
    for key, digest in (("pickerDigest", g.picker_pin), ("proxyDigest", g.proxy_digest)):
        if digest == PLACEHOLDER_DIGEST:
            found.append(
                (f"gateway.{key}", "is the all-zero placeholder: replace it with the real digest before `pulumi up`")
            )
    if not g.clients:
        found.append(("gateway.clients", "is empty: the gateway accepts no key, so every request gets 401"))
    return found
