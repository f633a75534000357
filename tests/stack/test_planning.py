"""The layers' pure planning functions (``stack/``): settings in, plain values out, no engine."""

from __future__ import annotations

from typing import Any, cast

import pytest

from components.core.settings import SettingsError, deep_merge, parse_settings
from components.specs.image_admission import DEV_REGISTRIES, PROD_REGISTRIES
from stack.batch import plan_job
from stack.context import StackContext, stack_tags
from stack.eks import eks_addresses
from stack.existing import existing_addresses, host_args
from stack.mesh import tailnet_policy
from stack.namespaces import image_admission
from stack.network import cluster_network
from stack.target import ClusterTarget
from stack.workloads import plan_fleet
from tests.conftest import DEV_CIDRS, mesh_settings, settings_for

EXISTING: dict[str, Any] = {
    "cluster": {"mode": "existing", "existing": {"kubeconfig": "/k", "networkCidrs": ["10.1.0.0/16"]}},
    "nodePools": {
        "gpu": {
            "instanceTypes": None,
            "machine": {"gpus": 2, "gpuModel": "L4", "cpu": 32, "memoryGib": 256},
            "gpuCap": 4,
            "maxSize": 2,
        }
    },
    "storage": {"shared": {"backend": "nfs", "nfs": {"server": "nfs.lab", "share": "/exports/ai"}}},
}


def _existing(**overrides: Any) -> Any:
    return parse_settings(deep_merge({"environment": "dev", **EXISTING}, overrides), stack="local")


def _context(settings: Any) -> StackContext:
    # The planning functions read settings, names and labels only: no cluster is needed.
    return StackContext(
        settings=settings, cluster_name="ai-infra-dev", secrets={}, cost={}, target=cast(ClusterTarget, None)
    )


def test_every_prod_difference_is_a_field_the_dev_preset_changes() -> None:
    dev, prod = settings_for("dev"), settings_for("prod")
    assert (prod.platform.retain_data, dev.platform.retain_data) == (True, False)
    assert (prod.platform.controller_replicas, dev.platform.controller_replicas) == (2, 1)
    assert (prod.platform.deny_mutable_tags, dev.platform.deny_mutable_tags) == (True, False)
    assert (prod.platform.generate_api_keys, dev.platform.generate_api_keys) == (True, False)
    assert (prod.registry.customer_managed_key, dev.registry.customer_managed_key) == (True, False)
    assert (prod.tailscale.ssh.check, dev.tailscale.ssh.check) == (True, False)
    assert (prod.tailscale.require_device_approval, dev.tailscale.require_device_approval) == (True, False)
    assert (prod.monitoring.slo_severity, dev.monitoring.slo_severity) == ("critical", "warning")
    assert prod.cluster.eks is not None and dev.cluster.eks is not None
    assert (prod.cluster.eks.public_load_balancers, dev.cluster.eks.public_load_balancers) == (False, True)


def test_a_stack_file_overrides_a_prod_difference() -> None:
    dev = settings_for("dev", platform={"retainData": True, "controllerReplicas": 2, "trustedRegistries": "prod"})
    assert dev.platform.retain_data and dev.platform.controller_replicas == 2
    assert image_admission(dev, None).prefixes == PROD_REGISTRIES


def test_a_bad_prod_difference_names_its_key_path() -> None:
    raw = deep_merge(
        {"environment": "dev", **DEV_CIDRS}, {"platform": {"controllerReplicas": 0, "trustedRegistries": "x"}}
    )
    with pytest.raises(SettingsError) as info:
        parse_settings(raw, stack="dev")
    problems = dict(info.value.problems)
    assert "ai-infra:platform.controllerReplicas" in problems and "ai-infra:platform.trustedRegistries" in problems


def test_image_admission_follows_the_platform_settings_and_the_own_registry() -> None:
    dev = image_admission(settings_for("dev"), "1234.dkr.ecr.us-west-2.amazonaws.com/")
    assert dev.prefixes == ("1234.dkr.ecr.us-west-2.amazonaws.com/", *DEV_REGISTRIES) and not dev.deny_tags
    prod = image_admission(settings_for("prod"), None)
    assert prod.prefixes == PROD_REGISTRIES and prod.deny_tags


def test_the_network_takes_the_targets_addresses() -> None:
    eks = settings_for("dev")
    assert eks.cluster.eks is not None
    on_eks = cluster_network(eks, eks_addresses(eks.cluster.eks))
    assert on_eks.private_cidrs == (eks.cluster.eks.vpc_cidr,) and on_eks.api_service_ip and on_eks.service_cidr
    existing = _existing()
    assert existing.cluster.existing is not None
    elsewhere = cluster_network(existing, existing_addresses(existing.cluster.existing))
    assert elsewhere.private_cidrs == ("10.1.0.0/16",) and elsewhere.api_ports == (443, 6443)
    assert elsewhere.api_service_ip is None and elsewhere.service_cidr is None


def test_an_existing_cluster_gets_a_registry_host_only_when_one_is_named() -> None:
    existing = _existing()
    assert host_args(existing, {}, ["models"]) is None
    with_host = _existing(registry={"enabled": True, "host": "reg.lab:5000", "build": []})
    args = host_args(with_host, {}, ["models", "a"])
    assert args is not None and args.host == "reg.lab:5000" and args.pull_secret_namespaces == ["a", "models"]


def test_the_tailnet_policy_checks_ssh_as_the_settings_say() -> None:
    addresses = eks_addresses(settings_for("dev").cluster.eks)
    assert tailnet_policy(mesh_settings("prod"), addresses).ssh_check
    assert not tailnet_policy(mesh_settings("dev"), addresses).ssh_check
    assert tailnet_policy(mesh_settings("dev", tailscale={"ssh": {"check": True}}), addresses).ssh_check


def test_fleets_and_jobs_run_the_named_image_without_a_registry() -> None:
    ctx = _context(settings_for("dev"))
    fleet = plan_fleet(ctx, "qwen-instruct", None)
    assert fleet.image == ctx.settings.model_images.for_engine("vllm")
    assert plan_job(ctx, "finetune-example", None).image == "train-light"


def test_the_context_labels_and_tags_every_object_the_same_way() -> None:
    ctx = _context(settings_for("dev"))
    labels = ctx.labels("registry", "registry")
    assert labels["app.kubernetes.io/name"] == "registry" and labels["app.kubernetes.io/component"] == "registry"
    assert ctx.tags == stack_tags(ctx.settings) and ctx.tags
