"""Re-analysis of released predictions: CIFAR-10.1 and ImageNetV2, model by model and image by image.

Recht et al. (2019) released the predictions of the published models they evaluated: 30
CIFAR-10 models on the CIFAR-10 test set and on CIFAR-10.1 (v4, v6), and the top-5 of 67
ImageNet models on the ImageNet validation set and on the three ImageNetV2 test sets. With the
canonical labels these give every model's accuracy, and every image's correctness, without
running a model. Everything here is a *re-analysis of released data*, not a reproduction.

Accuracies are in points (percent) in the frames this module returns.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from reliable_ml import data

CIFAR101_SETS = ("original", "v4", "v6")
#: results key -> dataset name of :func:`reliable_ml.data.imagenetv2_predictions`
IMAGENET_SETS = {
    "val": "val",
    "threshold0.7": "threshold-0.7",
    "matched_frequency": "matched-frequency",
    "top_images": "top-images",
}
#: testbed column of the re-evaluated ("format-val") MatchedFrequency accuracy
FORMAT_VAL_COLUMN = "imagenetv2-matched-frequency-format-val"


class Released(NamedTuple):
    """Per-image correctness of published models on an original test set and its new versions.

    ``models``: names as in the upstream files; ``correct[set]``: bool ``(M, N_set)``, rows in
    the order of ``models``; ``source``: what the numbers were computed from.
    """

    models: list[str]
    correct: dict[str, np.ndarray]
    source: str

    def accuracy(self) -> pd.DataFrame:
        """Top-1 accuracy (%) per model (rows) and test set (columns), rounded to 2 decimals."""
        return pd.DataFrame(
            {s: 100 * c.mean(1) for s, c in self.correct.items()}, index=pd.Index(self.models, name="model")
        ).round(2)


def _check_models(found: dict[str, list[str]]) -> list[str]:
    first, *_ = found.values()
    for name, models in found.items():
        if set(models) != set(first):
            raise data.DataCorrupt(name, f"models differ between test sets: {sorted(set(models) ^ set(first))}")
    return sorted(first)


def cifar101(root=None, download: bool = True) -> Released:
    """Correctness of the ~30 published CIFAR-10 models on CIFAR-10 and CIFAR-10.1 v4 / v6.

    The original test set is scored against the canonical CIFAR-10 test labels; raises
    :class:`~reliable_ml.data.DataUnavailable` when predictions or labels are missing.
    """
    preds = {v: data.cifar101_predictions(v, root=root, download=download) for v in CIFAR101_SETS}
    for v, p in preds.items():
        if p.labels is None:
            raise data.DataUnavailable(f"labels of CIFAR-10 {v!r}", data.data_root(root), "label-errors", p.note)
    models = _check_models({v: list(p.predictions) for v, p in preds.items()})
    correct = {v: np.stack([p.predictions[m] == p.labels for m in models]) for v, p in preds.items()}
    return Released(
        models, correct, "CIFAR-10.1 released model predictions (Recht et al. 2019) + canonical CIFAR-10 test labels"
    )


class ImageNetReleased(NamedTuple):
    """:class:`Released` for ImageNet, plus the flipped (ascending) top-5 files and their raw column 0."""

    released: Released
    reversed: dict[str, tuple[str, ...]]
    column0_top1: pd.DataFrame  # (%) top-1 read naively from column 0 of each flipped file, per set


def imagenetv2(root=None, download: bool = True) -> ImageNetReleased:
    """Top-1 correctness of the 67 ImageNet models on val and the three ImageNetV2 sets.

    The loader puts every top-5 best first (the ``fv_*`` files are stored in ascending order
    upstream); ``column0_top1`` shows what reading column 0 of the upstream file would have given.
    """
    loaded = {
        key: data.imagenetv2_predictions(name, root=root, download=download) for key, name in IMAGENET_SETS.items()
    }
    models = _check_models({k: list(p.top5) for k, p in loaded.items()})
    correct = {k: np.stack([p.top5[m][:, 0] == p.labels for m in models]) for k, p in loaded.items()}
    flipped = sorted({m for p in loaded.values() for m in p.reversed})
    naive = pd.DataFrame(
        {
            k: {m: 100 * float(np.mean(p.top5[m][:, -1 if m in p.reversed else 0] == p.labels)) for m in flipped}
            for k, p in loaded.items()
        }
    )
    released = Released(
        models, correct, "ImageNetV2 released top-5 predictions of 67 models (original evaluation, Recht et al. 2019)"
    )
    return ImageNetReleased(released, {k: p.reversed for k, p in loaded.items()}, naive)


def drop_summary(rel: Released, original: str, new_sets, n_boot: int = 500, alpha: float = 0.05, seed: int = 0) -> dict:
    """Per new set: median drop over models with an image-bootstrap interval, the range of the
    drops, how many models' own Newcombe intervals exclude 0, and the probit line's fit."""
    from reliable_ml import stats

    out = {}
    for s in new_sets:
        a, b = rel.correct[original], rel.correct[s]
        med, lo, hi = stats.bootstrap_median_drop(a, b, n_boot=n_boot, alpha=alpha, seed=seed)
        per = stats.drop_intervals(a, b, alpha)
        fit = stats.probit_linear_fit(a.mean(1), b.mean(1))
        out[s] = {
            "median_drop": round(med, 2),
            "median_drop_ci": [round(lo, 2), round(hi, 2)],
            "drop_range": [round(float(per["drop"].min()), 2), round(float(per["drop"].max()), 2)],
            "models_ci_excludes_zero": int(((per["ci_low"] > 0) | (per["ci_high"] < 0)).sum()),
            "models": len(per),
            "probit_fit": {k: round(v, 4) for k, v in fit.as_dict().items()},
        }
    return out


def per_model_drops(rel: Released, original: str, new: str, alpha: float = 0.05) -> pd.DataFrame:
    """Each model's accuracy on ``original`` and ``new`` and its drop with Newcombe's interval (points)."""
    from reliable_ml import stats

    frame = stats.drop_intervals(rel.correct[original], rel.correct[new], alpha)
    frame.index = pd.Index(rel.models, name="model")
    return frame.rename(columns={"acc_a": original, "acc_b": new}).sort_values(original)


def format_val_gap(accuracy: pd.DataFrame, testbed: pd.DataFrame) -> pd.DataFrame:
    """Original MatchedFrequency top-1 (from the per-image predictions) next to the testbed's
    ``format-val`` re-evaluation, for the models in both; ``gap`` = original - format-val (points)."""
    tb = testbed.set_index("model")[FORMAT_VAL_COLUMN].dropna()
    both = accuracy.index.intersection(tb.index)
    return pd.DataFrame(
        {
            "original evaluation": accuracy.loc[both, "matched_frequency"],
            "testbed format-val": tb.loc[both].round(2),
            "gap": (accuracy.loc[both, "matched_frequency"] - tb.loc[both]).round(2),
        }
    )


def _nan_if_none(value):
    return float("nan") if value is None else value


def cifar101_numbers(acc: pd.DataFrame | None, summary: dict | None) -> tuple[dict | None, dict]:
    """Results (``cifar10_1``) and flat prose numbers (``c10_*``) of the CIFAR-10.1 re-analysis.

    With ``acc is None`` (data missing) the results are ``None`` and every number is NaN.
    """
    from reliable_ml import stats

    numbers = {}
    for v in ("v4", "v6"):
        s = (summary or {}).get(v)
        for key, get in (
            ("med", lambda s: s["median_drop"]),
            ("lo", lambda s: s["median_drop_ci"][0]),
            ("hi", lambda s: s["median_drop_ci"][1]),
            ("min", lambda s: s["drop_range"][0]),
            ("max", lambda s: s["drop_range"][1]),
            ("excl", lambda s: s["models_ci_excludes_zero"]),
            ("slope", lambda s: s["probit_fit"]["slope"]),
            ("r2", lambda s: s["probit_fit"]["r2"]),
        ):
            numbers[f"c10_{v}_{key}"] = float(_nan_if_none(None if s is None else get(s)))
    if acc is None:
        return None, {
            **numbers,
            "c10_n": 0,
            "c10_top": "(not available)",
            "c10_top_resid": float("nan"),
        }
    top = acc["original"].idxmax()
    fit = stats.probit_linear_fit(acc["original"] / 100, acc["v6"] / 100)
    numbers.update(
        c10_n=len(acc),
        c10_top=top,
        c10_top_resid=float(acc.loc[top, "v6"] - 100 * fit.predict(acc.loc[top, "original"] / 100)),
    )
    results = {
        "models": {m: {k: float(x) for k, x in r.items()} for m, r in acc.iterrows()},
        "summary": summary,
        "claim_3_to_15": {
            v: {"range": s["drop_range"], "within": bool(s["drop_range"][0] >= 3 and s["drop_range"][1] <= 15)}
            for v, s in summary.items()
        },
    }
    return results, numbers


def imagenetv2_numbers(
    inet: ImageNetReleased | None, summary: dict | None, gap: pd.DataFrame | None
) -> tuple[dict | None, dict]:
    """Results (``imagenetv2_per_image`` and the top-level ImageNet keys) and flat prose numbers
    (``in_*``, ``fv_*``, ``fmt_*``) of the ImageNetV2 re-analysis; NaN numbers when data is missing."""
    from reliable_ml import stats

    short = {"threshold0.7": "th", "matched_frequency": "mf", "top_images": "ti"}
    numbers = {}
    for s, k in short.items():
        v = (summary or {}).get(s)
        numbers.update(
            {
                f"in_{k}_med": _nan_if_none(v and v["median_drop"]),
                f"in_{k}_lo": _nan_if_none(v and v["median_drop_ci"][0]),
                f"in_{k}_hi": _nan_if_none(v and v["median_drop_ci"][1]),
                f"in_{k}_min": _nan_if_none(v and v["drop_range"][0]),
                f"in_{k}_max": _nan_if_none(v and v["drop_range"][1]),
                f"in_{k}_slope": _nan_if_none(v and v["probit_fit"]["slope"]),
            }
        )
    fmt = (
        None
        if gap is None
        else {
            "models": len(gap),
            "median": round(float(gap["gap"].median()), 3),
            "min": round(float(gap["gap"].min()), 3),
            "max": round(float(gap["gap"].max()), 3),
        }
    )
    numbers.update({f"fmt_{k}": float(_nan_if_none(fmt and fmt[k])) for k in ("models", "median", "min", "max")})
    if inet is None:
        return None, {**numbers, "fv_model": "(not available)", "fv_naive": float("nan"), "fv_fixed": float("nan")}
    acc = inet.released.accuracy()
    fv = inet.column0_top1.index[0] if len(inet.column0_top1) else None
    numbers.update(
        fv_model=str(fv),
        fv_naive=float(_nan_if_none(fv and inet.column0_top1.loc[fv, "matched_frequency"])),
        fv_fixed=float(_nan_if_none(fv and acc.loc[fv, "matched_frequency"])),
    )
    star = acc["val"].idxmax()
    fit = stats.probit_linear_fit(acc["val"] / 100, acc["matched_frequency"] / 100)
    results = {
        "imagenetv2_per_image": {
            "models": {m: {k: float(x) for k, x in r.items()} for m, r in acc.iterrows()},
            "evaluation": "original (released per-image top-5 predictions, read best first)",
            "summary": summary,
            "reversed_files": {k: list(v) for k, v in inet.reversed.items()},
            "column0_top1_of_reversed": inet.column0_top1.round(2).to_dict(orient="index"),
            "matched_frequency_original_minus_format_val": fmt,
        },
        "imagenetv2_median_drop": summary["matched_frequency"]["median_drop"],
        "imagenetv2_probit_slope": round(fit.slope, 4),
        "imagenetv2_probit_r2": round(fit.r2, 4),
        "imagenetv2_top_model": {
            "model": star,
            "val": float(acc.loc[star, "val"]),
            "matched_frequency": float(acc.loc[star, "matched_frequency"]),
            "drop": round(float(acc.loc[star, "val"] - acc.loc[star, "matched_frequency"]), 2),
            "line_prediction": round(float(100 * fit.predict(acc.loc[star, "val"] / 100)), 2),
            "evaluation": "original",
        },
    }
    return results, numbers


# ----------------------------------------------------------------------------- the line, models and images resampled
RESAMPLE = ("models", "images", "both")


def _image_accuracies(correct: np.ndarray, rng: np.random.Generator, k: int) -> np.ndarray:
    """(k, M) accuracies (fractions) of the M models on k bootstrap resamples of the images: each
    resample draws n images with replacement, the *same* draw for every model."""
    n = correct.shape[1]
    weights = rng.multinomial(n, np.full(n, 1 / n), size=k).astype(np.float32)  # (k, n) times drawn
    return (weights @ correct.T.astype(np.float32)) / n


def _cached_draws(name: str, settings: dict, draw, cx: np.ndarray, cy: np.ndarray, n_boot: int) -> dict:
    """``draw()`` (bootstrap replicates over the correctness tables ``cx``, ``cy``), kept in the result
    cache (:func:`reliable_ml.util.result_cache.cached_arrays`) when the bootstrap is large, keyed by
    ``settings``, both tables and the source of this module and of :mod:`reliable_ml.stats`."""
    import sys

    from reliable_ml import stats
    from reliable_ml.util import result_cache

    return result_cache.cached_arrays(
        name.replace("_", "-"),
        {"function": name, **settings},
        draw,
        arrays=(cx, cy),
        code=(sys.modules[__name__], stats),
        enabled=n_boot * (cx.size + cy.size) >= result_cache.MIN_WORK,
    )


def _ols_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slope of y on x along the last axis (one slope per row); NaN where x is constant."""
    xc = x - x.mean(-1, keepdims=True)
    var = (xc**2).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var > 0, (xc * y).sum(-1) / var, np.nan)


def _check_pair(correct_x, correct_y) -> tuple[np.ndarray, np.ndarray]:
    cx, cy = np.asarray(correct_x, dtype=bool), np.asarray(correct_y, dtype=bool)
    if cx.ndim != 2 or cy.ndim != 2 or cx.shape[0] != cy.shape[0] or cx.shape[0] < 3:
        raise ValueError(
            f"need bool (M, n) correctness matrices of the same M >= 3 models on both test sets; "
            f"got shapes {cx.shape} and {cy.shape}"
        )
    if min(cx.shape[1], cy.shape[1]) == 0:
        raise ValueError(f"each test set needs at least one image; got shapes {cx.shape} and {cy.shape}")
    return cx, cy


def line_bootstrap(
    correct_x, correct_y, *, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0, resample: str = "both"
) -> dict:
    """Slopes of the line of new-set accuracy on original accuracy over models, in accuracy points
    and on the probit scale, with percentile intervals that resample models, images, or both.

    ``correct_x``: bool ``(M, n_x)``, the M models on the original test set; ``correct_y``: bool
    ``(M, n_y)``, the same models (same row order) on the new one. Fits, by least squares over
    models: ``acc_y = a + b acc_x`` (points) and ``Phi^{-1}(acc_y) = a' + b' Phi^{-1}(acc_x)``.

    Each replicate, with ``resample``:

    * ``"images"``: draws ``n_x`` images of the original set and ``n_y`` of the new one with
      replacement (the two sets independently), the *same* draw for every model, and recomputes
      every model's accuracies;
    * ``"models"``: draws M models with replacement (accuracies as measured);
    * ``"both"``: first the images, then the models.

    Every accuracy is itself an estimate from a finite test set shared by all models, so an
    interval over models alone treats the images as fixed; on a 2,000-image new set the images
    are a large part of the slope's uncertainty. Returns ``{"linear": {"slope", "ci"},
    "probit": {"slope", "ci"}, "probit_share_at_least_1", "resampled", "n_boot", "alpha"}``
    (``ci``: the (alpha/2, 1 - alpha/2) percentiles of the refitted slopes; the share: the
    fraction of replicates whose probit slope is >= 1).
    """
    from reliable_ml import stats
    from reliable_ml.shift import line as the_line

    cx, cy = _check_pair(correct_x, correct_y)
    if resample not in RESAMPLE:
        raise ValueError(f"resample must be one of {RESAMPLE}; got {resample!r}")
    if n_boot < 1 or not 0 < alpha < 1:
        raise ValueError(f"n_boot must be >= 1 and alpha in (0, 1); got {n_boot!r}, {alpha!r}")
    ax, ay = cx.mean(1), cy.mean(1)
    boot = the_line.bootstrap_slopes(cx, cy, axes=("points", "probit"), resample=resample, n_boot=n_boot, seed=seed)
    linear, probit = boot["points"], boot["probit"]
    q = [alpha / 2, 1 - alpha / 2]
    return {
        "linear": {
            "slope": float(_ols_slopes(100 * ax, 100 * ay)),
            "ci": [float(v) for v in np.nanquantile(linear, q)],
        },
        "probit": {
            "slope": float(stats.probit_linear_fit(ax, ay).slope),
            "ci": [float(v) for v in np.nanquantile(probit, q)],
        },
        "probit_share_at_least_1": float(np.nanmean(probit >= 1)),
        "resampled": resample,
        "n_boot": int(n_boot),
        "alpha": float(alpha),
    }


def held_out_residual(
    correct_x, correct_y, model: int, *, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0
) -> dict:
    """How far (accuracy points) model ``model`` sits above the probit line fitted to the *other*
    models, with a percentile interval that resamples the other models and the images of both sets.

    residual = 100 (acc_y[model] - Phi(b Phi^{-1}(acc_x[model]) + a)), with (b, a) the least-squares
    probit line over the M - 1 other models (leave-one-out, so the model does not pull the line
    toward itself). Each replicate redraws the images (as in :func:`line_bootstrap`, the same draw
    for every model, the held-out one included) and the M - 1 other models with replacement.
    Returns ``{"residual", "ci", "n_boot", "alpha"}``.
    """
    from reliable_ml import stats

    cx, cy = _check_pair(correct_x, correct_y)
    m = cx.shape[0]
    if isinstance(model, bool) or not 0 <= int(model) < m or int(model) != model:
        raise ValueError(f"model must be a row index in [0, {m}); got {model!r}")
    if m < 4:
        raise ValueError(f"a line through the other models needs at least 4 models; got {m}")
    others = np.delete(np.arange(m), int(model))

    def residual(bx: np.ndarray, by: np.ndarray, idx: np.ndarray) -> np.ndarray:  # bx, by: (k, M); idx: (k, M - 1)
        zx, zy = stats.probit(np.take_along_axis(bx, idx, 1)), stats.probit(np.take_along_axis(by, idx, 1))
        slope = _ols_slopes(zx, zy)
        intercept = zy.mean(1) - slope * zx.mean(1)
        line = stats.inv_probit(slope * stats.probit(bx[:, model]) + intercept)
        return 100 * (by[:, model] - line)

    ax, ay = cx.mean(1)[None, :], cy.mean(1)[None, :]
    point = float(residual(ax, ay, others[None, :])[0])

    def draw() -> dict:
        rng = np.random.default_rng(seed)
        reps = []
        for start in range(0, n_boot, 100):
            k = min(100, n_boot - start)
            bx, by = _image_accuracies(cx, rng, k).astype(float), _image_accuracies(cy, rng, k).astype(float)
            reps.append(residual(bx, by, others[rng.integers(0, m - 1, (k, m - 1))]))
        return {"residuals": np.concatenate(reps)}

    reps = _cached_draws("held_out_residual", {"model": int(model), "n_boot": int(n_boot), "seed": int(seed)},
                         draw, cx, cy, n_boot)["residuals"]  # fmt: skip
    lo, hi = np.nanquantile(reps, [alpha / 2, 1 - alpha / 2])
    return {"residual": point, "ci": [float(lo), float(hi)], "n_boot": int(n_boot), "alpha": float(alpha)}


def order_agreement(acc_x, acc_y, close: float = 1.0) -> dict:
    """Do models keep their order from one test set to another?

    ``acc_x``, ``acc_y``: accuracies (points) of the same models on the two sets. Returns Kendall's
    tau-b (``scipy.stats.kendalltau``), the number of pairs, the pairs whose order *swaps* (strictly
    ahead on one set and strictly behind on the other) and how many of those were within
    ``close`` points of each other on ``acc_x``.
    """
    from scipy.stats import kendalltau

    x, y = np.asarray(acc_x, dtype=float), np.asarray(acc_y, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise ValueError(f"need two 1-d accuracy vectors of the same length >= 2; got {x.shape} and {y.shape}")
    i, j = np.triu_indices(len(x), 1)
    dx, dy = x[i] - x[j], y[i] - y[j]
    swapped = dx * dy < 0
    return {
        "kendall_tau": float(kendalltau(x, y).statistic),
        "pairs": int(len(i)),
        "swapped": int(swapped.sum()),
        "swapped_within_close": int((swapped & (np.abs(dx) <= close)).sum()),
        "close_points": float(close),
    }


def kendall_bootstrap(correct_x, correct_y, *, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0) -> dict:
    """Kendall's tau-b between the models' accuracies on two test sets, with a bias-corrected and
    accelerated (BCa) bootstrap interval that resamples the models *and* the images of both sets.

    Each replicate draws the images of each set with replacement (the same draw for every model,
    as in :func:`line_bootstrap`), then the models with replacement (a model drawn twice forms a
    pair tied on both sets, which tau-b leaves out). Image resampling adds noise to every
    accuracy, and noise can only scramble a ranking, so the replicates sit mostly *below* the
    point estimate and a percentile interval is biased low. The BCa interval
    (:func:`reliable_ml.stats.bca_interval`; Efron & Tibshirani 1993, ch. 14) corrects that median
    bias through z0 (the share of replicates below tau), and its acceleration comes from the
    leave-one-model-out jackknife (the models are the units tau is a U-statistic over). If every
    replicate falls on one side of tau (z0 undefined), the percentile interval is given instead
    and ``method`` says so. The interval is meant to contain tau of the models' *true*
    accuracies (infinitely many images), which the image noise of a finite test set pulls down;
    the percentile interval, centred on the noisier replicates, sits low for it.

    Limits, stated in ``limits``: the acceleration jackknifes the models only, while the
    replicates also resample images; and with |z0| > 1 the BCa endpoints come from the
    replicates' far tail (:func:`reliable_ml.stats.bca_reliability` gives the sentence), so use
    a few thousand replicates. Rule (:func:`reliable_ml.stats.bca_choice`): ``ci`` is the BCa
    interval when |z0| <= 1 and the percentile interval otherwise (``quoted`` says which; the BCa
    one stays in ``ci_bca``). ``side_words`` says where the replicates sit against tau
    (:func:`reliable_ml.stats.share_side_words`). The interval is not widened to hold tau. Returns
    ``{"tau", "ci", "ci_bca", "ci_percentile", "quoted", "side_words", "method", "z0",
    "reliability", "z0_share_below", "models", "n_boot", "alpha", "resampled", "limits"}``."""
    from scipy.stats import kendalltau

    from reliable_ml import stats

    cx, cy = _check_pair(correct_x, correct_y)
    if n_boot < 100 or not 0 < alpha < 1:
        raise ValueError(f"n_boot must be >= 100 and alpha in (0, 1); got {n_boot!r}, {alpha!r}")
    m = cx.shape[0]
    ax, ay = cx.mean(1), cy.mean(1)
    point = float(kendalltau(ax, ay).statistic)

    def draw() -> dict:
        rng = np.random.default_rng(seed)
        taus = []
        for start in range(0, n_boot, 100):
            k = min(100, n_boot - start)
            bx, by = _image_accuracies(cx, rng, k), _image_accuracies(cy, rng, k)
            idx = stats.bootstrap_indices(m, k, rng)
            bx, by = np.take_along_axis(bx, idx, 1), np.take_along_axis(by, idx, 1)
            taus.extend(float(kendalltau(x, y).statistic) for x, y in zip(bx, by))
        return {"taus": np.asarray(taus)}

    import scipy

    taus = _cached_draws("kendall_bootstrap", {"n_boot": int(n_boot), "seed": int(seed), "scipy": scipy.__version__},
                         draw, cx, cy, n_boot)["taus"]  # fmt: skip
    plo, phi = np.nanquantile(taus, [alpha / 2, 1 - alpha / 2])
    jack = stats.jackknife_values(lambda keep: kendalltau(ax[keep], ay[keep]).statistic, m)
    try:
        lo, hi = stats.bca_interval(point, taus, alpha, jack)
        method = "BCa (Efron & Tibshirani 1993), acceleration from the leave-one-model-out jackknife"
    except ValueError:
        lo, hi = plo, phi
        method = "percentile (every replicate on one side of tau: BCa undefined)"
    z0 = stats.bca_z0(point, taus)
    ci, chosen = stats.bca_choice(z0, [lo, hi], [plo, phi])
    if chosen == "percentile" and method.startswith("BCa"):
        method = f"percentile (|z0| > {stats.BCA_Z0_LIMIT:g}: the BCa interval, in ci_bca, is unreliable)"
    share = float(np.mean(taus[np.isfinite(taus)] < point))
    return {
        "tau": point,
        "ci": ci,
        "ci_bca": [float(lo), float(hi)],
        "ci_percentile": [float(plo), float(phi)],
        "quoted": chosen,
        "side_words": stats.share_side_words(share, len(taus)),
        "method": method,
        "z0": z0,
        "reliability": stats.bca_reliability(z0, n_boot) if np.isfinite(z0) else "BCa undefined: percentile given",
        "limits": "acceleration from a jackknife over models only, while the replicates resample images too",
        "z0_share_below": share,
        "models": int(m),
        "n_boot": int(n_boot),
        "alpha": float(alpha),
        "resampled": "models and images",
    }


# ----------------------------------------------------------------------------- verdicts on the line, and their words
#: the words for a slope against 1, per scale: (above 1, below 1, cannot tell), for stats.phrase
SLOPE_WORDS = {
    "linear": (
        "the gap between two models grows on the new set, the slope exceeding 1",
        "the gap between two models shrinks on the new set, the slope falling short of 1",
        "the data cannot tell whether the gap between two models grows or shrinks on the new set",
    ),
    "probit": (
        "the better models lose less on the probit scale, the slope exceeding 1",
        "the better models lose more on the probit scale, the slope falling short of 1",
        "the data cannot tell whether the better models lose more or less on the probit scale",
    ),
}
#: the words for a model's residual against 0: (above, below, cannot tell)
RESIDUAL_WORDS = ("above the line", "below the line", "not distinguishable from the line")


def slope_verdict(line: dict, scale: str, alpha: float = 0.05):
    """The slope of a :func:`line_bootstrap` result on ``scale`` ("linear" or "probit") against 1:
    :func:`reliable_ml.stats.against_reference` on its percentile interval."""
    from reliable_ml import stats

    if scale not in SLOPE_WORDS:
        raise ValueError(f"scale must be one of {tuple(SLOPE_WORDS)}; got {scale!r}")
    return stats.against_reference(line[scale]["slope"], line[scale]["ci"], 1.0, alpha=alpha)


def slope_phrase(verdict, scale: str) -> str:
    """:func:`reliable_ml.stats.phrase` of a :func:`slope_verdict` with the words of ``scale``."""
    from reliable_ml import stats

    return stats.phrase(verdict, *SLOPE_WORDS[scale], scale=1.0, unit="", digits=2)


def _of_them(k: int, n: int) -> str:
    """``k`` of ``n`` swapped pairs in words: "all of them", "none of them" or "k of them"."""
    return "all of them" if k == n else "none of them" if k == 0 else f"{k} of them"


def line_report(
    rel: Released,
    original: str,
    new: str,
    prefix: str,
    *,
    n_boot: int = 500,
    alpha: float = 0.05,
    seed: int = 0,
    min_accuracy: float | None = None,
) -> tuple[dict, dict]:
    """What a chapter says about one line of released predictions, and the results behind it.

    For the models of ``rel`` on ``original`` and ``new``: the probit line with models and images
    resampled (:func:`line_bootstrap`, ``"both"``) and its slope against 1; the models' order
    (:func:`order_agreement`); the most accurate model (on ``original``) against the line through
    the others (:func:`held_out_residual`) and against 0. The verdicts are read from percentile
    bounds, so ``n_boot`` should be large (>= 5,000): with 500 a bound near the reference moves
    across it from seed to seed. With ``min_accuracy`` (points on ``original``), the line is also
    fitted over the models at or above it (how much the slope owes to the weakest models).
    Returns ``(results, numbers)``: ``results`` for the results file (verdicts as dicts: test,
    interval, direction), ``numbers`` the flat prose numbers and words keyed ``<prefix>_n``,
    ``_slope_lo``, ``_slope_hi``, ``_slope_words``, ``_tau``, ``_pairs``, ``_swaps``,
    ``_swaps_close``, ``_swaps_close_words`` ("all of them", ...), ``_top``, ``_top_loo``,
    ``_top_lo``, ``_top_hi``, ``_top_words`` and, with ``min_accuracy``, ``_hi_min``, ``_hi_n``,
    ``_hi_slope``, ``_hi_slope_lo``, ``_hi_slope_hi``, ``_hi_slope_words``.
    """
    from dataclasses import asdict

    from reliable_ml import stats

    cx, cy = rel.correct[original], rel.correct[new]
    line = line_bootstrap(cx, cy, n_boot=n_boot, alpha=alpha, seed=seed)
    verdict = slope_verdict(line, "probit", alpha)
    acc_x, acc_y = 100 * cx.mean(1), 100 * cy.mean(1)
    order = order_agreement(acc_x, acc_y)
    top = int(np.argmax(acc_x))
    residual = held_out_residual(cx, cy, top, n_boot=n_boot, alpha=alpha, seed=seed)
    top_verdict = stats.against_reference(residual["residual"], residual["ci"], 0.0, alpha=alpha)
    results = {
        "line": {**line, "verdict_probit_vs_1": asdict(verdict)},
        "order": order,
        "top_model_residual_loo": {**residual, "model": rel.models[top], "verdict_vs_0": asdict(top_verdict)},
    }
    numbers = {
        f"{prefix}_n": int(cx.shape[0]),
        f"{prefix}_slope_lo": line["probit"]["ci"][0],
        f"{prefix}_slope_hi": line["probit"]["ci"][1],
        f"{prefix}_slope_words": slope_phrase(verdict, "probit"),
        f"{prefix}_tau": order["kendall_tau"],
        f"{prefix}_pairs": order["pairs"],
        f"{prefix}_swaps": order["swapped"],
        f"{prefix}_swaps_close": order["swapped_within_close"],
        f"{prefix}_swaps_close_words": _of_them(order["swapped_within_close"], order["swapped"]),
        f"{prefix}_top": rel.models[top],
        f"{prefix}_top_loo": residual["residual"],
        f"{prefix}_top_lo": residual["ci"][0],
        f"{prefix}_top_hi": residual["ci"][1],
        f"{prefix}_top_words": stats.phrase(top_verdict, *RESIDUAL_WORDS, scale=1.0),
    }
    if min_accuracy is not None:
        keep = acc_x >= min_accuracy
        if keep.sum() < 3:
            raise ValueError(f"min_accuracy={min_accuracy!r} leaves {int(keep.sum())} models; a line needs 3")
        high = line_bootstrap(cx[keep], cy[keep], n_boot=n_boot, alpha=alpha, seed=seed)
        high_verdict = slope_verdict(high, "probit", alpha)
        results["line_min_accuracy"] = {
            **high,
            "min_accuracy": float(min_accuracy),
            "models": int(keep.sum()),
            "verdict_probit_vs_1": asdict(high_verdict),
        }
        numbers |= {
            f"{prefix}_hi_min": float(min_accuracy),
            f"{prefix}_hi_n": int(keep.sum()),
            f"{prefix}_hi_slope": high["probit"]["slope"],
            f"{prefix}_hi_slope_lo": high["probit"]["ci"][0],
            f"{prefix}_hi_slope_hi": high["probit"]["ci"][1],
            f"{prefix}_hi_slope_words": slope_phrase(high_verdict, "probit"),
        }
    return results, numbers
