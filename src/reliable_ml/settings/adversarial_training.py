"""Settings of chapter 04 (adversarial examples and robust training), one row per profile.

The chapter's robust model is the course's shared one, whose own settings table is
:mod:`reliable_ml.settings.robust_model` (the row of the same profile).
"""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import Row, between, choice


@dataclass(frozen=True)
class Settings(Row):
    dataset: str = choice("digits", "mnist")  # image set: "digits" (scikit-learn 8x8) or "mnist"; missing
    # MNIST falls back to digits
    eps: float = between(0, 1)  # L-infinity radius in pixel units (images in [0, 1]); the shared
    # robust model's own wins
    standard_epochs: int = between(1)  # epochs of the undefended (standard) model
    n_curve: int = between(1, images="test")  # test images per point of the accuracy-vs-eps curve
    co_eps: float = between(0, 1)  # L-infinity radius of the catastrophic-overfitting experiment (training
    # and check; no ramp)
    co_train_size: int = between(0, images="train")  # training images of each of its runs (0: the whole training
    # split)
    co_epochs: int = between(1)  # epochs of each of its runs
    co_seeds: int = between(1)  # seeds per arm
    co_large_alpha: float = between(0)  # the third arm: FGSM-RS with this step, in units of eps (Wong et
    # al.: 2)
    co_width: int = between(1)  # width of its small CNN (Wong et al.'s MNIST network on raw pixels): channels
    # (w, 2w), hidden 8w (16: their channels)
    co_check_size: int = between(1, images="test")  # fixed held-out test images (the last ones) of the PGD check
    co_check_every: int = between(1)  # optimizer steps between two PGD checks (and one after the last step)
    co_check_steps: int = between(1)  # PGD steps of each check (step 2.5 eps / steps, one random start)
    co_drop: float = between(0, 1)  # collapse rule (relative): PGD accuracy at least this far (fraction) below
    # its running peak, while FGSM training accuracy stays at or above its level at the peak ...
    co_persist: int = between(1)  # ... for this many consecutive checks
    cifar_train_size: int = between(0, 50_000)  # CIFAR-10 arm: seeded random training images (0: skip the arm)
    cifar_epochs: int = between(1)  # its epochs
    cifar_seeds: int = between(1)  # its seeds
    cifar_width: int = between(1)  # its PreActResNet-18 width: channels (w, 2w, 4w, 8w) (64 is the full net)
    cifar_check_size: int = between(1, 10_000)  # seeded random CIFAR-10 test images of its PGD check
    cifar_check_every: int = between(1)  # optimizer steps between two of its PGD checks
    suite_n: int = between(1, images="test")  # test images of the standard attack suite: a seeded random sample
    suite_seed: int = between(0)  # seed of that sample (numpy default_rng) and of the attacks
    suite_iterations: int = between(1)  # iterations of APGD-CE, APGD-T, FAB-T and APGD-DLR (AutoAttack: 100)
    suite_square_queries: int = between(1)  # queries of Square (AutoAttack standard: 5,000)
    suite_dlr_restarts: int = between(1)  # restarts of the untargeted APGD-DLR run beside the standard suite
    suite_pgd_steps: int = between(1)  # PGD of the suite: steps (step 2.5 eps / steps) ...
    suite_pgd_restarts: int = between(1)  # ... and random restarts
    suite_long_restarts: int = between(1)  # masking check 3: APGD-CE (suite_iterations each) with this many
    # restarts on the images every gradient attack of the suite left correct
    full_pgd_steps: int = between(1)  # PGD (one random start) on every test image: the second row
    tradeoff_p: float = between(0.5, 1)  # toy distribution of Tsipras et al.: P(robust feature agrees
    # with the label)
    tradeoff_d: int = between(1)  # number of weakly correlated (non-robust) features
    tradeoff_eta_sqrt_d: float = between(0)  # their mean eta, as eta * sqrt(d) (3: the averaging classifier
    # is 99.9% right)
    tradeoff_n_sim: int = between(1)  # draws of the simulation that checks the closed forms


TABLE = {
    "smoke": Settings(
        dataset="digits",
        eps=0.1,
        standard_epochs=3,
        n_curve=200,
        co_eps=0.1,
        co_train_size=0,
        co_epochs=2,
        co_seeds=2,
        co_large_alpha=2.0,
        co_width=4,
        co_check_size=100,
        co_check_every=5,
        co_check_steps=3,
        co_drop=0.2,
        co_persist=2,
        cifar_train_size=0,
        cifar_epochs=1,
        cifar_seeds=1,
        cifar_width=2,
        cifar_check_size=64,
        cifar_check_every=5,
        suite_n=100,
        suite_seed=0,
        suite_iterations=5,
        suite_square_queries=100,
        suite_dlr_restarts=1,
        suite_pgd_steps=10,
        suite_pgd_restarts=1,
        suite_long_restarts=1,
        full_pgd_steps=10,
        tradeoff_p=0.95,
        tradeoff_d=1000,
        tradeoff_eta_sqrt_d=3.0,
        tradeoff_n_sim=20_000,
    ),
    "cpu": Settings(
        dataset="mnist",
        eps=0.3,
        standard_epochs=2,
        n_curve=500,
        co_eps=0.3,
        co_train_size=0,
        co_epochs=10,
        co_seeds=3,
        co_large_alpha=2.0,
        co_width=16,
        co_check_size=256,
        co_check_every=50,
        co_check_steps=10,
        co_drop=0.2,
        co_persist=2,
        cifar_train_size=10_000,
        cifar_epochs=3,
        cifar_seeds=3,
        cifar_width=8,
        cifar_check_size=256,
        cifar_check_every=20,
        suite_n=1000,
        suite_seed=0,
        suite_iterations=100,
        suite_square_queries=5000,
        suite_dlr_restarts=5,
        suite_pgd_steps=100,
        suite_pgd_restarts=5,
        suite_long_restarts=10,
        full_pgd_steps=40,
        tradeoff_p=0.95,
        tradeoff_d=1000,
        tradeoff_eta_sqrt_d=3.0,
        tradeoff_n_sim=100_000,
    ),
    "gpu": Settings(
        dataset="mnist",
        eps=0.3,
        standard_epochs=5,
        n_curve=2000,
        co_eps=0.3,
        co_train_size=0,
        co_epochs=10,
        co_seeds=5,
        co_large_alpha=2.0,
        co_width=16,
        co_check_size=512,
        co_check_every=50,
        co_check_steps=20,
        co_drop=0.2,
        co_persist=2,
        cifar_train_size=10_000,
        cifar_epochs=15,
        cifar_seeds=5,
        cifar_width=16,
        cifar_check_size=1000,
        cifar_check_every=20,
        suite_n=10_000,
        suite_seed=0,
        suite_iterations=100,
        suite_square_queries=5000,
        suite_dlr_restarts=5,
        suite_pgd_steps=100,
        suite_pgd_restarts=10,
        suite_long_restarts=10,
        full_pgd_steps=40,
        tradeoff_p=0.95,
        tradeoff_d=1000,
        tradeoff_eta_sqrt_d=3.0,
        tradeoff_n_sim=1_000_000,
    ),
}
