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
