"""Settings of chapter 03 (humans vs models), one row per profile.

The CIFAR-10 zoo settings equal chapter 02's row of the same profile, so both chapters share
one cached zoo (:func:`reliable_ml.models.zoo.cifar10_zoo`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reliable_ml.settings import ZOO_NAME, Row, between, text
from reliable_ml.settings import rebuilding_a_test_set as ch02


@dataclass(frozen=True)
class Settings(Row):
    n_per_source: int = between(1)  # MNIST digits per writer population in your labeling task
    n_train: int = between(1, 60_000)  # MNIST training digits for the MNIST zoo
    mnist_zoo: str = text(ZOO_NAME)  # named MNIST zoo of reliable_ml.models.zoo ("smoke", "mnist-small",
    # "mnist-cpu", ...)
    cifar_zoo: list[str] = text(ZOO_NAME)  # the course's CIFAR-10 zoo (as in chapter 02: trained once, cached)
    cifar_train: int = between(1, 50_000)  # CIFAR-10 training images for that zoo
    hesitant: float = between(0, 1)  # humans "hesitate" on an image when fewer than this share chose its label
    n_grid_images: int = between(1)  # images per grid figure
    alpha: float = between(0.001, 0.5)  # intervals are (1 - alpha) intervals
    torch_threads: int = between(0)  # CPU threads for torch; 0 keeps torch's default


def _row(profile: str, **kw) -> Settings:
    z = ch02.TABLE[profile]
    return Settings(cifar_zoo=z.cifar_zoo, cifar_train=z.cifar_train, **kw)


CPU = _row(
    "cpu",
    n_per_source=100,
    n_train=20000,
    mnist_zoo="mnist-small",
    hesitant=0.9,
    n_grid_images=16,
    alpha=0.05,
    torch_threads=0,  # torch's default: all cores alone, cores // JOBS beside another chapter (runner)
)

TABLE = {
    "smoke": replace(
        _row("smoke", **{k: v for k, v in CPU.__dict__.items() if k not in ("cifar_zoo", "cifar_train")}),
        n_per_source=20,
        n_train=2000,
        mnist_zoo="smoke",
        n_grid_images=8,
    ),
    "cpu": CPU,
    "gpu": replace(
        _row("gpu", **{k: v for k, v in CPU.__dict__.items() if k not in ("cifar_zoo", "cifar_train")}),
        n_per_source=200,
        n_train=60000,
        mnist_zoo="mnist-cpu",
    ),
}
