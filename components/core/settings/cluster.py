"""Cluster settings: an EKS cluster the program creates, or an existing cluster by kubeconfig.

Field defaults are the secure, production-sane values (private endpoint, NAT per AZ, every
control-plane log); the dev preset relaxes only what it must (see ``presets.py``).
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal, get_args

from pydantic import BeforeValidator, Field, model_validator

from components.core.settings.base import Cidr, K8sName, Settings, check, size_problems

SupportedVersion = Literal["1.32", "1.33", "1.34", "1.35"]
"""EKS versions in standard support that the platform is tested against (rule 55)."""
SUPPORTED_K8S_VERSIONS: tuple[str, ...] = get_args(SupportedVersion)


def _version_text(value: object) -> object:
    """YAML reads ``kubernetesVersion: 1.33`` as a number; minors here have two digits."""
    return f"{value:.2f}" if isinstance(value, float) else value


KubernetesVersion = Annotated[SupportedVersion, BeforeValidator(_version_text)]

PricedRegion = Literal["us-east-1", "us-east-2", "us-west-2"]
"""The regions the platform allows: those the cost report has list prices for
(``components/core/prices.py`` ``REGIONS``; a test keeps the two equal)."""

LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
EKS_LOG_TYPES: tuple[LogType, ...] = get_args(LogType)
EKS_SERVICE_CIDR = "172.20.0.0/16"
"""The cluster's Service range, set explicitly (EKS would pick 10.100/16 or 172.20/16 by the VPC's
CIDR) so the ``kubernetes`` Service's ClusterIP is known to the NetworkPolicies that allow the API."""
EKS_API_SERVICE_IP = "172.20.0.1"
"""The first address of ``EKS_SERVICE_CIDR``: the ``kubernetes`` Service's ClusterIP."""
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653)
"""The retention periods CloudWatch Logs accepts."""


class SystemPoolSettings(Settings):
    """The small on-demand node group for controllers (autoscaler, CoreDNS, operators)."""

    instance_types: list[str] = Field(default_factory=lambda: ["m7i.large"], min_length=1)
    min_size: int = Field(2, ge=1)
    desired_size: int = Field(2, ge=1)
    max_size: int = Field(4, ge=1)

    @model_validator(mode="after")
    def _sizes(self) -> SystemPoolSettings:
        check(size_problems(self.min_size, self.desired_size, self.max_size))
        return self


class EksSettings(Settings):
    """AWS EKS cluster settings (``cluster.mode: aws-eks``)."""

    region: PricedRegion = "us-west-2"
    vpc_cidr: Cidr = "10.40.0.0/16"
    availability_zones: int = Field(3, ge=2, le=3)
    nat_gateways: Literal["single", "per-az"] = "per-az"
    endpoint_public_access: bool = False
    public_load_balancers: bool = False
    """Tag the public subnets for internet-facing load balancers (``kubernetes.io/role/elb``);
    False (prod): a Service of type LoadBalancer gets an internal one only. Dev: true."""
    public_access_cidrs: list[Cidr] = Field(default_factory=list)
    log_types: list[LogType] = Field(default_factory=lambda: list(EKS_LOG_TYPES))
    log_retention_days: int = 90
    admin_principal_arns: list[str] = Field(default_factory=list)
    """Cluster admins (the deployer, break-glass): ``AmazonEKSClusterAdminPolicy`` cluster-wide."""
    operator_principal_arns: list[str] = Field(default_factory=list)
    """Operators: the ``ai-infra-operator`` Role in each workload namespace (through the access entry's
    Kubernetes group): read workloads, logs and events, restart and scale; no Secrets, no exec."""
    viewer_principal_arns: list[str] = Field(default_factory=list)
    """Read-only: ``AmazonEKSViewPolicy`` cluster-wide (no Secrets)."""
    key_admin_principal_arns: list[str] | None = None
    """Who may disable, delete or re-policy the stack's KMS keys (default: adminPrincipalArns).
    Include the role that runs ``pulumi up``: KMS refuses a key policy that locks out its caller."""

    system_pool: SystemPoolSettings = Field(default_factory=SystemPoolSettings)
    create_autoscaling_service_linked_role: bool = False
    """Create ``AWSServiceRoleForAutoScaling`` first: true only in an account that never had an Auto
    Scaling group (the KMS key policy names that role, and KMS rejects unknown principals)."""

    @property
    def key_admins(self) -> list[str]:
        """Who the KMS key policies except from the key-admin guard (aws_iam.key_admin_guard)."""
        chosen = self.admin_principal_arns if self.key_admin_principal_arns is None else self.key_admin_principal_arns
        return list(chosen)

    @model_validator(mode="after")
    def _rules(self) -> EksSettings:
        problems = []
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            problems.append(("logRetentionDays", f"must be one of CloudWatch's values {list(LOG_RETENTION_DAYS)}"))
        if ipaddress.ip_network(self.vpc_cidr).overlaps(ipaddress.ip_network(EKS_SERVICE_CIDR)):
            problems.append(("vpcCidr", f"must not overlap the cluster's Service range {EKS_SERVICE_CIDR}"))
        if self.endpoint_public_access:
            if not self.public_access_cidrs:
                problems.append(("publicAccessCidrs", "must list the CIDRs allowed to reach a public endpoint"))
            wide = [c for c in self.public_access_cidrs if ipaddress.ip_network(c).prefixlen == 0]
            if wide:
                problems.append(("publicAccessCidrs", "must not contain 0.0.0.0/0 or ::/0 (the whole internet)"))
        seen: dict[str, str] = {}
        for key, arns in (
            ("adminPrincipalArns", self.admin_principal_arns),
            ("operatorPrincipalArns", self.operator_principal_arns),
            ("viewerPrincipalArns", self.viewer_principal_arns),
        ):
            for i, arn in enumerate(arns):
                if not arn.startswith("arn:aws:iam::"):
                    problems.append((f"{key}[{i}]", "must be an IAM role or user ARN"))
                elif arn in seen:
                    problems.append((f"{key}[{i}]", f"is already in {seen[arn]}: one access level per principal"))
                else:
                    seen[arn] = key
        for i, arn in enumerate(self.key_admin_principal_arns or []):
            if not arn.startswith("arn:aws:iam::"):
                problems.append((f"keyAdminPrincipalArns[{i}]", "must be an IAM role or user ARN"))
        check(problems)
        return self


class ExistingClusterSettings(Settings):
    """An existing cluster reached by kubeconfig (kind on a laptop, on-prem GPU machines)."""

    kubeconfig: str = Field(min_length=1)
    context: str | None = None
    network_cidrs: list[Cidr] = Field(default_factory=lambda: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])
    """Where the nodes, pods and control plane live: system NetworkPolicies allow the API server
    there (443 and 6443) and Prometheus scrapes there. Narrow it to your cluster's ranges."""


class ClusterSettings(Settings):
    mode: Literal["aws-eks", "existing"] = "aws-eks"
    name: K8sName = "ai-infra"
    kubernetes_version: KubernetesVersion = "1.34"
    eks: EksSettings | None = None
    existing: ExistingClusterSettings | None = None

    @property
    def on_aws(self) -> bool:
        """The program creates the cluster on EKS (else it deploys into an existing one)."""
        return self.mode == "aws-eks"

    @model_validator(mode="after")
    def _mode(self) -> ClusterSettings:
        problems = []
        if self.mode == "aws-eks" and self.eks is None:
            problems.append(("eks", "is required when mode is aws-eks"))
        if self.mode == "existing" and self.existing is None:
            problems.append(("existing.kubeconfig", "is required when mode is existing (path to a kubeconfig)"))
        if self.mode == "existing" and self.eks is not None:
            problems.append(("eks", "applies only when mode is aws-eks; remove it"))
        check(problems)
        return self
