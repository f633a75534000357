"""``make plan``: the offline plan, our answer to ``cdk synth``.

Runs ``__main__.py`` under the SDK's mock engine with the stack's config, writes
``build/<stack>/`` (plan.json, manifests/, helm/, policy-report.json, summary.txt, and diff.txt: every
change since the previous plan), runs the policy pack
over the Analyzer gRPC protocol and prints a summary.

Exit codes: 0 clean (advisories allowed), 1 mandatory policy violations, 2 invalid config,
3 the policy pack could not run (e.g. ``policies/venv`` missing: ``make policy-venv``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from components.core.cold_start import startup_report
from components.core.settings import StackSettings, decode_config, effective_settings, parse_settings
from planner.diff import PlanChanges, diff_plans, diff_text
from planner.engine import ProgramRun, run_program
from planner.forked import Forked
from planner.gc_tuning import tune as tune_gc
from planner.policy_host import (
    CANT_RUN,
    Analysis,
    PolicyHostError,
    Violation,
    launch,
    policy_levels,
    start_analysis,
)
from planner.render import write_plan
from planner.stack_config import StackConfig, StackConfigError, load_stack_config
from planner.summary import summarize

EXIT_OK, EXIT_MANDATORY, EXIT_CONFIG, EXIT_PACK = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="make plan", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack name (reads Pulumi.<stack>.yaml)")
    parser.add_argument("--project-dir", type=Path, default=Path.cwd())
    parser.add_argument("--out", type=Path, default=None, help="output dir (default build/<stack>)")
    parser.add_argument("--no-policies", action="store_true", help="skip the policy pack")
    parser.add_argument(
        "--skip-preview-check",
        action="store_true",
        help="skip the second, preview-like run that finds mandatory policies a preview cannot evaluate",
    )
    parser.add_argument("--policy-pack", type=Path, default=Path("policies"), help="pack folder (default policies)")
    parser.add_argument(
        "--policy-pack-config",
        type=Path,
        default=None,
        help="as pulumi's --policy-pack-config (default <pack>/<environment>.json)",
    )
    return parser


@dataclass(frozen=True)
class _Plan:
    """What one ``make plan`` works with: its arguments, folders and the program's run."""

    args: argparse.Namespace
    project_dir: Path
    out_dir: Path
    stack_config: StackConfig
    run: ProgramRun
    settings: StackSettings
    preview_child: Forked[ProgramRun] | None = None
    """The preview-like run, going on in a forked child since before ``run`` (the CLI only)."""

    @property
    def pack_dir(self) -> Path:
        return self.project_dir / self.args.policy_pack

    @property
    def pack_config_file(self) -> Path:
        """What `pulumi preview --policy-pack <pack> --policy-pack-config <file>` would be given."""
        return self.args.policy_pack_config or self.args.policy_pack / f"{self.stack_config.environment}.json"


@dataclass
class _Findings:
    """The files written (counts per kind) and what the pack found."""

    counts: dict[str, int] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    unknown_at_preview: list[Violation] = field(default_factory=list)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    project_dir: Path = args.project_dir.resolve()
    out_dir: Path = (args.out or project_dir / "build" / args.stack).resolve()
    started = time.monotonic()
    if not args.no_policies:
        # The pack starts up (its own imports) while the program runs.
        launch(project_dir / args.policy_pack)
    plan = _run(args, project_dir, out_dir)
    if isinstance(plan, int):
        return plan
    # Write into a scratch dir and swap, so build/<stack> is either the old or the new plan.
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{args.stack}-", dir=out_dir.parent))
    try:
        findings = _write(plan, scratch)
        if findings is None:
            return EXIT_PACK
        changes = diff_plans(out_dir, scratch)
        if changes.previous:
            (scratch / "diff.txt").write_text(diff_text(changes))
        shutil.rmtree(out_dir, ignore_errors=True)
        scratch.rename(out_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    shown = out_dir.relative_to(project_dir) if out_dir.is_relative_to(project_dir) else out_dir
    print(_summary(plan, findings, shown, changes))
    print(f"(planned in {time.monotonic() - started:.1f}s)")
    return EXIT_MANDATORY if any(v.level == "mandatory" for v in findings.violations) else EXIT_OK


def _run(args: argparse.Namespace, project_dir: Path, out_dir: Path) -> _Plan | int:
    """The stack's config and the program's run, or ``EXIT_CONFIG`` with every problem printed."""
    from components.core.settings import SettingsError

    try:
        stack_config = load_stack_config(project_dir, args.stack)
        child = _fork_preview(args, project_dir, stack_config)
        try:
            run = run_program(project_dir, args.stack, stack_config.config, stack_config.secret_keys)
        except BaseException:
            if child is not None:
                child.cancel()
            raise
    except (StackConfigError, SettingsError) as exc:
        # Nothing half-built is written; the previous plan (if any) stays as it was, to compare with.
        print(str(exc), file=sys.stderr)
        if (out_dir / "plan.json").exists():
            print(f"(the previous plan in {out_dir} is unchanged)", file=sys.stderr)
        return EXIT_CONFIG
    if _CLI:
        # What the run built lives until the process ends: out of the collector's way.
        gc.freeze()
    return _Plan(args, project_dir, out_dir, stack_config, run, _settings(stack_config), child)


def _fork_preview(args: argparse.Namespace, project_dir: Path, stack_config: StackConfig) -> Forked[ProgramRun] | None:
    """``make plan``'s own process starts the preview-like run in a forked child before the first
    run (and before it connects to the pack), so the two program runs share the two cores
    (planner/forked.py); in-process plans (tests) run it after the first, in the same process."""
    if args.no_policies or args.skip_preview_check or not _CLI or not hasattr(os, "fork"):
        return None
    c = stack_config
    return Forked(lambda: run_program(project_dir, args.stack, c.config, c.secret_keys, preview=True))


def _write(plan: _Plan, scratch: Path) -> _Findings | None:
    """Write the plan's files into ``scratch`` while the pack analyzes the run; ``None`` if the
    pack could not run (said on stderr)."""
    args, run, settings = plan.args, plan.run, plan.settings
    findings = _Findings()
    try:
        pack_config: dict[str, object] = {}
        analysis = preview = None
        checks_preview = not args.no_policies and not args.skip_preview_check
        child = plan.preview_child
        if not args.no_policies:
            pack_config = json.loads((plan.project_dir / str(plan.pack_config_file)).read_text())
            analysis = start_analysis(plan.pack_dir, pack_config, run.registrations)
            # Else the preview-like run goes on while the pack answers for the first, and the files
            # are written while it answers for the preview (ordered so the pack is never idle).
            if checks_preview and child is None:
                preview = start_analysis(plan.pack_dir, pack_config, _preview_run(plan).registrations)
        findings.counts = write_plan(scratch, args.stack, run.registrations, run.outputs)
        (scratch / "settings.json").write_text(
            json.dumps(effective_settings(settings), indent=2, sort_keys=True) + "\n"
        )
        (scratch / "startup.json").write_text(json.dumps(startup_report(settings), indent=2, sort_keys=True) + "\n")
        if child is not None:
            preview_run = child.result() or _preview_run(plan)
            preview = start_analysis(plan.pack_dir, pack_config, preview_run.registrations)
        if analysis is not None:
            findings.violations = analysis.result()
        if preview is not None:
            findings.unknown_at_preview = _unknown_at_preview(plan.pack_dir, pack_config, preview)
    except PolicyHostError as exc:
        print(f"The policy pack could not run: {exc}", file=sys.stderr)
        return None
    report = {
        "stack": args.stack,
        "policyPack": str(args.policy_pack),
        "policyConfig": str(plan.pack_config_file),
        "violations": [v.as_dict() for v in findings.violations],
        # Mandatory policies `pulumi preview` cannot evaluate on a new stack (they read values
        # known only after apply): passing preview does not mean these passed.
        "unknownAtPreview": [{"policy": v.policy, "urn": v.urn} for v in findings.unknown_at_preview],
    }
    (scratch / "policy-report.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    # The summary without the run's own noise (timing, the diff against the previous plan):
    # what `make snapshot` keeps under tests/snapshots/ for reviewers.
    (scratch / "summary.txt").write_text(_summary(plan, findings, Path("build") / args.stack) + "\n")
    return findings


def _summary(plan: _Plan, findings: _Findings, out: Path, changes: PlanChanges | None = None) -> str:
    return summarize(
        plan.args.stack,
        plan.run,
        findings.counts,
        findings.violations,
        findings.unknown_at_preview,
        out,
        settings=plan.settings,
        changes=changes,
        config_warnings=_config_warnings(plan.stack_config),
    )


def _config_warnings(stack_config: StackConfig) -> list[str]:
    """One warning per ``secure:`` placeholder no secrets provider can decrypt, naming its key (in
    the summary and summary.txt, with the settings' warnings; the value is never printed)."""
    return [
        f"{key}: its secure: value is a placeholder no secrets provider can decrypt: the plan never decrypts, "
        f"but a real `pulumi preview` refuses the stack (validating stack config: bad value) until "
        f"`pulumi config set --secret {key}`"
        for key in stack_config.undecryptable
    ]


def _settings(stack_config: StackConfig) -> StackSettings:
    """The stack's effective settings, as the program parsed them (for settings.json and the
    summary's exposure and clamps)."""
    raw, secrets, foreign = decode_config(stack_config.config, frozenset(stack_config.secret_keys))
    return parse_settings(raw, stack=stack_config.stack, secret_keys=secrets, foreign_keys=foreign)


def _preview_run(plan: _Plan) -> ProgramRun:
    """The program again as a first ``pulumi preview`` sees it (computed outputs unknown)."""
    c = plan.stack_config
    return run_program(plan.project_dir, plan.args.stack, c.config, c.secret_keys, preview=True)


def _unknown_at_preview(pack_dir: Path, pack_config: dict[str, object], preview: Analysis) -> list[Violation]:
    """The mandatory policies the pack could not evaluate on the preview-like run (the pack is
    asked again only about resources whose inputs differ from the first run's)."""
    levels = policy_levels(pack_dir, pack_config)
    skipped = preview.result()
    found = {
        Violation(policy=v.policy, level="mandatory", urn=v.urn, message="")
        for v in skipped
        if v.message.startswith(CANT_RUN) and levels.get(v.policy) == "mandatory"
    }
    return sorted(found)


_CLI = False
"""True in ``make plan``'s own process, which may keep everything to the end (not in tests' plans)."""

if __name__ == "__main__":
    _CLI = True
    tune_gc()
    sys.exit(main())
