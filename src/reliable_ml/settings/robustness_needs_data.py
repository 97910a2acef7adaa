"""Settings of chapter 05 (robust generalization needs more data), one row per profile."""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import Row, between, choice


@dataclass(frozen=True)
class Settings(Row):
    gauss_eps: float = between(0)  # L-infinity radius in the Gaussian model (theta* is all
    # ones)
    gauss_c: float = between(0)  # noise level: sigma = c * d^(1/4)
    target_error: float = between(0, 0.5)  # error level of the sample-complexity plot
    mc_draws: int = between(4)  # training sets per Monte Carlo point (a quarter of them at d
    # = 10^5)
    curve_dims: list = between(1)  # dimensions d of the error-vs-n curves
    check_dim: int = between(1)  # dimension of the closed-form-vs-brute-force check
    check_test_points: int = between(1)  # attacked test points per row of that check
    n_grid_points: int = between(2)  # training-set sizes n per curve (log-spaced, 1 to ~3,000)
    dataset: str = choice("digits", "mnist", "cifar10")  # images of part 2: digits | mnist | cifar10
    eps: float = between(0, 1)  # L-infinity radius of the image experiment (pixel units)
    train_sizes: list = between(1, images="train")  # numbers of labeled training images
    min_steps: int = between(1)  # every model takes at least this many SGD steps ...
    min_epochs: int = between(1)  # ... and at least this many passes over its training set
    attack_steps: int = between(1)  # PGD steps of the training attack
    eval_steps: int = between(1)  # PGD steps of the evaluation attack
    n_eval: int = between(1, images="test")  # test (and training) images attacked per model
    batch_size: int = between(1)  # SGD batch size
    width: int = between(1)  # PreActResNet-18 width (CIFAR-10 only; MNIST/digits use the
    # small CNN)
    seeds: int = between(1)  # independent seeds per (size, training) point


TABLE = {
    "smoke": Settings(
        gauss_eps=0.5,
        gauss_c=1.0,
        target_error=0.01,
        mc_draws=40,
        curve_dims=[1_000, 10_000],
        check_dim=200,
        check_test_points=5_000,
        n_grid_points=8,
        dataset="digits",
        eps=0.1,
        train_sizes=[50, 200],
        min_steps=25,
        min_epochs=2,
        attack_steps=3,
        eval_steps=10,
        n_eval=100,
        batch_size=32,
        width=8,
        seeds=2,
    ),
    "cpu": Settings(
        gauss_eps=0.5,
        gauss_c=1.0,
        target_error=0.01,
        mc_draws=200,
        curve_dims=[1_000, 10_000, 100_000],
        check_dim=1_000,
        check_test_points=20_000,
        n_grid_points=15,
        dataset="mnist",
        eps=0.1,
        train_sizes=[100, 300, 1_000, 3_000],
        min_steps=150,
        min_epochs=15,
        attack_steps=3,
        eval_steps=20,
        n_eval=500,
        batch_size=128,
        width=16,
        seeds=3,
    ),
    "gpu": Settings(
        gauss_eps=0.5,
        gauss_c=1.0,
        target_error=0.01,
        mc_draws=200,
        curve_dims=[1_000, 10_000, 100_000],
        check_dim=1_000,
        check_test_points=50_000,
        n_grid_points=15,
        dataset="cifar10",
        eps=8 / 255,
        train_sizes=[1_000, 4_000, 16_000, 50_000],
        min_steps=6_000,
        min_epochs=30,
        attack_steps=3,
        eval_steps=20,
        n_eval=10_000,
        batch_size=256,
        width=64,
        seeds=3,
    ),
}
