"""Pure builders for the admission policies on images in the workload namespaces.

The policy pack checks only what Pulumi deploys; a pod created with ``kubectl`` in ``models`` or
``training`` never meets it. Two ValidatingAdmissionPolicies (admissionregistration.k8s.io/v1,
GA in 1.30) hold every pod there to the pack's image rules in the API server itself:

- ``ai-infra-image-registries`` (always Deny): every container, init container and ephemeral
  container image comes from a trusted registry prefix (the pack's ``allowedRegistries`` for the
  environment, the stack's own registry) or is a repository the stack itself names
  (``modelImages``, ``jobs.<n>.image``), compared as written (a Docker Hub name without host is
  allowed only as a repository the stack names);
- ``ai-infra-image-digests``: every image is pinned by digest (``@sha256:`` + 64 hex). Deny in
  prod (rule 19 is mandatory there); in dev it warns and audits (rule 19 is advisory there).

Both match pod CREATE and UPDATE (a container's image is mutable) and the
``pods/ephemeralcontainers`` subresource (``kubectl debug``), only in the workload namespaces
(system charts run their images by tag: README, "What is enforced where").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi_kubernetes as k8s

REGISTRIES_POLICY = "ai-infra-image-registries"
DIGESTS_POLICY = "ai-infra-image-digests"
NAMESPACE_LABEL = "kubernetes.io/metadata.name"

DEV_REGISTRIES = (
    "public.ecr.aws/",
    "nvcr.io/",
    "registry.k8s.io/",
    "quay.io/",
    "ghcr.io/",
    "docker.io/vllm/",
    "docker.io/ollama/",
    "docker.io/lmsysorg/",
)
"""The pack's ``k8s-image-trusted-registry`` defaults (policies/aiinfra_policies/images.py
``DEFAULT_REGISTRIES``; a test keeps the two equal)."""
PROD_REGISTRIES = ("public.ecr.aws/", "nvcr.io/", "registry.k8s.io/", "quay.io/")
"""The same rule's ``allowedRegistries`` in ``policies/prod.json`` (a test keeps them equal)."""
DIGEST_PATTERN = "@sha256:[0-9a-f]{64}$"

_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


@dataclass(frozen=True)
class ImageAdmission:
    """What the policies allow, and where."""

    namespaces: tuple[str, ...]
    """The workload namespaces the policies bind to."""
    prefixes: tuple[str, ...]
    """Trusted registry prefixes, each ending in ``/``."""
    repositories: tuple[str, ...]
    """Repositories (a reference without tag or digest) the stack itself runs."""
    deny_tags: bool
    """Deny images not pinned by digest (prod); otherwise warn and audit."""


def repository_of(image: str) -> str:
    """``host/path/name`` of a reference: without its digest and its tag."""
    name = image.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def _cel_list(values: Sequence[str]) -> str:
    # Registry prefixes and repositories match the settings' image pattern: no quote or backslash.
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def _every_container(predicate: str) -> str:
    """``predicate`` (over ``c``) holds for each container of every kind the pod has."""
    parts = []
    for field in _CONTAINER_LISTS:
        every = f"object.spec.{field}.all(c, {predicate})"
        parts.append(every if field == "containers" else f"(!has(object.spec.{field}) || {every})")
    return " && ".join(parts)


def trusted_expression() -> str:
    return _every_container(
        "variables.prefixes.exists(p, c.image.startsWith(p)) || "
        "variables.repositories.exists(r, c.image.startsWith(r + '@') || c.image.startsWith(r + ':'))"
    )


def digest_expression() -> str:
    return _every_container(f"c.image.matches('{DIGEST_PATTERN}')")


def _match(namespaces: Sequence[str]) -> k8s.admissionregistration.v1.MatchResourcesArgs:
    return k8s.admissionregistration.v1.MatchResourcesArgs(
        namespace_selector=k8s.meta.v1.LabelSelectorArgs(
            match_expressions=[
                k8s.meta.v1.LabelSelectorRequirementArgs(key=NAMESPACE_LABEL, operator="In", values=list(namespaces))
            ]
        ),
        resource_rules=[
            k8s.admissionregistration.v1.NamedRuleWithOperationsArgs(
                api_groups=[""],
                api_versions=["v1"],
                operations=["CREATE", "UPDATE"],
                resources=["pods", "pods/ephemeralcontainers"],
            )
        ],
    )


def image_admission_policy_args(
    admission: ImageAdmission, labels: Mapping[str, str]
) -> list[
    tuple[
        k8s.admissionregistration.v1.ValidatingAdmissionPolicyInitArgs,
        k8s.admissionregistration.v1.ValidatingAdmissionPolicyBindingInitArgs,
    ]
]:
    """The registries policy and the digests policy, each with its binding."""
    namespaces = sorted(admission.namespaces)
    scope = ", ".join(namespaces)
    variables = [
        k8s.admissionregistration.v1.VariableArgs(name="prefixes", expression=_cel_list(admission.prefixes)),
        k8s.admissionregistration.v1.VariableArgs(
            name="repositories", expression=_cel_list(sorted(set(admission.repositories)))
        ),
    ]
    policies = [
        (
            REGISTRIES_POLICY,
            variables,
            trusted_expression(),
            f"images in namespaces {scope} must come from a trusted registry ({', '.join(admission.prefixes)}) "
            "or be one the stack runs (ai-infra image registries)",
            ["Deny"],
        ),
        (
            DIGESTS_POLICY,
            [],
            digest_expression(),
            f"images in namespaces {scope} must be pinned by digest (name@sha256:...) (ai-infra image digests)",
            ["Deny"] if admission.deny_tags else ["Warn", "Audit"],
        ),
    ]
    out = []
    for name, policy_variables, expression, message, actions in policies:
        meta = k8s.meta.v1.ObjectMetaArgs(name=name, labels=dict(labels))
        policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicyInitArgs(
            metadata=meta,
            spec=k8s.admissionregistration.v1.ValidatingAdmissionPolicySpecArgs(
                failure_policy="Fail",
                match_constraints=_match(namespaces),
                variables=policy_variables or None,
                validations=[
                    k8s.admissionregistration.v1.ValidationArgs(
                        expression=expression, message=message, reason="Forbidden"
                    )
                ],
            ),
        )
        binding = k8s.admissionregistration.v1.ValidatingAdmissionPolicyBindingInitArgs(
            metadata=meta,
            spec=k8s.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpecArgs(
                policy_name=name, validation_actions=actions
            ),
        )
        out.append((policy, binding))
    return out
