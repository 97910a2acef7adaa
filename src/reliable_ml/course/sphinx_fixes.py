"""A tiny Sphinx extension that keeps the built book free of console errors.

* sphinx-thebe registers its inline configuration script once per read phase, so pages can
  declare ``const THEBE_JS_URL`` twice (a SyntaxError in the browser): duplicate scripts are
  dropped from every page's context.
* pydata-sphinx-theme logs "invalid theme mode" when no default mode is configured (and
  sphinx-book-theme offers no option for it): pages get ``default_mode = "auto"``.

Enabled in ``_config.yml`` under ``sphinx.extra_extensions``.
"""
from __future__ import annotations

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


def setup(app) -> dict:
    app.connect("html-page-context", default_theme_mode, priority=900)
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
