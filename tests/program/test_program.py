"""The whole program per stack under the mock engine (the same path as ``pulumi preview``)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from components.core.settings import SettingsError
from planner.mocks import SECRET_SIG
from planner.render import plan_document, redact
from tests.conftest import run_stack, stack_file_config, stack_run, stack_secret_keys


def _types(stack: str) -> Counter[str]:
    return Counter(r.type for r in stack_run(stack).registrations)


def test_dev_plans_eks_with_one_spot_pool_that_scales_to_zero() -> None:
    run = stack_run("dev")
    types = Counter(r.type for r in run.registrations)
    assert types["aws:eks/cluster:Cluster"] == 1
    assert types["aws:ec2/natGateway:NatGateway"] == 1
    gpu_groups = [r for r in run.registrations if r.type == "aws:eks/nodeGroup:NodeGroup" and "pool-" in r.urn]
    assert len(gpu_groups) == 1
    assert gpu_groups[0].inputs["capacityType"] == "SPOT" and gpu_groups[0].inputs["scalingConfig"]["minSize"] == 0
    cost = run.outputs["costEstimate"]
    # minSize 0, but the two preset fleets hold one spot g6.xlarge each at min replicas.
    assert cost["pools"]["gpu"]["nodes"]["min"] == 0 and cost["pools"]["gpu"]["nodes"]["idle"] == 2


def test_idle_cost_equals_the_hand_count() -> None:
    """Issue 22 item 1: idle is what must run, counted here by hand from the price list
    (components/core/prices.py, us-west-2) and the presets."""
    spot_l4 = 0.8048 * 0.55  # g6.xlarge on demand x the g6 spot fraction
    dev = (
        2 * spot_l4  # qwen-small and qwen-instruct, one GPU each at min replicas
        + 0.10  # EKS control plane
        + 1 * 0.045  # one NAT gateway
        + 1 * 0.1008  # one m7i.large system node (the system pods fit it)
        + 100 * 0.30 / 730  # the models namespace's 100Gi EFS cache
    )
    prod = (
        2 * 10.49264  # two on-demand g6e.12xlarge: coder-32b's 2x2 GPUs, qwen-coder's 2x1
        + 0.0  # the training pool (spot p4d) idles at zero
        + 0.10
        + 3 * 0.045  # a NAT gateway per AZ
        + 2 * 0.2016  # two m7i.xlarge system nodes (systemPool.minSize)
        + 500 * 0.30 / 730  # the models namespace's 500Gi EFS cache
        + 50 * 0.08 / 730  # Prometheus's 50Gi gp3 volume
    )
    for stack, hand in (("dev", dev), ("prod", prod)):
        total = stack_run(stack).outputs["costEstimate"]["total"]
        assert total["idleUsdPerHour"] == pytest.approx(hand, abs=0.01), stack


def test_prod_plans_serving_and_training_pools_and_retains_data() -> None:
    run = stack_run("prod")
    pools = {
        r.inputs["labels"]["ai-infra.io/pool"]: r.inputs
        for r in run.registrations
        if r.type == "aws:eks/nodeGroup:NodeGroup" and "pool-" in r.urn
    }
    assert pools["serving"]["capacityType"] == "ON_DEMAND" and pools["serving"]["scalingConfig"]["minSize"] >= 2
    assert pools["training"]["capacityType"] == "SPOT" and pools["training"]["scalingConfig"]["minSize"] == 0
    for r in run.registrations:
        if r.type in ("aws:kms/key:Key", "aws:cloudwatch/logGroup:LogGroup"):
            assert r.protect and r.retain_on_delete
    assert Counter(r.type for r in run.registrations)["aws:ec2/natGateway:NatGateway"] == 3


def test_existing_mode_plans_no_aws_resources() -> None:
    types = _types("local")
    assert not [t for t in types if t.startswith("aws:") or t == "pulumi:providers:aws"]
    assert types["kubernetes:node.k8s.io/v1:RuntimeClass"] == 1
    # device plugin, csi-driver-nfs and Kueue; no cluster-autoscaler off AWS
    assert types["kubernetes:helm.sh/v3:Release"] == 3


def test_kubeconfig_is_exported_as_a_secret() -> None:
    outputs = stack_run("dev").outputs
    assert isinstance(outputs["kubeconfig"], dict) and SECRET_SIG in outputs["kubeconfig"]


def test_every_kubernetes_resource_uses_the_explicit_provider() -> None:
    for r in stack_run("prod").registrations:
        if r.custom and r.type.startswith("kubernetes:"):
            assert "pulumi:providers:kubernetes::k8s::" in r.provider, r.urn


def test_invalid_config_registers_nothing() -> None:
    config = stack_file_config("dev")
    config["ai-infra:nodePools"] = {"gpu": {"minSize": 3, "maxSize": 1}}
    config["ai-infra:cluster"] = json.loads(json.dumps(config["ai-infra:cluster"])) | {"kubernetesVersion": "1.10"}
    with pytest.raises(SettingsError) as info:
        run_stack("dev", config)
    assert {"ai-infra:nodePools.gpu.minSize", "ai-infra:cluster.kubernetesVersion"} <= {
        p for p, _ in info.value.problems
    }
    from planner.engine import start_mocks  # a fresh engine shows the failed run left nothing behind

    assert start_mocks("ai-infra", "dev", {}, []).registrations == []


def test_secret_config_stays_secret_in_resource_inputs() -> None:
    config = stack_file_config("prod") | {"ai-infra:hfToken": "hf_secret_value"}
    run = run_stack("prod", config, secret_keys=["ai-infra:hfToken", *stack_secret_keys("prod")])
    # The token reaches only the HF-token Secrets, and only inside Pulumi's secret wrapper.
    assert "hf_secret_value" not in json.dumps(redact([r.inputs for r in run.registrations]))
    secrets = [r for r in run.registrations if r.type == "kubernetes:core/v1:Secret"]
    assert secrets and all(SECRET_SIG in r.inputs["stringData"] for r in secrets)


def test_dev_serves_one_ollama_and_one_vllm_model() -> None:
    run = stack_run("dev")
    deployments = {
        r.inputs["metadata"]["name"]: r.inputs for r in run.registrations if r.type == "kubernetes:apps/v1:Deployment"
    }
    # The two fleets, and the vLLM fleet's endpoint picker (behind the gateway).
    assert set(deployments) == {"ollama-qwen-small", "vllm-qwen-instruct", "vllm-qwen-instruct-epp"}
    assert run.outputs["models"]["qwen-instruct"]["endpoint"] == (
        "http://vllm-qwen-instruct.models.svc.cluster.local:8000/v1"
    )
    assert not [
        r for r in run.registrations if r.type == "kubernetes:helm.sh/v3:Release" and r.inputs["chart"] == "keda"
    ]


def test_prod_vllm_fleet_is_tensor_parallel_autoscaled_and_on_the_tailnet() -> None:
    run = stack_run("prod")
    deployment = next(
        r.inputs
        for r in run.registrations
        if r.type == "kubernetes:apps/v1:Deployment" and r.inputs["metadata"]["name"] == "vllm-coder-32b"
    )
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    # An AWQ checkpoint names its quantization itself: no --quantization, so vLLM picks awq_marlin.
    assert args[args.index("--tensor-parallel-size") + 1] == "2" and "--quantization" not in args
    assert any(r.type == "kubernetes:keda.sh/v1alpha1:ScaledObject" for r in run.registrations)
    assert any(r.type == "kubernetes:helm.sh/v3:Release" and r.inputs["chart"] == "keda" for r in run.registrations)
    service = next(
        r.inputs
        for r in run.registrations
        if r.type == "kubernetes:core/v1:Service" and r.inputs["metadata"]["name"] == "vllm-coder-32b"
    )
    assert service["spec"]["type"] == "ClusterIP" and "annotations" not in service["metadata"]
    # On the tailnet through the operator's HTTPS Ingress proxy (no load balancer, no L3 proxy).
    ingress = next(
        r.inputs
        for r in run.registrations
        if r.type == "kubernetes:networking.k8s.io/v1:Ingress" and r.inputs["metadata"]["name"] == "vllm-coder-32b"
    )
    assert ingress["spec"]["ingressClassName"] == "tailscale"
    assert ingress["spec"]["tls"] == [{"hosts": ["coder-32b-prod"]}]
    assert ingress["spec"]["defaultBackend"]["service"] == {"name": "vllm-coder-32b", "port": {"number": 8000}}
    assert ingress["metadata"]["annotations"]["tailscale.com/tags"] == "tag:model-runner,tag:ai-infra-prod"
    assert run.outputs["tailnetEndpoints"] == {"coder-32b": "https://coder-32b-prod.example-tailnet.ts.net/v1"}


def test_the_local_example_plans_without_nfs_as_its_comment_says() -> None:
    config = stack_file_config("local")
    config["ai-infra:storage"] = {"shared": {"backend": "none"}}
    config["ai-infra:namespaces"] = {"models": {"modelCache": False}}
    config["ai-infra:models"] = {"qwen-small": {"cache": "ephemeral"}, "qwen-instruct": {"cache": "ephemeral"}}
    run = run_stack("local", config)
    assert not [r for r in run.registrations if r.type == "kubernetes:core/v1:PersistentVolumeClaim"]
    deployment = next(r.inputs for r in run.registrations if r.type == "kubernetes:apps/v1:Deployment")
    pod = deployment["spec"]["template"]["spec"]
    cache = next(v for v in pod["volumes"] if v["name"] == "cache")
    assert cache["emptyDir"]["sizeLimit"] == "100Gi" and pod["runtimeClassName"] == "nvidia"


def test_prod_fleets_run_the_images_it_builds_by_digest() -> None:
    run = stack_run("prod")
    built = {r.name for r in run.registrations if r.type == "docker:index/image:Image"}
    assert built == {"registry-model-runner-image", "registry-ollama-image"}
    for r in run.registrations:
        if r.type == "kubernetes:apps/v1:Deployment" and r.name.startswith("model-"):
            for c in [
                *r.inputs["spec"]["template"]["spec"]["containers"],
                *r.inputs["spec"]["template"]["spec"].get("initContainers", []),
            ]:
                assert ".dkr.ecr." in c["image"] and "@sha256:" in c["image"], r.name
                assert c["imagePullPolicy"] == "IfNotPresent"
    assert set(run.outputs["images"]) == {"model-runner", "ollama"}
    # The prod CMK encrypts the repositories, which outlive the stack.
    for r in run.registrations:
        if r.type == "aws:ecr/repository:Repository":
            assert r.protect and r.inputs["encryptionConfigurations"][0]["kmsKey"]


def test_an_existing_cluster_pushes_to_its_own_registry_and_pods_get_the_pull_secret() -> None:
    config = stack_file_config("local") | {
        "ai-infra:registry": {
            "enabled": True,
            "build": ["ollama"],
            "host": "registry.lab.internal:5000",
            "username": "ci-bot",
            "passwordSecret": "registryPassword",
        },
        "ai-infra:registryPassword": "pw-value",
    }
    run = run_stack("local", config, secret_keys=["ai-infra:registryPassword"])
    assert "pw-value" not in json.dumps(redact([r.inputs for r in run.registrations]))
    pull = [r for r in run.registrations if r.inputs.get("type") == "kubernetes.io/dockerconfigjson"]
    assert pull
    for r in run.registrations:
        if r.type in ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet") and "ollama" in json.dumps(
            r.inputs["spec"]["template"]["spec"]["containers"][0]["image"]
        ):
            pod = r.inputs["spec"]["template"]["spec"]
            assert pod["imagePullSecrets"] == [{"name": pull[0].inputs["metadata"]["name"]}]
            assert pod["containers"][0]["image"].startswith("registry.lab.internal:5000/ollama@sha256:")


def test_keda_watches_only_fleet_namespaces_and_reads_secrets_in_its_own() -> None:
    (keda,) = [
        r
        for r in stack_run("prod").registrations
        if r.type == "kubernetes:helm.sh/v3:Release" and r.inputs["chart"] == "keda"
    ]
    values = keda.inputs["values"]
    assert values["watchNamespace"] == "models"
    for part in ("operator", "metricServer"):
        assert values["permissions"][part]["restrict"]["secret"] is True


def test_service_monitors_wait_for_the_release_that_installs_their_crd() -> None:
    """The provider retries "no matches for kind ServiceMonitor" only ~60 s: a first `up` must
    order every ServiceMonitor after kube-prometheus-stack (the e2e's pre-installed operators
    would hide a missing edge, so the program's own dependency is checked here)."""
    run = stack_run("prod")
    release = next(
        r
        for r in run.registrations
        if r.type == "kubernetes:helm.sh/v3:Release" and r.inputs["chart"] == "kube-prometheus-stack"
    )
    monitors = [
        r
        for r in run.registrations
        if r.type == "kubernetes:monitoring.coreos.com/v1:ServiceMonitor" and r.name.startswith("model-")
    ]
    assert monitors
    for monitor in monitors:
        assert release.urn in monitor.dependencies or release.parent in monitor.dependencies, monitor.name


def test_prod_with_an_alert_receiver_has_no_mandatory_finding() -> None:
    # The receiver's Alertmanager config goes in a Secret the chart reads by name (configSecret);
    # the pack once took that name for a credential typed into Helm values.
    from planner.policy_host import analyze_all
    from tests.conftest import ROOT

    config = stack_file_config("prod")
    config["ai-infra:monitoring"] = {
        **config.get("ai-infra:monitoring", {}),
        "alertReceivers": {"oncall": {"type": "slack", "webhookUrlSecret": "slackWebhook"}},
    }
    config["ai-infra:slackWebhook"] = "https://hooks.slack.example/not-real"
    run = run_stack("prod", config, secret_keys=[*stack_secret_keys("prod"), "ai-infra:slackWebhook"])
    release = next(r for r in run.registrations if r.inputs.get("name") == "kube-prometheus-stack")
    assert release.inputs["values"]["alertmanager"]["alertmanagerSpec"]["configSecret"]
    pack = json.loads((ROOT / "policies" / "prod.json").read_text())
    found = analyze_all(ROOT / "policies", pack, run.registrations)
    assert [f"{v.policy}: {v.message}" for v in found if v.level == "mandatory"] == []


def test_prod_vllm_fleets_get_a_generated_api_key_exported_only_as_a_secret() -> None:
    run = stack_run("prod")
    (password,) = [
        r
        for r in run.registrations
        if r.type == "random:index/randomPassword:RandomPassword" and "InferenceGateway$" not in r.urn
    ]
    assert "coder-32b" in password.urn and password.inputs["length"] >= 32 and password.inputs["special"] is False
    (secret,) = [r for r in run.registrations if r.type == "kubernetes:core/v1:Secret" and "coder-32b-api-key" in r.urn]
    assert SECRET_SIG in json.dumps(secret.inputs["stringData"])
    deployment = next(r for r in run.registrations if r.urn.endswith("model-coder-32b-deployment"))
    (server,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in server["env"]}
    assert env["VLLM_API_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "coder-32b-api-key", "key": "api-key"}
    # The key leaves the stack only as a secret output; Ollama (no API keys) gets none.
    keys = run.outputs["modelApiKeys"]
    assert isinstance(keys, dict) and SECRET_SIG in keys
    assert "mock-random-" not in json.dumps(plan_document("prod", run.registrations, run.outputs))
    assert "modelApiKeys" not in stack_run("dev").outputs  # dev keeps the choice (and the e2e stack)
    # Dev's only generated keys are the gateway clients'.
    dev_random = [r for r in stack_run("dev").registrations if r.type.startswith("random:")]
    assert dev_random and all("InferenceGateway$random" in r.urn for r in dev_random)
