"""benchmarks/chapters.py: its table and target check on crafted measurements."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[1] / "benchmarks" / "chapters.py"
SPEC = importlib.util.spec_from_file_location("bench_chapters", BENCH)
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)


def record(cold_2: dict[str, float], warm_2: dict[str, float] | None = None) -> dict:
    warm_2 = warm_2 or {k: 1.0 for k in cold_2}
    rows = lambda d: [{"stem": k, "wall_s": v} for k, v in d.items()]  # noqa: E731
    return {
        "profile": "cpu",
        "cpu_count": 2,
        "targets": bench.TARGETS,
        "runs": {
            "1_threads": {"cold": rows({k: 2 * v for k, v in cold_2.items()}), "warm": rows(warm_2)},
            "2_threads": {"cold": rows(cold_2), "warm": rows(warm_2)},
        },
    }


def test_check_exempts_only_the_shared_model_chapter():
    ok = record({"01_a": 100.0, "04_adversarial_training": 1500.0})
    assert bench.check(ok) == {"chapter_cold_s": True, "chapters_over": []}
    slow = record({"01_a": 301.0, "04_adversarial_training": 10.0, "07_b": 299.0})
    assert bench.check(slow) == {"chapter_cold_s": False, "chapters_over": ["01_a"]}


def test_check_needs_a_two_thread_pass():
    rec = record({"01_a": 1.0})
    del rec["runs"]["2_threads"]
    with pytest.raises(SystemExit, match="no 2-thread pass"):
        bench.check(rec)


def test_table_has_one_row_per_chapter_and_totals():
    text = bench.table(record({"01_a": 10.0, "02_b": 20.0}, {"01_a": 3.0, "02_b": 4.0}))
    lines = text.splitlines()
    assert lines[0] == "| chapter | cold (1 threads) | warm (1 threads) | cold (2 threads) | warm (2 threads) |"
    assert lines[2] == "| 01_a | 20 s | 3 s | 10 s | 3 s |"
    assert lines[-1] == "| **all** | **60 s** | **7 s** | **30 s** | **7 s** |"


def test_a_warm_only_record_says_cold_was_not_measured():
    rec = record({"01_a": 10.0, "02_b": 20.0}, {"01_a": 3.0, "02_b": 4.0})
    for passes in rec["runs"].values():
        passes["cold"] = None
    rec["cold_not_measured"] = "warm passes only"
    lines = bench.table(rec).splitlines()
    assert lines[2] == "| 01_a | not measured | 3 s | not measured | 3 s |"
    assert lines[-1] == "| **all** | **not measured** | **7 s** | **not measured** | **7 s** |"
    verdict = bench.check(rec)
    assert verdict["chapter_cold_s"] is None and "warm passes only" in verdict["why"]


def test_the_readme_table_is_the_last_measurement():
    import json

    root = Path(__file__).parents[1]
    record = json.loads((root / "results" / "bench" / "chapters.json").read_text())
    readme = (root / "README.md").read_text()
    start, end = "<!-- chapters-table:start -->\n", "\n<!-- chapters-table:end -->"
    assert start in readme and end in readme, "README.md lost its chapter-cost table markers"
    shown = readme[readme.index(start) + len(start) : readme.index(end)]
    assert shown == bench.table(record), "README's table differs from results/bench/chapters.json: paste --table"
    assert record["commit"][:7] in readme


def test_parse_report_reads_the_runners_lines():
    assert bench.parse_report("    04_adversarial_training: ok in 71.0 s -> _build/x.ipynb\n") == {
        "stem": "04_adversarial_training",
        "ok": True,
        "seconds": 71.0,
    }
    assert bench.parse_report("    09_label_quality: FAILED in 7.7 s -> x")["ok"] is False
    assert bench.parse_report("    09_label_quality: unchanged (cache key matches): not executed again") is None
    assert bench.parse_report("==> 12 notebooks [cpu], 2 at a time") is None


def cold(chapters, wall, finished=True, unfinished=()):
    rows = [{"stem": k, "ok": True, "seconds": v, "done_at_s": v} for k, v in chapters.items()]
    return {"chapters": rows, "wall_s": wall, "finished": finished, "unfinished": list(unfinished), "jobs": 2}


def test_cold_book_check_and_table():
    rec = record({"01_a": 100.0})
    rec["cold_book"] = cold({"01_a": 200.0, "04_adversarial_training": 1400.0, "11_c": 301.0}, 1500.0)
    verdict = bench.check(rec)
    assert verdict["cold_data_book_s"] is False and verdict["cold_book_chapters_over"] == ["11_c"]
    rec["cold_book"] = cold({"01_a": 200.0}, 600.0)
    assert bench.check(rec)["cold_data_book_s"] is True
    stopped = cold({"01_a": 200.0}, 900.0, finished=False, unfinished=["11_c"])
    assert bench.check_cold_book(stopped, bench.TARGETS)["cold_data_book_s"] is False, "a stopped build never meets it"
    lines = bench.cold_book_table(stopped).splitlines()
    assert lines[2] == "| 01_a | 200 s | 3.3 min |"
    assert lines[3] == "| 11_c | not finished at the cap | |"
    assert lines[-1] == "| **whole build** | **> 15.0 min (stopped)** | |"


def test_longest_sections_reads_a_results_file(tmp_path):
    import json

    f = tmp_path / "04_x.json"
    f.write_text(json.dumps({"timings": {"a": 1.0, "b": 30.04, "c": 7.0, "d": 2.0}}))
    assert bench.longest_sections(f) == {"b": 30.0, "c": 7.0, "d": 2.0}
    assert bench.longest_sections(tmp_path / "missing.json") == {}


def test_targets_text_reads_every_figure_from_the_records():
    rec = record({"01_a": 100.0})
    rec["warm_book"] = {**cold({"01_a": 20.0}, 214.4), "commit": "abc1234"}
    rec["nodata_book"] = {**cold({"01_a": 20.0}, 198.0), "commit": "abc1234"}
    stopped = cold({"01_a": 200.0}, 5400.0, finished=False, unfinished=["11_c"])
    rec["cold_book"] = {**stopped, "commit": "abc1234", "stopped_at_cap": True}
    cache = {
        "unchanged_rebuild_s": 7.1,
        "commit": "def5678",
        "touched_helper": "src/x.py",
        "touched_helper_users": ["03_h"],
        "touched_helper_executed": ["03_h"],
    }
    lines = bench.targets_text(rec, cache).splitlines()
    assert lines[0] == "- warm full re-execution (filled model cache): 3 min 34 s against 6 min, met (commit abc1234)"
    assert lines[1] == "- unchanged rebuild: 7.1 s against 10 s, met (commit def5678)"
    assert lines[2].endswith(": met") and "re-ran 03_h" in lines[2]
    assert lines[3] == "- no-data book: 3 min 18 s against 3 min, **missed** (commit abc1234)"
    stopped_line = "90 min against 15 min, **missed** (stopped at the cap, not finished: 11_c; commit abc1234)"
    assert lines[4] == f"- cold data book: {stopped_line}"
    assert lines[5].endswith("over it: none, and the chapters not finished; **missed**")
    rec["cold_book"] = {**cold({"01_a": 200.0, "04_adversarial_training": 1400.0}, 1500.0), "commit": "abc1234"}
    assert bench.targets_text(rec, cache).splitlines()[5].endswith("over it: none; met"), "04 is exempt"
    rec["cold_book"] = {**cold({"01_a": 301.0}, 400.0), "commit": "abc1234"}
    assert bench.targets_text(rec, cache).splitlines()[5].endswith("over it: 01_a; **missed**")
    assert bench.targets_text(record({"01_a": 1.0}), {}).splitlines()[0].endswith(": not measured")


def test_the_readme_shows_the_recorded_targets_and_cold_book():
    import json

    root = Path(__file__).parents[1]
    rec = json.loads((root / "results" / "bench" / "chapters.json").read_text())
    cache = json.loads((root / "results" / "bench" / "book_cache.json").read_text())
    readme = (root / "README.md").read_text()

    def block(name):
        start, end = f"<!-- {name}:start -->\n", f"\n<!-- {name}:end -->"
        assert start in readme and end in readme, f"README.md lost its {name} markers"
        return readme[readme.index(start) + len(start) : readme.index(end)]

    assert block("targets") == bench.targets_text(rec, cache), "paste `python benchmarks/chapters.py --table`"
    if "cold_book" in rec:
        assert block("cold-book-table") == bench.cold_book_table(rec["cold_book"])


def test_targets_text_words_failures_partial_records_and_other_machines_apart():
    rec = record({"01_a": 100.0})
    failed = cold({"01_a": 20.0}, 200.0, finished=False)
    failed["chapters"].append({"stem": "02_b", "ok": False, "seconds": 3.0, "done_at_s": 5.0})
    rec["nodata_book"] = {**failed, "commit": "abc", "failed": ["02_b"], "exit_code": 1}
    rec["warm_book"] = {"chapters": [], "commit": "abc", "jobs": 2}  # written after a chapter, then interrupted
    rec["cold_book"] = {**cold({"01_a": 20.0}, 100.0), "commit": "abc", "profile": "smoke", "cpu_count": 16}
    lines = bench.targets_text(rec, {}).splitlines()
    assert lines[0].endswith("(filled model cache): running or interrupted, no whole-book time (commit abc)")
    assert lines[1] == "- no-data book: 3 min 20 s against 3 min, **missed** (chapters failed: 02_b; commit abc)"
    assert "not comparable with the targets (cpu, JOBS=2, 2 cores): profile smoke, 16 cores" in lines[2]
    assert "met" not in lines[2].replace("not comparable", "")
    verdict = bench.check(rec)
    assert verdict["cold_data_book_s"] is None and "16 cores" in verdict["cold_book_why"]
    assert verdict["nodata_book_s"] is False


def test_a_touched_helper_with_no_users_is_not_a_met_target():
    cache = {"unchanged_rebuild_s": 7.1, "commit": "d", "touched_helper": "src/x.py"}
    line = bench.targets_text(record({"01_a": 1.0}), cache).splitlines()[2]
    assert line.endswith("**missed**") and "re-ran nothing" in line
