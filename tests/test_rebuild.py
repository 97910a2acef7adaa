"""Chapter 02's pipeline end to end on the bundled digits (the no-data path of issue 15)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from reliable_ml import data
from reliable_ml.labels import annotation, rebuild
from reliable_ml.models import zoo


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    root = tmp_path_factory.mktemp("empty")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        train = data.load_images("mnist", "train", root=root, download=False, fallback=True)
        test = data.load_images("mnist", "test", root=root, download=False, fallback=True)
    assert train.info.fallback_from == "mnist"
    return train, test


def test_split_is_disjoint(digits):
    train, _ = digits
    pool, tr, clar, how = rebuild.split_mnist(train, None, 300, 1500, 800, seed=0)
    assert "random" in how and len(pool) and len(tr) and len(clar)
    assert not (set(pool) & set(tr)) and not (set(pool) & set(clar)) and not (set(tr) & set(clar))


def test_rebuild_runs_on_the_digits_fallback(digits):
    """The smoke and cpu rows once failed here: too few valid annotations, and no controls."""
    train, test = digits
    pool_rows, train_rows, clar_rows, _ = rebuild.split_mnist(train, None, 300, 1500, 3000, seed=0)
    clarity = annotation.train_clarity_ensemble(
        ["logreg-e5", "mlp-64-e5"], train.x[clar_rows], train.y[clar_rows], 10, progress=False
    )
    pool = data.ImageSet(train.x[pool_rows], train.y[pool_rows], train.info)
    crowd = annotation.CrowdConfig()
    out = rebuild.rebuild(
        pool,
        test,
        train.x[train_rows],
        clarity,
        crowd=crowd,
        n_original_annotated=2000,
        per_class=10,
        wrong_share=0.05,
        pixel_threshold=0.03,
        feature_threshold=0.08,
        progress=False,
    )
    assert len(out.orig_rows) <= len(test.y) // 2  # the rest are controls
    assert out.crowd.shown.min() >= crowd.min_annotations
    assert out.clarity_acc > 0.5  # trained for >= 100 steps, not 10
    for idx in out.picks.values():
        assert len(idx) == 10 * out.per_class and np.all(np.bincount(out.candidate[idx], minlength=10) == out.per_class)
    trained = zoo.train_zoo(["logreg-e1"], train.x[train_rows], train.y[train_rows], n_classes=10, progress=False)
    acc = rebuild.evaluate(trained, out)
    assert set(rebuild.mnist_results(out, acc)) >= {"acc_original", "acc_matched_frequency", "per_model"}
    assert rebuild.sf_histograms(out).sum().round(6).tolist() == [100.0, 100.0]
