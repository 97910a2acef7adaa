"""Re-analyses of RobustBench, SQuADShifts and OpenCLIP tables, on small frames with known answers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy.stats import norm  # noqa: E402

from reliable_ml.shift import published_results as pr  # noqa: E402


@pytest.fixture(autouse=True)
def cache_root(tmp_path, monkeypatch):
    """Bootstrap draws are kept in the result cache: an empty one per test."""
    monkeypatch.setenv("RELIABLE_ML_CACHE", str(tmp_path / "cache"))


def rb_frame() -> pd.DataFrame:
    rows = {
        "Madry2018Towards": (87.14, 44.04, 47.04, "CIFAR-10 only", False),
        "Wong2020Fast": (83.34, 43.21, 46.06, "CIFAR-10 only", False),
        "Rice2020Overfitting": (85.34, 53.42, 58.0, "CIFAR-10 only", False),
        "Zhang2019Theoretically": (84.92, 53.08, 56.43, "CIFAR-10 only", False),
        "Carmon2019Unlabeled": (89.69, 59.53, 62.5, "real extra data", True),
        "Broken": (90.0, 0.3, 70.0, "CIFAR-10 only", False),
        "Gen1": (88.0, 61.0, 61.0, "generated data", False),
        "Gen2": (89.0, 64.0, np.nan, "generated data", False),
        "Real2": (91.0, 62.0, 62.0, "real extra data", True),
    }
    f = pd.DataFrame.from_dict(
        rows, orient="index", columns=["clean", "robust", "reported", "group", "additional_data"]
    )
    return f.assign(architecture="WRN", eps_0031=f.index == "Zhang2019Theoretically")


def test_methods_table_and_overstatement():
    m = rb_frame()
    t = pr.methods_table(m)
    assert list(t.index) == list(pr.TALK_METHODS)
    assert t.loc["Madry2018Towards", "reported - AutoAttack"] == pytest.approx(3.0)
    with pytest.raises(KeyError, match="Nope"):
        pr.methods_table(m, ["Nope"])
    d = pr.overstatement(m)
    assert len(d) == 8 and d["Broken"] == pytest.approx(69.7)  # Gen2 has no reported figure
    s = pr.overstatement_summary(d)
    assert s["model_max"] == "Broken" and s["n"] == 8 and s["share_over_10pt"] == pytest.approx(12.5)
    assert s["median"] == pytest.approx(np.median(d))
    assert pr.carmon_minus_trades(m) == pytest.approx(6.45)


def test_group_test_known_medians_and_direction():
    m = rb_frame()
    g = pr.group_test(m)
    assert g["median"]["CIFAR-10 only"] == pytest.approx(np.median([44.04, 43.21, 53.42, 53.08, 0.3]))
    assert g["median"]["generated data"] == pytest.approx(62.5) and g["n"]["real extra data"] == 2
    assert list(g["median"]) == ["CIFAR-10 only", "generated data", "real extra data"]
    # every extra-data model beats every CIFAR-10-only model: the exact one-sided U-test p is 1 / C(7, 2)
    assert g["mannwhitney_vs_base_p"]["generated data"] == pytest.approx(1 / 21, rel=1e-6)
    assert g["median_by_additional_data"]["true"] == pytest.approx(60.765)
    # reversed data: the one-sided tests no longer reject
    flipped = m.assign(robust=100 - m["robust"])
    assert pr.group_test(flipped)["mannwhitney_vs_base_p"]["generated data"] > 0.9
    with pytest.raises(ValueError, match="two data groups"):
        pr.group_test(m[m["group"] == "CIFAR-10 only"])


def test_linear_fit_known_line():
    x = np.array([70.0, 80.0, 90.0, 95.0])
    fit = pr.linear_fit(x, 1.2 * x - 30)
    assert (
        fit["slope"] == pytest.approx(1.2) and fit["intercept"] == pytest.approx(-30) and fit["r"] == pytest.approx(1)
    )
    with pytest.raises(ValueError, match="at least 3"):
        pr.linear_fit([1, 2], [1, 2])


def squad_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    test = rng.uniform(60, 95, 30)
    rows = {
        f"m{i}": {
            "kind": "model",
            "test_f1": t,
            "new-wiki_f1": 0.9 * t + 7,
            "nyt_f1": t - 4,
            "reddit_f1": 1.2 * t - 30,
            "amazon_f1": 1.4 * t - 50,
        }
        for i, t in enumerate(test)
    }
    rows["Human 1"] = {
        "kind": "human",
        "test_f1": 95.0,
        "new-wiki_f1": 93.0,
        "nyt_f1": 95.0,
        "reddit_f1": 92.0,
        "amazon_f1": 92.0,
    }
    return pd.DataFrame.from_dict(rows, orient="index")


def test_squad_summary_recovers_the_lines_and_drops():
    f = squad_frame()
    s = pr.squad_summary(f)
    assert s["n_models"] == 30 and s["n_humans"] == 1
    assert s["fits"]["reddit"]["slope"] == pytest.approx(1.2) and s["fits"]["reddit"]["r"] == pytest.approx(1)
    assert s["fits"]["nyt"]["intercept"] == pytest.approx(-4)
    assert s["mean_f1_drop"]["models"]["nyt"] == pytest.approx(4.0)
    models = f[f["kind"] == "model"]
    assert s["mean_f1_drop"]["models"]["amazon"] == pytest.approx((models["test_f1"] - models["amazon_f1"]).mean())
    assert s["mean_f1_drop"]["humans"] == pytest.approx({"new-wiki": 2.0, "nyt": 0.0, "reddit": 3.0, "amazon": 3.0})
    fig = pr.plot_squad(f, s, "test")
    assert len(fig.axes) == 4 and "F1" in fig.axes[0].get_xlabel()
    with pytest.raises(KeyError, match="nyt_f1"):
        pr.squad_drops(f.drop(columns="nyt_f1"))


def test_squad_drop_pattern_quartiles_slope_and_humans():
    f = squad_frame()
    models = f[f["kind"] == "model"]
    wiki = pr.squad_drop_pattern(f, "new-wiki", n_boot=200)
    # new-wiki = 0.9 SQuAD + 7 exactly: drop = 0.1 SQuAD - 7 grows with SQuAD F1
    assert wiki["slope"]["slope"] == pytest.approx(0.9) and wiki["slope"]["ci"] == pytest.approx([0.9, 0.9])
    assert wiki["slope"]["verdict_vs_1"] == "not judged (models only)" and wiki["spearman"] == pytest.approx(1.0)
    q = wiki["drop_by_quartile"]
    top = models["test_f1"] >= models["test_f1"].quantile(0.75)
    assert q["top"]["mean_drop"] == pytest.approx((0.1 * models["test_f1"][top] - 7).mean())
    assert sum(q[k]["models"] for k in ("bottom", "second", "third", "top")) == 30
    assert q["top_vs_bottom"]["direction"] == "higher" and q["top_vs_bottom"]["test"] == "Welch t"
    assert wiki["humans"]["drops"] == {"Human 1": 2.0} and wiki["humans"]["vs_models"] is None  # one human: no test
    nyt = pr.squad_drop_pattern(f, "nyt", n_boot=50)  # the same 4 points for every model
    assert nyt["slope"]["verdict_vs_1"] == "not judged (models only)" and nyt["share_dropping"] == 100.0
    assert nyt["drop_by_quartile"]["top_vs_bottom"]["direction"] == "cannot tell"
    two = pd.concat([f, f.loc[["Human 1"]].rename(index={"Human 1": "Human 2"}).assign(**{"amazon_f1": 90.0})])
    amazon = pr.squad_drop_pattern(two, "amazon", n_boot=50)
    assert amazon["humans"]["mean_drop"] == pytest.approx(4.0) and amazon["humans"]["vs_models"]["test"] == "Welch t"
    from scipy import stats as st

    ref = st.ttest_1samp([3.0, 5.0], 0.0)  # the two humans' amazon drops: 95 - 92 and 95 - 90
    assert amazon["humans"]["drop_vs_0"]["p_value"] == pytest.approx(ref.pvalue)
    with pytest.raises(KeyError, match="squad_f1"):
        pr.squad_drop_pattern(f, "squad")


def fake_testbed_and_clip(n_clip: int = 6):
    """Standard models exactly on probit(y) = 0.8 probit(x) - 0.5 for every shift; zero-shot models
    sit exactly 0.3 probit units above it."""
    rng = np.random.default_rng(1)
    val = rng.uniform(0.55, 0.85, 40)
    line = lambda x, up=0.0: norm.cdf(0.8 * norm.ppf(x) - 0.5 + up)  # noqa: E731
    cols = [
        "imagenetv2-matched-frequency-format-val",
        "imagenet-sketch",
        "imagenet-r",
        "imagenet-a",
        "objectnet-1.0-beta",
    ]
    testbed = pd.DataFrame(
        {"model": [f"resnet{i}" for i in range(40)], "val": 100 * val, **{c: 100 * line(val) for c in cols}}
    )
    cv = rng.uniform(0.6, 0.8, n_clip)
    clip = pd.DataFrame(
        {"val": 100 * cv, **{s: 100 * line(cv, 0.3) for s in pr.ZERO_SHOT_SHIFTS}},
        index=[f"clip{i}" for i in range(n_clip)],
    )
    clip.loc["tiny"] = 100 * np.array([0.05] * 6)  # below every standard model: dropped
    return testbed, clip, (cv, line)


def test_zero_shot_effective_robustness_known_offset():
    testbed, clip, (cv, line) = fake_testbed_and_clip()
    res = pr.zero_shot_effective_robustness(testbed, clip, n_boot=50, seed=0)
    assert list(res) == list(pr.ZERO_SHOT_SHIFTS)
    expected = np.median(100 * (line(cv, 0.3) - line(cv)))
    for r in res.values():
        assert r["n_zero_shot"] == 6 and "tiny" not in r["zero_shot"].index
        assert r["fit"].slope == pytest.approx(0.8) and r["median"] == pytest.approx(expected)
        lo, hi = r["ci"]
        assert lo <= r["median"] + 1e-9 and hi >= r["median"] - 1e-9 and r["share_above_line"] == 100
    fig = pr.plot_zero_shot(res, "test")
    assert "ImageNet val" in fig.axes[0].get_xlabel()
    with pytest.raises(ValueError, match="no OpenCLIP column"):
        pr.zero_shot_shift("imagenet-c")
    with pytest.raises(ValueError, match="n_boot"):
        pr.zero_shot_effective_robustness(testbed, clip, n_boot=0)
    high = pr.zero_shot_effective_robustness(testbed, clip, n_boot=5, fit_min_x=70.0, shifts=["imagenet-r"])[
        "imagenet-r"
    ]
    assert high["testbed"]["x"].min() < 70 <= high["zero_shot"]["x"].min() and high["fit"].n == int(
        (testbed["val"] >= 70).sum()
    )
    assert high["fit"].slope == pytest.approx(0.8)  # the same exact line from fewer models
    with pytest.raises(ValueError, match="fit_min_x"):
        pr.zero_shot_effective_robustness(testbed, clip, fit_min_x=100)


def test_zero_shot_verdicts_word_each_interval_against_the_line():
    fits = {
        "fit a": {"imagenet-r": {"median": 5.0, "ci": [3.0, 7.0]}, "objectnet": {"median": 0.5, "ci": [-0.2, 1.0]}},
        "fit b": {"imagenet-r": {"median": 6.0, "ci": [4.0, 8.0]}, "objectnet": {"median": -2.0, "ci": [-3.0, -1.0]}},
    }
    results, numbers = pr.zero_shot_verdicts(fits)
    assert (numbers["zs_n_tests"], numbers["zs_n_above"]) == (4, 2)
    assert numbers["zs_not_above"] == (
        "ObjectNet (fit a: not distinguishable from the line (difference +0.5 points [-0.2, +1.0])); "
        "ObjectNet (fit b: below the line by 2.0 points [1.0, 3.0])"
    )
    assert numbers["zs_least_0"] == "ObjectNet" and results["fit b"]["imagenet-r"]["direction"] == "higher"
    only_above = {"fit a": {"imagenet-r": fits["fit a"]["imagenet-r"]}}
    assert pr.zero_shot_verdicts(only_above)[1]["zs_not_above"] == "none"
    assert numbers["zs_above_summary"].startswith("2 of the 4 lie above 0; those that do not: ObjectNet (fit a")
    assert numbers["zs_least_summary"] == "ObjectNet under both fits"
    assert pr.zero_shot_verdicts(only_above)[1]["zs_above_summary"] == "all 1 lie above 0"
    split = {
        **fits,
        "fit b": {"imagenet-r": {"median": -3.0, "ci": [-4.0, 0.5]}, "objectnet": fits["fit b"]["objectnet"]},
    }
    assert (
        pr.zero_shot_verdicts(split)[1]["zs_least_summary"] == "ObjectNet under the fit a; ImageNet-R under the fit b"
    )


def test_squad_numbers_word_the_recorded_verdicts():
    f = squad_frame()
    two = pd.concat([f, f.loc[["Human 1"]].rename(index={"Human 1": "Human 2"}).assign(**{"new-wiki_f1": 92.0})])
    patterns = {s: pr.squad_drop_pattern(two, s, n_boot=100) for s in ("new-wiki", "nyt")}
    numbers = pr.squad_numbers(patterns)
    # a models-only interval carries no verdict against 1: the words give the slope, never "falling short"
    assert numbers["qa_wiki_slope_words"].startswith("lie on a line of slope 0.90 (0.90 to 0.90 over models)")
    assert "not judged (models only)" in numbers["qa_wiki_slope_words"]
    assert "short of" not in numbers["qa_wiki_slope_words"]
    assert numbers["qa_wiki_quartile_words"].startswith("larger by") and numbers["qa_wiki_rho"] == pytest.approx(1)
    assert (numbers["qa_wiki_h_min"], numbers["qa_wiki_h_max"]) == (2.0, 3.0)
    assert numbers["qa_wiki_h_words"].startswith("not distinguishable from zero")  # 2 and 3 F1: t with 1 df
    assert set(numbers) >= {"qa_hvs_wiki", "qa_hvs_nyt", "qa_slope_nyt_lo", "qa_slope_wiki_hi"}
    alone = {"new-wiki": pr.squad_drop_pattern(f, "new-wiki", n_boot=50)}
    assert pr.squad_numbers(alone)["qa_wiki_h_words"] == "(fewer than two people: no test)"


def test_zero_shot_uses_full_val_axis():
    spec = pr.zero_shot_shift("imagenet-r")
    assert spec.x_col == "val" and spec.y_cols == ("imagenet-r",)


def test_robustbench_plots_label_axes():
    m = rb_frame()
    fig = pr.plot_robust_vs_clean(m, "RobustBench test")
    assert fig.axes[0].get_xlabel() == "clean accuracy (%)" and "AutoAttack" in fig.axes[0].get_ylabel()
    assert "Data: RobustBench test" in [t.get_text() for t in fig.texts]
    assert pr.plot_groups(m, "s").axes[0].get_ylabel().startswith("AutoAttack")
    assert "minus AutoAttack" in pr.plot_overstatement(pr.overstatement(m), "s").axes[0].get_xlabel()


def test_robustbench_record_matches_its_parts():
    m = rb_frame().assign(year=2020)
    corr = pd.DataFrame({"clean": [90.0, 85.0, 80.0], "robust": [75.0, 70.0, 65.0]})
    results, values = pr.robustbench_record(m, corr)
    assert results["n_models"] == 9 and results["models"]["Gen2"]["reported"] is None
    assert results["carmon_minus_trades_aa"] == pytest.approx(6.45) == values["rb_gap"]
    assert results["median_aa_by_group"] == pr.group_test(m)["median"]
    assert (
        "Broken" not in m[m["robust"] > 10].index and results["robust_vs_clean_fit"]["n"] == 8
    )  # broken defense left out
    assert results["corruptions_vs_clean_fit"]["slope"] == pytest.approx(1.0) and values["rb_c_r"] == pytest.approx(1.0)
    assert results["eps_0031_models"] == ["Zhang2019Theoretically"]


def test_robustbench_record_leaves_out_unreliable_entries_and_checks_the_strongest_attack():
    m = rb_frame().assign(year=2021)
    m["unreliable"] = m.index == "Real2"
    m["strongest"] = m["robust"].where(m.index != "Gen2", 60.0)  # a stronger attack recorded for Gen2
    results, values = pr.robustbench_record(m)
    assert results["n_models"] == 8 and results["n_listed"] == 9 and results["unreliable_models"] == ["Real2"]
    assert "Real2" not in results["models"] and values["rb_unreliable"] == "Real2"
    assert (
        results["stronger_attack_models"] == ["Gen2"]
        and "4.00 points below AutoAttack (Gen2)" in values["rb_stronger_note"]
    )
    assert "from_2021_strongest" in results["clustered_tests"] and results["n_boot"] == 5000
    assert "rb_gap_vs_5" not in values and values["rb_eps_trades_note"].startswith("a smaller radius")


def dated_frame() -> pd.DataFrame:
    """Entries named like RobustBench's (author, arXiv year, variant), two eras, papers with several entries."""
    rows = {  # id: (robust, reported, group)
        "Old2019A": (40.0, 45.0, "CIFAR-10 only"),
        "Old2019B_wide": (42.0, 44.0, "CIFAR-10 only"),
        "Old2019B_deep": (43.0, 45.0, "CIFAR-10 only"),
        "Old2020C": (50.0, 50.0, "real extra data"),
        "New2021D_small": (55.0, 55.0, "CIFAR-10 only"),
        "New2021D_large": (57.0, 57.0, "generated data"),
        "New2022E": (60.0, 60.1, "generated data"),
        "New2023F_extra": (62.0, 62.0, "real extra data"),
        "Standard": (0.0, 0.0, "CIFAR-10 only"),
    }
    f = pd.DataFrame.from_dict(rows, orient="index", columns=["robust", "reported", "group"])
    return f.assign(clean=90.0, additional_data=f["group"] == "real extra data", architecture="WRN", eps_0031=False)


def test_papers_and_years_from_entry_ids():
    assert pr.paper_of("Rebuffi2021Fixing_70_16_cutmix_ddpm") == "Rebuffi2021Fixing"
    assert pr.paper_of("Carmon2019Unlabeled") == "Carmon2019Unlabeled"
    assert pr.id_year("Gowal2020Uncovering_70_16") == 2020 and np.isnan(pr.id_year("Standard"))


def test_overstatement_by_era_counts_papers_and_equal_figures():
    out = pr.overstatement_by_era(dated_frame(), n_boot=200)
    early, late = out["eras"]["up to 2020"], out["eras"]["from 2021"]
    assert (early["n"], early["papers"], late["n"], late["papers"]) == (4, 3, 4, 3)  # Standard left out
    assert early["median"] == pytest.approx(np.median([5.0, 2.0, 2.0, 0.0]))
    assert early["paper_median"] == pytest.approx(np.median([5.0, 2.0, 0.0]))  # Old2019B's two entries: one paper
    assert early["share_equal"] == pytest.approx(25.0) and late["share_equal"] == pytest.approx(75.0)
    assert early["share_over_1pt"] == pytest.approx(75.0) and late["share_over_1pt"] == 0.0
    assert out["difference"].difference == pytest.approx(2.0)
    with pytest.raises(ValueError, match="from 2031"):
        pr.overstatement_by_era(dated_frame(), first_late_year=2031)


def test_median_difference_resamples_papers():
    a = pd.Series([60.0, 61.0, 62.0, 63.0], index=["P2021A_1", "P2021A_2", "Q2021B", "R2022C"])
    b = pd.Series([50.0, 51.0, 52.0], index=["S2019A", "T2019B", "U2019C"])
    v = pr.median_difference(a, b, n_boot=500)
    assert v.difference == pytest.approx(61.5 - 51.0) and v.direction == "higher"
    assert v.interval[0] > 0 and v.test == "interval vs reference 0"
    assert pr.median_difference(b, b, n_boot=200).direction == "cannot tell"


def test_clustered_tests_use_one_value_per_paper():
    out = pr.clustered_tests(dated_frame(), n_boot=200)
    assert out["papers"] == {"CIFAR-10 only": 3, "generated data": 2, "real extra data": 2}  # Standard left out
    # paper values: CIFAR-10 only 40, 42.5 (Old2019B), 55; generated 57, 60: U = 5 of 6 pairs
    from scipy.stats import mannwhitneyu

    p = mannwhitneyu([57.0, 60.0], [40.0, 42.5, 55.0], alternative="greater").pvalue
    assert out["tests"]["generated data"]["mannwhitney_p_papers"] == pytest.approx(p)
    late = pr.clustered_tests(dated_frame(), min_year=2021, n_boot=200)
    assert late["papers"]["CIFAR-10 only"] == 1 and late["min_year"] == 2021


def test_carmon_vs_trades_is_an_exact_count_comparison():
    v = pr.carmon_vs_trades(rb_frame())
    assert v.test == "Fisher exact" and v.difference == pytest.approx(0.0645)
    from scipy.stats import fisher_exact

    assert v.p_value == pytest.approx(fisher_exact([[5953, 4047], [5308, 4692]]).pvalue)
    assert v.direction == "higher" and v.interval[0] > 0.05  # above the paper's 5 points, barely


def test_robustbench_record_words_come_from_verdicts():
    names = {"Old2019A": "Carmon2019Unlabeled", "Old2019B_wide": "Zhang2019Theoretically"}
    names |= {"Old2019B_deep": "Madry2018Towards", "New2021D_small": "Wong2020Fast", "New2022E": "Rice2020Overfitting"}
    frame = dated_frame().rename(index=names)
    results, values = pr.robustbench_record(frame.assign(year=2021, clean=80.0 + frame["robust"] / 5))
    eras = results["overstatement_by_era"]["eras"]
    assert eras["up to 2020"]["n"] == 6  # Wong2020, Rice2020 moved in
    # the pooled figure and the eras count the same entries: Standard (no paper) is out of both
    assert results["overstatement"]["n"] == eras["up to 2020"]["n"] + eras["from 2021"]["n"]
    assert results["overstatement"]["left_out"] == ["Standard"] and values["rb_over_left_out"] == "Standard"
    assert values["rb_era_difference"].startswith(("higher up to 2020", "the data cannot tell"))
    assert {"all_years", "from_2021", "by_size", "baseline_excluded"} <= set(results["clustered_tests"])
    assert values["rb_gap_verdict"].startswith("RST lower than TRADES by 2.00 points")  # 40% vs 42% of 10,000 images
    assert "lower" not in values["rb_assoc"] or "does not show" in values["rb_assoc"]


def test_count_phrase_says_all_and_none_exactly():
    assert pr.count_phrase(121, 121) == "all 121"
    assert pr.count_phrase(0, 5) == "none of the 5"
    assert pr.count_phrase(120, 121) == "120 of the 121"
    with pytest.raises(ValueError, match="k=6"):
        pr.count_phrase(6, 5)


def test_zero_shot_bootstrap_warm_call_returns_the_cold_intervals_and_a_change_redraws(monkeypatch):
    testbed, clip, _ = fake_testbed_and_clip()
    calls, real = [], pr.probit_linear_fit
    monkeypatch.setattr(pr, "probit_linear_fit", lambda *a: calls.append(1) or real(*a))
    shifts = ["imagenet-r", "objectnet"]
    cold = pr.zero_shot_effective_robustness(testbed, clip, shifts, n_boot=30, seed=2)
    assert len(calls) == 2 * 30 + 2  # the replicates, then one point fit per shift
    warm = pr.zero_shot_effective_robustness(testbed, clip, shifts, n_boot=30, seed=2)
    assert len(calls) == 2 * 30 + 4  # only the point fits: the draws were read back
    for s in shifts:
        assert warm[s]["ci"] == cold[s]["ci"] and warm[s]["median"] == cold[s]["median"]
        pd.testing.assert_frame_equal(warm[s]["zero_shot"], cold[s]["zero_shot"], check_exact=True)
    for kwargs in ({"n_boot": 30, "seed": 3}, {"n_boot": 31, "seed": 2}, {"n_boot": 30, "seed": 2, "fit_min_x": 65.0}):
        before = len(calls)
        pr.zero_shot_effective_robustness(testbed, clip, shifts, **kwargs)
        assert len(calls) - before >= 2 * 30  # drawn again
