"""Results kept in the cache so a warm chapter re-run reads them back: the zoo's predictions, the
image bootstraps over released predictions (chapters 1-3) and Engstrom et al.'s bias (chapter 2).

For each: a warm call returns exactly what the cold call computed (and what the uncached code
computes), and a changed setting computes again.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from reliable_ml import stats
from reliable_ml.data import kaggle
from reliable_ml.labels import human_labels as hl
from reliable_ml.models import zoo
from reliable_ml.shift import kaggle_overfitting, line, reanalysis
from reliable_ml.util import result_cache

pytestmark = pytest.mark.usefixtures("cache_root")  # tests/conftest.py: an empty cache per test


def entries(root, kind: str) -> int:
    folder = root / kind
    return len(list(folder.glob("*.pt"))) if folder.exists() else 0


def same(a: dict, b: dict) -> bool:
    """Equal results, numbers and words alike (NaN equal to NaN)."""
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def released(m=6, n_x=300, n_y=200, seed=0):
    """(M, n) correctness of M models whose skill spreads, on an original and a new test set."""
    rng = np.random.default_rng(seed)
    skill = np.linspace(0.55, 0.9, m)[:, None]
    return rng.random((m, n_x)) < skill, rng.random((m, n_y)) < skill - 0.1


# ----------------------------------------------------------------------------- cached_arrays
def test_cached_arrays_returns_what_was_built_and_recomputes_on_a_new_setting(cache_root):
    calls = []
    x = np.arange(12, dtype=np.int16).reshape(3, 4)

    def build():
        calls.append(1)
        return {"a": x.astype(np.float32) / 3, "nested": {"b": x > 5, "n": 3}, "words": "kept"}

    cold = result_cache.cached_arrays("demo", {"k": 1}, build, arrays=(x,))
    warm = result_cache.cached_arrays("demo", {"k": 1}, build, arrays=(x.copy(),))
    assert len(calls) == 1
    assert warm["a"].dtype == np.float32 and np.array_equal(warm["a"], cold["a"])
    assert warm["nested"]["b"].dtype == bool and np.array_equal(warm["nested"]["b"], x > 5)
    assert warm["nested"]["n"] == 3 and warm["words"] == "kept"
    result_cache.cached_arrays("demo", {"k": 2}, build, arrays=(x,))  # a setting
    result_cache.cached_arrays("demo", {"k": 1}, build, arrays=(x + 1,))  # the data
    assert len(calls) == 3 and entries(cache_root, "demo") == 3


def test_cached_arrays_refuses_a_numpy_scalar_that_would_come_back_as_another_type():
    with pytest.raises(TypeError, match="float64"):
        result_cache.cached_arrays("demo", {}, lambda: {"x": np.float64(1.0)})


# ----------------------------------------------------------------------------- zoo predictions
def test_zoo_predictions_are_kept_per_member_and_match_a_fresh_evaluation(cache_root, monkeypatch):
    monkeypatch.setattr(zoo, "PREDICT_CACHE_MIN_IMAGES", 10)
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (50, 1, 8, 8), dtype=torch.uint8, generator=g)
    y = torch.randint(0, 3, (50,), generator=g)
    trained = zoo.train_zoo(["logreg-e1", "mlp-8-e1"], x, y, n_classes=3, progress=False)
    fresh = zoo.predict_zoo(trained, x, cache=False)
    cold = zoo.predict_zoo(trained, x)
    folder = cache_root / "models" / "zoo" / "predictions"
    assert len(list(folder.glob("*.pt"))) == 2
    warm = zoo.predict_zoo(trained, x)
    assert all(torch.equal(warm[n], fresh[n]) and torch.equal(cold[n], fresh[n]) for n in fresh)
    assert all(warm[n].dtype == torch.int64 for n in warm)
    zoo.predict_zoo(trained, x, batch=16)  # a changed setting: evaluated again
    assert len(list(folder.glob("*.pt"))) == 4
    with torch.no_grad():  # changed weights: evaluated again, and the new predictions are returned
        for p in trained["logreg-e1"].model.parameters():
            p.add_(1.0)
    changed = zoo.predict_zoo(trained, x)
    assert torch.equal(changed["logreg-e1"], zoo.predict(trained["logreg-e1"].model, x))
    assert len(list(folder.glob("*.pt"))) == 5


# ----------------------------------------------------------------------------- image bootstraps
def test_median_drop_bootstrap_warm_equals_cold_and_uncached(cache_root, monkeypatch):
    a, b = released()
    monkeypatch.setattr(result_cache, "MIN_WORK", 10**12)
    uncached = stats.bootstrap_median_drop(a, b[:, :200], n_boot=120, seed=3)
    assert entries(cache_root, "median_drop_bootstrap") == 0
    monkeypatch.setattr(result_cache, "MIN_WORK", 0)
    cold = stats.bootstrap_median_drop(a, b, n_boot=120, seed=3)
    warm = stats.bootstrap_median_drop(a, b, n_boot=120, seed=3)
    assert warm == cold == uncached and entries(cache_root, "median_drop_bootstrap") == 1
    assert stats.bootstrap_median_drop(a, b, n_boot=120, seed=4) != cold
    assert entries(cache_root, "median_drop_bootstrap") == 2


@pytest.mark.parametrize(
    ("kind", "call", "changed"),
    [
        (
            "held-out-residual",
            lambda cx, cy, **kw: reanalysis.held_out_residual(cx, cy, 5, n_boot=150, **kw),
            lambda cx, cy: reanalysis.held_out_residual(cx, cy, 4, n_boot=150, seed=1),
        ),
        (
            "kendall-bootstrap",
            lambda cx, cy, **kw: reanalysis.kendall_bootstrap(cx, cy, n_boot=200, **kw),
            lambda cx, cy: reanalysis.kendall_bootstrap(cx, cy, n_boot=300, seed=1),
        ),
    ],
)
def test_reanalysis_bootstraps_warm_equal_cold_and_uncached(cache_root, monkeypatch, kind, call, changed):
    cx, cy = released()
    monkeypatch.setattr(result_cache, "MIN_WORK", 10**12)
    uncached = call(cx, cy, seed=1)
    assert entries(cache_root, kind) == 0
    monkeypatch.setattr(result_cache, "MIN_WORK", 0)
    cold = call(cx, cy, seed=1)
    warm = call(cx, cy, seed=1)
    assert warm == cold == uncached and entries(cache_root, kind) == 1
    changed(cx, cy)
    assert entries(cache_root, kind) == 2


def test_threshold_curve_warm_equals_cold_and_uncached(cache_root, monkeypatch):
    cx, cy = released(m=8)
    acc = 100 * cx.mean(1)
    thresholds = (0.0, float(np.sort(acc)[2]))
    monkeypatch.setattr(line, "CACHE_MIN_CELLS", 10**12)
    uncached = line.threshold_curve(cx, cy, thresholds, n_boot=150, seed=2)
    assert entries(cache_root, "threshold_curve") == 0
    monkeypatch.setattr(line, "CACHE_MIN_CELLS", 0)
    cold = line.threshold_curve(cx, cy, thresholds, n_boot=150, seed=2)
    warm = line.threshold_curve(cx, cy, thresholds, n_boot=150, seed=2)
    assert warm.equals(cold) and warm.equals(uncached) and entries(cache_root, "threshold_curve") == 1
    line.threshold_curve(cx, cy, thresholds, n_boot=150, seed=3)
    assert entries(cache_root, "threshold_curve") == 2


# ----------------------------------------------------------------------------- Engstrom et al.'s bias
def test_engstrom_bias_warm_equals_cold_and_uncached(cache_root, monkeypatch):
    rng = np.random.default_rng(0)
    n, k = 400, 4
    labels = np.arange(n) % k
    counts = np.stack([rng.multinomial(30, np.where(np.arange(k) == c, 0.7, 0.1)) for c in labels])
    correct = {"m": rng.random((3, n)) < 0.8}

    def run(seed=0):
        return hl.engstrom_bias(counts, labels, correct, 10, ks=(3, None), splits=2, n_resamples=3, seed=seed)

    monkeypatch.setattr(hl, "ENGSTROM_CACHE_MIN_MATCHINGS", 10**9)
    uncached = run()
    assert entries(cache_root, "engstrom_bias") == 0
    monkeypatch.setattr(hl, "ENGSTROM_CACHE_MIN_MATCHINGS", 1)
    cold, warm = run(), run()
    assert entries(cache_root, "engstrom_bias") == 1
    for got in (cold, warm):
        assert got["splits"] == 2 and got["resamples"] == 3
        for part in ("drop", "drop_models"):
            for key in ("3", "all"):
                assert got[part]["m"][key].dtype == uncached[part]["m"][key].dtype
                assert np.array_equal(got[part]["m"][key], uncached[part]["m"][key])
        assert np.array_equal(got["error_models"]["m"], uncached["error_models"]["m"])
    run(seed=1)
    assert entries(cache_root, "engstrom_bias") == 2


# ----------------------------------------------------------------------------- medical Kaggle boards
def test_decoded_kaggle_board_is_kept_and_equals_a_fresh_decode(cache_root, tmp_path):
    rows = "".join(f"<tr><td>{i}</td><td>team {i}</td><td>0.{90 - i}</td><td>{i + 1}</td></tr>\r\n" for i in range(5))
    page = f"<html><table>\r\n<tr><th>#</th><th>Team Name</th><th>Score</th><th>Entries</th></tr>{rows}</table>"
    path = tmp_path / "x_public.html"
    path.write_bytes(page.encode())
    fresh = kaggle._decode_board(path, path.read_bytes(), "public")
    kaggle._read_board.cache_clear()
    cold = kaggle._read_board(path, 1, "public")
    kaggle._read_board.cache_clear()  # the in-process copy gone: read back from the result cache
    warm = kaggle._read_board(path, 1, "public")
    assert entries(cache_root, "kaggle_board") == 1
    pd.testing.assert_frame_equal(cold, fresh)
    pd.testing.assert_frame_equal(warm, fresh)
    path.write_bytes(page.replace("0.88", "0.87").encode())  # a changed file is decoded again
    kaggle._read_board.cache_clear()
    assert kaggle._read_board(path, 2, "public")["score"].tolist()[2] == 0.87
    assert entries(cache_root, "kaggle_board") == 2


def test_roelofs_replicates_warm_equal_cold_and_uncached(cache_root, monkeypatch):
    rng = np.random.default_rng(0)
    skill = rng.normal(size=60)
    scores = pd.DataFrame({"public": skill + rng.normal(size=60), "private": skill + rng.normal(size=60)})
    monkeypatch.setattr(kaggle_overfitting, "ROELOFS_CACHE_MIN_REPLICATES", 10**9)
    uncached = kaggle_overfitting.roelofs_test(scores, True, n_boot=200, seed=5)
    assert entries(cache_root, "roelofs_test") == 0
    monkeypatch.setattr(kaggle_overfitting, "ROELOFS_CACHE_MIN_REPLICATES", 0)
    cold = kaggle_overfitting.roelofs_test(scores, True, n_boot=200, seed=5)
    warm = kaggle_overfitting.roelofs_test(scores, True, n_boot=200, seed=5)
    assert same(warm, cold) and same(cold, uncached) and entries(cache_root, "roelofs_test") == 1
    kaggle_overfitting.roelofs_test(scores, True, n_boot=200, seed=6)
    kaggle_overfitting.roelofs_test(scores, True, n_boot=200, seed=np.random.default_rng(6))  # a Generator: not kept
    assert entries(cache_root, "roelofs_test") == 2


# ----------------------------------------------------------------------------- best of k (chapter 1)
def test_best_of_k_trials_warm_equal_cold_and_uncached(cache_root, monkeypatch):
    from reliable_ml.shift import adaptive

    correct, _ = released(m=5, n_x=200)
    monkeypatch.setattr(result_cache, "MIN_WORK", 10**12)
    uncached = adaptive.best_of_k_optimism(correct, 50, [1, 3], n_trials=40, seed=2)
    assert entries(cache_root, "best_of_k") == 0
    monkeypatch.setattr(result_cache, "MIN_WORK", 0)
    cold = adaptive.best_of_k_optimism(correct, 50, [1, 3], n_trials=40, seed=2)
    warm = adaptive.best_of_k_optimism(correct, 50, [1, 3], n_trials=40, seed=2)
    pd.testing.assert_frame_equal(cold, uncached)
    pd.testing.assert_frame_equal(warm, uncached)
    assert entries(cache_root, "best_of_k") == 1
    adaptive.best_of_k_optimism(correct, 60, [1, 3], n_trials=40, seed=2)
    assert entries(cache_root, "best_of_k") == 2
