"""Released data that joins with CIFAR-10's canonical test order.

* ``cifar10_test_labels``: the canonical CIFAR-10 test labels, in order, as released with
  "Pervasive label errors in test sets" {cite}`northcutt2021pervasive`
  (``label-errors/original_test_labels/cifar10_test_set_original_labels.npy``).
* ``jpeg_test_files`` / ``cifar10_canonical_test``: the offline JPEG copy stores test image
  ``i`` as ``test/<class of i>/<rank of i among the indices of its class>.jpg``; with the
  canonical labels this is a bijection onto the canonical order (tested).
* ``cifar10h_counts``: CIFAR-10H, about 51 human labels per test image
  {cite}`peterson2019human`, in canonical order.

Every loader checks what it reads (shape, dtype, label range, class balance, agreement with
the canonical labels) and raises ``DataCorrupt`` naming the file and the problem.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from reliable_ml.data.files import ensure_file
from reliable_ml.data.images import ImageSet, _list_imagefolder, _load_cifar10, load_images
from reliable_ml.data.root import DataCorrupt, DataUnavailable, data_root, display_path

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
CIFAR10_TEST_LABELS = "label-errors/original_test_labels/cifar10_test_set_original_labels.npy"
CIFAR10H_COUNTS = "cifar-10h/data/cifar10h-counts.npy"
N_TEST = 10_000


def load_npy(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """``np.load`` without pickles; ``DataCorrupt`` unless the array has ``shape``."""
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataCorrupt(path, str(exc)) from exc
    if arr.shape != shape:
        raise DataCorrupt(path, f"shape {arr.shape}, expected {shape}")
    return arr


def cifar10_test_labels(root: Path | str | None = None, download: bool = True) -> np.ndarray:
    """The 10,000 canonical CIFAR-10 test labels, int64 in 0..9, 1,000 per class."""
    path = ensure_file(CIFAR10_TEST_LABELS, root, download)
    y = load_npy(path, (N_TEST,))
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > 9:
        raise DataCorrupt(path, f"labels must be integers in 0..9; got dtype {y.dtype}, range {y.min()}..{y.max()}")
    if not (np.bincount(y, minlength=10) == N_TEST // 10).all():
        raise DataCorrupt(path, f"expected 1,000 test images per class; got {np.bincount(y).tolist()}")
    return y.astype(np.int64)


def jpeg_test_files(labels: np.ndarray, classes: tuple[str, ...] = CIFAR10_CLASSES) -> list[str]:
    """Relative path of canonical test image ``i`` in the JPEG copy: ``test/<class>/<rank>.jpg``.

    ``rank`` counts, from 0, the indices ``j < i`` with ``labels[j] == labels[i]``.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size and (labels.min() < 0 or labels.max() >= len(classes)):
        raise ValueError(f"labels must be a 1-d array of class ids in 0..{len(classes) - 1}")
    seen = np.zeros(len(classes), dtype=np.int64)
    files = []
    for y in labels:
        files.append(f"test/{classes[y]}/{seen[y]:04d}.jpg")
        seen[y] += 1
    return files


def jpeg_canonical_permutation(
    labels: np.ndarray, jpeg_files: list[str], classes: tuple[str, ...] = CIFAR10_CLASSES
) -> np.ndarray:
    """``perm`` with ``jpeg_files[perm[i]]`` the file of canonical test image ``i``.

    ``jpeg_files`` are the copy's files in loading order (``<class>/<name>.jpg`` suffixes are
    compared). Raises ``DataCorrupt`` unless the map is a bijection.
    """
    wanted = jpeg_test_files(labels, classes)
    position = {"/".join(Path(f).parts[-2:]): k for k, f in enumerate(jpeg_files)}
    if len(position) != len(jpeg_files):
        raise DataCorrupt("cifar10-jpeg/test", "duplicate file names in the JPEG copy")
    missing = [w for w in wanted if w.split("/", 1)[1] not in position]
    if missing or len(wanted) != len(jpeg_files):
        raise DataCorrupt(
            "cifar10-jpeg/test",
            f"{len(jpeg_files)} files do not map one-to-one onto "
            f"{len(wanted)} canonical indices; first missing: {missing[:3]}",
        )
    return np.array([position[w.split("/", 1)[1]] for w in wanted], dtype=np.int64)


def cifar10_canonical_test(root: Path | str | None = None, download: bool = True) -> ImageSet:
    """The CIFAR-10 test set in canonical order (``x`` uint8 ``(10000, 3, 32, 32)``).

    Uses the canonical ``cifar-10-batches-py`` when it is under the data root, else the
    JPEG q75 copy re-ordered through :func:`jpeg_canonical_permutation` (``info.source``
    says which), else a download of the canonical set when ``download`` is true.
    """
    root_path = data_root(root)
    labels = cifar10_test_labels(root, download)
    jpeg = root_path / "cifar10-jpeg" / "test"
    if (root_path / "cifar-10-batches-py").is_dir() or not jpeg.is_dir():
        if not jpeg.is_dir() and not download:
            raise DataUnavailable(
                "cifar10",
                root_path,
                "torchvision.datasets.CIFAR10",
                f"neither cifar-10-batches-py nor {display_path(jpeg)} is there",
            )
        x, y, info = _load_cifar10(root_path, "test", download)
        if not torch.equal(y, torch.from_numpy(labels)):
            raise DataCorrupt(root_path / "cifar-10-batches-py", "test labels differ from the canonical label sequence")
        return ImageSet(x, y, info)
    x, y, info = load_images("cifar10-jpeg", "test", root=root_path, download=False)
    if info.classes != CIFAR10_CLASSES:
        raise DataCorrupt(jpeg, f"class folders {info.classes}, expected {CIFAR10_CLASSES}")
    _, items = _list_imagefolder(jpeg)
    perm = torch.from_numpy(jpeg_canonical_permutation(labels, [p for p, _ in items]))
    y_canon = y[perm]
    if not torch.equal(y_canon, torch.from_numpy(labels)):
        raise DataCorrupt(jpeg, "class folders of the re-ordered copy differ from the canonical labels")
    info = replace(
        info,
        source="CIFAR-10 (JPEG q75 copy, canonical test order)",
        notes=info.notes
        + ("re-ordered into the canonical test order through the per-class file ranks and the canonical labels",),
    )
    return ImageSet(x[perm], y_canon, info)


def cifar10h_counts(root: Path | str | None = None, download: bool = True, check_order: bool = True) -> np.ndarray:
    """CIFAR-10H: ``counts[i, c]``, how many annotators chose class ``c`` for test image ``i``.

    int64 ``(10000, 10)`` in canonical test order (Peterson et al. 2019: 47 to 63 annotators
    an image). With ``check_order``, the annotators' majority must agree with the canonical
    labels on at least 90% of images (it does on about 99%), which catches a shuffled file.
    """
    path = ensure_file(CIFAR10H_COUNTS, root, download)
    counts = load_npy(path, (N_TEST, 10))
    if not np.issubdtype(counts.dtype, np.number) or (counts < 0).any():
        raise DataCorrupt(path, "counts must be non-negative numbers")
    counts = counts.astype(np.int64)
    per_image = counts.sum(1)
    if per_image.min() < 1:
        raise DataCorrupt(path, f"{int((per_image < 1).sum())} images have no annotation")
    if check_order:
        agree = float((counts.argmax(1) == cifar10_test_labels(root, download)).mean())
        if agree < 0.9:
            raise DataCorrupt(
                path,
                f"annotator majority agrees with the canonical labels on only "
                f"{agree:.1%} of images: not in canonical test order?",
            )
    return counts
