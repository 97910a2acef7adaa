"""Within-paper pairs on RobustBench: one paper's model with and without extra data.

A leaderboard compares papers that differ in more than data (architecture, schedule, loss,
year). Some papers list the same recipe twice, once on CIFAR-10 alone and once with extra data
(or once with generated and once with real extra images): those pairs hold the paper fixed.
:func:`within_paper_pairs` finds them, :func:`pair_summary` takes one gain per paper and asks
whether the median gain is above 0 (:func:`reliable_ml.stats.sign_test`), and each pair gets its
own count comparison on the 10,000 test images (:func:`reliable_ml.stats.compare_counts`).
Accuracies in %, gains in points.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from reliable_ml import stats
from reliable_ml.shift.robustbench_names import GROUP_ORDER, TEAMS, count_phrase, paper_of

COMPARISONS = {  # name: (group without, group with)
    "extra vs CIFAR-10 only": (GROUP_ORDER[0], ("generated data", "real extra data")),
    "real vs generated": ("generated data", ("real extra data",)),
}


# What differs within a pair besides the data, as the papers describe their entries (from the
# papers and RobustBench's entries; a paper not listed here is described as "not checked here").
PAIR_DIFFERENCES = {
    "Wu2020Adversarial": "also the method (TRADES-AWP without, RST-AWP with the 500K TinyImages) and the architecture",
    "Cui2023Decoupled": "also the architecture and a separate training schedule for the 20M-synthetic-image run",
    "Rade2021Helper": "also the amount of extra data (1M DDPM images vs 500K TinyImages)",
    "Rebuffi2021Fixing": "also the amount of extra data (1M DDPM images vs 500K TinyImages)",
    "Gowal2020Uncovering": "architecture matches; other differences not checked here",
}


PAIR_GROUP_WORDS = {"real extra data": "extra real images"}  # the group's name in a pair's line


def pair_difference(paper: str) -> str:
    """What differs besides the data in ``paper``'s pairs (:data:`PAIR_DIFFERENCES`), or
    "differences besides data not checked here"."""
    return PAIR_DIFFERENCES.get(paper, "differences besides data not checked here")


def within_paper_pairs(
    models: pd.DataFrame, without: str, with_: tuple[str, ...] | str, column: str = "robust"
) -> pd.DataFrame:
    """Pairs (entry in group ``without``, entry in a group of ``with_``) of one paper
    (:func:`~reliable_ml.shift.robustbench_names.paper_of`), one row per pair with both ids,
    architectures, ``column`` values and ``gain`` = with - without. The rule, per paper with
    entries on both sides: every pair of the *same* architecture string; when there is none and
    each side has exactly one entry, that one pair, flagged ``same_architecture`` False; any
    other paper gives no pair (which of its entries match is not determined). ``models`` needs
    ``group``, ``architecture`` and ``column``."""
    with_ = (with_,) if isinstance(with_, str) else tuple(with_)
    for g in (without, *with_):
        if g not in GROUP_ORDER:
            raise ValueError(f"unknown data group {g!r}; allowed: {', '.join(GROUP_ORDER)}")
    missing = {"group", "architecture", column} - set(models.columns)
    if missing:
        raise KeyError(f"models need columns {sorted(missing)}")
    frame = models.assign(paper=models.index.map(paper_of))
    rows = []
    for paper, entries in frame.groupby("paper", sort=True):
        a = entries[entries["group"] == without]
        b = entries[entries["group"].isin(with_)]
        if a.empty or b.empty:
            continue
        same = [(x, y) for x in a.index for y in b.index if a.at[x, "architecture"] == b.at[y, "architecture"]]
        pairs = same or ([(a.index[0], b.index[0])] if len(a) == len(b) == 1 else [])
        for x, y in pairs:
            rows.append(
                {
                    "paper": paper,
                    "without": x,
                    "with": y,
                    "group_with": b.at[y, "group"],
                    "architecture_without": a.at[x, "architecture"],
                    "architecture_with": b.at[y, "architecture"],
                    "same_architecture": bool(a.at[x, "architecture"] == b.at[y, "architecture"]),
                    "value_without": float(a.at[x, column]),
                    "value_with": float(b.at[y, column]),
                    "gain": float(b.at[y, column] - a.at[x, column]),
                }
            )
    cols = ["paper", "without", "with", "group_with", "architecture_without", "architecture_with"]
    cols += ["same_architecture", "value_without", "value_with", "gain"]
    return pd.DataFrame(rows, columns=cols)


def pair_verdict(value_with: float, value_without: float, n_test: int = 10_000) -> stats.Verdict:
    """One pair's accuracies (%) as counts on the ``n_test`` test images, compared with
    :func:`reliable_ml.stats.compare_counts` (Fisher's exact test, Newcombe's interval; unpaired
    because RobustBench releases no per-image outcomes, which is conservative for two models
    attacked on the same images)."""
    k = [round(float(v) * n_test / 100) for v in (value_with, value_without)]
    return stats.compare_counts(k[0], n_test, k[1], n_test)


def pair_summary(pairs: pd.DataFrame, alpha: float = 0.05) -> dict:
    """One gain per cluster (a team's papers together, :data:`~reliable_ml.shift.robustbench_names.TEAMS`;
    the median of its pairs), their median and :func:`reliable_ml.stats.sign_test` over clusters
    (the verdict; with fewer than 6 clusters its interval is the range of the cluster gains, at
    the coverage its ``test`` names)."""
    if pairs.empty:
        raise ValueError("no within-paper pairs")
    per_paper = pairs.groupby(pairs["paper"].map(lambda p: TEAMS.get(p, p)))["gain"].median()
    verdict = stats.sign_test(per_paper.to_numpy(), alpha=alpha)
    return {
        "papers": int(pairs["paper"].nunique()),
        "clusters": int(len(per_paper)),
        "pairs": int(len(pairs)),
        "paper_gains": {p: float(g) for p, g in per_paper.items()},
        "median_gain": float(per_paper.median()),
        "verdict": verdict,
    }


def _record(v: stats.Verdict) -> dict:
    out = dataclasses.asdict(v)
    out["interval"] = [float(x) for x in v.interval]
    return out


def pairs_record(models: pd.DataFrame, n_test: int = 10_000) -> dict:
    """``{"results", "values", "tables"}`` for chapter 5: per comparison of
    :data:`COMPARISONS`, the pairs (each with its count verdict, :func:`pair_verdict`), and the
    per-paper summary (:func:`pair_summary`); ``values`` are the glue values (``rb_pairs_*``),
    verdict words from :func:`reliable_ml.stats.phrase`. A comparison without pairs records
    ``None``."""
    results, values, tables = {}, {}, {}
    for (name, (without, with_)), short in zip(COMPARISONS.items(), ("extra", "realgen")):
        pairs = within_paper_pairs(models, without, with_)
        tables[name] = pairs
        if pairs.empty:
            results[name] = None
            continue
        verdicts = [pair_verdict(r.value_with, r.value_without, n_test) for r in pairs.itertuples()]
        summary = pair_summary(pairs)
        results[name] = {
            "differences_besides_data": {p: pair_difference(p) for p in pairs["paper"].unique()},
            "rule": "same paper; same architecture where the paper has such a pair, else its only two entries",
            "pairs": [{**r, "verdict": _record(v)} for r, v in zip(pairs.to_dict("records"), verdicts)],
            **{("n_pairs" if k == "pairs" else k): v for k, v in summary.items() if k != "verdict"},
            "verdict": _record(summary["verdict"]),
        }
        n_up = sum(v.direction == "higher" for v in verdicts)
        values |= {
            f"rb_pairs_{short}_n": summary["pairs"],
            f"rb_pairs_{short}_papers": summary["papers"],
            f"rb_pairs_{short}_clusters": summary["clusters"],
            f"rb_pairs_{short}_median": summary["median_gain"],
            f"rb_pairs_{short}_cross_arch": int((~pairs["same_architecture"]).sum()),
            f"rb_pairs_{short}_higher": count_phrase(n_up, len(pairs)),
            f"rb_pairs_{short}_coverage": summary["verdict"].test.rsplit("coverage ", 1)[-1],
            f"rb_pairs_{short}_p": f"{summary['verdict'].p_value:.2f}",
            f"rb_pairs_{short}_verdict": stats.phrase(
                summary["verdict"],
                scale=1.0,
                higher="above 0",
                lower="below 0",
                cannot_tell="too few papers for a verdict at 5%",
            ),
            f"rb_pairs_{short}_list": "; ".join(
                f"{r.paper} ({PAIR_GROUP_WORDS.get(r.group_with, r.group_with)}; {r.architecture_without}"
                f"{'' if r.same_architecture else ' → ' + r.architecture_with}; {pair_difference(r.paper)}): "
                f"{r.value_without:.2f}% → {r.value_with:.2f}%, "
                + stats.phrase(v, higher="higher", lower="lower", cannot_tell="the data cannot tell", digits=2)
                for r, v in zip(pairs.itertuples(), verdicts)
            ),
        }
    return {"results": results, "values": values, "tables": tables}
