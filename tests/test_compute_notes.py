"""Compute notes come from the recorded runs: wall time, device and what the model caches did."""

from __future__ import annotations

import json
import re

import pytest
import torch

from reliable_ml.course import compute_note as notes
from reliable_ml.course import results, runner
from reliable_ml.models import zoo
from reliable_ml.util import cachestats

STEMS = [p.stem for p in runner.discover()]


@pytest.fixture(autouse=True)
def fresh_counts():
    cachestats.reset()
    yield
    cachestats.reset()


def test_counts_and_words():
    assert cachestats.summary() == {"hits": 0, "misses": 0, "by_cache": {}}
    cachestats.record("zoo", hit=False, models=3)
    cachestats.record("zoo", hit=True, models=3)
    cachestats.record("nonrobust", hit=True)
    assert cachestats.summary() == {
        "hits": 4,
        "misses": 3,
        "by_cache": {"nonrobust": {"hits": 1, "misses": 0}, "zoo": {"hits": 3, "misses": 3}},
    }
    assert (
        cachestats.describe({"hits": 0, "misses": 3})
        == "the model cache was cold: 3 models trained (a rerun loads them)"
    )
    assert cachestats.describe({"hits": 1, "misses": 0}).startswith("the model cache was warm: 1 model loaded")
    assert cachestats.describe({"hits": 4, "misses": 3}) == "4 models loaded from the model cache and 3 models trained"
    assert cachestats.describe({"hits": 0, "misses": 0}) == "no model came from a cache"
    assert "not recorded" in cachestats.describe(None)
    with pytest.raises(ValueError, match="models must be an integer >= 0; got -1"):
        cachestats.record("zoo", hit=True, models=-1)


def test_cached_zoo_counts_a_miss_then_a_hit(tmp_path, single_thread):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (64, 1, 8, 8), generator=g, dtype=torch.uint8)
    y = torch.arange(64) % 10
    names = ["logreg-e1", "mlp-8-e1"]
    zoo.train_zoo_cached(names, x, y, n_classes=10, cache=tmp_path, progress=False)
    assert cachestats.summary()["by_cache"] == {"zoo": {"hits": 0, "misses": 2}}
    zoo.train_zoo_cached(names, x, y, n_classes=10, cache=tmp_path, progress=False)
    assert cachestats.summary()["by_cache"] == {"zoo": {"hits": 2, "misses": 2}}


def test_results_record_the_cache_state(tmp_results):
    cachestats.record("zoo", hit=False, models=5)
    path = results.save("07_x", "cpu", {"acc": 0.5}, data_source="MNIST", wall_seconds=150.0, device="cpu (2 threads)")
    record = json.loads(path.read_text())
    assert record["model_cache"] == {"hits": 0, "misses": 5, "by_cache": {"zoo": {"hits": 0, "misses": 5}}}
    with pytest.raises(ValueError, match="reserved"):
        results.save("07_x", "cpu", {"model_cache": 1}, data_source="MNIST", wall_seconds=1.0, device="cpu")


def test_compute_note_reads_the_recorded_run(tmp_results):
    cachestats.record("zoo", hit=False, models=5)
    results.save("07_x", "cpu", {"acc": 0.5}, data_source="MNIST", wall_seconds=150.0, device="cpu (2 threads)")
    text = notes.compute_note_text("07_x")
    assert "took 2.5 minutes on cpu (2 threads)" in text
    assert "the model cache was cold: 5 models trained" in text and "`results/cpu/07_x.json`" in text
    results.save("07_x", "cpu", {}, data_source="MNIST", wall_seconds=42.4, device="cuda")
    assert "took 42 s on cuda" in notes.compute_note_text("07_x")


def test_compute_note_without_a_recorded_run(tmp_results):
    text = notes.compute_note_text("08_nothing")
    assert "No `cpu` run of this chapter is recorded here yet" in text
    assert "python -m reliable_ml run 08_nothing --profile cpu" in text
    assert notes.compute_note("08_nothing") is None  # the cell shows the note, not a value


def test_old_results_without_cache_state(tmp_results):
    folder = tmp_results / "cpu"
    folder.mkdir(parents=True)
    (folder / "05_x.json").write_text(json.dumps({"wall_seconds": 600, "device": "cpu", "commit": "abc"}))
    assert (
        "took 10.0 minutes on cpu (commit `abc`); the state of the model caches was not recorded"
        in notes.compute_note_text("05_x")
    )


@pytest.mark.parametrize("stem", STEMS)
def test_chapter_shows_its_measured_cost_not_typed_times(stem):
    nb = runner.read_notebook(runner.discover([stem])[0])
    cells = [c for c in nb.cells if notes.CALL in c.source]
    assert len(cells) == 1, f"{stem}: expected one cell calling compute_note"
    assert f'compute_note("{stem}")' in cells[0].source
    assert "remove-input" in cells[0].metadata.get("tags", [])
    compute = next(c.source for c in nb.cells if c.cell_type == "markdown" and "**Compute.**" in c.source)
    paragraph = compute[compute.index("**Compute.**") :].split("\n\n")[0]
    # the reader's own time (chapter 03: labeling "is up to you: about 2 s an image") is not compute
    paragraph = " ".join(s for s in re.split(r"(?<=\.)\s", paragraph) if not re.search(r"\byou\b", s))
    typed = re.findall(r"(?:about|under|within|takes?)\s+[^.`]*?\b(?:minutes?|seconds?|\d+\s*s)\b", paragraph)
    assert not typed, f"{stem}: the compute note types a duration by hand: {typed}"


def test_the_book_stage_renders_the_note_from_the_run_just_recorded(tmp_path):
    """Executed, the cell could only read the previous run; staged, it reads the results file
    the run itself wrote (so the build-cache key need not cover results/)."""
    import nbformat

    from reliable_ml.course import book

    executed = tmp_path / "executed" / "cpu"
    executed.mkdir(parents=True)
    cell = nbformat.v4.new_code_cell('compute_note("07_x")')
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="**Measured cost.** took 9 s (stale)\n")]
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), executed / "07_x.ipynb")
    root = tmp_path / "results"
    (root / "cpu").mkdir(parents=True)
    (root / "cpu" / "07_x.json").write_text(json.dumps({"wall_seconds": 150.0, "device": "cpu", "commit": "abc"}))
    book.stage_notebook(executed / "07_x.ipynb", tmp_path / "staged.ipynb", results_dir=root)
    [out] = nbformat.read(tmp_path / "staged.ipynb", as_version=4).cells[0].outputs
    assert "took 2.5 minutes on cpu" in out["data"]["text/markdown"] and "stale" not in str(out)


def _timed_notebook():
    import nbformat

    def code(seconds):
        cell = nbformat.v4.new_code_cell("pass")
        cell.metadata["papermill"] = {"duration": seconds}
        return cell

    cells = [
        code(1.0),  # before any heading: setup
        nbformat.v4.new_markdown_cell("# 04 · A chapter\n\nProse."),
        code(2.0),
        nbformat.v4.new_markdown_cell("## The **robust** model {#robust}\n\ntext"),
        code(30.0),
        nbformat.v4.new_markdown_cell("### A sub-section stays in its section"),
        code(12.5),
        nbformat.v4.new_code_cell("no duration recorded"),
        nbformat.v4.new_markdown_cell("## Catastrophic overfitting"),
        code(4.25),
    ]
    return nbformat.v4.new_notebook(cells=cells)


def test_section_timings_sum_the_cells_under_each_heading():
    timings = results.section_timings(_timed_notebook())
    assert list(timings) == ["(setup)", "04 · A chapter", "The robust model", "Catastrophic overfitting"]
    assert timings == {"(setup)": 1.0, "04 · A chapter": 2.0, "The robust model": 42.5, "Catastrophic overfitting": 4.2}


def test_the_runner_records_timings_and_the_note_names_the_longest_section(tmp_results):
    path = results.save("04_x", "cpu", {"acc": 0.5}, data_source="MNIST", wall_seconds=60.0, device="cpu")
    assert results.record_timings(_timed_notebook(), "04_x", "cpu") == path
    assert json.loads(path.read_text())["timings"]["The robust model"] == 42.5
    text = notes.compute_note_text("04_x")
    assert "Its longest section, *The robust model*, took 42 s (86% of the cells' time)" in text
    assert results.record_timings(_timed_notebook(), "05_missing", "cpu") is None
    assert results.record_timings(_timed_notebook(), "04_x", "cpu", since=path.stat().st_mtime + 60) is None
