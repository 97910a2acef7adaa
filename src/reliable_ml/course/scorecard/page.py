"""The scorecard page: the judged rows as MyST Markdown for the book (``book/scorecard.md`` and
the landing page's summary).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from reliable_ml.course.results import PROJECT_ROOT, load_all
from reliable_ml.course.scorecard.judge import STATUSES, rows

# Statuses are shown as text in CSS badges (sphinx-design's bdg-* roles), never as emoji: a reader
# without an emoji font saw empty boxes.
BADGES = {
    "reproduced": "bdg-success",
    "re-analysed": "bdg-info",
    "qualitative": "bdg-secondary",
    "not comparable": "bdg-warning",
    "not reproduced": "bdg-danger",
    "not measured": "bdg-light",
}
TABLE_CLASS = "scorecard"  # book/_static/course.css fits this table to the content column


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def known_cites(bib: Path | None = None) -> set[str]:
    """BibTeX keys of ``book/references.bib`` (only those are cited, so the build never warns)."""
    bib = bib or PROJECT_ROOT / "book" / "references.bib"
    return set(re.findall(r"^@\w+\{([^,\s]+),", bib.read_text(), re.M)) if bib.exists() else set()


def badge(status: str) -> str:
    """The status as a MyST CSS badge, e.g. ``{bdg-success}`reproduced```."""
    return f"{{{BADGES[status]}}}`{status}`"


def counts(table: list[dict]) -> dict[str, int]:
    return {s: sum(r["status"] == s for r in table) for s in STATUSES}


def _count_line(table: list[dict]) -> str:
    return ", ".join(f"{n} {s}" for s, n in counts(table).items())


def markdown(records: list[dict] | None = None, profile: str | None = None) -> str:
    """The scorecard page (MyST markdown): the same rows as ``rows()``, readable."""
    records = load_all() if records is None else records
    table = rows(records, profile)
    cites = known_cites()
    lines = [
        "# Reproduction scorecard",
        "",
        "Each row is a headline figure from the talks and papers behind this course: the published "
        "number with its source, and what our own runs measured, read from `results/<profile>/*.json` "
        "(never typed in by hand). A row uses the `gpu` run where one exists, else the `cpu` run; "
        "rows that need a GPU stay *not measured* without one.",
        "",
        "The status says what kind of evidence a row is: "
        + "; ".join(
            [
                f"{badge('reproduced')}: our own experiment in the published setting agrees within tolerance",
                f"{badge('re-analysed')}: recomputed from the authors' released data or predictions",
                f"{badge('qualitative')}: the effect holds in a smaller stand-in, or the published figure "
                "is not confirmed",
                f"{badge('not comparable')}: measured, but not the quantity the published figure measures "
                "(the row says why, e.g. a stand-in's number)",
                f"{badge('not reproduced')}: measured, and it disagrees",
                f"{badge('not measured')}: no run has produced it",
            ]
        )
        + ".",
        "",
        f"**{_count_line(table)}.**",
        "",
        f":::{{table}}\n:class: {TABLE_CLASS}\n:widths: 12 22 24 22 20\n",
        "| status | claim | published | ours | data and setting |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in table:
        cite = f" {{cite}}`{r['cite']}`" if r["cite"] in cites else ""
        published = f"{r['published']} ({r['source']}){cite}" + ("" if r["confirmed"] else " *not confirmed*")
        setting = f"{r['data']}; {r['setting']} ({r['profile'] or 'no run'})"
        lines.append(
            f"| {badge(r['status'])} | {_cell(r['claim'])} | {_cell(published)} | "
            f"{_cell(r['ours'])} | {_cell(setting)} |"
        )
    lines.append(":::")
    read = {(r["notebook"], r["profile"]) for r in table if r["notebook"]}
    used = {(r.get("notebook"), r.get("profile")): r for r in records if (r.get("notebook"), r.get("profile")) in read}
    if used:
        lines += ["", "## The runs behind these rows", ""]
        lines += [
            f"- `{nb}` ({prof}): commit `{r.get('commit', '?')}`, {r.get('created', '?')}, "
            f"{_cell(r.get('device', '?'))}, torch {r.get('torch_version', '?')}"
            for (nb, prof), r in sorted(used.items())
        ]
    lines += [
        "",
        "## How each row is judged",
        "",
        "The rules live in one registry, `src/reliable_ml/course/claims.py`; the tests check that every "
        "status follows from its rule.",
        "",
    ]
    lines += [f"- **{r['id']}**: {_cell(r['rule'])}" for r in table]
    return "\n".join(lines) + "\n"


def summary_markdown(records: list[dict] | None = None, profile: str | None = None) -> str:
    """A short summary for the landing page, in the same statuses as the page."""
    table = rows(records, profile)
    return (
        f"Of {len(table)} headline figures: {_count_line(table)}. See the "
        "{doc}`scorecard <scorecard>` for the numbers, the data behind each, and how each is judged.\n"
    )


def write(book_dir: Path, records: list[dict] | None = None) -> tuple[Path, Path]:
    """Write ``scorecard.md`` and ``scorecard_summary.md`` into ``book_dir`` (called by the book build)."""
    records = load_all() if records is None else records
    page, summary = Path(book_dir) / "scorecard.md", Path(book_dir) / "scorecard_summary.md"
    page.write_text(markdown(records))
    summary.write_text(summary_markdown(records))
    return page, summary
