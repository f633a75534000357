"""Section J of ``policies/RULES.md``: the Tailscale mesh (rules 67–72).

The tailnet is how people and machines reach model endpoints, Grafana, GPU machines and the
private API endpoint, so its policy file and keys are checked like any other access control:
auth keys are tagged, ephemeral and short-lived (67); the policy never allows everything and
reaches model runners only on their ports (68); every tag in use has an owner, never
``autogroup:member``, and proxy tags are owned by the operator's tag (69); the policy carries
``tests`` with a deny per protected tag, so drift fails the deploy (70); SSH never comes from
everyone, never logs in as root, and uses ``check`` on protected destinations (71); the policy is
externally managed, devices need approval in prod, and the provider's destructive Acl flags stay
off (72). The operator's OAuth client holds only the scopes it needs, never ``all`` or write
access to the policy file (67b), and nothing publishes a tailnet service to the internet with
Funnel (68b). A grant never opens every port of a whole address range (68).

Checks read the resources' inputs by type token (no pulumi-tailscale in the pack). The policy is
JSON or HuJSON (comments and trailing commas are stripped before parsing). Messages name key
paths, never values.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import EnforcementLevel, StackValidationArgs

from aiinfra_policies.common import Report, RulePolicy, Subject, get_path, policy
from aiinfra_policies.constants import (
    INGRESS,
    SERVICE,
    TS_ACL,
    TS_CONNECTOR,
    TS_OAUTH_CLIENT,
    TS_PROXY_GROUP,
    TS_TAGS_ANNOTATION,
    TS_TAILNET_KEY,
    TS_TAILNET_SETTINGS,
)

M = EnforcementLevel.MANDATORY
A = EnforcementLevel.ADVISORY
D = EnforcementLevel.DISABLED

MAX_EXPIRY_DEFAULT = 7_776_000
"""90 days: pulumi-tailscale's default ``expiry`` and Tailscale's maximum."""
OPERATOR_TAG = "tag:k8s-operator"
TAG = re.compile(r"^tag:[A-Za-z][A-Za-z0-9-]*$")


# -- HuJSON ---------------------------------------------------------------------------------------
_TOKENS = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', re.S)
_TRAILING_COMMA = re.compile(r",(\s*[\]}])")


def parse_policy(text: Any) -> dict[str, Any] | None:
    """The policy file as a document (None when it does not parse as JSON or HuJSON)."""
    if not isinstance(text, str):
        return None
    stripped = _TOKENS.sub(lambda m: m.group(0) if m.group(0).startswith('"') else "", text)
    # Trailing commas outside strings: strings are protected by re-tokenising them first.
    parts = re.split(r'("(?:\\.|[^"\\])*")', stripped)
    cleaned = "".join(p if i % 2 else _TRAILING_COMMA.sub(r"\1", p) for i, p in enumerate(parts))
    try:
        document = json.loads(cleaned)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _acl_document(r: Subject, report: Report) -> dict[str, Any] | None:
    document = parse_policy(r.props.get("acl"))
    if document is None:
        report("acl must be a JSON or HuJSON policy file.")
    return document


def _entries(document: Mapping[str, Any], section: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    items = document.get(section) or []
    for i, item in enumerate(items if isinstance(items, Sequence) and not isinstance(items, str) else []):
        if isinstance(item, Mapping):
            yield i, item


def _strings(value: Any) -> list[str]:
    """The strings of a list (the pack sees lists as read-only sequences)."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        return []
    return [v for v in value if isinstance(v, str)]


def _tag_of(entry: str) -> str | None:
    """``tag:x`` of ``tag:x`` or ``tag:x:443`` (test and legacy ACL destinations carry ports)."""
    parts = entry.split(":")
    return f"tag:{parts[1]}" if len(parts) > 1 and parts[0] == "tag" else None


# 67 ------------------------------------------------------------------------------------------
def _authkey(r: Subject, report: Report) -> None:
    props = r.props
    tags = _strings(props.get("tags"))
    if not tags or any(not TAG.match(t) for t in tags):
        report("tags must list at least one tag:<name>: a key takes its tags' identity, not its creator's.")
    if r.config.get("requireEphemeral", True) and props.get("ephemeral") is not True:
        report("ephemeral must be true: a machine joined with this key leaves the tailnet when it goes offline.")
    if props.get("preauthorized") is True and not tags:
        report("preauthorized may be true only on a tagged key.")
    if props.get("reusable") is True and props.get("ephemeral") is not True:
        report("reusable must be false unless the key is ephemeral.")
    expiry = props.get("expiry")
    limit = int(r.config.get("maxExpirySeconds", MAX_EXPIRY_DEFAULT))
    effective = expiry if isinstance(expiry, int | float) and not isinstance(expiry, bool) else MAX_EXPIRY_DEFAULT
    if effective > limit:
        report("expiry must not exceed the policy's maxExpirySeconds (unset means 90 days).")


# 68 ------------------------------------------------------------------------------------------
def _no_allow_all(r: Subject, report: Report) -> None:
    document = _acl_document(r, report)
    if document is None:
        return
    for i, acl in _entries(document, "acls"):
        if "*" in _strings(acl.get("src")) and "*:*" in _strings(acl.get("dst")):
            report(f"acls[{i}] allows everyone to reach everything; use narrow grants.")
    protected = set(r.config.get("modelRunnerTags", ["tag:model-runner"]))
    allowed_ports = set(r.config.get("modelRunnerPorts", ["tcp:443"]))
    for i, grant in _entries(document, "grants"):
        src, dst, ip = _strings(grant.get("src")), _strings(grant.get("dst")), _strings(grant.get("ip"))
        if "*" in src and "*" in dst:
            report(f"grants[{i}] allows everyone to reach everything; name sources and destinations.")
        if protected & set(dst) and (not ip or not set(ip) <= allowed_ports):
            report(f"grants[{i}] reaches a model-runner tag on ports beyond modelRunnerPorts.")
        app_only = not ip and "app" in grant  # application capabilities, no network access
        if any(_is_cidr(d) for d in dst) and not app_only and (not ip or any(_all_ports(p) for p in ip)):
            report(f"grants[{i}] opens every port of an address range; name the ports (ip: [tcp:<port>]).")
    for i, acl in _entries(document, "acls"):
        for entry in _strings(acl.get("dst")):
            host, _, ports = entry.rpartition(":")
            if _is_cidr(host) and _all_ports(ports):
                report(f"acls[{i}].dst opens every port of an address range; name the ports.")
            tag = _tag_of(entry)
            if tag in protected and not entry.endswith(tuple(f":{p.split(':')[-1]}" for p in allowed_ports)):
                report(f"acls[{i}].dst reaches a model-runner tag on ports beyond modelRunnerPorts.")


def _is_cidr(entry: str) -> bool:
    """A destination naming an address range (``10.50.0.0/16``), not a tag, host or group."""
    if "/" not in entry:
        return False
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
    return True


_ALL_PORTS = re.compile(r"^((tcp|udp|sctp|\*|[0-9]+):)?(\*|0?-65535|1-65535)$")


def _all_ports(entry: str) -> bool:
    """``*``, ``tcp:*``, ``0-65535``, ``tcp:1-65535``: every port of the destination."""
    return bool(_ALL_PORTS.match(entry.strip()))


# 67b -----------------------------------------------------------------------------------------
POLICY_FILE_WRITE = "policy_file"
"""Tailscale's OAuth scope that writes the policy file (``policy_file:read`` only reads it)."""


def _oauth_scoped(r: Subject, report: Report) -> None:
    scopes = _strings(r.props.get("scopes"))
    if "all" in scopes:
        report(
            "scopes must not include all: list the scopes the client needs (the operator: devices:core, "
            "auth_keys, services)."
        )
    if POLICY_FILE_WRITE in scopes and not r.config.get("allowPolicyFileWrite", False):
        report(
            "scopes must not include policy_file (write): the stack manages the policy file itself; use "
            "policy_file:read to read it."
        )


# 68b -----------------------------------------------------------------------------------------
FUNNEL_ANNOTATION = "tailscale.com/funnel"


def _no_funnel(r: Subject, report: Report) -> None:
    if r.type in (INGRESS, SERVICE):
        annotations = get_path(r.props, "metadata.annotations") or {}
        if str(annotations.get(FUNNEL_ANNOTATION, "")).strip().lower() == "true":
            report(
                f"metadata.annotations[{FUNNEL_ANNOTATION}] must not be true: Funnel publishes the service "
                "to the internet; reach it over the tailnet."
            )
        return
    document = parse_policy(r.props.get("acl"))
    for i, attr in _entries(document or {}, "nodeAttrs"):
        if "funnel" in _strings(attr.get("attr")):
            report(f"nodeAttrs[{i}].attr must not grant funnel: it lets those nodes publish to the internet.")


# 69 ------------------------------------------------------------------------------------------
def _policy_tags(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(where, tag)`` for every tag the policy uses outside its ``tagOwners`` keys."""
    for section in ("acls", "grants", "ssh"):
        for i, entry in _entries(document, section):
            for key in ("src", "dst"):
                for value in _strings(entry.get(key)):
                    if tag := _tag_of(value):
                        yield f"{section}[{i}].{key}", tag
    routes = get_path(document, "autoApprovers.routes") or {}
    for owners in routes.values() if isinstance(routes, Mapping) else []:
        for value in _strings(owners):
            if tag := _tag_of(value):
                yield "autoApprovers.routes", tag
    for tag_name, owners in (document.get("tagOwners") or {}).items():
        for value in _strings(owners):
            if tag := _tag_of(value):
                yield f"tagOwners[{tag_name}]", tag


def _operator_tags(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Tags the operator assigns: Connector/ProxyGroup ``spec.tags``, the tags annotation."""
    if resource_type in (TS_CONNECTOR, TS_PROXY_GROUP):
        return _strings(get_path(props, "spec.tags"))
    if resource_type in (INGRESS, SERVICE):
        annotation = (get_path(props, "metadata.annotations") or {}).get(TS_TAGS_ANNOTATION)
        return [t.strip() for t in annotation.split(",") if t.strip()] if isinstance(annotation, str) else []
    return []


def _tag_owners(args: StackValidationArgs, report: Report) -> None:
    operator_tags = _strings((args.get_config() or {}).get("operatorTags", [OPERATOR_TAG]))
    acls = [r for r in args.resources if r.resource_type == TS_ACL]
    documents = [(r, parse_policy(r.props.get("acl"))) for r in acls]
    owners: dict[str, list[str]] = {}
    for _, document in documents:
        for tag, tag_owners in ((document or {}).get("tagOwners") or {}).items():
            owners[tag] = _strings(tag_owners)
    for r, document in documents:
        for tag, tag_owners in owners.items():
            if "autogroup:member" in tag_owners:
                report(f"tagOwners[{tag}] must not be autogroup:member: any member could take the tag.", r.urn)
        for where, tag in _policy_tags(document or {}):
            if tag not in owners:
                report(f"{where} uses a tag missing from tagOwners.", r.urn)
    if not acls:
        return
    for r in args.resources:
        keyed = r.resource_type in (TS_TAILNET_KEY, TS_OAUTH_CLIENT)
        if keyed and any(t not in owners for t in _strings(r.props.get("tags"))):
            report("tags lists a tag missing from the tailnet policy's tagOwners.", r.urn)
        for tag in _operator_tags(r.resource_type, r.props):
            if tag not in owners:
                report("a tag the operator assigns is missing from the tailnet policy's tagOwners.", r.urn)
            elif not set(operator_tags) & set(owners[tag]):
                report("tagOwners of a tag the operator assigns must include the operator's tag.", r.urn)


# 70 ------------------------------------------------------------------------------------------
def _has_tests(r: Subject, report: Report) -> None:
    document = _acl_document(r, report)
    if document is None:
        return
    tests = [t for _, t in _entries(document, "tests")]
    if not tests:
        report("tests must hold accept and deny assertions (Tailscale rejects a file whose tests fail).")
        return
    denied = {_tag_of(d) for t in tests for d in _strings(t.get("deny"))}
    reached = {_tag_of(d) for _, g in _entries(document, "grants") for d in _strings(g.get("dst"))}
    for tag in sorted(set(r.config.get("protectedTags", ["tag:model-runner", "tag:monitoring"]))):
        if tag in reached and tag not in denied:
            report(f"tests need a deny assertion for {tag} (it is reachable by a grant).")
    if list(_entries(document, "ssh")) and not list(_entries(document, "sshTests")):
        report("sshTests must hold assertions when the policy has ssh rules.")


# 71 ------------------------------------------------------------------------------------------
def _ssh(r: Subject, report: Report) -> None:
    document = _acl_document(r, report)
    if document is None:
        return
    check_dst = set(r.config.get("checkDestinations", ["tag:ai-infra-prod"]))
    for i, rule in _entries(document, "ssh"):
        src, dst, users = _strings(rule.get("src")), _strings(rule.get("dst")), _strings(rule.get("users"))
        if "*" in src:
            report(f"ssh[{i}].src must name groups or users, not everyone.")
        if "root" in users:
            report(f"ssh[{i}].users must not include root.")
        if check_dst & set(dst) and rule.get("action") != "check":
            report(f"ssh[{i}].action must be check for protected destinations (re-authentication).")
        if rule.get("action") == "check" and any(s.startswith("tag:") for s in src):
            report(f"ssh[{i}] uses check from a tagged source, which Tailscale does not allow.")


# 72 ------------------------------------------------------------------------------------------
def _tailnet_settings(r: Subject, report: Report) -> None:
    props = r.props
    if r.type == TS_ACL:
        if props.get("resetAclOnDestroy") is True:
            report("resetAclOnDestroy must not be true: destroying the stack would reset the tailnet's policy.")
        if props.get("overwriteExistingContent") is True:
            report("overwriteExistingContent must not be true: adopt the existing policy with an import instead.")
        return
    if props.get("aclsExternallyManagedOn") is not True:
        report("aclsExternallyManagedOn must be true: the policy is managed here, not in the console.")
    if r.config.get("requireDeviceApproval", False) and props.get("devicesApprovalOn") is not True:
        report("devicesApprovalOn must be true: new devices need an admin's approval.")


POLICIES: list[RulePolicy] = [
    policy(
        "tailscale-authkey-scoped",
        rule="67",
        description="Tailscale auth keys are tagged, ephemeral, pre-authorised only when tagged, and short-lived.",
        remediation="Set tags, ephemeral: true, reusable only with ephemeral, and expiry within maxExpirySeconds "
        "(tailscale.keyExpirySeconds).",
        severity="high",
        standard="Tailscale auth keys and tags docs; pulumi-tailscale 0.29.2 schema",
        level=A,
        types=[TS_TAILNET_KEY],
        check=_authkey,
        schema={
            "maxExpirySeconds": {"type": "integer", "minimum": 1, "default": MAX_EXPIRY_DEFAULT},
            "requireEphemeral": {"type": "boolean", "default": True},
        },
    ),
    policy(
        "tailscale-oauth-client-scoped",
        rule="67b",
        description="Tailscale OAuth clients hold neither the all scope nor write access to the policy file.",
        remediation="Give the operator's client devices:core, auth_keys and services only (tailscale settings); "
        "read the policy file with policy_file:read.",
        severity="high",
        standard="Tailscale OAuth clients docs (scopes); Kubernetes operator install (required scopes)",
        level=A,
        types=[TS_OAUTH_CLIENT],
        check=_oauth_scoped,
        schema={"allowPolicyFileWrite": {"type": "boolean", "default": False}},
    ),
    policy(
        "tailscale-acl-no-allow-all",
        rule="68",
        description="The tailnet policy never allows everything, reaches model runners only on their ports, and "
        "never opens every port of an address range.",
        remediation="Replace allow-all rules with grants naming sources, destinations and ports.",
        severity="critical",
        standard="Tailscale policy-file and grants syntax (grants are additive)",
        level=A,
        types=[TS_ACL],
        check=_no_allow_all,
        schema={
            "modelRunnerTags": {"type": "array", "items": {"type": "string"}, "default": ["tag:model-runner"]},
            "modelRunnerPorts": {"type": "array", "items": {"type": "string"}, "default": ["tcp:443"]},
        },
    ),
    policy(
        "tailscale-no-funnel",
        rule="68b",
        description="No Ingress or Service is published to the internet with Tailscale Funnel.",
        remediation="Remove the tailscale.com/funnel annotation (and funnel nodeAttrs); callers reach the service "
        "over the tailnet.",
        severity="critical",
        standard="Tailscale Funnel docs; Kubernetes operator (tailscale.com/funnel annotation)",
        level=A,
        types=[INGRESS, SERVICE, TS_ACL],
        check=_no_funnel,
        exclude_namespaces=True,
    ),
    policy(
        "tailscale-tag-owners-consistent",
        rule="69",
        description="Every tag in use has an owner (never autogroup:member); the operator's tag owns proxy tags.",
        remediation="Add the tag to tailscale.tagOwners (owned by tag:k8s-operator when the operator assigns it).",
        severity="medium",
        standard="Tailscale tags docs; Kubernetes operator install (tag:k8s-operator owns proxy tags)",
        level=A,
        stack=True,
        check=_tag_owners,
        schema={"operatorTags": {"type": "array", "items": {"type": "string"}, "default": [OPERATOR_TAG]}},
    ),
    policy(
        "tailscale-acl-has-tests",
        rule="70",
        description="The tailnet policy carries tests with a deny for every reachable protected tag (and sshTests).",
        remediation="Keep the generated tests section; add deny assertions for new protected tags.",
        severity="medium",
        standard="Tailscale policy file: the tests and sshTests sections",
        level=A,
        types=[TS_ACL],
        check=_has_tests,
        schema={
            "protectedTags": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["tag:model-runner", "tag:monitoring"],
            }
        },
    ),
    policy(
        "tailscale-ssh-restricted",
        rule="71",
        description="Tailscale SSH never comes from everyone, never logs in as root, and checks on protected hosts.",
        remediation="Name admin groups as src, use autogroup:nonroot or named users, and action: check.",
        severity="high",
        standard="Tailscale SSH docs (`check` mode, no root)",
        level=A,
        types=[TS_ACL],
        check=_ssh,
        schema={"checkDestinations": {"type": "array", "items": {"type": "string"}, "default": ["tag:ai-infra-prod"]}},
    ),
    policy(
        "tailscale-tailnet-settings",
        rule="72",
        description="The tailnet policy is externally managed, devices need approval in prod, and Acl flags stay safe.",
        remediation="Manage TailnetSettings with aclsExternallyManagedOn (and devicesApprovalOn in prod); never set "
        "resetAclOnDestroy or overwriteExistingContent.",
        severity="medium",
        standard="Tailscale GitOps / tailnet settings; terraform-provider-tailscale v0.29.2 resource_acl.go",
        level=D,
        types=[TS_TAILNET_SETTINGS, TS_ACL],
        check=_tailnet_settings,
        schema={"requireDeviceApproval": {"type": "boolean", "default": False}},
    ),
]
