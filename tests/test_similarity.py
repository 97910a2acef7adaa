"""reliable_ml.shift.similarity: agreement matrices vs the independent-errors baseline."""

from __future__ import annotations

import numpy as np
import pytest

from reliable_ml.shift import similarity


def test_agreement_matrix_known_values():
    preds = np.array([[0, 1, 2, 3], [0, 1, 2, 0], [1, 1, 1, 1]])
    a = similarity.agreement_matrix(preds, chunk=2)
    expected = np.array([[1, 0.75, 0.25], [0.75, 1, 0.25], [0.25, 0.25, 1]])
    assert np.allclose(a, expected)
    assert similarity.mean_off_diagonal(a) == pytest.approx((0.75 + 0.25 + 0.25) / 3)


def test_independent_agreement_matches_simulation():
    rng = np.random.default_rng(0)
    n, c, acc = 200_000, 10, np.array([0.9, 0.6])
    labels = rng.integers(0, c, n)
    preds = []
    for a in acc:
        wrong = (labels + rng.integers(1, c, n)) % c  # uniform over the C - 1 wrong classes
        preds.append(np.where(rng.random(n) < a, labels, wrong))
    observed = similarity.agreement_matrix(np.stack(preds))[0, 1]
    expected = similarity.independent_agreement(acc, c)
    assert expected[0, 1] == pytest.approx(0.9 * 0.6 + 0.1 * 0.4 / 9)
    assert observed == pytest.approx(expected[0, 1], abs=0.005)
    assert np.allclose(np.diag(expected), 1)


def test_error_overlap_identical_and_disjoint():
    c = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1]], dtype=bool)
    ov = similarity.error_overlap(c)
    assert ov[0, 1] == pytest.approx(1.0) and ov[0, 2] == pytest.approx(0.0)


def test_bad_input():
    with pytest.raises(ValueError, match="models >= 2"):
        similarity.agreement_matrix(np.zeros((1, 5)))
    with pytest.raises(ValueError, match="n_classes"):
        similarity.independent_agreement([0.5, 0.6], 1)
    with pytest.raises(ValueError, match="fractions"):
        similarity.independent_agreement([50, 60], 10)
    with pytest.raises(ValueError, match="square"):
        similarity.mean_off_diagonal(np.zeros((2, 3)))


def test_agreement_summary_counts_pairs_above_independence():
    preds = np.array([[0, 1, 2, 3], [0, 1, 2, 0], [1, 1, 1, 1]])
    obs = similarity.agreement_matrix(preds)
    ind = np.full((3, 3), 0.5)
    np.fill_diagonal(ind, 1)
    table = similarity.agreement_summary({"toy": (obs, ind, "made up")})
    assert table.loc["toy", "pairs above independent (%)"] == pytest.approx(100 / 3, abs=0.01)
    assert table.loc["toy", "mean observed agreement (%)"] == pytest.approx(100 * 1.25 / 3, abs=0.01)


def test_loss_disagreement_against_a_direct_count_and_independence():
    c = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 1, 1, 1]], dtype=bool)
    pairs = [(0, 1), (0, 2), (1, 2)]
    direct = np.mean([np.mean(c[i] != c[j]) for i, j in pairs])
    assert similarity.loss_disagreement(c) == pytest.approx(direct)
    a = np.array([0.9, 0.8])
    assert similarity.independent_loss_disagreement(a) == pytest.approx(0.9 * 0.2 + 0.8 * 0.1)
    rng = np.random.default_rng(0)
    sim = rng.random((2, 200_000)) < a[:, None]  # independent errors: the formula is their expectation
    assert similarity.loss_disagreement(sim) == pytest.approx(0.26, abs=0.005)
    with pytest.raises(ValueError, match="fractions"):
        similarity.independent_loss_disagreement([0.5, 1.5])


def test_bernstein_term_is_the_worst_case_over_the_mean():
    eps, p = 0.01, 0.05
    # V = p - mu^2 + (1 + |mu|) eps/3, largest at |mu| = eps/6: p + eps/3 + eps^2/36
    grid = np.linspace(0, p, 100_001)
    assert similarity.bernstein_term(eps, p) == pytest.approx(max(p - grid**2 + (1 + grid) * eps / 3))
    assert similarity.bernstein_term(eps, p) == pytest.approx(p + eps / 3 + eps**2 / 36)
    assert similarity.bernstein_term(eps, p, 0.0) == pytest.approx(p + eps / 3)
    assert similarity.bernstein_term(eps, p, 0.05) == pytest.approx(p - 0.05**2 + 1.05 * eps / 3)
    small = 0.001  # p < eps/6: the worst mean is |mu| = p
    assert similarity.bernstein_term(eps, small) == pytest.approx(small - small**2 + (1 + small) * eps / 3)
    with pytest.raises(ValueError, match="cannot exceed"):
        similarity.bernstein_term(eps, p, 0.2)


def test_log_models_allowed_known_value_and_bernstein_tail():
    # n eps^2 / (2 V) - ln(2/delta) at n = 10,000, eps = 0.01, p = 0.05, delta = 0.05, V = p + eps/3 + eps^2/36
    expected = 10_000 * 1e-4 / (2 * (0.05 + 0.01 / 3 + 1e-4 / 36)) - np.log(40)
    assert similarity.log_models_allowed(10_000, 0.01, 0.05) == pytest.approx(expected)
    assert expected == pytest.approx(5.6856, abs=1e-4)
    # the tail bound holds for a loss difference with a non-zero mean (range 1 + |mu|)
    rng = np.random.default_rng(1)
    n, p, eps, mu = 2_000, 0.05, 0.01, 0.03
    x = rng.choice([-1, 0, 1], p=[(p - mu) / 2, 1 - p, (p + mu) / 2], size=(20_000, n)).mean(1)
    bound = 2 * np.exp(-n * eps**2 / (2 * similarity.bernstein_term(eps, p)))
    assert np.mean(np.abs(x - mu) >= eps) <= bound
    # more similar models (smaller p) are allowed more
    assert similarity.log_models_allowed(n, eps, 0.01) > similarity.log_models_allowed(n, eps, 0.1)
    with pytest.raises(ValueError, match="disagreement"):
        similarity.log_models_allowed(n, eps, 1.5)


def test_similarity_payoff_uses_the_largest_disagreement_with_the_reference():
    rng = np.random.default_rng(2)
    base = rng.random(5_000) < 0.9
    copies = np.stack([base] + [base ^ (rng.random(5_000) < q) for q in (0.01, 0.02, 0.05)])
    out = similarity.similarity_payoff(copies, 10_000, 0.01, names=["a", "b", "c", "d"])
    want = max(np.mean(copies[i] != copies[int(np.argmax(copies.mean(1)))]) for i in range(4))
    assert out["disagreement_observed"] == pytest.approx(want)
    assert out["disagreement_mean"] < out["disagreement_observed"] < out["disagreement_independent"]
    assert out["most_different"] == "d" and out["reference"] == ["a", "b", "c", "d"][int(np.argmax(copies.mean(1)))]
    assert out["exponent_ratio"] == pytest.approx(
        similarity.bernstein_term(0.01, out["disagreement_independent"])
        / similarity.bernstein_term(0.01, out["disagreement_observed"])
    )
    assert out["log10_models_observed"] > out["log10_models_independent"]
    fixed = similarity.similarity_payoff(copies, 10_000, 0.01, reference=3)
    assert fixed["reference"] == "model 3" and fixed["disagreement_observed"] >= out["disagreement_observed"] - 0.02
    with pytest.raises(ValueError, match="reference"):
        similarity.similarity_payoff(copies, 10_000, 0.01, reference=4)


def test_budget_words_say_what_the_bound_buys():
    assert similarity.budget_words(-0.6) == "not even one model (k = 0.25)"
    assert similarity.budget_words(0.2) == "at most 1.5 models"  # 10**0.2 = 1.58, rounded down
    assert similarity.budget_words(0.0) == "at most 1 model"
    assert similarity.budget_words(3.8596) == "at most 7,200 models"
    assert similarity.budget_words(float("nan")) == "(not available)"
