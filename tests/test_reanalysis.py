"""reliable_ml.shift.reanalysis: released predictions of CIFAR-10.1 and ImageNetV2, on small files written here."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

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
