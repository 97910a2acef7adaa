"""The recipe of one training run, :class:`TrainConfig`: a settings row of its own.

:func:`reliable_ml.robust.train.train` runs it; the entry points' tables
(:mod:`reliable_ml.settings.robust_cifar`, ``rst_cifar``, ``backdoor_cifar``, ``nonrobust_cifar``)
hold one in a field, and every field of it is checked against its range when it is built.
Not a table: it has no ``TABLE``.
"""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import Row, between, choice, flag

METHODS = ("pgd", "fgsm_rs", "fgsm", "standard")
SCHEDULES = ("onecycle", "piecewise")
OPTIMIZERS = ("sgd", "adam")


@dataclass
class TrainConfig(Row):
    """Everything that determines a training run (compared on ``resume``)."""

    epochs: int = between(1, default=10)
    batch_size: int = between(1, default=128)
    method: str = choice(*METHODS, default="pgd")  # pgd | fgsm_rs | fgsm (no random start) | standard
    eps: float = between(0, default=8 / 255)  # L-infinity radius in pixel units ([0, 1] images)
    step_size: float | None = between(0, optional=True, default=None)  # alpha; None: 2.5 eps / steps (pgd),
    # 1.25 eps (fgsm_rs), eps (fgsm)
    attack_steps: int = between(1, default=10)  # pgd only
    eps_ramp_epochs: float = between(0, default=0.0)  # grow eps linearly from 0 over this many epochs
    optimizer: str = choice(*OPTIMIZERS, default="sgd")
    lr_max: float = between(0, default=0.2)
    lr_schedule: str = choice(*SCHEDULES, default="onecycle")  # onecycle (0 -> lr_max at 40% -> 0) |
    # piecewise (/10 at 50%, 75%)
    momentum: float = between(0, 1, default=0.9)
    weight_decay: float = between(0, default=5e-4)
    augment: bool = flag(default=False)  # random crop (zero pad 4) + horizontal flip
    val_size: int = between(0, default=512)  # held-out examples for the per-epoch PGD check
    val_attack_steps: int = between(1, default=10)
    keep_best: bool = flag(default=False)  # end with the epoch of best held-out robust accuracy
    seed: int = between(0, default=0)

    @property
    def alpha(self) -> float:
        if self.step_size is not None:
            return self.step_size
        if self.method == "fgsm":
            return self.eps
        return 1.25 * self.eps if self.method == "fgsm_rs" else 2.5 * self.eps / self.attack_steps


def standard_recipe(
    epochs: int, batch_size: int, lr_max: float, *, augment: bool = False, optimizer: str = "sgd"
) -> TrainConfig:
    """Standard (non-adversarial) training with a one-cycle schedule, weight decay 5e-4 for SGD
    (none for Adam) and no validation split: the recipe of the CIFAR-10 entry points' victims."""
    return TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        method="standard",
        eps=0.0,
        augment=augment,
        optimizer=optimizer,
        lr_max=lr_max,
        lr_schedule="onecycle",
        weight_decay=5e-4 if optimizer == "sgd" else 0.0,
        val_size=0,
    )
