"""Read each resource's properties once per Analyzer call, not once per policy.

pulumi-policy 1.21.0's analyzer (``pulumi_policy/policy.py``, ``_PolicyAnalyzerServicer.Analyze``
and ``AnalyzeStack``) does, inside its loop over the policies, for each resource::

    deserialized = deserialize_properties(json_format.MessageToDict(request.properties))
    props = unknown_checking_proxy(deserialized)

so with ~95 policies a resource's protobuf Struct is converted, deserialized and wrapped in the
unknown-checking proxy (which walks the whole structure) ~95 times, and for every stack policy
every resource of the stack again: almost all of the pack's time in a plan.

:func:`convert_properties_once` keeps the SDK's code path and memoizes those three steps for
the duration of one ``Analyze`` / ``AnalyzeStack`` call, each keyed by the object it is given
(held in the memo, so an id cannot be reused): the same Struct message (upb hands back one
object per field access) gives the same dict, that dict the same deserialized properties, and
those the same proxy. Policies therefore share one read-only view of a resource, which is what
the SDK means them to have: our policies never write to ``args.props`` (a test runs every policy
over the planned stacks and checks that the properties are unchanged afterwards). Calls with
extra arguments (remediation's secret-preserving deserialization) and every other
``json_format`` use go to the SDK unchanged. The SDK serves calls from a thread pool, so the
memo is per thread.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

_local = threading.local()


def _memo() -> dict[tuple[str, int], tuple[Any, Any]]:
    memo: dict[tuple[str, int], tuple[Any, Any]] | None = getattr(_local, "memo", None)
    if memo is None:
        memo = _local.memo = {}
    return memo


class Memo:
    """What was memoized; ``conversions`` counts real ``MessageToDict`` calls (tests read it)."""

    def __init__(self) -> None:
        self.conversions = 0

    def once(self, kind: str, real: Callable[..., Any]) -> Callable[..., Any]:
        """``real`` with one-argument calls memoized by their argument's identity."""

        @functools.wraps(real)
        def call(value: Any, *args: Any, **kwargs: Any) -> Any:
            if args or kwargs:
                return real(value, *args, **kwargs)
            memo = _memo()
            hit = memo.get((kind, id(value)))
            if hit is not None and hit[0] is value:
                return hit[1]
            if kind == "convert":
                self.conversions += 1
            result = real(value)
            memo[(kind, id(value))] = (value, result)
            return result

        return call


class _JsonFormat:
    """Stands in for ``google.protobuf.json_format`` inside ``pulumi_policy.policy``."""

    def __init__(self, real: Any, memo: Memo) -> None:
        self._real = real
        self.MessageToDict = memo.once("convert", real.MessageToDict)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _scoped(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        _memo().clear()
        try:
            return method(self, *args, **kwargs)
        finally:
            _memo().clear()

    return call


_INSTALLED: list[Memo] = []


def convert_properties_once() -> Memo | None:
    """Install the memo into the SDK's analyzer (idempotent). Returns it, or None when the SDK
    no longer has the shape this was written for (then nothing is changed)."""
    if _INSTALLED:
        return _INSTALLED[0]
    from pulumi_policy import policy as sdk

    servicer = getattr(sdk, "_PolicyAnalyzerServicer", None)
    names = ("json_format", "deserialize_properties", "unknown_checking_proxy")
    if servicer is None or not all(hasattr(sdk, n) for n in names):
        return None
    if not all(hasattr(servicer, m) for m in ("Analyze", "AnalyzeStack")):
        return None
    memo = Memo()
    sdk.json_format = _JsonFormat(sdk.json_format, memo)
    sdk.deserialize_properties = memo.once("deserialize", sdk.deserialize_properties)
    sdk.unknown_checking_proxy = memo.once("proxy", sdk.unknown_checking_proxy)
    for name in ("Analyze", "AnalyzeStack"):
        setattr(servicer, name, _scoped(getattr(servicer, name)))
    _INSTALLED.append(memo)
    return memo
