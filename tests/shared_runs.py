"""One program run per stack file per ``make test`` session, shared by both xdist workers.

``stack_run("prod")`` (tests/conftest.py) is read by tests on both workers, and ``--dist
loadscope`` cannot keep them on one: each worker ran each stack file's program for itself, ~2 s of
the suite's CPU spent twice. The first worker to ask computes the run and pickles it into the
session's base temporary folder (the parent of every worker's ``--basetemp``, which xdist gives
each worker); the other loads it. A lock per run makes the second wait instead of computing the
same run beside the first. Outside xdist (``make e2e``, ``pytest -p no:xdist``) there is no shared
folder and each process computes its own run. The folder lives only as long as pytest keeps the
session's temporary folders, so a run never outlives the source it was computed from.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_FOLDER: list[Path] = []
"""The session's shared folder, once :func:`share_between_workers` found one (xdist workers only)."""


def share_between_workers(basetemp: str | None, is_worker: bool) -> None:
    """Called from ``pytest_configure``: a worker's ``--basetemp`` is ``<session>/<worker id>``."""
    _FOLDER.clear()
    if is_worker and basetemp:
        folder = Path(basetemp).parent / "shared-program-runs"
        folder.mkdir(parents=True, exist_ok=True)
        _FOLDER.append(folder)


def run_key(*parts: Any) -> str:
    """A file name for the run of these inputs (stack, config, secret keys)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def shared(key: str, compute: Callable[[], T]) -> T:
    """``compute()``, or the result another worker of this session already computed for ``key``."""
    if not _FOLDER:
        return compute()
    folder = _FOLDER[0]
    with open(folder / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        done = folder / f"{key}.pickle"
        if done.exists():
            with open(done, "rb") as f:
                result: T = pickle.load(f)
            return result
        result = compute()
        partial = folder / f"{key}.{os.getpid()}.partial"
        with open(partial, "wb") as f:
            pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
        partial.rename(done)
        return result
