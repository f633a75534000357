"""``make bench``: how planning cost grows with the number of model fleets.

For 1, 10 and 100 synthetic vLLM fleets (autoscaled, tensor-parallel: the richest spec) it times
constructing the ``ModelRunnerFleet`` components under the SDK's mock engine, and the floor:
registering exactly the same resources (same types, names and inputs) raw with the SDK, with
no builders and no components. Target: at most 2x the floor, and linear growth per fleet.
Best of three runs per size; wall-clock on this machine, so compare ratios, not seconds.
Then ``make plan STACK=prod`` against its own floor (benchmarks/plan.py; target: at most 3x).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from planner.engine import start_mocks
from planner.mocks import Registration
from planner.stack_config import project_name

PROJECT_DIR = Path(__file__).resolve().parent.parent

SIZES = (1, 10, 100)
REPEATS = 3


def _fleets(n: int) -> Callable[[], None]:
    from components.core.settings import ModelSpec
    from components.model_runner_fleet import ModelRunnerFleet, ModelRunnerFleetArgs
    from components.specs.model_runner import FleetSpec

    spec = ModelSpec.model_validate(
        {
            "engine": "vllm",
            "model": "org/bench-model",
            "pool": "serving",
            "gpusPerReplica": 2,
            "replicas": {"min": 2, "max": 4},
            "quantization": "awq",
            "maxModelLen": 8192,
        }
    )

    def build() -> None:
        for i in range(n):
            fleet = FleetSpec(
                name=f"bench-{i}", spec=spec, image="docker.io/vllm/vllm-openai:v0.11.0", env="prod", team="bench"
            )
            ModelRunnerFleet(f"model-bench-{i}", ModelRunnerFleetArgs(fleet=fleet, prometheus_url="http://p:9090"))

    return build


def _raw(registrations: list[Registration]) -> Callable[[], None]:
    """The floor: the same resources straight through the SDK (no parents, no builders)."""

    def build() -> None:
        for r in registrations:
            if r.custom:
                pulumi.CustomResource(r.type, r.name, dict(r.inputs))
            else:
                pulumi.ComponentResource(r.type, r.name)

    return build


def _time(build: Callable[[], None]) -> tuple[float, list[Registration]]:
    monitor = start_mocks(project_name(PROJECT_DIR), "bench", {"ai-infra:environment": "prod"}, [])
    started = time.perf_counter()
    _sync_await(run_pulumi_func(build))
    return time.perf_counter() - started, list(monitor.registrations)


def measure(n: int, repeats: int = REPEATS) -> dict[str, Any]:
    runs = [_time(_fleets(n)) for _ in range(repeats)]
    fleet_s = min(t for t, _ in runs)
    registrations = runs[0][1]
    floor_s = min(_time(_raw(registrations))[0] for _ in range(repeats))
    return {
        "fleets": n,
        "resources": len(registrations),
        "seconds": fleet_s,
        "floor_seconds": floor_s,
        "ms_per_fleet": 1000 * fleet_s / n,
        "ms_per_resource": 1000 * fleet_s / len(registrations),
        "ratio": fleet_s / floor_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--no-plan", action="store_true", help="skip timing make plan STACK=prod against its floor")
    args = parser.parse_args(argv)
    rows = [measure(n, args.repeats) for n in args.sizes]
    header = ("fleets", "resources", "seconds", "ms/fleet", "ms/resource", "floor s", "x floor")
    widths = (6, 9, 8, 9, 11, 8, 7)
    print(" ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print(
            f"{r['fleets']:>6} {r['resources']:>9} {r['seconds']:>8.3f} {r['ms_per_fleet']:>9.2f} "
            f"{r['ms_per_resource']:>11.3f} {r['floor_seconds']:>8.3f} {r['ratio']:>7.2f}"
        )
    growth = rows[-1]["ms_per_fleet"] / rows[0]["ms_per_fleet"] if len(rows) > 1 else 1.0
    worst = max(r["ratio"] for r in rows)
    print(
        f"\nper-fleet cost at {rows[-1]['fleets']} vs {rows[0]['fleets']} fleets: x{growth:.2f} "
        f"(1.0 = linear); worst ratio to the floor: x{worst:.2f} (target <= 2)"
    )
    if not args.no_plan:
        from benchmarks import plan

        print()
        print(plan.report(plan.measure(args.repeats)))
    # `make test`'s own time is not measured inside the tests (no timed tests): README, "Measured here".
    return 0


if __name__ == "__main__":
    sys.exit(main())
