"""Are the chapters' Jupytext pairs in sync? ``notebooks/NN_name.py`` against ``NN_name.ipynb``.

A chapter is written in its ``.py`` file (Jupytext percent format); ``make sync``
(``jupytext --sync``) writes the paired ``.ipynb`` that the book stages. The pair is in sync
when both hold the same cells: the same kinds, the same sources (up to leading and trailing
blank lines, which Jupytext does not round-trip) and the same tags (``parameters``,
``remove-cell``, ...). ``python -m reliable_ml.course.pairing`` reads every pair, rewrites
nothing, and exits 1 naming the pairs that differ (``make lint`` and the pre-commit hook run it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from reliable_ml.course.results import PROJECT_ROOT

NOTEBOOKS = PROJECT_ROOT / "notebooks"


def cells_of(nb) -> list[tuple[str, str, tuple[str, ...]]]:
    """``(kind, source, tags)`` of every cell: what a pair must agree on."""
    return [(c.cell_type, c.source.strip(), tuple(c.get("metadata", {}).get("tags", ()))) for c in nb.cells]


def first_difference(a: list, b: list) -> str:
    """Where two cell lists part, in words (1-based cell numbers)."""
    for i, (x, y) in enumerate(zip(a, b), start=1):
        if x != y:
            what = "kind" if x[0] != y[0] else "source" if x[1] != y[1] else "tags"
            return f"cell {i} ({what})"
    return f"{len(a)} cells in the .py, {len(b)} in the .ipynb"


def out_of_sync(folder: Path = NOTEBOOKS) -> list[str]:
    """The chapters ``folder/NN_*.py`` whose paired ``.ipynb`` is missing or holds other cells,
    each as ``"NN_name.ipynb (why)"``; an ``.ipynb`` without its ``.py`` counts too."""
    import jupytext

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no notebooks folder {folder}")
    sources = sorted(folder.glob("[0-9][0-9]_*.py"))
    problems = []
    for src in sources:
        ipynb = src.with_suffix(".ipynb")
        if not ipynb.exists():
            problems.append(f"{ipynb.name} (missing)")
            continue
        ours, theirs = cells_of(jupytext.read(src)), cells_of(jupytext.read(ipynb))
        if ours != theirs:
            problems.append(f"{ipynb.name} (differs from {src.name} at {first_difference(ours, theirs)})")
    stems = {p.stem for p in sources}
    problems += [f"{p.name} (no {p.stem}.py)" for p in sorted(folder.glob("[0-9][0-9]_*.ipynb")) if p.stem not in stems]
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1:
        print("usage: python -m reliable_ml.course.pairing [NOTEBOOKS_FOLDER]", file=sys.stderr)
        return 2
    folder = Path(args[0]) if args else NOTEBOOKS
    try:
        problems = out_of_sync(folder)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in problems:
        print(f"out of sync: {folder.name}/{line}", file=sys.stderr)
    if problems:
        print("edit the .py file, then run `make sync` (jupytext --sync) and commit both", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
