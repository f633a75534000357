"""Helpers every domain module uses: workload type tokens, pod-spec access, shared config.

Properties arrive camelCase, as the engine sends them. During a preview some values are
unknown; touching one raises ``UnknownValueError``, which the SDK reports as "can't run
policy during preview" rather than a false pass or fail. Messages name key paths, never
values (secrets are unwrapped to plain text before a policy sees them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFULSET = "kubernetes:apps/v1:StatefulSet"
DAEMONSET = "kubernetes:apps/v1:DaemonSet"
REPLICASET = "kubernetes:apps/v1:ReplicaSet"
JOB = "kubernetes:batch/v1:Job"
CRONJOB = "kubernetes:batch/v1:CronJob"
POD = "kubernetes:core/v1:Pod"
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"

WORKLOAD_TYPES = frozenset({DEPLOYMENT, STATEFULSET, DAEMONSET, REPLICASET, JOB, CRONJOB, POD})
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


class Report(Protocol):
    """The SDK's report-violation callback (its ``urn`` argument is optional at runtime)."""

    def __call__(self, message: str, urn: str | None = None) -> None: ...


def adapt_resource(
    check: Callable[[ResourceValidationArgs, Report], None],
) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    """The SDK-facing validate: passes our checks a reporter whose ``urn`` is optional."""

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        check(args, lambda message, urn=None: report(message, urn))

    return validate


def adapt_stack(
    check: Callable[[StackValidationArgs, Report], None],
) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        check(args, lambda message, urn=None: report(message, urn))

    return validate


EXCLUDE_SCHEMA = PolicyConfigSchema(
    properties={
        "excludeNamespaces": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "Namespaces this policy skips (system namespaces with a documented waiver).",
        },
    }
)


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


def excluded(args: ResourceValidationArgs) -> bool:
    config = args.get_config() or {}
    skip = set(config.get("excludeNamespaces") or [])
    return bool(skip) and namespace_of(args.props) in skip


WorkloadCheck = Callable[[str, Mapping[str, Any], Mapping[str, Any], Report], None]
"""``(pod spec path, pod spec, props, report)`` for one workload resource."""


def workload_policy(
    name: str,
    description: str,
    check: WorkloadCheck,
    *,
    level: EnforcementLevel = EnforcementLevel.ADVISORY,
    remediation: str,
) -> ResourceValidationPolicy:
    """A resource policy over every workload kind, honouring ``excludeNamespaces``."""

    def check_workload(args: ResourceValidationArgs, report: Report) -> None:
        if args.resource_type not in WORKLOAD_TYPES:
            return
        if excluded(args):
            return
        check(pod_spec_path(args.resource_type), pod_spec(args.resource_type, args.props), args.props, report)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=adapt_resource(check_workload),
        enforcement_level=level,
        config_schema=EXCLUDE_SCHEMA,
        remediation_steps=remediation,
    )


def resource_policy(
    name: str,
    description: str,
    types: frozenset[str],
    check: Callable[[Mapping[str, Any], Report], None],
    *,
    level: EnforcementLevel = EnforcementLevel.ADVISORY,
    remediation: str,
) -> ResourceValidationPolicy:
    """A resource policy for the given type tokens (no namespace exclusions)."""

    def check_typed(args: ResourceValidationArgs, report: Report) -> None:
        if args.resource_type in types:
            check(args.props, report)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=adapt_resource(check_typed),
        enforcement_level=level,
        remediation_steps=remediation,
    )


def stack_policy(
    name: str,
    description: str,
    check: Callable[[StackValidationArgs, Report], None],
    *,
    level: EnforcementLevel = EnforcementLevel.ADVISORY,
    remediation: str,
    schema: dict[str, Any] | None = None,
) -> StackValidationPolicy:
    return StackValidationPolicy(
        name=name,
        description=description,
        validate=adapt_stack(check),
        enforcement_level=level,
        remediation_steps=remediation,
        config_schema=PolicyConfigSchema(properties=schema) if schema else None,
    )


def get_path(value: Any, path: str) -> Any:
    """``a.b.c`` lookup through mappings; ``None`` when any step is missing."""
    node = value
    for key in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


PropsCheck = Callable[[Mapping[str, Any], Mapping[str, Any], Report], None]
"""``(props, policy config, report)`` for one resource of a known type."""


def typed_policy(
    name: str,
    description: str,
    types: frozenset[str],
    check: PropsCheck,
    level: EnforcementLevel,
    remediation: str,
    schema: dict[str, Any] | None = None,
) -> ResourceValidationPolicy:
    """A resource policy for the given type tokens whose check sees props and the policy config."""

    def check_typed(args: ResourceValidationArgs, report: Report) -> None:
        if args.resource_type in types:
            check(args.props, args.get_config() or {}, report)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=adapt_resource(check_typed),
        enforcement_level=level,
        remediation_steps=remediation,
        config_schema=PolicyConfigSchema(properties=schema) if schema else None,
    )


def args_policy(
    name: str,
    description: str,
    check: Callable[[ResourceValidationArgs, Report], None],
    level: EnforcementLevel,
    remediation: str,
    schema: PolicyConfigSchema | None = None,
) -> ResourceValidationPolicy:
    """A resource policy whose check needs the whole validation args (type, config, props)."""
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=adapt_resource(check),
        enforcement_level=level,
        remediation_steps=remediation,
        config_schema=schema,
    )
