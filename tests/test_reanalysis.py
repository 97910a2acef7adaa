"""reliable_ml.shift.reanalysis: released predictions of CIFAR-10.1 and ImageNetV2, on small files written here."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from reliable_ml import stats
from reliable_ml.shift import reanalysis


def _write_cifar101(root, rng, n_new=200):
    """Every file the manifest lists for CIFAR-10.1's predictions, with planted accuracies."""
    from reliable_ml.data.files import _files_under

    labels = {
        "original": rng.permutation(np.repeat(np.arange(10), 1000)),
        "v4": rng.integers(0, 10, n_new),
        "v6": rng.integers(0, 10, n_new),
    }
    (root / "label-errors/original_test_labels").mkdir(parents=True)
    np.save(
        root / "label-errors/original_test_labels/cifar10_test_set_original_labels.npy",
        labels["original"].astype(np.uint16),
    )
    (root / "CIFAR-10.1/datasets").mkdir(parents=True)
    for v in ("v4", "v6"):
        np.save(root / f"CIFAR-10.1/datasets/cifar10.1_{v}_labels.npy", labels[v])
    for v, y in labels.items():
        files = _files_under(f"CIFAR-10.1/model_predictions/{v}_predictions/")
        (root / files[0]).parent.mkdir(parents=True)
        for i, rel in enumerate(files):
            acc = (0.95 - 0.01 * i) - (0.0 if v == "original" else 0.2)
            pred = np.where(rng.random(len(y)) < acc, y, (y + 1) % 10)
            (root / rel).write_text(json.dumps(pred.tolist()))
    return labels, len(files)


def test_cifar101_accuracies_and_drops(tmp_path):
    rng = np.random.default_rng(0)
    labels, m = _write_cifar101(tmp_path, rng)
    rel = reanalysis.cifar101(root=tmp_path, download=False)
    assert len(rel.models) == m and rel.models == sorted(rel.models)
    assert rel.correct["original"].shape == (m, 10_000) and rel.correct["v6"].shape == (m, 200)
    acc = rel.accuracy()
    assert list(acc.columns) == ["original", "v4", "v6"] and (acc["original"] > acc["v6"]).all()
    summary = reanalysis.drop_summary(rel, "original", ("v4", "v6"), n_boot=50)
    s = summary["v6"]
    assert (
        s["models"] == m
        and s["models_ci_excludes_zero"] > 0
        and s["median_drop_ci"][0] <= s["median_drop"] <= s["median_drop_ci"][1]
    )
    results, numbers = reanalysis.cifar101_numbers(acc, summary)
    assert all(set(r) == {"original", "v4", "v6"} for r in results["models"].values()) and numbers["c10_n"] == m


def test_numbers_without_data_are_nan_and_results_none():
    results, numbers = reanalysis.cifar101_numbers(None, None)
    assert results is None and np.isnan(numbers["c10_v6_med"])
    results, numbers = reanalysis.imagenetv2_numbers(None, None, None)
    assert results is None and np.isnan(numbers["in_mf_med"]) and np.isnan(numbers["fmt_median"])


def test_format_val_gap_joins_by_model_name():
    acc = pd.DataFrame({"matched_frequency": [60.0, 70.0]}, index=["m1", "m2"])
    testbed = pd.DataFrame({"model": ["m2", "m3"], reanalysis.FORMAT_VAL_COLUMN: [69.8, 50.0]})
    gap = reanalysis.format_val_gap(acc, testbed)
    assert list(gap.index) == ["m2"] and gap.loc["m2", "gap"] == pytest.approx(0.2)


def test_released_accuracy_is_percent_with_two_decimals():
    rel = reanalysis.Released(["a", "b"], {"s": np.array([[1, 0, 1], [1, 1, 1]], dtype=bool)}, "toy")
    assert rel.accuracy()["s"].tolist() == [66.67, 100.0]


@pytest.mark.data
def test_real_released_predictions():
    from conftest import real_data_root

    root = real_data_root()
    inet = reanalysis.imagenetv2(root=root, download=False)
    acc = inet.released.accuracy()
    assert len(acc) == 67 and 18 < acc.loc["fv_16k", "matched_frequency"] < 21
    assert inet.column0_top1.loc["fv_16k", "matched_frequency"] < 5
    rel = reanalysis.cifar101(root=root, download=False)
    assert len(rel.models) == 30 and rel.correct["original"].shape == (30, 10_000)


# ----------------------------------------------------------------------------- the line, models and images resampled
def _shared_difficulty(rng, m=15, n=1000):
    """m models of ability theta on n images of difficulty d (new set 0.5 harder): correct when
    theta + noise > d. Population probit accuracies are theta / s and (theta - 0.5) / s, so the
    population probit slope is exactly 1; the shared images make every model's noise correlated."""
    theta = np.linspace(-1.5, 1.5, m)
    dx, dy = rng.normal(0, 1, n), rng.normal(0.5, 1, n)
    cx = theta[:, None] + rng.normal(0, 0.5, (m, n)) > dx[None, :]
    cy = theta[:, None] + rng.normal(0, 0.5, (m, n)) > dy[None, :]
    return cx, cy


def test_line_bootstrap_point_slopes_and_models_only_interval_by_hand():
    from reliable_ml import stats

    cx, cy = _shared_difficulty(np.random.default_rng(0), m=10, n=400)
    out = reanalysis.line_bootstrap(cx, cy, n_boot=80, seed=3, resample="models")
    ax, ay = cx.mean(1), cy.mean(1)
    assert out["linear"]["slope"] == pytest.approx(np.polyfit(100 * ax, 100 * ay, 1)[0])
    assert out["probit"]["slope"] == pytest.approx(stats.probit_linear_fit(ax, ay).slope)
    idx = np.random.default_rng(3).integers(0, 10, (80, 10))  # the documented draw: models with replacement
    by_hand = [np.polyfit(stats.probit(ax[i]), stats.probit(ay[i]), 1)[0] for i in idx]
    assert out["probit"]["ci"] == pytest.approx(list(np.quantile(by_hand, [0.025, 0.975])))
    assert out["resampled"] == "models" and out["n_boot"] == 80


def test_resampling_images_covers_the_population_slope_where_resampling_models_does_not():
    # 40 draws of both test sets; the population probit slope is 1 (see _shared_difficulty)
    rng = np.random.default_rng(1)
    covered = {"images": 0, "models": 0}
    for t in range(40):
        cx, cy = _shared_difficulty(rng)
        for r in covered:
            lo, hi = reanalysis.line_bootstrap(cx, cy, n_boot=150, seed=t, resample=r)["probit"]["ci"]
            covered[r] += lo <= 1 <= hi
    assert covered["images"] >= 34, covered  # about 95% nominal
    assert covered["models"] <= 30, covered  # treating accuracies as exact: too narrow


def test_joint_interval_is_wider_than_models_only_and_contains_the_estimate():
    cx, cy = _shared_difficulty(np.random.default_rng(2))
    models = reanalysis.line_bootstrap(cx, cy, n_boot=200, resample="models")
    both = reanalysis.line_bootstrap(cx, cy, n_boot=200, resample="both")
    for scale in ("linear", "probit"):
        lo, hi = both[scale]["ci"]
        assert lo < both[scale]["slope"] < hi and hi - lo > np.subtract(*models[scale]["ci"][::-1])
    assert 0 <= both["probit_share_at_least_1"] <= 1
    with pytest.raises(ValueError, match="resample must be"):
        reanalysis.line_bootstrap(cx, cy, resample="writers")
    with pytest.raises(ValueError, match="same M >= 3"):
        reanalysis.line_bootstrap(cx, cy[:-1])


def test_held_out_residual_by_hand_and_a_planted_outlier():
    from reliable_ml import stats

    rng = np.random.default_rng(4)
    cx, cy = _shared_difficulty(rng)
    out = reanalysis.held_out_residual(cx, cy, 7, n_boot=200)
    others = np.delete(np.arange(15), 7)
    fit = stats.probit_linear_fit(cx[others].mean(1), cy[others].mean(1))
    assert out["residual"] == pytest.approx(100 * (cy[7].mean() - fit.predict(cx[7].mean())))
    assert out["ci"][0] < 0 < out["ci"][1], "a model on the population line"
    lifted = cy.copy()
    wrong = np.flatnonzero(~lifted[7])
    lifted[7, wrong[: len(wrong) // 2]] = True  # half of its errors on the new set fixed
    out = reanalysis.held_out_residual(cx, lifted, 7, n_boot=200)
    assert out["ci"][0] > 0 and out["residual"] > 5
    with pytest.raises(ValueError, match="row index"):
        reanalysis.held_out_residual(cx, cy, 15)


def test_order_agreement_counts_swapped_pairs():
    out = reanalysis.order_agreement([70.0, 80.0, 80.5, 90.0], [60.0, 71.0, 70.0, 85.0])
    # one pair swaps (80 vs 80.5 on x, 71 vs 70 on y), half a point apart: tau = (5 - 1) / 6
    assert out == {
        "kendall_tau": pytest.approx(2 / 3),
        "pairs": 6,
        "swapped": 1,
        "swapped_within_close": 1,
        "close_points": 1.0,
    }
    assert reanalysis.order_agreement([1.0, 5.0, 3.0], [1.0, 2.0, 3.0], close=0.5)["swapped_within_close"] == 0
    with pytest.raises(ValueError, match="same length"):
        reanalysis.order_agreement([1.0, 2.0], [1.0])


def test_line_report_words_come_from_the_verdicts():
    cx, cy = _shared_difficulty(np.random.default_rng(6))
    lifted = cy.copy()
    top = int(np.argmax(cx.mean(1)))
    wrong = np.flatnonzero(~lifted[top])
    lifted[top, wrong[: len(wrong) // 2]] = True  # the most accurate model, well above the others' line
    rel = reanalysis.Released([f"m{i}" for i in range(15)], {"a": cx, "b": lifted}, "toy")
    results, numbers = reanalysis.line_report(rel, "a", "b", "toy", n_boot=100)
    assert numbers["toy_top"] == f"m{top}" and numbers["toy_top_words"].startswith("above the line by")
    assert results["top_model_residual_loo"]["verdict_vs_0"]["direction"] == "higher"
    line = results["line"]
    assert (numbers["toy_slope_lo"], numbers["toy_slope_hi"]) == tuple(line["probit"]["ci"])
    direction = line["verdict_probit_vs_1"]["direction"]
    assert numbers["toy_slope_words"].startswith(
        dict(zip(("higher", "lower", "cannot tell"), reanalysis.SLOPE_WORDS["probit"]))[direction]
    )
    assert numbers["toy_pairs"] == 105 and 0 <= numbers["toy_swaps_close"] <= numbers["toy_swaps"]
    assert numbers["toy_n"] == 15 and "toy_hi_slope" not in numbers


def test_line_report_refits_over_the_stronger_models():
    cx, cy = _shared_difficulty(np.random.default_rng(7))
    rel = reanalysis.Released([f"m{i}" for i in range(15)], {"a": cx, "b": cy}, "toy")
    acc = 100 * cx.mean(1)
    floor = float(np.median(acc))
    results, numbers = reanalysis.line_report(rel, "a", "b", "toy", n_boot=100, seed=3, min_accuracy=floor)
    keep = acc >= floor
    direct = reanalysis.line_bootstrap(cx[keep], cy[keep], n_boot=100, seed=3)
    assert numbers["toy_hi_n"] == keep.sum() == results["line_min_accuracy"]["models"]
    assert (numbers["toy_hi_slope_lo"], numbers["toy_hi_slope_hi"]) == tuple(direct["probit"]["ci"])
    direction = results["line_min_accuracy"]["verdict_probit_vs_1"]["direction"]
    assert numbers["toy_hi_slope_words"].startswith(
        dict(zip(("higher", "lower", "cannot tell"), reanalysis.SLOPE_WORDS["probit"]))[direction]
    )
    swaps, close = numbers["toy_swaps"], numbers["toy_swaps_close"]
    expected = "all of them" if close == swaps else "none of them" if close == 0 else f"{close} of them"
    assert numbers["toy_swaps_close_words"] == expected
    with pytest.raises(ValueError, match="leaves 0 models"):
        reanalysis.line_report(rel, "a", "b", "toy", n_boot=10, min_accuracy=101.0)


def test_slope_verdict_and_phrase_on_each_scale():
    line = {"linear": {"slope": 1.6, "ci": [1.44, 1.76]}, "probit": {"slope": 0.95, "ci": [0.85, 1.04]}}
    lin, prob = reanalysis.slope_verdict(line, "linear"), reanalysis.slope_verdict(line, "probit")
    assert (lin.direction, prob.direction) == ("higher", "cannot tell")
    assert reanalysis.slope_phrase(lin, "linear") == (
        "the gap between two models grows on the new set, the slope exceeding 1 by 0.60 [0.44, 0.76]"
    )
    assert reanalysis.slope_phrase(prob, "probit") == (
        "the data cannot tell whether the better models lose more or less on the probit scale "
        "(difference -0.05 [-0.15, +0.04])"
    )
    with pytest.raises(ValueError, match="scale must be"):
        reanalysis.slope_verdict(line, "logit")


def test_kendall_bootstrap_point_and_interval():
    from scipy.stats import kendalltau

    rng = np.random.default_rng(0)
    acc = np.linspace(0.6, 0.9, 8)
    cx = rng.random((8, 3_000)) < acc[:, None]
    cy = rng.random((8, 2_000)) < (acc - 0.1)[:, None]
    out = reanalysis.kendall_bootstrap(cx, cy, n_boot=200, seed=0)
    assert out["tau"] == pytest.approx(kendalltau(cx.mean(1), cy.mean(1)).statistic)
    assert out["ci"][0] <= out["tau"] <= out["ci"][1] and out["ci"][1] <= 1
    assert out["resampled"] == "models and images" and out["models"] == 8
    # models of the same accuracy on the new set: the order is noise, the interval reaches 0
    flat = rng.random((8, 2_000)) < 0.7
    assert reanalysis.kendall_bootstrap(cx, flat, n_boot=200, seed=0)["ci"][0] < 0 < 1
    with pytest.raises(ValueError, match="n_boot"):
        reanalysis.kendall_bootstrap(cx, cy, n_boot=0)


def test_kendall_interval_is_bias_corrected_for_image_noise():
    # close accuracies: image resampling scrambles the order, so replicates sit below tau and a
    # percentile interval is biased low; the BCa interval moves up
    rng = np.random.default_rng(1)
    acc = np.linspace(0.70, 0.80, 12)
    cx = rng.random((12, 2_000)) < acc[:, None]
    cy = rng.random((12, 2_000)) < (acc - 0.08)[:, None]
    out = reanalysis.kendall_bootstrap(cx, cy, n_boot=400, seed=0)
    assert out["method"].startswith("BCa") and out["z0_share_below"] > 0.5
    assert out["z0"] > 0 and out["reliability"].startswith("the bias correction is")
    assert ("unreliable" in out["reliability"]) == (abs(out["z0"]) > 1)
    assert out["ci"][0] > out["ci_percentile"][0] and out["ci"][1] >= out["ci_percentile"][1]


def test_kendall_bootstrap_quotes_the_interval_the_z0_rule_picks():
    rng = np.random.default_rng(3)
    p = np.linspace(0.6, 0.95, 12)[:, None]
    cx, cy = rng.random((12, 400)) < p, rng.random((12, 300)) < p - 0.05
    out = reanalysis.kendall_bootstrap(cx, cy, n_boot=300, seed=0)
    want, which = stats.bca_choice(out["z0"], out["ci_bca"], out["ci_percentile"])
    assert out["ci"] == want and out["quoted"] == which
    assert (out["quoted"] == "percentile") == (abs(out["z0"]) > 1)
    assert out["side_words"] == stats.share_side_words(out["z0_share_below"], 300)
