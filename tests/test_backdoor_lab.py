"""Chapter 7's experiment helpers: seeds, summaries, results keys, on tiny digits runs."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest
import torch

from reliable_ml.pipeline import backdoor_lab as bl
from reliable_ml.pipeline import poisoning as po


def fake_runs(success: dict, clean: dict) -> pd.DataFrame:
    """Runs frame as badnets_sweep returns it, from {fraction: [per-seed values]}."""
    rows = [
        {"fraction": f, "seed": s, "poisoned": int(1000 * f), "hits": 0, "n": 100, "success": v, "clean": clean[f][s]}
        for f, vals in success.items()
        for s, v in enumerate(vals)
    ]
    runs = pd.DataFrame(rows)
    base = runs[runs["fraction"] == 0].set_index("seed")["clean"]
    runs["drop"] = 100 * (runs["seed"].map(base) - runs["clean"])
    return runs


def test_summary_spread_and_first_reliable_share_use_the_worst_seed():
    runs = fake_runs(
        {0.0: [0.0, 0.0, 0.0], 0.001: [0.95, 0.5, 0.99], 0.01: [0.97, 0.91, 0.99]},
        {0.0: [0.98, 0.97, 0.98], 0.001: [0.98, 0.97, 0.98], 0.01: [0.975, 0.965, 0.975]},
    )
    summary = bl.sweep_summary(runs)
    assert summary.loc[0.001, "seeds"] == 3
    assert summary.loc[0.001, "success sd"] == pytest.approx(100 * np.std([0.95, 0.5, 0.99], ddof=1))
    assert summary.loc[0.001, "success min (%)"] == pytest.approx(50)
    assert summary.loc[0.01, "drop mean (points)"] == pytest.approx(0.5)
    # 0.1% has a mean above 80% but one seed at 50%: the first reliable share is 1%
    assert bl.first_reliable(summary) == 0.01
    assert bl.first_reliable(summary, min_success=99.5) is None
    numbers = bl.sweep_numbers(summary)
    assert numbers["bd_first"] == pytest.approx(1.0) and numbers["bd_target"] == "met"
    assert numbers["bd_low_min"] == pytest.approx(50) and numbers["bd_low_max"] == pytest.approx(99)


def test_sweep_figures_keep_the_historical_keys_and_add_the_spread():
    runs = fake_runs({0.0: [0.0, 0.02], 0.005: [0.85, 1.0]}, {0.0: [0.98, 0.96], 0.005: [0.97, 0.96]})
    fig = bl.sweep_figures(runs)
    assert fig["attack_success_by_poison_fraction"] == {"0": pytest.approx(0.01), "0.005": pytest.approx(0.925)}
    assert fig["attack_success_sd_by_poison_fraction"]["0.005"] == pytest.approx(np.std([0.85, 1.0], ddof=1))
    assert fig["attack_success_by_seed_by_poison_fraction"]["0.005"] == [0.85, 1.0]
    assert fig["attack_success_range_by_poison_fraction"]["0.005"] == [0.85, 1.0]
    assert fig["clean_acc_drop_points_by_poison_fraction"]["0.005"] == pytest.approx(0.5)
    assert fig["n_seeds"] == 2 and fig["seeds"] == [0, 1]
    assert fig["first_reliable_poison_fraction"] is None and fig["target_met"] is False


@pytest.fixture(scope="module")
def lab():
    return bl.setup("digits", 400, epochs=1, target=0, trigger_size=2, seed=0, device=torch.device("cpu"))


def test_setup_splits_disjoint_parts_and_rejects_bad_sizes(lab):
    assert len(lab.y_train) == 400 and lab.image_size == 8 and lab.x_test.dtype == torch.uint8
    assert len(lab.y_train) + len(lab.y_other) == 1347  # digits' training split
    with pytest.raises(ValueError, match="n_train"):
        bl.setup("digits", 10, epochs=1, target=0, trigger_size=2, seed=0, device=torch.device("cpu"))
    with pytest.raises(ValueError, match="target class 12"):
        bl.setup("digits", 400, epochs=1, target=12, trigger_size=2, seed=0, device=torch.device("cpu"))


def test_badnets_sweep_one_row_per_share_and_seed(lab):
    runs, kept = bl.badnets_sweep(lab, [0.05], seeds=2, keep=(0.05,), progress=False)
    assert sorted(runs["fraction"].unique()) == [0.0, 0.05]  # the clean baseline is always added
    assert sorted(runs["seed"].unique()) == [0, 1] and len(runs) == 4
    assert (runs.loc[runs["fraction"] == 0, "drop"] == 0).all()
    assert (runs.loc[runs["fraction"] == 0.05, "poisoned"] == 20).all()
    assert runs["success"].between(0, 1).all() and set(kept) == {0.05}
    model, poisoned = kept[0.05]
    assert (poisoned.y[poisoned.idx] == 0).all()
    with pytest.raises(ValueError, match="seeds"):
        bl.badnets_sweep(lab, [0.05], seeds=0)
    with pytest.raises(ValueError, match="poison fraction"):
        bl.badnets_sweep(lab, [5], seeds=1)


def test_bg_gap_is_mixed_same_minus_mixed_rand():
    rows = [
        {"model": "cue", "seed": s, "test set": t, "accuracy (%)": acc}
        for s, (same, rand) in enumerate(((99.0, 70.0), (98.0, 72.0)))
        for t, acc in ((bl.CUE_TESTS[1], same), (bl.CUE_TESTS[2], rand))
    ]
    assert bl.bg_gap(pd.DataFrame(rows)).tolist() == [29.0, 26.0]


def test_stamp_by_hand_matches_the_package(lab):
    x = lab.x_train[:4].float() / 255
    k, side = 2, lab.image_size
    by_hand = x.clone()
    by_hand[..., side - 1 - k : side - 1, side - 1 - k : side - 1] = lab.trigger.pattern
    assert torch.equal(by_hand, po.stamp(x, lab.trigger))
