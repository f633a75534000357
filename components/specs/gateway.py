"""The environment's inference gateway as plain documents: chart values, the Gateway and its
parameters, the routes by ``model``, keys, client limits and ``GET /v1/models`` (issue 25).

One Gateway ``ai`` (agentgateway) in the ``gateway`` namespace. A PreRouting policy on it checks
the client's API key (``Authorization: Bearer``, keys in one Secret) and copies the request
body's ``model`` into the header ``x-gateway-model-name``; one HTTPRoute per model matches that
header and sends the request to the fleet's InferencePool (vLLM: the endpoint picker chooses the
replica) or Service (other engines). Routes live in the gateway namespace (the listener admits
routes from there only) and reach the fleets through a ReferenceGrant in each fleet namespace.

Every field was read at the pinned versions: Gateway and HTTPRoute from gateway-api
``config/crd/standard/gateway.networking.k8s.io_{gateways,httproutes,referencegrants}.yaml`` @ v1.6.1
(as bundled by envoyproxy/gateway charts/gateway-crds-helm @ v1.9.0); AgentgatewayPolicy and
AgentgatewayParameters from agentgateway ``controller/api/v1alpha1/agentgateway/agentgateway_policy_types.go``
and ``controller/install/helm/agentgateway-crds/templates/*.yaml`` @ v1.4.1; the stand-ins in
``tests/data/crds`` hold exactly the fields set here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from components.core.naming import k8s_name
from components.core.settings.gateway import GATEWAY_NAMESPACE, GatewayRoute

GATEWAY_NAME = "ai"
"""The Gateway, and so the proxy Deployment and Service the controller names after it
(controller/pkg/helm/agentgateway/templates/service.yaml ``kgateway.gateway.fullname`` @ v1.4.1)."""
GATEWAY_CLASS = "agentgateway"
"""The GatewayClass the controller creates itself (values.yaml ``gatewayClassName: ""`` @ v1.4.1)."""
PARAMETERS_NAME = "ai-gateway"
KEYS_SECRET = "ai-gateway-keys"
MODEL_HEADER = "x-gateway-model-name"
"""Set from the body by the PreRouting transformation (``set`` overwrites what a client sent)."""
LISTENER = "http"
LISTENER_PORT = 80
PROXY_METRICS_PORT = 15020
"""The proxy's Prometheus port (the chart's PodMonitor scrapes port ``metrics``)."""
CONTROLLER_XDS_PORT = 9978
CONTROLLER_METRICS_PORT = 9092
"""values.yaml ``controller.service.ports`` @ v1.4.1."""
PROXY_PODS = {"gateway.networking.k8s.io/gateway-name": GATEWAY_NAME}
"""The proxy pods' label (controller/pkg/helm/agentgateway/templates/_helpers.tpl
``kgateway.gateway.selectorLabels`` @ v1.4.1)."""
CONTROLLER_PODS = {"agentgateway": "agentgateway"}
"""The controller's pods (controller/install/helm/agentgateway/templates/_helpers.tpl
``agentgateway.selectorLabels`` @ v1.4.1; the proxies do not carry it)."""
MODEL_EXPRESSION = "request.method == 'POST' && 'model' in json(request.body) ? string(json(request.body).model) : ''"
"""CEL: the body's ``model`` (agentgateway buffers the body for ``json(request.body)``, as its
controller/test/e2e/testdata/transformation/transform-for-body.yaml does @ v1.4.1); bodiless
requests get an empty header, which no route matches."""
MODELS_LIST_ROUTE = "models-list"
GATEWAY_GROUP = "gateway.networking.k8s.io"
POOL_GROUP = "inference.networking.k8s.io"
DIRECT_RESPONSE_MAX = 4096
"""``directResponse.body`` MaxLength (agentgateway_policy_types.go @ v1.4.1)."""


def gateway_crds_values() -> dict[str, Any]:
    """Only the Gateway API CRDs, standard channel (values.yaml @ gateway-crds-helm v1.9.0:
    ``crds.gatewayAPI.enabled`` default false, ``channel`` default experimental)."""
    return {"crds": {"gatewayAPI": {"enabled": True, "channel": "standard"}, "envoyGateway": {"enabled": False}}}


def agentgateway_values(*, replicas: int, monitoring: bool, node_selector: Mapping[str, str] | None) -> dict[str, Any]:
    """The controller (values.yaml @ v1.4.1): InferencePool support on, restricted pods, and when
    monitoring runs its ServiceMonitor, the proxies' PodMonitor and its Grafana dashboard."""
    values: dict[str, Any] = {
        "inferenceExtension": {"enabled": True},
        "controller": {"replicaCount": replicas},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        "podSecurityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "monitoring": {"enabled": monitoring},
    }
    if monitoring:
        values["monitoring"].update(
            serviceMonitor={"enabled": True, "interval": "15s"},
            proxy={"podMonitor": {"enabled": True}, "gatewayClassNames": [GATEWAY_CLASS]},
            grafanaDashboard={"enabled": True, "labels": {"grafana_dashboard": "1"}},
        )
    if node_selector:
        values["nodeSelector"] = dict(node_selector)
    return values


def _meta(name: str, labels: Mapping[str, str], namespace: str = GATEWAY_NAMESPACE) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": dict(labels)}


def _gateway_ref() -> dict[str, Any]:
    return {"group": GATEWAY_GROUP, "kind": "Gateway", "name": GATEWAY_NAME}


def parameters(*, replicas: int, proxy_digest: str | None, labels: Mapping[str, str]) -> dict[str, Any]:
    """The proxy's Deployment and Service overlays. The controller renders the proxy Service as
    ``type: LoadBalancer`` (controller/pkg/helm/agentgateway/templates/service.yaml @ v1.4.1): forced
    to ClusterIP here, so no cloud load balancer is ever made; the pod template gets the
    RuntimeDefault seccomp profile Pod Security ``restricted`` requires (the template sets none)."""
    spec: dict[str, Any] = {
        "logging": {"format": "json"},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        "service": {"spec": {"type": "ClusterIP"}},
        "deployment": {
            "spec": {
                "replicas": replicas,
                "template": {"spec": {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}},
            }
        },
    }
    if proxy_digest:
        spec["image"] = {"digest": proxy_digest}
    return {
        "apiVersion": "agentgateway.dev/v1alpha1",
        "kind": "AgentgatewayParameters",
        "metadata": _meta(PARAMETERS_NAME, labels),
        "spec": spec,
    }


def gateway(labels: Mapping[str, str]) -> dict[str, Any]:
    """One HTTP listener on 80; routes only from the gateway namespace (``from: Same``)."""
    return {
        "apiVersion": f"{GATEWAY_GROUP}/v1",
        "kind": "Gateway",
        "metadata": _meta(GATEWAY_NAME, labels),
        "spec": {
            "gatewayClassName": GATEWAY_CLASS,
            "infrastructure": {
                "parametersRef": {
                    "group": "agentgateway.dev",
                    "kind": "AgentgatewayParameters",
                    "name": PARAMETERS_NAME,
                }
            },
            "listeners": [
                {
                    "name": LISTENER,
                    "port": LISTENER_PORT,
                    "protocol": "HTTP",
                    "allowedRoutes": {
                        "namespaces": {"from": "Same"},
                        "kinds": [{"group": GATEWAY_GROUP, "kind": "HTTPRoute"}],
                    },
                }
            ],
        },
    }


def key_entry(client: str, key: str) -> str:
    """One client's entry of the key Secret: ``{"key": ..., "metadata": {"client": ...}}``
    (``APIKeyAuthentication.SecretRef`` doc comment, agentgateway_policy_types.go @ v1.4.1); the
    metadata is ``apiKey.client`` in CEL. Called inside ``apply`` on the secret Output only."""
    return json.dumps({"key": key, "metadata": {"client": client}}, sort_keys=True)


def pre_routing_policy(labels: Mapping[str, str]) -> dict[str, Any]:
    """Before routing: the key (Strict: no key, no request) and the model header. PreRouting
    admits only these kinds of policy (agentgateway_policy_types.go CEL rule @ v1.4.1)."""
    return {
        "apiVersion": "agentgateway.dev/v1alpha1",
        "kind": "AgentgatewayPolicy",
        "metadata": _meta(k8s_name(GATEWAY_NAME, "pre-routing"), labels),
        "spec": {
            "targetRefs": [_gateway_ref()],
            "traffic": {
                "phase": "PreRouting",
                "apiKeyAuthentication": {"mode": "Strict", "secretRef": {"name": KEYS_SECRET}},
                "transformation": {"request": {"set": [{"name": MODEL_HEADER, "value": MODEL_EXPRESSION}]}},
            },
        },
    }


def client_limits_policy(clients: Mapping[str, tuple[int, int | None]], labels: Mapping[str, str]) -> dict[str, Any]:
    """Per client (``name -> (requests/min, tokens/min)``) one conditional local limit, and the
    ``client`` label on the proxy's request metrics (``frontend.metrics.attributes``). Local limits
    count per proxy replica (``LocalRateLimit`` doc @ v1.4.1)."""
    conditional = []
    for name, (rpm, tpm) in sorted(clients.items()):
        local: list[dict[str, Any]] = [{"requests": rpm, "unit": "Minutes"}]
        if tpm:
            local.append({"tokens": tpm, "unit": "Minutes"})
        conditional.append({"condition": f"apiKey.client == '{name}'", "policy": {"local": local}})
    traffic: dict[str, Any] = {"rateLimit": {"conditional": conditional}} if conditional else {}
    return {
        "apiVersion": "agentgateway.dev/v1alpha1",
        "kind": "AgentgatewayPolicy",
        "metadata": _meta(k8s_name(GATEWAY_NAME, "clients"), labels),
        "spec": {
            "targetRefs": [_gateway_ref()],
            **({"traffic": traffic} if traffic else {}),
            "frontend": {"metrics": {"attributes": {"add": [{"name": "client", "expression": "apiKey.client"}]}}},
        },
    }


def route_name(r: GatewayRoute) -> str:
    return k8s_name("model", r.fleet)


def backend_name(r: GatewayRoute) -> str:
    """The InferencePool (vLLM) or Service the route sends to: the fleet's resource name."""
    return k8s_name(r.engine, r.fleet)


def route(r: GatewayRoute, *, timeout_seconds: int, labels: Mapping[str, str]) -> dict[str, Any]:
    """``/v1/...`` with ``x-gateway-model-name: <model>`` -> the fleet's pool or Service."""
    backend: dict[str, Any] = (
        {"group": POOL_GROUP, "kind": "InferencePool", "name": backend_name(r), "namespace": r.namespace}
        if r.pool
        else {"group": "", "kind": "Service", "name": backend_name(r), "namespace": r.namespace, "port": r.port}
    )
    return {
        "apiVersion": f"{GATEWAY_GROUP}/v1",
        "kind": "HTTPRoute",
        "metadata": _meta(route_name(r), labels),
        "spec": {
            "parentRefs": [{**_gateway_ref(), "sectionName": LISTENER}],
            "rules": [
                {
                    "name": "model",
                    "matches": [
                        {
                            "path": {"type": "PathPrefix", "value": "/v1/"},
                            "headers": [{"type": "Exact", "name": MODEL_HEADER, "value": r.model}],
                        }
                    ],
                    "backendRefs": [backend],
                    "timeouts": {"request": f"{timeout_seconds}s"},
                }
            ],
        },
    }


def route_clients_policy(r: GatewayRoute, labels: Mapping[str, str]) -> dict[str, Any]:
    """Only the clients that list the model may use its route (none listed: nobody)."""
    allowed = ", ".join(f"'{c}'" for c in r.clients)
    return {
        "apiVersion": "agentgateway.dev/v1alpha1",
        "kind": "AgentgatewayPolicy",
        "metadata": _meta(route_name(r), labels),
        "spec": {
            "targetRefs": [{"group": GATEWAY_GROUP, "kind": "HTTPRoute", "name": route_name(r)}],
            "traffic": {
                "authorization": {"action": "Allow", "policy": {"matchExpressions": [f"apiKey.client in [{allowed}]"]}}
            },
        },
    }


def backend_key_policy(r: GatewayRoute, labels: Mapping[str, str]) -> dict[str, Any]:
    """A keyed fleet (vLLM ``--api-key``) refuses the client's gateway key: the gateway sends the
    fleet's own key instead, from the fleet's Secret (``backend.auth.secretRef``, a
    ``LocalSecretKeyRef`` in the policy's namespace; the value goes out as ``Authorization:
    Bearer <key>``, the default location, crates/agentgateway/src/http/auth/mod.rs @ v1.4.1)."""
    assert r.api_key_secret is not None
    target = (
        {"group": POOL_GROUP, "kind": "InferencePool", "name": backend_name(r)}
        if r.pool
        else {"group": "", "kind": "Service", "name": backend_name(r)}
    )
    return {
        "apiVersion": "agentgateway.dev/v1alpha1",
        "kind": "AgentgatewayPolicy",
        "metadata": _meta(k8s_name(backend_name(r), "gateway-key"), labels, r.namespace),
        "spec": {
            "targetRefs": [target],
            "backend": {"auth": {"secretRef": {"name": r.api_key_secret, "key": "api-key"}}},
        },
    }


def models_list_body(models: Sequence[str]) -> str:
    """``GET /v1/models`` as OpenAI returns it, from the settings (at most 4096 characters)."""
    data = [{"id": m, "object": "model", "owned_by": "ai-infra"} for m in sorted(models)]
    body = json.dumps({"object": "list", "data": data}, separators=(",", ":"))
    if len(body) > DIRECT_RESPONSE_MAX:
        raise ValueError(f"the /v1/models list is {len(body)} characters; directResponse holds {DIRECT_RESPONSE_MAX}")
    return body


def models_list(models: Sequence[str], labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """The ``GET /v1/models`` route (no backend) and the policy that answers it directly."""
    route_doc = {
        "apiVersion": f"{GATEWAY_GROUP}/v1",
        "kind": "HTTPRoute",
        "metadata": _meta(MODELS_LIST_ROUTE, labels),
        "spec": {
            "parentRefs": [{**_gateway_ref(), "sectionName": LISTENER}],
            "rules": [
                {"name": "list", "matches": [{"path": {"type": "Exact", "value": "/v1/models"}, "method": "GET"}]}
            ],
        },
    }
    policy = {
        "apiVersion": "agentgateway.dev/v1alpha1",
        "kind": "AgentgatewayPolicy",
        "metadata": _meta(MODELS_LIST_ROUTE, labels),
        "spec": {
            "targetRefs": [{"group": GATEWAY_GROUP, "kind": "HTTPRoute", "name": MODELS_LIST_ROUTE}],
            "traffic": {
                "directResponse": {
                    "status": 200,
                    "body": models_list_body(models),
                    "headers": [{"name": "content-type", "value": "application/json"}],
                }
            },
        },
    }
    return [route_doc, policy]


def reference_grant(namespace: str, labels: Mapping[str, str]) -> dict[str, Any]:
    """Lets the gateway namespace's HTTPRoutes name this namespace's InferencePools and Services."""
    return {
        "apiVersion": f"{GATEWAY_GROUP}/v1",
        "kind": "ReferenceGrant",
        "metadata": _meta(k8s_name("gateway", "routes"), labels, namespace),
        "spec": {
            "from": [{"group": GATEWAY_GROUP, "kind": "HTTPRoute", "namespace": GATEWAY_NAMESPACE}],
            "to": [{"group": POOL_GROUP, "kind": "InferencePool"}, {"group": "", "kind": "Service"}],
        },
    }


def base_url(*, tailnet_host: str | None) -> str:
    """What clients set as the OpenAI base URL."""
    if tailnet_host:
        return f"https://{tailnet_host}/v1"
    return f"http://{GATEWAY_NAME}.{GATEWAY_NAMESPACE}.svc.cluster.local/v1"
