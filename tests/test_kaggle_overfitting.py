"""Tests of the two-stage classification and Roelofs et al.'s test on Kaggle boards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st

from reliable_ml import stats
from reliable_ml.shift import kaggle_overfitting as ko


def board(scores):
    return pd.DataFrame({"team": [f"t{i}" for i in range(len(scores))], "score": scores})


def test_zero_loss_public_scores_make_a_board_two_stage():
    pub, priv = board([0.0, 0.0, 0.3, 0.5]), board([0.2, 0.25, 0.3, 0.6])
    out = ko.classify_stages(pub, priv, "Logloss", higher_is_better=False)
    assert out["class"] == "two-stage" and out["perfect_public"] == 2 and out["perfect_private"] == 0
    assert "perfect value 0" in out["evidence"][0]
    # an unlisted lower-is-better metric is taken as an error, perfect at 0
    assert ko.classify_stages(pub, priv, "unlisted", higher_is_better=False)["class"] == "two-stage"
    # the same scores on a higher-is-better metric say nothing (0 is the worst AUC, not a leak)
    assert ko.classify_stages(pub, priv, "AUC", higher_is_better=True)["class"] == "one-stage"
    # perfect scores on both boards are no evidence of a second test set
    assert ko.classify_stages(pub, board([0.0, 0.1, 0.2, 0.3]), "MAE", False)["class"] == "one-stage"
    documented = ko.classify_stages(board([0.5, 0.6]), board([0.5, 0.7]), "AUC", True, "rules: two stages")
    assert documented["class"] == "two-stage" and documented["evidence"] == ["rules: two stages"]
    with pytest.raises(ValueError, match="team and score"):
        ko.classify_stages(pd.DataFrame({"x": [1]}), priv, "AUC", True)


def test_documented_boards_say_they_are_unverified():
    assert ko.DOCUMENTED_TWO_STAGE and all("unverified" in why for why in ko.DOCUMENTED_TWO_STAGE.values())


def test_top_residual_matches_a_direct_least_squares_fit():
    rng = np.random.default_rng(0)
    u = rng.normal(size=50)
    v = 0.7 * u + rng.normal(scale=0.3, size=50)
    b, a = np.polyfit(u, v, 1)
    top = np.argsort(-u)[:5]
    resid, sd = ko.top_residual(u, v, 5)
    assert resid == pytest.approx(np.mean(v[top] - (a + b * u[top])))
    assert sd == pytest.approx(np.std(v - (a + b * u), ddof=2))
    # the upper half: the same fit over the 25 best public scores only
    half = np.argsort(-u)[:25]
    b2, a2 = np.polyfit(u[half], v[half], 1)
    assert ko.top_residual(u, v, 5, 0.5)[0] == pytest.approx(np.mean(v[top] - (a2 + b2 * u[top])))
    with pytest.raises(ValueError, match="top"):
        ko.top_residual(u, v, 50)
    with pytest.raises(ValueError, match="field_share"):
        ko.top_residual(u, v, 5, 0.0)


def test_roelofs_test_finds_overfitted_tops_and_not_pure_noise():
    rng = np.random.default_rng(1)
    n = 400
    skill = rng.normal(size=n)
    public = skill + rng.normal(scale=0.5, size=n)
    private = skill + rng.normal(scale=0.5, size=n)
    honest = pd.DataFrame({"public": public, "private": private})
    out = ko.roelofs_test(honest, True, n_boot=500, seed=0)
    assert out["top"] == 10 and out["ci"][0] <= out["top_residual"] <= out["ci"][1]
    assert out["verdict_vs_0"]["direction"] == "cannot tell"  # selection on noise alone: on the line
    over = honest.copy()
    top = np.argsort(-public)[:10]
    over.loc[top, "public"] += 3.0  # the public leaders overfitted the public part
    assert ko.roelofs_test(over, True, n_boot=500, seed=0)["verdict_vs_0"]["direction"] == "lower"
    # lower-is-better metrics are oriented: the same board with negated scores gives the same verdict
    flipped = -over
    assert ko.roelofs_test(flipped, False, n_boot=500, seed=0)["top_residual"] == pytest.approx(
        ko.roelofs_test(over, True, n_boot=500, seed=0)["top_residual"]
    )
    with pytest.raises(ValueError, match="n_boot"):
        ko.roelofs_test(honest, True, n_boot=10)


def test_top_count_is_the_top_tenth_capped():
    assert [ko.top_count(n, 10) for n in (6, 18, 21, 249, 1000)] == [1, 2, 3, 10, 10]


def test_pooled_and_report():
    rng = np.random.default_rng(2)

    def scores(n):
        skill = rng.normal(size=n)
        return pd.DataFrame({"public": skill + rng.normal(scale=0.3, size=n), "private": skill + rng.normal(0, 0.3, n)})

    boards = {"a": scores(200), "b": scores(100), "c": scores(6), "d": scores(150)}
    classes = {
        "a": {"class": "one-stage"},
        "b": {"class": "one-stage"},
        "c": {"class": "one-stage"},
        "d": {"class": "two-stage"},
    }
    results, numbers = ko.roelofs_report(boards, dict.fromkeys(boards, True), classes, n_boot=200, seed=0)
    assert results["pooled_over"] == ["a", "b"] and results["excluded_small"] == ["c"]
    assert results["excluded_two_stage"] == ["d"] and numbers["rt_n"] == 2
    per = results["per_competition"]
    assert results["pooled"]["all"]["mean_z"] == pytest.approx(np.mean([per[n]["all"]["z"] for n in "ab"]))
    assert "_z_reps" not in per["a"]["all"]
    lo, hi = results["pooled"]["all"]["ci"]
    assert lo <= numbers["rt_all_z"] <= hi
    # the verdict's interval is the t interval over the boards' z values (boards as a sample)
    want = st.ttest_1samp([per[n]["all"]["z"] for n in "ab"], 0.0).confidence_interval(0.95)
    assert [lo, hi] == pytest.approx([want.low, want.high])
    assert results["pooled"]["all"]["ci_teams"] == pytest.approx([numbers["rt_all_tlo"], numbers["rt_all_thi"]])
    assert "not resampled" not in results["pooled"]["all"]["ci_method"] and "public/private" in results["interval"]
    assert numbers["rt_df"] == 1
    assert numbers["rt_all_margin_words"] == stats.margin_words([lo, hi], 0.0, ko.MARGINAL_SD, unit="sd")
    none, missing = ko.roelofs_report(None, None, None)
    assert none is None and np.isnan(missing["rt_n"]) and missing["rt_all_words"] == "(not available)"
    assert np.isnan(missing["rt_df"]) and missing["rt_all_margin_words"] == "(not available)"


def test_roelofs_interval_comes_from_the_shared_bootstrap():
    from reliable_ml import stats

    rng = np.random.default_rng(4)
    u = rng.normal(size=60)
    scores = pd.DataFrame({"public": u, "private": 0.8 * u + rng.normal(scale=0.4, size=60)})
    out = ko.roelofs_test(scores, True, n_boot=300, seed=7)
    k = ko.top_count(60, 10)
    reps = stats.bootstrap_replicates(
        lambda i: ko.top_residual(u[i], scores["private"].to_numpy()[i], k)[0], 60, n_boot=300, seed=7
    )
    lo, hi = np.quantile(reps, [0.025, 0.975])
    assert out["ci"] == pytest.approx([min(lo, out["top_residual"]), max(hi, out["top_residual"])])


def test_above_words_names_the_boards_above_the_line():
    def t(direction, z):
        return {"verdict_vs_0": {"direction": direction}, "z": z, "z_ci": [z - 0.3, z + 0.3]}

    words = ko.above_words({"b": t("higher", 0.46), "a": t("cannot tell", 0.1), "c": t("lower", -0.5)})
    assert words == "the selected teams of b (z = +0.46, 95% interval +0.16 to +0.76) sit significantly above it"
    assert ko.above_words({"a": t("lower", -1.0)}).startswith("no board")
