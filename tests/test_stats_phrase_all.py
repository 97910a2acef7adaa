"""Words for several verdicts at once (stats.phrase_all, stats.consensus) and a verdict as JSON:
the sign of every number agrees with its words, on every branch."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reliable_ml import stats
from reliable_ml.course import prose


def outcomes(k: int, n: int = 200) -> np.ndarray:
    return np.r_[np.ones(k), np.zeros(n - k)]


def paired_table(n11: int, n10: int, n01: int, n00: int):
    a = np.r_[np.ones(n11), np.ones(n10), np.zeros(n01), np.zeros(n00)]
    b = np.r_[np.ones(n11), np.zeros(n10), np.ones(n01), np.zeros(n00)]
    return stats.compare(a, b, paired=True)


def test_chapter_10s_three_seeds_all_lower_read_lower_with_positive_sizes():
    # the robust model's images: 3 of 200 judged as the target; standard seeds 68, 64, 43 of 200
    robust = outcomes(3)
    verdicts = [stats.compare(robust, outcomes(k), paired=False) for k in (68, 64, 43)]
    assert stats.consensus(verdicts) == "lower"
    words = stats.phrase_all(
        verdicts, "higher than the standard model's", "lower than the standard model's", items="seeds"
    )
    assert words == "lower than the standard model's in all 3 seeds, by 20.0–32.5 points"
    assert not prose.check_text(f"The robust model's share is {words}.", with_data=True)


def test_all_higher_equal_sizes_print_one_number_and_two_read_both():
    v = [paired_table(100, 30, 0, 70), paired_table(100, 30, 0, 70)]
    assert stats.phrase_all(v, "more", "fewer", items="seeds") == "more in both seeds, by 15.0 points"


def test_cannot_tell_keeps_the_signed_differences_and_zero_reads_once():
    v = [paired_table(90, 1, 2, 107), paired_table(90, 0, 1, 109), paired_table(90, 1, 0, 109)]
    assert stats.consensus(v) == "cannot tell"
    assert stats.phrase_all(v, cannot_tell="no measurable cost", items="seeds") == (
        "no measurable cost in all 3 seeds (differences -0.5 to +0.5 points)"
    )
    zeros = [stats.compare(np.zeros(1000), np.zeros(1000), paired=True)] * 3
    words = stats.phrase_all(zeros, cannot_tell="the grid cannot tell them apart", items="seeds")
    assert words == "the grid cannot tell them apart in all 3 seeds (difference +0.0 points in each)"


def test_one_direction_beside_cannot_tell_is_counted_not_called_a_disagreement():
    v = [paired_table(100, 30, 0, 70), paired_table(100, 2, 1, 97)]
    assert stats.consensus(v) == "mixed"
    words = stats.phrase_all(v, mixed="the seeds disagree", items="seeds")
    assert words == (
        "higher in 1 of 2 seeds, the data cannot tell them apart in 1, lower in none (differences +0.5 to +15.0 points)"
    )
    assert "disagree" not in words
    low = [paired_table(100, 0, 30, 70), paired_table(100, 0, 25, 75), paired_table(100, 1, 2, 97)]
    assert stats.tally_words(low, items="seeds") == (
        "lower in 2 of 3 seeds, the data cannot tell them apart in 1, higher in none"
    )
    assert not prose.check_text(f"The robust arm is {stats.phrase_all(low, items='seeds')}.", with_data=True)


def test_opposite_directions_and_only_they_read_disagree():
    v = [paired_table(100, 30, 0, 70), paired_table(100, 0, 30, 70), paired_table(100, 2, 1, 97)]
    assert stats.phrase_all(v, mixed="the seeds disagree") == (
        "the seeds disagree (1 higher, 1 lower, 1 cannot tell; differences -15.0 to +15.0 points)"
    )
    assert stats.tally_words(v, mixed="the seeds disagree") == "the seeds disagree"
    same = [paired_table(100, 30, 0, 70)] * 3
    assert stats.tally_words(same, "more", "fewer", items="seeds") == "more in all 3 seeds"
    assert stats.tally_words(same[:2], "more", "fewer", items="seeds") == "more in both seeds"
    tost = stats.compare_counts(500, 1000, 505, 1000, margin=0.05)
    with pytest.raises(ValueError, match="equivalence"):
        stats.tally_words([tost, same[0]])


def test_one_verdict_is_phrase_and_bad_input_is_refused():
    v = paired_table(100, 30, 0, 70)
    assert stats.phrase_all([v], "more", "fewer") == stats.phrase(v, "more", "fewer")
    with pytest.raises(ValueError, match="no verdicts"):
        stats.consensus([])
    tost = stats.compare_counts(500, 1000, 505, 1000, margin=0.05)
    with pytest.raises(ValueError, match="equivalence"):
        stats.phrase_all([tost, tost])


def test_as_dict_is_plain_json_with_the_test_and_interval():
    v = paired_table(100, 30, 0, 70)
    d = v.as_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["direction"] == "higher" and d["test"] == "McNemar exact" and d["level"] == pytest.approx(0.95)
    assert d["interval"] == pytest.approx(list(v.interval)) and "margin" not in d
    t = stats.compare_counts(500, 1000, 505, 1000, margin=0.05).as_dict()
    assert t["margin"] == 0.05 and t["margin_supported"] == pytest.approx(0.0417, abs=5e-4)
    assert stats.against_reference(0.9, (0.8, 0.95), 0.5).as_dict()["p_value"] is None
