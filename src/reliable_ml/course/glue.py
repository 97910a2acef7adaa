"""Glue: the numbers a chapter's prose quotes, handed from the run to the book.

A chapter computes a value and calls :func:`glue` (stored as ``myst_nb.glue`` stores a plain number or
string); its prose quotes it with ``{glue:text}`name:.1f```, so no number in the text is
typed by hand. What a kernel glued is kept in :data:`GLUED_VALUES`; :class:`reliable_ml.course.Run`
hands it to the results file (``"glued"``), from which the readable copies fill their prose.
Science modules return values and never glue: this module is the chapters' (course machinery).
"""

from __future__ import annotations

import re
from pathlib import Path


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
NOT_MEASURED = "*(not measured in this run: the section above was skipped; see its note)*"


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
    """Glue NaN (for ``{glue:md}``, the Markdown :data:`NOT_MEASURED`) for every name that
    chapter ``stem``'s prose quotes (``{glue:text}`name```) but
    this run did not glue, because a section was skipped for missing data (it shows a note);
    the book then still builds. Reads ``<folder>/<stem>.py`` (the runner executes chapters in
    ``notebooks/``); elsewhere, e.g. on Colab, it does nothing. Returns the names it glued."""
    source = Path(folder) / f"{stem}.py"
    if not source.exists():
        return []
    from IPython.display import Markdown  # the book's kernels have IPython

    text = source.read_text()
    quoted = re.findall(r"\{glue(?::[a-z]+)?\}`([A-Za-z0-9_.]*[A-Za-z0-9_])", text)
    as_markdown = set(re.findall(r"\{glue:md\}`([A-Za-z0-9_.]*[A-Za-z0-9_])", text))
    missing = sorted(set(quoted) - GLUED)
    for name in missing:
        # ``{glue:md}`` needs text/markdown output (a NaN float has none and fails the build)
        glue(name, Markdown(NOT_MEASURED) if name in as_markdown else float("nan"))
    return missing


#: The MIME prefix myst-nb gives a glued value that is not displayed (``myst_nb.ext.glue.GLUE_PREFIX``).
GLUE_PREFIX = "application/papermill.record/"


def _emit(name: str, value, display: bool = False) -> None:
    """Store ``value`` in the cell's outputs the way ``myst_nb.glue`` (myst-nb 1.x,
    ``myst_nb/ext/glue/__init__.py``) does, which the book build reads back: IPython's display
    formats of ``value``, each MIME type prefixed by :data:`GLUE_PREFIX` unless ``display``, with
    ``metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}``, published raw.

    Written here rather than imported (issue 33): ``import myst_nb`` imports nbformat, whose
    jsonschema builds 38 Lark grammars (rfc3987-syntax) at import, about 3 s of every chapter's
    kernel. ``tests/test_glue_emit.py`` checks the outputs against ``myst_nb.glue``'s."""
    import IPython
    from IPython import display as ipy

    bundle, metadata = IPython.core.formatters.format_display_data(value)
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = dict(name=name, mime_prefix=prefix)
    ipy.display({prefix + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


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
    _emit(name, plain, display)
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


def glue_numbers(values: dict, scale: float = 1.0) -> None:
    """Glue every ``name: value`` as a float times ``scale`` (e.g. 100 for percent), not displayed,
    so that chapter prose can quote it with ``{glue:text}`name:.1f```."""
    for name, value in values.items():
        glue(name, scale * float(value))


def glue_text(name: str, text: str) -> None:
    """Glue a sentence as Markdown (quote it with ``{glue:md}`name```)."""
    from IPython.display import Markdown

    glue(name, Markdown(text))
