"""Settings of the course's L2-robust MNIST model (:mod:`reliable_ml.robust.l2_model`).

Not a chapter's table: chapter 10 calls ``l2_robust_model(profile=...)``, which reads the row of
that profile. Every field enters the model's fingerprint, so changing a value trains (and
evaluates) a new model once and caches it under ``$RELIABLE_ML_CACHE``.
"""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import Row, between


@dataclass(frozen=True)
class Settings(Row):
    eps: float = between(0, 28)  # L2 radius on MNIST, pixel units ([0, 1] images; 2.0 is the usual MNIST L2 radius)
    digits_eps: float = between(0, 8)  # the radius used instead when MNIST is absent (8x8 digits fallback)
    train_size: int = between(0, 60_000)  # training images used (0: the whole training split)
    epochs: int = between(1)  # epochs of PGD-L2 adversarial training
    attack_steps: int = between(1)  # L2 PGD steps of the training attack (step 2.5 eps / steps, random start)
    eps_ramp_epochs: float = between(0)  # the training radius grows linearly from 0 to eps over this many epochs
    lr_max: float = between(0)  # peak learning rate of Adam (one-cycle schedule)
    batch_size: int = between(1)
    n_eval: int = between(1, 10_000)  # random test images (seeded) on which the worst case is measured
    pgd_steps: int = between(1)  # L2 PGD of the evaluation: steps (step 2.5 eps / steps) ...
    pgd_restarts: int = between(1)  # ... and random restarts (worst iterate kept)
    apgd_steps: int = between(1)  # torchattacks' APGD-CE in L2 (Croce & Hein 2020): iterations (standard: 100)
    seed: int = between(0)


TABLE = {
    "smoke": Settings(
        eps=2.0,
        digits_eps=0.7,
        train_size=2000,
        epochs=3,
        attack_steps=3,
        eps_ramp_epochs=1.0,
        lr_max=5e-3,
        batch_size=100,
        n_eval=100,
        pgd_steps=10,
        pgd_restarts=1,
        apgd_steps=10,
        seed=0,
    ),
    "cpu": Settings(
        eps=2.0,
        digits_eps=0.7,
        train_size=0,
        epochs=3,
        attack_steps=5,
        eps_ramp_epochs=1.0,
        lr_max=5e-3,
        batch_size=100,
        n_eval=1000,
        pgd_steps=50,
        pgd_restarts=5,
        apgd_steps=100,
        seed=0,
    ),
    "gpu": Settings(
        eps=2.0,
        digits_eps=0.7,
        train_size=0,
        epochs=30,
        attack_steps=40,
        eps_ramp_epochs=5.0,
        lr_max=1e-3,
        batch_size=100,
        n_eval=10_000,
        pgd_steps=100,
        pgd_restarts=10,
        apgd_steps=100,
        seed=0,
    ),
}
