"""The data layer: loaders on tiny files written in each upstream format, errors, cache, fallback."""

from __future__ import annotations

import gzip
import json
import os
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import real_data_root
from PIL import Image

from reliable_ml import data
from reliable_ml.data import files as data_files
from reliable_ml.data import images as images_mod
from reliable_ml.data.download import fetch, sha256_file


# ----------------------------------------------------------------------------- writers
def write_idx(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_mnist(root: Path, n_train: int = 12, n_test: int = 7, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, n, dtype=np.uint8)
        img_name, lbl_name = images_mod.MNIST_FILES[split]
        write_idx(root / "MNIST" / "raw" / img_name, x)
        write_idx(root / "MNIST" / "raw" / lbl_name, y)
        out[split] = (x, y)
    return out


def write_imagefolder(
    folder: Path, classes=("cat", "dog", "ship"), per_class: int = 3, size=(8, 6), mode: str = "RGB", fmt: str = "PNG"
) -> dict[str, list[np.ndarray]]:
    rng = np.random.default_rng(1)
    arrays: dict[str, list[np.ndarray]] = {}
    channels = 3 if mode == "RGB" else 1
    for cls in classes:
        (folder / cls).mkdir(parents=True, exist_ok=True)
        arrays[cls] = []
        for i in range(per_class):
            arr = rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
            Image.fromarray(arr.squeeze(-1) if channels == 1 else arr, mode).save(
                folder / cls / f"{i:04d}.{fmt.lower().replace('jpeg', 'jpg')}", fmt
            )
            arrays[cls].append(arr)
    return arrays


# ----------------------------------------------------------------------------- names, splits
def test_unknown_name_lists_valid_names(tmp_root):
    with pytest.raises(ValueError) as err:
        data.load_images("imagenet", "train")
    for name in ("digits", "mnist", "cifar10", "cifar10-jpeg", "imagefolder:<path>"):
        assert name in str(err.value)


def test_unknown_split_lists_valid_splits(tmp_root):
    with pytest.raises(ValueError, match="train, test"):
        data.load_images("digits", "validation")


# ----------------------------------------------------------------------------- digits
def test_digits_shapes_range_and_fixed_split():
    x_tr, y_tr, info_tr = data.load_images("digits", "train")
    x_te, y_te, info_te = data.load_images("digits", "test")
    assert x_tr.dtype == torch.uint8 and y_tr.dtype == torch.int64
    assert x_tr.shape[1:] == (1, 8, 8) and len(x_tr) + len(x_te) == 1797
    assert info_tr.n == len(y_tr) and info_te.n == len(y_te) == 450
    assert int(x_tr.max()) == 255 and int(x_tr.min()) == 0
    assert sorted(torch.unique(y_te).tolist()) == list(range(10))
    again = data.load_images("digits", "test")
    assert torch.equal(again.x, x_te), "the digits split must be deterministic"


# ----------------------------------------------------------------------------- MNIST (IDX)
def test_mnist_reads_idx_files(tmp_root):
    written = write_mnist(tmp_root)
    for split in ("train", "test"):
        x, y, info = data.load_images("mnist", split, download=False)
        exp_x, exp_y = written[split]
        assert x.shape == (len(exp_x), 1, 28, 28) and x.dtype == torch.uint8
        assert np.array_equal(x[:, 0].numpy(), exp_x) and np.array_equal(y.numpy(), exp_y)
        assert info.source == "MNIST" and not info.lossy and "$RELIABLE_ML_DATA" in info.location


def test_mnist_truncated_file_is_named(tmp_root):
    write_mnist(tmp_root)
    path = tmp_root / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(data.DataCorrupt, match="t10k-images-idx3-ubyte"):
        data.load_images("mnist", "test", download=False)


def test_mnist_label_count_mismatch(tmp_root):
    write_mnist(tmp_root)
    write_idx(tmp_root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte", np.zeros(3))
    with pytest.raises(data.DataCorrupt, match="3 labels for 7 images"):
        data.load_images("mnist", "test", download=False)


def test_missing_dataset_error_names_dataset_root_and_upstream(tmp_root, offline):
    with pytest.raises(data.DataUnavailable) as err:
        data.load_images("mnist", "test")
    msg = str(err.value)
    assert "'mnist'" in msg and "RELIABLE_ML_DATA" in msg and "torchvision" in msg
    assert err.value.root == tmp_root


def test_fallback_is_loud_and_recorded(tmp_root, offline):
    with pytest.warns(RuntimeWarning, match="FALLBACK"):
        x, y, info = data.load_images("cifar10", "test", fallback=True)
    assert info.name == "digits" and info.fallback_from == "cifar10"
    assert "fallback" in info.source and x.shape[1:] == (1, 8, 8)


# ----------------------------------------------------------------------------- ImageFolder
def test_cifar10_jpeg_layout(tmp_root):
    arrays = write_imagefolder(tmp_root / "cifar10-jpeg" / "test", fmt="JPEG")
    x, y, info = data.load_images("cifar10-jpeg", "test")
    assert x.shape == (9, 3, 6, 8) and x.dtype == torch.uint8
    assert y.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert info.classes == ("cat", "dog", "ship") and info.lossy
    assert info.source == "CIFAR-10 (JPEG q75 copy)"
    # JPEG is lossy: close to, not equal to, what was written
    first = x[0].permute(1, 2, 0).numpy().astype(float)
    assert first.shape == arrays["cat"][0].shape


def test_imagefolder_exact_pixels_and_split_subfolder(tmp_path, tmp_root):
    arrays = write_imagefolder(tmp_path / "tree" / "train", mode="L", fmt="PNG")
    x, y, info = data.load_images(f"imagefolder:{tmp_path / 'tree'}", "train")
    assert x.shape == (9, 1, 6, 8)
    assert np.array_equal(x[4, 0].numpy(), arrays["dog"][1][:, :, 0])
    assert not info.lossy


def test_imagefolder_corrupt_image_is_named(tmp_root):
    folder = tmp_root / "cifar10-jpeg" / "train"
    write_imagefolder(folder, fmt="JPEG")
    (folder / "dog" / "0001.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(data.DataCorrupt, match="0001.jpg"):
        data.load_images("cifar10-jpeg", "train")
    assert not list((Path(os.environ["RELIABLE_ML_CACHE"]) / "images").glob("*.pt")), (
        "nothing may be cached from a failed decode"
    )


def test_imagefolder_mixed_sizes_rejected(tmp_root):
    folder = tmp_root / "cifar10-jpeg" / "test"
    write_imagefolder(folder, fmt="PNG")
    Image.new("RGB", (5, 5)).save(folder / "ship" / "0009.png")
    with pytest.raises(data.DataCorrupt, match="0009.png"):
        data.load_images("cifar10-jpeg", "test")


def test_imagefolder_without_classes(tmp_path, tmp_root):
    (tmp_path / "flat").mkdir()
    with pytest.raises(data.DataCorrupt, match="one sub-folder per class"):
        data.load_images(f"imagefolder:{tmp_path / 'flat'}", "train")


# ----------------------------------------------------------------------------- tensor cache
def test_cache_hit_then_invalidated_by_source_change(tmp_root, monkeypatch):
    folder = tmp_root / "cifar10-jpeg" / "train"
    write_imagefolder(folder, fmt="PNG")
    first = data.load_images("cifar10-jpeg", "train")
    cache_files = list((Path(os.environ["RELIABLE_ML_CACHE"]) / "images").glob("*.pt"))
    assert len(cache_files) == 1 and not list(cache_files[0].parent.glob("*.part"))

    calls = []
    real_decode = images_mod._decode_file
    monkeypatch.setattr(images_mod, "_decode_file", lambda *a: calls.append(a) or real_decode(*a))
    second = data.load_images("cifar10-jpeg", "train")
    assert calls == [] and torch.equal(first.x, second.x), "an unchanged source must come from the cache"

    new = np.full((6, 8, 3), 7, dtype=np.uint8)
    time.sleep(0.01)
    Image.fromarray(new).save(folder / "cat" / "0000.png")
    third = data.load_images("cifar10-jpeg", "train")
    assert calls, "a changed source must be decoded again"
    assert np.array_equal(third.x[0].permute(1, 2, 0).numpy(), new)
    assert len(list(cache_files[0].parent.glob("*.pt"))) == 1, "stale cache entries are removed"


# ----------------------------------------------------------------------------- downloads
def test_fetch_checks_sha256_and_leaves_no_partial_file(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"hello world" * 100)
    good = sha256_file(src)
    dest = tmp_path / "out" / "file.bin"
    fetch(src.as_uri(), dest, sha256=good)
    assert dest.read_bytes() == src.read_bytes()
    bad_dest = tmp_path / "out" / "bad.bin"
    with pytest.raises(data.DataCorrupt, match="SHA-256"):
        fetch(src.as_uri(), bad_dest, sha256="0" * 64)
    assert not bad_dest.exists() and not list(bad_dest.parent.glob("*.part"))


def test_ensure_file_downloads_from_upstream(tmp_root, tmp_path, monkeypatch):
    upstream = tmp_path / "upstream" / "robustness_top1s.csv"
    upstream.parent.mkdir()
    upstream.write_text("model,val,imagenetv2-matched-frequency-format-val\nresnet50,76.1,63.2\nalexnet,56.5,43.9\n")
    rel = "imagenet-testbed/robustness_top1s.csv"
    manifest = json.loads(json.dumps(data_files._manifest()))
    manifest["imagenet-testbed"]["files"][rel] = sha256_file(upstream)
    monkeypatch.setattr(data_files, "_manifest", lambda: manifest)
    monkeypatch.setattr(data_files, "upstream_url", lambda r: upstream.as_uri())
    frame = data.imagenet_testbed()
    assert (tmp_root / rel).exists()
    assert frame.set_index("model").loc["resnet50", "val"] == pytest.approx(76.1)


def test_ensure_file_offline_raises_unavailable(tmp_root, offline):
    with pytest.raises(data.DataUnavailable, match="raw.githubusercontent.com/modestyachts/imagenet-testbed"):
        data.imagenet_testbed()


def test_upstream_urls_follow_repository_layouts():
    assert (
        data_files.upstream_url("QMNIST/qmnist-train-labels.tsv.gz")
        == "https://raw.githubusercontent.com/facebookresearch/qmnist/master/qmnist-train-labels.tsv.gz"
    )
    assert data_files.upstream_url("CIFAR-10.1/datasets/cifar10.1_v6_labels.npy").endswith(
        "modestyachts/CIFAR-10.1/master/datasets/cifar10.1_v6_labels.npy"
    )


# ----------------------------------------------------------------------------- tables
def test_testbed_csv(tmp_root):
    (tmp_root / "imagenet-testbed").mkdir()
    (tmp_root / "imagenet-testbed" / "robustness_top1s.csv").write_text(
        "model,val,objectnet-1.0-beta\na,70.0,\nb,80.5,40.1\n"
    )
    frame = data.imagenet_testbed(download=False)
    assert list(frame["model"]) == ["a", "b"] and np.isnan(frame.loc[0, "objectnet-1.0-beta"])


def test_testbed_csv_without_val_is_corrupt(tmp_root):
    (tmp_root / "imagenet-testbed").mkdir()
    (tmp_root / "imagenet-testbed" / "robustness_top1s.csv").write_text("name,acc\na,1\n")
    with pytest.raises(data.DataCorrupt, match="robustness_top1s.csv"):
        data.imagenet_testbed(download=False)


def test_qmnist_tsv(tmp_root):
    rows = np.array([[5, 4, 2154, 59, 35, 229421, 0, 0], [0, 0, 12, 0, 30, 0, 0, 0], [4, 1, 300, 65, 34, 1, 0, 0]])
    folder = tmp_root / "QMNIST"
    folder.mkdir()
    for which in ("train", "test"):
        with gzip.open(folder / f"qmnist-{which}-labels.tsv.gz", "wt") as fh:
            for r in rows:
                fh.write("\t".join(map(str, r)) + "\n")
    frame = data.qmnist_metadata("train", download=False)
    assert frame.shape[0] == 3 and list(frame["writer_id"]) == [2154, 12, 300]
    assert list(frame["population"]) == ["student", "employee", "employee"]
    with pytest.raises(ValueError, match="train, test, test-all"):
        data.qmnist_metadata("valid")


def test_cifar101_predictions_npy_and_json(tmp_root, monkeypatch):
    folder = tmp_root / "CIFAR-10.1"
    (folder / "datasets").mkdir(parents=True)
    (folder / "model_predictions" / "v6_predictions").mkdir(parents=True)
    labels = np.array([0, 1, 2, 3], dtype=np.int64)
    np.save(folder / "datasets" / "cifar10.1_v6_labels.npy", labels)
    (folder / "model_predictions" / "v6_predictions" / "m1_predictions.json").write_text(json.dumps([0, 1, 2, 0]))
    (folder / "model_predictions" / "v6_predictions" / "m2_predictions.json").write_text(json.dumps([0, 1, 2, 3]))
    manifest = {
        "CIFAR-10.1": {
            "repo": "modestyachts/CIFAR-10.1",
            "branch": "master",
            "strip": "CIFAR-10.1/",
            "files": {
                "CIFAR-10.1/datasets/cifar10.1_v6_labels.npy": "x",
                "CIFAR-10.1/model_predictions/v6_predictions/m1_predictions.json": "x",
                "CIFAR-10.1/model_predictions/v6_predictions/m2_predictions.json": "x",
            },
        }
    }
    monkeypatch.setattr(data_files, "_manifest", lambda: manifest)
    preds = data.cifar101_predictions("v6", download=False)
    assert preds.accuracy().to_dict() == {"m1": 0.75, "m2": 1.0}
    with pytest.raises(ValueError, match="original, v4, v6"):
        data.cifar101_predictions("v5")


def test_imagenetv2_predictions_labels_from_wnids(tmp_root, monkeypatch):
    base = tmp_root / "ImageNetV2" / "data"
    for sub in ("metadata", "datasets", "predictions/imagenetv2-b-33"):
        (base / sub).mkdir(parents=True)
    (base / "metadata" / "class_info.json").write_text(json.dumps([{"cid": i, "wnid": f"n{i}"} for i in range(1000)]))
    (base / "datasets" / "imagenetv2-b-33.json").write_text(
        json.dumps({"image_filenames": [["h1", "n2"], ["h2", "n0"], ["h3", "n1"]]})
    )
    np.save(
        base / "predictions" / "imagenetv2-b-33" / "netA.npy",
        np.array([[2, 0, 1, 3, 4], [1, 0, 2, 3, 4], [0, 2, 3, 4, 5]]),
    )
    rels = [
        "ImageNetV2/data/metadata/class_info.json",
        "ImageNetV2/data/datasets/imagenetv2-b-33.json",
        "ImageNetV2/data/predictions/imagenetv2-b-33/netA.npy",
    ]
    manifest = {
        "ImageNetV2": {
            "repo": "modestyachts/ImageNetV2",
            "branch": "master",
            "strip": "ImageNetV2/",
            "files": {r: "x" for r in rels},
        }
    }
    monkeypatch.setattr(data_files, "_manifest", lambda: manifest)
    preds = data.imagenetv2_predictions("matched-frequency", download=False)
    assert preds.labels.tolist() == [2, 0, 1]
    assert preds.correct(1)["netA"].tolist() == [True, False, False]
    assert preds.correct(5)["netA"].tolist() == [True, True, False]
    with pytest.raises(ValueError, match="matched-frequency"):
        data.imagenetv2_predictions("top-images", download=False)


# ----------------------------------------------------------------------------- real data
@pytest.mark.data
def test_real_mnist_sizes_and_pixel_means():
    root = real_data_root()
    x_tr, y_tr, _ = data.load_images("mnist", "train", root=root, download=False)
    x_te, y_te, _ = data.load_images("mnist", "test", root=root, download=False)
    assert (len(x_tr), len(x_te)) == (60_000, 10_000)
    assert float(x_tr.float().mean() / 255) == pytest.approx(0.1307, abs=5e-4)
    assert float(x_te.float().mean() / 255) == pytest.approx(0.1325, abs=5e-4)


@pytest.mark.data
def test_real_cifar10_jpeg_sizes():
    root = real_data_root()
    for split, n in (("train", 50_000), ("test", 10_000)):
        x, y, info = data.load_images("cifar10-jpeg", split, root=root)
        assert x.shape == (n, 3, 32, 32) and info.lossy
        assert np.bincount(y.numpy()).tolist() == [n // 10] * 10


@pytest.mark.data
def test_real_tables():
    root = real_data_root()
    testbed = data.imagenet_testbed(root=root, download=False)
    assert testbed.shape[0] == 338 and "imagenetv2-matched-frequency-format-val" in testbed
    v2 = data.imagenetv2_predictions(root=root, download=False)
    assert len(v2.top5) == 67 and len(v2.labels) == 10_000
    assert 0.4 < v2.correct(1)["resnet50"].mean() < 0.8
    qm = data.qmnist_metadata("test", root=root, download=False)
    mnist_y = data.load_images("mnist", "test", root=root, download=False).y.numpy()
    assert np.array_equal(qm["digit"].to_numpy(), mnist_y), "QMNIST rows align with MNIST test"
    c101 = data.cifar101_predictions("v4", root=root, download=False)
    assert len(c101.labels) == 2021
