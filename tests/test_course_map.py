"""The front page's course map: generated from _toc.yml and the chapters' titles when the book is staged."""

from __future__ import annotations

import re

import nbformat
import pytest
import yaml

from reliable_ml.course import book, course_map
from reliable_ml.course.results import PROJECT_ROOT

HEADER = "# ---\n# jupyter:\n#   jupytext:\n#     formats: ipynb,py:percent\n# ---\n\n"


def chapter(folder, stem, title, before=""):
    (folder / "notebooks").mkdir(parents=True, exist_ok=True)
    text = HEADER + before + f"# %% [markdown]\n# # {title}\n#\n# Text.\n\n# %%\nx = 1\n"
    (folder / "notebooks" / f"{stem}.py").write_text(text)


TOC = {
    "format": "jb-book",
    "root": "book/index",
    "parts": [
        {"caption": "First part", "chapters": [{"file": "notebooks/00_a"}, {"file": "notebooks/01_b"}]},
        {"caption": "Reference", "chapters": [{"file": "book/scorecard"}]},
        {"caption": "Second | part", "chapters": [{"file": "notebooks/02_c"}]},
    ],
}


def test_the_table_lists_the_notebook_chapters_in_toc_order_under_their_parts(tmp_path):
    chapter(tmp_path, "00_a", "0. Alpha")
    # a code comment that looks like a heading is not the title; the markdown cell's heading is
    chapter(tmp_path, "01_b", "1. Beta | with a pipe", before="# %%\n# # not a title\nimport os\n\n")
    chapter(tmp_path, "02_c", "2. Gamma")
    assert course_map.table(TOC, tmp_path).splitlines() == [
        "| part | chapter |",
        "| --- | --- |",
        "| First part | {doc}`0. Alpha <../notebooks/00_a>` |",
        "|  | {doc}`1. Beta \\| with a pipe <../notebooks/01_b>` |",
        "| Second \\| part | {doc}`2. Gamma <../notebooks/02_c>` |",
    ]


def test_a_chapter_without_a_file_or_a_title_is_named(tmp_path):
    toc = {"chapters": [{"file": "notebooks/05_x"}]}
    with pytest.raises(FileNotFoundError, match="_toc.yml lists 05_x"):
        course_map.table(toc, tmp_path)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "05_x.py").write_text(HEADER + "# %%\n# # a comment, not markdown\n")
    with pytest.raises(ValueError, match="05_x.py has no level-1 heading"):
        course_map.table(toc, tmp_path)
    chapter(tmp_path, "05_x", "5. A `code` title")
    with pytest.raises(ValueError, match="backtick"):
        course_map.table(toc, tmp_path)


def test_fill_needs_the_marker_exactly_once(tmp_path):
    chapter(tmp_path, "00_a", "0. Alpha")
    toc = tmp_path / "_toc.yml"
    toc.write_text(yaml.safe_dump({"chapters": [{"file": "notebooks/00_a"}]}))
    index = tmp_path / "index.md"
    index.write_text(f"# Home\n\n{course_map.MARKER}\n\nMore text.\n")
    course_map.fill(index, toc, tmp_path)
    assert index.read_text() == (
        "# Home\n\n| part | chapter |\n| --- | --- |\n|  | {doc}`0. Alpha <../notebooks/00_a>` |\n\nMore text.\n"
    )
    for text in ("# Home\n", f"{course_map.MARKER}\n{course_map.MARKER}\n"):
        index.write_text(text)
        with pytest.raises(ValueError, match=r"marker once .*\(found [02]\)"):
            course_map.fill(index, toc, tmp_path)


def test_the_staged_front_page_lists_every_chapter_of_the_toc(tmp_path):
    """The real project: every notebooks/ entry of _toc.yml appears in the staged index.md,
    in order, with the title of its page, and the hand-written page around it is kept."""
    executed = tmp_path / "executed"
    executed.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), executed / "00_x.ipynb")
    site = book.stage(executed, tmp_path / "site", results_dir=PROJECT_ROOT / "results", repo_url="")
    staged = (site / "book" / "index.md").read_text()
    source = (PROJECT_ROOT / "book" / "index.md").read_text()
    assert course_map.MARKER in source and course_map.MARKER not in staged
    assert staged.startswith(source.split(course_map.MARKER)[0]) and staged.endswith(source.split(course_map.MARKER)[1])
    toc = yaml.safe_load((PROJECT_ROOT / "_toc.yml").read_text())
    files = [f for _, f in course_map.chapters(toc)]
    on_disk = sorted(f"notebooks/{p.stem}" for p in (PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
    assert sorted(files) == on_disk, "every chapter is in _toc.yml"
    linked = re.findall(r"\{doc\}`(.+?) <\.\./(notebooks/[^>]+)>`", staged)
    assert [f for _, f in linked] == files
    for title, file in linked:
        assert title == course_map.title_of(PROJECT_ROOT / f"{file}.py")
        assert re.match(r"\d+\. ", title) and int(title.split(".")[0]) == int(file.split("/")[1][:2])
    assert "status" not in staged.split("## Course map")[1].split("##")[0]
