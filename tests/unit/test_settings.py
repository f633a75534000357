"""Settings: presets valid, every stack file valid, bad input reported all at once with key paths."""

from __future__ import annotations

import re
from typing import Any

import pytest

from components.core.presets import ENV_PRESETS
from components.core.settings import Environment, SettingsError, deep_merge, parse_settings
from components.core.settings.loader import credential_problems
from tests.conftest import DEV_CIDRS, PROD_ADMINS, ROOT, settings_for

DEV_CIDRS_RAW = DEV_CIDRS


def _problems(raw: dict[str, Any], stack: str = "dev", secret_keys: frozenset[str] = frozenset()) -> dict[str, str]:
    with pytest.raises(SettingsError) as info:
        parse_settings(raw, stack=stack, secret_keys=secret_keys)
    assert info.value.stack_file == f"Pulumi.{stack}.yaml"
    assert f"Pulumi.{stack}.yaml" in str(info.value)
    return dict(info.value.problems)


def test_every_environment_has_a_preset() -> None:
    assert set(ENV_PRESETS) == set(Environment)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_each_preset_is_valid(env: str) -> None:
    assert settings_for(env).environment == env


@pytest.mark.parametrize("path", sorted(ROOT.glob("Pulumi.*.yaml")), ids=lambda p: p.name)
def test_every_stack_file_is_valid(path: Any) -> None:
    # Read as the program gets it (through the CLI's rules), so a user's `secure:` values pass too.
    from components.core.settings import decode_config
    from planner.stack_config import load_stack_config

    config = load_stack_config(ROOT, path.name.split(".")[1])
    raw, secrets, foreign = decode_config(config.config, frozenset(config.secret_keys))
    parse_settings(raw, stack=config.stack, secret_keys=secrets, foreign_keys=foreign)


def test_a_stack_file_with_secure_values_is_valid(tmp_path: Any) -> None:
    from components.core.settings import decode_config
    from planner.stack_config import load_stack_config

    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    text = (ROOT / "Pulumi.prod.yaml").read_text() + "  ai-infra:hfToken:\n    secure: v1:AAAA\n"
    (tmp_path / "Pulumi.mine.yaml").write_text(text)
    config = load_stack_config(tmp_path, "mine")
    raw, secrets, foreign = decode_config(config.config, frozenset(config.secret_keys))
    assert parse_settings(raw, stack="mine", secret_keys=secrets, foreign_keys=foreign).secret_keys == {
        "hfToken",
        "tailscaleOauthClientId",
        "tailscaleOauthClientSecret",
    }


def test_any_stack_name_works_with_an_environment() -> None:
    raw = {"environment": "dev", "cluster": {"eks": {"publicAccessCidrs": ["198.51.100.0/24"]}}}
    assert parse_settings(raw, stack="dev-alice").environment == Environment.DEV


def test_prod_is_strictly_safer_than_dev() -> None:
    dev, prod = settings_for("dev"), settings_for("prod")
    assert dev.cluster.eks and prod.cluster.eks
    assert not prod.cluster.eks.endpoint_public_access
    assert set(prod.cluster.eks.log_types) > set(dev.cluster.eks.log_types)
    assert prod.cluster.eks.log_retention_days > dev.cluster.eks.log_retention_days
    assert prod.cluster.eks.nat_gateways == "per-az"
    assert prod.storage.shared.backups and not dev.storage.shared.backups
    for pool in prod.node_pools.values():
        if pool.purpose == "serving":
            assert pool.capacity_type == "ON_DEMAND" and pool.min_size >= 2
    assert all(p.capacity_type == "SPOT" for p in dev.node_pools.values())


def test_environment_is_required_and_checked() -> None:
    assert "ai-infra:environment" in _problems({})
    assert "dev, prod" in _problems({"environment": "staging"})["ai-infra:environment"]


def test_every_bad_key_is_reported_at_once() -> None:
    problems = _problems(
        {
            "environment": "prod",
            "bogus": 1,
            "cluster": {"kubernetesVersion": "1.20", "flavour": "x", "eks": {"vpcCidr": "nope"}},
            "nodePools": {
                "serving": {"instanceTypes": ["m5.large"]},
                "spare": {"instanceTypes": ["g5.3xlarge"], "minSize": 3, "maxSize": 2, "desiredSize": 9},
            },
        },
        stack="prod",
    )
    assert set(problems) >= {
        "ai-infra:bogus",
        "ai-infra:cluster.kubernetesVersion",
        "ai-infra:cluster.flavour",
        "ai-infra:cluster.eks.vpcCidr",
        "ai-infra:nodePools.serving.instanceTypes[0]",
        "ai-infra:nodePools.spare.instanceTypes[0]",
        "ai-infra:nodePools.spare.minSize",
        "ai-infra:nodePools.spare.desiredSize",
    }
    assert "1.34" in problems["ai-infra:cluster.kubernetesVersion"]
    assert "g4dn, g5, g6" in problems["ai-infra:nodePools.serving.instanceTypes[0]"]
    assert "g5.xlarge" in problems["ai-infra:nodePools.spare.instanceTypes[0]"]
    assert "unknown key" in problems["ai-infra:cluster.flavour"]


def test_secret_keys_must_be_set_as_secrets() -> None:
    raw = {"environment": "prod", "hfToken": "hf_plaintext", **PROD_ADMINS}
    assert "--secret" in _problems(raw, stack="prod")["ai-infra:hfToken"]
    parse_settings(raw, stack="prod", secret_keys=frozenset({"hfToken"}))


def test_public_endpoint_needs_narrow_cidrs() -> None:
    assert "CIDRs allowed" in _problems({"environment": "dev"})["ai-infra:cluster.eks.publicAccessCidrs"]
    wide = {"environment": "dev", "cluster": {"eks": {"publicAccessCidrs": ["0.0.0.0/0"]}}}
    assert "whole internet" in _problems(wide)["ai-infra:cluster.eks.publicAccessCidrs"]
    public_prod = {
        "environment": "prod",
        "cluster": {"eks": {"endpointPublicAccess": True, "publicAccessCidrs": ["10.0.0.0/8"]}},
    }
    assert "ai-infra:cluster.eks.endpointPublicAccess" in _problems(public_prod, stack="prod")


def test_prod_needs_explicit_cluster_admins() -> None:
    assert "ai-infra:cluster.eks.adminPrincipalArns" in _problems({"environment": "prod"}, stack="prod")


def test_gpu_sharing_combinations_are_checked() -> None:
    def pool_problems(sharing: dict[str, Any], instance: str = "g6.xlarge") -> dict[str, str]:
        return _problems(
            {
                "environment": "dev",
                "cluster": {"eks": {"publicAccessCidrs": ["203.0.113.0/24"]}},
                "nodePools": {"gpu": {"instanceTypes": [instance], "sharing": sharing}},
            }
        )

    assert (
        "at least 2"
        in pool_problems({"mode": "time-slicing", "replicas": 1})["ai-infra:nodePools.gpu.sharing.replicas"]
    )
    assert (
        "cannot be combined"
        in pool_problems({"mode": "time-slicing", "replicas": 4, "migProfile": "all-1g.10gb"})[
            "ai-infra:nodePools.gpu.sharing.mode"
        ]
    )
    assert (
        "A100/H100"
        in pool_problems({"mode": "mig", "migStrategy": "single", "migProfile": "all-1g.10gb"})[
            "ai-infra:nodePools.gpu.sharing.mode"
        ]
    )
    settings_for(
        "prod",
        nodePools={"training": {"sharing": {"mode": "mig", "migStrategy": "mixed", "migProfile": "all-balanced"}}},
    )


def test_spot_serving_pool_in_prod_needs_two_nodes() -> None:
    raw = {
        "environment": "prod",
        **PROD_ADMINS,
        "nodePools": {"serving": {"capacityType": "SPOT", "minSize": 1, "desiredSize": 1}},
    }
    assert "at least 2" in _problems(raw, stack="prod")["ai-infra:nodePools.serving.minSize"]


def test_existing_mode_needs_a_kubeconfig_and_drops_aws_presets() -> None:
    problems = _problems({"environment": "dev", "cluster": {"mode": "existing"}})
    assert "kubeconfig" in problems["ai-infra:cluster.existing.kubeconfig"]
    existing_prod = {"mode": "existing", "existing": {"kubeconfig": "/k"}}
    ok = parse_settings(
        {
            "environment": "prod",
            "cluster": existing_prod,
            "namespaces": {"models": {"modelCache": False}},
            "models": {"coder-32b": None, "qwen-coder": None},  # null removes a preset entry
            "addons": PROD_ADMINS["addons"],
        },
        stack="prod",
    )
    assert ok.cluster.eks is None and ok.storage.shared.backend == "none"
    efs = {
        "environment": "dev",
        "cluster": {"mode": "existing", "existing": {"kubeconfig": "/k"}},
        "storage": {"shared": {"backend": "efs"}},
    }
    assert "aws-eks" in _problems(efs)["ai-infra:storage.shared.backend"]


def test_deep_merge_maps_merge_lists_replace_none_deletes() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "b": {"keep": True}, "c": 1}
    merged = deep_merge(base, {"a": {"y": [3]}, "b": None, "d": 4})
    assert merged == {"a": {"x": 1, "y": [3]}, "c": 1, "d": 4}
    assert base["a"] == {"x": 1, "y": [1, 2]}


def test_settings_are_frozen() -> None:
    settings = settings_for("dev")
    with pytest.raises(Exception, match="frozen"):
        settings.team = "other"  # type: ignore[misc]


def test_storage_rules() -> None:
    nfs_without_server = {"environment": "dev", **DEV_CIDRS_RAW, "storage": {"shared": {"backend": "nfs"}}}
    assert "server and share" in _problems(nfs_without_server)["ai-infra:storage.shared.nfs"]
    nvme_without_pool = {"environment": "dev", **DEV_CIDRS_RAW, "storage": {"nvme": {"enabled": True}}}
    assert "local-pv" in _problems(nvme_without_pool)["ai-infra:storage.nvme.enabled"]
    unknown_class = {"environment": "dev", **DEV_CIDRS_RAW, "storage": {"modelCacheClass": "fast-ssd"}}
    assert "shared-models" in _problems(unknown_class)["ai-infra:storage.modelCacheClass"]
    no_shared = {"environment": "dev", **DEV_CIDRS_RAW, "storage": {"shared": {"backend": "none"}}}
    assert "ai-infra:storage.modelCacheClass" in _problems(no_shared)
    no_nvme_disks = {
        "environment": "dev",
        **DEV_CIDRS_RAW,
        "nodePools": {"gpu": {"instanceTypes": ["p5.48xlarge"], "nvme": "raid0", "gpuCap": 8}, "x": None},
    }
    settings_for("dev", nodePools=no_nvme_disks["nodePools"])


def test_replicated_fleets_need_a_read_write_many_cache() -> None:
    rwo = {
        "environment": "dev",
        **DEV_CIDRS_RAW,
        "storage": {"modelCacheClass": "gp3"},
        "models": {
            "qwen": {
                "engine": "vllm",
                "model": "Qwen/Qwen2.5-0.5B-Instruct",
                "pool": "gpu",
                "replicas": {"min": 1, "max": 3},
            }
        },
    }
    assert "ReadWriteOnce" in _problems(rwo)["ai-infra:storage.modelCacheClass"]


def _model(**spec: Any) -> dict[str, Any]:
    models = {
        "qwen-small": None,
        "qwen-instruct": None,
        "m": {"engine": "vllm", "model": "org/m", "pool": "gpu", "cpu": "2", "memory": "8Gi", **spec},
    }
    return {"environment": "dev", **DEV_CIDRS_RAW, "models": models}


def test_model_spec_cross_field_rules() -> None:
    assert "unknown" not in str(_problems(_model(engine="tgi")))  # message lists the allowed engines
    assert "must be one of: ollama, sglang, vllm" in _problems(_model(engine="tgi"))["ai-infra:models.m.engine"]
    assert "at least 1" in _problems(_model(gpusPerReplica=0))["ai-infra:models.m.gpusPerReplica"]
    assert "fit one node" in _problems(_model(gpusPerReplica=2))["ai-infra:models.m.gpusPerReplica"]
    assert "node pool" in _problems(_model(pool="nope"))["ai-infra:models.m.pool"]
    ollama = {"engine": "ollama", "model": "qwen2.5:0.5b", "revision": "abc", "extraArgs": ["--x"]}
    for key in ("revision", "extraArgs"):
        assert "option of sglang, vllm only" in _problems(_model(**ollama))[f"ai-infra:models.m.{key}"]
    assert "model tag" in _problems(_model(**ollama))["ai-infra:models.m.revision"]
    too_wide = {"engine": "ollama", "model": "qwen2.5:0.5b", "gpusPerReplica": 4}
    assert "fit one node" in _problems(_model(**too_wide))["ai-infra:models.m.gpusPerReplica"]
    assert "pinned tag" in _problems(_model(engine="ollama", model="qwen2.5"))["ai-infra:models.m.model"]
    assert "ai-infra:namespaces.models.quota.gpus" in _problems(_model(replicas={"min": 1, "max": 3}))


def test_tensor_parallel_must_divide_the_node() -> None:
    raw = {
        "environment": "prod",
        **PROD_ADMINS,
        "models": {"m": {"engine": "vllm", "model": "org/m", "pool": "serving", "gpusPerReplica": 3}},
    }
    assert "divide" in _problems(raw, stack="prod")["ai-infra:models.m.gpusPerReplica"]


def test_model_secrets_must_be_secret_config() -> None:
    raw = _model(apiKeySecret="mKey")
    assert "not set" in _problems(raw)["ai-infra:mKey"]
    assert "--secret" in _problems({**raw, "mKey": "plaintext"})["ai-infra:mKey"]
    parse_settings({**raw, "mKey": "[secret]"}, stack="dev", secret_keys=frozenset({"mKey"}))


def test_pulumi_yaml_declares_every_key_with_a_type_description_and_default() -> None:
    import yaml

    from components.core.settings import FIELD_KEYS, StackSettings

    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    # Secrets are not declared: the CLI cannot make a declared secret optional.
    assert set(declared) == FIELD_KEYS
    fields = {f.alias or n: f for n, f in StackSettings.model_fields.items()}
    for key, decl in declared.items():
        assert decl["type"] in ("string", "object") and decl["description"], key
        assert "secret" not in decl, key
        if key == "environment":
            assert "default" not in decl  # the one required key
        elif decl["type"] == "object":
            assert decl["default"] == {}, key  # merges over the preset: changes nothing
        else:
            assert decl["default"] == fields[key].default, key  # the same default as the field


def test_a_stack_without_monitoring_is_told_what_it_lacks() -> None:
    warnings = dict(settings_for("dev").warnings)
    assert "nothing autoscales on queue depth" in warnings["monitoring.enabled"]
    assert "monitoring.enabled" not in dict(settings_for("prod").warnings)


def test_queue_depth_autoscaling_needs_a_prometheus() -> None:
    raw = {
        "environment": "dev",
        **DEV_CIDRS_RAW,
        "namespaces": {"models": {"quota": {"gpus": 3}}},
        "models": {"qwen-instruct": {"replicas": {"min": 1, "max": 2}}},
    }
    assert "monitoring.enabled" in _problems(raw)["ai-infra:models.qwen-instruct.replicas.max"]
    external = deep_merge(raw, {"monitoring": {"prometheusUrl": "http://prometheus.obs.svc:9090"}})
    assert parse_settings(external, stack="dev").queue_metrics_external


def test_monitoring_receivers_need_secret_webhooks_and_the_stack() -> None:
    raw = {
        "environment": "prod",
        **PROD_ADMINS,
        "monitoring": {"alertReceivers": {"oncall": {"webhookUrlSecret": "oncallWebhook"}}},
    }
    assert "not set" in _problems(raw, stack="prod")["ai-infra:oncallWebhook"]
    assert "--secret" in _problems({**raw, "oncallWebhook": "https://x"}, stack="prod")["ai-infra:oncallWebhook"]
    ok = parse_settings({**raw, "oncallWebhook": "[secret]"}, stack="prod", secret_keys=frozenset({"oncallWebhook"}))
    assert ok.monitoring.alert_receivers["oncall"].severities == ["critical", "warning"]
    off = deep_merge(raw, {"monitoring": {"enabled": False}, "models": {"coder-32b": {"replicas": {"max": 2}}}})
    problems = _problems({**off, "oncallWebhook": "[secret]"}, stack="prod", secret_keys=frozenset({"oncallWebhook"}))
    assert "monitoring.enabled" in problems["ai-infra:monitoring.alertReceivers"]


def test_misspelt_keys_get_a_suggestion_at_any_depth() -> None:
    problems = _problems({"environment": "dev", **DEV_CIDRS_RAW, "nodePools": {"gpu": {"maxSzie": 3}}})
    message = problems["ai-infra:nodePools.gpu.maxSzie"]
    assert message.startswith("unknown key; did you mean maxSize?") and "gpuCap" in message
    deep = _problems({"environment": "dev", **DEV_CIDRS_RAW, "cluster": {"eks": {"systemPool": {"minsize": 1}}}})
    assert "did you mean minSize?" in deep["ai-infra:cluster.eks.systemPool.minsize"]


def test_messages_speak_the_stack_files_language() -> None:
    problems = _problems({"environment": "dev", **DEV_CIDRS_RAW, "models": {"qwen-instruct": {"replicas": "3"}}})
    message = problems["ai-infra:models.qwen-instruct.replicas"]
    assert message == "must be a mapping (key: value)"
    assert "ReplicaSettings" not in message and "Input should" not in message


def test_numbers_are_accepted_where_people_write_them() -> None:
    settings = settings_for("dev", cluster={"kubernetesVersion": 1.33}, models={"qwen-instruct": {"cpu": 3}})
    assert settings.cluster.kubernetes_version == "1.33" and settings.models["qwen-instruct"].cpu == "3"


def test_cross_section_rules_run_even_when_a_field_is_wrong_elsewhere() -> None:
    raw = {
        "environment": "dev",
        **DEV_CIDRS_RAW,
        "nodePools": {"gpu": {"maxSize": "x"}},
        "models": {"qwen-instruct": {"pool": "nope"}},
    }
    problems = _problems(raw)
    assert problems["ai-infra:nodePools.gpu.maxSize"] == "must be a whole number"
    assert "must name a node pool" in problems["ai-infra:models.qwen-instruct.pool"]


def test_existing_clusters_describe_machines_not_ec2_types() -> None:
    machine = {"gpus": 2, "gpuModel": "RTX-A6000", "gpuMemoryGib": 48, "cpu": 32, "memoryGib": 256}
    existing = {"mode": "existing", "existing": {"kubeconfig": "/k"}}
    ok = parse_settings(
        {
            "environment": "dev",
            "cluster": existing,
            "nodePools": {"gpu": {"instanceTypes": None, "machine": machine}},
            "namespaces": {"models": {"modelCache": False}},
            "models": {"qwen-small": {"cache": "ephemeral"}, "qwen-instruct": {"cache": "ephemeral"}},
        },
        stack="local",
    )
    pool = ok.node_pools["gpu"]
    assert pool.gpus_per_node == 2 and pool.instances[0].gpu_model == "RTX-A6000"
    both = {"environment": "dev", **DEV_CIDRS_RAW, "nodePools": {"gpu": {"machine": machine}}}
    assert "not both" in _problems(both)["ai-infra:nodePools.gpu.instanceTypes"]
    on_aws = {"environment": "dev", **DEV_CIDRS_RAW, "nodePools": {"gpu": {"instanceTypes": None, "machine": machine}}}
    assert "EKS pools take instanceTypes" in _problems(on_aws)["ai-infra:nodePools.gpu.machine"]


def test_foreign_namespace_keys_say_what_to_write_instead() -> None:
    with pytest.raises(SettingsError) as info:
        parse_settings(
            {"environment": "dev", **DEV_CIDRS_RAW},
            stack="dev",
            foreign_keys=frozenset({"aws:region", "pulumi:disable-default-providers"}),
        )
    assert dict(info.value.problems) == {
        "aws:region": "is ignored here: the region is ai-infra:cluster.eks.region; remove it"
    }


def test_a_clamped_value_is_reported() -> None:
    clamps = dict(settings_for("dev", nodePools={"gpu": {"maxSize": 5}}).clamps)
    assert clamps["nodePools.gpu.maxSize"] == "5 -> 3: capped by gpuCap 3 (1 GPU(s) per node)"


def test_each_principal_gets_one_access_level() -> None:
    arn = "arn:aws:iam::123456789012:role/oncall"
    problems = _problems(
        {
            "environment": "prod",
            **PROD_ADMINS,
            "cluster": {"eks": {"operatorPrincipalArns": [arn], "viewerPrincipalArns": [arn, "oncall"]}},
        },
        stack="prod",
    )
    assert "already in operatorPrincipalArns" in problems["ai-infra:cluster.eks.viewerPrincipalArns[0]"]
    assert "IAM role or user ARN" in problems["ai-infra:cluster.eks.viewerPrincipalArns[1]"]


@pytest.mark.parametrize("revision", [None, "main", "v1.0", "1ed0a61", "1ED0A6145DA0CE550C628E8E8B678F51E695995D"])
def test_prod_serves_hugging_face_weights_at_a_commit(revision: str | None) -> None:
    raw = {"environment": "prod", **PROD_ADMINS, "models": {"coder-32b": {"revision": revision}}}
    message = _problems(raw, stack="prod")["ai-infra:models.coder-32b.revision"]
    assert "40-hex commit SHA" in message
    # dev may follow a branch while a model is being tried out.
    dev = settings_for("dev", models={"qwen-instruct": {"revision": "main"}})
    assert dev.models["qwen-instruct"].revision == "main"


def test_the_vpc_must_not_overlap_the_clusters_service_range() -> None:
    raw = {"environment": "prod", **PROD_ADMINS, "cluster": {"eks": {"vpcCidr": "172.16.0.0/12"}}}
    assert "172.20.0.0/16" in _problems(raw, stack="prod")["ai-infra:cluster.eks.vpcCidr"]


def test_existing_clusters_name_their_ranges_for_system_network_policies() -> None:
    existing = {"mode": "existing", "existing": {"kubeconfig": "/k", "networkCidrs": ["not-a-cidr"]}}
    assert "ai-infra:cluster.existing.networkCidrs[0]" in _problems({"environment": "dev", "cluster": existing})
    from components.core.settings import ExistingClusterSettings

    assert "10.0.0.0/8" in ExistingClusterSettings(kubeconfig="/k").network_cidrs  # RFC 1918 by default


def test_cost_center_takes_what_aws_tag_values_take() -> None:
    for ok in ("ml-platform", "CC 4711", "Équipe IA/Forschung", "team@example.com", "a:b=c+d_e.f", "x" * 256):
        assert settings_for("dev", costCenter=ok).cost_center == ok
    for bad in ("ml#platform", "cost;center", "a,b", "quote'd", "tab\tbed", "x" * 257):
        problems = _problems(deep_merge({"environment": "dev", **DEV_CIDRS}, {"costCenter": bad}))
        assert "AWS tag value" in problems["ai-infra:costCenter"], bad
    # team is a Kubernetes label value too, so a DNS label (a subset of what AWS tags take).
    assert "DNS-1123" in _problems({"environment": "dev", **DEV_CIDRS, "team": "ML Team!"})["ai-infra:team"]


def test_credentials_inside_values_are_refused_by_key_path() -> None:
    raw = {
        "environment": "dev",
        **DEV_CIDRS,
        "monitoring": {"prometheusUrl": "https://reader:s3cret@prom.lab:9090"},
        "models": {"qwen-small": {"extraArgs": ["--api-key=s3cret"]}},
        "jobs": {"finetune-example": {"command": ["train", "--hf-token", "s3cret"]}},
    }
    problems = _problems(raw)
    assert "credential inside a URL" in problems["ai-infra:monitoring.prometheusUrl"]
    assert "command line" in problems["ai-infra:models.qwen-small.extraArgs[0]"]
    assert "command line" in problems["ai-infra:jobs.finetune-example.command[1]"]
    assert all("s3cret" not in m for m in problems.values())
    # A user name alone, a flag naming a file, and a flag without a value carry no secret.
    fine = {"models": {"m": {"extraArgs": ["--token-file=/run/t", "--download-dir", "https://git@host/x", "--token"]}}}
    assert credential_problems(fine) == []


def test_ttft_slo_must_be_a_vllm_bucket_boundary() -> None:
    """Between two boundaries, interpolation (not latency) decides pages: boundaries only, named.
    With monitoring on, the boundaries of the fleets' engines (dev's alerting fleet is vLLM)."""
    on = {"monitoring": {"enabled": True, "ttftP95Seconds": 2}}
    problems = _problems(deep_merge({"environment": "dev", **DEV_CIDRS}, on))
    message = problems["ai-infra:monitoring.ttftP95Seconds"]
    assert "bucket boundary" in message and "2.5" in message and "1, 2.5" in message
    assert settings_for("dev", monitoring={"ttftP95Seconds": 2.5})


def _machine_raw(**machine: object) -> dict[str, Any]:
    base = {"gpus": 2, "cpu": 32, "memoryGib": 256}
    return {
        "environment": "dev",
        "cluster": {"mode": "existing", "existing": {"kubeconfig": "/k"}},
        "nodePools": {"gpu": {"instanceTypes": None, "machine": base | machine}},
        "namespaces": {"models": {"modelCache": False}},
        "models": {"qwen-small": {"cache": "ephemeral"}, "qwen-instruct": {"cache": "ephemeral"}},
    }


def _machine_problems(**machine: object) -> dict[str, str]:
    return _problems(_machine_raw(**machine))


def test_a_machines_gpu_model_is_known_or_its_memory_is_given() -> None:
    """Issue 22 item 12: model fit reads the GPU's memory, so an unknown board must say it."""
    known = parse_settings(_machine_raw(gpuModel="L40S"), stack="local")
    assert known.node_pools["gpu"].instances[0].gpu_memory_gib == 48
    unknown = _machine_problems(gpuModel="MI300X")["ai-infra:nodePools.gpu.machine.gpuMemoryGib"]
    assert "is required" in unknown and "RTX-A6000" in unknown
    wrong = _machine_problems(gpuModel="A100", gpuMemoryGib=80)["ai-infra:nodePools.gpu.machine.gpuMemoryGib"]
    assert "A100 has 40 GiB" in wrong and "A100-80GB" in wrong
    own = parse_settings(_machine_raw(gpuModel="MI300X", gpuMemoryGib=192), stack="local")
    assert own.node_pools["gpu"].instances[0].gpu_memory_gib == 192


def test_an_existing_models_path_needs_the_nfs_backend_and_the_shared_class() -> None:
    nfs = {"server": "nfs.lab", "share": "/exports/ai", "existingModelsPath": "/exports/weights"}
    efs = {"environment": "dev", **DEV_CIDRS_RAW, "storage": {"shared": {"backend": "efs", "nfs": nfs}}}
    assert "backend is nfs" in _problems(efs)["ai-infra:storage.shared.nfs.existingModelsPath"]
    raw = _machine_raw(gpuModel="L4") | {
        "storage": {
            "shared": {"backend": "nfs", "nfs": nfs},
            "modelCacheClass": "local-nvme",
            "nvme": {"enabled": True},
        },
        "namespaces": {"models": {"modelCache": True}},
    }
    problems = _problems(raw)
    assert "must be shared-models" in problems["ai-infra:storage.shared.nfs.existingModelsPath"]
    bad = _machine_raw(gpuModel="L4") | {
        "storage": {"shared": {"backend": "nfs", "nfs": nfs | {"existingModelsPath": "w"}}}
    }
    assert "ai-infra:storage.shared.nfs.existingModelsPath" in _problems(bad)


def test_readme_names_every_key_without_a_default() -> None:
    """Issue 22 item 14: the README said every key but ``environment`` has a default. Each minimal
    stack below (a choice the README names) fails only on keys the troubleshooting row lists."""
    readme = (ROOT / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `Stack 'x' is missing configuration"))
    existing = {"mode": "existing", "existing": {"kubeconfig": "~/.kube/config"}}
    cases: list[dict[str, Any]] = [
        {"environment": "dev"},
        {"environment": "prod"},
        {"environment": "dev", "cluster": {"mode": "existing"}},
        {
            "environment": "dev",
            "cluster": existing,
            "registry": {"build": []},
            "storage": {"shared": {"backend": "nfs"}},
        },
        {
            "environment": "dev",
            "cluster": {"eks": {"publicAccessCidrs": ["10.0.0.0/8"]}},
            "tailscale": {"enabled": True},
        },
    ]
    named = set()
    for raw in cases:
        with pytest.raises(SettingsError) as info:
            parse_settings(raw, stack="x")
        named |= {key.removeprefix("ai-infra:") for key, _ in info.value.problems}
    for key in sorted(named):
        # Chart image digests are named by pattern (the images: README "Chart images by digest").
        shown = (
            "addons.<chart>.imageDigests.<image>" if re.fullmatch(r"addons\.[\w-]+\.imageDigests\.[\w-]+", key) else key
        )
        assert f"`{shown}`" in row, f"README troubleshooting: {key} has no default"
    # What exit 2 does to build/<stack>/ (tests/planner/test_plan_cli.py checks the tool does this).
    assert "`build/<stack>/` keeps the\nprevious plan, unchanged" in readme and "is removed so no stale" not in readme
