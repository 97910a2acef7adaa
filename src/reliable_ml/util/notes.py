"""Visible notes in a notebook's output: fallbacks, missing data, headless-mode remarks.

Science modules show notes; they never glue numbers into the book's prose (that is
:mod:`reliable_ml.course.glue`, called by the chapters).

In a Jupyter kernel a note is an admonition box (rendered by the book's theme); in a plain
Python process it is printed to stderr. Either way it also goes to the ``warnings`` system
when ``kind`` is ``warning``, so it cannot pass unnoticed.
"""

from __future__ import annotations

import html
import sys

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
        display(
            HTML(f'<div class="admonition {kind}"><p class="admonition-title">{html.escape(title)}</p>{body}</div>')
        )
    else:
        print(plain, file=sys.stderr)
    return plain


def show_fallback(info) -> bool:
    """If ``info`` (an ``ImageSetInfo``) is a fallback, show a loud warning; return whether it was."""
    if not getattr(info, "fallback_from", None):
        return False
    show_note(
        f"The dataset {info.fallback_from!r} is not available here, so this run uses "
        f"scikit-learn's bundled 8x8 digits instead. Every number and figure below is "
        f"labelled '{info.source}' and is NOT a {info.fallback_from} result. "
        f"Set RELIABLE_ML_DATA to a folder holding the data, or run with internet access.",
        kind="warning",
        title="Fallback data in use",
    )
    return True


def show_missing(err: Exception, section: str, how: str | None = None) -> str:
    """Explain that ``section`` is skipped because its data is missing, and how to get it."""
    text = f"The section '{section}' needs data that is not available here, so it is skipped: {err}."
    text += "\n\n" + (
        how
        or "Point RELIABLE_ML_DATA at a folder with the data in its upstream "
        "layout, or run this notebook with internet access so it can download it."
    )
    return show_note(text, kind="warning", title="Data missing: section skipped")


INTERACTIVE_NOTE = (
    "This control is interactive: run this notebook in Jupyter (or open it with the "
    "Colab/Binder launch buttons) to interact with it. The static figures below show every option."
)


def show_interactive_note() -> str:
    """Say, next to a widget, that the static book cannot run it (run this notebook to interact)."""
    return show_note(INTERACTIVE_NOTE, kind="note", title="Run this notebook to interact")
