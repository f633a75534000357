"""Kubernetes quantities as numbers: CPU in cores, memory in GiB (what capacity checks compare)."""

from __future__ import annotations

import re

_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|Ki|Mi|Gi|Ti|M|G|T)?$")
_FACTORS = {
    None: 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 1024.0,
    "Mi": 1024.0**2,
    "Gi": 1024.0**3,
    "Ti": 1024.0**4,
}


def amount(quantity: str) -> float:
    """The quantity in base units (cores for CPU, bytes for memory)."""
    match = _QUANTITY.match(quantity)
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {quantity}")
    return float(match[1]) * _FACTORS[match[2]]


def cores(quantity: str) -> float:
    return amount(quantity)


def gib(quantity: str) -> float:
    return amount(quantity) / 1024.0**3
