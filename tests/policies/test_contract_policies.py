"""Cross-resource contracts found against upstream sources, as stack policies, tested both ways.

Each encodes a real-path defect the mock plan could not see (docs/research/upstream.md): an EFS
policy that refuses CSI mounts, a StorageClass key the EBS CSI role cannot use, GFD without
NFD, a ScaledObject whose Prometheus does not exist, GPU pools without the autoscaler's label.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyResource, StackValidationArgs

from aiinfra_policies import contracts
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
from tests.conftest import _OPTS, policy_by_name

KEY = "arn:aws:kms:us-west-2:123456789012:key/k-1"


def _resource(i: int, typ: str, props: Mapping[str, Any], deps: Mapping[str, list[PolicyResource]] | None = None):
    return PolicyResource(typ, props, f"urn:pulumi:t::p::{typ}::r{i}", f"r{i}", _OPTS, None, None, [], dict(deps or {}))


def _stack(policies: list[Any], name: str, resources: list[PolicyResource]) -> list[str]:
    found: list[str] = []
    policy_by_name(policies, name).validate(
        StackValidationArgs(resources, {}), lambda message, urn=None: found.append(message)
    )
    return found


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


DENY_PLAIN = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Resource": "fs"}
ALLOW_MOUNT = {
    "Effect": "Allow",
    "Principal": {"AWS": "*"},
    "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
    "Resource": "fs",
    "Condition": {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}},
}


def test_efs_policy_must_allow_mounts() -> None:
    deny_only = [_resource(0, EFS_POLICY, {"policy": _doc(DENY_PLAIN)})]
    assert _stack(contracts.POLICIES, "efs-policy-allows-mounts", deny_only)
    both = [_resource(0, EFS_POLICY, {"policy": _doc(ALLOW_MOUNT, DENY_PLAIN)})]
    assert _stack(contracts.POLICIES, "efs-policy-allows-mounts", both) == []


def _ebs_stack(statements: list[dict[str, Any]], with_role: bool = True) -> list[PolicyResource]:
    trust = _doc({"Condition": {"StringEquals": {"x:sub": "system:serviceaccount:kube-system:ebs-csi-controller-sa"}}})
    role = _resource(0, ROLE, {"assumeRolePolicy": trust})
    inline = _resource(1, ROLE_POLICY, {"policy": _doc(*statements)}, {"role": [role]})
    klass = _resource(
        2, STORAGE_CLASS, {"provisioner": "ebs.csi.aws.com", "parameters": {"encrypted": "true", "kmsKeyId": KEY}}
    )
    return [role, inline, klass] if with_role else [klass]


def test_ebs_class_key_must_be_usable_by_the_csi_role() -> None:
    use = {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext"], "Resource": KEY}
    grant = {"Effect": "Allow", "Action": "kms:CreateGrant", "Resource": KEY}
    assert _stack(contracts.POLICIES, "ebs-class-key-usable-by-csi", _ebs_stack([use, grant])) == []
    missing = _stack(contracts.POLICIES, "ebs-class-key-usable-by-csi", _ebs_stack([use]))
    assert missing and KEY not in missing[0]  # messages name keys, never values
    other_key = {**grant, "Resource": "arn:aws:kms:us-west-2:123456789012:key/other"}
    assert _stack(contracts.POLICIES, "ebs-class-key-usable-by-csi", _ebs_stack([use, other_key]))
    # No CSI role in the stack (an existing cluster): nothing to compare with.
    assert _stack(contracts.POLICIES, "ebs-class-key-usable-by-csi", _ebs_stack([], with_role=False)) == []


def _plugin(values: dict[str, Any], i: int = 0, chart: str = "nvidia-device-plugin") -> PolicyResource:
    return _resource(i, HELM_RELEASE, {"chart": chart, "values": values})


def test_gpu_feature_discovery_needs_nfd() -> None:
    name = "gpu-feature-discovery-needs-nfd"
    assert _stack(contracts.POLICIES, name, [_plugin({"gfd": {"enabled": True}, "nfd": {"enabled": False}})])
    assert _stack(contracts.POLICIES, name, [_plugin({"gfd": {"enabled": False}, "nfd": {"enabled": False}})]) == []
    assert _stack(contracts.POLICIES, name, [_plugin({"gfd": {"enabled": True}})]) == []  # NFD follows GFD
    nfd_release = _plugin({}, 1, chart="node-feature-discovery")
    gfd_only = _plugin({"gfd": {"enabled": True}, "nfd": {"enabled": False}})
    assert _stack(contracts.POLICIES, name, [gfd_only, nfd_release]) == []


def _gpu_group(labels: dict[str, str], tags: dict[str, str] | None = None) -> PolicyResource:
    props = {"amiType": "AL2023_x86_64_NVIDIA", "instanceTypes": ["g6.xlarge"], "labels": labels, "tags": tags or {}}
    return _resource(0, NODE_GROUP, props)


def test_gpu_pools_carry_the_autoscaler_accelerator_label() -> None:
    name = "eks-gpu-pool-accelerator-label"
    label = {"k8s.amazonaws.com/accelerator": "nvidia-l4"}
    template = "k8s.io/cluster-autoscaler/node-template/label/k8s.amazonaws.com/accelerator"
    assert len(_stack(contracts.POLICIES, name, [_gpu_group({})])) == 2
    assert _stack(contracts.POLICIES, name, [_gpu_group(label, {template: "nvidia-l4"})]) == []
    group = _gpu_group(label)
    tag = _resource(1, ASG_TAG, {"tag": {"key": template, "value": "nvidia-l4"}}, {"autoscalingGroupName": [group]})
    assert _stack(contracts.POLICIES, name, [group, tag]) == []
    assert len(_stack(contracts.POLICIES, name, [group])) == 1  # label without the ASG node-template tag


def _scaled_object(address: str, annotations: dict[str, str] | None = None) -> PolicyResource:
    props = {
        "metadata": {"name": "vllm-m", "namespace": "models", "annotations": annotations or {}},
        "spec": {"triggers": [{"type": "prometheus", "metadata": {"serverAddress": address, "query": "q"}}]},
    }
    return _resource(0, SCALED_OBJECT, props)


def test_scaled_object_prometheus_must_exist() -> None:
    name = "keda-scaledobject-metrics-source"
    address = "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
    assert _stack(contracts.POLICIES, name, [_scaled_object(address)])
    prometheus = _resource(1, HELM_RELEASE, {"chart": "kube-prometheus-stack", "namespace": "monitoring"})
    assert _stack(contracts.POLICIES, name, [_scaled_object(address), prometheus]) == []
    external = _scaled_object("https://prometheus.example.internal", {"ai-infra.io/metrics-source": "external"})
    assert _stack(contracts.POLICIES, name, [external]) == []
