"""Naming and labels: deterministic, DNS-1123 safe, standard keys present."""

from __future__ import annotations

import pytest

from components.core.labels import aws_tags, label_value, selector_labels, standard_labels
from components.core.naming import is_dns_label, k8s_name, resource_name


@pytest.mark.parametrize(
    ("parts", "expected"),
    [(("models", "vllm"), "models-vllm"), (("Models_", "Qwen2.5/0.5B"), "models-qwen2-5-0-5b"), (("a--b",), "a-b")],
)
def test_k8s_name_slugs(parts: tuple[str, ...], expected: str) -> None:
    assert k8s_name(*parts) == expected


def test_long_names_are_truncated_with_a_stable_hash() -> None:
    long = k8s_name("x" * 50, "y" * 50)
    assert len(long) == 63 and is_dns_label(long)
    assert long == k8s_name("x" * 50, "y" * 50)
    assert long != k8s_name("x" * 50, "y" * 49 + "z")


def test_k8s_name_rejects_empty() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        k8s_name("", "--")


def test_resource_name_prefixes_component() -> None:
    assert resource_name("ns-models", "quota") == "ns-models-quota"


def test_standard_labels_have_recommended_and_cost_keys() -> None:
    labels = standard_labels(env="prod", team="ml", app="vllm", component="model-server", instance="qwen")
    assert labels["app.kubernetes.io/part-of"] == "ai-infra"
    assert labels["app.kubernetes.io/managed-by"] == "pulumi"
    assert labels["ai-infra.io/env"] == "prod" and labels["ai-infra.io/team"] == "ml"
    assert selector_labels(app="vllm", instance="qwen").items() <= labels.items()


def test_label_values_are_sanitized() -> None:
    assert label_value("Qwen/Qwen2.5:0.5b") == "Qwen-Qwen2.5-0.5b"
    assert len(label_value("a" * 100)) == 63


def test_aws_tags_carry_rule_77_keys() -> None:
    assert {"Environment", "Owner", "CostCenter"} <= set(aws_tags(env="dev", team="t", cost_center="c"))


def test_secret_names_follow_one_rule_for_fleets_and_jobs() -> None:
    from components.core.naming import api_key_secret_name, hf_token_secret_name

    assert hf_token_secret_name("qwen-instruct") == "qwen-instruct-hf-token"
    assert api_key_secret_name("coder-32b") == "coder-32b-api-key"
    assert len(hf_token_secret_name("x" * 80)) <= 63
