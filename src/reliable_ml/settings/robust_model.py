"""Settings of the course's one shared L-infinity robust model (:mod:`reliable_ml.robust.shared_model`).

Not a chapter's table: chapters 04, 07, 10 and 11 call ``shared_robust_model(profile=...)``,
which reads the row of that profile. Every field enters the model's fingerprint, so changing a
value trains (and evaluates) a new model once and caches it under ``$RELIABLE_ML_CACHE``.
"""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import Row, between, choice

ALL_ATTACKS = ("apgd-ce", "apgd-t", "fab-t", "square")  # AutoAttack's components


@dataclass(frozen=True)
class Settings(Row):
    eps: float = between(0, 1)  # L-infinity radius on MNIST, pixel units ([0, 1] images)
    digits_eps: float = between(0, 1)  # the radius used instead when MNIST is absent (8x8 digits fallback)
    train_size: int = between(0, 60_000)  # training images used (0: the whole training split)
    epochs: int = between(1)  # epochs of PGD adversarial training
    attack_steps: int = between(1)  # PGD steps of the training attack (step 2.5 eps / steps, random start)
    eps_ramp_epochs: float = between(0)  # the training radius grows linearly from 0 to eps over this many epochs
    lr_max: float = between(0)  # peak learning rate of Adam (one-cycle schedule)
    batch_size: int = between(1)
    n_eval: int = between(1, 10_000)  # test images attacked by every attack of the suite
    pgd_steps: int = between(1)  # PGD of the suite: steps (step 2.5 eps / steps) ...
    pgd_restarts: int = between(1)  # ... and random restarts
    attacks: tuple = choice(*ALL_ATTACKS)  # AutoAttack components of the suite (all four: apgd-ce, apgd-t, fab-t,
    # square)
    square_queries: int = between(1)  # queries of the gradient-free Square attack (AutoAttack standard: 5,000)
    check_steps: int = between(1)  # the masking check "more steps still lower the figure": PGD steps ...
    check_restarts: int = between(1)  # ... and restarts of that stronger PGD
    large_eps: float = between(0, 1)  # the masking check at a large radius (0.5: any image can become uniform
    # gray)
    source_epochs: int = between(1)  # the independently trained robust model of the transfer check: epochs ...
    source_attack_steps: int = between(1)  # ... and PGD steps (seed + 1, otherwise the same recipe)
    seed: int = between(0)


TABLE = {
    "smoke": Settings(
        eps=0.3,
        digits_eps=0.1,
        train_size=2000,
        epochs=2,
        attack_steps=3,
        eps_ramp_epochs=1.0,
        lr_max=5e-3,
        batch_size=100,
        n_eval=100,
        pgd_steps=10,
        pgd_restarts=1,
        attacks=("apgd-ce", "square"),
        square_queries=100,
        check_steps=20,
        check_restarts=1,
        large_eps=0.5,
        source_epochs=1,
        source_attack_steps=2,
        seed=0,
    ),
    "cpu": Settings(
        eps=0.3,
        digits_eps=0.1,
        train_size=0,
        epochs=4,
        attack_steps=4,
        eps_ramp_epochs=1.5,
        lr_max=5e-3,
        batch_size=100,
        n_eval=1000,
        pgd_steps=40,
        pgd_restarts=5,
        attacks=ALL_ATTACKS,
        square_queries=5000,
        check_steps=100,
        check_restarts=2,
        large_eps=0.5,
        source_epochs=2,
        source_attack_steps=2,
        seed=0,
    ),
    "gpu": Settings(
        eps=0.3,
        digits_eps=0.1,
        train_size=0,
        epochs=40,
        attack_steps=40,
        eps_ramp_epochs=5.0,
        lr_max=2e-3,
        batch_size=100,
        n_eval=10_000,
        pgd_steps=100,
        pgd_restarts=10,
        attacks=ALL_ATTACKS,
        square_queries=5000,
        check_steps=200,
        check_restarts=10,
        large_eps=0.5,
        source_epochs=10,
        source_attack_steps=10,
        seed=0,
    ),
}
