"""Names shared by the RobustBench re-analysis (chapter 05): the data groups, the paper an entry
comes from, and exact counts in words. Its own module so that :mod:`.published_results` and
:mod:`.robustbench_pairs` both import it without importing each other."""

from __future__ import annotations

import pandas as pd

GROUP_ORDER = ("CIFAR-10 only", "generated data", "real extra data")


def paper_of(model_id: str) -> str:
    """The paper a RobustBench entry comes from: its id up to the first "_" ("Rebuffi2021Fixing_70_16_cutmix_ddpm"
    -> "Rebuffi2021Fixing"); one paper often has several entries (architectures, data)."""
    return str(model_id).split("_")[0]


def count_phrase(k: int, n: int) -> str:
    """``k`` of ``n`` in words: "all n", "none of the n" or "k of the n" (exact counts, no rounding)."""
    if not 0 <= int(k) <= int(n) or int(n) < 1:
        raise ValueError(f"need 0 <= k <= n and n >= 1; got k={k!r}, n={n!r}")
    return f"all {n}" if k == n else f"none of the {n}" if k == 0 else f"{k} of the {n}"


# How the real-extra-data group is named in prose and figures: RobustBench's `additional_data` flag
# marks real images, but nearly all of them are unlabelled and pseudo-labelled (Carmon, Gowal,
# Wu, Rebuffi, Rade, Alayrac: 500K 80M-TinyImages), and Hendrycks2019Using uses ImageNet pre-training.
GROUP_LABELS = {
    "CIFAR-10 only": "CIFAR-10 only",
    "generated data": "generated data",
    "real extra data": "extra real images (mostly 500K pseudo-labelled TinyImages; one ImageNet-pretrained)",
}

# Papers of one team, one cluster (fixed in code, written from the papers' author lists; not
# exhaustive): DeepMind's three papers, and papers sharing a first or senior author: Addepalli
# (2021, 2022), Sehwag (2020, 2021), Cui (2020, 2023), Chen & Lee (LTD 2021, Data 2024), Pang
# (2020 x3, 2022) with Wang2023Better (Pang a co-author), Bai (2023, 2024).
TEAMS = {
    "Gowal2020Uncovering": "DeepMind (Gowal, Rebuffi et al.)",
    "Gowal2021Improving": "DeepMind (Gowal, Rebuffi et al.)",
    "Rebuffi2021Fixing": "DeepMind (Gowal, Rebuffi et al.)",
    "Addepalli2021Towards": "Addepalli et al.",
    "Addepalli2022Efficient": "Addepalli et al.",
    "Sehwag2020Hydra": "Sehwag et al.",
    "Sehwag2021Proxy": "Sehwag et al.",
    "Cui2020Learnable": "Cui et al.",
    "Cui2023Decoupled": "Cui et al.",
    "Pang2020Bag": "Pang et al.",
    "Pang2020Boosting": "Pang et al.",
    "Pang2020Rethinking": "Pang et al.",
    "Pang2022Robustness": "Pang et al.",
    "Wang2023Better": "Pang et al.",
    "Chen2021LTD": "Chen & Lee",
    "Chen2024Data": "Chen & Lee",
    "Bai2023Improving": "Bai et al.",
    "Bai2024MixedNUTS": "Bai et al.",
}
ENSEMBLE_WORDS = "ensemble of networks"  # a footnote naming an ensemble of other papers' classifiers


def cluster_of(model_id: str, base_model: str = "", footnote: str = "", listed=()) -> str | None:
    """The statistical unit (cluster) of a RobustBench entry, or ``None`` when it is left out.
    The rule: (1) an entry built post hoc on a listed model (``base_model`` in ``listed``, e.g.
    Amini2024MeanSparse adding one operator to Peng2023Robust) joins that base model's cluster;
    (2) an ensemble whose footnote says it uses "an ensemble of networks" and names no listed base
    model (Bai2023Improving, Bai2024MixedNUTS reuse other papers' base classifiers) is left out,
    since its base classifiers cannot be assigned; (3) otherwise the paper (:func:`paper_of`),
    and papers of one team (:data:`TEAMS`) form one cluster."""
    if base_model and base_model in set(listed) and base_model != model_id:
        return cluster_of(base_model, listed=())
    if ENSEMBLE_WORDS in str(footnote or "").lower():
        return None
    paper = paper_of(model_id)
    return TEAMS.get(paper, paper)


def clusters(models: pd.DataFrame) -> pd.Series:
    """:func:`cluster_of` for every row of a RobustBench frame (index: ids; uses the columns
    ``base_model`` and ``footnote`` when present); ``None`` marks entries left out."""
    listed = set(models.index)
    base = models["base_model"] if "base_model" in models.columns else pd.Series("", index=models.index)
    foot = models["footnote"] if "footnote" in models.columns else pd.Series("", index=models.index)
    return pd.Series(
        [cluster_of(m, str(base.get(m) or ""), str(foot.get(m) or ""), listed) for m in models.index],
        index=models.index,
        dtype=object,
        name="cluster",
    )
