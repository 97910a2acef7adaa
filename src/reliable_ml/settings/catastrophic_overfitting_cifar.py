"""Settings of Wong et al.'s catastrophic-overfitting arms on CIFAR-10 (FGSM, FGSM-RS at 1.25 and 2 eps),
run by :func:`reliable_ml.experiments.robust_cifar.catastrophic_overfitting`, one row per profile.

PreActResNet-18 at eps = 8/255, SGD with a one-cycle learning rate, random crops and flips.
"""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import Row, between


@dataclass(frozen=True)
class Settings(Row):
    n_train: int = between(1, 50_000)  # CIFAR-10 training images (the first n of the split)
    width: int = between(1)  # PreActResNet-18 base width (64 = the standard network)
    epochs: int = between(1)  # epochs of each run
    seeds: int = between(1)  # seeds per arm
    val_size: int = between(1, 10_000)  # fixed held-out test images of the per-epoch PGD-10 check
    batch_size: int = between(1)
    lr_max: float = between(0)  # peak learning rate of SGD (one-cycle)


TABLE = {
    "smoke": Settings(n_train=256, width=4, epochs=2, seeds=1, val_size=32, batch_size=64, lr_max=0.05),
    "cpu": None,  # no cpu row: chapter 04's cpu profile runs its own catastrophic-overfitting arms on MNIST
    # 3 arms x 3 seeds x 15 epochs of single-step training; not yet timed on a GPU
    "gpu": Settings(n_train=50_000, width=64, epochs=15, seeds=3, val_size=1000, batch_size=128, lr_max=0.2),
}
