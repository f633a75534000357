"""Run one function in a forked copy of the plan process, for its result later.

``make plan`` runs the program twice (the plan and the preview-like check); neither needs the
other, so the CLI forks the preview-like run off before the first run starts: the two runs share
the two cores, and the pack answers both.

Only the CLI process forks (``planner/__main__.py``), and before it connects to the policy pack:
the child then shares no gRPC channel, only the pack's pipes, which it never touches, and leaves
with ``os._exit`` (no ``atexit``: the parent's handlers stop the pack). The asyncio loop the SDK
ran the first program on belongs to the parent (its executor's threads did not survive the
fork, if it had any), so the child starts a fresh one. Every failure of the child — an exception, a signal, no
answer within ``timeout`` — gives ``None`` and the caller runs the function itself, so forking
only ever changes how long a plan takes.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import selectors
import signal
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
TIMEOUT_S = 300.0


class Forked(Generic[T]):
    """``fn()`` running in a child process; :meth:`result` waits for it (or gives None)."""

    def __init__(self, fn: Callable[[], T], timeout: float = TIMEOUT_S) -> None:
        self._timeout = timeout
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child
            os.close(read_fd)
            code = 1
            try:
                asyncio.set_event_loop(asyncio.new_event_loop())
                data = pickle.dumps(fn(), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_fd, "wb") as out:
                    out.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(write_fd)
        self._pid, self._fd = pid, read_fd

    def cancel(self) -> None:
        """Stop the child and reap it (its result is not wanted)."""
        os.kill(self._pid, signal.SIGKILL)
        os.waitpid(self._pid, 0)
        os.close(self._fd)

    def result(self) -> T | None:
        chunks: list[bytes] = []
        deadline = time.monotonic() + self._timeout
        with selectors.DefaultSelector() as sel:
            sel.register(self._fd, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(timeout=left):
                    os.kill(self._pid, signal.SIGKILL)
                    break
                chunk = os.read(self._fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        os.close(self._fd)
        _, status = os.waitpid(self._pid, 0)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0 or not chunks:
            return None
        result: T = pickle.loads(b"".join(chunks))
        return result
