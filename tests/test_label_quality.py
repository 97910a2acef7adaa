"""ReaL accuracy, reviewed label errors, the confident-learning rule (vs cleanlab), our CV model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import real_data_root

from reliable_ml.labels import label_quality as lq

REAL = [[1], [2, 3], [], [5], [6, 7, 8]]
LABELS = np.array([1, 3, 4, 0, 9])


def test_real_shares_and_original_labels():
    shares = lq.real_label_shares(REAL)
    assert shares["empty_pct"] == pytest.approx(20) and shares["one_pct"] == pytest.approx(40)
    assert shares["multi_pct"] == pytest.approx(40) and shares["multi_pct_of_nonempty"] == pytest.approx(50)
    # non-empty: [1]<-1 yes, [2,3]<-3 yes, [5]<-0 no, [6,7,8]<-9 no
    assert lq.original_not_in_real_pct(REAL, LABELS) == pytest.approx(50)
    with pytest.raises(ValueError, match="join them by file name"):
        lq.original_not_in_real_pct(REAL, LABELS[:3])


def test_real_accuracy_skips_empty_sets_and_matches_the_oracle_identity():
    top1 = np.array([1, 2, 7, 5, 0])  # the image with no label (index 2) is ignored
    assert lq.real_accuracy(top1, REAL) == pytest.approx(75)
    assert lq.real_accuracy(LABELS, REAL) == pytest.approx(100 - lq.original_not_in_real_pct(REAL, LABELS))
    with pytest.raises(ValueError, match="no image has a ReaL label"):
        lq.real_accuracy(np.array([0]), [[]])


def test_accuracy_table_and_ranks():
    top5 = {"a": np.tile(LABELS[:, None], 5), "b": np.tile(np.array([1, 2, 0, 5, 6])[:, None], 5)}
    table = lq.accuracy_table(top5, LABELS, REAL)
    assert table.loc["a", "top1"] == 100 and table.loc["a", "real"] == 50
    assert table.loc["b", "top1"] == 20 and table.loc["b", "real"] == 100
    assert table.loc["b", "gap"] == 80 and table.loc["a", "rank_top1"] == 1 and table.loc["b", "rank_real"] == 1


def test_rank_agreement_counts_swaps():
    a = pd.Series({"m1": 1.0, "m2": 2.0, "m3": 3.0})
    assert lq.rank_agreement(a, a)["pairs_swapped"] == 0
    rev = lq.rank_agreement(a, -a)
    assert rev["pairs_swapped"] == 3 and rev["kendall_tau"] == pytest.approx(-1)


def test_progress_slope_recovers_an_exact_line():
    x = np.linspace(50, 80, 10)
    res = lq.progress_slope(x, 0.8 * x + 10, n_boot=50)
    assert res["slope"] == pytest.approx(0.8) and res["ci_low"] == pytest.approx(0.8)
    assert "below 1" in lq.slope_verdict(res)
    assert "includes 1" in lq.slope_verdict({"slope": 1.0, "ci_low": 0.9, "ci_high": 1.1})
    assert "includes 1" in lq.slope_verdict({"slope": 0.95, "ci_low": 0.9, "ci_high": 1.0})  # touching 1: no verdict
    assert "above 1" in lq.slope_verdict({"slope": 1.2, "ci_low": 1.01, "ci_high": 1.3})
    with pytest.raises(ValueError, match="at least 3 models"):
        lq.progress_slope(x[:2], x[:2])


def reviews_frame():
    return pd.DataFrame(
        {
            "id": [0, 2, 4, 6],
            "given": [0, 1, 2, 3],
            "guessed": [5, 6, 7, 8],
            "votes_given": [0, 2, 3, 5],
            "votes_guessed": [5, 1, 2, 0],
            "votes_neither": [0, 2, 0, 0],
            "votes_both": [0, 0, 0, 0],
        }
    )


def test_paper_rule_and_counts():
    rev = reviews_frame()
    assert lq.confirmed_mask(rev).tolist() == [True, True, False, False]
    assert lq.label_error_counts(rev, 200) == {"flagged": 4, "confirmed": 2, "confirmed_pct": 1.0, "n": 200}
    with pytest.raises(ValueError, match="n_examples must be positive"):
        lq.label_error_counts(rev, 0)


def test_cleaned_labels_remove_and_correct():
    labels = np.array([0, 9, 1, 9, 2, 9, 3, 9])
    keep_removed, corrected, keep_corrected = lq.cleaned_labels(labels, reviews_frame())
    assert keep_removed.tolist() == [False, True, False, True, True, True, True, True]
    assert corrected[0] == 5 and corrected[2] == 1  # id 2 has no consensus: dropped, not relabelled
    assert keep_corrected.tolist() == [True, True, False, True, True, True, True, True]
    pred = labels.copy()
    pred[0] = 5  # right under the corrected label
    table = lq.accuracy_under_cleaning({"m": pred}, labels, reviews_frame())
    assert table.loc["m", "original"] == pytest.approx(87.5)
    assert table.loc["m", "removed"] == 100 and table.loc["m", "corrected"] == 100
    assert table.loc["m", "errors_given"] == 50 and table.loc["m", "errors_corrected"] == 100
    assert table.loc["m", "correctable_given"] == 0  # the one correctable error: the model names the new label
    given = lq.accuracy_under_cleaning({"m": labels}, labels, reviews_frame())  # a model that repeats every label
    assert given.loc["m", "correctable_given"] == 100 and given.loc["m", "errors_corrected"] == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_confident_learning_rule_matches_cleanlab(seed):
    rng = np.random.default_rng(seed)
    n, k = 400, 4
    y_true = rng.integers(0, k, n)
    probs = 0.5 * rng.dirichlet(np.ones(k), n) + 0.5 * np.eye(k)[y_true]
    labels = y_true.copy()
    flip = rng.choice(n, 40, replace=False)
    labels[flip] = rng.integers(0, k, 40)
    ours = lq.confident_learning_flags(labels, probs)
    assert ours.any()
    assert (ours == lq.find_issues(labels, probs, "confident_learning")).all()
    with pytest.raises(ValueError, match="expected \\(400,\\)"):
        lq.confident_learning_flags(labels[:10], probs)


def test_score_flags():
    flagged = np.zeros(10, bool)
    flagged[[0, 4, 8, 9]] = True  # 0 confirmed, 4 reviewed not confirmed, 8 and 9 unreviewed
    score = lq.score_flags(flagged, reviews_frame())
    assert score["n_flagged"] == 4 and score["n_flagged_reviewed"] == 2 and score["hits"] == 1
    assert score["precision"] == 50 and score["precision_lower"] == 25 and score["recall"] == 50


def test_join_by_name():
    idx = lq.join_by_name(["b", "a", "c"], ["a", "c", "b"])
    assert np.array(["b", "a", "c"])[idx].tolist() == ["a", "c", "b"]
    with pytest.raises(ValueError, match="'z'"):
        lq.join_by_name(["a"], ["z"])


def test_cross_val_pred_probs_is_a_distribution_per_test_example():
    gen = torch.Generator().manual_seed(0)
    y_train, y_test = torch.randint(0, 3, (120,), generator=gen), torch.randint(0, 3, (60,), generator=gen)
    x_train = (torch.rand(120, 1, 4, 4, generator=gen) * 0.2 + y_train.view(-1, 1, 1, 1) * 0.3).clamp(0, 1)
    x_test = (torch.rand(60, 1, 4, 4, generator=gen) * 0.2 + y_test.view(-1, 1, 1, 1) * 0.3).clamp(0, 1)
    probs = lq.cross_val_pred_probs(
        x_train,
        y_train,
        x_test,
        y_test,
        folds=3,
        hidden=8,
        pretrain_epochs=20,
        finetune_epochs=1,
        batch_size=32,
        lr=0.05,
        progress=False,
    )
    assert probs.shape == (60, 3) and np.allclose(probs.sum(1), 1)
    assert (probs.argmax(1) == y_test.numpy()).mean() > 0.9  # separable toy data
    with pytest.raises(ValueError, match="folds must be at least 2"):
        lq.cross_val_pred_probs(x_train, y_train, x_test, y_test, folds=1)


def test_summarize_seeds():
    out = lq.summarize_seeds(
        [{"precision": 40.0, "recall": 20.0, "hits": 2}, {"precision": 60.0, "recall": 40.0, "hits": 4}]
    )
    assert out["precision"] == 50 and out["recall"] == 30 and out["hits"] == 3 and out["seeds"] == 2
    assert out["precision_sd"] == pytest.approx(np.sqrt(200))
    assert lq.summarize_seeds([{"precision": 1.0, "recall": 2.0}])["recall_sd"] == 0
    with pytest.raises(ValueError, match="at least one seed"):
        lq.summarize_seeds([])
    seeds = [
        {"precision": 5 / 12 * 100, "recall": 5 / 15 * 100, "hits": 5, "n_flagged_reviewed": 12, "n_confirmed": 15}
    ]
    one = lq.summarize_seeds(seeds)["per_seed"][0]
    assert one["hits"] == 5 and one["recall_ci"] == pytest.approx(lq.exact_ci(5, 15))


def test_exact_ci_is_clopper_pearson_in_percent():
    from scipy.stats import beta

    lo, hi = lq.exact_ci(5, 15)  # recall 5 of 15: known only to within about +-25 points
    assert lo == pytest.approx(100 * beta.ppf(0.025, 5, 11)) and hi == pytest.approx(100 * beta.ppf(0.975, 6, 10))
    assert lo == pytest.approx(11.8, abs=0.1) and hi == pytest.approx(61.6, abs=0.1)
    assert lq.exact_ci(0, 10)[0] == 0.0 and lq.exact_ci(10, 10)[1] == 100.0
    assert all(np.isnan(lq.exact_ci(0, 0)))


def test_error_categories_split_the_confirmed_errors():
    r = pd.DataFrame(
        {
            "votes_given": [0, 1, 2, 1, 4, 2],
            "votes_guessed": [5, 3, 0, 1, 1, 1],
            "votes_both": [0, 1, 3, 0, 0, 1],
            "votes_neither": [0, 0, 0, 3, 0, 1],
        }
    )
    c = lq.error_categories(r)
    assert c == {"confirmed": 5, "correctable": 2, "both": 1, "neither": 1, "no_majority": 1}
    assert c["correctable"] + c["both"] + c["neither"] + c["no_majority"] == c["confirmed"]


def test_prevalence_crossover_is_where_the_two_mixtures_meet():
    # a: 73.45% on clean images, 78.8% on corrected errors; b: 79.75% and 73.0% (the review's numbers)
    pi = lq.prevalence_crossover(73.45, 78.8, 79.75, 73.0)
    assert pi == pytest.approx(100 * 6.3 / (6.3 + 5.8))
    mix = lambda clean, err: (1 - pi / 100) * clean + pi / 100 * err  # noqa: E731
    assert mix(73.45, 78.8) == pytest.approx(mix(79.75, 73.0))
    assert np.isnan(lq.prevalence_crossover(70, 70, 80, 75))  # b better on both: they never cross


def test_normalized_margin_is_the_given_label_minus_the_best_other():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.4, 0.4, 0.2]])
    np.testing.assert_allclose(lq.normalized_margin(np.array([0, 0, 1]), probs), [0.5, -0.5, 0.0])
    with pytest.raises(ValueError, match="class indices"):
        lq.normalized_margin(np.array([0, 3, 1]), probs)


def _noisy_toy(n_per=60, k=3, flips=9, seed=0):
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(k), n_per)
    logits = 4 * np.eye(k)[truth] + rng.normal(0, 1, (len(truth), k))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    given = truth.copy()
    flipped = rng.choice(len(truth), flips, replace=False)
    given[flipped] = (truth[flipped] + 1) % k
    return given, probs, flipped


def test_authors_error_count_follows_the_confident_joint():
    from cleanlab.count import compute_confident_joint
    from cleanlab.filter import find_label_issues

    given, probs, _ = _noisy_toy()
    cj = compute_confident_joint(given, probs, calibrate=False)
    # cleanlab v1.0's num_label_errors: the off-diagonal share of the joint, times n, rounded down
    assert lq.authors_error_count(given, probs, "num_label_errors") == int(
        len(given) * (cj.sum() - np.trace(cj)) / cj.sum()
    )
    by_class = find_label_issues(given, probs, confident_joint=cj, filter_by="prune_by_class")
    assert lq.authors_error_count(given, probs, "prune_by_class") == by_class.sum()
    with pytest.raises(ValueError, match="prune_by_class"):
        lq.authors_error_count(given, probs, "prune_by_noise_rate")


@pytest.mark.parametrize("method", ["prune_by_class", "num_label_errors"])
def test_authors_flags_are_the_lowest_margins_and_find_planted_flips(method):
    given, probs, flipped = _noisy_toy()
    flags = lq.authors_flags(given, probs, method)
    count = lq.authors_error_count(given, probs, method)
    assert flags.sum() == count
    margin = lq.normalized_margin(given, probs)
    assert margin[flags].max() <= margin[~flags].min()  # ranked by normalized margin over the whole set
    # the flags are the planted flips first: as many of them as the count allows
    assert flags[flipped].sum() == min(count, len(flipped))


def test_authors_protocol_regenerates_the_released_review_candidates():
    """Cross-check on the released files: with the authors' settings the MNIST flags all lie
    among the reviewed examples and hold every confirmed error; on CIFAR-10 the flags are exactly
    the reviewed examples (275, as cleanlab v1.0's count gives)."""
    real_data_root()
    from reliable_ml import data
    from reliable_ml.data import label_errors as le

    for name, method in lq.AUTHORS_ERROR_COUNT.items():
        try:
            d = le.label_errors(name)
        except (data.DataUnavailable, data.DataCorrupt):
            pytest.skip(f"released label-errors files of {name} not found")
        flags = lq.authors_flags(d.labels, d.pred_probs, method)
        score = lq.score_flags(flags, d.reviews)
        assert score["n_flagged_reviewed"] == score["n_flagged"], name  # nothing flagged outside the reviews
        assert score["hits"] == score["n_confirmed"] == {"mnist": 15, "cifar10": 54}[name]
        if name == "cifar10":
            assert set(np.flatnonzero(flags)) == set(d.reviews["id"])


def test_recovery_counts_hits_of_the_published_set_and_unreviewed_flags_apart():
    flagged = np.zeros(10, bool)
    flagged[[0, 2, 4, 7, 8]] = True  # 0 and 2 confirmed, 4 reviewed not confirmed, 7 and 8 never reviewed
    score = lq.score_flags(flagged, reviews_frame())
    r = lq.recovery(score, published=2)
    assert (r["found"], r["missed"], r["all_found"], r["not_reviewed"]) == (2, 0, True, 2)
    assert r["recall_ci"][1] == pytest.approx(100) and r["recall_ci"][0] == pytest.approx(100 * 0.025**0.5)
    flagged[2] = False  # one confirmed error dropped: the verdict flips, however many unreviewed flags
    flagged[[1, 3, 5, 9]] = True
    r = lq.recovery(lq.score_flags(flagged, reviews_frame()), published=2)
    assert (r["found"], r["missed"], r["all_found"], r["not_reviewed"]) == (1, 1, False, 6)
    assert lq.recovery_phrase(r) == "1 of the 2 confirmed errors (1 missed)"
    assert lq.recovery_phrase(lq.recovery(score, published=2)) == "every one of the 2 confirmed errors"
    with pytest.raises(ValueError, match="hits <= published"):
        lq.recovery({"hits": 3, "n_flagged": 4, "n_flagged_reviewed": 4}, published=2)
    with pytest.raises(ValueError, match="lacks"):
        lq.recovery({"hits": 3}, published=3)
