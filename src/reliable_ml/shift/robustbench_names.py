"""Names shared by the RobustBench re-analysis (chapter 05): the data groups, the paper an entry
comes from, and exact counts in words. Its own module so that :mod:`.published_results` and
:mod:`.robustbench_pairs` both import it without importing each other."""

from __future__ import annotations

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
