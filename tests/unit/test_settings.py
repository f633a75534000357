"""Settings as a whole (``components/core/settings``): presets, stack files, the loader's messages,
all errors at once, secrets only as secret config. Each section's own tests are
``test_<section>_settings.py``."""

from __future__ import annotations

import re
from typing import Any

import pytest

from components.core.presets import ENV_PRESETS
from components.core.settings import Environment, SettingsError, deep_merge, parse_settings
from components.core.settings.loader import credential_problems
from tests.conftest import DEV_CIDRS, PROD_ADMINS, ROOT, settings_for
from tests.unit.settings_problems import stack_problems as _problems


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


def test_deep_merge_maps_merge_lists_replace_none_deletes() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "b": {"keep": True}, "c": 1}
    merged = deep_merge(base, {"a": {"y": [3]}, "b": None, "d": 4})
    assert merged == {"a": {"x": 1, "y": [3]}, "c": 1, "d": 4}
    assert base["a"] == {"x": 1, "y": [1, 2]}


def test_settings_are_frozen() -> None:
    settings = settings_for("dev")
    with pytest.raises(Exception, match="frozen"):
        settings.team = "other"  # type: ignore[misc]


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


def test_misspelt_keys_get_a_suggestion_at_any_depth() -> None:
    problems = _problems({"environment": "dev", **DEV_CIDRS, "nodePools": {"gpu": {"maxSzie": 3}}})
    message = problems["ai-infra:nodePools.gpu.maxSzie"]
    assert message.startswith("unknown key; did you mean maxSize?") and "gpuCap" in message
    deep = _problems({"environment": "dev", **DEV_CIDRS, "cluster": {"eks": {"systemPool": {"minsize": 1}}}})
    assert "did you mean minSize?" in deep["ai-infra:cluster.eks.systemPool.minsize"]


def test_messages_speak_the_stack_files_language() -> None:
    problems = _problems({"environment": "dev", **DEV_CIDRS, "models": {"qwen-instruct": {"replicas": "3"}}})
    message = problems["ai-infra:models.qwen-instruct.replicas"]
    assert message == "must be a mapping (key: value)"
    assert "ReplicaSettings" not in message and "Input should" not in message


def test_numbers_are_accepted_where_people_write_them() -> None:
    settings = settings_for("dev", cluster={"kubernetesVersion": 1.33}, models={"qwen-instruct": {"cpu": 3}})
    assert settings.cluster.kubernetes_version == "1.33" and settings.models["qwen-instruct"].cpu == "3"


def test_cross_section_rules_run_even_when_a_field_is_wrong_elsewhere() -> None:
    raw = {
        "environment": "dev",
        **DEV_CIDRS,
        "nodePools": {"gpu": {"maxSize": "x"}},
        "models": {"qwen-instruct": {"pool": "nope"}},
    }
    problems = _problems(raw)
    assert problems["ai-infra:nodePools.gpu.maxSize"] == "must be a whole number"
    assert "must name a node pool" in problems["ai-infra:models.qwen-instruct.pool"]


def test_foreign_namespace_keys_say_what_to_write_instead() -> None:
    with pytest.raises(SettingsError) as info:
        parse_settings(
            {"environment": "dev", **DEV_CIDRS},
            stack="dev",
            foreign_keys=frozenset({"aws:region", "pulumi:disable-default-providers"}),
        )
    assert dict(info.value.problems) == {
        "aws:region": "is ignored here: the region is ai-infra:cluster.eks.region; remove it"
    }


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
