"""Convert each resource's properties once per Analyzer call, not once per policy.

pulumi-policy 1.21.0's analyzer (``pulumi_policy/policy.py``, ``_PolicyAnalyzerServicer.Analyze``
and ``AnalyzeStack``) runs ``json_format.MessageToDict(request.properties)`` inside its loop over
the policies: with ~95 policies, each resource's protobuf Struct is converted to a dict ~95 times
(and, for every stack policy, every resource of the stack again). That conversion was most of
the pack's time in a plan (the same Struct message object each time: upb hands back one
object per field access).

:func:`convert_properties_once` keeps the SDK's code path and gives ``MessageToDict`` a memo
for the duration of one ``Analyze`` / ``AnalyzeStack`` call, keyed by the message object (held
in the memo, so its id cannot be reused). The SDK serves calls from a thread pool, so the memo is per
thread. The SDK's ``deserialize_properties`` still runs per
policy and builds fresh dicts and lists from the shared converted dict (it never mutates its
input), so no policy sees another's objects. Any other ``json_format`` use goes to the real module.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

_PATCHED = "_aiinfra_converts_once"


class _MemoJsonFormat:
    """Stands in for ``google.protobuf.json_format`` inside ``pulumi_policy.policy``."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self._local = threading.local()
        self.conversions = 0
        """How many messages were really converted (tests read it)."""

    @property
    def _memo(self) -> dict[int, tuple[Any, Any]]:
        memo: dict[int, tuple[Any, Any]] | None = getattr(self._local, "memo", None)
        if memo is None:
            memo = self._local.memo = {}
        return memo

    def MessageToDict(self, message: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 (protobuf's name)
        if args or kwargs:
            return self._real.MessageToDict(message, *args, **kwargs)
        memo = self._memo
        hit = memo.get(id(message))
        if hit is not None and hit[0] is message:
            return hit[1]
        self.conversions += 1
        converted = self._real.MessageToDict(message)
        memo[id(message)] = (message, converted)
        return converted

    def clear(self) -> None:
        self._memo.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _scoped(method: Callable[..., Any], memo: _MemoJsonFormat) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        memo.clear()
        try:
            return method(self, *args, **kwargs)
        finally:
            memo.clear()

    return call


def convert_properties_once() -> _MemoJsonFormat | None:
    """Install the memo into the SDK's analyzer (idempotent). Returns it, or None when the SDK
    no longer has the shape this was written for (then nothing is changed)."""
    from pulumi_policy import policy as sdk

    servicer = getattr(sdk, "_PolicyAnalyzerServicer", None)
    current = getattr(sdk, "json_format", None)
    if isinstance(current, _MemoJsonFormat):
        return current
    if servicer is None or current is None or not all(hasattr(servicer, m) for m in ("Analyze", "AnalyzeStack")):
        return None
    memo = _MemoJsonFormat(current)
    sdk.json_format = memo
    for name in ("Analyze", "AnalyzeStack"):
        setattr(servicer, name, _scoped(getattr(servicer, name), memo))
    setattr(servicer, _PATCHED, True)
    return memo
