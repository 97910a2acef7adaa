"""CIFAR-10H helpers: selection frequency, human accuracy, k-annotator estimates, Engstrom drops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reliable_ml import stats
from reliable_ml.labels import annotation
from reliable_ml.labels import human_labels as hl


def toy_counts(n=400, k=4, seed=0):
    """n images, k classes, 20-60 annotators each; labels 0..k-1 cyclic; agreement varies."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % k
    agree = rng.uniform(0.3, 1.0, n)
    counts = np.zeros((n, k), dtype=np.int64)
    for i in range(n):
        m = rng.integers(20, 61)
        p = np.full(k, (1 - agree[i]) / (k - 1))
        p[labels[i]] = agree[i]
        counts[i] = rng.multinomial(m, p)
    return counts, labels


def test_selection_frequency_is_share_of_annotators():
    counts = np.array([[3, 1, 0], [0, 0, 5], [2, 2, 0]])
    sf = hl.selection_frequency(counts, np.array([0, 2, 1]))
    np.testing.assert_allclose(sf, [0.75, 1.0, 0.5])
    assert hl.individual_accuracy(counts, np.array([0, 2, 1])) == pytest.approx(0.75)


def test_majority_vote_breaks_ties_at_random_but_seeded():
    counts = np.array([[2, 2, 0]] * 200 + [[0, 1, 3]])
    votes = hl.majority_vote(counts, seed=1)
    assert votes[-1] == 2 and set(votes[:-1]) == {0, 1}
    np.testing.assert_array_equal(votes, hl.majority_vote(counts, seed=1))


@pytest.mark.parametrize(
    "bad, match", [(np.zeros((2, 3)), "no annotator"), (-np.ones((2, 3)), "non-negative"), (np.ones(3), "shape")]
)
def test_bad_counts_are_named(bad, match):
    with pytest.raises(ValueError, match=match):
        hl.check_counts(bad)


def test_subsample_sf_is_unbiased_and_exact_for_all():
    counts, labels = toy_counts()
    true = hl.selection_frequency(counts, labels)
    rng = np.random.default_rng(0)
    np.testing.assert_allclose(hl.subsample_sf(counts, labels, None, rng), true)
    draws = np.stack([hl.subsample_sf(counts, labels, 3, rng) for _ in range(400)])
    assert set(np.unique(draws)) <= {0, 1 / 3, 2 / 3, 1}
    assert np.abs(draws.mean(0) - true).mean() < 0.03  # hypergeometric mean = true SF
    with pytest.raises(ValueError, match="k"):
        hl.subsample_sf(counts, labels, 0, rng)


def test_split_and_skew():
    counts, labels = toy_counts()
    split = hl.split_reference_pool(labels, 0.5, seed=0)
    assert len(np.intersect1d(split.reference, split.pool)) == 0
    assert len(split.reference) + len(split.pool) == len(labels)
    sf = hl.selection_frequency(counts, labels)
    skewed = hl.skew_pool(sf, split.pool, 0.8, 0.2, seed=0)
    assert set(skewed) <= set(split.pool) and sf[skewed].mean() < sf[split.pool].mean()
    assert np.all(np.isin(split.pool[sf[split.pool] < 0.8], skewed))  # low-SF images all stay


def test_strategies_order_mean_sf():
    counts, labels = toy_counts(800)
    sf = hl.selection_frequency(counts, labels)
    split = hl.split_reference_pool(labels, 0.5, seed=0)
    picks = hl.strategy_picks(sf, labels, split, 20, np.random.default_rng(0))
    assert set(picks) == {"random", "matched_frequency", "threshold0.7", "top_images"}
    for idx in picks.values():
        assert len(idx) == 80 and np.all(np.isin(idx, split.pool))
        assert np.all(np.bincount(labels[idx], minlength=4) == 20)
    assert sf[picks["top_images"]].mean() >= sf[picks["threshold0.7"]].mean() >= 0.7
    assert sf[picks["threshold0.7"]].min() >= 0.7


def test_engstrom_bias_appears_with_few_annotators_only():
    """Model correctness follows true SF; a low-SF-skewed pool matched on noisy SF is harder."""
    counts, labels = toy_counts(2000, seed=1)
    sf = hl.selection_frequency(counts, labels)
    rng = np.random.default_rng(0)
    correct = rng.random((3, len(sf))) < sf  # models right as often as the humans agree
    split = hl.split_reference_pool(labels, 0.5, seed=0)
    pool = hl.skew_pool(sf, split.pool, 0.7, 0.3, seed=0)
    drops = hl.engstrom_drops(
        counts,
        labels,
        correct,
        split.reference,
        pool,
        40,
        ks=(3, None),
        n_resamples=30,
        edges=annotation.SF_EDGES,
        seed=0,
    )
    assert set(drops) == {"3", "all"} and drops["3"].shape == (30,)
    assert drops["3"].mean() > drops["all"].mean() + 2  # noisy matching picks harder images
    mean, lo, hi = hl.spread(drops["3"])
    assert lo <= mean <= hi


def test_engstrom_bias_is_measured_against_the_all_annotator_baseline_over_splits():
    counts, labels = toy_counts(2000, seed=1)
    sf = hl.selection_frequency(counts, labels)
    rng = np.random.default_rng(0)
    strong = rng.random((3, len(sf))) < sf  # right as often as the humans agree
    blind = np.full((1, len(sf)), 0.5)  # a coin on every image: errors unrelated to the images
    run = hl.engstrom_bias(
        counts, labels, {"strong": strong, "blind": blind}, 40, ks=(3, 10, None), splits=4, n_resamples=6,
        high_sf=0.7, edges=annotation.SF_EDGES, seed=0,
    )  # fmt: skip
    assert run["drop"]["strong"]["3"].shape == (4,) and run["splits"] == 4
    # split 0 of the run draws the split and the skew that engstrom_drops is given by hand
    split = hl.split_reference_pool(labels, 0.5, seed=0)
    assert run["error_reference"]["strong"][0] == pytest.approx(100 * (1 - strong[:, split.reference].mean()))
    ev = hl.engstrom_verdicts(run)
    b = ev["sets"]["strong"]["bias"]["3"]
    d = run["drop"]["strong"]
    assert b["mean"] == pytest.approx(round(float(np.mean(d["3"] - d["all"])), 3), abs=1e-3)
    assert b["direction"] == "higher" and b["test"] == "paired t"
    assert ev["sets"]["blind"]["bias"]["3"]["direction"] == "cannot tell"  # no image enters their errors
    assert ev["between_sets"]["strong - blind"]["3"]["direction"] == "higher"
    assert b["relative_error_increase_pct"] == pytest.approx(
        100 * b["mean"] / ev["sets"]["strong"]["error_reference_pct"], abs=0.05
    )
    # the ratio's interval: numerator (bias) and denominator (error) of the same models and splits resampled together
    assert run["error_models"]["strong"].shape == (3, 4)
    assert np.allclose(run["error_models"]["strong"].mean(0), run["error_reference"]["strong"])
    ratio = stats.crossed_ratio_interval(run["drop_models"]["strong"]["3"] - run["drop_models"]["strong"]["all"],
                                         run["error_models"]["strong"])  # fmt: skip
    assert b["relative_error_increase_ci"] == pytest.approx([100 * c for c in ratio["ci"]], abs=0.01)
    assert b["relative_error_increase_ci"][0] <= b["relative_error_increase_pct"] <= b["relative_error_increase_ci"][1]
    g = hl.engstrom_numbers(ev)
    assert g["eng_strong_rel_3_lo"] == b["relative_error_increase_ci"][0]
    assert g["eng_strong_bias_3_words"].startswith("above zero by")
    assert g["eng_blind_bias_3_words"].startswith("indistinguishable from zero (difference")
    assert g["eng_strong_vs_blind_3"].startswith("the bias is larger for the strong set than for the blind set")
    # the relative increase, set against the other set's: a difference of two ratios of means (delta method)
    dm, em = run["drop_models"], run["error_models"]
    want = stats.crossed_ratio_interval(
        dm["strong"]["3"] - dm["strong"]["all"], em["strong"], dm["blind"]["3"] - dm["blind"]["all"], em["blind"]
    )
    rel = ev["between_sets_relative"]["strong - blind"]["3"]
    assert rel["ci"] == pytest.approx([100 * c for c in want["ci"]], abs=1e-3)
    assert rel["mean"] == pytest.approx(100 * want["estimate"], abs=1e-3)
    assert g["eng_strong_vs_blind_3_rel_lo"] == rel["ci"][0]
    assert g["eng_strong_vs_blind_3_rel_words"].startswith(
        "the relative increase in errors is larger for the strong set"
    )
    assert hl.engstrom_numbers({}) == {}
    with pytest.raises(ValueError, match="at least 2 splits"):
        hl.engstrom_verdicts({**run, "splits": 1})
    # per model and split: the set's drop is their mean over models; both resampled for the interval
    dm = run["drop_models"]["strong"]
    assert dm["3"].shape == (3, 4) and np.allclose(dm["3"].mean(0), d["3"])
    ms = hl.engstrom_models_and_splits(run, "strong")
    assert ms["models"] == 3 and set(ms["drop"]) == {"3", "10", "all"} and set(ms["bias"]) == {"3", "10"}
    assert ms["bias"]["3"]["mean"] == pytest.approx(b["mean"], abs=2e-3)
    lo, hi = ms["bias"]["3"]["ci"]
    assert lo <= ms["bias"]["3"]["mean"] <= hi
    assert ms["bias"]["3"]["direction"] == ("higher" if lo > 0 else "cannot tell")


def test_models_and_splits_interval_counts_both_as_samples():
    from scipy import stats as st

    from reliable_ml import stats

    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 2.0, 30), rng.normal(0, 1.0, 10)  # model effects, split effects
    x = 1.0 + a[:, None] + b[None, :]
    mean, lo, hi = hl.models_and_splits_interval(x)
    assert mean == pytest.approx(x.mean())
    # additive x (no residual): variance var(a)/M + var(b)/S (unbiased), t with Satterthwaite df
    va, vb = a.var(ddof=1) / 30, b.var(ddof=1) / 10
    df = (va + vb) ** 2 / (va**2 / 29 + vb**2 / 9)
    assert (hi - lo) / 2 == pytest.approx(st.t.ppf(0.975, df) * np.sqrt(va + vb))
    # wider than the paired t interval over splits alone, which ignores the models' spread
    t = stats.compare(x.mean(0), np.zeros(10), paired=True)
    assert hi - lo > t.interval[1] - t.interval[0]
    const = hl.models_and_splits_interval(np.full((3, 4), 0.7))
    assert const == pytest.approx((0.7, 0.7, 0.7))
    with pytest.raises(ValueError, match="at least 2 of each"):
        hl.models_and_splits_interval(np.ones((1, 5)))


def test_between_sets_resamples_the_models_of_both_sets():
    rng = np.random.default_rng(3)
    splits = rng.normal(0, 0.2, 8)
    big = {"3": 1.0 + rng.normal(0, 1.0, (20, 1)) + splits, "all": np.zeros((20, 8))}
    tight = {"3": 0.2 + rng.normal(0, 0.05, (4, 1)) + splits, "all": np.zeros((4, 8))}
    run = {"drop_models": {"big": big, "tight": tight}}
    blk = hl.engstrom_between_sets(run)["big - tight"]["3"]
    # the models' spread enters: wider than the paired t over splits of the set means
    from reliable_ml import stats

    paired = stats.compare(big["3"].mean(0), tight["3"].mean(0), paired=True)
    assert blk["mean"] == pytest.approx(paired.difference, abs=1e-3)
    assert blk["ci"][1] - blk["ci"][0] > 2 * (paired.interval[1] - paired.interval[0])


def test_cv_prediction_loader_checks(tmp_path):
    good = tmp_path / "p.npy"
    np.save(good, np.arange(20) % 10)
    assert hl.load_cv_predictions(good, n=20).dtype == np.int64
    np.save(good, np.arange(20))
    with pytest.raises(ValueError, match="p.npy"):
        hl.load_cv_predictions(good, n=20)
    with pytest.raises(FileNotFoundError, match="missing.npy"):
        hl.load_cv_predictions(tmp_path / "missing.npy", n=20)


def test_agreement_table_bins():
    table = hl.agreement_table(np.array([0.1, 0.6, 0.95, 1.0]), np.array([[0, 1, 1, 1]], bool))
    assert table["images"].sum() == 4 and table.loc[">= 0.999", "model accuracy (%)"] == 100


def test_cifar10_zoo_trains_on_a_seeded_subset_and_caches(tmp_path, monkeypatch):
    from reliable_ml import data
    from reliable_ml.models import zoo

    monkeypatch.setenv("RELIABLE_ML_CACHE", str(tmp_path))
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (60, 3, 8, 8), dtype=torch.uint8, generator=g)
    y = torch.arange(60) % 10
    info = data.ImageSetInfo("toy", "train", "toy", 60, tuple("abcdefghij"), (3, 8, 8), lossy=False, location="-")
    train = data.ImageSet(x, y, info)
    first = zoo.cifar10_zoo(("logreg-e1",), 40, seed=0, train=train, progress=False)
    assert len(list((tmp_path / "zoo").glob("*.pt"))) == 1
    again = zoo.cifar10_zoo(("logreg-e1",), 40, seed=0, train=train, progress=False)
    np.testing.assert_array_equal(zoo.correct_matrix(first, x, y), zoo.correct_matrix(again, x, y))
    assert zoo.correct_matrix(first, x, y).shape == (1, 60)
    other = zoo.cifar10_zoo(("logreg-e1",), 40, seed=1, train=train, progress=False)  # another subset
    assert len(list((tmp_path / "zoo").glob("*.pt"))) == 2 and set(other) == {"logreg-e1"}


def test_versus_random_compares_a_mean_with_the_sampling_distribution_of_a_mean():
    counts, labels = toy_counts(800)
    sf = hl.selection_frequency(counts, labels)
    correct = np.random.default_rng(2).random((3, len(sf))) < sf  # models right as often as humans agree
    split = hl.split_reference_pool(labels, 0.5, seed=0)
    draws = hl.strategy_draws(sf, labels, correct, split, 20, 40, seed=0)
    assert len(draws) == 40 * 4 and set(draws["strategy"]) == set(hl.STRATEGY_NAMES)
    table = hl.strategy_table(sf, labels, correct, split, 20, 40, seed=0)
    assert np.allclose(
        table.astype(float), hl.strategy_table(sf, labels, correct, split, 20, 40, draws=draws).astype(float)
    )
    vs = hl.versus_random(draws)
    acc = draws.pivot(index="draw", columns="strategy", values="acc (%)")
    diff = acc["top_images"] - acc["random"]
    assert vs.loc["top_images", "mean difference"] == pytest.approx(diff.mean())
    # the interval of a mean of 40 draws is about sqrt(40) times narrower than the single-draw spread
    from scipy.stats import t, ttest_rel

    assert vs.loc["top_images", "hi"] - vs.loc["top_images", "lo"] == pytest.approx(
        2 * t.ppf(0.975, 39) * diff.std(ddof=1) / np.sqrt(40)
    )
    assert vs.loc["top_images", "p"] == pytest.approx(ttest_rel(acc["top_images"], acc["random"]).pvalue)
    assert vs.loc["top_images", "direction"] == "higher"  # clear images are easier for these models
    single = table.loc["random", "acc hi"] - table.loc["random", "acc lo"]
    assert vs.loc["matched_frequency", "hi"] - vs.loc["matched_frequency", "lo"] < single / 2
    with pytest.raises(ValueError, match="n_draws"):
        hl.strategy_draws(sf, labels, correct, split, 20, 1)


def test_versus_random_numbers_take_their_words_from_the_verdict():
    import pandas as pd

    from reliable_ml import stats

    up = stats.compare(np.array([3.0, 3.5, 2.5, 3.2]), np.zeros(4), paired=True)
    tie = stats.compare(np.array([0.5, -0.5, 0.2, -0.1]), np.zeros(4), paired=True)
    table = pd.DataFrame(
        {
            "mean difference": [tie.difference, up.difference],
            "lo": [tie.interval[0], up.interval[0]],
            "hi": [tie.interval[1], up.interval[1]],
            "verdict": [tie, up],
        },
        index=["matched_frequency", "top_images"],
    )
    glued, block = hl.versus_random_numbers(table)
    assert glued["c10h_matched_frequency_vs_random"].startswith("cannot be told from random (difference +0.0")
    assert glued["c10h_top_images_vs_random"].startswith("scores higher than random by 3.0 points")
    assert glued["c10h_threshold0.7_vs_random"] == "not measured"
    assert block["top_images"]["direction"] == "higher" and block["top_images"]["test"] == "paired t"


def test_published_family_rule():
    shake = "shake-shake/ShakeDrop"
    assert hl.published_family("shake_drop") == hl.published_family("shake_shake_26_2x32d_SSI") == shake
    assert hl.published_family("resnetv2_tf") == hl.published_family("resnet_preact_basic_110") == "ResNet"
    assert hl.published_family("resnext_29_4x64d") == "ResNeXt"  # not a ResNet by prefix
    assert hl.published_family("wide_resnet_tf") == hl.published_family("wrn_28_10") == "wide ResNet"
    assert hl.published_family("darc") == "darc"
    with pytest.raises(ValueError, match="non-empty string"):
        hl.published_family("")


def _family_run():
    """A bias run by hand: 6 models in 3 families (2 each), 5 splits; a zoo of 2 models."""
    rng = np.random.default_rng(2)
    err = np.repeat([[2.0], [4.0], [12.0]], 2, axis=0) + rng.normal(0, 0.2, (6, 5))
    bias = 0.1 * err + 3.0 + rng.normal(0, 0.1, (6, 5))
    zb, ze = 0.5 + rng.normal(0, 0.1, (2, 5)), 50 + rng.normal(0, 1, (2, 5))
    zeros = np.zeros((6, 5))
    return {
        "drop_models": {"pub": {"3": bias, "all": zeros}, "zoo": {"3": zb, "all": np.zeros((2, 5))}},
        "error_models": {"pub": err, "zoo": ze},
        "splits": 5,
    }, ["a", "a", "b", "b", "c", "c"]


def test_engstrom_families_count_each_family_once():
    run, fams = _family_run()
    out = hl.engstrom_families(run, "pub", fams)
    names, bf = stats.cluster_means(run["drop_models"]["pub"]["3"], fams)
    want = stats.crossed_interval(bf)
    assert out["families"] == 3 and out["bias"]["3"]["ci"] == pytest.approx(want["ci"], abs=1e-3)
    _, ef = stats.cluster_means(run["error_models"]["pub"], fams)
    r = stats.crossed_ratio_interval(bf, ef)
    assert out["relative"]["3"]["ci"] == pytest.approx([100 * c for c in r["ci"]], abs=1e-3)
    zb, ze = run["drop_models"]["zoo"]["3"], run["error_models"]["zoo"]
    assert out["between"]["zoo"]["3"]["ci"] == pytest.approx(stats.crossed_interval(bf, zb)["ci"], abs=1e-3)
    rr = stats.crossed_ratio_interval(bf, ef, zb, ze)
    assert out["between_relative"]["zoo"]["3"]["mean"] == pytest.approx(100 * rr["estimate"], abs=1e-3)
    assert out["r_models"]["3"] > 0.9  # the bias tracks the error by construction
    with pytest.raises(ValueError, match="one family per model"):
        hl.engstrom_families(run, "pub", fams[:5])
    g = hl.engstrom_family_numbers(out, "pub")
    assert g["eng_pub_fam_n"] == 3 and g["eng_pub_fam_bias_3_words"].startswith("above zero by")
    assert g["eng_pub_fam_vs_zoo_3_rel_words"].startswith("the data cannot tell the pub set")  # 3 families, wide
    assert hl.engstrom_family_numbers({}, "pub") == {}


def test_engstrom_families_split_by_error():
    rng = np.random.default_rng(3)
    err = np.repeat(np.arange(1.0, 7.0)[:, None] * 2, 5, axis=1) + rng.normal(0, 0.1, (6, 5))
    bias = 0.2 * err + rng.normal(0, 0.05, (6, 5))  # points grow with error, the relative bias is ~20% throughout
    run = {"drop_models": {"pub": {"3": bias, "all": np.zeros((6, 5))}}, "error_models": {"pub": err}, "splits": 5}
    be = hl.engstrom_families(run, "pub", list("abcdef"))["by_error"]
    assert be["higher"]["families"] == ["d", "e", "f"] and be["lower"]["families"] == ["a", "b", "c"]
    assert be["difference"]["3"]["direction"] == "higher"
    assert be["higher"]["relative"]["3"]["mean"] == pytest.approx(20, abs=1.5)
    lo, hi = be["relative_difference"]["3"]["ci"]
    assert lo <= 0 <= hi or abs(be["relative_difference"]["3"]["mean"]) < 2


def test_coarse_vs_fine_isolates_the_bins():
    counts, labels = toy_counts(2000, seed=1)
    sf = hl.selection_frequency(counts, labels)
    correct = np.random.default_rng(0).random((3, len(sf))) < sf
    t = hl.coarse_vs_fine(counts, labels, correct, 20, splits=3, n_resamples=4, high_sf=0.7, keep_high=0.3, seed=0)
    fine = hl.engstrom_bias(counts, labels, {"m": correct}, 20, ks=(None,), splits=3, n_resamples=4, high_sf=0.7,
                            keep_high=0.3, seed=0)["drop_models"]["m"]["all"]  # fmt: skip
    assert t["coarse"].shape == (3, 3) and np.allclose(t["fine"], fine)
    b, sentence = hl.coarse_vs_fine_sentence(t)
    assert b["mean"] == pytest.approx(float((t["coarse"] - t["fine"]).mean()), abs=1e-3)
    assert sentence.startswith("Are the coarse bins to blame? Over the 3 splits")
    same, s2 = hl.coarse_vs_fine_sentence({"coarse": t["fine"], "fine": t["fine"], "splits": 3})
    assert same["direction"] == "cannot tell" and "cannot tell" in s2
