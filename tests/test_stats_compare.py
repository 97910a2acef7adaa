"""The one verdict rule (stats.compare, compare_counts, against_reference) and its words (stats.phrase),
checked against scipy and hand-computed values (statsmodels is not a dependency)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy import stats as st

from reliable_ml import stats
from reliable_ml.course import prose

Z = st.norm.ppf(0.975)


def paired_outcomes(n11: int, n10: int, n01: int, n00: int) -> tuple[np.ndarray, np.ndarray]:
    """0/1 outcomes of a and b on the same n items with the given 2x2 table."""
    a = np.r_[np.ones(n11), np.ones(n10), np.zeros(n01), np.zeros(n00)]
    b = np.r_[np.ones(n11), np.zeros(n10), np.ones(n01), np.zeros(n00)]
    return a, b


# ----------------------------------------------------------------------------- sign, tie, zero counts


def test_the_sign_of_the_difference_decides_higher_or_lower():
    up, down = stats.compare_counts(60, 100, 35, 100), stats.compare_counts(35, 100, 60, 100)
    assert (up.direction, down.direction) == ("higher", "lower")
    assert up.difference == pytest.approx(0.25) and down.difference == pytest.approx(-0.25)
    assert up.interval[0] > 0 and down.interval[1] < 0
    assert up.p_value == pytest.approx(st.fisher_exact([[60, 40], [35, 65]]).pvalue)


def test_a_tie_is_cannot_tell_exactly():
    v = stats.compare_counts(50, 100, 100, 200)
    assert v.direction == "cannot tell" and v.difference == 0.0 and v.p_value == pytest.approx(1.0)
    a = np.r_[np.ones(40), np.zeros(60)]
    same = stats.compare(a, a, paired=True)
    assert same.direction == "cannot tell" and same.p_value == 1.0 and same.test == "McNemar exact"


def test_wilson_bounds_are_exact_at_zero_and_n():
    # chapter 11 once read a lower bound of 2.2e-19 at k = 0 as "above 0"
    lo, hi = stats.wilson(0, 10_000)
    assert lo == 0.0 and hi == pytest.approx(Z**2 / (10_000 + Z**2))
    lo, hi = stats.wilson(10_000, 10_000)
    assert hi == 1.0 and lo == pytest.approx(10_000 / (10_000 + Z**2))


@pytest.mark.parametrize("paired", [True, False])
def test_zero_against_zero_is_cannot_tell_with_exact_ends(paired):
    a = np.zeros(1000)
    v = stats.compare(a, a.copy(), paired=paired)
    assert v.direction == "cannot tell" and v.difference == 0.0 and v.p_value == 1.0
    u = Z**2 / (1000 + Z**2)  # the Wilson upper bound of 0/1000, by hand
    assert v.interval == pytest.approx((-u, u), abs=1e-12)
    # Newcombe (1998), example (f): 0/10 - 0/10 has the interval -0.2775 to 0.2775
    assert stats.compare_counts(0, 10, 0, 10).interval == pytest.approx((-0.2775, 0.2775), abs=1e-4)


@pytest.mark.parametrize("paired", [True, False])
def test_zero_against_thirty_in_a_thousand_is_lower(paired):
    a, b = np.zeros(1000), np.r_[np.ones(30), np.zeros(970)]
    v = stats.compare(a, b, paired=paired)
    assert v.direction == "lower" and v.difference == pytest.approx(-0.03) and v.interval[1] < 0
    expected = 2 * 0.5**30 if paired else st.fisher_exact([[0, 1000], [30, 970]]).pvalue
    assert v.p_value == pytest.approx(expected, rel=1e-9)
    assert stats.compare(b, a, paired=paired).direction == "higher"


# ----------------------------------------------------------------------------- paired and independent


def test_pairing_can_change_the_verdict():
    # 200 images; a is right on 160, b on 150, and every disagreement favours a (10 to 0)
    a, b = paired_outcomes(150, 10, 0, 40)
    paired, unpaired = stats.compare(a, b, paired=True), stats.compare(a, b, paired=False)
    assert paired.direction == "higher" and paired.p_value == pytest.approx(2 * 0.5**10)
    assert unpaired.direction == "cannot tell" and unpaired.test == "Fisher exact"
    assert unpaired.p_value == pytest.approx(st.fisher_exact([[160, 40], [150, 50]]).pvalue) and unpaired.p_value > 0.05
    assert paired.difference == unpaired.difference == pytest.approx(0.05)
    assert np.subtract(*paired.interval[::-1]) < np.subtract(*unpaired.interval[::-1])


def test_mcnemar_p_is_the_exact_binomial_of_the_discordant_pairs():
    a, b = paired_outcomes(70, 15, 5, 10)
    v = stats.compare(a, b, paired=True)
    by_hand = 2 * sum(math.comb(20, k) for k in range(15, 21)) / 2**20
    assert v.p_value == pytest.approx(by_hand, rel=1e-12)
    assert v.p_value == pytest.approx(st.binomtest(15, 20, 0.5).pvalue, rel=1e-12)
    assert v.difference == pytest.approx(10 / 100) and v.direction == "higher"


def test_the_paired_interval_is_newcombes_method_10_by_hand():
    n11, n10, n01, n00 = 70, 15, 5, 10
    a, b = paired_outcomes(n11, n10, n01, n00)
    pa, pb = 85 / 100, 75 / 100
    la, ua = stats.wilson(85, 100)
    lb, ub = stats.wilson(75, 100)
    phi = (n11 * n00 - n10 * n01) / math.sqrt(85 * 15 * 75 * 25)
    lo = pa - pb - math.sqrt((pa - la) ** 2 - 2 * phi * (pa - la) * (ub - pb) + (ub - pb) ** 2)
    hi = pa - pb + math.sqrt((ua - pa) ** 2 - 2 * phi * (ua - pa) * (pb - lb) + (pb - lb) ** 2)
    assert stats.compare(a, b, paired=True).interval == pytest.approx((lo, hi), abs=1e-12)


def test_the_paired_interval_covers_by_simulation():
    rng = np.random.default_rng(0)
    probs = np.array([0.80, 0.06, 0.03, 0.11])  # n11, n10, n01, n00: difference 0.03
    covered = 0
    for _ in range(600):
        a, b = paired_outcomes(*rng.multinomial(400, probs))
        lo, hi = stats.compare(a, b, paired=True).interval
        covered += lo <= 0.03 <= hi
    assert 0.92 <= covered / 600 <= 0.985


def test_independent_proportions_use_newcombes_published_interval():
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 - 48/80, method 10
    v = stats.compare_counts(56, 70, 48, 80)
    assert v.interval == pytest.approx((0.0524, 0.3339), abs=1e-4) and v.direction == "higher"
    a, b = np.r_[np.ones(56), np.zeros(14)], np.r_[np.ones(48), np.zeros(32)]
    assert stats.compare(a, b, paired=False) == v


def test_continuous_paired_and_welch_match_scipy():
    a = np.array([71.2, 69.8, 70.5, 72.0, 70.9])
    b = np.array([69.0, 69.1, 68.2, 70.4, 69.5])
    v = stats.compare(a, b, paired=True)
    ref = st.ttest_rel(a, b)
    assert v.test == "paired t" and v.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert v.interval == pytest.approx(tuple(ref.confidence_interval(0.95)), rel=1e-10)
    assert v.direction == "higher" and v.difference == pytest.approx(np.mean(a - b))
    w = stats.compare(a, b[:4], paired=False)
    ref = st.ttest_ind(a, b[:4], equal_var=False)
    assert w.test == "Welch t" and w.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert w.interval == pytest.approx(tuple(ref.confidence_interval(0.95)), rel=1e-10)
    noisy = stats.compare(np.array([1.0, 5.0, 2.0]), np.array([2.0, 1.0, 3.0]), paired=True)
    assert noisy.direction == "cannot tell" and noisy.interval[0] < 0 < noisy.interval[1]


def test_a_constant_difference_is_taken_at_face_value():
    v = stats.compare(np.array([3.0, 4.0, 5.0]), np.array([1.0, 2.0, 3.0]), paired=True)
    assert v.direction == "higher" and v.p_value == 0.0 and v.interval == (2.0, 2.0)
    same = stats.compare(np.array([3.0, 4.0]), np.array([3.0, 4.0]), paired=True, outcome="continuous")
    assert same.direction == "cannot tell" and same.p_value == 1.0


# ----------------------------------------------------------------------------- equivalence (TOST)


def test_tost_passes_and_fails_at_a_margin_and_reports_the_supported_margin():
    rng = np.random.default_rng(3)
    a = rng.normal(0.0, 1.0, 40)
    b = a + rng.normal(0.1, 0.5, 40)
    diffs = a - b
    low90, high90 = st.ttest_rel(a, b).confidence_interval(0.90)
    supported = max(abs(low90), abs(high90))
    wide, narrow = (stats.compare(a, b, paired=True, margin=m) for m in (supported + 0.05, supported - 0.05))
    assert wide.direction == "equivalent" and narrow.direction == "not shown equivalent"
    assert wide.margin_supported == pytest.approx(supported) == narrow.margin_supported
    assert wide.interval == pytest.approx((low90, high90)) and wide.level == pytest.approx(0.90)
    # TOST p: the larger of the two one-sided t tests against -margin and +margin (Schuirmann 1987)
    m = supported + 0.05
    by_hand = max(
        st.ttest_1samp(diffs, -m, alternative="greater").pvalue, st.ttest_1samp(diffs, m, alternative="less").pvalue
    )
    assert wide.p_value == pytest.approx(by_hand, rel=1e-10) and wide.p_value < 0.05 <= narrow.p_value


def test_tost_on_counts_uses_the_90_percent_newcombe_interval():
    lo, hi = stats.difference_interval(500, 1000, 505, 1000, 0.10)
    supported = max(abs(float(lo)), abs(float(hi)))
    yes = stats.compare_counts(500, 1000, 505, 1000, margin=0.05)
    no = stats.compare_counts(500, 1000, 505, 1000, margin=0.03)
    assert yes.direction == "equivalent" and no.direction == "not shown equivalent"
    assert yes.margin_supported == pytest.approx(supported) and supported == pytest.approx(0.0417, abs=5e-4)
    assert yes.p_value < 0.05 <= no.p_value
    # the p-value is the alpha at which the (1 - 2 alpha) interval reaches the margin
    edge = stats.difference_interval(500, 1000, 505, 1000, 2 * yes.p_value)
    assert max(abs(float(edge[0])), abs(float(edge[1]))) == pytest.approx(0.05, abs=1e-6)
    assert stats.compare_counts(0, 100, 30, 100, margin=0.1).p_value == 1.0  # the estimate is outside


# ----------------------------------------------------------------------------- against a reference value


def test_an_estimate_is_below_a_reference_only_when_its_interval_excludes_it():
    contains = stats.against_reference(0.95, (0.91, 1.02), 1.0)
    assert contains.direction == "cannot tell" and contains.p_value is None
    assert contains.difference == pytest.approx(-0.05) and contains.interval == pytest.approx((-0.09, 0.02))
    assert stats.against_reference(0.9111, (0.9086, 0.9137), 1.0).direction == "lower"
    assert stats.against_reference(1.35, (1.2, 1.5), 1.0).direction == "higher"
    assert stats.against_reference(0.98, (0.96, 1.0), 1.0).direction == "cannot tell"  # touches 1
    with pytest.raises(ValueError, match="must contain the estimate"):
        stats.against_reference(1.1, (0.9, 1.0), 1.0)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: stats.compare([1, 0], [0, 1], paired=True, alpha=1.5), "alpha must lie"),
        (lambda: stats.compare([1, 0], [0, 1], paired=True, margin=-1), "margin must be"),
        (lambda: stats.compare([1, 0, 1], [0, 1], paired=True), "same items"),
        (lambda: stats.compare([0.5, 1], [0, 1], paired=True, outcome="binary"), "all 0 or 1"),
        (lambda: stats.compare([1.0], [2.0], paired=True, outcome="continuous"), "at least 2 pairs"),
        (lambda: stats.compare([1.0, 2.0], [2.5], paired=False), "against_reference"),
        (lambda: stats.compare([1.0, np.nan], [2.5, 3.0], paired=False), "NaN"),
        (lambda: stats.compare([1, 0], [0, 1], paired=True, outcome="ordinal"), "outcome must be"),
        (lambda: stats.compare_counts(3.5, 10, 2, 10), "whole number"),
        (lambda: stats.compare_counts(11, 10, 2, 10), r"lie in \[0, n\]"),
    ],
)
def test_bad_inputs_name_the_value_and_what_is_allowed(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ----------------------------------------------------------------------------- the words


def test_phrase_gives_the_size_with_the_sign_of_the_word():
    up = stats.Verdict("higher", 0.032, (0.011, 0.050), "t", 0.01)
    down = stats.Verdict("lower", -0.325, (-0.40, -0.20), "t", 0.001)
    assert stats.phrase(up) == "higher by 3.2 points [1.1, 5.0]"
    assert stats.phrase(down) == "lower by 32.5 points [20.0, 40.0]"
    tie = stats.Verdict("cannot tell", -0.004, (-0.013, 0.005), "t", 0.4)
    assert (
        stats.phrase(tie, cannot_tell="the seeds cannot tell them apart")
        == "the seeds cannot tell them apart (difference -0.4 points [-1.3, +0.5])"
    )
    zero = stats.compare_counts(0, 1000, 0, 1000)
    assert stats.phrase(zero) == "the data cannot tell them apart (difference +0.0 points [-0.4, +0.4])"
    tiny = stats.Verdict("higher", 0.00004, (0.00001, 0.0001), "t", 0.01)
    assert stats.phrase(tiny) == "higher by 0.004 points [0.001, 0.010]", "decimals grow until nothing reads 0"
    slope = stats.against_reference(0.9111, (0.9086, 0.9137), 1.0)
    assert stats.phrase(slope, "above 1", "below 1", scale=1, unit="", digits=3) == "below 1 by 0.089 [0.086, 0.091]"


def test_phrase_for_equivalence_states_the_margin():
    v = stats.compare_counts(500, 1000, 505, 1000, margin=0.05)
    assert stats.phrase(v, digits=1) == "equivalent within ±5.0 points (difference -0.5 points [-4.2, +3.2])"
    no = stats.compare_counts(500, 1000, 505, 1000, margin=0.03)
    assert stats.phrase(no).endswith("; the data support ±4.2)")
    with pytest.raises(ValueError, match="unknown direction"):
        stats.phrase(stats.Verdict("better", 0.1, (0.0, 0.2), "t", 0.1))


NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def test_a_phrase_never_pairs_a_comparative_word_with_a_number_of_the_opposite_sign():
    rng = np.random.default_rng(7)
    seen = set()
    for trial in range(300):
        kind = trial % 4
        if kind == 0:  # paired 0/1
            n = int(rng.integers(5, 400))
            a = rng.random(n) < rng.uniform(0, 1)
            b = np.where(rng.random(n) < rng.uniform(0, 0.5), ~a, a)
            v = stats.compare(a, b, paired=True)
        elif kind == 1:  # independent counts, 0 and n included
            n1, n2 = (int(x) for x in rng.integers(1, 2000, 2))
            k1 = int(rng.choice([0, n1, rng.integers(0, n1 + 1)]))
            k2 = int(rng.choice([0, n2, rng.integers(0, n2 + 1)]))
            v = stats.compare_counts(k1, n1, k2, n2)
        elif kind == 2:  # paired seeds
            n = int(rng.integers(2, 8))
            a = rng.normal(rng.uniform(-5, 5), rng.uniform(0.01, 3), n)
            v = stats.compare(a, rng.normal(0, 1, n), paired=True)
        else:  # Welch
            v = stats.compare(
                rng.normal(rng.uniform(-2, 2), 1, int(rng.integers(2, 30))),
                rng.normal(0, 1, int(rng.integers(2, 30))),
                paired=False,
            )
        seen.add(v.direction)
        words = stats.phrase(v, digits=int(rng.integers(0, 3)))
        sentence = f"Against each seed, the robust model's share is {words}."
        assert prose.check_sentence(sentence) == [], sentence
        if v.direction in ("higher", "lower"):
            assert words.startswith(v.direction) and np.sign(v.difference) == (1 if v.direction == "higher" else -1)
            assert all(float(x) > 0 for x in NUMBER.findall(words)), words
    assert seen == {"higher", "lower", "cannot tell"}


def test_against_bounds_is_inside_below_or_above():
    inside = stats.against_bounds(49, 93, 54)  # a quantity known within [49, 93] against 54
    assert inside.direction == "cannot tell" and inside.difference == 0 and inside.interval == (-5, 39)
    assert inside.p_value is None and "no sampling" in inside.test
    below = stats.against_bounds(7, 7, 15)  # bounds that meet: an exact 7 against 15
    assert below.direction == "lower" and below.difference == -8 and below.interval == (-8, -8)
    above = stats.against_bounds(20, 30, 15)
    assert above.direction == "higher" and above.difference == 5
    assert stats.against_bounds(15, 20, 15).direction == "cannot tell"  # a bound touching it: inside
    assert stats.phrase(below, "more", "fewer", scale=1, unit="errors", digits=0) == "fewer by 8 errors [8, 8]"
    with pytest.raises(ValueError, match="exceeds the upper bound"):
        stats.against_bounds(10, 5, 7)
    with pytest.raises(ValueError, match="finite"):
        stats.against_bounds(float("nan"), 5, 7)
