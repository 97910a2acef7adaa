"""Settings of the entry point :mod:`reliable_ml.experiments.zoo` (train a model zoo, record its accuracies),
one row per profile. Which zoo each profile trains is :func:`reliable_ml.experiments.zoo.default_zoo`."""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import Row, between


@dataclass(frozen=True)
class Settings(Row):
    n_train: int | None = between(1, optional=True)  # training images (at most the split; None: the whole split)
    batch: int = between(1)  # batch size of every member's training


TABLE = {
    "smoke": Settings(n_train=2000, batch=256),
    "cpu": Settings(n_train=20_000, batch=256),
    "gpu": Settings(n_train=None, batch=512),
}
