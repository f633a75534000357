"""Names the policies share: resource type tokens, label keys and GPU resource names.

Every token or label key that more than one rule reads lives here, so a rename (a new API
version, a provider's v7 resource names, our label helper) is one edit and no rule silently
stops matching. Values that belong to a single rule (PSS capability sets, the tag list of
rule 77, ...) stay next to that rule.
"""

from __future__ import annotations

# -- Kubernetes type tokens (as the engine sends them; verified against mocks) ----------------
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFULSET = "kubernetes:apps/v1:StatefulSet"
DAEMONSET = "kubernetes:apps/v1:DaemonSet"
REPLICASET = "kubernetes:apps/v1:ReplicaSet"
JOB = "kubernetes:batch/v1:Job"
CRONJOB = "kubernetes:batch/v1:CronJob"
POD = "kubernetes:core/v1:Pod"
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE = "kubernetes:core/v1:Service"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE = "kubernetes:core/v1:LimitRange"
PERSISTENT_VOLUME = "kubernetes:core/v1:PersistentVolume"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
K8S_SECRET = "kubernetes:core/v1:Secret"
RBAC_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
RBAC_CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
RBAC_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
RBAC_CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
POD_MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
JOBSET = "kubernetes:jobset.x-k8s.io/v1alpha2:JobSet"
LOCAL_QUEUES = frozenset(
    {"kubernetes:kueue.x-k8s.io/v1beta2:LocalQueue", "kubernetes:kueue.x-k8s.io/v1beta1:LocalQueue"}
)
"""Kueue's LocalQueue in the version Kueue 0.19.2 stores and the deprecated one it still serves."""
BATCH_TYPES = frozenset({JOB, CRONJOB, JOBSET})
"""Batch work Kueue queues (section M): Jobs, CronJobs (their Jobs) and JobSets."""

WORKLOAD_TYPES = frozenset({DEPLOYMENT, STATEFULSET, DAEMONSET, REPLICASET, JOB, CRONJOB, POD})
"""Every kind that carries a pod spec (the rule table's ``W``)."""

# -- AWS type tokens (pulumi-aws v7; S3 also under the deprecated V2 names) -------------------
CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ADDON = "aws:eks/addon:Addon"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ACCESS_POLICY_ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KMS_KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
IAM_POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
EFS = "aws:efs/fileSystem:FileSystem"
ACCESS_POINT = "aws:efs/accessPoint:AccessPoint"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
ECR_LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
ECR_REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
ECR_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
DOCKER_IMAGES = frozenset({"docker:index/image:Image", "docker-build:index:Image"})
"""pulumi-docker's Image and pulumi-docker-build's Image (the rule table names both)."""
EFS_POLICY = "aws:efs/fileSystemPolicy:FileSystemPolicy"
ASG_TAG = "aws:autoscaling/tag:Tag"
BUCKETS = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
SSE = frozenset(
    {
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    }
)
VERSIONING = frozenset({"aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"})
LOGGING = frozenset({"aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"})

# -- Label keys and values (set by components.core.labels) ------------------------------------
# The pack cannot import the program (it runs in its own virtualenv), so these are copies of the
# program's constants; tests/policies/test_program_facts.py holds each copy to its original.
COMPONENT_LABEL = "app.kubernetes.io/component"
MODEL_SERVER_COMPONENT = "model-server"
"""``app.kubernetes.io/component`` of every model-runner pod (rules 29, 37, 73)."""
WEIGHT_STAGER_COMPONENT = "weight-stager"
"""A fleet's weight-staging Job: runs the server image, serves nothing."""
MODEL_IMAGES = ("vllm", "ollama", "sglang")
"""Image name parts that mark a model server even without the component label: one per engine in
``components/core/engines`` (tests/policies/test_engine_data.py holds the two together)."""
RECOMMENDED_LABELS = ("app.kubernetes.io/name", COMPONENT_LABEL, "app.kubernetes.io/part-of")
DATA_LABEL = "ai-infra.io/data"
MODEL_WEIGHTS = "model-weights"
"""``ai-infra.io/data`` value of classes and volumes that hold model weights (rules 45, data-protected)."""

# -- GPUs ---------------------------------------------------------------------------------------
GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu")
GPU_TAINT_KEY = "nvidia.com/gpu"
"""The taint GPU node groups carry (rule 27) and GPU pods tolerate (rule 26)."""
GPU_NODE_LABELS = ("nvidia.com/gpu.present", "ai-infra.io/pool")

# Tailscale (pulumi-tailscale 0.29.2 type tokens; the operator's custom resources)
TS_ACL = "tailscale:index/acl:Acl"
TS_TAILNET_KEY = "tailscale:index/tailnetKey:TailnetKey"
TS_OAUTH_CLIENT = "tailscale:index/oauthClient:OauthClient"
TS_TAILNET_SETTINGS = "tailscale:index/tailnetSettings:TailnetSettings"
TS_CONNECTOR = "kubernetes:tailscale.com/v1alpha1:Connector"
TS_PROXY_GROUP = "kubernetes:tailscale.com/v1alpha1:ProxyGroup"
TS_TAGS_ANNOTATION = "tailscale.com/tags"
"""Tags the operator gives a proxy it runs for an Ingress or Service (comma-separated)."""
