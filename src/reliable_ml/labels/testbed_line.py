"""What chapters 2 and 3 quote about ImageNetV2 MatchedFrequency in the ImageNet testbed.

The testbed (Taori et al. 2020) lists accuracies of several hundred "models", but about a third of
them are epoch checkpoints of a few training runs (names ``<run>_<k>_epochs``), many near chance.
A mean drop or a probit slope over all of them counts one run many times (pseudo-replication) and
reaches down to accuracies no published model sits at. This module gives the numbers with that
said: the mean drop over real models above an accuracy floor, and the probit slope over all
standard models, without checkpoints and above the floor, plus the slope from the 67 models whose
per-image predictions were released (Recht et al. 2019), with an interval that resamples images
as well as models.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from reliable_ml import stats
from reliable_ml.shift import effective_robustness as er
from reliable_ml.shift import line as course_line

#: testbed names of epoch checkpoints of one training run, e.g. ``resnet18_50k_12_epochs``
CHECKPOINT = re.compile(r"_\d+_epochs$")
#: the testbed's MatchedFrequency column (its "format-val" re-evaluation) and ImageNet val
MF_COLUMN = "imagenetv2-matched-frequency-format-val"
#: Recht et al. (2019), abstract: "accuracy drops of 3% - 15% on CIFAR-10 and 11% - 14% on ImageNet"
RECHT_RANGE = (11.0, 14.0)
#: test-set sizes of ImageNet val and ImageNetV2, for the binomial image noise of each accuracy
N_IMAGES = (50_000, 10_000)


def is_checkpoint(models) -> np.ndarray:
    """True for each testbed model name that is an epoch checkpoint (``..._<k>_epochs``)."""
    return np.array([bool(CHECKPOINT.search(str(m))) for m in models], dtype=bool)


def _table(testbed: pd.DataFrame) -> pd.DataFrame:
    table = testbed.set_index("model") if "model" in testbed.columns else testbed
    missing = [c for c in ("val", MF_COLUMN) if c not in table.columns]
    if missing:
        raise ValueError(f"the testbed table lacks columns {missing}; it needs 'val' and {MF_COLUMN!r}")
    return table[["val", MF_COLUMN]].apply(pd.to_numeric, errors="coerce").dropna()


def _place(mean: float) -> str:
    """Where a point estimate lies against Recht et al.'s range (:func:`reliable_ml.stats.against_bounds`
    with the range as the bounds): a description of the point, not a verdict with its sampling error."""
    v = stats.against_bounds(*RECHT_RANGE, mean)
    return {"higher": "falls below their range", "lower": "falls above their range"}.get(
        v.direction, "falls in their range"
    )


def mean_drop(testbed: pd.DataFrame, min_accuracy: float = 60.0, alpha: float = 0.05) -> dict:
    """Mean drop (points, val - MatchedFrequency) over the testbed models that are not epoch
    checkpoints and score at least ``min_accuracy`` % on val: a paired t test over those models
    (:func:`reliable_ml.stats.compare`; models treated as independent), its range, and where the
    interval sits against Recht et al.'s 11 to 14 points (:func:`reliable_ml.stats.against_reference`
    at each end: "within", "below", "above", or "not distinguishable from the edge of"; the interval
    resamples the models only, not the images they share, so chapter 02 quotes no such verdict), and
    ``mean_place``: where the mean itself lies against that range (:func:`_place`).

    Also the counts the prose needs: all models, checkpoints, and those below 10 % top-1.
    """
    if not 0 <= min_accuracy < 100:
        raise ValueError(f"min_accuracy is in % and must lie in [0, 100); got {min_accuracy!r}")
    table = _table(testbed)
    ckpt = is_checkpoint(table.index)
    keep = table[~ckpt & (table["val"] >= min_accuracy)]
    if len(keep) < 2:
        raise ValueError(f"need at least 2 models above {min_accuracy}% that are not checkpoints; got {len(keep)}")
    drops = keep["val"] - keep[MF_COLUMN]
    verdict = stats.compare(keep["val"].to_numpy(), keep[MF_COLUMN].to_numpy(), paired=True, alpha=alpha)
    lo_end, hi_end = (stats.against_reference(verdict.difference, verdict.interval, r) for r in RECHT_RANGE)
    if lo_end.direction == "higher" and hi_end.direction == "lower":
        where = "within"
    elif lo_end.direction == "lower":
        where = "below"
    elif hi_end.direction == "higher":
        where = "above"
    else:
        where = "not distinguishable from the edge of"
    return {
        "mean": float(drops.mean()),
        "lo": float(verdict.interval[0]),
        "hi": float(verdict.interval[1]),
        "min": float(drops.min()),
        "max": float(drops.max()),
        "n": len(keep),
        "min_accuracy": float(min_accuracy),
        "vs_recht": where,
        "mean_place": _place(float(drops.mean())),
        "n_all": len(table),
        "n_checkpoints": int(ckpt.sum()),
        "n_runs_checkpointed": len({CHECKPOINT.sub("", m) for m in table.index[ckpt]}),
        "n_below_10": int((table["val"] < 10).sum()),
        "test": verdict.test,
    }


def slopes(
    testbed: pd.DataFrame,
    *,
    min_accuracy: float = course_line.MIN_ACCURACY,
    n_boot: int | None = None,
    seed: int | None = None,
) -> dict:
    """The probit slope of MatchedFrequency on val (:func:`reliable_ml.shift.effective_robustness.slope_interval`,
    models only: the testbed has no per-image predictions) over three sets of the testbed's
    standard models: ``"all"``, ``"no_checkpoints"`` and ``"high"`` (val >= ``min_accuracy``);
    ``n_boot`` and ``seed`` default to ``line.N_BOOT`` and ``line.SEED`` (the same draws in every chapter).
    These are contrasts; the quoted line is :func:`reliable_ml.shift.line.imagenetv2_matched_frequency`."""
    points = er.shift_points(testbed, "imagenetv2-matched-frequency")
    std = points[points["group"] == "standard"]
    sets = {"all": std, "no_checkpoints": std[~is_checkpoint(std.index)], "high": std[std["x"] >= min_accuracy]}
    return {k: er.slope_interval(s["x"], s["y"], n_boot=n_boot, seed=seed) for k, s in sets.items()}


def released_slope(correct_val, correct_mf, *, n_boot: int = 5000, seed: int = 0, alpha: float = 0.05) -> dict:
    """Probit slope of MatchedFrequency on val over the released models (bool ``(M, n)`` correctness),
    with percentile intervals resampling models only and models and images jointly
    (:func:`reliable_ml.shift.reanalysis.line_bootstrap`), and the joint interval against 1.

    Returns ``{"slope", "models": [lo, hi], "both": [lo, hi], "n", "n_boot", "verdict_vs_1"}``.
    """
    from reliable_ml.shift import reanalysis

    boot = {
        r: reanalysis.line_bootstrap(correct_val, correct_mf, n_boot=n_boot, alpha=alpha, seed=seed, resample=r)
        for r in ("models", "both")
    }
    slope = float(boot["both"]["probit"]["slope"])
    both = [float(v) for v in boot["both"]["probit"]["ci"]]
    return {
        "slope": slope,
        "models": [float(v) for v in boot["models"]["probit"]["ci"]],
        "both": both,
        "n": int(np.asarray(correct_val).shape[0]),
        "n_boot": n_boot,
        "verdict_vs_1": stats.against_reference(slope, tuple(both), 1.0),
    }


def reevaluation_offset(testbed: pd.DataFrame, models, correct_mf) -> dict:
    """Testbed re-evaluation minus the original evaluation of MatchedFrequency (points), over the
    released models that the testbed also lists under the same name: mean, min, max and count.

    ``models``: the released models' names; ``correct_mf``: their bool ``(M, n)`` correctness on
    MatchedFrequency (original evaluation, top-1)."""
    table = _table(testbed)
    original = 100 * np.asarray(correct_mf, dtype=float).mean(1)
    if len(original) != len(models):
        raise ValueError(f"{len(models)} model names for {len(original)} rows of correctness")
    diff = np.array([table.loc[m, MF_COLUMN] - a for m, a in zip(models, original) if m in table.index])
    if len(diff) == 0:
        raise ValueError("no released model is listed in the testbed under the same name")
    return {"mean": float(diff.mean()), "min": float(diff.min()), "max": float(diff.max()), "n": len(diff)}


def numbers(testbed: pd.DataFrame | None, released=None, *, seed: int = 0, alpha: float = 0.05, n_boot: int = 5000):
    """What the prose quotes about the ImageNetV2 line, and the results entries, in one place.

    ``testbed``: the testbed table (None: skip its numbers); ``released``: a
    :class:`reliable_ml.shift.reanalysis.Released` of the 67 ImageNet models (None: skip the
    per-image slope and the re-evaluation offset). Returns ``(glued, results)``: glue names
    ``tb60_*`` (:func:`mean_drop`), ``v2_nockpt_slope*`` and ``v2_hi_slope*`` (:func:`slopes`,
    words from :func:`reliable_ml.shift.effective_robustness.slope_numbers`), ``v2_rel_*``
    (:func:`released_slope`) and ``reeval_*`` (:func:`reevaluation_offset`)."""
    glued, results = {}, {}
    if testbed is not None:
        drop = mean_drop(testbed, 60.0, alpha)
        line = slopes(testbed)  # the course's floor, N_BOOT and SEED: the same intervals as chapters 3 and 8
        glued |= er.slope_numbers("v2_nockpt", line["no_checkpoints"]) | er.slope_numbers("v2_hi", line["high"])
        glued |= {f"tb60_{k}": v for k, v in drop.items() if k != "test"}
        results["mean_drop_60"] = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in drop.items()}
        results["slope_without_checkpoints"] = line["no_checkpoints"].as_dict()
        results["slope_min_accuracy_60"] = line["high"].as_dict()
    if released is not None:
        rel = released_slope(
            released.correct["val"], released.correct["matched_frequency"], n_boot=n_boot, seed=seed, alpha=alpha
        )
        glued |= {
            "v2_rel_slope": rel["slope"],
            "v2_rel_n": rel["n"],
            "v2_rel_models_lo": rel["models"][0],
            "v2_rel_models_hi": rel["models"][1],
            "v2_rel_both_lo": rel["both"][0],
            "v2_rel_both_hi": rel["both"][1],
            "v2_rel_words": stats.phrase(
                rel["verdict_vs_1"], "above 1", "below 1", "not distinguishable from 1", scale=1.0, unit="", digits=3
            ),
        }
        results["released_probit_slope"] = {
            **{k: v for k, v in rel.items() if k != "verdict_vs_1"},
            "verdict_vs_1": rel["verdict_vs_1"].direction,
        }
        if testbed is not None:
            off = reevaluation_offset(testbed, released.models, released.correct["matched_frequency"])
            glued |= {f"reeval_{k}": v for k, v in off.items()}
            results["testbed_minus_original"] = off
    return glued, results
