"""Regression tests for the fidelity fixes (commit bc2e265): each fix checked where it shows, in
the registered resources of a component or of a whole program run, against the upstream fact
recorded in docs/research/upstream.md that made it necessary."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from components.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from components.core.labels import aws_tags
from components.gpu_software import GpuSoftware, GpuSoftwareArgs
from planner.engine import ProgramRun
from planner.mocks import Registration
from tests.components.test_cluster_components import _eks, _pool
from tests.conftest import build_under_mocks, run_stack, settings_for, stack_file_config, stack_run

TAGS = aws_tags(env="prod", team="ml", cost_center="cc")
RELEASE = "kubernetes:helm.sh/v3:Release"
BOTTLEROCKET = "BOTTLEROCKET_x86_64_NVIDIA"


# -- helpers ----------------------------------------------------------------------------------


def _gpu_software(stack: str, env: str = "prod", **overrides: Any) -> dict[str, Any]:
    """Helm values of the GpuSoftware release for ``env`` settings plus overrides."""
    settings = settings_for(env, **overrides)
    m = build_under_mocks(
        lambda: GpuSoftware(
            "gpu",
            GpuSoftwareArgs(stack=stack, namespace="gpu-system", pools=dict(settings.node_pools), accelerated_ami=True),
        )
    )
    values: dict[str, Any] = m.by_type(RELEASE)[0].inputs["values"]
    return values


def _of_type(run: ProgramRun, typ: str) -> list[Registration]:
    return [r for r in run.registrations if r.type == typ]


def _release(run: ProgramRun, chart: str) -> dict[str, Any]:
    (release,) = [r.inputs for r in _of_type(run, RELEASE) if r.inputs["chart"] == chart]
    return release


def _gpu_pod_specs(run: ProgramRun) -> Iterator[tuple[str, dict[str, Any]]]:
    """(workload name, pod spec) of every Deployment/StatefulSet whose containers request GPUs."""
    for r in run.registrations:
        if r.type in ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"):
            pod = r.inputs["spec"]["template"]["spec"]
            if any("nvidia.com/gpu" in (c.get("resources") or {}).get("limits", {}) for c in pod["containers"]):
                yield r.name, pod


def _workload(run: ProgramRun, name: str) -> dict[str, Any]:
    (pod,) = [
        r.inputs["spec"]["template"]["spec"]
        for r in run.registrations
        if r.type in ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet") and r.name == name
    ]
    return dict(pod)


# -- 1. EBS CSI role may use the cluster CMK ---------------------------------------------------


def test_ebs_csi_role_may_use_the_cluster_key() -> None:
    # aws-ebs-csi-driver docs/install.md @ v1.64.0 (upstream.md §2g): volumes with kmsKeyId need
    # kms:Decrypt, kms:GenerateDataKeyWithoutPlaintext and kms:CreateGrant on the key; neither
    # AmazonEBSCSIDriverPolicy nor V2 holds KMS actions.
    m = _eks()
    (data_key,) = [k for k in m.by_type("aws:kms/key:Key") if "Secrets" not in k.inputs["description"]]
    key_arn = data_key.outputs["arn"]
    ebs_role = next(
        r for r in m.by_type("aws:iam/role:Role") if "ebs-csi-controller-sa" in r.inputs["assumeRolePolicy"]
    )
    inline = [r for r in m.by_type("aws:iam/rolePolicy:RolePolicy") if ebs_role.urn in r.dependencies]
    assert len(inline) == 1
    statements = json.loads(inline[0].inputs["policy"])["Statement"]
    assert all(s["Effect"] == "Allow" and s["Resource"] == key_arn for s in statements)
    actions = {a: s for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert set(actions) == {"kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant"}
    assert "Condition" not in actions["kms:Decrypt"]
    assert actions["kms:CreateGrant"]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    # The EFS CSI role gets no key access (its file system has its own key and policy).
    efs_role = next(
        r for r in m.by_type("aws:iam/role:Role") if "efs-csi-controller-sa" in r.inputs["assumeRolePolicy"]
    )
    assert not [r for r in m.by_type("aws:iam/rolePolicy:RolePolicy") if efs_role.urn in r.dependencies]


# -- 2. The Kubernetes provider waits for admins, nodes and the CNI -----------------------------


def _provider_dependencies(run: ProgramRun) -> set[str]:
    (provider,) = [r for r in _of_type(run, "pulumi:providers:kubernetes") if r.name == "k8s"]
    return set(provider.dependencies)


def _system_node_group_and_cni(run: ProgramRun) -> set[str]:
    (system,) = [r.urn for r in _of_type(run, "aws:eks/nodeGroup:NodeGroup") if r.name == "eks-system"]
    (cni,) = [r.urn for r in _of_type(run, "aws:eks/addon:Addon") if r.inputs["addonName"] == "vpc-cni"]
    return {system, cni}


def test_kubernetes_provider_waits_for_admin_access_nodes_and_cni() -> None:
    # Prod does not make the creator admin (bootstrapClusterCreatorAdminPermissions false), so
    # anything applied before the admin AccessPolicyAssociations exist is refused; Helm's atomic
    # installs need nodes, and NetworkPolicies need the VPC CNI's policy agent (the fix's rationale
    # in components/eks_cluster.py ``kubernetes_ready``).
    prod = stack_run("prod")
    associations = {
        r.urn
        for r in _of_type(prod, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        if r.inputs["policyArn"].endswith("/AmazonEKSClusterAdminPolicy")
    }
    assert len(associations) == len(stack_file_config("prod")["ai-infra:cluster"]["eks"]["adminPrincipalArns"])
    assert associations | _system_node_group_and_cni(prod) <= _provider_dependencies(prod)
    # dev: the creator is admin and no admin ARNs are listed; nodes and CNI still come first.
    dev = stack_run("dev")
    assert not _of_type(dev, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert _system_node_group_and_cni(dev) <= _provider_dependencies(dev)


# -- 3. Optional Auto Scaling service-linked role before the key --------------------------------


def test_autoscaling_service_linked_role_precedes_the_key_only_when_asked() -> None:
    # AWS KMS API reference (CreateKey/PutKeyPolicy): principals in a key policy must exist;
    # AWSServiceRoleForAutoScaling does not until an account's first ASG (upstream.md §2j).
    m = _eks(cluster={"eks": {"createAutoscalingServiceLinkedRole": True}})
    (slr,) = m.by_type("aws:iam/serviceLinkedRole:ServiceLinkedRole")
    assert slr.inputs["awsServiceName"] == "autoscaling.amazonaws.com"
    assert slr.retain_on_delete
    (data_key,) = [k for k in m.by_type("aws:kms/key:Key") if "Secrets" not in k.inputs["description"]]
    assert slr.urn in data_key.dependencies
    assert _eks().by_type("aws:iam/serviceLinkedRole:ServiceLinkedRole") == []


# -- 4. Device plugin: GFD off without NFD, no defaultRuntime, RuntimeClass used -----------------


def test_device_plugin_values_gfd_off_runtime_class_only_when_given() -> None:
    # NVIDIA/k8s-device-plugin README + Chart.yaml @ v0.17.2 (upstream.md §2a): GFD without NFD
    # labels nothing and runs privileged. NVIDIA/gpu-operator templates/clusterpolicy.yaml
    # @ v25.3.2 (§1, §2b): operator.defaultRuntime was removed in v25.3.0.
    values = _gpu_software("device-plugin")
    assert values["gfd"]["enabled"] is False and values["nfd"]["enabled"] is False
    assert "runtimeClassName" not in values
    settings = settings_for("prod")
    m = build_under_mocks(
        lambda: GpuSoftware(
            "gpu",
            GpuSoftwareArgs(
                stack="device-plugin",
                namespace="gpu-system",
                pools=dict(settings.node_pools),
                accelerated_ami=False,
                runtime_class="nvidia",
            ),
        )
    )
    assert m.by_type(RELEASE)[0].inputs["values"]["runtimeClassName"] == "nvidia"
    assert "defaultRuntime" not in _gpu_software("gpu-operator").get("operator", {})


def test_runtime_class_is_used_where_the_stack_creates_it() -> None:
    # A RuntimeClass nobody names changes nothing: the local stack creates ``nvidia`` and its
    # device plugin and GPU pods must run with it; EKS NVIDIA AMIs need none.
    local = stack_run("local")
    assert [r.inputs["metadata"]["name"] for r in _of_type(local, "kubernetes:node.k8s.io/v1:RuntimeClass")] == [
        "nvidia"
    ]
    assert _release(local, "nvidia-device-plugin")["values"]["runtimeClassName"] == "nvidia"
    local_pods = dict(_gpu_pod_specs(local))
    assert local_pods and all(pod.get("runtimeClassName") == "nvidia" for pod in local_pods.values())
    for stack in ("dev", "prod"):
        run = stack_run(stack)
        assert not _of_type(run, "kubernetes:node.k8s.io/v1:RuntimeClass")
        assert "runtimeClassName" not in _release(run, "nvidia-device-plugin")["values"]
        pods = dict(_gpu_pod_specs(run))
        assert pods and all("runtimeClassName" not in pod for pod in pods.values()), stack


# -- 5. The autoscaler's GPU label on nodes and in the scale-from-zero template ------------------


@pytest.mark.parametrize(
    ("pool", "env", "accelerator"), [("gpu", "dev", "nvidia-l4"), ("serving", "prod", "nvidia-l40s")]
)
def test_pools_carry_the_aws_accelerator_label(pool: str, env: str, accelerator: str) -> None:
    # kubernetes/autoscaler cloudprovider/aws/aws_cloud_provider.go GPULabel and
    # processors/customresources/gpu_processor.go @ cluster-autoscaler-1.34.5 (upstream.md §2c):
    # a labelled node without allocatable GPUs counts as unready, so CA waits for the plugin.
    m = _pool(pool, env)
    node_group = m.by_type("aws:eks/nodeGroup:NodeGroup")[0].inputs
    assert node_group["labels"]["k8s.amazonaws.com/accelerator"] == accelerator
    tags = {r.inputs["tag"]["key"]: r.inputs["tag"]["value"] for r in m.by_type("aws:autoscaling/tag:Tag")}
    assert tags["k8s.io/cluster-autoscaler/node-template/label/k8s.amazonaws.com/accelerator"] == accelerator


# -- 6. Bottlerocket runs NVIDIA's device plugin on the host --------------------------------------


def test_device_plugin_stays_off_bottlerocket_pools() -> None:
    # bottlerocket-os/bottlerocket QUICKSTART-EKS.md (upstream.md §2i): the NVIDIA variants ship
    # the device plugin as a host service; keep any DaemonSet plugin off those nodes.
    values = _gpu_software("device-plugin", nodePools={"serving": {"amiType": BOTTLEROCKET}})
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "ai-infra.io/pool", "operator": "NotIn", "values": ["serving"]}]}]
    assert "affinity" not in _gpu_software("device-plugin")


# -- 7. vLLM: bigger HOME, no deprecated or kernel-forcing flags ----------------------------------


def test_vllm_home_and_arguments() -> None:
    # vllm-project/vllm @ v0.11.0 (upstream.md §2f): --disable-log-requests is deprecated and has no
    # effect; --quantization awq forces the slow kernel over awq_marlin (awq_marlin.py
    # override_quantization_method); fp8 is applied at load time and must be named.
    prod = stack_run("prod")
    vllm = _workload(prod, "model-coder-32b-deployment")  # an AWQ checkpoint
    ollama = _workload(prod, "model-qwen-coder-deployment")
    home = {
        pod_name: next(v for v in pod["volumes"] if v["name"] == "home")["emptyDir"]["sizeLimit"]
        for pod_name, pod in (("vllm", vllm), ("ollama", ollama))
    }
    assert home == {"vllm": "10Gi", "ollama": "1Gi"}
    args = next(c for c in vllm["containers"] if c.get("command", [None])[0] == "vllm")["args"]
    assert "--disable-log-requests" not in args and "--quantization" not in args
    for quantization, expected in (("awq", None), ("gptq", None), ("fp8", "fp8")):
        # A checkpoint of that precision (the fit rules refuse gptq or fp8 on the AWQ one).
        facts = {"parametersB": 32.8, "dtype": "bfloat16" if quantization == "fp8" else quantization, "weightsGb": 19.3}
        facts |= {"layers": 64, "kvHeads": 8, "headDim": 128, "maxContext": 32768}
        fleet = {"quantization": quantization, "facts": facts}
        spec = settings_for("prod", models={"coder-32b": fleet}).models["coder-32b"]
        args = spec.engine_record.server_args(spec, "coder-32b")
        assert "--disable-log-requests" not in args
        given = args[args.index("--quantization") + 1] if "--quantization" in args else None
        assert given == expected, quantization


# -- 8. csi-driver-nfs keeps its tolerate-all node plugin -------------------------------------------


def test_nfs_node_plugin_keeps_the_chart_tolerations() -> None:
    # kubernetes-csi/csi-driver-nfs charts/v4.13.4/csi-driver-nfs/values.yaml (upstream.md §2d):
    # node.tolerations defaults to [{operator: Exists}]; setting the list replaces it.
    values = _release(stack_run("local"), "csi-driver-nfs")["values"]
    assert "tolerations" not in values.get("node", {})


# -- 9. Plan warning for documentation-only public access CIDRs ------------------------------------


def _cidr_warnings(run: ProgramRun) -> list[str]:
    return [w for w in run.warnings if "cluster.eks.publicAccessCidrs" in w]


def test_documentation_only_public_access_cidrs_warn() -> None:
    # RFC 5737 / RFC 3849 documentation ranges reach nothing: Pulumi.dev.yaml's 203.0.113.0/24 is a
    # placeholder, so the plan says so (``pulumi.log.warn``, as the CLI would show it).
    (warning,) = _cidr_warnings(stack_run("dev"))
    assert warning.startswith("ai-infra:cluster.eks.publicAccessCidrs:") and "documentation ranges" in warning
    config = {**stack_file_config("dev"), "ai-infra:cluster": {"eks": {"publicAccessCidrs": ["52.94.76.0/22"]}}}
    assert _cidr_warnings(run_stack("dev", config)) == []


# -- 10. The cluster-autoscaler chart line follows the cluster's minor -------------------------------


@pytest.mark.parametrize(("version", "chart", "image"), [("1.32", "9.46.6", "v1.32.7"), ("1.33", "9.51.0", "v1.33.6")])
def test_cluster_autoscaler_chart_and_image_follow_the_cluster_version(version: str, chart: str, image: str) -> None:
    # kubernetes/autoscaler Chart.yaml at each cluster-autoscaler-chart-* tag (upstream.md §2c):
    # appVersion 1.32.0 = 9.45.0-9.46.6, 1.33.0 = 9.47.0-9.51.0; newest patches v1.32.7, v1.33.6.
    m = build_under_mocks(
        lambda: ClusterAutoscaler(
            "autoscaler",
            ClusterAutoscalerArgs(
                cluster_name="ai-infra-prod",
                kubernetes_version=version,
                region="us-west-2",
                namespace="autoscaler",
                oidc_provider_arn="arn:aws:iam::1:oidc-provider/x",
                oidc_issuer="https://oidc.eks.x/id/1",
                serving_pools=["serving"],
                tags=TAGS,
            ),
        )
    )
    release = m.by_type(RELEASE)[0].inputs
    assert (release["chart"], release["version"]) == ("cluster-autoscaler", chart)
    assert release["values"]["image"]["tag"] == image
