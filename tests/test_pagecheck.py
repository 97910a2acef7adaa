"""The built-page checks on crafted notebooks (fast); tests/test_browser.py runs them on the book."""

from __future__ import annotations

import nbformat
import pytest

from reliable_ml.course import glue
from reliable_ml.course.pagecheck import bare_number_outputs, is_bare_number


@pytest.mark.parametrize("text", ["7.472007751464844", "-3", "1e-05", " 100\n", "np.float64(0.5)", "tensor(2.)"])
def test_lone_numbers(text):
    assert is_bare_number(text)


@pytest.mark.parametrize("text", ["", "accuracy 98.3%", "98.3 %", "(1, 2)", "[0.5]", "v2", "nan and more"])
def test_not_lone_numbers(text):
    assert not is_bare_number(text)


def cell(source, tags, outputs):
    c = nbformat.v4.new_code_cell(source)
    c.metadata["tags"] = tags
    c.outputs = outputs
    return c


def test_the_chapter_03_slip_is_found_and_nothing_else():
    """Chapter 03 printed 7.472007751464844 under its first figure: a hidden cell ended in a value."""
    result = nbformat.v4.new_output("execute_result", data={"text/plain": "7.472007751464844"}, execution_count=3)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        cell('fig = plot(); glue("drop", drop)', ["hide-input"], [result]),
        cell("print(len(x))", ["remove-input"], [nbformat.v4.new_output("stream", name="stdout", text="449\n")]),
        cell("2 + 2", [], [nbformat.v4.new_output("execute_result", data={"text/plain": "4"}, execution_count=4)]),
        cell(
            "table",
            ["hide-input"],
            [
                nbformat.v4.new_output(
                    "execute_result", data={"text/plain": "0.5", "text/html": "<table></table>"}, execution_count=5
                )
            ],
        ),
        cell(
            'print("accuracy 98.3%")',
            ["hide-input"],
            [nbformat.v4.new_output("stream", name="stdout", text="accuracy 98.3%\n")],
        ),
    ]
    assert bare_number_outputs(nb) == [(0, "7.472007751464844"), (1, "449")]


def test_glue_shows_no_value(monkeypatch):
    """The cause of such slips: a cell ending in glue(...) displayed what glue returned."""
    monkeypatch.setattr(glue, "_emit", lambda *a, **k: None)
    assert glue.glue("x", 7.472007751464844) is None
    assert glue.glue_values({"a": 1.5}) == {"a": 1.5}
