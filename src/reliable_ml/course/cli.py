"""Command line: ``python -m reliable_ml run|book|readable|scorecard|check-prose ...``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from reliable_ml.settings import PROFILES

JOBS_HELP = "notebooks executed side by side (each in its own kernel; default 1)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reliable_ml", description="Run the course notebooks and build the book."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute notebooks with papermill")
    run.add_argument(
        "notebooks", nargs="*", metavar="NOTEBOOK", help="stems, prefixes (e.g. 01) or paths; default: all notebooks"
    )
    run.add_argument("--profile", default="cpu", choices=PROFILES)
    run.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("KEY", "VALUE"),
        help="override a value of the parameters cell",
    )
    run.add_argument("--out", type=Path, default=None, help="folder for executed notebooks")
    run.add_argument("--no-progress", action="store_true", help="hide the per-cell progress bar")
    run.add_argument("--jobs", type=int, default=1, help=JOBS_HELP)

    book = sub.add_parser("book", help="execute every notebook, then build the HTML book")
    book.add_argument("--profile", default="cpu", choices=PROFILES)
    book.add_argument(
        "--skip-run", action="store_true", help="reuse the notebooks already executed in _build/executed/<profile>"
    )
    book.add_argument("--no-strict", action="store_true", help="do not turn Sphinx warnings into errors")
    book.add_argument("--jobs", type=int, default=1, help=JOBS_HELP)
    book.add_argument(
        "--allow-prose-findings",
        action="store_true",
        help="build even when check-prose finds sentences that contradict their numbers "
        "(they are still printed; for while chapters are being fixed)",
    )

    lab = sub.add_parser("readable", help="write the readable copies lab/NN_name.ipynb (prose with the run's numbers)")
    lab.add_argument("--profile", default="cpu", choices=PROFILES, help="the run whose numbers the text shows")
    lab.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when a copy differs from the chapters and results"
    )

    prose = sub.add_parser(
        "check-prose",
        help="find sentences that contradict their own numbers "
        "(readable copies and executed pages); exit 1 on a finding",
    )
    prose.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="notebooks or folders of NN_*.ipynb (default: lab/ and, when present, _build/executed/<profile>/)",
    )
    prose.add_argument(
        "--profile",
        default="cpu",
        choices=PROFILES,
        help="the executed pages to read by default, and the run an executed page belongs to",
    )

    card = sub.add_parser("scorecard", help="judge the published claims against the results files")
    card.add_argument(
        "--profile",
        default=None,
        choices=PROFILES,
        help="read only this profile's results (default: gpu where present, else cpu)",
    )
    card.add_argument("--json", action="store_true", help="print the rows as JSON (one object per claim)")
    card.add_argument(
        "--results",
        type=Path,
        default=None,
        help="results folder holding <profile>/*.json (default: the project's results/)",
    )
    return parser


def _scorecard(args: argparse.Namespace) -> int:
    from reliable_ml.course import scorecard
    from reliable_ml.course.results import load_all

    root = args.results
    if root is not None and not root.is_dir():
        print(f"error: --results {root} is not a folder (expected one holding <profile>/*.json)", file=sys.stderr)
        return 2
    table = scorecard.rows(load_all(root), args.profile)
    if args.json:
        print(json.dumps([{k: r[k] for k in scorecard.ROW_FIELDS} for r in table], indent=2, ensure_ascii=False))
        return 0
    for r in table:
        print(f"{r['status']:15s} {r['id']:28s} {r['profile'] or '-':5s} {r['ours']}")
    print(f"{len(table)} claims: " + ", ".join(f"{n} {s}" for s, n in scorecard.counts(table).items()))
    return 0


def _check_prose(args: argparse.Namespace) -> int:
    from reliable_ml.course import prose

    paths = args.paths or prose.default_paths(args.profile)
    try:
        findings = prose.check_paths(paths, args.profile)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    prose.report(findings)
    print(f"{len(findings)} prose finding(s) in {len(paths)} path(s)", file=sys.stderr)
    return 1 if findings else 0


def prose_gate(
    profile: str, executed: Path, allow: bool, lab: Path | None = None, results_dir: Path | None = None
) -> int:
    """What ``book`` does after the build: check the prose readers read (the executed pages, and
    the readable copies in ``lab`` when given) and return 1 on a finding, unless ``allow``
    (``--allow-prose-findings``), which prints them with a warning and returns 0."""
    from reliable_ml.course import prose

    findings = prose.book_findings(profile, executed, lab, results_dir)
    if not findings:
        return 0
    prose.report(findings, sys.stderr)
    if allow:
        print(
            f"warning: {len(findings)} sentence(s) contradict their numbers; built anyway (--allow-prose-findings)",
            file=sys.stderr,
        )
        return 0
    print(
        f"error: {len(findings)} sentence(s) contradict their numbers (python -m reliable_ml "
        "check-prose); fix the chapters, or build with --allow-prose-findings "
        "(make book ALLOW_PROSE_FINDINGS=1) while they are being fixed",
        file=sys.stderr,
    )
    return 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "scorecard":
        return _scorecard(args)
    if args.command == "check-prose":
        return _check_prose(args)
    if args.command == "readable":
        from reliable_ml.course import readable

        if args.check:
            stale = readable.out_of_sync(args.profile)
            for name in stale:
                print(f"out of date: lab/{name}", file=sys.stderr)
            if stale:
                print("run `python -m reliable_ml readable` and commit lab/", file=sys.stderr)
            return 1 if stale else 0
        for path in readable.write_all(args.profile):
            print(
                "wrote "
                + str(path.relative_to(readable.PROJECT_ROOT) if path.is_relative_to(readable.PROJECT_ROOT) else path)
            )
        return 0
    from reliable_ml.course import book as book_mod
    from reliable_ml.course import runner

    if args.command == "run":
        overrides = dict(args.parameter)
        try:
            outcomes = runner.run(
                args.notebooks, args.profile, overrides, args.out, not args.no_progress, jobs=args.jobs
            )
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        failed = [o for o in outcomes if o.error]
        total = sum(o.seconds for o in outcomes)
        print(f"{len(outcomes) - len(failed)}/{len(outcomes)} notebooks ran in {total:.1f} s")
        for o in failed:
            print(f"error: {o.error}", file=sys.stderr)
        return 1 if failed else 0

    executed = runner.BUILD_DIR / "executed" / args.profile
    if not args.skip_run:
        try:  # unchanged notebooks are reused
            outcomes = runner.run(None, args.profile, out_dir=executed, cache=True, jobs=args.jobs)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        failed = [o for o in outcomes if o.error]
        if failed:
            for o in failed:
                print(f"error: {o.error}", file=sys.stderr)
            print("error: the book is not built because notebooks failed", file=sys.stderr)
            return 1
    from reliable_ml.course import readable
    from reliable_ml.course.results import ENV_RESULTS

    lab = readable.LAB_DIR if args.profile == "cpu" and not os.environ.get(ENV_RESULTS) else None
    if lab is not None:  # lab/ quotes the committed cpu results
        for path in readable.write_all("cpu"):
            print(f"readable copy updated: lab/{path.name} (commit it with the results)")
    site = book_mod.stage(executed, runner.BUILD_DIR / "site")
    try:
        index = book_mod.build(site, runner.BUILD_DIR.parent, strict=not args.no_strict, reuse=True)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"book built: {index}")
    return prose_gate(args.profile, executed, args.allow_prose_findings, lab)


if __name__ == "__main__":
    sys.exit(main())
