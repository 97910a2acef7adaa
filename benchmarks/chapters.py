"""Every chapter's cost: cold (empty model cache) and warm, on 1 and 2 torch threads.

For each thread count the chapters run one after another, in book order, as a reader of a fresh
clone runs them: each is a fresh ``python -m reliable_ml run`` process with its own empty model
cache and results folder (temporary; the project's ``results/`` and ``~/.cache`` are left alone),
so chapter 04 pays for the shared robust model and the chapters after it (07, 10, 11) load it.
That pass is "cold"; the same chapters run again over the filled cache are "warm". The seconds
are wall-clock seconds of the whole process (start-up, imports and the notebook); the longest
section comes from the ``timings`` each chapter records in its results.

    python benchmarks/chapters.py [--profile cpu] [--threads 1 2] [--chapters 01 04 ...]
    python benchmarks/chapters.py --warm-from ~/.cache/reliable_ml   # warm passes only, over a filled cache
    python benchmarks/chapters.py --cold-book [--cap-minutes 150]   # make book JOBS=2 from an empty cache
    python benchmarks/chapters.py --cold-book --no-data              # the same with no data, no network
    python benchmarks/chapters.py --table     # the README table, from results/bench/chapters.json
    python benchmarks/chapters.py --check     # which targets (TARGETS) the measurement meets

writes ``results/bench/chapters.json`` with the commit, the core count and the load average.
The targets are issue 33's, for 2 cores: they are checked here, never in the timed tests.

``--warm-from CACHE`` skips the cold passes (hours on 2 cores: the chapters train every model of
the course from scratch) and times warm passes over an already filled model cache, used in place
(a warm run reads it and adds only what is missing); the record then says the cold passes were not
measured, and why, instead of leaving them out silently.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
DEST = ROOT / "results" / "bench" / "chapters.json"
BOOK_CACHE = ROOT / "results" / "bench" / "book_cache.json"
#: The whole-book measurements a record may hold (:func:`cold_book`), kept when the passes are re-measured.
BOOKS = ("cold_book", "nodata_book", "warm_book")

#: Seconds, on 2 cores with ``make book JOBS=2`` from a fresh clone (issue 33, "Targets").
TARGETS = {
    "cold_data_book_s": 15 * 60,
    "warm_full_reexecution_s": 6 * 60,
    "unchanged_rebuild_s": 10,
    "nodata_book_s": 3 * 60,
    "chapter_cold_s": 5 * 60,  # every chapter but the one that first trains a shared model
}
#: The chapter that first trains the course's shared robust model: exempt from ``chapter_cold_s``.
SHARED_MODEL_CHAPTER = "04"


def run_chapter(stem: str, profile: str, threads: int, cache: Path, results: Path) -> dict:
    """Run one chapter in a fresh process; return its wall seconds and what its results record."""
    from reliable_ml.course import runner

    src = runner.discover([stem])[0]
    args = [sys.executable, "-m", "reliable_ml", "run", "--profile", profile, "--no-progress", src.stem]
    if "torch_threads" in runner.parameters_of(runner.read_notebook(src)):
        args[4:4] = ["-p", "torch_threads", str(threads)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p),
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "RELIABLE_ML_CACHE": str(cache),
        "RELIABLE_ML_RESULTS": str(results),
    }
    t0 = time.perf_counter()
    proc = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        raise SystemExit(f"chapter {src.stem} failed ({threads} threads):\n{tail}")
    record = json.loads((results / profile / f"{src.stem}.json").read_text())
    timings = record.get("timings") or {}
    longest = max(timings, key=timings.get) if timings else None
    return {
        "stem": src.stem,
        "wall_s": round(seconds, 1),
        "notebook_s": record.get("wall_seconds"),
        "longest_section": longest,
        "longest_section_s": round(timings[longest], 1) if longest else None,
    }


def measure(stems: list[str], profile: str, threads: list[int], warm_from: Path | None = None) -> dict:
    """Cold then warm passes over ``stems`` for each thread count, each from an empty cache; with
    ``warm_from``, one warm pass per thread count over that filled cache (``cold`` is ``None``)."""
    runs: dict[str, dict] = {}
    if warm_from is not None:
        for n in threads:
            with tempfile.TemporaryDirectory(prefix="bench-chapters-") as tmp:
                rows = []
                for stem in stems:
                    print(f"[{n} thread(s), warm over {warm_from}] {stem} ...", flush=True)
                    rows.append(run_chapter(stem, profile, n, warm_from, Path(tmp) / "results"))
                    print(f"    {rows[-1]['wall_s']} s", flush=True)
                runs[f"{n}_threads"] = {"cold": None, "warm": rows}
        return runs
    for n in threads:
        with tempfile.TemporaryDirectory(prefix="bench-chapters-") as tmp:
            cache, results = Path(tmp) / "cache", Path(tmp) / "results"
            passes = {}
            for label in ("cold", "warm"):
                rows = []
                for stem in stems:
                    print(f"[{n} thread(s), {label}] {stem} ...", flush=True)
                    rows.append(run_chapter(stem, profile, n, cache, results))
                    print(f"    {rows[-1]['wall_s']} s", flush=True)
                passes[label] = rows
            runs[f"{n}_threads"] = passes
    return runs


REPORT = re.compile(r"^\s+(?P<stem>\d\d_\w+): (?P<status>ok|FAILED) in (?P<seconds>[0-9.]+) s\b")


def parse_report(line: str) -> dict | None:
    """One chapter's line of the runner's report (``    04_x: ok in 71.0 s -> path``) as
    ``{stem, ok, seconds}``; ``None`` for any other line."""
    m = REPORT.match(line)
    if not m:
        return None
    return {"stem": m["stem"], "ok": m["status"] == "ok", "seconds": float(m["seconds"])}


def cold_book(
    profile: str, jobs: int, cap_s: float, out: Path, no_data: bool = False, warm_cache: Path | None = None
) -> dict:
    """``make book JOBS=jobs`` as a fresh clone runs it (``python -m reliable_ml book``), from an empty
    model cache, results folder and build folder (temporary, like CI's no-data book), with this
    checkout's data root: wall seconds of the whole build and of each chapter (as the runner reports
    it, in the order chapters finished, with the seconds since the start at which each finished).
    Stopped at ``cap_s``: the chapters that had not finished are listed, so a cap is a lower bound,
    never a silent gap. ``out`` gets the record after every chapter (a long run keeps what it
    measured if it is stopped). With ``no_data`` the data root is an empty folder and downloads go
    to a closed local port, as in CI's no-data book; the record is then ``nodata_book``. With
    ``warm_cache`` the build uses that filled model cache instead (in place: it reads it and adds
    only what is missing), every chapter still executed: the warm full re-execution, ``warm_book``."""
    if no_data and warm_cache is not None:
        raise ValueError("a no-data book starts from an empty cache: pass no_data or warm_cache, not both")
    from reliable_ml.data.root import data_root

    root = None if no_data else data_root()  # before RELIABLE_ML_CACHE is pointed at a temporary folder
    if root is not None and not (root.is_dir() and any(root.iterdir())):
        raise SystemExit(
            f"the data root {root} is empty or missing: set RELIABLE_ML_DATA to the data (e.g. ../shared/data), "
            "or pass --no-data for the book without data"
        )
    key = "nodata_book" if no_data else "warm_book" if warm_cache is not None else "cold_book"
    record = {
        "profile": profile,
        "data": "none (empty data root, no network)" if no_data else str(root),
        "cpu_count": os.cpu_count(),
        "command": f"python -m reliable_ml book --profile {profile} --jobs {jobs} "
        + ("(filled model cache; empty results and _build)" if warm_cache else "(empty cache, results and _build)"),
        "jobs": jobs,
        "cap_s": cap_s,
        "commit": None,
        "load_average_1min_at_start": round(os.getloadavg()[0], 1),
        "chapters": [],
        "finished": False,
    }
    from reliable_ml.course import runner
    from reliable_ml.course.results import git_commit

    record["commit"] = git_commit()
    stems = [src.stem for src in runner.discover(None)]
    with tempfile.TemporaryDirectory(prefix="bench-cold-book-") as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p),
            "RELIABLE_ML_CACHE": str(warm_cache) if warm_cache is not None else f"{tmp}/cache",
            "RELIABLE_ML_RESULTS": f"{tmp}/results",
            "RELIABLE_ML_ANNOTATIONS": f"{tmp}/annotations",
            "RELIABLE_ML_BUILD_ROOT": tmp,
            "MPLBACKEND": "Agg",
        }
        if root is not None:
            env["RELIABLE_ML_DATA"] = str(root)
        if no_data:
            os.makedirs(f"{tmp}/data")
            closed = "http://127.0.0.1:9"
            env.update({"RELIABLE_ML_DATA": f"{tmp}/data", "no_proxy": "", "NO_PROXY": ""})
            env.update({k: closed for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")})
        args = [sys.executable, "-m", "reliable_ml", "book", "--profile", profile, "--jobs", str(jobs)]
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        capped = threading.Event()

        def stop_at_cap() -> None:
            capped.set()
            os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(cap_s, stop_at_cap)
        timer.start()
        try:
            for line in proc.stdout:
                row = parse_report(line)
                if row is None:
                    continue
                row["done_at_s"] = round(time.perf_counter() - t0, 1)
                record["chapters"].append(row)
                print(f"[cold book] {row['stem']}: {row['seconds']} s (at {row['done_at_s']} s)", flush=True)
                _merge(out, key, record)
            rc = proc.wait()
        finally:
            timer.cancel()
        record["wall_s"] = round(time.perf_counter() - t0, 1)
        for row in record["chapters"]:  # where each chapter's time went, before the folder goes
            results_file = Path(tmp) / "results" / profile / f"{row['stem']}.json"
            row["longest_sections"] = longest_sections(results_file)
            row["data_source"] = data_source(results_file)
    done = {row["stem"] for row in record["chapters"]}
    record["unfinished"] = [stem for stem in stems if stem not in done]
    record["stopped_at_cap"] = capped.is_set()
    record["failed"] = [row["stem"] for row in record["chapters"] if not row["ok"]]
    record["finished"] = rc == 0 and not record["unfinished"]
    record["exit_code"] = rc
    record["load_average_1min_at_end"] = round(os.getloadavg()[0], 1)
    _merge(out, key, record)
    return record


def longest_sections(results_file: Path, n: int = 3) -> dict[str, float]:
    """The ``n`` longest sections (``timings``) a chapter's results file records, ``{}`` if none."""
    try:
        timings = json.loads(results_file.read_text()).get("timings") or {}
    except (OSError, ValueError, AttributeError):
        return {}
    top = sorted(timings.items(), key=lambda kv: -kv[1])[:n]
    return {name: round(float(seconds), 1) for name, seconds in top}


def data_source(results_file: Path) -> dict | None:
    """What data a chapter's run read (its results file's ``data_source``), ``None`` if not recorded."""
    try:
        source = json.loads(results_file.read_text()).get("data_source")
    except (OSError, ValueError, AttributeError):
        return None
    return source if isinstance(source, dict) else None


def comparable(book: dict, record: dict) -> str | None:
    """Why a whole-book measurement cannot be judged against issue 33's targets (cpu profile,
    ``make book JOBS=2`` on 2 cores), or ``None`` when it can. A field the book did not store is
    read from the record it sits in (the same machine's per-chapter measurement)."""
    profile = book.get("profile", record.get("profile"))
    cores = book.get("cpu_count", record.get("cpu_count"))
    problems = [
        f"profile {profile}" if profile != "cpu" else "",
        f"JOBS={book.get('jobs')}" if book.get("jobs") != 2 else "",
        f"{cores} cores" if cores != 2 else "",
    ]
    problems = [p for p in problems if p]
    return f"not comparable with the targets (cpu, JOBS=2, 2 cores): {', '.join(problems)}" if problems else None


def _minutes(seconds: float) -> str:
    """``seconds`` as ``"3 min 18 s"`` (``"45 s"`` under a minute, ``"15 min"`` on the minute)."""
    whole = round(seconds)
    m, s = divmod(whole, 60)
    return f"{s} s" if not m else f"{m} min" if not s else f"{m} min {s} s"


def targets_text(record: dict, book_cache: dict) -> str:
    """Where issue 33's targets stand, one Markdown bullet each, every figure read from the
    records (``record``: this benchmark's; ``book_cache``: ``benchmarks/book_cache.py``'s)."""
    t = record["targets"]

    def book_line(key: str, label: str, target: float) -> str:
        book = record.get(key)
        if book is None:
            return f"- {label}: not measured"
        commit = book.get("commit")
        if book.get("wall_s") is None:
            return f"- {label}: running or interrupted, no whole-book time (commit {commit})"
        head = f"- {label}: {_minutes(book['wall_s'])} against {_minutes(target)}"
        why = comparable(book, record)
        if why:
            return f"{head}, {why} (commit {commit})"
        if not book.get("finished"):
            failed = book.get("failed") or [r["stem"] for r in book.get("chapters", []) if not r.get("ok", True)]
            undone = ", ".join(book.get("unfinished", [])) or "none"
            if book.get("stopped_at_cap"):
                why = f"stopped at the cap, not finished: {undone}"
            elif failed:
                why = f"chapters failed: {', '.join(failed)}"
            else:
                why = f"the build failed (exit {book.get('exit_code')}; not finished: {undone})"
            return f"{head}, **missed** ({why}; commit {commit})"
        verdict = "met" if book["wall_s"] <= target else "**missed**"
        return f"{head}, {verdict} (commit {commit})"

    lines = [
        book_line("warm_book", "warm full re-execution (filled model cache)", t["warm_full_reexecution_s"]),
    ]
    if book_cache.get("unchanged_rebuild_s") is not None:
        s = book_cache["unchanged_rebuild_s"]
        verdict = "met" if s <= t["unchanged_rebuild_s"] else "**missed**"
        target, commit = t["unchanged_rebuild_s"], book_cache["commit"]
        lines.append(f"- unchanged rebuild: {s} s against {target} s, {verdict} (commit {commit})")
        users, ran = book_cache.get("touched_helper_users", []), book_cache.get("touched_helper_executed", [])
        verdict = "met" if users and sorted(users) == sorted(ran) else "**missed**"
        lines.append(
            f"- a one-helper change (`{book_cache['touched_helper']}`) re-ran {', '.join(ran) or 'nothing'}; "
            f"its users: {', '.join(users) or 'none'}: {verdict}"
        )
    lines.append(book_line("nodata_book", "no-data book", t["nodata_book_s"]))
    lines.append(book_line("cold_book", "cold data book", t["cold_data_book_s"]))
    if "cold_book" in record and record["cold_book"].get("wall_s") is not None:
        c = check_cold_book(record["cold_book"], t)
        over = ", ".join(c["cold_book_chapters_over"]) or "none"
        unfinished = bool(c["cold_book_unfinished"])
        why = comparable(record["cold_book"], record)
        verdict = why or ("**missed**" if c["cold_book_chapters_over"] or unfinished else "met")
        lines.append(
            f"- no chapter over {_minutes(t['chapter_cold_s'])} cold but {SHARED_MODEL_CHAPTER} (JOBS=2, in the cold "
            f"book): over it: {over}" + (", and the chapters not finished" if unfinished else "") + f"; {verdict}"
        )
    return "\n".join(lines)


def _merge(out: Path, key: str, value: dict) -> None:
    """Write ``value`` under ``key`` of the JSON record at ``out``, keeping its other keys."""
    record = json.loads(out.read_text()) if out.exists() else {}
    record[key] = value
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.part")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(tmp, out)


def check(record: dict) -> dict[str, bool]:
    """Which per-chapter targets the measurement meets (2 threads; book-level targets need the book).

    ``chapter_cold_s``: every chapter's cold wall time on 2 threads is within the target, except
    :data:`SHARED_MODEL_CHAPTER`, whose cost is written down instead.
    """
    if "2_threads" not in record.get("runs", {}):
        raise SystemExit("the record has no 2-thread pass; run `python benchmarks/chapters.py --threads 2` first")
    cold = record["runs"]["2_threads"]["cold"]
    limit = record["targets"]["chapter_cold_s"]
    if cold is None:
        reason = record.get("cold_not_measured") or "run with --threads 2 and without --warm-from"
        out = {"chapter_cold_s": None, "chapters_over": None, "why": f"no 2-thread cold pass: {reason}"}
    else:
        over = [r["stem"] for r in cold if r["wall_s"] > limit and not r["stem"].startswith(SHARED_MODEL_CHAPTER)]
        out = {"chapter_cold_s": not over, "chapters_over": over}
    if "cold_book" in record:
        why = comparable(record["cold_book"], record)
        if why or record["cold_book"].get("wall_s") is None:
            out.update({"cold_data_book_s": None, "cold_book_why": why or "running or interrupted"})
        else:
            out.update(check_cold_book(record["cold_book"], record["targets"]))
    if "nodata_book" in record:
        book = record["nodata_book"]
        why = comparable(book, record)
        wall = book.get("wall_s")
        met = bool(book.get("finished")) and wall is not None and wall <= record["targets"]["nodata_book_s"]
        out["nodata_book_s"] = None if why else met
        out["nodata_book_wall_s"] = wall
        if why:
            out["nodata_book_why"] = why
    return out


def check_cold_book(book: dict, targets: dict) -> dict:
    """The targets a cold book (:func:`cold_book`) measures: ``cold_data_book_s`` (the whole build,
    ``False`` when it did not finish: then its wall time is a lower bound) and, under
    ``make book JOBS=2``, every chapter's cold seconds within ``chapter_cold_s`` but
    :data:`SHARED_MODEL_CHAPTER`'s (an unfinished chapter counts as over only if the cap exceeded
    the target, which it always does in practice, so it is listed apart)."""
    limit = targets["chapter_cold_s"]
    over = [
        r["stem"] for r in book["chapters"] if r["seconds"] > limit and not r["stem"].startswith(SHARED_MODEL_CHAPTER)
    ]
    return {
        "cold_data_book_s": bool(book["finished"]) and book["wall_s"] <= targets["cold_data_book_s"],
        "cold_book_wall_s": book.get("wall_s"),
        "cold_book_finished": bool(book["finished"]),
        "cold_book_chapters_over": over,
        "cold_book_unfinished": book.get("unfinished", []),
    }


def cold_book_table(book: dict) -> str:
    """A Markdown table of a cold book: each chapter's cold seconds and when it finished."""
    lines = ["| chapter | cold, JOBS=2 | finished at |", "|---|---|---|"]
    for r in sorted(book["chapters"], key=lambda r: r["stem"]):
        status = "" if r["ok"] else " (FAILED)"
        lines.append(f"| {r['stem']} | {r['seconds']:.0f} s{status} | {r['done_at_s'] / 60:.1f} min |")
    for stem in book.get("unfinished", []):
        lines.append(f"| {stem} | not finished at the cap | |")
    whole = f"{book['wall_s'] / 60:.1f} min" if book.get("wall_s") is not None else "running"
    if not book.get("finished"):
        whole = f"> {whole} (stopped)" if book.get("wall_s") is not None else whole
    lines.append(f"| **whole build** | **{whole}** | |")
    return "\n".join(lines)


def table(record: dict) -> str:
    """A Markdown table: one row per chapter, cold and warm seconds per thread count."""
    counts = sorted(record["runs"], key=lambda k: int(k.split("_")[0]))
    head = ["chapter"] + [f"{label} ({k.replace('_', ' ')})" for k in counts for label in ("cold", "warm")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    stems = [r["stem"] for r in record["runs"][counts[0]]["warm"]]

    def cell(k: str, label: str, i: int | None) -> str:
        rows = record["runs"][k][label]
        if rows is None:
            return "not measured"
        seconds = sum(r["wall_s"] for r in rows) if i is None else rows[i]["wall_s"]
        return f"{seconds:.0f} s"

    for i, stem in enumerate(stems):
        cells = [stem] + [cell(k, label, i) for k in counts for label in ("cold", "warm")]
        lines.append("| " + " | ".join(cells) + " |")
    totals = ["**all**"] + [f"**{cell(k, label, None)}**" for k in counts for label in ("cold", "warm")]
    lines.append("| " + " | ".join(totals) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu", choices=("smoke", "cpu", "gpu"))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--chapters", nargs="*", default=None, help="stems or prefixes; default: every chapter")
    parser.add_argument("--out", type=Path, default=DEST, help=f"where to write (default {DEST.relative_to(ROOT)})")
    parser.add_argument(
        "--warm-from",
        type=Path,
        default=None,
        help="a filled model cache: time warm passes over it only (the cold passes are not measured)",
    )
    parser.add_argument(
        "--cold-book",
        action="store_true",
        help="time `make book JOBS=2` from an empty cache instead (the cold data book target); writes cold_book",
    )
    parser.add_argument("--no-data", action="store_true", help="--cold-book with no data and no network")
    parser.add_argument(
        "--warm-book", type=Path, default=None, metavar="CACHE", help="--cold-book over this filled model cache"
    )
    parser.add_argument("--jobs", type=int, default=2, help="chapters side by side for --cold-book (default 2)")
    parser.add_argument("--cap-minutes", type=float, default=150.0, help="stop --cold-book after this long")
    parser.add_argument("--table", action="store_true", help="print the README table of the last measurement")
    parser.add_argument("--check", action="store_true", help="print which targets the last measurement meets")
    args = parser.parse_args()
    if args.table or args.check:
        if not args.out.exists():
            raise SystemExit(f"{args.out} does not exist yet: run `python benchmarks/chapters.py` first")
        record = json.loads(args.out.read_text())
        if "runs" not in record or "targets" not in record:
            raise SystemExit(
                f"{args.out} holds no per-chapter passes (only {', '.join(sorted(record)) or 'nothing'}): "
                "run `python benchmarks/chapters.py --warm-from CACHE` (or the cold passes) first"
            )
        if args.table:
            print(table(record))
            if "cold_book" in record:
                print("\n" + cold_book_table(record["cold_book"]))
            print("\n" + targets_text(record, json.loads(BOOK_CACHE.read_text()) if BOOK_CACHE.exists() else {}))
        else:
            print(json.dumps(check(record), indent=1))
        return
    if args.no_data and args.warm_book is not None:
        raise SystemExit("--no-data starts from an empty model cache; it cannot be combined with --warm-book")
    args.cold_book = args.cold_book or args.no_data  # the no-data book is a whole-book measurement
    if args.warm_book is not None and not args.warm_book.is_dir():
        raise SystemExit(f"--warm-book must be a filled model cache folder; {args.warm_book} is not a folder")
    if args.cold_book or args.warm_book is not None:
        if args.jobs < 1 or args.cap_minutes <= 0:
            raise SystemExit(f"--jobs must be >= 1 and --cap-minutes > 0; got {args.jobs} and {args.cap_minutes}")
        book = cold_book(args.profile, args.jobs, 60 * args.cap_minutes, args.out, args.no_data, args.warm_book)
        print(json.dumps(book, indent=1))
        return
    if any(n < 1 for n in args.threads):
        raise SystemExit(f"--threads must be whole numbers >= 1; got {args.threads}")
    if args.warm_from is not None and not args.warm_from.is_dir():
        raise SystemExit(f"--warm-from must be a filled model cache folder; {args.warm_from} is not a folder")

    from reliable_ml.course import runner
    from reliable_ml.course.results import git_commit

    stems = [src.stem for src in runner.discover(args.chapters)]
    load = os.getloadavg()[0]
    record = {
        "profile": args.profile,
        "device": "cpu",
        "commit": git_commit(),
        "cpu_count": os.cpu_count(),
        "load_average_1min_at_start": round(load, 1),
        "data_root": "set" if os.environ.get("RELIABLE_ML_DATA") else "default (unset)",
        "python": platform.python_version(),
        "targets": TARGETS,
        "runs": measure(stems, args.profile, args.threads, args.warm_from),
        "load_average_1min_at_end": round(os.getloadavg()[0], 1),
    }
    if args.warm_from is not None:
        record["cold_not_measured"] = (
            "warm passes only (--warm-from): a cold pass trains every model of the course from an empty cache, "
            "hours on 2 cores; see the chapters' compute notes and results files for the cold cost of each model"
        )
    if args.out.exists():  # a cold book measured before is kept (its own commit says when)
        previous = json.loads(args.out.read_text())
        for key in BOOKS:
            if previous.get(key) is not None:
                record[key] = previous[key]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(table(record))


if __name__ == "__main__":
    main()
