"""Presets hold only what differs from the field defaults: one home per default.

A preset value equal to its field's default would be a second home for that default (change
one, forget the other). Walk every leaf of every preset, find the field it sets and compare.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from pydantic import BaseModel

from components.core.presets import ENV_PRESETS
from components.core.settings import StackSettings

REQUIRED = object()
"""Marker: the field has no default, so any preset value is needed."""

NEEDED_BY_RULES: frozenset[str] = frozenset()
"""Preset paths equal to a default but needed by a cross-field rule (none today)."""


def _model_in(annotation: Any) -> type[BaseModel] | None:
    candidates = [annotation, *typing.get_args(annotation)]
    return next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)


def field_default(cls: type[BaseModel], parts: list[str]) -> Any:
    """The default of the field at ``parts`` (camelCase keys; dict entries by name) below ``cls``."""
    by_key = {f.alias or n: f for n, f in cls.model_fields.items()}
    field = by_key[parts[0]]
    rest = parts[1:]
    if not rest:
        return REQUIRED if field.is_required() else field.get_default(call_default_factory=True)
    if typing.get_origin(field.annotation) is dict:
        entry = _model_in(typing.get_args(field.annotation)[1])
        assert entry is not None, parts
        return field_default(entry, rest[1:]) if len(rest) > 1 else REQUIRED
    model = _model_in(field.annotation)
    assert model is not None, parts
    return field_default(model, rest)


def leaves(doc: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[list[str], Any]]:
    for key, value in doc.items():
        if isinstance(value, Mapping) and value:
            yield from leaves(value, (*prefix, key))
        else:
            yield [*prefix, key], value


def repeats_of_defaults(preset: Mapping[str, Any]) -> list[str]:
    found = []
    for parts, value in leaves({k: v for k, v in preset.items() if k != "environment"}):
        default = field_default(StackSettings, parts)
        plain = list(value) if isinstance(value, tuple) else value
        if default is not REQUIRED and plain == default and ".".join(parts) not in NEEDED_BY_RULES:
            found.append(".".join(parts))
    return found


@pytest.mark.parametrize("env", sorted(ENV_PRESETS))
def test_no_preset_value_repeats_its_field_default(env: str) -> None:
    assert repeats_of_defaults(ENV_PRESETS[env]) == []


def test_the_check_finds_a_repeated_default() -> None:
    preset = {
        "cluster": {"kubernetesVersion": "1.34", "eks": {"logTypes": ["api", "audit"]}},
        "nodePools": {"gpu": {"instanceTypes": ["g6.xlarge"], "nvme": "raid0", "maxSize": 5}},
    }
    assert repeats_of_defaults(preset) == ["cluster.kubernetesVersion", "nodePools.gpu.nvme"]
