"""Tests for reliable_ml.shift.clip_families: families of OpenCLIP checkpoints and their effective robustness."""

import numpy as np
import pandas as pd
import pytest

from reliable_ml import stats
from reliable_ml.shift import clip_families as cf


@pytest.fixture(autouse=True)
def cache_root(tmp_path, monkeypatch):
    """The bootstrap draws are kept in the result cache: an empty one per test."""
    monkeypatch.setenv("RELIABLE_ML_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize(
    "model, family",
    [
        ("ViT-B-32/openai", "OpenAI (WIT-400M)"),
        ("ViT-B-32/laion400m_e32", "LAION-400M"),
        ("ViT-H-14/laion2b_s32b_b79k", "LAION-2B"),
        ("coca_ViT-L-14/mscoco_finetuned_laion2b_s13b_b90k", "LAION-2B, fine-tuned on MS-COCO"),
        ("convnext_base_w/laion_aesthetic_s13b_b82k", "LAION-Aesthetic (subset of LAION-2B)"),
        ("xlm-roberta-large-ViT-H-14/frozen_laion5b_s13b_b90k", "LAION-5B"),
        ("ViT-L-14/datacomp_xl_s13b_b90k", "DataComp-1B"),
        ("ViT-bigG-14-CLIPA/datacomp1b", "DataComp-1B"),
        ("ViT-B-32/datacomp_s_s13m_b4k", "DataComp pools (small to xlarge scale)"),
        ("ViT-L-14/commonpool_xl_clip_s13b_b90k", "DataComp pools (small to xlarge scale)"),
        ("nllb-clip-base/v1", "NLLB-CLIP (LAION-COCO-NLLB)"),
        ("ViT-B-16-SigLIP/webli", "WebLI (SigLIP)"),
        ("RN50/yfcc15m", "YFCC-15M"),
        ("ViT-B-16/brand_new_data", "other (brand_new_data)"),
    ],
)
def test_pretraining_family(model, family):
    assert cf.pretraining_family(model) == family


def test_pretraining_family_rejects_a_key_without_tag():
    with pytest.raises(ValueError, match="name/pretrained"):
        cf.pretraining_family("ViT-B-32")


def test_distinct_checkpoints_drops_repeated_weights_within_a_family_only():
    frame = pd.DataFrame(
        {"val": [60.0, 60.0, 60.0, 61.0], "a": [30.0, 30.0, 30.0, 30.0]},
        index=["RN50/openai", "RN50-quickgelu/openai", "RN50/yfcc15m", "RN101/openai"],
    )
    kept, dropped = cf.distinct_checkpoints(frame)
    assert dropped == {"RN50-quickgelu/openai": "RN50/openai"}
    assert list(kept.index) == ["RN50/openai", "RN50/yfcc15m", "RN101/openai"]


def _lines(er_by_model: dict[str, float], er_second: dict[str, float] | None = None):
    """Standard models exactly on y = x (probit slope 1, intercept 0, so any resample refits the
    same line) and checkpoints at x = 50% with y = 50 + their effective robustness."""
    xs = np.linspace(20, 90, 10)
    std = pd.DataFrame({"x": xs, "y": xs})
    out = {}
    for name, ers in (("s1", er_by_model), ("s2", er_second or er_by_model)):
        zs = pd.DataFrame({"x": 50.0, "y": {m: 50.0 + e for m, e in ers.items()}})
        out[name] = (std, zs)
    return out


ERS = {"a1/x": 1.0, "a2/x": 2.0, "a3/x": 3.0, "b1/y": 10.0, "b2/y": 10.0, "b3/y": 10.0, "c1/z": -4.0}
FAM = pd.Series({m: m.split("/")[1] for m in ERS})


def test_family_means_and_intervals_have_known_values():
    table = cf.family_effective_robustness(_lines(ERS), FAM, n_boot=300, seed=1)
    a, b, c = table.loc[("x", "s1")], table.loc[("y", "s1")], table.loc[("z", "s1")]
    assert a["n"] == 3 and a["mean"] == pytest.approx(2.0) and a["median"] == pytest.approx(2.0)
    assert 1.0 - 1e-9 <= a["lo"] < 2.0 < a["hi"] <= 3.0 + 1e-9  # the resampled mean stays within the values
    assert (b["lo"], b["mean"], b["hi"]) == pytest.approx((10.0, 10.0, 10.0))  # no spread, no width
    assert c["mean"] == pytest.approx(-4.0) and np.isnan(c["lo"]) and np.isnan(c["hi"])  # one checkpoint
    pooled = table.loc[(cf.ALL_CHECKPOINTS, "s1")]
    assert pooled["n"] == 7 and pooled["mean"] == pytest.approx(np.mean(list(ERS.values())))
    equal = table.loc[(cf.FAMILIES_EQUAL, "s1")]
    assert equal["n"] == 3 and equal["mean"] == pytest.approx((2.0 + 10.0 - 4.0) / 3)
    assert equal["hi"] - equal["lo"] > pooled["hi"] - pooled["lo"]  # three clusters are wider than seven models


def test_combo_is_the_mean_over_its_shifts_and_verdicts_follow_the_interval():
    second = {m: e + 4.0 for m, e in ERS.items()}
    table = cf.family_effective_robustness(_lines(ERS, second), FAM, {"both": ["s1", "s2"]}, n_boot=200, seed=0)
    assert table.loc[("x", "both"), "mean"] == pytest.approx(4.0)
    assert table.loc[("x", "s2"), "mean"] == pytest.approx(6.0)
    verdicts = cf.family_verdicts(table)
    assert verdicts[("y", "s1")].direction == "higher"
    assert verdicts[("z", "s1")] is None
    assert verdicts[(cf.FAMILIES_EQUAL, "s1")].direction == "cannot tell"  # family means 2, 10, -4 straddle 0


def test_probit_line_is_refitted_not_assumed():
    xs = np.linspace(20, 90, 10)
    std = pd.DataFrame({"x": xs, "y": xs - 10})  # every standard model loses 10 points
    zs = pd.DataFrame({"x": [70.0, 70.0, 70.0], "y": [60.0, 60.0, 60.0]}, index=["m1/t", "m2/t", "m3/t"])
    table = cf.family_effective_robustness({"s": (std, zs)}, pd.Series("t", index=zs.index), n_boot=50)
    fit = stats.probit_linear_fit(xs / 100, (xs - 10) / 100)  # the line the checkpoints are measured against
    assert table.loc[("t", "s"), "mean"] == pytest.approx(60.0 - 100 * float(fit.predict(0.7)))
    assert abs(table.loc[("t", "s"), "mean"]) > 0.5  # the probit line is not "10 points lost" at 70%


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_boot": 0}, "n_boot"),
        ({"level": 1.5}, "level"),
        ({"min_models": 1}, "min_models"),
        ({"combos": {"bad": ["s9"]}}, "combo"),
    ],
)
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cf.family_effective_robustness(_lines(ERS), FAM, **kwargs)


def test_checkpoint_without_family_is_refused():
    with pytest.raises(ValueError, match="no family"):
        cf.family_effective_robustness(_lines(ERS), FAM.drop("a1/x"))


def test_summary_and_record_report_the_families():
    table = cf.family_effective_robustness(_lines(ERS), FAM, n_boot=200, seed=0)
    summary = cf.family_summary(table, "s1", ("above", "below", "cannot tell"))
    assert summary["n_families"] == 3 and summary["n_interval"] == 2
    assert summary["above"] == "all 2"  # x (1, 2, 3) and y (10, 10, 10) lie above 0; z has no interval
    assert (summary["lowest"], summary["highest"]) == ("z", "y")
    assert summary["lowest_mean"] == pytest.approx(-4.0) and summary["highest_mean"] == pytest.approx(10.0)
    assert summary["equal"] == pytest.approx(8 / 3) and summary["equal_words"].startswith("cannot tell")
    record = cf.by_family_record(table)
    assert record["z"]["s1"]["ci"] is None and record["z"]["s1"]["vs_line"] is None
    assert record["y"]["s1"]["vs_line"]["direction"] == "higher" and record["y"]["s1"]["n"] == 3
    with pytest.raises(ValueError, match="unknown column"):
        cf.family_summary(table, "s9", ("a", "b", "c"))


@pytest.mark.parametrize("k, n, words", [(3, 3, "all 3"), (0, 4, "none of the 4"), (2, 5, "2 of the 5")])
def test_count_words(k, n, words):
    assert cf.count_words(k, n) == words


def test_family_bootstrap_warm_call_returns_the_cold_table_and_a_change_redraws(monkeypatch):
    calls, real = [], cf.probit_linear_fit
    monkeypatch.setattr(cf, "probit_linear_fit", lambda *a: calls.append(1) or real(*a))
    lines = _lines(ERS, {m: e + 1.0 for m, e in ERS.items()})
    cold = cf.family_effective_robustness(lines, FAM, {"both": ["s1", "s2"]}, n_boot=40, seed=3)
    n_cold = len(calls)
    assert n_cold >= 2 * 40  # every replicate refits each line
    warm = cf.family_effective_robustness(lines, FAM, {"both": ["s1", "s2"]}, n_boot=40, seed=3)
    assert len(calls) - n_cold == 2  # the point fits only: the draws were read back
    pd.testing.assert_frame_equal(warm, cold, check_exact=True)
    for change in ({"n_boot": 41, "seed": 3}, {"n_boot": 40, "seed": 4}):
        before = len(calls)
        other = cf.family_effective_robustness(lines, FAM, {"both": ["s1", "s2"]}, **change)
        assert len(calls) - before > 2 * 40 and not other.equals(cold)
    moved = {s: (std, zs.assign(y=zs["y"] + 0.5)) for s, (std, zs) in lines.items()}  # other data
    before = len(calls)
    cf.family_effective_robustness(moved, FAM, {"both": ["s1", "s2"]}, n_boot=40, seed=3)
    assert len(calls) - before > 2 * 40
