"""Incremental book builds: how long `make book` takes from scratch, with nothing changed, and
after touching one helper module. Target: nothing changed -> 10 s or less; touching a helper
re-runs exactly the chapters that import it, transitively (reliable_ml.course.build_cache).

Each build is what `python -m reliable_ml book` does (execute the notebooks whose cache key
changed, stage, build the HTML unless the staged site is unchanged), run as a fresh Python
process so interpreter start-up and imports are counted, into a temporary folder (or --out;
the project's `_build/` and committed results are left alone). "Touch a helper" appends a
comment to `src/reliable_ml/<helper>.py` (restored afterwards), which changes its hash like an edit.

    python benchmarks/book_cache.py [--profile smoke|cpu] [--helper labels.humans] [--out DIR]
                                    [--seed-from _build/executed/cpu]

writes results/bench/book_cache.json. ``--seed-from`` starts from the executed notebooks (and
their cache keys) of an earlier ``make book`` at the same commit, e.g. the one CI just ran, instead
of executing every chapter again: the first build then only stages and builds the HTML, and the
full build's time is not measured (``full_build_s`` is null; take it from that ``make book``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def one_build(out: Path, profile: str) -> dict:
    """The book command's steps, into ``out``; returns what was executed and how."""
    from reliable_ml.course import book, runner

    outcomes = runner.run(None, profile, out_dir=out / "executed", progress=False, cache=True)
    failed = [str(o.error) for o in outcomes if o.error]
    if failed:
        raise SystemExit("notebooks failed: " + "; ".join(failed))
    site = book.stage(out / "executed", out / "site", results_dir=ROOT / "results", repo_url="")
    t0 = time.perf_counter()
    book.build(site, out, strict=True, reuse=True)
    return {
        "executed": [o.notebook for o in outcomes if not o.cached],
        "reused": [o.notebook for o in outcomes if o.cached],
        "html_s": time.perf_counter() - t0,
    }


def timed_build(out: Path, profile: str) -> tuple[float, dict]:
    path = os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "RELIABLE_ML_RESULTS": str(out / "results"), "PYTHONPATH": path}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--step", str(out), "--profile", profile], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds, json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="smoke", choices=("smoke", "cpu", "gpu"))
    parser.add_argument("--helper", default="labels.humans", help="the helper module to touch (under src/reliable_ml)")
    parser.add_argument("--out", type=Path, default=None, help="build folder to use and keep (default: temporary)")
    parser.add_argument(
        "--seed-from",
        type=Path,
        default=None,
        help="executed notebooks (NN_*.ipynb + .key.json) of an earlier build at this commit to start from",
    )
    parser.add_argument("--step", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(one_build(args.step, args.profile)))
        return

    from reliable_ml.course import build_cache, runner
    from reliable_ml.course.results import git_commit

    helper = build_cache.PACKAGE_DIR / (args.helper.replace(".", "/") + ".py")
    if not helper.exists():
        raise SystemExit(f"--helper {args.helper!r}: no module {helper} in the package")
    module = "reliable_ml." + args.helper
    users = [src.stem for src in runner.discover() if module in build_cache.chapter_modules(src)]
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="book-cache-") as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        if args.seed_from is not None:
            keys = sorted(Path(args.seed_from).glob("*.key.json"))
            if not keys:
                raise SystemExit(
                    f"--seed-from {args.seed_from}: no executed notebooks with cache keys (*.key.json) there"
                )
            shutil.copytree(args.seed_from, out / "executed", dirs_exist_ok=True)
        full_s, full = timed_build(out, args.profile)
        if args.seed_from is not None and full["executed"]:
            raise SystemExit(
                f"--seed-from: the seeded build still executed {full['executed']}: not this commit's build"
            )
        unchanged_s, unchanged = timed_build(out, args.profile)
        original = helper.read_bytes()
        try:
            helper.write_bytes(original + b"\n# touched by benchmarks/book_cache.py\n")
            touched_s, touched = timed_build(out, args.profile)
        finally:
            helper.write_bytes(original)
    record = {
        "profile": args.profile,
        "device": "cpu",
        "commit": git_commit(),
        "load_average_1min_at_start": round(load, 1),
        "data_root": "set" if os.environ.get("RELIABLE_ML_DATA") else "default (unset)",
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "notebooks": len(full["executed"]) + len(full["reused"]),
        "seeded_from": None
        if args.seed_from is None
        else "an earlier make book at this commit (its executed notebooks)",
        "full_build_s": None if args.seed_from is not None else round(full_s, 1),
        "first_build_s": round(full_s, 1),
        "full_build_html_s": round(full["html_s"], 1),
        "unchanged_rebuild_s": round(unchanged_s, 1),
        "unchanged_executed": unchanged["executed"],
        "touched_helper": f"src/reliable_ml/{args.helper.replace('.', '/')}.py",
        "touched_helper_users": users,
        "touched_helper_rebuild_s": round(touched_s, 1),
        "touched_helper_executed": touched["executed"],
        "touched_helper_reused": touched["reused"],
        "target_unchanged_s": 10,
        "note": "each build is a fresh Python process (start-up and imports counted); timings on a "
        "shared machine are inflated by other load",
    }
    assert unchanged["executed"] == [], f"nothing changed, yet executed {unchanged['executed']}"
    assert touched["executed"] == users, f"expected {users} to run again, ran {touched['executed']}"
    dest = ROOT / "results" / "bench" / "book_cache.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
