"""A zoo of small, diverse image classifiers trained fast on whole tensors.

A *member* is named ``<arch>-<width>-e<epochs>[-aug]`` (``logreg-e<epochs>[-aug]`` for the
linear model): ``logreg`` (softmax regression), ``mlp-W`` (one hidden layer of W ReLU units),
``cnn-W`` (two 3x3 conv blocks with W and 2W channels, each followed by 2x2 max-pooling, then
a linear layer) and ``vgg-W`` (three blocks of two 3x3 convs with batch norm, widths W, 2W, 4W;
meant for CIFAR-10 on a GPU). ``-aug`` trains with random translations of up to 2 pixels
(and random horizontal flips for 3-channel images; digits are not flip-invariant).

Every model takes images in [0, 1] (``uint8 / 255``) and normalises them itself: its first
layer subtracts the training set's per-channel mean and divides by its standard deviation.
Training is Adam with a linearly decaying learning rate on minibatches sliced from tensors
that live on the model's device (no DataLoader, no PIL), with tqdm progress.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from reliable_ml.models.nets import Normalize
from reliable_ml.settings.zoos import ZOOS
from reliable_ml.util.progress import tqdm

ARCHS = ("logreg", "mlp", "cnn", "vgg")
_NAME = re.compile(r"^(?P<arch>logreg|mlp|cnn|vgg)(?:-(?P<width>\d+))?-e(?P<epochs>\d+)(?P<aug>-aug)?$")

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np


@dataclass(frozen=True)
class MemberSpec:
    """One zoo member: architecture, width (hidden units or base channels), epochs, augmentation."""

    name: str
    arch: str
    width: int
    epochs: int
    augment: bool


def parse_member(name: str) -> MemberSpec:
    """The :class:`MemberSpec` a member name stands for (no registry lookup)."""
    match = _NAME.match(name) if isinstance(name, str) else None
    if match is None:
        raise ValueError(
            f"malformed zoo member name {name!r}; expected e.g. 'logreg-e2', 'mlp-64-e3', "
            f"'cnn-16-e2-aug' (architectures: {', '.join(ARCHS)})"
        )
    arch, width = match["arch"], int(match["width"] or 0)
    if (arch == "logreg") != (width == 0) or int(match["epochs"]) < 1:
        raise ValueError(
            f"malformed zoo member name {name!r}: logreg takes no width, the others need one, and epochs must be >= 1"
        )
    return MemberSpec(name, arch, width, int(match["epochs"]), bool(match["aug"]))


# The named zoos (their member lists are plain values, kept in settings.zoos).
REGISTRY: dict[str, MemberSpec] = {n: parse_member(n) for names in ZOOS.values() for n in names}


def member(name: str) -> MemberSpec:
    """Registry lookup; an unknown name raises ``ValueError`` listing the valid names."""
    if name not in REGISTRY:
        raise ValueError(f"unknown zoo member {name!r}; valid names: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def zoo_names(zoo: str) -> tuple[str, ...]:
    """Member names of a named zoo (``smoke``, ``tiny``, ``mnist-small``, ``mnist-cpu``, ``mnist-gpu``,
    ``cifar10-gpu``)."""
    if zoo not in ZOOS:
        raise ValueError(f"unknown zoo {zoo!r}; allowed: {', '.join(ZOOS)}")
    return ZOOS[zoo]


# ----------------------------------------------------------------------------- models
def _vgg_block(c_in: int, c_out: int) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
        nn.MaxPool2d(2),
    ]


def build_model(
    spec: MemberSpec, shape: tuple[int, int, int], n_classes: int, mean: torch.Tensor, std: torch.Tensor
) -> nn.Module:
    """An untrained model for inputs of ``shape = (C, H, W)`` in [0, 1]; logits ``(N, n_classes)``."""
    c, h, w = shape
    norm = Normalize(mean, std.clamp_min(1e-6))
    if spec.arch == "logreg":
        body = [nn.Flatten(), nn.Linear(c * h * w, n_classes)]
    elif spec.arch == "mlp":
        body = [nn.Flatten(), nn.Linear(c * h * w, spec.width), nn.ReLU(), nn.Linear(spec.width, n_classes)]
    elif spec.arch == "cnn":
        wd = spec.width
        body = [
            nn.Conv2d(c, wd, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(wd, 2 * wd, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2 * wd * (h // 4) * (w // 4), n_classes),
        ]
    elif spec.arch == "vgg":
        wd = spec.width
        body = [
            *_vgg_block(c, wd),
            *_vgg_block(wd, 2 * wd),
            *_vgg_block(2 * wd, 4 * wd),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(4 * wd, n_classes),
        ]
    else:  # parse_member guarantees a known arch
        raise ValueError(f"unknown architecture {spec.arch!r}; allowed: {', '.join(ARCHS)}")
    return nn.Sequential(norm, *body)


# ----------------------------------------------------------------------------- training
def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each image of ``x (N, C, H, W)`` by its own random (dy, dx) in [-max_shift, max_shift]^2.

    Pixels shifted in from outside are zero (black background).
    """
    n, c, h, w = x.shape
    m = max_shift
    padded = F.pad(x, (m, m, m, m))
    dy = torch.randint(0, 2 * m + 1, (n,), generator=generator, device=x.device)
    dx = torch.randint(0, 2 * m + 1, (n,), generator=generator, device=x.device)
    rows = (torch.arange(h, device=x.device)[None, :] + dy[:, None])[:, None, :, None]  # (N, 1, H, 1)
    cols = (torch.arange(w, device=x.device)[None, :] + dx[:, None])[:, None, None, :]  # (N, 1, 1, W)
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    chan = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, chan, rows, cols]


def augment_batch(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random +-2 px translation; plus a random horizontal flip when images have 3 channels."""
    x = random_shift(x, 2, generator)
    if x.shape[1] == 3:
        flip = torch.rand(x.shape[0], generator=generator, device=x.device) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    return x


class Trained(NamedTuple):
    """A trained member: the model (in eval mode), its spec and its training wall time."""

    model: nn.Module
    spec: MemberSpec
    seconds: float


def _check_images(x_uint8: torch.Tensor, y: torch.Tensor | None = None) -> None:
    if not isinstance(x_uint8, torch.Tensor) or x_uint8.dtype != torch.uint8 or x_uint8.ndim != 4:
        raise ValueError(
            f"images must be a uint8 tensor (N, C, H, W); got "
            f"{getattr(x_uint8, 'dtype', type(x_uint8))} of shape {tuple(getattr(x_uint8, 'shape', ()))}"
        )
    if len(x_uint8) == 0:
        raise ValueError("the image set is empty (N = 0)")
    if y is not None and (y.ndim != 1 or len(y) != len(x_uint8)):
        raise ValueError(f"labels must have shape ({len(x_uint8)},); got {tuple(y.shape)}")


def train_member(
    spec: MemberSpec,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    *,
    n_classes: int,
    batch: int = 256,
    lr: float = 3e-3,
    seed: int = 0,
    progress: bool = True,
) -> Trained:
    """Train one member on ``x_train`` uint8 (N, C, H, W), ``y_train`` int64 (N,), on their device.

    Minimises cross-entropy with Adam; the learning rate decays linearly from ``lr`` to 0 over
    ``spec.epochs * ceil(N / batch)`` steps.
    """
    _check_images(x_train, y_train)
    dev = x_train.device
    torch.manual_seed(seed)
    x01 = x_train.float() / 255  # (N, C, H, W) in [0, 1]
    mean, std = x01.mean(dim=(0, 2, 3)), x01.std(dim=(0, 2, 3))
    model = build_model(spec, tuple(x_train.shape[1:]), n_classes, mean, std).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = len(x_train)
    steps_per_epoch = -(-n // batch)
    total = spec.epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1 - step / total)
    gen = torch.Generator(device=dev).manual_seed(seed)
    start = time.perf_counter()
    model.train()
    with tqdm(total=total, desc=spec.name, leave=False, disable=not progress) as bar:
        for _ in range(spec.epochs):
            order = torch.randperm(n, generator=gen, device=dev)
            for i in range(steps_per_epoch):
                idx = order[i * batch : (i + 1) * batch]
                xb = x01[idx]
                if spec.augment:
                    xb = augment_batch(xb, gen)
                loss = F.cross_entropy(model(xb), y_train[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                bar.update(1)
    model.eval()
    return Trained(model, spec, time.perf_counter() - start)


def train_zoo(
    names: list[str] | tuple[str, ...] | None,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    *,
    n_classes: int | None = None,
    batch: int = 256,
    lr: float = 3e-3,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, Trained]:
    """Train the members ``names`` (``None``: the ``smoke`` zoo) on the same training set.

    Member ``i`` is trained with seed ``seed + i``. Unknown names raise ``ValueError`` before
    any training starts. Returns ``{name: Trained}`` in the order given.
    """
    names = list(ZOOS["smoke"] if names is None else names)
    if not names:
        raise ValueError("no zoo members given")
    specs = [member(n) for n in names]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate zoo member names in {names}")
    _check_images(x_train, y_train)
    n_classes = int(y_train.max()) + 1 if n_classes is None else n_classes
    zoo = {}
    for i, spec in enumerate(tqdm(specs, desc="zoo", disable=not progress)):
        zoo[spec.name] = train_member(
            spec, x_train, y_train, n_classes=n_classes, batch=batch, lr=lr, seed=seed + i, progress=False
        )
    return zoo


PREDICT_VERSION = 1  # bump when predict() changes what it returns: cached predictions are then recomputed
PREDICT_CACHE_MIN_IMAGES = 1000  # predict_zoo keeps the predictions of evaluations at least this large


@torch.no_grad()
def predict(model: nn.Module, x_uint8: torch.Tensor, batch: int = 2048) -> torch.Tensor:
    """Predicted classes, int64 ``(N,)`` on the CPU, for uint8 images ``(N, C, H, W)``.

    Images are moved to the model's device batch by batch and scaled to [0, 1].
    """
    _check_images(x_uint8)
    dev = next(model.parameters()).device
    model.eval()
    out = [model(x_uint8[i : i + batch].to(dev).float() / 255).argmax(1).cpu() for i in range(0, len(x_uint8), batch)]
    return torch.cat(out).to(torch.int64)


def predict_zoo(
    zoo: dict[str, Trained], x_uint8: torch.Tensor, batch: int = 2048, cache: bool = True
) -> dict[str, torch.Tensor]:
    """``{name: predictions (N,)}`` for every member of ``zoo``.

    With ``cache`` (the default) and at least :data:`PREDICT_CACHE_MIN_IMAGES` images, each
    member's predictions are kept in the model cache (``<cache_dir>/models/zoo/predictions/``)
    keyed by the member's weights, the images, the batch size and the device type
    (:func:`reliable_ml.util.evalcache.cached_model_eval`), so a warm re-run of a chapter reads
    them back instead of evaluating every member again."""
    if not cache or len(x_uint8) < PREDICT_CACHE_MIN_IMAGES:  # a small evaluation is cheaper than an entry
        return {name: predict(t.model, x_uint8, batch) for name, t in zoo.items()}
    from reliable_ml.util import evalcache
    from reliable_ml.util.cachedir import cache_dir

    folder = cache_dir() / "models" / "zoo" / "predictions"
    out = {}
    for name, t in zoo.items():
        device = next(t.model.parameters()).device.type
        out[name] = evalcache.cached_model_eval(
            folder,
            "predict",
            t.model,
            {"v": PREDICT_VERSION, "batch": int(batch), "device": device},
            (x_uint8,),
            lambda t=t: {"pred": predict(t.model, x_uint8, batch)},
            expected={"pred": ((len(x_uint8),), torch.int64)},
        )["pred"]
    return out


def predict_matrix(zoo: dict[str, Trained], x_uint8: torch.Tensor) -> np.ndarray:
    """Int64 ``(M, N)`` predicted classes of every member (rows in the order of ``zoo``)."""
    return torch.stack(list(predict_zoo(zoo, x_uint8).values())).numpy()


def correct_matrix(zoo: dict[str, Trained], x_uint8: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """Bool ``(M, N)``: is member m right on image n (members in the order of ``zoo``)."""
    return predict_matrix(zoo, x_uint8) == y.cpu().numpy()[None, :]


def summary_table(zoo: dict[str, Trained], correct: np.ndarray, alpha: float = 0.05):
    """One row per member: architecture, epochs, augmentation, training seconds, accuracy (%) and
    its Clopper-Pearson interval on the test set whose correctness ``correct (M, N)`` gives."""
    import pandas as pd

    from reliable_ml.stats import clopper_pearson

    lo, hi = clopper_pearson(correct.sum(1), correct.shape[1], alpha)
    level = f"{100 * (1 - alpha):.0f}%"
    return (
        pd.DataFrame(
            {
                "architecture": [t.spec.arch for t in zoo.values()],
                "epochs": [t.spec.epochs for t in zoo.values()],
                "augmented": [t.spec.augment for t in zoo.values()],
                "train s": [round(t.seconds, 1) for t in zoo.values()],
                "accuracy %": 100 * correct.mean(1),
                f"{level} CI low": 100 * lo,
                f"{level} CI high": 100 * hi,
            },
            index=pd.Index(list(zoo), name="member"),
        )
        .sort_values("accuracy %")
        .round(2)
    )


def _zoo_key(
    names, x_train: torch.Tensor, y_train: torch.Tensor, n_classes: int, batch: int, lr: float, seed: int
) -> str:
    import hashlib

    h = hashlib.sha256()
    h.update(repr((list(names), n_classes, batch, lr, seed, torch.__version__, tuple(x_train.shape))).encode())
    h.update(x_train.cpu().numpy().tobytes())
    h.update(y_train.cpu().numpy().tobytes())
    return h.hexdigest()[:20]


def train_zoo_cached(
    names,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    *,
    n_classes: int,
    batch: int = 256,
    lr: float = 3e-3,
    seed: int = 0,
    cache: Path | str | None = None,
    progress: bool = True,
) -> dict[str, Trained]:
    """:func:`train_zoo`, with the trained weights kept in ``cache`` (default: the per-user cache).

    The cache key hashes the member names, the training tensors, the hyperparameters, the
    seed and the torch version, so a cached zoo is the one this call would train (up to
    floating-point nondeterminism across machines). A file that cannot be read is retrained
    and rewritten. ``Trained.seconds`` is the original training time.
    """
    from pathlib import Path

    from reliable_ml.data import cache_dir
    from reliable_ml.util import cachelock, cachestats

    folder = Path(cache) if cache is not None else cache_dir() / "zoo"
    path = folder / f"{_zoo_key(names, x_train, y_train, n_classes, batch, lr, seed)}.pt"

    def cached() -> dict[str, Trained] | None:
        if not path.exists():
            return None
        try:
            saved = torch.load(path, map_location=x_train.device, weights_only=True)
            out = {}
            for name in names:
                spec = member(name)
                one = torch.ones(x_train.shape[1])
                model = build_model(spec, tuple(x_train.shape[1:]), n_classes, one, one).to(x_train.device)
                model.load_state_dict(saved[name]["state"])
                out[name] = Trained(model.eval(), spec, float(saved[name]["seconds"]))
        except Exception:  # noqa: BLE001 - any unreadable cache file (truncated, foreign, stale) is retrained
            return None
        cachestats.record("zoo", hit=True, models=len(out))
        return out

    if (out := cached()) is not None:
        return out
    with cachelock.building(path):  # a chapter running beside this one may be training the same zoo
        if (out := cached()) is not None:
            return out
        trained = train_zoo(
            names, x_train, y_train, n_classes=n_classes, batch=batch, lr=lr, seed=seed, progress=progress
        )
        cachestats.record("zoo", hit=False, models=len(trained))
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # one per process: chapters may run side by side
        torch.save({n: {"state": t.model.state_dict(), "seconds": t.seconds} for n, t in trained.items()}, tmp)
        tmp.replace(path)
    return trained


def cifar10_zoo(names, n_train: int, seed: int = 0, train=None, progress: bool = True) -> dict[str, Trained]:
    """The course's small CIFAR-10 zoo (chapters 02 and 03): ``names`` trained on a seeded
    random subset of ``n_train`` CIFAR-10 *training* images (``train``; by default the
    canonical split when it is under the data root, else the JPEG q75 copy), member ``i`` with
    seed ``seed + i``, weights kept by :func:`train_zoo_cached` so a second chapter loads them."""
    import numpy as np

    from reliable_ml import data

    if train is None:
        try:
            train = data.load_images("cifar10", "train", download=False)
        except data.DataUnavailable:
            train = data.load_images("cifar10-jpeg", "train")
    n_train = min(int(n_train), len(train.y))
    rows = torch.from_numpy(np.sort(np.random.default_rng(seed).choice(len(train.y), n_train, replace=False)))
    return train_zoo_cached(
        list(names), train.x[rows], torch.as_tensor(train.y)[rows], n_classes=10, seed=seed, progress=progress
    )
