"""Visible notes in a notebook's output: fallbacks, missing data, headless-mode remarks.

In a Jupyter kernel a note is an admonition box (rendered by the book's theme); in a plain
Python process it is printed to stderr. Either way it also goes to the ``warnings`` system
when ``kind`` is ``warning``, so it cannot pass unnoticed.
"""
from __future__ import annotations

import html
import re
import sys
from pathlib import Path
import warnings

KINDS = ("note", "warning", "important")


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def show_note(text: str, kind: str = "note", title: str | None = None) -> str:
    """Show ``text`` as a visible admonition; return the plain text that was shown."""
    if kind not in KINDS:
        raise ValueError(f"unknown note kind {kind!r}; allowed: {', '.join(KINDS)}")
    title = title or kind.capitalize()
    plain = f"{title.upper()}: {text}"
    if _in_kernel():
        from IPython.display import HTML, display

        body = "".join(f"<p>{html.escape(par)}</p>" for par in text.split("\n\n"))
        display(HTML(f'<div class="admonition {kind}"><p class="admonition-title">'
                     f"{html.escape(title)}</p>{body}</div>"))
    else:
        print(plain, file=sys.stderr)
    return plain


def show_fallback(info) -> bool:
    """If ``info`` (an ``ImageSetInfo``) is a fallback, show a loud warning; return whether it was."""
    if not getattr(info, "fallback_from", None):
        return False
    show_note(f"The dataset {info.fallback_from!r} is not available here, so this run uses "
              f"scikit-learn's bundled 8x8 digits instead. Every number and figure below is "
              f"labelled '{info.source}' and is NOT a {info.fallback_from} result. "
              f"Set RELIABLE_ML_DATA to a folder holding the data, or run with internet access.",
              kind="warning", title="Fallback data in use")
    return True


def show_missing(err: Exception, section: str, how: str | None = None) -> str:
    """Explain that ``section`` is skipped because its data is missing, and how to get it."""
    text = (f"The section '{section}' needs data that is not available here, so it is skipped: "
            f"{err}.")
    text += "\n\n" + (how or "Point RELIABLE_ML_DATA at a folder with the data in its upstream "
                             "layout, or run this notebook with internet access so it can download it.")
    return show_note(text, kind="warning", title="Data missing: section skipped")


INTERACTIVE_NOTE = ("This control is interactive: run this notebook in Jupyter (or open it with the "
                    "Colab/Binder launch buttons) to interact with it. The static figures below show every option.")


def show_interactive_note() -> str:
    """Say, next to a widget, that the static book cannot run it (run this notebook to interact)."""
    return show_note(INTERACTIVE_NOTE, kind="note", title="Run this notebook to interact")


def plain_value(value):
    """``value`` as a plain Python number or string (numpy and torch scalars converted), so that
    myst-nb's ``{glue:text}`` can format it (it parses the text/plain repr)."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(f"glue values must be numbers or strings; got {type(value).__name__} {value!r}")


GLUED: set[str] = set()  # the names this kernel has glued (see glue_missing)
GLUED_VALUES: dict = {}  # name -> what was glued, as plain JSON (see glued_values)


def glued_values() -> dict:
    """What this kernel has glued, ``name -> value``, as the results file stores it under
    ``"glued"``: numbers and strings as they are (NaN becomes ``null`` there), Markdown as
    ``{"markdown": text}``; figures and other objects are left out. The readable copies of the
    chapters (:mod:`reliable_ml.course.readable`) fill the prose from it."""
    return dict(GLUED_VALUES)


def _storable(value):
    if isinstance(value, (bool, int, float, str)):
        return value
    markdown = getattr(value, "_repr_markdown_", None)
    if markdown is not None:
        text = markdown()
        text = text[0] if isinstance(text, tuple) else text
        return {"markdown": text} if isinstance(text, str) else None
    return None


def glue_missing(stem: str, folder: str | Path = ".") -> list[str]:
    """Glue NaN for every name that chapter ``stem``'s prose quotes (``{glue:text}`name```) but
    this run did not glue, because a section was skipped for missing data (it shows a note);
    the book then still builds. Reads ``<folder>/<stem>.py`` (the runner executes chapters in
    ``notebooks/``); elsewhere, e.g. on Colab, it does nothing. Returns the names it glued."""
    source = Path(folder) / f"{stem}.py"
    if not source.exists():
        return []
    quoted = re.findall(r"\{glue(?::[a-z]+)?\}`([A-Za-z0-9_.]*[A-Za-z0-9_])", source.read_text())
    missing = sorted(set(quoted) - GLUED)
    for name in missing:
        glue(name, float("nan"))
    return missing


def glue(name: str, value, display: bool = False) -> None:
    """``myst_nb.glue`` of ``value`` as a plain number or string (:func:`plain_value`): myst-nb
    formats ``{glue:text}`name:.1f``` from the text repr, which for a numpy scalar reads
    ``np.float64(...)`` and breaks the book build. Other objects (Markdown, figures) are glued
    as they are. Returns nothing: a cell ending in ``glue(...)`` would otherwise show the value
    as a bare number under its figure (see :mod:`reliable_ml.course.pagecheck`)."""
    _glue(name, value, display)


def _glue(name: str, value, display: bool = False):
    try:
        plain = plain_value(value)
    except ValueError:  # a Markdown object or a figure: glued as it is
        plain = value
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # pragma: no cover - myst-nb comes with the book requirements
        return plain
    myst_glue(name, plain, display=display)
    GLUED.add(name)
    stored = _storable(plain)
    if stored is not None:
        GLUED_VALUES[name] = stored
    else:
        GLUED_VALUES.pop(name, None)
    return plain


def glue_values(values: dict) -> dict:
    """Glue every ``name: value`` for the book's ``{glue:text}`` roles (myst-nb ``glue``,
    not displayed); return the plain values. Without myst-nb nothing is glued."""
    return {name: _glue(name, value) for name, value in values.items()}


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} minutes"


def compute_note_text(stem: str, profile: str = "cpu") -> str:
    """What the recorded ``profile`` run of chapter ``stem`` cost, in Markdown: its measured
    ``wall_seconds``, device and model-cache state, read from ``results/<profile>/<stem>.json``
    (the committed results; ``$RELIABLE_ML_RESULTS`` elsewhere), never typed by hand."""
    from reliable_ml.util import cachestats
    from reliable_ml.course import results

    where = f"`results/{profile}/{stem}.json`"
    try:
        record = results.load(stem, profile)
    except (FileNotFoundError, ValueError):
        return (f"**Measured cost.** No `{profile}` run of this chapter is recorded here yet ({where}); "
                f"`python -m reliable_ml run {stem} --profile {profile}` records one.")
    wall = record.get("wall_seconds")
    if not isinstance(wall, (int, float)):
        return f"**Measured cost.** The recorded `{profile}` run ({where}) holds no run time."
    when = str(record.get("created", ""))[:10]
    commit = record.get("commit", "unknown")
    return (f"**Measured cost.** The last recorded `{profile}` run of this chapter took {_duration(float(wall))} "
            f"on {record.get('device', 'an unrecorded device')}"
            + (f" ({when}, commit `{commit}`)" if when else f" (commit `{commit}`)")
            + f"; {cachestats.describe(record.get('model_cache'))}. "
            f"(Read from {where}, which each run rewrites.)")


def compute_note(stem: str, profile: str = "cpu") -> None:
    """Show :func:`compute_note_text` as Markdown (in a kernel), else print it. Returns nothing,
    so the cell shows no value of its own."""
    text = compute_note_text(stem, profile)
    if _in_kernel():
        from IPython.display import Markdown, display

        display(Markdown(text))
    else:
        print(text)
