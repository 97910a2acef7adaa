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


def test_per_step_curves_mark_each_collapse_where_the_rule_found_it():
    runs = {
        "arm": {
            "0": {"steps": [10, 20, 30], "pgd_acc": [0.3, 0.0, 0.0], "fgsm_train_acc": [0.5, 0.9, 0.9]},
            "1": {"steps": [10, 20, 30], "pgd_acc": [0.3, 0.3, 0.3], "fgsm_train_acc": [0.5, 0.5, 0.5]},
        }
    }
    fig = rp.per_step_curves(runs, "toy", "caption", collapsed={"arm": {"0": 20, "1": None}}, floor=0.05)
    ax = fig.axes[0]
    marks = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert len(marks) == 1 and list(marks[0].get_xdata()) == [20] and list(marks[0].get_ydata()) == [0.0]
    assert all(a.get_xlabel() == "optimizer step" for a in fig.axes)
