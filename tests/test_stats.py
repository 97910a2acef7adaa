"""reliable_ml.stats: exact intervals, Hoeffding, differences, resampling and probit lines, vs scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as st

from reliable_ml import stats


@pytest.mark.parametrize("k,n", [(0, 10), (1, 10), (7, 10), (10, 10), (9_812, 10_000), (37, 1_000)])
def test_clopper_pearson_matches_scipy(k, n):
    lo, hi = stats.clopper_pearson(k, n, alpha=0.05)
    ref = st.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    assert lo == pytest.approx(ref.low, abs=1e-10) and hi == pytest.approx(ref.high, abs=1e-10)


def test_clopper_pearson_vectorised_and_errors():
    lo, hi = stats.clopper_pearson(np.array([0, 5, 10]), 10)
    assert lo.shape == (3,) and lo[0] == 0 and hi[-1] == 1 and np.all(lo <= hi)
    with pytest.raises(ValueError, match="positive"):
        stats.clopper_pearson(0, 0)
    with pytest.raises(ValueError, match=r"\[0, n\]"):
        stats.clopper_pearson(11, 10)
    with pytest.raises(ValueError, match="alpha"):
        stats.clopper_pearson(1, 10, alpha=1.5)


def test_hoeffding_known_value_and_scaling():
    assert stats.hoeffding_halfwidth(10_000) == pytest.approx(np.sqrt(np.log(40) / 20_000))
    assert stats.hoeffding_halfwidth(400) / stats.hoeffding_halfwidth(1_600) == pytest.approx(2.0)
    # Hoeffding is distribution-free, so never narrower than the exact interval at 50%
    lo, hi = stats.clopper_pearson(5_000, 10_000)
    assert stats.hoeffding_halfwidth(10_000) >= (hi - lo) / 2
    with pytest.raises(ValueError, match="positive"):
        stats.hoeffding_halfwidth(0)


def test_wilson_matches_scipy():
    for k, n in [(3, 20), (56, 70), (0, 15)]:
        ref = st.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        lo, hi = stats.wilson(k, n)
        assert lo == pytest.approx(ref.low, abs=1e-10) and hi == pytest.approx(ref.high, abs=1e-10)


def test_difference_interval_newcombe_published_example():
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 - 48/80, method 10
    lo, hi = stats.difference_interval(56, 70, 48, 80)
    assert lo == pytest.approx(0.0524, abs=1e-4) and hi == pytest.approx(0.3339, abs=1e-4)


def test_difference_interval_coverage_by_simulation():
    rng = np.random.default_rng(0)
    p1, p2, n1, n2 = 0.97, 0.95, 2_000, 1_500
    k1, k2 = rng.binomial(n1, p1, 4_000), rng.binomial(n2, p2, 4_000)
    lo, hi = stats.difference_interval(k1, n1, k2, n2)
    coverage = np.mean((lo <= p1 - p2) & (p1 - p2 <= hi))
    assert 0.93 <= coverage <= 0.975


def test_resample_accuracies_spread_matches_binomial():
    correct = np.r_[np.ones(900), np.zeros(100)]
    accs = stats.resample_accuracies(correct, 400, n_draws=4_000, seed=1)
    assert accs.shape == (4_000,) and accs.mean() == pytest.approx(0.9, abs=0.003)
    assert accs.std() == pytest.approx(np.sqrt(0.9 * 0.1 / 400), rel=0.08)
    no_rep = stats.resample_accuracies(correct, 400, n_draws=500, seed=1, replace=False)
    fpc = np.sqrt((1_000 - 400) / (1_000 - 1))  # finite-population correction
    assert no_rep.std() == pytest.approx(np.sqrt(0.9 * 0.1 / 400) * fpc, rel=0.15)
    with pytest.raises(ValueError, match="without replacement"):
        stats.resample_accuracies(correct, 2_000, replace=False)
    with pytest.raises(ValueError, match="positive"):
        stats.resample_accuracies(correct, 0)
    with pytest.raises(ValueError, match="non-empty"):
        stats.resample_accuracies([], 10)


def test_probit_roundtrip_and_clipping():
    p = np.array([0.1, 0.5, 0.9])
    assert np.allclose(stats.inv_probit(stats.probit(p)), p)
    assert np.isfinite(stats.probit([0.0, 1.0])).all()


def test_probit_fit_recovers_planted_line_and_matches_linregress():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.6, 0.95, 50)
    y = stats.inv_probit(1.2 * stats.probit(x) - 0.4)
    fit = stats.probit_linear_fit(x, y)
    assert fit.slope == pytest.approx(1.2) and fit.intercept == pytest.approx(-0.4) and fit.r2 == pytest.approx(1.0)
    assert np.allclose(fit.predict(x), y)
    y_noisy = np.clip(y + rng.normal(0, 0.01, 50), 0, 1)
    ref = st.linregress(stats.probit(x), stats.probit(y_noisy))
    fit = stats.probit_linear_fit(x, y_noisy)
    assert fit.slope == pytest.approx(ref.slope) and fit.r2 == pytest.approx(ref.rvalue**2) and fit.n == 50
    with pytest.raises(ValueError, match="fractions"):
        stats.probit_linear_fit(x * 100, y * 100)
    with pytest.raises(ValueError, match="at least 3"):
        stats.probit_linear_fit([0.5, 0.6], [0.4, 0.5])


def test_bootstrap_band_contains_the_line():
    rng = np.random.default_rng(1)
    x = rng.uniform(0.6, 0.95, 40)
    y = np.clip(stats.inv_probit(stats.probit(x) - 0.3) + rng.normal(0, 0.005, 40), 0, 1)
    grid = np.linspace(0.65, 0.9, 5)
    lo, hi = stats.bootstrap_band(x, y, grid, n_boot=200)
    pred = stats.probit_linear_fit(x, y).predict(grid)
    assert np.all(lo <= pred) and np.all(pred <= hi) and np.all(hi - lo < 0.02)


def test_cluster_bootstrap_is_wider_for_clustered_data_and_near_iid_otherwise():
    rng = np.random.default_rng(0)
    n_writers, per_writer = 100, 20
    # each writer is either easy (all correct) or hard (all wrong): maximal clustering
    writer_ok = rng.random(n_writers) < 0.8
    groups = np.repeat(np.arange(n_writers), per_writer)
    clustered = np.repeat(writer_ok, per_writer)[None, :]
    iid = (rng.random(n_writers * per_writer) < 0.8)[None, :]
    lo_c, hi_c = stats.cluster_bootstrap_difference(clustered, groups, iid, groups + 1000, n_boot=2000)
    lo_i, hi_i = stats.cluster_bootstrap_difference(iid, groups, iid, groups + 1000, n_boot=2000)
    width_newcombe = np.subtract(*stats.difference_interval(iid.sum(), iid.size, iid.sum(), iid.size)[::-1])
    assert (hi_c - lo_c)[0] > 2 * (hi_i - lo_i)[0], "clustering must widen the interval"
    assert abs((hi_i - lo_i)[0] - width_newcombe) < 0.3 * width_newcombe, "iid data: close to Newcombe"
    assert lo_i[0] < 0 < hi_i[0]
    with pytest.raises(ValueError, match="one cluster id per test point"):
        stats.cluster_bootstrap_difference(iid, groups[:5], iid, groups)


def test_drop_intervals_match_difference_interval_and_are_in_points():
    rng = np.random.default_rng(0)
    a, b = rng.random((3, 1000)) < 0.9, rng.random((3, 400)) < 0.8
    frame = stats.drop_intervals(a, b, alpha=0.05)
    lo, hi = stats.difference_interval(a.sum(1), 1000, b.sum(1), 400, 0.05)
    assert np.allclose(frame["drop"], 100 * (a.mean(1) - b.mean(1)))
    assert np.allclose(frame["ci_low"], 100 * lo) and np.allclose(frame["ci_high"], 100 * hi)
    assert (frame["ci_low"] < frame["drop"]).all() and (frame["drop"] < frame["ci_high"]).all()
    with pytest.raises(ValueError, match="same models"):
        stats.drop_intervals(a, b[:2])


def test_bootstrap_median_drop_centres_on_the_median_and_covers_the_true_drop():
    rng = np.random.default_rng(1)
    p = np.linspace(0.7, 0.95, 9)
    a, b = rng.random((9, 5000)) < p[:, None], rng.random((9, 5000)) < (p - 0.05)[:, None]
    med, lo, hi = stats.bootstrap_median_drop(a, b, n_boot=300, seed=0)
    assert med == pytest.approx(100 * np.median(a.mean(1) - b.mean(1)))
    assert lo < med < hi and lo < 5 < hi and hi - lo < 4
    with pytest.raises(ValueError, match="n_boot"):
        stats.bootstrap_median_drop(a, b, n_boot=0)


def test_resampling_check_coverage_and_widths():
    correct = np.random.default_rng(2).random(4000) < 0.8
    table, draws = stats.resampling_check(correct, [100, 1000], n_trials=300, alpha=0.05, seed=0)
    assert list(table.index) == [100, 1000] and set(draws) == {100, 1000}
    assert (table["coverage of CP intervals (%)"] >= 90).all()
    assert table.loc[100, "Clopper–Pearson width (points)"] > table.loc[1000, "Clopper–Pearson width (points)"]
    assert (table["Hoeffding width (points)"] > table["Clopper–Pearson width (points)"]).all()


# ----------------------------------------------------------------------------- the shared bootstrap, BCa, crossed t
def test_bootstrap_replicates_resample_units_with_replacement():
    x = np.arange(10.0)
    reps = stats.bootstrap_replicates(lambda idx: x[idx].mean(), len(x), n_boot=500, seed=3)
    again = stats.bootstrap_replicates(lambda idx: x[idx].mean(), len(x), n_boot=500, seed=3)
    assert reps.shape == (500,) and np.array_equal(reps, again)
    assert abs(reps.mean() - x.mean()) < 0.3 and 0.6 < reps.std() < 1.1  # sd of a mean: 2.87 / sqrt(10) = 0.91
    vec = stats.bootstrap_replicates(lambda idx: np.array([x[idx].min(), x[idx].max()]), 10, n_boot=50, seed=0)
    assert vec.shape == (50, 2) and (vec[:, 0] <= vec[:, 1]).all()
    with pytest.raises(ValueError, match="n_boot"):
        stats.bootstrap_indices(5, 0, np.random.default_rng(0))


def test_bca_interval_matches_scipy_bca_on_the_same_replicates():
    data = np.random.default_rng(0).exponential(size=40)  # skewed: BCa moves away from the percentile interval
    res = st.bootstrap((data,), np.mean, method="BCa", n_resamples=4000, confidence_level=0.95, random_state=1)
    jack = stats.jackknife_values(lambda idx: data[idx].mean(), len(data))
    lo, hi = stats.bca_interval(float(data.mean()), res.bootstrap_distribution, 0.05, jack)
    assert np.isclose(lo, res.confidence_interval.low, rtol=1e-9)
    assert np.isclose(hi, res.confidence_interval.high, rtol=1e-9)
    plo, phi = np.quantile(res.bootstrap_distribution, [0.025, 0.975])
    assert lo > plo and hi > phi  # right-skewed mean: BCa shifts up


def test_bias_corrected_interval_moves_up_when_replicates_sit_below_the_point():
    reps = np.random.default_rng(0).normal(0.8, 0.05, 4000)  # replicates biased low against a point of 0.85
    lo, hi = stats.bca_interval(0.85, reps, 0.05)
    plo, phi = np.quantile(reps, [0.025, 0.975])
    assert lo > plo and hi > phi and lo < 0.85 < hi
    with pytest.raises(ValueError, match="one side"):
        stats.bca_interval(2.0, reps, 0.05)


def test_crossed_interval_reduces_to_the_t_interval_over_splits():
    cols = np.array([1.0, 2.5, 0.3, 1.7, 2.2, 0.9, 1.1, 3.0, 1.4, 0.6])
    x = np.tile(cols, (5, 1))  # identical units: only the splits vary
    got = stats.crossed_interval(x)
    want = st.ttest_1samp(cols, 0.0).confidence_interval(0.95)
    assert np.allclose(got["ci"], [want.low, want.high]) and np.isclose(got["df"], 9)
    b = np.tile(cols[::-1], (3, 1))
    diff = stats.crossed_interval(x, b)
    want = st.ttest_rel(cols, cols[::-1]).confidence_interval(0.95)
    assert np.isclose(diff["estimate"], 0.0) and np.allclose(diff["ci"], [want.low, want.high])
    with pytest.raises(ValueError, match="share their splits"):
        stats.crossed_interval(x, x[:, :5])


def test_crossed_interval_covers_under_crossed_random_effects():
    rng = np.random.default_rng(0)
    hits, m, s = 0, 30, 10
    for _ in range(400):
        x = rng.normal(0, 1, (m, 1)) + rng.normal(0, 1, (1, s)) + rng.normal(0, 0.5, (m, s))
        lo, hi = stats.crossed_interval(x)["ci"]
        hits += lo <= 0 <= hi
    assert 0.92 <= hits / 400 <= 0.985  # a percentile bootstrap over 10 splits covers about 0.90


def test_crossed_interval_satterthwaite_df_counts_the_subtracted_term():
    rng = np.random.default_rng(3)
    m, s = 6, 4
    x = rng.normal(0, 1, (m, 1)) + rng.normal(0, 1, (1, s)) + rng.normal(0, 1, (m, s))
    r, c = x.mean(1), x.mean(0)
    resid = x - r[:, None] - c[None, :] + x.mean()
    mse = (resid**2).sum() / ((m - 1) * (s - 1))
    terms = [(r.var(ddof=1) / m, m - 1), (c.var(ddof=1) / s, s - 1), (-mse / (m * s), (m - 1) * (s - 1))]
    v = sum(t for t, _ in terms)
    assert v > 0
    want = v**2 / sum(t**2 / d for t, d in terms)  # Satterthwaite (1946) with every term of V
    got = stats.crossed_interval(x)
    assert np.isclose(got["se"] ** 2, v) and np.isclose(got["df"], want)
    old = sum(t for t, _ in terms[:2]) ** 2 / sum(t**2 / d for t, d in terms[:2])
    assert got["df"] < old  # the positive-terms-only df overstated the degrees of freedom here


def test_crossed_interval_covers_when_the_residual_dominates():
    rng = np.random.default_rng(4)
    hits, m, s, n = 0, 8, 4, 1500
    for _ in range(n):
        x = rng.normal(0, 1, (m, 1)) + rng.normal(0, 1, (1, s)) + rng.normal(0, 2.0, (m, s))
        lo, hi = stats.crossed_interval(x)["ci"]
        hits += lo <= 0 <= hi
    assert 0.94 <= hits / n <= 0.995  # at least nominal; conservative where V <= 0 falls back on its positive terms


def test_t_interval_matches_scipy_and_refuses_one_value():
    x = np.array([-0.9, -0.2, -0.6, 0.1, -0.8, -0.7])
    want = st.ttest_1samp(x, 0.0).confidence_interval(0.95)
    got = stats.t_interval(x)
    assert np.allclose(got["ci"], [want.low, want.high]) and got["df"] == 5
    with pytest.raises(ValueError, match="at least 2"):
        stats.t_interval([1.0])


def test_bca_reliability_rule_at_z0_one():
    reps = np.r_[np.zeros(89), np.ones(11)]  # 89% below the point 0.5
    z0 = stats.bca_z0(0.5, reps)
    assert np.isclose(z0, st.norm.ppf(0.89))
    assert "unreliable" in stats.bca_reliability(z0, 100) and "|z0| > 1" in stats.bca_reliability(z0, 100)
    assert "can be read as it stands" in stats.bca_reliability(0.5, 2000)
    assert "unreliable" in stats.bca_reliability(-1.2, 2000)
    with pytest.raises(ValueError, match="z0 must be finite"):
        stats.bca_reliability(float("inf"), 100)


def test_bca_choice_quotes_the_percentile_interval_beyond_the_z0_limit():
    assert stats.bca_choice(0.5, (1, 2), (3, 4)) == ([1.0, 2.0], "BCa")
    assert stats.bca_choice(-1.0, (1, 2), (3, 4)) == ([1.0, 2.0], "BCa")  # the limit itself still BCa
    assert stats.bca_choice(1.21, (1, 2), (3, 4)) == ([3.0, 4.0], "percentile")
    assert stats.bca_choice(float("nan"), (1, 2), (3, 4))[1] == "percentile"
    with pytest.raises(ValueError, match="pairs"):
        stats.bca_choice(0.0, (1,), (3, 4))


def test_share_side_words_use_two_monte_carlo_standard_errors():
    # 2,000 replicates: 2 sqrt(0.25 / 2000) = 0.0224
    assert stats.share_side_words(0.50, 2000).startswith("evenly")
    assert stats.share_side_words(0.52, 2000).startswith("evenly")
    assert stats.share_side_words(0.53, 2000) == "below the estimate"
    assert stats.share_side_words(0.11, 2000) == "above the estimate"
    assert stats.share_side_words(0.53, 100).startswith("evenly")  # fewer replicates: wider band
    with pytest.raises(ValueError, match="share_below"):
        stats.share_side_words(1.5, 100)


def test_margin_words_rule():
    assert stats.margin_words((-0.96, -0.04), 0.0, 0.1, "sd").startswith(
        "marginal: the interval's bound nearest 0 lies only 0.04 sd"
    )
    assert stats.margin_words((-0.96, -0.4), 0.0, 0.1).startswith("clear")
    assert stats.margin_words((0.05, 0.9), 0.0, 0.1).startswith("marginal")
    assert "cannot tell" in stats.margin_words((-0.2, 0.3))
    with pytest.raises(ValueError, match="near > 0"):
        stats.margin_words((0.1, 0.2), near=0)


def test_t_interval_extra_variance_adds_to_the_variance_of_the_mean():
    x = np.array([0.3, 1.1, 0.7, 1.4, 0.6])
    base = stats.t_interval(x)
    want = st.ttest_1samp(x, 0.0).confidence_interval(0.95)
    assert base["ci"] == pytest.approx([want.low, want.high])
    wide = stats.t_interval(x, extra_variance=0.27**2)
    assert wide["se"] == pytest.approx(np.sqrt(x.var(ddof=1) / 5 + 0.27**2))
    half = st.t.ppf(0.975, 4) * wide["se"]
    assert wide["ci"] == pytest.approx([x.mean() - half, x.mean() + half])
    with pytest.raises(ValueError, match="extra_variance"):
        stats.t_interval(x, extra_variance=-1.0)


def test_crossed_ratio_interval_with_a_constant_denominator_is_the_crossed_interval_scaled():
    rng = np.random.default_rng(5)
    num = rng.normal(1, 1, (6, 1)) + rng.normal(0, 1, (1, 8)) + rng.normal(0, 0.5, (6, 8))
    got = stats.crossed_ratio_interval(num, np.full_like(num, 4.0))
    want = stats.crossed_interval(num / 4.0)
    assert np.isclose(got["estimate"], num.mean() / 4) and np.allclose(got["ci"], want["ci"])
    assert np.isclose(got["df"], want["df"])


def test_crossed_ratio_interval_of_one_unit_is_the_textbook_delta_method():
    from scipy import stats as st

    rng = np.random.default_rng(6)
    d = rng.uniform(4, 6, 12)
    n = 0.3 * d + rng.normal(0, 0.2, 12)
    r = n.mean() / d.mean()
    se = np.sqrt(np.var(n - r * d, ddof=1) / 12) / d.mean()  # var(R) ~ var(n - R d) / (S dbar^2)
    half = st.t.ppf(0.975, 11) * se
    got = stats.crossed_ratio_interval(n[None, :], d[None, :])
    assert np.isclose(got["estimate"], r) and np.allclose(got["ci"], [r - half, r + half])


def test_crossed_ratio_interval_matches_the_simulated_spread_and_covers():
    """Numerator and denominator correlated across units (a bias that tracks an error rate): the
    delta-method se matches the Monte Carlo sd of the ratio, and the interval covers the true ratio."""
    rng = np.random.default_rng(7)
    m, s, n_sim = 30, 10, 600
    ratios, ses, hits = [], [], 0
    for _ in range(n_sim):
        err = 7 + rng.normal(0, 3, (m, 1)) + rng.normal(0, 0.3, (1, s)) + rng.normal(0, 0.3, (m, s))
        bias = 0.25 * err + rng.normal(0, 0.3, (m, 1)) + rng.normal(0, 0.2, (1, s)) + rng.normal(0, 0.3, (m, s))
        out = stats.crossed_ratio_interval(bias, err)
        ratios.append(out["estimate"])
        ses.append(out["se"])
        hits += out["ci"][0] <= 0.25 <= out["ci"][1]
    assert np.mean(ses) == pytest.approx(np.std(ratios, ddof=1), rel=0.15)
    assert 0.92 <= hits / n_sim <= 0.985


def test_crossed_ratio_interval_difference_of_two_ratios():
    rng = np.random.default_rng(8)
    a_n, a_d = rng.normal(2, 0.5, (5, 6)), rng.uniform(5, 9, (5, 6))
    b_n, b_d = rng.normal(1, 0.5, (3, 6)), rng.uniform(40, 60, (3, 6))
    got = stats.crossed_ratio_interval(a_n, a_d, b_n, b_d)
    ra, rb = a_n.mean() / a_d.mean(), b_n.mean() / b_d.mean()
    za, zb = (a_n - ra * a_d) / a_d.mean(), (b_n - rb * b_d) / b_d.mean()
    want = stats.crossed_interval(za, zb)
    assert np.isclose(got["estimate"], ra - rb)
    assert np.allclose(np.array(got["ci"]) - got["estimate"], np.array(want["ci"]) - want["estimate"])
    with pytest.raises(ValueError, match="both num_b and den_b"):
        stats.crossed_ratio_interval(a_n, a_d, b_n)
    with pytest.raises(ValueError, match="one shape"):
        stats.crossed_ratio_interval(a_n, a_d[:, :5])
    with pytest.raises(ValueError, match="non-zero"):
        stats.crossed_ratio_interval(a_n, np.zeros_like(a_d))


def test_cluster_means_averages_rows_within_groups():
    x = np.array([[1.0, 2.0], [3.0, 4.0], [10.0, 20.0], [5.0, 6.0]])
    names, y = stats.cluster_means(x, ["b", "b", "a", "b"])
    assert names == ["a", "b"] and np.allclose(y, [[10, 20], [3, 4]])
    with pytest.raises(ValueError, match="one group per row"):
        stats.cluster_means(x, ["a", "b"])


def test_holm_known_values_worked_by_hand():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06
    assert np.allclose(stats.holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    assert np.allclose(stats.holm([0.5, 0.6]), [1.0, 1.0])  # capped at 1
    assert np.allclose(stats.holm([0.02]), [0.02])  # one test: unchanged
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        stats.holm([0.1, 1.2])
    with pytest.raises(ValueError, match="non-empty"):
        stats.holm([])


def test_holm_rejects_exactly_what_the_sequential_procedure_rejects():
    rng = np.random.default_rng(0)
    for _ in range(200):
        m = int(rng.integers(1, 15))
        p = rng.uniform(0, 0.1, m) ** rng.uniform(0.5, 2)
        alpha = 0.05
        # Holm 1979: step through the sorted p-values, reject while p_(i) <= alpha / (m - i + 1)
        reject = np.zeros(m, bool)
        for i, j in enumerate(np.argsort(p, kind="stable")):
            if p[j] > alpha / (m - i):
                break
            reject[j] = True
        adj = stats.holm(p)
        assert np.array_equal(adj <= alpha, reject)
        assert np.all(adj >= p - 1e-15) and np.all(adj <= np.minimum(1, m * p) + 1e-15)  # between raw and Bonferroni


def test_holm_verdicts_keep_a_direction_only_below_alpha_after_adjustment():
    a = np.r_[np.ones(7), np.zeros(993)]  # 7 vs 0 discordant: exact p = 2 / 2**7 = 0.0156
    b = np.zeros(1000)
    strong = stats.compare(np.r_[np.ones(40), np.zeros(960)], b, paired=True)
    weak = stats.compare(a, b, paired=True)
    assert weak.direction == "higher" and abs(weak.p_value - 2 / 128) < 1e-12
    out = stats.holm_verdicts([strong, weak, weak, weak, weak])  # weak: 4 x 2/128 = 0.0625 after Holm
    assert out[0].direction == "higher" and out[0].test == "McNemar exact, Holm over 5"
    assert [v.direction for v in out[1:]] == ["cannot tell"] * 4
    assert np.isclose(out[1].p_value, 4 * 2 / 128) and out[1].interval == weak.interval
    assert stats.holm_verdicts([strong, weak, weak])[1].direction == "higher"  # 2 x 2/128 = 0.031 still below 0.05
    with pytest.raises(ValueError, match="p-value"):
        stats.holm_verdicts([stats.against_reference(0.5, (0.4, 0.6), 0.0)])
