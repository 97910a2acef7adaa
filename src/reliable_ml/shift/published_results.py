"""Re-analyses of published results tables: RobustBench, SQuADShifts, OpenCLIP zero-shot models.

The loaders are in :mod:`reliable_ml.data.published`; this module holds the computations the
chapters show (chapter 5: robust models on RobustBench; chapter 8: question answering on the
line and zero-shot CLIP models against the ImageNet testbed's line) and their figures.
Accuracies and F1 are in % throughout.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Iterable

import numpy as np
import pandas as pd

from reliable_ml import stats
from reliable_ml.shift import effective_robustness as er
from reliable_ml.shift import robustbench_pairs
from reliable_ml.shift.line import NOT_JUDGED
from reliable_ml.shift.robustbench_names import GROUP_LABELS, GROUP_ORDER, clusters, paper_of
from reliable_ml.shift.robustbench_names import count_phrase as count_phrase  # re-exported: 08 quotes it
from reliable_ml.stats import probit_linear_fit
from reliable_ml.util import result_cache

# ----------------------------------------------------------------------------- RobustBench
# The methods of the talks, as RobustBench names them (CIFAR-10, L-inf).
TALK_METHODS: dict[str, str] = {
    "Madry2018Towards": "PGD adversarial training (Madry et al. 2018)",
    "Wong2020Fast": "fast adversarial training, FGSM-RS (Wong et al. 2020)",
    "Rice2020Overfitting": "PGD training with early stopping (Rice et al. 2020)",
    "Zhang2019Theoretically": "TRADES (Zhang et al. 2019)",
    "Carmon2019Unlabeled": "robust self-training, 500K unlabeled images (Carmon et al. 2019)",
}
GROUP_COLORS = {"CIFAR-10 only": "tab:blue", "generated data": "tab:orange", "real extra data": "tab:green"}


def methods_table(models: pd.DataFrame, ids: Iterable[str] = tuple(TALK_METHODS)) -> pd.DataFrame:
    """The rows ``ids`` of a :func:`~reliable_ml.data.published.robustbench_models` frame with
    clean, AutoAttack, reported and reported minus AutoAttack (points); ``KeyError`` naming
    the ids that are absent."""
    ids = list(ids)
    missing = [i for i in ids if i not in models.index]
    if missing:
        raise KeyError(f"RobustBench has no entries {missing}; e.g. {list(models.index[:5])}")
    rows = models.loc[ids]
    return pd.DataFrame(
        {
            "method": [TALK_METHODS.get(i, i) for i in ids],
            "architecture": rows["architecture"],
            "clean": rows["clean"],
            "AutoAttack": rows["robust"],
            "reported": rows["reported"],
            "reported - AutoAttack": rows["reported"] - rows["robust"],
            "group": rows["group"],
            "eps 0.031": rows["eps_0031"],
        },
        index=pd.Index(ids, name="model"),
    )


def overstatement(models: pd.DataFrame) -> pd.Series:
    """Reported minus AutoAttack accuracy (points) for every model with a reported figure."""
    diff = (models["reported"] - models["robust"]).dropna()
    return diff.rename("reported - AutoAttack")


def overstatement_summary(diff: pd.Series) -> dict:
    """Median, mean, max and shares of a :func:`overstatement` series (points)."""
    if len(diff) == 0:
        raise ValueError("no models with a reported figure")
    return {
        "n": int(len(diff)),
        "median": float(diff.median()),
        "mean": float(diff.mean()),
        "max": float(diff.max()),
        "model_max": str(diff.idxmax()),
        "share_over_1pt": float(100 * (diff > 1).mean()),
        "share_over_10pt": float(100 * (diff > 10).mean()),
        "share_below_0": float(100 * (diff < -0.1).mean()),
    }


NOT_A_PAPER = ("Standard",)  # RobustBench's undefended baseline: an entry, not a published defence


def id_year(model_id: str) -> float:
    """The year in an entry's id (RobustBench names entries by first author and the paper's arXiv
    year), ``nan`` when there is none (``Standard``)."""
    m = re.search(r"(19|20)\d\d", str(model_id))
    return float(m.group(0)) if m else float("nan")


def _cluster_median_interval(values: pd.Series, papers: pd.Series, rng, n_boot: int) -> np.ndarray:
    """Bootstrap replicates of the median of ``values`` when whole papers are resampled."""
    groups = [v.to_numpy() for _, v in values.groupby(papers)]
    reps = np.empty(n_boot)
    for b in range(n_boot):
        pick = rng.integers(0, len(groups), len(groups))
        reps[b] = np.median(np.concatenate([groups[i] for i in pick]))
    return reps


def _units(index: pd.Index, units: pd.Series | None) -> pd.Index:
    """The cluster of each id in ``index``: ``units`` (id -> cluster, e.g.
    :func:`~reliable_ml.shift.robustbench_names.clusters`) where it names one, else the paper."""
    if units is None:
        return index.map(paper_of)
    return pd.Index([units.get(m) if units.get(m) is not None else paper_of(m) for m in index])


def median_difference(
    a: pd.Series,
    b: pd.Series,
    n_boot: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
    units: pd.Series | None = None,
):
    """Median of ``a`` minus median of ``b`` (entries indexed by RobustBench id), with a percentile
    interval that resamples *clusters* (``units``, id -> cluster; default the paper,
    :func:`paper_of`) within each sample, so several entries of one cluster count as one; the
    verdict against 0 is :func:`reliable_ml.stats.against_reference` of that interval."""
    if len(a) == 0 or len(b) == 0:
        raise ValueError(f"need entries in both samples; got {len(a)} and {len(b)}")
    rng = np.random.default_rng(seed)
    reps = _cluster_median_interval(a, _units(a.index, units), rng, n_boot) - _cluster_median_interval(
        b, _units(b.index, units), rng, n_boot
    )
    d = float(a.median() - b.median())
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
    return stats.against_reference(d, (min(float(lo), d), max(float(hi), d)), 0.0, alpha=alpha)


def overstatement_by_era(models: pd.DataFrame, first_late_year: int = 2021, n_boot: int = 2000, seed: int = 0) -> dict:
    """Reported minus AutoAttack accuracy (points) by era of the entry (:func:`id_year`): up to
    ``first_late_year - 1`` and from ``first_late_year`` on (AutoAttack appeared in 2020; later
    papers often report its figure as their own). Per era: entries, papers, median and mean, the
    median over papers (each paper's median), the shares above 1 and 10 points and the share whose
    reported figure *is* the AutoAttack figure (equal to the hundredth). Entries without a year
    (``Standard``) are left out. ``difference``: early median minus late median with a
    paper-resampling interval (:func:`median_difference`)."""
    diff = overstatement(models.drop(index=[m for m in NOT_A_PAPER if m in models.index]))
    units = clusters(models)
    year = diff.index.map(id_year)
    eras = {
        f"up to {first_late_year - 1}": diff[year < first_late_year],
        f"from {first_late_year}": diff[year >= first_late_year],
    }
    out = {"first_late_year": first_late_year, "eras": {}}
    for name, d in eras.items():
        if len(d) == 0:
            raise ValueError(f"no entries with a reported figure {name}")
        out["eras"][name] = {
            "n": int(len(d)),
            "papers": int(d.index.map(paper_of).nunique()),
            "median": float(d.median()),
            "mean": float(d.mean()),
            "paper_median": float(d.groupby(d.index.map(paper_of)).median().median()),
            "share_over_1pt": float(100 * (d > 1).mean()),
            "share_over_10pt": float(100 * (d > 10).mean()),
            "share_equal": float(100 * (d.abs() < 0.005).mean()),
        }
    rng = np.random.default_rng(seed)
    for name, d in eras.items():
        equal = d.abs() < 0.005
        rest = d[~equal]
        out["eras"][name] |= {
            "n_equal": int(equal.sum()),
            "clusters": int(_units(d.index, units).nunique()),
            "median_verdict": era_median(d, rng, n_boot, units=units),
            "n_not_equal": int(len(rest)),
            "papers_not_equal": int(rest.index.map(paper_of).nunique()),
            "median_not_equal_verdict": era_median(rest, rng, n_boot, units=units) if len(rest) else None,
        }
    early, late = eras.values()
    out["difference"] = median_difference(early, late, n_boot=n_boot, seed=seed, units=units)
    return out


def era_median(diff: pd.Series, rng, n_boot: int, alpha: float = 0.05, units: pd.Series | None = None) -> stats.Verdict:
    """The median of ``diff`` (points, entries indexed by RobustBench id) against 0, with a
    percentile interval that resamples whole clusters (``units``; default papers,
    :func:`paper_of`); the verdict is :func:`reliable_ml.stats.against_reference` of that interval."""
    if len(diff) == 0:
        raise ValueError("need at least one entry")
    reps = _cluster_median_interval(diff, _units(diff.index, units), rng, n_boot)
    m = float(diff.median())
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
    return stats.against_reference(m, (min(float(lo), m), max(float(hi), m)), 0.0, alpha=alpha)


BROKEN_BELOW = 10.0  # AutoAttack accuracy (%) at or below which a listed defence counts as broken
CERTIFIED_PATTERN = re.compile(r"\b(verifiabl[ey]|certifi(ed|able)|provabl[ey])\b", re.IGNORECASE)


def baseline_exclusions(models: pd.DataFrame, broken_below: float = BROKEN_BELOW) -> dict[str, str]:
    """Entries that are not empirical adversarial-training models, and so no fair baseline, with
    the reason each is left out: ``undefended`` (RobustBench's own standardly trained model,
    :data:`NOT_A_PAPER`), ``broken (AutoAttack <= 10%)`` (a defence whose own evaluation AutoAttack
    reduces to at most ``broken_below`` %, e.g. ClusTR at 0.00% against a reported 74.04%) and
    ``certified training`` (the footnote names a verifiably/provably robust model, trained for a
    certificate rather than by adversarial training). Rules, not a hand-made list: they read
    the id, ``robust`` and ``footnote``."""
    out: dict[str, str] = {}
    foot = models["footnote"] if "footnote" in models.columns else pd.Series("", index=models.index)
    for m, r in models.iterrows():
        if m in NOT_A_PAPER:
            out[m] = "undefended"
        elif np.isfinite(r["robust"]) and r["robust"] <= broken_below:
            out[m] = f"broken (AutoAttack <= {broken_below:g}%)"
        elif CERTIFIED_PATTERN.search(str(foot.get(m) or "")):
            out[m] = "certified training"
    return out


WRN_PATTERN = re.compile(r"WideResNet-(\d+)-(\d+)", re.IGNORECASE)
SMALL_PATTERN = re.compile(r"^(PreAct)?ResNet-(18|20|32|50|110)$|CNN|^DenseNet-121$", re.IGNORECASE)
SIZE_STRATA = ("smaller than WRN-28-10", "WRN-28-10 to WRN-34-10", "larger than WRN-34-10", "other architecture")


def wrn_parameters(depth: int, width: int, classes: int = 10) -> int:
    """Parameters of a WideResNet-depth-width for CIFAR (Zagoruyko & Komodakis 2016): a 3x3 stem
    conv to 16 channels, three groups of n = (depth - 4) / 6 pre-activation blocks of widths 16k,
    32k, 64k (each block: BN, 3x3 conv, BN, 3x3 conv, and a 1x1 shortcut conv where the width
    changes), a final BN and a linear layer; BN has 2 parameters per channel, convs no bias.
    WRN-28-10: 36,479,194 (the 36.5M of the paper's table)."""
    if depth < 10 or (depth - 4) % 6 or width < 1:
        raise ValueError(f"a WideResNet needs depth = 6n + 4 >= 10 and width >= 1; got {depth}-{width}")
    n, total, c_in = (depth - 4) // 6, 3 * 16 * 9, 16
    for c in (16 * width, 32 * width, 64 * width):
        for b in range(n):
            cin = c_in if b == 0 else c
            total += 2 * cin + cin * c * 9 + 2 * c + c * c * 9 + (cin * c if cin != c else 0)
        c_in = c
    return total + 2 * c_in + c_in * classes + classes


def size_stratum(architecture: str) -> str:
    """A RobustBench ``architecture`` string's size class (:data:`SIZE_STRATA`): WideResNet-d-k
    (also RaWideResNet, MeanSparse WideResNet, -PSSiLU) by :func:`wrn_parameters` (below 30M,
    30-50M: WRN-28-10 is 36.5M and WRN-34-10 46.2M, above 50M); ResNet-18/20/32/50/110,
    PreActResNet-18, DenseNet-121 and small CNNs are smaller than WRN-28-10; ensembles ("+"),
    transformers and other families are ``other architecture``."""
    a = str(architecture).strip()
    if "+" in a or "," in a:
        return SIZE_STRATA[3]
    m = WRN_PATTERN.search(a)
    if m:
        p = wrn_parameters(int(m.group(1)), int(m.group(2)))
        return SIZE_STRATA[0] if p < 30e6 else SIZE_STRATA[1] if p <= 50e6 else SIZE_STRATA[2]
    return SIZE_STRATA[0] if SMALL_PATTERN.search(a) else SIZE_STRATA[3]


CLUSTER_RULE = (
    "one cluster per paper; a post-hoc wrapper listed with its base model (footnote names a listed id) joins the "
    "base model's cluster; papers of one team (robustbench_names.TEAMS: DeepMind's Gowal 2020, Gowal 2021, Rebuffi "
    "2021; first authors with several papers) form one cluster; ensembles of other papers' classifiers that name no "
    "listed base model are left out"
)


def exact_words(t: dict | None) -> str:
    """The words for one cell's paper-level test (a :func:`clustered_tests` test): the verdict of
    :func:`reliable_ml.stats.rank_sum_exact` ("higher" only when the exact one-sided Mann-Whitney
    p < 0.05, else "too few papers for a verdict") with its p."""
    if t is None:
        return "not testable (no papers on one side)"
    v = t["exact"]
    words = stats.phrase(
        v,
        scale=1.0,
        higher="higher than CIFAR-10 only",
        lower="lower than CIFAR-10 only",
        cannot_tell="too few papers for a verdict",
    )
    return f"{words}; exact p = {v.p_value:.2g}"


def clustered_tests(
    models: pd.DataFrame,
    column: str = "robust",
    min_year: int | None = None,
    n_boot: int = 2000,
    seed: int = 0,
    exclude: Iterable[str] = (),
    units: pd.Series | None = None,
) -> dict:
    """:func:`group_test` with clusters, not entries, as the units: entries of one paper are not
    independent (same method, code and authors), nor are a post-hoc wrapper and its base model,
    nor a team's papers. The clusters are :func:`~reliable_ml.shift.robustbench_names.clusters`
    (a wrapper joins its base model's cluster, a team's papers form one, ensembles of other papers'
    classifiers are left out). Each cluster contributes one value per data group (the median of its
    entries there). Per extra-data group against ``CIFAR-10 only``: the clusters counted, a
    one-sided Mann-Whitney test on the cluster values (alternative: greater; scipy's default
    method), the exact test and its verdict (:func:`reliable_ml.stats.rank_sum_exact`: "higher"
    only when the exact one-sided p < 0.05), and the difference of entry medians with a
    cluster-resampling interval and its verdict (:func:`median_difference`). ``Standard`` is left
    out; ``min_year`` keeps entries from that year on (:func:`id_year`), to compare papers of one
    era; ``exclude`` (ids, e.g. the keys of :func:`baseline_exclusions`) are left out too.
    ``units``: the clusters when ``models`` is a subset (a size class) of the frame they were
    computed on, so a wrapper keeps its base model's cluster."""
    from scipy.stats import mannwhitneyu

    units = clusters(models) if units is None else units
    keep = models.drop(index=[m for m in {*NOT_A_PAPER, *exclude} if m in models.index])
    keep = keep.loc[np.array([units.get(m) is not None for m in keep.index], dtype=bool)]
    if min_year is not None:
        keep = keep[keep.index.map(id_year) >= min_year]
    by_group = {g: keep.loc[keep["group"] == g, column].dropna() for g in GROUP_ORDER}
    base = by_group["CIFAR-10 only"]
    paper_values = {g: v.groupby(_units(v.index, units)).median() for g, v in by_group.items()}
    out = {
        "min_year": min_year,
        "papers": {g: int(len(v)) for g, v in paper_values.items()},
        "clusters": {g: sorted(map(str, v.index)) for g, v in paper_values.items()},
        "left_out_no_cluster": sorted(m for m in models.index if units.get(m) is None),
        "tests": {},
    }
    for g in GROUP_ORDER[1:]:
        if len(by_group[g]) == 0 or len(base) == 0:
            continue
        out["tests"][g] = {
            "mannwhitney_p_papers": float(
                mannwhitneyu(paper_values[g], paper_values["CIFAR-10 only"], alternative="greater").pvalue
            ),
            "exact": stats.rank_sum_exact(paper_values[g].to_numpy(), paper_values["CIFAR-10 only"].to_numpy()),
            "median_difference": median_difference(by_group[g], base, n_boot=n_boot, seed=seed, units=units),
        }
    return out


def group_test(models: pd.DataFrame, column: str = "robust") -> dict:
    """AutoAttack accuracy by data group: medians, sizes, a Kruskal-Wallis test over the groups
    present, and one-sided Mann-Whitney tests of each extra-data group against the first group
    (``CIFAR-10 only``) and of ``additional_data`` true against false (alternative: greater)."""
    from scipy.stats import kruskal, mannwhitneyu

    groups = {g: models.loc[models["group"] == g, column].dropna() for g in models["group"].unique()}
    groups = {g: v for g, v in groups.items() if len(v)}
    order = [g for g in GROUP_ORDER if g in groups] + [g for g in groups if g not in GROUP_ORDER]
    if len(order) < 2:
        raise ValueError(f"need at least two data groups with models; got {order}")
    base = order[0]
    out = {
        "median": {g: float(groups[g].median()) for g in order},
        "n": {g: int(len(groups[g])) for g in order},
        "kruskal_p": float(kruskal(*(groups[g] for g in order)).pvalue),
        "mannwhitney_vs_base_p": {},
    }
    for g in order[1:]:
        out["mannwhitney_vs_base_p"][g] = float(mannwhitneyu(groups[g], groups[base], alternative="greater").pvalue)
    flag = models["additional_data"].astype(bool)
    yes, no = models.loc[flag, column].dropna(), models.loc[~flag, column].dropna()
    out["median_by_additional_data"] = {"true": float(yes.median()), "false": float(no.median())}
    out["additional_data_p"] = (
        float(mannwhitneyu(yes, no, alternative="greater").pvalue) if len(yes) and len(no) else np.nan
    )
    return out


def carmon_minus_trades(models: pd.DataFrame, column: str = "robust") -> float:
    """Carmon2019Unlabeled minus Zhang2019Theoretically (TRADES), in points of ``column``."""
    return float(models.loc["Carmon2019Unlabeled", column] - models.loc["Zhang2019Theoretically", column])


def linear_fit(x, y) -> dict:
    """Least-squares line ``y = slope x + intercept`` with Pearson ``r`` and ``n``."""
    from scipy.stats import linregress

    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3:
        raise ValueError(f"need at least 3 points to fit a line; got {len(x)}")
    fit = linregress(x, y)
    return {"slope": float(fit.slope), "intercept": float(fit.intercept), "r": float(fit.rvalue), "n": int(len(x))}


def _record(v: stats.Verdict) -> dict:
    out = dataclasses.asdict(v)
    out["interval"] = [float(x) for x in v.interval]
    return out


def carmon_vs_trades(models: pd.DataFrame, n_test: int = 10_000) -> stats.Verdict:
    """Carmon2019Unlabeled against Zhang2019Theoretically under AutoAttack as counts on the
    ``n_test`` CIFAR-10 test images (:func:`reliable_ml.stats.compare_counts`: Fisher's test and
    Newcombe's interval, unpaired since per-image outcomes are not released, which is conservative
    for two models attacked on the same images)."""
    k = [
        round(float(models.loc[m, "robust"]) * n_test / 100) for m in ("Carmon2019Unlabeled", "Zhang2019Theoretically")
    ]
    return stats.compare_counts(k[0], n_test, k[1], n_test)


def _clustered_record(c: dict) -> dict:
    return {
        **c,
        "tests": {
            g: {**t, "median_difference": _record(t["median_difference"]), "exact": _record(t["exact"])}
            for g, t in c["tests"].items()
        },
    }


def _era_record(eras: dict) -> dict:
    out = {**eras, "difference": _record(eras["difference"]), "eras": {}}
    for name, e in eras["eras"].items():
        out["eras"][name] = {k: (_record(v) if isinstance(v, stats.Verdict) else v) for k, v in e.items()}
    return out


def reliable_entries(models: pd.DataFrame) -> pd.DataFrame:
    """``models`` without the entries RobustBench flags ``unreliable`` (its AutoAttack figure is
    known to overstate, e.g. Kang2021Stable: 71.28% under AutoAttack, 64.20% with transfer APGD);
    a frame without the column is returned whole."""
    if "unreliable" not in models.columns:
        return models
    return models[~models["unreliable"].astype(bool)]


def robustbench_record(
    models: pd.DataFrame, corruptions: pd.DataFrame | None = None, n_boot: int = 5000
) -> tuple[dict, dict]:
    """``(results, glue values)`` of chapter 5's RobustBench section: the per-model table, medians
    by data group and by ``additional_data`` with the rank tests over entries and over papers
    (:func:`clustered_tests`, all years and from 2021), the same without the eps 0.031 entries and
    broken defenses (AutoAttack <= 10%), Carmon minus TRADES with its verdict, the overstatement
    summary and by era (:func:`overstatement_by_era`) and the robust-vs-clean (and, given
    ``corruptions``, CIFAR-10-C-vs-clean) fits. Verdicts are worded with :func:`reliable_ml.stats.phrase`.
    Entries RobustBench flags ``unreliable`` (AutoAttack known to overstate) are left out of every
    test (:func:`reliable_entries`) and listed; the era-matched paper tests are repeated on
    ``strongest`` (AutoAttack or a stronger recorded attack, whichever is lower) as a sensitivity
    check. Paper-bootstrap intervals use ``n_boot`` replicates."""
    listed = models
    models = reliable_entries(models)
    test = group_test(models)
    sens = group_test(models[~models["eps_0031"] & (models["robust"] > 10)])
    left_out = [m for m in NOT_A_PAPER if m in models.index]  # no paper's claim: out of the pooled figure and the eras
    over = overstatement_summary(overstatement(models.drop(index=left_out))) | {"left_out": left_out}
    try:
        eras = overstatement_by_era(models, n_boot=n_boot)
    except ValueError:  # an era without entries (ids without years): the era comparison is left out
        eras = None
    excluded = baseline_exclusions(models)
    units = clusters(models)
    eps_ids = list(models.index[models["eps_0031"].astype(bool)])
    no_eps = {*excluded, *eps_ids}
    clustered = {
        "all_years": clustered_tests(models, n_boot=n_boot, exclude=excluded, units=units),
        "from_2021": clustered_tests(models, min_year=2021, n_boot=n_boot, exclude=excluded, units=units),
        "all_years_no_eps0031": clustered_tests(models, n_boot=n_boot, exclude=no_eps, units=units),
        "from_2021_no_eps0031": clustered_tests(models, min_year=2021, n_boot=n_boot, exclude=no_eps, units=units),
    }
    if "strongest" in models.columns:
        clustered["from_2021_strongest"] = clustered_tests(
            models, "strongest", min_year=2021, n_boot=n_boot, exclude=excluded, units=units
        )
    stratum = models["architecture"].map(size_stratum)
    by_size = {
        s: {
            "entries": {g: int(((stratum == s) & (models["group"] == g)).sum()) for g in GROUP_ORDER},
            **{
                key: clustered_tests(models[stratum == s], min_year=year, n_boot=n_boot, exclude=ex, units=units)
                for key, year, ex in (
                    ("all_years", None, excluded),
                    ("from_2021", 2021, excluded),
                    ("all_years_no_eps0031", None, no_eps),
                    ("from_2021_no_eps0031", 2021, no_eps),
                )
            },
        }
        for s in SIZE_STRATA
    }
    pairs = robustbench_pairs.pairs_record(models)
    unreliable = sorted(set(listed.index) - set(models.index))
    stronger = models[models.get("strongest", models["robust"]) < models["robust"] - 0.005]
    strong = models[models["robust"] > 10]
    fit = linear_fit(strong["clean"], strong["robust"])
    fit["papers"] = int(strong.index.map(paper_of).nunique())
    gap, gap_rep = carmon_minus_trades(models), carmon_minus_trades(models, "reported")
    gap_verdict = carmon_vs_trades(models)
    results = {
        "n_models": int(len(models)),
        "n_listed": int(len(listed)),
        "unreliable_models": unreliable,
        "stronger_attack_models": list(stronger.index),
        "n_boot": int(n_boot),
        "models": {
            m: {
                "clean": float(r.clean),
                "autoattack": float(r.robust),
                "reported": None if np.isnan(r.reported) else float(r.reported),
                "group": r.group,
            }
            for m, r in models.iterrows()
        },
        "median_aa_by_additional_data": test["median_by_additional_data"],
        "median_aa_by_group": test["median"],
        "n_by_group": test["n"],
        "mannwhitney_p_vs_cifar10_only": test["mannwhitney_vs_base_p"],
        "kruskal_p": test["kruskal_p"],
        "additional_data_p": test["additional_data_p"],
        "carmon_minus_trades_aa": gap,
        "carmon_minus_trades_reported": gap_rep,
        "carmon_minus_trades_verdict": _record(gap_verdict),
        "overstatement": over,
        "overstatement_by_era": _era_record(eras) if eras else None,
        "clustered_tests": {
            **{k: _clustered_record(c) for k, c in clustered.items()},
            "baseline_excluded": excluded,
            "size_strata": {
                "rule": "WideResNet-d-k by parameter count (<30M, 30-50M, >50M); ResNet-18/20/32/50/110, "
                "PreActResNet-18, DenseNet-121 and CNNs smaller; ensembles, transformers, others apart",
                "entries": {m: str(stratum[m]) for m in models.index},
            },
            "by_size": {
                s: {k: (v if k == "entries" else _clustered_record(v)) for k, v in b.items()}
                for s, b in by_size.items()
            },
            "clusters": {m: units[m] for m in models.index},
            "cluster_rule": CLUSTER_RULE,
            "eps_0031_left_out_in_no_eps0031": eps_ids,
        },
        "within_paper_pairs": pairs["results"],
        "eps_0031_models": list(models.index[models["eps_0031"]]),
        "median_aa_by_group_without_eps0031_and_broken": sens["median"],
        "robust_vs_clean_fit": fit,
    }
    year = models.groupby("group")["year"].median()
    med, p = test["median"], test["mannwhitney_vs_base_p"]
    values = {
        "rb_n": len(models),
        "rb_n_listed": len(listed),
        "rb_unreliable": ", ".join(unreliable) if unreliable else "none",
        "rb_n_unreliable": len(unreliable),
        "rb_n_stronger": len(stronger),
        "rb_n_gen": test["n"]["generated data"],
        "rb_n_real": test["n"]["real extra data"],
        "rb_n_own": test["n"]["CIFAR-10 only"],
        "rb_med_own": med["CIFAR-10 only"],
        "rb_med_gen": med["generated data"],
        "rb_med_real": med["real extra data"],
        "rb_p_real": f"{p['real extra data']:.1e}",
        "rb_p_gen": f"{p['generated data']:.1e}",
        "rb_sens_own": sens["median"]["CIFAR-10 only"],
        "rb_sens_real": sens["median"]["real extra data"],
        "rb_gap": gap,
        "rb_gap_rep": gap_rep,
        "rb_over_med": over["median"],
        "rb_over_mean": over["mean"],
        "rb_over_1": over["share_over_1pt"],
        "rb_over_10": over["share_over_10pt"],
        "rb_over_n": over["n"],
        "rb_over_left_out": ", ".join(over["left_out"]) or "none",
        "rb_over_max": over["max"],
        "rb_over_max_model": over["model_max"],
        "rb_fit_r": fit["r"],
        "rb_fit_n": fit["n"],
        "rb_fit_papers": fit["papers"],
        "rb_papers": int(
            models.drop(index=[m for m in NOT_A_PAPER if m in models.index]).index.map(paper_of).nunique()
        ),
        "rb_gap_verdict": stats.phrase(
            gap_verdict,
            digits=2,
            higher="RST higher than TRADES",
            lower="RST lower than TRADES",
            cannot_tell="the data cannot tell RST from TRADES",
        ),
        "rb_eps_trades_note": (
            "a smaller radius than 8/255, which favours TRADES"
            if bool(models.loc["Zhang2019Theoretically"].get("eps_0031", False))
            else "the same radius"
        ),
        "rb_arch_carmon": str(models.loc["Carmon2019Unlabeled"].get("architecture", "")),
        "rb_arch_trades": str(models.loc["Zhang2019Theoretically"].get("architecture", "")),
        "rb_eps_trades": str(models.loc["Zhang2019Theoretically"].get("eps", "")),
        "rb_year_own": year["CIFAR-10 only"],
        "rb_year_gen": year["generated data"],
        "rb_year_real": year["real extra data"],
        "rb_madry_aa": models.loc["Madry2018Towards", "robust"],
        "rb_madry_rep": models.loc["Madry2018Towards", "reported"],
        "rb_wong_aa": models.loc["Wong2020Fast", "robust"],
        "rb_rice_aa": models.loc["Rice2020Overfitting", "robust"],
    }
    for name, era in (eras or {"eras": {}})["eras"].items():
        key = "early" if name.startswith("up to") else "late"
        values |= {f"rb_era_{key}_{k}": v for k, v in era.items() if not isinstance(v, stats.Verdict | type(None))}
        for k in ("median_verdict", "median_not_equal_verdict"):
            if era[k] is not None:
                values[f"rb_era_{key}_{k}"] = stats.phrase(
                    era[k], scale=1.0, higher="above 0", lower="below 0", cannot_tell="not distinguishable from 0"
                )
    if eras:
        values["rb_era_difference"] = stats.phrase(
            eras["difference"],
            scale=1.0,
            higher="higher up to 2020 than from 2021",
            lower="lower up to 2020 than from 2021",
            cannot_tell="the data cannot tell the two eras apart",
        )
    for key, c in clustered.items():
        for g, short in (("generated data", "gen"), ("real extra data", "real")):
            if g not in c["tests"]:
                continue
            t = c["tests"][g]
            values[f"rb_cl_{key}_{short}_p"] = f"{t['mannwhitney_p_papers']:.1e}"
            values[f"rb_cl_{key}_{short}_papers"] = c["papers"][g]
            values[f"rb_cl_{key}_{short}_exact"] = exact_words(t)
            values[f"rb_cl_{key}_{short}_diff"] = stats.phrase(
                t["median_difference"],
                scale=1.0,
                higher="higher than CIFAR-10 only",
                lower="lower than CIFAR-10 only",
                cannot_tell="not distinguishable from CIFAR-10 only",
            )
        values[f"rb_cl_{key}_own_papers"] = c["papers"]["CIFAR-10 only"]
    why: dict[str, list[str]] = {}
    for m, reason in excluded.items():
        why.setdefault(reason, []).append(m)
    values["rb_baseline_excluded"] = "; ".join(f"{r}: {', '.join(ms)}" for r, ms in why.items()) or "none"
    values["rb_baseline_n_excluded"] = len(excluded)
    certified = [m for m, r in excluded.items() if r == "certified training"]
    values["rb_certified_n"] = len(certified)
    values["rb_certified_ids"] = ", ".join(certified) or "none"
    values["rb_certified_aa"] = float(models.loc[certified, "robust"].min()) if certified else float("nan")
    rest = {m: r for m, r in excluded.items() if r != "certified training"}
    base_medians = {}  # the CIFAR-10-only baseline's median over clusters, with and without the certified model
    for k, ex in (("with", rest), ("without", excluded)):
        keep = models.drop(index=[m for m in {*NOT_A_PAPER, *ex} if m in models.index])
        keep = keep[
            (keep["group"] == "CIFAR-10 only").to_numpy()
            & np.array([units.get(m) is not None for m in keep.index], dtype=bool)
        ]
        base_medians[k] = float(keep["robust"].groupby(_units(keep.index, units)).median().median())
    values["rb_base_median_with_certified"] = base_medians["with"]
    values["rb_base_median_without_certified"] = base_medians["without"]
    values["rb_base_certified_raises"] = (
        stats.phrase(
            stats.against_bounds(base_medians["without"], base_medians["without"], base_medians["with"]),
            scale=1.0,
            higher="raises",
            lower="lowers",
            cannot_tell="leaves unchanged",
        )
        .split(" by ")[0]
        .split(" (")[0]
    )
    eps_listed = list(listed.index[listed["eps_0031"].astype(bool)])
    values["rb_eps_n_listed"] = len(eps_listed)
    values["rb_eps_ids_listed"] = ", ".join(eps_listed)
    values["rb_eps_n_tested"] = len(eps_ids)
    values["rb_eps_n_from_2021"] = int(sum(id_year(m) >= 2021 for m in eps_ids))
    values["rb_cl_left_out"] = " and ".join(clustered["all_years"]["left_out_no_cluster"]) or "no entries"
    values["rb_n_clusters"] = len(set(units.dropna()) - {None})
    values["rb_eps_ids_unreliable"] = ", ".join(m for m in eps_listed if m not in models.index) or "none"
    for s, short in zip(SIZE_STRATA, ("small", "mid", "large", "other")):
        for g, gs in zip(GROUP_ORDER, ("own", "gen", "real")):
            values[f"rb_size_{short}_{gs}_n"] = by_size[s]["entries"][g]
            values[f"rb_size_{short}_{gs}_papers"] = by_size[s]["all_years"]["papers"][g]
        for key in ("all_years", "from_2021", "all_years_no_eps0031", "from_2021_no_eps0031"):
            for g, gs in (("generated data", "gen"), ("real extra data", "real")):
                t = by_size[s][key]["tests"].get(g)
                values[f"rb_size_{short}_{key}_{gs}_diff"] = exact_words(t)
                values[f"rb_size_{short}_{key}_{gs}_p"] = f"{t['exact'].p_value:.2g}" if t else "n/a"
                values[f"rb_size_{short}_{key}_{gs}_papers"] = by_size[s][key]["papers"][g]
            values[f"rb_size_{short}_{key}_own_papers"] = by_size[s][key]["papers"]["CIFAR-10 only"]
    for g, gs in zip(GROUP_ORDER, ("own", "gen", "real")):
        sizes = [by_size[s]["entries"][g] for s in SIZE_STRATA]
        values[f"rb_size_share_big_{gs}"] = 100 * (sizes[1] + sizes[2]) / max(sum(sizes), 1)
    values |= pairs["values"]
    if stronger.empty:
        values["rb_stronger_note"] = "no entry left in has a stronger recorded attack than AutoAttack."
    else:
        gaps = stronger["robust"] - stronger["strongest"]
        values["rb_stronger_note"] = (
            f"{len(stronger)} of the entries left in have a figure from a stronger attack (RobustBench's `external` "
            f"field), up to {gaps.max():.2f} points below AutoAttack ({gaps.idxmax()})."
        )
    both = [t["median_difference"].direction for t in clustered["all_years"]["tests"].values()]
    values["rb_assoc"] = (
        "It shows that, among published models, those trained on extra real or generated data are more robust, by "
        "margins whose paper-resampling intervals lie above 0."
        if both and all(d == "higher" for d in both)
        else "With papers as the units, it does not show that, among published models, both groups trained on extra "
        "data are more robust than those trained on CIFAR-10 alone."
    )
    if corruptions is not None:
        c_fit = linear_fit(corruptions["clean"], corruptions["robust"])
        results["corruptions_vs_clean_fit"] = {**c_fit, "n_models": int(len(corruptions))}
        values |= {"rb_c_slope": c_fit["slope"], "rb_c_r": c_fit["r"], "rb_c_n": c_fit["n"]}
    return results, values


def plot_robust_vs_clean(
    models: pd.DataFrame,
    source: str,
    highlight: Iterable[str] = tuple(TALK_METHODS),
    y: str = "robust",
    y_label: str = "AutoAttack accuracy (%)",
    title: str = "",
):
    """Scatter of ``y`` vs clean accuracy, one colour per data group, the talks' methods labelled."""
    import matplotlib.pyplot as plt

    from reliable_ml.util.plots import source_caption

    fig, ax = plt.subplots(figsize=(6.6, 4.8))
    for g in [g for g in GROUP_ORDER if g in set(models["group"])] + sorted(set(models["group"]) - set(GROUP_ORDER)):
        sel = models[models["group"] == g]
        ax.scatter(
            sel["clean"],
            sel[y],
            s=22,
            alpha=0.8,
            color=GROUP_COLORS.get(g, "0.5"),
            label=f"{GROUP_LABELS.get(g, g)} ({len(sel)})",
            edgecolor="white",
            lw=0.4,
        )
    offsets = ((4, -9), (-70, 6), (4, 5), (-92, -10), (4, -9))  # alternate sides: neighbours' labels do not overlap
    for k, name in enumerate(n for n in highlight if n in models.index):
        ax.annotate(
            name,
            (models.loc[name, "clean"], models.loc[name, y]),
            fontsize=7,
            xytext=offsets[k % len(offsets)],
            textcoords="offset points",
            arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.5},
        )
    ax.set(xlabel="clean accuracy (%)", ylabel=y_label, title=title)
    ax.legend(fontsize=8, loc="upper left")
    source_caption(fig, source)
    return fig


def plot_groups(models: pd.DataFrame, source: str, column: str = "robust", y_label: str = "AutoAttack accuracy (%)"):
    """Strip plot of ``column`` by data group, medians marked."""
    import matplotlib.pyplot as plt

    from reliable_ml.util.plots import source_caption

    order = [g for g in GROUP_ORDER if g in set(models["group"])]
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    rng = np.random.default_rng(0)
    for i, g in enumerate(order):
        v = models.loc[models["group"] == g, column].dropna()
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(v)), v, s=16, alpha=0.8, color=GROUP_COLORS[g])
        ax.hlines(v.median(), i - 0.3, i + 0.3, color="k", lw=2)
    ax.set_xticks(range(len(order)))
    ax.set_xticklabels(
        [
            f"{GROUP_LABELS.get(g, g).replace(' (', chr(10) + '(')}\n(n = {int((models['group'] == g).sum())})"
            for g in order
        ]
    )
    ax.set(ylabel=y_label, xlabel="training data (black bar: median)")
    source_caption(fig, source)
    return fig


def plot_overstatement(diff: pd.Series, source: str):
    """Histogram of reported minus AutoAttack accuracy over models."""
    import matplotlib.pyplot as plt

    from reliable_ml.util.plots import source_caption

    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ax.hist(
        diff,
        bins=np.arange(np.floor(diff.min()) - 0.5, diff.max() + 2, 2 if diff.max() > 20 else 1),
        color="tab:red",
        alpha=0.8,
    )
    ax.axvline(0, color="k", lw=0.8)
    ax.set(xlabel="paper's reported robust accuracy minus AutoAttack (points)", ylabel="models")
    source_caption(fig, source, f"{len(diff)} models with a reported figure")
    return fig


# ----------------------------------------------------------------------------- SQuADShifts
def squad_drops(
    frame: pd.DataFrame, sets: Iterable[str] = ("new-wiki", "nyt", "reddit", "amazon"), metric: str = "f1"
) -> pd.DataFrame:
    """Per entry and new set: SQuAD test score minus the new set's score (points), with ``kind``."""
    sets = list(sets)
    cols = [f"{s}_{metric}" for s in ("test", *sets)]
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise KeyError(f"SQuADShifts frame lacks columns {missing}")
    drops = pd.DataFrame({s: frame[f"test_{metric}"] - frame[f"{s}_{metric}"] for s in sets}, index=frame.index)
    return drops.assign(kind=frame["kind"])


def squad_summary(frame: pd.DataFrame, sets: Iterable[str] = ("new-wiki", "nyt", "reddit", "amazon")) -> dict:
    """Mean and median F1 drop per set for models and humans, and per set the linear fit of the
    new set's F1 on SQuAD F1 over the models (slope, intercept, r, n)."""
    sets = list(sets)
    drops = squad_drops(frame, sets)
    models, humans = drops[drops["kind"] == "model"], drops[drops["kind"] == "human"]
    fits = {}
    sel = frame[frame["kind"] == "model"]
    for s in sets:
        fits[s] = linear_fit(sel["test_f1"], sel[f"{s}_f1"])
    return {
        "n_models": int(len(models)),
        "n_humans": int(len(humans)),
        "mean_f1_drop": {
            "models": {s: float(models[s].mean()) for s in sets},
            "humans": {s: float(humans[s].mean()) for s in sets},
        },
        "median_f1_drop": {
            "models": {s: float(models[s].median()) for s in sets},
            "humans": {s: float(humans[s].median()) for s in sets},
        },
        "fits": fits,
    }


def squad_drop_pattern(
    frame: pd.DataFrame, new_set: str, *, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0
) -> dict:
    """Who loses how much F1 on one SQuADShifts set: the pattern behind "the drop grows with F1".

    Over the models (``kind == "model"``), with drop = SQuAD test F1 - F1 on ``new_set`` (points):

    * ``slope``: the least-squares slope of the new set's F1 on SQuAD F1 (linear F1 scale, as in
      Miller et al. 2020) and its percentile interval over ``n_boot`` resamples of the models.
      The table holds one score per model and set, so the questions cannot be resampled: the
      interval is over models only and, by the course's convention
      (:data:`reliable_ml.shift.line.NOT_JUDGED`), carries no verdict against 1
      (``verdict_vs_1`` records "not judged (models only)");
    * ``drop_by_quartile``: the models cut into quarters by SQuAD F1 (``pandas.qcut``), each
      quarter's mean drop and size, and the verdict of the top quarter's drops against the bottom
      quarter's (Welch t, :func:`reliable_ml.stats.compare`);
    * ``spearman``: Spearman's rank correlation of SQuAD F1 with the drop; ``share_dropping``:
      the % of models with a positive drop;
    * ``humans``: each human's drop, their mean, the verdict of their drops against 0 (one-sample
      t: ``drop_vs_0``) and against the models' (Welch t: ``vs_models``); with three people an
      indication, not an estimate (``None`` with fewer than two).

    The F1 scale is not stretched near 100% as a probit would be, so a line through the models can
    flatten near the ceiling for reasons other than the test set's reuse; this pattern cannot
    tell the two apart. Returns a dict that can go into a results file as is.
    """
    from dataclasses import asdict

    from scipy.stats import spearmanr

    from reliable_ml import stats

    col = f"{new_set}_f1"
    if col not in frame.columns:
        raise KeyError(
            f"SQuADShifts frame has no column {col!r}; sets: {[c[:-3] for c in frame.columns if c.endswith('_f1')]}"
        )
    models, humans = frame[frame["kind"] == "model"], frame[frame["kind"] == "human"]
    if len(models) < 8:
        raise ValueError(f"need at least 8 models to cut into quarters; got {len(models)}")
    x, y = models["test_f1"].to_numpy(float), models[col].to_numpy(float)
    drop = x - y
    slope = float(np.polyfit(x, y, 1)[0])
    idx = np.random.default_rng(seed).integers(0, len(x), (n_boot, len(x)))
    xc = x[idx] - x[idx].mean(1, keepdims=True)
    var = (xc**2).sum(1)
    boot = (xc * y[idx]).sum(1)[var > 0] / var[var > 0]
    lo, hi = (float(v) for v in np.quantile(boot, [alpha / 2, 1 - alpha / 2]))
    quarter = pd.qcut(models["test_f1"], 4, labels=["bottom", "second", "third", "top"])
    by_q = pd.Series(drop, index=models.index).groupby(quarter, observed=True)
    top, bottom = drop[(quarter == "top").to_numpy()], drop[(quarter == "bottom").to_numpy()]
    h_drop = (humans["test_f1"] - humans[col]).to_numpy(float)
    out = {
        "n_models": int(len(models)),
        "mean_drop": float(drop.mean()),
        "slope": {
            "slope": slope,
            "ci": [lo, hi],
            "resampled": f"models only ({n_boot} resamples)",
            # the questions cannot be resampled (one score per model and set): no verdict against 1
            "verdict_vs_1": NOT_JUDGED,
        },
        "drop_by_quartile": {
            **{str(q): {"mean_drop": float(g.mean()), "models": int(len(g))} for q, g in by_q},
            "top_vs_bottom": asdict(stats.compare(top, bottom, paired=False, alpha=alpha, outcome="continuous")),
        },
        "spearman": float(spearmanr(x, drop).statistic),
        "share_dropping": float(100 * np.mean(drop > 0)),
        "humans": {
            "drops": {str(n): float(d) for n, d in zip(humans.index, h_drop)},
            "mean_drop": float(h_drop.mean()) if len(h_drop) else float("nan"),
            "drop_vs_0": asdict(
                stats.compare(h_drop, np.zeros(len(h_drop)), paired=True, alpha=alpha, outcome="continuous")
            )
            if len(h_drop) >= 2
            else None,
            "vs_models": asdict(stats.compare(h_drop, drop, paired=False, alpha=alpha, outcome="continuous"))
            if len(h_drop) >= 2
            else None,
        },
    }
    return out


def squad_numbers(patterns: dict) -> dict:
    """The prose numbers and words of chapter 8's SQuADShifts section, from one
    :func:`squad_drop_pattern` per set (``patterns``, keyed by set name, ``new-wiki`` among them):
    new Wikipedia's slope against 1, top against bottom quarter and the humans' drop against 0,
    and per set the humans' drops against the models' (``qa_hvs_<set>``), each worded by
    :func:`reliable_ml.stats.phrase` from its recorded verdict."""
    from reliable_ml import stats

    def words(record: dict | None, *three: str, **kw) -> str:
        return (
            "(fewer than two people: no test)"
            if record is None
            else stats.phrase(stats.Verdict(**record), *three, **kw)
        )

    wiki = patterns["new-wiki"]
    short = {"new-wiki": "wiki", "nyt": "nyt", "reddit": "reddit", "amazon": "amazon"}
    return {
        "qa_wiki_slope_lo": wiki["slope"]["ci"][0],
        "qa_wiki_slope_hi": wiki["slope"]["ci"][1],
        "qa_wiki_slope_words": (
            f"lie on a line of slope {wiki['slope']['slope']:.2f} ({wiki['slope']['ci'][0]:.2f} to "
            f"{wiki['slope']['ci'][1]:.2f} over models); against 1 it is {wiki['slope']['verdict_vs_1']}: "
            "the interval leaves out the questions' sampling noise, so the slope alone does not say "
            "whether the better models lose more F1"
        ),
        "qa_wiki_top": wiki["drop_by_quartile"]["top"]["mean_drop"],
        "qa_wiki_bottom": wiki["drop_by_quartile"]["bottom"]["mean_drop"],
        "qa_wiki_quartile_words": words(
            wiki["drop_by_quartile"]["top_vs_bottom"],
            "larger",
            "smaller",
            "not distinguishable from it",
            scale=1.0,
            unit="F1",
        ),
        "qa_wiki_rho": wiki["spearman"],
        "qa_wiki_share": wiki["share_dropping"],
        "qa_wiki_h_min": min(wiki["humans"]["drops"].values(), default=float("nan")),
        "qa_wiki_h_max": max(wiki["humans"]["drops"].values(), default=float("nan")),
        "qa_wiki_h_words": words(
            wiki["humans"]["drop_vs_0"],
            "above zero",
            "below zero",
            "not distinguishable from zero",
            scale=1.0,
            unit="F1",
        ),
        **{
            f"qa_hvs_{short.get(s, s)}": words(
                p["humans"]["vs_models"],
                "more than the models'",
                "less than the models'",
                "not distinguishable from the models'",
                scale=1.0,
                unit="F1",
            )
            for s, p in patterns.items()
        },
        **{f"qa_slope_{short.get(s, s)}_lo": p["slope"]["ci"][0] for s, p in patterns.items()},
        **{f"qa_slope_{short.get(s, s)}_hi": p["slope"]["ci"][1] for s, p in patterns.items()},
    }


SQUAD_LABELS = {"new-wiki": "New Wikipedia", "nyt": "New York Times", "reddit": "Reddit", "amazon": "Amazon reviews"}


def plot_squad(frame: pd.DataFrame, summary: dict, source: str):
    """One panel per new set: F1 there vs SQuAD F1, models (dots), fit line, humans (stars), y = x."""
    import matplotlib.pyplot as plt

    from reliable_ml.util.plots import source_caption

    sets = list(summary["fits"])
    fig, axes = plt.subplots(1, len(sets), figsize=(3.6 * len(sets), 3.8), sharex=True, sharey=True, squeeze=False)
    models, humans = frame[frame["kind"] == "model"], frame[frame["kind"] == "human"]
    grid = np.linspace(frame["test_f1"].min() - 2, 100, 2)
    for ax, s in zip(axes[0], sets):
        fit = summary["fits"][s]
        ax.scatter(
            models["test_f1"], models[f"{s}_f1"], s=12, alpha=0.7, color="tab:blue", label=f"models ({len(models)})"
        )
        ax.scatter(
            humans["test_f1"],
            humans[f"{s}_f1"],
            s=80,
            marker="*",
            color="tab:red",
            label=f"humans ({len(humans)})",
            zorder=3,
        )
        ax.plot(grid, fit["slope"] * grid + fit["intercept"], color="tab:blue", lw=1, label="linear fit (models)")
        ax.plot(grid, grid, ls="--", color="0.4", lw=0.8, label="y = x")
        ax.set(
            title=f"{SQUAD_LABELS.get(s, s)}\nslope {fit['slope']:.2f}, r {fit['r']:.3f}",
            xlabel="SQuAD v1.1 test F1 (%)",
        )
        ax.title.set_fontsize(9)
    axes[0][0].set_ylabel("new test set F1 (%)")
    axes[0][0].legend(fontsize=7, loc="upper left")
    source_caption(fig, source)
    return fig


# ----------------------------------------------------------------------------- OpenCLIP
ZERO_SHOT_SHIFTS = ("imagenetv2-matched-frequency", "imagenet-sketch", "imagenet-r", "imagenet-a", "objectnet")
ZERO_SHOT = "zero-shot (OpenCLIP)"


def zero_shot_shift(shift: str) -> er.Shift:
    """The testbed shift with ImageNet ``val`` on all 1,000 classes as x: OpenCLIP reports
    zero-shot ImageNet accuracy on the full validation set only, so the testbed's line is
    refitted against the same axis (for ImageNet-R, -A and ObjectNet this differs from
    chapter 8's class-subset axis)."""
    from reliable_ml.data.published import OPENCLIP_COLUMNS

    if shift not in OPENCLIP_COLUMNS or shift == "val":
        raise ValueError(f"no OpenCLIP column for shift {shift!r}; allowed: {', '.join(ZERO_SHOT_SHIFTS)}")
    base = er.get_shift(shift)
    return er.Shift(f"{shift} (full val)", base.label, base.kind, "val", (OPENCLIP_COLUMNS[shift][1],))


def zero_shot_points(
    testbed: pd.DataFrame, openclip: pd.DataFrame, shift: str, min_x: float | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(testbed points, zero-shot points)`` for ``shift``: ``x`` = ImageNet val (all classes),
    ``y`` = the shifted set, in %. Zero-shot models below ``min_x`` (default: the least
    accurate standard testbed model, so no model needs the line extrapolated below its data)
    are dropped."""
    spec = zero_shot_shift(shift)
    base = er.shift_points(testbed, spec)
    if min_x is None:
        min_x = float(base.loc[base["group"] == "standard", "x"].min())
    clip = pd.DataFrame({"x": openclip["val"], "y": openclip[shift]}).dropna()
    clip = clip[clip["x"] >= min_x].assign(group=ZERO_SHOT, kind="zero-shot")
    return base, clip


def zero_shot_effective_robustness(
    testbed: pd.DataFrame,
    openclip: pd.DataFrame,
    shifts: Iterable[str] = ZERO_SHOT_SHIFTS,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    fit_min_x: float = 0.0,
) -> dict:
    """Per shift: the testbed line over standard models, every zero-shot model's effective
    robustness (points) and the median with a bootstrap interval over models: each resample
    redraws the standard models (refitting the line) and the zero-shot models. With
    ``fit_min_x`` (%), only standard models at least that accurate on ImageNet fit the line and
    only zero-shot models at least that accurate are scored (the interval does not cover a
    line that bends: compare thresholds for that)."""
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1; got {n_boot!r}")
    if not 0 <= fit_min_x < 100:
        raise ValueError(f"fit_min_x is an accuracy in % in [0, 100); got {fit_min_x!r}")
    shifts, parts = list(shifts), {}
    for shift in shifts:
        base, clip = zero_shot_points(testbed, openclip, shift)
        std = base[(base["group"] == "standard") & (base["x"] >= fit_min_x)]
        clip = clip[clip["x"] >= fit_min_x]
        if len(std) < 3 or len(clip) < 1:
            raise ValueError(f"{shift}: {len(std)} standard and {len(clip)} zero-shot models at >= {fit_min_x}%")
        parts[shift] = (base, clip, std)
    arrays = {
        s: [a.to_numpy() / 100 for a in (std["x"], std["y"], clip["x"], clip["y"])]
        for s, (_, clip, std) in parts.items()
    }

    def bootstrap() -> dict:  # one random stream through the shifts, in order
        rng = np.random.default_rng(seed)
        medians = {}
        for shift, (sx, sy, cx, cy) in arrays.items():
            meds = np.empty(n_boot)
            for b in range(n_boot):
                i, j = rng.integers(0, len(sx), len(sx)), rng.integers(0, len(cx), len(cx))
                f = probit_linear_fit(sx[i], sy[i])
                meds[b] = np.median(100 * (cy[j] - f.predict(cx[j])))
            medians[shift] = meds
        return medians

    settings = {
        "function": "zero_shot_effective_robustness",
        "shifts": shifts,
        "n_boot": int(n_boot),
        "seed": int(seed),
    }
    boot = result_cache.cached_arrays(
        "zero_shot_bootstrap",
        settings,
        bootstrap,
        [a for v in arrays.values() for a in v],
        code=(sys.modules[__name__], stats),
    )
    out = {}
    for shift, (base, clip, std) in parts.items():
        fit = probit_linear_fit(std["x"].to_numpy() / 100, std["y"].to_numpy() / 100)
        eff = clip["y"] - 100 * fit.predict(clip["x"].to_numpy() / 100)
        lo, hi = np.quantile(boot[shift], [(1 - level) / 2, (1 + level) / 2])
        out[shift] = {
            "fit": fit,
            "testbed": base,
            "zero_shot": clip.assign(er=eff),
            "median": float(eff.median()),
            "ci": [float(lo), float(hi)],
            "n_zero_shot": int(len(clip)),
            "n_standard": int(len(std)),
            "share_above_line": float(100 * (eff > 0).mean()),
        }
    return out


def zero_shot_verdicts(fits: dict) -> tuple[dict, dict]:
    """Is each shift's median effective robustness of the zero-shot models above the line?

    ``fits``: ``{fit name: zero_shot_effective_robustness(...)}`` (e.g. the fit to all standard
    models and a high-accuracy fit). Each median against 0 on its bootstrap interval
    (:func:`reliable_ml.stats.against_reference`: above only when the interval excludes 0).
    Returns ``(results, numbers)``: the verdicts per fit and shift; ``zs_n_tests``,
    ``zs_n_above``, ``zs_not_above`` (the intervals that are not above 0, each with its words,
    or "none"), ``zs_above_summary`` (those counts as a clause: "all 10 lie above 0" or "8 of
    the 10 lie above 0; those that do not: ..."), per fit the shift with the smallest median
    (``zs_least_<i>``, i its position) and ``zs_least_summary`` (the shift, "under both fits"
    when the fits agree, else each shift with its fit).
    """
    from dataclasses import asdict

    from reliable_ml import stats

    verdicts = {
        fit: {s: stats.against_reference(r["median"], r["ci"], 0.0) for s, r in res.items()}
        for fit, res in fits.items()
    }
    not_above = [
        f"{er.short_label(s)} ({fit}: "
        + stats.phrase(v, "above the line", "below the line", "not distinguishable from the line", scale=1.0)
        + ")"
        for fit, vs in verdicts.items()
        for s, v in vs.items()
        if v.direction != "higher"
    ]
    n_tests = sum(len(vs) for vs in verdicts.values())
    least = {fit: er.short_label(min(res, key=lambda s: res[s]["median"])) for fit, res in fits.items()}
    if len(not_above) == 0:
        above_summary = f"all {n_tests} lie above 0"
    else:
        above_summary = f"{n_tests - len(not_above)} of the {n_tests} lie above 0; those that do not: " + "; ".join(
            not_above
        )
    if len(set(least.values())) == 1:
        least_summary = f"{next(iter(least.values()))} under {'both fits' if len(least) == 2 else 'every fit'}"
    else:
        least_summary = "; ".join(f"{s} under the {fit}" for fit, s in least.items())
    numbers = {
        "zs_above_summary": above_summary,
        "zs_least_summary": least_summary,
        "zs_n_tests": n_tests,
        "zs_n_above": sum(v.direction == "higher" for vs in verdicts.values() for v in vs.values()),
        "zs_not_above": "; ".join(not_above) or "none",
        **{
            f"zs_least_{i}": er.short_label(min(res, key=lambda s: res[s]["median"]))
            for i, res in enumerate(fits.values())
        },
    }
    return {fit: {s: asdict(v) for s, v in vs.items()} for fit, vs in verdicts.items()}, numbers


def plot_zero_shot(results: dict, source: str, ncols: int = 3):
    """One probit panel per shift: testbed models by group, the line over standard models,
    zero-shot OpenCLIP models (red), y = x."""
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    from reliable_ml.util.plots import probit_axes, source_caption

    names = list(results)
    nrows = int(np.ceil(len(names) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 4.0 * nrows), squeeze=False)
    z = lambda v: norm.ppf(np.clip(np.asarray(v, float) / 100, 1e-4, 1 - 1e-4))  # noqa: E731
    for k, (ax, name) in enumerate(zip(axes.flat, names)):
        res = results[name]
        base, clip, fit = res["testbed"], res["zero_shot"], res["fit"]
        for group, style in er.GROUP_STYLE.items():
            sel = base[base["group"] == group]
            if len(sel):
                ax.scatter(
                    z(sel["x"]), z(sel["y"]), s=9, alpha=0.6, lw=0, label=f"testbed: {group} ({len(sel)})", **style
                )
        ax.scatter(
            z(clip["x"]), z(clip["y"]), s=14, color="tab:red", marker="*", label=f"{ZERO_SHOT} ({len(clip)})", zorder=4
        )
        xs = np.concatenate([base["x"], clip["x"]])
        ys = np.concatenate([base["y"], clip["y"]])
        zg = np.linspace(z(xs.min()), z(xs.max()), 50)
        ax.plot(zg, fit.slope * zg + fit.intercept, color="tab:blue", lw=1.2, label="probit fit (standard)")
        probit_axes(ax, (xs.min(), xs.max()), (ys.min(), ys.max()))
        zd = np.linspace(*ax.get_xlim(), 2)
        ax.plot(zd, zd, ls="--", color="0.4", lw=0.8, label="y = x")
        ax.set_ylim(z(ys.min()) - 0.1, z(ys.max()) + 0.1)
        ax.set_xlabel("ImageNet val top-1, all 1,000 classes (%)")
        ax.set_ylabel(f"{er.short_label(name)} top-1 (%)")
        ax.set_title(
            f"{er.short_label(name)}: median ER {res['median']:+.1f} [{res['ci'][0]:+.1f}, {res['ci'][1]:+.1f}]",
            fontsize=9,
        )
        if k == 0:
            ax.legend(fontsize=6, loc="upper left")
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    source_caption(fig, source, "probit-scaled axes; line fitted to the testbed's standard ImageNet models")
    return fig
