"""Adaptive overfitting on Kaggle leaderboards: which boards can test it, and Roelofs et al.'s test.

A Kaggle competition scores submissions on a *public* part of its test set while it runs and
ranks teams on the *private* rest at the end. Only when the two boards split **one** test set is
the public-to-private change a measure of how much the public part was overfitted. In a
**two-stage** competition the private board scores a second test set, released at the end
(sometimes after the labels of the first were published), so the change mixes a shift between
test sets into it. :func:`classify_stages` sorts the boards; :func:`roelofs_test` and
:func:`roelofs_pooled` ask Roelofs et al.'s question (Roelofs et al. 2019, "A meta-analysis of
overfitting in machine learning", NeurIPS): do the submissions that the public board selected
(its top) fall *below* the relation between public and private scores that the whole field
follows? Without adaptive overfitting, selecting on the public score only selects noise, which
a fit of private on public over all teams already absorbs (regression to the mean), so the top
teams' residuals from that fit are zero on average; overfitting of the public part would make
the top teams' private scores fall short of it.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd

#: The best value a score can take, by metric (names as in ``meta_data.csv``, lower case): a
#: public score at this value on hundreds of test cases means the answers were known.
PERFECT_SCORE = {"logloss": 0.0, "log loss": 0.0, "mae": 0.0, "rmse": 0.0, "mse": 0.0}

#: Competitions documented as two-stage, from memory of their Kaggle pages (**unverified**: the
#: pages are not in the data here). Each entry says what we remember.
DOCUMENTED_TWO_STAGE = {
    "data-science-bowl-2017": "Data Science Bowl 2017: stage 1 test labels were released at the start "
    "of stage 2, and the private board scored a new stage-2 test set (from memory, unverified)",
    "2021-rsna-intracranial": "RSNA Intracranial Hemorrhage Detection (2019): two stages, stage-1 test "
    "labels released, private board on a stage-2 test set (from memory, unverified)",
    "2021-rsna-pneumonia": "RSNA Pneumonia Detection (2018): two stages, private board on a new "
    "stage-2 test set (from memory, unverified)",
    "siim-acr-pneumothorax-segmentation": "SIIM-ACR Pneumothorax Segmentation (2019): two stages, "
    "private board on a new stage-2 test set (from memory, unverified)",
}


def classify_stages(
    public: pd.DataFrame, private: pd.DataFrame, metric: str, higher_is_better: bool, documented: str | None = None
) -> dict:
    """One-stage or two-stage, from the boards and, where known, the competition's rules.

    ``public``/``private``: the full boards (``team``, ``score``), before any filtering.
    Board evidence of a second test set: teams with a **perfect public score** (0 log loss or
    MAE: :data:`PERFECT_SCORE` of ``metric``; a lower-is-better metric not listed there is taken
    as an error, perfect at 0) while no private score is perfect. Nobody scores 0 loss on a
    hidden medical test set: the public set's labels were known, so the public board scored a
    released first stage. ``documented``: what the rules say (text), which makes the board
    two-stage on its own. Higher-is-better metrics have no known perfect value here, so for them
    only ``documented`` can say two-stage. Returns ``{"class": "one-stage" | "two-stage",
    "perfect_public", "perfect_private", "evidence": [...]}``; "one-stage" means only that
    nothing here says otherwise.
    """
    for name, board in (("public", public), ("private", private)):
        if not {"team", "score"} <= set(board.columns):
            raise ValueError(f"{name} board needs columns team and score; got {list(board.columns)}")
    key = str(metric).strip().lower()
    perfect = PERFECT_SCORE.get(key, None if higher_is_better else 0.0)
    n_pub = n_priv = 0
    evidence = []
    if perfect is not None:
        n_pub = int(np.isclose(public["score"].astype(float), perfect).sum())
        n_priv = int(np.isclose(private["score"].astype(float), perfect).sum())
        if n_pub and not n_priv:
            evidence.append(
                f"{n_pub} public score(s) at the perfect value {perfect:g} ({metric}), none on the private "
                "board: the public test set's labels were known (a released first stage)"
            )
    if documented:
        evidence.append(documented)
    two = bool(evidence)
    return {
        "class": "two-stage" if two else "one-stage",
        "perfect_public": n_pub,
        "perfect_private": n_priv,
        "evidence": evidence or ["no perfect public scores; no two-stage rule known to us"],
    }


def _oriented(scores: pd.DataFrame, higher_is_better: bool) -> tuple[np.ndarray, np.ndarray]:
    if not {"public", "private"} <= set(scores.columns):
        raise ValueError(f"scores need columns public and private; got {list(scores.columns)}")
    sign = 1.0 if higher_is_better else -1.0
    u, v = sign * scores["public"].to_numpy(float), sign * scores["private"].to_numpy(float)
    if not (np.isfinite(u).all() and np.isfinite(v).all()):
        raise ValueError("public and private scores must be finite")
    return u, v


def top_residual(u: np.ndarray, v: np.ndarray, top: int, field_share: float = 1.0) -> tuple[float, float]:
    """Mean residual of the ``top`` teams by public score from the least-squares line of private
    (``v``) on public (``u``) over the field, and the field's residual standard deviation.

    Scores are oriented so that higher is better; the residual of team i is
    v_i - (a + b u_i), with (a, b) the OLS fit over the field: every team (``field_share`` 1) or
    the ``field_share`` of teams with the best public scores (0.5: the upper half, which a
    straight line fits better when the relation curves among the weak teams). A negative mean
    means the publicly selected teams score *less* in private than the field's relation predicts.
    """
    if not 0 < field_share <= 1:
        raise ValueError(f"field_share must lie in (0, 1]; got {field_share!r}")
    order = np.argsort(-np.asarray(u, float), kind="stable")
    m = max(3, int(np.ceil(field_share * len(order))))
    u, v = np.asarray(u, float)[order[:m]], np.asarray(v, float)[order[:m]]
    n = len(u)
    if not 1 <= top < n or n < 3:
        raise ValueError(f"need at least 3 teams in the field and 1 <= top < teams; got top={top!r}, teams={n}")
    uc = u - u.mean()
    var = (uc**2).sum()
    b = (uc * (v - v.mean())).sum() / var if var > 0 else 0.0
    resid = v - v.mean() - b * uc  # u is sorted best first
    return float(resid[:top].mean()), float(resid.std(ddof=2))


def top_count(teams: int, top: int) -> int:
    """The publicly selected teams of a board: its top tenth, at least 1 and at most ``top``."""
    return int(min(top, max(1, int(np.ceil(teams / 10)))))


#: replicates of a :func:`roelofs_test` from which they are kept in the result cache (each is a refit)
ROELOFS_CACHE_MIN_REPLICATES = 1000


def roelofs_test(
    scores: pd.DataFrame,
    higher_is_better: bool,
    *,
    top: int = 10,
    field_share: float = 1.0,
    n_boot: int = 2000,
    alpha: float = 0.05,
    seed=0,
) -> dict:
    """Do the public board's top teams fall below the field's public-to-private relation?

    ``scores``: one row per team (``public``, ``private``). The statistic is :func:`top_residual`
    of the :func:`top_count` best public scores, in metric units oriented so that negative means
    the selected teams fell short in private (the signature of adaptive overfitting), against the
    line fitted over ``field_share`` of the teams (1: all, the test as stated in advance); ``z``
    is it divided by the field's residual standard deviation (for pooling over metrics).
    Interval: percentile bootstrap over teams (:func:`reliable_ml.stats.bootstrap_replicates`:
    each replicate redraws the teams with replacement, refits the line and re-selects the top of
    the redrawn board). Verdict against 0 by :func:`reliable_ml.stats.against_reference`. After
    Roelofs et al. 2019, who set each competition's selected submissions against its
    public-private relation.
    """
    from reliable_ml import stats

    if n_boot < 100:
        raise ValueError(f"n_boot must be >= 100 for a percentile interval; got {n_boot}")
    u, v = _oriented(scores, higher_is_better)
    k = top_count(len(u), top)
    point, sd = top_residual(u, v, k, field_share)

    def residual_and_z(idx: np.ndarray) -> tuple[float, float]:
        r, s = top_residual(u[idx], v[idx], k, field_share)
        return r, r / s if s > 0 else np.nan

    import sys

    from reliable_ml.util import result_cache

    # a refit per replicate: many replicates are kept in the result cache, keyed by the scores, the
    # settings and the code (an int seed only: a Generator's state is not a key)
    whole_seed = isinstance(seed, (int, np.integer))
    reps = result_cache.cached_arrays(
        "roelofs_test",
        {
            "function": "roelofs_test",
            "top": k,
            "field_share": float(field_share),
            "n_boot": int(n_boot),
            "seed": int(seed) if whole_seed else None,
        },  # fmt: skip
        lambda: {"reps": stats.bootstrap_replicates(residual_and_z, len(u), n_boot=n_boot, seed=seed)},
        arrays=(u, v),
        code=(sys.modules[__name__], stats),
        enabled=whole_seed and n_boot >= ROELOFS_CACHE_MIN_REPLICATES,
    )["reps"]
    lo, hi = np.quantile(reps[:, 0], [alpha / 2, 1 - alpha / 2])
    zlo, zhi = np.nanquantile(reps[:, 1], [alpha / 2, 1 - alpha / 2])
    lo, hi = min(lo, point), max(hi, point)
    verdict = stats.against_reference(point, (lo, hi), 0.0, alpha=alpha)
    return {
        "teams": int(len(u)),
        "top": k,
        "field_share": float(field_share),
        "top_residual": point,
        "ci": [float(lo), float(hi)],
        "field_residual_sd": sd,
        "z": point / sd if sd > 0 else float("nan"),
        "z_ci": [float(zlo), float(zhi)],
        "n_boot": int(n_boot),
        "verdict_vs_0": asdict(verdict),
        "_z_reps": reps[:, 1],
    }


def roelofs_pooled(tests: dict, alpha: float = 0.05) -> dict:
    """The mean standardized top residual (``z``) over competitions, equal weights, with two
    intervals. ``ci_teams``: a percentile interval from the per-competition bootstraps (replicate
    i of every competition averaged: teams resampled within each competition, the competitions
    held fixed). ``ci`` (the verdict's): the one-sample t interval over the competitions' z values
    (:func:`reliable_ml.stats.t_interval`), which treats the competitions as a sample and so
    carries the between-competition spread; it holds the within-board team noise too, as each
    z carries it. Neither resamples the split of a board's test images into public and
    private parts (the boards list no per-image scores). With one competition only the teams'
    interval exists and is the verdict's.
    ``tests``: name -> :func:`roelofs_test` result (with its replicates)."""
    from reliable_ml import stats

    if not tests:
        raise ValueError("need at least one competition")
    reps = np.stack([t["_z_reps"] for t in tests.values()])
    if len({len(t["_z_reps"]) for t in tests.values()}) != 1:
        raise ValueError("every competition's bootstrap must have the same number of replicates")
    zs = np.array([t["z"] for t in tests.values()], dtype=float)
    point = float(np.mean(zs))
    pooled = np.nanmean(reps, axis=0)
    lo, hi = np.quantile(pooled, [alpha / 2, 1 - alpha / 2])
    ci_teams = [float(lo), float(hi)]
    if len(zs) >= 2:
        t = stats.t_interval(zs, alpha)
        ci, how = t["ci"], f"t interval over the {len(zs)} competitions' z values (df {len(zs) - 1})"
    else:
        ci, how = ci_teams, "percentile bootstrap over teams (one competition: no between-competition interval)"
    verdict = stats.against_reference(point, (min(ci[0], point), max(ci[1], point)), 0.0, alpha=alpha)
    return {
        "competitions": sorted(tests),
        "mean_z": point,
        "ci": [float(ci[0]), float(ci[1])],
        "ci_method": how,
        "ci_teams": ci_teams,
        "ci_teams_method": "percentile bootstrap over teams within each board, boards fixed",
        "not_resampled": "the public/private split of each board's test images (no per-image data)",
        "weights": "equal per competition",
        "verdict_vs_0": asdict(verdict),
    }


#: a pooled interval whose bound lies within this many sd of 0 is called marginal (stats.margin_words)
MARGINAL_SD = 0.1

#: words for a top residual against 0: (above, below, cannot tell)
ROELOFS_WORDS = (
    "score above the field's public-to-private line in private",
    "fall below the field's public-to-private line in private",
    "cannot be told from the field's public-to-private line",
)


def public_results(test: dict) -> dict:
    """A :func:`roelofs_test` result without its bootstrap replicates (for the results file)."""
    return {k: v for k, v in test.items() if not k.startswith("_")}


#: the fields the line is fitted over: name -> share of the teams (best public scores first)
FIELDS = {"all": 1.0, "upper_half": 0.5}

ROELOFS_NUMBERS = (
    "rt_n",
    "rt_all_z",
    "rt_all_lo",
    "rt_all_hi",
    "rt_up_z",
    "rt_up_lo",
    "rt_up_hi",
    "rt_all_below",
    "rt_up_below",
    "rt_min_teams",
    "rt_df",
    "rt_up_above",
    "rt_all_tlo",
    "rt_all_thi",
    "rt_up_tlo",
    "rt_up_thi",
)


def roelofs_report(
    boards: dict | None,
    higher_is_better: dict | None,
    classes: dict | None,
    *,
    top: int = 10,
    min_teams: int = 10,
    n_boot: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[dict | None, dict]:
    """Chapter 01's Roelofs test: :func:`roelofs_test` per competition over both :data:`FIELDS`,
    and :func:`roelofs_pooled` over the one-stage competitions (``classes[name]["class"]``) with
    at least ``min_teams`` teams. ``None`` (data missing): ``(None, NaN numbers)``.

    Returns ``(results, numbers)``: ``results`` = ``{"per_competition": {name: {field: test}},
    "pooled": {field: pooled}, "excluded_two_stage", "excluded_small", ...}``; ``numbers`` the
    prose's ``rt_*`` values and the verdict words ``rt_all_words``, ``rt_up_words``.
    """
    from reliable_ml import stats

    if boards is None:
        nan = {k: float("nan") for k in ROELOFS_NUMBERS}
        return None, {
            **nan,
            "rt_all_words": "(not available)",
            "rt_all_margin_words": "(not available)",
            "rt_up_words": "(not available)",
            "rt_up_above_words": "(not available)",
            "rt_names": "(not available)",
            "rt_small": "(not available)",
        }
    if min_teams < 3:
        raise ValueError(f"min_teams must be >= 3; got {min_teams}")
    per, kept = {}, {f: {} for f in FIELDS}
    small, two = [], []
    for i, (name, scores) in enumerate(sorted(boards.items())):
        if len(scores) < 3:
            continue
        tests = {
            f: roelofs_test(
                scores, higher_is_better[name], top=top, field_share=share, n_boot=n_boot, alpha=alpha, seed=seed + i
            )
            for f, share in FIELDS.items()
        }
        per[name] = {"class": classes[name]["class"], **{f: public_results(t) for f, t in tests.items()}}
        if classes[name]["class"] == "two-stage":
            two.append(name)
        elif len(scores) < min_teams:
            small.append(name)
        else:
            for f, t in tests.items():
                kept[f][name] = t
    if not kept["all"]:  # nothing to pool (a quick run on small boards): per competition only
        nan = {k: float("nan") for k in ROELOFS_NUMBERS}
        return {
            "per_competition": per,
            "pooled": None,
            "excluded_two_stage": sorted(two),
            "excluded_small": sorted(small),
        }, {
            **nan,
            "rt_all_words": "(no board to pool)",
            "rt_all_margin_words": "(no board to pool)",
            "rt_up_words": "(no board to pool)",
            "rt_up_above_words": "(no board to pool)",
            "rt_names": "none",
            "rt_small": ", ".join(sorted(small)) or "none",
        }
    pooled = {f: roelofs_pooled(kept[f], alpha) for f in FIELDS}
    results = {
        "per_competition": per,
        "pooled": pooled,
        "pooled_over": sorted(kept["all"]),
        "excluded_two_stage": sorted(two),
        "excluded_small": sorted(small),
        "min_teams": int(min_teams),
        "top": f"the top tenth of each board by public score, at most {top} teams",
        "statistic": "mean residual of the publicly selected teams from the OLS line of private on public "
        "score (oriented: higher is better; < 0: below the line); z: divided by the field's residual sd",
        "interval": f"per board: percentile bootstrap over teams ({n_boot} replicates), refit and reselect per "
        "replicate; pooled: t interval over the boards' z values (the verdict's), teams' bootstrap beside it; "
        "the public/private image split not resampled (no per-image data)",
        "source": "after Roelofs et al. 2019 (selected submissions against the public-private relation)",
    }
    words = {
        f: stats.phrase(
            stats.Verdict(**{**p["verdict_vs_0"], "interval": tuple(p["verdict_vs_0"]["interval"])}),
            *ROELOFS_WORDS,
            scale=1.0,
            unit="sd",
            digits=2,
        )
        for f, p in pooled.items()
    }
    numbers = {
        "rt_n": len(kept["all"]),
        "rt_names": ", ".join(sorted(kept["all"])),
        "rt_small": ", ".join(sorted(small)) or "none",
        "rt_min_teams": int(min_teams),
        "rt_all_z": pooled["all"]["mean_z"],
        "rt_all_lo": pooled["all"]["ci"][0],
        "rt_all_hi": pooled["all"]["ci"][1],
        "rt_all_tlo": pooled["all"]["ci_teams"][0],
        "rt_all_thi": pooled["all"]["ci_teams"][1],
        "rt_up_z": pooled["upper_half"]["mean_z"],
        "rt_up_lo": pooled["upper_half"]["ci"][0],
        "rt_up_hi": pooled["upper_half"]["ci"][1],
        "rt_up_tlo": pooled["upper_half"]["ci_teams"][0],
        "rt_up_thi": pooled["upper_half"]["ci_teams"][1],
        "rt_all_below": sum(per[n]["all"]["verdict_vs_0"]["direction"] == "lower" for n in kept["all"]),
        "rt_up_below": sum(per[n]["upper_half"]["verdict_vs_0"]["direction"] == "lower" for n in kept["all"]),
        "rt_all_words": words["all"],
        "rt_all_margin_words": stats.margin_words(pooled["all"]["ci"], 0.0, MARGINAL_SD, unit="sd"),
        "rt_df": len(kept["all"]) - 1,
        "rt_up_words": words["upper_half"],
        "rt_up_above": sum(per[n]["upper_half"]["verdict_vs_0"]["direction"] == "higher" for n in kept["all"]),
        "rt_up_above_words": above_words({n: per[n]["upper_half"] for n in kept["all"]}),
    }
    return results, numbers


def above_words(tests: dict) -> str:
    """The boards whose publicly selected teams sit significantly *above* the line
    (:func:`roelofs_test` verdict "higher"), each with its z and bootstrap interval of z, as a
    clause; "no board's selected teams sit significantly above it" when there are none."""
    above = [(n, t) for n, t in sorted(tests.items()) if t["verdict_vs_0"]["direction"] == "higher"]
    if not above:
        return "no board's selected teams sit significantly above it"
    parts = [f"{n} (z = {t['z']:+.2f}, 95% interval {t['z_ci'][0]:+.2f} to {t['z_ci'][1]:+.2f})" for n, t in above]
    return f"the selected teams of {', '.join(parts)} sit significantly above it"


def plot_roelofs(results: dict, source: str):
    """Per competition, the publicly selected teams' standardized residual (z) from the line
    through all teams and through the upper half, with its bootstrap interval; two-stage boards
    greyed out."""
    import matplotlib.pyplot as plt

    from reliable_ml.util.plots import source_caption

    per = results["per_competition"]
    names = sorted(per, key=lambda n: (per[n]["class"], n))
    fig, ax = plt.subplots(figsize=(6.4, 0.4 * len(names) + 1.6))
    for j, (field, label) in enumerate(
        (("all", "line through all teams (the test)"), ("upper_half", "upper half (post hoc)"))
    ):
        for i, n in enumerate(names):
            t = per[n][field]
            sd = t["field_residual_sd"]
            lo, hi = (v / sd for v in t["ci"]) if sd > 0 else (np.nan, np.nan)
            color = "0.6" if per[n]["class"] == "two-stage" else f"C{j}"
            ax.errorbar(
                t["z"],
                i + 0.2 * (j - 0.5),
                xerr=[[t["z"] - lo], [hi - t["z"]]],
                fmt="o",
                ms=4,
                color=color,
                label=label if i == len(names) - 1 else None,
            )
    ax.axvline(0, color="0.3", lw=1)
    ax.set_yticks(
        range(len(names)), [f"{n} ({per[n]['class']}, {per[n]['all']['teams']} teams)" for n in names], fontsize=7
    )
    ax.set(
        xlabel="selected teams' private score minus the field's line (field residual sd)\n(< 0: below the line)",
        title="Roelofs et al.'s test on medical Kaggle boards",
    )
    ax.legend(fontsize=7)
    source_caption(
        fig, source, "top tenth by public score (at most 10 teams); 95% bootstrap over teams; grey: two-stage"
    )
    return fig
