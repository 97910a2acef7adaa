"""The line: one fit of "accuracy on the line" for every chapter that quotes it (01, 02, 03, 08).

Across models, accuracy on a new test set S' is close to a linear function of accuracy on the
original test set S once both are mapped through a link function g (Recht et al. 2019):

    g(acc_S') = a + b g(acc_S),  fitted by ordinary least squares over the models.

Taori et al. (2020) drew and fitted the line on **logit** axes (g = log(p / (1 - p))); Miller et
al. (2021), "accuracy on the line", on **probit** axes (g = Phi^{-1}, the inverse standard normal
CDF), the default here; ``"points"`` (g = identity, accuracy in %) is the plain scale. The slope b
says how the drop varies with accuracy: b = 1, the same shift on that scale for every model;
b < 1, better models lose *more* on that scale (the gap to y = x widens with accuracy); b > 1,
they lose less.

**The model set is declared once** (:data:`MODEL_SET`, :data:`MIN_ACCURACY`): standard models
(trained on the original training set alone) with at least :data:`MIN_ACCURACY` % on the
original test set. Below that floor sit near-chance baselines and epoch checkpoints that pull a
probit slope down; :func:`threshold_curve` shows how the slope moves with the floor. The set is
chosen on the measured accuracies and held fixed across bootstrap replicates.

**Intervals resample models and images wherever per-image predictions exist**
(:func:`slope_interval`): each replicate draws the images of S and of S' with replacement, the
*same* draw for every model (all models are scored on the one test set, so an unlucky draw
moves them together), then the models with replacement. Where only a table of accuracies exists
(:func:`models_only_interval`), the interval resamples models only and says so; such an interval
leaves out the image noise every model shares and is too narrow by that much, so it is quoted
without a verdict against 1 (:data:`NOT_JUDGED`).

**Ports of one architecture are one draw** (:func:`architecture`, :func:`clusters`): among the 67
released ImageNetV2 models the same network appears from several frameworks (``inceptionv3``,
``inception_v3``, ``inception_v3_tf``, ...). Their errors are nearly the same, so counting them as
independent models would narrow the interval; the ImageNetV2 line resamples architectures (each
replicate draws the clusters with replacement and weights each model by its cluster's count).

Every chapter quotes the same numbers: :func:`imagenetv2_matched_frequency` and
:func:`cifar10_1` with the constants below, so equal inputs give equal slopes and intervals.
"""

from __future__ import annotations

import functools
import sys
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch

from reliable_ml import stats
from reliable_ml.util import result_cache

#: the link functions a line may be fitted on; the first is the default
AXES = ("probit", "logit", "points")
#: the fitting floor (%, accuracy on the original test set) of the declared model set
MIN_ACCURACY = 60.0
#: the declared model set, in words (figures and results files show it)
MODEL_SET = f"standard models with at least {MIN_ACCURACY:.0f}% top-1 on the original test set"
#: bootstrap replicates, interval level and seed of every quoted interval (one value everywhere,
#: so that each chapter recomputes the same numbers)
N_BOOT = 5000
LEVEL = 0.95
SEED = 0
CACHE_MIN_CELLS = 100_000  # smaller tables bootstrap (N_BOOT replicates) in well under a second
#: the floors of the slope-against-threshold figure (%, on ImageNet val)
THRESHOLDS = (0.0, 30.0, 50.0, 60.0, 70.0, 73.0, 76.0, 78.0)
#: what each kind of interval resampled, in the words the results files and prose use
RESAMPLED = {"both": "models and images", "models": "models only", "images": "images only"}
#: what a results file and the prose say instead of a verdict against 1 for a models-only interval
NOT_JUDGED = "not judged (models only)"
_EPS = 1e-6
#: names of one architecture under another framework's spelling (after :func:`architecture`'s
#: lower-casing, ``_tf`` stripping and underscore removal): Cadene's pretrained-models names
#: (``nasnetalarge``: NASNet-A large; ``pnasnet5large``: PNASNet-5 large; ``bninception``:
#: BN-Inception, which TF-slim calls ``inception_v2``; ``fbresnet152``/``cafferesnet101``: ports of
#: the Facebook-Torch and Caffe ResNets) and TF-slim's ``resnet_v1_*`` (the original ResNet)
ARCHITECTURE_ALIASES = {
    "nasnetalarge": "nasnetlarge",
    "nasnetamobile": "nasnetmobile",
    "pnasnet5large": "pnasnetlarge",
    "bninception": "inceptionv2",
    "fbresnet152": "resnet152",
    "cafferesnet101": "resnet101",
    "resnetv150": "resnet50",
    "resnetv1101": "resnet101",
    "resnetv1152": "resnet152",
}


def architecture(name: str) -> str:
    """The architecture a model name denotes, whatever framework ported it: lower case, ``_tf``
    suffix and underscores removed, then :data:`ARCHITECTURE_ALIASES` (``"inception_v3_tf"``,
    ``"inception_v3"`` and ``"inceptionv3"`` all give ``"inceptionv3"``)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a model name must be a non-empty string; got {name!r}")
    key = name.strip().lower().removesuffix("_tf").replace("_", "").replace("-", "")
    return ARCHITECTURE_ALIASES.get(key, key)


def clusters(models) -> np.ndarray:
    """Integer cluster codes (one per model, in order): models of one :func:`architecture` share a code."""
    names = [architecture(m) for m in models]
    return pd.factorize(pd.Index(names))[0]


def transform(accuracy, axes: str = "probit") -> np.ndarray:
    """``g(accuracy / 100)`` for accuracies in %: probit, logit, or the accuracy itself (points).

    Fractions are clipped to [1e-6, 1 - 1e-6] so that 0% and 100% stay finite."""
    if axes not in AXES:
        raise ValueError(f"axes must be one of {AXES}; got {axes!r}")
    acc = np.asarray(accuracy, dtype=float)
    if axes == "points":
        return acc
    p = np.clip(acc / 100, _EPS, 1 - _EPS)
    return stats.probit(p) if axes == "probit" else np.log(p / (1 - p))


class Line(NamedTuple):
    """``g(y) = intercept + slope g(x)`` over ``n`` models with x >= ``min_accuracy`` (%)."""

    slope: float
    intercept: float
    r2: float
    n: int
    axes: str
    min_accuracy: float

    def predict(self, x) -> np.ndarray:
        """Predicted accuracy on S' (%) at accuracy ``x`` (%) on S."""
        z = self.intercept + self.slope * transform(x, self.axes)
        if self.axes == "points":
            return z
        return 100 * (stats.inv_probit(z) if self.axes == "probit" else 1 / (1 + np.exp(-z)))


def _check_accuracies(x, y) -> tuple[np.ndarray, np.ndarray]:
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xa.ndim != 1 or xa.shape != ya.shape:
        raise ValueError(f"x and y must be 1-d accuracies (%) of the same models; got shapes {xa.shape}, {ya.shape}")
    bad = ~np.isfinite(xa) | ~np.isfinite(ya) | (xa < 0) | (xa > 100) | (ya < 0) | (ya > 100)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"accuracies are in % and must be finite and in [0, 100]; got x={xa[i]!r}, y={ya[i]!r}")
    return xa, ya


def select(x, min_accuracy: float = MIN_ACCURACY) -> np.ndarray:
    """The models of the declared set: True where accuracy ``x`` (%) on S is at least ``min_accuracy``."""
    if not 0 <= min_accuracy < 100:
        raise ValueError(f"min_accuracy is an accuracy in % and must lie in [0, 100); got {min_accuracy!r}")
    return np.asarray(x, dtype=float) >= min_accuracy


def _slopes(zx: np.ndarray, zy: np.ndarray) -> np.ndarray:
    """Least-squares slope of zy on zx along the last axis; NaN where zx is constant."""
    xc = zx - zx.mean(-1, keepdims=True)
    var = (xc**2).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var > 0, (xc * zy).sum(-1) / np.where(var > 0, var, 1), np.nan)


def _weighted_slopes(zx: np.ndarray, zy: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:func:`_slopes` with model weights ``w`` (times each model was drawn): weighted least squares."""
    sw = w.sum(-1, keepdims=True)
    xc = zx - (w * zx).sum(-1, keepdims=True) / sw
    var = (w * xc**2).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var > 1e-12, (w * xc * zy).sum(-1) / np.where(var > 1e-12, var, 1), np.nan)


def fit_line(x, y, *, axes: str = "probit", min_accuracy: float = MIN_ACCURACY) -> Line:
    """The least-squares line of ``g(y)`` on ``g(x)`` over the models with ``x >= min_accuracy``.

    ``x``, ``y``: accuracies (%) of the same models on S and S'. Needs 3 models in the set."""
    xa, ya = _check_accuracies(x, y)
    keep = select(xa, min_accuracy)
    if keep.sum() < 3:
        raise ValueError(f"min_accuracy={min_accuracy!r} leaves {int(keep.sum())} models; a line needs at least 3")
    zx, zy = transform(xa[keep], axes), transform(ya[keep], axes)
    slope = float(_slopes(zx, zy))
    intercept = float(zy.mean() - slope * zx.mean())
    r2 = float(np.corrcoef(zx, zy)[0, 1] ** 2)
    return Line(slope, intercept, r2, int(keep.sum()), axes, float(min_accuracy))


def image_accuracies(correct: np.ndarray, rng: np.random.Generator, k: int) -> np.ndarray:
    """(k, M) accuracies (fractions) of the M models on k bootstrap resamples of the n images:
    each resample draws n images with replacement, the *same* draw for every model (paired)."""
    n = correct.shape[1]
    weights = rng.multinomial(n, np.full(n, 1 / n), size=k).astype(np.float32)  # (k, n) times drawn
    return (weights @ correct.T.astype(np.float32)) / n


def _check_correct(correct_x, correct_y) -> tuple[np.ndarray, np.ndarray]:
    cx, cy = np.asarray(correct_x, dtype=bool), np.asarray(correct_y, dtype=bool)
    if cx.ndim != 2 or cy.ndim != 2 or cx.shape[0] != cy.shape[0] or cx.shape[0] < 3:
        raise ValueError(
            f"need bool (M, n) correctness matrices of the same M >= 3 models on both test sets; "
            f"got shapes {cx.shape} and {cy.shape}"
        )
    if min(cx.shape[1], cy.shape[1]) == 0:
        raise ValueError(f"each test set needs at least one image; got shapes {cx.shape} and {cy.shape}")
    return cx, cy


def bootstrap_slopes(
    correct_x,
    correct_y,
    *,
    axes=("probit",),
    resample: str = "both",
    n_boot: int = N_BOOT,
    seed: int = SEED,
    cluster=None,
) -> dict[str, np.ndarray]:
    """``n_boot`` refitted slopes per link in ``axes``, all from the same replicates.

    ``correct_x``, ``correct_y``: bool ``(M, n_x)``, ``(M, n_y)``, the same models (same rows) on S
    and S'. Each replicate, with ``resample``: ``"images"`` redraws the images of S and of S'
    (independently of each other, the same draw for every model, :func:`image_accuracies`);
    ``"models"`` draws M models with replacement (accuracies as measured); ``"both"`` first the
    images, then the models. With ``cluster`` (one code per model, :func:`clusters`) the models are
    drawn by cluster: C clusters with replacement, each model weighted by its cluster's count
    (weighted least squares), so ports of one architecture move together."""
    cx, cy = _check_correct(correct_x, correct_y)
    codes = None
    if cluster is not None:
        codes = pd.factorize(np.asarray(cluster))[0]
        if codes.shape != (cx.shape[0],):
            raise ValueError(f"cluster needs one code per model ({cx.shape[0]}); got shape {np.shape(cluster)}")
        if codes.max() + 1 < 3:
            raise ValueError(f"a line needs at least 3 clusters of models; got {codes.max() + 1}")
    if resample not in RESAMPLED:
        raise ValueError(f"resample must be one of {tuple(RESAMPLED)}; got {resample!r}")
    if int(n_boot) != n_boot or n_boot < 1:
        raise ValueError(f"n_boot must be a whole number >= 1; got {n_boot!r}")
    for a in axes:
        transform(50.0, a)  # names a bad link
    run = functools.partial(
        _bootstrap_slopes, cx, cy, axes=tuple(axes), resample=resample, n_boot=n_boot, seed=seed, codes=codes
    )
    if resample == "models" or cx.size + cy.size < CACHE_MIN_CELLS:
        return run()
    # a replicate costs a pass over every image of every model: keep the replicates of a large
    # table (the 67 ImageNetV2 models: 4 chapters fit the same line) in the result cache
    settings = {
        "function": "bootstrap_slopes",
        "axes": list(axes),
        "resample": resample,
        "n_boot": int(n_boot),
        "seed": int(seed),
        "cluster": None if codes is None else codes.tolist(),
        "numpy": np.__version__,  # the random stream
    }
    boot = result_cache.cached(
        "line_bootstrap",
        settings,
        lambda: {a: torch.from_numpy(np.ascontiguousarray(v)) for a, v in run().items()},
        tensors=[torch.from_numpy(np.ascontiguousarray(cx)), torch.from_numpy(np.ascontiguousarray(cy))],
        code=(sys.modules[__name__],),
        models=0,
    )
    return {a: v.numpy() for a, v in boot.items()}


def _bootstrap_slopes(cx, cy, *, axes, resample, n_boot, seed, codes) -> dict[str, np.ndarray]:
    """:func:`bootstrap_slopes` without the cache (inputs checked; ``codes``: cluster codes or None)."""
    m = cx.shape[0]
    ax, ay = cx.mean(1), cy.mean(1)
    rng = np.random.default_rng(seed)
    out: dict[str, list] = {a: [] for a in axes}
    for start in range(0, int(n_boot), 100):
        k = min(100, int(n_boot) - start)
        if resample == "models":
            bx, by = np.broadcast_to(ax, (k, m)), np.broadcast_to(ay, (k, m))
        else:
            bx, by = image_accuracies(cx, rng, k).astype(float), image_accuracies(cy, rng, k).astype(float)
        if resample != "images" and codes is not None:
            n_c = int(codes.max()) + 1
            w = rng.multinomial(n_c, np.full(n_c, 1 / n_c), size=k)[:, codes].astype(float)  # (k, M)
            for a in axes:
                out[a].append(_weighted_slopes(transform(100 * bx, a), transform(100 * by, a), w))
            continue
        if resample != "images":
            idx = rng.integers(0, m, (k, m))
            bx, by = np.take_along_axis(bx, idx, 1), np.take_along_axis(by, idx, 1)
        for a in axes:
            out[a].append(_slopes(transform(100 * bx, a), transform(100 * by, a)))
    return {a: np.concatenate(v) for a, v in out.items()}


def _interval(boot: np.ndarray, slope: float, level: float) -> list[float]:
    lo, hi = np.nanquantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return [float(min(lo, slope)), float(max(hi, slope))]


def slope_interval(
    correct_x,
    correct_y,
    *,
    axes: str = "probit",
    min_accuracy: float = MIN_ACCURACY,
    resample: str = "both",
    n_boot: int = N_BOOT,
    level: float = LEVEL,
    seed: int = SEED,
    cluster=None,
) -> dict:
    """The slope of the line over the declared model set and its percentile interval from
    :func:`bootstrap_slopes` (models and images by default; with ``cluster``, one code per model,
    the models are drawn by cluster).

    Returns ``{"slope", "ci", "models", "clusters", "axes", "min_accuracy", "resampled", "n_boot",
    "level"}`` (``clusters``: None without ``cluster``)."""
    cx, cy = _check_correct(correct_x, correct_y)
    if cluster is not None and np.shape(cluster) != (cx.shape[0],):
        raise ValueError(f"cluster needs one code per model ({cx.shape[0]}); got shape {np.shape(cluster)}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1); got {level!r}")
    fit = fit_line(100 * cx.mean(1), 100 * cy.mean(1), axes=axes, min_accuracy=min_accuracy)
    keep = select(100 * cx.mean(1), min_accuracy)
    kept_cluster = None if cluster is None else np.asarray(cluster)[keep]
    boot = bootstrap_slopes(
        cx[keep], cy[keep], axes=(axes,), resample=resample, n_boot=n_boot, seed=seed, cluster=kept_cluster
    )[axes]
    return {
        "slope": fit.slope,
        "ci": _interval(boot, fit.slope, level),
        "models": fit.n,
        "clusters": None if kept_cluster is None else int(len(np.unique(kept_cluster))),
        "axes": axes,
        "min_accuracy": float(min_accuracy),
        "resampled": RESAMPLED[resample],
        "n_boot": int(n_boot),
        "level": float(level),
    }


def models_only_interval(
    x,
    y,
    *,
    axes: str = "probit",
    min_accuracy: float = MIN_ACCURACY,
    n_boot: int = N_BOOT,
    level: float = LEVEL,
    seed: int = SEED,
) -> dict:
    """:func:`slope_interval` for a table of accuracies (%) without per-image predictions: the
    interval resamples the models only (each accuracy's image noise, shared by all models, is left
    out, so the interval is too narrow by that much). Same keys as :func:`slope_interval`."""
    xa, ya = _check_accuracies(x, y)
    if int(n_boot) != n_boot or n_boot < 1 or not 0 < level < 1:
        raise ValueError(f"n_boot must be a whole number >= 1 and level in (0, 1); got {n_boot!r}, {level!r}")
    fit = fit_line(xa, ya, axes=axes, min_accuracy=min_accuracy)
    keep = select(xa, min_accuracy)
    zx, zy = transform(xa[keep], axes), transform(ya[keep], axes)
    idx = np.random.default_rng(seed).integers(0, fit.n, (int(n_boot), fit.n))
    boot = _slopes(zx[idx], zy[idx])
    return {
        "slope": fit.slope,
        "ci": _interval(boot, fit.slope, level),
        "models": fit.n,
        "axes": axes,
        "min_accuracy": float(min_accuracy),
        "resampled": RESAMPLED["models"],
        "n_boot": int(n_boot),
        "level": float(level),
    }


def judged(entry: dict) -> bool:
    """Does the entry's interval carry a verdict against 1? Not when it resampled the models only
    (``entry["resampled"]``, :data:`RESAMPLED`): that interval leaves out the shared image noise."""
    return entry.get("resampled", RESAMPLED["both"]) != RESAMPLED["models"]


def verdict(entry: dict) -> stats.Verdict:
    """The slope of an interval entry against 1 (:func:`reliable_ml.stats.against_reference`):
    "lower" only when the whole interval lies below 1, "higher" when above, else "cannot tell".
    Models-only entries (:func:`judged` False) get no verdict: a ValueError says so."""
    if not judged(entry):
        raise ValueError(f"an interval over {entry['resampled']} carries no verdict against 1 ({NOT_JUDGED})")
    return stats.against_reference(entry["slope"], entry["ci"], 1.0, alpha=1 - entry["level"])


def words(entry: dict) -> str:
    """The verdict on the slope in words, with its size and interval (:func:`reliable_ml.stats.phrase`);
    :data:`NOT_JUDGED` for a models-only entry."""
    if not judged(entry):
        return NOT_JUDGED
    return stats.phrase(
        verdict(entry), "above 1", "below 1", "not distinguishable from 1", scale=1.0, unit="", digits=3
    )


def record(entry: dict, model_set: str) -> dict:
    """The results-file form of an entry: ``{"slope", "ci", "model_set", ...}``, rounded to 4 decimals,
    with the verdict against 1 (:data:`NOT_JUDGED` for a models-only entry)."""
    return {
        "slope": round(entry["slope"], 4),
        "ci": [round(v, 4) for v in entry["ci"]],
        "model_set": model_set,
        **{k: entry[k] for k in ("models", "axes", "min_accuracy", "resampled", "n_boot", "level")},
        **({"clusters": entry["clusters"]} if entry.get("clusters") is not None else {}),
        "vs_1": verdict(entry).direction if judged(entry) else NOT_JUDGED,
    }


def imagenetv2_matched_frequency(released) -> dict:
    """THE ImageNetV2 MatchedFrequency line every chapter quotes: MatchedFrequency on ImageNet val,
    over the declared model set among the 67 models whose per-image predictions Recht et al. (2019)
    released (original evaluation, all trained on ImageNet alone), probit axes, models and images
    resampled, the models by architecture (:func:`clusters`: ports of one network from several
    frameworks are one draw). ``released``: a :class:`reliable_ml.shift.reanalysis.Released` with
    correctness ``"val"`` and ``"matched_frequency"``. Returns :func:`record`'s form."""
    entry = slope_interval(
        released.correct["val"], released.correct["matched_frequency"], cluster=clusters(released.models)
    )
    return record(entry, f"{MODEL_SET} (ImageNet val), among the 67 released models (original evaluation)")


def cifar10_1(released) -> dict:
    """THE CIFAR-10.1 (v6) line: v6 on the CIFAR-10 test set over the declared model set among the
    published models of Recht et al. (2019), probit axes, models and images resampled.
    ``released``: correctness ``"original"`` and ``"v6"``. Returns :func:`record`'s form."""
    entry = slope_interval(released.correct["original"], released.correct["v6"])
    return record(entry, f"{MODEL_SET} (CIFAR-10 test set), among the published models with released predictions")


def numbers(prefix: str, rec: dict | None) -> dict:
    """What the prose quotes about one recorded line: ``<prefix>_slope``, ``_lo``, ``_hi``, ``_n``,
    ``_min`` (the floor, %), ``_words`` (:func:`words`) and ``_set`` (the model set); nothing for None
    (the chapter's ``glue_missing`` fills NaN); with clusters, ``_clusters`` too."""
    if rec is None:
        return {}
    entry = {"slope": rec["slope"], "ci": rec["ci"], "level": rec["level"], "resampled": rec["resampled"]}
    return {
        f"{prefix}_slope": rec["slope"],
        f"{prefix}_lo": rec["ci"][0],
        f"{prefix}_hi": rec["ci"][1],
        f"{prefix}_n": rec["models"],
        f"{prefix}_min": rec["min_accuracy"],
        f"{prefix}_words": words(entry),
        f"{prefix}_set": rec["model_set"],
        **({f"{prefix}_clusters": rec["clusters"]} if rec.get("clusters") is not None else {}),
    }


def threshold_curve(
    correct_x, correct_y, thresholds=THRESHOLDS, *, axes: str = "probit", n_boot: int = N_BOOT, seed: int = SEED
) -> pd.DataFrame:
    """The slope against the fitting floor: for each threshold (%, on S) that leaves at least 3
    models, the slope over those models with two percentile intervals: over models and images
    (each replicate: one paired draw of the images of S and S', shared by every threshold, then
    the kept models with replacement) and over models only (:func:`models_only_interval`).
    Columns ``threshold``, ``models``, ``slope``, ``lo``, ``hi``, ``lo_models``, ``hi_models``.
    (The quoted interval at :data:`MIN_ACCURACY` comes from :func:`slope_interval`, its own draws;
    the two agree up to bootstrap noise.)"""
    cx, cy = _check_correct(correct_x, correct_y)
    if int(n_boot) != n_boot or n_boot < 1:
        raise ValueError(f"n_boot must be a whole number >= 1; got {n_boot!r}")
    acc_x, acc_y = 100 * cx.mean(1), 100 * cy.mean(1)
    kept = {float(t): np.flatnonzero(select(acc_x, t)) for t in thresholds}
    kept = {t: k for t, k in kept.items() if len(k) >= 3}
    if not kept:
        raise ValueError(f"no threshold in {tuple(thresholds)!r} leaves 3 models")

    def draw() -> dict:
        rng = np.random.default_rng(seed)
        boot: dict[float, list] = {t: [] for t in kept}
        for start in range(0, int(n_boot), 100):
            k = min(100, int(n_boot) - start)
            bx, by = image_accuracies(cx, rng, k).astype(float), image_accuracies(cy, rng, k).astype(float)
            for t, rows in kept.items():
                idx = rows[rng.integers(0, len(rows), (k, len(rows)))]
                zx = transform(100 * np.take_along_axis(bx, idx, 1), axes)
                boot[t].append(_slopes(zx, transform(100 * np.take_along_axis(by, idx, 1), axes)))
        return {str(t): np.concatenate(v) for t, v in boot.items()}

    # a replicate costs a pass over every image of every model: keep the replicates of a large table
    settings = {"function": "threshold_curve", "thresholds": list(kept), "axes": axes, "n_boot": int(n_boot),
                "seed": int(seed)}  # fmt: skip
    boot = result_cache.cached_arrays(
        "threshold_curve",
        settings,
        draw,
        arrays=(cx, cy),
        code=(sys.modules[__name__],),
        enabled=cx.size + cy.size >= CACHE_MIN_CELLS,
    )
    out = []
    for t in kept:
        fit = fit_line(acc_x, acc_y, axes=axes, min_accuracy=t)
        lo, hi = _interval(boot[str(t)], fit.slope, LEVEL)
        only = models_only_interval(acc_x, acc_y, axes=axes, min_accuracy=t, n_boot=n_boot, seed=seed)
        out.append({"threshold": t, "models": fit.n, "slope": fit.slope, "lo": lo, "hi": hi,
                    "lo_models": only["ci"][0], "hi_models": only["ci"][1]})  # fmt: skip
    return pd.DataFrame(out)


def plot_threshold_curve(ax, table: pd.DataFrame, *, label: str, x_label: str) -> None:
    """Slope against the fitting floor: intervals over models and images (thick bars) and models
    only (thin bars), 1 dashed, and the declared floor :data:`MIN_ACCURACY` marked."""
    t = table["threshold"].to_numpy()
    s = table["slope"].to_numpy()
    ax.errorbar(t, s, yerr=[s - table["lo"], table["hi"] - s], fmt="o", color="tab:blue", lw=2.0, capsize=3,
                label=f"{label}: models and images resampled")  # fmt: skip
    ax.errorbar(t + 0.6, s, yerr=[s - table["lo_models"], table["hi_models"] - s], fmt="none", color="tab:orange",
                lw=1.0, capsize=2, label="models only resampled")  # fmt: skip
    for x, y, n in zip(t, s, table["models"]):
        ax.annotate(f"{n}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7, color="0.3")
    ax.axhline(1.0, ls="--", color="0.4", lw=0.8, label="slope 1")
    ax.axvline(MIN_ACCURACY, ls=":", color="tab:green", lw=1.0, label=f"declared floor: {MODEL_SET}")
    ax.set_xlabel(x_label)
    ax.set_ylabel("slope of the probit line")
    ax.legend(fontsize=7, loc="lower right")
