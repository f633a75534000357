"""Tailscale mesh settings: the tailnet, who may reach what, auth keys, the operator, the router.

Off by default (it needs a tailnet and OAuth credentials). When on, the program writes the
whole tailnet policy file from these settings (``components/specs/tailnet_policy.py``), so
everything a policy file needs to be correct is validated here: group names, members, tags and
their owners, key expiry. The OAuth client the stack deploys with is never part of the settings:
only whether ``tailscaleOauthClientId`` / ``tailscaleOauthClientSecret`` were given with
``--secret`` (checked across sections in ``rules/mesh.py``).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from components.core.settings.base import Cidr, Problem, Settings, check

OAUTH_CLIENT_ID_KEY = "tailscaleOauthClientId"
OAUTH_CLIENT_SECRET_KEY = "tailscaleOauthClientSecret"
OAUTH_SECRET_KEYS = (OAUTH_CLIENT_ID_KEY, OAUTH_CLIENT_SECRET_KEY)
"""The ``--secret`` config keys of the OAuth client the stack manages the tailnet with."""

MAX_KEY_EXPIRY_SECONDS = 7_776_000
"""90 days: the provider's default and Tailscale's maximum for auth keys (docs/research/tailscale.md §2)."""

TAG = re.compile(r"^tag:[a-zA-Z][a-zA-Z0-9-]*$")
"""A tag as the Connector CRD's ``tags`` pattern admits it (tailscale.com_connectors.yaml @ v1.102.3)."""
GROUP = re.compile(r"^group:[a-zA-Z0-9][a-zA-Z0-9._-]*$")
AUTOGROUPS = frozenset({"autogroup:admin", "autogroup:member", "autogroup:owner", "autogroup:network-admin"})
"""Autogroups usable as a grant source (policy-file syntax docs); others are destination-only."""
TAILNET_DNS = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?\.ts\.net$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
OPERATOR_TAG = "tag:k8s-operator"
PROXY_TAG = "tag:k8s"
MODEL_TAG = "tag:model-runner"
MONITORING_TAG = "tag:monitoring"
GPU_NODE_TAG = "tag:gpu-node"
ROUTER_TAG = "tag:subnet-router"
"""Tags the platform itself uses (their owners: ``StackSettings.tailscale_tag_owners``), plus ``env_tag``."""


def env_tag(env: str) -> str:
    """The per-environment tag: on the proxies and router this stack runs, and on keys that list it."""
    return f"tag:ai-infra-{env}"


def _tag(value: str) -> str:
    if not TAG.match(value):
        raise ValueError("must be a Tailscale tag: tag:<letter>[letters, digits, '-']")
    return value


def _principal(value: str) -> str:
    if not (GROUP.match(value) or value in AUTOGROUPS):
        raise ValueError(f"must be a group:<name> or one of {', '.join(sorted(AUTOGROUPS))}")
    return value


def _group_name(value: str) -> str:
    if not GROUP.match(value):
        raise ValueError("must be named group:<name>")
    return value


def _member(value: str) -> str:
    if not EMAIL.match(value):
        raise ValueError("must be a user's login (an e-mail address); groups cannot contain groups")
    return value


Tag = Annotated[str, AfterValidator(_tag)]
Principal = Annotated[str, AfterValidator(_principal)]
GroupName = Annotated[str, AfterValidator(_group_name)]
Member = Annotated[str, AfterValidator(_member)]


class AccessSettings(Settings):
    """Who (``group:`` or ``autogroup:`` names) may reach what over the tailnet."""

    models: list[Principal] = Field(default_factory=list)
    """May call model endpoints (``https://<fleet>.<tailnet>``), on the HTTPS port only."""
    monitoring: list[Principal] = Field(default_factory=list)
    """May open Grafana over the tailnet, on the HTTPS port only."""
    admins: list[Principal] = Field(default_factory=list)
    """Reach the cluster's API endpoint through the subnet router (HTTPS only) and SSH to GPU
    machines outside the cluster (``check`` mode in prod)."""


class AuthKeySettings(Settings):
    """A pre-authorised key for GPU machines outside the cluster (on-prem, rented boxes)."""

    tags: list[Tag] = Field(default_factory=lambda: ["tag:gpu-node"], min_length=1)
    reusable: bool = False
    """One key for several machines (still ephemeral: devices vanish when they go offline)."""
    description: str = Field("ai-infra GPU machine", max_length=50)


class OperatorSettings(Settings):
    enabled: bool = True
    """Run the Tailscale Kubernetes operator (tailnet Ingress proxies, the subnet router)."""
    tags: list[Tag] = Field(default_factory=lambda: [OPERATOR_TAG], min_length=1)
    """The operator's own device tags (chart ``operatorConfig.defaultTags``; its OAuth client's
    tags): they own every tag the operator gives its proxies."""
    proxy_tags: list[Tag] = Field(default_factory=lambda: [PROXY_TAG], min_length=1)
    """Tags of proxies that name none (chart ``proxyConfig.defaultTags``); the platform's own
    Ingresses and router name theirs."""
    oauth_client: Literal["create", "stack"] = "create"
    """``create``: the stack creates the operator's own OAuth client (devices, auth keys and
    services scopes, tag ``tag:k8s-operator``) and keeps its secret in the ``operator-oauth``
    Secret; ``stack``: the operator uses the stack's own OAuth client (the ``--secret`` keys)."""
    image_digests: dict[str, str] = Field(default_factory=dict)
    """``operator`` / ``proxy`` -> ``sha256:...``: the chart's two images by digest (required
    in prod; ``components/core/chart_images.py``)."""


class SubnetRouterSettings(Settings):
    enabled: bool = True
    """Run a ``Connector`` subnet router (needs the operator)."""
    routes: list[Cidr] = Field(default_factory=list)
    """What it advertises; empty = the VPC CIDR on EKS (an existing cluster must list them)."""


class SshSettings(Settings):
    enabled: bool = True
    """Tailscale SSH from ``access.admins`` to tagged GPU machines (``check`` mode in prod)."""
    users: list[str] = Field(default_factory=lambda: ["autogroup:nonroot"], min_length=1)
    """Login users on the machines; ``root`` is never allowed."""
    check: bool = True
    """SSH rules in ``check`` mode (re-authenticate in the browser every 12 h); dev: ``accept``."""


class TailscaleSettings(Settings):
    enabled: bool = False
    """Run the mesh: tailnet policy, auth keys, operator, subnet router, tailnet endpoints."""
    policy: Literal["own", "shared"] = "shared"
    """``own``: this stack writes the whole tailnet policy file (adopting and replacing the
    console's) and the tailnet-wide settings (HTTPS, MagicDNS, split DNS, device approval in
    prod) — one stack per tailnet (prod's preset). ``shared``: the tailnet's policy belongs to
    another stack; this one only adds its devices, keys, operator and router, and the plan
    lists the tags and routes the owner's policy must carry."""
    tailnet: str | None = Field(None, pattern=TAILNET_DNS.pattern)
    """The tailnet's DNS name (``tail1234.ts.net``, admin console → DNS): endpoints are
    ``https://<host>.<tailnet>``."""
    groups: dict[GroupName, list[Member]] = Field(default_factory=dict)
    """Group definitions written into the policy file (it replaces the console's)."""
    access: AccessSettings = Field(default_factory=AccessSettings)
    tag_owners: dict[Tag, list[str]] = Field(default_factory=dict)
    """Owners of extra tags auth keys use (the platform's own tags are owned already)."""
    auth_keys: dict[str, AuthKeySettings] = Field(default_factory=dict)
    """Keys by name: tagged, ephemeral and pre-authorised, exported only as secrets."""
    key_expiry_seconds: int = Field(86_400, ge=300, le=MAX_KEY_EXPIRY_SECONDS)
    """How long an auth key can be used to join (a joined device stays until it goes offline)."""
    operator: OperatorSettings = Field(default_factory=OperatorSettings)
    subnet_router: SubnetRouterSettings = Field(default_factory=SubnetRouterSettings)
    ssh: SshSettings = Field(default_factory=SshSettings)
    require_device_approval: bool = True
    """Turn the tailnet's device approval on. False (dev) leaves the tailnet's setting as it is:
    a dev stack never turns a shared tailnet's approval off."""
    magic_dns: bool = True
    """MagicDNS: tailnet endpoints are reached by their ts.net names (required by tailnet fleets)."""
    split_dns: dict[str, list[str]] = Field(default_factory=dict)
    """Domain -> nameserver IPs, for names only resolvable inside the VPC (private hosted zones)."""

    @property
    def operator_runs(self) -> bool:
        """The Tailscale operator runs (the mesh is on and its operator not switched off)."""
        return self.enabled and self.operator.enabled

    @model_validator(mode="after")
    def _rules(self) -> TailscaleSettings:
        problems: list[Problem] = []
        defined = set(self.groups)
        for role in ("models", "monitoring", "admins"):
            for i, principal in enumerate(getattr(self.access, role)):
                if principal.startswith("group:") and principal not in defined:
                    problems.append(
                        (f"access.{role}[{i}]", f"names an undefined group; define it under groups: {sorted(defined)}")
                    )
        for name, members in self.groups.items():
            if not members:
                problems.append((f"groups.{name}", "must list at least one member"))
        for tag, owners in self.tag_owners.items():
            for i, owner in enumerate(owners):
                if not (TAG.match(owner) or GROUP.match(owner) or owner == "autogroup:admin"):
                    problems.append((f"tagOwners.{tag}[{i}]", "must be a tag:, group: or autogroup:admin"))
                elif owner.startswith("group:") and owner not in defined:
                    problems.append((f"tagOwners.{tag}[{i}]", "names an undefined group"))
        for i, user in enumerate(self.ssh.users):
            if user == "root":
                problems.append((f"ssh.users[{i}]", "root is never allowed; use autogroup:nonroot or a named user"))
        for domain, servers in self.split_dns.items():
            if not servers:
                problems.append((f"splitDns.{domain}", "must list at least one nameserver IP"))
        for domain, servers in self.split_dns.items():
            for i, server in enumerate(servers):
                try:
                    ipaddress.ip_address(server)
                except ValueError:
                    problems.append((f"splitDns.{domain}[{i}]", "must be a nameserver IP address"))
        check(problems)
        return self
