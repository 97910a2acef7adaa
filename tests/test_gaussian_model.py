"""Gaussian model: closed forms vs Monte Carlo, the approximation, sample complexity, self-training."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from reliable_ml.robust import gaussian_model as gm


@pytest.fixture
def model():
    d = 200
    return gm.default_theta(d), gm.default_sigma(d)


def test_defaults_follow_the_paper_regime():
    theta = gm.default_theta(10_000)
    assert np.linalg.norm(theta) == pytest.approx(100.0)
    assert gm.default_sigma(10_000, c=0.5) == pytest.approx(5.0)


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3])
def test_closed_form_error_matches_monte_carlo_on_test_data(model, eps):
    theta, sigma = model
    rng = np.random.default_rng(0)
    x, y = gm.sample(3, theta, sigma, rng)
    w = gm.mean_classifier(x, y)
    x_test, y_test = gm.sample(50_000, theta, sigma, rng)
    closed = float(gm.robust_error(w, theta, sigma, eps))
    mc = gm.empirical_error(w, x_test, y_test, eps)
    se = np.sqrt(closed * (1 - closed) / len(y_test))
    assert 0.005 < closed < 0.995, "pick settings where the error is not degenerate"
    assert abs(mc - closed) < 5 * se + 1e-4


def test_robust_error_is_standard_error_at_eps_zero_and_grows_with_eps(model):
    theta, sigma = model
    w = gm.draw_mean_classifiers(10, theta, sigma, 5, np.random.default_rng(1))
    assert np.allclose(gm.robust_error(w, theta, sigma, 0.0), gm.standard_error(w, theta, sigma))
    errs = [gm.robust_error(w, theta, sigma, e) for e in (0.0, 0.1, 0.2, 0.4)]
    assert all(np.all(a <= b) for a, b in zip(errs, errs[1:]))
    # w = theta (infinite data): Phi(-(1 - eps) sqrt(d) / sigma)
    d = len(theta)
    assert gm.robust_error(theta, theta, sigma, 0.3) == pytest.approx(norm.cdf(-0.7 * np.sqrt(d) / sigma))


def test_exact_classifier_distribution_matches_explicit_data(model):
    theta, sigma = model
    rng = np.random.default_rng(2)
    w_data = np.stack([gm.mean_classifier(*gm.sample(8, theta, sigma, rng)) for _ in range(400)])
    w_fast = gm.draw_mean_classifiers(8, theta, sigma, 400, rng)
    for w in (w_data, w_fast):  # mean theta, per-coordinate variance sigma^2 / n
        assert abs(w.mean() - 1.0) < 0.02
        assert w.var(0).mean() == pytest.approx(sigma**2 / 8, rel=0.03)


def test_folded_normal_mean_against_sampling():
    g = np.random.default_rng(3).standard_normal(1_000_000)
    for mu, s in [(1.0, 0.5), (1.0, 3.0), (-2.0, 1.0), (0.0, 2.0)]:
        assert gm.folded_normal_mean(mu, s) == pytest.approx(np.abs(mu + s * g).mean(), rel=3e-3)
    assert gm.folded_normal_mean(0.0, 2.0) == pytest.approx(2 * np.sqrt(2 / np.pi))


@pytest.mark.parametrize("n", [1, 5, 30, 300])
def test_approximation_matches_monte_carlo_in_high_dimension(n):
    d = 2000
    theta, sigma = gm.default_theta(d), gm.default_sigma(d)
    std_mc, std_se, rob_mc, rob_se = gm.expected_errors_mc(n, theta, sigma, 0.5, 300, np.random.default_rng(n))
    std_ap, rob_ap = gm.expected_errors_approx(n, theta, sigma, 0.5)
    assert abs(std_ap - std_mc) < max(5 * std_se, 0.05 * std_mc, 1e-6)
    assert abs(rob_ap - rob_mc) < max(5 * rob_se, 0.05 * rob_mc, 1e-6)


def test_standard_needs_constant_samples_robust_needs_order_sqrt_d():
    eps, target = 0.5, 0.05
    dims = [10**4, 10**5, 10**6]
    std = [gm.samples_needed(gm.default_theta(d), gm.default_sigma(d), 0.0, target) for d in dims]
    rob = [gm.samples_needed(gm.default_theta(d), gm.default_sigma(d), eps, target) for d in dims]
    assert max(std) - min(std) <= 1  # O(1), independent of d
    assert rob[0] < rob[1] < rob[2]
    ratios = [r / np.sqrt(d) for r, d in zip(rob, dims)]  # n / sqrt(d) decreases towards 1 / s*^2
    limit = 1 / gm.asymptotic_noise_ratio(eps) ** 2
    assert all(r > limit for r in ratios) and ratios[-1] < 1.5 * limit
    assert rob[-1] > 40 * std[-1]


def test_samples_needed_is_minimal():
    theta, sigma = gm.default_theta(5000), gm.default_sigma(5000)
    n = gm.samples_needed(theta, sigma, 0.5, 0.05)
    assert (
        gm.expected_errors_approx(n, theta, sigma, 0.5)[1]
        <= 0.05
        < gm.expected_errors_approx(n - 1, theta, sigma, 0.5)[1]
    )


def test_asymptotic_noise_ratio_small_eps_limit():
    eps = 0.01
    assert 1 / gm.asymptotic_noise_ratio(eps) ** 2 == pytest.approx(2 / np.pi * eps**2, rel=0.01)


def test_pseudo_label_mean_matches_bruteforce(model):
    theta, sigma = model
    rng = np.random.default_rng(4)
    w_int = gm.draw_mean_classifiers(3, theta, sigma, 1, rng)[0]
    fast = np.stack([gm.pseudo_label_mean(w_int, 400, theta, sigma, rng)[0] for _ in range(300)])
    slow = []
    for _ in range(300):
        x_u, _ = gm.sample(400, theta, sigma, rng)
        y_t = np.sign(x_u @ w_int)
        slow.append(gm.mean_classifier(x_u, y_t))
    slow = np.stack(slow)
    # same distribution: compare the statistics that set the errors
    for f in (lambda w: w @ theta, lambda w: np.linalg.norm(w, axis=1), lambda w: np.abs(w).sum(1)):
        a, b = f(fast), f(slow)
        assert abs(a.mean() - b.mean()) < 4 * np.sqrt(a.var() / len(a) + b.var() / len(b)) + 1e-9
        assert a.std() == pytest.approx(b.std(), rel=0.2)


def test_self_training_lowers_robust_error():
    d = 2000
    theta, sigma = gm.default_theta(d), gm.default_sigma(d)
    rng = np.random.default_rng(5)
    runs = [gm.self_train(10, 2000, theta, sigma, 0.5, rng) for _ in range(20)]
    lab = np.mean([r["robust_err_labeled"] for r in runs])
    st = np.mean([r["robust_err_self_trained"] for r in runs])
    assert lab > 0.2 and st < lab / 4
    assert all(r["pseudo_label_error"] < 0.2 for r in runs)
    assert gm.self_train_bruteforce(10, 50, theta, sigma, rng).shape == (d,)


@pytest.mark.parametrize(
    "call",
    [
        lambda: gm.sample(0, np.ones(3), 1.0, np.random.default_rng()),
        lambda: gm.sample(3, np.ones(3), 0.0, np.random.default_rng()),
        lambda: gm.robust_error(np.ones(3), np.ones(3), 1.0, -0.1),
        lambda: gm.robust_error(np.ones(4), np.ones(3), 1.0),
        lambda: gm.robust_error(np.zeros(3), np.ones(3), 1.0),
        lambda: gm.samples_needed(np.ones(100), 3.0, 0.5, 1e-6, n_max=1000),
        lambda: gm.samples_needed(np.ones(100), 3.0, 0.5, 1.5),
        lambda: gm.asymptotic_noise_ratio(1.0),
        lambda: gm.pseudo_label_mean(np.ones(3), 0, np.ones(3), 1.0, np.random.default_rng()),
    ],
)
def test_bad_input_raises(call):
    with pytest.raises(ValueError):
        call()


def test_error_curves_rows_and_agreement():
    rows = gm.error_curves([100, 400], [1, 10, 100], 1.0, 0.3, {100: 50, 400: 50}, np.random.default_rng(0))
    assert [(r["d"], r["n"]) for r in rows] == [(d, n) for d in (100, 400) for n in (1, 10, 100)]
    for r in rows:
        assert r["std_approx"] <= r["rob_approx"] and r["std_mc"] <= r["rob_mc"]
        assert abs(r["rob_approx"] - r["rob_mc"]) < 5 * r["rob_se"] + 0.05
