"""The bench harness measures what it claims (functional check; timings live in `make bench`)."""

from __future__ import annotations

from planner.bench import measure


def test_bench_registers_the_same_resources_for_fleets_and_floor() -> None:
    row = measure(2, repeats=1)
    assert row["fleets"] == 2 and row["resources"] == 2 * 7
    assert row["seconds"] > 0 and row["floor_seconds"] > 0
