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


def log_models_allowed(n: int, eps: float, disagreement: float, delta: float = 0.05) -> float:
    """ln k: how many models k, each differing in 0-1 loss from a common reference model on a
    fraction ``disagreement`` (p) of examples, can be scored on ``n`` test examples before their
    score differences may be off by more than ``eps`` (with probability 1 - ``delta``).

    The score difference of model i and the reference is a mean of n i.i.d. terms in {-1, 0, 1}
    with variance at most p, so Bernstein's inequality gives
    P(|deviation| >= eps) <= 2 exp(-n eps^2 / (2 (p + eps / 3))); a union bound over the k
    models then allows ln k = n eps^2 / (2 (p + eps / 3)) - ln(2 / delta). Selecting the best
    of the k (adaptively or not, as long as they come from this pool) is then optimistic by at
    most eps plus the reference's own sampling error (one model). This is the mechanism of
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
    return float(n * eps**2 / (2 * (disagreement + eps / 3)) - np.log(2 / delta))


def similarity_payoff(correct, n: int, eps: float, delta: float = 0.05) -> dict:
    """:func:`log_models_allowed` at the measured loss disagreement of ``correct`` against the
    disagreement that independent errors at the same accuracies would give, on a reused test
    set of ``n`` examples at overfitting level ``eps``. ``exponent_ratio``: how many times larger
    ln k is for the real models, (p_ind + eps/3) / (p_obs + eps/3) before the ln(2/delta) term."""
    c = np.asarray(correct, dtype=bool)
    p_obs, p_ind = loss_disagreement(c), independent_loss_disagreement(c.mean(1))
    ln_obs, ln_ind = (log_models_allowed(n, eps, p, delta) for p in (p_obs, p_ind))
    return {
        "n": int(n),
        "eps": float(eps),
        "delta": float(delta),
        "disagreement_observed": p_obs,
        "disagreement_independent": p_ind,
        "log10_models_observed": ln_obs / np.log(10),
        "log10_models_independent": ln_ind / np.log(10),
        "exponent_ratio": (p_ind + eps / 3) / (p_obs + eps / 3),
        "formula": "ln k = n eps^2 / (2 (p + eps/3)) - ln(2/delta): Bernstein + union bound on score "
        "differences to a reference model (our derivation, after Mania et al. 2019)",
    }
