"""Cluster components under the recording mocks: what each registers, with which inputs."""

from __future__ import annotations

import base64
import json
from typing import Any

import pulumi
import yaml

from components.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from components.core.labels import aws_tags
from components.eks_cluster import EksCluster, EksClusterArgs
from components.gpu_node_pool import GpuNodePool, GpuNodePoolArgs
from components.gpu_software import GpuSoftware, GpuSoftwareArgs
from components.network import Network, NetworkArgs, subnet_cidrs
from components.scheduling import SchedulingGuardrails, SchedulingGuardrailsArgs
from components.specs import aws_iam
from planner.mocks import RecordingMonitor, Registration
from tests.conftest import build_under_mocks, settings_for

TAGS = aws_tags(env="prod", team="ml", cost_center="cc")


def _eks(prod: bool = True, efs: bool = True, **overrides: Any) -> RecordingMonitor:
    settings = settings_for("prod" if prod else "dev", **overrides)
    assert settings.cluster.eks is not None
    eks = settings.cluster.eks
    return build_under_mocks(
        lambda: EksCluster(
            "eks",
            EksClusterArgs(
                cluster_name="ai-infra-prod",
                kubernetes_version="1.34",
                eks=eks,
                vpc_id="vpc-1",
                subnet_ids=["s1", "s2"],
                account_id="123456789012",
                region="us-west-2",
                tags=TAGS,
                efs_csi=efs,
                protect_data=prod,
                admin_principal_arns=list(eks.admin_principal_arns),
                operator_principal_arns=list(eks.operator_principal_arns),
                viewer_principal_arns=list(eks.viewer_principal_arns),
            ),
        )
    )


def test_eks_cluster_is_private_encrypted_and_logged_in_prod() -> None:
    m = _eks()
    cluster = m.by_type("aws:eks/cluster:Cluster")[0]
    vpc = cluster.inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["endpointPublicAccess"] is False
    assert cluster.inputs["encryptionConfig"]["resources"] == ["secrets"]
    assert cluster.inputs["encryptionConfig"]["provider"]["keyArn"].startswith("arn:aws:kms:")
    assert set(cluster.inputs["enabledClusterLogTypes"]) == {
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    }
    assert cluster.inputs["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    log_group = m.by_type("aws:cloudwatch/logGroup:LogGroup")[0]
    assert log_group.inputs["name"] == "/aws/eks/ai-infra-prod/cluster"
    assert log_group.inputs["retentionInDays"] == 365 and log_group.inputs["kmsKeyId"].startswith("arn:aws:kms:")
    assert log_group.urn in cluster.dependencies


def test_prod_keys_and_logs_are_protected_and_retained() -> None:
    m = _eks()
    assert len(m.by_type("aws:kms/key:Key")) == 2
    for reg in [*m.by_type("aws:kms/key:Key"), *m.by_type("aws:cloudwatch/logGroup:LogGroup")]:
        assert reg.protect and reg.retain_on_delete, reg.name
        if reg.type == "aws:kms/key:Key":
            assert reg.inputs["enableKeyRotation"] is True and reg.inputs["deletionWindowInDays"] == 30
    for dev in _eks(prod=False).by_type("aws:kms/key:Key"):
        assert not dev.protect and dev.inputs["deletionWindowInDays"] == 7


def _keys(m: RecordingMonitor) -> tuple[Registration, Registration]:
    (secrets,) = [k for k in m.by_type("aws:kms/key:Key") if "Secrets" in k.inputs["description"]]
    (data,) = [k for k in m.by_type("aws:kms/key:Key") if k is not secrets]
    return secrets, data


def test_secrets_have_their_own_key_and_only_key_admins_can_destroy_either() -> None:
    m = _eks(cluster={"eks": {"keyAdminPrincipalArns": ["arn:aws:iam::123456789012:role/key-admin"]}})
    secrets, data = _keys(m)
    (cluster,) = m.by_type("aws:eks/cluster:Cluster")
    assert cluster.inputs["encryptionConfig"]["provider"]["keyArn"] == secrets.outputs["arn"]
    (log_group,) = m.by_type("aws:cloudwatch/logGroup:LogGroup")
    assert log_group.inputs["kmsKeyId"] == data.outputs["arn"]
    for key in (secrets, data):
        statements = {st["Sid"]: st for st in json.loads(key.inputs["policy"])["Statement"]}
        guard = statements["OnlyKeyAdminsDisableDeleteOrRepolicy"]
        assert guard["Effect"] == "Deny" and set(guard["Action"]) == set(aws_iam.KEY_ADMIN_ACTIONS)
        # The root user always recovers the key; the key admin replaces the cluster admins.
        assert guard["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [
            "arn:aws:iam::123456789012:root",
            "arn:aws:iam::123456789012:role/key-admin",
        ]
    # Only the data key serves CloudWatch Logs and Auto Scaling; the Secrets key serves no service.
    secrets_sids = {st["Sid"] for st in json.loads(secrets.inputs["policy"])["Statement"]}
    assert secrets_sids == {"AccountAdministers", "OnlyKeyAdminsDisableDeleteOrRepolicy"}
    # Key admins default to the cluster admins; none listed (a dev stack): no guard to lock anyone out.
    default_guard = json.loads(_keys(_eks())[0].inputs["policy"])["Statement"][-1]
    assert default_guard["Condition"]["ArnNotLike"]["aws:PrincipalArn"][1:] == sorted(
        settings_for("prod").cluster.eks.admin_principal_arns
    )
    dev_secrets, _ = _keys(_eks(prod=False, cluster={"eks": {"adminPrincipalArns": []}}))
    assert "OnlyKeyAdmins" not in dev_secrets.inputs["policy"]


def test_node_role_has_only_the_worker_and_ecr_policies_and_a_minimal_ssm_policy() -> None:
    m = _eks()
    node_role = next(r for r in m.by_type("aws:iam/role:Role") if "ec2.amazonaws.com" in r.inputs["assumeRolePolicy"])
    attached = {
        r.inputs["policyArn"]
        for r in m.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if node_role.urn in r.dependencies
    }
    assert attached == set(aws_iam.NODE_ROLE_POLICIES)
    assert aws_iam.CNI_POLICY not in attached
    assert not any("SSMManagedInstanceCore" in a for a in attached)
    (ssm,) = [r for r in m.by_type("aws:iam/rolePolicy:RolePolicy") if "ssm" in r.name]
    actions = json.loads(ssm.inputs["policy"])["Statement"][0]["Action"]
    assert "ssm:UpdateInstanceInformation" in actions and not [a for a in actions if "Parameter" in a]


def test_vpc_cni_runs_on_its_own_irsa_role_before_any_node() -> None:
    m = _eks()
    cni = m.get("aws:eks/addon:Addon", "eks-vpc-cni")
    role = next(r for r in m.by_type("aws:iam/role:Role") if "vpc-cni" in r.name)
    trust = role.inputs["assumeRolePolicy"]
    assert "system:serviceaccount:kube-system:aws-node" in trust
    (attachment,) = [
        r for r in m.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if role.urn in r.dependencies
    ]
    assert attachment.inputs["policyArn"] == aws_iam.CNI_POLICY
    assert cni.inputs["serviceAccountRoleArn"] == role.outputs["arn"]
    assert attachment.urn in cni.dependencies  # the addon waits for the permission, not just the role
    system = m.get("aws:eks/nodeGroup:NodeGroup", "eks-system")
    assert cni.urn in system.dependencies


def test_addons_enforce_network_policy_and_use_irsa() -> None:
    m = _eks()
    addons = {r.inputs["addonName"]: r.inputs for r in m.by_type("aws:eks/addon:Addon")}
    assert set(addons) == {"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver", "aws-efs-csi-driver"}
    assert json.loads(addons["vpc-cni"]["configurationValues"]) == {"enableNetworkPolicy": "true"}
    for csi in ("aws-ebs-csi-driver", "aws-efs-csi-driver"):
        assert addons[csi]["serviceAccountRoleArn"].startswith("arn:aws:iam::")
    attached = {r.inputs["policyArn"] for r in m.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
    # The tag-scoped EBS CSI policy, never V1 (which may modify any volume in the account).
    assert "arn:aws:iam::aws:policy/AmazonEBSCSIDriverPolicyV2" in attached
    assert not [a for a in attached if a.endswith("/AmazonEBSCSIDriverPolicy")]
    # The EFS CSI role gets no managed policy: SharedStorage scopes its rights to the file system.
    efs_role = next(r for r in m.by_type("aws:iam/role:Role") if "efs-csi" in r.name)
    assert not [
        r for r in m.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if efs_role.urn in r.dependencies
    ]
    assert "aws-efs-csi-driver" not in {r.inputs["addonName"] for r in _eks(efs=False).by_type("aws:eks/addon:Addon")}


def test_admins_get_access_entries_and_the_oidc_provider_exists() -> None:
    m = _eks()
    assert [r.inputs["principalArn"] for r in m.by_type("aws:eks/accessEntry:AccessEntry")] == [
        "arn:aws:iam::123456789012:role/deployer"
    ]
    oidc = m.by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")[0].inputs
    assert oidc["clientIdLists"] == ["sts.amazonaws.com"] and oidc["url"].startswith("https://oidc.eks.")


def _pool(pool_name: str = "serving", env: str = "prod", **overrides: Any) -> RecordingMonitor:
    settings = settings_for(env, **overrides)
    pool = settings.node_pools[pool_name]
    return build_under_mocks(
        lambda: GpuNodePool(
            f"pool-{pool_name}",
            GpuNodePoolArgs(
                pool_name=pool_name,
                pool=pool,
                cluster_name="ai-infra-prod",
                cluster_name_plain="ai-infra-prod",
                node_role_arn="arn:aws:iam::1:role/node",
                subnet_ids=["s1"],
                kms_key_arn="arn:aws:kms:us-west-2:1:key/k",
                nvme_host_dir="/mnt/nvme-disks",
                env=env,
                team="ml",
                tags=TAGS,
            ),
        )
    )


def test_gpu_pool_taint_labels_and_capacity() -> None:
    ng = _pool().by_type("aws:eks/nodeGroup:NodeGroup")[0].inputs
    assert ng["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert ng["labels"]["nvidia.com/gpu.present"] == "true"
    assert ng["labels"]["ai-infra.io/pool"] == "serving" and ng["labels"]["ai-infra.io/accelerator"] == "l40s"
    assert {ng["labels"][k] for k in ("ai-infra.io/env", "ai-infra.io/team")} == {"prod", "ml"}
    assert ng["amiType"] == "AL2023_x86_64_NVIDIA" and ng["capacityType"] == "ON_DEMAND"
    assert ng["scalingConfig"] == {"minSize": 2, "desiredSize": 2, "maxSize": 4}
    assert "remoteAccess" not in ng


def test_gpu_cap_lowers_max_size() -> None:
    ng = _pool(nodePools={"serving": {"maxSize": 10, "gpuCap": 12}}).by_type("aws:eks/nodeGroup:NodeGroup")[0].inputs
    assert ng["scalingConfig"]["maxSize"] == 3  # 12 GPUs / 4 per g6e.12xlarge


def test_scale_from_zero_tags_are_on_the_asg() -> None:
    m = _pool("gpu", env="dev")
    ng = m.by_type("aws:eks/nodeGroup:NodeGroup")[0].inputs
    assert ng["scalingConfig"]["minSize"] == 0
    tags = {r.inputs["tag"]["key"]: r.inputs["tag"]["value"] for r in m.by_type("aws:autoscaling/tag:Tag")}
    assert tags["k8s.io/cluster-autoscaler/enabled"] == "true"
    assert tags["k8s.io/cluster-autoscaler/ai-infra-prod"] == "owned"
    assert tags["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"] == "1"
    assert tags["k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu"] == "true:NoSchedule"
    assert tags["k8s.io/cluster-autoscaler/node-template/label/nvidia.com/gpu.present"] == "true"
    asg_names = {r.inputs["autoscalingGroupName"] for r in m.by_type("aws:autoscaling/tag:Tag")}
    assert len(asg_names) == 1 and next(iter(asg_names)).startswith("eks-")


def test_time_slicing_multiplies_advertised_gpus() -> None:
    m = _pool("gpu", env="dev", nodePools={"gpu": {"sharing": {"mode": "time-slicing", "replicas": 4}}})
    tags = {r.inputs["tag"]["key"]: r.inputs["tag"]["value"] for r in m.by_type("aws:autoscaling/tag:Tag")}
    assert tags["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"] == "4"
    assert m.by_type("aws:eks/nodeGroup:NodeGroup")[0].inputs["labels"]["nvidia.com/device-plugin.config"] == "gpu"


def _user_data(m: RecordingMonitor) -> str:
    return base64.b64decode(m.by_type("aws:ec2/launchTemplate:LaunchTemplate")[0].inputs["userData"]).decode()


def test_launch_template_imdsv2_encryption_and_nvme_modes() -> None:
    m = _pool()
    lt = m.by_type("aws:ec2/launchTemplate:LaunchTemplate")[0].inputs
    assert lt["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
        "instanceMetadataTags": "disabled",
    }
    ebs = lt["blockDeviceMappings"][0]["ebs"]
    assert ebs["encrypted"] == "true" and ebs["volumeType"] == "gp3" and ebs["kmsKeyId"].startswith("arn:aws:kms:")
    assert '"strategy": "RAID0"' in _user_data(m)
    assert '"maxParallelImagePulls": 5' in _user_data(m)
    training = _user_data(_pool("training"))
    assert '"strategy": "Mount"' in training and '"mountPath": "/mnt/nvme-disks"' in training
    assert "Containerd" in training


def _network(single: bool, prod: bool = False) -> RecordingMonitor:
    return build_under_mocks(
        lambda: Network(
            "network",
            NetworkArgs(
                cluster_name="c",
                vpc_cidr="10.50.0.0/16",
                availability_zones=["a", "b", "c"],
                single_nat=single,
                account_id="123456789012",
                region="us-west-2",
                flow_log_retention_days=365,
                public_load_balancers=not prod,
                retain=prod,
                tags=TAGS,
            ),
        )
    )


def test_network_nat_per_az_in_prod_single_in_dev() -> None:
    build = _network

    assert len(build(False).by_type("aws:ec2/natGateway:NatGateway")) == 3
    assert len(build(True).by_type("aws:ec2/natGateway:NatGateway")) == 1
    subnets = build(True).by_type("aws:ec2/subnet:Subnet")
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets if "public" in s.name)
    private, public = subnet_cidrs("10.50.0.0/16", 3)
    assert private == ["10.50.0.0/18", "10.50.64.0/18", "10.50.128.0/18"] and public[0] == "10.50.192.0/22"


def test_network_records_all_traffic_into_its_own_encrypted_group_and_empties_the_default_sg() -> None:
    m = _network(single=True, prod=True)
    (sg,) = m.by_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert sg.inputs.get("ingress", []) == [] and sg.inputs.get("egress", []) == []
    (flow,) = m.by_type("aws:ec2/flowLog:FlowLog")
    assert flow.inputs["trafficType"] == "ALL" and flow.inputs["logDestinationType"] == "cloud-watch-logs"
    (group,) = [g for g in m.by_type("aws:cloudwatch/logGroup:LogGroup")]
    assert group.inputs["name"] == "/aws/vpc/c/flow-logs" and group.inputs["retentionInDays"] == 365
    (key,) = m.by_type("aws:kms/key:Key")
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] and key.protect and group.protect and group.retain_on_delete
    statements = json.loads(key.inputs["policy"])["Statement"]
    logs = next(s for s in statements if s["Principal"].get("Service"))
    assert logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"].endswith(
        ":log-group:/aws/vpc/c/flow-logs"
    )
    role = next(r for r in m.by_type("aws:iam/role:Role") if "flow-logs" in r.name)
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    (policy,) = m.by_type("aws:iam/rolePolicy:RolePolicy")
    deliver = json.loads(policy.inputs["policy"])["Statement"]
    own = "arn:aws:logs:us-west-2:123456789012:log-group:/aws/vpc/c/flow-logs"
    assert next(s for s in deliver if s["Sid"] == "DeliverToOwnGroup")["Resource"] == [own, f"{own}:*"]


def test_public_subnets_take_internet_facing_load_balancers_only_outside_prod() -> None:
    def elb_tagged(prod: bool) -> list[bool]:
        public = [s for s in _network(True, prod).by_type("aws:ec2/subnet:Subnet") if "public" in s.name]
        return ["kubernetes.io/role/elb" in s.inputs["tags"] for s in public]

    assert elb_tagged(prod=False) == [True, True, True]
    assert elb_tagged(prod=True) == [False, False, False]


def test_cluster_autoscaler_release_and_least_privilege_role() -> None:
    m = build_under_mocks(
        lambda: ClusterAutoscaler(
            "autoscaler",
            ClusterAutoscalerArgs(
                cluster_name="ai-infra-prod",
                kubernetes_version="1.34",
                region="us-west-2",
                namespace="autoscaler",
                oidc_provider_arn="arn:aws:iam::1:oidc-provider/x",
                oidc_issuer="https://oidc.eks.x/id/1",
                serving_pools=["serving"],
                tags=TAGS,
            ),
        )
    )
    release = m.by_type("kubernetes:helm.sh/v3:Release")[0].inputs
    # The chart line made for 1.34 (appVersion 1.34.2) and its newest image patch.
    assert release["chart"] == "cluster-autoscaler" and release["version"] == "9.53.0"
    values = release["values"]
    assert values["autoDiscovery"]["clusterName"] == "ai-infra-prod" and values["image"]["tag"] == "v1.34.5"
    assert values["rbac"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
    assert ".*serving.*" in values["expanderPriorities"]
    trust = json.loads(m.by_type("aws:iam/role:Role")[0].inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Condition"]["StringEquals"]["oidc.eks.x/id/1:sub"] == (
        "system:serviceaccount:autoscaler:cluster-autoscaler"
    )
    policy = json.loads(m.by_type("aws:iam/policy:Policy")[0].inputs["policy"])
    scale = next(s for s in policy["Statement"] if s["Sid"] == "ScaleOwnGroups")
    assert scale["Condition"]["StringEquals"] == {"aws:ResourceTag/k8s.io/cluster-autoscaler/ai-infra-prod": "owned"}


def test_device_plugin_tolerates_gpu_taint_and_carries_sharing() -> None:
    settings = settings_for("dev", nodePools={"gpu": {"sharing": {"mode": "time-slicing", "replicas": 4}}})
    m = build_under_mocks(
        lambda: GpuSoftware(
            "gpu",
            GpuSoftwareArgs(
                stack="device-plugin", namespace="gpu-system", pools=dict(settings.node_pools), accelerated_ami=True
            ),
        )
    )
    values = m.by_type("kubernetes:helm.sh/v3:Release")[0].inputs["values"]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in values["tolerations"]
    # config.map entries are YAML text (the chart indents and fromYaml-parses them).
    assert all(isinstance(text, str) for text in values["config"]["map"].values())
    slicing = yaml.safe_load(values["config"]["map"]["gpu"])["sharing"]["timeSlicing"]
    assert slicing["failRequestsGreaterThanOne"] is True and slicing["resources"] == [
        {"name": "nvidia.com/gpu", "replicas": 4}
    ]


def test_gpu_operator_disables_driver_and_toolkit_on_accelerated_amis() -> None:
    settings = settings_for(
        "prod",
        nodePools={"training": {"sharing": {"mode": "mig", "migStrategy": "mixed", "migProfile": "all-balanced"}}},
    )
    m = build_under_mocks(
        lambda: GpuSoftware(
            "gpu",
            GpuSoftwareArgs(
                stack="gpu-operator", namespace="gpu-system", pools=dict(settings.node_pools), accelerated_ami=True
            ),
        )
    )
    release = m.by_type("kubernetes:helm.sh/v3:Release")[0].inputs
    assert release["chart"] == "gpu-operator"
    values = release["values"]
    assert values["driver"]["enabled"] is False and values["toolkit"]["enabled"] is False
    assert values["mig"]["strategy"] == "mixed" and values["migManager"]["enabled"] is True


def test_scheduling_guardrails() -> None:
    def build(runtime: bool) -> RecordingMonitor:
        return build_under_mocks(
            lambda: SchedulingGuardrails(
                "scheduling",
                SchedulingGuardrailsArgs(
                    labels={"app.kubernetes.io/part-of": "ai-infra"},
                    nvidia_runtime_class=runtime,
                    tenant_namespaces={"models": True, "training": False},
                ),
            )
        )

    m = build(False)
    classes = {
        r.inputs["metadata"]["name"]: r.inputs for r in m.by_type("kubernetes:scheduling.k8s.io/v1:PriorityClass")
    }
    assert classes["gpu-serving"]["value"] > classes["gpu-batch"]["value"]
    assert classes["gpu-batch"]["preemptionPolicy"] == "Never"
    assert m.by_type("kubernetes:node.k8s.io/v1:RuntimeClass") == []
    assert build(True).by_type("kubernetes:node.k8s.io/v1:RuntimeClass")[0].inputs["handler"] == "nvidia"
    # The in-cluster priority guard: the policy with the namespaces' map, and a Deny binding after it.
    (policy,) = m.by_type("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy")
    (binding,) = m.by_type("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding")
    (variable,) = policy.inputs["spec"]["variables"]
    assert "'training': ['gpu-serving', 'system-cluster-critical', 'system-node-critical']" in variable["expression"]
    assert binding.inputs["spec"] == {"policyName": "ai-infra-priority-classes", "validationActions": ["Deny"]}
    assert policy.urn in binding.dependencies


def test_components_parent_every_child() -> None:
    m = _eks()
    component = next(r for r in m.registrations if r.type == "ai-infra:aws:EksCluster")
    assert all(r.parent == component.urn for r in m.registrations if r is not component)
    assert pulumi.get_stack() == "test"


def test_admins_operators_and_viewers_get_their_own_access_level() -> None:
    m = _eks(
        cluster={
            "eks": {
                "operatorPrincipalArns": ["arn:aws:iam::123456789012:role/oncall"],
                "viewerPrincipalArns": ["arn:aws:iam::123456789012:role/auditor"],
            }
        }
    )
    grants = {
        r.inputs["principalArn"].rsplit("/", 1)[-1]: (r.inputs["policyArn"].rsplit("/", 1)[-1], r.inputs["accessScope"])
        for r in m.by_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    }
    assert grants["deployer"] == ("AmazonEKSClusterAdminPolicy", {"type": "cluster"})
    assert grants["auditor"] == ("AmazonEKSViewPolicy", {"type": "cluster"})
    # Operators get no EKS access policy (AmazonEKSEditPolicy reads Secrets and execs into pods):
    # their entry carries the group the namespaces' ai-infra-operator Role is bound to.
    assert "oncall" not in grants
    entries = {
        r.inputs["principalArn"].rsplit("/", 1)[-1]: r.inputs.get("kubernetesGroups")
        for r in m.by_type("aws:eks/accessEntry:AccessEntry")
    }
    assert entries["oncall"] == ["ai-infra:operators"] and entries["auditor"] is None
