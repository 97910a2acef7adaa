"""The robustness chapters' conclusions (robust.verdicts): known tables, every branch's words, and
every sentence passing the prose check."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from reliable_ml import stats
from reliable_ml.course import prose
from reliable_ml.robust import verdicts as V


def clean(text: str) -> bool:
    return prose.check_text(text) == []


# ----------------------------------------------------------------------------- paired tables
def test_table_from_summary_recovers_the_paired_table():
    for table in [(875, 29, 0, 96), (904, 0, 71, 25), (500, 12, 7, 481), (0, 3, 0, 7)]:
        a, b = V.paired_arrays(*table)
        n = len(a)
        half = 1.96 * np.std(a - b, ddof=1) / math.sqrt(n)
        assert V.table_from_summary(a.mean(), b.mean(), half, n) == table
    # chapter 04's cpu card: white-box 90.4%, transfer 97.5%, noise 1.5926 points on 1,000 images
    assert V.table_from_summary(0.904, 0.975, 0.015926133747276334, 1000) == (904, 0, 71, 25)
    with pytest.raises(ValueError, match="no paired table"):
        V.table_from_summary(0.5, 0.4, 0.001, 100)  # 10 discordant pairs cannot give so small a half-width
    with pytest.raises(ValueError, match="n >= 2"):
        V.table_from_summary(0.5, 0.5, 0.1, 1)


def test_gradient_free_gap_is_mcnemar_on_the_worst_gradient_case():
    n11, n10, n01, n00 = 875, 29, 0, 96  # gradient worst case right, Square wrong on 29 images
    grad, free = V.paired_arrays(n11, n10, n01, n00)
    ok = {"clean": np.ones(1000), "pgd-40x5": grad, "apgd-ce": np.ones(1000), "square": free}
    gap = V.gradient_free_gap(ok)
    v = gap["verdict"]
    assert (gap["broken_only_by_free"], gap["broken_only_by_gradient"]) == (29, 0)
    assert v.direction == "lower" and v.difference == pytest.approx(-0.029)
    assert v.p_value == pytest.approx(2 * 0.5**29)
    text = V.gradient_free_text(gap)
    assert (
        "breaks 29 images that no gradient attack" in text
        and "below the worst case" in text
        and "2.9 points" in text
        and clean(text)
    )
    # the other way round and a tie read differently, and still pass the prose check
    up = V.gradient_free_gap({"pgd": free, "square": grad})
    assert up["verdict"].direction == "higher" and "above the worst case" in V.gradient_free_text(up)
    tie = V.gradient_free_gap({"pgd": grad, "square": grad})
    assert tie["verdict"].direction == "cannot tell" and "cannot tell" in V.gradient_free_text(tie)
    assert all(clean(V.gradient_free_text(g)) for g in (up, tie))
    with pytest.raises(ValueError, match="gradient-free"):
        V.gradient_free_gap({"pgd": grad})


def card(per_image: bool = True) -> dict:
    grad, free = V.paired_arrays(875, 29, 0, 96)
    out = {
        "n_eval": 1000,
        "settings": {"epochs": 4, "attack_steps": 4},
        "masking": {
            "flags": ["gradient_free_beats_gradient"],
            "checks": {
                "gradient_free_beats_gradient": {
                    "best_gradient_acc": 90.4,
                    "gradient_free_acc": 87.5,
                    "diff": 2.9,
                    "noise": 100 * 1.96 * np.std(grad - free, ddof=1) / math.sqrt(1000),
                    "flagged": True,
                },
                "large_eps_not_near_zero": {
                    "large_eps": 0.5,
                    "acc": 0.0,
                    "noise": 0.196,
                    "threshold": 5.0,
                    "grey_ceiling": 8.7,
                    "flagged": False,
                },  # fmt: skip
                "more_steps_still_lower": {
                    "steps": 100,
                    "restarts": 2,
                    "figure_acc": 87.5,
                    "strong_pgd_acc": 91.0,
                    "figure_with_strong_pgd_acc": 87.5,
                    "diff": 0.0,
                    "noise": 0.0,
                    "flagged": False,
                },  # fmt: skip
                "transfer_beats_white_box": {
                    "transfer_acc": 97.5,
                    "white_box_acc": 90.4,
                    "diff": -7.1,
                    "noise": 1.5926133747276334,
                    "flagged": False,
                },  # fmt: skip
            },
        },
    }
    if per_image:
        out["per_image_ok"] = {"clean": [1] * 1000, "pgd-40x5": grad.tolist(), "square": free.tolist()}
    return out


@pytest.mark.parametrize("per_image", [True, False])
def test_masking_verdicts_from_the_card(per_image):
    c = card(per_image)
    v = V.masking_verdicts(c)
    assert v["gradient_free_beats_gradient"].direction == "lower"  # the same table either way
    assert v["gradient_free_beats_gradient"].p_value == pytest.approx(2 * 0.5**29)
    assert v["large_eps_not_near_zero"].direction == "lower"  # 0 of 1000: upper bound 0.37% < 5%
    assert v["large_eps_not_near_zero"].interval[1] == pytest.approx(st.beta.ppf(0.975, 1, 1000) - 0.05)
    assert v["more_steps_still_lower"].direction == "cannot tell" and v["more_steps_still_lower"].p_value == 1.0
    t = v["transfer_beats_white_box"]
    assert t.direction == "higher" and t.difference == pytest.approx(0.071) and t.p_value == pytest.approx(2 * 0.5**71)
    text = V.masking_text(v, c["masking"]["flags"])
    assert text.startswith("**1 of 4 checks warn**") and "agrees" in text and clean(text)
    assert "cure is in the training" not in text and "may be loose" in text
    rows = V.masking_table(c, v)
    assert [r["warns"] for r in rows] == ["yes", "no", "no", "no"]
    # a card whose rule flagged nothing disagrees with the exact test, and says so
    assert "differs" in V.masking_text(v, [])
    calm = {k: x for k, x in v.items() if k != "gradient_free_beats_gradient"}
    assert V.masking_text(calm, []).startswith("**No warning.**")


def test_literature_text_lists_what_differs():
    v = stats.against_reference(0.875, (0.853, 0.894), 0.88)
    text = V.literature_text(v, card())
    assert text.startswith("Their 88.0% best-attack figure lies inside our interval") and "not like with like" in text
    assert (
        "4 epochs with PGD-4" in text
        and "first 1,000" in text
        and "check 1 (gradient-free against gradient attacks)" in text
    )
    below = V.literature_text(stats.against_reference(0.80, (0.77, 0.83), 0.88), card())
    assert below.startswith("Our worst case lies below") and clean(below) and clean(text)
    # the whole split evaluated: no "first n" contrast; a student-heavy subset gets the signed clause
    whole = V.literature_text(v, {**card(), "n_eval": 10_000})
    assert "all 10,000 test images in both" in whole and "first" not in whole
    pop = {"n_eval": 1000, "students_eval": 1000, "n_test_split": 10_000, "students_test_split": 5_000}
    signed = V.literature_text(v, card(), population=pop)
    assert "100% students' digits in ours, 50% in theirs" in signed and "untested" in signed


def test_sample_text_says_whole_split_or_first_n():
    assert V.sample_text(10_000, 10_000) == "The images are the whole MNIST test split (10,000 images)"
    assert "first 1,000 of the 10,000" in V.sample_text(1000, 10_000) and "not a random sample" in V.sample_text(
        1000, 10_000
    )
    with pytest.raises(ValueError, match="n_eval must lie in 1..n_test = 10000; got 0"):
        V.sample_text(0, 10_000)


def test_gradient_free_explanations_only_when_square_wins():
    grad, free = V.paired_arrays(875, 29, 0, 96)
    win = V.gradient_free_text(V.gradient_free_gap({"pgd": grad, "square": free}))
    lose = V.gradient_free_text(V.gradient_free_gap({"pgd": free, "square": grad}))
    tie = V.gradient_free_text(V.gradient_free_gap({"pgd": grad, "square": grad}))
    assert "Two explanations fit" in win and "cannot tell the two apart" in win
    assert "Two explanations" not in lose and "Two explanations" not in tie


def test_leaderboard_text_skips_unreliable_and_uses_the_strongest_attack():
    rb = pd.DataFrame(
        {
            "robust": [58.1, 75.28, 73.71, 71.28],
            "strongest": [58.1, 73.10, 73.71, 64.20],
            "unreliable": [False, False, False, True],
            "group": ["CIFAR-10 only", "generated data", "generated data", "real extra data"],
        },
        index=["Own", "Sparse", "Base", "Stable"],
    )
    text = V.leaderboard_text(rb)
    assert "58.1% under AutoAttack (Own)" in text and "73.7% under AutoAttack (Base)" in text
    assert "Stable" not in text and "Sparse" not in text
    rb.loc["Sparse", "strongest"] = 74.0  # now the best, though below its AutoAttack figure
    assert "74.0% under the strongest recorded attack (AutoAttack: 75.3%) (Sparse)" in V.leaderboard_text(rb)


def test_cifar_recipe_text_reads_the_gpu_row():
    from reliable_ml.settings import robust_cifar

    row = robust_cifar.TABLE["gpu"]
    text = V.cifar_recipe_text(row)
    assert f"{row.train.attack_steps}-step PGD for {row.train.epochs} epochs" in text
    # the checkpoint is chosen on held-out training images, never on test images (Rice et al. 2020)
    assert ("held out of training" in text) == bool(row.train.keep_best) and "*test*" not in text
    assert f"{row.autoattack_iterations} iterations" in text and f"{row.square_queries:,} queries" in text
    assert ("on all of them" in text) == (row.autoattack_n >= row.n_eval)


def test_strength_text_reads_the_settings():
    ours = {"apgd-ce": {"iterations": 10, "restarts": 1, "targets": None, "queries": None}}
    text = V.strength_text(ours, {"apgd-ce": {"iterations": 100, "restarts": 1, "targets": None, "queries": None}})
    assert "APGD-CE 10 iterations, 1 restart." in text and "APGD-CE 100 iterations" in text


# ----------------------------------------------------------------------------- catastrophic overfitting
def test_fgsm_signature_from_exact_counts():
    pgd, own = {"0": 0.0, "1": 0.0, "2": 0.0}, {"0": 96.0, "1": 97.0, "2": 97.7}
    sig = V.fgsm_signature(pgd, own, n_val=300, n_train=60_000)
    assert sig["present"] and sig["k_pgd"] == 0 and sig["n_pgd"] == 900
    assert sig["gap"].direction == "lower" and sig["pgd_vs_gained"].direction == "lower"
    # the seed is the unit: a paired t over the three seeds' differences, not the pooled counts
    d = np.array([-0.96, -0.97, -0.977])
    half = st.t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3)
    assert sig["gap"].p_value == pytest.approx(st.ttest_rel([0, 0, 0], [0.96, 0.97, 0.977]).pvalue)
    assert sig["gap"].interval == pytest.approx((d.mean() - half, d.mean() + half)) and sig["seeds"] == 3
    text = V.fgsm_signature_text(sig)
    assert "shows the signature" in text and "0 of 900" in text and "paired over the 3 seeds" in text and clean(text)
    one = V.fgsm_signature({"0": 0.0}, {"0": 96.0}, n_val=300, n_train=60_000)  # one seed: its exact counts
    assert one["gap"].p_value == pytest.approx(st.fisher_exact([[0, 300], [57_600, 2_400]]).pvalue)
    assert "one seed" in V.fgsm_signature_text(one)
    robust = V.fgsm_signature({"0": 84.0, "1": 85.0}, {"0": 90.0, "1": 91.0}, n_val=300, n_train=60_000)
    assert not robust["present"] and "does not show" in V.fgsm_signature_text(robust)
    assert clean(V.fgsm_signature_text(robust))
    with pytest.raises(ValueError, match="same seeds"):
        V.fgsm_signature({"0": 1.0}, {"1": 1.0}, n_val=10, n_train=10)


def test_overfitting_verdict_lists_each_seed():
    from reliable_ml.robust.train import collapse_summary

    curves = {"fgsm": {"0": [30.0, 60.0, 2.0], "1": [5.0, 9.0, 9.0]}, "rs": {"0": [40.0, 70.0, 75.0]}}
    summary = {arm: collapse_summary(c) for arm, c in curves.items()}
    text = V.overfitting_verdict(summary, "fgsm", "rs")
    assert "1 of 2 collapsed (seed 0 peaked at 60.0% in epoch 2 and ended at 2.0%)" in text
    assert "1 of 2 never became robust (seed 1 peaked at 9.0%" in text and "1 of 1 held" in text


def test_step_size_verdict_is_paired_over_seeds():
    a, b = {"0": 84.3, "1": 85.3, "2": 8.0}, {"0": 84.3, "1": 84.7, "2": 3.3}
    v = V.step_size_verdict(a, b)
    d = np.array([0.0, 0.6, 4.7]) / 100
    assert v.test == "paired t" and v.difference == pytest.approx(d.mean())
    assert v.p_value == pytest.approx(st.ttest_rel(d, np.zeros(3)).pvalue)
    text = V.step_size_text(v)
    assert v.direction == "cannot tell" and "cannot tell the two step sizes apart" in text and clean(text)
    assert "with 3 seeds this run cannot detect" in V.step_size_text(v, 3) and "does not reproduce" not in text


# ----------------------------------------------------------------------------- chapter 05
def test_fit_verdict_is_exact_at_100_percent():
    assert V.fit_verdict([1.0, 1.0, 1.0], [100, 100, 100]).direction == "cannot tell"
    v = V.fit_verdict([0.92, 0.93], [500, 500])
    assert v.direction == "lower" and v.interval[1] == pytest.approx(st.beta.ppf(0.975, 926, 75) - 1)


def test_matched_size_interpolates_in_log_size():
    assert V.matched_size([100, 1000], [0.5, 0.7], 0.6) == pytest.approx(math.sqrt(100 * 1000))
    assert V.matched_size([100, 1000], [0.8, 0.9], 0.6) == 100.0
    assert math.isnan(V.matched_size([100, 1000], [0.5, 0.55], 0.6))


def size_rows() -> pd.DataFrame:
    points = {  # (n, training): (clean test, robust test, robust train) per seed
        (100, "adv"): [(0.80, 0.50, 1.0), (0.82, 0.52, 1.0), (0.78, 0.49, 1.0)],
        (1000, "adv"): [(0.93, 0.80, 0.95), (0.94, 0.81, 0.94), (0.93, 0.79, 0.95)],
        (3000, "adv"): [(0.97, 0.86, 0.96), (0.97, 0.87, 0.96), (0.965, 0.85, 0.97)],
        (100, "std"): [(0.80, 0.0, 0.0)] * 3,
        (1000, "std"): [(0.90, 0.0, 0.0)] * 3,
        (3000, "std"): [(0.95, 0.0, 0.0)] * 3,
    }
    return pd.DataFrame(
        [
            {"n_train": n, "training": t, "seed": s, "epochs": 150 * 128 / n, "clean test": c, "robust test": r,
             "robust train": rt}
            for (n, t), seeds in points.items()
            for s, (c, r, rt) in enumerate(seeds)
        ]
    )  # fmt: skip


def test_size_curve_summary_words_come_from_verdicts():
    out = V.size_curve_summary(size_rows(), "adv", n_eval_train=500, standard="std")
    assert out["fits"][100].direction == "cannot tell" and out["fits"][3000].direction == "lower"
    assert "do not fit their own training images robustly" in out["text"]
    # clean error 6.7% -> 3.3% (x 0.5), robust error 20% -> 14% (x 0.7): the clean ratio is the smaller
    assert out["error_ratio"].direction == "lower" and "the clean error's ratio" in out["text"]
    # robust 86% at 3,000 images; standard training is at 86% between 300 and 1,000 (log interpolation)
    m = out["matched"]
    assert m["target_pct"] == pytest.approx(86.0) and 100 < m["standard_n"] < 1000
    assert m["standard_n"] == pytest.approx(V.matched_size([100, 1000, 3000], [0.8, 0.9, 0.95], 0.86))
    # per seed: each seed's standard curve (the same here) against its own robust accuracy at 3,000
    for sd, r in enumerate((0.86, 0.87, 0.85)):
        n_sd = V.matched_size([100, 1000, 3000], [0.8, 0.9, 0.95], r)
        assert m["ratio_per_seed"][sd] == pytest.approx(3000 / n_sd)
    assert "times)" in out["text"] and "Two biases pull in opposite directions" in out["text"]
    assert "probably understate" in out["text"] and "lower bounds" not in out["text"]
    assert out["ends"]["robust_test"].direction == "higher" and out["ends"]["gap"].direction == "lower"
    assert "seed-to-seed range over 3 seeds" in out["text"] and "agreement to expect" not in out["text"]
    assert clean(out["text"]) and clean(out["ends_text"])


# ----------------------------------------------------------------------------- chapter 06
def test_seed_image_bootstrap_covers_the_mean_and_widens_with_seed_spread():
    rng = np.random.default_rng(0)
    same = np.tile(rng.choice([-1, 0, 0, 0, 1, 1], size=1000), (3, 1))
    lo, hi = V.seed_image_bootstrap(same, n_boot=500)
    assert lo < same.mean() < hi
    spread = same.astype(float).copy()
    spread[0, :100] = 1  # seed 0 gains 100 more images: the seeds disagree
    lo2, hi2 = V.seed_image_bootstrap(spread, n_boot=500)
    assert hi2 - lo2 > hi - lo
    with pytest.raises(ValueError, match="seeds, images"):
        V.seed_image_bootstrap(np.zeros(5))


def rst_correct(seed_tables) -> list[dict]:
    """Per seed, 0/1 outcomes of the three arms on the same images from (labeled-only, rst, ceiling) counts."""
    out = []
    for n_lab, n_rst, n_ceil in seed_tables:
        n = 1000
        out.append(
            {
                "labeled_only": np.r_[np.ones(n_lab), np.zeros(n - n_lab)],
                "rst": np.r_[np.ones(n_rst), np.zeros(n - n_rst)],
                "ceiling": np.r_[np.ones(n_ceil), np.zeros(n - n_ceil)],
            }
        )
    return out


def test_rst_summary_and_noise_verdict_on_every_branch():
    summ = V.rst_summary(rst_correct([(840, 876, 912), (850, 883, 909), (845, 878, 914)]), [0.92, 0.92, 0.91])
    g = summ["gain"]
    assert g["points"].tolist() == pytest.approx([3.6, 3.3, 3.3])
    # nested outcomes: every discordant pair favours RST, so McNemar's p is 2 * 0.5 ** 36 for seed 0
    assert g["per_seed"][0].p_value == pytest.approx(2 * 0.5**36) and g["overall"].direction == "higher"
    assert summ["share_per_seed"] == pytest.approx([3.6 / 7.2, 2.6 / 5.9, 3.6 / 6.9])
    text = V.noise_verdict(summ, 0.918)
    assert "92% correct" in text and "44–52% across seeds" in text and "above RST" in text
    assert "whatever the trade-off" not in text and clean(text) and clean(summ["text"])
    # the pool does not help: no share is given, and the words say so
    flat = V.rst_summary(rst_correct([(840, 830, 841), (850, 845, 849)]), [0.9, 0.9])
    assert flat["share_per_seed"] is None and V.noise_verdict(flat, 0.9).startswith("The pool did not help")
    # RST as good as the ceiling: cannot tell
    tie = V.rst_summary(rst_correct([(800, 900, 901), (800, 902, 901)]), [0.9, 0.9])
    assert V.noise_verdict(tie, 0.9).startswith("The data cannot tell RST from the ceiling")
    assert all(clean(V.noise_verdict(s, 0.9)) for s in (flat, tie))


def test_sample_masking_verdicts_read_each_warning_in_its_direction():
    n = 400
    white = np.zeros(n, dtype=bool)
    white[:300] = True
    honest = {"large_ok": np.zeros(n, dtype=bool), "transfer_ok": white.copy()}
    honest["transfer_ok"][300:350] = True  # transfer leaves more correct than the gradient attacks
    v = V.sample_masking_verdicts(honest, white)
    assert v["large_eps_not_near_zero"].direction == "lower"  # 0 of 400, well below 5%: no warning
    assert v["transfer_beats_white_box"].direction == "higher"
    masked = {"large_ok": np.arange(n) < 60, "transfer_ok": np.arange(n) < 200}  # 15% survive; transfer beats
    v = V.sample_masking_verdicts(masked, white)
    assert all(v[k].direction == V.WARNING_DIRECTION[k] for k in v)
    assert v["transfer_beats_white_box"].difference == pytest.approx(-0.25)
    with pytest.raises(ValueError, match="one outcome per image"):
        V.sample_masking_verdicts({"large_ok": white, "transfer_ok": white[:10]}, white)
