"""Accuracy on the line and effective robustness (Taori et al. 2020; Miller et al. 2021).

For a distribution shift, each model gives a pair of top-1 accuracies: ``x`` on the
in-distribution test set (ImageNet ``val``, or ``val`` restricted to the shift's classes) and
``y`` on the shifted test set. Over *standard* models these pairs fall on a line after probit
scaling,

    probit(y) = slope * probit(x) + intercept,     probit = Phi^{-1},

and a model's **effective robustness** is its signed distance from that line, in accuracy points,
positive above it and negative below:

    ER(model) = 100 * (y - Phi(slope * Phi^{-1}(x) + intercept))     (x, y as fractions).

This module holds the shift registry (shift name -> testbed CSV columns), the rules that group
the testbed's models (standard / robustness intervention / more data / self-supervised), and
the fit and effective-robustness computations. Accuracies in frames are percentages, as in
the testbed CSV; :mod:`reliable_ml.stats` works in fractions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from reliable_ml import stats
from reliable_ml.stats import LineFit, bootstrap_band, bootstrap_indices, probit, probit_linear_fit

# ----------------------------------------------------------------------------- shift registry
KINDS = ("natural", "consistency", "synthetic", "adversarial")


@dataclass(frozen=True)
class Shift:
    """One distribution shift of the testbed.

    ``x_col``: in-distribution accuracy column (``val``, or ``val`` on the shift's class
    subset so both axes score the same classes); ``y_cols``: shifted accuracy columns,
    averaged (ImageNet-C averages corruptions x severities).
    """

    name: str
    label: str
    kind: str
    x_col: str
    y_cols: tuple[str, ...]


# The 15 ImageNet-C corruptions of Hendrycks & Dietterich (2019), and the 4 extra ones.
IMAGENET_C_CORRUPTIONS: tuple[str, ...] = (
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "defocus_blur",
    "glass_blur",
    "motion_blur",
    "zoom_blur",
    "snow",
    "frost",
    "fog",
    "brightness",
    "contrast",
    "elastic_transform",
    "pixelate",
    "jpeg_compression",
)
IMAGENET_C_EXTRA: tuple[str, ...] = ("gaussian_blur", "saturate", "spatter", "speckle_noise")
SEVERITIES: tuple[int, ...] = (1, 2, 3, 4, 5)


def _imagenet_c_cols(corruptions: Iterable[str]) -> tuple[str, ...]:
    """Testbed columns of ImageNet-C as released (JPEG files on disk), every severity."""
    return tuple(f"imagenet-c.{c}.{s}_on-disk" for c in corruptions for s in SEVERITIES)


def _build_registry() -> dict[str, Shift]:
    shifts = [
        Shift(
            "imagenetv2-matched-frequency",
            "ImageNetV2 MatchedFrequency",
            "natural",
            "val",
            ("imagenetv2-matched-frequency-format-val",),
        ),
        Shift(
            "imagenetv2-threshold0.7",
            "ImageNetV2 Threshold0.7",
            "natural",
            "val",
            ("imagenetv2-threshold-0.7-format-val",),
        ),
        Shift("imagenetv2-top-images", "ImageNetV2 TopImages", "natural", "val", ("imagenetv2-top-images-format-val",)),
        Shift("imagenet-sketch", "ImageNet-Sketch", "natural", "val", ("imagenet-sketch",)),
        Shift("imagenet-r", "ImageNet-R (200 classes)", "natural", "val-on-imagenet-r-classes", ("imagenet-r",)),
        Shift("objectnet", "ObjectNet (113 classes)", "natural", "val-on-objectnet-classes", ("objectnet-1.0-beta",)),
        Shift("imagenet-a", "ImageNet-A (200 classes)", "natural", "val-on-imagenet-a-classes", ("imagenet-a",)),
        Shift(
            "imagenet-vid-robust",
            "ImageNet-Vid-Robust (anchor frames)",
            "natural",
            "val-on-vid-robust-classes",
            ("imagenet-vid-robust_pm0",),
        ),
        Shift(
            "ytbb-robust", "YTBB-Robust (anchor frames)", "natural", "val-on-ytbb-robust-classes", ("ytbb-robust_pm0",)
        ),
        Shift(
            "imagenet-vid-robust-pm10",
            "ImageNet-Vid-Robust (worst of +-10 frames)",
            "consistency",
            "val-on-vid-robust-classes",
            ("imagenet-vid-robust_pm10",),
        ),
        Shift(
            "ytbb-robust-pm10",
            "YTBB-Robust (worst of +-10 frames)",
            "consistency",
            "val-on-ytbb-robust-classes",
            ("ytbb-robust_pm10",),
        ),
        Shift(
            "imagenet-c",
            "ImageNet-C (15 corruptions x 5 severities)",
            "synthetic",
            "val",
            _imagenet_c_cols(IMAGENET_C_CORRUPTIONS),
        ),
        *[
            Shift(
                f"imagenet-c.{c}",
                f"ImageNet-C {c.replace('_', ' ')} (5 severities)",
                "synthetic",
                "val",
                _imagenet_c_cols([c]),
            )
            for c in IMAGENET_C_CORRUPTIONS + IMAGENET_C_EXTRA
        ],
        Shift("stylized-imagenet", "Stylized ImageNet", "synthetic", "val", ("stylized_imagenet",)),
        Shift("greyscale", "Greyscale ImageNet", "synthetic", "val", ("greyscale",)),
        *[
            Shift(
                f"pgd.{norm}.eps{eps}",
                f"PGD {norm.replace('linf', 'Linf').replace('l2', 'L2')} (testbed setting eps{eps})",
                "adversarial",
                "val",
                (f"pgd.{norm}.eps{eps}",),
            )
            for norm, eps in (("linf", "0.5"), ("linf", "2"), ("l2", "0.1"), ("l2", "0.5"))
        ],
    ]
    return {s.name: s for s in shifts}


SHIFTS: dict[str, Shift] = _build_registry()


def available_shifts(kind: str | None = None) -> list[str]:
    """Registered shift names, optionally of one ``kind`` (natural, consistency, synthetic, adversarial)."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown shift kind {kind!r}; allowed: {', '.join(KINDS)}")
    return [name for name, s in SHIFTS.items() if kind is None or s.kind == kind]


def get_shift(shift: str | Shift) -> Shift:
    """The registered :class:`Shift` called ``shift``; ``ValueError`` listing the names if unknown."""
    if isinstance(shift, Shift):
        return shift
    if shift not in SHIFTS:
        raise ValueError(f"unknown shift {shift!r}; available shifts: {', '.join(SHIFTS)}")
    return SHIFTS[shift]


# ----------------------------------------------------------------------------- model groups
GROUPS = ("standard", "robustness intervention", "more data", "self-supervised (ImageNet only)")


class GroupRule(NamedTuple):
    """``pattern`` (regex, searched in the model name) -> ``group``; ``kind`` refines it."""

    pattern: str
    group: str
    kind: str
    why: str


# First matching rule wins; models matching none are "standard" (ImageNet-1k, labels, ordinary
# crop/flip augmentation), which includes the low-accuracy baselines added for Miller et al.
# (2021): early-stopped ResNets, subsampled training sets, least squares and random forests.
GROUP_RULES: tuple[GroupRule, ...] = (
    GroupRule(
        r"randomized_smoothing_noise_0\.00$",
        "standard",
        "baseline",
        "randomized-smoothing code with noise 0: ordinary training",
    ),
    GroupRule(
        r"^instagram-|^FixResNeXt101_32x48d",
        "more data",
        "Instagram",
        "pre-trained on ~1B Instagram images (weakly supervised by hashtags)",
    ),
    GroupRule(
        r"_swsl$|_ssl$",
        "more data",
        "YFCC100M / Instagram",
        "semi-(weakly) supervised pre-training on YFCC100M or 1B Instagram images",
    ),
    GroupRule(
        r"^BiT-M-|imagenet21k|imagenet11k",
        "more data",
        "ImageNet-21k",
        "pre-trained on the full ImageNet-21k (11-14M images)",
    ),
    GroupRule(
        r"^vit_(base|large)_",
        "more data",
        "ImageNet-21k",
        "ViT-B/L checkpoints are pre-trained on ImageNet-21k (ViT-S/16 is ImageNet-1k only)",
    ),
    GroupRule(r"jft|noisystudent", "more data", "JFT-300M", "JFT-300M, labelled or (Noisy Student) pseudo-labelled"),
    GroupRule(r"tencent-ml-images", "more data", "ML-Images", "pre-trained on Tencent ML-Images (~18M)"),
    GroupRule(r"clip", "more data", "CLIP", "zero-shot CLIP, 400M image-text pairs"),
    GroupRule(
        r"simclr|swav|simsiam|vtab",
        "self-supervised (ImageNet only)",
        "self-supervised",
        "self- or semi-supervised on ImageNet-1k (SimCLRv2, SwAV, SimSiam, VTAB rotation/exemplar)",
    ),
    GroupRule(
        r"advprop",
        "robustness intervention",
        "AdvProp",
        "adversarial examples as an auxiliary augmentation (AdvProp + AutoAugment EfficientNets), not Lp-robust",
    ),
    GroupRule(
        r"adv|_robust$|denoise",
        "robustness intervention",
        "adversarial training",
        "Lp adversarial training (PGD, free, feature denoising, SmoothAdv)",
    ),
    GroupRule(
        r"smoothing",
        "robustness intervention",
        "noise / smoothing",
        "Gaussian-noise training for randomized smoothing (incl. SmoothAdv)",
    ),
    GroupRule(
        r"augmix|deepaugment|_SIN|_with_.+_aws$|rotation",
        "robustness intervention",
        "robustness augmentation",
        "augmentation aimed at robustness: AugMix, DeepAugment, Stylized-ImageNet, "
        "ImageNet-C-style corruptions, rotations",
    ),
    GroupRule(
        r"(?i)cutmix|mixup|cutout|autoaug|randaug",
        "robustness intervention",
        "generic augmentation",
        "augmentation beyond crop/flip: CutMix, Mixup, Cutout, AutoAugment, RandAugment",
    ),
    GroupRule(r"_lpf\d$", "robustness intervention", "anti-aliasing", "anti-aliased (low-pass filtered) downsampling"),
)


def model_group(name: str) -> GroupRule:
    """The first :data:`GROUP_RULES` entry whose pattern is found in ``name``, else standard."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"model name must be a non-empty string; got {name!r}")
    for rule in GROUP_RULES:
        if re.search(rule.pattern, name):
            return rule
    return GroupRule("", "standard", "standard", "ImageNet-1k, standard training (no rule matched)")


#: ``pattern`` (regex, searched in the model name) -> the source (paper or release) of the checkpoint,
#: first match wins; a model matching none is its own source. Models from one source share a code
#: base, a training recipe and often a backbone, so a test of a group's mean resamples sources,
#: not models (an assignment by name, as in the testbed's model list; checked against it).
SOURCE_RULES: tuple[tuple[str, str], ...] = (
    (r"advprop", "Xie et al. 2020 (AdvProp)"),
    (r"^efficientnet-b\d-autoaug$", "Tan and Le 2019 (EfficientNet, AutoAugment)"),
    (r"^efficientnet-b\d-randaug$", "Cubuk et al. 2020 (RandAugment)"),
    (r"noisystudent", "Xie et al. 2020 (Noisy Student)"),
    (r"^facebook_adv", "Xie et al. 2019 (feature denoising)"),
    (r"smoothing_adversarial", "Salman et al. 2019 (SmoothAdv)"),
    (r"randomized_smoothing", "Cohen et al. 2019 (randomized smoothing)"),
    (r"adv-train-free", "Shafahi et al. 2019 (free adversarial training)"),
    (r"_robust$", "Engstrom et al. 2019 (robustness library)"),
    (r"rotation", "Engstrom et al. 2019 (rotations)"),
    (r"_lpf\d$", "Zhang 2019 (anti-aliasing)"),
    (r"_aws$", "Taori et al. 2020 (corruption augmentation)"),
    (r"_SIN", "Geirhos et al. 2019 (Stylized-ImageNet)"),
    (r"deepaugment", "Hendrycks et al. 2021 (DeepAugment)"),
    (r"augmix", "Hendrycks et al. 2020 (AugMix)"),
    (r"^FixRes", "Touvron et al. 2019 (FixRes)"),
    (r"cutmix", "Yun et al. 2019 (CutMix)"),
    (r"^BiT-M-", "Kolesnikov et al. 2020 (BiT)"),
    (r"^instagram-", "Mahajan et al. 2018 (Instagram)"),
    (r"_swsl$|_ssl$", "Yalniz et al. 2019 (semi-supervised)"),
    (r"^vit_", "Dosovitskiy et al. 2021 (ViT)"),
    (r"clip", "Radford et al. 2021 (CLIP)"),
)


def model_source(name: str) -> str:
    """The source of checkpoint ``name``: the first :data:`SOURCE_RULES` match, else the name itself."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"model name must be a non-empty string; got {name!r}")
    return next((src for pattern, src in SOURCE_RULES if re.search(pattern, name)), name)


def source_means(values: pd.Series) -> pd.Series:
    """The mean of ``values`` (indexed by model name) within each source (:func:`model_source`),
    missing values dropped first: one number per source, the unit a clustered test resamples."""
    v = pd.Series(values, dtype=float).dropna()
    return v.groupby([model_source(n) for n in v.index]).mean()


def group_models(names: Iterable[str]) -> pd.DataFrame:
    """One row per model name: ``group``, ``kind``, ``rule`` (the matching pattern)."""
    rows = {n: model_group(n) for n in names}
    return pd.DataFrame(
        {
            "group": {n: r.group for n, r in rows.items()},
            "kind": {n: r.kind for n, r in rows.items()},
            "rule": {n: r.pattern or "(default)" for n, r in rows.items()},
        },
        columns=["group", "kind", "rule"],
    )


# ----------------------------------------------------------------------------- points and fits
def _by_model(frame: pd.DataFrame) -> pd.DataFrame:
    if "model" in frame.columns:
        return frame.set_index("model")
    return frame


def shift_points(frame: pd.DataFrame, shift: str | Shift) -> pd.DataFrame:
    """Per model: ``x`` (in-distribution %) and ``y`` (shifted %, mean of the shift's columns).

    ``frame`` is the testbed table (accuracies in %, a ``model`` column or index). Models
    missing any needed column value are dropped. Adds ``group`` and ``kind`` from the names.
    """
    spec = get_shift(shift)
    table = _by_model(frame)
    missing = [c for c in (spec.x_col, *spec.y_cols) if c not in table.columns]
    if missing:
        raise ValueError(f"shift {spec.name!r} needs testbed columns {missing} that the table lacks")
    y_all = table[list(spec.y_cols)].apply(pd.to_numeric, errors="coerce")
    points = pd.DataFrame(
        {"x": pd.to_numeric(table[spec.x_col], errors="coerce"), "y": y_all.mean(axis=1, skipna=False)}
    )
    points = points[np.isfinite(points["x"]) & np.isfinite(points["y"])]
    points.index.name = "model"
    return points.join(group_models(points.index))


def fit_selection(
    points: pd.DataFrame, fit_groups: Iterable[str] = ("standard",), fit_min_x: float = 0.0
) -> pd.DataFrame:
    """The rows a line is fitted to: models in ``fit_groups`` with ``x >= fit_min_x`` (%)."""
    fit_groups = tuple(fit_groups)
    unknown = [g for g in fit_groups if g not in GROUPS]
    if unknown:
        raise ValueError(f"unknown model groups {unknown}; allowed: {', '.join(GROUPS)}")
    if not 0 <= fit_min_x < 100:
        raise ValueError(f"fit_min_x is an accuracy in % and must lie in [0, 100); got {fit_min_x!r}")
    return points[points["group"].isin(fit_groups) & (points["x"] >= fit_min_x)]


def fit_points(points: pd.DataFrame, fit_groups: Iterable[str] = ("standard",), fit_min_x: float = 0.0) -> LineFit:
    """Probit line ``probit(y/100) = slope * probit(x/100) + intercept`` over ``fit_groups``.

    Only models with in-distribution accuracy ``x >= fit_min_x`` (%) enter the fit.
    """
    sel = fit_selection(points, fit_groups, fit_min_x)
    if len(sel) < 3:
        raise ValueError(
            f"need at least 3 models in groups {tuple(fit_groups)} with x >= {fit_min_x}% to fit a line; got {len(sel)}"
        )
    return probit_linear_fit(sel["x"].to_numpy() / 100, sel["y"].to_numpy() / 100)


def effective_robustness_points(points: pd.DataFrame, fit: LineFit) -> pd.Series:
    """ER in accuracy points: ``y - 100 * fit.predict(x / 100)`` for every row of ``points``."""
    predicted = 100 * fit.predict(points["x"].to_numpy() / 100)
    return pd.Series(points["y"].to_numpy() - predicted, index=points.index, name="effective_robustness")


def fit_shift(
    frame: pd.DataFrame, shift: str | Shift, fit_groups: Iterable[str] = ("standard",), fit_min_x: float = 0.0
) -> LineFit:
    """Fit the probit-scaled line of shifted vs in-distribution accuracy over standard models."""
    return fit_points(shift_points(frame, shift), fit_groups, fit_min_x)


def effective_robustness(frame: pd.DataFrame, shift: str | Shift, fit: LineFit) -> pd.Series:
    """Effective robustness (points) of every testbed model with both accuracies for ``shift``."""
    return effective_robustness_points(shift_points(frame, shift), fit)


def mean_by_group(points: pd.DataFrame, column: str = "er") -> dict[str, float]:
    """Mean of ``column`` per group, in :data:`GROUPS` order (groups with no models left out)."""
    means = points.groupby("group")[column].mean()
    return {g: float(means[g]) for g in GROUPS if g in means.index}


class ShiftAnalysis(NamedTuple):
    """Everything one panel of the chapter draws: points (with ``er``), fit, bootstrap band."""

    shift: Shift
    points: pd.DataFrame
    fit: LineFit
    grid: np.ndarray
    band: tuple[np.ndarray, np.ndarray]


def analyze_points(
    points: pd.DataFrame,
    shift: Shift,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    fit_groups: Iterable[str] = ("standard",),
    fit_min_x: float = 0.0,
) -> ShiftAnalysis:
    """Fit, effective robustness and a pointwise bootstrap band (over the fit models) on a grid.

    ``points`` gains ``predicted`` (%) and ``er`` (points) columns. The grid spans the x range
    of all points, in fractions; the band is the ((1 - level)/2, (1 + level)/2) quantile of
    lines refitted to bootstrap resamples of the fit models (``stats.bootstrap_band``).
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1; got {n_boot!r}")
    fit = fit_points(points, fit_groups, fit_min_x)
    points = points.assign(predicted=100 * fit.predict(points["x"].to_numpy() / 100))
    points = points.assign(er=points["y"] - points["predicted"])
    sel = fit_selection(points, fit_groups, fit_min_x)
    lo, hi = points["x"].min() / 100, points["x"].max() / 100
    grid = np.linspace(max(lo, 1e-4), min(hi, 1 - 1e-4), 60)
    band = _cached_band(
        sel["x"].to_numpy() / 100, sel["y"].to_numpy() / 100, grid, n_boot=n_boot, level=level, seed=seed
    )
    return ShiftAnalysis(shift, points, fit, grid, band)


def _cached_band(x, y, grid, *, n_boot: int, level: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`reliable_ml.stats.bootstrap_band`, kept in the result cache keyed by the points, the
    grid, ``n_boot``, ``level``, ``seed`` and the code of :mod:`reliable_ml.stats` (46 lines a
    chapter 8 run draws again otherwise)."""
    from reliable_ml.util import result_cache

    band = result_cache.cached_arrays(
        "line_band",
        {"function": "bootstrap_band", "n_boot": int(n_boot), "level": float(level), "seed": int(seed)},
        lambda: dict(zip(("lo", "hi"), bootstrap_band(x, y, grid, n_boot=n_boot, level=level, seed=seed))),
        [np.asarray(x, dtype=float), np.asarray(y, dtype=float), np.asarray(grid, dtype=float)],
        code=(stats,),
    )
    return band["lo"], band["hi"]


def analyze_shift(frame: pd.DataFrame, shift: str | Shift, **kwargs) -> ShiftAnalysis:
    """:func:`analyze_points` on the testbed points of ``shift``."""
    spec = get_shift(shift)
    return analyze_points(shift_points(frame, spec), spec, **kwargs)


# ----------------------------------------------------------------------------- drawing
GROUP_STYLE: dict[str, dict] = {
    "standard": {"color": "tab:blue", "marker": "o"},
    "robustness intervention": {"color": "tab:orange", "marker": "s"},
    "more data": {"color": "tab:green", "marker": "^"},
    "self-supervised (ImageNet only)": {"color": "tab:purple", "marker": "D"},
}


def plot_shift(
    ax,
    analysis: ShiftAnalysis,
    *,
    x_label: str | None = None,
    y_label: str | None = None,
    legend: bool = True,
    size: float = 14,
    title: str | None = None,
) -> None:
    """Scatter ``analysis.points`` by group on probit axes, with the fitted line, its bootstrap
    band and ``y = x``; the title carries the fit (slope, intercept, r^2, n)."""
    from scipy.stats import norm

    from reliable_ml.util.plots import probit_axes

    pts, fit, grid = analysis.points, analysis.fit, analysis.grid
    zx = norm.ppf(np.clip(pts["x"].to_numpy() / 100, 1e-4, 1 - 1e-4))
    zy = norm.ppf(np.clip(pts["y"].to_numpy() / 100, 1e-4, 1 - 1e-4))
    for group, style in GROUP_STYLE.items():
        sel = (pts["group"] == group).to_numpy()
        if sel.any():
            ax.scatter(
                zx[sel],
                zy[sel],
                s=size,
                alpha=0.75,
                lw=0.3,
                edgecolor="white",
                label=f"{group} ({sel.sum()})",
                zorder=3,
                **style,
            )
    zg = norm.ppf(grid)
    lo, hi = analysis.band
    ax.fill_between(
        zg,
        norm.ppf(np.clip(lo, 1e-4, 1 - 1e-4)),
        norm.ppf(np.clip(hi, 1e-4, 1 - 1e-4)),
        color="tab:blue",
        alpha=0.2,
        lw=0,
        label="95% bootstrap band",
        zorder=1,
    )
    ax.plot(zg, fit.slope * zg + fit.intercept, color="tab:blue", lw=1.2, label="probit fit (standard)", zorder=2)
    pad = 0.15  # probit units around the data
    x_rng = tuple(100 * norm.cdf([zx.min() - pad, zx.max() + pad]))
    y_rng = tuple(100 * norm.cdf([zy.min() - pad, zy.max() + pad]))
    probit_axes(ax, x_rng, y_rng)
    zd = np.linspace(*ax.get_xlim(), 2)
    ax.plot(zd, zd, ls="--", color="0.4", lw=0.8, label="y = x", zorder=1)
    ax.set_ylim(*ax.get_ylim())  # y = x may leave the data's range: keep the limits
    ax.set_xlabel(x_label or f"{analysis.shift.x_col} top-1 accuracy (%, probit scale)")
    ax.set_ylabel(y_label or "shifted top-1 accuracy (%, probit scale)")
    ax.set_title(
        title
        or f"{analysis.shift.label}\nslope {fit.slope:.2f}, intercept {fit.intercept:+.2f}, r² {fit.r2:.3f}, n {fit.n}",
        fontsize=9,
    )
    if legend:
        ax.legend(loc="upper left", fontsize=7, markerscale=0.8)


# ----------------------------------------------------------------------------- chapter 8 helpers
def axis_labels(shift: Shift) -> tuple[str, str]:
    """Axis labels for a testbed shift: which ImageNet accuracy is on x, which shifted set on y."""
    x = "ImageNet val top-1 (%)" if shift.x_col == "val" else "ImageNet val top-1, same classes (%)"
    return x, f"{shift.label.split(' (')[0]} top-1 (%)"


def short_label(name: str) -> str:
    """The shift's label without its parenthesised detail (``name`` itself if not registered)."""
    return SHIFTS[name].label.split(" (")[0] if name in SHIFTS else name


def panel_grid(analyses: list, ncols: int = 3, source: str = "", extra: str = ""):
    """Small multiples: one probit panel per shift analysis, the legend in the first panel."""
    import matplotlib.pyplot as plt

    from reliable_ml.util.plots import source_caption

    nrows = int(np.ceil(len(analyses) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 4.0 * nrows), squeeze=False)
    for i, (ax, res) in enumerate(zip(axes.flat, analyses)):
        x_label, y_label = axis_labels(res.shift)
        plot_shift(ax, res, x_label=x_label, y_label=y_label, legend=(i == 0), size=9)
    for ax in list(axes.flat)[len(analyses) :]:
        ax.axis("off")
    source_caption(fig, source, extra)
    return fig


def rule_table(names: Iterable[str]) -> pd.DataFrame:
    """The grouping rules with how many of ``names`` each one claims (first match wins)."""
    counts = group_models(names).groupby("rule").size()
    rows = [
        {
            "pattern (regex)": r.pattern,
            "group": r.group,
            "kind": r.kind,
            "why": r.why,
            "models": int(counts.get(r.pattern, 0)),
        }
        for r in GROUP_RULES
    ]
    rows.append(
        {
            "pattern (regex)": "(no match)",
            "group": "standard",
            "kind": "standard",
            "why": "ImageNet-1k, standard training",
            "models": int(counts.get("(default)", 0)),
        }
    )
    return pd.DataFrame(rows)


def group_table(analyses: dict, shifts: list[str], how: str = "mean") -> pd.DataFrame:
    """Effective robustness (points) per shift (rows) and group (columns), ``mean`` or ``median``
    over the group's models; groups in :data:`GROUPS` order."""
    if how not in ("mean", "median"):
        raise ValueError(f"how must be 'mean' or 'median'; got {how!r}")
    table = pd.DataFrame({s: getattr(analyses[s].points.groupby("group")["er"], how)() for s in shifts}).T
    return table[[g for g in GROUPS if g in table.columns]]


def model_means(analyses: dict, shifts: list[str]) -> pd.DataFrame:
    """Each model's effective robustness averaged over ``shifts`` (those it was evaluated on),
    with its group and kind."""
    by_model = pd.DataFrame({s: analyses[s].points["er"] for s in shifts})
    mean = by_model.mean(axis=1).rename("mean ER over natural shifts").to_frame()
    return mean.join(group_models(mean.index)[["group", "kind"]])


def plot_group_bars(table: pd.DataFrame, source: str):
    """Bars of mean effective robustness per shift (x) and group (colour)."""
    import matplotlib.pyplot as plt

    from reliable_ml.util.plots import source_caption

    fig, ax = plt.subplots(figsize=(10, 4.2))
    width = 0.8 / len(table.columns)
    for j, group in enumerate(table.columns):
        ax.bar(
            np.arange(len(table)) + (j - (len(table.columns) - 1) / 2) * width,
            table[group],
            width=width,
            label=group,
            color=GROUP_STYLE[group]["color"],
        )
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xticks(np.arange(len(table)))
    ax.set_xticklabels([short_label(s) for s in table.index], rotation=30, ha="right", fontsize=8)
    ax.set(
        ylabel="mean effective robustness (accuracy points)",
        xlabel="natural distribution shift",
        title="Effective robustness by model group, natural shifts",
    )
    ax.legend()
    source_caption(fig, source, "lines fitted to standard models")
    return fig


def shift_explorer(analyses: dict, source: str):
    """A dropdown that draws one shift at full size (needs a live kernel; draws nothing headless)."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from reliable_ml.util.plots import source_caption

    shown = widgets.Output()

    def redraw(change: dict) -> None:
        with shown:
            shown.clear_output(wait=True)
            if change["new"] in analyses:
                res = analyses[change["new"]]
                fig, ax = plt.subplots(figsize=(6.4, 5.2))
                plot_shift(ax, res, *axis_labels(res.shift))
                source_caption(fig, source)
                plt.show()

    # Drawing happens only when the value changes, so a headless run writes nothing into the
    # Output widget (an initial draw there, as interactive_output does, once hung papermill).
    placeholder = "(choose a shift)"
    chooser = widgets.Dropdown(options=[placeholder, *analyses], value=placeholder, description="shift")
    chooser.observe(redraw, names="value")
    return widgets.VBox([chooser, shown])


def mnist_zoo_points(
    members: list[str], train_sizes: list[int], *, seed: int, device, cache: bool = True
) -> tuple[pd.DataFrame, str]:
    """Train ``reliable_ml.models.zoo`` members on random MNIST training subsets of each size and score
    them on the MNIST test digits written by Census employees (``x``, %) and by students
    (``y``, %), from QMNIST's writer metadata. ``-aug`` members are the "robustness
    intervention" group. Returns ``(points, data-source label)``; raises ``DataUnavailable``.

    The trained zoos are kept by :func:`reliable_ml.models.zoo.train_zoo_cached`, and with ``cache``
    the points themselves in the result cache (:mod:`reliable_ml.util.result_cache`), keyed by the
    members, sizes, seed, the MNIST images and labels, the writers' populations and the code of
    this module and the zoo: a warm re-run neither trains nor scores a model."""
    import sys

    import torch

    from reliable_ml import data
    from reliable_ml.models import zoo
    from reliable_ml.util import result_cache

    train, test, meta = (
        data.load_images("mnist", "train"),
        data.load_images("mnist", "test"),
        data.qmnist_metadata("test"),
    )
    if not np.array_equal(meta["digit"].to_numpy(), test.y.numpy()):
        raise ValueError("QMNIST test metadata does not line up with the MNIST test labels")
    employee = (meta["population"] == "employee").to_numpy()

    def build() -> dict:
        order = torch.randperm(len(train.y), generator=torch.Generator().manual_seed(seed))
        rows, threads = {}, torch.get_num_threads()
        if torch.device(device).type == "cpu":
            torch.set_num_threads(1)  # these models are tiny: one thread avoids OpenMP synchronisation cost
        try:
            for n in train_sizes:
                idx = order[:n]
                trained = zoo.train_zoo_cached(
                    list(members),
                    train.x[idx].to(device),
                    train.y[idx].to(device),
                    n_classes=10,
                    seed=seed,
                    progress=False,
                )
                for name, pred in zoo.predict_zoo(trained, test.x).items():
                    correct, aug = (pred == test.y).numpy(), trained[name].spec.augment
                    rows[f"{name}@{n}"] = {
                        "x": float(100 * correct[employee].mean()),
                        "y": float(100 * correct[~employee].mean()),
                        "group": "robustness intervention" if aug else "standard",
                        "kind": "translation augmentation" if aug else "standard",
                    }
        finally:
            torch.set_num_threads(threads)
        return rows

    settings = {
        "function": "mnist_zoo_points",
        "members": list(members),
        "train_sizes": [int(n) for n in train_sizes],
        "seed": int(seed),
        "device": torch.device(device).type,
    }
    rows = result_cache.cached(
        "mnist_zoo_points",
        settings,
        build,
        tensors=[train.x, train.y, test.x, test.y, torch.from_numpy(np.array(employee))],  # a writable copy
        code=(sys.modules[__name__], zoo),
        models=len(members) * len(train_sizes),
        enabled=cache,
    )
    points = pd.DataFrame(rows).T.astype({"x": float, "y": float})
    points.index.name = "model"
    return points, f"{test.info.source} + QMNIST writer metadata (Yadav & Bottou 2019)"


MNIST_SHIFT = Shift(
    "mnist-employees-to-students", "MNIST: employees -> students", "natural", "employees", ("students",)
)

# The natural shifts whose effective robustness the chapter quotes, by short key.
HEADLINE_SHIFTS: dict[str, str] = {
    "v2": "imagenetv2-matched-frequency",
    "sketch": "imagenet-sketch",
    "r": "imagenet-r",
    "a": "imagenet-a",
    "objectnet": "objectnet",
}
# A few individual interventions and shifts the chapter spotlights.
SPOTLIGHT_MODELS: tuple[str, ...] = (
    "resnet50_l2_eps3_robust",
    "resnet50_linf_eps4_robust",
    "resnet50_augmix",
    "resnet50_deepaugment_augmix",
    "resnet50_trained_on_SIN_and_IN",
    "resnet50_with_gaussian_noise_aws",
    "resnet50_lpf3",
    "instagram-resnext101_32x8d",
    "resnet50_clip_zeroshot",
)
SPOTLIGHT_SHIFTS: tuple[str, ...] = (
    "imagenetv2-matched-frequency",
    "objectnet",
    "imagenet-r",
    "imagenet-c",
    "imagenet-c.gaussian_noise",
    "pgd.linf.eps0.5",
)


# ----------------------------------------------------------------------------- the slope, with its interval
class SlopeInterval(NamedTuple):
    """Slope of the probit line and its percentile bootstrap interval over models."""

    slope: float
    lo: float
    hi: float
    n: int

    def as_dict(self) -> dict:
        """The results-file form: ``{"slope", "ci": [lo, hi], "models"}``."""
        return {"slope": round(self.slope, 4), "ci": [round(self.lo, 4), round(self.hi, 4)], "models": self.n}


def slope_interval(
    x,
    y,
    *,
    n_boot: int | None = None,
    level: float = 0.95,
    seed: int | None = None,
    n_images: tuple[int, int] | None = None,
) -> SlopeInterval:
    """Least-squares slope of ``probit(y)`` on ``probit(x)`` (accuracies in %, one pair per model)
    with the ((1 - level)/2, (1 + level)/2) percentile interval of the slopes refitted to
    ``n_boot`` resamples of the models (with replacement).

    Without ``n_images`` this is :func:`reliable_ml.shift.line.models_only_interval` over every
    model given (the course's one line function, same draws): an interval over models only, for
    tables without per-image predictions. ``n_boot`` and ``seed`` default to the course's
    ``line.N_BOOT`` and ``line.SEED``, so every chapter that quotes a testbed slope quotes the same
    interval. With ``n_images = (n_x, n_y)`` (the sizes of the two
    test sets) each resample also redraws every model's accuracies as Binomial(n_x, x)/n_x and
    Binomial(n_y, y)/n_y, drawn independently per model: unpaired, it misses the correlation that
    shared images add (:func:`reliable_ml.shift.line.slope_interval` pairs them where per-image
    predictions exist), and the chapters no longer quote it. Neither covers the choice of the
    model set, which moves a probit slope more when the line curves
    (:func:`reliable_ml.shift.line.threshold_curve`).

    How to read the slope b of ``probit(y) = a + b probit(x)``: the drop on the probit scale is
    ``probit(x) - probit(y) = (1 - b) probit(x) - a``. At b = 1 it is the same for every model;
    below 1 it grows with accuracy (better models lose *more* in probit units; in points the
    drop can still shrink near 100%, where the scale is compressed); above 1 it shrinks (better
    models lose less).
    """
    from reliable_ml.shift import line

    n_boot = line.N_BOOT if n_boot is None else n_boot
    seed = line.SEED if seed is None else seed
    x_arr, y_arr = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x_arr.shape != y_arr.shape or x_arr.ndim != 1:
        raise ValueError(f"x and y must be 1-d and of the same length; got {x_arr.shape} and {y_arr.shape}")
    if n_boot < 1 or not 0 < level < 1:
        raise ValueError(f"n_boot must be >= 1 and level in (0, 1); got {n_boot!r}, {level!r}")
    if n_images is not None and (len(n_images) != 2 or min(n_images) < 1):
        raise ValueError(f"n_images must be (n_x, n_y), two test-set sizes >= 1; got {n_images!r}")
    fit = probit_linear_fit(x_arr / 100, y_arr / 100)  # checks the range and the count
    keep = np.isfinite(x_arr) & np.isfinite(y_arr)
    if n_images is None:  # models only: the one line function of the course (same draws)
        only = line.models_only_interval(
            x_arr[keep], y_arr[keep], min_accuracy=0.0, n_boot=n_boot, level=level, seed=seed
        )
        return SlopeInterval(fit.slope, only["ci"][0], only["ci"][1], fit.n)
    rng = np.random.default_rng(seed)
    idx = bootstrap_indices(int(keep.sum()), n_boot, rng)  # the package's one resampling draw
    px, py = x_arr[keep][idx] / 100, y_arr[keep][idx] / 100
    if n_images is not None:
        px, py = rng.binomial(n_images[0], px) / n_images[0], rng.binomial(n_images[1], py) / n_images[1]
    zx, zy = probit(px), probit(py)
    xc = zx - zx.mean(1, keepdims=True)
    var = (xc**2).sum(1)
    boot = (xc * zy).sum(1)[var > 0] / var[var > 0]
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return SlopeInterval(fit.slope, float(lo), float(hi), fit.n)


def line_drop(fit: LineFit, accuracy) -> np.ndarray:
    """The drop in accuracy points the probit line predicts for a model of ``accuracy`` (%)."""
    acc = np.asarray(accuracy, dtype=float)
    if np.any((acc <= 0) | (acc >= 100)):
        raise ValueError(f"accuracy is in % and must lie in (0, 100); got {accuracy!r}")
    return acc - 100 * fit.predict(acc / 100)


def slope_verdict(interval: SlopeInterval) -> stats.Verdict:
    """Is the slope above or below 1 (a constant shift on the probit scale)? Its interval against 1
    (:func:`reliable_ml.stats.against_reference`): "lower" only when the interval lies below 1."""
    return stats.against_reference(interval.slope, (interval.lo, interval.hi), 1.0)


def versus_one(interval: SlopeInterval) -> str:
    """How a slope's interval sits against 1, in words: "below 1", "above 1" or "consistent with 1"
    (from :func:`slope_verdict`, so the words cannot disagree with the interval)."""
    return {"lower": "below 1", "higher": "above 1", "cannot tell": "consistent with 1"}[
        slope_verdict(interval).direction
    ]


def against_line(values, alpha: float = 0.05) -> stats.Verdict:
    """Do these models sit above or below the line on average? ``values``: their effective
    robustness (points); the one-sample t test of the mean against 0 (:func:`reliable_ml.stats.compare`
    of the values against zeros, paired), with its (1 - alpha) interval."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        raise ValueError(f"need at least 2 models' effective robustness to test a mean; got {len(v)}")
    return stats.compare(v, np.zeros(len(v)), paired=True, alpha=alpha, outcome="continuous")


def slope_numbers(prefix: str, interval: SlopeInterval | None, drops=None) -> dict:
    """What the prose quotes about one probit line, keyed ``<prefix>_slope``, ``_slope_lo``,
    ``_slope_hi``, ``_slope_n``, ``_slope_vs_1`` and ``_slope_words`` and, with ``drops`` (the line's predicted drops
    at 60% and 85%), ``_drop_60`` and ``_drop_85``; only what was measured (``interval`` None:
    nothing, and the chapter's ``glue_missing`` glues NaN).

    A :class:`SlopeInterval` resamples the models only (no per-image predictions): it leaves out
    the image noise all models share and is too narrow by that much, so ``_slope_vs_1`` and
    ``_slope_words`` carry no verdict against 1 but ``line.NOT_JUDGED`` ("not judged (models
    only)"); the verdict comes from ``reliable_ml.shift.line``'s joint model-and-image intervals."""
    from reliable_ml.shift import line

    if interval is None:
        return {}
    out = {
        f"{prefix}_slope": interval.slope,
        f"{prefix}_slope_lo": interval.lo,
        f"{prefix}_slope_hi": interval.hi,
        f"{prefix}_slope_n": interval.n,
        f"{prefix}_slope_vs_1": line.NOT_JUDGED,
        f"{prefix}_slope_words": line.NOT_JUDGED,
    }
    if drops is not None:
        out |= {f"{prefix}_drop_60": float(drops[0]), f"{prefix}_drop_85": float(drops[1])}
    return out


# ----------------------------------------------------------------------------- verdicts about groups, and their words
#: the words for a mean effective robustness against 0: (above, below, cannot tell)
LINE_WORDS = ("above the line", "below the line", "not distinguishable from the line")


def kind_verdicts(analyses: dict, model_mean: pd.DataFrame, shifts) -> tuple[dict, dict]:
    """Section 2's verdicts about the robustness interventions on the natural ``shifts``.

    ``model_mean``: :func:`model_means` (one row per model, with ``group`` and ``kind``). Returns
    ``(results, numbers)``: per headline shift, the Lp adversarially trained models' mean ER
    against 0 (:func:`against_line` over the sources' means, :func:`source_means`; AdvProp is a
    kind of its own), the AdvProp models' mean ER on ImageNet-A, and the interventions' mean ER
    over the shifts against the more-data models' (Welch t over the sources' means,
    :func:`reliable_ml.stats.compare`), worded by :func:`reliable_ml.stats.phrase`. Sources, not
    models, are the unit: models of one paper are not independent draws. The model-level tests
    stay in the results (``over_models``) as the unclustered comparison.
    """
    from dataclasses import asdict

    per_model = pd.DataFrame({s: analyses[s].points["er"] for s in shifts})
    lp_adv = model_mean.index[model_mean["kind"] == "adversarial training"]
    advprop = model_mean.index[model_mean["kind"] == "AdvProp"]
    headline = [s for s in HEADLINE_SHIFTS.values() if s in per_model]
    adv = {s: against_line(source_means(per_model.loc[lp_adv, s])) for s in headline}
    adv_models = {s: against_line(per_model.loc[lp_adv, s]) for s in headline}
    by_group = model_mean.groupby("group")["mean ER over natural shifts"]
    arms = [by_group.get_group(g).dropna() for g in ("robustness intervention", "more data")]
    int_vs_more = stats.compare(*(source_means(a).to_numpy() for a in arms), paired=False, outcome="continuous")
    int_vs_more_models = stats.compare(*(a.to_numpy() for a in arms), paired=False, outcome="continuous")
    results = {
        "lp_adversarial_training_vs_line": {
            s: {
                **asdict(v),
                "unit": "source",
                "sources": int(len(source_means(per_model.loc[lp_adv, s]))),
                "models": int(per_model.loc[lp_adv, s].notna().sum()),
                "over_models": asdict(adv_models[s]),
            }
            for s, v in adv.items()
        },
        "interventions_vs_more_data_natural": {
            **asdict(int_vs_more),
            "unit": "source",
            "sources": [int(len(source_means(a))) for a in arms],
            "over_models": asdict(int_vs_more_models),
        },
    }
    short = {s: k for k, s in HEADLINE_SHIFTS.items()}
    numbers = {
        **{f"adv_{short[s]}_words": stats.phrase(v, *LINE_WORDS, scale=1.0) for s, v in adv.items()},
        "adv_sources": int(len(source_means(per_model.loc[lp_adv].mean(axis=1)))),
        "int_sources": results["interventions_vs_more_data_natural"]["sources"][0],
        "more_sources": results["interventions_vs_more_data_natural"]["sources"][1],
        "er_advprop_a": float(per_model.loc[advprop, "imagenet-a"].mean()) if "imagenet-a" in per_model else np.nan,
        "int_vs_more": stats.phrase(
            int_vs_more,
            "larger than the more-data models'",
            "smaller than the more-data models'",
            "not distinguishable from the more-data models'",
            scale=1.0,
        ),
    }
    return results, numbers


def synthetic_vs_natural(analyses: dict, model_mean: pd.DataFrame, adversarial) -> tuple[pd.DataFrame, dict, dict]:
    """Do the robustness interventions gain more on synthetic shifts than on natural ones, model by model?

    For every intervention model: its mean ER over the natural shifts (``model_mean``), its ER on
    ImageNet-C and its mean ER over the ``adversarial`` (PGD) shifts. Each synthetic column
    against the natural one, on the models evaluated on both, paired by source: each source's
    (:func:`model_source`) mean over its models on both columns, then a paired t over the sources
    (:func:`reliable_ml.stats.compare`); models of one paper share a recipe and are not independent.
    Returns ``(table, results, numbers)``: the per-kind means and counts, the verdicts (with the
    number of models and sources, and the unclustered paired t over models as ``over_models``),
    and the prose numbers: ``syn_c_words``, ``syn_pgd_words``, ``syn_c_n``, ``syn_pgd_n``,
    ``syn_c_sources``, ``syn_pgd_sources``, ``syn_c_models_words``, ``syn_pgd_models_words``,
    ``syn_<k>_largest`` and ``syn_<k>_largest_n`` (the source with most models, and their count) and
    ``kind_<k>_natural``/``kind_<k>_c`` per kind.
    """
    from dataclasses import asdict

    ints = model_mean.index[model_mean["group"] == "robustness intervention"]
    natural = model_mean.loc[ints, "mean ER over natural shifts"]
    synthetic = {
        "c": analyses["imagenet-c"].points["er"].reindex(ints),
        "pgd": pd.DataFrame({s: analyses[s].points["er"] for s in adversarial}).reindex(ints).mean(axis=1),
    }
    verdicts, counts, sources, over_models, largest = {}, {}, {}, {}, {}
    for k, values in synthetic.items():
        both = values.notna() & natural.notna()
        counts[k] = int(both.sum())
        syn_src, nat_src = source_means(values[both]), source_means(natural[both])
        sources[k] = int(len(syn_src))
        largest[k] = pd.Series([model_source(n) for n in values[both].index]).value_counts()
        verdicts[k] = stats.compare(
            syn_src.to_numpy(), nat_src.reindex(syn_src.index).to_numpy(), paired=True, outcome="continuous"
        )
        over_models[k] = stats.compare(
            values[both].to_numpy(), natural[both].to_numpy(), paired=True, outcome="continuous"
        )
    kinds = model_mean.loc[ints, "kind"]
    table = pd.DataFrame({"natural": natural, "imagenet-c": synthetic["c"], "pgd": synthetic["pgd"]})
    by_kind = table.groupby(kinds).mean()
    short = {
        "adv": "adversarial training",
        "noise": "noise / smoothing",
        "gen": "generic augmentation",
        "lpf": "anti-aliasing",
        "rob": "robustness augmentation",
    }
    numbers = {
        **{
            f"syn_{k}_words": stats.phrase(
                v,
                "higher than on the natural shifts",
                "lower than on the natural shifts",
                "not distinguishable from that on the natural shifts",
                scale=1.0,
            )
            for k, v in verdicts.items()
        },
        **{f"syn_{k}_n": n for k, n in counts.items()},
        **{f"syn_{k}_sources": n for k, n in sources.items()},
        **{f"syn_{k}_largest": str(v.index[0]) for k, v in largest.items() if len(v)},
        **{f"syn_{k}_largest_n": int(v.iloc[0]) for k, v in largest.items() if len(v)},
        **{
            f"syn_{k}_models_words": stats.phrase(v, "higher", "lower", "not distinguishable", scale=1.0)
            for k, v in over_models.items()
        },
        **{
            f"kind_{s}_{col}": float(by_kind.loc[kind, name]) if kind in by_kind.index else np.nan
            for s, kind in short.items()
            for col, name in (("natural", "natural"), ("c", "imagenet-c"))
        },
    }
    results = {
        k: {
            **asdict(v),
            "unit": "source",
            "models": counts[k],
            "sources": sources[k],
            "over_models": asdict(over_models[k]),
        }
        for k, v in verdicts.items()
    }
    return table.groupby(kinds).agg(["mean", "count"]), results, numbers
