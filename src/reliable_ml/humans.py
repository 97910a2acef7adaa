"""Chapter 03's analyses and figures: humans next to models.

* :func:`testbed_figure`: ImageNet models on ImageNet vs ImageNetV2 (the testbed), with a probit line.
* :func:`agreement_figure`: model accuracy per bin of human agreement (CIFAR-10H).
* :func:`hesitation_summary`: do models fail where humans hesitate, and where do they fail alone?
* :func:`image_picks` / :func:`images_figure`: the images of both kinds.
* :func:`labeler_rows` / :func:`plane_figure`: the reader's labeling sessions next to a zoo (MNIST).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import plots, stats

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def testbed_figure(testbed: pd.DataFrame, column: str = "imagenetv2-matched-frequency-format-val"):
    """Each testbed model's ImageNet vs ImageNetV2 top-1 with a probit-scale line fit; returns (fig, fit, frame)."""
    both = testbed.dropna(subset=["val", column])
    x, y = both["val"].to_numpy() / 100, both[column].to_numpy() / 100
    fit = stats.probit_linear_fit(x, y)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.scatter(100 * x, 100 * y, s=12, alpha=0.6, label=f"ImageNet models (n = {len(both)})")
    grid = np.linspace(x.min(), x.max(), 100)
    ax.plot(100 * grid, 100 * fit.predict(grid), color="C1", label=f"probit fit (slope {fit.slope:.2f}, r² = {fit.r2:.2f})")
    plots.identity_line(ax)
    ax.set(xlabel="ImageNet top-1 accuracy (%)", ylabel="ImageNetV2 MatchedFrequency top-1 (%, testbed re-evaluation)",
           title="Models lose accuracy on ImageNetV2 (no human data here)")
    ax.legend(loc="upper left")
    plots.source_caption(fig, "ImageNet testbed robustness_top1s.csv (Taori et al. 2020)")
    return fig, fit, both


def agreement_figure(tables: dict[str, pd.DataFrame], src: str) -> plt.Figure:
    """Model accuracy (%) per human-agreement bin, one line per model (group)."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for name, t in tables.items():
        ax.plot(range(len(t)), t["model accuracy (%)"], "o-", label=name)
    first = next(iter(tables.values()))
    ax.set_xticks(range(len(first)), [f"{i}\n(n = {n:,})" for i, n in zip(first.index, first["images"])], fontsize=8)
    ax.set(xlabel="human agreement with the original label (share of CIFAR-10H annotators)",
           ylabel="model accuracy (%)", title="Models fail where humans hesitate")
    ax.legend(fontsize=8)
    plots.source_caption(fig, src)
    return fig


def hesitation_summary(agree: np.ndarray, correct: np.ndarray, hesitant: float = 0.9,
                       unanimous: float = 0.999) -> dict:
    """For per-image human agreement ``agree (N,)`` and model correctness ``correct (N,)``:
    the share of images where humans hesitate (agreement < ``hesitant``), the share of the
    model's errors that fall there, the model's error rate on hesitant and on unanimous images
    (agreement >= ``unanimous``), and how many errors are on unanimous images (it fails alone)."""
    agree, wrong = np.asarray(agree, float), ~np.asarray(correct, bool)
    h, u = agree < hesitant, agree >= unanimous
    return {"hesitant_share_pct": 100 * float(h.mean()),
            "errors_on_hesitant_pct": 100 * float(wrong[h].sum() / max(1, wrong.sum())),
            "error_rate_hesitant_pct": 100 * float(wrong[h].mean()) if h.any() else float("nan"),
            "error_rate_unanimous_pct": 100 * float(wrong[u].mean()) if u.any() else float("nan"),
            "errors_unanimous": int(wrong[u].sum()), "errors": int(wrong.sum())}


def image_picks(agree: np.ndarray, wrong_all: np.ndarray, n: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    """Indices of ``n`` images where every given model is wrong (``wrong_all``) and humans
    hesitate most, and ``n`` random images where every model is wrong but humans are unanimous."""
    rng = np.random.default_rng(seed)
    cand = np.flatnonzero(wrong_all)
    hesitate = cand[np.argsort(agree[cand], kind="stable")[:n]]
    alone = np.flatnonzero(wrong_all & (agree >= 0.999))
    return {"hesitate": hesitate, "alone": np.sort(rng.choice(alone, min(n, len(alone)), replace=False))}


def images_figure(x_uint8: np.ndarray, idx: np.ndarray, labels: np.ndarray, votes: np.ndarray, agree: np.ndarray,
                  pred: np.ndarray, title: str, src: str) -> plt.Figure:
    """A grid of CIFAR-10 test images titled 'label (human %) / model: prediction'."""
    c = CIFAR10_CLASSES
    titles = [f"{c[labels[i]]} ({100 * agree[i]:.0f}%)\nmodel: {c[pred[i]]}" for i in idx]
    fig = plots.image_grid(np.asarray(x_uint8)[idx], titles, ncols=8, scale=1.2, suptitle=title)
    plots.source_caption(fig, src, "title: original label (share of annotators who chose it) / model's prediction")
    return fig


def labeler_rows(human: pd.DataFrame) -> list[dict]:
    """Per labeler with answers on both populations: accuracy, interval and answers per source."""
    rows = []
    for who, g in human.groupby("labeler"):
        g = g.set_index("source")
        if {"employee", "student"} <= set(g.index) and g["answered"].min() > 0:
            rows.append({"labeler": who, **{f"{src}_{k}": float(g.loc[src, k]) for src in ("employee", "student")
                                            for k in ("accuracy", "ci_low", "ci_high", "answered")}})
    return rows


def plane_figure(zoo_points: pd.DataFrame, rows: list[dict], src: str) -> plt.Figure:
    """MNIST zoo (employees' vs students' digits) with the reader's sessions and their intervals."""
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.scatter(100 * zoo_points["employee"], 100 * zoo_points["student"], s=25, label="MNIST zoo models")
    for r in rows:
        e, s = r["employee_accuracy"], r["student_accuracy"]
        ax.errorbar(100 * e, 100 * s, xerr=[[100 * (e - r["employee_ci_low"])], [100 * (r["employee_ci_high"] - e)]],
                    yerr=[[100 * (s - r["student_ci_low"])], [100 * (r["student_ci_high"] - s)]],
                    fmt="s", color="C3", capsize=3, label=f"labeler {r['labeler']}")
    plots.identity_line(ax)
    ax.set(xlabel="accuracy on Census employees' digits (%)", ylabel="accuracy on high-school students' digits (%)",
           title="MNIST: models" + (" and your labeling sessions" if rows else " (no labeling sessions saved yet)"))
    ax.legend(loc="upper left")
    plots.source_caption(fig, src)
    return fig
