"""Pure IAM and KMS policy documents (JSON strings) for the cluster and its controllers.

Built with ``json.dumps`` rather than the ``getPolicyDocument`` invoke so they are plain values
in tests and in the plan. Every document is least-privilege and names its reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi

from components.core.naming import k8s_name

AWS_MANAGED = "arn:aws:iam::aws:policy/"

NODE_ROLE_POLICIES = (
    AWS_MANAGED + "AmazonEKSWorkerNodePolicy",
    AWS_MANAGED + "AmazonEC2ContainerRegistryReadOnly",
)
"""The only managed policies a node role gets (rule 60): workloads use IRSA roles instead. The
VPC CNI's ENI rights live on ``kube-system:aws-node``'s own IRSA role (rule 83), not here, where
anything reaching the instance profile could manage ENIs account-wide."""
CNI_POLICY = AWS_MANAGED + "AmazonEKS_CNI_Policy"
"""For the ``aws-node`` IRSA role only."""


def node_ssm_session_policy() -> str:
    """Session Manager access to nodes without ``AmazonSSMManagedInstanceCore``, which also
    grants ``ssm:GetParameter*`` on every Parameter Store value: only the agent's registration
    and its message channels (EKS Best Practices, "minimal SSM permissions" for nodes)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "SessionManagerAgent",
                    "Effect": "Allow",
                    "Action": [
                        "ssm:UpdateInstanceInformation",
                        "ssmmessages:CreateControlChannel",
                        "ssmmessages:CreateDataChannel",
                        "ssmmessages:OpenControlChannel",
                        "ssmmessages:OpenDataChannel",
                        "ec2messages:AcknowledgeMessage",
                        "ec2messages:DeleteMessage",
                        "ec2messages:FailMessage",
                        "ec2messages:GetEndpoint",
                        "ec2messages:GetMessages",
                        "ec2messages:SendReply",
                    ],
                    "Resource": "*",
                }
            ],
        },
        sort_keys=True,
    )


CLUSTER_ROLE_POLICIES = (AWS_MANAGED + "AmazonEKSClusterPolicy",)


def node_role_name(cluster_name: str) -> str:
    """The node role's explicit name, so its ARN is known before it exists (ECR repository
    policies name it in a first preview). IAM role names are at most 64 characters."""
    return k8s_name(cluster_name, "nodes", max_len=64)


def role_arn(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{name}"


EBS_CSI_POLICY = AWS_MANAGED + "AmazonEBSCSIDriverPolicyV2"
"""V2 acts only on volumes and snapshots tagged ``ebs.csi.aws.com/cluster=true`` (the tag the
driver puts on what it creates); V1 (``service-role/AmazonEBSCSIDriverPolicy``) may modify any EBS
volume in the account. ARN per the AWS managed-policy reference (no ``service-role/`` path;
``docs/research/upstream.md`` g)."""


def efs_csi_policy(file_system_arn: str) -> str:
    """The EFS CSI controller's rights, scoped to one file system: describe it, create access
    points on it (tagged as the driver's, as dynamic provisioning does) and delete only the
    access points the driver tagged. The managed policy's actions (``service-role/AmazonEFSCSIDriverPolicy``,
    not attached: it may create and delete access points on every file system in the account),
    narrowed by resource."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "Zones", "Effect": "Allow", "Action": "ec2:DescribeAvailabilityZones", "Resource": "*"},
                {
                    "Sid": "DescribeOwnFileSystem",
                    "Effect": "Allow",
                    "Action": [
                        "elasticfilesystem:DescribeAccessPoints",
                        "elasticfilesystem:DescribeFileSystems",
                        "elasticfilesystem:DescribeMountTargets",
                    ],
                    "Resource": file_system_arn,
                },
                {
                    "Sid": "CreateAccessPointsOnOwnFileSystem",
                    "Effect": "Allow",
                    "Action": ["elasticfilesystem:CreateAccessPoint", "elasticfilesystem:TagResource"],
                    "Resource": file_system_arn,
                    "Condition": {"StringLike": {"aws:RequestTag/efs.csi.aws.com/cluster": "true"}},
                },
                {
                    "Sid": "DeleteDriverAccessPoints",
                    "Effect": "Allow",
                    "Action": "elasticfilesystem:DeleteAccessPoint",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:ResourceTag/efs.csi.aws.com/cluster": "true"}},
                },
            ],
        },
        sort_keys=True,
    )


def assume_role_policy(service: str, source_account: str | None = None) -> str:
    """Trust one AWS service; with ``source_account`` only on behalf of this account (the
    confused-deputy guard AWS recommends for services acting for many accounts)."""
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


def irsa_trust_policy(oidc_provider_arn: str, oidc_issuer: str, namespace: str, service_account: str) -> str:
    """Trust only one ServiceAccount of this cluster (IRSA), with the sts audience."""
    host = oidc_issuer.removeprefix("https://")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": oidc_provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                            f"{host}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


def irsa_trust_policy_output(
    oidc_provider_arn: pulumi.Input[str], oidc_issuer: pulumi.Input[str], namespace: str, service_account: str
) -> pulumi.Output[str]:
    return pulumi.Output.all(oidc_provider_arn, oidc_issuer).apply(
        lambda a: irsa_trust_policy(a[0], a[1], namespace, service_account)
    )


def ebs_csi_kms_policy(key_arn: str) -> str:
    """What the EBS CSI controller needs to create volumes encrypted with our CMK (the managed
    CSI policies hold no KMS actions; aws-ebs-csi-driver docs/install.md lists these three)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "UseKeyForVolumes",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext"],
                    "Resource": key_arn,
                },
                {
                    "Sid": "GrantKeyToEc2ForAttachedVolumes",
                    "Effect": "Allow",
                    "Action": "kms:CreateGrant",
                    "Resource": key_arn,
                    "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
                },
            ],
        },
        sort_keys=True,
    )


def cluster_autoscaler_policy(cluster_name: str) -> str:
    """Describe everything; change only ASGs tagged as owned by this cluster."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Describe",
                    "Effect": "Allow",
                    "Action": [
                        "autoscaling:DescribeAutoScalingGroups",
                        "autoscaling:DescribeAutoScalingInstances",
                        "autoscaling:DescribeLaunchConfigurations",
                        "autoscaling:DescribeScalingActivities",
                        "autoscaling:DescribeTags",
                        "ec2:DescribeImages",
                        "ec2:DescribeInstanceTypes",
                        "ec2:DescribeLaunchTemplateVersions",
                        "ec2:GetInstanceTypesFromInstanceRequirements",
                        "eks:DescribeNodegroup",
                    ],
                    "Resource": "*",
                },
                {
                    "Sid": "ScaleOwnGroups",
                    "Effect": "Allow",
                    "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}
                    },
                },
            ],
        },
        sort_keys=True,
    )


def logs_key_policy(account_id: str, region: str, log_group_name: str, key_admins: Sequence[str] = ()) -> str:
    """A key for one log group: the account root administers it, CloudWatch Logs uses it for
    that group only (``kms:EncryptionContext:aws:logs:arn``); the key-admin guard on top."""
    statements = json.loads(kms_key_policy(account_id, region, log_group_name))["Statement"]
    kept = [st for st in statements if st["Sid"] in ("AccountAdministers", "CloudWatchLogsForClusterLogGroup")]
    return json.dumps(
        {"Version": "2012-10-17", "Statement": kept + key_admin_guard(account_id, key_admins)}, sort_keys=True
    )


KEY_ADMIN_ACTIONS = ("kms:DisableKey", "kms:DisableKeyRotation", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion")
"""What only key admins may do: each either destroys the data under the key or takes it over."""


def key_admin_guard(account_id: str, key_admins: Sequence[str]) -> list[dict[str, Any]]:
    """A Deny of ``KEY_ADMIN_ACTIONS`` to every principal but the key admins and the account's root user.

    The ``AccountAdministers`` statement lets IAM policies grant key rights, so without this any
    IAM admin could disable or delete the key. The root user stays excepted so the account can
    always recover the key (lockout-safe), and the role that runs ``pulumi up`` must be a key
    admin: KMS refuses (``CreateKey``/``PutKeyPolicy``'s lockout safety check) a policy that
    stops its caller from changing it again. No key admins listed (a dev stack): no guard.
    """
    if not key_admins:
        return []
    excepted = [f"arn:aws:iam::{account_id}:root", *sorted(set(key_admins))]
    return [
        {
            "Sid": "OnlyKeyAdminsDisableDeleteOrRepolicy",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": list(KEY_ADMIN_ACTIONS),
            "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": excepted}},
        }
    ]


def admin_only_key_policy(account_id: str, key_admins: Sequence[str] = ()) -> str:
    """The default key policy (the account root administers; IAM policies grant use) plus the
    key-admin guard: for keys used through grants their services create (EKS Secrets, EFS)."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    return json.dumps(
        {"Version": "2012-10-17", "Statement": statements + key_admin_guard(account_id, key_admins)}, sort_keys=True
    )


def flow_logs_role_policy(log_group_arn: str) -> str:
    """What the VPC Flow Logs service needs to deliver into one log group ("Publish flow logs to
    CloudWatch Logs", Amazon VPC user guide): create streams and put events there, describe."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DeliverToOwnGroup",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    "Resource": [log_group_arn, f"{log_group_arn}:*"],
                },
                {"Sid": "Describe", "Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
            ],
        },
        sort_keys=True,
    )


def kms_key_policy(account_id: str, region: str, log_group_name: str, key_admins: Sequence[str] = ()) -> str:
    """The data key (node volumes, the gp3 class, control-plane logs, ECR): the account root
    administers it, CloudWatch Logs may use it for the cluster's log group only, Auto Scaling for
    node volumes; the key-admin guard on top. Kubernetes Secrets have their own key."""
    log_group_arn = f"arn:aws:logs:{region}:{account_id}:log-group:{log_group_name}"
    autoscaling_role = (  # node groups launch instances through this service-linked role
        f"arn:aws:iam::{account_id}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    )
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "CloudWatchLogsForClusterLogGroup",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
        },
        {
            # Node groups launch through the autoscaling service-linked role; without this grant
            # instances with CMK-encrypted root volumes fail to start.
            "Sid": "AutoScalingUsesKeyForNodeVolumes",
            "Effect": "Allow",
            "Principal": {"AWS": autoscaling_role},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
        },
        {
            "Sid": "AutoScalingGrantsForNodeVolumes",
            "Effect": "Allow",
            "Principal": {"AWS": autoscaling_role},
            "Action": "kms:CreateGrant",
            "Resource": "*",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]
    statements += key_admin_guard(account_id, key_admins)
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def s3_prefix_policy(bucket: str, prefix: str, kms_key_arn: str | None = None) -> str:
    """A batch job's results: list, read, write and delete under one key prefix of one bucket, and
    nothing else of it (the bucket stays the user's; its own policy may narrow this further). With
    an SSE-KMS bucket the role may encrypt and decrypt with that key, only through S3."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ListOwnPrefix",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{bucket}",
            "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}},
        },
        {
            "Sid": "ReadWriteOwnPrefix",
            "Effect": "Allow",
            "Action": [
                "s3:AbortMultipartUpload",
                "s3:DeleteObject",
                "s3:GetObject",
                "s3:ListMultipartUploadParts",
                "s3:PutObject",
            ],
            "Resource": f"arn:aws:s3:::{bucket}/{prefix}/*",
        },
    ]
    if kms_key_arn:
        statements.append(
            {
                "Sid": "BucketKeyThroughS3",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": kms_key_arn,
                "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}},
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)
