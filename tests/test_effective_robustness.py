"""Effective robustness: shift registry, model groups, probit line fits, ER of planted points."""

from __future__ import annotations

import os

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from reliable_ml.shift import effective_robustness as er
from reliable_ml.shift import line
from reliable_ml.stats import LineFit


@pytest.fixture(autouse=True)
def cache_root(tmp_path, monkeypatch):
    """Bands, zoo points and bootstrap replicates are kept in the result cache: an empty one per test."""
    monkeypatch.setenv("RELIABLE_ML_CACHE", str(tmp_path / "cache"))


matplotlib.use("Agg")

V2 = "imagenetv2-matched-frequency-format-val"


def planted_testbed(slope: float, intercept: float, n: int = 40, noise: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """A fake testbed: n standard models with val in (5%, 90%) and V2 on the planted probit line."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.05, 0.90, n)
    zy = slope * st.norm.ppf(x) + intercept + noise * rng.standard_normal(n)
    return pd.DataFrame({"model": [f"resnet{i}" for i in range(n)], "val": 100 * x, V2: 100 * st.norm.cdf(zy)})


# ----------------------------------------------------------------------------- registry
def test_unknown_shift_lists_available_ones():
    with pytest.raises(ValueError) as err:
        er.get_shift("imagenet-v3")
    msg = str(err.value)
    assert "imagenet-v3" in msg
    for name in ("imagenetv2-matched-frequency", "imagenet-r", "objectnet", "imagenet-c", "pgd.linf.eps2"):
        assert name in msg
    with pytest.raises(ValueError, match="available shifts"):
        er.fit_shift(planted_testbed(1.0, 0.0), "not-a-shift")


def test_registry_kinds_and_subset_class_baselines():
    natural = er.available_shifts("natural")
    assert {
        "imagenetv2-matched-frequency",
        "imagenetv2-threshold0.7",
        "imagenetv2-top-images",
        "imagenet-sketch",
        "imagenet-r",
        "objectnet",
        "imagenet-a",
    } <= set(natural)
    assert all(s.startswith("pgd.") for s in er.available_shifts("adversarial"))
    # shifts on a class subset compare with val on the same classes
    assert er.get_shift("imagenet-r").x_col == "val-on-imagenet-r-classes"
    assert er.get_shift("objectnet").x_col == "val-on-objectnet-classes"
    assert len(er.get_shift("imagenet-c").y_cols) == 15 * 5
    with pytest.raises(ValueError, match="allowed: natural"):
        er.available_shifts("weird")


def test_multi_column_shift_averages_its_columns():
    shift = er.get_shift("imagenet-c.fog")
    rng = np.random.default_rng(1)
    table = pd.DataFrame(rng.uniform(10, 60, (6, 5)), columns=list(shift.y_cols))
    table["val"] = rng.uniform(60, 80, 6)
    table["model"] = [f"m{i}" for i in range(6)]
    table.loc[2, shift.y_cols[3]] = np.nan  # one missing severity drops that model
    pts = er.shift_points(table, shift)
    assert "m2" not in pts.index and len(pts) == 5
    expected = table.set_index("model").drop(index="m2")[list(shift.y_cols)].mean(axis=1)
    np.testing.assert_allclose(pts["y"], expected.loc[pts.index])


def test_missing_column_names_it():
    table = pd.DataFrame({"model": ["a", "b", "c"], "val": [50.0, 60, 70]})
    with pytest.raises(ValueError, match="imagenet-sketch"):
        er.shift_points(table, "imagenet-sketch")


# ----------------------------------------------------------------------------- groups
@pytest.mark.parametrize(
    "name, group",
    [
        ("resnet50", "standard"),
        ("resnet50_aws_baseline", "standard"),
        ("resnet50-randomized_smoothing_noise_0.00", "standard"),
        ("vit_small_patch16_224", "standard"),
        ("resnet101_3_epochs", "standard"),
        ("resnet50_l2_eps3_robust", "robustness intervention"),
        ("efficientnet-b3-advprop-autoaug", "robustness intervention"),
        ("resnet50_trained_on_SIN_and_IN", "robustness intervention"),
        ("resnet50_with_fog_aws", "robustness intervention"),
        ("FixResNet50CutMix", "robustness intervention"),
        ("densenet121_lpf3", "robustness intervention"),
        ("resnext101_32x8d_deepaugment_augmix", "robustness intervention"),
        ("instagram-resnext101_32x8d", "more data"),
        ("FixResNeXt101_32x48d_v2", "more data"),
        ("resnet18_swsl", "more data"),
        ("BiT-M-R50x1-ILSVRC2012", "more data"),
        ("vit_large_patch16_384", "more data"),
        ("efficientnet-l2-noisystudent", "more data"),
        ("resnet50_clip_zeroshot", "more data"),
        ("resnet50-vtab-rotation", "self-supervised (ImageNet only)"),
        ("resnet50_swav", "self-supervised (ImageNet only)"),
    ],
)
def test_model_groups_from_names(name, group):
    assert er.model_group(name).group == group


def test_group_models_table_and_bad_name():
    table = er.group_models(["resnet50", "resnet50_augmix"])
    assert list(table.columns) == ["group", "kind", "rule"]
    assert table.loc["resnet50_augmix", "kind"] == "robustness augmentation"
    assert table.loc["resnet50", "rule"] == "(default)"
    with pytest.raises(ValueError, match="non-empty string"):
        er.model_group("")


def test_advprop_is_not_lp_adversarial_training():
    kinds = er.group_models(["efficientnet-b4-advprop-autoaug", "resnet50_linf_eps4_robust", "resnet50_adv-train-free"])
    assert kinds["kind"].tolist() == ["AdvProp", "adversarial training", "adversarial training"]
    assert set(kinds["group"]) == {"robustness intervention"}


# ----------------------------------------------------------------------------- fits and ER
def test_probit_fit_recovers_planted_line_exactly():
    fit = er.fit_shift(planted_testbed(0.9, -0.3), "imagenetv2-matched-frequency")
    assert fit.slope == pytest.approx(0.9, abs=1e-9)
    assert fit.intercept == pytest.approx(-0.3, abs=1e-9)
    assert fit.r2 == pytest.approx(1.0, abs=1e-12) and fit.n == 40


def test_probit_fit_recovers_noisy_line_within_its_standard_error():
    table = planted_testbed(1.1, -0.5, n=300, noise=0.05, seed=3)
    fit = er.fit_shift(table, "imagenetv2-matched-frequency")
    ref = st.linregress(st.norm.ppf(table["val"] / 100), st.norm.ppf(table[V2] / 100))
    assert fit.slope == pytest.approx(ref.slope) and fit.intercept == pytest.approx(ref.intercept)
    assert abs(fit.slope - 1.1) < 4 * ref.stderr
    assert abs(fit.intercept + 0.5) < 4 * ref.intercept_stderr
    assert 0.95 < fit.r2 < 1.0


def test_points_on_the_line_have_zero_effective_robustness():
    table = planted_testbed(0.8, -1.0)
    fit = er.fit_shift(table, "imagenetv2-matched-frequency")
    ers = er.effective_robustness(table, "imagenetv2-matched-frequency", fit)
    assert len(ers) == len(table)
    np.testing.assert_allclose(ers.to_numpy(), 0.0, atol=1e-8)


def test_effective_robustness_is_the_planted_lift_and_ignores_non_standard_models():
    table = planted_testbed(0.8, -1.0)
    fit0 = er.fit_shift(table, "imagenetv2-matched-frequency")
    on_line = 100 * st.norm.cdf(0.8 * st.norm.ppf(0.7) - 1.0)
    extra = pd.DataFrame(
        {
            "model": ["resnet50_augmix", "instagram-resnext101_32x8d"],
            "val": [70.0, 70.0],
            V2: [on_line - 0.5, on_line + 4.0],
        }
    )
    table = pd.concat([table, extra], ignore_index=True)
    fit = er.fit_shift(table, "imagenetv2-matched-frequency")
    assert fit == fit0  # only standard models are fitted
    ers = er.effective_robustness(table, "imagenetv2-matched-frequency", fit)
    assert ers["resnet50_augmix"] == pytest.approx(-0.5, abs=1e-8)
    assert ers["instagram-resnext101_32x8d"] == pytest.approx(4.0, abs=1e-8)
    # hand computation with scipy: y - 100 * Phi(slope * Phi^{-1}(x) + b)
    by_hand = on_line + 4.0 - 100 * st.norm.cdf(fit.slope * st.norm.ppf(0.7) + fit.intercept)
    assert ers["instagram-resnext101_32x8d"] == pytest.approx(by_hand)


def test_analyze_points_adds_er_band_and_group_means():
    table = planted_testbed(1.0, -0.2, n=60, noise=0.03, seed=5)
    table.loc[0, "model"], table.loc[1, "model"] = "resnet50_clip_zeroshot", "resnet50_augmix"
    res = er.analyze_shift(table, "imagenetv2-matched-frequency", n_boot=200, seed=0)
    assert res.fit.n == 58
    assert set(res.points.columns) >= {"x", "y", "group", "predicted", "er"}
    lo, hi = res.band
    assert lo.shape == hi.shape == res.grid.shape and np.all(lo <= hi)
    pred = res.fit.predict(res.grid)
    assert np.mean((lo <= pred) & (pred <= hi)) > 0.9
    means = er.mean_by_group(res.points)
    assert list(means) == ["standard", "robustness intervention", "more data"]
    assert means["more data"] == pytest.approx(res.points.loc["resnet50_clip_zeroshot", "er"])


def test_fit_min_x_and_bad_arguments():
    table = planted_testbed(1.0, 0.0, n=50)
    pts = er.shift_points(table, "imagenetv2-matched-frequency")
    fit = er.fit_points(pts, fit_min_x=50)
    assert fit.n == int((pts["x"] >= 50).sum())
    with pytest.raises(ValueError, match="fit_min_x"):
        er.fit_points(pts, fit_min_x=120)
    with pytest.raises(ValueError, match="unknown model groups"):
        er.fit_points(pts, fit_groups=("standrd",))
    with pytest.raises(ValueError, match="at least 3 models"):
        er.fit_points(pts, fit_groups=("more data",))
    with pytest.raises(ValueError, match="n_boot"):
        er.analyze_points(pts, er.get_shift("imagenetv2-matched-frequency"), n_boot=0)


def test_plot_shift_draws_every_group():
    import matplotlib.pyplot as plt

    table = planted_testbed(1.0, -0.2, n=30)
    table.loc[0, "model"] = "resnet50_augmix"
    res = er.analyze_shift(table, "imagenetv2-matched-frequency", n_boot=20)
    fig, ax = plt.subplots()
    er.plot_shift(ax, res)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(lbl.startswith("standard (29)") for lbl in labels)
    assert any(lbl.startswith("robustness intervention (1)") for lbl in labels)
    assert "%" in ax.get_xlabel()
    plt.close(fig)


# ----------------------------------------------------------------------------- real testbed
@pytest.mark.data
@pytest.mark.skipif(not os.environ.get("RELIABLE_ML_DATA"), reason="RELIABLE_ML_DATA is not set")
def test_real_testbed_every_shift_fits_and_imagenetv2_is_on_the_line():
    from reliable_ml.data import DataUnavailable, imagenet_testbed

    try:
        table = imagenet_testbed(download=False)
    except DataUnavailable as exc:
        pytest.skip(f"testbed CSV not under RELIABLE_ML_DATA: {exc}")
    for name in er.SHIFTS:
        fit = er.fit_shift(table, name)
        assert isinstance(fit, LineFit) and fit.n >= 50, name
    v2 = er.analyze_shift(table, "imagenetv2-matched-frequency", n_boot=50)
    assert v2.fit.r2 > 0.95
    # standard models sit on their own least-squares line (mean ER near 0 points)
    assert abs(er.mean_by_group(v2.points)["standard"]) < 0.5
    groups = er.group_models(table["model"])
    assert set(groups["group"]) == set(er.GROUPS)


def test_group_table_and_model_means_average_the_planted_residuals():
    frame = planted_testbed(1.0, -0.3, n=30)
    frame.loc[0, "model"] = "resnet50_augmix"  # a robustness intervention, lifted by 5 points
    frame.loc[0, V2] += 5.0
    res = {"imagenetv2-matched-frequency": er.analyze_shift(frame, "imagenetv2-matched-frequency", n_boot=5)}
    table = er.group_table(res, ["imagenetv2-matched-frequency"])
    assert list(table.columns) == ["standard", "robustness intervention"]
    assert table.loc["imagenetv2-matched-frequency", "robustness intervention"] == pytest.approx(5.0, abs=0.05)
    assert table.loc["imagenetv2-matched-frequency", "standard"] == pytest.approx(0.0, abs=1e-6)
    means = er.model_means(res, ["imagenetv2-matched-frequency"])
    assert means.loc["resnet50_augmix", "group"] == "robustness intervention"
    with pytest.raises(ValueError, match="mean' or 'median"):
        er.group_table(res, ["imagenetv2-matched-frequency"], how="max")


def test_rule_table_counts_every_model_once():
    names = ["resnet50", "resnet50_augmix", "instagram-resnext101_32x8d", "resnet50_lpf3"]
    table = er.rule_table(names)
    assert table["models"].sum() == len(names)
    assert int(table.loc[table["pattern (regex)"] == "(no match)", "models"].iloc[0]) == 1


def test_slope_interval_recovers_a_planted_slope_and_covers_it_under_noise():
    rng = np.random.default_rng(0)
    x = rng.uniform(40, 90, 60)
    exact = 100 * st.norm.cdf(0.9 * st.norm.ppf(x / 100) - 0.3)
    s = er.slope_interval(x, exact, n_boot=200)
    assert s.slope == pytest.approx(0.9) and s.lo == pytest.approx(0.9) and s.hi == pytest.approx(0.9)
    assert s.n == 60
    noisy = 100 * st.norm.cdf(0.9 * st.norm.ppf(x / 100) - 0.3 + rng.normal(0, 0.05, 60))
    s = er.slope_interval(x, noisy, n_boot=500)
    assert s.lo < 0.9 < s.hi and s.lo < s.slope < s.hi and s.hi - s.lo < 0.2
    # the slope is the package's probit fit
    assert s.slope == pytest.approx(er.probit_linear_fit(x / 100, noisy / 100).slope)
    with pytest.raises(ValueError, match="same length"):
        er.slope_interval(x, noisy[:-1])


def test_line_drop_is_largest_in_the_middle_for_a_constant_probit_shift():
    fit = LineFit(1.0, -0.3, 1.0, 10)
    drops = er.line_drop(fit, [20, 50, 85])
    assert drops[1] > drops[0] and drops[1] > drops[2]  # slope 1: most points lost near 50%
    assert drops[1] == pytest.approx(100 * (0.5 - st.norm.cdf(-0.3)))
    with pytest.raises(ValueError, match="in %"):
        er.line_drop(fit, 0.8 * 0 + 100)


def test_versus_one_reads_the_interval():
    assert er.versus_one(er.SlopeInterval(0.9, 0.88, 0.92, 10)) == "below 1"
    assert er.versus_one(er.SlopeInterval(1.1, 1.02, 1.2, 10)) == "above 1"
    assert er.versus_one(er.SlopeInterval(0.97, 0.9, 1.03, 10)) == "consistent with 1"
    assert er.versus_one(er.SlopeInterval(0.98, 0.96, 1.0, 10)) == "consistent with 1"  # touching 1 is no verdict
    v = er.slope_verdict(er.SlopeInterval(0.9111, 0.9086, 0.9137, 188))
    assert v.direction == "lower" and v.difference == pytest.approx(-0.0889) and v.interval[1] == pytest.approx(-0.0863)
    with pytest.raises(ValueError, match="must contain"):
        er.slope_verdict(er.SlopeInterval(0.8, 0.9, 0.95, 10))


def test_slope_interval_with_image_noise_is_wider_and_keeps_the_default_draws():
    rng = np.random.default_rng(5)
    x = rng.uniform(40, 90, 60)
    y = 100 * st.norm.cdf(0.9 * st.norm.ppf(x / 100) - 0.3 + rng.normal(0, 0.02, 60))
    plain, noisy = er.slope_interval(x, y, n_boot=400), er.slope_interval(x, y, n_boot=400, n_images=(500, 500))
    assert noisy.slope == plain.slope and noisy.hi - noisy.lo > 1.5 * (plain.hi - plain.lo)
    # without image noise the draws are the models alone, as before the option existed
    idx = np.random.default_rng(0).integers(0, 60, (400, 60))
    by_hand = [np.polyfit(st.norm.ppf(x[i] / 100), st.norm.ppf(y[i] / 100), 1)[0] for i in idx]
    assert (plain.lo, plain.hi) == pytest.approx(tuple(np.quantile(by_hand, [0.025, 0.975])))
    with pytest.raises(ValueError, match="n_images"):
        er.slope_interval(x, y, n_images=(500,))


def test_against_line_is_a_one_sample_t_test():
    values = np.array([1.2, 0.4, 2.1, -0.3, 0.9, 1.5])
    v = er.against_line(values)
    ref = st.ttest_1samp(values, 0.0)
    assert v.p_value == pytest.approx(ref.pvalue) and v.interval == pytest.approx(tuple(ref.confidence_interval(0.95)))
    assert v.direction == "higher" and v.test == "paired t"
    assert er.against_line([0.5, -0.7, 0.1, np.nan]).direction == "cannot tell"  # NaN (not evaluated) is dropped
    with pytest.raises(ValueError, match="at least 2"):
        er.against_line([1.0, np.nan])


def test_chapter_8_fits_at_the_course_floor_in_every_profile():
    from reliable_ml.settings import effective_robustness as settings

    assert settings.MIN_ACCURACY == line.MIN_ACCURACY
    assert {p: row.fit_min_accuracy for p, row in settings.TABLE.items()} == dict.fromkeys(
        settings.TABLE, line.MIN_ACCURACY
    )


def test_models_only_slope_interval_uses_the_course_draws_by_default():
    rng = np.random.default_rng(4)
    x = np.linspace(40, 85, 30)
    y = np.clip(x - 10 + rng.normal(0, 1, 30), 1, 99)
    default = er.slope_interval(x, y)
    course = line.models_only_interval(x, y, min_accuracy=0.0, n_boot=line.N_BOOT, seed=line.SEED)
    assert (default.lo, default.hi) == (course["ci"][0], course["ci"][1])
    assert er.slope_interval(x, y, n_boot=1000).hi != default.hi  # the number of draws matters: one value


def test_slope_numbers_names_what_the_prose_quotes():
    s = er.SlopeInterval(0.91, 0.90, 0.92, 188)
    out = er.slope_numbers("v2", s, [12.3, 10.6])
    assert out == {
        "v2_slope": 0.91,
        "v2_slope_lo": 0.90,
        "v2_slope_hi": 0.92,
        "v2_slope_n": 188,
        "v2_slope_vs_1": "not judged (models only)",  # a models-only interval carries no verdict
        "v2_slope_words": "not judged (models only)",
        "v2_drop_60": 12.3,
        "v2_drop_85": 10.6,
    }
    assert er.slope_numbers("v2", None) == {} and "v2_drop_60" not in er.slope_numbers("v2", s)
    assert s.as_dict() == {"slope": 0.91, "ci": [0.9, 0.92], "models": 188}


# ----------------------------------------------------------------------------- group verdicts and their words
def _fake_analyses(er_by_shift: dict[str, dict[str, float]]):
    """Objects with the one attribute the verdict helpers read: ``.points["er"]`` per model."""
    from types import SimpleNamespace

    return {s: SimpleNamespace(points=pd.DataFrame({"er": pd.Series(v)})) for s, v in er_by_shift.items()}


def test_kind_verdicts_test_each_shift_and_word_the_result():
    # one Lp model per source, so the source-level test equals the model-level one there
    lp = [
        "facebook_adv_trained_r152",
        "resnet50-smoothing_adversarial_x",
        "resnet50_adv-train-free",
        "resnet50_l2_robust",
    ]
    more = ["instagram-resnext0", "BiT-M-R50x1", "vit_base_patch16_224", "resnet50_swsl"]
    ap = ["efficientnet-b0-advprop-autoaug", "efficientnet-b1-advprop-autoaug"]  # one source: AdvProp
    values = {
        "imagenet-r": [10.0, 12.0, 14.0, 11.0],
        "objectnet": [-2.0, -1.5, -2.5, -1.8],
        "imagenetv2-matched-frequency": [0.2, -0.3, 0.1, -0.1],
        "imagenet-sketch": [5.0, 6.0, 7.0, 4.0],
        "imagenet-a": [0.0, 1.0, -1.0, 0.5],
    }
    analyses = _fake_analyses(
        {
            s: dict(zip(lp, v)) | {m: 20.0 + i + j for j, m in enumerate(more)} | dict.fromkeys(ap, 30.0)
            for i, (s, v) in enumerate(values.items())
        }
    )
    model_mean = er.model_means(analyses, list(values))
    results, numbers = er.kind_verdicts(analyses, model_mean, list(values))
    assert numbers["adv_r_words"].startswith("above the line by 11.8 points")
    assert numbers["adv_objectnet_words"].startswith("below the line by 1.9 points [1.3, 2.6]")
    assert numbers["adv_v2_words"] == "not distinguishable from the line (difference +0.0 points [-0.4, +0.3])"
    ref = st.ttest_1samp(values["objectnet"], 0.0)
    assert results["lp_adversarial_training_vs_line"]["objectnet"]["p_value"] == pytest.approx(ref.pvalue)
    assert results["lp_adversarial_training_vs_line"]["objectnet"]["models"] == 4
    assert results["lp_adversarial_training_vs_line"]["objectnet"]["sources"] == 4 and numbers["adv_sources"] == 4
    assert numbers["er_advprop_a"] == pytest.approx(30.0)
    # interventions (4 Lp sources and one AdvProp source at +30) against the 4 more-data sources: Welch t
    # over the sources' means; the two AdvProp models count once
    by_group = model_mean.groupby("group")["mean ER over natural shifts"]
    iv, md = by_group.get_group("robustness intervention"), by_group.get_group("more data")
    ref = st.ttest_ind(list(iv[lp]) + [iv[ap].mean()], md, equal_var=False)
    verdict = results["interventions_vs_more_data_natural"]
    assert verdict["p_value"] == pytest.approx(ref.pvalue) and verdict["sources"] == [5, 4]
    ref_models = st.ttest_ind(iv, md, equal_var=False)
    assert verdict["over_models"]["p_value"] == pytest.approx(ref_models.pvalue) and ref_models.pvalue != ref.pvalue


def test_model_source_groups_checkpoints_by_paper():
    assert er.model_source("resnet50_lpf3") == er.model_source("vgg16_lpf2") == "Zhang 2019 (anti-aliasing)"
    assert er.model_source("efficientnet-b3-advprop-autoaug") != er.model_source("efficientnet-b3-autoaug")
    assert er.model_source("resnet50_with_fog_aws") == "Taori et al. 2020 (corruption augmentation)"
    assert er.model_source("some_unlisted_net") == "some_unlisted_net"  # its own source
    means = er.source_means(pd.Series({"resnet50_lpf2": 1.0, "vgg16_lpf3": 3.0, "other": 5.0, "nan_net": np.nan}))
    assert means.to_dict() == {"Zhang 2019 (anti-aliasing)": 2.0, "other": 5.0}
    with pytest.raises(ValueError, match="non-empty string"):
        er.model_source("")


def test_synthetic_vs_natural_pairs_the_models():
    lp = ["facebook_adv_a", "resnet50-smoothing_adversarial_b", "resnet50_adv-train-free", "r50_l2_robust", "r18_advx"]
    aa = [f"resnet50_lpf{i}" for i in range(1, 5)]  # one source (Zhang 2019): one unit of the paired test
    natural = dict(zip(lp + aa, [1.0, 2.0, 3.0, 2.5, 1.5, -0.5, 0.0, -0.2, 0.3]))
    c = {m: v + (6.0 if m in lp else -1.0) + 0.1 * i for i, (m, v) in enumerate(natural.items())}
    pgd = {m: natural[m] + 0.3 * (-1) ** i for i, m in enumerate(lp)}  # the anti-aliased models: no PGD numbers
    analyses = _fake_analyses({"imagenet-r": natural, "imagenet-c": c, "pgd.linf.eps1": pgd})
    model_mean = er.model_means(analyses, ["imagenet-r"])
    table, results, numbers = er.synthetic_vs_natural(analyses, model_mean, ["pgd.linf.eps1"])
    diffs = np.array([c[m] - natural[m] for m in lp + aa])
    by_source = np.append(diffs[:5], diffs[5:].mean())
    assert results["c"]["models"] == 9 and results["c"]["sources"] == 6
    assert results["c"]["p_value"] == pytest.approx(st.ttest_1samp(by_source, 0).pvalue)
    assert results["c"]["over_models"]["p_value"] == pytest.approx(st.ttest_1samp(diffs, 0).pvalue)
    assert results["pgd"]["models"] == 5 and numbers["syn_pgd_words"].startswith("not distinguishable")
    assert numbers["kind_adv_c"] == pytest.approx(np.mean([c[m] for m in lp]))
    assert numbers["kind_lpf_natural"] == pytest.approx(np.mean([natural[m] for m in aa]))
    assert np.isnan(numbers["kind_noise_c"])  # no such models: not measured
    assert table.loc["anti-aliasing", ("imagenet-c", "count")] == 4


def test_band_warm_call_returns_the_cold_band_and_a_change_redraws(monkeypatch):
    calls, real = [], er.bootstrap_band
    monkeypatch.setattr(er, "bootstrap_band", lambda *a, **k: calls.append(1) or real(*a, **k))
    table = planted_testbed(1.0, -0.2, n=30, noise=0.03, seed=5)
    cold = er.analyze_shift(table, "imagenetv2-matched-frequency", n_boot=50, seed=0)
    warm = er.analyze_shift(table, "imagenetv2-matched-frequency", n_boot=50, seed=0)
    assert len(calls) == 1
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(cold.band, warm.band))
    x, y = (er.fit_selection(cold.points)[c].to_numpy() / 100 for c in ("x", "y"))
    direct = real(x, y, cold.grid, n_boot=50, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(cold.band, direct))  # the cached value is the band
    er.analyze_shift(table, "imagenetv2-matched-frequency", n_boot=50, seed=1)  # a setting
    er.analyze_shift(planted_testbed(1.0, -0.1, n=30, noise=0.03, seed=5), "imagenetv2-matched-frequency", n_boot=50)
    assert len(calls) == 3


def test_mnist_zoo_points_warm_call_reads_the_points_back_and_a_change_recomputes(monkeypatch):
    import torch

    from reliable_ml import data
    from reliable_ml.models import zoo

    train, test = data.load_images("digits", "train"), data.load_images("digits", "test")
    population = np.where(np.arange(len(test.y)) % 2 == 0, "employee", "student")
    meta = pd.DataFrame({"digit": test.y.numpy(), "population": population})
    monkeypatch.setattr(data, "load_images", lambda name, split, **k: train if split == "train" else test)
    monkeypatch.setattr(data, "qmnist_metadata", lambda split: meta)
    calls, real = [], zoo.predict_zoo
    monkeypatch.setattr(zoo, "predict_zoo", lambda *a: calls.append(1) or real(*a))
    torch.set_num_threads(1)
    cold, source = er.mnist_zoo_points(["logreg-e1"], [200, 400], seed=0, device="cpu")
    warm, _ = er.mnist_zoo_points(["logreg-e1"], [200, 400], seed=0, device="cpu")
    assert len(calls) == 2 and list(cold.index) == ["logreg-e1@200", "logreg-e1@400"]
    pd.testing.assert_frame_equal(warm, cold, check_exact=True)
    uncached, _ = er.mnist_zoo_points(["logreg-e1"], [200, 400], seed=0, device="cpu", cache=False)
    pd.testing.assert_frame_equal(uncached, cold, check_exact=True)  # the trained zoos were read back too
    assert len(calls) == 4
    er.mnist_zoo_points(["logreg-e1"], [200, 400], seed=1, device="cpu")  # a setting
    er.mnist_zoo_points(["logreg-e1"], [300], seed=0, device="cpu")  # another size
    assert len(calls) == 7
