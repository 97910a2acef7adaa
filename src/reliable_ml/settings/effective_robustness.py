"""Settings of chapter 08 (accuracy on the line, effective robustness), one row per profile."""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import ZOO_NAME, Row, between, text
from reliable_ml.settings.zoos import ZOOS

#: the course's declared fitting floor (%), reliable_ml.shift.line.MIN_ACCURACY: settings import no science, so
#: tests/test_effective_robustness.py and the chapter assert that the two are equal
MIN_ACCURACY = 60.0

_GPU_ZOO = list(ZOOS["mnist-gpu"])  # reliable_ml.models.zoo's "mnist-gpu" zoo


@dataclass(frozen=True)
class Settings(Row):
    n_boot: int = between(1)  # bootstrap resamples per fitted line (pointwise 95% band)
    fit_min_accuracy: float = between(0, 100)  # fit lines only over standard models at least this accurate in
    # distribution (%): the course's declared floor, line.MIN_ACCURACY
    sensitivity_min_accuracy: float = between(0, 100)  # a second floor (%) for the sensitivity check (0: every
    # standard model, the weakest baselines included)
    grid_shifts: int = between(1)  # how many natural (then consistency) shifts the small-
    # multiples grid draws
    zoo_members: list[str] = text(ZOO_NAME)  # reliable_ml.models.zoo member names of the MNIST zoo
    zoo_train_sizes: list[int] = between(1, 60_000)  # MNIST training-set sizes; every member is trained once per
    # size


TABLE = {
    "smoke": Settings(
        n_boot=50,
        fit_min_accuracy=MIN_ACCURACY,
        sensitivity_min_accuracy=0.0,
        grid_shifts=3,
        zoo_members=["logreg-e1", "mlp-16-e1", "mlp-64-e2"],
        zoo_train_sizes=[1000, 4000],
    ),
    "cpu": Settings(
        n_boot=1000,
        fit_min_accuracy=MIN_ACCURACY,
        sensitivity_min_accuracy=0.0,
        grid_shifts=11,
        zoo_members=[
            "logreg-e1",
            "logreg-e4",
            "logreg-e4-aug",
            "mlp-8-e2",
            "mlp-32-e1",
            "mlp-32-e3",
            "mlp-128-e2",
            "mlp-128-e4-aug",
            "mlp-512-e3",
            "cnn-4-e1",
        ],
        zoo_train_sizes=[2000, 10000, 60000],
    ),
    "gpu": Settings(
        n_boot=2000,
        fit_min_accuracy=MIN_ACCURACY,
        sensitivity_min_accuracy=0.0,
        grid_shifts=11,
        zoo_members=_GPU_ZOO,
        zoo_train_sizes=[5000, 20000, 60000],
    ),
}
