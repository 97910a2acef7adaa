"""RobustBench clusters (post-hoc wrappers join their base model, ensembles of other papers'
classifiers are left out, a team's papers are one unit) and the exact paper-level rank test
that carries the size x era verdicts; small frames with known answers, scipy as the cross-check."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu

from reliable_ml import stats
from reliable_ml.shift import published_results as pr
from reliable_ml.shift import robustbench_pairs as rp
from reliable_ml.shift.robustbench_names import cluster_of, clusters


def test_cluster_rule_wrappers_ensembles_teams():
    listed = ["Peng2023Robust", "Bartoldson2024Adversarial_WRN-94-16", "Amini2024MeanSparse_Ra_WRN_70_16"]
    foot = "It adds the MeanSparse operator to the adversarially trained model Peng2023Robust."
    assert cluster_of("Amini2024MeanSparse_Ra_WRN_70_16", "Peng2023Robust", foot, listed) == "Peng2023Robust"
    assert (
        cluster_of("Amini2024MeanSparse_S-WRN-94-16", "Bartoldson2024Adversarial_WRN-94-16", "", listed)
        == "Bartoldson2024Adversarial"
    )
    # a base model that is not listed: the wrapper stays its own paper
    assert cluster_of("Amini2024MeanSparse_X", "Nobody2020Z", "", listed) == "Amini2024MeanSparse"
    ens = "It uses an ensemble of networks. The robust base classifier uses 50M synthetic images."
    assert cluster_of("Bai2024MixedNUTS", "", ens) is None
    team = {
        cluster_of(m)
        for m in ("Gowal2020Uncovering_70_16", "Gowal2021Improving_R18_ddpm_100m", "Rebuffi2021Fixing_R18_ddpm")
    }
    assert len(team) == 1 and "DeepMind" in team.pop()
    assert cluster_of("Carmon2019Unlabeled") == "Carmon2019Unlabeled"


def test_clusters_of_a_frame_and_wrapper_merged_in_clustered_tests():
    f = pd.DataFrame(
        {
            "robust": [40.0, 42.0, 44.0, 71.07, 72.08, 70.0],
            "group": ["CIFAR-10 only"] * 3 + ["generated data"] * 3,
            "base_model": ["", "", "", "", "Peng2023Robust", ""],
            "footnote": ["", "", "", "", "adds MeanSparse to Peng2023Robust", "It uses an ensemble of networks."],
        },
        index=["A2019X", "B2019Y", "C2019Z", "Peng2023Robust", "Amini2024MeanSparse_Ra", "Bai2024MixedNUTS"],
    )
    u = clusters(f)
    assert u["Amini2024MeanSparse_Ra"] == "Peng2023Robust" and u["Bai2024MixedNUTS"] is None
    out = pr.clustered_tests(f, n_boot=50)
    assert out["papers"]["generated data"] == 1  # the wrapper joins its base; the ensemble is left out
    assert out["clusters"]["generated data"] == ["Peng2023Robust"]
    assert out["left_out_no_cluster"] == ["Bai2024MixedNUTS"]
    t = out["tests"]["generated data"]
    assert t["exact"].p_value == pytest.approx(0.25)  # 1 cluster above 3: P = 1 / C(4, 1)
    assert t["exact"].direction == "cannot tell"
    assert pr.exact_words(t).startswith("too few papers for a verdict")


def _brute_u_cdf(m: int, n: int) -> np.ndarray:
    """P(U <= u) by enumerating which of the m + n ranks belong to the first sample."""
    counts = np.zeros(m * n + 1)
    for pos in combinations(range(m + n), m):
        counts[sum(p - i for i, p in enumerate(pos))] += 1  # U = number of (a, b) pairs with a above b
    return np.cumsum(counts) / counts.sum()


@pytest.mark.parametrize("m,n", [(1, 1), (3, 4), (5, 2), (4, 6)])
def test_u_null_distribution_against_enumeration(m, n):
    assert np.allclose(stats._u_null_cdf(m, n), _brute_u_cdf(m, n))


def test_rank_sum_exact_matches_scipy_and_needs_p_below_alpha():
    a, b = np.array([70.0, 72.0, 75.0, 68.0, 66.0]), np.array([57.0, 58.0, 56.0])
    v = stats.rank_sum_exact(a, b)
    assert v.p_value == pytest.approx(mannwhitneyu(a, b, alternative="greater", method="exact").pvalue)
    assert v.p_value == pytest.approx(1 / 56) and v.direction == "higher"  # all 5 above all 3
    assert v.difference == pytest.approx(np.median((a[:, None] - b[None, :]).ravel()))
    # 3 vs 3, every one above: p = 1 / C(6, 3) = 0.05, not below 0.05: no verdict
    three = stats.rank_sum_exact(a[:3], b)
    assert three.p_value == pytest.approx(0.05) and three.direction == "cannot tell"
    assert stats.rank_sum_exact(b, a).direction == "lower"
    assert three.interval == (float(np.min(a[:3, None] - b)), float(np.max(a[:3, None] - b)))  # the range
    with pytest.raises(ValueError, match="finite values"):
        stats.rank_sum_exact([], b)


def test_rank_sum_exact_interval_coverage_by_simulation():
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(400):
        a, b = rng.normal(1.0, 1.0, 8), rng.normal(0.0, 1.0, 7)
        lo, hi = stats.rank_sum_exact(a, b).interval
        hits += lo <= 1.0 <= hi
    assert 0.85 <= hits / 400 <= 0.97  # nominal >= 90% (two one-sided 95% bounds)


def test_pair_summary_counts_a_team_once_and_pairs_name_what_else_differs():
    rows = {
        "Gowal2020Uncovering_70_16": (57.20, "CIFAR-10 only", "WRN-70-16"),
        "Gowal2020Uncovering_70_16_extra": (65.88, "real extra data", "WRN-70-16"),
        "Rebuffi2021Fixing_70_16": (58.0, "CIFAR-10 only", "WRN-70-16"),
        "Rebuffi2021Fixing_70_16_extra": (66.58, "real extra data", "WRN-70-16"),
        "Wu2020Adversarial": (56.17, "CIFAR-10 only", "WRN-34-10"),
        "Wu2020Adversarial_extra": (60.04, "real extra data", "WRN-28-10"),
    }
    f = pd.DataFrame.from_dict(rows, orient="index", columns=["robust", "group", "architecture"])
    pairs = rp.within_paper_pairs(f, "CIFAR-10 only", ("generated data", "real extra data"))
    s = rp.pair_summary(pairs)
    assert s["papers"] == 3 and s["clusters"] == 2  # Gowal 2020 and Rebuffi 2021: one team
    assert s["median_gain"] == pytest.approx((np.median([8.68, 8.58]) + 3.87) / 2)
    text = rp.pairs_record(f)["values"]["rb_pairs_extra_list"]
    assert "TRADES-AWP without, RST-AWP with" in text and "extra real images" in text
