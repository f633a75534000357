"""Tailscale mesh rules: on only with its tailnet, credentials and admins; tailnet fleets need it;
every tag a key uses has an owner; warnings say who owns the tailnet policy."""

from __future__ import annotations

from components.core.settings.base import Problem
from components.core.settings.root import StackSections
from components.core.settings.tailscale import OAUTH_SECRET_KEYS


def tailscale_problems(s: StackSections) -> list[Problem]:
    """The mesh: on only with its tailnet, credentials and admins; tailnet fleets need it; every
    tag a key uses has an owner. Secret values are never read here, only whether they were given."""
    ts = s.tailscale
    problems: list[Problem] = []
    if not ts.enabled:
        for name in s.tailnet_fleets:
            problems.append((f"models.{name}.exposure", "tailnet needs tailscale.enabled: true (or use cluster)"))
        for key in OAUTH_SECRET_KEYS:
            if key in s.secret_keys:
                problems.append((key, "applies only when tailscale.enabled is true"))
        return problems
    if ts.tailnet is None:
        problems.append(
            ("tailscale.tailnet", "is required when tailscale.enabled: the tailnet's DNS name, tail1234.ts.net")
        )
    for key in OAUTH_SECRET_KEYS:
        if key not in s.secret_keys:
            problems.append(
                (
                    key,
                    "is required when tailscale.enabled: the OAuth client's credentials, `pulumi config set --secret`",
                )
            )
    if not ts.access.admins:
        problems.append(
            ("tailscale.access.admins", "must name at least one group:/autogroup: that administers the mesh")
        )
    if ts.access.admins and ts.ssh.enabled and not any(a.startswith("group:") for a in ts.access.admins):
        # sshTests take users or groups, never autogroups: without a group the policy's ssh rules
        # go untested, which Tailscale accepts but the pack (rule 70) refuses.
        problems.append(
            (
                "tailscale.access.admins",
                "must include a group: while tailscale.ssh.enabled (sshTests test SSH from a group; autogroups "
                "cannot be tested): add a group, or set ssh.enabled: false",
            )
        )
    if s.tailnet_fleets and not ts.access.models:
        problems.append(("tailscale.access.models", f"must name who may call the tailnet models {s.tailnet_fleets}"))
    if s.tailnet_fleets and not ts.operator.enabled:
        problems.append(
            ("tailscale.operator.enabled", f"must be true: models {s.tailnet_fleets} are exposed on the tailnet")
        )
    if s.tailnet_fleets and not ts.magic_dns:
        problems.append(("tailscale.magicDns", "must be true: tailnet models are reached by their ts.net names"))
    if s.monitoring.enabled and s.tailscale_operator and not ts.access.monitoring:
        problems.append(("tailscale.access.monitoring", "must name who may open Grafana over the tailnet"))
    router = ts.subnet_router
    if router.enabled and not ts.operator.enabled:
        problems.append(("tailscale.subnetRouter.enabled", "the subnet router is a Connector the operator runs"))
    elif router.enabled and not s.on_aws and not router.routes:
        problems.append(("tailscale.subnetRouter.routes", "must list the CIDRs to advertise on an existing cluster"))
    owned = s.tailscale_tag_owners
    for name, auth_key in ts.auth_keys.items():
        for i, tag in enumerate(auth_key.tags):
            if tag not in owned:
                problems.append(
                    (
                        f"tailscale.authKeys.{name}.tags[{i}]",
                        "has no owner: add it to tailscale.tagOwners (or use tag:gpu-node)",
                    )
                )
    return problems


def tailscale_warnings(s: StackSections) -> list[Problem]:
    """Who owns the tailnet: loud when this stack replaces its policy, and what a sharing stack
    needs from the owner; everyone in the tailnet reaching prod's models."""
    ts = s.tailscale
    if not ts.enabled:
        return []
    found: list[Problem] = []
    if ts.policy == "own":
        found.append(
            (
                "tailscale.policy",
                f"is own: `pulumi up` REPLACES THE WHOLE TAILNET POLICY FILE of {ts.tailnet} (adopting the "
                "console's) and sets tailnet-wide settings (HTTPS, MagicDNS, split DNS"
                + (", device approval on" if ts.require_device_approval else "")
                + "); every other stack on this tailnet must use tailscale.policy: shared",
            )
        )
    else:
        tags = sorted(s.tailscale_tag_owners)
        routes = s.subnet_routes
        found.append(
            (
                "tailscale.policy",
                f"is shared: this stack writes no policy; the owning stack's policy must own tags {tags}"
                + (f" and auto-approve routes {routes} for tag:subnet-router" if routes else ""),
            )
        )
    if s.is_prod and "autogroup:member" in ts.access.models:
        found.append(
            (
                "tailscale.access.models",
                "lists autogroup:member: every member of the tailnet may call prod's models; name a group instead",
            )
        )
    return found
