"""Settings of the entry point :mod:`reliable_ml.experiments.rst_cifar` (chapter 06 on CIFAR-10), a row a profile.

Every arm is evaluated with chapter 04's suite (:func:`reliable_ml.experiments.entry.evaluate_suite`:
PGD with restarts, AutoAttack's components on the same images, worst case per image); the ``gpu``
row runs it at the strength of :mod:`reliable_ml.settings.robust_cifar`'s ``gpu`` row (a test checks
they agree). ``select_size`` training images, drawn with ``select_seed`` before the labeled/unlabeled
split, are held out of every arm; the labeled-only arm checks its PGD-``select_steps`` accuracy on
them every ``select_every`` steps, stops after ``patience`` checks without improvement and keeps
its best check's weights (Rice et al. 2020). These held-out images carry labels the RST arm does not
train on: they only choose the labeled-only arm's stopping point.
"""

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
    autoattack_n: int = between(0, 10_000)  # of the n_eval images, those AutoAttack's components also attack
    autoattack_iterations: int = between(1)  # iterations of APGD-CE, APGD-T, FAB-T (100: standard)
    square_queries: int = between(1)  # queries of the Square attack (5,000: standard)
    select_size: int = between(1, 50_000)  # training images held out for the labeled-only arm's early stopping
    select_seed: int = between(0)  # seed of that held-out split
    select_every: int = between(1)  # SGD steps between two held-out checks
    patience: int = between(1)  # checks without improvement before the labeled-only arm stops
    select_steps: int = between(1)  # PGD steps of the held-out check
    eps: float = between(0, 1, default=8 / 255)  # L-infinity radius, pixel units


TABLE = {
    "smoke": Settings(
        n_labeled=100,
        n_unlabeled=300,
        width=4,
        n_eval=64,
        eval_steps=5,
        eval_restarts=1,
        autoattack_n=0,
        autoattack_iterations=10,
        square_queries=100,
        select_size=50,
        select_seed=0,
        select_every=2,
        patience=2,
        select_steps=2,
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
    # then three arms of 4,000 steps of 256 each (about 21 passes' worth of the 49,000 training
    # images not held out) with FGSM-RS;
    # the labeled-only arm (up to 256 passes over its 4,000 images) checks 1,000 held-out training images
    # every 160 steps (10 passes) and stops after 5 checks without improvement. Each arm is then evaluated
    # on all 10,000 test images with robust_cifar's gpu suite (the evaluation dominates the budget).
    "gpu": Settings(
        n_labeled=4_000,
        n_unlabeled=None,
        width=64,
        n_eval=10_000,
        eval_steps=50,
        eval_restarts=10,
        autoattack_n=10_000,
        autoattack_iterations=100,
        square_queries=5000,
        select_size=1_000,
        select_seed=0,
        select_every=160,
        patience=5,
        select_steps=10,
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
