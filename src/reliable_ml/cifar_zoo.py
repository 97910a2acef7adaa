"""The course's own small CIFAR-10 zoo, trained once and cached (shared by chapters 02 and 03).

Members are :mod:`reliable_ml.zoo` names (e.g. ``cnn-8-e3``), trained on a seeded random
subset of the CIFAR-10 *training* split (the JPEG q75 copy offline). The state dicts are saved
under ``data.cache_dir() / "cifar_zoo"`` keyed by the members, the training-set size, the
seed and the training source, so a second chapter (or a second run) loads instead of training.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np
import torch

from . import data, zoo

CACHE_VERSION = 1


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] (float) or uint8 -> uint8 ``(N, C, H, W)`` (what :mod:`zoo` takes)."""
    if x.dtype == torch.uint8:
        return x
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"float images must lie in [0, 1]; got [{float(x.min()):.3f}, {float(x.max()):.3f}]")
    return (x * 255).round().to(torch.uint8)


def cache_key(names, n_train: int, seed: int, source: str) -> str:
    text = json.dumps({"v": CACHE_VERSION, "names": list(names), "n": int(n_train), "seed": int(seed),
                       "source": source}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def trained_zoo(names, n_train: int, seed: int = 0, train=None, progress: bool = True) -> dict[str, zoo.Trained]:
    """``{name: Trained}`` for the CIFAR-10 zoo ``names`` trained on ``n_train`` training images
    (a seeded subset of ``train``, by default the CIFAR-10 training split; the JPEG copy when the
    canonical one is absent), loaded from the cache when it was trained before."""
    if train is None:
        try:
            train = data.load_images("cifar10", "train", download=False)
        except data.DataUnavailable:
            train = data.load_images("cifar10-jpeg", "train")
    n_train = min(int(n_train), len(train.y))
    path = data.cache_dir() / "cifar_zoo" / f"{cache_key(names, n_train, seed, train.info.source)}.pt"
    x = to_uint8(train.x)
    specs = [zoo.parse_member(n) for n in names]
    if path.exists():
        saved = torch.load(path, map_location="cpu", weights_only=True)
        out = {}
        for spec in specs:
            model = zoo.build_model(spec, tuple(x.shape[1:]), 10, torch.zeros(x.shape[1]), torch.ones(x.shape[1]))
            model.load_state_dict(saved[spec.name])
            out[spec.name] = zoo.Trained(model.eval(), spec, 0.0)
        return out
    rows = np.sort(np.random.default_rng(seed).choice(len(train.y), n_train, replace=False))
    xs, ys = x[rows], torch.as_tensor(train.y)[rows]
    trained = {}
    for i, spec in enumerate(specs):
        trained[spec.name] = zoo.train_member(spec, xs, ys, n_classes=10, seed=seed + i, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({name: t.model.state_dict() for name, t in trained.items()}, tmp)
    tmp.replace(path)  # atomic: a killed run never leaves a half-written cache
    return trained


def correctness(trained: dict[str, zoo.Trained], x: torch.Tensor, y) -> np.ndarray:
    """Per-image correctness, bool ``(models, N)``, in the order of ``trained``."""
    preds = zoo.predict_zoo(trained, to_uint8(x))
    y = np.asarray(y)
    return np.stack([p.numpy() == y for p in preds.values()])
