"""Settings of chapter 11 (spatial and physical robustness), one row per profile.

The CIFAR-10 part has its own table, :mod:`reliable_ml.settings.spatial_cifar`
(the chapter runs its row of the same profile when ``cifar_part`` is on).
"""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import Row, between, choice, flag


@dataclass(frozen=True)
class Settings(Row):
    dataset: str = choice("digits", "mnist")  # digits (smoke) | mnist (digits when MNIST is absent)
    conv1: int = between(1)  # the pooling network of every MNIST model: channels of its first 5x5 convolution
    # (Madry et al.'s MNIST network: 32)
    conv2: int = between(1)  # channels of its second 5x5 convolution (Madry et al.: 64)
    hidden: int = between(1)  # units of its hidden layer (Madry et al.: 1024)
    n_train: int = between(1, images="train")  # training images of the standard and the spatially trained models
    epochs: int = between(1)  # epochs of their training (Adam, one-cycle)
    k_train: int = between(1)  # worst-of-k training: random transformations tried per image
    # (Engstrom et al.: 10)
    n_eval: int = between(1, images="test")  # test images every model is scored on (the same images for all)
    seeds: int = between(1)  # training seeds per trained arm (the L-inf robust model is shared:
    # one)
    check_images: int = between(1, images="test")  # the L-inf stand-in's check at its training eps: a seeded
    # random sample of test images attacked by APGD-CE and the gradient-free Square attack
    check_iterations: int = between(1)  # APGD-CE iterations of that check (AutoAttack standard: 100)
    check_queries: int = between(1)  # Square queries of that check (AutoAttack standard: 5,000)
    max_angle: float = between(0, 180)  # rotation budget, degrees (Engstrom et al.: 30)
    max_shift: float = between(0)  # translation budget, pixels of a 28-pixel image (Engstrom et al.:
    # 3); scaled on digits
    n_angles: int = between(1)  # angles in the grid attack (Engstrom et al.: 31)
    n_shifts: int = between(1)  # shifts per axis in the grid attack (Engstrom et al.: 5); random
    # attack: same budget
    curve_sizes: int = between(1)  # box sizes of the accuracy-vs-box curve: k / curve_sizes of the box,
    # k = 1..curve_sizes
    curve_models: int = between(1)  # models per trained arm drawn on the curve (the first seeds)
    eot_eps: float = between(0, 1)  # L-infinity radius of the targeted perturbations of the EOT section
    eot_steps: int = between(1)  # PGD steps of both targeted attacks
    eot_samples: int = between(1)  # transformations averaged per EOT step
    eot_images: int = between(1, images="test")  # images attacked
    eot_draws: int = between(1)  # fresh random transformations per image when measuring survival
    eot_angle: float = between(0, 180)  # EOT distribution: rotation, uniform in +- this many degrees
    eot_scale: float = between(0, 1)  # zoom uniform in [1 - eot_scale, 1 + eot_scale]
    eot_brightness: float = between(0, 1)  # brightness shift uniform in +- this
    eot_noise: float = between(0)  # sd of Gaussian pixel noise
    cifar_part: bool = flag()  # also run the CIFAR-10 subset
    # (reliable_ml.experiments.spatial_cifar, same profile)
    torch_threads: int = between(0)  # CPU threads for torch (0: torch's default)


TABLE = {
    "smoke": Settings(
        dataset="digits",
        conv1=8,
        conv2=16,
        hidden=64,
        n_train=1000,
        epochs=6,
        k_train=4,
        n_eval=300,
        seeds=2,
        check_images=50,
        check_iterations=10,
        check_queries=100,
        max_angle=30.0,
        max_shift=3.0,
        n_angles=3,
        n_shifts=3,
        curve_sizes=4,
        curve_models=1,
        eot_eps=0.2,
        eot_steps=10,
        eot_samples=4,
        eot_images=40,
        eot_draws=20,
        eot_angle=15.0,
        eot_scale=0.1,
        eot_brightness=0.1,
        eot_noise=0.05,
        cifar_part=False,
        torch_threads=1,
    ),
    "cpu": Settings(
        dataset="mnist",
        conv1=16,
        conv2=32,
        hidden=256,
        n_train=10_000,
        epochs=3,
        k_train=5,
        n_eval=1000,
        seeds=3,
        check_images=500,
        check_iterations=100,
        check_queries=5000,
        max_angle=30.0,
        max_shift=3.0,
        n_angles=7,
        n_shifts=5,
        curve_sizes=4,
        curve_models=1,
        eot_eps=0.3,
        eot_steps=40,
        eot_samples=8,
        eot_images=100,
        eot_draws=100,
        eot_angle=15.0,
        eot_scale=0.1,
        eot_brightness=0.1,
        eot_noise=0.05,
        cifar_part=True,
        torch_threads=1,
    ),
    "gpu": Settings(
        dataset="mnist",
        conv1=32,
        conv2=64,
        hidden=1024,
        n_train=60_000,
        epochs=10,
        k_train=10,
        n_eval=10_000,
        seeds=5,
        check_images=1000,
        check_iterations=100,
        check_queries=5000,
        max_angle=30.0,
        max_shift=3.0,
        n_angles=31,
        n_shifts=5,
        curve_sizes=6,
        curve_models=5,
        eot_eps=0.3,
        eot_steps=100,
        eot_samples=30,
        eot_images=1000,
        eot_draws=500,
        eot_angle=15.0,
        eot_scale=0.1,
        eot_brightness=0.1,
        eot_noise=0.05,
        cifar_part=True,
        torch_threads=0,
    ),
}
