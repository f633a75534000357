"""The settings base class, reusable field types and the one error type bad input becomes.

Every settings class derives from :class:`Settings`: frozen, unknown keys rejected, camelCase
keys as users write them in stack files. Cross-field rules raise :class:`CrossFieldError` with
several ``(relative key path, message)`` problems at once; the loader turns every problem of a
stack into one :class:`SettingsError` naming the stack file.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from enum import StrEnum
from typing import Annotated

import pulumi
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel

from components.core.naming import is_dns_label

PROJECT = "ai-infra"
"""The project name (``Pulumi.yaml``) and so the namespace of every config key."""

Problem = tuple[str, str]
"""``(key path, what is wrong and what is allowed)``."""


class Environment(StrEnum):
    DEV = "dev"
    PROD = "prod"


class SettingsError(pulumi.RunError):
    """Invalid stack configuration. A ``RunError`` so Pulumi prints it without a traceback."""

    def __init__(self, stack_file: str, problems: list[Problem]) -> None:
        self.stack_file = stack_file
        self.problems = sorted(set(problems))
        lines = [f"Invalid configuration in {stack_file} ({len(self.problems)} problem(s)):"]
        lines += [f"  - {path}: {message}" for path, message in self.problems]
        lines.append("Fix these keys in the stack file (or with `pulumi config set --path`).")
        super().__init__("\n".join(lines))


class CrossFieldError(ValueError):
    """Raised by model validators: several ``(relative key path, message)`` problems at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p}: {m}" for p, m in problems))


def check(problems: list[Problem]) -> None:
    """Raise every collected problem of one validator together (nothing when the list is empty)."""
    if problems:
        raise CrossFieldError(problems)


def _dns_label(value: str) -> str:
    if not is_dns_label(value):
        raise ValueError("must be a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters")
    return value


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"must be a CIDR block such as 10.0.0.0/16 ({exc})") from None
    return value


_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$")


def _quantity(value: str) -> str:
    if not _QUANTITY.match(value):
        raise ValueError("must be a Kubernetes quantity such as 500m, 4, 16Gi")
    return value


def _number_as_text(value: object) -> object:
    """Users naturally write ``cpu: 4`` or ``memory: 16``; quantities are strings to Kubernetes."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g}"
    return value


AWS_TAG_VALUE_SYMBOLS = frozenset(" _.:/=+-@")
AWS_TAG_VALUE_MAX = 256


def _aws_tag_value(value: str) -> str:
    """AWS tag values (``^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$`` in the tagging API): letters, spaces and
    digits of any script, and ``_ . : / = + - @``, at most 256 characters."""
    allowed = all(unicodedata.category(c)[0] in "LZN" or c in AWS_TAG_VALUE_SYMBOLS for c in value)
    if len(value) > AWS_TAG_VALUE_MAX or not allowed:
        raise ValueError(
            "must be an AWS tag value: letters, digits, spaces and _ . : / = + - @ only, at most 256 characters"
        )
    return value


K8sName = Annotated[str, AfterValidator(_dns_label)]
AwsTagValue = Annotated[str, AfterValidator(_aws_tag_value)]
"""A value every AWS resource's tags accept (the ``Team`` and ``CostCenter`` tags)."""
Cidr = Annotated[str, AfterValidator(_cidr)]
Quantity = Annotated[str, BeforeValidator(_number_as_text), AfterValidator(_quantity)]


class Settings(BaseModel):
    """Base of every settings class: frozen, unknown keys rejected, camelCase keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)


def size_problems(min_size: int, desired: int, max_size: int) -> list[Problem]:
    """The min ≤ desired ≤ max rule every node group shares."""
    problems = []
    if min_size > max_size:
        problems.append(("minSize", f"{min_size} must not exceed maxSize ({max_size})"))
    if not min_size <= desired <= max_size:
        problems.append(("desiredSize", f"{desired} must be within [minSize, maxSize] = [{min_size}, {max_size}]"))
    return problems
