"""Settings of the CIFAR-10 backdoor experiment (chapter 07): :func:`reliable_ml.pipeline.backdoor_cifar.run`,
behind the entry point :mod:`reliable_ml.experiments.backdoor_cifar`, one row per profile.

Poison shares are of the whole training set; pixel quantities are in [0, 1] units.
"""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import Row, between, choice
from reliable_ml.settings.training import TrainConfig, standard_recipe

PARTS = ("badnets", "clean_label", "spectral", "cue")
ARCHS = ("preact_resnet18", "small_cnn")


@dataclass(frozen=True)
class Settings(Row):
    n_train: int = between(1, 50_000)  # training images (a seeded random subset)
    width: int = between(0)  # PreActResNet-18 base width (64: the standard network;
    # unused by small_cnn)
    train: TrainConfig  # standard training of every model
    fractions: tuple[float, ...] = between(0, 1)  # BadNets poison shares (0 = the clean baseline)
    n_eval: int = between(1, 10_000)  # test images for accuracy and attack success
    target: int = between(0, 9, default=0)  # the attacker's target class
    trigger_size: int = between(1, 7, default=3)  # side of the checkerboard trigger (pixels)
    clean_label_share: float = between(0, 1, default=0.5)  # share of the target class poisoned (clean-label)
    harden_eps: float = between(0, 1, default=16 / 255)  # PGD radius that makes clean-label poisons hard
    harden_steps: int = between(1, default=10)
    spectral_fraction: float = between(0, 1, default=0.01)  # BadNets share whose model spectral signatures inspect
    spectral_factor: float = between(0, default=1.5)  # remove factor x expected poisons
    spectral_source: int = between(0, 9, default=7)  # source class of the single-source attack inspected
    cue_agree: float = between(0, 1, default=0.9)  # share of training images whose cue agrees with the label
    cue_amplitude: float = between(0, 1, default=0.25)  # peak intensity of the blended grating
    arch: str = choice(*ARCHS, default="preact_resnet18")
    parts: tuple[str, ...] = choice(*PARTS, default=PARTS)  # which of the four experiments run


TABLE = {
    "smoke": Settings(
        n_train=300,
        width=4,
        n_eval=200,
        fractions=(0.0, 0.05),
        train=standard_recipe(2, 64, 0.05, augment=False),
        harden_steps=2,
        spectral_fraction=0.05,
    ),
    # The CIFAR-10 subset part of the notebook's cpu profile: BadNets only, a small CNN, ~30 s on 2 cores.
    # No augmentation, here and on the GPU: random crops and flips move or cut off a single-corner
    # trigger, which in short training weakens the backdoor to near nothing (the notebook measures it).
    "cpu": Settings(
        n_train=10_000,
        width=0,
        n_eval=2000,
        fractions=(0.0, 0.01, 0.05),
        arch="small_cnn",
        parts=("badnets",),
        train=standard_recipe(6, 128, 3e-3, augment=False, optimizer="adam"),
    ),
    # 13 models of 15 epochs on all 50,000 images; estimated 20-30 minutes on one H100 (not yet measured on a GPU)
    "gpu": Settings(
        n_train=50_000,
        width=64,
        n_eval=10_000,
        fractions=(0.0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05),
        train=standard_recipe(15, 512, 0.4, augment=False),
    ),
}
