"""Released label-quality data: the label-errors repository and the ReaL ImageNet labels.

* ``label-errors/`` (Northcutt, Athalye, Mueller 2021, "Pervasive label errors in test sets",
  repository cleanlab/label-errors): for the MNIST and CIFAR-10 test sets and the ImageNet
  validation set, the original labels in canonical order, the argmax of cross-validated
  (out-of-sample) predicted probabilities, the probabilities themselves (MNIST, CIFAR-10),
  and the Mechanical Turk review of every example that confident learning flagged.
* ``reassessed-imagenet/real.json`` (Beyer et al. 2020, "Are we done with ImageNet?"): the
  labels that raters accepted for each of the 50,000 validation images ("ReaL" labels).

Every file is looked up under the data root in its upstream layout and, when absent,
downloaded and checked against ``manifest.json`` (sections ``label-errors`` and
``reassessed-imagenet``). Shapes, orders and label ranges are checked on load; a file that
fails a check raises :class:`DataCorrupt` naming the problem.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from reliable_ml.data.files import ensure_file
from reliable_ml.data.root import DataCorrupt

#: dataset name -> (number of examples, number of classes, file stem) in the label-errors layout
LABEL_ERROR_DATASETS: dict[str, tuple[int, int, str]] = {
    "mnist": (10_000, 10, "mnist_test_set"),
    "cifar10": (10_000, 10, "cifar10_test_set"),
    "imagenet": (50_000, 1000, "imagenet_val_set"),
}
#: datasets whose cross-validated probabilities are in the repository (ImageNet's are split
#: into four 100 MB parts upstream and are not used here)
WITH_PROBABILITIES = ("mnist", "cifar10")
REVIEW_COLUMNS = (
    "id",
    "given",
    "guessed",
    "votes_given",
    "votes_guessed",
    "votes_neither",
    "votes_both",
    "given_name",
    "guessed_name",
)
N_IMAGENET_VAL = 50_000
VAL_NAME = re.compile(r"ILSVRC2012_val_(\d{8})\.JPEG")


class LabelErrorsData(NamedTuple):
    """One dataset of the label-errors repository, every array in the canonical order.

    ``labels``: int64 ``(N,)`` original (given) labels; ``predicted``: int64 ``(N,)`` argmax
    of the cross-validated probabilities; ``pred_probs``: float64 ``(N, K)`` or ``None``
    (ImageNet); ``reviews``: one row per MTurk-reviewed example (columns ``REVIEW_COLUMNS``).
    """

    dataset: str
    labels: np.ndarray
    predicted: np.ndarray
    pred_probs: np.ndarray | None
    reviews: pd.DataFrame


def _check_dataset(dataset: str) -> tuple[int, int, str]:
    if dataset not in LABEL_ERROR_DATASETS:
        raise ValueError(f"unknown label-errors dataset {dataset!r}; allowed: {', '.join(LABEL_ERROR_DATASETS)}")
    return LABEL_ERROR_DATASETS[dataset]


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataCorrupt(path, f"not a readable .npy array: {exc}") from exc


def _load_json(path: Path):
    try:
        return json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataCorrupt(path, f"not valid JSON: {exc}") from exc


def _class_vector(path: Path, n: int, k: int) -> np.ndarray:
    """A ``(n,)`` vector of class ids in ``[0, k)``, as int64."""
    arr = _load_npy(path)
    if arr.shape != (n,):
        raise DataCorrupt(path, f"shape {arr.shape}, expected ({n},)")
    if not np.issubdtype(arr.dtype, np.integer):
        raise DataCorrupt(path, f"dtype {arr.dtype}, expected integer class ids")
    if n and (arr.min() < 0 or arr.max() >= k):
        raise DataCorrupt(path, f"class ids span [{arr.min()}, {arr.max()}], expected [0, {k - 1}]")
    return arr.astype(np.int64)


def label_errors_labels(dataset: str, root: Path | str | None = None, download: bool = True) -> np.ndarray:
    """Original test labels of ``dataset`` in canonical order, int64 ``(N,)``."""
    n, k, stem = _check_dataset(dataset)
    path = ensure_file(f"label-errors/original_test_labels/{stem}_original_labels.npy", root, download)
    return _class_vector(path, n, k)


def label_errors_pred_probs(dataset: str, root: Path | str | None = None, download: bool = True) -> np.ndarray:
    """Cross-validated predicted probabilities, float64 ``(N, K)``, rows summing to 1."""
    n, k, stem = _check_dataset(dataset)
    if dataset not in WITH_PROBABILITIES:
        raise ValueError(f"no released probabilities for {dataset!r} here; available: {', '.join(WITH_PROBABILITIES)}")
    path = ensure_file(f"label-errors/cross_validated_predicted_probabilities/{stem}_pyx.npy", root, download)
    probs = _load_npy(path)
    if probs.shape != (n, k):
        raise DataCorrupt(path, f"shape {probs.shape}, expected ({n}, {k})")
    probs = probs.astype(np.float64)
    if not np.isfinite(probs).all() or probs.min() < 0:
        raise DataCorrupt(path, "probabilities must be finite and non-negative")
    worst = float(np.abs(probs.sum(1) - 1).max()) if n else 0.0
    if worst > 1e-3:
        raise DataCorrupt(path, f"rows must sum to 1; the worst row is off by {worst:.2g}")
    return probs


def label_error_reviews(
    dataset: str, root: Path | str | None = None, download: bool = True, labels: np.ndarray | None = None
) -> pd.DataFrame:
    """The MTurk review of the examples flagged in ``dataset``, one row per example.

    Columns: ``id`` (canonical index), ``given`` (original label), ``guessed`` (the label
    confident learning suggested), ``votes_given``/``votes_guessed``/``votes_neither``/
    ``votes_both`` (how many of the 5 workers chose each answer; MNIST has no ``both``
    answer, read as 0). If ``labels`` is given, each row's ``given`` must equal
    ``labels[id]`` (the check that the review and the label file share one order).
    ImageNet's released ids are the numbers in the file names (``ILSVRC2012_val_<id>.JPEG``);
    they are mapped to the canonical index through :func:`imagenet_val_index_filenames` and the
    name is kept in a ``filename`` column. Upstream quirk: 13 MNIST rows have ``given == guessed`` and count each
    vote twice
    (10 votes); they are kept as released.
    """
    n, k, _ = _check_dataset(dataset)
    path = ensure_file(f"label-errors/mturk/{dataset}_mturk.json", root, download)
    raw = _load_json(path)
    if not isinstance(raw, list):
        raise DataCorrupt(path, f"expected a JSON list of reviewed examples, got {type(raw).__name__}")
    try:
        rows = [
            (
                int(e["id"]),
                int(e["given_original_label"]),
                int(e["our_guessed_label"]),
                int(e["mturk"]["given"]),
                int(e["mturk"]["guessed"]),
                int(e["mturk"]["neither"]),
                int(e["mturk"].get("both", 0)),
                str(e.get("given_original_label_name", "")),
                str(e.get("our_guessed_label_name", "")),
            )
            for e in raw
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise DataCorrupt(path, f"review entry without the expected fields: {exc!r}") from exc
    frame = pd.DataFrame(rows, columns=list(REVIEW_COLUMNS))
    if dataset == "imagenet":  # ids are the numbers in ILSVRC2012_val_<id>.JPEG, not indices
        if len(frame) and not frame["id"].between(1, N_IMAGENET_VAL).all():
            raise DataCorrupt(path, f"ImageNet review ids outside [1, {N_IMAGENET_VAL}]")
        frame["filename"] = [f"ILSVRC2012_val_{i:08d}.JPEG" for i in frame["id"]]
        position = {name: i for i, name in enumerate(imagenet_val_index_filenames(root, download))}
        frame["id"] = [position[name] for name in frame["filename"]]
    if len(frame) and not frame["id"].between(0, n - 1).all():
        raise DataCorrupt(path, f"example ids outside [0, {n - 1}]")
    if frame["id"].duplicated().any():
        raise DataCorrupt(path, f"{int(frame['id'].duplicated().sum())} duplicated example ids")
    for col in ("given", "guessed"):
        if len(frame) and not frame[col].between(0, k - 1).all():
            raise DataCorrupt(path, f"column {col!r} has labels outside [0, {k - 1}]")
    votes = frame[["votes_given", "votes_guessed", "votes_neither", "votes_both"]]
    if (votes < 0).any().any():
        raise DataCorrupt(path, "negative vote counts")
    if labels is not None:
        bad = frame.index[labels[frame["id"].to_numpy()] != frame["given"].to_numpy()]
        if len(bad):
            raise DataCorrupt(
                path,
                f"{len(bad)} reviewed examples' given label differs from the "
                f"original label file (first id {int(frame.loc[bad[0], 'id'])}): "
                "the two are not in the same order",
            )
    return frame.sort_values("id").reset_index(drop=True)


def label_errors(dataset: str, root: Path | str | None = None, download: bool = True) -> LabelErrorsData:
    """Labels, cross-validated predictions (and probabilities) and MTurk reviews of ``dataset``.

    ``dataset``: ``mnist`` (test), ``cifar10`` (test) or ``imagenet`` (validation). All arrays
    share the canonical order (ImageNet: the order of
    :func:`imagenet_val_index_filenames`). Checks that the predicted labels are the argmax of
    the probabilities (up to ties) and that the reviews agree with the label file.
    """
    n, k, stem = _check_dataset(dataset)
    labels = label_errors_labels(dataset, root, download)
    pred_path = ensure_file(
        f"label-errors/cross_validated_predicted_labels/{stem}_pyx_argmax_predicted_labels.npy", root, download
    )
    predicted = _class_vector(pred_path, n, k)
    probs = label_errors_pred_probs(dataset, root, download) if dataset in WITH_PROBABILITIES else None
    if probs is not None and n:
        agree = float((probs.argmax(1) == predicted).mean())
        if agree < 0.99:
            raise DataCorrupt(
                pred_path,
                f"only {agree:.1%} of the predicted labels are the argmax "
                "of the released probabilities: the files are not in one order",
            )
    reviews = label_error_reviews(dataset, root, download, labels=labels)
    return LabelErrorsData(dataset, labels, predicted, probs, reviews)


def imagenet_val_index_filenames(root: Path | str | None = None, download: bool = True) -> list[str]:
    """``ILSVRC2012_val_XXXXXXXX.JPEG`` names in the label-errors ImageNet order (by class folder)."""
    path = ensure_file("label-errors/dataset_indexing/imagenet_val_set_index_to_filepath.json", root, download)
    raw = _load_json(path)
    if not isinstance(raw, list) or len(raw) != N_IMAGENET_VAL:
        size = len(raw) if isinstance(raw, list) else type(raw).__name__
        raise DataCorrupt(path, f"expected a list of {N_IMAGENET_VAL} file paths, got {size}")
    names = [str(p).rsplit("/", 1)[-1] for p in raw]
    bad = [p for p in names if not VAL_NAME.fullmatch(p)]
    if bad:
        raise DataCorrupt(path, f"{len(bad)} entries are not ILSVRC2012_val_XXXXXXXX.JPEG names (first: {bad[0]!r})")
    if len(set(names)) != len(names):
        raise DataCorrupt(path, "duplicated file names")
    return names


def real_labels(root: Path | str | None = None, download: bool = True) -> dict[str, list[int]]:
    """ReaL labels by file name: ``{"ILSVRC2012_val_00000001.JPEG": [labels], ...}``.

    ``real.json`` is a list whose i-th entry holds the labels raters accepted for
    ``ILSVRC2012_val_{i+1:08d}.JPEG``; an empty list means no label fits (such images are left
    out of ReaL accuracy). Checked: 50,000 entries, each a list of distinct ids in ``[0, 999]``.
    """
    path = ensure_file("reassessed-imagenet/real.json", root, download)
    raw = _load_json(path)
    if not isinstance(raw, list) or len(raw) != N_IMAGENET_VAL:
        size = len(raw) if isinstance(raw, list) else type(raw).__name__
        raise DataCorrupt(path, f"expected a list of {N_IMAGENET_VAL} label lists, got {size}")
    out: dict[str, list[int]] = {}
    for i, entry in enumerate(raw):
        if not isinstance(entry, list) or not all(isinstance(c, int) and 0 <= c < 1000 for c in entry):
            raise DataCorrupt(path, f"entry {i} is {entry!r}; expected a list of class ids in [0, 999]")
        if len(set(entry)) != len(entry):
            raise DataCorrupt(path, f"entry {i} repeats a label: {entry!r}")
        out[f"ILSVRC2012_val_{i + 1:08d}.JPEG"] = entry
    return out


def real_labels_for(filenames: list[str], root: Path | str | None = None, download: bool = True) -> list[list[int]]:
    """ReaL labels in the order of ``filenames`` (e.g. ``imagenetv2_predictions("val").filenames``)."""
    by_name = real_labels(root, download)
    missing = [f for f in filenames if f not in by_name]
    if missing:
        raise ValueError(
            f"{len(missing)} file names have no ReaL entry (first: {missing[0]!r}); "
            "expected ILSVRC2012_val_XXXXXXXX.JPEG names"
        )
    return [by_name[f] for f in filenames]
