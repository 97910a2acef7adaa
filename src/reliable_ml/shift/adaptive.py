"""Test-set reuse: how much can choosing by the test set inflate test accuracy?

Three experiments, from benign to worst case:

* :func:`best_of_k_optimism`: an analyst evaluates k models on a holdout and reports the best.
  Optimism = holdout accuracy of the chosen model - its accuracy on fresh data from the same
  distribution. For k models with *independent* errors and equal accuracy p, the expected
  optimism grows like sqrt(p (1 - p) / n) * E[max of k standard normals] ~ sqrt(2 log k) / sqrt(n).
* :func:`boosting_attack`: the worst case (Blum & Hardt 2015; Dwork et al. 2015). Labels are
  random +-1 and so are k query classifiers; keep those scoring above 1/2 on the n holdout
  points and take their majority vote. Holdout accuracy rises like 1/2 + c sqrt(k / n) while
  accuracy on fresh points stays 1/2: pure overfitting, no learning.
* :func:`leaderboard`: a Kaggle-style public/private split of one test set, scored for many
  submissions (Roelofs et al. 2019).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import NamedTuple

import numpy as np
import pandas as pd


def _check_correct(correct) -> np.ndarray:
    c = np.asarray(correct)
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] == 0:
        raise ValueError(f"correct must be a (models, examples) 0/1 matrix with both sizes > 0; got {c.shape}")
    return c.astype(bool)


def best_of_k_optimism(correct, n_holdout: int, ks, n_trials: int = 200, seed: int = 0) -> pd.DataFrame:
    """Optimism of reporting the best of k models on a holdout, per trial and k.

    ``correct``: bool ``(m, N)``, model i right on example j. Each trial splits the N examples
    at random into a holdout of ``n_holdout`` and a fresh set of the rest, draws k of the m
    models at random, picks the one with the best holdout accuracy (ties: the first) and
    records holdout acc - fresh acc of that model (fractions). Returns a frame of shape
    ``(n_trials, len(ks))`` with one column per k. Requires 1 <= k <= m and
    0 < n_holdout < N. From :data:`reliable_ml.util.result_cache.MIN_WORK` trials x cells on, the
    trials are kept in the result cache, keyed by the settings, ``correct`` and this module.
    """
    c = _check_correct(correct)
    m, n_total = c.shape
    ks = [int(k) for k in ks]
    bad = [k for k in ks if not 1 <= k <= m]
    if bad:
        raise ValueError(f"k must lie in [1, {m}] (the number of models); got {bad}")
    if not 0 < n_holdout < n_total:
        raise ValueError(f"n_holdout must lie in [1, {n_total - 1}]; got {n_holdout}")
    if n_trials <= 0:
        raise ValueError(f"n_trials must be positive; got {n_trials}")

    def trials() -> dict:
        rng = np.random.default_rng(seed)
        out = np.empty((n_trials, len(ks)))
        c_f = c.astype(np.float32)
        for t in range(n_trials):
            hold = np.zeros(n_total, dtype=bool)
            hold[rng.choice(n_total, n_holdout, replace=False)] = True
            acc_hold = c_f[:, hold].mean(1)  # (m,)
            acc_fresh = c_f[:, ~hold].mean(1)  # (m,)
            for j, k in enumerate(ks):
                members = rng.choice(m, k, replace=False)
                best = members[np.argmax(acc_hold[members])]
                out[t, j] = acc_hold[best] - acc_fresh[best]
        return {"optimism": out}

    import sys

    from reliable_ml.util import result_cache

    # a pass over every example per trial: a large run is kept in the result cache (settings, data, code)
    settings = {"function": "best_of_k_optimism", "n_holdout": int(n_holdout), "ks": ks, "n_trials": int(n_trials),
                "seed": int(seed)}  # fmt: skip
    out = result_cache.cached_arrays(
        "best_of_k", settings, trials, arrays=(c,), code=(sys.modules[__name__],),
        enabled=n_trials * c.size >= result_cache.MIN_WORK,
    )["optimism"]  # fmt: skip
    return pd.DataFrame(out, columns=ks)


def independent_correct(accuracies, n_examples: int, seed: int = 0) -> np.ndarray:
    """Simulated bool ``(m, n_examples)`` correctness of m models whose errors are independent.

    Entry (i, j) is Bernoulli(accuracies[i]) independently of everything else. Used only as a
    labelled *simulation* to compare with real, correlated models.
    """
    acc = np.asarray(accuracies, dtype=float)
    if acc.ndim != 1 or len(acc) == 0 or np.any((acc < 0) | (acc > 1)):
        raise ValueError(f"accuracies must be a non-empty 1-D array of fractions in [0, 1]; got {accuracies!r}")
    if n_examples <= 0:
        raise ValueError(f"n_examples must be positive; got {n_examples}")
    rng = np.random.default_rng(seed)
    return rng.random((len(acc), n_examples)) < acc[:, None]


class AttackCurve(NamedTuple):
    """Accuracy of the boosting attack's classifier after each number of ``queries``."""

    queries: np.ndarray
    holdout_acc: np.ndarray
    fresh_acc: np.ndarray
    n_kept: np.ndarray
    n_holdout: int
    n_fresh: int


def boosting_attack(
    n_holdout: int, queries, n_fresh: int | None = None, seed: int = 0, chunk: int = 256
) -> AttackCurve:
    """The worst-case adaptive attack on a holdout of ``n_holdout`` random +-1 labels.

    Query classifiers are independent uniformly random +-1 labelings of the holdout and of
    ``n_fresh`` (default ``n_holdout``) fresh points. Query q is *kept* when its holdout
    accuracy exceeds 1/2; after q queries the attacker's classifier is
    sign(sum of kept queries) (ties -> +1). Its holdout accuracy is biased upward; on fresh
    points it is a coin flip. ``queries``: increasing checkpoints (each >= 1).
    """
    if n_holdout <= 0:
        raise ValueError(f"holdout size n_holdout must be positive; got {n_holdout}")
    n_fresh = n_holdout if n_fresh is None else n_fresh
    if n_fresh <= 0:
        raise ValueError(f"n_fresh must be positive; got {n_fresh}")
    qs = np.asarray(queries, dtype=int)
    if qs.ndim != 1 or len(qs) == 0 or qs[0] < 1 or np.any(np.diff(qs) <= 0):
        raise ValueError(f"queries must be increasing positive checkpoints; got {queries!r}")
    rng = np.random.default_rng(seed)
    n = n_holdout + n_fresh
    labels = rng.choice(np.array([-1, 1], dtype=np.int8), n)  # (n,)
    votes = np.zeros(n, dtype=np.int64)  # running sum of kept queries
    hold_acc, fresh_acc, kept = [], [], []
    done, n_kept = 0, 0
    for target in qs:
        while done < target:
            size = min(chunk, target - done)
            h = (2 * rng.integers(0, 2, (size, n), dtype=np.int8) - 1).astype(np.int8)  # (size, n) +-1 labelings
            acc = (h[:, :n_holdout] == labels[:n_holdout]).mean(1)
            keep = acc > 0.5
            votes += h[keep].sum(0, dtype=np.int64)
            n_kept += int(keep.sum())
            done += size
        final = np.where(votes >= 0, 1, -1)
        right = final == labels
        hold_acc.append(right[:n_holdout].mean())
        fresh_acc.append(right[n_holdout:].mean())
        kept.append(n_kept)
    return AttackCurve(qs, np.array(hold_acc), np.array(fresh_acc), np.array(kept), n_holdout, n_fresh)


# ----------------------------------------------------------------------------- leaderboards
def vote_ensembles(predictions, n_ensembles: int, size: int, n_classes: int, seed: int = 0) -> np.ndarray:
    """Majority votes of random ``size``-subsets of the m models: int64 ``(n_ensembles, N)``.

    ``predictions``: int ``(m, N)`` predicted classes. Ties go to the smallest class id.
    """
    pred = np.asarray(predictions)
    if pred.ndim != 2 or pred.shape[0] == 0 or pred.shape[1] == 0:
        raise ValueError(f"predictions must be a non-empty (models, examples) matrix; got {pred.shape}")
    if not 1 <= size <= pred.shape[0]:
        raise ValueError(f"ensemble size must lie in [1, {pred.shape[0]}] (the number of models); got {size}")
    if n_ensembles <= 0:
        raise ValueError(f"n_ensembles must be positive; got {n_ensembles}")
    rng = np.random.default_rng(seed)
    out = np.empty((n_ensembles, pred.shape[1]), dtype=np.int64)
    cols = np.arange(pred.shape[1])
    for e in range(n_ensembles):
        members = pred[rng.choice(pred.shape[0], size, replace=False)]  # (size, N)
        counts = np.zeros((n_classes, pred.shape[1]), dtype=np.int32)
        for row in members:
            counts[row, cols] += 1
        out[e] = counts.argmax(0)
    return out


def leaderboard(correct, public_fraction: float = 0.3, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Score every submission on a random public part of the test set and on the private rest.

    ``correct``: bool ``(submissions, N)``. Returns a frame with columns ``public`` and
    ``private`` (fractions) and the boolean public mask ``(N,)``.
    """
    c = _check_correct(correct)
    if not 0 < public_fraction < 1:
        raise ValueError(f"public_fraction must lie in (0, 1); got {public_fraction}")
    n_total = c.shape[1]
    n_public = int(round(public_fraction * n_total))
    if not 0 < n_public < n_total:
        raise ValueError(
            f"public_fraction {public_fraction} leaves an empty public or private part of {n_total} examples"
        )
    rng = np.random.default_rng(seed)
    public = np.zeros(n_total, dtype=bool)
    public[rng.choice(n_total, n_public, replace=False)] = True
    frame = pd.DataFrame({"public": c[:, public].mean(1), "private": c[:, ~public].mean(1)})
    return frame, public


def team_selection(board: pd.DataFrame, n_teams: int, seed: int = 0) -> pd.DataFrame:
    """Assign submissions to ``n_teams`` random teams; each team keeps its best *public* score.

    Returns the selected rows of ``board`` (one per team that has a submission).
    """
    if n_teams < 1:
        raise ValueError(f"n_teams must be >= 1; got {n_teams}")
    team = np.random.default_rng(seed).integers(0, n_teams, len(board))
    return board.loc[board.assign(team=team).groupby("team")["public"].idxmax()]


def selection_effect(correct, public_fraction: float = 0.3, n_splits: int = 5, seed: int = 0) -> pd.DataFrame:
    """Public minus private accuracy (points), over ``n_splits`` random leaderboard splits.

    Per split (seed ``seed + i``): the mean over all submissions, and over the submissions that
    teams (about one per ten submissions) selected by their public score. Their difference is
    the selection effect: how much choosing by the public score inflates it.
    """
    rows = []
    for i in range(n_splits):
        board, _ = leaderboard(correct, public_fraction, seed=seed + i)
        sel = team_selection(board, max(2, len(board) // 10), seed=seed + i)
        rows.append(
            {
                "split seed": seed + i,
                "all submissions": 100 * float((board["public"] - board["private"]).mean()),
                "team-selected": 100 * float((sel["public"] - sel["private"]).mean()),
            }
        )
    return pd.DataFrame(rows).set_index("split seed")


# ----------------------------------------------------------------------------- figures
def plot_best_of_k(frames: dict, title: str, source: str, n_trials: int):
    """Mean optimism (points) vs k for each ``frames[label]`` (a :func:`best_of_k_optimism` frame)."""
    import matplotlib.pyplot as plt

    from reliable_ml.util.plots import source_caption

    fig, ax = plt.subplots()
    for (label, frame), style in zip(frames.items(), ("o-", "o--", "s-", "s--")):
        mean, se = 100 * frame.mean(), 100 * frame.std() / np.sqrt(len(frame))
        ax.errorbar(frame.columns, mean, yerr=1.96 * se, fmt=style, ms=4, capsize=2, label=label)
    ax.axhline(0, color="0.4", lw=1)
    ax.set(
        xlabel="number of models compared on the holdout, k",
        ylabel="optimism: holdout - fresh accuracy (points)",
        title=title,
    )
    ax.legend()
    source_caption(fig, source, f"{n_trials:,} random splits per k; bars: 95% interval of the mean")
    return fig


def plot_boosting(curve: AttackCurve, band: tuple[float, float], level: str):
    """Holdout and fresh accuracy of the boosting attack vs the number of queries."""
    import matplotlib.pyplot as plt

    from reliable_ml.util.plots import source_caption

    fig, ax = plt.subplots()
    ax.plot(curve.queries, 100 * curve.holdout_acc, "o-", label=f"holdout (n = {curve.n_holdout:,})")
    ax.plot(curve.queries, 100 * curve.fresh_acc, "s-", label=f"fresh points (n = {curve.n_fresh:,})")
    ax.axhspan(100 * band[0], 100 * band[1], color="0.5", alpha=0.2, label=f"{level} sampling interval at 50%")
    ax.set(
        xscale="log",
        xlabel="number of adaptive queries q",
        ylabel="accuracy of the majority vote (%)",
        title="Worst-case adaptive attack on a holdout of random labels",
    )
    ax.legend()
    source_caption(
        fig, "simulation: random +-1 labels and random classifiers", "after Blum & Hardt 2015 and Dwork et al. 2015"
    )
    return fig


def plot_leaderboard(board: pd.DataFrame, selected: pd.DataFrame, public_mask: np.ndarray, source: str):
    """Public vs private accuracy of every submission, the teams' selections starred."""
    import matplotlib.pyplot as plt

    from reliable_ml.util.plots import identity_line, source_caption

    fig, ax = plt.subplots()
    ax.scatter(100 * board["public"], 100 * board["private"], s=8, alpha=0.5, label="all submissions")
    ax.scatter(
        100 * selected["public"],
        100 * selected["private"],
        s=25,
        marker="*",
        color="C3",
        label="each team's best public",
    )
    identity_line(ax)
    ax.set(
        xlabel=f"public leaderboard accuracy (%, n = {int(public_mask.sum()):,})",
        ylabel=f"private leaderboard accuracy (%, n = {int((~public_mask).sum()):,})",
        title=f"Public vs private scores of {len(board)} zoo submissions",
    )
    ax.legend(loc="upper left")
    source_caption(fig, source, "submissions: zoo members and majority votes of random members")
    return fig


def selection_numbers(effect: pd.DataFrame, alpha: float = 0.05) -> tuple[dict, dict]:
    """Summary of :func:`selection_effect` and the words the prose prints about it: ``(numbers,
    verdicts)``, the flat prose numbers and the verdicts behind the words (test, interval, p).

    Over the splits (rows of ``effect``, points): the team-selected submissions' public - private
    gap, against 0 (``lb_sel_words``), and the selection effect, selected - all, against 0
    (``lb_verdict``), each by :func:`reliable_ml.stats.compare` (paired t over the splits: the two
    columns of one split share its public/private partition) and worded by
    :func:`reliable_ml.stats.phrase`. ``lb_effect_lo``/``_hi`` is the t interval of the mean
    selection effect; ``lb_pos``: the splits on which it is positive. ``effect`` is in points, and
    so are the numbers in the words. With one split there is no
    interval (NaN), no verdict, and the words say so.
    """
    from reliable_ml import stats

    sel, every = effect["team-selected"].to_numpy(float), effect["all submissions"].to_numpy(float)
    diff = sel - every
    n = len(diff)
    out = {
        "lb_sel": float(sel.mean()),
        "lb_sel_sd": float(sel.std(ddof=1)) if n > 1 else float("nan"),
        "lb_sel_min": float(sel.min()),
        "lb_sel_max": float(sel.max()),
        "lb_all": float(every.mean()),
        "lb_effect": float(diff.mean()),
        "lb_effect_sd": float(diff.std(ddof=1)) if n > 1 else float("nan"),
        "lb_splits": n,
        "lb_pos": int((diff > 0).sum()),
    }
    if n < 2:
        one = "(one split: no interval over splits)"
        nan = float("nan")
        return out | {"lb_effect_lo": nan, "lb_effect_hi": nan, "lb_sel_words": one, "lb_verdict": one}, {}
    v_sel = stats.compare(sel, np.zeros(n), paired=True, alpha=alpha, outcome="continuous")
    v_eff = stats.compare(sel, every, paired=True, alpha=alpha, outcome="continuous")
    out |= {
        "lb_effect_lo": v_eff.interval[0],
        "lb_effect_hi": v_eff.interval[1],
        "lb_sel_words": stats.phrase(
            v_sel,
            "higher on the public part than on the private part",
            "lower on the public part than on the private part",
            "no differently on the two parts, as far as the splits can tell",
            scale=1.0,
            digits=2,
        ),
        "lb_verdict": stats.phrase(
            v_eff,
            "larger, so choosing by the public score inflated it",
            "smaller, so the selected submissions did better in private",
            "no different as far as the splits can tell: choosing by the public score did not measurably inflate it",
            scale=1.0,
            digits=2,
        ),
    }
    return out, {"selected_public_minus_private": asdict(v_sel), "selection_effect": asdict(v_eff)}


# ----------------------------------------------------------------------------- adaptive attack and the Ladder
def attack_queries(n_holdout: int, n_queries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The random draws of one boosting attack: labels int8 ``(2 n,)`` (the first ``n_holdout``
    are the holdout, the rest fresh points) and query classifiers int8 ``(n_queries, 2 n)``, all +-1.

    Drawn in this order from ``np.random.default_rng(seed)``, so the chapter's few-line version
    of the attack reproduces :func:`attack_curves` exactly.
    """
    if n_holdout <= 0 or n_queries <= 0:
        raise ValueError(f"n_holdout and n_queries must be positive; got {n_holdout} and {n_queries}")
    rng = np.random.default_rng(seed)
    labels = 2 * rng.integers(0, 2, 2 * n_holdout, dtype=np.int8) - 1
    queries = 2 * rng.integers(0, 2, (n_queries, 2 * n_holdout), dtype=np.int8) - 1
    return labels, queries


def ladder_scores(scores, eta: float) -> np.ndarray:
    """The Ladder mechanism (Blum & Hardt 2015) for accuracies: the board shows the best score so
    far, and moves only when a submission beats it by more than ``eta`` (then to that score rounded
    to a multiple of ``eta``). Returns the shown score after each submission."""
    if not eta > 0:
        raise ValueError(f"the Ladder's step eta must be positive; got {eta}")
    best, shown = -np.inf, np.empty(len(scores))
    for t, s in enumerate(np.asarray(scores, dtype=float)):
        if s > best + eta:
            best = eta * np.round(s / eta)
        shown[t] = best
    return shown


def attack_curves(n_holdout: int, queries, eta: float, seed: int = 0) -> pd.DataFrame:
    """The boosting attack with and without the Ladder, on the same random draws.

    Open board: the attacker sees each query's holdout accuracy, keeps those above 1/2 and
    submits their majority vote (ties -> +1); the board shows that vote's holdout accuracy.
    Ladder: the attacker sees only the Ladder's shown score, keeps the queries that raised it,
    and submits their vote; the board shows what the Ladder shows after that submission.
    Per checkpoint ``q`` in ``queries`` (increasing), in points: ``holdout_optimism`` = shown
    score - true accuracy (1/2: labels are coin flips), ``fresh_optimism`` = the vote's accuracy
    on the fresh points - 1/2, and the same two for the Ladder (``ladder_*``).
    """
    qs = np.asarray(queries, dtype=int)
    if qs.ndim != 1 or len(qs) == 0 or qs[0] < 1 or np.any(np.diff(qs) <= 0):
        raise ValueError(f"queries must be increasing positive checkpoints; got {queries!r}")
    labels, h = attack_queries(n_holdout, int(qs[-1]), seed)
    n = n_holdout
    acc = (h[:, :n] == labels[:n]).mean(1)  # (q,) each query's holdout accuracy
    shown = ladder_scores(acc, eta)
    raised = np.diff(np.concatenate([[-np.inf], shown])) > 0  # the Ladder's only feedback
    rows = []
    for q in qs:
        row = {"queries": int(q)}
        for arm, kept in (("", acc[:q] > 0.5), ("ladder_", raised[:q])):
            vote = np.where(h[:q][kept].sum(0, dtype=np.int64) >= 0, 1, -1)
            right = vote == labels
            hold, fresh = right[:n].mean(), right[n:].mean()
            board = hold if not arm else ladder_scores(np.append(acc[:q][raised[:q]], hold), eta)[-1]
            row[f"{arm}holdout_optimism"] = 100 * (board - 0.5)
            row[f"{arm}fresh_optimism"] = 100 * (fresh - 0.5)
            row[f"{arm}kept"] = int(kept.sum())
        rows.append(row)
    return pd.DataFrame(rows).set_index("queries")


def attack_over_seeds(n_holdout: int, queries, eta: float, seeds) -> pd.DataFrame:
    """:func:`attack_curves` for each seed, stacked with a ``seed`` index level."""
    seeds = list(seeds)
    if not seeds:
        raise ValueError("need at least one seed")
    return pd.concat({s: attack_curves(n_holdout, queries, eta, seed=s) for s in seeds}, names=["seed"])


# ----------------------------------------------------------------------------- real leaderboards
def public_vs_private(public: pd.DataFrame, private: pd.DataFrame, min_entries: int = 2) -> pd.DataFrame:
    """Teams on both boards, the rule of Varoquaux & Cheplygina's ``plot_kaggle.py``: teams with at
    least ``min_entries`` entries on each board, joined by team name, with a public score above 0.

    ``public``/``private``: frames with ``team``, ``score``, ``entries`` in board order. A name
    that appears twice on a board keeps its first (best-ranked) row. Returns ``team``,
    ``public``, ``private``, in public-board order.
    """
    for name, board in (("public", public), ("private", private)):
        missing = {"team", "score", "entries"} - set(board.columns)
        if missing:
            raise ValueError(f"{name} board needs columns team, score, entries; missing {sorted(missing)}")
    pub = public.query("entries >= @min_entries").drop_duplicates("team")[["team", "score"]]
    priv = private.query("entries >= @min_entries").drop_duplicates("team")[["team", "score"]]
    both = pub.merge(priv, on="team", suffixes=("_public", "_private"))
    both = both.rename(columns={"score_public": "public", "score_private": "private"})
    return both.query("public > 0").reset_index(drop=True)


def board_summary(scores: pd.DataFrame, higher_is_better: bool, top: int = 10) -> dict:
    """Per competition: teams, Spearman rank agreement of public and private scores, the median
    public - private shift (metric units; ``median_optimism`` turns it so that > 0 means the
    public board flattered the team), the spread among the ``top`` teams on the private board
    (best minus ``top``-th best), and the private rank of the team that led the public board."""
    from scipy.stats import spearmanr

    if len(scores) < 3:
        raise ValueError(f"need at least 3 teams on both boards; got {len(scores)}")
    sign = 1 if higher_is_better else -1
    shift = scores["public"] - scores["private"]
    best_private = (sign * scores["private"]).rank(ascending=False, method="min")
    ordered = np.sort(sign * scores["private"].to_numpy())[::-1]
    leader = int(np.argmax(sign * scores["public"].to_numpy()))
    return {
        "teams": int(len(scores)),
        "spearman": round(float(spearmanr(scores["public"], scores["private"])[0]), 4),
        "median_public_minus_private": round(float(shift.median()), 5),
        "median_optimism": round(float(sign * shift.median()), 5),
        "shift_5_95": [round(float(v), 5) for v in np.percentile(sign * shift, [5, 95])],
        "top_spread": round(float(ordered[0] - ordered[min(top, len(ordered)) - 1]), 5),
        "top": min(top, len(ordered)),
        "winner_private_rank": int(best_private.iloc[leader]),
        "higher_is_better": bool(higher_is_better),
    }


def plot_attack(curves: pd.DataFrame, halfwidth: float, level: str):
    """Mean optimism (points) of the open attack (holdout, fresh) and of the attack on the Ladder,
    over seeds (band: min to max over seeds), against the number of queries."""
    import matplotlib.pyplot as plt

    from reliable_ml.util.plots import source_caption

    by_q = curves.groupby(level="queries")
    fig, ax = plt.subplots()
    for col, label, style in (
        ("holdout_optimism", "open board: holdout score", "o-"),
        ("fresh_optimism", "open board: fresh points", "s-"),
        ("ladder_holdout_optimism", "Ladder: score it shows", "^-"),
    ):
        mean = by_q[col].mean()
        (line,) = ax.plot(mean.index, mean, style, ms=4, label=label)
        ax.fill_between(mean.index, by_q[col].min(), by_q[col].max(), color=line.get_color(), alpha=0.2)
    ax.axhspan(-100 * halfwidth, 100 * halfwidth, color="0.5", alpha=0.15, label=f"{level} sampling interval")
    n_seeds = curves.index.get_level_values("seed").nunique()
    ax.set(
        xscale="log",
        xlabel="number of adaptive queries q",
        ylabel="optimism: score - true accuracy (points)",
        title="Boosting attack on a holdout of random labels",
    )
    ax.legend()
    source_caption(
        fig,
        "simulation: random +-1 labels and random classifiers (after Blum & Hardt 2015)",
        f"lines: mean over {n_seeds} seeds; bands: min to max over seeds",
    )
    return fig


def plot_kaggle(summary: pd.DataFrame, source: str):
    """Per competition: the median public - private shift (turned so that > 0 means the public board
    flattered) next to the spread among the top teams on the private board, both in metric units
    divided by that spread."""
    import matplotlib.pyplot as plt

    from reliable_ml.util.plots import source_caption

    s = summary.sort_values("spearman")
    ratio = s["median_optimism"] / s["top_spread"]
    fig, ax = plt.subplots(figsize=(6.4, 0.35 * len(s) + 1.5))
    ax.barh(range(len(s)), ratio, color=np.where(ratio > 0, "C3", "C0"))
    ax.axvline(0, color="0.3", lw=1)
    for x in (-1, 1):
        ax.axvline(x, color="0.5", lw=1, ls="--")
    ax.set_yticks(
        range(len(s)),
        [f"{n} (rho {r:.2f}, n = {t})" for n, r, t in zip(s.index, s["spearman"], s["teams"])],
        fontsize=8,
    )
    ax.set(
        xlabel="median public - private shift / spread of the top private scores\n(> 0: public board flattered)",
        title="Medical Kaggle competitions: shift vs the top teams' spread",
    )
    source_caption(fig, source, "teams with >= 2 entries on both boards, public score > 0 (plot_kaggle.py's rule)")
    return fig


KAGGLE_NUMBERS = (
    "kg_n",
    "kg_flattered",
    "kg_small",
    "kg_rho_med",
    "kg_rho_min",
    "kg_rho_max",
    "kg_leader_top3",
    "kg_leader_med",
    "kg_teams_min",
    "kg_teams_max",
    "kg_n_two",
    "kg_n_one",
    "kg_flattered_one",
    "kg_rho_med_one",
    "kg_leader_med_one",
    "kg_leader_top3_one",
)


def kaggle_numbers(summary: pd.DataFrame | None, two_stage=()) -> tuple[dict | None, dict | None, dict]:
    """Results (``kaggle_medical`` per competition, ``kaggle_medical_summary``) and the flat prose
    numbers (``kg_*``) of chapter 01's medical Kaggle section; ``summary`` holds one
    :func:`board_summary` per competition (rows) plus ``metric``. ``None`` (data missing): NaNs.

    Competitions in ``two_stage`` (the two-stage boards of
    :func:`reliable_ml.shift.kaggle_overfitting.classify_stages`) are flagged and kept out of the
    ``*_one`` numbers, which describe the boards whose public and private parts split one test set.
    These numbers describe the boards; they test nothing (the sign of the median team's shift
    cannot test adaptive overfitting: see :func:`reliable_ml.shift.kaggle_overfitting.roelofs_test`).
    ``kg_leader_ranks_one``: each one-stage leader's private rank as "r of N" (N teams).
    """
    if summary is None:
        return (
            None,
            None,
            {
                **{k: float("nan") for k in KAGGLE_NUMBERS},
                "kg_leader_ranks_one": "(not available)",
                "kg_two_stage_names": "(not available)",
            },
        )
    summary = summary.assign(two_stage=[n in set(two_stage) for n in summary.index])
    opt, spread = summary["median_optimism"].astype(float), summary["top_spread"].astype(float)
    rho, rank = summary["spearman"].astype(float), summary["winner_private_rank"].astype(float)
    flattered, small = opt > 0, opt.abs() < spread
    share = float(flattered.mean())
    one = ~summary["two_stage"]
    k_one, n_one = int(flattered[one].sum()), int(one.sum())
    per = {
        n: {
            k: r[k]
            for k in (
                "metric",
                "teams",
                "spearman",
                "median_public_minus_private",
                "winner_private_rank",
                "median_optimism",
                "top_spread",
                "shift_5_95",
                "higher_is_better",
                "two_stage",
            )
        }
        for n, r in summary.iterrows()
    }
    overall = {
        "competitions": int(len(summary)),
        "two_stage": sorted(summary.index[summary["two_stage"]]),
        "share_public_flattered_pct": round(100 * share, 1),
        "share_public_flattered_pct_one_stage": round(100 * k_one / n_one, 1) if n_one else None,
        "share_shift_below_top_spread_pct": round(100 * float(small.mean()), 1),
        "median_spearman": round(float(rho.median()), 4),
        "leader_private_rank_median": float(rank.median()),
        "note": "a few medical-imaging competitions (Varoquaux & Cheplygina 2022), not Roelofs et al.'s "
        "over one hundred; two-stage boards score different test sets in public and in private",
    }
    ranks = ", ".join(f"{int(rank[n])} of {int(summary.loc[n, 'teams'])}" for n in summary.index[one]) or "none"
    numbers = {
        "kg_leader_ranks_one": ranks,
        "kg_n": len(summary),
        "kg_flattered": int(flattered.sum()),
        "kg_small": int(small.sum()),
        "kg_rho_med": float(rho.median()),
        "kg_rho_min": float(rho.min()),
        "kg_rho_max": float(rho.max()),
        "kg_leader_top3": int((rank <= 3).sum()),
        "kg_leader_med": float(rank.median()),
        "kg_teams_min": int(summary["teams"].min()),
        "kg_teams_max": int(summary["teams"].max()),
        "kg_n_two": int(summary["two_stage"].sum()),
        "kg_two_stage_names": ", ".join(summary.index[summary["two_stage"]]) or "none",
        "kg_n_one": n_one,
        "kg_flattered_one": k_one,
        "kg_rho_med_one": float(rho[one].median()) if n_one else float("nan"),
        "kg_leader_med_one": float(rank[one].median()) if n_one else float("nan"),
        "kg_leader_top3_one": int((rank[one] <= 3).sum()),
    }
    return per, overall, numbers
