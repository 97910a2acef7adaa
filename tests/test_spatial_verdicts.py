"""Chapter 11's verdicts and words (spatial.arm_verdicts, linf_sentences, defence_sentences) on
made-up per-image correctness: every branch the data can take, and words that agree with counts."""

from __future__ import annotations

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
    assert "cannot tell" in w["linf_grid"] and "floor" in w["linf_grid"] and "beats" not in w["linf_grid"]
    assert w["linf_random"].startswith("Under the worst of 45 random draws, the L∞-robust model keeps more")
    assert "in all 3 standard seeds, by 3.0–3.4 points" in w["linf_random"]
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
    up = words(scores(std_grid=(10, 12, 9), rob_grid=60))
    assert up["linf_grid"].startswith("Under the grid, the L∞-robust model keeps more images correct")
    assert "by 4.8–5.1 points" in up["linf_grid"]
    assert up["grid_floor"] == "Under the grid the standard models keep 9 to 12 of the 1,000 images correct."
    down = words(scores(std_grid=(60, 62, 70), rob_grid=10))
    assert "keeps fewer images correct" in down["linf_grid"] and "by 5.0–6.0 points" in down["linf_grid"]
    close = words(scores(std_grid=(10, 12, 9), rob_grid=11))
    assert close["linf_grid"].startswith("Under the grid, the data cannot tell the L∞-robust model")
    mixed = words(scores(std_grid=(10, 80, 9), rob_grid=40))
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
    assert w["matched_grid"] == "both keep 0 of the 1,000 images correct, so the attack cannot rank them"
    assert w["matched_random"].startswith("the L∞-robust model keeps more images correct than its twin by 3.0 points")
    assert w["matched_clean"].startswith("the data cannot tell the two apart (difference -0.50 points")
    s["standard_matched"] = [sp.Scores(right(990), right(40), right(5))]
    w = sp.matched_sentences(s, 175)
    assert w["matched_grid"].startswith("the L∞-robust model keeps fewer images correct than its twin by 4.0 points")
    s["standard_matched"] = [sp.Scores(right(900), right(0), right(35))]
    w = sp.matched_sentences(s, 175)
    assert w["matched_clean"].startswith("the L∞-robust model is more accurate than its twin by 8.5 points")
    assert w["matched_random"].startswith("the data cannot tell the two apart (difference +0.0")
