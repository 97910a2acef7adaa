"""Settings of chapter 00 (a tour of the data), one row per profile."""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import Row, between, choice


@dataclass(frozen=True)
class Settings(Row):
    samples_per_class: int = between(1)  # images per class in each sample grid
    splits: list[str] = choice("train", "test")  # splits loaded per dataset ("test" alone keeps smoke fast)


TABLE = {
    "smoke": Settings(samples_per_class=4, splits=["test"]),
    "cpu": Settings(samples_per_class=6, splits=["train", "test"]),
    "gpu": Settings(samples_per_class=6, splits=["train", "test"]),
}
