"""Figures and sentences of chapters 04-06: the numbers in the sentences are the numbers given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from reliable_ml.robust import plots as rp  # noqa: E402


def test_rst_summary_differences_per_seed():
    per_seed = [(0.80, 0.84, 0.90), (0.82, 0.83, 0.88)]
    arms = pd.DataFrame(
        [
            {"arm": a, "seed": s, "robust_acc": v}
            for s, vals in enumerate(per_seed)
            for a, v in zip(("labeled_only", "rst", "ceiling"), vals)
        ]
    )
    out = rp.rst_summary(arms, [0.9, 0.92])
    assert out["gain"].tolist() == pytest.approx([4.0, 1.0])
    assert out["noise_cost"].tolist() == pytest.approx([6.0, 5.0])
    assert out["pool_gain"].tolist() == pytest.approx([10.0, 6.0])
    assert out["share"] == pytest.approx(5.5 / 8.0)
    assert "+2.5 (seeds: +4.0, +1.0)" in out["text"] and "69%" in out["text"]


def test_size_curve_summary_says_which_curve_is_flatter():
    points = ((100, 0.80, 0.50, 1.0), (1000, 0.94, 0.80, 0.95), (3000, 0.95, 0.86, 0.9))
    rows = [
        {"n_train": n, "training": "adv", "seed": s, "clean test": c, "robust test": r, "robust train": rt}
        for s in range(3)
        for n, c, r, rt in points
    ]
    out = rp.size_curve_summary(pd.DataFrame(rows), "adv")
    assert out["gains"] == pytest.approx({"clean test": 1.0, "robust test": 6.0})
    assert "the clean curve is the flatter" in out["text"] and out["spread"] == pytest.approx(0.0)
    assert out["gap"][100] == pytest.approx(50.0)


def test_verdicts_follow_the_numbers():
    assert "cannot tell" in rp.interval_verdict(-0.1, 0.3, "X")
    assert "above 0" in rp.interval_verdict(0.1, 0.3, "X") and "below 0" in rp.interval_verdict(-0.3, -0.1, "X")


def test_overfitting_verdict_is_relative_to_each_runs_peak():
    from reliable_ml.robust.train import collapse_summary

    curves = {"fgsm": {"0": [30.0, 60.0, 2.0], "1": [5.0, 9.0, 9.0]}, "rs": {"0": [40.0, 70.0, 75.0]}}
    summary = {arm: collapse_summary(c) for arm, c in curves.items()}
    assert summary["fgsm"]["per_seed"]["0"] == {
        "peak": 60.0,
        "peak_epoch": 2,
        "final": 2.0,
        "drop": 58.0,
        "verdict": "collapsed",
    }
    assert summary["fgsm"]["per_seed"]["1"]["verdict"] == "never robust"  # 9% is under-trained, not "held"
    assert summary["rs"]["n_held"] == 1
    text = rp.overfitting_verdict(summary, "fgsm", "rs")
    assert "1 of 2 seeds collapsed (largest drop: from 60.0% at epoch 2 to 2.0%)" in text
    assert "1 never became robust (peak at most 9.0%)" in text and "1 held" in text


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


def test_square_note_flags_a_stronger_gradient_free_attack():
    assert "gradient masking" in rp.square_note({"pgd": 0.81, "apgd-t": 0.80, "square": 0.75})
    assert "at least as strong" in rp.square_note({"pgd": 0.70, "square": 0.75})
    assert "not run" in rp.square_note({"pgd": 0.70})


def test_rst_summary_lists_paired_intervals():
    arms = pd.DataFrame(
        [{"arm": a, "seed": 0, "robust_acc": v} for a, v in (("labeled_only", 0.8), ("rst", 0.83), ("ceiling", 0.9))]
    )
    out = rp.rst_summary(arms, [0.9], [{"diff": 0.03, "lo": 0.01, "hi": 0.05, "n": 1000}])
    assert "seed 0 [+1.0, +5.0]" in out["text"]
