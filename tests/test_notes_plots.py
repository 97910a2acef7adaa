"""Visible notes and the shared figure helpers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

from reliable_ml.course import glue
from reliable_ml.data import DataUnavailable, ImageSetInfo
from reliable_ml.util import notes, plots


def test_show_note_outside_a_kernel_prints_to_stderr(capsys):
    text = notes.show_note("data is missing", kind="warning")
    assert text == "WARNING: data is missing" and "data is missing" in capsys.readouterr().err
    with pytest.raises(ValueError, match="note, warning, important"):
        notes.show_note("x", kind="loud")


def test_show_fallback_only_for_fallbacks(capsys):
    info = ImageSetInfo(
        "digits",
        "test",
        "scikit-learn digits (fallback: mnist unavailable)",
        3,
        ("0",),
        (1, 8, 8),
        False,
        "sklearn",
        fallback_from="mnist",
    )
    assert notes.show_fallback(info) and "NOT a mnist result" in capsys.readouterr().err
    plain = ImageSetInfo("digits", "test", "digits", 3, ("0",), (1, 8, 8), False, "sklearn")
    assert not notes.show_fallback(plain)


def test_show_missing_names_section_and_error(capsys, tmp_path):
    notes.show_missing(DataUnavailable("qmnist", tmp_path, "upstream"), "writers")
    err = capsys.readouterr().err
    assert "'writers'" in err and "qmnist" in err and "RELIABLE_ML_DATA" in err


def test_image_grid_and_caption():
    x = np.random.default_rng(0).integers(0, 256, (7, 3, 4, 4), dtype=np.uint8)
    fig = plots.image_grid(x, [str(i) for i in range(7)], ncols=4)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 7 and len(fig.axes) == 8
    plots.source_caption(fig, "CIFAR-10 (JPEG q75 copy)")
    assert any("Data: CIFAR-10 (JPEG q75 copy)" in t.get_text() for t in fig.texts)
    with pytest.raises(ValueError, match="shape"):
        plots.image_grid(np.zeros((2, 4, 4)))


def test_identity_line_spans_both_axes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.scatter([0.2, 0.9], [0.1, 0.5])
    plots.identity_line(ax)
    assert ax.get_xlim() == ax.get_ylim()


def test_hide_ticks_on_one_axis_and_a_grid():
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3)
    plots.hide_ticks(axes)
    fig2, ax = plt.subplots()
    plots.hide_ticks(ax)
    for a in (*axes.flat, ax):
        assert len(a.get_xticks()) == 0 and len(a.get_yticks()) == 0
    plt.close(fig)
    plt.close(fig2)


def test_plain_value_converts_scalars_and_refuses_containers():
    import torch

    assert glue.plain_value(np.float64(0.25)) == 0.25 and type(glue.plain_value(np.float64(0.25))) is float
    assert glue.plain_value(torch.tensor(3)) == 3 and glue.plain_value("met") == "met"
    with pytest.raises(ValueError, match="numbers or strings"):
        glue.plain_value([1, 2])
    assert glue.glue_values({"a": np.int64(2)}) == {"a": 2}


def test_glue_missing_fills_only_the_names_the_prose_quotes_and_the_run_skipped(tmp_path, monkeypatch):
    glued = {}
    monkeypatch.setattr(glue, "_emit", lambda name, value, display=False: glued.__setitem__(name, value))
    monkeypatch.setattr(glue, "GLUED", set())
    (tmp_path / "42_demo.py").write_text("# %% [markdown]\n# rose {glue:text}`a:.1f` and {glue}`b`, {glue:md}`c`\n")
    glue.glue("a", np.float64(1.5))
    assert glued["a"] == 1.5 and type(glued["a"]) is float
    assert glue.glue_missing("42_demo", tmp_path) == ["b", "c"]
    assert np.isnan(glued["b"])
    assert glued["c"]._repr_markdown_() == glue.NOT_MEASURED  # {glue:md} needs text/markdown
    assert glue.glue_missing("no_such_chapter", tmp_path) == []
