"""A tiny Sphinx extension that keeps the built book free of console errors.

* sphinx-thebe registers its inline configuration script once per read phase, so pages can
  declare ``const THEBE_JS_URL`` twice (a SyntaxError in the browser): duplicate scripts are
  dropped from every page's context.
* pydata-sphinx-theme logs "invalid theme mode" when no default mode is configured (and
  sphinx-book-theme offers no option for it): pages get ``default_mode = "auto"``.
* The Binder and Colab launch buttons of a chapter open its readable copy
  ``lab/NN_name.ipynb`` (prose with the run's numbers, see :mod:`reliable_ml.course.readable`),
  not the MyST source ``notebooks/NN_name.ipynb`` whose roles only the book renders.

Enabled in ``_config.yml`` under ``sphinx.extra_extensions``.
"""

from __future__ import annotations

import re
from typing import Any


def _script_key(script: Any) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    return (getattr(script, "filename", str(script)) or "", tuple(sorted((k, str(v)) for k, v in attributes.items())))


def dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """Remove repeated entries of ``context['script_files']`` (same file or same inline body)."""
    seen: set[tuple] = set()
    unique = []
    for script in context.get("script_files", []):
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    if "script_files" in context:
        context["script_files"] = unique


def default_theme_mode(app, pagename, templatename, context, doctree) -> None:
    if not context.get("default_mode"):
        context["default_mode"] = "auto"


READABLE_DIR = "lab"
_CHAPTER_PAGE = re.compile(r"^notebooks/(\d\d_[\w-]+)$")


def readable_url(url: str, pagename: str) -> str:
    """A launch-button ``url`` of chapter page ``notebooks/NN_name`` pointed at the readable
    copy ``lab/NN_name.ipynb`` (other pages and URLs unchanged)."""
    match = _CHAPTER_PAGE.match(pagename)
    if not match:
        return url
    return url.replace(f"{pagename}.ipynb", f"{READABLE_DIR}/{match.group(1)}.ipynb")


def launch_readable_copies(app, pagename, templatename, context, doctree) -> None:
    """Point the Binder/Colab/JupyterHub buttons of chapter pages at the readable copies."""

    def walk(buttons):
        for button in buttons or []:
            if isinstance(button, dict):
                if button.get("label") == "launch-buttons" or button.get("type") == "group":
                    walk(button.get("buttons"))
                elif isinstance(button.get("url"), str) and button.get("text") != "Download":
                    button["url"] = readable_url(button["url"], pagename)

    launch = [
        b for b in context.get("header_buttons", []) or [] if isinstance(b, dict) and b.get("label") == "launch-buttons"
    ]
    walk(launch)


def setup(app) -> dict:
    app.connect("html-page-context", launch_readable_copies, priority=900)
    app.connect("html-page-context", default_theme_mode, priority=900)
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
