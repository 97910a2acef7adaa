"""Image datasets as whole uint8 tensors ``x: (N, C, H, W)`` and int64 labels ``y: (N,)``.

Every loader returns an :class:`ImageSet` ``(x, y, info)``: the tensors can be moved to the
GPU once and sliced there (no per-item PIL decoding in training loops). Decoded sets are
cached as tensors under :func:`~reliable_ml.data.root.cache_dir`; the cache key is a
fingerprint of the source files (names, sizes, modification times), so a changed source is
decoded again, and cache files are written atomically.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from reliable_ml.data.root import DataCorrupt, DataUnavailable, cache_dir, data_root, display_path
from reliable_ml.util.progress import tqdm

IMAGE_NAMES: tuple[str, ...] = ("digits", "mnist", "cifar10", "cifar10-jpeg", "imagefolder:<path>")
SPLITS: tuple[str, ...] = ("train", "test")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp"}
CACHE_VERSION = 1

UPSTREAM = {
    "digits": "scikit-learn (bundled with the package, no download)",
    "mnist": "torchvision.datasets.MNIST (yann.lecun.com mirrors)",
    "cifar10": "torchvision.datasets.CIFAR10 (www.cs.toronto.edu/~kriz/cifar.html)",
    "cifar10-jpeg": "no upstream: a local JPEG q75 re-encoding of CIFAR-10; with internet use 'cifar10'",
}

SOURCE_LABEL = {
    "digits": "scikit-learn digits (8x8, bundled)",
    "mnist": "MNIST",
    "cifar10": "CIFAR-10",
    "cifar10-jpeg": "CIFAR-10 (JPEG q75 copy)",
}

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True)
class ImageSetInfo:
    """Provenance of an :class:`ImageSet`: label every figure and number with ``source``."""

    name: str
    split: str
    source: str
    n: int
    classes: tuple[str, ...]
    shape: tuple[int, int, int]
    lossy: bool
    location: str
    fallback_from: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        return asdict(self)


class ImageSet(NamedTuple):
    """``x``: uint8 ``(N, C, H, W)``; ``y``: int64 ``(N,)``; ``info``: provenance."""

    x: torch.Tensor
    y: torch.Tensor
    info: ImageSetInfo


def load_images(
    name: str, split: str = "train", *, root: Path | str | None = None, download: bool = True, fallback: bool = False
) -> ImageSet:
    """Load an image dataset split as whole tensors.

    Args:
        name: one of ``digits``, ``mnist``, ``cifar10``, ``cifar10-jpeg`` or
            ``imagefolder:<path>`` (any ImageFolder tree; ``<path>/<split>`` is used when it
            exists, else ``<path>`` itself).
        split: ``train`` or ``test``.
        root: data root; default :func:`~reliable_ml.data.root.data_root`.
        download: try the upstream download when the files are absent.
        fallback: when the dataset is unavailable, warn loudly and return scikit-learn's
            bundled ``digits`` instead (``info.fallback_from`` records what was asked for).

    Raises:
        ValueError: unknown name or split (the message lists the valid ones).
        DataUnavailable: absent and not downloadable, with ``fallback=False``.
        DataCorrupt: a truncated or malformed file (the message names it).
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; allowed: {', '.join(SPLITS)}")
    root_path = data_root(root)
    try:
        if name == "digits":
            return _load_digits(split)
        if name == "mnist":
            return _load_mnist(root_path, split, download)
        if name == "cifar10":
            return _load_cifar10(root_path, split, download)
        if name == "cifar10-jpeg":
            folder = root_path / "cifar10-jpeg" / split
            if not folder.is_dir():
                raise DataUnavailable(name, root_path, UPSTREAM[name], f"missing folder {display_path(folder)}")
            return _load_imagefolder(folder, name, split, SOURCE_LABEL[name], lossy=True)
        if name.startswith("imagefolder:"):
            path = Path(name.split(":", 1)[1]).expanduser()
            folder = path / split if (path / split).is_dir() else path
            if not folder.is_dir():
                raise DataUnavailable(
                    name, path, "a local ImageFolder tree (no download)", f"no folder {display_path(folder)}"
                )
            return _load_imagefolder(folder, name, split, f"ImageFolder {path.name}", lossy=_mostly_jpeg(folder))
    except DataUnavailable as err:
        if not fallback:
            raise
        return _fallback(name, split, err)
    raise ValueError(f"unknown dataset {name!r}; allowed: {', '.join(IMAGE_NAMES)}")


def _fallback(name: str, split: str, err: DataUnavailable) -> ImageSet:
    message = (
        f"FALLBACK: {name!r} is not available ({err}). Using scikit-learn's bundled "
        f"8x8 'digits' instead; numbers from this run are NOT {name} numbers."
    )
    warnings.warn(message, RuntimeWarning, stacklevel=3)
    x, y, info = _load_digits(split)
    info = replace(
        info, source=f"scikit-learn digits (fallback: {name} unavailable)", fallback_from=name, notes=(message,)
    )
    return ImageSet(x, y, info)


# --------------------------------------------------------------------------- digits
def _load_digits(split: str) -> ImageSet:
    """scikit-learn's 1,797 bundled 8x8 digits, pixel values 0..16 rescaled to 0..255.

    The split is fixed: a stratified 75/25 split with seed 0 (1,347 train / 450 test).
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    idx_train, idx_test = train_test_split(
        np.arange(len(images)), test_size=0.25, stratify=bunch.target, random_state=0
    )
    idx = idx_train if split == "train" else idx_test
    x = torch.from_numpy(images[idx]).unsqueeze(1).contiguous()
    y = torch.from_numpy(bunch.target[idx].astype(np.int64))
    info = ImageSetInfo(
        "digits",
        split,
        SOURCE_LABEL["digits"],
        len(y),
        tuple(str(c) for c in range(10)),
        tuple(x.shape[1:]),
        lossy=False,
        location="sklearn.datasets.load_digits",
    )
    return ImageSet(x, y, info)


# --------------------------------------------------------------------------- MNIST
def _check_idx(path: Path, ndim: int) -> tuple[int, ...]:
    """Validate an uncompressed IDX file's header and length; return its dims."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        header = fh.read(4 + 4 * ndim)
    if len(header) < 4 + 4 * ndim:
        raise DataCorrupt(path, f"file of {size} bytes is shorter than an IDX header")
    zero, dtype_code, nd = struct.unpack(">HBB", header[:4])
    if zero != 0 or dtype_code != 0x08 or nd != ndim:
        raise DataCorrupt(path, f"not an IDX uint8 file with {ndim} dims (magic {header[:4].hex()})")
    dims = struct.unpack(f">{ndim}I", header[4:])
    expected = 4 + 4 * ndim + int(np.prod(dims))
    if size != expected:
        raise DataCorrupt(path, f"{size} bytes where the header {dims} implies {expected}")
    return dims


def _load_mnist(root: Path, split: str, download: bool) -> ImageSet:
    raw = root / "MNIST" / "raw"
    files = [raw / f for f in MNIST_FILES[split]]
    every_file = [raw / f for pair in MNIST_FILES.values() for f in pair]  # torchvision wants all four
    if not all(f.exists() for f in every_file):
        if not download:
            raise DataUnavailable("mnist", root, UPSTREAM["mnist"], f"missing files in {display_path(raw)}")
        from torchvision.datasets import MNIST  # imported only when needed: it costs seconds

        try:
            MNIST(str(root), train=split == "train", download=True)
        except Exception as exc:  # noqa: BLE001 - any network/IO failure means unavailable
            raise DataUnavailable("mnist", root, UPSTREAM["mnist"], repr(exc)) from exc
    img_dims = _check_idx(files[0], 3)
    lbl_dims = _check_idx(files[1], 1)
    if img_dims[0] != lbl_dims[0]:
        raise DataCorrupt(files[1], f"{lbl_dims[0]} labels for {img_dims[0]} images")

    def decode() -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]:
        from torchvision.datasets import MNIST

        ds = MNIST(str(root), train=split == "train", download=False)
        return ds.data.unsqueeze(1).contiguous(), ds.targets.long(), tuple(str(c) for c in range(10))

    x, y, classes = _cached("mnist", split, files, decode)
    info = ImageSetInfo(
        "mnist",
        split,
        SOURCE_LABEL["mnist"],
        len(y),
        classes,
        tuple(x.shape[1:]),
        lossy=False,
        location=display_path(raw),
    )
    return ImageSet(x, y, info)


# --------------------------------------------------------------------------- CIFAR-10
def _load_cifar10(root: Path, split: str, download: bool) -> ImageSet:
    folder = root / "cifar-10-batches-py"
    if not folder.is_dir():
        if not download:
            raise DataUnavailable("cifar10", root, UPSTREAM["cifar10"], f"missing folder {display_path(folder)}")
        from torchvision.datasets import CIFAR10  # imported only when needed: it costs seconds

        try:
            CIFAR10(str(root), train=split == "train", download=True)
        except Exception as exc:  # noqa: BLE001
            raise DataUnavailable("cifar10", root, UPSTREAM["cifar10"], repr(exc)) from exc
    files = sorted(p for p in folder.iterdir() if p.is_file())

    def decode() -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]:
        from torchvision.datasets import CIFAR10

        try:
            ds = CIFAR10(str(root), train=split == "train", download=False)
        except RuntimeError as exc:
            raise DataCorrupt(folder, str(exc)) from exc
        x = torch.from_numpy(np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2)))
        return x, torch.tensor(ds.targets, dtype=torch.int64), tuple(ds.classes)

    x, y, classes = _cached("cifar10", split, files, decode)
    info = ImageSetInfo(
        "cifar10",
        split,
        SOURCE_LABEL["cifar10"],
        len(y),
        classes,
        tuple(x.shape[1:]),
        lossy=False,
        location=display_path(folder),
    )
    return ImageSet(x, y, info)


# --------------------------------------------------------------------------- ImageFolder
def _list_imagefolder(folder: Path) -> tuple[tuple[str, ...], list[tuple[str, int]]]:
    """Class names (sorted sub-folders) and ``(file path, label)`` pairs in ImageFolder order."""
    classes = tuple(sorted(d.name for d in os.scandir(folder) if d.is_dir()))
    if not classes:
        raise DataCorrupt(folder, "an ImageFolder tree needs one sub-folder per class; found none")
    items: list[tuple[str, int]] = []
    for label, cls in enumerate(classes):
        base = os.path.join(folder, cls)
        names = sorted(
            e.name for e in os.scandir(base) if os.path.splitext(e.name)[1].lower() in IMAGE_SUFFIXES and e.is_file()
        )
        items.extend((os.path.join(base, n), label) for n in names)
    if not items:
        raise DataCorrupt(
            folder, f"no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in {len(classes)} class folders"
        )
    return classes, items


def _mostly_jpeg(folder: Path) -> bool:
    for path in folder.rglob("*"):
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return path.suffix.lower() in {".jpg", ".jpeg"}
    return False


def _decode_file(path: Path | str, mode: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            arr = np.asarray(img.convert(mode))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataCorrupt(path, f"cannot decode image: {exc}") from exc
    return arr[:, :, None] if arr.ndim == 2 else arr


def _load_imagefolder(folder: Path, name: str, split: str, source: str, lossy: bool) -> ImageSet:
    from PIL import Image

    classes, items = _list_imagefolder(folder)

    def decode() -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]:
        with Image.open(items[0][0]) as img0:
            mode = "L" if img0.mode in ("L", "1", "I;16") else "RGB"
        first = _decode_file(items[0][0], mode)
        h, w, c = first.shape
        x = np.empty((len(items), h, w, c), dtype=np.uint8)

        def work(i: int) -> None:
            arr = _decode_file(items[i][0], mode)
            if arr.shape != (h, w, c):
                raise DataCorrupt(
                    items[i][0], f"image of shape {arr.shape} in a set of {(h, w, c)} (first image {items[0][0]})"
                )
            x[i] = arr

        with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 2) * 2)) as pool:
            list(
                tqdm(
                    pool.map(work, range(len(items))),
                    total=len(items),
                    desc=f"decoding {name}/{split}",
                    unit="img",
                    leave=False,
                )
            )
        y = torch.tensor([label for _, label in items], dtype=torch.int64)
        return torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), y, classes

    x, y, classes = _cached(name, split, [p for p, _ in items], decode)
    info = ImageSetInfo(
        name, split, source, len(y), classes, tuple(x.shape[1:]), lossy=lossy, location=display_path(folder)
    )
    return ImageSet(x, y, info)


# --------------------------------------------------------------------------- tensor cache
def _fingerprint(files: list[Path] | list[str]) -> str:
    """Hash of the files' paths, sizes and modification times (any change gives a new key)."""
    digest = hashlib.sha256(f"v{CACHE_VERSION}".encode())
    for path in files:
        st = os.stat(path)
        digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _cached(name: str, split: str, files: list[Path], decode) -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]:
    """Return ``decode()``'s tensors, from the cache when the source files are unchanged."""
    folder = cache_dir() / "images"
    slug = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
    key = _fingerprint(files)
    path = folder / f"{slug}-{split}-{key}.pt"
    if path.exists():
        try:
            blob = torch.load(path, weights_only=True, mmap=True)
            return blob["x"], blob["y"], tuple(blob["classes"])
        except Exception:  # noqa: BLE001 - an unreadable cache entry is rebuilt
            path.unlink(missing_ok=True)
    x, y, classes = decode()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
        os.close(fd)
        try:
            torch.save({"x": x, "y": y, "classes": list(classes)}, tmp)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
        for stale in folder.glob(f"{slug}-{split}-*.pt"):
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError as exc:  # a read-only cache is not fatal: decode again next time
        warnings.warn(f"could not write the tensor cache {path}: {exc}", RuntimeWarning, stacklevel=2)
    return x, y, classes
