"""Settings of chapter 10 (non-robust features), one row per profile.

The CIFAR-10 part has its own table, :mod:`reliable_ml.settings.nonrobust_cifar`
(the chapter runs its row of the same profile when ``cifar_part`` is on).
"""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import Row, between, choice, flag


@dataclass(frozen=True)
class Settings(Row):
    dataset: str = choice("digits", "mnist")  # digits (smoke) | mnist: the images of the MNIST part (digits
    # when MNIST is absent)
    n_source: int = between(1, images="train")  # training images of the standard source model
    n_relabel: int = between(1, images="train")  # training images relabelled into D_det and D_rand (each fresh
    # model's training set)
    n_test: int = between(1, images="test")  # clean test images that every model is scored on
    epochs: int = between(1)  # epochs of standard training (source and fresh models; Adam,
    # one-cycle)
    eps: float = between(0)  # L2 radius of the small targeted attack that relabels (pixel
    # units, images in [0, 1])
    steps: int = between(1)  # PGD steps of that attack (step 2.5 eps / steps)
    seeds: int = between(1)  # fresh models (training seeds) per relabelled set, and
    # robust/standard model pairs
    n_standard_train: int = between(1, images="train")  # training images of the standard models of part 2 (the robust
    # ones are the course's shared L-inf model and its L2-robust model)
    big_eps: float = between(0)  # L2 radius of the large targeted attacks of part 2 (pixel
    # units)
    big_steps: int = between(1)  # PGD steps of those attacks
    big_restarts: int = between(1)  # runs of that attack per image (the first from the image, the others from
    # random points of the ball; the run that reaches the target is kept)
    n_big: int = between(1, images="test")  # test images attacked with large eps (each toward (y + 1) mod
    # 10)
    knn_k: int = between(1)  # neighbours of the pixel-space k-NN judge
    l2_suite_n: int = between(0, 10_000)  # images of the L2-robust model's random sample attacked with AutoAttack's
    # standard suite in L2 (0: not run)
    l2_suite_iterations: int = between(1)  # iterations of APGD-CE, APGD-T and FAB-T there (standard: 100)
    l2_suite_queries: int = between(1)  # queries of Square there (standard: 5,000)
    cifar_part: bool = flag()  # also run the CIFAR-10 subset
    # (reliable_ml.experiments.nonrobust_cifar, same profile)
    torch_threads: int = between(0)  # CPU threads for torch (0: torch's default)


TABLE = {
    "smoke": Settings(
        dataset="digits",
        n_source=600,
        n_relabel=700,
        n_test=450,
        epochs=6,
        eps=1.0,
        steps=10,
        seeds=2,
        n_standard_train=1347,
        big_eps=2.0,
        big_steps=20,
        big_restarts=2,
        n_big=100,
        knn_k=5,
        l2_suite_n=20,
        l2_suite_iterations=10,
        l2_suite_queries=100,
        cifar_part=False,
        torch_threads=1,
    ),
    "cpu": Settings(
        dataset="mnist",
        n_source=5000,
        n_relabel=5000,
        n_test=2000,
        epochs=3,
        eps=3.0,
        steps=20,
        seeds=3,
        n_standard_train=10_000,
        big_eps=6.0,
        big_steps=100,
        big_restarts=3,
        n_big=200,
        knn_k=5,
        l2_suite_n=1000,
        l2_suite_iterations=100,
        l2_suite_queries=5000,
        cifar_part=True,
        torch_threads=1,
    ),
    "gpu": Settings(
        dataset="mnist",
        n_source=30_000,
        n_relabel=30_000,
        n_test=10_000,
        epochs=5,
        eps=3.0,
        steps=40,
        seeds=5,
        n_standard_train=60_000,
        big_eps=6.0,
        big_steps=200,
        big_restarts=5,
        n_big=1000,
        knn_k=5,
        l2_suite_n=10_000,
        l2_suite_iterations=100,
        l2_suite_queries=5000,
        cifar_part=True,
        torch_threads=0,
    ),
}
