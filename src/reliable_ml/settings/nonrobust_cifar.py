"""Settings of the entry point :mod:`reliable_ml.experiments.nonrobust_cifar` (chapter 10 on CIFAR-10),
one row per profile: Ilyas et al.'s relabelled training sets."""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import Row, between, choice
from reliable_ml.settings.training import TrainConfig, standard_recipe

ARCHS = ("preact_resnet18", "small_cnn")


@dataclass(frozen=True)
class Settings(Row):
    n_source: int = between(1, 50_000)  # training images of the standard source model
    n_relabel: int = between(1, 50_000)  # training images relabelled (= each fresh model's set)
    n_test: int = between(1, 10_000)  # clean test images the fresh models are scored on
    train: TrainConfig  # standard training of the source and fresh models
    eps: float = between(0, default=0.5)  # L2 radius of the targeted attack (pixel units); Ilyas
    # et al.: 0.5
    steps: int = between(1, default=20)  # PGD steps (step 2.5 eps / steps)
    seeds: int = between(1, default=3)  # fresh models per relabelled set
    arch: str = choice(*ARCHS, default="preact_resnet18")
    width: int = between(1, default=64)  # PreActResNet-18 base width (64 = the standard network)


TABLE = {
    "smoke": Settings(
        n_source=300,
        n_relabel=300,
        n_test=200,
        arch="preact_resnet18",
        width=4,
        steps=3,
        seeds=2,
        train=standard_recipe(2, 64, 0.05),
    ),
    # the CIFAR-10 subset of notebook 10's cpu profile: a small CNN, about a minute of CPU time per model group
    "cpu": Settings(
        n_source=5000,
        n_relabel=5000,
        n_test=2000,
        arch="small_cnn",
        eps=1.0,
        steps=10,
        seeds=3,
        train=standard_recipe(6, 100, 3e-3, optimizer="adam"),
    ),
    # 1 + 2 x 3 PreActResNet-18s of 30 epochs on 25,000 images plus 2 x 25,000 attacks of 20 steps:
    # estimated 15-25 minutes on one H100 (not yet measured on a GPU)
    "gpu": Settings(
        n_source=25_000, n_relabel=25_000, n_test=10_000, train=standard_recipe(30, 512, 0.4, augment=True)
    ),
}
