"""The image task of the robust-learning chapters (05, 06): images, model and training config.

Which images a profile uses is a field of the chapters' settings tables
(``reliable_ml.settings.robustness_needs_data`` and ``...robust_self_training``); this module
turns that name into data, a model and a training configuration:

=========  ====================================  ===========  ===============================
dataset    images                                 default eps  model
=========  ====================================  ===========  ===============================
digits     scikit-learn digits (8x8)              0.1          small CNN
mnist      MNIST (else digits, loudly)            0.1          small CNN
cifar10    CIFAR-10 (canonical, else JPEG copy)   8/255        PreActResNet-18 (width 64)
=========  ====================================  ===========  ===============================

On MNIST the chapters use eps = 0.1 rather than the usual 0.3: with a few hundred images and a
few CPU minutes, training at 0.3 gives no robust model at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from reliable_ml.data import DataUnavailable, ImageSet, load_images
from reliable_ml.models import nets as models
from reliable_ml.robust import train as rt

__all__ = ["ImageTask", "DATASETS", "load_task", "load_cifar", "eval_subset", "make_model", "train_config", "fit_sizes"]

DATASETS = ("digits", "mnist", "cifar10")


@dataclass(frozen=True)
class ImageTask:
    """Train and test images of one task and its default L-infinity radius (pixel units)."""

    name: str  # digits | mnist | cifar10
    train: ImageSet
    test: ImageSet
    eps: float

    @property
    def source(self) -> str:
        """Human-readable data source, e.g. ``"CIFAR-10 (JPEG q75 copy)"``."""
        return self.test.info.source


def load_cifar(split: str, profile: str) -> ImageSet:
    """Canonical CIFAR-10, else the JPEG q75 copy; in ``smoke`` fall back to digits when neither exists."""
    try:
        return load_images("cifar10", split, download=False)
    except DataUnavailable:
        return load_images("cifar10-jpeg", split, fallback=profile == "smoke")


def load_task(dataset: str, *, cifar_fallback: bool = False) -> ImageTask:
    """The images of ``dataset`` (see the module table). Missing MNIST falls back to digits, loudly;
    missing CIFAR-10 (canonical and JPEG copy) raises unless ``cifar_fallback`` (smoke runs)."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; allowed: {', '.join(DATASETS)}")
    if dataset == "cifar10":
        profile = "smoke" if cifar_fallback else "gpu"
        train, test = load_cifar("train", profile), load_cifar("test", profile)
    else:
        train, test = (load_images(dataset, split, fallback=True) for split in ("train", "test"))
    return ImageTask(dataset, train, test, eps=8 / 255 if dataset == "cifar10" else 0.1)


def fit_sizes(requested: dict[str, int], available: int, *, minimum: int = 10) -> tuple[dict[str, int], str | None]:
    """Shrink requested disjoint subset sizes (e.g. labeled and unlabeled images) to ``available``.

    Returns ``(sizes, message)``: the sizes unchanged and ``None`` when they fit, else every size
    scaled by ``available / sum(requested)`` (each at least ``minimum``, the last one taking the
    remainder) and a message saying what changed, for a visible note (e.g. the digits fallback
    of a run that asked for MNIST-sized subsets).
    """
    if available < minimum * len(requested):
        raise ValueError(
            f"only {available} images available; need at least {minimum * len(requested)} for {list(requested)}"
        )
    total = sum(requested.values())
    if total <= available:
        return dict(requested), None
    names = list(requested)
    sizes = {k: max(minimum, int(requested[k] * available / total)) for k in names[:-1]}
    sizes[names[-1]] = available - sum(sizes.values())
    change = ", ".join(f"{k} {requested[k]:,} -> {sizes[k]:,}" for k in names)
    return sizes, (
        f"Requested {total:,} images but only {available:,} are available: sizes scaled down "
        f"({change}). The numbers below come from this smaller setting."
    )


def eval_subset(
    images: ImageSet, n: int, device: torch.device | str, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed random subset of ``n`` images: ``x`` float (n, C, H, W) in [0, 1] and ``y`` (n,) on ``device``.

    Random, not the first ``n``: an ImageFolder copy (the CIFAR-10 JPEG set) is sorted by class.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be an integer >= 1; got {n!r}")
    idx = torch.randperm(len(images.y), generator=torch.Generator().manual_seed(seed))[: int(n)]
    return images.x[idx].to(device).float() / 255, images.y[idx].to(device)


def make_model(task: ImageTask, device: torch.device | str, *, seed: int = 0, width: int = 64) -> nn.Module:
    """A freshly initialised model (seeded) for the task: PreActResNet-18 on CIFAR-10, else a small CNN."""
    torch.manual_seed(seed)
    if task.name == "cifar10":
        return models.preact_resnet18(in_channels=task.train.x.shape[1], width=width).to(device)
    return models.small_cnn(in_channels=task.train.x.shape[1], image_size=task.train.x.shape[-1]).to(device)


def train_config(
    task: ImageTask, method: str, *, eps: float, attack_steps: int, batch_size: int, seed: int = 0
) -> rt.TrainConfig:
    """One "epoch" of ``method`` (``standard`` | ``pgd`` | ``fgsm_rs``); the caller sets the step count.

    CIFAR-10: SGD, one-cycle to 0.2, crop + flip. Digits and MNIST: Adam at 3e-3, no weight decay.
    PGD step size 2.5 eps / steps (Madry et al.).
    """
    common = dict(
        epochs=1,
        batch_size=batch_size,
        method=method,
        eps=eps,
        attack_steps=attack_steps,
        step_size=2.5 * eps / attack_steps if method == "pgd" else None,
        seed=seed,
        val_size=0,
    )
    if task.name == "cifar10":
        return rt.TrainConfig(**common, augment=True, lr_max=0.2)
    return rt.TrainConfig(**common, optimizer="adam", lr_max=3e-3, weight_decay=0.0)
