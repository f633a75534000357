"""``Registry``: the platform's images, built from ``images/`` and run by digest.

On EKS: an ECR repository per image (immutable tags, scan on push, encrypted with the platform
CMK, a lifecycle policy, pull for the node role only; protected and never force-deleted in prod),
pull-through cache rules for the public registries we pull from (Docker Hub and GHCR credentials
in Secrets Manager, from ``--secret`` keys), and a pulumi-docker build of each image the stack
builds, tagged by the content hash of its folder and pushed with a short-lived ECR token. On an
existing cluster: builds push to your registry host, and each workload namespace gets the pull
secret. Consumers get ``image_refs``: ``repository@sha256:...``, never a tag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker
import pulumi_kubernetes as k8s

from components.core.naming import k8s_name, resource_name
from components.specs import registry as spec

TYPE = "ai-infra:registry:Registry"


@dataclass(frozen=True, kw_only=True)
class EcrArgs:
    repository_prefix: str
    """Repository names are ``<prefix>/<image>`` (the cluster name)."""
    kms_key_arn: pulumi.Input[str] | None
    """The platform CMK (prod); None: ECR's AWS-managed KMS key."""
    pull_principals: list[str]
    """Role ARNs allowed to pull (known values: the node role's ARN from its explicit name)."""
    pull_after: list[pulumi.Resource]
    """The resources behind those ARNs: ECR rejects a policy naming a role that does not exist yet."""
    node_role_name: pulumi.Input[str]
    """Gets the inline policy that lets nodes fill the pull-through caches."""
    account_id: str
    region: str
    tags: dict[str, str]
    untagged_expiry_days: int
    keep_tagged: int
    cache_rules: list[spec.CacheRule] = field(default_factory=list)
    cache_credentials: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    """``--secret`` key -> ``username:token`` (Output secrets) for the rules that need them."""


@dataclass(frozen=True, kw_only=True)
class HostArgs:
    host: str
    username: str | None
    password: pulumi.Output[str] | None
    pull_secret_namespaces: list[str]


@dataclass(frozen=True, kw_only=True)
class RegistryArgs:
    images: list[str]
    """Every image of ``images/`` (ECR gets a repository for each, built or not)."""
    build: list[str]
    build_args: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per built image, its Dockerfile ARGs (plain values; settings reject credential-like names)."""
    context_root: str
    """The folder holding ``images/<name>/`` as builds see it (relative to the program, so plans
    are portable)."""
    source_root: Path
    """The same folder on this machine, for the content-hash tags."""
    retain: bool
    ecr: EcrArgs | None = None
    host: HostArgs | None = None
    labels: dict[str, str] = field(default_factory=dict)


class Registry(pulumi.ComponentResource):
    """Children (ECR): Repository, LifecyclePolicy and RepositoryPolicy per image; Secret(+Version) and
    PullThroughCacheRule per cache; docker Image per build. Children (host): docker Image per build,
    the pull Secret per workload namespace."""

    image_refs: pulumi.Output[dict[str, str]]
    """Built image name -> ``repository@sha256:<digest>``."""
    pull_secret_name: pulumi.Output[str | None]
    pull_secret: str | None
    """The pull Secret's name in every workload namespace (a registry host of your own)."""
    cache_prefixes: list[str]
    """ECR namespaces of the pull-through caches (``<registry>/<prefix>/<upstream path>``)."""

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        refs: dict[str, pulumi.Output[str]] = {}
        pull_secret: str | None = None
        self.cache_prefixes = []
        if args.ecr is not None:
            refs = self._ecr(name, args, args.ecr)
        elif args.host is not None:
            refs, pull_secret = self._host(name, args, args.host)
        self.image_refs = pulumi.Output.all(**refs) if refs else pulumi.Output.from_input({})
        self.pull_secret = pull_secret
        self.pull_secret_name = pulumi.Output.from_input(pull_secret)
        self.register_outputs({"image_refs": self.image_refs, "pull_secret_name": self.pull_secret_name})

    def _ecr(self, name: str, args: RegistryArgs, ecr: EcrArgs) -> dict[str, pulumi.Output[str]]:
        repositories = self._repositories(name, args, ecr)
        prefixes = self._pull_through_cache(name, ecr)
        self.cache_prefixes = prefixes
        refs: dict[str, pulumi.Output[str]] = {}
        for image in sorted(args.build):
            repo = repositories[image]
            token = aws.ecr.get_authorization_token_output(registry_id=ecr.account_id)
            # The repository URL spelled out from known values (not the resource's output), so a
            # first preview sees the pushed name and the build policies can judge it.
            host = spec.ecr_host(ecr.account_id, ecr.region)
            refs[image] = self._build(
                name,
                image,
                args,
                repository=f"{host}/{ecr.repository_prefix}/{image}",
                registry=docker.RegistryArgs(
                    server=host, username=token.user_name, password=pulumi.Output.secret(token.password)
                ),
                after=[repo],
            )
        return refs

    def _repositories(self, name: str, args: RegistryArgs, ecr: EcrArgs) -> dict[str, aws.ecr.Repository]:
        """One immutable, scanned, KMS-encrypted repository per image, with its lifecycle and pull policy."""
        child = pulumi.ResourceOptions(parent=self)
        keep = pulumi.ResourceOptions(parent=self, protect=args.retain, retain_on_delete=args.retain)
        encryption = aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=ecr.kms_key_arn)
        repositories: dict[str, aws.ecr.Repository] = {}
        for image in sorted(args.images):
            repo = aws.ecr.Repository(
                resource_name(name, image),
                name=f"{ecr.repository_prefix}/{image}",
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                encryption_configurations=[encryption],
                # Prod keeps images with the stack; elsewhere a destroy may take the images with it.
                force_delete=not args.retain,
                tags=ecr.tags,
                opts=keep,
            )
            aws.ecr.LifecyclePolicy(
                resource_name(name, f"{image}-lifecycle"),
                repository=repo.name,
                policy=spec.lifecycle_policy(untagged_days=ecr.untagged_expiry_days, keep_tagged=ecr.keep_tagged),
                opts=child,
            )
            aws.ecr.RepositoryPolicy(
                resource_name(name, f"{image}-pull"),
                repository=repo.name,
                policy=spec.repository_policy(ecr.pull_principals),
                opts=pulumi.ResourceOptions(parent=self, depends_on=ecr.pull_after),
            )
            repositories[image] = repo
        return repositories

    def _pull_through_cache(self, name: str, ecr: EcrArgs) -> list[str]:
        """The pull-through cache rules (their upstream credentials in Secrets Manager) and the
        nodes' right to pull through them; returns the rules' ECR prefixes."""
        child = pulumi.ResourceOptions(parent=self)
        # ECR allows 2-30 characters; the stack's name keeps two stacks in one region apart.
        prefixes = [k8s_name(ecr.repository_prefix, r.prefix, max_len=spec.CACHE_PREFIX_MAX) for r in ecr.cache_rules]
        for rule, prefix in zip(ecr.cache_rules, prefixes, strict=True):
            credential_arn: pulumi.Input[str] | None = None
            if rule.credentials_secret is not None:
                secret = aws.secretsmanager.Secret(
                    resource_name(name, f"cache-{rule.prefix}"),
                    name=f"{spec.CACHE_SECRET_PREFIX}{ecr.repository_prefix}-{rule.prefix}",
                    # Secrets Manager's AWS-managed key: ECR reads the secret as the calling
                    # account's service, which a CMK would have to grant explicitly.
                    recovery_window_in_days=7,
                    tags=ecr.tags,
                    opts=child,
                )
                aws.secretsmanager.SecretVersion(
                    resource_name(name, f"cache-{rule.prefix}"),
                    secret_id=secret.id,
                    secret_string=ecr.cache_credentials[rule.credentials_secret].apply(spec.cache_credentials),
                    opts=child,
                )
                credential_arn = secret.arn
            aws.ecr.PullThroughCacheRule(
                resource_name(name, f"cache-{rule.prefix}"),
                ecr_repository_prefix=prefix,
                upstream_registry_url=rule.upstream,
                credential_arn=credential_arn,
                opts=child,
            )
        if prefixes:
            aws.iam.RolePolicy(
                resource_name(name, "node-cache-pull"),
                role=ecr.node_role_name,
                policy=spec.cache_pull_policy(account_id=ecr.account_id, region=ecr.region, prefixes=prefixes),
                opts=child,
            )
        return prefixes

    def _host(self, name: str, args: RegistryArgs, host: HostArgs) -> tuple[dict[str, pulumi.Output[str]], str | None]:
        refs: dict[str, pulumi.Output[str]] = {}
        if host.username and host.password is not None:
            for image in sorted(args.build):
                refs[image] = self._build(
                    name,
                    image,
                    args,
                    repository=f"{host.host}/{image}",
                    registry=docker.RegistryArgs(server=host.host, username=host.username, password=host.password),
                )
        pull_secret = None
        if host.username and host.password is not None and host.pull_secret_namespaces:
            pull_secret = k8s_name("registry", "pull")
            server, user = host.host, str(host.username)
            config: pulumi.Output[str] = pulumi.Output.secret(
                host.password.apply(lambda pw: spec.docker_config_json(server, user, pw))
            )
            for namespace in sorted(host.pull_secret_namespaces):
                k8s.core.v1.Secret(
                    resource_name(name, f"pull-{namespace}"),
                    metadata=k8s.meta.v1.ObjectMetaArgs(name=pull_secret, namespace=namespace, labels=args.labels),
                    type="kubernetes.io/dockerconfigjson",
                    string_data={".dockerconfigjson": config},
                    opts=pulumi.ResourceOptions(parent=self),
                )
        return refs, pull_secret

    def _build(
        self,
        name: str,
        image: str,
        args: RegistryArgs,
        *,
        repository: str,
        registry: docker.RegistryArgs,
        after: list[pulumi.Resource] | None = None,
    ) -> pulumi.Output[str]:
        context = f"{args.context_root}/{image}"
        build_args = args.build_args.get(image) or {}
        tag = spec.context_tag(args.source_root / image, build_args)
        built = docker.Image(
            resource_name(name, f"{image}-image"),
            image_name=f"{repository}:{tag}",
            build=docker.DockerBuildArgs(
                context=context,
                dockerfile=f"{context}/Dockerfile",
                platform=spec.PLATFORM,
                args=build_args or None,
            ),
            registry=registry,
            opts=pulumi.ResourceOptions(parent=self, depends_on=after or []),
        )
        # repo_digest is "<repository>@sha256:<digest>": what consumers run, never the tag.
        return built.repo_digest
