"""How similar are models' predictions, compared with what independent errors would give?

Agreement of models i and j on a test set = fraction of examples where they predict the same
class. If the models made their errors independently, agreement would be set by accuracy
alone (see :func:`independent_agreement`). Mania et al. (2019) find real models agree far
more than that, which shrinks the effective number of distinct models an analyst can choose
among, and with it the room for adaptive overfitting.
"""

from __future__ import annotations

import numpy as np


def _check_predictions(predictions) -> np.ndarray:
    pred = np.asarray(predictions)
    if pred.ndim != 2 or pred.shape[0] < 2 or pred.shape[1] == 0:
        raise ValueError(f"predictions must be a (models >= 2, examples >= 1) matrix; got {pred.shape}")
    return pred


def agreement_matrix(predictions, chunk: int = 8) -> np.ndarray:
    """Pairwise agreement A[i, j] = mean_n [pred_i(n) == pred_j(n)] for int ``(m, N)`` predictions.

    Returns float ``(m, m)`` with ones on the diagonal; symmetric.
    """
    pred = _check_predictions(predictions)
    m = pred.shape[0]
    out = np.empty((m, m))
    for start in range(0, m, chunk):
        block = pred[start : start + chunk]  # (b, N)
        out[start : start + chunk] = (block[:, None, :] == pred[None, :, :]).mean(2)
    return out


def independent_agreement(accuracies, n_classes: int) -> np.ndarray:
    """Agreement expected if errors were independent: a_i a_j + (1 - a_i)(1 - a_j) / (C - 1).

    Assumptions: on each example the two models are right independently (with probabilities
    a_i, a_j, their accuracies), and a wrong prediction is uniform over the C - 1 wrong classes,
    independently of the other model. Both agree when both are right, or both are wrong *and*
    pick the same wrong class (probability 1 / (C - 1)). Diagonal entries are set to 1.
    """
    acc = np.asarray(accuracies, dtype=float)
    if acc.ndim != 1 or len(acc) == 0 or np.any((acc < 0) | (acc > 1)):
        raise ValueError(f"accuracies must be a non-empty 1-D array of fractions in [0, 1]; got {accuracies!r}")
    if not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2; got {n_classes!r}")
    out = np.outer(acc, acc) + np.outer(1 - acc, 1 - acc) / (n_classes - 1)
    np.fill_diagonal(out, 1.0)
    return out


def error_overlap(correct) -> np.ndarray:
    """P(both wrong) / min(P(i wrong), P(j wrong)) for bool ``(m, N)`` correctness; NaN if one never errs.

    1 means the less error-prone model's mistakes are all shared by the other; under
    independence it would be about max(1 - a_i, 1 - a_j).
    """
    c = np.asarray(correct, dtype=bool)
    if c.ndim != 2 or c.shape[0] < 2 or c.shape[1] == 0:
        raise ValueError(f"correct must be a (models >= 2, examples >= 1) matrix; got {c.shape}")
    wrong = (~c).astype(float)
    both = wrong @ wrong.T / c.shape[1]
    rate = wrong.mean(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return both / np.minimum(rate[:, None], rate[None, :])


def mean_off_diagonal(matrix) -> float:
    """Mean of the off-diagonal entries of a square matrix (NaNs ignored)."""
    mat = np.asarray(matrix, dtype=float)
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1] or mat.shape[0] < 2:
        raise ValueError(f"need a square matrix of size >= 2; got shape {mat.shape}")
    mask = ~np.eye(mat.shape[0], dtype=bool)
    return float(np.nanmean(mat[mask]))


def plot_agreement(similar_sets: dict):
    """Observed vs independent-errors agreement of every pair of models, one panel per model set.

    ``similar_sets[name] = (observed (m, m), independent (m, m), source)``.
    """
    import matplotlib.pyplot as plt

    from reliable_ml.util.plots import identity_line, source_caption

    fig, axes = plt.subplots(1, len(similar_sets), figsize=(5.2 * len(similar_sets), 4.4), squeeze=False)
    for ax, (name, (obs, ind, src)) in zip(axes.flat, similar_sets.items()):
        iu = np.triu_indices(len(obs), 1)
        ax.scatter(100 * ind[iu], 100 * obs[iu], s=5, alpha=0.4)
        identity_line(ax)
        ax.set(
            xlabel="agreement expected under independent errors (%)",
            ylabel="observed agreement (%)",
            title=f"{name}: pairs of models\n({src})",
        )
        ax.legend(loc="upper left")
    source_caption(fig, "; ".join(s for _, _, s in similar_sets.values()))
    return fig


def agreement_summary(similar_sets: dict):
    """Per model set: mean observed and independent-errors agreement (%), share of pairs above (%)."""
    import pandas as pd

    rows = {}
    for name, (obs, ind, _) in similar_sets.items():
        iu = np.triu_indices(len(obs), 1)
        rows[name] = {
            "mean observed agreement (%)": 100 * mean_off_diagonal(obs),
            "mean agreement if independent (%)": 100 * mean_off_diagonal(ind),
            "pairs above independent (%)": 100 * float(np.mean(obs[iu] > ind[iu])),
        }
    return pd.DataFrame(rows).T.round(2)


# ----------------------------------------------------------------------------- the payoff of similarity
def loss_disagreement(correct) -> float:
    """Mean over pairs of models of P(one is right and the other wrong), from bool ``(m, N)``
    correctness: the fraction of examples on which two models' 0-1 losses differ."""
    c = np.asarray(correct, dtype=bool)
    if c.ndim != 2 or c.shape[0] < 2 or c.shape[1] == 0:
        raise ValueError(f"correct must be a (models >= 2, examples >= 1) matrix; got {c.shape}")
    x = c.astype(float)
    both_right = x @ x.T / c.shape[1]
    a = x.mean(1)
    return mean_off_diagonal(a[:, None] + a[None, :] - 2 * both_right)


def independent_loss_disagreement(accuracies) -> float:
    """The same for models with these accuracies and independent errors: the mean over pairs of
    a_i (1 - a_j) + a_j (1 - a_i)."""
    a = np.asarray(accuracies, dtype=float)
    if a.ndim != 1 or len(a) < 2 or np.any((a < 0) | (a > 1)):
        raise ValueError(f"accuracies must be >= 2 fractions in [0, 1]; got {accuracies!r}")
    return mean_off_diagonal(a[:, None] * (1 - a[None, :]) + a[None, :] * (1 - a[:, None]))


def bernstein_term(eps: float, disagreement: float, mean_difference: float | None = None) -> float:
    """V = sigma^2 + b eps / 3, the denominator term of Bernstein's bound for a 0-1 loss difference.

    X = l_i(z) - l_ref(z) takes values in {-1, 0, 1}: P(X != 0) = p (``disagreement``), its mean
    mu = err_i - err_ref (``mean_difference``) obeys |mu| <= p, its variance is sigma^2 = p - mu^2,
    and |X - mu| <= b = 1 + |mu|. So V = p - mu^2 + (1 + |mu|) eps / 3. With mu not given, the
    largest V over |mu| in [0, p]: the derivative in |mu| is eps/3 - 2 |mu|, so the maximum sits at
    |mu| = eps/6 when p >= eps/6, V = p + eps/3 + eps^2/36, and at |mu| = p otherwise,
    V = p - p^2 + (1 + p) eps / 3.
    """
    if not 0 < eps <= 1 or not 0 <= disagreement <= 1:
        raise ValueError(f"need eps in (0, 1] and disagreement in [0, 1]; got {eps!r}, {disagreement!r}")
    p = disagreement
    if mean_difference is None:
        m = eps / 6 if p >= eps / 6 else p
    else:
        m = abs(float(mean_difference))
        if m > p + 1e-12:
            raise ValueError(f"|mean_difference| = {m!r} cannot exceed the disagreement {p!r}")
    return float(p - m**2 + (1 + m) * eps / 3)


def log_models_allowed(
    n: int, eps: float, disagreement: float, delta: float = 0.05, mean_difference: float | None = None
) -> float:
    """ln k: how many models k, each differing in 0-1 loss from a common reference model on at
    most a fraction ``disagreement`` (p) of examples, can be scored on ``n`` test examples before
    any of their score differences to the reference may be off by more than ``eps`` (with
    probability at least 1 - ``delta``).

    The score difference of model i and the reference is the mean of n i.i.d. copies of
    X = l_i(z) - l_ref(z) in {-1, 0, 1}, with variance sigma^2 = p - mu^2 and |X - mu| <= 1 + |mu|
    (mu = E X, |mu| <= p). Bernstein's inequality (Boucheron, Lugosi & Massart 2013, "Concentration
    Inequalities", Thm 2.10) gives P(|mean - mu| >= eps) <= 2 exp(-n eps^2 / (2 V)) with
    V = sigma^2 + (1 + |mu|) eps / 3 (:func:`bernstein_term`; with ``mean_difference`` None, the
    largest V any |mu| <= p allows, p + eps/3 + eps^2/36 when p >= eps/6). A union bound over the
    k models then allows ln k = n eps^2 / (2 V) - ln(2 / delta). Selecting the best of the k
    (adaptively or not, as long as they come from a pool fixed in advance) is then optimistic by
    at most eps plus the reference's own sampling error (one model). This is the mechanism of
    Mania et al. 2019 ("Model similarity mitigates test set overuse", NeurIPS), whose bounds
    also let the number of models grow as the models' disagreement shrinks; the form here is
    our derivation, not their theorem's constants (which could not be checked here:
    unverified). A negative value means not even one model is covered at this ``eps``.
    """
    if n < 1 or not 0 < eps <= 1 or not 0 <= disagreement <= 1 or not 0 < delta < 1:
        raise ValueError(
            f"need n >= 1, eps in (0, 1], disagreement in [0, 1], delta in (0, 1); "
            f"got {n!r}, {eps!r}, {disagreement!r}, {delta!r}"
        )
    v = bernstein_term(eps, disagreement, mean_difference)
    return float(n * eps**2 / (2 * v) - np.log(2 / delta))


def similarity_payoff(
    correct, n: int, eps: float, delta: float = 0.05, reference: int | None = None, names=None
) -> dict:
    """:func:`log_models_allowed` at the *largest* loss disagreement of any model in ``correct``
    (bool ``(models, examples)``) with one named reference model, against the largest that
    independent errors at the same accuracies would give (a_i (1 - a_r) + a_r (1 - a_i)), on a
    reused test set of ``n`` examples at overfitting level ``eps``. The bound needs every model's
    disagreement with the reference to be at most p, so p is the maximum, not the mean (which is
    reported beside it, ``disagreement_mean``): the budget then covers every model of the set, as
    far as the measured disagreements hold on the reused set (they are themselves measured on a
    finite sample; a strict certificate would bound p before looking). ``reference``: a row index
    (default: the most accurate model, the one a reuser would compare against); ``names``: the
    models' names, for the record. ``exponent_ratio``: how many times larger the first term of
    ln k is for the real models, V_ind / V_obs (:func:`bernstein_term`, worst-case mean)."""
    c = np.asarray(correct, dtype=bool)
    if c.ndim != 2 or c.shape[0] < 2 or c.shape[1] == 0:
        raise ValueError(f"correct must be a (models >= 2, examples >= 1) matrix; got {c.shape}")
    acc = c.mean(1)
    r = int(np.argmax(acc)) if reference is None else int(reference)
    if not 0 <= r < len(c):
        raise ValueError(f"reference must index one of the {len(c)} models; got {reference!r}")
    others = np.delete(np.arange(len(c)), r)
    p_each = (c[others] != c[r]).mean(1)
    p_ind_each = acc[others] * (1 - acc[r]) + acc[r] * (1 - acc[others])
    p_obs, p_ind = float(p_each.max()), float(p_ind_each.max())
    ln_obs, ln_ind = (log_models_allowed(n, eps, p, delta) for p in (p_obs, p_ind))
    label = (lambda i: str(names[i])) if names is not None else (lambda i: f"model {i}")
    return {
        "n": int(n),
        "eps": float(eps),
        "delta": float(delta),
        "reference": label(r),
        "reference_accuracy": float(acc[r]),
        "most_different": label(int(others[np.argmax(p_each)])),
        "disagreement_observed": p_obs,
        "disagreement_mean": float(p_each.mean()),
        "disagreement_independent": p_ind,
        "log10_models_observed": ln_obs / np.log(10),
        "log10_models_independent": ln_ind / np.log(10),
        "exponent_ratio": bernstein_term(eps, p_ind) / bernstein_term(eps, p_obs),
        "formula": "ln k = n eps^2 / (2 V) - ln(2/delta), V = p - mu^2 + (1 + |mu|) eps/3 at the worst mu "
        "(|mu| <= p), p = the largest disagreement with the reference: Bernstein + union bound on score "
        "differences to a reference model (our derivation, after Mania et al. 2019)",
    }


def budget_words(log10_models: float) -> str:
    """What the bound buys, in words: k = 10 ** ``log10_models`` models. Below one model the bound
    certifies none ("not even one model"); otherwise "at most k models" (k to 2 significant
    figures, never rounded up past what the bound allows)."""
    if not np.isfinite(log10_models):
        return "(not available)"
    k = 10.0**log10_models
    if k < 1:
        return f"not even one model (k = {k:.2g})"
    shown = float(f"{k:.2g}")
    if shown > k:  # 2 significant figures, rounded down
        digits = max(0, 1 - int(np.floor(np.log10(k))))
        shown = np.floor(k * 10**digits) / 10**digits
    return f"at most {shown:,g} model" + ("" if shown == 1 else "s")
