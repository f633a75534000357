"""``Registry`` under the mock engine: ECR hardening, caches, builds by digest, a host's pull secret."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi

from components.registry import EcrArgs, HostArgs, Registry, RegistryArgs
from components.specs import registry as spec
from planner.mocks import SECRET_SIG
from planner.render import redact
from tests.conftest import ROOT, build_under_mocks

IMAGES = ["infer", "model-runner", "ollama"]


def _ecr(**overrides: object) -> EcrArgs:
    args: dict[str, object] = {
        "repository_prefix": "ai-infra-prod",
        "kms_key_arn": "arn:aws:kms:us-west-2:123456789012:key/k",
        "pull_principals": ["arn:aws:iam::123456789012:role/nodes"],
        "pull_after": [],
        "node_role_name": "nodes",
        "account_id": "123456789012",
        "region": "us-west-2",
        "tags": {"env": "prod"},
        "untagged_expiry_days": 14,
        "keep_tagged": 20,
        "cache_rules": spec.cache_rules(
            ecr_public=True, registry_k8s=True, quay=False, docker_hub="dockerHub", ghcr=None
        ),
        "cache_credentials": {"dockerHub": pulumi.Output.secret("me:token")},
        **overrides,
    }
    return EcrArgs(**args)


def _build(
    *,
    retain: bool = True,
    build: list[str] | None = None,
    ecr: EcrArgs | None = None,
    host: HostArgs | None = None,
    build_args: dict[str, dict[str, str]] | None = None,
):
    out: dict[str, Registry] = {}

    def make() -> Registry:
        out["r"] = Registry(
            "registry",
            RegistryArgs(
                images=IMAGES,
                build=build if build is not None else ["model-runner"],
                build_args=build_args or {},
                context_root="images",
                source_root=ROOT / "images",
                retain=retain,
                ecr=ecr,
                host=host,
                labels={"app.kubernetes.io/name": "registry"},
            ),
        )
        return out["r"]

    return build_under_mocks(make), out["r"]


def test_repositories_are_immutable_scanned_encrypted_and_kept_in_prod() -> None:
    m, _ = _build(ecr=_ecr())
    repos = m.by_type("aws:ecr/repository:Repository")
    assert sorted(r.inputs["name"] for r in repos) == [f"ai-infra-prod/{i}" for i in IMAGES]
    for r in repos:
        assert r.inputs["imageTagMutability"] == "IMMUTABLE"
        assert r.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert r.inputs["encryptionConfigurations"] == [
            {"encryptionType": "KMS", "kmsKey": "arn:aws:kms:us-west-2:123456789012:key/k"}
        ]
        assert r.inputs["forceDelete"] is False and r.protect and r.retain_on_delete
    lifecycles = m.by_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert len(lifecycles) == len(IMAGES)
    rules = json.loads(lifecycles[0].inputs["policy"])["rules"]
    assert [(r["selection"]["tagStatus"], r["selection"]["countNumber"]) for r in rules] == [
        ("untagged", 14),
        ("any", 20),
    ]
    policies = m.by_type("aws:ecr/repositoryPolicy:RepositoryPolicy")
    assert len(policies) == len(IMAGES)
    for p in policies:
        (statement,) = json.loads(p.inputs["policy"])["Statement"]
        assert statement["Principal"] == {"AWS": ["arn:aws:iam::123456789012:role/nodes"]}
        assert sorted(statement["Action"]) == sorted(spec.PULL_ACTIONS)


def test_outside_prod_a_destroy_may_take_the_images() -> None:
    m, _ = _build(retain=False, ecr=_ecr(kms_key_arn=None))
    for r in m.by_type("aws:ecr/repository:Repository"):
        assert r.inputs["forceDelete"] is True and not r.protect
        assert r.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS"}]


def test_caches_keep_credentials_secret_and_nodes_may_fill_them() -> None:
    m, _ = _build(ecr=_ecr())
    rules = {
        r.inputs["upstreamRegistryUrl"]: r.inputs
        for r in m.by_type("aws:ecr/pullThroughCacheRule:PullThroughCacheRule")
    }
    assert set(rules) == {"public.ecr.aws", "registry.k8s.io", "registry-1.docker.io"}
    assert "credentialArn" in rules["registry-1.docker.io"] and "credentialArn" not in rules["public.ecr.aws"]
    (secret,) = m.by_type("aws:secretsmanager/secret:Secret")
    assert secret.inputs["name"].startswith(spec.CACHE_SECRET_PREFIX)
    (version,) = m.by_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert SECRET_SIG in version.inputs["secretString"]
    assert "me" not in json.dumps(redact(version.inputs["secretString"]))
    (node_policy,) = m.by_type("aws:iam/rolePolicy:RolePolicy")
    assert node_policy.inputs["role"] == "nodes"
    resources = json.loads(node_policy.inputs["policy"])["Statement"][0]["Resource"]
    assert sorted(resources) == sorted(
        f"arn:aws:ecr:us-west-2:123456789012:repository/{r['ecrRepositoryPrefix']}/*" for r in rules.values()
    )


def test_builds_push_by_content_tag_and_consumers_get_the_digest() -> None:
    m, registry = _build(ecr=_ecr())
    (image,) = m.by_type("docker:index/image:Image")
    tag = spec.context_tag(ROOT / "images" / "model-runner")
    # Spelled out from known values, so a first preview (and the build policies) see it.
    assert image.inputs["imageName"] == f"123456789012.dkr.ecr.us-west-2.amazonaws.com/ai-infra-prod/model-runner:{tag}"
    repo = m.get("aws:ecr/repository:Repository", "registry-model-runner")
    assert repo.urn in image.dependencies
    assert image.inputs["build"]["platform"] == "linux/amd64"
    assert image.inputs["build"]["context"] == "images/model-runner"
    assert SECRET_SIG in json.dumps(image.inputs["registry"])  # the ECR token is never plain
    refs: dict[str, str] = {}
    registry.image_refs.apply(refs.update)
    assert "@sha256:" in refs.get("model-runner", "@sha256:") and ":c-" not in refs.get("model-runner", "")


def test_a_host_of_your_own_gets_a_pull_secret_per_workload_namespace() -> None:
    host = HostArgs(
        host="registry.lab:5000",
        username="bot",
        password=pulumi.Output.secret("pw"),
        pull_secret_namespaces=["models", "research"],
    )
    m, registry = _build(host=host, build=["ollama"])
    assert not [r for r in m.registrations if r.type.startswith("aws:")]
    secrets = m.by_type("kubernetes:core/v1:Secret")
    assert sorted(s.inputs["metadata"]["namespace"] for s in secrets) == ["models", "research"]
    for s in secrets:
        assert s.inputs["type"] == "kubernetes.io/dockerconfigjson"
        assert SECRET_SIG in json.dumps(s.inputs["stringData"])
    assert registry.pull_secret == secrets[0].inputs["metadata"]["name"]
    (image,) = m.by_type("docker:index/image:Image")
    assert image.inputs["imageName"].startswith("registry.lab:5000/ollama:c-")


def test_context_root_is_relative_so_plans_are_portable() -> None:
    m, _ = _build(ecr=_ecr())
    (image,) = m.by_type("docker:index/image:Image")
    assert not Path(image.inputs["build"]["context"]).is_absolute()


def test_build_args_reach_the_build_and_change_the_tag() -> None:
    plain, _ = _build(ecr=_ecr())
    with_args, _ = _build(ecr=_ecr(), build_args={"model-runner": {"EXTRA": "1"}})
    (before,) = plain.by_type("docker:index/image:Image")
    (after,) = with_args.by_type("docker:index/image:Image")
    assert "args" not in before.inputs["build"]
    assert after.inputs["build"]["args"] == {"EXTRA": "1"}
    assert before.inputs["imageName"] != after.inputs["imageName"]
