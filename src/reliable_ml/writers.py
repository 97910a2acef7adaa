"""New MNIST test sets rebuilt from MNIST's own writers (QMNIST metadata, Yadav & Bottou 2019).

MNIST digits were written by two populations: Census Bureau employees (NIST series
``hsf_0``/``hsf_1``) and high-school students (``hsf_4``); the MNIST test set is 50/50. Every
writer's digits sit entirely in train or entirely in test. We hold out whole *writers* from the
MNIST training split (the zoo never sees them) and build from their digits

* a ``matched`` test set with the test set's population mix (a fresh draw of writers from the
  same populations: any drop beyond sampling error would be a distribution shift we missed);
* ``employees`` and ``students`` test sets with one population only (deliberate shifts).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

POPULATIONS = ("employee", "student")


class WriterSplit(NamedTuple):
    """Row indices into the MNIST training split: ``train`` for fitting, ``heldout`` writers' digits."""

    train: np.ndarray
    heldout: np.ndarray
    heldout_writers: np.ndarray


def _check_meta(meta: pd.DataFrame) -> None:
    missing = {"writer_id", "population"} - set(meta.columns)
    if missing:
        raise ValueError(f"metadata needs columns 'writer_id' and 'population'; missing {sorted(missing)}")
    bad = set(meta["population"]) - set(POPULATIONS)
    if bad:
        raise ValueError(f"unknown populations {sorted(bad)}; allowed: {', '.join(POPULATIONS)}")


def holdout_writers(meta: pd.DataFrame, digits_per_population: int, seed: int = 0) -> WriterSplit:
    """Hold out random whole writers until each population has >= ``digits_per_population`` digits.

    Writers are drawn in a random order (seeded) per population and added until their digit
    count reaches the target; all digits of a held-out writer leave the training rows.
    """
    _check_meta(meta)
    if digits_per_population <= 0:
        raise ValueError(f"digits_per_population must be positive; got {digits_per_population}")
    rng = np.random.default_rng(seed)
    counts = meta.groupby(["population", "writer_id"]).size()
    chosen = []
    for pop in POPULATIONS:
        per_writer = counts.loc[pop]
        if per_writer.sum() < digits_per_population:
            raise ValueError(f"population {pop!r} has only {int(per_writer.sum())} digits; "
                             f"asked for {digits_per_population}")
        order = rng.permutation(per_writer.index.to_numpy())
        cum = per_writer.loc[order].cumsum().to_numpy()
        chosen.append(order[:int(np.searchsorted(cum, digits_per_population)) + 1])
    writers = np.concatenate(chosen)
    is_held = meta["writer_id"].isin(writers).to_numpy()
    return WriterSplit(np.flatnonzero(~is_held), np.flatnonzero(is_held), writers)


def rebuilt_test_sets(meta: pd.DataFrame, heldout: np.ndarray, mix: dict[str, float], n: int,
                      seed: int = 0) -> dict[str, np.ndarray]:
    """Index sets of size ``n`` drawn (without replacement) from the ``heldout`` rows.

    ``matched``: population shares ``mix`` (e.g. the original test set's ``{employee: 0.5,
    student: 0.5}``); ``employees`` / ``students``: one population only. Raises if the
    held-out rows are too few.
    """
    _check_meta(meta)
    if n <= 0:
        raise ValueError(f"test-set size n must be positive; got {n}")
    if set(mix) != set(POPULATIONS) or not np.isclose(sum(mix.values()), 1):
        raise ValueError(f"mix must give a share for each of {POPULATIONS} summing to 1; got {mix}")
    rng = np.random.default_rng(seed)
    pop = meta["population"].to_numpy()[heldout]
    by_pop = {p: heldout[pop == p] for p in POPULATIONS}

    def draw(rows: np.ndarray, k: int, what: str) -> np.ndarray:
        if k > len(rows):
            raise ValueError(f"{what}: need {k} held-out digits but only {len(rows)} are available")
        return np.sort(rng.choice(rows, k, replace=False))

    n_emp = int(round(n * mix["employee"]))
    matched = np.concatenate([draw(by_pop["employee"], n_emp, "matched/employee"),
                              draw(by_pop["student"], n - n_emp, "matched/student")])
    return {"matched": np.sort(matched),
            "employees": draw(by_pop["employee"], n, "employees"),
            "students": draw(by_pop["student"], n, "students")}
