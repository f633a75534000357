"""``planner.engine.drop_source_positions``: under the mock engine a registration carries no stack
trace, so the SDK does not walk the Python stack per resource; outside mocks nothing changes."""

from __future__ import annotations

import inspect
import subprocess
import sys
from typing import Any

import pulumi
import pulumi_random as random
import pytest
from pulumi.runtime import resource as runtime_resource

from planner import engine as planner_engine
from planner.engine import _no_stack_trace
from planner.mocks import RecordingMonitor
from tests.conftest import ROOT, build_under_mocks

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
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
