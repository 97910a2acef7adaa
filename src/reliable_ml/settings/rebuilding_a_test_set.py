"""Settings of chapter 02 (rebuilding a test set), one row per profile.

Sections 1-5 replay the pipeline on MNIST with a simulated crowd; sections 6-7 use the real
CIFAR-10H annotators and the course's small CIFAR-10 zoo (:func:`reliable_ml.models.zoo.cifar10_zoo`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reliable_ml.settings import ZOO_NAME, Row, between, text
from reliable_ml.settings.zoos import ZOOS


@dataclass(frozen=True)
class Settings(Row):
    n_train: int = between(1, 60_000)  # MNIST training digits for the evaluated zoo
    n_clarity: int = between(1, 60_000)  # MNIST digits (disjoint from everything else) for the clarity
    # ensemble
    heldout_per_population: int = between(1)  # digits of held-out MNIST writers per population (the candidate
    # pool)
    n_test: int = between(1, 10_000)  # original MNIST test images used (a random subset when smaller
    # than 10,000)
    n_original_annotated: int = between(1, 5_000)  # original test images annotated by the crowd (at most half the
    # test set)
    per_class: int = between(1)  # images per class in each rebuilt MNIST test set
    wrong_share: float = between(0, 1)  # share of candidates whose candidate class is wrong (keyword-
    # search noise)
    careless_share: float = between(0, 1)  # share of careless simulated workers
    noise_max: float = between(0, 0.5)  # careful worker w selects with prob eps_w + (1 - 2 eps_w) clarity,
    # eps_w ~ U(0, noise_max)
    min_annotations: int = between(1)  # valid annotations per image
    pixel_threshold: float = between(0, 1)  # near duplicate: RMS pixel difference (pixels in [0, 1]) below
    # this
    feature_threshold: float = between(0, 2)  # near duplicate: feature distance (in [0, 2]) below this (MNIST)
    mnist_zoo: list[str] = text(ZOO_NAME)  # evaluated MNIST models (names as in reliable_ml.models.zoo)
    clarity_members: list[str] = text(ZOO_NAME)  # the clarity ensemble behind the simulated workers (never
    # evaluated)
    reader_grids: int = between(1)  # grids offered to the reader in section 8
    cifar_zoo: list[str] = text(ZOO_NAME)  # the course's CIFAR-10 zoo (trained once on the JPEG train split,
    # cached)
    cifar_train: int = between(1, 50_000)  # CIFAR-10 training images for that zoo
    cifar10h_per_class: int = between(1, 1_000)  # CIFAR-10H: images per class in each sampled test set
    strategy_draws: int = between(1)  # CIFAR-10H: independent draws of each sampling strategy (for the
    # spread)
    engstrom_resamples: int = between(1)  # Engstrom et al.: resamples of the k annotators and of the matched
    # set, per k
    engstrom_per_class: int = between(1)  # Engstrom et al.: matched images per class
    engstrom_splits: int = between(2)  # Engstrom et al.: reference/pool splits (and skews) the bias is
    # measured over, for its interval
    engstrom_split_resamples: int = between(1)  # Engstrom et al.: resamples per k on each split
    skew_high_sf: float = between(0, 1)  # skewed pool: images with true SF >= this are kept only with prob
    # skew_keep
    skew_keep: float = between(0, 1)  # skewed pool: keep probability of high-SF images
    reader_log: str = text()  # your grid answers (JSONL); "":
    # annotations/02_rebuilding_a_test_set.jsonl
    alpha: float = between(0.001, 0.5)  # intervals are (1 - alpha) intervals
    torch_threads: int = between(0)  # CPU threads for torch; 0 keeps torch's default


# The zoos of reliable_ml.models.zoo these rows train, by name (lists in settings.zoos).
CIFAR10_CPU_ZOO = list(ZOOS["cifar10-cpu"])
CIFAR10_GPU_ZOO = list(ZOOS["cifar10-gpu"])
MNIST_GPU_ZOO = list(ZOOS["mnist-gpu"])

CPU = Settings(
    n_train=8000,
    n_clarity=3000,
    heldout_per_population=2500,
    n_test=10000,
    n_original_annotated=2000,
    per_class=100,
    wrong_share=0.05,
    careless_share=0.15,
    noise_max=0.15,
    min_annotations=10,
    pixel_threshold=0.03,
    feature_threshold=0.08,
    mnist_zoo=["logreg-e1", "logreg-e4", "mlp-8-e2", "mlp-32-e1", "mlp-128-e2", "cnn-2-e1", "cnn-4-e1", "cnn-8-e1"],
    clarity_members=["logreg-e5", "mlp-64-e5", "cnn-4-e2"],
    reader_grids=12,
    cifar_zoo=CIFAR10_CPU_ZOO,
    cifar_train=10000,
    cifar10h_per_class=100,
    strategy_draws=50,
    engstrom_resamples=200,
    engstrom_per_class=100,
    engstrom_splits=10,
    engstrom_split_resamples=50,
    skew_high_sf=0.9,
    skew_keep=0.3,
    reader_log="",
    alpha=0.05,
    torch_threads=0,  # torch's default: all cores alone, cores // JOBS beside another chapter (runner)
)

TABLE = {
    "smoke": replace(
        CPU,
        n_train=1500,
        n_clarity=800,
        heldout_per_population=300,
        n_test=3000,
        n_original_annotated=300,
        per_class=10,
        mnist_zoo=["logreg-e3", "mlp-8-e1", "mlp-16-e3"],
        clarity_members=["logreg-e5", "mlp-64-e5"],
        reader_grids=3,
        cifar_zoo=["logreg-e1", "cnn-4-e1"],
        cifar_train=2000,
        cifar10h_per_class=30,
        strategy_draws=5,
        engstrom_resamples=10,
        engstrom_per_class=30,
        engstrom_splits=2,
        engstrom_split_resamples=3,
    ),
    "cpu": CPU,
    "gpu": replace(
        CPU,
        n_train=40000,
        n_clarity=5000,
        heldout_per_population=5000,
        n_original_annotated=5000,
        per_class=200,
        mnist_zoo=MNIST_GPU_ZOO,
        clarity_members=["logreg-e10", "mlp-256-e10", "cnn-16-e10"],
        cifar_zoo=CIFAR10_GPU_ZOO,
        cifar_train=50000,
        strategy_draws=200,
        engstrom_resamples=1000,
        engstrom_splits=20,
        engstrom_split_resamples=200,
    ),
}
