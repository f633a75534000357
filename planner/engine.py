"""Run the Pulumi program under the SDK's own mock engine and collect what it registered.

This is the same code path as ``pulumi preview``: ``__main__.py`` runs unchanged, every
resource goes through ``RegisterResource`` on the (mock) monitor, and stack outputs are the
program's ``pulumi.export`` calls. Only the engine is replaced.
"""

from __future__ import annotations

import asyncio
import logging
import os
import runpy
import sys
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pulumi
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from planner.mocks import SECRET_SIG, RecordingMocks, RecordingMonitor, Registration
from planner.stack_config import project_name


@dataclass
class ProgramRun:
    """The registrations, resolved stack outputs and warnings of one mocked program run."""

    stack: str
    registrations: list[Registration]
    outputs: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class _Collect(logging.Handler):
    """Keeps what the program logs at warning level (``pulumi.log.warn``), as the CLI shows it."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(level=logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


def _no_stack_trace() -> Any:
    """An empty stack trace: what a registration carries under the mock engine (see below)."""
    from pulumi.runtime.proto import source_pb2

    return source_pb2.StackTrace()


def drop_source_positions() -> None:
    """Registrations under the mock engine carry no stack trace or source position.

    For the CLI's diagnostics, pulumi 3.272.0's ``runtime/resource.py`` (``_get_stack_trace``,
    called by ``register_resource`` and ``read_resource``) extracts the whole Python stack on every
    resource (``traceback.extract_stack``: linecache reads, one ``Path.as_uri`` per frame): ~15%
    of a prod program run's CPU. The mock monitor drops both fields, so under mocks nothing reads
    them; ``pulumi up`` and ``pulumi preview`` never come here (only ``start_mocks`` calls this)."""
    if callable(getattr(runtime_resource, "_get_stack_trace", None)):
        runtime_resource._get_stack_trace = _no_stack_trace


T = TypeVar("T")
_SDK_MOCKS_SYNC_AWAIT = runtime_mocks._sync_await
"""``pulumi.runtime.mocks``' own ``_sync_await``, as imported (before :func:`run_rpcs_inline`)."""


class InlineExecutor(ThreadPoolExecutor):
    """The mock engine's RPCs run at once, on the event loop's own thread.

    The SDK sends each RPC through the loop's default executor (``run_in_executor(None, …)`` in
    pulumi 3.272.0's ``runtime/resource.py``, ``invoke.py``, ``stack.py``, ``settings.py``): a
    worker thread per call, so a real engine's gRPC round trip does not block the program. The
    mock monitor answers in microseconds, so the hand-off to a thread and back (a loop per
    worker thread, a wake-up per result) cost ~15% of a program run. What the program registers
    is the same set in the same state; only the order in which concurrent registrations reach the
    monitor differs, which no plan file depends on (plan.json sorts by URN; the snapshots in
    tests/snapshots are the same either way; tests/planner/test_mock_engine_speed.py compares the
    two ways' registrations)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        done: Future[T] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # the caller's await re-raises it, as a worker thread's would
            done.set_exception(exc)
        return done


def _run_now(awaitable: Awaitable[T]) -> T:
    """``pulumi.runtime.mocks``' ``_sync_await`` for an RPC answered on the loop's own thread.

    The SDK's ``MockMonitor`` serializes its answer with ``_sync_await(serialize_properties(…))``;
    on a worker thread that runs a loop of the thread's own, but on the loop's thread it would
    pump the running loop from inside one of its callbacks, ever deeper. The answer is plain
    values (the mocks' state), so the coroutine finishes without waiting on anything: run it to
    its end here. On a thread without a running loop (a plain executor) the SDK's own applies."""
    if asyncio._get_running_loop() is None or not asyncio.iscoroutine(awaitable):
        return _SDK_MOCKS_SYNC_AWAIT(awaitable)
    coroutine: Coroutine[Any, Any, T] = awaitable
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return finished.value
    coroutine.close()
    raise RuntimeError("a mock engine answer waited on an unresolved value (planner/engine.py: _run_now)")


def run_rpcs_inline() -> None:
    """The mock engine answers each RPC on the loop's thread (:class:`InlineExecutor`)."""
    runtime_mocks._sync_await = _run_now
    _ensure_event_loop().set_default_executor(InlineExecutor(max_workers=1))


def start_mocks(
    project: str, stack: str, config: dict[str, str], secret_keys: list[str], *, preview: bool = False
) -> RecordingMonitor:
    """Install fresh recording mocks and the stack's config (call before any resource)."""
    # A fresh root stack per run: the SDK keeps it in global settings.
    runtime_settings.ROOT.set(None)
    # The engine hands the program its config; a PULUMI_CONFIG* left in the shell must not leak in
    # (the SDK's Config.get falls back to those variables for keys the map lacks).
    for name in [n for n in os.environ if n.startswith("PULUMI_CONFIG")]:
        del os.environ[name]
    drop_source_positions()
    run_rpcs_inline()
    mocks = RecordingMocks(preview=preview)
    monitor = RecordingMonitor(mocks)
    logger = logging.getLogger("ai-infra.plan")
    logger.propagate = False
    logger.handlers = [_Collect(monitor.warnings)]
    runtime_mocks.set_mocks(mocks, project=project, stack=stack, preview=preview, logger=logger, monitor=monitor)
    pulumi.runtime.set_all_config(config, secret_keys)
    return monitor


def run_program(
    project_dir: Path, stack: str, config: dict[str, str], secret_keys: list[str], *, preview: bool = False
) -> ProgramRun:
    """Execute ``project_dir/__main__.py`` under mocks; exceptions propagate unchanged.

    ``preview=True`` answers as a first ``pulumi preview`` would: computed outputs are unknown."""
    monitor = start_mocks(project_name(project_dir), stack, config, secret_keys, preview=preview)
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    program = str(project_dir / "__main__.py")

    def main() -> None:
        runpy.run_path(program, run_name="__main__")

    _sync_await(run_pulumi_func(main))
    root = runtime_settings.get_root_resource()
    outputs = _resolve_outputs(getattr(root, "outputs", {}) or {})
    return ProgramRun(
        stack=stack, registrations=list(monitor.registrations), outputs=outputs, warnings=list(monitor.warnings)
    )


def _resolve_outputs(raw: dict[str, Any]) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for name in sorted(raw):
        out = pulumi.Output.from_input(raw[name])
        value = _sync_await(out.future(with_unknowns=True))
        secret = _sync_await(out.is_secret())
        resolved[name] = {SECRET_SIG: "secret", "value": value} if secret else value
    return resolved
