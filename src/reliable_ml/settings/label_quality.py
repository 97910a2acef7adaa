"""Settings of chapter 09 (how good are the labels?): one row per profile."""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import Row, between


@dataclass(frozen=True)
class Settings(Row):
    n_boot: int = between(1)  # bootstrap resamples (over models) for the ReaL-vs-top-1 slope interval
    cv_train_size: int = between(1, 60_000)  # MNIST training images used to pre-train our own model (max 60,000)
    cv_folds: int = between(2)  # cross-validation folds over the MNIST test set
    cv_hidden: int = between(0)  # hidden units of our MLP (0: multinomial logistic regression)
    cv_pretrain_epochs: int = between(1)  # epochs of pre-training on the training images
    cv_finetune_epochs: int = between(0)  # epochs of fine-tuning on the other test folds, per fold
    cv_seeds: int = between(1)  # seeds of the whole cross-validation (spread of precision and recall)
    n_show: int = between(1)  # confirmed errors shown as images per dataset


TABLE = {
    "smoke": Settings(
        n_boot=100,
        cv_train_size=5_000,
        cv_folds=2,
        cv_hidden=64,
        cv_pretrain_epochs=1,
        cv_finetune_epochs=1,
        cv_seeds=1,
        n_show=8,
    ),
    "cpu": Settings(
        n_boot=5000,
        cv_train_size=60_000,
        cv_folds=5,
        cv_hidden=256,
        cv_pretrain_epochs=2,
        cv_finetune_epochs=1,
        cv_seeds=3,
        n_show=15,
    ),
    "gpu": Settings(
        n_boot=5000,
        cv_train_size=60_000,
        cv_folds=10,
        cv_hidden=1024,
        cv_pretrain_epochs=8,
        cv_finetune_epochs=3,
        cv_seeds=5,
        n_show=24,
    ),
}
