"""reliable_ml.adaptive: best-of-k optimism, the worst-case boosting attack, leaderboards."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st
from scipy.integrate import quad

from reliable_ml import adaptive


def test_best_of_k_unbiased_for_k1_and_grows_with_k_for_independent_models():
    correct = adaptive.independent_correct(np.full(30, 0.8), 4_000, seed=0)
    opt = adaptive.best_of_k_optimism(correct, 500, [1, 5, 30], n_trials=300, seed=0)
    assert opt.shape == (300, 3) and list(opt.columns) == [1, 5, 30]
    mean = opt.mean()
    assert abs(mean[1]) < 0.004
    assert 0 < mean[5] < mean[30]
    # theory: about sd * E[max of k standard normals], sd = sqrt(p (1 - p) / n_holdout)
    sd = np.sqrt(0.8 * 0.2 / 500)
    e_max30 = quad(lambda z: z * 30 * st.norm.pdf(z) * st.norm.cdf(z) ** 29, -10, 10)[0]
    assert e_max30 == pytest.approx(2.04, abs=0.01)
    assert mean[30] == pytest.approx(sd * e_max30, rel=0.2)


def test_best_of_k_identical_models_have_no_optimism():
    row = np.random.default_rng(0).random(2_000) < 0.9
    correct = np.tile(row, (10, 1))
    opt = adaptive.best_of_k_optimism(correct, 500, [1, 10], n_trials=200, seed=0)
    assert np.allclose(opt[1], opt[10])  # selecting among copies = no selection


def test_best_of_k_bad_input():
    correct = np.ones((4, 100), dtype=bool)
    with pytest.raises(ValueError, match=r"k must lie in \[1, 4\]"):
        adaptive.best_of_k_optimism(correct, 50, [5])
    with pytest.raises(ValueError, match="n_holdout"):
        adaptive.best_of_k_optimism(correct, 0, [1])
    with pytest.raises(ValueError, match="both sizes > 0"):
        adaptive.best_of_k_optimism(np.ones((0, 10)), 5, [1])


def test_boosting_attack_overfits_holdout_but_not_fresh():
    n = 2_000
    curve = adaptive.boosting_attack(n, [10, 500, 2 * n], seed=0)
    assert curve.holdout_acc.shape == (3,) and np.all(np.diff(curve.n_kept) >= 0)
    assert curve.holdout_acc[-1] > curve.holdout_acc[0]
    lo, hi = st.binomtest(n // 2, n).proportion_ci(method="exact")
    gap = curve.holdout_acc[-1] - curve.fresh_acc[-1]
    assert gap > 4 * (hi - lo) / 2  # several times the sampling half-width
    assert abs(curve.fresh_acc[-1] - 0.5) < 3 * np.sqrt(0.25 / n)
    # about half of the random queries beat 50% on the holdout
    assert curve.n_kept[-1] / (2 * n) == pytest.approx(0.5, abs=0.05)


def test_boosting_attack_bad_input():
    with pytest.raises(ValueError, match="positive"):
        adaptive.boosting_attack(0, [10])
    with pytest.raises(ValueError, match="increasing"):
        adaptive.boosting_attack(100, [10, 5])


def test_vote_ensembles_majority():
    preds = np.array([[0, 1, 2, 3], [0, 1, 2, 0], [0, 2, 2, 1]])
    ens = adaptive.vote_ensembles(preds, 2, 3, n_classes=4)
    assert ens.shape == (2, 4) and np.array_equal(ens[0], [0, 1, 2, 0])  # last column: tie -> smallest id
    with pytest.raises(ValueError, match=r"\[1, 3\]"):
        adaptive.vote_ensembles(preds, 2, 4, n_classes=4)


def test_leaderboard_split_and_scores():
    rng = np.random.default_rng(0)
    correct = rng.random((20, 1_000)) < 0.7
    board, public = adaptive.leaderboard(correct, 0.3, seed=1)
    assert public.sum() == 300 and board.shape == (20, 2)
    assert np.allclose(board["public"], correct[:, public].mean(1))
    assert np.allclose(board["private"], correct[:, ~public].mean(1))
    with pytest.raises(ValueError, match="public_fraction"):
        adaptive.leaderboard(correct, 1.0)


def test_selection_effect_is_zero_for_identical_submissions_and_has_one_row_per_split():
    rng = np.random.default_rng(0)
    row = rng.random(1000) < 0.8
    same = np.tile(row, (20, 1))
    effect = adaptive.selection_effect(same, 0.3, n_splits=4, seed=0)
    assert len(effect) == 4
    assert np.allclose(effect["team-selected"], effect["all submissions"])


def test_selection_effect_is_positive_for_many_equal_independent_submissions():
    rng = np.random.default_rng(1)
    subs = rng.random((400, 1000)) < 0.7  # equal accuracy, independent errors: selection only finds noise
    effect = adaptive.selection_effect(subs, 0.3, n_splits=3, seed=0)
    assert (effect["team-selected"] > effect["all submissions"]).all()


def test_team_selection_keeps_the_best_public_score_per_team():
    board = pd.DataFrame({"public": [0.1, 0.9, 0.5, 0.7], "private": [0.2, 0.3, 0.4, 0.5]})
    sel = adaptive.team_selection(board, 1, seed=0)
    assert len(sel) == 1 and sel["public"].iloc[0] == 0.9
    with pytest.raises(ValueError, match="n_teams"):
        adaptive.team_selection(board, 0)


def test_selection_numbers_interval_and_verdicts():
    effect = pd.DataFrame({"all submissions": [0.1, 0.2, 0.0, 0.1], "team-selected": [0.3, 0.1, 0.1, 0.0]})
    n = adaptive.selection_numbers(effect)
    diff = effect["team-selected"] - effect["all submissions"]
    assert n["lb_effect"] == pytest.approx(diff.mean()) and n["lb_effect_lo"] < 0 < n["lb_effect_hi"]
    assert n["lb_verdict"].startswith("contains zero") and n["lb_sign"] == "changes from split to split"
    clear = pd.DataFrame({"all submissions": [0.0, 0.0, 0.0], "team-selected": [1.0, 1.1, 0.9]})
    n = adaptive.selection_numbers(clear)
    assert n["lb_effect_lo"] > 0 and n["lb_verdict"].startswith("excludes zero")
