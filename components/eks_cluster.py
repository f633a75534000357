"""``EksCluster``: a hardened EKS control plane with its system node group and core add-ons.

Secure defaults: a customer KMS key (rotation on) for secrets envelope encryption, node
volumes and the control-plane log group; control-plane logs with retention; a private API
endpoint (public only in dev, only from listed CIDRs); access entries (API authentication
mode) instead of aws-auth; an OIDC provider for IRSA; vpc-cni with NetworkPolicy enforcement
(EKS ignores NetworkPolicies otherwise); a node role with only the four node policies.
The Kubernetes provider is *not* made here: ``__main__`` builds it from ``kubeconfig``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.core.naming import resource_name
from components.core.settings import EKS_SERVICE_CIDR, EksSettings
from components.resources.irsa import irsa_role
from components.specs import aws_iam
from components.specs.namespace import OPERATOR_GROUP
from components.specs.node_pool import al2023_user_data, launch_template_args

TYPE = "ai-infra:aws:EksCluster"
ACCESS_POLICY = "arn:aws:eks::aws:cluster-access-policy/"


def kubeconfig_json(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig that authenticates with ``aws eks get-token`` (no long-lived credentials)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}
            ],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


@dataclass(frozen=True, kw_only=True)
class EksClusterArgs:
    cluster_name: str
    """EKS cluster name (explicit: the log group name must be known before the cluster exists)."""
    kubernetes_version: str
    eks: EksSettings
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]
    account_id: str
    region: str
    tags: dict[str, str]
    efs_csi: bool = False
    """Install the EFS CSI driver add-on (shared storage on EFS)."""
    protect_data: bool = False
    """Protect and retain the KMS key and log group (prod)."""
    admin_principal_arns: list[str] = field(default_factory=list)
    operator_principal_arns: list[str] = field(default_factory=list)
    """Access entries in the operators' Kubernetes group (the workload namespaces' operator Role)."""
    viewer_principal_arns: list[str] = field(default_factory=list)
    cluster_tags: dict[str, str] = field(default_factory=dict)
    """Extra tags on the cluster only (the stack's cost estimate and budget)."""


class EksCluster(pulumi.ComponentResource):
    """Children: KMS key + alias, LogGroup, cluster and node IAM roles, Cluster, access entries,
    OIDC provider, system LaunchTemplate + NodeGroup, add-ons (vpc-cni, coredns, kube-proxy,
    EBS CSI, EFS CSI) with IRSA roles for the CSI drivers."""

    cluster_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    node_role_name: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        log_group = self._keys_and_logs(name, args)
        cluster_role = self._iam_roles(name, args)
        self._control_plane(name, args, cluster_role, log_group)
        admin_access = self._access_entries(name, args)
        issuer = self.cluster.identities.apply(lambda ids: ids[0]["oidcs"][0]["issuer"])
        self.oidc = aws.iam.OpenIdConnectProvider(
            resource_name(name, "oidc"),
            url=issuer,
            client_id_lists=["sts.amazonaws.com"],
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.vpc_cni = self._vpc_cni(name, args, issuer)
        self._system_pool(name, args)
        self._core_addons(name, args, issuer)
        # What must exist before anything is applied through the Kubernetes provider: the admins'
        # access (prod does not make the creator admin), nodes for Helm's atomic installs, and the
        # CNI with NetworkPolicy enforcement.
        self.kubernetes_ready: list[pulumi.Resource] = [*admin_access, self.system_node_group, self.vpc_cni]
        self._outputs(args, issuer)
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "kubeconfig": self.kubeconfig,
                "oidc_provider_arn": self.oidc_provider_arn,
                "oidc_issuer": self.oidc_issuer,
                "node_role_arn": self.node_role_arn,
                "node_role_name": self.node_role_name,
                "kms_key_arn": self.kms_key_arn,
                "cluster_security_group_id": self.cluster_security_group_id,
            }
        )

    def _keys_and_logs(self, name: str, args: EksClusterArgs) -> aws.cloudwatch.LogGroup:
        """The data key (node and gp3 volumes, logs, ECR), the Secrets-only key, and the
        control-plane log group encrypted with the first (protected and retained in prod)."""
        tags = args.tags
        child = pulumi.ResourceOptions(parent=self)
        log_group_name = f"/aws/eks/{args.cluster_name}/cluster"
        # The key policy names Auto Scaling's service-linked role (node groups launch CMK-encrypted
        # volumes through it); KMS refuses a policy naming a principal that does not exist, and a
        # fresh account has no such role until its first Auto Scaling group.
        key_deps: list[pulumi.Resource] = []
        if args.eks.create_autoscaling_service_linked_role:
            key_deps.append(
                aws.iam.ServiceLinkedRole(
                    resource_name(name, "autoscaling-slr"),
                    aws_service_name="autoscaling.amazonaws.com",
                    tags=tags,
                    opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
                )
            )
        keep = pulumi.ResourceOptions(parent=self, protect=args.protect_data, retain_on_delete=args.protect_data)
        self.kms_key = aws.kms.Key(
            resource_name(name, "kms"),
            description=f"ai-infra {args.cluster_name}: node volumes, gp3 volumes, control-plane logs, ECR",
            enable_key_rotation=True,
            deletion_window_in_days=30 if args.protect_data else 7,
            policy=aws_iam.kms_key_policy(args.account_id, args.region, log_group_name, args.eks.key_admins),
            tags=tags,
            opts=pulumi.ResourceOptions.merge(keep, pulumi.ResourceOptions(depends_on=key_deps)),
        )
        aws.kms.Alias(
            resource_name(name, "kms"), name=f"alias/{args.cluster_name}", target_key_id=self.kms_key.key_id, opts=child
        )
        # Kubernetes Secrets get a key of their own: whoever may decrypt data volumes or logs
        # (the EBS CSI driver, Auto Scaling, CloudWatch Logs) must not unwrap Secrets too. EKS
        # uses it through a grant it creates at cluster creation (the key cannot be changed later).
        self.secrets_key = aws.kms.Key(
            resource_name(name, "secrets-kms"),
            description=f"ai-infra {args.cluster_name}: Kubernetes Secrets envelope encryption only",
            enable_key_rotation=True,
            deletion_window_in_days=30 if args.protect_data else 7,
            policy=aws_iam.admin_only_key_policy(args.account_id, args.eks.key_admins),
            tags=tags,
            opts=keep,
        )
        aws.kms.Alias(
            resource_name(name, "secrets-kms"),
            name=f"alias/{args.cluster_name}-secrets",
            target_key_id=self.secrets_key.key_id,
            opts=child,
        )
        return aws.cloudwatch.LogGroup(
            resource_name(name, "logs"),
            name=log_group_name,
            retention_in_days=args.eks.log_retention_days,
            kms_key_id=self.kms_key.arn,
            tags=tags,
            opts=keep,
        )

    def _iam_roles(self, name: str, args: EksClusterArgs) -> aws.iam.Role:
        """The control plane's role (returned) and the nodes' role (the four node policies and
        SSM sessions only)."""
        child = pulumi.ResourceOptions(parent=self)
        cluster_role = aws.iam.Role(
            resource_name(name, "cluster-role"),
            assume_role_policy=aws_iam.assume_role_policy("eks.amazonaws.com"),
            tags=args.tags,
            opts=child,
        )
        for i, arn in enumerate(aws_iam.CLUSTER_ROLE_POLICIES):
            aws.iam.RolePolicyAttachment(
                resource_name(name, f"cluster-role-{i}"), role=cluster_role.name, policy_arn=arn, opts=child
            )
        self.node_role = aws.iam.Role(
            resource_name(name, "node-role"),
            name=aws_iam.node_role_name(args.cluster_name),
            assume_role_policy=aws_iam.assume_role_policy("ec2.amazonaws.com"),
            tags=args.tags,
            opts=child,
        )
        for arn in aws_iam.NODE_ROLE_POLICIES:
            aws.iam.RolePolicyAttachment(
                resource_name(name, f"node-{arn.rsplit('/', 1)[-1].lower().replace('_', '-')}"),
                role=self.node_role.name,
                policy_arn=arn,
                opts=child,
            )
        aws.iam.RolePolicy(
            resource_name(name, "node-ssm-session"),
            role=self.node_role.id,
            policy=aws_iam.node_ssm_session_policy(),
            opts=child,
        )
        return cluster_role

    def _control_plane(
        self, name: str, args: EksClusterArgs, cluster_role: aws.iam.Role, log_group: aws.cloudwatch.LogGroup
    ) -> None:
        """The cluster: private endpoint (public only where the settings allow, from listed
        CIDRs), Secrets encrypted with their own key, API authentication (access entries)."""
        eks = args.eks
        self.cluster = aws.eks.Cluster(
            resource_name(name, "cluster"),
            name=args.cluster_name,
            version=args.kubernetes_version,
            role_arn=cluster_role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=args.subnet_ids,
                endpoint_private_access=True,
                endpoint_public_access=eks.endpoint_public_access,
                public_access_cidrs=eks.public_access_cidrs if eks.endpoint_public_access else None,
            ),
            # Explicit, so NetworkPolicies can name the `kubernetes` Service's ClusterIP.
            kubernetes_network_config=aws.eks.ClusterKubernetesNetworkConfigArgs(service_ipv4_cidr=EKS_SERVICE_CIDR),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=self.secrets_key.arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=list(eks.log_types),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                # In prod nobody is admin by accident: admins come from access entries below.
                bootstrap_cluster_creator_admin_permissions=not args.protect_data,
            ),
            tags={**args.tags, **args.cluster_tags},
            # The log group must exist first, or EKS creates an unencrypted one without retention.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]),
        )

    def _access_entries(self, name: str, args: EksClusterArgs) -> list[pulumi.Resource]:
        """Access entries per principal; returns the admins' policy associations (what the
        Kubernetes provider must wait for)."""
        admin_access: list[pulumi.Resource] = []
        # Three access levels, never standing cluster-admin for everyone: admins cluster-wide,
        # viewers read (EKS access policies); operators carry the Kubernetes group that each
        # workload namespace's `ai-infra-operator` Role is bound to (no Secret read, no exec:
        # specs/namespace.py operator_rules), not AmazonEKSEditPolicy, which reads Secrets and
        # execs into pods.
        grants = [
            ("admin", args.admin_principal_arns, ACCESS_POLICY + "AmazonEKSClusterAdminPolicy"),
            ("operator", args.operator_principal_arns, None),
            ("viewer", args.viewer_principal_arns, ACCESS_POLICY + "AmazonEKSViewPolicy"),
        ]
        for level, principals, policy_arn in grants:
            for i, principal in enumerate(principals):
                entry = aws.eks.AccessEntry(
                    resource_name(name, f"{level}-{i}"),
                    cluster_name=self.cluster.name,
                    principal_arn=principal,
                    type="STANDARD",
                    kubernetes_groups=[OPERATOR_GROUP] if policy_arn is None else None,
                    tags=args.tags,
                    opts=pulumi.ResourceOptions(parent=self),
                )
                if policy_arn is None:
                    continue
                association = aws.eks.AccessPolicyAssociation(
                    resource_name(name, f"{level}-{i}"),
                    cluster_name=self.cluster.name,
                    principal_arn=principal,
                    policy_arn=policy_arn,
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[entry]),
                )
                if level == "admin":
                    admin_access.append(association)
        return admin_access

    def _addon(
        self,
        name: str,
        args: EksClusterArgs,
        addon_name: str,
        config: dict[str, object] | None = None,
        role_arn: pulumi.Input[str] | None = None,
        needs_nodes: bool = False,
        after: list[pulumi.Resource] | None = None,
    ) -> aws.eks.Addon:
        """One EKS add-on at the newest version for the cluster's Kubernetes version."""
        version = aws.eks.get_addon_version_output(
            addon_name=addon_name, kubernetes_version=args.kubernetes_version, most_recent=True
        )
        return aws.eks.Addon(
            resource_name(name, addon_name),
            cluster_name=self.cluster.name,
            addon_name=addon_name,
            addon_version=version.version,
            configuration_values=json.dumps(config, sort_keys=True) if config else None,
            service_account_role_arn=role_arn,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=args.tags,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*([self.system_node_group] if needs_nodes else []), *(after or [])]
            ),
        )

    def _vpc_cni(self, name: str, args: EksClusterArgs, issuer: pulumi.Output[str]) -> aws.eks.Addon:
        # NetworkPolicies are only enforced when the VPC CNI runs its network policy agent. Its ENI
        # rights are on aws-node's own IRSA role (rule 83), and it is configured before any node
        # starts (as terraform-aws-eks' before_compute does): nodes carry no CNI policy, so a node
        # whose aws-node ran without the role would never get pod IPs.
        cni_role = irsa_role(
            self,
            resource_name(name, "vpc-cni"),
            oidc_provider_arn=self.oidc.arn,
            oidc_issuer=issuer,
            namespace="kube-system",
            service_account="aws-node",
            policy_arns=[aws_iam.CNI_POLICY],
            tags=args.tags,
        )
        config: dict[str, object] = {"enableNetworkPolicy": "true"}
        return self._addon(name, args, "vpc-cni", config, role_arn=cni_role.role.arn, after=cni_role.permissions)

    def _system_pool(self, name: str, args: EksClusterArgs) -> None:
        """The on-demand system node group (AL2023, CMK-encrypted root volume), after the CNI."""
        system_lt = aws.ec2.LaunchTemplate(
            resource_name(name, "system-lt"),
            launch_template_args(
                name_prefix=f"{args.cluster_name}-system-",
                root_volume_gib=50,
                kms_key_arn=self.kms_key.arn,
                user_data=al2023_user_data("none", ""),
                tags={**args.tags, "ai-infra.io/pool": "system"},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        system = args.eks.system_pool
        self.system_node_group = aws.eks.NodeGroup(
            resource_name(name, "system"),
            cluster_name=self.cluster.name,
            node_role_arn=self.node_role.arn,
            subnet_ids=args.subnet_ids,
            ami_type="AL2023_x86_64_STANDARD",
            capacity_type="ON_DEMAND",
            instance_types=list(system.instance_types),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=system.min_size, desired_size=system.desired_size, max_size=system.max_size
            ),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=system_lt.id, version=system_lt.latest_version.apply(str)
            ),
            labels={"ai-infra.io/pool": "system"},
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.vpc_cni]),
        )

    def _core_addons(self, name: str, args: EksClusterArgs, issuer: pulumi.Output[str]) -> None:
        """kube-proxy, coredns and the CSI drivers (EBS; EFS when shared storage is on EFS), each
        driver with its IRSA role."""
        self._addon(name, args, "kube-proxy")
        self._addon(name, args, "coredns", needs_nodes=True)
        # The gp3 default class encrypts with our CMK, so the EBS CSI role needs the key too.
        ebs_kms: dict[str, pulumi.Input[str]] = {"kms": self.kms_key.arn.apply(aws_iam.ebs_csi_kms_policy)}
        # The EFS CSI role gets its rights from SharedStorage, scoped to the file system it creates
        # (the managed policy would cover every file system in the account).
        csi_drivers: list[tuple[str, str, list[str], dict[str, pulumi.Input[str]]]] = [
            ("aws-ebs-csi-driver", "ebs-csi-controller-sa", [aws_iam.EBS_CSI_POLICY], ebs_kms)
        ]
        if args.efs_csi:
            csi_drivers.append(("aws-efs-csi-driver", "efs-csi-controller-sa", [], {}))
        self.efs_csi_role: aws.iam.Role | None = None
        for addon_name, service_account, policies, inline in csi_drivers:
            role = irsa_role(
                self,
                resource_name(name, addon_name),
                oidc_provider_arn=self.oidc.arn,
                oidc_issuer=issuer,
                namespace="kube-system",
                service_account=service_account,
                policy_arns=list(policies),
                tags=args.tags,
                inline_policies=inline,
            )
            if addon_name == "aws-efs-csi-driver":
                self.efs_csi_role = role.role
            # The driver starts using its role at once: wait for the role's permissions, not just its ARN.
            self._addon(name, args, addon_name, role_arn=role.role.arn, needs_nodes=True, after=role.permissions)

    def _outputs(self, args: EksClusterArgs, issuer: pulumi.Output[str]) -> None:
        """The attributes ``register_outputs`` publishes (the kubeconfig stays a secret output)."""
        region = args.region
        self.cluster_name = self.cluster.name
        self.oidc_provider_arn = self.oidc.arn
        self.oidc_issuer = issuer
        self.node_role_arn = self.node_role.arn
        self.node_role_name = self.node_role.name
        self.kms_key_arn = self.kms_key.arn
        # Managed node groups without their own security groups use the cluster security group.
        self.cluster_security_group_id = self.cluster.vpc_config.apply(lambda v: str(v.cluster_security_group_id))
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.cluster.name, self.cluster.endpoint, self.cluster.certificate_authority).apply(
                lambda a: kubeconfig_json(a[0], a[1], a[2]["data"], region)
            )
        )
