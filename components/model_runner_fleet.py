"""``ModelRunnerFleet``: one model served by any engine in ``ENGINES`` (vLLM, SGLang,
Ollama), from one ``ModelSpec``.

All specs come from ``components/specs/`` (``model_runner``, ``weight_staging``, ``model_workloads``,
``model_serving``); this component only wires them:
ServiceAccount, the API key / HF token Secrets (from ``Output`` secrets, never literals; a prod
fleet that names no API key gets a generated one),
the Deployment (StatefulSet for a per-replica NVMe cache), a ClusterIP Service, a tailnet
Ingress (``https://<fleet>-<env>.<tailnet>``) when exposed there, a PodDisruptionBudget when it
can run more than one replica, autoscaling when max > min (KEDA on queue depth where the engine
exports it, else a CPU HPA), a ServiceMonitor when monitoring is on and the engine has metrics,
and the fleet's NetworkPolicy. With a shared cache, a staging Job per weights revision (with its
own egress policy) runs first: it is the only part of the fleet that reaches the internet.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.core.naming import resource_name
from components.resources.custom_resource import custom_resource
from components.resources.irsa import irsa_role
from components.specs import aws_iam, weights_s3
from components.specs import model_runner as spec
from components.specs import model_serving as serving
from components.specs import model_workloads as workloads
from components.specs import weight_staging as staging

TYPE = "ai-infra:models:ModelRunnerFleet"


@dataclass(frozen=True, kw_only=True)
class WeightsS3Args:
    """``cache: s3``: the environment's weights bucket and the cluster's IRSA identity."""

    bucket_name: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    tags: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class ModelRunnerFleetArgs:
    fleet: spec.FleetSpec
    api_key: pulumi.Output[str] | None = None
    """Secret Output with the API key from ``--secret`` config; must already be secret."""
    generate_api_key: bool = False
    """Generate the API key instead (a ``random.RandomPassword``: prod fleets that name none).
    ``fleet.api_key_secret`` is set iff one of the two is."""
    hf_token: pulumi.Output[str] | None = None
    """Secret Output with the Hugging Face token (set iff fleet.hf_token_secret)."""
    prometheus_url: pulumi.Input[str] = ""
    """Where KEDA reads queue depth (autoscaled fleets of engines with a queue metric)."""
    prometheus_external: bool = False
    """That Prometheus is outside the stack (declared in settings), so the ScaledObject says so."""
    keda: pulumi.Resource | None = None
    """The KEDA install; ScaledObjects wait for its CRDs."""
    service_monitor: bool = False
    """Emit a ServiceMonitor (only when the monitoring stack, and so its CRD, exists)."""
    monitoring: pulumi.Resource | None = None
    """The monitoring stack that installs the ServiceMonitor CRD: the ServiceMonitor waits for it
    (the provider retries "no matches for kind" only ~60 s, less than a first install takes)."""
    tailnet_operator: pulumi.Resource | None = None
    """The Tailscale operator (its IngressClass) a tailnet fleet's Ingress waits for."""
    depends_on: list[pulumi.Resource] | None = None
    """Namespace and model cache the pods need."""
    s3: WeightsS3Args | None = None
    """Exactly when the fleet's cache is s3: a read-only role for the servers, a write role for staging."""


class ModelRunnerFleet(pulumi.ComponentResource):
    """Children: the generated API key (RandomPassword, when asked), ServiceAccount, Secrets, the
    weight-staging Job and its NetworkPolicy (shared cache), Deployment|StatefulSet, Service,
    Ingress (tailnet), PodDisruptionBudget, ScaledObject|HorizontalPodAutoscaler, ServiceMonitor,
    NetworkPolicy."""

    endpoint: pulumi.Output[str]
    """In-cluster OpenAI-compatible base URL."""
    api_key: pulumi.Output[str] | None
    """The fleet's API key, a secret Output (None: the API is unauthenticated)."""
    service_name: pulumi.Output[str]
    namespace: pulumi.Output[str]

    def __init__(self, name: str, args: ModelRunnerFleetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        f = args.fleet
        keyed = args.api_key is not None or args.generate_api_key
        if (
            (f.api_key_secret is None) == keyed
            or (args.api_key is not None and args.generate_api_key)
            or (f.hf_token_secret is None) != (args.hf_token is None)
        ):
            raise ValueError("ModelRunnerFleetArgs: api_key/hf_token must be given exactly when the fleet names them")
        if (args.s3 is not None) != (f.spec.cache == "s3"):
            raise ValueError("ModelRunnerFleetArgs: s3 must be given exactly when the fleet's cache is s3")
        after = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on or []))
        api_key = args.api_key
        if args.generate_api_key:
            # 48 letters and digits (~285 bits); `result` is a secret output of the provider.
            password = random.RandomPassword(
                resource_name(name, "api-key"), length=48, special=False, opts=pulumi.ResourceOptions(parent=self)
            )
            api_key = pulumi.Output.secret(password.result)
        secrets = self._credentials(name, args, api_key, after)
        staged = self._staging(name, args, secrets, after) if f.staged_by_job else []
        workload = self._workload(name, args, [*secrets, *staged])
        service = self._serving(name, args, workload, after)

        self.endpoint = service.metadata.apply(lambda _: f.endpoint)
        self.service_name = service.metadata.apply(lambda m: str(m.name))
        self.namespace = pulumi.Output.from_input(f.namespace)
        self.api_key = api_key
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "service_name": self.service_name,
                "namespace": self.namespace,
                "api_key": self.api_key,
            }
        )

    def _accounts(
        self, name: str, f: spec.FleetSpec, args: ModelRunnerFleetArgs, after: pulumi.ResourceOptions
    ) -> list[pulumi.Resource]:
        """The fleet's ServiceAccount; with S3 an IRSA read role on it, and the stager's own account
        with the write role (both on the fleet's prefix only), each after its role's permissions."""
        if args.s3 is None:
            return [
                k8s.core.v1.ServiceAccount(resource_name(name, "sa"), workloads.service_account_args(f), opts=after)
            ]
        s3 = args.s3
        prefix = weights_s3.weights_prefix(f.namespace, f.name)
        accounts: list[pulumi.Resource] = []
        for role, account, policy in (
            ("read", f.resource_name, weights_s3.read_policy),
            ("write", weights_s3.stager_account(f.resource_name), aws_iam.s3_prefix_policy),
        ):
            document = pulumi.Output.all(s3.bucket_name, s3.kms_key_arn).apply(
                lambda v, p=policy: p(v[0], prefix, v[1])  # type: ignore[misc]
            )
            irsa = irsa_role(
                self,
                resource_name(name, f"weights-{role}"),
                oidc_provider_arn=s3.oidc_provider_arn,
                oidc_issuer=s3.oidc_issuer,
                namespace=f.namespace,
                service_account=account,
                policy_arns=[],
                tags=s3.tags,
                inline_policies={"weights": document},
            )
            accounts.append(
                k8s.core.v1.ServiceAccount(
                    resource_name(name, "sa" if role == "read" else "stager-sa"),
                    workloads.service_account_args(f, irsa.role.arn, account),
                    opts=pulumi.ResourceOptions.merge(after, pulumi.ResourceOptions(depends_on=irsa.permissions)),
                )
            )
        return accounts

    def _credentials(
        self,
        name: str,
        args: ModelRunnerFleetArgs,
        api_key: pulumi.Output[str] | None,
        after: pulumi.ResourceOptions,
    ) -> list[pulumi.Resource]:
        """The ServiceAccount and the credential Secrets: what every pod of the fleet waits for."""
        f = args.fleet
        # Pods name the ServiceAccount: a ReplicaSet created before it fails its first pods
        # (FailedCreate "serviceaccount not found"; make e2e asserts no such event).
        secrets: list[pulumi.Resource] = self._accounts(name, f, args, after)
        pairs: list[tuple[str | None, str, pulumi.Output[str] | None]] = [
            (f.api_key_secret, "api-key", api_key),
            (f.hf_token_secret, "token", args.hf_token),
        ]
        for secret_name, key, value in pairs:
            if secret_name and value is not None:
                secrets.append(
                    k8s.core.v1.Secret(
                        resource_name(name, secret_name), workloads.secret_args(f, secret_name, key, value), opts=after
                    )
                )
        return secrets

    def _staging(
        self, name: str, args: ModelRunnerFleetArgs, secrets: list[pulumi.Resource], after: pulumi.ResourceOptions
    ) -> list[pulumi.Resource]:
        """The download's own egress first, then the Job; `pulumi up` waits for it to finish
        (pulumi-kubernetes awaits Jobs until Complete, 10 minutes by default: raised here)."""
        f = args.fleet
        stage_netpol = k8s.networking.v1.NetworkPolicy(
            resource_name(name, "stage-netpol"), serving.stage_network_policy_args(f), opts=after
        )
        timeout = f"{staging.STAGE_TIMEOUT_S // 60}m"
        job = k8s.batch.v1.Job(
            resource_name(name, "stage"),
            staging.stage_job_args(f),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*(args.depends_on or []), *secrets, stage_netpol],
                custom_timeouts=pulumi.CustomTimeouts(create=timeout, update=timeout),
            ),
        )
        return [job]

    def _workload(self, name: str, args: ModelRunnerFleetArgs, before: list[pulumi.Resource]) -> pulumi.CustomResource:
        f = args.fleet
        opts = pulumi.ResourceOptions(
            parent=self,
            depends_on=[*(args.depends_on or []), *before],
            # The autoscaler owns the replica count once it exists.
            ignore_changes=["spec.replicas"] if f.spec.autoscaled else None,
        )
        if f.stateful:
            return k8s.apps.v1.StatefulSet(resource_name(name, "statefulset"), workloads.statefulset_args(f), opts=opts)
        return k8s.apps.v1.Deployment(resource_name(name, "deployment"), workloads.deployment_args(f), opts=opts)

    def _serving(
        self,
        name: str,
        args: ModelRunnerFleetArgs,
        workload: pulumi.CustomResource,
        after: pulumi.ResourceOptions,
    ) -> k8s.core.v1.Service:
        """The Service and what is around it: tailnet Ingress, PDB, autoscaling, ServiceMonitor, NetworkPolicy."""
        f = args.fleet
        service = k8s.core.v1.Service(resource_name(name, "service"), serving.service_args(f), opts=after)
        if f.spec.exposure == "tailnet":
            if args.tailnet_operator is None:
                raise ValueError(
                    "ModelRunnerFleetArgs: a tailnet fleet needs tailnet_operator (settings require the mesh)"
                )
            k8s.networking.v1.Ingress(
                resource_name(name, "tailnet"),
                serving.tailnet_ingress(f),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[service, args.tailnet_operator]),
            )
        if f.spec.replicas.max > 1:
            k8s.policy.v1.PodDisruptionBudget(resource_name(name, "pdb"), serving.pdb_args(f), opts=after)
        if f.spec.autoscaled and f.engine.autoscaler == "keda":
            custom_resource(
                resource_name(name, "scaledobject"),
                serving.scaled_object(f, args.prometheus_url, external=args.prometheus_external),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[workload, *([args.keda] if args.keda else [])]),
            )
        elif f.spec.autoscaled:
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                resource_name(name, "hpa"),
                serving.hpa_args(f),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[workload]),
            )
        if args.service_monitor and f.engine.metrics_path:
            after_crd = pulumi.ResourceOptions(
                parent=self, depends_on=[*(args.depends_on or []), *([args.monitoring] if args.monitoring else [])]
            )
            custom_resource(resource_name(name, "servicemonitor"), serving.service_monitor(f), opts=after_crd)
        k8s.networking.v1.NetworkPolicy(resource_name(name, "netpol"), serving.network_policy_args(f), opts=after)
        return service
