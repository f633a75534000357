"""Cold-start fast paths as settings (issue 26): the rules that span a fleet, its pool and the stack.

- ``nodePools.<p>.soci``: only on an AMI that ships the SOCI snapshotter (``SOCI_AMIS``), never on
  an existing cluster's machines (we do not configure their containerd);
- ``cache: s3`` with ``loadFormat: runai_streamer``: vLLM only, EKS only. On an existing cluster
  the stack has no IRSA to hand the pods read-only credentials and would need a long-lived access
  key in a Secret plus an endpoint of your own; it refuses instead of half-wiring that (use
  ``cache: shared`` on NFS there);
- ``compileCache``: an engine with a compile-cache root, on the shared cache;
- ``warmFloor``: a valid weekly cron window that ends, a real time zone, on a KEDA-scaled fleet.

``warm_floor_hours`` counts the window's hours per week for ``cost.json``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from zoneinfo import available_timezones

from components.core.engines import ENGINES
from components.core.startup_figures import SOCI_AMIS

if TYPE_CHECKING:
    from components.core.settings.base import Problem
    from components.core.settings.models import ModelSpec, WarmFloorSettings
    from components.core.settings.root import StackSections as StackSettings

_DOW_NAMES = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 6))


def _number(text: str, names: dict[str, int]) -> int | None:
    return int(text) if text.isdigit() else names.get(text.lower())


def _values(part: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    """One cron field (``*``, ``a``, ``a-b``, lists, ``/step``) as the set of values it matches."""
    found: set[int] = set()
    for item in part.split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError("a step must be at least 1")
        if base == "*":
            lo, hi = low, high
        else:
            lo_text, _, hi_text = base.partition("-")
            first = _number(lo_text, names)
            last = _number(hi_text, names) if hi_text else first
            if first is None or last is None:
                raise ValueError(f"{item!r} is not a number")
            lo, hi = first, (high if step_text and not hi_text else last)
        if not (low <= lo <= hi <= high):
            raise ValueError(f"{item!r} is outside {low}-{high}")
        found.update(range(lo, hi + 1, step))
    return found


def parse_cron(expr: str) -> list[set[int]]:
    """A five-field cron (minute hour day-of-month month day-of-week, as KEDA's parser takes:
    ``cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow``); raises ValueError."""
    parts = expr.split()
    if len(parts) != 5:
        raise ValueError(f"needs 5 fields (minute hour day-of-month month day-of-week), not {len(parts)}")
    fields = []
    for part, (label, low, high) in zip(parts, _FIELDS, strict=True):
        if not re.fullmatch(r"[\w*,/-]+", part):
            raise ValueError(f"the {label} field has characters cron does not take")
        try:
            fields.append(_values(part, low, high, _DOW_NAMES if label == "day of week" else {}))
        except ValueError as e:
            raise ValueError(f"the {label} field: {e}") from None
    return fields


def _week_minutes(fields: list[set[int]]) -> list[bool]:
    """Which minutes of a week (Sunday 00:00 first) the schedule fires in (a weekly schedule only)."""
    minute, hour, _, _, dow = fields
    return [(m % 60 in minute) and (m // 60 % 24 in hour) and (m // 1440 in dow) for m in range(7 * 1440)]


def warm_floor_hours(floor: WarmFloorSettings) -> float:
    """Hours per week inside the window: on from a ``start`` firing to the next ``end`` firing."""
    start, end = _week_minutes(parse_cron(floor.start)), _week_minutes(parse_cron(floor.end))
    on, minutes = False, 0
    for week in range(2):  # the first week settles the state at the week's boundary
        for m in range(7 * 1440):
            if end[m]:
                on = False
            elif start[m]:
                on = True
            minutes += week == 1 and on
    return minutes / 60


def s3_weights_possible(s: StackSettings) -> bool:
    """Whether ``cache: s3`` can work here (the plan offers the streamer as a fast path only then)."""
    return s.on_aws


def _warm_floor_problems(spec: ModelSpec) -> list[Problem]:
    floor = spec.warm_floor
    if floor is None:
        return []
    problems: list[Problem] = []
    parsed = {}
    for key in ("start", "end"):
        try:
            parsed[key] = parse_cron(getattr(floor, key))
        except ValueError as e:
            problems.append((f"warmFloor.{key}", f"is not a cron schedule: {e}"))
            continue
        if parsed[key][2] != set(range(1, 32)) or parsed[key][3] != set(range(1, 13)):
            problems.append(
                (f"warmFloor.{key}", "must be weekly: day of month and month '*' (the cost counts hours per week)")
            )
    if floor.timezone not in available_timezones():
        problems.append(("warmFloor.timezone", "is not an IANA time zone name (e.g. Europe/Berlin, UTC)"))
    if not problems:
        if floor.start.split() == floor.end.split() or not any(_week_minutes(parsed["end"])):
            problems.append(("warmFloor.end", "never ends the window (it equals start or never fires in a week)"))
        elif warm_floor_hours(floor) == 0:
            problems.append(("warmFloor", "the window is empty: end fires whenever start does"))
    if ENGINES[spec.engine].autoscaler != "keda":
        problems.append(("warmFloor", f"needs a KEDA-scaled engine; {spec.engine} scales on CPU (an HPA)"))
    if floor.replicas > spec.replicas.max:
        problems.append(("warmFloor.replicas", f"{floor.replicas} exceeds replicas.max ({spec.replicas.max})"))
    return problems


def _model_fast_path_problems(s: StackSettings, spec: ModelSpec) -> list[Problem]:
    engine = ENGINES[spec.engine]
    problems: list[Problem] = []
    if spec.cache == "s3":
        if engine.name != "vllm":
            problems.append(("cache", f"s3 streams with vLLM's Run:ai streamer; {engine.label} cannot read s3://"))
        elif spec.load_format != "runai_streamer":
            problems.append(("loadFormat", "must be runai_streamer with cache s3 (the only vLLM loader that reads S3)"))
        if not s3_weights_possible(s):
            problems.append(
                (
                    "cache",
                    "s3 needs cluster.mode aws-eks (the bucket, its gateway endpoint and the IRSA read-only role are "
                    "created there); an existing cluster has no IRSA: use cache shared on NFS",
                )
            )
    elif spec.load_format == "runai_streamer":
        problems.append(("loadFormat", f"runai_streamer is wired for cache s3 only; here cache is {spec.cache}"))
    if spec.compile_cache:
        if engine.compile_cache_env is None:
            problems.append(("compileCache", f"{engine.label} keeps no compile cache to share"))
        elif spec.cache != "shared":
            problems.append(("compileCache", f"needs cache shared (a claim every replica mounts); here {spec.cache}"))
        elif engine.startup.eager(spec.extra_args):
            problems.append(("compileCache", "does nothing with eager mode in extraArgs (nothing is compiled)"))
    return problems + _warm_floor_problems(spec)


def fast_path_problems(s: StackSettings) -> list[Problem]:
    problems: list[Problem] = []
    for name, pool in s.node_pools.items():
        if not pool.soci:
            continue
        if pool.machine is not None:
            problems.append(
                (f"nodePools.{name}.soci", "existing machines keep their own containerd; enable SOCI on them yourself")
            )
        elif pool.ami_type not in SOCI_AMIS:
            problems.append(
                (
                    f"nodePools.{name}.soci",
                    f"{pool.ami_type} does not ship the SOCI snapshotter; allowed AMIs: {', '.join(sorted(SOCI_AMIS))}",
                )
            )
    for name, spec in s.models.items():
        problems += [(f"models.{name}.{k}", m) for k, m in _model_fast_path_problems(s, spec)]
    return problems


def fast_path_warnings(s: StackSettings) -> list[Problem]:
    found: list[Problem] = []
    for name, spec in s.models.items():
        if spec.warm_floor is not None and spec.warm_floor.replicas <= spec.replicas.min:
            found.append(
                (
                    f"models.{name}.warmFloor.replicas",
                    f"is not above replicas.min ({spec.replicas.min}): the floor holds no extra replica; "
                    "set replicas.min: 0 to scale to zero outside the window",
                )
            )
    return found
