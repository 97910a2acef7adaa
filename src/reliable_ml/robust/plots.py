"""Figures of the robustness chapters (04, 05, 06), so the chapters keep only what they teach.
(Their sentences from numbers, each through the verdict rule, are in :mod:`reliable_ml.robust.verdicts`.)

Each function draws one figure from numbers the chapter computed and returns the
``matplotlib`` figure (labelled axes, the data source in the caption). Matplotlib is imported
on first use, so importing the science modules needs torch alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def _plt():
    import matplotlib.pyplot as plt

    from reliable_ml.util import plots

    return plt, plots


def mean_and_spread(values: Sequence[float]) -> tuple[float, float, float]:
    """``(mean, min, max)`` of per-seed values (the spread shown for >= 3 seeds)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise ValueError("mean_and_spread needs at least one value")
    return float(v.mean()), float(v.min()), float(v.max())


# --------------------------------------------------------------------------- chapter 04
def adversarial_example(x, x_adv, p_clean, p_adv, eps: float, source: str, caption: str):
    """One image, the perturbation (scaled to [0, 1], gray = 0) and the adversarial image, with the
    model's top class and confidence on each (``p_*``: softmax vectors)."""
    plt, plots = _plt()
    delta = (x_adv - x).cpu()
    c0, c1 = int(p_clean.argmax()), int(p_adv.argmax())
    fig, axes = plt.subplots(1, 3, figsize=(8, 3))
    panels = [
        (x.cpu(), f"clean: '{c0}' ({100 * float(p_clean[c0]):.0f}%)"),
        (0.5 + delta / (2 * eps), f"perturbation (x{1 / (2 * eps):.1f}, gray = 0)"),
        (x_adv.cpu(), f"adversarial: '{c1}' ({100 * float(p_adv[c1]):.0f}%)"),
    ]
    for ax, (img, title) in zip(axes, panels):
        ax.imshow(img.permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.suptitle(f"PGD on a standard model, L-inf eps = {eps:g} (max pixel change {float(delta.abs().max()):.2f})")
    plots.source_caption(fig, source, caption)
    return fig


def training_history(history, eps: float, alpha: float, source: str, caption: str, method: str = "FGSM-RS"):
    """Per-epoch accuracy of adversarial training (a DataFrame indexed by epoch)."""
    plt, plots = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(history.index, 100 * history["train_acc"], "o-", label=f"training batches under {method}")
    ax.plot(history.index, 100 * history["val_clean_acc"], "s-", label="held-out, clean")
    ax.plot(history.index, 100 * history["val_robust_acc"], "^-", label="held-out, PGD-10")
    ax.set(
        xlabel="epoch",
        ylabel="accuracy (%)",
        ylim=(0, 100),
        xticks=list(history.index),
        title=f"{method} training at eps = {eps:g} (alpha = {alpha:g})",
    )
    ax.legend(loc="lower right")
    plots.source_caption(fig, source, caption)
    return fig


def fast_training(rows, source: str, caption: str):
    """Held-out PGD accuracy per epoch of every (arm, seed) run of
    :func:`reliable_ml.robust.train.fast_training_runs`: one colour per arm, one line per seed."""
    plt, plots = _plt()
    import pandas as pd

    df = pd.DataFrame(rows)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8), sharex=True)
    for color, (arm, g) in zip(plt.rcParams["axes.prop_cycle"].by_key()["color"], df.groupby("arm", sort=False)):
        for k, (_, s) in enumerate(g.groupby("seed")):
            ax.plot(s.epoch, 100 * s.val_robust_acc, "o-", color=color, alpha=0.8, label=arm if k == 0 else None)
            ax2.plot(s.epoch, 100 * s.train_acc, "o--", color=color, alpha=0.8, label=arm if k == 0 else None)
    ax.set(
        xlabel="epoch",
        ylabel="held-out accuracy under PGD-10 (%)",
        ylim=(-2, 100),
        title="Robustness to PGD (one line per seed)",
    )
    ax2.set(
        xlabel="epoch",
        ylabel="training accuracy on own FGSM examples (%)",
        ylim=(-2, 100),
        title="What the training attack sees",
    )
    ax.legend(fontsize=8)
    plots.source_caption(fig, source, caption)
    return fig


def per_step_curves(runs, source: str, caption: str, *, collapsed=None, floor: float | None = None):
    """Curves of :func:`reliable_ml.robust.catastrophic.per_step_runs` (``runs``: {arm: {seed: curves}}):
    held-out PGD accuracy (left) and accuracy on the FGSM-attacked training batches (right) against
    the optimizer step, one colour per arm, one line per seed; ``collapsed`` ({arm: {seed: step or
    None}}) marks each detected collapse with an x, ``floor`` draws the rule's "near zero" line."""
    plt, plots = _plt()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8), sharex=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for color, (arm, by_seed) in zip(colors, runs.items()):
        for k, (seed, r) in enumerate(by_seed.items()):
            label = arm if k == 0 else None
            ax.plot(r["steps"], 100 * np.asarray(r["pgd_acc"]), ".-", color=color, alpha=0.8, label=label)
            ax2.plot(r["steps"], 100 * np.asarray(r["fgsm_train_acc"]), ".--", color=color, alpha=0.8, label=label)
            step = (collapsed or {}).get(arm, {}).get(seed)
            if step is not None:
                i = r["steps"].index(step)
                ax.plot([step], [100 * r["pgd_acc"][i]], "x", color="k", ms=9, mew=2)
    if floor is not None:
        ax.axhline(100 * floor, color="0.5", ls=":", lw=1)
    ax.set(
        xlabel="optimizer step",
        ylabel="held-out accuracy under PGD (%)",
        ylim=(-2, 100),
        title="Robustness to PGD at the training radius",
    )
    ax2.set(
        xlabel="optimizer step",
        ylabel="accuracy on its FGSM training batches (%)",
        ylim=(-2, 100),
        title="What the training attack sees",
    )
    ax.legend(fontsize=8)
    plots.source_caption(fig, source, caption)
    return fig


def accuracy_vs_eps(eps_grid, curves: Mapping[str, Sequence[float]], eps_train: float, source: str, caption: str):
    """Robust accuracy of several models against the attack radius."""
    plt, plots = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for label, acc in curves.items():
        ax.plot(eps_grid, 100 * np.asarray(acc), "o-", label=label)
    ax.axvline(eps_train, color="0.5", ls=":", label=f"training eps = {eps_train:g}")
    ax.set(
        xlabel="L-inf radius eps (pixel units, images in [0, 1])",
        ylabel="accuracy under PGD-10 (%)",
        title="Robust accuracy vs perturbation budget",
    )
    ax.legend()
    plots.source_caption(fig, source, caption)
    return fig


def accuracy_vs_steps(steps_grid, by_steps, transfer_acc: float, step: float, eps: float, source: str, caption: str):
    """White-box PGD accuracy against the number of steps, with the transfer attack as a line."""
    plt, plots = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.plot(steps_grid, 100 * np.asarray(by_steps), "o-", label=f"white-box PGD, step {step:g} (own gradients)")
    ax.axhline(100 * transfer_acc, color="C2", ls="--", label="transfer: PGD-40 images from the standard model")
    ax.set(
        xscale="log",
        xlabel="PGD steps (log scale)",
        ylabel="robust accuracy (%)",
        title=f"Robust model at eps = {eps:g}: more steps, and a transfer attack",
    )
    ax.legend()
    plots.source_caption(fig, source, caption)
    return fig


# --------------------------------------------------------------------------- chapter 05
def gaussian_curves(curves, gauss_eps: float, gauss_c: float, source: str, caption: str):
    """Expected standard (dashed) and robust (solid) error vs n per dimension: lines the large-d
    approximation, dots Monte Carlo with 2 s.e. bars (``curves``: a DataFrame of
    :func:`reliable_ml.robust.gaussian_model.error_curves`)."""
    plt, plots = _plt()
    dims = sorted(curves.d.unique())
    fig, ax = plt.subplots(figsize=(7, 4.4))
    colors = dict(zip(dims, plt.cm.viridis(np.linspace(0.1, 0.8, len(dims)))))
    for d, g in curves.groupby("d"):
        ax.plot(g.n, 100 * g.std_approx, "--", color=colors[d], lw=1.2)
        ax.plot(g.n, 100 * g.rob_approx, "-", color=colors[d], lw=1.5, label=f"d = {d:,}")
        ax.errorbar(g.n, 100 * g.std_mc, yerr=200 * g.std_se, fmt="o", ms=3, color=colors[d], mfc="white")
        ax.errorbar(g.n, 100 * g.rob_mc, yerr=200 * g.rob_se, fmt="o", ms=3, color=colors[d])
    ax.plot([], [], "k--", label="standard error")
    ax.plot([], [], "k-", label=f"robust error, eps = {gauss_eps:g}")
    ax.set(
        xscale="log",
        xlabel="training samples n",
        ylabel="expected test error (%)",
        ylim=(0, 100),
        title=f"Gaussian model, sigma = {gauss_c:g} d^(1/4): standard vs robust error",
    )
    ax.legend(ncols=2)
    plots.source_caption(fig, source, caption)
    return fig


def samples_needed(needed, s_star: float, gauss_eps: float, target_error: float, source: str):
    """Samples needed for ``target_error`` against d (standard and robust), and robust n / sqrt(d)."""
    plt, plots = _plt()
    from matplotlib import ticker

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
    ax.plot(needed.d, needed.standard, "o--", label="standard error")
    ax.plot(needed.d, needed.robust, "o-", label=f"robust error, eps = {gauss_eps:g}")
    ax2.plot(needed.d, needed.robust / np.sqrt(needed.d), "o-", color="C1", label="robust: n / sqrt(d)")
    if np.isfinite(s_star):
        ax.plot(
            needed.d,
            np.sqrt(needed.d) / s_star**2,
            ":",
            color="0.3",
            label=f"{1 / s_star**2:.3f} sqrt(d) (large-d limit)",
        )
        ax2.axhline(1 / s_star**2, ls=":", color="0.3", label="limit 1 / s*^2")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="dimension d",
        ylabel=f"samples n for {100 * target_error:g}% error",
        title="Samples needed: O(1) standard, ~sqrt(d) robust",
    )
    ax2.set(xscale="log", yscale="log", xlabel="dimension d", ylabel="n / sqrt(d)", title="Robust samples over sqrt(d)")
    ax2.yaxis.set_major_formatter(ticker.FormatStrFormatter("%.2g"))
    ax2.yaxis.set_minor_formatter(ticker.FormatStrFormatter("%.2g"))
    ax.legend()
    ax2.legend()
    plots.source_caption(fig, source, "large-d approximation of the averaged-mean classifier")
    return fig


def size_curve(curve, source: str, title: str, caption: str):
    """Accuracy vs training-set size, mean over seeds with min-max bars (``curve``: one row per
    (n_train, training, seed) with columns ``clean test``, ``robust test``, ``robust train``)."""
    plt, plots = _plt()
    cols = ["robust test", "robust train", "clean test"]
    stats = curve.groupby(["training", "n_train"], sort=False)[cols].agg(["mean", "min", "max"])
    fig, ax = plt.subplots(figsize=(7, 4.4))
    styles = {"robust test": "o-", "robust train": "s--", "clean test": "^:"}
    for color, training in zip(("C0", "C3"), curve.training.unique()):
        g = stats.loc[training]
        for col in cols:
            m = 100 * g[(col, "mean")]
            err = [m - 100 * g[(col, "min")], 100 * g[(col, "max")] - m]
            ax.errorbar(
                g.index,
                m,
                yerr=err,
                fmt=styles[col],
                color=color,
                capsize=3,
                mfc="white" if col == "robust train" else color,
                alpha=0.6 if col == "clean test" else 1,
                label=f"{training}: {col}",
            )
    ax.set(xscale="log", xlabel="labeled training images", ylabel="accuracy (%)", ylim=(-2, 102), title=title)
    ax.legend(fontsize=8, ncols=2)
    plots.source_caption(fig, source, caption)
    return fig


# --------------------------------------------------------------------------- chapter 06
def self_training_gaussian(sim, ceiling, labeled_only, n_labeled: int, d: int, eps: float, source: str, caption: str):
    """Robust error of self-training vs pool size in the Gaussian model (``sim``: mean/sem by pool size)."""
    plt, plots = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    m = lambda col: 100 * sim[(col, "mean")]  # noqa: E731
    e = lambda col: 200 * sim[(col, "sem")]  # noqa: E731
    word = "label" if n_labeled == 1 else "labels"
    ax.errorbar(
        sim.index,
        m("robust_err_self_trained"),
        yerr=e("robust_err_self_trained"),
        fmt="o-",
        label="self-trained: robust error",
    )
    ax.plot(ceiling.index, 100 * ceiling.robust_err_ceiling, "s--", label="true labels (ceiling): robust error")
    ax.axhline(100 * labeled_only[1], color="C3", ls=":", label=f"{n_labeled} {word} only: robust error")
    ax.errorbar(
        sim.index,
        m("std_err_self_trained"),
        yerr=e("std_err_self_trained"),
        fmt="^-",
        color="0.5",
        ms=4,
        label="self-trained: standard error",
    )
    ax.set(
        xscale="log",
        xlabel="unlabeled samples (pseudo-labeled)",
        ylabel="expected test error (%)",
        ylim=(-2, 102),
        title=f"Gaussian model, d = {d:,}, {n_labeled} {word}, eps = {eps:g}",
    )
    ax.legend(fontsize=8, loc="upper right")
    plots.source_caption(fig, source, caption)
    return fig


def rst_arms(per_seed, arm_labels: Mapping[str, str], source: str, title: str, caption: str):
    """Clean and robust accuracy per arm: bars at the mean over seeds, one dot per seed
    (``per_seed``: rows ``arm, seed, clean_acc, robust_acc``)."""
    plt, plots = _plt()
    import pandas as pd

    df = pd.DataFrame(per_seed)
    arms = list(arm_labels)
    pos = np.arange(len(arms))
    fig, ax = plt.subplots(figsize=(7, 4))
    for shift, col, color, label in ((-0.2, "clean_acc", "0.7", "clean"), (0.2, "robust_acc", "C0", "robust (PGD)")):
        means = [100 * df[df.arm == a][col].mean() for a in arms]
        ax.bar(pos + shift, means, 0.4, color=color, label=label)
        for p, a in zip(pos, arms):
            vals = 100 * df[df.arm == a][col]
            ax.plot([p + shift] * len(vals), vals, "k.", ms=5)
        if col == "robust_acc":
            for p, v in zip(pos, means):
                ax.text(p + shift, v + 1.5, f"{v:.1f}", ha="center", fontsize=9)
    ax.set(
        xticks=pos, xticklabels=[arm_labels[a] for a in arms], ylabel="test accuracy (%)", ylim=(0, 105), title=title
    )
    ax.legend(loc="lower right")
    plots.source_caption(fig, source, caption)
    return fig
