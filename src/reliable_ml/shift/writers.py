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

from dataclasses import asdict
from typing import NamedTuple

import numpy as np
import pandas as pd

from reliable_ml import stats

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
            raise ValueError(
                f"population {pop!r} has only {int(per_writer.sum())} digits; asked for {digits_per_population}"
            )
        order = rng.permutation(per_writer.index.to_numpy())
        cum = per_writer.loc[order].cumsum().to_numpy()
        chosen.append(order[: int(np.searchsorted(cum, digits_per_population)) + 1])
    writers = np.concatenate(chosen)
    is_held = meta["writer_id"].isin(writers).to_numpy()
    return WriterSplit(np.flatnonzero(~is_held), np.flatnonzero(is_held), writers)


def rebuilt_test_sets(
    meta: pd.DataFrame, heldout: np.ndarray, mix: dict[str, float], n: int, seed: int = 0
) -> dict[str, np.ndarray]:
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
    matched = np.concatenate(
        [draw(by_pop["employee"], n_emp, "matched/employee"), draw(by_pop["student"], n - n_emp, "matched/student")]
    )
    return {
        "matched": np.sort(matched),
        "employees": draw(by_pop["employee"], n, "employees"),
        "students": draw(by_pop["student"], n, "students"),
    }


def rebuilt_drops(
    correct_S: np.ndarray,
    writers_S,
    correct_pool: np.ndarray,
    pool_rows: np.ndarray,
    meta: pd.DataFrame,
    mix: dict[str, float],
    n: int,
    alpha: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    """Each model's drop from the test set S to each rebuilt set (:func:`rebuilt_test_sets`).

    ``correct_S``: bool ``(M, N_S)`` with writer ids ``writers_S``; ``correct_pool``: bool
    ``(M, len(pool_rows))`` on the held-out rows ``pool_rows`` (sorted indices into ``meta``).
    One row per (test set, model index): accuracies, drop, Newcombe interval (digits treated as
    independent: ``ci_low``/``ci_high``) and the writer-cluster bootstrap interval
    (``writer_ci_low``/``writer_ci_high``), all in points.
    """
    from reliable_ml import stats

    sets = rebuilt_test_sets(meta, pool_rows, mix, n, seed=seed)
    frames = []
    for name, rows in sets.items():
        c_new = correct_pool[:, np.searchsorted(pool_rows, rows)]
        frame = stats.drop_intervals(correct_S, c_new, alpha)
        lo, hi = stats.cluster_bootstrap_difference(
            correct_S, writers_S, c_new, meta["writer_id"].to_numpy()[rows], alpha=alpha, seed=seed
        )
        frames.append(
            frame.assign(test_set=name, model=np.arange(len(frame)), writer_ci_low=100 * lo, writer_ci_high=100 * hi)
        )
    return pd.concat(frames, ignore_index=True)


def summarize_drops(drops: pd.DataFrame) -> pd.DataFrame:
    """Per rebuilt set: mean drop over models and how many models' intervals exclude 0 (two kinds)."""
    iid = (drops["ci_low"] > 0) | (drops["ci_high"] < 0)
    writers = (drops["writer_ci_low"] > 0) | (drops["writer_ci_high"] < 0)
    by = drops["test_set"]
    return pd.DataFrame(
        {
            "mean drop (points)": drops.groupby(by, sort=False)["drop"].mean(),
            "models whose CI excludes 0 (digits iid)": iid.groupby(by, sort=False).sum(),
            "... (writers resampled)": writers.groupby(by, sort=False).sum(),
            "models": drops.groupby(by, sort=False).size(),
        }
    )


def plot_rebuilt(drops: pd.DataFrame, n_S: int, n_new: int, source: str, level: str):
    """Accuracy on each rebuilt set against accuracy on S, one probit line per set."""
    from reliable_ml import stats

    acc_S = drops[drops["test_set"] == "matched"]["acc_a"].to_numpy()
    acc_new = {
        f"{name} (n = {n_new:,})": frame["acc_b"].to_numpy() for name, frame in drops.groupby("test_set", sort=False)
    }
    return stats.plot_original_vs_new(
        acc_S,
        acc_new,
        f"accuracy on the MNIST test set S (%, n = {n_S:,})",
        "Rebuilt test sets from held-out MNIST writers",
        source,
        note=f"lines: linear fits on the probit scale; {level} intervals in the table",
    )


def rebuilt_numbers(by_draw: list[pd.DataFrame], best: int) -> tuple[dict, dict]:
    """Results and prose numbers of the rebuilt-set experiment.

    ``by_draw``: :func:`rebuilt_drops` frames, one per independent draw of the rebuilt sets;
    ``best``: index of the reference model. Returns ``(results, numbers)``: ``results`` holds
    the first draw's drops of the reference model with both intervals (``<set>_drop``,
    ``<set>_drop_ci`` writer bootstrap, ``<set>_drop_ci_iid``), the zoo's mean drop per set,
    and mean / standard deviation over draws; ``numbers`` is a flat dict for the prose.
    ``matched_verdict``: the words for the reference model's matched drop, its writer-bootstrap
    interval against 0 (:func:`reliable_ml.stats.against_reference`, :func:`reliable_ml.stats.phrase`);
    the verdict itself is kept in ``results["matched_drop_verdict"]``.
    """
    first = by_draw[0]
    row = first[first["model"] == best].set_index("test_set")
    means = pd.DataFrame({d: summarize_drops(f)["mean drop (points)"] for d, f in enumerate(by_draw)})
    best_by = pd.DataFrame({d: f[f["model"] == best].set_index("test_set")["drop"] for d, f in enumerate(by_draw)})
    summary = summarize_drops(first)

    def sd(s: pd.Series) -> float:
        return float(s.std(ddof=1)) if len(s) > 1 else float("nan")

    results, numbers = {"n_draws": len(by_draw), "mean_drop": means[0].round(3).to_dict()}, {"n_draws": len(by_draw)}
    results["mean_drop_over_draws"] = {
        k: {"mean": round(float(v.mean()), 3), "sd": round(sd(v), 3)} for k, v in means.iterrows()
    }
    results["best_model_drop_over_draws"] = {
        k: {"mean": round(float(v.mean()), 3), "sd": round(sd(v), 3)} for k, v in best_by.iterrows()
    }
    for name, r in row.iterrows():
        results[f"{name}_drop"] = round(float(r["drop"]), 3)
        results[f"{name}_drop_ci"] = [round(float(r["writer_ci_low"]), 3), round(float(r["writer_ci_high"]), 3)]
        results[f"{name}_drop_ci_iid"] = [round(float(r["ci_low"]), 3), round(float(r["ci_high"]), 3)]
        numbers.update(
            {
                f"{name}_drop": r["drop"],
                f"{name}_lo": r["writer_ci_low"],
                f"{name}_hi": r["writer_ci_high"],
                f"{name}_iid_lo": r["ci_low"],
                f"{name}_iid_hi": r["ci_high"],
                f"{name}_draws_mean": best_by.loc[name].mean(),
                f"{name}_draws_sd": sd(best_by.loc[name]),
                f"{name}_zoo_mean": means.loc[name].mean(),
                f"{name}_zoo_sd": sd(means.loc[name]),
                f"{name}_zoo_min": means.loc[name].min(),
                f"{name}_zoo_max": means.loc[name].max(),
                f"{name}_excl_iid": int(summary.loc[name, "models whose CI excludes 0 (digits iid)"]),
                f"{name}_excl_writers": int(summary.loc[name, "... (writers resampled)"]),
            }
        )
    # the verdict on the matched drop: its writer-bootstrap interval against 0, in the one phrase table
    verdict = stats.against_reference(
        row.loc["matched", "drop"], (row.loc["matched", "writer_ci_low"], row.loc["matched", "writer_ci_high"]), 0.0
    )
    numbers["matched_verdict"] = stats.phrase(
        verdict, "above zero", "below zero", "not distinguishable from zero", scale=1.0, digits=2
    )
    results["matched_drop_verdict"] = {**asdict(verdict), "interval_of": "writer-cluster bootstrap"}
    results["models_drop_ci_excludes_zero"] = {
        "digits iid": summary["models whose CI excludes 0 (digits iid)"].astype(int).to_dict(),
        "writers resampled": summary["... (writers resampled)"].astype(int).to_dict(),
    }
    return results, {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in numbers.items()}
