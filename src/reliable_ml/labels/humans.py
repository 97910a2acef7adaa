"""Chapter 03's analyses and figures: humans next to models.

* :func:`testbed_figure`: ImageNet models on ImageNet vs ImageNetV2 (the testbed), with a probit line.
* :func:`agreement_figure`: model accuracy per bin of human agreement (CIFAR-10H).
* :func:`hesitation_summary`: do models fail where humans hesitate, and where do they fail alone?
* :func:`image_picks` / :func:`images_figure`: the images of both kinds.
* :func:`labeler_rows` / :func:`plane_figure`: the reader's labeling sessions next to a zoo (MNIST).
* :func:`shankar_drops` / :func:`shankar_figure`: Shankar et al. 2020's labelers and models on
  ImageNet vs ImageNetV2, from their printed results (:mod:`reliable_ml.data.human_accuracy`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from reliable_ml import stats
from reliable_ml.util import plots

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def testbed_figure(testbed: pd.DataFrame, column: str = "imagenetv2-matched-frequency-format-val"):
    """Each testbed model's ImageNet vs ImageNetV2 top-1 with the course's probit line
    (:func:`reliable_ml.shift.line.fit_line`) fitted over the declared model set: the testbed's
    standard models with at least :data:`reliable_ml.shift.line.MIN_ACCURACY` % on ImageNet val.
    Returns ``(fig, fit, frame)``, ``fit`` a :class:`reliable_ml.stats.LineFit`."""
    from reliable_ml.shift import effective_robustness as er
    from reliable_ml.shift import line

    both = testbed.dropna(subset=["val", column])
    x, y = both["val"].to_numpy() / 100, both[column].to_numpy() / 100
    names = both["model"] if "model" in both.columns else both.index
    std = np.array([er.model_group(str(n)).group == "standard" for n in names])
    fitted = line.fit_line(100 * x[std], 100 * y[std])
    fit = stats.LineFit(fitted.slope, fitted.intercept, fitted.r2, fitted.n)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.scatter(100 * x, 100 * y, s=12, alpha=0.6, label=f"ImageNet models (n = {len(both)})")
    grid = np.linspace(line.MIN_ACCURACY / 100, x.max(), 100)
    label = f"probit fit over the {fit.n} {line.MODEL_SET}\n(slope {fit.slope:.3f}, r² = {fit.r2:.2f})"
    ax.plot(100 * grid, 100 * fit.predict(grid), color="C1", label=label)
    ax.axvline(line.MIN_ACCURACY, ls=":", color="C2", lw=1, label=f"fitting floor {line.MIN_ACCURACY:.0f}%")
    plots.identity_line(ax)
    ax.set(
        xlabel="ImageNet top-1 accuracy (%)",
        ylabel="ImageNetV2 MatchedFrequency top-1 (%, testbed re-evaluation)",
        title="Models lose accuracy on ImageNetV2 (no human data here)",
    )
    ax.legend(loc="upper left", fontsize=8)
    plots.source_caption(fig, "ImageNet testbed robustness_top1s.csv (Taori et al. 2020)")
    return fig, fit, both


def agreement_figure(tables: dict[str, pd.DataFrame], src: str) -> plt.Figure:
    """Model accuracy (%) per human-agreement bin, one line per model (group)."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for name, t in tables.items():
        ax.plot(range(len(t)), t["model accuracy (%)"], "o-", label=name)
    first = next(iter(tables.values()))
    ax.set_xticks(range(len(first)), [f"{i}\n(n = {n:,})" for i, n in zip(first.index, first["images"])], fontsize=8)
    ax.set(
        xlabel="human agreement with the original label (share of CIFAR-10H annotators)",
        ylabel="model accuracy (%)",
        title="Models fail where humans hesitate",
    )
    ax.legend(fontsize=8)
    plots.source_caption(fig, src)
    return fig


def hesitation_summary(agree: np.ndarray, correct: np.ndarray, hesitant: float = 0.9, unanimous: float = 0.999) -> dict:
    """For per-image human agreement ``agree (N,)`` and model correctness ``correct (N,)``:
    the share of images where humans hesitate (agreement < ``hesitant``), the share of the
    model's errors that fall there, the model's error rate on hesitant and on unanimous images
    (agreement >= ``unanimous``), and how many errors are on unanimous images (it fails alone)."""
    agree, wrong = np.asarray(agree, float), ~np.asarray(correct, bool)
    h, u = agree < hesitant, agree >= unanimous
    return {
        "hesitant_share_pct": 100 * float(h.mean()),
        "errors_on_hesitant_pct": 100 * float(wrong[h].sum() / max(1, wrong.sum())),
        "error_rate_hesitant_pct": 100 * float(wrong[h].mean()) if h.any() else float("nan"),
        "error_rate_unanimous_pct": 100 * float(wrong[u].mean()) if u.any() else float("nan"),
        "errors_unanimous": int(wrong[u].sum()),
        "errors": int(wrong.sum()),
    }


def image_picks(agree: np.ndarray, wrong_all: np.ndarray, n: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    """Indices of ``n`` images where every given model is wrong (``wrong_all``) and humans
    hesitate most, and ``n`` random images where every model is wrong but humans are unanimous."""
    rng = np.random.default_rng(seed)
    cand = np.flatnonzero(wrong_all)
    hesitate = cand[np.argsort(agree[cand], kind="stable")[:n]]
    alone = np.flatnonzero(wrong_all & (agree >= 0.999))
    return {"hesitate": hesitate, "alone": np.sort(rng.choice(alone, min(n, len(alone)), replace=False))}


def images_figure(
    x_uint8: np.ndarray,
    idx: np.ndarray,
    labels: np.ndarray,
    votes: np.ndarray,
    agree: np.ndarray,
    pred: np.ndarray,
    title: str,
    src: str,
) -> plt.Figure:
    """A grid of CIFAR-10 test images titled 'label (human %) / model: prediction'."""
    c = CIFAR10_CLASSES
    titles = [f"{c[labels[i]]} ({100 * agree[i]:.0f}%)\nmodel: {c[pred[i]]}" for i in idx]
    fig = plots.image_grid(np.asarray(x_uint8)[idx], titles, ncols=8, scale=1.2, suptitle=title)
    plots.source_caption(fig, src, "title: original label (share of annotators who chose it) / model's prediction")
    return fig


def labeler_rows(human: pd.DataFrame) -> list[dict]:
    """Per labeler with answers on both populations: accuracy, interval and answers per source."""
    rows = []
    for who, g in human.groupby("labeler"):
        g = g.set_index("source")
        if {"employee", "student"} <= set(g.index) and g["answered"].min() > 0:
            rows.append(
                {
                    "labeler": who,
                    **{
                        f"{src}_{k}": float(g.loc[src, k])
                        for src in ("employee", "student")
                        for k in ("accuracy", "ci_low", "ci_high", "answered")
                    },
                }
            )
    return rows


def plane_figure(zoo_points: pd.DataFrame, rows: list[dict], src: str) -> plt.Figure:
    """MNIST zoo (employees' vs students' digits) with the reader's sessions and their intervals."""
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.scatter(100 * zoo_points["employee"], 100 * zoo_points["student"], s=25, label="MNIST zoo models")
    for r in rows:
        e, s = r["employee_accuracy"], r["student_accuracy"]
        ax.errorbar(
            100 * e,
            100 * s,
            xerr=[[100 * (e - r["employee_ci_low"])], [100 * (r["employee_ci_high"] - e)]],
            yerr=[[100 * (s - r["student_ci_low"])], [100 * (r["student_ci_high"] - s)]],
            fmt="s",
            color="C3",
            capsize=3,
            label=f"labeler {r['labeler']}",
        )
    plots.identity_line(ax)
    ax.set(
        xlabel="accuracy on Census employees' digits (%)",
        ylabel="accuracy on high-school students' digits (%)",
        title="MNIST: models" + (" and your labeling sessions" if rows else " (no labeling sessions saved yet)"),
    )
    ax.legend(loc="upper left")
    plots.source_caption(fig, src)
    return fig


# ----------------------------------------------------------------------------- Shankar et al. 2020
SHANKAR_SOURCE = (
    "printed outputs of generate_main_plots.ipynb, Shankar et al. 2020 (multi-label accuracy; "
    "60 of the 80 table rows visible)"
)
PUBLISHED_BEST_MODEL_DROP = 5.4  # points; Shankar et al. 2020, ICML pre-proceedings abstract (unverified here)


def shankar_kind(name: str) -> str:
    """``labeler``, ``human majority``, ``model majority``, ``model (more data)`` or ``model``
    (the notebook's own grouping: its ``get_user_type``)."""
    low = name.lower()
    if low == "human_majority":
        return "human majority"
    if "human" in low:
        return "labeler"
    if low == "model_majority":
        return "model majority"
    if low in ("fixresnext101_32x48d_v2", "instagram-48d", "instagram_model_48d"):
        return "model (more data)"
    return "model"


def shankar_drops(ha, subset: str = "all_images", alpha: float = 0.05, table: bool = False) -> pd.DataFrame:
    """Each classifier's drop ``val - v2`` (points) on ``subset`` with a (1 - alpha) Newcombe
    interval for two *independent* samples: the val and the ImageNetV2 images are different
    images, ``n_val`` and ``n_v2`` of them (:attr:`HumanAccuracy.n`), and every classifier,
    labelers included, answered all of them (the notebook drops a labeler with a missing
    answer). Counts are recovered as ``k = round(acc n)``. ``table=True`` adds the table's
    visible classifiers (2-decimal accuracies, all images only)."""
    if subset not in ha.n:
        raise ValueError(f"no image counts for subset {subset!r}; known: {sorted(ha.n)}")
    frame = ha.subsets[subset].copy()
    if table:
        if subset != "all_images":
            raise ValueError("the printed table holds all images only")
        extra = ha.table.loc[
            [
                n
                for n in ha.table.index
                if n not in frame.index and n not in {v for k, v in _aliases().items() if k in frame.index}
            ],
            ["val", "v2"],
        ]
        frame = pd.concat([frame, extra.astype(float)])
    n_val, n_v2 = ha.n[subset]
    k_val, k_v2 = np.round(frame["val"] / 100 * n_val), np.round(frame["v2"] / 100 * n_v2)
    lo, hi = stats.difference_interval(k_val, n_val, k_v2, n_v2, alpha)
    return pd.DataFrame(
        {
            "kind": [shankar_kind(n) for n in frame.index],
            "val": frame["val"],
            "v2": frame["v2"],
            "drop": frame["val"] - frame["v2"],
            "lo": 100 * lo,
            "hi": 100 * hi,
            "n_val": n_val,
            "n_v2": n_v2,
        },
        index=frame.index,
    )


def _aliases() -> dict:
    from reliable_ml.data.human_accuracy import ALIASES

    return ALIASES


def shankar_figure(ha, drops: dict[str, pd.DataFrame], alpha: float = 0.05) -> plt.Figure:
    """Left: the line plot on all images (the table's visible models, the notebook's printed
    fit, y = x) with the five labelers and their intervals. Right: every labeler's and the four
    printed models' drop with its interval, on all images and on each other subset in ``drops``."""
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 5.2), gridspec_kw={"width_ratios": [1.1, 1]})
    t = drops["all_images"]
    models = t[t["kind"].str.startswith("model") & (t["kind"] != "model majority") & (t["val"] > 70)]
    ax.scatter(models["val"], models["v2"], s=14, color="C0", alpha=0.7, label=f"models (n = {len(models)})")
    fit = ha.fits["all_images"]
    grid = np.linspace(models["val"].min() - 1, 100, 50)
    ax.plot(
        grid,
        fit["slope"] * grid + fit["intercept"],
        color="C0",
        lw=1,
        label=f"the notebook's line fit over its models (slope {fit['slope']:.2f})",
    )
    for who in ("labeler", "human majority"):
        h = t[t["kind"] == who]
        ax.scatter(
            h["val"],
            h["v2"],
            marker="s" if who == "labeler" else "D",
            s=40,
            zorder=3,
            color="C2" if who == "labeler" else "C4",
            label=f"the {len(h)} labelers" if who == "labeler" else who,
        )
    plots.identity_line(ax)
    ax.set_xlim(70, 100)
    ax.set_ylim(60, 100)
    ax.set(
        xlabel="ImageNet val, multi-label accuracy (%)",
        ylabel="ImageNetV2, multi-label accuracy (%)",
        title="All images: the labelers near y = x, the models below it",
    )
    ax.legend(loc="upper left", fontsize=8)
    names = list(ha.subsets["all_images"].index)  # the labelers and the four models printed per figure
    width = 0.8 / len(drops)
    for j, (subset, d) in enumerate(drops.items()):
        d = d.reindex(names)
        y = np.arange(len(names)) + (j - (len(drops) - 1) / 2) * width
        bx.errorbar(
            d["drop"],
            y,
            xerr=[d["drop"] - d["lo"], d["hi"] - d["drop"]],
            fmt="o",
            ms=4,
            capsize=2,
            color=f"C{j}",
            label=f"{subset.replace('_', ' ')} ({d['n_val'].iloc[0]} val + {d['n_v2'].iloc[0]} v2 images)",
        )
    bx.axvline(0, color="0.4", ls="--", lw=1)
    bx.set_yticks(np.arange(len(names)), names, fontsize=8)
    bx.invert_yaxis()
    bx.set(
        xlabel=f"drop, val minus ImageNetV2 (points, {100 * (1 - alpha):.0f}% interval)",
        title="Each labeler's and model's drop",
    )
    bx.legend(loc="upper right", fontsize=8)
    plots.source_caption(fig, SHANKAR_SOURCE)
    return fig


def _cannot_tell(rows: pd.DataFrame) -> int:
    """How many rows' drops the data cannot tell from zero (:func:`drop_verdict`, 95%)."""
    return int(sum(drop_verdict(r).direction == "cannot tell" for _, r in rows.iterrows()))


def shankar_results(ha, drops: dict[str, pd.DataFrame]) -> dict:
    """The ``human_accuracy_imagenet`` block of chapter 03's results from :func:`shankar_drops`
    (``drops["all_images"]`` with the table's models, ``drops["objects_only"]``). Drops are
    val minus v2 in points; intervals are the frames' ``lo``/``hi``; ``n`` the images per set."""

    def r(x):
        return round(float(x), 3)

    out = {"drop": {}, "object_only_drop": {}}
    for key, subset in (("drop", "all_images"), ("object_only_drop", "objects_only")):
        if subset in drops:
            out[key] = {n: r(v) for n, v in drops[subset]["drop"].items()}
    t = drops["all_images"]
    lab = t[t["kind"] == "labeler"]
    models = t[t["kind"].isin(["model", "model (more data)"])]
    med = lab["drop"].sort_values().index[len(lab) // 2]  # 5 labelers: the third
    best = models["val"].idxmax()
    out.update(
        {
            "labelers": {
                n: {"val": r(x["val"]), "v2": r(x["v2"]), "drop": r(x["drop"]), "ci": [r(x["lo"]), r(x["hi"])]}
                for n, x in lab.iterrows()
            },
            "n": {s: list(v) for s, v in ha.n.items()},
            "n_inferred": dict(ha.n_inferred),
            "table_rows": int(ha.table_rows),
            "table_rows_visible": int(len(ha.table)),
            "n_models_visible": int(len(models)),
            "median_labeler": med,
            "median_labeler_drop": r(lab.loc[med, "drop"]),
            "median_labeler_drop_ci": [r(lab.loc[med, "lo"]), r(lab.loc[med, "hi"])],
            "mean_labeler_drop": r(lab["drop"].mean()),
            "labelers_ci_containing_zero": _cannot_tell(lab),
            "max_labeler_drop_hi": r(lab["hi"].max()),
            "best_model": best,
            "best_model_val": r(models.loc[best, "val"]),
            "best_model_drop": r(models.loc[best, "drop"]),
            "best_model_drop_ci": [r(models.loc[best, "lo"]), r(models.loc[best, "hi"])],
            "min_model_drop": r(models["drop"].min()),
            "min_drop_model": models["drop"].idxmin(),
            "median_model_drop": r(models["drop"].median()),
            "models_ci_above_zero": int(sum(drop_verdict(r).direction == "higher" for _, r in models.iterrows())),
            "models_drop_below_max_labeler_hi": int((models["drop"] < lab["hi"].max()).sum()),
            "fit_all_images": {k: r(v) for k, v in ha.fits["all_images"].items()},
        }
    )
    if "objects_only" in drops:
        o = drops["objects_only"]
        olab, omod = o[o["kind"] == "labeler"], o[o["kind"].isin(["model", "model (more data)"])]
        omed = olab["drop"].sort_values().index[len(olab) // 2]
        obest = omod["val"].idxmax()
        out.update(
            {
                "object_only_median_labeler": omed,
                "object_only_median_labeler_drop": r(olab.loc[omed, "drop"]),
                "object_only_median_labeler_drop_ci": [r(olab.loc[omed, "lo"]), r(olab.loc[omed, "hi"])],
                "object_only_best_model": obest,
                "object_only_best_model_drop": r(omod.loc[obest, "drop"]),
                "object_only_best_model_drop_ci": [r(omod.loc[obest, "lo"]), r(omod.loc[obest, "hi"])],
                "object_only_labelers_ci_containing_zero": _cannot_tell(olab),
                "object_only_labelers_dropping": [
                    n for n in olab.index if drop_verdict(olab.loc[n]).direction != "cannot tell"
                ],
            }
        )
    return out


# ----------------------------------------------------------------------------- verdicts on the drops
def _counts(row: pd.Series) -> tuple[int, int, int, int]:
    """(k_val, n_val, k_v2, n_v2) of one :func:`shankar_drops` row: k = round(acc n)."""
    n_val, n_v2 = int(row["n_val"]), int(row["n_v2"])
    return int(round(row["val"] / 100 * n_val)), n_val, int(round(row["v2"] / 100 * n_v2)), n_v2


def drop_verdict(row: pd.Series, alpha: float = 0.05, margin: float | None = None) -> stats.Verdict:
    """Does one classifier score higher on val than on ImageNetV2 (a drop), lower, or can the
    data not tell? ``row``: a :func:`shankar_drops` row. Two independent samples of images:
    :func:`reliable_ml.stats.compare_counts` (Fisher exact, Newcombe interval, fractions).
    With ``margin`` (points): TOST of |drop| < margin (Schuirmann 1987) on the 1 - 2 alpha
    Newcombe interval; the verdict's ``margin_supported`` is the smallest margin (fraction) the
    data support."""
    k1, n1, k2, n2 = _counts(row)
    return stats.compare_counts(k1, n1, k2, n2, alpha=alpha, margin=None if margin is None else margin / 100)


def drop_difference(a: pd.Series, b: pd.Series, alpha: float = 0.05) -> stats.Verdict:
    """Is classifier a's drop larger than classifier b's? Two :func:`shankar_drops` rows.

    D = drop_a - drop_b with the MOVER interval (Zou & Donner 2008) built from the two
    (1 - alpha) Newcombe intervals (l, u) of the drops:
    lower = D - sqrt((d_a - l_a)^2 + (u_b - d_b)^2), upper = D + sqrt((u_a - d_a)^2 + (d_b - l_b)^2).
    It treats the two drops as independent. Both classifiers answered the same images, so their
    drops are positively correlated when they find the same images hard, and then this interval
    is wider than the truth (conservative); per-image answers, which would allow a paired
    interval, are not released. The verdict (:func:`reliable_ml.stats.against_reference`
    against 0) is in fractions."""
    rows = []
    for r in (a, b):
        k1, n1, k2, n2 = _counts(r)
        lo, hi = stats.difference_interval(k1, n1, k2, n2, alpha)
        rows.append((k1 / n1 - k2 / n2, float(lo), float(hi)))
    (da, la, ua), (db, lb, ub) = rows
    d = da - db
    lo = d - np.sqrt((da - la) ** 2 + (ub - db) ** 2)
    hi = d + np.sqrt((ua - da) ** 2 + (db - lb) ** 2)
    return stats.against_reference(d, (lo, hi), 0.0, alpha=alpha)


def mean_drop_bounds(labelers: pd.DataFrame, alpha: float = 0.05) -> dict:
    """The mean of the labelers' drops (points) and its standard error, bounded.

    The labelers answered the same images, so their drops are correlated with unknown
    correlations rho_ij >= 0 (per-image answers are not released). With each drop's standard
    error s_i = sqrt(p1 (1 - p1) / n1 + p2 (1 - p2) / n2) (Wald, two independent image sets),
    Var(mean) = (1 / m^2) sum_ij rho_ij s_i s_j lies between sum_i s_i^2 / m^2 (independent) and
    (mean_i s_i)^2 (every rho = 1): never above the average labeler's s. Returns both bounds,
    the (1 - alpha) normal interval at each, and the TOST margin each supports at ``alpha``
    (|mean| + z_{1 - alpha} se: the 1 - 2 alpha interval's farther end)."""
    from scipy.stats import norm

    if len(labelers) < 2:
        raise ValueError(f"need at least 2 labelers for a mean; got {len(labelers)}")
    p1, p2 = labelers["val"] / 100, labelers["v2"] / 100
    se = 100 * np.sqrt(p1 * (1 - p1) / labelers["n_val"] + p2 * (1 - p2) / labelers["n_v2"])
    m = len(labelers)
    mean = float(labelers["drop"].mean())
    z2, z1 = norm.ppf(1 - alpha / 2), norm.ppf(1 - alpha)
    out = {"mean": mean, "labelers": m, "se_each": {k: float(v) for k, v in se.items()}, "se_average": float(se.mean())}
    for name, s in (("independent", float(np.sqrt((se**2).sum()) / m)), ("correlated", float(se.mean()))):
        out[name] = {"se": s, "ci": [mean - z2 * s, mean + z2 * s], "margin_supported": abs(mean) + z1 * s}
    return out


def human_verdicts(drops: pd.DataFrame, alpha: float = 0.05, margin: float = 1.0) -> dict:
    """Chapter 03's verdicts on the humans' drops (``drops``: :func:`shankar_drops` on all
    images with the table): per labeler and for the human majority the drop verdict
    (:func:`drop_verdict`) and the TOST at ``margin`` points; the mean's bounds
    (:func:`mean_drop_bounds`); each labeler and the majority against the most accurate
    visible model (:func:`drop_difference`); and how many visible models drop more than the
    human majority. Drops, intervals and margins in points."""

    def pts(v: stats.Verdict) -> dict:
        out = {
            "direction": v.direction,
            "difference": round(100 * v.difference, 3),
            "ci": [round(100 * v.interval[0], 3), round(100 * v.interval[1], 3)],
            "test": v.test,
        }
        if v.p_value is not None:
            out["p"] = round(v.p_value, 4)
        if v.margin_supported is not None:
            out |= {"margin": round(100 * v.margin, 3), "margin_supported": round(100 * v.margin_supported, 3)}
        return out

    lab = drops[drops["kind"] == "labeler"]
    if lab.empty:
        raise ValueError("no labeler rows in drops")
    humans_ = list(lab.index) + [n for n in drops.index if drops.loc[n, "kind"] == "human majority"]
    models = drops[drops["kind"].isin(["model", "model (more data)"])]
    best = models["val"].idxmax()
    tost = {n: drop_verdict(drops.loc[n], alpha, margin) for n in humans_}
    per = {n: {"drop": pts(drop_verdict(drops.loc[n], alpha)), "tost": pts(tost[n])} for n in humans_}
    vs_best = {n: drop_difference(drops.loc[best], drops.loc[n], alpha) for n in humans_}
    labeler_supported = [100 * tost[n].margin_supported for n in lab.index]
    out = {
        "alpha": alpha,
        "per_human": per,
        "tost": {
            "margin": margin,
            "test": next(iter(tost.values())).test,
            "margin_supported": round(max(labeler_supported), 3),
            "margin_supported_each": {n: round(100 * tost[n].margin_supported, 3) for n in humans_},
            "passes_at_1": bool(all(tost[n].direction == "equivalent" for n in lab.index)),
            "labelers_equivalent": int(sum(tost[n].direction == "equivalent" for n in lab.index)),
        },
        "mean_drop": mean_drop_bounds(lab, alpha),
        "labelers_dropping": int(sum(per[n]["drop"]["direction"] == "higher" for n in lab.index)),
        "labelers_cannot_tell": int(sum(per[n]["drop"]["direction"] == "cannot tell" for n in lab.index)),
        "best_model": best,
        "best_model_drop": pts(drop_verdict(drops.loc[best], alpha)),
        "best_model_vs": {n: pts(v) for n, v in vs_best.items()},
        "labelers_below_best_model": int(sum(vs_best[n].direction == "higher" for n in lab.index)),
    }
    if "human_majority" in drops.index:
        maj = drops.loc["human_majority"]
        beats = [drop_difference(drops.loc[m], maj, alpha).direction == "higher" for m in models.index]
        out |= {"models_above_majority": int(sum(beats)), "models": len(models)}
    return out


def verdict_table(hv: dict) -> pd.DataFrame:
    """One row per human of :func:`human_verdicts`: drop, interval and verdict, the smallest
    TOST margin and its p at the asked margin, and the best model's drop minus this one's."""
    best = hv["best_model"]
    return pd.DataFrame(
        {
            n: {
                "drop (points)": v["drop"]["difference"],
                "95% interval": v["drop"]["ci"],
                "drop vs 0": v["drop"]["direction"],
                "smallest TOST margin (points)": v["tost"]["margin_supported"],
                f"TOST p at ±{hv['tost']['margin']:g}": v["tost"]["p"],
                f"{best}'s drop minus this": hv["best_model_vs"][n]["difference"],
                "its 95% interval": hv["best_model_vs"][n]["ci"],
                "best model vs this": hv["best_model_vs"][n]["direction"],
            }
            for n, v in hv["per_human"].items()
        }
    ).T


def verdict_numbers(hv: dict, drops: dict[str, pd.DataFrame], alpha: float = 0.05) -> dict:
    """What chapter 03's prose quotes from :func:`human_verdicts` (``hv``; ``drops``: the
    :func:`shankar_drops` frames by subset), keyed ``h_*``; the phrases come from
    :func:`reliable_ml.stats.phrase` on the verdicts, so their words follow their numbers.
    An empty ``hv`` (no data) gives an empty dict."""
    if not hv:
        return {}
    md = hv["mean_drop"]
    out = {
        "h_tost_margin": hv["tost"]["margin_supported"],
        "h_tost_equiv_1": hv["tost"]["labelers_equivalent"],
        "h_dropping": hv["labelers_dropping"],
        "h_mean": md["mean"],
        "h_best_vs_higher": hv["labelers_below_best_model"],
        "h_models_above_majority": hv.get("models_above_majority", 0),
        "h_models": hv.get("models", 0),
    }
    for b in ("independent", "correlated"):
        out |= {
            f"h_mean_{b}_se": md[b]["se"],
            f"h_mean_{b}_lo": md[b]["ci"][0],
            f"h_mean_{b}_hi": md[b]["ci"][1],
            f"h_mean_{b}_margin": md[b]["margin_supported"],
        }
    t = drops["all_images"]
    if "human_majority" in t.index:
        maj = t.loc["human_majority"]
        out |= {
            "h_maj_drop": stats.phrase(drop_verdict(maj, alpha), "drops", "gains", "cannot be told from no drop"),
            "h_maj_tost": stats.phrase(
                drop_verdict(maj, alpha, margin=hv["tost"]["margin"]),
                equivalent="is shown equivalent to no drop",
                not_equivalent="is not shown equivalent to no drop",
            ),
            "h_best_vs_maj": stats.phrase(
                drop_difference(t.loc[hv["best_model"]], maj, alpha),
                "drops more than the majority",
                "drops less than the majority",
                "cannot be told apart from the majority's drop",
            ),
        }
    bd = hv["best_model_drop"]
    out["h_best_vs_published"] = stats.phrase(
        stats.against_reference(bd["difference"], tuple(bd["ci"]), PUBLISHED_BEST_MODEL_DROP),
        f"is larger than the published {PUBLISHED_BEST_MODEL_DROP:g}",
        f"is smaller than the published {PUBLISHED_BEST_MODEL_DROP:g}",
        f"cannot be told from the published {PUBLISHED_BEST_MODEL_DROP:g}",
        scale=1,
    )
    others = [n for n, v in hv["best_model_vs"].items() if n != "human_majority" and v["direction"] != "higher"]
    out["h_best_vs_other"] = ", ".join(f"`{n}`" for n in others) or "none"
    named = []
    if "objects_only" in drops:
        o = drops["objects_only"]
        for n in o.index[o["kind"] == "labeler"]:
            v = drop_verdict(o.loc[n], alpha)
            if v.direction != "cannot tell":
                named.append(f"`{n}` {stats.phrase(v, 'drops', 'gains')}")
    out["h_obj_named"] = "; ".join(named) or "none"
    return out
