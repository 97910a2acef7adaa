"""reliable_ml.shift.adaptive: best-of-k optimism, the worst-case boosting attack, leaderboards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st
from scipy.integrate import quad

from reliable_ml.shift import adaptive


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
    from scipy import stats as st

    effect = pd.DataFrame({"all submissions": [0.1, 0.2, 0.0, 0.1], "team-selected": [0.3, 0.1, 0.1, 0.0]})
    n, verdicts = adaptive.selection_numbers(effect)
    diff = effect["team-selected"] - effect["all submissions"]
    ref = st.ttest_rel(effect["team-selected"], effect["all submissions"])
    assert n["lb_effect"] == pytest.approx(diff.mean()) and n["lb_effect_lo"] < 0 < n["lb_effect_hi"]
    assert (n["lb_effect_lo"], n["lb_effect_hi"]) == pytest.approx(tuple(ref.confidence_interval(0.95)))
    assert verdicts["selection_effect"]["p_value"] == pytest.approx(ref.pvalue)
    assert n["lb_verdict"].startswith("no different") and n["lb_pos"] == 2 and n["lb_splits"] == 4
    clear = pd.DataFrame({"all submissions": [0.0, 0.0, 0.0], "team-selected": [1.0, 1.1, 0.9]})
    n, verdicts = adaptive.selection_numbers(clear)
    assert n["lb_effect_lo"] > 0 and n["lb_verdict"].startswith(
        "larger, so choosing by the public score inflated it by"
    )
    assert (
        n["lb_sel_words"].startswith("higher on the public part")
        and verdicts["selection_effect"]["direction"] == "higher"
    )
    # the sentence the prose check once flagged: "scored -0.04 points better on the public part"
    worse = pd.DataFrame({"all submissions": [0.0, 0.0, 0.0], "team-selected": [-1.0, -1.1, -0.9]})
    n, _ = adaptive.selection_numbers(worse)
    assert n["lb_sel_words"] == "lower on the public part than on the private part by 1.00 points [0.75, 1.25]"
    assert n["lb_verdict"].startswith("smaller, so the selected submissions did better in private by 1.00 points")
    n, verdicts = adaptive.selection_numbers(worse.head(1))
    assert verdicts == {} and np.isnan(n["lb_effect_lo"]) and n["lb_verdict"].startswith("(one split")


# ----------------------------------------------------------------------------- attack, Ladder, real boards
def test_ladder_moves_only_for_clear_gains_and_rounds():
    shown = adaptive.ladder_scores([0.5, 0.505, 0.52, 0.515, 0.54], 0.01)
    assert np.allclose(shown, [0.5, 0.5, 0.52, 0.52, 0.54])
    with pytest.raises(ValueError, match="eta"):
        adaptive.ladder_scores([0.5], 0)


def test_attack_overfits_the_holdout_not_fresh_points_and_the_ladder_limits_it():
    curves = adaptive.attack_over_seeds(1000, [50, 2000], 0.02, range(3))
    last = curves.xs(2000, level="queries")
    assert (last["holdout_optimism"] > 10).all()  # theory: about 0.8 sqrt(q / n) / 2 ~ 28 points
    assert abs(last["fresh_optimism"].mean()) < 5  # coin flips on fresh points
    assert (last["ladder_holdout_optimism"] < last["holdout_optimism"] / 2).all()
    first = curves.xs(50, level="queries")
    assert last["holdout_optimism"].mean() > first["holdout_optimism"].mean()


def test_attack_queries_are_reproducible_and_checked():
    a, b = adaptive.attack_queries(10, 4, seed=3), adaptive.attack_queries(10, 4, seed=3)
    assert np.array_equal(a[1], b[1]) and set(np.unique(a[1])) == {-1, 1} and a[0].shape == (20,)
    with pytest.raises(ValueError, match="increasing"):
        adaptive.attack_curves(10, [5, 3], 0.01)


def test_public_vs_private_follows_plot_kaggle_rule():
    public = pd.DataFrame(
        {"team": ["a", "b", "c", "d", "a"], "score": [0.9, 0.8, 0.0, 0.7, 0.1], "entries": [3, 1, 5, 2, 9]}
    )
    private = pd.DataFrame({"team": ["d", "a", "c", "b"], "score": [0.75, 0.7, 0.6, 0.5], "entries": [2, 3, 5, 4]})
    both = adaptive.public_vs_private(public, private)
    # b has 1 public entry, c a public score of 0, a's duplicate row is dropped
    assert both.to_dict("list") == {"team": ["a", "d"], "public": [0.9, 0.7], "private": [0.7, 0.75]}


def test_board_summary_known_values_and_lower_is_better():
    scores = pd.DataFrame({"team": list("abcd"), "public": [0.9, 0.8, 0.7, 0.6], "private": [0.7, 0.85, 0.6, 0.5]})
    s = adaptive.board_summary(scores, higher_is_better=True, top=2)
    assert s["teams"] == 4 and s["winner_private_rank"] == 2
    assert np.isclose(s["median_public_minus_private"], 0.1) and np.isclose(s["top_spread"], 0.15)
    assert np.isclose(s["spearman"], 0.8)
    low = adaptive.board_summary(scores.assign(public=-scores.public + 2, private=-scores.private + 2), False, top=2)
    assert low["winner_private_rank"] == 2 and np.isclose(low["median_optimism"], 0.1)
    with pytest.raises(ValueError, match="at least 3"):
        adaptive.board_summary(scores.head(2), True)


def test_kaggle_numbers_counts_and_words():
    summary = pd.DataFrame(
        {
            "metric": ["AUC"] * 4,
            "teams": [10, 20, 30, 40],
            "spearman": [0.9, 0.5, 0.1, 0.7],
            "median_public_minus_private": [0.01, -0.02, 0.03, -0.01],
            "median_optimism": [0.01, -0.02, 0.03, -0.01],
            "top_spread": [0.02, 0.01, 0.05, 0.05],
            "shift_5_95": [[0, 1]] * 4,
            "winner_private_rank": [1, 5, 2, 9],
            "higher_is_better": [True] * 4,
        },
        index=list("abcd"),
    )
    per, overall, numbers = adaptive.kaggle_numbers(summary, two_stage=("c",))
    assert overall["share_public_flattered_pct"] == 50.0 and overall["share_shift_below_top_spread_pct"] == 75.0
    assert numbers["kg_leader_top3"] == 2 and numbers["kg_rho_med"] == pytest.approx(0.6)
    assert set(per) == set("abcd") and per["c"]["two_stage"] and not per["a"]["two_stage"]
    assert (numbers["kg_n_one"], numbers["kg_flattered_one"], numbers["kg_n_two"]) == (3, 1, 1)
    assert numbers["kg_two_stage_names"] == "c" and numbers["kg_leader_top3_one"] == 1
    assert numbers["kg_leader_ranks_one"] == "1 of 10, 5 of 20, 9 of 40"  # c (two-stage) left out
    assert "kg_sign_words" not in numbers and "sign_test_one_stage" not in overall  # no sign test
    _, _, missing = adaptive.kaggle_numbers(None)
    assert np.isnan(missing["kg_n"]) and missing["kg_leader_ranks_one"] == "(not available)"
