"""``make bench``'s second half: ``make plan STACK=prod`` against the floor of registering its resources.

Both sides are fresh processes, measured alternately in one run (same machine, same moment):

* the plan: ``python -m planner --stack prod`` into a scratch folder (program run, preview-like
  run, policy pack, validators' inputs, every file), as ``make plan`` runs it;
* the floor: a process that imports the Pulumi SDK and the provider SDK modules the prod plan's
  resource types come from, and registers exactly the plan's resources (same types, names and
  inputs) raw with ``pulumi.CustomResource`` / ``ComponentResource`` under the same mock engine:
  what any offline plan of this stack through the SDK costs at least (with the plan's GC settings).

Target: the plan at most 3x the floor (issue 24). Wall-clock, best and median of ``repeats``;
on a shared machine compare the ratio, not the seconds.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
TARGET = 3.0
STACK = "prod"


def _floor_script(plan_json: Path) -> str:
    return f"""
import importlib, json
import pulumi
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await
from planner.engine import start_mocks
from planner.stack_config import project_name
from pathlib import Path
plan = json.loads(Path({str(plan_json)!r}).read_text())
modules = {{"aws": "pulumi_aws", "kubernetes": "pulumi_kubernetes", "tailscale": "pulumi_tailscale",
            "docker": "pulumi_docker", "random": "pulumi_random"}}
for r in plan["resources"]:
    package, _, rest = r["type"].partition(":")
    if package in modules and rest:
        group, _, version = rest.split(":")[0].partition("/")
        module = group.split(".")[0] + ("." + version if package == "kubernetes" else "")
        name = modules[package] + ("" if module == "index" else "." + module)
        try:
            importlib.import_module(name)
        except ImportError:  # a custom resource kind: the SDK's generic module
            importlib.import_module(modules[package] + (".apiextensions" if package == "kubernetes" else ""))
from planner.gc_tuning import tune
tune()  # as the plan process does
start_mocks(project_name(Path({str(PROJECT_DIR)!r})), "bench", {{"ai-infra:environment": "prod"}}, [])
def build():
    for r in plan["resources"]:
        if r["custom"]:
            pulumi.CustomResource(r["type"], r["name"], dict(r["inputs"]))
        else:
            pulumi.ComponentResource(r["type"], r["name"])
_sync_await(run_pulumi_func(build))
"""


def _timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=PROJECT_DIR, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd[:4])} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def measure(repeats: int = 3) -> dict[str, Any]:
    """Plan and floor, alternately, ``repeats`` times each."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / STACK
        plan_cmd = [sys.executable, "-m", "planner", "--stack", STACK, "--out", str(out)]
        plans = [_timed(plan_cmd)]
        floor_cmd = [sys.executable, "-c", _floor_script(out / "plan.json")]
        floors = [_timed(floor_cmd)]
        for _ in range(repeats - 1):
            plans.append(_timed(plan_cmd))
            floors.append(_timed(floor_cmd))
        resources = len(json.loads((out / "plan.json").read_text())["resources"])
    return {
        "resources": resources,
        "plan_min": min(plans),
        "plan_median": statistics.median(plans),
        "floor_min": min(floors),
        "floor_median": statistics.median(floors),
        "ratio": min(plans) / min(floors),
        "ratio_median": statistics.median(plans) / statistics.median(floors),
    }


def report(row: dict[str, Any]) -> str:
    verdict = "meets" if row["ratio"] <= TARGET else "MISSES"
    return (
        f"make plan STACK={STACK} ({row['resources']} resources): best {row['plan_min']:.2f} s, "
        f"median {row['plan_median']:.2f} s\n"
        f"floor (fresh process: SDK + provider modules + raw registration): best {row['floor_min']:.2f} s, "
        f"median {row['floor_median']:.2f} s\n"
        f"plan / floor: x{row['ratio']:.2f} best, x{row['ratio_median']:.2f} median "
        f"(target <= {TARGET:g}: {verdict})"
    )
