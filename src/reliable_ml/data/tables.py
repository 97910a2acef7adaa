"""Tabular sources: the ImageNet testbed, ImageNetV2 and CIFAR-10.1 predictions, QMNIST metadata.

Each file is looked up under the data root in its upstream repository's layout; when absent
it is downloaded from that repository, checked against the SHA-256 in ``manifest.json`` and
renamed into place. ``manifest.json`` holds checksums and paths only, never data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from reliable_ml.data.files import _files_under, ensure_file
from reliable_ml.data.root import DataCorrupt, DataUnavailable

IMAGENETV2_ALIASES = {
    "val": "imagenet-validation-original",
    "matched-frequency": "imagenetv2-b-33",
    "threshold-0.7": "imagenetv2-a-44",
    "top-images": "imagenetv2-c-12",
}
CIFAR101_VERSIONS = ("original", "v4", "v6")
QMNIST_COLUMNS = (
    "digit",
    "hsf_series",
    "writer_id",
    "writer_digit_index",
    "nist_class_code",
    "nist_index",
    "duplicate",
    "unused",
)
QMNIST_SPLITS = ("train", "test", "test-all")


# --------------------------------------------------------------------------- testbed
def imagenet_testbed(root: Path | str | None = None, download: bool = True) -> pd.DataFrame:
    """Top-1 accuracy (in %) of the testbed's ImageNet models on its evaluation settings.

    One row per model (column ``model``), one column per setting (``val``,
    ``imagenetv2-matched-frequency-format-val``, ``objectnet-1.0-beta``, ``pgd...``);
    missing evaluations are NaN. Source: Taori et al. 2020, ``robustness_top1s.csv``.
    """
    path = ensure_file("imagenet-testbed/robustness_top1s.csv", root, download)
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataCorrupt(path, str(exc)) from exc
    if "model" not in frame.columns or "val" not in frame.columns:
        raise DataCorrupt(path, f"expected columns 'model' and 'val'; found {list(frame.columns)[:5]}...")
    return frame


# --------------------------------------------------------------------------- ImageNetV2
class TopKPredictions(NamedTuple):
    """``top5[model]``: int64 ``(N, 5)`` class ids, best first; ``labels``: int64 ``(N,)``.

    ``filenames``: the images in the dataset file's order (for the validation set the
    ``ILSVRC2012_val_XXXXXXXX.JPEG`` names, which join with ReaL labels); ``reversed``: the
    models whose upstream file stored its top-5 in ascending order of score and was flipped.
    """

    top5: dict[str, np.ndarray]
    labels: np.ndarray
    dataset: str
    filenames: list[str] = []
    reversed: tuple[str, ...] = ()

    def correct(self, k: int = 1) -> pd.DataFrame:
        """Boolean ``(N, n_models)`` frame: is the label in the model's top-``k``."""
        return pd.DataFrame({m: (p[:, :k] == self.labels[:, None]).any(1) for m, p in self.top5.items()})


def best_first(top5: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, bool]:
    """``top5`` with its best guess in column 0, and whether it had to be flipped.

    A top-5 list sorted by descending score hits the label most often in its first column;
    one stored in ascending order (an upstream quirk of ImageNetV2's ``fv_*`` Fisher-vector
    files) hits it most often in its last. The order is read from these hit rates, not from
    the file name. Raises ``ValueError`` when neither end column has the highest hit rate.
    """
    hits = (top5 == labels[:, None]).mean(0)
    if hits[0] >= hits.max():
        return top5, False
    if hits[-1] >= hits.max():
        return top5[:, ::-1].copy(), True
    raise ValueError(
        f"cannot tell the order of a top-5 list: per-column hit rates {np.round(hits, 4).tolist()} "
        f"peak in neither the first nor the last column"
    )


def model_name(stem: str) -> str:
    """Model name of an ImageNetV2 prediction file: upstream names two files of the same
    models ``fv_64k_model.npy`` (Threshold0.7) and ``fv_16k_model.npy`` (TopImages) where the
    other sets say ``fv_64k.npy``/``fv_16k.npy``; the ``_model`` suffix is dropped so that a
    model has one name on all four sets."""
    return stem.removesuffix("_model")


def imagenetv2_predictions(
    dataset: str = "matched-frequency", root: Path | str | None = None, download: bool = True
) -> TopKPredictions:
    """Per-model top-5 predictions of 67 ImageNet models on ImageNet or an ImageNetV2 set.

    ``dataset``: ``val`` (the original 50,000 validation images), ``matched-frequency``,
    ``threshold-0.7`` or ``top-images`` (or the upstream names ``imagenetv2-b-33`` etc.).
    These are the original ImageNetV2 evaluation {cite}`recht2019imagenet`, not the testbed's
    ``*-format-val`` re-evaluation. Labels come from the dataset file's wnids mapped through
    ``class_info.json``; every model's top-5 is put best first (:func:`best_first`) and named
    as on the other sets (:func:`model_name`).
    """
    name = IMAGENETV2_ALIASES.get(dataset, dataset)
    pred_prefix = f"ImageNetV2/data/predictions/{name}/"
    pred_files = _files_under(pred_prefix)
    if not pred_files:
        raise ValueError(
            f"no published predictions for ImageNet set {dataset!r}; available: {', '.join(IMAGENETV2_ALIASES)}"
        )
    info_path = ensure_file("ImageNetV2/data/metadata/class_info.json", root, download)
    set_path = ensure_file(f"ImageNetV2/data/datasets/{name}.json", root, download)
    try:
        wnid_to_cid = {c["wnid"]: int(c["cid"]) for c in json.loads(info_path.read_text())}
        pairs = json.loads(set_path.read_text())["image_filenames"]
        labels = np.array([wnid_to_cid[wnid] for _, wnid in pairs], dtype=np.int64)
        filenames = [str(f) for f, _ in pairs]
    except (json.JSONDecodeError, KeyError, ValueError, TypeError) as exc:
        raise DataCorrupt(set_path, f"cannot read labels: {exc!r}") from exc
    if len(wnid_to_cid) != 1000 or sorted(wnid_to_cid.values()) != list(range(1000)):
        raise DataCorrupt(info_path, f"expected 1,000 classes with ids 0..999; got {len(wnid_to_cid)}")
    top5, flipped = {}, []
    for rel in pred_files:
        path = ensure_file(rel, root, download)
        try:
            pred = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise DataCorrupt(path, str(exc)) from exc
        if pred.shape != (len(labels), 5):
            raise DataCorrupt(path, f"shape {pred.shape}, expected {(len(labels), 5)}")
        if not np.issubdtype(pred.dtype, np.integer) or pred.min() < 0 or pred.max() > 999:
            raise DataCorrupt(
                path, f"class ids must be integers in 0..999; got {pred.dtype} {pred.min()}..{pred.max()}"
            )
        try:
            pred, was_flipped = best_first(pred.astype(np.int64), labels)
        except ValueError as exc:
            raise DataCorrupt(path, str(exc)) from exc
        model = model_name(Path(rel).stem)
        if model in top5:
            raise DataCorrupt(path, f"two prediction files for model {model!r} in {name}")
        top5[model] = pred
        if was_flipped:
            flipped.append(model)
    return TopKPredictions(top5, labels, name, filenames, tuple(flipped))


# --------------------------------------------------------------------------- CIFAR-10.1
class ClassPredictions(NamedTuple):
    """``predictions[model]``: int64 ``(N,)`` predicted classes; ``labels`` may be ``None``."""

    predictions: dict[str, np.ndarray]
    labels: np.ndarray | None
    version: str
    note: str

    def accuracy(self) -> pd.Series:
        """Accuracy (fraction) per model; needs ``labels``."""
        if self.labels is None:
            raise ValueError(f"no labels for CIFAR-10 {self.version!r}: {self.note}")
        return pd.Series({m: float((p == self.labels).mean()) for m, p in self.predictions.items()})


def cifar101_predictions(
    version: str = "v6", root: Path | str | None = None, download: bool = True
) -> ClassPredictions:
    """Predictions of ~30 published CIFAR-10 models on CIFAR-10 (``original``) or CIFAR-10.1.

    Labels for ``v4``/``v6`` come from CIFAR-10.1's label files. Labels for ``original`` are
    the canonical CIFAR-10 test labels in order (:func:`~reliable_ml.data.released.cifar10_test_labels`);
    when those are unavailable ``labels`` is ``None`` and ``note`` says why.
    """
    if version not in CIFAR101_VERSIONS:
        raise ValueError(f"unknown CIFAR-10.1 version {version!r}; allowed: {', '.join(CIFAR101_VERSIONS)}")
    files = _files_under(f"CIFAR-10.1/model_predictions/{version}_predictions/")
    predictions = {}
    for rel in files:
        path = ensure_file(rel, root, download)
        try:
            predictions[Path(rel).stem.removesuffix("_predictions")] = np.asarray(
                json.loads(path.read_text()), dtype=np.int64
            )
        except (json.JSONDecodeError, ValueError) as exc:
            raise DataCorrupt(path, str(exc)) from exc
    note = ""
    if version == "original":
        labels = _canonical_cifar10_test_labels(root, download)
        if labels is None:
            note = (
                "canonical CIFAR-10 test labels (in order) are needed and were not found: "
                "label-errors/original_test_labels/cifar10_test_set_original_labels.npy"
            )
    else:
        path = ensure_file(f"CIFAR-10.1/datasets/cifar10.1_{version}_labels.npy", root, download)
        try:
            labels = np.load(path, allow_pickle=False).astype(np.int64)
        except (ValueError, OSError, EOFError) as exc:
            raise DataCorrupt(path, str(exc)) from exc
    if labels is not None:
        for model, pred in predictions.items():
            if pred.shape != labels.shape:
                raise DataCorrupt(model, f"{pred.shape[0]} predictions for {labels.shape[0]} labels")
    return ClassPredictions(predictions, labels, version, note)


def _canonical_cifar10_test_labels(root: Path | str | None, download: bool = True) -> np.ndarray | None:
    from reliable_ml.data.released import cifar10_test_labels

    try:
        return cifar10_test_labels(root, download)
    except DataUnavailable:
        return None


# --------------------------------------------------------------------------- QMNIST
def qmnist_metadata(split: str = "train", root: Path | str | None = None, download: bool = True) -> pd.DataFrame:
    """Writer and NIST series of every MNIST digit (Yadav & Bottou 2019).

    ``train``: 60,000 rows aligned with MNIST train; ``test``: the first 10,000 QMNIST test
    rows, aligned with MNIST test; ``test-all``: all 60,000 QMNIST test rows. Columns:
    ``digit``, ``hsf_series`` (0/1: Census employees, 4: high-school students),
    ``writer_id``, ``writer_digit_index``, ``nist_class_code``, ``nist_index``, ...
    """
    if split not in QMNIST_SPLITS:
        raise ValueError(f"unknown QMNIST split {split!r}; allowed: {', '.join(QMNIST_SPLITS)}")
    which = "train" if split == "train" else "test"
    path = ensure_file(f"QMNIST/qmnist-{which}-labels.tsv.gz", root, download)
    try:
        frame = pd.read_csv(path, sep="\t", header=None, compression="gzip")
    except (OSError, EOFError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataCorrupt(path, str(exc)) from exc
    if frame.shape[1] != len(QMNIST_COLUMNS):
        raise DataCorrupt(path, f"{frame.shape[1]} columns, expected {len(QMNIST_COLUMNS)}")
    frame.columns = list(QMNIST_COLUMNS)
    frame = frame.astype(np.int64)
    if split == "test":
        frame = frame.iloc[:10_000].reset_index(drop=True)
    frame["population"] = np.where(frame["hsf_series"] == 4, "student", "employee")
    return frame
