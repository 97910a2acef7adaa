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


# ----------------------------------------------------------------------------- drops across many models
def drop_intervals(correct_a, correct_b, alpha: float = 0.05) -> "pd.DataFrame":
    """Each model's drop acc(a) - acc(b) on two independent test sets, with Newcombe's interval.

    ``correct_a``: bool ``(M, n_a)``, ``correct_b``: bool ``(M, n_b)`` (M models, rows in the
    same order). Returns a frame with columns ``acc_a``, ``acc_b``, ``drop``, ``ci_low``,
    ``ci_high`` in accuracy *points* (percent), one row per model (index 0..M-1).
    """
    import pandas as pd

    a, b = np.atleast_2d(np.asarray(correct_a, dtype=bool)), np.atleast_2d(np.asarray(correct_b, dtype=bool))
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"need the same models on both test sets; got {a.shape[0]} and {b.shape[0]} rows")
    lo, hi = difference_interval(a.sum(1), a.shape[1], b.sum(1), b.shape[1], alpha)
    acc_a, acc_b = a.mean(1), b.mean(1)
    return pd.DataFrame({"acc_a": 100 * acc_a, "acc_b": 100 * acc_b, "drop": 100 * (acc_a - acc_b),
                         "ci_low": 100 * lo, "ci_high": 100 * hi})


def bootstrap_median_drop(correct_a, correct_b, n_boot: int = 500, alpha: float = 0.05,
                          seed: int = 0, chunk: int = 50) -> tuple[float, float, float]:
    """Median over models of acc(a) - acc(b), in points, with a percentile bootstrap interval.

    Each replicate resamples the *images* of each test set with replacement (the same draw for
    every model, so the models' correlation is kept; the two sets independently) and takes the
    median of the models' drops. ``correct_a`` bool ``(M, n_a)``, ``correct_b`` bool ``(M, n_b)``.
    Returns ``(median, low, high)`` in points. Replicates are drawn ``chunk`` at a time.
    """
    a, b = np.asarray(correct_a, dtype=np.float32), np.asarray(correct_b, dtype=np.float32)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0] or a.shape[0] == 0:
        raise ValueError(f"need bool (M, n) matrices for the same M >= 1 models; got {a.shape} and {b.shape}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1; got {n_boot}")
    rng = np.random.default_rng(seed)

    def accs(c: np.ndarray, k: int) -> np.ndarray:  # (M, k) accuracies on k resamples
        w = rng.multinomial(c.shape[1], np.full(c.shape[1], 1 / c.shape[1]), size=k).astype(np.float32)
        return c @ w.T / c.shape[1]

    meds = []
    for start in range(0, n_boot, chunk):
        k = min(chunk, n_boot - start)
        meds.append(np.median(accs(a, k) - accs(b, k), axis=0))
    lo, hi = np.quantile(np.concatenate(meds), [alpha / 2, 1 - alpha / 2])
    point = float(np.median(a.mean(1) - b.mean(1)))
    return 100 * point, 100 * float(lo), 100 * float(hi)


# ----------------------------------------------------------------------------- figures and checks
def resampling_check(correct, sizes, n_trials: int, alpha: float = 0.05, seed: int = 0):
    """Draw ``n_trials`` random test sets of each size from one model's 0/1 ``correct`` vector.

    Returns ``(table, draws)``: per size, the width of the middle (1 - alpha) of the drawn
    accuracies, the Clopper-Pearson and Hoeffding widths at the population accuracy (points),
    and the coverage (%) of the drawn sets' Clopper-Pearson intervals; ``draws[n]`` holds the
    drawn accuracies (fractions).
    """
    import pandas as pd

    c = np.asarray(correct, dtype=float)
    p, rows, draws = c.mean(), [], {}
    for n in sizes:
        accs = resample_accuracies(c, n, n_trials, seed=seed, replace=False)
        lo, hi = clopper_pearson(np.round(accs * n).astype(int), n, alpha)
        lo_p, hi_p = clopper_pearson(int(round(p * n)), n, alpha)
        draws[n] = accs
        rows.append({"n": n, "middle of drawn accuracies (points)":
                     100 * float(np.subtract(*np.quantile(accs, [1 - alpha / 2, alpha / 2]))),
                     "Clopper–Pearson width (points)": 100 * float(hi_p - lo_p),
                     "Hoeffding width (points)": 200 * float(hoeffding_halfwidth(n, alpha)),
                     "coverage of CP intervals (%)": 100 * float(np.mean((lo <= p) & (p <= hi)))})
    return pd.DataFrame(rows).set_index("n"), draws


def plot_interval_widths(alpha: float = 0.05, accuracies=(0.5, 0.75, 0.98)):
    """Half-width of the Clopper-Pearson interval vs test-set size, with Hoeffding's bound."""
    import matplotlib.pyplot as plt

    from reliable_ml.util.plots import source_caption

    ns = np.unique(np.logspace(2, 5, 40).astype(int))
    fig, ax = plt.subplots()
    for acc, style in zip(accuracies, ("-", "--", ":")):
        lo, hi = clopper_pearson(np.round(acc * ns), ns, alpha)
        ax.plot(ns, 100 * (hi - lo) / 2, style, label=f"Clopper–Pearson, accuracy {100 * acc:.0f}%")
    ax.plot(ns, 100 * hoeffding_halfwidth(ns, alpha), color="k", label="Hoeffding (any accuracy)")
    ax.set(xscale="log", yscale="log", xlabel="test-set size n (examples)",
           ylabel=f"{100 * (1 - alpha):.0f}% interval half-width (accuracy points)",
           title="Sampling error shrinks like 1/sqrt(n)")
    ax.legend()
    source_caption(fig, "exact binomial computation (no data)")
    return fig


def plot_resampling(draws: dict, correct, alpha: float, title: str, source: str):
    """Histograms of accuracies on random test sets (``draws[n]``), shaded by the CP interval at each n."""
    import matplotlib.pyplot as plt

    from reliable_ml.util.plots import source_caption

    p = float(np.mean(correct))
    fig, ax = plt.subplots()
    for n, accs in draws.items():
        ax.hist(100 * accs, bins=40, histtype="step", density=True, label=f"n = {n:,}")
        lo, hi = clopper_pearson(int(round(p * n)), n, alpha)
        ax.axvspan(100 * lo, 100 * hi, alpha=0.08, color=ax.patches[-1].get_edgecolor())
    ax.axvline(100 * p, color="k", lw=1, label=f"accuracy on the whole set ({100 * p:.2f}%)")
    ax.set(xlabel="accuracy on a random test set of size n (%)", ylabel="density (1 / accuracy point)", title=title)
    ax.legend()
    source_caption(fig, source, f"shaded: {100 * (1 - alpha):.0f}% Clopper–Pearson interval at each n")
    return fig


def plot_original_vs_new(acc_x, acc_y: dict, xlabel: str, title: str, source: str, ci_y: dict | None = None,
                         note: str = "lines: linear fits on the probit scale"):
    """Scatter of new-set accuracy (``acc_y[name]``, %) against original accuracy (``acc_x``, %),
    one probit line per new set, the y = x diagonal, and optional vertical interval bars."""
    import matplotlib.pyplot as plt

    from reliable_ml.util.plots import identity_line, source_caption

    x = np.asarray(acc_x, dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    grid = np.linspace(x.min(), x.max(), 200) / 100
    for name, y in acc_y.items():
        y = np.asarray(y, dtype=float)
        fit = probit_linear_fit(x / 100, y / 100)
        label = f"{name}: slope {fit.slope:.2f}, r² = {fit.r2:.3f}"
        if ci_y is not None and name in ci_y:
            lo, hi = ci_y[name]
            ax.errorbar(x, y, yerr=[y - lo, hi - y], fmt="o", ms=3, lw=0.7, label=label)
            color = ax.lines[-1].get_color()
        else:
            color = ax.scatter(x, y, s=8, alpha=0.6, label=label).get_facecolor()[0][:3]
        ax.plot(100 * grid, 100 * fit.predict(grid), lw=1, color=color)
    identity_line(ax)
    ax.set(xlabel=xlabel, ylabel="accuracy on the new test set (%)", title=title)
    ax.legend(loc="upper left", fontsize=8)
    source_caption(fig, source, note)
    return fig
