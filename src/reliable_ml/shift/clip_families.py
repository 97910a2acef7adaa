"""Zero-shot CLIP models by pretraining data: effective robustness per family of checkpoints.

OpenCLIP's results table (:func:`reliable_ml.data.openclip_results`) lists about 120 zero-shot
checkpoints, but they are not 120 independent draws: a handful of pretraining datasets (OpenAI's
WIT-400M, LAION-400M, LAION-2B, DataComp, ...) each trained several architectures, and a few
rows are the same weights listed twice. A median over all rows describes this list, not a
population of CLIP models. This module groups the checkpoints by the pretraining data their
``pretrained`` tag names (:data:`FAMILY_RULES`), drops repeated weights
(:func:`distinct_checkpoints`) and gives each family's mean effective robustness with a
bootstrap interval over its checkpoints (:func:`family_effective_robustness`).

Effective robustness is the distance above the probit line of the ImageNet testbed's standard
models {Taori et al. 2020}: ``rho(f) = acc_shift(f) - 100 Phi(a Phi^-1(acc_val(f)) + b)`` in
points, ``(a, b)`` fitted by least squares on the probit scale (:func:`reliable_ml.stats.probit_linear_fit`).
Accuracies are in % throughout. Chapter 08.

The families mix architectures, sizes and training lengths, so a difference between families is
not the effect of the data alone; and Fang et al. 2022 ("Data determines distributional
robustness in CLIP") is the controlled study of that question.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from reliable_ml import stats
from reliable_ml.stats import probit_linear_fit
from reliable_ml.util import result_cache

#: ``(regular expression on the model's "name/pretrained" key, family)``; the first match wins.
#: The families follow the datasets OpenCLIP's pretrained tags name (docs/PRETRAINED.md upstream).
FAMILY_RULES: tuple[tuple[str, str], ...] = (
    (r"^nllb-clip", "NLLB-CLIP (LAION-COCO-NLLB)"),  # tag "v1": multilingual text tower on a frozen image tower
    (r"/openai$", "OpenAI (WIT-400M)"),
    (r"/laion400m", "LAION-400M"),
    (r"/mscoco_finetuned_laion2b", "LAION-2B, fine-tuned on MS-COCO"),
    (r"/laion_aesthetic", "LAION-Aesthetic (subset of LAION-2B)"),
    (r"/laion2b", "LAION-2B"),
    (r"/(frozen_)?laion5b", "LAION-5B"),
    (r"/merged2b", "Merged-2B (LAION-2B + COYO-700M)"),
    (r"/(datacomp1b|datacomp_xl_|datacomp_s34b)", "DataComp-1B"),
    (r"/(commonpool_|datacomp_[sml]_)", "DataComp pools (small to xlarge scale)"),
    (r"/dfn", "DFN (data filtering networks)"),
    (r"/metaclip", "MetaCLIP"),
    (r"/webli$", "WebLI (SigLIP)"),
    (r"/yfcc15m$", "YFCC-15M"),
    (r"/cc12m$", "CC12M"),
)

#: the rows of :func:`family_effective_robustness` that pool families
ALL_CHECKPOINTS = "all checkpoints (models only)"
FAMILIES_EQUAL = "families weighted equally (clustered)"
#: the fewest checkpoints a family needs for a bootstrap interval of its mean
MIN_MODELS = 3


def pretraining_family(model: str) -> str:
    """The pretraining family of an OpenCLIP checkpoint keyed ``"name/pretrained"``: the first
    :data:`FAMILY_RULES` match, else ``"other (<pretrained tag>)"`` (a tag added upstream later
    gets a family of its own rather than a wrong one)."""
    if not isinstance(model, str) or "/" not in model:
        raise ValueError(f"model must be an OpenCLIP key 'name/pretrained'; got {model!r}")
    family = next((fam for pattern, fam in FAMILY_RULES if re.search(pattern, model)), None)
    return family if family is not None else f"other ({model.rsplit('/', 1)[1]})"


def families(models: Iterable[str]) -> pd.Series:
    """:func:`pretraining_family` of each model, indexed by model."""
    models = list(models)
    return pd.Series({m: pretraining_family(m) for m in models}, name="family", dtype=object).reindex(models)


def distinct_checkpoints(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Drop rows that repeat an earlier row of the same family exactly (every accuracy equal):
    the same weights listed under two names (OpenCLIP lists OpenAI's ``RN50`` and
    ``RN50-quickgelu``, which load the same checkpoint). Returns ``(kept rows, {dropped: kept})``.
    ``frame``: accuracies indexed by ``"name/pretrained"``."""
    if frame.index.has_duplicates:
        raise ValueError(f"model keys must be unique; repeated: {list(frame.index[frame.index.duplicated()][:3])}")
    fam = families(frame.index)
    seen: dict[tuple, str] = {}
    dropped: dict[str, str] = {}
    for model, row in frame.iterrows():
        key = (fam[model], *np.round(row.to_numpy(dtype=float), 10))
        if key in seen:
            dropped[model] = seen[key]
        else:
            seen[key] = model
    return frame.drop(index=list(dropped)), dropped


def _interval(estimate: float, draws: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval of ``draws``, widened to contain ``estimate`` if it falls outside
    (possible with few checkpoints, where the refitted line shifts every draw)."""
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return float(min(lo, estimate)), float(max(hi, estimate))


def family_effective_robustness(
    lines: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]],
    family: pd.Series,
    combos: Mapping[str, Sequence[str]] | None = None,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    min_models: int = MIN_MODELS,
) -> pd.DataFrame:
    """Mean effective robustness of the zero-shot checkpoints per family, with bootstrap intervals.

    ``lines``: per shift, ``(standard, zero_shot)``: the testbed's standard models that fit the
    line and the zero-shot checkpoints, each with ``x`` (ImageNet val, %) and ``y`` (the shift,
    %), the checkpoints indexed by model. Only checkpoints present for every shift are used.
    ``family``: the family of each checkpoint (:func:`families`). ``combos``: extra columns,
    each the per-checkpoint mean over the listed shifts (e.g. all shifts, and all but ImageNet-A).

    Each of ``n_boot`` replicates redraws the standard models of every line with replacement
    (refitting it) and, within each family, its checkpoints with replacement (the same draw for
    every shift and combo), then takes each family's mean. The interval is the percentile
    interval at ``level``; it resamples models only (the tables hold accuracies, not per-image
    results, so the test images are not resampled). Families with fewer than ``min_models``
    checkpoints get the mean without an interval (NaN). Two pooled rows: :data:`ALL_CHECKPOINTS`
    (every checkpoint once, drawn as independent) and :data:`FAMILIES_EQUAL` (the mean of the
    family means, each family weighted equally; a replicate draws families with replacement,
    then checkpoints within each: the clustered interval).

    Returns a frame indexed by ``(family, column)`` with ``n``, ``mean``, ``median``, ``lo``,
    ``hi``.
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1; got {n_boot!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level!r}")
    if min_models < 2:
        raise ValueError(f"min_models must be at least 2 (an interval needs spread); got {min_models!r}")
    if not lines:
        raise ValueError("lines must name at least one shift")
    combos = dict(combos or {})
    for name, shifts in combos.items():
        unknown = [s for s in shifts if s not in lines]
        if not shifts or unknown:
            raise ValueError(f"combo {name!r} must list shifts of lines ({list(lines)}); got {list(shifts)!r}")
    models = sorted(set.intersection(*(set(zs.index) for _, zs in lines.values())))
    missing = [m for m in models if m not in family.index or pd.isna(family.get(m))]
    if missing:
        raise ValueError(f"no family for {len(missing)} checkpoints, e.g. {missing[:3]}")
    if not models:
        raise ValueError("no checkpoint is present for every shift")
    fam = family.reindex(models).to_numpy()
    names = list(dict.fromkeys(fam))
    members = {f: np.flatnonzero(fam == f) for f in names}
    columns = [*lines, *combos]

    def er_matrix(fits: dict) -> np.ndarray:  # (checkpoints, columns)
        cols = {}
        for s, (_, zs) in lines.items():
            pts = zs.loc[models]
            cols[s] = pts["y"].to_numpy(float) - 100 * fits[s].predict(pts["x"].to_numpy(float) / 100)
        for name, shifts in combos.items():
            cols[name] = np.mean([cols[s] for s in shifts], axis=0)
        return np.column_stack([cols[c] for c in columns])

    std = {s: (st["x"].to_numpy(float) / 100, st["y"].to_numpy(float) / 100) for s, (st, _) in lines.items()}
    point = er_matrix({s: probit_linear_fit(x, y) for s, (x, y) in std.items()})

    def bootstrap() -> dict:
        rng = np.random.default_rng(seed)
        fam_draws = {f: np.empty((n_boot, len(columns))) for f in names}
        all_draws, equal_draws = np.empty((n_boot, len(columns))), np.empty((n_boot, len(columns)))
        for b in range(n_boot):
            fits = {}
            for s, (x, y) in std.items():
                i = rng.integers(0, len(x), len(x))
                fits[s] = probit_linear_fit(x[i], y[i])
            rho = er_matrix(fits)
            for f in names:
                idx = members[f]
                fam_draws[f][b] = rho[rng.choice(idx, len(idx))].mean(axis=0)
            all_draws[b] = rho[rng.integers(0, len(models), len(models))].mean(axis=0)
            picked = rng.choice(len(names), len(names))
            equal_draws[b] = np.mean(
                [rho[rng.choice(members[names[k]], len(members[names[k]]))].mean(axis=0) for k in picked], axis=0
            )
        return {"families": fam_draws, "all": all_draws, "equal": equal_draws}

    draws = result_cache.cached_arrays(
        "clip_family_bootstrap",
        {
            "function": "family_effective_robustness",
            "models": models,
            "families": [str(f) for f in fam],
            "columns": columns,
            "combos": {k: list(v) for k, v in combos.items()},
            "n_boot": int(n_boot),
            "seed": int(seed),
        },
        bootstrap,
        [a for x, y in std.values() for a in (x, y)]
        + [zs.loc[models, c].to_numpy(float) for _, zs in lines.values() for c in ("x", "y")],
        code=(sys.modules[__name__], stats),
    )
    fam_draws, all_draws, equal_draws = draws["families"], draws["all"], draws["equal"]
    rows = {}
    for f in names:
        idx = members[f]
        for c, col in enumerate(columns):
            mean = float(point[idx, c].mean())
            lo, hi = _interval(mean, fam_draws[f][:, c], level) if len(idx) >= min_models else (np.nan, np.nan)
            rows[(f, col)] = {
                "n": len(idx),
                "mean": mean,
                "median": float(np.median(point[idx, c])),
                "lo": lo,
                "hi": hi,
            }
    for label, draws, values in (
        (ALL_CHECKPOINTS, all_draws, [point[:, c].mean() for c in range(len(columns))]),
        (
            FAMILIES_EQUAL,
            equal_draws,
            [np.mean([point[members[f], c].mean() for f in names]) for c in range(len(columns))],
        ),
    ):
        for c, col in enumerate(columns):
            lo, hi = _interval(float(values[c]), draws[:, c], level)
            n = len(models) if label == ALL_CHECKPOINTS else len(names)
            rows[(label, col)] = {
                "n": n,
                "mean": float(values[c]),
                "median": float(np.median(point[:, c])) if label == ALL_CHECKPOINTS else np.nan,
                "lo": lo,
                "hi": hi,
            }
    out = pd.DataFrame(rows).T
    out.index.names = ["family", "column"]
    out["n"] = out["n"].astype(int)
    return out


def family_verdicts(table: pd.DataFrame) -> dict[tuple[str, str], stats.Verdict | None]:
    """Each row's mean against 0 (the line) on its interval
    (:func:`reliable_ml.stats.against_reference`: "higher" only when the interval excludes 0);
    ``None`` where the family has no interval (too few checkpoints)."""
    return {
        key: None if not np.isfinite(row["lo"]) else stats.against_reference(row["mean"], (row["lo"], row["hi"]), 0.0)
        for key, row in table.iterrows()
    }


def by_family_record(table: pd.DataFrame) -> dict:
    """:func:`family_effective_robustness` as plain JSON for a results file:
    ``{family: {column: {n, mean, median, ci, vs_line}}}``, ``ci`` None and ``vs_line`` None where
    the family has too few checkpoints for an interval, else the verdict against 0
    (:func:`family_verdicts`) as a dict."""
    verdicts = family_verdicts(table)
    out: dict = {}
    for (fam, col), row in table.iterrows():
        v = verdicts[(fam, col)]
        out.setdefault(fam, {})[col] = {
            "n": int(row["n"]),
            "mean": float(row["mean"]),
            "median": None if pd.isna(row["median"]) else float(row["median"]),
            "ci": None if v is None else [float(row["lo"]), float(row["hi"])],
            "vs_line": None if v is None else v.as_dict(),
        }
    return out


def family_summary(table: pd.DataFrame, column: str, words: tuple[str, str, str]) -> dict:
    """What the prose says about one ``column`` of :func:`family_effective_robustness`.

    Over the single families (the pooled rows left out): ``n_families``; ``n_interval`` (those
    with an interval); ``above`` (how many of those the verdict puts above the line, as
    :func:`count_words`); ``lowest`` and ``highest`` (family names by mean) with ``lowest_mean``
    and ``highest_mean``; and, for the pooled rows, ``all`` and ``equal`` (the mean) with
    ``all_words`` and ``equal_words`` (the verdict against 0 in ``words``: above, below, cannot
    tell; :func:`reliable_ml.stats.phrase`)."""
    if column not in table.index.get_level_values("column"):
        raise ValueError(f"unknown column {column!r}; allowed: {sorted(set(table.index.get_level_values('column')))}")
    part = table.xs(column, level="column")
    single = part.drop(index=[ALL_CHECKPOINTS, FAMILIES_EQUAL], errors="ignore")
    verdicts = {f: v for (f, c), v in family_verdicts(table).items() if c == column}
    with_interval = [f for f in single.index if verdicts[f] is not None]
    n_above = sum(verdicts[f].direction == "higher" for f in with_interval)
    out = {
        "n_families": int(len(single)),
        "n_interval": int(len(with_interval)),
        "above": count_words(n_above, len(with_interval)) if with_interval else "none (no family has an interval)",
        "lowest": str(single["mean"].idxmin()),
        "lowest_mean": float(single["mean"].min()),
        "highest": str(single["mean"].idxmax()),
        "highest_mean": float(single["mean"].max()),
    }
    for key, label in (("all", ALL_CHECKPOINTS), ("equal", FAMILIES_EQUAL)):
        if label in part.index:
            out[key] = float(part.loc[label, "mean"])
            out[f"{key}_words"] = stats.phrase(verdicts[label], *words, scale=1.0)
    return out


def count_words(k: int, n: int) -> str:
    """``k`` of ``n`` in words: "all n", "none of the n" or "k of the n" (exact counts)."""
    if not 0 <= int(k) <= int(n) or int(n) < 1:
        raise ValueError(f"need 0 <= k <= n and n >= 1; got k={k!r}, n={n!r}")
    return f"all {n}" if k == n else f"none of the {n}" if k == 0 else f"{k} of the {n}"
