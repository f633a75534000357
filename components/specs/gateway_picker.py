"""Per vLLM fleet behind the gateway: its InferencePool and the endpoint picker (EPP) that
chooses a replica for each request by queue, KV-cache use and prefix-cache hits, and holds
requests while the fleet is at zero (issue 25).

The picker is llm-d/llm-d-router v0.10.0, rendered here rather than with its
``llm-d-router-gateway`` chart (with that chart the InferencePool would live inside a Helm release,
out of reach of our CRD tests and the e2e API server). What the chart renders and what we follow:
``config/charts/routerlib/templates/_deployment.yaml`` (args, ports 9002/9003/9090, probes,
grace period), ``_config.yaml`` (the default plugins and profile), ``_inferencepool.yaml`` and
``llm-d-router-gateway/templates/rbac.yaml`` @ v0.10.0. The config schema is
``apix/config/v1alpha1/endpointpickerconfig_types.go``; flow control (``featureGates:
["flowControl"]``, ``flowControl.defaultRequestTTL``) is ``pkg/epp/flowcontrol/README.md``
("When the pool has no endpoints the queue acts as a scale-from-zero waiting room") @ v0.10.0.
The InferencePool is ``inference.networking.k8s.io/v1`` from gateway-api-inference-extension
``config/crd/bases/inference.networking.k8s.io_inferencepools.yaml`` @ v1.5.0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi_kubernetes as k8s
import yaml

from components.core.labels import selector_labels, standard_labels
from components.core.naming import k8s_name
from components.specs import monitoring
from components.specs.gateway import GATEWAY_NAMESPACE, POOL_GROUP, PROXY_PODS
from components.specs.pod import pull_policy
from components.specs.system_network import PROMETHEUS, cidr_peers, pod_peer, tcp_port

EPP_GRPC_PORT = 9002
EPP_HEALTH_PORT = 9003
EPP_METRICS_PORT = 9090
CONFIG_FILE = "default-plugins.yaml"
TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
QUEUE_METRIC = "llm_d_epp_flow_control_queue_size"
"""Requests the picker holds, by ``inference_pool`` (llm-d-router docs/metrics.md and
pkg/epp/metrics/llm_d_router_metrics.go @ v0.10.0): KEDA wakes a fleet at zero on it, because
vLLM's own queue metric does not exist while no replica runs."""


@dataclass(frozen=True, kw_only=True)
class PickerSpec:
    """One fleet's picker, as plain values."""

    fleet: str
    namespace: str
    pool: str
    """The InferencePool's name: the fleet's resource name (``vllm-<fleet>``)."""
    pod_labels: Mapping[str, str]
    """The fleet's pods' selector labels (what the pool selects)."""
    target_port: int
    image: str
    hold_seconds: int
    env: str
    team: str
    replicas: int = 1
    monitoring_namespace: str | None = None

    @property
    def name(self) -> str:
        return k8s_name(self.pool, "epp")

    @property
    def labels(self) -> dict[str, str]:
        return standard_labels(env=self.env, team=self.team, app="epp", component="endpoint-picker", instance=self.name)

    @property
    def selector(self) -> dict[str, str]:
        return selector_labels(app="epp", instance=self.name)

    def meta(self, name: str | None = None) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(name=name or self.name, namespace=self.namespace, labels=self.labels)


def inference_pool(p: PickerSpec) -> dict[str, Any]:
    """The fleet's pods on the engine port, with its picker (FailClose: no picker, no request)."""
    return {
        "apiVersion": f"{POOL_GROUP}/v1",
        "kind": "InferencePool",
        "metadata": {"name": p.pool, "namespace": p.namespace, "labels": p.labels},
        "spec": {
            "selector": {"matchLabels": dict(p.pod_labels)},
            "targetPorts": [{"number": p.target_port}],
            "appProtocol": "http",
            "endpointPickerRef": {"name": p.name, "port": {"number": EPP_GRPC_PORT}, "failureMode": "FailClose"},
        },
    }


def picker_config(p: PickerSpec) -> str:
    """The chart's default plugins and weights (``_config.yaml`` @ v0.10.0) plus flow control:
    requests wait up to ``hold_seconds`` for a ready replica (0s would wait without end)."""
    doc = {
        "apiVersion": "llm-d.ai/v1alpha1",
        "kind": "EndpointPickerConfig",
        "featureGates": ["flowControl"],
        "plugins": [
            {"type": "queue-scorer"},
            {"type": "kv-cache-utilization-scorer"},
            {"type": "prefix-cache-scorer"},
            {"type": "metrics-data-source", "parameters": {"scheme": "http", "path": "/metrics"}},
            {"type": "core-metrics-extractor"},
        ],
        "schedulingProfiles": [
            {
                "name": "default",
                "plugins": [
                    {"pluginRef": "queue-scorer", "weight": 2},
                    {"pluginRef": "kv-cache-utilization-scorer", "weight": 2},
                    {"pluginRef": "prefix-cache-scorer", "weight": 3},
                ],
            }
        ],
        "flowControl": {"defaultRequestTTL": f"{max(1, p.hold_seconds)}s"},
    }
    return yaml.safe_dump(doc, sort_keys=False)


def config_map_args(p: PickerSpec) -> k8s.core.v1.ConfigMapInitArgs:
    return k8s.core.v1.ConfigMapInitArgs(metadata=p.meta(), data={CONFIG_FILE: picker_config(p)})


def service_account_args(p: PickerSpec) -> k8s.core.v1.ServiceAccountInitArgs:
    return k8s.core.v1.ServiceAccountInitArgs(metadata=p.meta(), automount_service_account_token=False)


def role_args(p: PickerSpec) -> k8s.rbac.v1.RoleInitArgs:
    """Read the pods it picks from and its pool (``llm-d-router-gateway/templates/rbac.yaml``
    @ v0.10.0; InferenceObjective/InferenceModelRewrite are optional and not installed); leases
    for leader election when it runs more than one replica."""
    read = ["get", "watch", "list"]
    rules = [
        k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=["pods"], verbs=read),
        k8s.rbac.v1.PolicyRuleArgs(api_groups=[POOL_GROUP], resources=["inferencepools"], verbs=read),
        k8s.rbac.v1.PolicyRuleArgs(
            api_groups=["llm-d.ai", "inference.networking.x-k8s.io"],
            resources=["inferenceobjectives", "inferencemodelrewrites"],
            verbs=read,
        ),
    ]
    if p.replicas > 1:
        rules.append(
            k8s.rbac.v1.PolicyRuleArgs(
                api_groups=["coordination.k8s.io"], resources=["leases"], verbs=[*read, "create", "update", "patch"]
            )
        )
    return k8s.rbac.v1.RoleInitArgs(metadata=p.meta(), rules=rules)


def role_binding_args(p: PickerSpec) -> k8s.rbac.v1.RoleBindingInitArgs:
    return k8s.rbac.v1.RoleBindingInitArgs(
        metadata=p.meta(),
        role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=p.name),
        subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=p.name, namespace=p.namespace)],
    )


def _args(p: PickerSpec) -> list[str]:
    args = [
        "--pool-name", p.pool,
        "--pool-namespace", p.namespace,
        "--pool-group", POOL_GROUP,
        "--zap-encoder", "json",
        "--config-file", f"/config/{CONFIG_FILE}",
        "--grpc-health-port", str(EPP_HEALTH_PORT),
        "--tracing=false",
        # Prometheus scrapes without a token; the NetworkPolicy admits only its pods on 9090.
        "--metrics-endpoint-auth=false",
    ]  # fmt: skip
    if p.replicas > 1:
        args.append("--ha-enable-leader-election")
    return args


def _token_volume() -> k8s.core.v1.VolumeArgs:
    """The API token the picker needs (it watches pods and its pool), mounted on its own where the
    client libraries look for it: automounting stays off, as for every other pod."""
    return k8s.core.v1.VolumeArgs(
        name="api-token",
        projected=k8s.core.v1.ProjectedVolumeSourceArgs(
            sources=[
                k8s.core.v1.VolumeProjectionArgs(
                    service_account_token=k8s.core.v1.ServiceAccountTokenProjectionArgs(
                        path="token", expiration_seconds=3600
                    )
                ),
                k8s.core.v1.VolumeProjectionArgs(
                    config_map=k8s.core.v1.ConfigMapProjectionArgs(
                        name="kube-root-ca.crt", items=[k8s.core.v1.KeyToPathArgs(key="ca.crt", path="ca.crt")]
                    )
                ),
                k8s.core.v1.VolumeProjectionArgs(
                    downward_api=k8s.core.v1.DownwardAPIProjectionArgs(
                        items=[
                            k8s.core.v1.DownwardAPIVolumeFileArgs(
                                path="namespace",
                                field_ref=k8s.core.v1.ObjectFieldSelectorArgs(field_path="metadata.namespace"),
                            )
                        ]
                    )
                ),
            ]
        ),
    )


def _probe(p: PickerSpec, kind: str, period: int) -> k8s.core.v1.ProbeArgs:
    service = kind if p.replicas > 1 else "inference-extension"
    return k8s.core.v1.ProbeArgs(
        grpc=k8s.core.v1.GRPCActionArgs(port=EPP_HEALTH_PORT, service=service),
        initial_delay_seconds=5 if kind == "liveness" else None,
        period_seconds=period,
    )


def _env() -> list[k8s.core.v1.EnvVarArgs]:
    return [
        k8s.core.v1.EnvVarArgs(
            name=name,
            value_from=k8s.core.v1.EnvVarSourceArgs(field_ref=k8s.core.v1.ObjectFieldSelectorArgs(field_path=path)),
        )
        for name, path in (("NAMESPACE", "metadata.namespace"), ("POD_NAME", "metadata.name"))
    ]


def deployment_args(p: PickerSpec) -> k8s.apps.v1.DeploymentInitArgs:
    container = k8s.core.v1.ContainerArgs(
        name="epp",
        image=p.image,
        image_pull_policy=pull_policy(p.image),
        args=_args(p),
        ports=[
            k8s.core.v1.ContainerPortArgs(name="grpc", container_port=EPP_GRPC_PORT),
            k8s.core.v1.ContainerPortArgs(name="grpc-health", container_port=EPP_HEALTH_PORT),
            k8s.core.v1.ContainerPortArgs(name="metrics", container_port=EPP_METRICS_PORT),
        ],
        env=_env(),
        liveness_probe=_probe(p, "liveness", 10),
        readiness_probe=_probe(p, "readiness", 2),
        # A CPU limit here, unlike the model servers (whose waiver is in model_workloads.py): the
        # picker is a small Go scorer, two cores leave it ample headroom and checkov's CKV_K8S_11
        # holds without a waiver.
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "250m", "memory": "512Mi"}, limits={"cpu": "2", "memory": "2Gi"}
        ),
        security_context=k8s.core.v1.SecurityContextArgs(
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            run_as_non_root=True,
            capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        ),
        volume_mounts=[
            k8s.core.v1.VolumeMountArgs(name="config", mount_path="/config", read_only=True),
            k8s.core.v1.VolumeMountArgs(name="api-token", mount_path=TOKEN_PATH, read_only=True),
        ],
    )
    pod = k8s.core.v1.PodSpecArgs(
        service_account_name=p.name,
        automount_service_account_token=False,
        termination_grace_period_seconds=130,
        security_context=k8s.core.v1.PodSecurityContextArgs(
            # Dockerfile.epp @ v0.10.0: USER 65532:65532.
            run_as_non_root=True,
            run_as_user=65532,
            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
        ),
        containers=[container],
        volumes=[
            k8s.core.v1.VolumeArgs(name="config", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=p.name)),
            _token_volume(),
        ],
    )
    return k8s.apps.v1.DeploymentInitArgs(
        metadata=p.meta(),
        spec=k8s.apps.v1.DeploymentSpecArgs(
            replicas=p.replicas,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=p.selector),
            template=k8s.core.v1.PodTemplateSpecArgs(metadata=k8s.meta.v1.ObjectMetaArgs(labels=p.labels), spec=pod),
        ),
    )


def service_args(p: PickerSpec) -> k8s.core.v1.ServiceInitArgs:
    """What the pool's ``endpointPickerRef`` names: ext_proc on 9002 (h2c), metrics on 9090."""
    return k8s.core.v1.ServiceInitArgs(
        metadata=p.meta(),
        spec=k8s.core.v1.ServiceSpecArgs(
            type="ClusterIP",
            selector=p.selector,
            ports=[
                k8s.core.v1.ServicePortArgs(
                    name="grpc-ext-proc",
                    port=EPP_GRPC_PORT,
                    target_port=EPP_GRPC_PORT,
                    app_protocol="kubernetes.io/h2c",
                ),
                k8s.core.v1.ServicePortArgs(name="http-metrics", port=EPP_METRICS_PORT, target_port=EPP_METRICS_PORT),
            ],
        ),
    )


def service_monitor(p: PickerSpec) -> dict[str, Any]:
    return monitoring.service_monitor(p.name, p.namespace, p.labels, p.selector, port="http-metrics", path="/metrics")


def _tcp(*ports: int) -> list[k8s.networking.v1.NetworkPolicyPortArgs]:
    return [tcp_port(port) for port in ports]


def network_policy_args(
    p: PickerSpec, api_peers: list[str], api_ports: tuple[int, ...]
) -> k8s.networking.v1.NetworkPolicyInitArgs:
    """In: the gateway's proxies on 9002, Prometheus on 9090. Out: the fleet's pods (metrics
    scrapes) and the API server (its watches); DNS comes from the namespace's allow-dns."""
    ingress = [
        k8s.networking.v1.NetworkPolicyIngressRuleArgs(
            from_=[pod_peer(PROXY_PODS, GATEWAY_NAMESPACE)], ports=_tcp(EPP_GRPC_PORT)
        )
    ]
    if p.monitoring_namespace:
        ingress.append(
            k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                from_=[pod_peer(PROMETHEUS, p.monitoring_namespace)], ports=_tcp(EPP_METRICS_PORT)
            )
        )
    api = cidr_peers(api_peers)
    return k8s.networking.v1.NetworkPolicyInitArgs(
        metadata=p.meta(),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=p.selector),
            policy_types=["Ingress", "Egress"],
            ingress=ingress,
            egress=[
                k8s.networking.v1.NetworkPolicyEgressRuleArgs(to=[pod_peer(p.pod_labels)], ports=_tcp(p.target_port)),
                k8s.networking.v1.NetworkPolicyEgressRuleArgs(to=api, ports=_tcp(*api_ports)),
            ],
        ),
    )


def picker_queue_query(namespace: str, pool: str) -> str:
    """PromQL: requests the pool's picker holds (KEDA's trigger adds it to the engine's queue)."""
    return f'sum({QUEUE_METRIC}{{namespace="{namespace}",inference_pool="{pool}"}})'


def gateway_peers(namespace: str, picker: str | None) -> list[k8s.networking.v1.NetworkPolicyPeerArgs]:
    """Who may call a fleet behind the gateway: the proxies, and its own picker."""
    peers = [pod_peer(PROXY_PODS, GATEWAY_NAMESPACE)]
    if picker is not None:
        peers.append(pod_peer(selector_labels(app="epp", instance=picker)))
    return peers


def pdb_args(p: PickerSpec) -> k8s.policy.v1.PodDisruptionBudgetInitArgs:
    """With two pickers (leader election), a drain keeps one."""
    return k8s.policy.v1.PodDisruptionBudgetInitArgs(
        metadata=p.meta(),
        spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
            max_unavailable=1, selector=k8s.meta.v1.LabelSelectorArgs(match_labels=p.selector)
        ),
    )
