r"""The Gaussian model of Schmidt et al. (2018) and robust self-training in it (Carmon et al. 2019).

Data: :math:`y` uniform in :math:`\{-1, +1\}` and :math:`x \sim \mathcal N(y\,\theta^*, \sigma^2 I_d)`.
The course uses :math:`\theta^* = (1, \dots, 1)` (so :math:`\|\theta^*\|_2 = \sqrt d`) and
:math:`\sigma = c\, d^{1/4}`, the regime of the paper.

Classifier: the *averaged mean* :math:`w = \frac1n \sum_i y_i x_i`, predicting
:math:`\mathrm{sign}\langle w, x\rangle`. Because :math:`y_i x_i = \theta^* + \sigma z_i` with
:math:`z_i \sim \mathcal N(0, I_d)` whatever :math:`y_i` is, :math:`w` is *exactly*
distributed as :math:`\theta^* + (\sigma/\sqrt n)\, g` with :math:`g \sim \mathcal N(0, I_d)`.

Closed forms for a fixed :math:`w` (:math:`y\langle w, x\rangle \sim \mathcal N(\langle w,
\theta^*\rangle, \sigma^2\|w\|_2^2)`; the worst :math:`L_\infty` perturbation of size
:math:`\epsilon` is :math:`-\epsilon\, y\, \mathrm{sign}(w)`, which lowers the margin by
:math:`\epsilon\|w\|_1`):

.. math::
    \mathrm{err}(w) = \Phi\Big(-\frac{\langle w,\theta^*\rangle}{\sigma\|w\|_2}\Big), \qquad
    \mathrm{err}_\epsilon(w) = \Phi\Big(-\frac{\langle w,\theta^*\rangle - \epsilon\|w\|_1}{\sigma\|w\|_2}\Big).

Expected errors over the draw of the training set, :math:`\mathbb E_w[\mathrm{err}_\epsilon(w)]`,
are computed by Monte Carlo over :math:`w` (:func:`expected_errors_mc`) and by a large-:math:`d`
*deterministic equivalent* (:func:`expected_errors_approx`, derived here, not in the papers):
replace each norm by its mean, with :math:`s = \sigma/\sqrt n`,

.. math::
    \langle w,\theta^*\rangle \approx \|\theta^*\|_2^2,\quad
    \|w\|_2^2 \approx \|\theta^*\|_2^2 + d s^2,\quad
    \|w\|_1 \approx \sum_j \mathbb E|\theta^*_j + s g_j|
    = \sum_j \Big[s\sqrt{2/\pi}\, e^{-\theta_j^{*2}/2s^2} + \theta^*_j\big(1 - 2\Phi(-\theta^*_j/s)\big)\Big]

(the folded-normal mean). Each is a sum of :math:`d` independent terms, so relative
fluctuations are :math:`O(1/\sqrt d)` and the approximation improves as :math:`d` grows.

Why robust learning needs more data: for :math:`\theta^* = \mathbf 1`, standard error is about
:math:`\Phi(-1/\sqrt{\sigma^2/d + \sigma^4/(nd)})`, so with :math:`\sigma = c\,d^{1/4}` it
depends on :math:`n` but not on :math:`d` (:math:`O(1)` samples). The robust margin is
positive only when :math:`\epsilon\|w\|_1 < d`, i.e. :math:`\epsilon s\sqrt{2/\pi} \lesssim 1`,
:math:`n \gtrsim (2/\pi)\,\epsilon^2\sigma^2 = (2/\pi)\,c^2\epsilon^2\sqrt d`: on the order of
:math:`\epsilon^2\sqrt d` samples (Schmidt et al. prove a matching lower bound for *any*
learner, up to a :math:`\log d` factor).

Self-training (Carmon et al. 2019, Section 3): :math:`w_{\rm int}` from :math:`n` labeled
examples pseudo-labels :math:`\tilde n` unlabeled ones, :math:`\tilde y_i = \mathrm{sign}
\langle w_{\rm int}, \tilde x_i\rangle`, and the final classifier is
:math:`w_{\rm final} = \frac1{\tilde n}\sum_i \tilde y_i \tilde x_i` (:func:`self_train`).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm


def _check_model(theta: np.ndarray, sigma: float) -> np.ndarray:
    theta = np.asarray(theta, dtype=float)
    if theta.ndim != 1 or len(theta) < 1:
        raise ValueError(f"theta must be a non-empty 1-D vector; got shape {theta.shape}")
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0; got {sigma}")
    return theta


def _check_count(name: str, n: int, minimum: int = 1) -> None:
    if int(n) != n or n < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {n!r}")


def _check_eps(eps: float) -> None:
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0; got {eps}")


def default_theta(d: int) -> np.ndarray:
    """:math:`\\theta^* = (1, \\dots, 1) \\in \\mathbb R^d`, so that :math:`\\|\\theta^*\\|_2 = \\sqrt d`."""
    _check_count("d", d)
    return np.ones(int(d))


def default_sigma(d: int, c: float = 1.0) -> float:
    """Noise level :math:`\\sigma = c\\, d^{1/4}` (the paper's regime)."""
    _check_count("d", d)
    if not c > 0:
        raise ValueError(f"c must be > 0; got {c}")
    return float(c * d**0.25)


# --------------------------------------------------------------------------- data and classifier
def sample(n: int, theta: np.ndarray, sigma: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` examples: ``y`` (n,) uniform in {-1, +1}, ``x`` (n, d) ~ N(y theta, sigma^2 I)."""
    theta = _check_model(theta, sigma)
    _check_count("n", n)
    y = rng.choice(np.array([-1.0, 1.0]), size=int(n))
    x = y[:, None] * theta[None, :] + sigma * rng.standard_normal((int(n), len(theta)))
    return x, y


def mean_classifier(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Averaged-mean classifier :math:`w = \\frac1n\\sum_i y_i x_i`, shape (d,)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 2 or y.shape != (len(x),) or len(x) == 0:
        raise ValueError(f"expected x (n, d) and y (n,) with n >= 1; got {x.shape} and {y.shape}")
    return (y[:, None] * x).mean(0)


def draw_mean_classifiers(n: int, theta: np.ndarray, sigma: float, draws: int, rng: np.random.Generator) -> np.ndarray:
    """``draws`` independent averaged-mean classifiers from ``n`` samples each, shape (draws, d).

    Exact in distribution: :math:`w = \\theta^* + (\\sigma/\\sqrt n)\\, g` (see the module docstring).
    """
    theta = _check_model(theta, sigma)
    _check_count("n", n)
    _check_count("draws", draws)
    return theta[None, :] + sigma / np.sqrt(n) * rng.standard_normal((int(draws), len(theta)))


# --------------------------------------------------------------------------- closed forms
def robust_error(w: np.ndarray, theta: np.ndarray, sigma: float, eps: float = 0.0) -> np.ndarray:
    """:math:`\\Phi(-(\\langle w,\\theta^*\\rangle - \\epsilon\\|w\\|_1)/(\\sigma\\|w\\|_2))` for
    ``w`` of shape (d,) or (k, d); ``eps = 0`` gives the standard error. Returns shape () or (k,)."""
    theta = _check_model(theta, sigma)
    _check_eps(eps)
    w = np.asarray(w, dtype=float)
    if w.shape[-1] != len(theta):
        raise ValueError(f"w has dimension {w.shape[-1]} but theta has {len(theta)}")
    l2 = np.linalg.norm(w, axis=-1)
    if np.any(l2 == 0):
        raise ValueError("w = 0 does not define a classifier")
    margin = (w @ theta - eps * np.abs(w).sum(-1)) / (sigma * l2)
    return norm.cdf(-margin)


def standard_error(w: np.ndarray, theta: np.ndarray, sigma: float) -> np.ndarray:
    """:math:`\\Phi(-\\langle w,\\theta^*\\rangle/(\\sigma\\|w\\|_2))` (:func:`robust_error` at eps = 0)."""
    return robust_error(w, theta, sigma, 0.0)


def empirical_error(w: np.ndarray, x: np.ndarray, y: np.ndarray, eps: float = 0.0) -> float:
    """Error of ``sign<w, x>`` on test data after the worst L-inf attack ``x - eps * y * sign(w)``."""
    _check_eps(eps)
    w, x, y = np.asarray(w, dtype=float), np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    x_adv = x - eps * y[:, None] * np.sign(w)[None, :]
    return float(np.mean(y * (x_adv @ w) <= 0))


def folded_normal_mean(mu: np.ndarray, s: float) -> np.ndarray:
    """:math:`\\mathbb E|\\mu + s g|` for :math:`g \\sim \\mathcal N(0,1)`:
    :math:`s\\sqrt{2/\\pi}\\,e^{-\\mu^2/2s^2} + \\mu(1 - 2\\Phi(-\\mu/s))`."""
    mu = np.asarray(mu, dtype=float)
    if s == 0:
        return np.abs(mu)
    return s * np.sqrt(2 / np.pi) * np.exp(-(mu**2) / (2 * s**2)) + mu * (1 - 2 * norm.cdf(-mu / s))


def _theta_summary(theta: np.ndarray | float, d: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct coordinate values of theta* and their counts; a scalar ``theta`` means ``theta * ones(d)``."""
    if np.ndim(theta) == 0:
        if d is None:
            raise ValueError("a scalar theta needs the dimension d")
        _check_count("d", d)
        return np.array([float(theta)]), np.array([int(d)])
    theta = np.asarray(theta, dtype=float)
    if d is not None and d != len(theta):
        raise ValueError(f"d = {d} but theta has {len(theta)} coordinates")
    return np.unique(theta, return_counts=True)


def expected_errors_approx(
    n: int | float, theta: np.ndarray | float, sigma: float, eps: float, *, d: int | None = None
) -> tuple[float, float]:
    """Large-d deterministic equivalent of (E standard error, E robust error) for ``n`` samples.

    ``theta`` may be a scalar with ``d`` given (:math:`\\theta^* = \\theta\\,\\mathbf 1_d`), which
    costs O(1) whatever ``d`` is.
    """
    values, counts = _theta_summary(theta, d)
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0; got {sigma}")
    _check_eps(eps)
    if not n > 0:
        raise ValueError(f"n must be > 0; got {n}")
    s = sigma / np.sqrt(n)
    dot = float(values**2 @ counts)
    l2 = np.sqrt(dot + counts.sum() * s**2)
    l1 = float(folded_normal_mean(values, s) @ counts)
    return float(norm.cdf(-dot / (sigma * l2))), float(norm.cdf(-(dot - eps * l1) / (sigma * l2)))


def expected_errors_mc(
    n: int, theta: np.ndarray, sigma: float, eps: float, draws: int, rng: np.random.Generator
) -> tuple[float, float, float, float]:
    """Monte Carlo over ``draws`` training sets: (mean std err, its s.e., mean robust err, its s.e.)."""
    w = draw_mean_classifiers(n, theta, sigma, draws, rng)  # (draws, d)
    std, rob = standard_error(w, theta, sigma), robust_error(w, theta, sigma, eps)
    k = np.sqrt(len(w))
    return float(std.mean()), float(std.std() / k), float(rob.mean()), float(rob.std() / k)


def samples_needed(
    theta: np.ndarray | float, sigma: float, eps: float, target: float, n_max: int = 10**9, *, d: int | None = None
) -> int:
    """Smallest integer ``n`` whose approximate expected error (robust at ``eps``; standard if
    ``eps = 0``) is <= ``target`` (bisection; the approximation decreases in ``n``). A scalar
    ``theta`` with ``d`` means :math:`\\theta\\,\\mathbf 1_d` (O(1) per evaluation, any ``d``).

    Raises ``ValueError`` if even ``n_max`` samples do not reach ``target`` (e.g. because the
    infinite-data robust error :math:`\\Phi(-(1-\\epsilon)\\sqrt d/\\sigma)` is above it).
    """
    if not 0 < target < 1:
        raise ValueError(f"target must be in (0, 1); got {target}")

    def err(n: int) -> float:
        return expected_errors_approx(n, theta, sigma, eps, d=d)[1]

    if err(n_max) > target:
        raise ValueError(
            f"target error {target} is not reached with n_max = {n_max} samples "
            f"(error there: {err(n_max):.3g}); raise target or lower eps"
        )
    if err(1) <= target:
        return 1
    lo, hi = 1, n_max  # invariant: err(lo) > target >= err(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if err(mid) <= target else (mid, hi)
    return hi


def asymptotic_noise_ratio(eps: float) -> float:
    """:math:`s^*(\\epsilon)` solving :math:`\\epsilon\\,\\mathbb E|1 + s g| = 1` (for :math:`\\theta^* = \\mathbf 1`).

    With :math:`\\sigma = d^{1/4}` and :math:`s = \\sigma/\\sqrt n`, the approximate robust margin is
    :math:`d^{1/4}(1 - \\epsilon\\,\\mathbb E|1+sg|)/\\sqrt{1+s^2}`: it grows without bound in
    :math:`d` iff :math:`s < s^*`. So for any fixed target error the samples needed satisfy
    :math:`n / \\sqrt d \\to 1/s^{*2}` as :math:`d \\to \\infty` (and
    :math:`1/s^{*2} \\approx (2/\\pi)\\epsilon^2` for small :math:`\\epsilon`). Needs :math:`0 < \\epsilon < 1`.
    """
    from scipy.optimize import brentq

    if not 0 < eps < 1:
        raise ValueError(f"eps must be in (0, 1) (at eps >= 1 no linear classifier is robust); got {eps}")
    return float(brentq(lambda s: eps * folded_normal_mean(1.0, s) - 1, 1e-9, 1e6))


# --------------------------------------------------------------------------- self-training
def pseudo_label_mean(
    w_int: np.ndarray, n_unlabeled: int, theta: np.ndarray, sigma: float, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """Draw ``n_unlabeled`` points, label them ``sign<w_int, x>``, return their averaged mean
    :math:`\\frac1{\\tilde n}\\sum_i \\tilde y_i \\tilde x_i` and the pseudo-label error rate.

    Exact and O(n_unlabeled + d): write :math:`z = Pz + P^\\perp z` with :math:`P` the projection
    on :math:`\\mathrm{span}\\{\\theta^*, w_{\\rm int}\\}`. The pseudo-label depends only on
    :math:`y` and :math:`Pz`, so :math:`\\frac1{\\tilde n}\\sum_i \\tilde y_i P^\\perp z_i` is
    :math:`\\mathcal N(0, P^\\perp/\\tilde n)` independently of the rest: we sample the 2-D part per
    point and the orthogonal part once.
    """
    theta = _check_model(theta, sigma)
    _check_count("n_unlabeled", n_unlabeled)
    w_int = np.asarray(w_int, dtype=float)
    q, r = np.linalg.qr(np.stack([theta, w_int], 1))  # q: (d, 2) orthonormal
    basis = q[:, np.abs(r.diagonal()) > 1e-10 * np.linalg.norm(theta)]  # drop a direction if w_int || theta
    k, m = basis.shape[1], int(n_unlabeled)
    y = rng.choice(np.array([-1.0, 1.0]), size=m)
    z_in = rng.standard_normal((m, k))  # coordinates of P z in ``basis``
    x_in = y[:, None] * (basis.T @ theta)[None, :] + sigma * z_in  # coordinates of P x (theta lies in span)
    y_tilde = np.sign(x_in @ (basis.T @ w_int))
    y_tilde[y_tilde == 0] = 1.0
    mean_in = basis @ (y_tilde[:, None] * x_in).mean(0)  # (d,)
    g = rng.standard_normal(len(theta))
    g_perp = g - basis @ (basis.T @ g)
    return mean_in + sigma / np.sqrt(m) * g_perp, float(np.mean(y_tilde != y))


def self_train(
    n_labeled: int, n_unlabeled: int, theta: np.ndarray, sigma: float, eps: float, rng: np.random.Generator
) -> dict:
    """One run of self-training in the Gaussian model; closed-form errors of both classifiers.

    Returns ``std_err_labeled``, ``robust_err_labeled`` (the averaged mean of the labeled data),
    ``std_err_self_trained``, ``robust_err_self_trained`` (pseudo-labeled average, Carmon et
    al.'s :math:`w_{\\rm final}`) and ``pseudo_label_error`` (share of wrong pseudo-labels).
    """
    _check_eps(eps)
    w_int = draw_mean_classifiers(n_labeled, theta, sigma, 1, rng)[0]
    w_final, pl_err = pseudo_label_mean(w_int, n_unlabeled, theta, sigma, rng)
    return {
        "std_err_labeled": float(standard_error(w_int, theta, sigma)),
        "robust_err_labeled": float(robust_error(w_int, theta, sigma, eps)),
        "std_err_self_trained": float(standard_error(w_final, theta, sigma)),
        "robust_err_self_trained": float(robust_error(w_final, theta, sigma, eps)),
        "pseudo_label_error": pl_err,
    }


def self_train_bruteforce(
    n_labeled: int, n_unlabeled: int, theta: np.ndarray, sigma: float, rng: np.random.Generator
) -> np.ndarray:
    """Reference implementation of :math:`w_{\\rm final}` with all data drawn explicitly (O(n d))."""
    x, y = sample(n_labeled, theta, sigma, rng)
    w_int = mean_classifier(x, y)
    x_u, _ = sample(n_unlabeled, theta, sigma, rng)
    y_tilde = np.sign(x_u @ w_int)
    y_tilde[y_tilde == 0] = 1.0
    return mean_classifier(x_u, y_tilde)


def error_curves(dims, n_grid, c: float, eps: float, draws: dict, rng: np.random.Generator) -> list[dict]:
    """Expected standard and robust errors against ``n`` for each dimension in ``dims``
    (:math:`\\theta^* = \\mathbf 1`, :math:`\\sigma = c\\,d^{1/4}`): the large-d approximation
    (``std_approx``, ``rob_approx``) and Monte Carlo over ``draws[d]`` training sets (``std_mc``,
    ``rob_mc`` with standard errors ``std_se``, ``rob_se``). One row per (d, n)."""
    rows = []
    for d in dims:
        th, sg = default_theta(int(d)), default_sigma(int(d), c)
        for n in n_grid:
            std_ap, rob_ap = expected_errors_approx(int(n), th, sg, eps)
            std_mc, std_se, rob_mc, rob_se = expected_errors_mc(int(n), th, sg, eps, draws[d], rng)
            rows.append(
                {
                    "d": int(d),
                    "n": int(n),
                    "std_approx": std_ap,
                    "rob_approx": rob_ap,
                    "std_mc": std_mc,
                    "std_se": std_se,
                    "rob_mc": rob_mc,
                    "rob_se": rob_se,
                }
            )
    return rows
