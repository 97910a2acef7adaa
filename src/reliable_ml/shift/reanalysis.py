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
            "c10_v6_verdict": "(not available)",
            "c10_top": "(not available)",
            "c10_top_resid": float("nan"),
        }
    lo6, hi6 = summary["v6"]["drop_range"]
    top = acc["original"].idxmax()
    fit = stats.probit_linear_fit(acc["original"] / 100, acc["v6"] / 100)
    numbers.update(
        c10_n=len(acc),
        c10_v6_verdict="lie within" if lo6 >= 3 and hi6 <= 15 else "reach beyond",
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
