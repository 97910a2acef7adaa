"""Real annotators: selection frequencies and human accuracy from CIFAR-10H.

CIFAR-10H {Peterson et al. 2019} gives, for each of the 10,000 CIFAR-10 test images (in the
canonical test order), how many of its ~51 annotators chose each class: ``counts (N, K)``.

* **Selection frequency** of image i for class c: ``SF_i(c) = counts[i, c] / sum_k counts[i, k]``,
  the share of its annotators who chose c (ImageNetV2's SF asks "does this image contain a
  c?" per image; CIFAR-10H's forced choice among ten classes is the closest released
  analogue). No model enters it.
* **One annotator's expected accuracy** against labels y: ``mean_i SF_i(y_i)`` (a random
  annotator of a random image).
* **Majority vote**: ``argmax_c counts[i, c]`` (ties broken at random); its accuracy against y.
* **Estimated SF from k annotators** (Engstrom et al. 2020): draw k of image i's annotators
  without replacement; the number who chose c is hypergeometric
  ``H(k; counts[i, c], n_i - counts[i, c])``, and ``SF_hat = that / k``.

The sampling strategies themselves are :mod:`reliable_ml.labels.annotation`'s
(``matched_frequency``, ``threshold_sample``, ``top_images``); this module supplies the
frequencies, a pool split, and the Engstrom et al. resampling experiment.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reliable_ml.labels import annotation

FINE_EDGES = (0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.96, 0.98, 0.999)  # fine SF bins near 1


def check_counts(counts: np.ndarray, n_classes: int | None = None) -> np.ndarray:
    """``counts`` as int64 ``(N, K)``: non-negative, every image with at least one annotator."""
    arr = np.asarray(counts)
    if arr.ndim != 2 or arr.shape[0] == 0 or (n_classes is not None and arr.shape[1] != n_classes):
        want = f"(N, {n_classes})" if n_classes is not None else "(N, K)"
        raise ValueError(f"annotator counts must be a non-empty {want} array; got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) or np.any(arr < 0) or np.any(arr != np.round(arr)):
        raise ValueError("annotator counts must be non-negative integers")
    arr = arr.astype(np.int64)
    empty = np.flatnonzero(arr.sum(1) == 0)
    if len(empty):
        raise ValueError(f"{len(empty)} image(s) have no annotator (first: row {empty[0]})")
    return arr


def _check_labels(labels: np.ndarray, counts: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (len(counts),) or labels.min() < 0 or labels.max() >= counts.shape[1]:
        raise ValueError(
            f"labels must be ({len(counts)},) ints in [0, {counts.shape[1] - 1}]; got shape {labels.shape}"
        )
    return labels.astype(np.int64)


def selection_frequency(counts: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """``SF_i = counts[i, classes_i] / n_i``: the share of image i's annotators who chose ``classes_i``."""
    counts = check_counts(counts)
    classes = _check_labels(classes, counts)
    return counts[np.arange(len(counts)), classes] / counts.sum(1)


def individual_accuracy(counts: np.ndarray, labels: np.ndarray) -> float:
    """Expected accuracy of one annotator on a random image: ``mean_i SF_i(labels_i)``."""
    return float(selection_frequency(counts, labels).mean())


def majority_vote(counts: np.ndarray, seed: int = 0) -> np.ndarray:
    """``argmax_c counts[i, c]`` per image, ties broken uniformly at random (seeded)."""
    counts = check_counts(counts)
    noise = np.random.default_rng(seed).random(counts.shape)  # < 1: only breaks ties
    return np.argmax(counts + noise, axis=1)


def subsample_sf(counts: np.ndarray, classes: np.ndarray, k: int | None, rng: np.random.Generator) -> np.ndarray:
    """SF estimated from ``k`` annotators drawn without replacement from each image's annotators
    (hypergeometric); ``k=None`` uses all of them. Images with fewer than k annotators use all."""
    counts = check_counts(counts)
    classes = _check_labels(classes, counts)
    if k is None:
        return selection_frequency(counts, classes)
    if int(k) < 1:
        raise ValueError(f"k (annotators per image) must be >= 1 or None (all); got {k!r}")
    good = counts[np.arange(len(counts)), classes]
    n = counts.sum(1)
    k_i = np.minimum(int(k), n)
    return rng.hypergeometric(good, n - good, k_i) / k_i


@dataclass(frozen=True)
class PoolSplit:
    """The canonical test set cut in two: a *reference* half (plays the original test set) and
    a *candidate pool* (plays the new images), both indices into the 10,000 test images."""

    reference: np.ndarray
    pool: np.ndarray


def split_reference_pool(labels: np.ndarray, pool_share: float = 0.5, seed: int = 0) -> PoolSplit:
    """Per class, a random ``pool_share`` of the images goes to the pool, the rest to the reference."""
    labels = np.asarray(labels)
    if not 0 < pool_share < 1:
        raise ValueError(f"pool_share must lie in (0, 1); got {pool_share!r}")
    rng = np.random.default_rng(seed)
    pool = []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        pool.append(members[: int(round(pool_share * len(members)))])
    pool = np.sort(np.concatenate(pool))
    return PoolSplit(np.setdiff1d(np.arange(len(labels)), pool), pool)


def skew_pool(sf: np.ndarray, pool: np.ndarray, high_sf: float, keep_high: float, seed: int = 0) -> np.ndarray:
    """A pool skewed toward lower SF, as ImageNetV2's was (Engstrom et al. 2020): every image of
    ``pool`` with true SF < ``high_sf`` stays, one with SF >= ``high_sf`` stays with probability
    ``keep_high``. ``sf`` is indexed like the full test set."""
    if not 0 < keep_high <= 1 or not 0 < high_sf <= 1:
        raise ValueError(f"keep_high must lie in (0, 1] and high_sf in (0, 1]; got {keep_high!r}, {high_sf!r}")
    rng = np.random.default_rng(seed)
    pool = np.asarray(pool)
    keep = (sf[pool] < high_sf) | (rng.random(len(pool)) < keep_high)
    return pool[keep]


def strategy_picks(
    sf: np.ndarray,
    labels: np.ndarray,
    split: PoolSplit,
    per_class: int,
    rng: np.random.Generator,
    edges=annotation.SF_EDGES,
) -> dict[str, np.ndarray]:
    """The four test sets drawn from ``split.pool`` (indices into the full test set):
    ``random`` (per class, uniformly), ``matched_frequency`` (the reference's per-class SF
    histogram over ``edges``, sampling upward), ``threshold0.7`` and ``top_images``."""
    k = int(labels.max()) + 1
    sf_p, y_p = sf[split.pool], labels[split.pool]
    target = annotation.sf_histogram(sf[split.reference], labels[split.reference], k, edges)
    idx = {
        "random": np.sort(
            np.concatenate([rng.choice(np.flatnonzero(y_p == c), per_class, replace=False) for c in range(k)])
        ),
        "matched_frequency": annotation.matched_frequency(sf_p, y_p, target, per_class, rng, edges),
        "threshold0.7": annotation.threshold_sample(sf_p, y_p, per_class, k, rng),
        "top_images": annotation.top_images(sf_p, y_p, per_class, k, rng),
    }
    return {name: split.pool[i] for name, i in idx.items()}


def engstrom_drops(
    counts: np.ndarray,
    labels: np.ndarray,
    correct: np.ndarray,
    reference: np.ndarray,
    pool: np.ndarray,
    per_class: int,
    ks=(3, 5, 10, None),
    n_resamples: int = 200,
    edges=FINE_EDGES,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Apparent drop of a MatchedFrequency set when SF is *estimated* from k annotators.

    Each resample draws k annotators per image (reference and pool alike), matches the pool to
    the reference's estimated per-class SF histogram over ``edges`` and records
    ``drop = mean over models of acc(reference) - acc(matched)`` in points, with
    ``correct (M, N)`` the models' per-image correctness. Returns ``{"3": drops (R,), ...,
    "all": drops}``. Engstrom et al. 2020 ("Identifying statistical bias in dataset
    replication"): with noisy SF, a pool whose true SF runs lower than the reference's gives a
    matched set of images that are truly harder, a drop that is not there.
    """
    counts = check_counts(counts)
    labels = _check_labels(labels, counts)
    correct = np.asarray(correct, dtype=float)
    if correct.ndim != 2 or correct.shape[1] != len(counts):
        raise ValueError(f"correct must be (models, {len(counts)}); got {correct.shape}")
    n_classes = counts.shape[1]
    acc_ref = correct[:, reference].mean()
    rng = np.random.default_rng(seed)
    out = {}
    for k in ks:
        drops = np.empty(n_resamples)
        for r in range(n_resamples):
            sf = subsample_sf(counts, labels, k, rng)
            target = annotation.sf_histogram(sf[reference], labels[reference], n_classes, edges)
            pick = annotation.matched_frequency(sf[pool], labels[pool], target, per_class, rng, edges)
            drops[r] = 100 * (acc_ref - correct[:, pool[pick]].mean())
        out["all" if k is None else str(k)] = drops
    return out


#: matchings (splits x resamples x values of k) from which :func:`engstrom_bias` keeps its result
ENGSTROM_CACHE_MIN_MATCHINGS = 200


def engstrom_bias(
    counts: np.ndarray,
    labels: np.ndarray,
    correct: dict[str, np.ndarray],
    per_class: int,
    *,
    ks=(3, 5, 10, None),
    splits: int = 10,
    n_resamples: int = 50,
    high_sf: float = 0.9,
    keep_high: float = 0.3,
    edges=FINE_EDGES,
    seed: int = 0,
) -> dict:
    """Engstrom et al.'s bias, measured as it should be: against the all-annotator baseline, over
    many reference/pool splits, for several sets of models at once.

    For each split s (``split_reference_pool(labels, 0.5, seed + s)``, skewed by
    ``skew_pool(sf, pool, high_sf, keep_high, seed + s)``) and resample r, the matching draw uses
    one random stream for every k (common random numbers: ``default_rng([seed, s, r])``), and the
    k annotators are drawn from their own stream; every model set in ``correct`` (name ->
    bool ``(M, N)``) is scored on the same matched set. ``drop_k(s)`` = mean over resamples of
    (acc on the reference - acc on the matched set), points, averaged over a set's models.
    The *bias* of k is ``drop_k(s) - drop_all(s)``: the all-annotator "drop" is not zero (the
    split and the fine-bin matching leave an offset), and it is that offset, not zero, against
    which noisy estimates must be judged. Returns ``{"drop": {name: {k: (splits,)}},
    "drop_models": {name: {k: (models, splits)}}, "error_reference": {name: (splits,)}, "error_models":
    {name: (models, splits)} (each model's error on the split's reference, %), "splits", "resamples"}``
    (k as "3", ..., "all"); ``drop`` is ``drop_models`` averaged over the models. From
    :data:`ENGSTROM_CACHE_MIN_MATCHINGS` matchings on, the result is kept in the result cache
    (:func:`reliable_ml.util.result_cache.cached_arrays`), keyed by every argument, the inputs'
    bytes and the source of this module and of :mod:`reliable_ml.labels.annotation`."""
    counts = check_counts(counts)
    labels = _check_labels(labels, counts)
    if splits < 1 or n_resamples < 1:
        raise ValueError(f"splits and n_resamples must be >= 1; got {splits!r}, {n_resamples!r}")
    correct = {name: np.asarray(c, dtype=float) for name, c in correct.items()}
    for name, c in correct.items():
        if c.ndim != 2 or c.shape[1] != len(labels):
            raise ValueError(f"correct[{name!r}] must be (models, {len(labels)}); got {c.shape}")
    from reliable_ml.util import result_cache

    def compute() -> dict:
        names_k = ["all" if k is None else str(k) for k in ks]
        n_classes = counts.shape[1]
        sf_true = selection_frequency(counts, labels)
        drop_m = {name: {k: np.empty((len(c), splits)) for k in names_k} for name, c in correct.items()}
        err_ref = {name: np.empty(splits) for name in correct}
        err_m = {name: np.empty((len(c), splits)) for name, c in correct.items()}
        for s in range(splits):
            split = split_reference_pool(labels, 0.5, seed=seed + s)
            pool = skew_pool(sf_true, split.pool, high_sf, keep_high, seed=seed + s)
            ref = {name: c[:, split.reference].mean(1) for name, c in correct.items()}  # (models,)
            sums = {name: np.zeros((len(ks), len(c))) for name, c in correct.items()}
            for r in range(n_resamples):
                sf_rng = np.random.default_rng([seed, s, r, 1])
                for j, k in enumerate(ks):
                    sf = subsample_sf(counts, labels, k, sf_rng)
                    target = annotation.sf_histogram(sf[split.reference], labels[split.reference], n_classes, edges)
                    match_rng = np.random.default_rng([seed, s, r])  # the same matching draw for every k
                    pick = pool[
                        annotation.matched_frequency(sf[pool], labels[pool], target, per_class, match_rng, edges)
                    ]
                    for name, c in correct.items():
                        sums[name][j] += ref[name] - c[:, pick].mean(1)
            for name in correct:
                err_ref[name][s] = 100 * (1 - ref[name].mean())
                err_m[name][:, s] = 100 * (1 - ref[name])
                for j, k in enumerate(names_k):
                    drop_m[name][k][:, s] = 100 * sums[name][j] / n_resamples
        drop = {name: {k: v.mean(0) for k, v in by_k.items()} for name, by_k in drop_m.items()}
        return {
            "drop": drop,
            "drop_models": drop_m,
            "error_reference": err_ref,
            "error_models": err_m,
            "splits": int(splits),
            "resamples": int(n_resamples),
        }

    # 10 splits x 50 resamples x 4 values of k of matching: kept in the result cache, keyed by
    # every setting, the inputs and the code that draws (this module, the matching in annotation)
    settings = {
        "function": "engstrom_bias",
        "per_class": int(per_class),
        "ks": [None if k is None else int(k) for k in ks],
        "splits": int(splits),
        "n_resamples": int(n_resamples),
        "high_sf": float(high_sf),
        "keep_high": float(keep_high),
        "edges": np.asarray(edges, dtype=float).tolist(),
        "seed": int(seed),
        "sets": list(correct),
    }
    return result_cache.cached_arrays(
        "engstrom_bias",
        settings,
        compute,
        arrays=(counts, labels, *correct.values()),
        code=(sys.modules[__name__], annotation),
        enabled=splits * n_resamples * len(ks) >= ENGSTROM_CACHE_MIN_MATCHINGS,
    )


def models_and_splits_interval(x: np.ndarray, alpha: float = 0.05) -> tuple[float, float, float]:
    """Mean of ``x`` (models, splits) with an interval that accounts for both as samples.

    Models are a sample of models, splits a sample of the images' reference/pool assignment,
    skew and annotator draws. The interval is :func:`reliable_ml.stats.crossed_interval`'s: the
    unbiased variance of a crossed random-effects mean, var(model means)/M + var(split
    means)/S - MSE/(MS), with a Satterthwaite t quantile. It replaces a crossed ("pigeonhole",
    Owen 2007) percentile bootstrap, which with 10 splits was about 18% too narrow: the
    bootstrap variance of a mean over S splits is (S - 1)/S of the unbiased one (0.95 in sd at
    S = 10), and its 1.96 stands in for t_9's 2.26 (0.87); together 0.82.
    Returns ``(mean, low, high)`` in ``x``'s units."""
    from reliable_ml.stats import crossed_interval

    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or min(x.shape) < 2:
        raise ValueError(f"need a (models, splits) matrix with at least 2 of each; got shape {x.shape}")
    out = crossed_interval(x, alpha=alpha)
    return out["estimate"], out["ci"][0], out["ci"][1]


def _crossed_block(out: dict, alpha: float) -> dict:
    """A crossed-interval result as a verdict block (points; against 0)."""
    from scipy.stats import t as t_dist

    from reliable_ml.stats import against_reference

    est, (lo, hi), se = out["estimate"], out["ci"], out["se"]
    v = against_reference(est, (lo, hi), 0.0, alpha=alpha)
    p = float(2 * t_dist.sf(abs(est) / se, out["df"])) if se > 0 else (1.0 if est == 0 else 0.0)
    return {
        "mean": round(est, 3),
        "ci": [round(lo, 3), round(hi, 3)],
        "direction": v.direction,
        "test": out["test"],
        "df": round(out["df"], 2),
        "p": round(p, 5),
    }


def engstrom_models_and_splits(bias_run: dict, name: str, alpha: float = 0.05):
    """The apparent drop of model set ``name`` for each k, and its bias against the all-annotator
    baseline (drop_k - drop_all, per model and split), each with the interval of
    :func:`models_and_splits_interval` (models and splits both random; t with Satterthwaite df)
    and its verdict against 0 (:func:`reliable_ml.stats.against_reference`; points)."""
    from reliable_ml.stats import crossed_interval

    dm = bias_run["drop_models"][name]
    if min(dm["all"].shape) < 2:
        raise ValueError(f"need at least 2 models and 2 splits for {name!r}; got {dm['all'].shape}")

    def block(x: np.ndarray) -> dict:
        return _crossed_block(crossed_interval(x, alpha=alpha), alpha)

    return {
        "drop": {k: block(x) for k, x in dm.items()},
        "bias": {k: block(x - dm["all"]) for k, x in dm.items() if k != "all"},
        "models": int(dm["all"].shape[0]),
    }


def engstrom_between_sets(bias_run: dict, alpha: float = 0.05) -> dict:
    """For every pair of model sets (a, b), the difference of their biases (drop_k - drop_all,
    per model and split), a - b, for each k: both sets' models resampled as samples of models and
    the shared splits as a sample of splits (:func:`reliable_ml.stats.crossed_interval` with two
    tables; a set of one model is that model, fixed). ``{"a - b": {k: block}}`` in points."""
    from reliable_ml.stats import crossed_interval

    dm = bias_run["drop_models"]
    names = list(dm)
    return {
        f"{a} - {b}": {
            k: _crossed_block(crossed_interval(dm[a][k] - dm[a]["all"], dm[b][k] - dm[b]["all"], alpha=alpha), alpha)
            for k in dm[a]
            if k != "all"
        }
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    }


def engstrom_between_sets_relative(bias_run: dict, alpha: float = 0.05) -> dict:
    """As :func:`engstrom_between_sets`, for the bias relative to each set's error rate on the
    reference (% more errors): R_set = mean(drop_k - drop_all) / mean(error), both over the set's
    models and the splits; a - b with numerator and denominator of both sets resampled together
    (:func:`reliable_ml.stats.crossed_ratio_interval`, delta method: neither error rate is held
    fixed). Needs ``bias_run["error_models"]``. ``{"a - b": {k: block}}`` in %."""
    from reliable_ml.stats import crossed_ratio_interval

    dm, em = bias_run["drop_models"], bias_run["error_models"]
    bad = {n: float(np.mean(em[n])) for n in dm if not np.mean(em[n]) > 0}
    if bad:
        raise ValueError(f"a relative bias needs a reference error rate > 0; got {bad}")
    names = list(dm)

    def block(a, b, k):
        out = crossed_ratio_interval(dm[a][k] - dm[a]["all"], em[a], dm[b][k] - dm[b]["all"], em[b], alpha=alpha)
        return _crossed_block(_percent(out), alpha)

    return {
        f"{a} - {b}": {k: block(a, b, k) for k in dm[a] if k != "all"}
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    }


def _percent(out: dict) -> dict:
    """A ratio's interval result in % (estimate, ci and se times 100)."""
    return {**out, "estimate": 100 * out["estimate"], "ci": [100 * v for v in out["ci"]], "se": 100 * out["se"]}


def engstrom_verdicts(bias_run: dict, alpha: float = 0.05) -> dict:
    """The verdicts on :func:`engstrom_bias`'s result: per model set and k, each a paired t test
    over the splits with the set's models averaged first (:func:`reliable_ml.stats.compare`,
    ``paired=True``; points), the drop against 0 and the bias (drop_k - drop_all) against 0, and
    the bias of the smallest k against the next larger one; for every pair of model sets, their
    biases against each other with both sets' models and the splits resampled
    (:func:`engstrom_between_sets`).
    ``relative_error_increase_pct``: the bias over the set's error rate on the reference (%);
    ``relative_error_increase_ci``: its interval as a ratio of two means over the same models and
    splits, mean(drop_k - drop_all) / mean(error), numerator and denominator resampled together
    (:func:`reliable_ml.stats.crossed_ratio_interval`: delta method on the crossed interval).
    Needs at least 2 splits."""
    from reliable_ml.stats import compare, crossed_ratio_interval

    def block(v) -> dict:
        return {
            "mean": round(v.difference, 3),
            "ci": [round(v.interval[0], 3), round(v.interval[1], 3)],
            "direction": v.direction,
            "test": v.test,
            "p": round(v.p_value, 5),
        }

    if bias_run["splits"] < 2:
        raise ValueError("verdicts over splits need at least 2 splits")
    out = {"splits": bias_run["splits"], "resamples": bias_run["resamples"], "alpha": alpha, "sets": {}}
    for name, drops in bias_run["drop"].items():
        zero = np.zeros(bias_run["splits"])
        ks = [k for k in drops if k != "all"]
        err = float(np.mean(bias_run["error_reference"][name]))
        entry = {"error_reference_pct": round(err, 3), "drop": {}, "bias": {}}
        for k in drops:
            entry["drop"][k] = block(compare(drops[k], zero, paired=True, alpha=alpha))
        for k in ks:
            b = compare(drops[k], drops["all"], paired=True, alpha=alpha)
            entry["bias"][k] = block(b) | {"relative_error_increase_pct": round(100 * b.difference / err, 2)}
            table = bias_run.get("drop_models", {}).get(name)
            errors = bias_run.get("error_models", {}).get(name)
            if table is not None and errors is not None and table[k].shape[1] >= 2:
                lo, hi = crossed_ratio_interval(table[k] - table["all"], errors, alpha=alpha)["ci"]
                entry["bias"][k]["relative_error_increase_ci"] = [round(100 * lo, 2), round(100 * hi, 2)]
        if len(ks) >= 2:
            entry["first_vs_next"] = {
                "ks": ks[:2],
                **block(compare(drops[ks[0]] - drops["all"], drops[ks[1]] - drops["all"], paired=True, alpha=alpha)),
            }
        out["sets"][name] = entry
    out["between_sets"] = engstrom_between_sets(bias_run, alpha)
    if "drop_models" in bias_run and "error_models" in bias_run:
        out["between_sets_relative"] = engstrom_between_sets_relative(bias_run, alpha)
    return out


def engstrom_numbers(ev: dict) -> dict:
    """What chapter 02's prose quotes from :func:`engstrom_verdicts` (``ev``; empty: nothing):
    per model set ``<set>`` and k, ``eng_<set>_bias_<k>`` (points), ``_lo``, ``_hi``, the
    words ``eng_<set>_bias_<k>_words`` and ``eng_<set>_rel_<k>`` (% more errors, with ``_lo``, ``_hi``);
    ``eng_<set>_err`` (error on the reference, %), ``eng_<set>_first_vs_next`` (the smallest k's
    bias against the next k's); ``eng_<a>_vs_<b>_<k>`` for each pair of sets. Words from
    :func:`reliable_ml.stats.phrase` on the verdicts (points)."""
    from reliable_ml.stats import Verdict, phrase

    def verdict(b: dict) -> Verdict:
        return Verdict(b["direction"], b["mean"], tuple(b["ci"]), b["test"], b["p"], ev["alpha"])

    out: dict = {}
    for name, e in ev.get("sets", {}).items():
        out[f"eng_{name}_err"] = e["error_reference_pct"]
        for k, b in e["bias"].items():
            out |= {
                f"eng_{name}_bias_{k}": b["mean"],
                f"eng_{name}_bias_{k}_lo": b["ci"][0],
                f"eng_{name}_bias_{k}_hi": b["ci"][1],
                f"eng_{name}_bias_{k}_words": phrase(
                    verdict(b), "above zero", "below zero", "indistinguishable from zero", scale=1
                ),
                f"eng_{name}_rel_{k}": b["relative_error_increase_pct"],
            }
            rel_ci = b.get("relative_error_increase_ci", [float("nan")] * 2)
            out |= {f"eng_{name}_rel_{k}_lo": rel_ci[0], f"eng_{name}_rel_{k}_hi": rel_ci[1]}
        if "first_vs_next" in e:
            f = e["first_vs_next"]
            out[f"eng_{name}_first_vs_next"] = phrase(
                verdict(f),
                f"the bias is larger with {f['ks'][0]} annotators than with {f['ks'][1]}",
                f"the bias is smaller with {f['ks'][0]} annotators than with {f['ks'][1]}",
                f"the data cannot tell the biases of {f['ks'][0]} and {f['ks'][1]} annotators apart",
                scale=1,
            )
    for pair, by_k in ev.get("between_sets", {}).items():
        a, b = pair.split(" - ")
        for k, blk in by_k.items():
            out[f"eng_{a}_vs_{b}_{k}"] = phrase(
                verdict(blk),
                f"the bias is larger for the {a} set than for the {b} set",
                f"the bias is smaller for the {a} set than for the {b} set",
                f"the data cannot tell the {a} set's bias from the {b} set's",
                scale=1,
            )
    for pair, by_k in ev.get("between_sets_relative", {}).items():
        a, b = pair.split(" - ")
        for k, blk in by_k.items():
            out[f"eng_{a}_vs_{b}_{k}_rel"] = blk["mean"]
            out[f"eng_{a}_vs_{b}_{k}_rel_lo"], out[f"eng_{a}_vs_{b}_{k}_rel_hi"] = blk["ci"]
            out[f"eng_{a}_vs_{b}_{k}_rel_words"] = phrase(
                verdict(blk),
                f"the relative increase in errors is larger for the {a} set than for the {b} set",
                f"the relative increase in errors is smaller for the {a} set than for the {b} set",
                f"the data cannot tell the {a} set's relative increase from the {b} set's",
                scale=1,
                unit="percentage points",
            )
    return out


def spread(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and the central ``level`` percentile interval of resampled values."""
    values = np.asarray(values, dtype=float)
    lo, hi = np.percentile(values, [50 * (1 - level), 50 * (1 + level)])
    return float(values.mean()), float(lo), float(hi)


def load_cv_predictions(path: Path | str, n: int = 10_000, n_classes: int = 10) -> np.ndarray:
    """The label-errors release's cross-validated predicted labels (``*_pyx_argmax_predicted_labels.npy``),
    checked: int ``(n,)`` in ``[0, n_classes)``. Raises ``FileNotFoundError`` / ``ValueError`` naming the file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"cross-validated predictions not found: {path.name}")
    arr = np.load(path, allow_pickle=False)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0 or arr.max() >= n_classes:
        raise ValueError(
            f"{path.name}: expected ({n},) integers in [0, {n_classes}); got {arr.dtype} "
            f"{arr.shape} in [{arr.min()}, {arr.max()}]"
        )
    return arr.astype(np.int64)


def agreement_table(sf_label: np.ndarray, correct: np.ndarray, edges=(0.5, 0.7, 0.9, 0.999)):
    """Per human-agreement bin (SF of the original label), the images and the models' mean
    accuracy: do models fail where humans hesitate? ``correct (M, N)`` bools."""
    import pandas as pd

    sf_label, correct = np.asarray(sf_label, float), np.asarray(correct, float)
    b = np.searchsorted(np.asarray(edges), sf_label, side="right")
    names = [f"< {edges[0]}"] + [f"[{a}, {c})" for a, c in zip(edges[:-1], edges[1:])] + [f">= {edges[-1]}"]
    rows = [
        {
            "human agreement": names[j],
            "images": int((b == j).sum()),
            "model accuracy (%)": 100 * correct[:, b == j].mean() if (b == j).any() else np.nan,
        }
        for j in range(len(names))
    ]
    return pd.DataFrame(rows).set_index("human agreement")


STRATEGY_NAMES = ("random", "matched_frequency", "threshold0.7", "top_images")


def strategy_draws(
    sf: np.ndarray,
    labels: np.ndarray,
    correct: np.ndarray,
    split: PoolSplit,
    per_class: int,
    n_draws: int,
    seed: int = 0,
):
    """Draw each strategy ``n_draws`` times (fresh randomness each time): one row per draw and
    strategy with the zoo's mean accuracy (%) on the drawn set, its mean SF and its size."""
    import pandas as pd

    if n_draws < 2:
        raise ValueError(f"n_draws must be at least 2 (a spread needs two draws); got {n_draws!r}")
    rows = []
    for d in range(n_draws):
        for name, idx in strategy_picks(sf, labels, split, per_class, np.random.default_rng([seed, d])).items():
            rows.append(
                {
                    "draw": d,
                    "strategy": name,
                    "acc (%)": 100 * np.asarray(correct)[:, idx].mean(),
                    "mean SF": sf[idx].mean(),
                    "images": len(idx),
                }
            )
    return pd.DataFrame(rows)


def strategy_table(
    sf: np.ndarray,
    labels: np.ndarray,
    correct: np.ndarray,
    split: PoolSplit,
    per_class: int,
    n_draws: int,
    seed: int = 0,
    level: float = 0.95,
    draws=None,
):
    """Per strategy the zoo's mean accuracy (%) averaged over ``n_draws`` draws, the central
    ``level`` spread of *single* draws (``acc lo``, ``acc hi``: what one rebuilt set can show),
    the mean SF and the set size. ``correct (M, N)``; ``draws``: :func:`strategy_draws`'s table
    when already drawn."""
    import pandas as pd

    if draws is None:
        draws = strategy_draws(sf, labels, correct, split, per_class, n_draws, seed)
    rows = {}
    for name in STRATEGY_NAMES:
        a = draws[draws["strategy"] == name]
        mean, lo, hi = spread(a["acc (%)"].to_numpy(), level)
        rows[name] = {
            "acc (%)": mean,
            "acc lo": lo,
            "acc hi": hi,
            "mean SF": a["mean SF"].mean(),
            "images": int(a["images"].iloc[0]),
        }
    return pd.DataFrame(rows).T


def versus_random(draws, level: float = 0.95):
    """Each strategy minus ``random``, draw by draw: the mean difference over draws (points), the
    ``level`` interval of that *mean* and its verdict, from the paired t test over the draws
    (:func:`reliable_ml.stats.compare`, ``paired=True``: the interval is
    mean -+ t_{draws - 1} sd / sqrt(draws)): a mean compared with the sampling distribution of a
    mean, not with the spread of single draws. Column ``verdict`` holds the
    :class:`~reliable_ml.stats.Verdict` (in points)."""
    import pandas as pd

    from reliable_ml.stats import compare

    acc = draws.pivot(index="draw", columns="strategy", values="acc (%)")
    rows = {}
    for name in [s for s in STRATEGY_NAMES if s != "random" and s in acc.columns]:
        v = compare(acc[name].to_numpy(), acc["random"].to_numpy(), paired=True, alpha=1 - level)
        rows[name] = {
            "mean difference": v.difference,
            "lo": v.interval[0],
            "hi": v.interval[1],
            "draws": len(acc),
            "direction": v.direction,
            "p": v.p_value,
            "verdict": v,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def versus_random_numbers(table, prefix: str = "c10h") -> tuple[dict, dict]:
    """From a :func:`versus_random` table: the numbers the prose quotes (``c10h_<strategy>_mean``,
    ``_lo``, ``_hi``, and ``_vs_random``, the verdict's words from
    :func:`reliable_ml.stats.phrase`: "scores higher than random by ...", "scores lower than
    random by ..." or "cannot be told from random (difference ...)") and the results-file block.
    ``prefix`` replaces ``c10h`` in the names (a second pool's table)."""
    from reliable_ml.stats import phrase

    glued, block = {}, {}
    for name, r in table.iterrows():
        v = r["verdict"]
        glued |= {
            f"{prefix}_{name}_mean": float(r["mean difference"]),
            f"{prefix}_{name}_lo": float(r["lo"]),
            f"{prefix}_{name}_hi": float(r["hi"]),
            f"{prefix}_{name}_vs_random": phrase(
                v, "scores higher than random", "scores lower than random", "cannot be told from random", scale=1
            ),
        }
        block[name] = {
            "mean": round(float(r["mean difference"]), 3),
            "ci": [round(float(r["lo"]), 3), round(float(r["hi"]), 3)],
            "direction": v.direction,
            "test": v.test,
            "p": round(float(v.p_value), 5),
        }
    for name in STRATEGY_NAMES[1:]:  # a strategy the table lacks (too few draws) is quoted as NaN
        if f"{prefix}_{name}_mean" not in glued:
            glued |= {f"{prefix}_{name}_{p}": float("nan") for p in ("mean", "lo", "hi")}
            glued[f"{prefix}_{name}_vs_random"] = "not measured"
    return glued, block


def drops_table(drops: dict[str, np.ndarray], level: float = 0.95):
    """``{k: drops}`` -> a table of the mean apparent drop and its central ``level`` spread."""
    import pandas as pd

    return pd.DataFrame({k: dict(zip(("drop", "lo", "hi"), spread(v, level))) for k, v in drops.items()}).T


def results(strat, eng, acc_name: str = "zoo_mean_acc") -> dict:
    """The ``cifar10h`` block of chapter 02's results from :func:`strategy_table` and
    :func:`drops_table`; ``acc_name`` names the strategies' mean-accuracy field (which models)."""
    return {
        "strategies": {
            k: {
                acc_name: round(float(r["acc (%)"]), 3),
                "n": int(r["images"]),
                "ci": [round(float(r["acc lo"]), 3), round(float(r["acc hi"]), 3)],
                "mean_sf": round(float(r["mean SF"]), 4),
            }
            for k, r in strat.iterrows()
        },
        "engstrom": {
            k: {"matched_drop": round(float(r["drop"]), 3), "ci": [round(float(r["lo"]), 3), round(float(r["hi"]), 3)]}
            for k, r in eng.iterrows()
        },
    }


CV_PREDICTIONS = "label-errors/cross_validated_predicted_labels/cifar10_test_set_pyx_argmax_predicted_labels.npy"


def cifar10_cv_predictions(root=None, download: bool = True) -> np.ndarray:
    """The label-errors release's (Northcutt et al. 2021) cross-validated CIFAR-10 test
    predictions, int64 ``(10000,)`` in canonical order, from the data root or downloaded
    (checksummed); ``DataUnavailable`` when neither works."""
    from reliable_ml.data.files import ensure_file

    return load_cv_predictions(ensure_file(CV_PREDICTIONS, root, download))


AGREEMENT_EDGES = (0.5, 0.7, 0.9, 0.999)


def correct_matrix(predictions: dict[str, np.ndarray], labels: np.ndarray) -> tuple[list[str], np.ndarray]:
    """``(names, correct)`` with ``correct[m, i]``: model ``names[m]`` predicts ``labels[i]``.
    Every prediction vector must have the labels' shape."""
    labels = np.asarray(labels)
    names = list(predictions)
    bad = [m for m in names if np.shape(predictions[m]) != labels.shape]
    if not names or bad:
        raise ValueError(
            f"need predictions of shape {labels.shape} for every model; bad: {bad[:3]}"
            if names
            else "no model predictions given"
        )
    return names, np.stack([np.asarray(predictions[m]) == labels for m in names])


def published_models_summary(
    counts: np.ndarray,
    labels: np.ndarray,
    names: list[str],
    correct: np.ndarray,
    hesitant: float = 0.9,
    unanimous: float = 0.999,
    alpha: float = 0.05,
) -> dict:
    """CIFAR-10H against released model predictions on the canonical test set (the 30 published
    models of CIFAR-10.1's ``original_predictions``): ``correct[m, i]``, model ``names[m]`` is
    right on image i (:func:`correct_matrix`, :func:`published_models_correct`).

    Agreement of image i: the share of its annotators who chose its canonical label.
    ``acc_by_agreement``: the mean over models of their accuracy (%) per agreement bin
    (:data:`AGREEMENT_EDGES`); ``share_of_errors_on_hesitant_pct``: of all the models' errors
    (pooled over models), the share on images with agreement < ``hesitant``;
    ``best_model_error_on_unanimous_pct``: the most accurate model's error rate on the images
    with agreement >= ``unanimous``, with a (1 - alpha) Wilson interval over those images;
    ``hesitant_share_trend``: does that share rise with accuracy across the models
    (:func:`rank_trend`)? ``core``: the images that at least half of the models get wrong,
    the share of them where people hesitate, and how many of the best model's errors they hold."""
    from reliable_ml.stats import wilson

    counts = check_counts(counts)
    labels = _check_labels(labels, counts)
    correct = np.asarray(correct, dtype=bool)
    if correct.shape != (len(names), len(labels)):
        raise ValueError(f"correct must have shape ({len(names)}, {len(labels)}) (models, images); got {correct.shape}")
    agree = selection_frequency(counts, labels)
    table = agreement_table(agree, correct, AGREEMENT_EDGES)
    acc = correct.mean(1)
    best = int(np.argmax(acc))
    wrong, h, u = ~correct, agree < hesitant, agree >= unanimous
    k_best, n_u = int(wrong[best, u].sum()), int(u.sum())
    lo, hi = wilson(k_best, n_u, alpha)
    per_model_share = 100 * wrong[:, h].sum(1) / np.maximum(1, wrong.sum(1))
    core = wrong.mean(0) >= 0.5
    return {
        "n_models": len(names),
        "n_images": int(len(labels)),
        "model_acc": {m: round(100 * float(a), 3) for m, a in zip(names, acc)},
        "acc_by_agreement": {k: round(float(v), 3) for k, v in table["model accuracy (%)"].items()},
        "images_by_agreement": {k: int(v) for k, v in table["images"].items()},
        "hesitant_share_pct": round(100 * float(h.mean()), 3),
        "share_of_errors_on_hesitant_pct": round(100 * float(wrong[:, h].sum() / max(1, wrong.sum())), 3),
        "share_of_errors_on_hesitant_per_model_pct": {
            "min": round(float(per_model_share.min()), 3),
            "median": round(float(np.median(per_model_share)), 3),
            "max": round(float(per_model_share.max()), 3),
        },
        "share_of_errors_on_hesitant_by_model_pct": {m: round(float(v), 3) for m, v in zip(names, per_model_share)},
        "hesitant_share_trend": rank_trend(acc, per_model_share, alpha) if len(names) >= 4 else None,
        "errors_by_model": {m: int(v) for m, v in zip(names, wrong.sum(1))},
        "core": {  # the images that at least half of the models get wrong
            "images": int(core.sum()),
            "hesitant_pct": round(100 * float(h[core].mean()), 3) if core.any() else float("nan"),
            "best_model_errors": int((wrong[best] & core).sum()),
        },
        "best_model": names[best],
        "best_model_acc": round(100 * float(acc[best]), 3),
        "best_model_share_of_errors_on_hesitant_pct": round(float(per_model_share[best]), 3),
        "best_model_error_on_unanimous_pct": round(100 * k_best / max(1, n_u), 3),
        "best_model_error_on_unanimous_ci": [round(100 * float(lo), 3), round(100 * float(hi), 3)],
        "best_model_errors_on_unanimous": k_best,
        "unanimous_images": n_u,
    }


def rank_trend(x, y, alpha: float = 0.05) -> dict:
    """Spearman's rho between ``x`` and ``y`` (one pair per model) with a (1 - alpha) interval
    from Fisher's z with the Fieller-Hartley-Pearson (1957) variance 1.06 / (n - 3):
    tanh(atanh(rho) -+ z_{1 - alpha/2} sqrt(1.06 / (n - 3))), and the verdict of that interval
    against 0 (:func:`reliable_ml.stats.against_reference`: "higher" is a rising trend). Needs
    at least 4 pairs; a rho of exactly +-1 is clipped to +-(1 - 1e-12) for the transform."""
    from scipy.stats import norm, spearmanr

    from reliable_ml.stats import against_reference

    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 4:
        raise ValueError(f"need two 1-d arrays of the same length, at least 4; got {x.shape} and {y.shape}")
    rho = float(spearmanr(x, y).statistic)
    z = np.arctanh(np.clip(rho, -1 + 1e-12, 1 - 1e-12))
    half = norm.ppf(1 - alpha / 2) * np.sqrt(1.06 / (len(x) - 3))
    lo, hi = float(np.tanh(z - half)), float(np.tanh(z + half))
    v = against_reference(rho, (min(lo, rho), max(hi, rho)), 0.0, alpha=alpha)
    return {
        "rho": round(rho, 4),
        "ci": [round(lo, 4), round(hi, 4)],
        "n": len(x),
        "direction": v.direction,
        "test": "Spearman, Fisher z interval vs 0",
    }


TREND_WORDS = {
    "higher": "the more accurate the model, the larger the share of its errors on images where people hesitate",
    "lower": "the more accurate the model, the smaller the share of its errors on images where people hesitate",
    "cannot tell": "the data cannot tell whether that share rises or falls with accuracy",
}


def published_numbers(pm: dict) -> dict:
    """What chapter 03's prose quotes from :func:`published_models_summary` (``pm``; empty
    without data): the range of the per-model hesitant share and of the error counts, the
    trend's rho, interval and words (from its verdict's direction, :data:`TREND_WORDS`), and
    the core of images most models get wrong."""
    nan = float("nan")
    trend = pm.get("hesitant_share_trend") or {}
    shares = list(pm.get("share_of_errors_on_hesitant_by_model_pct", {}).values()) or [nan]
    errors = list(pm.get("errors_by_model", {}).values()) or [nan]
    core = pm.get("core", {})
    return {
        "pub_share_min": min(shares),
        "pub_share_max": max(shares),
        "pub_errors_min": min(errors),
        "pub_errors_max": max(errors),
        "pub_trend_rho": trend.get("rho", nan),
        "pub_trend_lo": trend.get("ci", [nan, nan])[0],
        "pub_trend_hi": trend.get("ci", [nan, nan])[1],
        "pub_trend": TREND_WORDS.get(trend.get("direction"), "not measured"),
        "core_images": core.get("images", nan),
        "core_hesitant_pct": core.get("hesitant_pct", nan),
        "core_best_errors": core.get("best_model_errors", nan),
    }


PUBLISHED_MODELS_SOURCE = "CIFAR-10.1 model_predictions/original_predictions (Recht et al. 2018)"


def published_models_correct(labels: np.ndarray, root=None, download: bool = True) -> tuple[list[str], np.ndarray]:
    """The ~30 published CIFAR-10 models' per-image correctness on the canonical test set:
    ``(names, correct (M, 10000))``, from CIFAR-10.1's released ``original_predictions`` and the
    canonical ``labels``. ``DataUnavailable`` when the predictions or the canonical labels are
    missing, or when the release's labels differ from ``labels``."""
    from reliable_ml import data

    pub = data.cifar101_predictions("original", root, download)
    if pub.labels is None or not np.array_equal(pub.labels, labels):
        raise data.DataUnavailable(
            "CIFAR-10.1",
            data.data_root(root),
            "modestyachts/CIFAR-10.1",
            pub.note or "the canonical test labels differ from the ones given",
        )
    return correct_matrix(pub.predictions, labels)


def reference_vs_matched(draws, reference_acc: float, alpha: float = 0.05):
    """Does MatchedFrequency leave the rebuilt set harder than the reference? ``draws``: the
    :func:`strategy_draws` table; ``reference_acc``: the models' mean accuracy (%) on the reference.
    The paired t test over the draws of reference minus MatchedFrequency
    (:func:`reliable_ml.stats.compare`), and a sentence whose conclusion follows its direction.
    Returns ``(verdict, sentence)``."""
    from reliable_ml.stats import compare, phrase

    mf = draws.loc[draws["strategy"] == "matched_frequency", "acc (%)"].to_numpy(dtype=float)
    if len(mf) < 2:
        raise ValueError(f"need at least 2 MatchedFrequency draws; got {len(mf)}")
    v = compare(np.full_like(mf, reference_acc), mf, paired=True, alpha=alpha)
    words = phrase(
        v,
        "scores higher than MatchedFrequency",
        "scores lower than MatchedFrequency",
        "cannot be told from MatchedFrequency",
        scale=1,
    )
    bins = "matched on ImageNetV2's five coarse SF bins"
    sentence = {
        "higher": f"It corrects only part of the skew on this split: {bins}, the reference still {words}",
        "lower": f"{bins[0].upper()}{bins[1:]} it overshoots: the reference {words}",
        "cannot tell": f"Whether it corrects all of the skew these draws cannot tell: {bins}, the reference {words}",
    }[v.direction]
    return v, sentence


# The architecture families of the published CIFAR-10 models (CIFAR-10.1's original_predictions), for
# clustered intervals: models of one family share their design and often their training code, so they
# are not independent samples of models. Rule (written after reading the list of 30 names): the
# architecture its name gives, with depths, widths, training variants (augmentation, cutout) and
# framework ports (``_tf``, ``_keras``) joined; ResNet's basic, pre-activation and v2 versions are one
# family, shake-shake and ShakeDrop one (both scale residual branches at random); every other model
# (AlexNet, cuda-convnet, DARC, DenseNet, NAS) is a family of its own. First matching prefix wins.
PUBLISHED_FAMILIES = (
    ("random_features", "random features"),
    ("resnet_basic", "ResNet"),
    ("resnet_preact", "ResNet"),
    ("resnetv2", "ResNet"),
    ("wrn", "wide ResNet"),
    ("wide_resnet", "wide ResNet"),
    ("shake", "shake-shake/ShakeDrop"),
    ("pyramidnet", "PyramidNet"),
    ("resnext", "ResNeXt"),
    ("vgg", "VGG"),
)


def published_family(name: str) -> str:
    """The architecture family of a published CIFAR-10 model (:data:`PUBLISHED_FAMILIES`); a name
    that no prefix matches is its own family."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a model name must be a non-empty string; got {name!r}")
    return next((family for prefix, family in PUBLISHED_FAMILIES if name.startswith(prefix)), name)


def engstrom_families(bias_run: dict, name: str, families, alpha: float = 0.05) -> dict:
    """:func:`engstrom_bias`'s result for model set ``name`` with its models clustered by family
    (``families[i]``: the family of model i): each family's table is the mean of its models'
    (:func:`reliable_ml.stats.cluster_means`), and the crossed interval counts each family once.

    ``bias[k]``: drop_k - drop_all (points) against 0; ``relative[k]``: mean bias / mean error on
    the reference (% more errors; :func:`reliable_ml.stats.crossed_ratio_interval`, numerator and
    denominator resampled together); ``between[other][k]`` and ``between_relative[other][k]``: this
    set minus every other set of the run (whose models count as their own units), points and %;
    ``by_error``: the families split at the median family error on the reference, ``higher`` and
    ``lower`` (bias and relative bias of each half) and their ``difference`` (points) and
    ``relative_difference`` (%), higher minus lower, both halves sharing the splits;
    ``r_models[k]``: Pearson's r between the models' bias and error (over models, averaged over the
    splits; descriptive, no interval)."""
    from reliable_ml.stats import cluster_means, crossed_interval, crossed_ratio_interval

    dm, em = bias_run["drop_models"][name], bias_run["error_models"][name]
    families = list(families)
    if len(families) != dm["all"].shape[0]:
        raise ValueError(f"need one family per model of {name!r} ({dm['all'].shape[0]}); got {len(families)}")
    names, err = cluster_means(em, families)
    if len(names) < 2:
        raise ValueError(f"need at least 2 families; got {names}")
    ks = [k for k in dm if k != "all"]
    bias = {k: cluster_means(dm[k] - dm["all"], families)[1] for k in ks}

    def blk(out: dict, pct: bool = False) -> dict:
        return _crossed_block(_percent(out) if pct else out, alpha)

    out: dict = {
        "families": len(names),
        "family_names": names,
        "models": len(families),
        "bias": {k: blk(crossed_interval(bias[k], alpha=alpha)) for k in ks},
        "relative": {k: blk(crossed_ratio_interval(bias[k], err, alpha=alpha), True) for k in ks},
        "between": {},
        "between_relative": {},
        "r_models": {
            k: round(float(np.corrcoef((dm[k] - dm["all"]).mean(1), em.mean(1))[0, 1]), 3)
            for k in ks
            if len(families) > 2
        },
    }
    for other, odm in bias_run["drop_models"].items():
        if other == name:
            continue
        oe = bias_run["error_models"][other]
        out["between"][other] = {k: blk(crossed_interval(bias[k], odm[k] - odm["all"], alpha=alpha)) for k in ks}
        out["between_relative"][other] = {
            k: blk(crossed_ratio_interval(bias[k], err, odm[k] - odm["all"], oe, alpha=alpha), True) for k in ks
        }
    fe = err.mean(1)
    high = fe > np.median(fe)
    if high.sum() >= 2 and (~high).sum() >= 2:

        def half(rows) -> dict:
            return {
                "families": [n for n, r in zip(names, rows) if r],
                "error_pct": round(float(err[rows].mean()), 3),
                "bias": {k: blk(crossed_interval(bias[k][rows], alpha=alpha)) for k in ks},
                "relative": {k: blk(crossed_ratio_interval(bias[k][rows], err[rows], alpha=alpha), True) for k in ks},
            }

        lo = ~high
        out["by_error"] = {
            "rule": "families split at the median family error on the reference (higher: above it)",
            "higher": half(high),
            "lower": half(lo),
            "difference": {k: blk(crossed_interval(bias[k][high], bias[k][lo], alpha=alpha)) for k in ks},
            "relative_difference": {
                k: blk(crossed_ratio_interval(bias[k][high], err[high], bias[k][lo], err[lo], alpha=alpha), True)
                for k in ks
            },
        }
    return out


def engstrom_family_numbers(fam: dict, name: str, alpha: float = 0.05) -> dict:
    """What chapter 02's prose quotes from :func:`engstrom_families` (``fam``; empty: nothing), each
    name ``eng_<name>_fam_...``; words from :func:`reliable_ml.stats.phrase` on the blocks' verdicts."""
    from reliable_ml.stats import Verdict, phrase

    if not fam:
        return {}

    def words(b: dict, higher: str, lower: str, cannot: str, unit: str = "points") -> str:
        v = Verdict(b["direction"], b["mean"], tuple(b["ci"]), b["test"], b["p"], alpha)
        return phrase(v, higher, lower, cannot, scale=1, unit=unit)

    p = f"eng_{name}_fam"
    out: dict = {f"{p}_n": fam["families"], f"{p}_models": fam["models"]}
    for k, b in fam["bias"].items():
        out[f"{p}_bias_{k}_words"] = words(b, "above zero", "below zero", "indistinguishable from zero")
        r = fam["relative"][k]
        out |= {f"{p}_rel_{k}": r["mean"], f"{p}_rel_{k}_lo": r["ci"][0], f"{p}_rel_{k}_hi": r["ci"][1]}
    for k, r in fam["r_models"].items():
        out[f"eng_{name}_r_{k}"] = r
    for other, by_k in fam["between"].items():
        for k, b in by_k.items():
            out[f"{p}_vs_{other}_{k}"] = words(
                b,
                f"the bias is larger for the {name} set than for the {other} set",
                f"the bias is smaller for the {name} set than for the {other} set",
                f"the data cannot tell the {name} set's bias from the {other} set's",
            )
            out[f"{p}_vs_{other}_{k}_rel_words"] = words(
                fam["between_relative"][other][k],
                f"the relative increase in errors is larger for the {name} set than for the {other} set",
                f"the relative increase in errors is smaller for the {name} set than for the {other} set",
                f"the data cannot tell the {name} set's relative increase from the {other} set's",
                unit="percentage points",
            )
    be = fam.get("by_error")
    if be:
        for side in ("higher", "lower"):
            h = be[side]
            out |= {f"{p}_{side}_n": len(h["families"]), f"{p}_{side}_err": h["error_pct"]}
            for k in h["bias"]:
                b, r = h["bias"][k], h["relative"][k]
                out |= {f"{p}_{side}_bias_{k}": b["mean"], f"{p}_{side}_bias_{k}_lo": b["ci"][0]}
                out |= {f"{p}_{side}_bias_{k}_hi": b["ci"][1], f"{p}_{side}_rel_{k}": r["mean"]}
                out |= {f"{p}_{side}_rel_{k}_lo": r["ci"][0], f"{p}_{side}_rel_{k}_hi": r["ci"][1]}
        for k, b in be["difference"].items():
            out[f"{p}_byerr_{k}_words"] = words(
                b,
                "the bias in points is larger for the higher-error families",
                "the bias in points is smaller for the higher-error families",
                "the data cannot tell the two halves' biases in points apart",
            )
            out[f"{p}_byerr_{k}_rel_words"] = words(
                be["relative_difference"][k],
                "the relative increase in errors is larger for the higher-error families",
                "the relative increase in errors is smaller for the higher-error families",
                "the data cannot tell the two halves' relative increases apart",
                unit="percentage points",
            )
    return out


def coarse_vs_fine(
    counts: np.ndarray,
    labels: np.ndarray,
    correct: np.ndarray,
    per_class: int,
    *,
    splits: int,
    n_resamples: int,
    high_sf: float,
    keep_high: float,
    coarse=annotation.SF_EDGES,
    fine=FINE_EDGES,
    seed: int = 0,
) -> dict:
    """The all-annotator apparent drop (reference minus the matched set, points, per model and
    split) when the skewed pool is matched on ``coarse`` bins and on ``fine`` bins, over the splits
    and skews of :func:`engstrom_bias` (same ``seed``: the same splits, skews and matching draws
    for both bin sets). SF is every annotator's, so what differs is the bins alone. Returns
    ``{"coarse": (models, splits), "fine": (models, splits), "splits", "resamples"}``."""
    runs = {
        name: engstrom_bias(
            counts,
            labels,
            {"m": correct},
            per_class,
            ks=(None,),
            splits=splits,
            n_resamples=n_resamples,
            high_sf=high_sf,
            keep_high=keep_high,
            edges=edges,
            seed=seed,
        )["drop_models"]["m"]["all"]
        for name, edges in (("coarse", coarse), ("fine", fine))
    }
    return {**runs, "splits": splits, "resamples": n_resamples}


def coarse_vs_fine_sentence(tables: dict, groups=None, alpha: float = 0.05) -> tuple[dict, str]:
    """Do coarse bins leave a mismatch of their own? The crossed interval (models, or the clusters
    ``groups`` of models, and splits) of coarse minus fine all-annotator drop
    (:func:`coarse_vs_fine`), its verdict against 0, and a sentence whose conclusion follows the
    verdict's direction. Returns ``(block, sentence)``."""
    from reliable_ml.stats import Verdict, cluster_means, crossed_interval, phrase

    diff = np.asarray(tables["coarse"], dtype=float) - np.asarray(tables["fine"], dtype=float)
    units = "models"
    if groups is not None:
        names, diff = cluster_means(diff, groups)
        units = f"{len(names)} model families"
    b = _crossed_block(crossed_interval(diff, alpha=alpha), alpha)
    words = phrase(
        Verdict(b["direction"], b["mean"], tuple(b["ci"]), b["test"], b["p"], alpha),
        "coarse bins leave a larger apparent drop than fine bins",
        "coarse bins leave a smaller apparent drop than fine bins",
        "the data cannot tell the apparent drop of coarse bins from that of fine bins",
        scale=1,
    )
    lead = (
        f"Are the coarse bins to blame? Over the {tables['splits']} splits and skews of section 7, with every "
        f"annotator's SF and the same splits, skews and random streams for both bin sets ({units} and splits "
        f"resampled), {words}"
    )
    b["words"] = words
    tail = {
        "higher": ": coarse bins leave a mismatch of their own, beside the noisy-estimate bias of section 7",
        "lower": ": on average over the splits, fine bins leave the larger gap",
        "cannot tell": ": whether coarse bins leave a mismatch of their own these splits cannot tell",
    }[b["direction"]]
    return b, lead + tail
