"""``planner.forked``: a function's result from a forked child, or None (and the caller runs it
itself) when the child fails, dies or overruns its time."""

from __future__ import annotations

import os
import time

from planner.forked import Forked


def _pid_and_value() -> tuple[int, dict[str, list[int]]]:
    return os.getpid(), {"runs": [1, 2, 3]}


def _fails() -> int:
    raise RuntimeError("the child's own failure")


def _hangs() -> int:
    time.sleep(60)
    return 1


def test_the_result_comes_back_from_another_process() -> None:
    pid, value = Forked(_pid_and_value).result() or (os.getpid(), {})
    assert pid != os.getpid() and value == {"runs": [1, 2, 3]}


def test_a_failing_or_overrunning_child_gives_none() -> None:
    assert Forked(_fails).result() is None
    started = time.monotonic()
    assert Forked(_hangs, timeout=0.5).result() is None
    assert time.monotonic() - started < 30


def test_a_cancelled_child_is_reaped() -> None:
    child = Forked(_hangs)
    child.cancel()
    pid = child._pid
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive
