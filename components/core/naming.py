"""Deterministic, DNS-1123-safe names for every resource the platform creates.

Pulumi logical names and Kubernetes ``metadata.name`` values both come from here so that
names are stable across releases (a renamed resource is a replaced resource) and always fit
Kubernetes' 63-character label/name limit. Long names are truncated and suffixed with a short
hash of the full name, so two long names never collide after truncation.
"""

from __future__ import annotations

import hashlib
import re

MAX_DNS_LABEL = 63
_INVALID = re.compile(r"[^a-z0-9-]+")
_DASHES = re.compile(r"-{2,}")
DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _slug(part: str) -> str:
    """Lower-case ``part`` and replace every run of characters DNS-1123 forbids with one dash."""
    text = _INVALID.sub("-", part.lower())
    return _DASHES.sub("-", text).strip("-")


def k8s_name(*parts: str, max_len: int = MAX_DNS_LABEL) -> str:
    """Join ``parts`` into a DNS-1123 label of at most ``max_len`` characters.

    Empty parts are skipped. When the joined name is too long it is cut and ends with a
    6-character hash of the untruncated name, so the result stays unique and deterministic.
    """
    slugs = [s for s in (_slug(p) for p in parts) if s]
    if not slugs:
        raise ValueError("k8s_name needs at least one non-empty part")
    full = "-".join(slugs)
    if len(full) <= max_len:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:6]
    head = full[: max_len - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}"


def resource_name(component: str, role: str) -> str:
    """Logical Pulumi name of a component's child: ``<component>-<role>``.

    Children are always prefixed by their component's name because a URN includes the parent
    *type* chain but not the parent *name*; two components of one type would otherwise clash.
    """
    return k8s_name(component, role, max_len=200)


def is_dns_label(value: str) -> bool:
    """True when ``value`` is a valid DNS-1123 label (Kubernetes object names, label values)."""
    return len(value) <= MAX_DNS_LABEL and bool(DNS_1123_LABEL.match(value))


HF_TOKEN_SECRET_SUFFIX = "hf-token"
API_KEY_SECRET_SUFFIX = "api-key"


def hf_token_secret_name(owner: str) -> str:
    """The Secret holding a fleet's or job's Hugging Face token: ``<owner>-hf-token``."""
    return k8s_name(owner, HF_TOKEN_SECRET_SUFFIX)


def api_key_secret_name(owner: str) -> str:
    """The Secret holding a fleet's API key: ``<owner>-api-key``."""
    return k8s_name(owner, API_KEY_SECRET_SUFFIX)
