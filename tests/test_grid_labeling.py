"""The 'be the annotator' grid app, driven programmatically: select, submit, resume, merge."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reliable_ml.labels import grid_labeling as gl

CLASSES = ("zero", "one", "two")


@pytest.fixture
def setup():
    rng = np.random.default_rng(0)
    pool_classes = np.repeat(np.arange(3), 20)
    control_labels = np.repeat(np.arange(3), 10)
    pool_images = rng.integers(0, 256, (len(pool_classes), 1, 6, 6), dtype=np.uint8)
    control_images = rng.integers(0, 256, (len(control_labels), 1, 6, 6), dtype=np.uint8)
    grids = gl.make_grids(pool_classes, control_labels, 3, n_grids=4, grid_size=12, n_controls=2, seed=1)
    return grids, pool_classes, control_labels, pool_images, control_images


def answer_perfectly(app, grid, pool_classes):
    """Select positives and every pool image of the grid's class; leave negatives."""
    picks = [
        i
        for i, (kind, idx) in enumerate(grid.tiles)
        if kind == "pos" or (kind == "pool" and pool_classes[idx] == grid.cls)
    ]
    app.select(picks)
    return picks


def test_make_grids_mix_pool_and_controls_deterministically(setup):
    grids, pool_classes, control_labels, *_ = setup
    assert [g.cls for g in grids] == [0, 1, 2, 0] and len({g.gid for g in grids}) == 4
    for g in grids:
        kinds = [k for k, _ in g.tiles]
        assert len(g.tiles) == 12 and kinds.count("pos") == 2 and kinds.count("neg") == 2
        assert all(pool_classes[i] == g.cls for k, i in g.tiles if k == "pool")
        assert all(control_labels[i] == g.cls for k, i in g.tiles if k == "pos")
        assert all(control_labels[i] != g.cls for k, i in g.tiles if k == "neg")
    again = gl.make_grids(pool_classes, control_labels, 3, n_grids=4, grid_size=12, n_controls=2, seed=1)
    assert again == grids
    with pytest.raises(ValueError, match="grid_size=4"):
        gl.make_grids(pool_classes, control_labels, 3, n_grids=1, grid_size=4, n_controls=2)


def test_submit_writes_one_record_per_grid_and_resumes(setup, tmp_path):
    grids, pool_classes, _, pool_images, control_images = setup
    log = tmp_path / "grids.jsonl"
    app = gl.GridApp(grids, pool_images, control_images, CLASSES, log, reader="ann")
    assert app.current == 0 and app.progress.value == 0 and "zero" in app.prompt.value
    assert app.images[0].value[:4] == b"\x89PNG"
    picks = answer_perfectly(app, grids[0], pool_classes)
    app.submit_button.click()
    lines = log.read_text().splitlines()
    assert len(lines) == 1
    rec = json.loads(lines[0])
    assert rec["reader"] == "ann" and rec["grid"] == grids[0].gid
    assert [i for i, s in enumerate(rec["selected"]) if s] == picks
    assert app.current == 1 and app.progress.value == 1 and not any(t.value for t in app.tiles)
    # a new app (kernel restart) resumes at the next grid
    app2 = gl.GridApp(grids, pool_images, control_images, CLASSES, log, reader="ann")
    assert app2.current == 1 and app2.progress.value == 1
    for _ in range(3):
        app2.submit()
    assert app2.current is None and app2.submit_button.disabled and len(log.read_text().splitlines()) == 4
    app2.submit()  # nothing more is written
    assert len(log.read_text().splitlines()) == 4
    # another reader starts from the beginning
    assert gl.GridApp(grids, pool_images, control_images, CLASSES, log, reader="bob").current == 0
    with pytest.raises(ValueError, match="outside the grid"):
        gl.GridApp(grids, pool_images, control_images, CLASSES, log, reader="bob").select([99])


def test_reader_counts_keep_only_grids_that_pass_the_controls(setup, tmp_path):
    grids, pool_classes, _, pool_images, control_images = setup
    log = tmp_path / "grids.jsonl"
    app = gl.GridApp(grids, pool_images, control_images, CLASSES, log)
    answer_perfectly(app, grids[0], pool_classes)
    app.submit()
    app.select(range(len(grids[1].tiles)))  # selects everything: fails the negative controls
    app.submit()
    records, problems = gl.read_answers(log)
    assert not problems and len(records) == 2
    assert gl.control_accuracy(records[0]) == 1.0 and gl.control_accuracy(records[1]) == 0.5
    counts = gl.reader_counts(records, grids, len(pool_classes))
    assert counts.n_grids_used == 1 and counts.n_grids_rejected == 1
    shown_items = [i for k, i in grids[0].tiles if k == "pool"]
    assert counts.shown.sum() == len(shown_items) and np.all(counts.shown[shown_items] == 1)
    assert np.array_equal(counts.selected, counts.shown)  # all pool images of grid 0 are of its class
    # grids of another plan are ignored
    other = gl.make_grids(pool_classes, np.repeat(np.arange(3), 10), 3, n_grids=2, grid_size=12, n_controls=2, seed=9)
    assert gl.reader_counts(records, other, len(pool_classes)).n_grids_used == 0


def test_malformed_and_partly_written_lines_are_reported_and_skipped(setup, tmp_path):
    grids, pool_classes, _, pool_images, control_images = setup
    log = tmp_path / "grids.jsonl"
    app = gl.GridApp(grids, pool_images, control_images, CLASSES, log)
    answer_perfectly(app, grids[0], pool_classes)
    app.submit()
    with open(log, "a") as fh:
        fh.write("not json at all\n")
        fh.write('{"reader": "reader", "grid": "x", "tiles": [["pool", 1]], "selected": []}\n')
        fh.write(f'{{"reader": "reader", "grid": "{grids[1].gid}", "tiles": [["po')  # cut short by a crash
    records, problems = gl.read_answers(log)
    assert len(records) == 1 and records[0]["grid"] == grids[0].gid
    assert len(problems) == 3
    assert any("not valid JSON" in p.reason for p in problems) and any("differ in length" in p.reason for p in problems)
    app2 = gl.GridApp(grids, pool_images, control_images, CLASSES, log)
    assert app2.current == 1 and "malformed" in app2.status.value
    app2.submit()  # the answer given after the crash is not lost in the broken line
    records, problems = gl.read_answers(log)
    assert [r["grid"] for r in records] == [grids[0].gid, grids[1].gid] and len(problems) == 3
