"""The chapters' glue writes what ``myst_nb.glue`` writes (the book build reads it back), without
importing myst-nb in the kernel (issue 33: that import costs about 3 s of every chapter)."""

import subprocess
import sys

import pytest
from IPython.display import Markdown

from reliable_ml.course import glue

myst_glue = pytest.importorskip("myst_nb.ext.glue")


def _published(monkeypatch, call):
    """What ``call`` hands IPython's display: (args, kwargs) per call."""
    seen = []
    fake = lambda *args, **kwargs: seen.append((args, kwargs))  # noqa: E731
    monkeypatch.setattr("IPython.display.display", fake)
    monkeypatch.setattr(myst_glue, "ipy_display", fake)
    call()
    return seen


@pytest.mark.parametrize("value", [1.5, 449, "a phrase", True, Markdown("*not measured*")])
@pytest.mark.parametrize("display", [False, True])
def test_emit_matches_myst_nb(monkeypatch, value, display):
    ours = _published(monkeypatch, lambda: glue._emit("name_1", value, display))
    theirs = _published(monkeypatch, lambda: myst_glue.glue("name_1", value, display))
    assert ours == theirs and len(ours) == 1
    (bundle,), kwargs = ours[0]
    assert kwargs["raw"] is True and kwargs["metadata"]["scrapbook"]["name"] == "name_1"
    assert all(k.startswith(glue.GLUE_PREFIX) != display for k in bundle)


def test_prefix_is_myst_nbs():
    assert glue.GLUE_PREFIX == myst_glue.GLUE_PREFIX


def test_glue_imports_neither_myst_nb_nor_nbformat():
    code = (
        "import sys\nfrom unittest import mock\nfrom reliable_ml.course import glue\n"
        "with mock.patch('IPython.display.display'):\n    glue.glue('a', 1.5)\n"
        "print(sorted(m for m in ('myst_nb', 'nbformat', 'jsonschema') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
