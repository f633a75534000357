"""Which image a fleet or job runs: the settings' reference, or the digest of the stack's build.

The one rule both workloads follow: an image of ``images/`` the stack builds runs by the digest
its ``Registry`` pushed; anything else runs as the settings name it.
"""

from __future__ import annotations

from functools import partial

import pulumi

from components.registry import Registry


def _pick(key: str, refs: dict[str, str]) -> str:
    return refs[key]


def image_ref(named: str, built: str | None, registry: Registry | None) -> pulumi.Input[str]:
    """``built`` (an ``images/`` folder the stack builds, else None) by digest when the registry
    exists; ``named`` otherwise."""
    if registry is not None and built is not None:
        return registry.image_refs.apply(partial(_pick, built))
    return named
