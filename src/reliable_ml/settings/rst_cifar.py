"""Settings of the entry point :mod:`reliable_ml.experiments.rst_cifar` (chapter 06 on CIFAR-10), a row a profile."""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import Row, between
from reliable_ml.settings.training import TrainConfig


@dataclass(frozen=True)
class Settings(Row):
    n_labeled: int = between(1, 50_000)  # labeled training images
    n_unlabeled: int | None = between(0, 50_000, optional=True)  # None: every training image not labeled
    width: int = between(1)  # PreActResNet-18 base width (64 = the standard network)
    standard: TrainConfig  # the pseudo-labeling model's recipe
    robust: TrainConfig  # every robust arm's recipe
    standard_steps: int = between(1)  # SGD steps of the pseudo-labeling model
    robust_steps: int = between(1)  # SGD steps of each robust arm (equal compute)
    n_eval: int = between(1, 10_000)  # test images attacked
    eval_steps: int = between(1)  # PGD steps of the evaluation attack ...
    eval_restarts: int = between(1)  # ... and its random restarts
    eps: float = between(0, 1, default=8 / 255)  # L-infinity radius, pixel units


TABLE = {
    "smoke": Settings(
        n_labeled=100,
        n_unlabeled=300,
        width=4,
        n_eval=64,
        eval_steps=5,
        eval_restarts=1,
        standard_steps=10,
        robust_steps=6,
        standard=TrainConfig(epochs=1, batch_size=32, method="standard", lr_max=0.05, val_size=0),
        robust=TrainConfig(
            epochs=1,
            batch_size=32,
            method="pgd",
            attack_steps=2,
            eps=8 / 255,
            step_size=4 / 255,
            lr_max=0.05,
            val_size=0,
        ),
    ),
    # no cpu row: chapter 06's cpu profile runs robust self-training on MNIST (settings.robust_self_training)
    "cpu": None,
    # Budget (not yet measured on a GPU): labeler 2,500 steps of 256 (160 passes over 4,000 labels),
    # then three arms of 4,000 steps of 256 each (about 20 passes over the 50,000 images) with FGSM-RS.
    "gpu": Settings(
        n_labeled=4_000,
        n_unlabeled=None,
        width=64,
        n_eval=10_000,
        eval_steps=20,
        eval_restarts=1,
        standard_steps=2_500,
        robust_steps=4_000,
        standard=TrainConfig(
            epochs=1, batch_size=256, method="standard", augment=True, lr_max=0.2, weight_decay=5e-4, val_size=0
        ),
        robust=TrainConfig(
            epochs=1,
            batch_size=256,
            method="fgsm_rs",
            eps=8 / 255,
            step_size=10 / 255,
            augment=True,
            lr_max=0.2,
            weight_decay=5e-4,
            val_size=0,
        ),
    ),
}
