"""Statistics for accuracy comparisons: exact intervals, concentration bounds, probit-scale lines.

Accuracies are fractions in [0, 1] unless a function says otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as _st


def _check_counts(k, n) -> tuple[np.ndarray, np.ndarray]:
    k_arr, n_arr = np.asarray(k), np.asarray(n)
    if np.any(n_arr <= 0):
        raise ValueError(f"test-set size n must be positive; got {n!r}")
    if np.any(k_arr < 0) or np.any(k_arr > n_arr):
        raise ValueError(f"number correct k must lie in [0, n]; got k={k!r}, n={n!r}")
    return k_arr, n_arr


def clopper_pearson(k, n, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Exact two-sided (1 - alpha) interval for a binomial proportion k / n.

    lower = Beta^{-1}(alpha/2; k, n - k + 1) (0 when k = 0),
    upper = Beta^{-1}(1 - alpha/2; k + 1, n - k) (1 when k = n).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1); got {alpha!r}")
    k_arr, n_arr = _check_counts(k, n)
    with np.errstate(invalid="ignore"):
        lower = np.where(k_arr == 0, 0.0, _st.beta.ppf(alpha / 2, k_arr, n_arr - k_arr + 1))
        upper = np.where(k_arr == n_arr, 1.0, _st.beta.ppf(1 - alpha / 2, k_arr + 1, n_arr - k_arr))
    return lower, upper


def hoeffding_halfwidth(n, alpha: float = 0.05) -> np.ndarray:
    """Half-width t with P(|acc_hat - acc| >= t) <= alpha for n i.i.d. 0/1 losses.

    Hoeffding: P(|acc_hat - acc| >= t) <= 2 exp(-2 n t^2), so t = sqrt(log(2 / alpha) / (2 n)).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1); got {alpha!r}")
    n_arr = np.asarray(n, dtype=float)
    if np.any(n_arr <= 0):
        raise ValueError(f"test-set size n must be positive; got {n!r}")
    return np.sqrt(np.log(2 / alpha) / (2 * n_arr))


# ----------------------------------------------------------------------------- probit scale
def probit(p, eps: float = 1e-6) -> np.ndarray:
    """Phi^{-1}(p), with p clipped to [eps, 1 - eps] so 0 and 1 stay finite."""
    return _st.norm.ppf(np.clip(np.asarray(p, dtype=float), eps, 1 - eps))


def inv_probit(z) -> np.ndarray:
    """Phi(z), the standard normal CDF."""
    return _st.norm.cdf(np.asarray(z, dtype=float))


@dataclass(frozen=True)
class LineFit:
    """probit(y) = slope * probit(x) + intercept, fitted by least squares on the probit scale."""

    slope: float
    intercept: float
    r2: float
    n: int

    def predict(self, x) -> np.ndarray:
        """Predicted y accuracy (fraction) for x accuracy (fraction)."""
        return inv_probit(self.slope * probit(x) + self.intercept)

    def as_dict(self) -> dict:
        return {"slope": self.slope, "intercept": self.intercept, "r2": self.r2, "n": self.n}


def probit_linear_fit(x, y) -> LineFit:
    """Least-squares line through (probit(x), probit(y)); x, y accuracies as fractions.

    r^2 is the squared correlation on the probit scale. Needs at least 3 finite pairs.
    """
    x_arr, y_arr = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x_arr.shape != y_arr.shape:
        raise ValueError(f"x and y must have the same shape; got {x_arr.shape} and {y_arr.shape}")
    keep = np.isfinite(x_arr) & np.isfinite(y_arr)
    if keep.sum() < 3:
        raise ValueError(f"need at least 3 finite (x, y) pairs to fit a line; got {int(keep.sum())}")
    if np.any((x_arr[keep] < 0) | (x_arr[keep] > 1) | (y_arr[keep] < 0) | (y_arr[keep] > 1)):
        raise ValueError("accuracies must be fractions in [0, 1] (divide percentages by 100)")
    res = _st.linregress(probit(x_arr[keep]), probit(y_arr[keep]))
    return LineFit(float(res.slope), float(res.intercept), float(res.rvalue ** 2), int(keep.sum()))


def bootstrap_band(x, y, grid, n_boot: int = 1000, level: float = 0.95,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise bootstrap band of the probit line's prediction on ``grid`` (fractions).

    Resamples the (x, y) pairs with replacement ``n_boot`` times, refits, and returns the
    ((1 - level)/2, (1 + level)/2) quantiles of the predictions at each grid point.
    """
    x_arr, y_arr = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    rng = np.random.default_rng(seed)
    preds = np.empty((n_boot, len(grid)))
    zx, zy, zg = probit(x_arr), probit(y_arr), probit(grid)
    for b in range(n_boot):
        idx = rng.integers(0, len(zx), len(zx))
        slope, intercept = np.polyfit(zx[idx], zy[idx], 1)
        preds[b] = inv_probit(slope * zg + intercept)
    lo, hi = np.quantile(preds, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi


# ----------------------------------------------------------------------------- differences, resampling
def wilson(k, n, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for k / n: the p with |k/n - p| <= z sqrt(p (1 - p) / n), z = Phi^{-1}(1 - alpha/2).

    Closed form: (p_hat + z^2/2n -+ z sqrt(p_hat (1 - p_hat)/n + z^2/4n^2)) / (1 + z^2/n).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1); got {alpha!r}")
    k_arr, n_arr = _check_counts(k, n)
    k_arr, n_arr = k_arr.astype(float), n_arr.astype(float)
    z = _st.norm.ppf(1 - alpha / 2)
    p = k_arr / n_arr
    centre = (p + z ** 2 / (2 * n_arr)) / (1 + z ** 2 / n_arr)
    half = z * np.sqrt(p * (1 - p) / n_arr + z ** 2 / (4 * n_arr ** 2)) / (1 + z ** 2 / n_arr)
    return centre - half, centre + half


def difference_interval(k1, n1, k2, n2, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """(1 - alpha) interval for p1 - p2 from two *independent* samples k1/n1 and k2/n2.

    Newcombe's hybrid score interval (Newcombe 1998, method 10): with Wilson intervals
    (l1, u1), (l2, u2) and d = p1_hat - p2_hat,
    lower = d - sqrt((p1_hat - l1)^2 + (u2 - p2_hat)^2),
    upper = d + sqrt((u1 - p1_hat)^2 + (p2_hat - l2)^2).
    Use it for the drop acc(S) - acc(S') of one model on two disjoint test sets.
    """
    l1, u1 = wilson(k1, n1, alpha)
    l2, u2 = wilson(k2, n2, alpha)
    p1 = np.asarray(k1, dtype=float) / np.asarray(n1, dtype=float)
    p2 = np.asarray(k2, dtype=float) / np.asarray(n2, dtype=float)
    d = p1 - p2
    return d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def resample_accuracies(correct, n: int, n_draws: int = 1000, seed: int = 0,
                        replace: bool = True) -> np.ndarray:
    """Accuracy on ``n_draws`` random test sets of size ``n`` drawn from the 0/1 vector ``correct``.

    With ``replace=True`` each draw is n i.i.d. picks (a binomial(n, mean(correct)) / n sample);
    with ``replace=False`` it is a subset of distinct items (needs n <= len(correct)).
    Returns float ``(n_draws,)`` accuracies as fractions.
    """
    c = np.asarray(correct, dtype=float)
    if c.ndim != 1 or len(c) == 0:
        raise ValueError(f"correct must be a non-empty 1-D 0/1 vector; got shape {c.shape}")
    if n <= 0:
        raise ValueError(f"test-set size n must be positive; got {n}")
    if not replace and n > len(c):
        raise ValueError(f"cannot draw {n} distinct items from {len(c)} without replacement")
    if n_draws <= 0:
        raise ValueError(f"n_draws must be positive; got {n_draws}")
    rng = np.random.default_rng(seed)
    if replace:
        return rng.binomial(n, c.mean(), size=n_draws) / n
    return np.array([c[rng.choice(len(c), n, replace=False)].mean() for _ in range(n_draws)])


def cluster_bootstrap_difference(correct_a, groups_a, correct_b, groups_b, n_boot: int = 2000,
                                 alpha: float = 0.05, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval for acc_a - acc_b when test points come in clusters (e.g. writers).

    ``correct_a``: bool ``(M, n_a)`` (M models on test set a) with cluster ids ``groups_a``
    ``(n_a,)``; likewise for b. Each replicate resamples whole clusters with replacement, in
    each set independently, and recomputes every model's accuracy difference
    ``sum_k w_k c_k / sum_k w_k n_k`` (``c_k``: correct in cluster k, ``n_k``: its size,
    ``w_k``: how often it was drawn). Digits by one writer are correlated, so this interval is
    wider, and more honest, than one that treats every digit as independent.
    Returns ``(low, high)`` arrays of shape ``(M,)``.
    """
    rng = np.random.default_rng(seed)

    def replicates(correct, groups) -> np.ndarray:
        correct = np.atleast_2d(np.asarray(correct, dtype=float))
        groups = np.asarray(groups)
        if correct.shape[1] != len(groups) or len(groups) == 0:
            raise ValueError(f"need one cluster id per test point; got {correct.shape[1]} points "
                             f"and {len(groups)} ids")
        _, cluster = np.unique(groups, return_inverse=True)
        k = cluster.max() + 1
        sums = np.zeros((correct.shape[0], k))
        np.add.at(sums.T, cluster, correct.T)
        sizes = np.bincount(cluster, minlength=k).astype(float)
        weights = rng.multinomial(k, np.full(k, 1 / k), size=n_boot).astype(float)  # (n_boot, k)
        return (sums @ weights.T) / (weights @ sizes)[None, :]  # (M, n_boot)

    diff = replicates(correct_a, groups_a) - replicates(correct_b, groups_b)
    lo, hi = np.quantile(diff, [alpha / 2, 1 - alpha / 2], axis=1)
    return lo, hi
