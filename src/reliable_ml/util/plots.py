"""One figure style for the whole book, and the few plot helpers chapters share."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "figure.figsize": (6.4, 4.2),
    "figure.constrained_layout.use": True,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "image.cmap": "viridis",
}


def use_style() -> None:
    """Apply the book's matplotlib style (idempotent)."""
    mpl.rcParams.update(STYLE)


def source_caption(fig: plt.Figure, source: str, extra: str = "") -> None:
    """Write ``Data: <source>`` (and ``extra``) under a figure so every figure names its data."""
    text = f"Data: {source}" + (f" | {extra}" if extra else "")
    fig.text(0.01, -0.02, text, ha="left", va="top", fontsize=8, color="0.35")


def identity_line(ax: plt.Axes, label: str = "y = x") -> None:
    """Draw y = x across the current limits of ``ax`` (for original-vs-new accuracy planes)."""
    lo = min(ax.get_xlim()[0], ax.get_ylim()[0])
    hi = max(ax.get_xlim()[1], ax.get_ylim()[1])
    ax.plot([lo, hi], [lo, hi], ls="--", color="0.4", lw=1, label=label)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)


def hide_ticks(axes) -> None:
    """Remove the tick marks and labels of every axis in ``axes`` (one axis or an array of them)."""
    for ax in np.atleast_1d(axes).flat:
        ax.set_xticks([])
        ax.set_yticks([])


def image_grid(
    x_uint8: np.ndarray,
    titles: list[str] | None = None,
    ncols: int = 10,
    scale: float = 1.0,
    suptitle: str | None = None,
) -> plt.Figure:
    """Show uint8 images ``(N, C, H, W)`` (C = 1 or 3) in a grid with optional titles."""
    x = np.asarray(x_uint8)
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"expected images of shape (N, 1 or 3, H, W); got {x.shape}")
    n = len(x)
    nrows = max(1, int(np.ceil(n / ncols)))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(scale * 1.1 * ncols, scale * 1.25 * nrows), squeeze=False, constrained_layout=False
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = x[i].transpose(1, 2, 0)
        ax.imshow(
            img[:, :, 0] if img.shape[2] == 1 else img,
            cmap="gray" if img.shape[2] == 1 else None,
            vmin=0,
            vmax=255,
            interpolation="nearest",
        )
        if titles is not None:
            ax.set_title(titles[i], fontsize=7, pad=2)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.subplots_adjust(wspace=0.05, hspace=0.35)
    return fig


PROBIT_TICKS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 98, 99, 99.5, 99.8, 99.9)


def probit_axes(
    ax: plt.Axes, x_range: tuple[float, float], y_range: tuple[float, float], ticks: tuple[float, ...] = PROBIT_TICKS
) -> None:
    """Label probit-scaled axes in accuracy %: data plotted at Phi^{-1}(acc / 100), ticks in %.

    ``x_range``/``y_range`` are the accuracy ranges (%) to show; ticks inside them are drawn,
    thinned so that neighbours are at least a tenth of the axis apart.
    """
    from scipy.stats import norm

    for rng, set_lim, set_ticks, set_labels in (
        (x_range, ax.set_xlim, ax.set_xticks, ax.set_xticklabels),
        (y_range, ax.set_ylim, ax.set_yticks, ax.set_yticklabels),
    ):
        lo, hi = (min(max(v, 0.01), 99.99) for v in rng)
        if not lo < hi:
            raise ValueError(f"accuracy range must satisfy lo < hi within (0, 100); got {rng!r}")
        z_lo, z_hi = norm.ppf(lo / 100), norm.ppf(hi / 100)
        set_lim(z_lo, z_hi)
        kept: list[float] = []  # thin the ticks: at least a tenth of the axis apart
        for t in (t for t in ticks if lo <= t <= hi):
            if not kept or norm.ppf(t / 100) - norm.ppf(kept[-1] / 100) >= (z_hi - z_lo) / 10:
                kept.append(t)
        set_ticks(norm.ppf(np.asarray(kept) / 100))
        set_labels([f"{t:g}" for t in kept])
