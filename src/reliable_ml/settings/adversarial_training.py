"""Settings of chapter 04 (adversarial examples and robust training), one row per profile."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    dataset: str               # image set: "digits" (scikit-learn 8x8) or "mnist"; missing MNIST falls back to digits
    eps: float                 # L-infinity radius in pixel units (images in [0, 1])
    standard_epochs: int       # epochs of the undefended (standard) model
    robust_epochs: int         # epochs of FGSM-RS adversarial training
    train_alpha: float         # FGSM step after the random start (Wong et al. 2020: 1.25 eps)
    val_size: int              # held-out test images for the per-epoch PGD check
    n_eval: int                # test images of the final evaluation (PGD and every AutoAttack component)
    eval_steps: int            # PGD steps of the final evaluation
    eval_restarts: int         # PGD random restarts of the final evaluation
    autoattack_n: int          # of the n_eval images, how many every AutoAttack component attacks (0: none)
    autoattack_attacks: list   # AutoAttack components run: apgd-ce, apgd-t, fab-t, square
    square_queries: int        # queries of the Square attack (AutoAttack's standard suite: 5,000)
    n_curve: int               # test images per point of the accuracy-vs-eps and accuracy-vs-steps curves
    co_eps: float              # L-infinity radius of the catastrophic-overfitting demonstration
    co_train_size: int         # training images of that demonstration
    co_epochs: int             # epochs of each run of that demonstration
    co_seeds: int              # seeds per arm of that demonstration
    co_large_alpha: float      # a third arm, FGSM-RS with this large step (in units of eps); 0 leaves it out


AUTOATTACK_STANDARD = ["apgd-ce", "apgd-t", "fab-t", "square"]

TABLE = {
    "smoke": Settings(dataset="digits", eps=0.1, standard_epochs=3, robust_epochs=3, train_alpha=0.125,
                      val_size=100, n_eval=200, eval_steps=10, eval_restarts=1, autoattack_n=50,
                      autoattack_attacks=["apgd-ce", "apgd-t"], square_queries=100, n_curve=200,
                      co_eps=0.1, co_train_size=1000, co_epochs=2, co_seeds=2, co_large_alpha=2.5),
    # AutoAttack on all 1,000 evaluation images; Square with 1,000 queries (not 5,000) to fit the time budget
    "cpu": Settings(dataset="mnist", eps=0.3, standard_epochs=2, robust_epochs=5, train_alpha=0.375,
                    val_size=500, n_eval=1000, eval_steps=40, eval_restarts=5, autoattack_n=1000,
                    autoattack_attacks=AUTOATTACK_STANDARD, square_queries=1000, n_curve=500,
                    co_eps=0.3, co_train_size=10_000, co_epochs=4, co_seeds=3, co_large_alpha=0.0),
    "gpu": Settings(dataset="mnist", eps=0.3, standard_epochs=5, robust_epochs=10, train_alpha=0.375,
                    val_size=1000, n_eval=10_000, eval_steps=50, eval_restarts=10, autoattack_n=10_000,
                    autoattack_attacks=AUTOATTACK_STANDARD, square_queries=5000, n_curve=2000,
                    co_eps=0.3, co_train_size=60_000, co_epochs=5, co_seeds=5, co_large_alpha=2.5),
}
