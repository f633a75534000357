"""``planner.engine.drop_source_positions``: under the mock engine a registration carries no stack
trace, so the SDK does not walk the Python stack per resource; outside mocks nothing changes."""

from __future__ import annotations

import inspect
import subprocess
import sys

from pulumi.runtime import resource as runtime_resource

from planner.engine import _no_stack_trace, drop_source_positions
from tests.conftest import ROOT


def test_the_sdk_still_has_the_function_the_mock_engine_replaces() -> None:
    # pulumi 3.272.0: register_resource and read_resource call this module global. If an SDK
    # upgrade renames it, the replacement would silently do nothing: this fails first.
    for caller in (runtime_resource.register_resource, runtime_resource.read_resource):
        assert "stack_trace = _get_stack_trace()" in inspect.getsource(caller), caller.__name__


def test_under_mocks_a_registration_gets_an_empty_stack_trace() -> None:
    drop_source_positions()
    assert runtime_resource._get_stack_trace is _no_stack_trace
    trace = runtime_resource._get_stack_trace()
    assert list(trace.frames) == []
    assert runtime_resource._get_source_position(trace) is None


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
