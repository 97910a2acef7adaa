"""Settings of chapter 06 (robust self-training), one row per profile."""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import Row, between, choice


@dataclass(frozen=True)
class Settings(Row):
    gauss_d: int = between(1)  # dimension of the Gaussian model
    gauss_eps: float = between(0)  # L-infinity radius in the Gaussian model
    gauss_labeled: int = between(1)  # labeled samples in the Gaussian model
    gauss_repeats: int = between(1)  # independent runs per pool size
    dataset: str = choice("digits", "mnist", "cifar10")  # images of part 2: digits | mnist | cifar10
    n_labeled: int = between(10, images="train")  # labeled images (class-balanced)
    n_unlabeled: int = between(0, images="train")  # unlabeled pool (0: all images not labeled); shrunk, loudly,
    # to fit the data
    eps: float = between(0, 1)  # L-infinity radius (pixel units)
    robust_steps: int = between(1)  # SGD steps of each robust arm (equal compute)
    standard_steps: int = between(1)  # SGD steps of the pseudo-labeling model
    attack_steps: int = between(1)  # PGD steps of the training attack
    eval_steps: int = between(1)  # PGD steps of the evaluation attack
    n_eval: int = between(1, images="test")  # test images attacked
    batch_size: int = between(1)  # SGD batch size
    threshold: float = between(0, 1)  # minimum softmax confidence of a kept pseudo-label (0 keeps
    # all, as in the paper)
    unlabeled_fraction: float = between(0, 1)  # share of each batch drawn from the pseudo-labeled pool
    unlabeled_weight: float = between(0)  # weight of the pseudo-labeled examples in the loss
    seeds: int = between(1)  # independent seeds (split, initialisation, order) per arm


TABLE = {
    "smoke": Settings(
        gauss_d=10_000,
        gauss_eps=0.5,
        gauss_labeled=1,
        gauss_repeats=10,
        dataset="digits",
        n_labeled=100,
        n_unlabeled=600,
        eps=0.1,
        robust_steps=25,
        standard_steps=40,
        attack_steps=3,
        eval_steps=10,
        n_eval=200,
        batch_size=32,
        threshold=0.0,
        unlabeled_fraction=0.5,
        unlabeled_weight=1.0,
        seeds=2,
    ),
    "cpu": Settings(
        gauss_d=10_000,
        gauss_eps=0.5,
        gauss_labeled=1,
        gauss_repeats=40,
        dataset="mnist",
        n_labeled=1_000,
        n_unlabeled=20_000,
        eps=0.1,
        robust_steps=300,
        standard_steps=300,
        attack_steps=3,
        eval_steps=20,
        n_eval=1_000,
        batch_size=128,
        threshold=0.0,
        unlabeled_fraction=0.5,
        unlabeled_weight=1.0,
        seeds=3,
    ),
    # the GPU run is the entry point reliable_ml.experiments.rst_cifar (PreActResNet-18, FGSM-RS)
    "gpu": Settings(
        gauss_d=10_000,
        gauss_eps=0.5,
        gauss_labeled=1,
        gauss_repeats=40,
        dataset="cifar10",
        n_labeled=4_000,
        n_unlabeled=0,
        eps=8 / 255,
        robust_steps=4_000,
        standard_steps=2_500,
        attack_steps=3,
        eval_steps=50,  # the entry point's own (rst_cifar's gpu row, robust_cifar's suite)
        n_eval=10_000,
        batch_size=256,
        threshold=0.0,
        unlabeled_fraction=0.5,
        unlabeled_weight=1.0,
        seeds=3,
    ),
}
