"""The front page's course map, generated from ``_toc.yml`` when the book is staged.

``book/index.md`` is written by hand except for its chapter table: the line :data:`MARKER`
stands where the table goes, and :func:`fill` replaces it in the staged copy with one row per
chapter of ``_toc.yml`` (every ``notebooks/...`` entry, in the table of contents' order), under
the caption of its part. A chapter's title is the level-1 heading (``# `` in a Markdown cell,
``# # `` in the Jupytext percent source) of ``notebooks/NN_name.py``, so adding a chapter to
``_toc.yml`` adds it to the front page, with the title its page has.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

MARKER = "<!-- course-map: generated from _toc.yml by reliable_ml.course.course_map when the book is staged -->"
_HEADING = re.compile(r"^# # (?P<title>\S.*?)\s*$", re.M)
_CELL = re.compile(r"^# %%(?P<header>.*)$", re.M)


def chapters(toc: dict) -> list[tuple[str, str]]:
    """``(part caption, file)`` of every chapter under ``notebooks/`` in a Jupyter Book table of
    contents (``parts`` with ``chapters``, or top-level ``chapters``), in order."""
    if not isinstance(toc, dict):
        raise ValueError(f"a table of contents is a mapping, got {type(toc).__name__}")
    parts = toc.get("parts") or [{"caption": "", "chapters": toc.get("chapters") or []}]
    found = []
    for part in parts:
        for entry in part.get("chapters") or []:
            file = str(entry.get("file", ""))
            if file.startswith("notebooks/"):
                found.append((str(part.get("caption") or ""), file))
    return found


def title_of(source: Path) -> str:
    """The level-1 heading of a Jupytext percent chapter: the first ``# # Title`` line of a
    Markdown cell. A chapter without one is an error (its page would have no title either)."""
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"_toc.yml lists {source.stem}, but {source} does not exist")
    text = source.read_text()
    cells = _CELL.split(text)
    # re.split with one group: [before, header1, body1, header2, body2, ...]
    for header, body in zip(cells[1::2], cells[2::2]):
        if "[markdown]" in header:
            m = _HEADING.search(body)
            if m:
                return m.group("title")
    raise ValueError(f"{source.name} has no level-1 heading ('# # Title' in a markdown cell)")


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell and a ``{doc}`` role's title."""
    if "`" in text or "<" in text:
        raise ValueError(f"a chapter title may not hold a backtick or '<' (it goes into a {{doc}} role): {text!r}")
    return text.replace("|", "\\|")


def table(toc: dict, project_root: Path) -> str:
    """The course map: one row per chapter, linked with ``{doc}`` (paths relative to ``book/``),
    the part's caption on the first row of each part."""
    rows = ["| part | chapter |", "| --- | --- |"]
    previous = None
    for caption, file in chapters(toc):
        title = title_of(Path(project_root) / f"{file}.py")
        shown = _cell(caption) if caption != previous else ""
        previous = caption
        rows.append(f"| {shown} | {{doc}}`{_cell(title)} <../{file}>` |")
    return "\n".join(rows)


def fill(index: Path, toc_path: Path, project_root: Path) -> Path:
    """Replace :data:`MARKER` in the page ``index`` (the staged ``book/index.md``) with the course
    map of ``toc_path``; the page must hold the marker exactly once, on a line of its own."""
    index = Path(index)
    text = index.read_text()
    lines = text.split("\n")
    n = sum(line.strip() == MARKER for line in lines)
    if n != 1:
        raise ValueError(f"{index} must hold the course-map marker once on a line of its own (found {n}): {MARKER}")
    toc = yaml.safe_load(Path(toc_path).read_text())
    generated = table(toc, project_root)
    index.write_text("\n".join(generated if line.strip() == MARKER else line for line in lines))
    return index
