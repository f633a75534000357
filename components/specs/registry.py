"""Pure builders for the registry: repository policies, lifecycle rules, cache rules, image tags.

- Lifecycle: untagged images expire after N days; only the last M tagged images are kept (model
  images run to tens of GB, and ECR bills storage).
- Repository policy: pull for the node role (the only puller: no IRSA role of ours pulls images),
  named by its known ARN so a first preview can check it; never ``Principal: *``.
- Tags: the content hash of the build context, so a tag changes exactly when the context does
  (immutable tags, reproducible plans); consumers never see the tag, only the pushed digest. No
  registry build cache: it would need a mutable tag, and prod repositories are immutable.
- Pull-through cache rules for the upstreams ECR supports that the platform pulls from; Docker Hub
  and GHCR need credentials in Secrets Manager under the ``ecr-pullthroughcache/`` prefix.
"""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from dataclasses import dataclass
from pathlib import Path

PLATFORM = "linux/amd64"
"""Every GPU pool runs x86_64 NVIDIA AMIs."""
CACHE_PREFIX_MAX = 30
"""AWS::ECR::PullThroughCacheRule EcrRepositoryPrefix: 2-30 characters."""
CACHE_SECRET_PREFIX = "ecr-pullthroughcache/"
"""ECR only accepts upstream credentials from secrets named with this prefix."""


@dataclass(frozen=True)
class CacheRule:
    prefix: str
    """The ECR namespace cached images appear under (``<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/...``)."""
    upstream: str
    credentials_secret: str | None = None
    """The ``--secret`` config key with ``username:token`` (Docker Hub and GHCR only)."""


def cache_rules(
    *, ecr_public: bool, registry_k8s: bool, quay: bool, docker_hub: str | None, ghcr: str | None
) -> list[CacheRule]:
    rules = [
        CacheRule("ecr-public", "public.ecr.aws") if ecr_public else None,
        CacheRule("k8s", "registry.k8s.io") if registry_k8s else None,
        CacheRule("quay", "quay.io") if quay else None,
        CacheRule("docker-hub", "registry-1.docker.io", docker_hub) if docker_hub else None,
        CacheRule("ghcr", "ghcr.io", ghcr) if ghcr else None,
    ]
    return [r for r in rules if r is not None]


def cache_credentials(pair: str) -> str:
    """``username:token`` as the JSON document ECR's pull-through cache reads."""
    username, _, token = pair.partition(":")
    return json.dumps({"username": username, "accessToken": token}, sort_keys=True)


def lifecycle_policy(*, untagged_days: int, keep_tagged: int) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"Expire untagged images after {untagged_days} days",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": untagged_days,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"Keep the last {keep_tagged} tagged images",
                    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep_tagged},
                    "action": {"type": "expire"},
                },
            ]
        },
        sort_keys=True,
    )


PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def repository_policy(pull_principals: list[str]) -> str:
    """Pull for the listed role ARNs only; pushes come from the deployer's own IAM rights. Within
    the account this documents who pulls (the node role); it also keeps any other account out."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PullByPlatformRoles",
                    "Effect": "Allow",
                    "Principal": {"AWS": sorted(pull_principals)},
                    "Action": PULL_ACTIONS,
                }
            ],
        },
        sort_keys=True,
    )


def ecr_host(account_id: str, region: str) -> str:
    """The account's private registry host (China regions live under amazonaws.com.cn)."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account_id}.dkr.ecr.{region}.{suffix}"


CACHE_PULL_ACTIONS = ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]
"""What a puller needs beyond read-only for a cache's first pull of an image ("IAM permissions
required to sync an upstream registry", Amazon ECR user guide)."""


def cache_pull_policy(*, account_id: str, region: str, prefixes: list[str]) -> str:
    """Node-role inline policy: import and create repositories under the cache prefixes only."""
    resources = [f"arn:aws:ecr:{region}:{account_id}:repository/{p}/*" for p in sorted(prefixes)]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "PullThroughCache", "Effect": "Allow", "Action": CACHE_PULL_ACTIONS, "Resource": resources}
            ],
        },
        sort_keys=True,
    )


def context_tag(context: Path, build_args: dict[str, str] | None = None) -> str:
    """``c-<12 hex>``: the hash of every file's relative path, mode and bytes under ``context`` and
    of the build arguments (they change the image as much as a file does).

    The mode counts because pulumi-docker's own context digest hashes it (pulumi/pulumi-docker
    ``provider/provider.go``, ``contextHashAccumulator.hashPath`` writes ``fileMode.String()``
    per file, v4.x and v5.x): a checkout under another umask is a ``build`` change the provider
    rebuilds and pushes, so it must be a new tag, or the IMMUTABLE repository refuses the push."""
    digest = hashlib.sha256()
    digest.update(json.dumps(build_args or {}, sort_keys=True).encode())
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(path.relative_to(context).as_posix().encode())
        digest.update(b"\0")
        digest.update(stat.filemode(path.lstat().st_mode).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return f"c-{digest.hexdigest()[:12]}"


def docker_config_json(host: str, username: str, password: str) -> str:
    """A ``kubernetes.io/dockerconfigjson`` document (built from resolved secrets: a Secret's data only)."""
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    return json.dumps({"auths": {host: {"username": username, "password": password, "auth": auth}}}, sort_keys=True)
