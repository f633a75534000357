"""The CLI's own config checks, reproduced by the planner, each with the CLI's wording.

Wording and order from pulumi/pulumi ``pkg/workspace/config.go`` and yaml.v3 (see
``docs/research/pulumi-cli.md``): a stack that plans here must not be refused by the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from planner.stack_config import StackConfigError, load_stack_config
from tests.conftest import ROOT, run_stack, stack_file_config

PROJECT: dict[str, Any] = {
    "name": "ai-infra",
    "requiredPulumiVersion": ">=3.187.0",
    "runtime": "python",
    "config": {
        "environment": {"type": "string"},
        "team": {"type": "string", "default": "ml-platform"},
        "costCenter": {"type": "string"},
        "gpu": {"type": "object"},
        "replicas": {"type": "integer", "default": 1},
        "debug": {"type": "boolean", "default": False},
        "token": {"type": "string", "secret": True, "default": "x"},
    },
}


def _project(tmp_path: Path, stack_text: str, project: dict[str, Any] | None = None) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(project or PROJECT))
    (tmp_path / "Pulumi.s.yaml").write_text(stack_text)
    return tmp_path


def _messages(tmp_path: Path, stack_text: str, project: dict[str, Any] | None = None) -> list[str]:
    with pytest.raises(StackConfigError) as info:
        load_stack_config(_project(tmp_path, stack_text, project), "s")
    return [m for _, m in info.value.problems]


COMPLETE = (
    "config:\n  ai-infra:environment: dev\n  ai-infra:costCenter: cc\n  ai-infra:gpu: {}\n"
    "  ai-infra:token:\n    secure: v1:AAAA\n"
)


@pytest.mark.parametrize("path", sorted(ROOT.glob("Pulumi.*.yaml")), ids=lambda p: p.name)
def test_every_stack_file_passes_the_cli_checks(path: Path) -> None:
    config = load_stack_config(ROOT, path.name.split(".")[1])
    assert config.environment in ("dev", "prod")


def test_missing_declared_keys_are_listed_together_sorted_and_quoted(tmp_path: Path) -> None:
    messages = _messages(tmp_path, "config:\n  ai-infra:environment: dev\n")
    assert messages == ["Stack 's' is missing configuration values 'costCenter' and 'gpu'"]
    project = {**PROJECT, "config": {**PROJECT["config"], "zone": {"type": "string"}}}
    three = _messages(tmp_path, "config:\n  ai-infra:environment: dev\n", project)
    assert three == ["Stack 's' is missing configuration values 'costCenter', 'gpu' and 'zone'"]
    one = _messages(tmp_path, "config:\n  ai-infra:environment: dev\n  ai-infra:gpu: {}\n")
    assert one == ["Stack 's' is missing configuration value 'costCenter'"]


def test_declared_defaults_fill_the_config_map(tmp_path: Path) -> None:
    config = load_stack_config(_project(tmp_path, COMPLETE), "s")
    assert config.config["ai-infra:team"] == "ml-platform" and config.config["ai-infra:debug"] == "false"
    assert config.secret_keys == ["ai-infra:token"]


def test_a_typed_secret_with_a_plain_value_must_be_encrypted(tmp_path: Path) -> None:
    text = COMPLETE.replace("  ai-infra:token:\n    secure: v1:AAAA\n", "  ai-infra:token: plain\n")
    assert _messages(tmp_path, text) == ["Stack 's' with configuration key 'token' must be encrypted as it's secret"]


def test_types_are_checked_on_the_string_form_first_failure_only(tmp_path: Path) -> None:
    # string accepts any scalar; integer takes "7" written as a string; yes is a string, not a boolean.
    text = COMPLETE.replace("ai-infra:costCenter: cc", "ai-infra:costCenter: 4242") + "  ai-infra:replicas: '7'\n"
    ok = load_stack_config(_project(tmp_path, text), "s")
    assert ok.config["ai-infra:replicas"] == "7" and ok.config["ai-infra:costCenter"] == "4242"
    text = COMPLETE.replace("ai-infra:costCenter: cc", "ai-infra:costCenter: [a]") + "  ai-infra:debug: yes\n"
    assert _messages(tmp_path, text) == ["Stack 's' with configuration key 'costCenter' must be of type 'string'"]
    assert _messages(tmp_path, COMPLETE + "  ai-infra:debug: on\n") == [
        "Stack 's' with configuration key 'debug' must be of type 'boolean'"
    ]
    assert _messages(tmp_path, COMPLETE.replace("ai-infra:gpu: {}", "ai-infra:gpu: device-plugin")) == [
        "Stack 's' with configuration key 'gpu' must be of type 'object'"
    ]


def test_keys_without_a_namespace_belong_to_the_project(tmp_path: Path) -> None:
    config = load_stack_config(_project(tmp_path, COMPLETE + "  team: research\n"), "s")
    assert config.config["ai-infra:team"] == "research"


def test_duplicate_keys_are_an_error(tmp_path: Path) -> None:
    messages = _messages(tmp_path, COMPLETE + "  ai-infra:environment: prod\n")
    assert messages == [
        'yaml: unmarshal errors:\n  line 7: mapping key "ai-infra:environment" already defined at line 2'
    ]


def test_object_types_need_a_recent_enough_cli(tmp_path: Path) -> None:
    project = {**PROJECT, "requiredPulumiVersion": ">=3.100.0"}
    assert "3.187.0" in _messages(tmp_path, COMPLETE, project)[0]
    assert yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["requiredPulumiVersion"] == ">=3.187.0"


def test_a_pulumi_config_left_in_the_shell_does_not_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"ai-infra:colour": "blue", "ai-infra:team": "leak"}))
    monkeypatch.setenv("PULUMI_CONFIG_AI_INFRA_COLOUR", "blue")
    run = run_stack("local", stack_file_config("local"))  # the smallest stack: the subject is the config
    labels = [r.inputs["metadata"]["labels"] for r in run.registrations if r.type == "kubernetes:core/v1:Namespace"]
    assert labels and all(lab["ai-infra.io/team"] == "ml-platform" for lab in labels)


def test_keys_outside_config_are_errors_not_silently_ignored(tmp_path: Path) -> None:
    text = COMPLETE + "aws:region: us-east-1\nsecretsprovider: passphrase\n"
    messages = _messages(tmp_path, text)
    assert messages == ["is not a stack file key (the CLI ignores it): settings go under config: as ai-infra:<key>"]


def test_merge_keys_merge_as_yaml_v3_does(tmp_path: Path) -> None:
    text = COMPLETE + (
        "  ai-infra:models:\n"
        "    base: &base {engine: vllm, pool: gpu, cpu: '4'}\n"
        "    coder:\n"
        "      <<: *base\n"
        "      cpu: '8'\n"
        "    mixed:\n"
        "      <<: [*base, {memory: 8Gi}]\n"
    )
    models = json.loads(load_stack_config(_project(tmp_path, text), "s").config["ai-infra:models"])
    assert models["coder"] == {"engine": "vllm", "pool": "gpu", "cpu": "8"}  # the mapping's own key wins
    assert models["mixed"] == {"engine": "vllm", "pool": "gpu", "cpu": "4", "memory": "8Gi"}
    # Two merge keys are duplicate keys to yaml.v3; a merge of a scalar is its own error.
    twice = COMPLETE + "  ai-infra:models:\n    a:\n      <<: {x: 1}\n      <<: {y: 1}\n"
    assert _messages(tmp_path, twice) == [
        'yaml: unmarshal errors:\n  line 10: mapping key "<<" already defined at line 9'
    ]
    assert _messages(tmp_path, COMPLETE + "  ai-infra:models:\n    a:\n      <<: 1\n") == [
        "yaml: map merge requires map or sequence of maps as the value"
    ]


def test_a_stack_file_must_be_a_utf8_mapping(tmp_path: Path) -> None:
    assert _messages(tmp_path, "- config\n") == ["must be a mapping with config: at its top level, not a list"]
    assert _messages(tmp_path, "42\n") == ["must be a mapping with config: at its top level, not a single value"]
    (tmp_path / "Pulumi.s.yaml").write_bytes(b"config:\n  ai-infra:team: \xe9quipe\n")
    with pytest.raises(StackConfigError) as info:
        load_stack_config(tmp_path, "s")
    assert info.value.problems == [("(file)", "is not UTF-8 text (yaml: invalid Unicode at byte 25); save it as UTF-8")]
    # UTF-16 with its byte-order mark is YAML yaml.v3 reads.
    (tmp_path / "Pulumi.s.yaml").write_bytes(COMPLETE.encode("utf-16"))
    assert load_stack_config(tmp_path, "s").environment == "dev"


def test_secure_placeholders_no_provider_can_decrypt_are_listed(tmp_path: Path) -> None:
    # The passphrase provider's shape is v1:<base64 nonce>:<base64 ciphertext>; service/KMS
    # providers store plain base64. Anything else fails the CLI's decrypt-before-typecheck.
    text = COMPLETE.replace("v1:AAAA", "v1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA==") + (
        "  ai-infra:nested:\n    inner:\n      secure: v1:placeholder-set-with-pulumi-config-set-secret\n"
        "  ai-infra:service:\n    secure: AAABAKr1Zm9vYmFy\n"
    )
    config = load_stack_config(_project(tmp_path, text), "s")
    assert config.secret_keys == ["ai-infra:nested", "ai-infra:service", "ai-infra:token"]
    assert config.undecryptable == ["ai-infra:nested"]
    assert load_stack_config(_project(tmp_path, COMPLETE), "s").undecryptable == ["ai-infra:token"]
    assert not load_stack_config(_project(tmp_path, COMPLETE.replace("v1:AAAA", "AAAA")), "s").undecryptable
    # A salt-shaped value (four colons) or a v2 prefix is no ciphertext either.
    for odd in ("v1:uykcLS1oHuc=:v1:osLnSlcZHDK2", "v2:AAAA:AAAA"):
        assert load_stack_config(_project(tmp_path, COMPLETE.replace("v1:AAAA", odd)), "s").undecryptable


def test_prod_s_committed_placeholders_are_flagged() -> None:
    config = load_stack_config(ROOT, "prod")
    assert config.undecryptable == ["ai-infra:tailscaleOauthClientId", "ai-infra:tailscaleOauthClientSecret"]
