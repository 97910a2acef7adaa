"""Released sources that join with CIFAR-10's canonical order, and ImageNetV2 top-5 order."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import real_data_root
from PIL import Image

from reliable_ml import data
from reliable_ml.data import files as data_files
from reliable_ml.data import released, tables

CANON = released.CIFAR10_TEST_LABELS


def balanced_labels(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).permutation(np.repeat(np.arange(10), 1000))


def write_labels(root: Path, labels: np.ndarray) -> None:
    path = root / CANON
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, labels.astype(np.uint16))


# ----------------------------------------------------------------------------- joins
def test_jpeg_files_rank_within_class():
    files = data.jpeg_test_files(np.array([3, 8, 8, 0, 3]))
    assert files == [
        "test/cat/0000.jpg",
        "test/ship/0000.jpg",
        "test/ship/0001.jpg",
        "test/airplane/0000.jpg",
        "test/cat/0001.jpg",
    ]
    with pytest.raises(ValueError, match="0..9"):
        data.jpeg_test_files(np.array([0, 10]))


def test_permutation_is_a_bijection_and_classes_match():
    labels = balanced_labels()[:300] % 3  # a small 3-class stand-in
    classes = ("airplane", "automobile", "bird")
    # the copy lists files by class, then by name (ImageFolder order)
    counts = np.bincount(labels, minlength=3)
    jpeg = [f"root/test/{c}/{k:04d}.jpg" for c, n in zip(classes, counts) for k in range(n)]
    folder_class = np.repeat(np.arange(3), counts)
    perm = data.jpeg_canonical_permutation(labels, jpeg, classes)
    assert sorted(perm.tolist()) == list(range(len(jpeg)))  # bijection
    assert np.array_equal(folder_class[perm], labels)  # folder class == canonical label
    with pytest.raises(data.DataCorrupt, match="one-to-one"):
        data.jpeg_canonical_permutation(labels, jpeg[:-1], classes)


def test_canonical_labels_checked(tmp_root):
    labels = balanced_labels()
    write_labels(tmp_root, labels)
    assert np.array_equal(data.cifar10_test_labels(download=False), labels)
    write_labels(tmp_root, np.r_[labels[:-1], (labels[-1] + 1) % 10])
    with pytest.raises(data.DataCorrupt, match="1,000 test images per class"):
        data.cifar10_test_labels(download=False)
    (tmp_root / CANON).unlink()
    with pytest.raises(data.DataUnavailable, match="label-errors"):
        data.cifar10_test_labels(download=False)


def test_cifar10h_counts_in_canonical_order(tmp_root):
    labels = balanced_labels()
    write_labels(tmp_root, labels)
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 3, (10_000, 10))
    counts[np.arange(10_000), labels] += 45
    path = tmp_root / released.CIFAR10H_COUNTS
    path.parent.mkdir(parents=True)
    np.save(path, counts)
    assert np.array_equal(data.cifar10h_counts(download=False), counts)
    np.save(path, counts[rng.permutation(10_000)])  # a shuffled file must not pass
    with pytest.raises(data.DataCorrupt, match="canonical test order"):
        data.cifar10h_counts(download=False)
    np.save(path, counts[:, :9])
    with pytest.raises(data.DataCorrupt, match=r"shape \(10000, 9\)"):
        data.cifar10h_counts(download=False)


def test_canonical_test_set_from_a_jpeg_copy(tmp_root):
    labels = balanced_labels()
    write_labels(tmp_root, labels)
    # tiny one-colour JPEGs whose red channel encodes the canonical index // 40
    for i, rel in enumerate(data.jpeg_test_files(labels)):
        path = tmp_root / "cifar10-jpeg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (2, 2), (i // 40, 0, 0)).save(path, "JPEG", quality=100)
    x, y, info = data.cifar10_canonical_test(download=False)
    assert x.shape == (10_000, 3, 2, 2) and "canonical test order" in info.source
    assert np.array_equal(y.numpy(), labels)
    red = x[:, 0].float().mean((1, 2)).numpy()
    assert np.abs(red - np.arange(10_000) // 40).max() <= 2  # JPEG rounding only


# ----------------------------------------------------------------------------- ImageNetV2
def test_best_first_detects_ascending_files_from_the_data():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 1000, 500)
    top5 = rng.integers(0, 1000, (500, 5))
    top5[:200, 0] = labels[:200]  # 40% top-1, best first
    fixed, flipped = tables.best_first(top5, labels)
    assert not flipped and fixed is top5
    fixed, flipped = tables.best_first(top5[:, ::-1], labels)
    assert flipped and np.array_equal(fixed, top5)
    middle = top5[:, [1, 2, 0, 3, 4]]
    with pytest.raises(ValueError, match="neither the first nor the last"):
        tables.best_first(middle, labels)


def test_imagenetv2_val_filenames_and_flipped_model(tmp_root, monkeypatch):
    base = tmp_root / "ImageNetV2" / "data"
    for sub in ("metadata", "datasets", "predictions/imagenet-validation-original"):
        (base / sub).mkdir(parents=True)
    (base / "metadata" / "class_info.json").write_text(json.dumps([{"cid": i, "wnid": f"n{i}"} for i in range(1000)]))
    names = ["ILSVRC2012_val_00000293.JPEG", "ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000007.JPEG"]
    (base / "datasets" / "imagenet-validation-original.json").write_text(
        json.dumps({"image_filenames": [[names[0], "n5"], [names[1], "n7"], [names[2], "n9"]]})
    )
    good = np.array([[5, 1, 2, 3, 4], [7, 1, 2, 3, 4], [0, 9, 2, 3, 4]])
    pred_dir = base / "predictions" / "imagenet-validation-original"
    np.save(pred_dir / "netA.npy", good)
    np.save(pred_dir / "fv_64k_model.npy", good[:, ::-1])  # ascending order, odd name
    rels = [str(p.relative_to(tmp_root)) for p in sorted(base.rglob("*.*"))]
    manifest = {
        "ImageNetV2": {
            "repo": "modestyachts/ImageNetV2",
            "branch": "master",
            "strip": "ImageNetV2/",
            "files": {r: "x" for r in rels},
        }
    }
    monkeypatch.setattr(data_files, "_manifest", lambda: manifest)
    preds = data.imagenetv2_predictions("val", download=False)
    assert preds.filenames == names and preds.labels.tolist() == [5, 7, 9]
    assert preds.reversed == ("fv_64k",) and set(preds.top5) == {"netA", "fv_64k"}
    assert np.array_equal(preds.top5["fv_64k"], good)
    assert preds.correct(1).mean().to_dict() == pytest.approx({"netA": 2 / 3, "fv_64k": 2 / 3})


# ----------------------------------------------------------------------------- real data
@pytest.mark.data
def test_real_released_sources_join():
    root = real_data_root()
    labels = data.cifar10_test_labels(root=root, download=False)
    assert labels[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    counts = data.cifar10h_counts(root=root, download=False)
    assert 47 <= counts.sum(1).min() and counts.sum(1).max() <= 63
    test = data.cifar10_canonical_test(root=root, download=False)
    assert np.array_equal(test.y.numpy(), labels)
    c101 = data.cifar101_predictions("original", root=root, download=False)
    assert c101.labels is not None and 0.9 < c101.accuracy().median() < 0.97


@pytest.mark.data
def test_real_imagenetv2_sets_share_models_and_flip_fisher_vectors():
    root = real_data_root()
    models = None
    for name in ("val", "matched-frequency", "threshold-0.7", "top-images"):
        preds = data.imagenetv2_predictions(name, root=root, download=False)
        assert len(preds.top5) == 67
        models = models or set(preds.top5)
        assert set(preds.top5) == models
        top1 = preds.correct(1).mean()
        assert (top1 > 0.1).all(), top1[top1 <= 0.1]  # no model left in ascending order
    assert top1.idxmin().startswith("fv_")
    mf = data.imagenetv2_predictions("matched-frequency", root=root, download=False)
    assert mf.reversed == ("fv_16k",)
    assert mf.correct(1)["fv_16k"].mean() == pytest.approx(0.1924, abs=5e-4)
