"""Chapter 02's pipeline and figures: rebuild a test set with a simulated crowd, then with CIFAR-10H.

:func:`rebuild` chains the steps of :mod:`reliable_ml.labels.annotation` (candidate classes, clarity,
the crowd task with controls, near-duplicate removal, the three ImageNetV2 sampling
strategies); :func:`evaluate` scores a zoo on the original and the rebuilt sets. The figure
helpers below take results, never load data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from reliable_ml import stats
from reliable_ml.labels import annotation
from reliable_ml.models import zoo
from reliable_ml.util import plots

STRATEGIES = ("MatchedFrequency", "Threshold0.7", "TopImages")
BIN_NAMES = ("[0, 0.2)", "[0.2, 0.4)", "[0.4, 0.6)", "[0.6, 0.8)", "[0.8, 1]")


@dataclass
class Rebuilt:
    """Everything one rebuild produced (indices are into the pool unless named otherwise)."""

    candidate: np.ndarray  # (P,) candidate class per pool image
    wrong: np.ndarray  # (P,) bool: candidate class differs from the true class
    sf_pool: np.ndarray  # (P,) selection frequency of each candidate
    sf_orig: np.ndarray  # (A,) selection frequency of the annotated original test images
    orig_rows: np.ndarray  # (A,) their rows in the original test set
    crowd: annotation.CrowdResult
    crowd_seconds: float
    item_clarity: np.ndarray  # (P + A,) clarity shown to the simulated workers
    near_dups: annotation.NearDuplicates
    picks: dict  # strategy -> indices into the pool
    clarity_acc: float  # the clarity ensemble's accuracy on the original test set
    per_class: int  # images per class actually drawn
    pool: object  # the pool ImageSet
    test: object  # the original test ImageSet


def rebuild(
    pool,
    test,
    x_train: torch.Tensor,
    clarity_models: dict,
    *,
    crowd: annotation.CrowdConfig,
    n_original_annotated: int,
    per_class: int,
    wrong_share: float,
    pixel_threshold: float,
    feature_threshold: float,
    seed: int = 0,
    reader: tuple[np.ndarray, np.ndarray] | None = None,
    progress: bool = True,
) -> Rebuilt:
    """Annotate ``pool`` and a sample of ``test`` with the simulated crowd, remove near
    duplicates of ``x_train`` and ``test``, and draw the three rebuilt test sets.

    At most half of the original test set is annotated: the rest supplies the controls.
    ``per_class`` is capped by the class with the fewest candidates of SF >= 0.7 (Threshold0.7
    cannot draw more); :attr:`Rebuilt.per_class` says what was drawn. ``reader`` adds the
    reader's (selected, shown) counts on pool items.
    """
    rng = np.random.default_rng(seed)
    models = [t.model for t in clarity_models.values()]
    k = len(pool.info.classes)
    candidate, wrong = annotation.candidate_classes(pool.y.numpy(), k, wrong_share, np.random.default_rng([seed, 1]))
    probs_pool = annotation.ensemble_probabilities(models, pool.x)
    probs_test = annotation.ensemble_probabilities(models, test.x)
    y_test = test.y.numpy()
    n_annot = min(n_original_annotated, len(y_test) // 2)
    orig_rows = np.sort(rng.choice(len(y_test), n_annot, replace=False))
    item_class = np.concatenate([candidate, y_test[orig_rows]])
    item_clarity = np.concatenate(
        [annotation.clarity(probs_pool, candidate), annotation.clarity(probs_test[orig_rows], y_test[orig_rows])]
    )
    control_rows = np.setdiff1d(np.arange(len(y_test)), orig_rows)  # controls: never annotated as items
    t0 = time.perf_counter()
    result = annotation.simulate_crowd(
        item_clarity, item_class, probs_test[control_rows], y_test[control_rows], crowd, seed=seed, progress=progress
    )
    selected, shown = result.selected.copy(), result.shown.copy()
    if reader is not None:
        selected[: len(candidate)] += reader[0]
        shown[: len(candidate)] += reader[1]
    sf_all = annotation.selection_frequency(selected, shown)
    crowd_s = time.perf_counter() - t0
    sf_pool, sf_orig = sf_all[: len(candidate)], sf_all[len(candidate) :]
    dev = x_train.device
    nd = annotation.near_duplicates(
        pool.x.to(dev), {"train": x_train, "test": test.x.to(dev)}, pixel_threshold, feature_threshold, seed=seed
    )
    keep = np.flatnonzero(~nd.remove)
    target = annotation.sf_histogram(sf_orig, y_test[orig_rows], k)
    feasible = min(int(((candidate[keep] == c) & (sf_pool[keep] >= 0.7)).sum()) for c in range(k))
    per_class = min(per_class, feasible)
    if per_class < 1:
        raise ValueError(
            f"some class has no candidate with SF >= 0.7 after near-duplicate removal "
            f"({len(keep)} of {len(candidate)} candidates kept): the rebuilt sets would be empty"
        )
    picks = {
        "MatchedFrequency": annotation.matched_frequency(sf_pool[keep], candidate[keep], target, per_class, rng),
        "Threshold0.7": annotation.threshold_sample(sf_pool[keep], candidate[keep], per_class, k, rng),
        "TopImages": annotation.top_images(sf_pool[keep], candidate[keep], per_class, k, rng),
    }
    return Rebuilt(
        candidate,
        wrong,
        sf_pool,
        sf_orig,
        orig_rows,
        result,
        crowd_s,
        item_clarity,
        nd,
        {name: keep[idx] for name, idx in picks.items()},
        float((probs_test.argmax(1) == y_test).mean()),
        per_class,
        pool,
        test,
    )


def evaluate(trained: dict, rebuilt: Rebuilt) -> pd.DataFrame:
    """Per zoo member: correct answers ``k_*``, images ``n_*`` and accuracy ``acc_*`` (fractions) on
    the original test set and each rebuilt set. A rebuilt image's label is its candidate class,
    as in ImageNetV2 (a wrong candidate class that survived the crowd is a label error)."""
    pred_pool = zoo.predict_zoo(trained, rebuilt.pool.x)
    pred_test = zoo.predict_zoo(trained, rebuilt.test.x)
    rows = []
    for name in trained:
        row = {
            "model": name,
            "n_original": len(rebuilt.test.y),
            "k_original": int((pred_test[name] == rebuilt.test.y).sum()),
        }
        for strategy, idx in rebuilt.picks.items():
            row[f"n_{strategy}"] = len(idx)
            row[f"k_{strategy}"] = int((pred_pool[name].numpy()[idx] == rebuilt.candidate[idx]).sum())
        rows.append(row)
    table = pd.DataFrame(rows).set_index("model")
    for col in ["original", *STRATEGIES]:
        table[f"acc_{col}"] = table[f"k_{col}"] / table[f"n_{col}"]
    return table


def workers_table(res: annotation.CrowdResult) -> pd.DataFrame:
    """Careful vs careless simulated workers: how many, discarded by the controls, grids, control accuracy."""
    c = res.worker_careless
    return pd.DataFrame(
        {
            "workers": [int((~c).sum()), int(c.sum())],
            "discarded by the controls": [int((~res.worker_valid & ~c).sum()), int((~res.worker_valid & c).sum())],
            "grids done": [int(res.worker_grids[~c].sum()), int(res.worker_grids[c].sum())],
            "median control accuracy (%)": [
                100 * np.nanmedian(res.worker_control_accuracy[~c]),
                100 * np.nanmedian(res.worker_control_accuracy[c]),
            ],
        },
        index=["careful (simulated)", "careless (simulated)"],
    )


def sf_histograms(rebuilt: Rebuilt) -> pd.DataFrame:
    """Share (%) of the original sample and of the pool in each of ImageNetV2's five SF bins."""
    out = {}
    for name, sf in (("original test sample (%)", rebuilt.sf_orig), ("candidate pool (%)", rebuilt.sf_pool)):
        h = annotation.sf_histogram(sf, np.zeros(len(sf), int), 1)[0]
        out[name] = 100 * h / h.sum()
    return pd.DataFrame(out, index=list(BIN_NAMES))


def strategy_table(rebuilt: Rebuilt) -> pd.DataFrame:
    """Images, mean SF and share of wrong candidate classes of each rebuilt set."""
    rows = {
        "original test sample": {
            "images": len(rebuilt.sf_orig),
            "mean SF": rebuilt.sf_orig.mean(),
            "wrong candidate class (%)": 0.0,
        }
    }
    for name, idx in rebuilt.picks.items():
        rows[name] = {
            "images": len(idx),
            "mean SF": rebuilt.sf_pool[idx].mean(),
            "wrong candidate class (%)": 100 * rebuilt.wrong[idx].mean(),
        }
    return pd.DataFrame(rows).T


def summary(acc: pd.DataFrame) -> pd.DataFrame:
    """Zoo mean accuracy (%) and mean drop vs the original set (points) per set."""
    rows = {}
    for col in ["original", *STRATEGIES]:
        a = acc[f"acc_{col}"]
        rows[col] = {
            "mean accuracy (%)": 100 * a.mean(),
            "mean drop vs original (points)": 100 * (acc["acc_original"] - a).mean(),
            "images": int(acc[f"n_{col}"].iloc[0]),
        }
    return pd.DataFrame(rows).T


def per_model(acc: pd.DataFrame) -> dict:
    """``{model: {original, <strategy>, drop_<strategy>}}`` as fractions (for the results file)."""
    out = {}
    for name, r in acc.iterrows():
        out[name] = {
            "original": round(float(r["acc_original"]), 5),
            **{s: round(float(r[f"acc_{s}"]), 5) for s in STRATEGIES},
            **{f"drop_{s}": round(float(r["acc_original"] - r[f"acc_{s}"]), 5) for s in STRATEGIES},
        }
    return out


# ----------------------------------------------------------------------------- figures
def sf_figure(rebuilt: Rebuilt, title: str, src: str, noise_max: float) -> plt.Figure:
    """Left: SF histograms (original sample, right and wrong candidates). Right: SF vs clarity."""
    sf_pool, sf_orig, wrong = rebuilt.sf_pool, rebuilt.sf_orig, rebuilt.wrong
    edges = np.linspace(-0.05, 1.05, 12)  # one bin per tenth: with ~10 annotations SF comes in steps of ~0.1
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    axes[0].hist(
        [sf_orig, sf_pool[~wrong], sf_pool[wrong]],
        bins=edges,
        density=True,
        label=["original test images", "candidates, right class", "candidates, wrong class"],
    )
    for e in annotation.SF_EDGES:
        axes[0].axvline(e, color="0.5", lw=0.8, ls=":")
    axes[0].set(xlabel="selection frequency", ylabel="density (per unit SF)", title=f"{title}: selection frequencies")
    axes[0].legend()
    clar = rebuilt.item_clarity[: len(sf_pool)]
    axes[1].scatter(clar, sf_pool, s=4, alpha=0.3, c=np.where(wrong, "C3", "C0"))
    grid = np.linspace(0, 1, 50)
    axes[1].plot(grid, noise_max / 2 + (1 - noise_max) * grid, "k--", lw=1, label="mean careful worker")
    axes[1].set(
        xlabel="clarity (clarity ensemble's p(candidate class))",
        ylabel="selection frequency",
        title="SF follows clarity (red: wrong candidate class)",
    )
    axes[1].legend(loc="upper left")
    plots.source_caption(fig, src, "simulated workers")
    return fig


def review_grid(rebuilt: Rebuilt, references: dict, k: int, title: str, src: str) -> plt.Figure:
    """The ``k`` closest candidate/reference pairs by feature distance, with the decision."""
    nd = rebuilt.near_dups
    imgs, titles = [], []
    for r in nd.closest_pairs(k, by="feature").itertuples():
        imgs += [rebuilt.pool.x[int(r.pool)].numpy(), references[r.reference][int(r.ref_index)].cpu().numpy()]
        verdict = "removed" if nd.remove[int(r.pool)] else "kept"
        titles += [f"candidate ({verdict})", f"{r.reference}: {r.feature:.3f}"]
    fig = plots.image_grid(
        np.stack(imgs),
        titles,
        ncols=8,
        scale=1.0,
        suptitle=f"{title}: the {k} closest candidate/reference pairs by feature distance",
    )
    plots.source_caption(fig, src)
    return fig


def _errorbars(ax, x, y, xerr=None, yerr=None, label=None, **kw):
    ax.errorbar(
        100 * x,
        100 * y,
        xerr=None if xerr is None else 100 * xerr,
        yerr=None if yerr is None else 100 * yerr,
        fmt="o",
        ms=4,
        capsize=2,
        lw=0.8,
        label=label,
        **kw,
    )


def _cp_err(k, n, acc, alpha):
    lo, hi = stats.clopper_pearson(k, n, alpha)
    return np.vstack([acc - lo, hi - acc])


TESTBED_COLUMNS = {
    "MatchedFrequency": "imagenetv2-matched-frequency-format-val",
    "Threshold0.7": "imagenetv2-threshold-0.7-format-val",
    "TopImages": "imagenetv2-top-images-format-val",
}


def testbed_drops(testbed: pd.DataFrame) -> tuple[dict, int]:
    """Mean drop (points) from ImageNet val to each ImageNetV2 version over the testbed models
    evaluated on all three (the testbed's format-val re-evaluation), and how many models."""
    tb = testbed[["val", *TESTBED_COLUMNS.values()]].dropna()
    return {s: float((tb["val"] - tb[c]).mean()) for s, c in TESTBED_COLUMNS.items()}, len(tb)


def testbed_drop_words(testbed: pd.DataFrame, alpha: float = 0.05) -> dict:
    """Per ImageNetV2 version, the verdict on the testbed models' mean drop from ImageNet val, in
    words (:func:`reliable_ml.stats.phrase`: "lose on average by 9.0 points [...]", "gain on
    average by ...", or "cannot be told from no change"). Paired t test over the models
    evaluated on all three versions (:func:`reliable_ml.stats.compare`): the interval covers the
    choice of models, not the sampling of the images they share."""

    tb = testbed[["val", *TESTBED_COLUMNS.values()]].dropna()
    return {
        s: stats.phrase(
            stats.compare(tb["val"].to_numpy(), tb[c].to_numpy(), paired=True, alpha=alpha),
            "lose on average",
            "gain on average",
            "cannot be told from no change",
            scale=1,
        )
        for s, c in TESTBED_COLUMNS.items()
    }


def accuracy_figure(acc: pd.DataFrame, title: str, src: str, alpha: float, testbed: pd.DataFrame | None) -> plt.Figure:
    """Left: each zoo model's accuracy, original vs each rebuilt set, Clopper-Pearson bars.
    Right (when ``testbed`` is given): the ImageNet testbed's models on the three ImageNetV2 sets."""
    fig, axes = plt.subplots(
        1, 2 if testbed is not None else 1, figsize=(11 if testbed is not None else 5.6, 4.6), squeeze=False
    )
    ax = axes[0, 0]
    x = acc["acc_original"].to_numpy()
    for j, strategy in enumerate(STRATEGIES):
        y = acc[f"acc_{strategy}"].to_numpy()
        _errorbars(
            ax,
            x,
            y,
            _cp_err(acc["k_original"], acc["n_original"], x, alpha),
            _cp_err(acc[f"k_{strategy}"], acc[f"n_{strategy}"], y, alpha),
            label=strategy,
            color=f"C{j}",
        )
    plots.identity_line(ax)
    ax.set(
        xlabel="accuracy on the original test set (%)",
        ylabel="accuracy on the rebuilt test set (%)",
        title=f"{title}: zoo of {len(acc)} models, simulated crowd",
    )
    ax.legend()
    extra = ""
    if testbed is not None:
        ax = axes[0, 1]
        for j, (strategy, col) in enumerate(TESTBED_COLUMNS.items()):
            sub = testbed[["val", col]].dropna()
            yv = sub[col].to_numpy() / 100
            lo, hi = stats.clopper_pearson(np.round(yv * 10_000), 10_000, alpha)
            _errorbars(
                ax,
                sub["val"].to_numpy() / 100,
                yv,
                yerr=np.vstack([yv - lo, hi - yv]),
                label=strategy,
                color=f"C{j}",
                alpha=0.5,
            )
        plots.identity_line(ax)
        ax.set(
            xlabel="ImageNet validation top-1 (%)",
            ylabel="ImageNetV2 top-1 (%, testbed re-evaluation)",
            title="Real: ImageNetV2, testbed models",
        )
        ax.legend()
        extra = "right: ImageNet testbed (Taori et al. 2020), format-val re-evaluation, 10,000 images per set"
    plots.source_caption(fig, src, extra)
    return fig


def strategies_figure(table: pd.DataFrame, src: str, models: str = "CIFAR-10 zoo") -> plt.Figure:
    """CIFAR-10H strategies: the models' mean accuracy per set with the spread over draws, and
    mean SF. ``models`` names the evaluated models in the labels."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    y = np.arange(len(table))
    err = np.vstack([table["acc (%)"] - table["acc lo"], table["acc hi"] - table["acc (%)"]])
    axes[0].errorbar(table["acc (%)"], y, xerr=err, fmt="o", capsize=3)
    axes[0].set(
        yticks=y,
        yticklabels=table.index,
        xlabel="mean accuracy over the models (%)",
        title=f"{models} on each sampled set",
    )
    axes[1].barh(y, table["mean SF"], color="C1")
    axes[1].set(
        yticks=y,
        yticklabels=table.index,
        xlabel="mean selection frequency (CIFAR-10H)",
        xlim=(min(0.8, table["mean SF"].min() - 0.02), 1),
        title="How clear the sampled images are",
    )
    plots.source_caption(fig, src, "bars: 95% spread over independent draws")
    return fig


def engstrom_figure(table: pd.DataFrame, src: str) -> plt.Figure:
    """Apparent MatchedFrequency drop vs annotators per image, with the spread over resamples."""
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    x = np.arange(len(table))
    err = np.vstack([table["drop"] - table["lo"], table["hi"] - table["drop"]])
    ax.errorbar(x, table["drop"], yerr=err, fmt="o", capsize=4)
    ax.axhline(0, color="0.5", lw=0.8, ls=":")
    ax.set(
        xticks=x,
        xticklabels=table.index,
        xlabel="annotators per image used to estimate SF",
        ylabel="apparent drop (points)",
        title="Matching on noisy SF picks harder images",
    )
    plots.source_caption(fig, src, "bars: 95% spread over resamples")
    return fig


def split_mnist(
    train, meta: pd.DataFrame | None, heldout_per_population: int, n_train: int, n_clarity: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Rows of the training split for the candidate pool (held-out writers when the QMNIST
    metadata ``meta`` is given, else a random held-out part), the zoo's training set and the
    clarity set, all disjoint; and how the pool was made."""
    from reliable_ml.shift import writers

    rng = np.random.default_rng(seed)
    n = len(train.y)
    if meta is not None:
        split = writers.holdout_writers(meta, heldout_per_population, seed=seed)
        pool_rows, rest, how = split.heldout, split.train, "held-out writers (QMNIST writer metadata)"
    else:
        perm = rng.permutation(n)
        n_pool = min(2 * heldout_per_population, n // 3)
        pool_rows, rest, how = np.sort(perm[:n_pool]), perm[n_pool:], "a random held-out part of the training split"
    rest = rng.permutation(rest)
    n_clarity = min(n_clarity, len(rest) // 3)
    n_train = min(n_train, len(rest) - n_clarity)
    return (np.sort(pool_rows), np.sort(rest[:n_train]), np.sort(rest[n_train : n_train + n_clarity]), how)


def mnist_results(rebuilt: Rebuilt, acc: pd.DataFrame) -> dict:
    """Chapter 02's MNIST results keys (accuracies as fractions, as read by the scorecard)."""
    res, wrong, sf_pool = rebuilt.crowd, rebuilt.wrong, rebuilt.sf_pool
    hist, strat = sf_histograms(rebuilt), strategy_table(rebuilt)
    msf = {k: round(float(v), 4) for k, v in strat["mean SF"].items()}
    keys = {
        "MatchedFrequency": "acc_matched_frequency",
        "Threshold0.7": "acc_threshold_07",
        "TopImages": "acc_top_images",
    }
    return {
        "mnist_clarity_ensemble_accuracy": round(rebuilt.clarity_acc, 4),
        "mnist_crowd": {
            "grids": int(res.n_grids),
            "workers_discarded": int((~res.worker_valid).sum()),
            "careless_workers": int(res.worker_careless.sum()),
            "careless_discarded": int((~res.worker_valid & res.worker_careless).sum()),
            "careful_discarded": int((~res.worker_valid & ~res.worker_careless).sum()),
        },
        "mnist_sf_histogram_original_pct": hist.iloc[:, 0].round(2).to_dict(),
        "mnist_sf_histogram_pool_pct": hist.iloc[:, 1].round(2).to_dict(),
        "mnist_wrong_candidates": {
            "share": round(float(wrong.mean()), 4),
            "mean_sf_wrong": round(float(sf_pool[wrong].mean()), 4) if wrong.any() else None,
            "mean_sf_right": round(float(sf_pool[~wrong].mean()), 4),
        },
        "mnist_near_duplicates_removed": int(rebuilt.near_dups.remove.sum()),
        "near_duplicates_removed": int(rebuilt.near_dups.remove.sum()),
        "mnist_mean_selection_frequency": msf,
        "mean_selection_frequency": {**{s: msf[s] for s in STRATEGIES}, "original": msf["original test sample"]},
        "acc_original": round(float(acc["acc_original"].mean()), 5),
        **{k: round(float(acc[f"acc_{s}"].mean()), 5) for s, k in keys.items()},
        "per_model": per_model(acc),
        "rebuilt_set_size": int(len(rebuilt.picks["TopImages"])),
    }
