"""Issue 26: changing a cache or a fast path changes the cold-start estimate in the plan diff."""

from __future__ import annotations

import json
from pathlib import Path

from components.core.cold_start import startup_report
from planner.diff import cold_start_lines, diff_plans, diff_text
from tests.conftest import settings_for

FLEET = {"engine": "vllm", "model": "Qwen/Qwen2.5-7B-Instruct", "pool": "gpu", "maxModelLen": 4096}


def _plan(directory: Path, **fleet: object) -> Path:
    directory.mkdir()
    settings = settings_for("dev", models={"qwen-small": None, "qwen-instruct": {**FLEET, **fleet}})
    (directory / "plan.json").write_text(json.dumps({"resources": []}))
    (directory / "startup.json").write_text(json.dumps(startup_report(settings)))
    return directory


def test_enabling_the_compile_cache_shows_in_the_diff(tmp_path: Path) -> None:
    old, new = _plan(tmp_path / "old"), _plan(tmp_path / "new", compileCache=True)
    changes = diff_plans(old, new)
    before, after = changes.cold_start["qwen-instruct"]
    assert before is not None and after is not None and before - after == 77.5  # 85 s cold, 7.5 s warm compile
    assert cold_start_lines(changes) == [f"cold start qwen-instruct: {before:.0f} s -> {after:.0f} s"]
    assert f"cold start qwen-instruct: {before:.0f} s -> {after:.0f} s" in diff_text(changes)
    same = diff_plans(old, _plan(tmp_path / "same"))
    assert same.cold_start == {} and cold_start_lines(same) == []
