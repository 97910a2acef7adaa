"""The compute note: what the recorded run of a chapter cost, read from its results file.

A chapter shows it near its top (``compute_note(stem)``); when it runs it can only read the
*previous* recorded run, so the book stage (:func:`reliable_ml.course.book.stage_notebook`)
renders it again from the results file the run has just written (:func:`note_output`). The
notebook's build-cache key therefore need not cover ``results/``.
"""

from __future__ import annotations

from pathlib import Path

from reliable_ml.course import results
from reliable_ml.util import cachestats
from reliable_ml.util.notes import _in_kernel

CALL = "compute_note("  # how a chapter's cell calls it (the stage finds the cell by it)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} minutes"


def compute_note_text(stem: str, profile: str = "cpu", results_dir: Path | None = None) -> str:
    """What the recorded ``profile`` run of chapter ``stem`` cost, in Markdown: its measured
    ``wall_seconds``, device, model-cache state and longest section (``timings``), read from
    ``results/<profile>/<stem>.json`` (the committed results; ``$RELIABLE_ML_RESULTS`` or
    ``results_dir`` elsewhere), never typed by hand."""
    where = f"`results/{profile}/{stem}.json`"
    try:
        record = (
            results.load(stem, profile)
            if results_dir is None
            else results.read(Path(results_dir) / profile / f"{stem}.json")
        )
    except (FileNotFoundError, ValueError):
        return (
            f"**Measured cost.** No `{profile}` run of this chapter is recorded here yet ({where}); "
            f"`python -m reliable_ml run {stem} --profile {profile}` records one."
        )
    wall = record.get("wall_seconds")
    if not isinstance(wall, (int, float)):
        return f"**Measured cost.** The recorded `{profile}` run ({where}) holds no run time."
    when = str(record.get("created", ""))[:10]
    commit = record.get("commit", "unknown")
    return (
        f"**Measured cost.** The last recorded `{profile}` run of this chapter took {_duration(float(wall))} "
        f"on {record.get('device', 'an unrecorded device')}"
        + (f" ({when}, commit `{commit}`)" if when else f" (commit `{commit}`)")
        + f"; {cachestats.describe(record.get('model_cache'))}. "
        + _longest_section(record.get("timings"))
        + f"(Read from {where}, which each run rewrites.)"
    )


def _longest_section(timings) -> str:
    """The sentence naming the section that took longest (``timings``: section -> seconds, as
    :func:`reliable_ml.course.results.section_timings` records them), or ``""`` without any."""
    if not isinstance(timings, dict):
        return ""
    shown = {name: float(s) for name, s in timings.items() if isinstance(s, (int, float))}
    if not shown or sum(shown.values()) <= 0:
        return ""
    name = max(shown, key=shown.__getitem__)
    share = 100 * shown[name] / sum(shown.values())
    return f"Its longest section, *{name}*, took {_duration(shown[name])} ({share:.0f}% of the cells' time). "


def compute_note(stem: str, profile: str = "cpu") -> None:
    """Show :func:`compute_note_text` as Markdown (in a kernel), else print it. Returns nothing,
    so the cell shows no value of its own."""
    text = compute_note_text(stem, profile)
    if _in_kernel():
        from IPython.display import Markdown, display

        display(Markdown(text))
    else:
        print(text)


def note_output(stem: str, profile: str = "cpu", results_dir: Path | None = None):
    """The cell output (an nbformat ``display_data`` node) that shows the compute note."""
    import nbformat

    text = compute_note_text(stem, profile, results_dir)
    return nbformat.v4.new_output("display_data", data={"text/markdown": text, "text/plain": text})


def restage(nb, stem: str, profile: str = "cpu", results_dir: Path | None = None) -> bool:
    """Replace the outputs of ``nb``'s compute-note cell with the note read now (after the run
    wrote its results). Returns whether the notebook has such a cell."""
    for cell in nb.cells:
        if cell.cell_type == "code" and CALL in cell.source:
            cell.outputs = [note_output(stem, profile, results_dir)]
            return True
    return False
