"""Settings of chapter 01 (accuracy decomposition), one row per profile."""

from __future__ import annotations

from dataclasses import dataclass

from reliable_ml.settings import ZOO_NAME, Row, between, text


@dataclass(frozen=True)
class Settings(Row):
    zoo_name: str = text(ZOO_NAME)  # named MNIST zoo (reliable_ml.models.zoo.ZOOS) trained in section 2
    n_train: int = between(1, 60_000)  # MNIST training digits the zoo is trained on
    heldout_per_population: int = between(1)  # digits of held-out writers per population (employees, students)
    n_rebuilt: int = between(1)  # size of each rebuilt MNIST test set (digits)
    n_draws: int = between(1)  # independent draws of the rebuilt sets / leaderboard splits (seed
    # spread)
    n_trials: int = between(1)  # random repetitions of the resampling and best-of-k experiments
    resample_max_n: int = between(100)  # largest random test-set size in the resampling check (100, 500,
    # 2000 <= this)
    n_holdout: int = between(1)  # holdout size of the best-of-k experiment (digits)
    attack_n: int = between(1)  # holdout size of the worst-case boosting attack (points)
    n_ensembles: int = between(1)  # majority-vote submissions added to the leaderboard
    attack_seeds: int = between(1)  # seeds of the boosting attack and the Ladder (their spread is
    # shown)
    ladder_eta: float = between(0, 1)  # the Ladder's step: the board moves only for gains above it
    # (fraction)
    tied_member: str = text(ZOO_NAME)  # the architecture whose seeds make the near-tied models of best-
    # of-k
    n_tied: int = between(2)  # how many seeds of it are trained
    kaggle_max_kb: int = between(0)  # medical Kaggle boards larger than this are skipped (0: none
    # skipped)
    n_boot: int = between(100)  # bootstrap replicates for intervals of median drops (released
    # predictions) and Kendall's tau (a BCa interval needs at least 100)
    n_boot_verdict: int = between(1)  # bootstrap replicates where a verdict is read from a percentile
    # bound (the line's slope against 1, the top model against the line): >= 5,000 outside smoke
    tau_n_boot: int = between(100)  # bootstrap replicates of Kendall's tau's BCa interval: >= 2,000 outside
    # smoke (with |z0| near 1 its endpoints come from the replicates' tail)
    public_fraction: float = between(0.01, 0.99)  # share of the test set on the public leaderboard
    kaggle_top: int = between(1)  # at most this many publicly selected teams per board (Roelofs test)
    kaggle_min_teams: int = between(3)  # one-stage boards with fewer teams stay out of the pooled test
    kaggle_n_boot: int = between(100)  # bootstrap replicates over teams of the Roelofs test
    payoff_eps: float = between(0.0001, 0.5)  # overfitting level (fraction) of the similarity payoff
    alpha: float = between(0.001, 0.5)  # intervals are (1 - alpha) intervals
    harder_member: str = text(ZOO_NAME)  # zoo member trained in section 11 (harder, not just different)
    harder_n_train: int = between(1, 60_000, images="train")  # base training digits of section 11 (training writers)
    harder_sizes: list = between(1, 60_000)  # digits added to the base set per arm (each <= group A's digits)
    harder_seeds: int = between(2, 50)  # training seeds per arm and size (they are resampled in the interval)
    harder_n_boot: int = between(100)  # replicates of harder.gap_summary's bootstrap; unused since section 11 takes a
    # t interval over seeds (harder.seed_gap_summary)


TABLE = {
    "smoke": Settings(
        zoo_name="smoke",
        n_train=3_000,
        heldout_per_population=1_500,
        n_rebuilt=1_000,
        n_draws=3,
        n_trials=100,
        resample_max_n=500,
        n_holdout=500,
        attack_n=500,
        n_ensembles=30,
        attack_seeds=2,
        ladder_eta=0.01,
        tied_member="mlp-64-e2",
        n_tied=4,
        kaggle_max_kb=100,
        n_boot=100,
        n_boot_verdict=200,
        tau_n_boot=200,
        public_fraction=0.3,
        kaggle_top=10,
        kaggle_min_teams=10,
        kaggle_n_boot=200,
        payoff_eps=0.01,
        alpha=0.05,
        harder_member="mlp-16-e1",
        harder_n_train=2_000,
        harder_sizes=[300],
        harder_seeds=2,
        harder_n_boot=200,
    ),
    "cpu": Settings(
        zoo_name="mnist-cpu",
        n_train=10_000,
        heldout_per_population=5_000,
        n_rebuilt=4_000,
        n_draws=5,
        n_trials=1_000,
        resample_max_n=2_000,
        n_holdout=1_000,
        attack_n=4_000,
        n_ensembles=200,
        attack_seeds=5,
        ladder_eta=0.01,
        tied_member="mlp-128-e2",
        n_tied=10,
        kaggle_max_kb=0,
        n_boot=500,
        n_boot_verdict=5_000,
        tau_n_boot=2_000,
        public_fraction=0.3,
        kaggle_top=10,
        kaggle_min_teams=10,
        kaggle_n_boot=2_000,
        payoff_eps=0.01,
        alpha=0.05,
        harder_member="mlp-128-e2",
        harder_n_train=10_000,
        harder_sizes=[1_000, 2_000, 4_000],
        harder_seeds=5,
        harder_n_boot=2_000,
    ),
    "gpu": Settings(
        zoo_name="mnist-gpu",
        n_train=60_000,
        heldout_per_population=5_000,
        n_rebuilt=4_000,
        n_draws=10,
        n_trials=2_000,
        resample_max_n=2_000,
        n_holdout=1_000,
        attack_n=10_000,
        n_ensembles=300,
        attack_seeds=10,
        ladder_eta=0.01,
        tied_member="cnn-8-e2",
        n_tied=20,
        kaggle_max_kb=0,
        n_boot=2_000,
        n_boot_verdict=10_000,
        tau_n_boot=5_000,
        public_fraction=0.3,
        kaggle_top=10,
        kaggle_min_teams=10,
        kaggle_n_boot=5_000,
        payoff_eps=0.01,
        alpha=0.05,
        harder_member="cnn-16-e2",
        harder_n_train=30_000,
        harder_sizes=[1_000, 2_000, 4_000],
        harder_seeds=10,
        harder_n_boot=5_000,
    ),
}
