"""The mock engine's two shortcuts (planner/engine.py), each shown on and off: a registration
carries no stack trace (``drop_source_positions``: the SDK does not walk the Python stack per
resource), and RPCs are answered on the event loop's thread (``run_rpcs_inline``: no worker thread
per call). Outside mocks nothing changes."""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple
from typing import Any

import pulumi
import pulumi_random as random
import pytest
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.sync_await import _ensure_event_loop

from planner import engine as planner_engine
from planner.engine import _no_stack_trace
from planner.mocks import RecordingMonitor
from tests.conftest import ROOT, build_under_mocks, run_stack

# The SDK's own function, as imported (before any mock engine replaced it in this process).
SDK_STACK_TRACE = runtime_resource._get_stack_trace


def test_the_sdk_still_has_the_function_the_mock_engine_replaces() -> None:
    # pulumi 3.272.0: register_resource and read_resource call this module global. If an SDK
    # upgrade renames it, the replacement would silently do nothing: this fails first.
    for caller in (runtime_resource.register_resource, runtime_resource.read_resource):
        assert "stack_trace = _get_stack_trace()" in inspect.getsource(caller), caller.__name__


def _traces_registered(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Frames (plus one for a source position) that the root stack, a component and a resource
    inside it send to the mock monitor."""
    frames: list[int] = []
    register = RecordingMonitor.RegisterResource

    def keep(self: RecordingMonitor, request: Any) -> Any:
        frames.append(len(request.stackTrace.frames) + int(request.HasField("sourcePosition")))
        return register(self, request)

    monkeypatch.setattr(RecordingMonitor, "RegisterResource", keep)

    class Box(pulumi.ComponentResource):
        def __init__(self) -> None:
            super().__init__("ai-infra:test:Box", "box")
            random.RandomPet("pet", opts=pulumi.ResourceOptions(parent=self))

    build_under_mocks(Box)
    return frames


def test_under_mocks_a_registration_gets_an_empty_stack_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    frames = _traces_registered(monkeypatch)
    assert len(frames) == 3 and frames == [0, 0, 0]  # the stack, the component, the resource
    assert runtime_resource._get_stack_trace is _no_stack_trace


def test_without_it_the_sdk_sends_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    # What the test above guards against: the SDK's own function sends every frame.
    monkeypatch.setattr(planner_engine, "drop_source_positions", lambda: None)
    monkeypatch.setattr(runtime_resource, "_get_stack_trace", SDK_STACK_TRACE)
    frames = _traces_registered(monkeypatch)
    assert len(frames) == 3 and all(n > 0 for n in frames)


def test_importing_the_planner_alone_leaves_the_sdk_as_it_is() -> None:
    # Only start_mocks installs it: a process that imports the planner but runs no mock engine
    # (as a real `pulumi up` never imports it at all) keeps the SDK's stack traces.
    code = (
        "import planner.engine, planner.__main__\n"
        "from pulumi.runtime import resource as r\n"
        "assert r._get_stack_trace is not planner.engine._no_stack_trace\n"
        "from pulumi.runtime import mocks as m\n"
        "assert m._sync_await is not planner.engine._run_now\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


# -- RPCs answered on the loop's thread (planner.engine.InlineExecutor) ---------------------------

SDK_MOCKS_SYNC_AWAIT = runtime_mocks._sync_await


def test_the_sdk_still_sends_rpcs_through_the_default_executor() -> None:
    # pulumi 3.272.0: the registration RPC goes to the loop's default executor, and the mock
    # monitor serializes its answer through the module global the mock engine replaces.
    assert "run_in_executor(\n                None, wrap_with_context(do_rpc_call)" in inspect.getsource(
        runtime_resource.register_resource
    )
    for method in (MockMonitor.RegisterResource, MockMonitor.Invoke, MockMonitor.ReadResource):
        assert "_sync_await(rpc.serialize_properties(" in inspect.getsource(method), method.__name__


def _threads_registering(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    names: set[str] = set()
    register = RecordingMonitor.RegisterResource

    def keep(self: RecordingMonitor, request: Any) -> Any:
        names.add(threading.current_thread().name)
        return register(self, request)

    monkeypatch.setattr(RecordingMonitor, "RegisterResource", keep)
    build_under_mocks(lambda: random.RandomPet("pet"))
    return names


def test_under_mocks_registrations_are_answered_on_the_loops_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _threads_registering(monkeypatch) == {threading.current_thread().name}
    assert runtime_mocks._sync_await is planner_engine._run_now


def _sdk_default() -> None:
    """What ``run_rpcs_inline`` replaces: the SDK's own answer path and a thread pool."""
    runtime_mocks._sync_await = SDK_MOCKS_SYNC_AWAIT
    _ensure_event_loop().set_default_executor(ThreadPoolExecutor())


def test_without_it_each_registration_goes_to_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # (the next start_mocks installs the shortcut again; monkeypatch restores the module global)
    monkeypatch.setattr(planner_engine, "run_rpcs_inline", _sdk_default)
    monkeypatch.setattr(runtime_mocks, "_sync_await", SDK_MOCKS_SYNC_AWAIT)
    names = _threads_registering(monkeypatch)
    assert names and threading.current_thread().name not in names


def test_both_ways_register_the_same_resources_in_the_same_state(monkeypatch: pytest.MonkeyPatch) -> None:
    def registered() -> list[tuple[str, ...]]:
        run = run_stack("local")  # the smallest stack file
        return sorted(tuple(map(repr, astuple(r))) for r in run.registrations)

    inline = registered()
    monkeypatch.setattr(planner_engine, "run_rpcs_inline", _sdk_default)
    monkeypatch.setattr(runtime_mocks, "_sync_await", SDK_MOCKS_SYNC_AWAIT)
    assert registered() == inline and inline


def test_an_answer_that_would_wait_is_an_error_not_a_deadlock() -> None:
    async def waits() -> None:
        await asyncio.get_running_loop().create_future()  # never resolved

    async def on_the_loop() -> str:
        with pytest.raises(RuntimeError, match="waited on an unresolved value"):
            planner_engine._run_now(waits())
        return planner_engine._run_now(_plain())

    async def _plain() -> str:
        return "answered"

    assert asyncio.new_event_loop().run_until_complete(on_the_loop()) == "answered"


def test_off_the_loop_the_sdks_own_sync_await_applies() -> None:
    async def plain() -> int:
        return 7

    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(planner_engine._run_now, plain()).result() == 7
