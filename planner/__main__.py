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
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from components.core.cold_start import startup_report
from components.core.settings import StackSettings, decode_config, effective_settings, parse_settings
from planner.diff import diff_plans, diff_text
from planner.engine import run_program
from planner.policy_host import CANT_RUN, PolicyHostError, Violation, analyze_all, policy_levels
from planner.render import write_plan
from planner.stack_config import StackConfig, StackConfigError, load_stack_config
from planner.summary import summarize

EXIT_OK, EXIT_MANDATORY, EXIT_CONFIG, EXIT_PACK = 0, 1, 2, 3


def main(argv: list[str] | None = None) -> int:
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
    args = parser.parse_args(argv)
    project_dir: Path = args.project_dir.resolve()
    out_dir: Path = (args.out or project_dir / "build" / args.stack).resolve()
    started = time.monotonic()

    from components.core.settings import SettingsError

    try:
        stack_config = load_stack_config(project_dir, args.stack)
        run = run_program(project_dir, args.stack, stack_config.config, stack_config.secret_keys)
    except (StackConfigError, SettingsError) as exc:
        # Nothing half-built is written; the previous plan (if any) stays as it was, to compare with.
        print(str(exc), file=sys.stderr)
        if (out_dir / "plan.json").exists():
            print(f"(the previous plan in {out_dir} is unchanged)", file=sys.stderr)
        return EXIT_CONFIG
    settings = _settings(stack_config)

    # What `pulumi preview --policy-pack <pack> --policy-pack-config <file>` would be given.
    pack_dir = project_dir / args.policy_pack
    pack_config_file = args.policy_pack_config or args.policy_pack / f"{stack_config.environment}.json"

    # Write into a scratch dir and swap, so build/<stack> is either the old or the new plan.
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{args.stack}-", dir=out_dir.parent))
    try:
        counts = write_plan(scratch, args.stack, run.registrations, run.outputs)
        (scratch / "settings.json").write_text(
            json.dumps(effective_settings(settings), indent=2, sort_keys=True) + "\n"
        )
        (scratch / "startup.json").write_text(json.dumps(startup_report(settings), indent=2, sort_keys=True) + "\n")
        violations: list[Violation] = []
        unknown_at_preview: list[Violation] = []
        if not args.no_policies:
            pack_config = json.loads((project_dir / str(pack_config_file)).read_text())
            try:
                violations = analyze_all(pack_dir, pack_config, run.registrations)
                if not args.skip_preview_check:
                    unknown_at_preview = _unknown_at_preview(
                        project_dir, args.stack, stack_config, pack_dir, pack_config
                    )
            except PolicyHostError as exc:
                print(f"The policy pack could not run: {exc}", file=sys.stderr)
                return EXIT_PACK
        report = {
            "stack": args.stack,
            "policyPack": str(args.policy_pack),
            "policyConfig": str(pack_config_file),
            "violations": [v.as_dict() for v in violations],
            # Mandatory policies `pulumi preview` cannot evaluate on a new stack (they read values
            # known only after apply): passing preview does not mean these passed.
            "unknownAtPreview": [{"policy": v.policy, "urn": v.urn} for v in unknown_at_preview],
        }
        (scratch / "policy-report.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
        # The summary without the run's own noise (timing, the diff against the previous plan):
        # what `make snapshot` keeps under tests/snapshots/ for reviewers.
        (scratch / "summary.txt").write_text(
            summarize(
                args.stack,
                run,
                counts,
                violations,
                unknown_at_preview,
                Path("build") / args.stack,
                settings=settings,
                config_warnings=_config_warnings(stack_config),
            )
            + "\n"
        )
        changes = diff_plans(out_dir, scratch)
        if changes.previous:
            (scratch / "diff.txt").write_text(diff_text(changes))
        shutil.rmtree(out_dir, ignore_errors=True)
        scratch.rename(out_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print(
        summarize(
            args.stack,
            run,
            counts,
            violations,
            unknown_at_preview,
            out_dir.relative_to(project_dir) if out_dir.is_relative_to(project_dir) else out_dir,
            settings=settings,
            changes=changes,
            config_warnings=_config_warnings(stack_config),
        )
    )
    print(f"(planned in {time.monotonic() - started:.1f}s)")
    return EXIT_MANDATORY if any(v.level == "mandatory" for v in violations) else EXIT_OK


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


def _unknown_at_preview(
    project_dir: Path, stack: str, stack_config: StackConfig, pack_dir: Path, pack_config: dict[str, object]
) -> list[Violation]:
    """Run the program again as a first ``pulumi preview`` sees it (computed outputs unknown) and
    keep the mandatory policies the pack could not evaluate there."""
    preview = run_program(project_dir, stack, stack_config.config, stack_config.secret_keys, preview=True)
    levels = policy_levels(pack_dir, pack_config)
    skipped = analyze_all(pack_dir, pack_config, preview.registrations)
    found = {
        Violation(policy=v.policy, level="mandatory", urn=v.urn, message="")
        for v in skipped
        if v.message.startswith(CANT_RUN) and levels.get(v.policy) == "mandatory"
    }
    return sorted(found)


if __name__ == "__main__":
    sys.exit(main())
