"""Section I policies (ECR) both ways."""

from __future__ import annotations

import json
from typing import Any

from aiinfra_policies import ecr
from aiinfra_policies.constants import ECR_LIFECYCLE, ECR_REPOSITORY, ECR_REPOSITORY_POLICY, ECR_SCANNING
from tests.conftest import policy_by_name, stack_violations, violations


def repo(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "name": "ai-infra-prod/model-runner",
        "imageTagMutability": "IMMUTABLE",
        "imageScanningConfiguration": {"scanOnPush": True},
        "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": "arn:aws:kms:us-west-2:1:key/k"}],
        "forceDelete": False,
    }
    props.update(overrides)
    return props


def _one(name: str, typ: str, props: dict[str, Any], config: dict[str, Any] | None = None) -> list[str]:
    return violations(policy_by_name(ecr.POLICIES, name), typ, props, config)


def _stack(name: str, resources: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return stack_violations(policy_by_name(ecr.POLICIES, name), resources)


def test_immutable_tags_prod_allows_no_exclusions() -> None:
    assert _one("ecr-immutable-tags", ECR_REPOSITORY, repo()) == []
    assert _one("ecr-immutable-tags", ECR_REPOSITORY, repo(imageTagMutability="MUTABLE"))
    assert _one("ecr-immutable-tags", ECR_REPOSITORY, {"name": "r"})  # MUTABLE is AWS's default
    with_exclusion = repo(imageTagMutability="IMMUTABLE_WITH_EXCLUSION")
    assert _one("ecr-immutable-tags", ECR_REPOSITORY, with_exclusion) == []
    assert _one("ecr-immutable-tags", ECR_REPOSITORY, with_exclusion, {"allowedMutability": ["IMMUTABLE"]})


def test_scan_on_push_or_enhanced_registry_scanning() -> None:
    assert _stack("ecr-scan-on-push", [(ECR_REPOSITORY, repo())]) == []
    unscanned = repo(imageScanningConfiguration={"scanOnPush": False})
    assert _stack("ecr-scan-on-push", [(ECR_REPOSITORY, unscanned)])
    assert _stack("ecr-scan-on-push", [(ECR_REPOSITORY, unscanned), (ECR_SCANNING, {"scanType": "ENHANCED"})]) == []


def test_kms_and_the_platform_key_in_prod() -> None:
    assert _one("ecr-kms-encryption", ECR_REPOSITORY, repo(), {"requireCmk": True}) == []
    assert _one("ecr-kms-encryption", ECR_REPOSITORY, repo(encryptionConfigurations=[{"encryptionType": "AES256"}]))
    aws_managed = repo(encryptionConfigurations=[{"encryptionType": "KMS"}])
    assert _one("ecr-kms-encryption", ECR_REPOSITORY, aws_managed) == []
    (message,) = _one("ecr-kms-encryption", ECR_REPOSITORY, aws_managed, {"requireCmk": True})
    assert "kmsKey" in message


def test_every_repository_has_a_lifecycle_policy() -> None:
    lifecycle = (ECR_LIFECYCLE, {"repository": "ai-infra-prod/model-runner", "policy": "{}"})
    assert _stack("ecr-lifecycle-policy", [(ECR_REPOSITORY, repo()), lifecycle]) == []
    assert _stack("ecr-lifecycle-policy", [(ECR_REPOSITORY, repo()), (ECR_REPOSITORY, repo(name="x/y")), lifecycle])


def test_private_and_not_force_deletable_in_prod() -> None:
    name = "ecr-private-and-protected"
    assert _one(name, ECR_REPOSITORY, repo(forceDelete=True)) == []
    assert _one(name, ECR_REPOSITORY, repo(forceDelete=True), {"forbidForceDelete": True})
    named = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:role/n"]}, "Action": "ecr:*"}]}
    assert _one(name, ECR_REPOSITORY_POLICY, {"policy": json.dumps(named)}) == []
    for principal in ("*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::1:role/n", "*"]}):
        public = {"Statement": [{"Effect": "Allow", "Principal": principal, "Action": "ecr:BatchGetImage"}]}
        assert _one(name, ECR_REPOSITORY_POLICY, {"policy": json.dumps(public)}), principal
