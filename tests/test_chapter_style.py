"""Chapters read like lectures: mostly prose, short cells, exercises, plumbing hidden.

Targets of the course style (issue 14): code : prose <= 1.0 by characters in each chapter's
jupytext source (cells the book removes, such as the Colab install cell, not counted), no code cell over 30 lines,
2-4 exercises in every chapter after 00 (each with a solution), and a hidden injected-parameters cell in the book.
"""

from __future__ import annotations

import re

import pytest

from reliable_ml.course.runner import discover, read_notebook

NOTEBOOKS = discover()
MAX_CELL_LINES = 30
MAX_CODE_TO_PROSE = 1.0


def chars(cells) -> int:
    return sum(len(c.source.strip()) for c in cells)


@pytest.mark.parametrize("src", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_more_prose_than_code(src):
    nb = read_notebook(src)
    shown = [c for c in nb.cells if "remove-cell" not in c.metadata.get("tags", [])]  # the book drops these
    code = chars(
        c for c in shown if c.cell_type == "code" and "remove-input" not in c.metadata.get("tags", [])
    )  # the book shows their output only
    prose = chars(c for c in shown if c.cell_type == "markdown")
    assert prose > 0 and code / prose <= MAX_CODE_TO_PROSE, (
        f"{src.stem}: code {code} : prose {prose} characters = {code / max(prose, 1):.2f} > {MAX_CODE_TO_PROSE}"
    )


def is_parameters(cell) -> bool:
    return "parameters" in cell.metadata.get("tags", [])


@pytest.mark.parametrize("src", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_code_cells_are_short(src):
    """Every code cell but the parameters cell, whose length is the settings table's (one
    literal assignment per field, checked below), holds at most ``MAX_CELL_LINES`` lines."""
    nb = read_notebook(src)
    long = {
        i + 1: len(c.source.strip().splitlines())
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and not is_parameters(c) and len(c.source.strip().splitlines()) > MAX_CELL_LINES
    }
    assert not long, f"{src.stem}: cells (counting from 1) over {MAX_CELL_LINES} lines: {long}"


@pytest.mark.parametrize("src", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_parameters_cell_is_a_table_of_literals(src):
    """The one cell exempt from the length limit reads as a table: each line a single name = literal."""
    import ast

    (cell,) = [c for c in read_notebook(src).cells if c.cell_type == "code" and is_parameters(c)]
    for node in ast.parse(cell.source).body:
        line = ast.get_source_segment(cell.source, node)
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, f"{src.stem}: not one assignment: {line!r}"
        ast.literal_eval(node.value)


@pytest.mark.parametrize(
    "src",
    [p for p in NOTEBOOKS if not p.stem.startswith("00")],
    ids=[p.stem for p in NOTEBOOKS if not p.stem.startswith("00")],
)
def test_chapter_has_exercises_with_solutions(src):
    text = "\n".join(c.source for c in read_notebook(src).cells if c.cell_type == "markdown")
    labels = re.findall(r"```\{exercise(?:-start)?\}[^\n]*\n(?::[^\n]*\n)*?:label:\s*(\S+)", text)
    solved = set(re.findall(r"```\{solution(?:-start)?\}\s*(\S+)", text))
    assert 2 <= len(labels) <= 4, f"{src.stem}: {len(labels)} exercises; the course has 2-4 per chapter"
    assert set(labels) <= solved, f"{src.stem}: exercises without a solution: {set(labels) - solved}"


@pytest.mark.parametrize("src", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_chapter_has_one_title_with_its_number(src):
    """One level-1 heading, "N. Title", whose N is the file's number (chapter 11 once opened with
    a copy of chapter 10's title, which the book showed as a second heading)."""
    nb = read_notebook(src)
    titles = [
        line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines() if re.match(r"#\s", line)
    ]
    assert len(titles) == 1, f"{src.name}: level-1 headings {titles}"
    assert re.match(rf"#\s+{int(src.stem[:2])}\.\s", titles[0]), f"{src.name}: title {titles[0]!r}"
    # titles appear in every page's navigation, and Sphinx loads MathJax only on pages with math
    # of their own: "$L_\infty$" in chapter 11's title showed as raw TeX on chapter 00's page
    assert "$" not in titles[0] and "\\(" not in titles[0], f"{src.name}: math in the title {titles[0]!r}; use Unicode"
