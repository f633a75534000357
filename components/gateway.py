"""``InferenceGateway``: one OpenAI-compatible endpoint for every model of the environment (issue 25).

Installs the Gateway API CRDs (gateway-crds-helm), agentgateway's CRDs and controller, and the
InferencePool CRD; then renders, from ``components/specs/gateway*.py``: the Gateway ``ai`` with
ClusterIP proxies, an API key per client (generated, ``random.RandomPassword``, or the client's
own from secret config, ``keySecret``: secret end to end either way, only in the key Secret and
the ``gatewayClientKeys`` secret output), the key check and model
header (PreRouting), per-client rate limits and metric labels, one HTTPRoute per model with the
clients allowed on it, ``GET /v1/models``, and per vLLM fleet an InferencePool with its endpoint
picker. The namespace's NetworkPolicies admit in-cluster callers on port 80 (and the tailnet
Ingress proxy when exposed there); fleets admit only the proxies (``specs/model_serving.py``).
With monitoring: the controller's ServiceMonitor, the proxies' PodMonitor and dashboard (the
chart's), the pickers' ServiceMonitors, a per-client dashboard and a picker-down alert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.core.charts import AGENTGATEWAY, AGENTGATEWAY_CRDS, GATEWAY_API_CRDS
from components.core.naming import resource_name
from components.core.settings.gateway import GatewayRoute
from components.resources.custom_resource import custom_resource
from components.resources.helm import pinned_release
from components.specs import gateway as spec
from components.specs import gateway_network as net
from components.specs import gateway_observability as obs
from components.specs import gateway_picker as picker

TYPE = "ai-infra:gateway:InferenceGateway"
INFERENCE_POOL_CRD = (
    "https://raw.githubusercontent.com/kubernetes-sigs/gateway-api-inference-extension/v1.5.0/"
    "config/crd/bases/inference.networking.k8s.io_inferencepools.yaml"
)
"""The InferencePool CRD at the version agentgateway v1.4.1 and llm-d-router v0.10.0 build against
(their go.mod); GAIE publishes no chart for it. Applied by the provider at deploy time (offline
plans do not read it; its path at the tag was read from the repository, the download was not)."""


@dataclass(frozen=True, kw_only=True)
class InferenceGatewayArgs:
    routes: Sequence[GatewayRoute]
    clients: Mapping[str, tuple[int, int | None]]
    """Client -> (requests per minute, tokens per minute or None)."""
    given_keys: Mapping[str, pulumi.Output[str]] = field(default_factory=dict)
    """Client -> its own key (a secret config Output, ``gateway.clients.<name>.keySecret``): no
    password is generated for these clients."""
    namespace: pulumi.Input[str]
    """The gateway namespace (its Output, so everything waits for it)."""
    env: str
    team: str
    replicas: int = 1
    hold_seconds: int = 300
    request_timeout_seconds: int = 600
    picker_image: str
    proxy_digest: str | None = None
    api_cidrs: Sequence[str] = ()
    api_ports: tuple[int, ...] = (443,)
    monitoring_namespace: str | None = None
    """Prometheus's namespace when the stack runs one (monitors, dashboard, alert)."""
    monitoring: pulumi.Resource | None = None
    alert_severity: str = "warning"
    """The picker-down alert's severity (``monitoring.sloSeverity``: ``critical`` pages)."""
    tailnet_host: str | None = None
    """``ai-<env>.<tailnet>`` when exposed on the tailnet."""
    tailnet_operator: pulumi.Resource | None = None
    node_selector: Mapping[str, str] | None = None
    preinstalled: frozenset[str] = frozenset()
    chart_digests: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    depends_on: Sequence[pulumi.Resource] = ()
    """The fleet namespaces (pools, pickers and grants live there)."""


def _key_data(keys: Mapping[str, str]) -> dict[str, str]:
    return {client: spec.key_entry(client, key) for client, key in sorted(keys.items())}


class InferenceGateway(pulumi.ComponentResource):
    """Children: Helm releases gateway-crds-helm, agentgateway-crds, agentgateway; the
    InferencePool CRD (ConfigFile); AgentgatewayParameters, Gateway, key Secret, RandomPassword per
    client without a given key, AgentgatewayPolicies, HTTPRoutes, ReferenceGrants, NetworkPolicies; per vLLM route
    an InferencePool and its picker; a tailnet Ingress; monitors, a dashboard and an alert."""

    base_url: pulumi.Output[str]
    client_keys: pulumi.Output[dict[str, str]]
    """Client -> API key, a secret Output."""

    def __init__(self, name: str, args: InferenceGatewayArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        labels = obs.labels(args.env, args.team, "gateway")
        crds = self._charts(name, args)
        after = pulumi.ResourceOptions(parent=self, depends_on=[*crds, *args.depends_on])
        if unknown := sorted(set(args.given_keys) - set(args.clients)):
            raise ValueError(f"InferenceGatewayArgs: given_keys for clients not in clients: {unknown}")
        keys: dict[str, pulumi.Output[str]] = {
            client: random.RandomPassword(
                resource_name(name, f"key-{client}"), length=48, special=False, opts=pulumi.ResourceOptions(parent=self)
            ).result
            for client in sorted(args.clients)
            if client not in args.given_keys
        }
        keys.update(args.given_keys)
        # A generated `result` and a `require_secret` value are secret already; wrapped again so
        # nothing downstream can unwrap it by accident.
        # (Output.all with no arguments is a list: no clients is an empty map.)
        results = pulumi.Output.all(**dict(sorted(keys.items()))) if keys else pulumi.Output.from_input({})
        self.client_keys = pulumi.Output.secret(results)
        k8s.core.v1.Secret(
            resource_name(name, "keys"),
            metadata=k8s.meta.v1.ObjectMetaArgs(name=spec.KEYS_SECRET, namespace=args.namespace, labels=labels),
            type="Opaque",
            # An apply on a secret Output is secret: the entries never leave the wrapper. No clients:
            # no stringData at all (an empty map is dropped from the live object, so the real engine
            # proposed replacing the Secret on every preview: make e2e's second preview).
            string_data=self.client_keys.apply(_key_data) if keys else None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        docs = [
            spec.parameters(replicas=args.replicas, proxy_digest=args.proxy_digest, labels=labels),
            spec.gateway(labels),
            spec.pre_routing_policy(labels),
            spec.client_limits_policy(args.clients, labels),
            *spec.models_list([r.model for r in args.routes], labels),
        ]
        for r in args.routes:
            timeout = args.hold_seconds + args.request_timeout_seconds
            docs += [spec.route(r, timeout_seconds=timeout, labels=labels), spec.route_clients_policy(r, labels)]
            if r.api_key_secret is not None:
                docs.append(spec.backend_key_policy(r, labels))
        for ns in sorted({r.namespace for r in args.routes}):
            docs.append(spec.reference_grant(ns, labels))
        for doc in docs:
            m = doc["metadata"]
            custom_resource(resource_name(name, f"{doc['kind'].lower()}-{m['namespace']}-{m['name']}"), doc, after)
        policies = net.gateway_network_policies(
            args.routes, labels=labels, monitoring_namespace=args.monitoring_namespace
        )
        for policy_name, policy in zip(net.POLICY_NAMES, policies, strict=True):
            k8s.networking.v1.NetworkPolicy(resource_name(name, f"netpol-{policy_name}"), policy, opts=after)
        pickers = [self._picker(name, r, args, after) for r in args.routes if r.pool]
        if args.tailnet_host is not None:
            if args.tailnet_operator is None:
                raise ValueError("InferenceGatewayArgs: a tailnet gateway needs tailnet_operator")
            k8s.networking.v1.Ingress(
                resource_name(name, "tailnet"),
                net.tailnet_ingress(args.env, labels),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*crds, args.tailnet_operator]),
            )
        if args.monitoring_namespace is not None:
            self._observability(name, args, pickers, labels)
        self.base_url = pulumi.Output.from_input(spec.base_url(tailnet_host=args.tailnet_host))
        self.register_outputs({"base_url": self.base_url, "client_keys": self.client_keys})

    def _charts(self, name: str, args: InferenceGatewayArgs) -> list[pulumi.Resource]:
        """The three releases in order (CRDs before the controller), and the InferencePool CRD."""
        ns_opts = list(args.depends_on)
        gateway_crds = pinned_release(
            self,
            resource_name(name, "gateway-api-crds"),
            GATEWAY_API_CRDS,
            namespace=args.namespace,
            values=spec.gateway_crds_values(),
            preinstalled=args.preinstalled,
        )
        own_crds = pinned_release(
            self,
            resource_name(name, "agentgateway-crds"),
            AGENTGATEWAY_CRDS,
            namespace=args.namespace,
            values={},
            preinstalled=args.preinstalled,
        )
        crds: list[pulumi.Resource] = [r for r in (gateway_crds, own_crds) if r is not None]
        if AGENTGATEWAY.name not in args.preinstalled:
            crds.append(
                k8s.yaml.v2.ConfigFile(
                    resource_name(name, "inferencepool-crd"),
                    file=INFERENCE_POOL_CRD,
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        controller = pinned_release(
            self,
            resource_name(name, "controller"),
            AGENTGATEWAY,
            namespace=args.namespace,
            values=spec.agentgateway_values(
                replicas=2 if args.replicas > 1 else 1,
                monitoring=args.monitoring_namespace is not None,
                node_selector=args.node_selector,
            ),
            depends_on=[*crds, *ns_opts, *([args.monitoring] if args.monitoring else [])],
            preinstalled=args.preinstalled,
            image_digests=args.chart_digests.get(AGENTGATEWAY.name),
        )
        return [*crds, *([controller] if controller else [])]

    def _picker(
        self, name: str, r: GatewayRoute, args: InferenceGatewayArgs, after: pulumi.ResourceOptions
    ) -> picker.PickerSpec:
        p = picker.PickerSpec(
            fleet=r.fleet,
            namespace=r.namespace,
            pool=spec.backend_name(r),
            pod_labels=net.fleet_pods(r),
            target_port=r.port,
            image=args.picker_image,
            hold_seconds=args.hold_seconds,
            env=args.env,
            team=args.team,
            replicas=2 if args.replicas > 1 else 1,
            monitoring_namespace=args.monitoring_namespace,
        )
        base = resource_name(name, p.name)
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        account = k8s.core.v1.ServiceAccount(f"{base}-sa", picker.service_account_args(p), opts=child)
        role = k8s.rbac.v1.Role(f"{base}-role", picker.role_args(p), opts=child)
        binding = k8s.rbac.v1.RoleBinding(f"{base}-rolebinding", picker.role_binding_args(p), opts=child)
        config = k8s.core.v1.ConfigMap(f"{base}-config", picker.config_map_args(p), opts=child)
        k8s.networking.v1.NetworkPolicy(
            f"{base}-netpol", picker.network_policy_args(p, list(args.api_cidrs), args.api_ports), opts=child
        )
        k8s.apps.v1.Deployment(
            f"{base}-deployment",
            picker.deployment_args(p),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[account, role, binding, config]),
        )
        k8s.core.v1.Service(f"{base}-service", picker.service_args(p), opts=child)
        if p.replicas > 1:
            k8s.policy.v1.PodDisruptionBudget(f"{base}-pdb", picker.pdb_args(p), opts=child)
        custom_resource(f"{base}-pool", picker.inference_pool(p), after)
        return p

    def _observability(
        self, name: str, args: InferenceGatewayArgs, pickers: list[picker.PickerSpec], labels: Mapping[str, str]
    ) -> None:
        assert args.monitoring_namespace is not None
        after_crd = pulumi.ResourceOptions(
            parent=self, depends_on=[*args.depends_on, *([args.monitoring] if args.monitoring else [])]
        )
        for p in pickers:
            custom_resource(resource_name(name, f"{p.name}-servicemonitor"), picker.service_monitor(p), after_crd)
        if pickers:
            rule = obs.picker_alert_rule(pickers, args.monitoring_namespace, labels, severity=args.alert_severity)
            custom_resource(resource_name(name, "rules"), rule, after_crd)
        k8s.core.v1.ConfigMap(
            resource_name(name, "dashboard"),
            obs.dashboard_config_map_args(args.monitoring_namespace, labels),
            opts=after_crd,
        )
