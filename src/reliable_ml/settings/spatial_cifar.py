"""Settings of the entry point :mod:`reliable_ml.experiments.spatial_cifar` (chapter 11 on CIFAR-10), a row a
profile."""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import Row, between, choice

ARCHS = ("preact_resnet18", "small_cnn")


@dataclass(frozen=True)
class Settings(Row):
    n_train: int = between(1, 50_000)  # training images (a seeded random subset of the training split)
    n_eval: int = between(1, 10_000)  # test images every model is scored on
    epochs: int = between(1)
    batch_size: int = between(1)
    lr_max: float = between(0)  # Adam, one-cycle
    spatial_method: str = choice("worst_of_k", "augment", default="worst_of_k")  # the defence
    k: int = between(1, default=10)  # draws per image of worst-of-k training
    seeds: int = between(1, default=3)
    n_angles: int = between(1, default=31)  # grid attack (Engstrom et al.: 31 angles x 5 x 5 shifts)
    n_shifts: int = between(1, default=5)
    max_angle: float = between(0, 180, default=30.0)  # degrees
    max_shift: float = between(0, default=3.0)  # pixels of a 32-pixel image
    arch: str = choice(*ARCHS, default="preact_resnet18")
    width: int = between(1, default=64)  # PreActResNet-18 base width (64 = the standard network)


TABLE = {
    "smoke": Settings(
        n_train=400,
        n_eval=200,
        epochs=2,
        batch_size=64,
        lr_max=3e-3,
        spatial_method="augment",
        seeds=2,
        n_angles=3,
        n_shifts=3,
        arch="small_cnn",
    ),
    # notebook 11's cpu profile: small CNNs on a 5,000-image subset, about a minute per arm when cold
    "cpu": Settings(
        n_train=5000,
        n_eval=1000,
        epochs=8,
        batch_size=100,
        lr_max=3e-3,
        spatial_method="augment",
        seeds=3,
        n_angles=5,
        n_shifts=3,
        arch="small_cnn",
    ),
    # 2 arms x 3 seeds of PreActResNet-18, 30 epochs on 50,000 images (worst-of-10: 11 forward passes
    # per step), then a 775-point grid on 10,000 test images: estimated 1-2 hours on one H100 (not measured)
    "gpu": Settings(n_train=50_000, n_eval=10_000, epochs=30, batch_size=256, lr_max=1e-3, seeds=3),
}
