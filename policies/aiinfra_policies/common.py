"""How a policy is declared (``policy(...)``) and the helpers every domain module uses.

Each rule of ``policies/RULES.md`` is one ``policy(...)`` call: the helper builds the SDK's
``ResourceValidationPolicy`` or ``StackValidationPolicy``, filters resources by type token,
applies the shared ``excludeNamespaces`` waiver where asked, and records the rule number,
section, severity and standard so a test can hold the code, ``RULES.md`` and
``policies/<env>.json`` together. Severity and the standard's framework reference go to the SDK's
own ``severity`` / ``framework`` fields too (pulumi-policy 1.21.0 ``Policy.__init__``), so the
engine shows them with every violation.

Properties arrive camelCase, as the engine sends them. During a preview some values are
unknown; touching one raises ``UnknownValueError``, which the SDK reports as "can't run
policy during preview" rather than a false pass or fail; so the helper reads nothing a check
does not need (the pod spec and the namespace are looked up only on demand). Messages name
key paths, never values (secrets are unwrapped to plain text before a policy sees them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from functools import cached_property
from typing import Any, Literal, Protocol, TypeAlias, overload

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from aiinfra_policies.constants import (
    COMPONENT_LABEL,
    CRONJOB,
    JOB,
    MODEL_IMAGES,
    MODEL_SERVER_COMPONENT,
    POD,
    WEIGHT_STAGER_COMPONENT,
    WORKLOAD_TYPES,
)

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")

SECTIONS: dict[str, tuple[int, int]] = {
    "A": (1, 17),
    "B": (18, 23),
    "C": (24, 30),
    "D": (31, 37),
    "E": (38, 41),
    "F": (42, 43),
    "G": (44, 52),
    "H": (53, 61),
    "I": (62, 66),
    "J": (67, 72),
    "K": (73, 77),
    "L": (78, 89),
    "M": (90, 92),
    "N": (93, 95),
}
"""Rule-table sections and their rule numbers (``43b`` counts as 43)."""

EXCLUDE_NAMESPACES = {
    "excludeNamespaces": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Namespaces this policy skips (system namespaces with a documented waiver).",
    },
}
"""The shared waiver: namespaced Kubernetes policies skip resources in these namespaces."""


class Report(Protocol):
    """The SDK's report-violation callback (its ``urn`` argument is optional at runtime)."""

    def __call__(self, message: str, urn: str | None = None) -> None: ...


def section_of(rule: str) -> str:
    """The rule table section of a rule number such as ``"7"`` or ``"43b"``."""
    number = int(rule.rstrip("abcdefghijklmnopqrstuvwxyz"))
    for section, (first, last) in SECTIONS.items():
        if first <= number <= last:
            return section
    raise ValueError(f"rule {rule} is in no section of policies/RULES.md")


SeverityName: TypeAlias = Literal["low", "medium", "high", "critical"]

FRAMEWORKS: tuple[tuple[re.Pattern[str], str, str | None], ...] = (
    (re.compile(r"CIS EKS [0-9][^;(]*"), "CIS Amazon EKS Benchmark", "1.0.1"),
    (re.compile(r"PSS [^;(]+|Pod Security Admission"), "Kubernetes Pod Security Standards", None),
    (re.compile(r"NSA [^;(]+"), "NSA/CISA Kubernetes Hardening Guide", "1.2"),
    (re.compile(r"CKV2?_[A-Z0-9]+_[^;( ]+"), "checkov", None),
    (re.compile(r"Security Hub [^;( ]+"), "AWS Security Hub", None),
    (re.compile(r"hadolint [^;( ]+"), "hadolint", None),
    (re.compile(r"EKS Best Practices[^;]*"), "Amazon EKS Best Practices Guide", None),
    (
        re.compile(r"(compliance-policies|Pulumi CIS-K8s|Pulumi best practice|awsguard)[^;]*"),
        "Pulumi policy packs",
        None,
    ),
)
"""Frameworks a ``Standard`` cell may cite, most authoritative first (``framework_of`` takes the
first one cited). The rest of a cell (upstream docs, project conventions) is kept as the
framework's specification."""


def framework_of(standard: str) -> PolicyComplianceFramework:
    """The SDK framework for a ``Standard`` cell: the first framework of ``FRAMEWORKS`` it cites,
    with that citation as the reference; a cell citing none is a project convention or an upstream
    document, referenced by its first part."""
    for pattern, name, version in FRAMEWORKS:
        found = pattern.search(standard)
        if found:
            return PolicyComplianceFramework(name, version, found.group(0).strip(), standard)
    head = re.match(r"[^;(]*(\([^)]*\))?", standard)  # the first part, a parenthesis with it
    first = (head.group(0) if head else standard).strip()
    name = "ai-infra project convention" if first.startswith("project convention") else "upstream documentation"
    return PolicyComplianceFramework(name, None, first, standard)


# -- what a resource check sees -------------------------------------------------------------------
def pod_spec_path(resource_type: str) -> str:
    if resource_type == POD:
        return "spec"
    if resource_type == CRONJOB:
        return "spec.jobTemplate.spec.template.spec"
    return "spec.template.spec"


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pod spec inside any workload kind ({} when absent)."""
    node: Any = props
    for key in pod_spec_path(resource_type).split("."):
        node = node.get(key) if isinstance(node, Mapping) else None
        if node is None:
            return {}
    return node if isinstance(node, Mapping) else {}


class Subject:
    """One resource as a resource check sees it: type token, props, this policy's config.

    For workload kinds ``pod`` is the pod spec and ``pod_path`` its key path (messages start
    with it so the user sees where to fix); for other kinds both are empty. They are computed
    on first use, so a check that never reads them never touches an unknown preview value.
    """

    def __init__(self, resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> None:
        self.type = resource_type
        self.props = props
        self.config = config

    @cached_property
    def pod_path(self) -> str:
        return pod_spec_path(self.type) if self.type in WORKLOAD_TYPES else ""

    @cached_property
    def pod(self) -> Mapping[str, Any]:
        return pod_spec(self.type, self.props) if self.type in WORKLOAD_TYPES else {}


ResourceCheck: TypeAlias = Callable[[Subject, Report], None]
StackCheck: TypeAlias = Callable[[StackValidationArgs, Report], None]
TypeMatch: TypeAlias = Collection[str] | Callable[[str], bool]
"""The type tokens a resource policy applies to, or a predicate over the token."""


# -- the declaration --------------------------------------------------------------------------
class _RuleMixin:
    rule: str | None
    """Rule number in ``policies/RULES.md`` (``None`` for a pack rule without one, shown as ``—``)."""
    section: str
    """Rule-table section letter (a key of ``SECTIONS``)."""
    standard: str
    """Where the check comes from: the ``Standard`` cell of its ``RULES.md`` row."""


class ResourceRule(_RuleMixin, ResourceValidationPolicy):
    """A resource policy that knows its rule-table row."""


class StackRule(_RuleMixin, StackValidationPolicy):
    """A stack policy that knows its rule-table row."""


RulePolicy: TypeAlias = ResourceRule | StackRule


@overload
def policy(
    name: str,
    *,
    rule: str | None,
    section: str | None = None,
    description: str,
    remediation: str,
    level: EnforcementLevel,
    severity: SeverityName,
    standard: str,
    types: TypeMatch,
    check: ResourceCheck,
    schema: Mapping[str, dict[str, Any]] | None = None,
    exclude_namespaces: bool = False,
) -> ResourceRule: ...


@overload
def policy(
    name: str,
    *,
    rule: str | None,
    section: str | None = None,
    description: str,
    remediation: str,
    level: EnforcementLevel,
    severity: SeverityName,
    standard: str,
    stack: Literal[True],
    check: StackCheck,
    schema: Mapping[str, dict[str, Any]] | None = None,
) -> StackRule: ...


def policy(
    name: str,
    *,
    rule: str | None,
    section: str | None = None,
    description: str,
    remediation: str,
    level: EnforcementLevel,
    severity: SeverityName,
    standard: str,
    types: TypeMatch | None = None,
    stack: bool = False,
    check: Any,
    schema: Mapping[str, dict[str, Any]] | None = None,
    exclude_namespaces: bool = False,
) -> RulePolicy:
    """Declare one policy of the pack.

    ``rule`` is its number in ``policies/RULES.md`` (the section follows from it); a pack rule
    without a table row passes ``rule=None`` and its ``section``. ``level`` is the dev level
    (``policies/prod.json`` raises it). ``severity`` is low, medium, high or critical;
    ``standard`` is the ``Standard`` cell of the rule's ``RULES.md`` row (where the check comes
    from), and ``framework_of`` picks the framework reference the SDK carries from it. Give
    either ``types`` (a resource policy; ``check`` gets a ``Subject`` per matching resource) or
    ``stack=True`` (``check`` gets the stack's ``StackValidationArgs`` once). ``schema`` holds
    the config properties beyond the level; ``exclude_namespaces=True`` adds the shared
    ``excludeNamespaces`` waiver and skips resources in those namespaces before ``check`` runs.
    """
    derived = section_of(rule) if rule is not None else section
    if derived is None or (section is not None and section != derived):
        raise ValueError(f"policy {name}: give a rule number, or rule=None and its section")
    if stack == (types is not None):
        raise ValueError(f"policy {name}: give exactly one of types=... or stack=True")
    if stack and exclude_namespaces:
        raise ValueError(f"policy {name}: excludeNamespaces applies to resource policies only")
    properties = {**(EXCLUDE_NAMESPACES if exclude_namespaces else {}), **(schema or {})}
    common: dict[str, Any] = {
        "name": name,
        "description": description,
        "enforcement_level": level,
        # No schema at all (rather than an empty one) for policies configured by level only.
        "config_schema": PolicyConfigSchema(properties=properties) if properties else None,
        "remediation_steps": remediation,
        "severity": Severity(severity),
        "framework": framework_of(standard),
    }
    made: RulePolicy
    if stack:
        made = StackRule(validate=_stack_validate(check), **common)
    else:
        assert types is not None
        matches = types if callable(types) else frozenset(types).__contains__
        made = ResourceRule(validate=_resource_validate(matches, check, exclude_namespaces), **common)
    made.rule, made.section, made.standard = rule, derived, standard
    return made


def _adapt(report: ReportViolation) -> Report:
    """Our checks may omit ``urn``; the SDK's callback takes it positionally."""
    return lambda message, urn=None: report(message, urn)


def _resource_validate(
    matches: Callable[[str], bool], check: ResourceCheck, exclude_namespaces: bool
) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if not matches(args.resource_type):
            return
        config = args.get_config() or {}
        if exclude_namespaces and excluded(args.props, config):
            return
        check(Subject(args.resource_type, args.props, config), _adapt(report))

    return validate


def _stack_validate(check: StackCheck) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        check(args, _adapt(report))

    return validate


# -- shared helpers ---------------------------------------------------------------------------
def is_set(mapping: Any, key: str) -> bool:
    """The key holds a value: a non-empty one, or one known only after apply (a new KMS key's ARN
    in a first preview). "Must name a key" rules then still run at preview instead of being
    skipped: the unknown-checking proxy raises on reading an unknown value, not on listing keys."""
    if not isinstance(mapping, Mapping) or key not in list(iter(mapping)):
        return False
    try:
        return bool(mapping[key])
    except UnknownValueError:
        return True


def is_node_role(role: Any) -> bool:
    """Whether an IAM role is trusted by EC2 (a node role). A trust policy still unknown in a first
    preview is computed from other resources (an IRSA trust names the cluster's OIDC provider);
    the EC2 service trust is a constant, known at preview, so unknown means "not a node role" and
    the node-role rules still run at preview."""
    try:
        return "ec2.amazonaws.com" in str(role.props.get("assumeRolePolicy", ""))
    except UnknownValueError:
        return False


def containers(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``(key path, container)`` for every init, app and ephemeral container."""
    for list_name in CONTAINER_LISTS:
        for i, container in enumerate(spec.get(list_name) or []):
            if isinstance(container, Mapping):
                yield f"{list_name}[{i}]", container


def namespace_of(props: Mapping[str, Any]) -> str | None:
    metadata = props.get("metadata") or {}
    ns = metadata.get("namespace") if isinstance(metadata, Mapping) else None
    return ns if isinstance(ns, str) else None


def excluded(props: Mapping[str, Any], config: Mapping[str, Any]) -> bool:
    """Whether the resource sits in one of the config's ``excludeNamespaces``."""
    skip = set(config.get("excludeNamespaces") or [])
    # The namespace is read only when there is a waiver, so the default config never touches it.
    return bool(skip) and namespace_of(props) in skip


def get_path(value: Any, path: str) -> Any:
    """``a.b.c`` lookup through mappings; ``None`` when any step is missing."""
    node = value
    for key in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


# -- model servers (rules 37 and 73 find them the same way) ----------------------------------
def pod_labels(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return get_path(props, "spec.template.metadata.labels") or {}


def is_model_server(resource_type: str, props: Mapping[str, Any]) -> bool:
    """A workload labelled ``app.kubernetes.io/component: model-server`` or running a vLLM/Ollama image.

    The image fallback catches model servers added without our label helper.
    """
    if resource_type not in WORKLOAD_TYPES:
        return False
    labels = get_path(props, "spec.template.metadata.labels") or get_path(props, "metadata.labels") or {}
    if labels.get(COMPONENT_LABEL) == MODEL_SERVER_COMPONENT:
        return True
    if resource_type == JOB and labels.get(COMPONENT_LABEL) == WEIGHT_STAGER_COMPONENT:
        return False  # downloads a server's weights with its image; serves nothing
    spec = pod_spec(resource_type, props)
    return any(any(m in str(c.get("image", "")) for m in MODEL_IMAGES) for _, c in containers(spec))


def model_servers(args: StackValidationArgs) -> list[Any]:
    return [r for r in args.resources if is_model_server(r.resource_type, r.props)]


def selects(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    """Whether a Service-style selector (plain label map) picks ``labels``; an empty one picks nothing."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())
