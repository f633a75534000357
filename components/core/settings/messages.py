"""Validation errors in the user's words: key paths, what is allowed, and "did you mean".

pydantic reports ``Input should be a valid dictionary or instance of ReplicaSettings``; a user
editing a stack file needs ``must be a mapping (key: value)``. This module turns each pydantic
error into ``(key path, message)`` without class names, suggests the closest allowed key for a
misspelt one at any depth (listing the allowed keys), and tells the loader which errors are about
one field (so it can drop that field and look for the problems across sections behind it).
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from components.core.settings.base import PROJECT, CrossFieldError, Problem

_TYPE_MESSAGES = {
    "model_type": "must be a mapping (key: value)",
    "model_attributes_type": "must be a mapping (key: value)",
    "dict_type": "must be a mapping (name: settings)",
    "list_type": "must be a list",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text (quote it)",
    "missing": "is required",
}


@dataclass(frozen=True)
class FieldProblem:
    path: str
    """``ai-infra:a.b[0].c``"""
    message: str
    loc: tuple[int | str, ...]
    """Where in the document: the field, or for a cross-field rule the mapping whose rule reported
    it (empty for the stack's own rules across sections)."""


def format_loc(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _model_in(annotation: Any) -> type[BaseModel] | None:
    candidates = [annotation, *typing.get_args(annotation)]
    return next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)


def allowed_keys(root: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The keys a mapping at ``loc`` accepts (empty when ``loc`` is not a settings mapping)."""
    model: type[BaseModel] | None = root
    parts = list(loc)
    while parts and model is not None:
        part = parts.pop(0)
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        if not isinstance(part, str) or part not in fields:
            return []
        annotation = fields[part].annotation
        if typing.get_origin(annotation) is dict:
            if not parts:
                return []  # free names (pools, models, namespaces)
            parts.pop(0)
            model = _model_in(typing.get_args(annotation)[1])
        else:
            model = _model_in(annotation)
    return sorted(f.alias or n for n, f in model.model_fields.items()) if model is not None and not parts else []


def _message(err: Any, root: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        allowed = [k for k in allowed_keys(root, loc[:-1]) if k != "secretKeys"]
        guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        hint = f"did you mean {guess[0]}? " if guess else ""
        return f"unknown key; {hint}allowed: {', '.join(allowed)}" if allowed else "unknown key"
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind]
    if kind == "literal_error":
        return "must be one of " + str(ctx.get("expected", "")).replace(" or ", ", ")
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {"greater_than_equal": "at least", "greater_than": "more than", "less_than_equal": "at most"}
        return f"must be {bound.get(kind, 'less than')} {next(iter(ctx.values()))}"
    if kind == "too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return f"must match the pattern {ctx.get('pattern')}"
    message = str(err["msg"]).removeprefix("Value error, ")
    return message.replace("Input should be", "must be")


def problems_from(exc: ValidationError, root: type[BaseModel]) -> list[FieldProblem]:
    found: list[FieldProblem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if p not in ("function-after", "function-before"))
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, CrossFieldError):
            for sub, message in cause.problems:
                found.append(FieldProblem(f"{PROJECT}:{format_loc((*loc, sub))}", message, loc))
            continue
        found.append(FieldProblem(f"{PROJECT}:{format_loc(loc)}", _message(err, root, loc), loc))
    return found


def as_problems(found: list[FieldProblem]) -> list[Problem]:
    return [(p.path, p.message) for p in found]


MISSING = object()
"""Marker: no value (the key is absent, or the field has no default)."""


def parse_path(path: str) -> list[int | str]:
    """``a.b[0].c`` -> ``["a", "b", 0, "c"]`` (the inverse of :func:`format_loc`)."""
    parts: list[int | str] = []
    for dotted in path.split("."):
        name, _, rest = dotted.partition("[")
        if name:
            parts.append(name)
        indexes = [i for i in rest.replace("]", "").split("[") if i]
        parts += [int(i) if i.isdigit() else i for i in indexes]
    return parts


def value_at(document: Any, parts: Sequence[int | str]) -> Any:
    """The value at ``parts`` in a document of mappings and lists, or :data:`MISSING`."""
    node = document
    for part in parts:
        in_list = isinstance(part, int) and isinstance(node, list | tuple) and part < len(node)
        in_mapping = isinstance(part, str) and isinstance(node, Mapping) and part in node
        if not (in_list or in_mapping):
            return MISSING
        node = node[part]
    return node


def field_default(root: type[BaseModel], parts: Sequence[int | str]) -> Any:
    """The default of the field at ``parts`` (camelCase keys, dict entries by name) below ``root``,
    or :data:`MISSING` when there is none (a required field, a list item, an unknown key)."""
    model: type[BaseModel] | None = root
    rest = list(parts)
    while rest and model is not None:
        part = rest.pop(0)
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        if not isinstance(part, str) or part not in fields:
            return MISSING
        field = fields[part]
        if not rest:
            return MISSING if field.is_required() else field.get_default(call_default_factory=True)
        if typing.get_origin(field.annotation) is dict:
            rest.pop(0)
            model = _model_in(typing.get_args(field.annotation)[1])
            if not rest:
                return MISSING
        else:
            model = _model_in(field.annotation)
    return MISSING
