"""The course's one line function (reliable_ml.shift.line): known lines, the model set, the
paired image bootstrap, and the errors it raises."""

import numpy as np
import pytest
from scipy.stats import linregress, norm

from reliable_ml.shift import effective_robustness as er
from reliable_ml.shift import line, reanalysis


def _probit_line(x, slope=0.9, intercept=-0.2):
    return 100 * norm.cdf(slope * norm.ppf(x / 100) + intercept)


def test_fit_line_recovers_an_exact_probit_line():
    x = np.array([62.0, 66, 70, 74, 78, 82, 86])
    fit = line.fit_line(x, _probit_line(x))
    assert fit.slope == pytest.approx(0.9, abs=1e-9) and fit.intercept == pytest.approx(-0.2, abs=1e-9)
    assert fit.r2 == pytest.approx(1.0) and fit.n == 7 and fit.axes == "probit"
    assert fit.predict([70.0]) == pytest.approx(_probit_line(np.array([70.0])))


def test_fit_line_on_logit_axes_recovers_a_logit_line_and_differs_on_probit():
    x = np.array([61.0, 65, 70, 75, 80, 85, 90])
    zx = np.log(x / (100 - x))
    y = 100 / (1 + np.exp(-(0.8 * zx - 0.3)))  # exact on logit axes
    fit = line.fit_line(x, y, axes="logit")
    assert fit.slope == pytest.approx(0.8, abs=1e-9) and fit.intercept == pytest.approx(-0.3, abs=1e-9)
    assert fit.predict([70.0]) == pytest.approx(100 / (1 + np.exp(-(0.8 * np.log(70 / 30) - 0.3))))
    assert line.fit_line(x, y).slope != pytest.approx(0.8, abs=1e-3)  # another link, another slope
    points = line.fit_line(x, y, axes="points")
    assert points.slope == pytest.approx(linregress(x, y).slope)


def test_the_floor_filters_the_models():
    x = np.array([5.0, 10, 20, 62, 66, 70, 74, 78, 82])
    y = _probit_line(x)
    y[:3] = [0.5, 1.0, 2.0]  # near-chance baselines off the line
    fit = line.fit_line(x, y)  # the declared floor, 60%
    assert line.MIN_ACCURACY == 60.0 and fit.n == 6 and fit.slope == pytest.approx(0.9, abs=1e-9)
    assert line.fit_line(x, y, min_accuracy=0.0).n == 9
    assert line.fit_line(x, y, min_accuracy=0.0).slope != pytest.approx(0.9, abs=1e-2)
    assert line.select(x, 66.0).tolist() == [False] * 4 + [True] * 5


def test_bad_input_names_the_value():
    x = np.array([62.0, 66, 70, 74])
    with pytest.raises(ValueError, match="150"):
        line.fit_line(np.append(x, 150.0), np.append(x, 50.0))
    with pytest.raises(ValueError, match="'cubic'"):
        line.fit_line(x, x - 5, axes="cubic")
    with pytest.raises(ValueError, match="min_accuracy=80.0 leaves 0 models"):
        line.fit_line(x, x - 5, min_accuracy=80.0)
    with pytest.raises(ValueError, match="100"):
        line.select(x, 100.0)
    with pytest.raises(ValueError, match="shapes"):
        line.fit_line(x, x[:-1])
    with pytest.raises(ValueError, match="resample"):
        line.bootstrap_slopes(np.ones((3, 4), bool), np.ones((3, 4), bool), resample="writers")
    with pytest.raises(ValueError, match="n_boot"):
        line.bootstrap_slopes(np.ones((3, 4), bool), np.ones((3, 4), bool), n_boot=0)


def test_image_draws_are_paired_across_models():
    rng = np.random.default_rng(0)
    correct = rng.random((2, 300)) < 0.7
    correct = np.vstack([correct, correct[:1], ~correct[:1]])  # a copy of model 0, and its complement
    acc = line.image_accuracies(correct, np.random.default_rng(1), 50)
    assert np.array_equal(acc[:, 0], acc[:, 2])  # the same images for every model
    assert np.allclose(acc[:, 0] + acc[:, 3], 1.0)
    assert acc[:, 0].std() > 0  # and the images do move between replicates


def _simulated(m=20, n_x=4000, n_y=600, seed=0):
    """M models on a probit line of slope 0.9; each image has a difficulty shared by all models."""
    rng = np.random.default_rng(seed)
    z = np.linspace(0.3, 1.6, m)
    dx, dy = rng.normal(0, 1.0, n_x), rng.normal(0, 1.0, n_y)
    cx = (z[:, None] * np.sqrt(2) - dx[None, :]) > 0  # P(correct) = Phi(z)
    cy = ((0.9 * z - 0.2)[:, None] * np.sqrt(2) - dy[None, :]) > 0
    return cx, cy


def test_joint_bootstrap_is_wider_than_models_only():
    cx, cy = _simulated()
    both = line.slope_interval(cx, cy, min_accuracy=0.0, n_boot=1000)
    only = line.slope_interval(cx, cy, min_accuracy=0.0, n_boot=1000, resample="models")
    images = line.slope_interval(cx, cy, min_accuracy=0.0, n_boot=1000, resample="images")
    width = {k: v["ci"][1] - v["ci"][0] for k, v in {"both": both, "only": only, "images": images}.items()}
    assert width["both"] > 1.5 * width["only"]  # the 600 shared new images dominate
    assert width["both"] > width["images"]
    assert both["slope"] == only["slope"] and both["ci"][0] <= both["slope"] <= both["ci"][1]
    assert (both["resampled"], only["resampled"]) == ("models and images", "models only")


def test_slope_interval_matches_reanalysis_and_effective_robustness():
    cx, cy = _simulated(m=12, n_x=2000, n_y=500, seed=3)
    ours = line.slope_interval(cx, cy, min_accuracy=0.0, n_boot=300, seed=7)
    theirs = reanalysis.line_bootstrap(cx, cy, n_boot=300, seed=7)
    assert ours["slope"] == pytest.approx(theirs["probit"]["slope"], abs=1e-9)
    assert ours["ci"] == pytest.approx(theirs["probit"]["ci"], abs=1e-6)  # the same draws
    x, y = 100 * cx.mean(1), 100 * cy.mean(1)
    only = line.models_only_interval(x, y, min_accuracy=0.0, n_boot=400, seed=2)
    legacy = er.slope_interval(x, y, n_boot=400, seed=2)
    assert (only["slope"], *only["ci"]) == pytest.approx((legacy.slope, legacy.lo, legacy.hi))


def test_verdict_needs_the_interval_to_exclude_one():
    below = {"slope": 0.9, "ci": [0.85, 0.95], "level": 0.95}
    touching = {"slope": 0.95, "ci": [0.9, 1.0], "level": 0.95}
    assert line.verdict(below).direction == "lower" and line.words(below).startswith("below 1 by 0.100")
    assert line.verdict(touching).direction == "cannot tell"
    assert line.words(touching).startswith("not distinguishable from 1")


def test_models_only_entries_carry_no_verdict():
    only = {"slope": 0.9, "ci": [0.85, 0.95], "level": 0.95, "resampled": "models only"}
    assert line.words(only) == line.NOT_JUDGED == "not judged (models only)"
    with pytest.raises(ValueError, match="models only"):
        line.verdict(only)
    x = np.linspace(40, 85, 20)
    rec = line.record(line.models_only_interval(x, x - 5, min_accuracy=0.0, n_boot=50), "twenty")
    assert rec["vs_1"] == line.NOT_JUDGED and line.numbers("t", rec)["t_words"] == line.NOT_JUDGED
    cx, cy = _simulated(m=10, n_x=1000, n_y=300, seed=1)
    joint = line.record(line.slope_interval(cx, cy, min_accuracy=0.0, n_boot=100), "ten")
    assert joint["vs_1"] in ("lower", "higher", "cannot tell")


def test_architecture_clusters_ports_of_one_network():
    ports = [
        "inceptionv3",
        "inception_v3",
        "inception_v3_tf",
        "nasnetalarge",
        "nasnet_large_tf",
        "pnasnet5large",
        "pnasnet_large_tf",
        "inceptionv4",
        "inception_v4_tf",
        "inceptionresnetv2",
        "inception_resnet_v2_tf",
    ]
    assert [line.architecture(m) for m in ports] == ["inceptionv3"] * 3 + ["nasnetlarge"] * 2 + ["pnasnetlarge"] * 2 + [
        "inceptionv4"
    ] * 2 + ["inceptionresnetv2"] * 2
    assert line.architecture("resnet18") != line.architecture("resnet34")
    assert line.architecture("vgg_16_tf") == line.architecture("vgg16") != line.architecture("vgg16_bn")
    codes = line.clusters(["resnet50", "resnet_v1_50_tf", "alexnet", "inception_v3_tf", "inceptionv3"])
    assert list(codes) == [0, 0, 1, 2, 2]
    with pytest.raises(ValueError, match="non-empty"):
        line.architecture("")


def test_cluster_bootstrap_counts_a_duplicated_model_once():
    cx, cy = _simulated(m=12, n_x=1500, n_y=400, seed=5)
    singles = line.slope_interval(cx, cy, min_accuracy=0.0, n_boot=300, cluster=np.arange(12))
    # every model twice, each copy in its original's cluster: the same weighted fits, so the same interval
    twins = line.slope_interval(
        np.vstack([cx, cx]), np.vstack([cy, cy]), min_accuracy=0.0, n_boot=300, cluster=np.tile(np.arange(12), 2)
    )
    assert twins["slope"] == pytest.approx(singles["slope"])
    assert twins["ci"] == pytest.approx(singles["ci"], abs=1e-9)
    assert (twins["models"], twins["clusters"]) == (24, 12)
    # counted as 24 independent models instead, the duplicates narrow the interval
    naive = line.slope_interval(
        np.vstack([cx, cx]), np.vstack([cy, cy]), min_accuracy=0.0, n_boot=300, resample="models"
    )
    alone = line.slope_interval(cx, cy, min_accuracy=0.0, n_boot=300, resample="models")
    assert naive["ci"][1] - naive["ci"][0] < 0.85 * (alone["ci"][1] - alone["ci"][0])
    with pytest.raises(ValueError, match="one code per model"):
        line.slope_interval(cx, cy, min_accuracy=0.0, n_boot=10, cluster=np.arange(5))


def test_record_and_numbers_carry_the_model_set():
    cx, cy = _simulated(m=10, n_x=1000, n_y=300, seed=1)
    rec = line.record(line.slope_interval(cx, cy, min_accuracy=0.0, n_boot=100), "ten simulated models")
    assert set(rec) >= {"slope", "ci", "model_set", "models", "resampled", "vs_1"}
    assert rec["model_set"] == "ten simulated models" and rec["models"] == 10
    out = line.numbers("v2", rec)
    assert out["v2_slope"] == rec["slope"] and out["v2_set"] == "ten simulated models"
    assert line.numbers("v2", None) == {}


def test_threshold_curve_refits_above_each_floor():
    cx, cy = _simulated(m=15, n_x=2000, n_y=500, seed=2)
    acc_x, acc_y = 100 * cx.mean(1), 100 * cy.mean(1)
    floors = (0.0, float(np.sort(acc_x)[5]), float(np.sort(acc_x)[-2]))  # the last leaves 2 models: dropped
    table = line.threshold_curve(cx, cy, floors, n_boot=200)
    assert table["threshold"].tolist() == list(floors[:2]) and table["models"].tolist() == [15, 10]
    for _, row in table.iterrows():
        assert row["slope"] == pytest.approx(line.fit_line(acc_x, acc_y, min_accuracy=row["threshold"]).slope)
        assert row["lo"] <= row["slope"] <= row["hi"] and row["lo_models"] <= row["slope"] <= row["hi_models"]
    with pytest.raises(ValueError, match="leaves 3 models"):
        line.threshold_curve(cx, cy, (99.0,), n_boot=10)


def test_large_bootstraps_are_kept_in_the_result_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("RELIABLE_ML_CACHE", str(tmp_path))
    rng = np.random.default_rng(3)
    p = np.linspace(0.6, 0.9, 12)[:, None]
    n = line.CACHE_MIN_CELLS // 24 + 1  # two tables of 12 models just over the caching size
    cx, cy = rng.random((12, n)) < p, rng.random((12, n)) < p - 0.05
    calls = []
    real = line._bootstrap_slopes
    monkeypatch.setattr(line, "_bootstrap_slopes", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = line.bootstrap_slopes(cx, cy, n_boot=20, seed=1)["probit"]
    again = line.bootstrap_slopes(cx, cy, n_boot=20, seed=1)["probit"]
    assert len(calls) == 1 and np.array_equal(first, again)
    other = line.bootstrap_slopes(cx, cy, n_boot=20, seed=2)["probit"]  # another seed: recomputed
    assert len(calls) == 2 and not np.array_equal(first, other)
    flipped = cy.copy()
    flipped[0, 0] = ~flipped[0, 0]  # one image of one model: recomputed
    line.bootstrap_slopes(cx, flipped, n_boot=20, seed=1)
    assert len(calls) == 3
