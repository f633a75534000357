"""Pure registry builders: lifecycle order, pull-only policies, cache rules, content tags."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from components.core.naming import k8s_name
from components.specs import registry as spec


def test_lifecycle_expires_untagged_first_and_any_rule_has_the_highest_priority() -> None:
    rules = json.loads(spec.lifecycle_policy(untagged_days=14, keep_tagged=20))["rules"]
    by_status = {r["selection"]["tagStatus"]: r for r in rules}
    assert by_status["untagged"]["selection"]["countNumber"] == 14
    assert by_status["any"]["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 20}
    # ECR rejects a policy where a tagStatus=any rule is not the highest rulePriority.
    assert by_status["any"]["rulePriority"] == max(r["rulePriority"] for r in rules)
    assert len({r["rulePriority"] for r in rules}) == len(rules)


def test_repository_policy_grants_pull_to_named_roles_only() -> None:
    doc = json.loads(spec.repository_policy(["arn:aws:iam::1:role/b", "arn:aws:iam::1:role/a"]))
    (statement,) = doc["Statement"]
    assert statement["Principal"] == {"AWS": ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"]}
    assert statement["Effect"] == "Allow"
    assert all(a.startswith("ecr:") and "Put" not in a and "*" not in a for a in statement["Action"])


def test_ecr_host_per_partition() -> None:
    assert spec.ecr_host("123456789012", "us-west-2") == "123456789012.dkr.ecr.us-west-2.amazonaws.com"
    assert spec.ecr_host("123456789012", "cn-north-1") == "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"


def test_cache_rules_need_credentials_only_for_docker_hub_and_ghcr() -> None:
    none = spec.cache_rules(ecr_public=False, registry_k8s=False, quay=False, docker_hub=None, ghcr=None)
    assert none == []
    rules = spec.cache_rules(ecr_public=True, registry_k8s=True, quay=True, docker_hub="dockerHub", ghcr="ghcr")
    assert {r.upstream: r.credentials_secret for r in rules} == {
        "public.ecr.aws": None,
        "registry.k8s.io": None,
        "quay.io": None,
        "registry-1.docker.io": "dockerHub",
        "ghcr.io": "ghcr",
    }
    # The ECR prefix (stack name + rule) stays within ECR's 2-30 characters even for long names.
    for rule in rules:
        prefix = k8s_name("a-very-long-cluster-name-for-a-team-stack", rule.prefix, max_len=spec.CACHE_PREFIX_MAX)
        assert 2 <= len(prefix) <= 30


def test_cache_credentials_and_node_policy_documents() -> None:
    assert json.loads(spec.cache_credentials("me:tok:en")) == {"username": "me", "accessToken": "tok:en"}
    doc = json.loads(spec.cache_pull_policy(account_id="1", region="us-west-2", prefixes=["p-quay", "p-k8s"]))
    (statement,) = doc["Statement"]
    assert statement["Action"] == ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]
    assert statement["Resource"] == [
        "arn:aws:ecr:us-west-2:1:repository/p-k8s/*",
        "arn:aws:ecr:us-west-2:1:repository/p-quay/*",
    ]


def test_context_tag_changes_exactly_when_the_context_does(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    first = spec.context_tag(tmp_path)
    assert first == spec.context_tag(tmp_path)
    assert first.startswith("c-") and len(first) == 14
    (tmp_path / "extra.txt").write_text("x")
    second = spec.context_tag(tmp_path)
    assert second != first
    (tmp_path / "extra.txt").rename(tmp_path / "moved.txt")
    assert spec.context_tag(tmp_path) != second  # paths count, not only bytes


def test_docker_config_json_is_what_kubelet_reads() -> None:
    doc = json.loads(spec.docker_config_json("registry.lab:5000", "bot", "pw"))
    entry = doc["auths"]["registry.lab:5000"]
    assert base64.b64decode(entry["auth"]).decode() == "bot:pw"


def test_context_tag_changes_with_a_file_mode(tmp_path: Path) -> None:
    """pulumi-docker hashes each file's mode into its context digest (a checkout under another
    umask rebuilds), so the immutable tag must change with it."""
    script = tmp_path / "entrypoint.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o644)
    before = spec.context_tag(tmp_path)
    script.chmod(0o664)
    assert spec.context_tag(tmp_path) != before
