"""Chapter 11's verdicts and words (spatial.arm_verdicts, linf_sentences, defence_sentences) on
made-up per-image correctness: every branch the data can take, and words that agree with counts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reliable_ml.course import prose
from reliable_ml.robust import spatial as sp

N = 1000
NAMES = {"standard": "standard", "linf_robust": "L-inf robust", "spatial_trained": "worst-of-5"}


def right(k: int, offset: int = 0) -> torch.Tensor:
    """Correct on images offset .. offset + k - 1 of N."""
    c = torch.zeros(N, dtype=torch.bool)
    c[offset : offset + k] = True
    return c


def scores(std_grid=(0, 0, 0), rob_grid=0, spa_grid=(500, 505, 511), std_random=(5, 2, 1), rob_random=35,
           std_clean=(960, 965, 970), spa_clean=(963, 968, 971)) -> dict:  # fmt: skip
    return {
        "standard": [sp.Scores(right(c), right(g), right(r)) for c, g, r in zip(std_clean, std_grid, std_random)],
        "linf_robust": [sp.Scores(right(985), right(rob_grid), right(rob_random))],
        "spatial_trained": [sp.Scores(right(c), right(g), right(780)) for c, g in zip(spa_clean, spa_grid)],
    }


def words(s: dict) -> dict:
    v = sp.arm_verdicts(s)
    return sp.linf_sentences(s, v, 45) | sp.defence_sentences(s, v, NAMES)


def test_the_floor_is_a_tie_never_a_win():
    # chapter 11 once read 0/1000 against 0/1000 as "the L-inf-robust model beats every standard model"
    w = words(scores())
    assert w["linf_grid"].startswith("Under the grid, 0 vs 0 of the 1,000 images against each standard seed")
    assert "floor" in w["linf_grid"] and "keeps more" not in w["linf_grid"]
    # 35 vs 5, 2, 1 of 1000: the L-inf model keeps 3.5%, above the floor, so the paired verdict decides
    # (the rule is "both at most 2%", not "either"), with the one-model caveat
    assert w["linf_random"].startswith("Under the worst of 45 random draws, the L∞-robust model keeps more images")
    assert "floor" not in w["linf_random"] and "not three pieces of evidence" in w["linf_random"]
    # 20 vs 5, 2, 1: both at or below 2% in every pair, so counts and p, no verdict word
    low = words(scores(rob_random=20))["linf_random"]
    assert low.startswith("Under the worst of 45 random draws, 20 vs 1 to 5 of the 1,000 images")
    assert "at the floor (both keep at most 2% of the images correct)" in low and "keeps more" not in low
    assert "floor" in w["grid_floor"]
    assert (
        w["defence_verdict"].startswith("each spatially trained model keeps more") and "9 pairs" in w["defence_verdict"]
    )
    assert w["cost_verdict"] == (
        "image by image (McNemar), the data cannot tell the defended and standard models apart on clean images "
        "in all 3 seeds (differences -0.3 to -0.1 points); two one-sided tests show the two equivalent within "
        "±1 point in all 3 seeds (the data support ±0.4 to ±0.7 points)"
    )
    assert w["linf_clean"] == "more accurate than the standard models in all 3 standard seeds, by 1.5–2.5 points"
    # the standard models: 5, 2, 1 of 1000 kept by random draws against 0 by the grid: too few to tell
    assert w["random_vs_grid"].startswith("standard: the data cannot tell the two attacks apart in all 3 seeds")
    assert "L-inf robust: random draws leave more images correct than the grid" in w["random_vs_grid"]
    for text in w.values():
        assert not prose.check_text(text + ".", with_data=True), text


def test_above_the_floor_the_paired_test_decides_each_direction():
    up = words(scores(std_grid=(30, 32, 29), rob_grid=80))
    assert up["linf_grid"].startswith("Under the grid, the L∞-robust model keeps more images correct")
    assert "in all 3 comparisons with a standard seed, by 4.8–5.1 points" in up["linf_grid"]
    assert up["linf_grid"].endswith("(one L∞-robust model against each standard seed, so not three pieces of "
                                    "evidence, and not like with like)")  # fmt: skip
    assert up["grid_floor"] == "Under the grid the standard models keep 29 to 32 of the 1,000 images correct."
    down = words(scores(std_grid=(80, 82, 90), rob_grid=30))
    assert "keeps fewer images correct" in down["linf_grid"] and "by 5.0–6.0 points" in down["linf_grid"]
    close = words(scores(std_grid=(30, 32, 29), rob_grid=31))
    assert close["linf_grid"].startswith("Under the grid, the data cannot tell the L∞-robust model")
    # the floor needs both: 20 of 1000 (2%) against 60 is not at the floor, 20 against 20 is, 21 against 3 is not
    assert "floor" not in words(scores(std_grid=(30, 32, 20), rob_grid=60))["linf_grid"]
    assert "floor" in words(scores(std_grid=(3, 3, 20), rob_grid=20))["linf_grid"]
    assert "floor" not in words(scores(std_grid=(3, 3, 3), rob_grid=21))["linf_grid"]
    assert sp.near_floor(right(20), right(0)) and not sp.near_floor(right(21), right(0))
    assert not sp.near_floor(right(0), right(705)) and sp.near_floor(right(7), right(0))
    mixed = words(scores(std_grid=(30, 100, 29), rob_grid=60))
    assert "the standard seeds disagree (2 higher, 1 lower;" in mixed["linf_grid"]


def test_a_real_clean_cost_and_a_grid_that_wins_are_named():
    w = words(scores(std_clean=(970, 975, 980), spa_clean=(940, 945, 950), std_random=(500, 500, 500)))
    assert w["cost_verdict"].startswith("image by image (McNemar), the defended model pays a clean-accuracy cost")
    assert "equivalent within ±1 point in 0 of 3 seeds (the data" in w["cost_verdict"]
    assert w["cost_verdict"].endswith("(the data support ±4.0 points)")
    assert w["random_vs_grid"] == (
        "for every model the random attack leaves a higher accuracy than the grid, "
        "so the grid is the stronger attack here"
    )


def test_same_seed_pairs_and_records_for_the_results_file():
    v = sp.arm_verdicts({k: s for k, s in scores().items() if k != "linf_robust"})
    assert set(v) == {"spatial_vs_standard_grid", "clean_cost", "clean_cost_tost", "same_seed_grid", "random_vs_grid"}
    assert len(v["same_seed_grid"]) == 3 and all(x.direction == "higher" for x in v["same_seed_grid"])
    rec = sp.verdict_records(v)
    assert rec["same_seed_grid"][0]["test"] == "McNemar exact" and rec["same_seed_grid"][0]["difference"] == 0.5


def test_matched_twin_words_follow_the_counts_and_the_floor():
    s = scores(rob_grid=0, rob_random=35)
    s["standard_matched"] = [sp.Scores(right(990), right(0), right(5))]
    w = sp.matched_sentences(s, 175)
    assert w["matched_grid"].startswith("0 vs 0 of the 1,000 images (exact McNemar p = 1); at the floor")
    # 35 vs 5 of 1000: the L-inf model keeps 3.5%, above the floor: the paired verdict (p = 2 * P(Bin(30, 1/2) <= 0))
    assert w["matched_random"].startswith("the L∞-robust model keeps more images correct than its twin by 3.0 points")
    # 15 vs 5, nested: both at most 2%, so counts and the exact p = 2 * 2**-10 (10 discordant, all one way)
    s["linf_robust"] = [sp.Scores(right(985), right(0), right(15))]
    assert sp.matched_sentences(s, 175)["matched_random"].startswith(
        "15 vs 5 of the 1,000 images (exact McNemar p = 0.002); at the floor (both keep at most 2%"
    )
    s["linf_robust"] = [sp.Scores(right(985), right(0), right(35))]
    s["standard_matched"] = [sp.Scores(right(990), right(0), right(25, offset=20))]  # 20 vs 10 discordant
    assert sp.matched_sentences(s, 175)["matched_random"].startswith(
        "the data cannot tell the two apart (difference +1.0 points"
    )
    s["standard_matched"] = [sp.Scores(right(990), right(0), right(5))]
    assert w["matched_clean"].startswith("the data cannot tell the two apart (difference -0.50 points")
    s["linf_robust"] = [sp.Scores(right(985), right(30), right(35))]
    s["standard_matched"] = [sp.Scores(right(990), right(70), right(5))]
    w = sp.matched_sentences(s, 175)
    assert w["matched_grid"].startswith("the L∞-robust model keeps fewer images correct than its twin by 4.0 points")
    s["standard_matched"] = [sp.Scores(right(900), right(0), right(35))]
    w = sp.matched_sentences(s, 175)
    assert w["matched_clean"].startswith("the L∞-robust model is more accurate than its twin by 8.5 points")
    assert w["matched_random"].startswith("the data cannot tell the two apart (difference +0.0")


def test_floor_words_with_holm_say_whether_the_test_survives():
    from reliable_ml import stats

    a, b = right(7), right(0)  # 7 vs 0: exact p = 2 / 2**7
    h = stats.holm_verdicts([sp.paired(a, b)] * 4)[0]  # 4 x 0.0156 = 0.0625
    text = sp.floor_words(a, b, holm=h)
    assert text == (
        "7 vs 0 of the 1,000 images (exact McNemar p = 0.016); at the floor (both keep at most 2% of the "
        "images correct), where the comparison rests on the few images either keeps and says little about which "
        "model is the more robust; not significant after Holm over 4 tests (adjusted p = 0.062)"
    )
    assert "; significant after Holm over 2" in sp.floor_words(a, b, holm=stats.holm_verdicts([sp.paired(a, b)] * 2)[0])
    with pytest.raises(ValueError, match="share"):
        sp.near_floor(a, b, share=1.5)


def test_curve_tests_correct_the_family_and_skip_the_floor_in_the_answer():
    fr = [0.5, 1.0]
    # per kind and size: (L-inf kept, twin kept) on nested images; rotation: 500 vs 505, translation: lower by 60,
    # both at 0.5: 405 vs 400 (p = 0.0625), both at 1.0: 7 vs 0 (the floor; p = 0.0156, third smallest: x 4 by Holm)
    kept = {"rotation": [(500, 505), (400, 405)], "translation": [(500, 560), (300, 360)], "both": [(405, 400), (7, 0)]}
    curve = {k: {"linf_robust": [[right(a) for a, _ in v]], "standard_matched": [[right(b) for _, b in v]]}
             for k, v in kept.items()}  # fmt: skip
    rows = sp.curve_tests(curve, fr)
    assert len(rows) == 6 and [r["at_floor"] for r in rows] == [False] * 5 + [True]
    assert rows[2]["n01"] == 60 and rows[2]["n10"] == 0 and rows[2]["holm"].direction == "lower"
    p = [r["p_value"] for r in rows]
    assert np.allclose([r["p_holm"] for r in rows], stats_holm(p))
    assert rows[5]["holm"].direction == "cannot tell" and rows[5]["verdict"].direction == "higher"
    assert np.isclose(rows[5]["p_holm"], 4 * 2 / 128)
    w = sp.curve_sentences(rows, 30.0, 3.0)
    assert w["curve_n_tests"] == 6 and w["curve_n_off_floor"] == 5
    assert w["linf_curve_answer"].startswith(
        "with rotations only the data cannot tell the two apart in both sizes off the floor"
    )
    assert "with translations only the L∞-robust model keeps fewer images correct than its twin in both sizes off " \
        "the floor, by 6.0 points" in w["linf_curve_answer"]  # fmt: skip
    assert w["linf_curve_answer"].endswith(
        "with both (1 of 2 sizes at the floor) the data cannot tell the two apart "
        "(difference +0.5 points [+0.1, +0.9]; unadjusted interval)"
    )
    # every interval of the curve's words is marked unadjusted (the verdicts are decided on Holm's p, not the interval)
    for kind in sp.KINDS:
        n_iv = w[f"linf_curve_{kind}"].count("]")
        assert n_iv == w[f"linf_curve_{kind}"].count("unadjusted interval") > 0, w[f"linf_curve_{kind}"]
    assert "keeps fewer images correct by 6.0 points [" in w["linf_curve_translation"]
    assert "] (unadjusted interval), exact p = " in w["linf_curve_translation"]
    assert w["linf_curve_both"].startswith("±15° and ±1.5 px: the data cannot tell the two apart after Holm")
    assert "±30° and ±3 px: 7 vs 0 of the 1,000 images (exact McNemar p = 0.016)" in w["linf_curve_both"]
    assert w["linf_curve_both"].endswith("not significant after Holm over 6 tests (adjusted p = 0.062)")
    rec = sp.curve_test_records(rows)
    assert len(rec["tests"]) == 6 and rec["tests"][5]["p_holm"] == rows[5]["p_holm"]
    assert rec["tests"][5]["verdict_holm"]["direction"] == "cannot tell"
    for text in (w["linf_curve_answer"], w["linf_curve_both"], w["linf_curve_translation"]):
        assert not prose.check_text(text + ".", with_data=True), text


def stats_holm(p):
    from reliable_ml import stats

    return stats.holm(p)
