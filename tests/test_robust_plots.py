"""Figures of chapters 04-06 (their sentences: tests/test_robust_verdicts.py)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

from reliable_ml.robust import plots as rp  # noqa: E402


def test_figures_have_labelled_axes():
    rows = [
        {"arm": a, "seed": s, "epoch": e, "train_acc": 0.5, "val_clean_acc": 0.9, "val_robust_acc": 0.3, "seconds": 1.0}
        for a in ("x", "y")
        for s in (0, 1)
        for e in (1, 2)
    ]
    fig = rp.fast_training(rows, "toy data", "caption")
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)
    fig = rp.rst_arms([{"arm": "a", "seed": 0, "clean_acc": 0.9, "robust_acc": 0.5}], {"a": "arm a"}, "toy", "t", "c")
    assert fig.axes[0].get_ylabel() == "test accuracy (%)"
    with pytest.raises(ValueError, match="at least one value"):
        rp.mean_and_spread([])
