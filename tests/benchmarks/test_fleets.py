"""The bench harness measures what it claims: the floor registers exactly the fleets' resources."""

from __future__ import annotations

from benchmarks.fleets import _fleets, _raw, _time, measure


def test_floor_registers_the_same_resources_as_the_fleets() -> None:
    _, fleets = _time(_fleets(2))
    _, floor = _time(_raw(fleets))

    def custom(regs: list) -> list:
        return sorted(((r.type, r.name), r.inputs) for r in regs if r.custom)

    assert custom(floor) == custom(fleets)


def test_measure_counts_nine_resources_per_autoscaled_tensor_parallel_fleet() -> None:
    # ServiceAccount, Deployment, Service, PDB, ScaledObject, NetworkPolicy, and for the shared
    # cache the staging Job with its own NetworkPolicy... plus the ServiceMonitor.
    row = measure(2, repeats=1)
    assert row["fleets"] == 2 and row["resources"] == 2 * 9


def test_the_plan_bench_reports_the_ratio_against_its_target() -> None:
    from benchmarks.plan import TARGET, report

    row = {"resources": 290, "plan_min": 6.0, "plan_median": 7.0, "floor_min": 2.5, "floor_median": 3.0}
    assert "x2.40 best" in report({**row, "ratio": 2.4, "ratio_median": 7 / 3}) and "meets" in report(
        {**row, "ratio": 2.4, "ratio_median": 7 / 3}
    )
    assert "MISSES" in report({**row, "ratio": TARGET + 0.1, "ratio_median": TARGET + 0.1})
