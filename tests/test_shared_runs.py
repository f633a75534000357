"""tests/shared_runs.py: the second worker of a session loads the first one's run; outside xdist
nothing is shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import shared_runs


@pytest.fixture(autouse=True)
def own_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """This worker's own shared folder stays as it is for the tests after these."""
    monkeypatch.setattr(shared_runs, "_FOLDER", [])


def _boom() -> object:
    raise AssertionError("computed again")


def test_the_second_worker_loads_what_the_first_computed(tmp_path: Path) -> None:
    shared_runs.share_between_workers(str(tmp_path / "gw0"), is_worker=True)
    assert shared_runs.shared("k", lambda: {"run": [1, 2]}) == {"run": [1, 2]}
    shared_runs.share_between_workers(str(tmp_path / "gw1"), is_worker=True)
    assert shared_runs.shared("k", _boom) == {"run": [1, 2]}
    assert shared_runs.shared("other", lambda: "own") == "own"  # another key is its own run


def test_outside_xdist_each_call_computes(tmp_path: Path) -> None:
    shared_runs.share_between_workers(str(tmp_path / "x"), is_worker=False)
    with pytest.raises(AssertionError, match="computed again"):
        shared_runs.shared("k", _boom)
    assert not (tmp_path / "shared-program-runs").exists()


def test_a_failed_run_leaves_nothing_to_load(tmp_path: Path) -> None:
    shared_runs.share_between_workers(str(tmp_path / "gw0"), is_worker=True)
    with pytest.raises(AssertionError):
        shared_runs.shared("k", _boom)
    assert shared_runs.shared("k", lambda: 3) == 3


def test_keys_differ_by_config() -> None:
    assert shared_runs.run_key("dev", {"a": 1}, []) != shared_runs.run_key("dev", {"a": 2}, [])
    assert shared_runs.run_key("dev", {"a": 1, "b": 2}, []) == shared_runs.run_key("dev", {"b": 2, "a": 1}, [])
