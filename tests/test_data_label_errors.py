"""Loaders of the label-errors repository and the ReaL labels, on small files written here."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reliable_ml.data import DataCorrupt, DataUnavailable
from reliable_ml.data import label_errors as le

N = 10_000


def write_mnist(root, n_reviews=6, seed=0, labels=None, probs=None, reviews=None):
    """A label-errors MNIST layout under ``root``; returns (labels, probs, reviews)."""
    rng = np.random.default_rng(seed)
    base = root / "label-errors"
    for sub in (
        "original_test_labels",
        "cross_validated_predicted_labels",
        "cross_validated_predicted_probabilities",
        "mturk",
    ):
        (base / sub).mkdir(parents=True, exist_ok=True)
    labels = rng.integers(0, 10, N).astype(np.uint16) if labels is None else labels
    probs = rng.dirichlet(np.ones(10), N) if probs is None else probs
    np.save(base / "original_test_labels/mnist_test_set_original_labels.npy", labels)
    np.save(
        base / "cross_validated_predicted_labels/mnist_test_set_pyx_argmax_predicted_labels.npy",
        probs.argmax(1).astype(np.uint16),
    )
    np.save(base / "cross_validated_predicted_probabilities/mnist_test_set_pyx.npy", probs)
    if reviews is None:
        ids = sorted(rng.choice(N, n_reviews, replace=False).tolist(), reverse=True)
        reviews = [
            {
                "id": i,
                "given_original_label": int(labels[i]),
                "given_original_label_name": str(labels[i]),
                "our_guessed_label": int((labels[i] + 1) % 10),
                "our_guessed_label_name": "x",
                "mturk": {"given": k % 6, "guessed": 5 - k % 6, "neither": 0},
            }
            for k, i in enumerate(ids)
        ]
    (base / "mturk/mnist_mturk.json").write_text(json.dumps(reviews))
    return labels, probs, reviews


def test_mnist_round_trip(tmp_path):
    labels, probs, reviews = write_mnist(tmp_path)
    d = le.label_errors("mnist", root=tmp_path, download=False)
    assert d.labels.dtype == np.int64 and (d.labels == labels).all()
    assert d.pred_probs.shape == (N, 10) and (d.predicted == probs.argmax(1)).all()
    assert list(d.reviews["id"]) == sorted(r["id"] for r in reviews)  # sorted by canonical index
    assert (d.reviews["votes_both"] == 0).all()  # MNIST has no "both" answer
    assert set(le.REVIEW_COLUMNS) <= set(d.reviews.columns)


def test_missing_file_is_unavailable(tmp_path):
    with pytest.raises(DataUnavailable, match="label-errors"):
        le.label_errors("mnist", root=tmp_path, download=False)


def test_unknown_dataset_is_named(tmp_path):
    with pytest.raises(ValueError, match="'svhn'.*mnist, cifar10, imagenet"):
        le.label_errors("svhn", root=tmp_path)
    with pytest.raises(ValueError, match="no released probabilities"):
        le.label_errors_pred_probs("imagenet", root=tmp_path)


def test_wrong_shape_and_range_are_corrupt(tmp_path):
    write_mnist(tmp_path, labels=np.zeros(N - 1, np.uint16))
    with pytest.raises(DataCorrupt, match=r"shape \(9999,\), expected \(10000,\)"):
        le.label_errors("mnist", root=tmp_path, download=False)
    write_mnist(tmp_path, labels=np.full(N, 10, np.uint16))
    with pytest.raises(DataCorrupt, match=r"class ids span \[10, 10\], expected \[0, 9\]"):
        le.label_errors_labels("mnist", root=tmp_path, download=False)


def test_probabilities_must_sum_to_one(tmp_path):
    write_mnist(tmp_path, probs=np.full((N, 10), 0.2))
    with pytest.raises(DataCorrupt, match="rows must sum to 1"):
        le.label_errors("mnist", root=tmp_path, download=False)


def test_reviews_in_another_order_are_corrupt(tmp_path):
    labels, _, reviews = write_mnist(tmp_path)
    reviews[0]["given_original_label"] = int((labels[reviews[0]["id"]] + 3) % 10)
    (tmp_path / "label-errors/mturk/mnist_mturk.json").write_text(json.dumps(reviews))
    with pytest.raises(DataCorrupt, match="not in the same order"):
        le.label_errors("mnist", root=tmp_path, download=False)
    (tmp_path / "label-errors/mturk/mnist_mturk.json").write_text("{not json")
    with pytest.raises(DataCorrupt, match="not valid JSON"):
        le.label_error_reviews("mnist", root=tmp_path, download=False)


def imagenet_names(seed=0):
    perm = np.random.default_rng(seed).permutation(le.N_IMAGENET_VAL)
    return [f"ILSVRC2012_val_{i + 1:08d}.JPEG" for i in perm]


def test_imagenet_review_ids_are_file_numbers(tmp_path):
    names = imagenet_names()
    folder = tmp_path / "label-errors/dataset_indexing"
    folder.mkdir(parents=True)
    (folder / "imagenet_val_set_index_to_filepath.json").write_text(json.dumps([f"val/n0/{n}" for n in names]))
    (tmp_path / "label-errors/mturk").mkdir()
    review = {
        "id": 7,
        "given_original_label": 3,
        "our_guessed_label": 4,
        "mturk": {"given": 1, "guessed": 4, "neither": 0, "both": 0},
    }
    (tmp_path / "label-errors/mturk/imagenet_mturk.json").write_text(json.dumps([review]))
    frame = le.label_error_reviews("imagenet", root=tmp_path, download=False)
    assert frame.loc[0, "filename"] == "ILSVRC2012_val_00000007.JPEG"
    assert names[frame.loc[0, "id"]] == "ILSVRC2012_val_00000007.JPEG"
    assert le.imagenet_val_index_filenames(root=tmp_path, download=False) == names


def test_real_labels_join_by_filename(tmp_path):
    (tmp_path / "reassessed-imagenet").mkdir()
    real = [[i % 1000] if i % 3 else [] for i in range(le.N_IMAGENET_VAL)]
    (tmp_path / "reassessed-imagenet/real.json").write_text(json.dumps(real))
    names = imagenet_names(1)[:50]
    got = le.real_labels_for(names, root=tmp_path, download=False)
    assert got == [real[int(n[15:23]) - 1] for n in names]
    with pytest.raises(ValueError, match="no ReaL entry"):
        le.real_labels_for(["cat.jpg"], root=tmp_path, download=False)
    real[5] = [1000]
    (tmp_path / "reassessed-imagenet/real.json").write_text(json.dumps(real))
    with pytest.raises(DataCorrupt, match=r"entry 5 is \[1000\]"):
        le.real_labels(root=tmp_path, download=False)
    (tmp_path / "reassessed-imagenet/real.json").write_text(json.dumps(real[:10]))
    with pytest.raises(DataCorrupt, match="expected a list of 50000 label lists, got 10"):
        le.real_labels(root=tmp_path, download=False)


def test_manifest_lists_every_file_the_loaders_read():
    from reliable_ml.data.files import _manifest

    files = set(_manifest()["label-errors"]["files"]) | set(_manifest()["reassessed-imagenet"]["files"])
    for name, (_, _, stem) in le.LABEL_ERROR_DATASETS.items():
        assert f"label-errors/original_test_labels/{stem}_original_labels.npy" in files
        assert f"label-errors/mturk/{name}_mturk.json" in files
    assert "reassessed-imagenet/real.json" in files
