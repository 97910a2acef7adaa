"""The labeling app and its answer log, driven programmatically."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reliable_ml.labels import labeling

CLASSES = ("zero", "one", "two")


@pytest.fixture
def task():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 1, 4, 4), dtype=np.uint8)
    return labeling.LabelingTask(images, ["original", "new"] * 3, [0, 1, 2, 0, 1, 2], CLASSES, name="t")


def test_task_ids_are_opaque_and_order_is_fixed_per_labeler(task):
    assert len(set(task.ids)) == 6 and not any("original" in i or "new" in i for i in task.ids)
    assert np.array_equal(task.order_for("ann"), task.order_for("ann"))
    assert sorted(task.order_for("bob")) == list(range(6))
    with pytest.raises(ValueError, match="same length"):
        labeling.LabelingTask(task.images, ["a"], [0], CLASSES)
    with pytest.raises(ValueError, match="at least one image"):
        labeling.LabelingTask(np.zeros((0, 1, 2, 2), np.uint8), [], [], CLASSES)


def test_clicks_write_one_line_each_and_source_is_never_shown(task, tmp_path):
    log = tmp_path / "answers.jsonl"
    app = labeling.ClassifyApp(task, log)
    app.name_box.value = "ann"
    app.start_button.click()
    first = app.current
    assert app.progress.value == 0 and app.image.value[:4] == b"\x89PNG"
    app.class_buttons[int(task.labels[first])].click()
    lines = log.read_text().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["labeler"] == "ann" and record["action"] == "label" and record["item"] == task.ids[first]
    assert record["label"] == CLASSES[int(task.labels[first])]
    shown = " ".join(str(getattr(w, "value", "")) + str(getattr(w, "description", "")) for w in app.widget.children)
    assert "original" not in app.status.value and "new" not in app.status.value and "original" not in shown
    assert app.progress.value == 1 and app.current != first


def test_undo_brings_the_image_back_and_skip_counts(task, tmp_path):
    app = labeling.ClassifyApp(task, tmp_path / "a.jsonl")
    app.start("ann")
    first = app.current
    app.answer("one")
    app.undo()
    assert app.current == first and app.progress.value == 0
    app.skip()
    assert app.progress.value == 1
    records, problems = labeling.read_log(tmp_path / "a.jsonl")
    assert [r["action"] for r in records] == ["label", "undo", "skip"] and not problems
    assert labeling.replay(records, "ann") == {task.ids[first]: None}
    with pytest.raises(ValueError, match="unknown class 'three'"):
        app.answer("three")


def test_keyboard_box_answers_by_class_number(task, tmp_path):
    app = labeling.ClassifyApp(task, tmp_path / "a.jsonl")
    app.start("ann")
    app.key_box.value = "2"
    assert app.progress.value == 1 and app.key_box.value == ""
    app.key_box.value = "9"
    assert "not a class number" in app.status.value and app.progress.value == 1


def test_resume_after_crash_loses_at_most_the_current_answer(task, tmp_path):
    log = tmp_path / "a.jsonl"
    app = labeling.ClassifyApp(task, log)
    app.start("ann")
    done = []
    for _ in range(3):
        done.append(app.current)
        app.answer("zero")
    with open(log, "a") as fh:  # the process dies while writing the 4th answer
        fh.write('{"labeler": "ann", "item": "')
    resumed = labeling.ClassifyApp(task, log)
    assert len(resumed.problems) == 1 and resumed.problems[0].line == 4
    assert "malformed" in resumed.status.value
    resumed.start("ann")
    assert resumed.progress.value == 3 and resumed.current not in done
    assert resumed.current == int(task.order_for("ann")[3])
    resumed.answer("one")  # the next answer must not merge with the broken line
    records, problems = labeling.read_log(log)
    assert len(records) == 4 and records[-1]["label"] == "one" and len(problems) == 1


def test_labelers_are_kept_apart(task, tmp_path):
    log = tmp_path / "a.jsonl"
    app = labeling.ClassifyApp(task, log)
    app.start("ann")
    app.answer("zero")
    app.start("bob")
    assert app.progress.value == 0
    app.answer("one")
    app.answer("two")
    records, _ = labeling.read_log(log)
    assert labeling.labelers(records) == ["ann", "bob"]
    assert len(labeling.replay(records, "ann")) == 1 and len(labeling.replay(records, "bob")) == 2
    with pytest.raises(ValueError, match="labeler name"):
        app.start("  ")


def test_finishing_disables_answers(task, tmp_path):
    app = labeling.ClassifyApp(task, tmp_path / "a.jsonl")
    app.start("ann")
    for _ in range(6):
        app.skip()
    assert app.current is None and "Done" in app.status.value
    assert app.class_buttons[0].disabled and not app.undo_button.disabled


def test_read_log_reports_corrupt_lines_and_keeps_the_rest(tmp_path):
    log = tmp_path / "a.jsonl"
    good = {"labeler": "a", "item": "x", "action": "label", "label": "one"}
    log.write_text(
        "\n".join(
            [
                json.dumps(good),
                "not json",
                "[1, 2]",
                json.dumps({"labeler": "a"}),
                json.dumps({**good, "action": "erase"}),
                json.dumps({**good, "item": "y"}),
            ]
        )
        + "\n"
    )
    records, problems = labeling.read_log(log)
    assert [r["item"] for r in records] == ["x", "y"]
    assert [p.line for p in problems] == [2, 3, 4, 5]
    assert "not valid JSON" in problems[0].reason and "unknown action" in problems[3].reason


def test_accuracy_table_with_exact_intervals(task, tmp_path):
    truth = task.truth()
    records = []
    for item, (source, label) in truth.items():
        answer = label if source == "original" else "zero"
        records.append({"labeler": "ann", "item": item, "action": "label", "label": answer})
    table = labeling.accuracy_table(records, task).set_index("source")
    assert table.loc["original", "accuracy"] == 1.0 and table.loc["original", "answered"] == 3
    assert table.loc["new", "correct"] == 1  # one of the new items (labels 1, 0, 2) really is a zero
    from scipy.stats import binomtest

    ci = binomtest(3, 3).proportion_ci(method="exact")
    assert table.loc["original", "ci_low"] == pytest.approx(ci.low)


def test_accuracy_table_without_sessions_is_empty_with_columns(task):
    table = labeling.accuracy_table([], task)
    assert table.empty and {"labeler", "source", "accuracy", "ci_low", "ci_high"} <= set(table.columns)
