"""Section L of ``policies/RULES.md``: real-path contracts between resources (rules 78–82).

Each rule is a failure the mock engine could not see and the first real-path audit found against
the upstream source (``docs/research/upstream.md``): an EFS file-system policy that refuses the CSI
driver's anonymous mounts (78), a StorageClass key the EBS CSI role may not use (79), GPU feature
discovery without Node Feature Discovery, which labels nothing (80), a KEDA ScaledObject reading a
Prometheus that does not exist, which holds its fallback replicas forever (81), GPU node groups
without cluster-autoscaler's accelerator label, which makes it scale up twice (82). As stack
policies they hold users' own additions to the same contracts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, StackValidationArgs

from aiinfra_policies.common import Report, RulePolicy, get_path, policy
from aiinfra_policies.constants import (
    ASG_TAG,
    EFS_POLICY,
    HELM_RELEASE,
    NODE_GROUP,
    ROLE,
    ROLE_POLICY,
    SCALED_OBJECT,
    STORAGE_CLASS,
)
from aiinfra_policies.workloads import is_gpu_node_group

M = EnforcementLevel.MANDATORY
A = EnforcementLevel.ADVISORY


# cross-resource contracts (stack) -----------------------------------------------------------
def _statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of an IAM-style JSON policy document (string or already parsed)."""
    doc = json.loads(document) if isinstance(document, str) and document else document or {}
    statements = doc.get("Statement", []) if isinstance(doc, Mapping) else []
    return [s for s in (statements if isinstance(statements, list) else [statements]) if isinstance(s, Mapping)]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _allows(statement: Mapping[str, Any], action: str, resource: Any = None) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    actions = _listed(statement.get("Action", []))
    if not any(a in (action, "*", action.split(":")[0] + ":*") for a in actions):
        return False
    return resource is None or any(r in (resource, "*") for r in _listed(statement.get("Resource", [])))


def _efs_mounts(args: StackValidationArgs, report: Report) -> None:
    for r in args.resources:
        if r.resource_type == EFS_POLICY and not any(
            _allows(s, "elasticfilesystem:ClientMount") for s in _statements(r.props.get("policy"))
        ):
            report(
                "policy must Allow elasticfilesystem:ClientMount (and ClientWrite) through mount targets: EFS "
                "refuses every mount its file-system policy does not allow, and CSI mounts are anonymous.",
                r.urn,
            )


EBS_CSI_SUBJECT = "system:serviceaccount:kube-system:ebs-csi-controller-sa"
EBS_CSI_KMS_ACTIONS = ("kms:CreateGrant", "kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext")


def _ebs_key_usable(args: StackValidationArgs, report: Report) -> None:
    csi_roles = {
        r.urn
        for r in args.resources
        if r.resource_type == ROLE and EBS_CSI_SUBJECT in str(r.props.get("assumeRolePolicy", ""))
    }
    if not csi_roles:
        return  # the EBS CSI driver's role is not managed by this stack: nothing to compare with
    statements = [
        s
        for r in args.resources
        if r.resource_type == ROLE_POLICY and any(d.urn in csi_roles for d in r.property_dependencies.get("role", []))
        for s in _statements(r.props.get("policy"))
    ]
    for sc in args.resources:
        if sc.resource_type != STORAGE_CLASS or sc.props.get("provisioner") != "ebs.csi.aws.com":
            continue
        key = (sc.props.get("parameters") or {}).get("kmsKeyId")
        if key and not all(any(_allows(s, a, key) for s in statements) for a in EBS_CSI_KMS_ACTIONS):
            report(
                "parameters.kmsKeyId names a key the EBS CSI driver's role may not use: give that role "
                "kms:CreateGrant, kms:Decrypt and kms:GenerateDataKeyWithoutPlaintext on it, or every PVC fails.",
                sc.urn,
            )


AWS_ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator"
"""cluster-autoscaler's GPU label on AWS: a new node with it but no GPU yet counts as not ready."""
ACCELERATOR_TEMPLATE_TAG = f"k8s.io/cluster-autoscaler/node-template/label/{AWS_ACCELERATOR_LABEL}"
WHOLE_GPU_TEMPLATE_TAG = "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"
"""Pools advertising shared or MIG resources instead must not carry the label (never 'ready')."""


def _gfd_needs_nfd(args: StackValidationArgs, report: Report) -> None:
    releases = [r for r in args.resources if r.resource_type == HELM_RELEASE]
    # NFD from its own chart, or bundled by the GPU operator unless switched off there.
    nfd_elsewhere = any(
        r.props.get("chart") == "node-feature-discovery"
        or (r.props.get("chart") == "gpu-operator" and get_path(r.props, "values.nfd.enabled") is not False)
        for r in releases
    )
    for r in releases:
        if r.props.get("chart") != "nvidia-device-plugin" or get_path(r.props, "values.gfd.enabled") is not True:
            continue
        # The chart's NFD subchart follows nfd.enabled, or gfd.enabled when that is unset.
        if get_path(r.props, "values.nfd.enabled") is False and not nfd_elsewhere:
            report(
                "values.gfd.enabled needs Node Feature Discovery (values.nfd.enabled or an NFD release): GPU "
                "feature discovery only writes features NFD turns into labels, so without it nothing is labelled.",
                r.urn,
            )


def _accelerator_label(args: StackValidationArgs, report: Report) -> None:
    for group in args.resources:
        if group.resource_type != NODE_GROUP or not is_gpu_node_group(group.props):
            continue
        tags = group.props.get("tags") or {}
        shared = "nvidia.com/device-plugin.config" in (group.props.get("labels") or {})
        if shared and WHOLE_GPU_TEMPLATE_TAG not in tags:
            continue  # time-slicing renamed or MIG mixed: no nvidia.com/gpu to wait for
        if AWS_ACCELERATOR_LABEL not in (group.props.get("labels") or {}):
            report(f"labels must include {AWS_ACCELERATOR_LABEL} (naming the GPU) on GPU node groups.", group.urn)
        tagged = ACCELERATOR_TEMPLATE_TAG in (group.props.get("tags") or {}) or any(
            r.resource_type == ASG_TAG
            and get_path(r.props, "tag.key") == ACCELERATOR_TEMPLATE_TAG
            and any(d.urn == group.urn for d in r.property_dependencies.get("autoscalingGroupName", []))
            for r in args.resources
        )
        if not tagged:
            report(
                f"The node group's Auto Scaling group needs the {ACCELERATOR_TEMPLATE_TAG} tag, so the autoscaler "
                "knows a node scaled from zero has a GPU that is not ready yet.",
                group.urn,
            )


METRICS_SOURCE_ANNOTATION = "ai-infra.io/metrics-source"
"""``external`` on a ScaledObject whose Prometheus lives outside the stack (declared in settings)."""


def _prometheus_namespace(address: str) -> str | None:
    """``http://<service>.<namespace>.svc[...]:<port>`` -> namespace (None for other addresses)."""
    host = address.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    parts = host.split(".")
    return parts[1] if len(parts) >= 3 and parts[2] == "svc" else None


def _metrics_source(args: StackValidationArgs, report: Report) -> None:
    prometheus_namespaces = {
        r.props.get("namespace")
        for r in args.resources
        if r.resource_type == HELM_RELEASE and r.props.get("chart") == "kube-prometheus-stack"
    }
    for so in args.resources:
        if so.resource_type != SCALED_OBJECT:
            continue
        if (get_path(so.props, "metadata.annotations") or {}).get(METRICS_SOURCE_ANNOTATION) == "external":
            continue
        for i, trigger in enumerate(get_path(so.props, "spec.triggers") or []):
            if trigger.get("type") != "prometheus":
                continue
            address = str(get_path(trigger, "metadata.serverAddress") or "")
            if _prometheus_namespace(address) not in prometheus_namespaces:
                report(
                    f"spec.triggers[{i}].metadata.serverAddress is not a Prometheus this stack runs: KEDA would "
                    "hold the fallback replicas forever. Turn on monitoring, or declare an external Prometheus.",
                    so.urn,
                )


POLICIES: list[RulePolicy] = [
    policy(
        "efs-policy-allows-mounts",
        rule="78",
        description="An EFS file-system policy must allow mounts through mount targets.",
        remediation="Add an Allow for ClientMount/ClientWrite with elasticfilesystem:AccessedViaMountTarget.",
        level=M,
        severity="high",
        standard="AWS EFS user guide (IAM for NFS clients)",
        stack=True,
        check=_efs_mounts,
    ),
    policy(
        "ebs-class-key-usable-by-csi",
        rule="79",
        description="A StorageClass's KMS key must be usable by the EBS CSI driver's role.",
        remediation="Attach the KMS grant statements to the EBS CSI IRSA role for that key.",
        level=M,
        severity="high",
        standard="aws-ebs-csi-driver docs/install.md (KMS)",
        stack=True,
        check=_ebs_key_usable,
    ),
    policy(
        "gpu-feature-discovery-needs-nfd",
        rule="80",
        description="GPU feature discovery must run with Node Feature Discovery.",
        remediation="Enable NFD (nfd.enabled) or turn GFD off (gfd.enabled: false).",
        level=A,
        severity="medium",
        standard="NVIDIA k8s-device-plugin README",
        stack=True,
        check=_gfd_needs_nfd,
    ),
    policy(
        "keda-scaledobject-metrics-source",
        rule="81",
        description="A ScaledObject's Prometheus must be in the stack or declared external.",
        remediation="Enable ai-infra:monitoring, or set monitoring.prometheusUrl to an existing Prometheus.",
        level=A,
        severity="medium",
        standard="KEDA prometheus scaler",
        stack=True,
        check=_metrics_source,
    ),
    policy(
        "eks-gpu-pool-accelerator-label",
        rule="82",
        description="GPU node groups carry the autoscaler's accelerator label, on nodes and as a node template.",
        remediation="Label GPU pools k8s.amazonaws.com/accelerator and tag their ASG with the node-template label.",
        level=A,
        severity="medium",
        standard="cluster-autoscaler AWS GPU processor",
        stack=True,
        check=_accelerator_label,
    ),
]
