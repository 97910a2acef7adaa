"""Settings of the entry point :mod:`reliable_ml.experiments.robust_cifar` (chapter 04 on CIFAR-10), a row a
profile.

Epoch selection (``train.keep_best``) and the per-epoch check use ``train.val_size`` images held out
of the *training* split by a permutation seeded with ``select_seed`` (never trained on, never test
images; Rice et al. 2020); the ``n_train`` training images come from the rest. The evaluation
suite (PGD with restarts, then AutoAttack's four components run separately on the same images,
robust accuracy the worst case per image) is :func:`reliable_ml.experiments.entry.evaluate_suite`;
:mod:`reliable_ml.settings.rst_cifar` runs it at the same strength.

Wong et al.'s catastrophic-overfitting arms on CIFAR-10 have their own table,
:mod:`reliable_ml.settings.catastrophic_overfitting_cifar`.
"""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import Row, between
from reliable_ml.settings.training import TrainConfig


@dataclass(frozen=True)
class Settings(Row):
    n_train: int = between(1, 50_000)  # training images for gradient steps: a seeded random sample of the split
    # minus the held-out selection images (n_train + train.val_size <= images in the split)
    width: int = between(1)  # PreActResNet-18 base width (64 = the standard network)
    train: TrainConfig  # the adversarial training recipe (checked by its own ranges)
    n_eval: int = between(1, 10_000)  # test images attacked (a fixed random subset)
    eval_steps: int = between(1)  # PGD steps of the evaluation attack ...
    eval_restarts: int = between(1)  # ... and its random restarts
    autoattack_n: int = between(0, 10_000)  # of those, images AutoAttack also attacks (0: none)
    eps: float = between(0, 1, default=8 / 255)  # L-infinity radius of the evaluation, pixel units
    autoattack_iterations: int = between(1, default=100)  # iterations of APGD-CE, APGD-T, FAB-T (100: standard)
    square_queries: int = between(1, default=5000)  # queries of the Square attack (5,000: standard)
    select_seed: int = between(0, default=0)  # seed of the held-out selection split of the training images


TABLE = {
    "smoke": Settings(
        n_train=256,
        width=4,
        n_eval=64,
        eval_steps=5,
        eval_restarts=1,
        autoattack_n=0,
        autoattack_iterations=10,
        square_queries=100,
        select_seed=0,
        train=TrainConfig(
            epochs=1,
            batch_size=64,
            method="fgsm_rs",
            eps=8 / 255,
            augment=True,
            lr_max=0.05,
            val_size=32,
            val_attack_steps=2,
        ),
    ),
    "cpu": Settings(
        n_train=2000,
        width=16,
        n_eval=500,
        eval_steps=20,
        eval_restarts=1,
        autoattack_n=0,
        autoattack_iterations=10,
        square_queries=100,
        select_seed=0,
        train=TrainConfig(
            epochs=5, batch_size=128, method="fgsm_rs", eps=8 / 255, augment=True, lr_max=0.1, val_size=256
        ),
    ),
    # ~30 epochs of PGD-5 training on 49,000 images, the epoch chosen on 1,000 held-out training images;
    # then the whole test split under PGD-50 x 10 and AutoAttack's four components at standard strength.
    # Budget (not yet measured here): training <= 10 minutes on one H100; the evaluation is longer
    # (Square's 5,000 queries and FAB-T's 9 targets on 10,000 images dominate).
    "gpu": Settings(
        n_train=49_000,
        width=64,
        n_eval=10_000,
        eval_steps=50,
        eval_restarts=10,
        autoattack_n=10_000,
        autoattack_iterations=100,
        square_queries=5000,
        select_seed=0,
        train=TrainConfig(
            epochs=30,
            batch_size=256,
            method="pgd",
            attack_steps=5,
            eps=8 / 255,
            step_size=2 / 255,
            augment=True,
            lr_max=0.2,
            lr_schedule="onecycle",
            weight_decay=5e-4,
            val_size=1000,
            keep_best=True,
        ),
    ),
}
