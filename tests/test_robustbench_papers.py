"""RobustBench with papers as the units: baseline exclusions, size classes, era medians,
within-paper pairs and the sign test behind their verdict; small frames with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from reliable_ml import stats
from reliable_ml.shift import published_results as pr
from reliable_ml.shift import robustbench_pairs as rp


def test_sign_test_known_values_and_order_statistic_interval():
    v = stats.sign_test(np.arange(1.0, 11.0))  # 10 positive differences
    assert v.p_value == pytest.approx(binomtest(10, 10, 0.5).pvalue) == pytest.approx(2 / 1024)
    # j = 2: coverage 1 - 2 P(Bin(10, 1/2) <= 1) = 1 - 22/1024 >= 0.95; j = 3 gives 0.891 < 0.95
    assert v.interval == (2.0, 9.0) and v.difference == 5.5 and v.direction == "higher"
    assert "coverage 97.9%" in v.test
    few = stats.sign_test([8.68, 3.87, 10.64])  # every paper gains, but 3 cannot reach 5%
    assert few.p_value == pytest.approx(0.25) and few.direction == "cannot tell"
    assert few.interval == (3.87, 10.64) and "coverage 75.0%" in few.test
    assert stats.sign_test(-np.arange(1.0, 11.0)).direction == "lower"
    assert stats.sign_test([0.0, 0.0]).p_value == 1.0
    with pytest.raises(ValueError, match="finite difference"):
        stats.sign_test([])


def test_wrn_parameters_match_the_published_counts():
    assert pr.wrn_parameters(28, 10) == 36_479_194  # WRN-28-10 as in torchvision-style counts, 36.5M
    assert pr.wrn_parameters(34, 10) == pytest.approx(46.16e6, rel=1e-3)
    # growth: width enters squared, depth linearly (per group)
    assert pr.wrn_parameters(28, 20) == pytest.approx(4 * pr.wrn_parameters(28, 10), rel=0.01)
    with pytest.raises(ValueError, match="depth = 6n \\+ 4"):
        pr.wrn_parameters(27, 10)


def test_size_stratum_reads_architecture_strings():
    small, mid, large, other = pr.SIZE_STRATA
    cases = {
        "ResNet-18": small,
        "PreActResNet-18": small,
        "WideResNet-28-4": small,
        "5-layer-CNN": small,
        "WideResNet-28-10": mid,
        "WideResNet-28-10-PSSiLU": mid,
        "WideResNet-34-10": mid,
        "WideResNet-34-20": large,
        "RaWideResNet-70-16": large,
        "MeanSparse WideResNet-94-16": large,
        "ResNet-152 + WideResNet-70-16": other,
        "XCiT-L12": other,
        "WideResNet-A4": other,
    }
    assert {a: pr.size_stratum(a) for a in cases} == cases


def test_baseline_exclusions_by_rule():
    m = pd.DataFrame(
        {
            "robust": [0.0, 0.3, 32.6, 50.0, 10.0],
            "footnote": ["", "", "Verifiably robust model with 32.24% provable robust accuracy", "", None],
        },
        index=["Standard", "Broke2020X", "Cert2020Y", "Fine2020Z", "Edge2019W"],
    )
    out = pr.baseline_exclusions(m)
    assert out == {
        "Standard": "undefended",
        "Broke2020X": "broken (AutoAttack <= 10%)",
        "Cert2020Y": "certified training",
        "Edge2019W": "broken (AutoAttack <= 10%)",  # at the threshold: left out
    }
    assert pr.baseline_exclusions(m.drop(columns="footnote")).get("Cert2020Y") is None


def test_clustered_tests_leave_out_excluded_entries():
    f = pd.DataFrame(
        {
            "robust": [40.0, 42.0, 1.0, 60.0, 61.0],
            "group": ["CIFAR-10 only"] * 3 + ["generated data"] * 2,
        },
        index=["A2019X", "B2019Y", "C2019Z", "D2021P", "E2021Q"],
    )
    full = pr.clustered_tests(f, n_boot=100)
    cut = pr.clustered_tests(f, n_boot=100, exclude=["C2019Z"])
    assert full["papers"]["CIFAR-10 only"] == 3 and cut["papers"]["CIFAR-10 only"] == 2
    # the baseline median moves from 40 to 41 when the broken entry goes
    assert full["tests"]["generated data"]["median_difference"].difference == pytest.approx(60.5 - 40.0)
    assert cut["tests"]["generated data"]["median_difference"].difference == pytest.approx(60.5 - 41.0)


def era_frame() -> pd.DataFrame:
    rows = {  # id: (robust, reported): early entries overstate except one that reports AutoAttack
        "Old2019A": (40.0, 43.0),
        "Old2019B_1": (41.0, 44.0),
        "Old2019B_2": (42.0, 45.0),
        "Old2020C": (50.0, 54.0),
        "Old2020D": (51.0, 51.0),
        "New2021E": (55.0, 55.0),
        "New2022F": (56.0, 56.0),
        "New2022G": (57.0, 56.9),
    }
    f = pd.DataFrame.from_dict(rows, orient="index", columns=["robust", "reported"])
    return f.assign(group="CIFAR-10 only")


def test_overstatement_by_era_reports_equal_entries_apart_with_paper_intervals():
    out = pr.overstatement_by_era(era_frame(), n_boot=300)
    early, late = out["eras"]["up to 2020"], out["eras"]["from 2021"]
    assert (early["n_equal"], early["n_not_equal"], early["papers_not_equal"]) == (1, 4, 3)
    assert early["median_verdict"].difference == pytest.approx(3.0)  # median of 3, 3, 3, 4, 0
    assert early["median_not_equal_verdict"].difference == pytest.approx(3.0)  # of 3, 3, 3, 4
    assert early["median_not_equal_verdict"].direction == "higher"  # every resampled median is >= 3
    assert (late["n_equal"], late["n_not_equal"]) == (2, 1)
    assert late["median_verdict"].direction == "cannot tell" and late["median_verdict"].difference == 0.0
    lo, hi = early["median_verdict"].interval
    assert 0.0 <= lo <= 3.0 <= hi <= 4.0  # resampled medians lie within the values


def pairs_frame() -> pd.DataFrame:
    rows = {  # id: (robust, group, architecture)
        "Gow2020U_70_16": (57.20, "CIFAR-10 only", "WRN-70-16"),
        "Gow2020U_34_20": (56.86, "CIFAR-10 only", "WRN-34-20"),
        "Gow2020U_70_16_extra": (65.88, "real extra data", "WRN-70-16"),
        "Gow2020U_28_10_extra": (62.80, "real extra data", "WRN-28-10"),
        "Wu2020A": (56.17, "CIFAR-10 only", "WRN-34-10"),
        "Wu2020A_extra": (60.04, "real extra data", "WRN-28-10"),
        "Reb2021F_70_16_ddpm": (64.25, "generated data", "WRN-70-16"),
        "Reb2021F_70_16_extra": (66.58, "real extra data", "WRN-70-16"),
        "Amb2021X_a": (50.0, "CIFAR-10 only", "R18"),  # two on each side, no match: no pair
        "Amb2021X_b": (51.0, "CIFAR-10 only", "R50"),
        "Amb2021X_c": (60.0, "generated data", "WRN-28-10"),
        "Amb2021X_d": (61.0, "generated data", "WRN-34-10"),
        "Solo2022Y": (70.0, "generated data", "WRN-70-16"),
    }
    return pd.DataFrame.from_dict(rows, orient="index", columns=["robust", "group", "architecture"])


def test_within_paper_pairs_match_architecture_first():
    pairs = rp.within_paper_pairs(pairs_frame(), "CIFAR-10 only", ("generated data", "real extra data"))
    got = {(r["without"], r["with"]): (r["gain"], r["same_architecture"]) for r in pairs.to_dict("records")}
    assert got.keys() == {("Gow2020U_70_16", "Gow2020U_70_16_extra"), ("Wu2020A", "Wu2020A_extra")}
    assert got[("Gow2020U_70_16", "Gow2020U_70_16_extra")] == (pytest.approx(8.68), True)
    assert got[("Wu2020A", "Wu2020A_extra")] == (pytest.approx(3.87), False)  # its only two entries
    rg = rp.within_paper_pairs(pairs_frame(), "generated data", "real extra data")
    assert list(rg["paper"]) == ["Reb2021F"] and rg["gain"].iloc[0] == pytest.approx(2.33)
    with pytest.raises(ValueError, match="unknown data group"):
        rp.within_paper_pairs(pairs_frame(), "CIFAR-10", "real extra data")


def test_pair_summary_and_record():
    pairs = rp.within_paper_pairs(pairs_frame(), "CIFAR-10 only", ("generated data", "real extra data"))
    s = rp.pair_summary(pairs)
    assert s["papers"] == 2 and s["median_gain"] == pytest.approx((8.68 + 3.87) / 2)
    assert s["verdict"].direction == "cannot tell" and s["verdict"].p_value == pytest.approx(0.5)
    rec = rp.pairs_record(pairs_frame())
    one = rec["results"]["extra vs CIFAR-10 only"]["pairs"]
    gow = next(p for p in one if p["paper"] == "Gow2020U")
    from scipy.stats import fisher_exact

    assert gow["verdict"]["p_value"] == pytest.approx(fisher_exact([[6588, 3412], [5720, 4280]]).pvalue)
    assert gow["verdict"]["direction"] == "higher"
    v = rec["values"]
    assert v["rb_pairs_extra_n"] == 2 and v["rb_pairs_extra_higher"] == "all 2"
    assert v["rb_pairs_extra_verdict"].startswith("too few papers for a verdict at 5%")
    assert "57.20% → 65.88%, higher by 8.68 points" in v["rb_pairs_extra_list"]
    empty = rp.pairs_record(pairs_frame().loc[["Solo2022Y"]])
    assert empty["results"]["real vs generated"] is None and "rb_pairs_extra_n" not in empty["values"]
    with pytest.raises(ValueError, match="no within-paper pairs"):
        rp.pair_summary(pairs.iloc[:0])
