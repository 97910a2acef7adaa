r"""Spatial robustness (Engstrom, Tran, Tsipras, Schmidt & Madry 2019): rotations and translations.

A transformation :math:`T_{\theta, \delta_x, \delta_y}` rotates an image by :math:`\theta` degrees
about its centre and shifts it by :math:`(\delta_x, \delta_y)` pixels; the empty border is
filled with zeros (black) and pixels are resampled bilinearly (``torch`` ``affine_grid`` +
``grid_sample``). The threat model is the box
:math:`|\theta| \le 30^\circ,\ |\delta_x|, |\delta_y| \le 3` pixels.

* :func:`grid_attack`: worst of a grid over the box (an image counts as correct only if the
  model classifies *every* grid transformation of it correctly);
* :func:`random_attack`: worst of ``k`` uniform random draws from the box (the same budget as
  the grid when ``k`` is the grid's size);
* :func:`train`: standard training, augmentation with one random transformation per image
  (``augment``), or worst-of-``k`` training (``worst_of_k``: each image is replaced by the
  transformation of ``k`` random draws with the highest loss), and :func:`train_cached`.
* :func:`box_curve`: worst-of-grid accuracy against the size of the box, for rotations only,
  translations only and both; :func:`mcnemar_exact`: McNemar's exact test by hand, for the
  paired comparisons of models on the same images; :func:`curve_tests`: the family of McNemar
  tests along the curve, decided on Holm-adjusted p-values; :func:`near_floor` /
  :func:`floor_words`: comparisons where both models keep at most :data:`FLOOR_SHARE` of the images.

Both attacks only query the model (no gradients), and evaluate a transformation only on the
images that are still classified correctly, which gives the same answer as evaluating all.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from reliable_ml.util.progress import tqdm

METHODS = ("standard", "augment", "worst_of_k")


# --------------------------------------------------------------------------- the transformation
def transform(
    x: torch.Tensor,
    angle: torch.Tensor | float,
    dx: torch.Tensor | float = 0.0,
    dy: torch.Tensor | float = 0.0,
    scale: torch.Tensor | float = 1.0,
) -> torch.Tensor:
    """Rotate ``x`` (B, C, H, W) by ``angle`` degrees (counter-clockwise) about its centre, zoom it
    by ``scale``, then shift it by ``(dx, dy)`` pixels (right, down). Scalars apply to every image,
    tensors of length B per image. Zero fill, bilinear resampling; differentiable in ``x``."""
    if x.ndim != 4:
        raise ValueError(f"x must be a batch (B, C, H, W); got shape {tuple(x.shape)}")
    b, _, h, w = x.shape
    par = [torch.as_tensor(v, dtype=x.dtype, device=x.device).expand(b) for v in (angle, dx, dy, scale)]
    theta = torch.deg2rad(par[0])
    cos, sin = torch.cos(theta) / par[3], torch.sin(theta) / par[3]
    # affine_grid maps output coordinates (in [-1, 1]) to input coordinates: the inverse map.
    # A shift by dx pixels is 2 dx / W in normalised units; square pixels need the aspect ratio.
    mat = torch.zeros(b, 2, 3, dtype=x.dtype, device=x.device)
    mat[:, 0, 0], mat[:, 0, 1] = cos, -sin * h / w  # the inverse rotation, in normalised units
    mat[:, 1, 0], mat[:, 1, 1] = sin * w / h, cos
    tx, ty = 2 * par[1] / w, 2 * par[2] / h
    mat[:, 0, 2] = -(mat[:, 0, 0] * tx + mat[:, 0, 1] * ty)  # input = R^-1 (output - t)
    mat[:, 1, 2] = -(mat[:, 1, 0] * tx + mat[:, 1, 1] * ty)
    grid = F.affine_grid(mat, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def check_box(max_angle: float, max_shift: float) -> None:
    if not (max_angle >= 0 and max_shift >= 0 and math.isfinite(max_angle) and math.isfinite(max_shift)):
        raise ValueError(f"max_angle and max_shift must be finite and >= 0; got {max_angle} and {max_shift}")


def grid(max_angle: float = 30.0, max_shift: float = 3.0, n_angles: int = 31, n_shifts: int = 5) -> torch.Tensor:
    """The grid of transformations: ``n_angles`` evenly spaced angles in [-max_angle, max_angle]
    times ``n_shifts`` shifts per axis in [-max_shift, max_shift]; (n_angles * n_shifts**2, 3)
    rows ``(angle, dx, dy)``. Engstrom et al. use 31 angles and 5 shifts per axis (775 points)."""
    check_box(max_angle, max_shift)
    if n_angles < 1 or n_shifts < 1:
        raise ValueError(f"n_angles and n_shifts must be >= 1; got {n_angles} and {n_shifts}")
    a = torch.linspace(-max_angle, max_angle, n_angles) if n_angles > 1 else torch.zeros(1)
    s = torch.linspace(-max_shift, max_shift, n_shifts) if n_shifts > 1 else torch.zeros(1)
    return torch.cartesian_prod(a, s, s)


def sample(
    n: int, max_angle: float = 30.0, max_shift: float = 3.0, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``n`` transformations ``(angle, dx, dy)`` drawn uniformly from the box."""
    check_box(max_angle, max_shift)
    u = torch.rand(n, 3, generator=generator) * 2 - 1
    return u * torch.tensor([max_angle, max_shift, max_shift])


# --------------------------------------------------------------------------- the attacks
EVAL_VERSION = 1  # bump when an attack's code changes what it returns: cached outcomes are then recomputed


def _cached(
    name: str, model: nn.Module, x: torch.Tensor, y: torch.Tensor, spec: dict, compute, cache: bool | Path | str | None
) -> torch.Tensor:
    """``compute()`` (bool (N,)), or with ``cache`` its copy in the model cache
    (``<cache_dir>/models/spatial/evaluations/``, or the folder ``cache``), keyed by the model's
    weights, ``spec``, the images and the labels (:func:`reliable_ml.util.evalcache.cached_outcomes`)."""
    if not cache:
        return compute()
    from reliable_ml.util import evalcache

    if cache is True:
        from reliable_ml.data import cache_dir

        folder = cache_dir() / "models" / "spatial" / "evaluations"
    else:
        folder = Path(cache)
    out = evalcache.cached_model_eval(
        folder,
        name,
        model,
        {"v": EVAL_VERSION, **spec},
        (x, y),
        lambda: {"correct": compute()},
        expected={"correct": ((len(y),), torch.bool)},
    )
    return out["correct"]


@torch.no_grad()
def worst_of(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    params: torch.Tensor,
    batch_size: int = 1000,
    cache: bool | Path | str | None = None,
) -> torch.Tensor:
    """Per image, whether the model classifies ``x`` correctly under *every* transformation in
    ``params`` (T, 3) (the same list for every image). Returns a bool tensor (N,) on the CPU.
    With ``cache`` (True: the model cache; or a folder) the outcome is kept there, keyed by the
    model's weights, ``params``, ``x`` and ``y`` (see :func:`_cached`)."""
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length: {len(x)} and {len(y)}")
    if cache:
        spec = {"params": params.tolist(), "batch_size": batch_size}
        return _cached("worst_of", model, x, y, spec, lambda: worst_of(model, x, y, params, batch_size), cache)
    model.eval()
    dev = next(model.parameters()).device
    correct = torch.ones(len(y), dtype=torch.bool)
    for start in range(0, len(y), batch_size):
        xb, yb = x[start : start + batch_size].to(dev), y[start : start + batch_size].to(dev)
        alive = torch.ones(len(yb), dtype=torch.bool, device=dev)
        for a, dx, dy in params.tolist():
            idx = alive.nonzero().squeeze(1)
            if len(idx) == 0:
                break
            pred = model(transform(xb[idx], a, dx, dy)).argmax(1)
            alive[idx] = pred == yb[idx]
        correct[start : start + len(yb)] = alive.cpu()
    return correct


def grid_attack(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    max_angle: float = 30.0,
    max_shift: float = 3.0,
    n_angles: int = 31,
    n_shifts: int = 5,
    cache: bool | Path | str | None = None,
) -> torch.Tensor:
    """Per-image correctness under the worst transformation of :func:`grid` (which contains the
    identity when both counts are odd); ``cache`` as in :func:`worst_of`."""
    params = grid(max_angle, max_shift, n_angles, n_shifts)
    order = torch.cat([params[(params == 0).all(1)], params[~(params == 0).all(1)]])  # identity first
    return worst_of(model, x, y, order, cache=cache)


@torch.no_grad()
def random_attack(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    k: int,
    max_angle: float = 30.0,
    max_shift: float = 3.0,
    seed: int = 0,
    batch_size: int = 1000,
    cache: bool | Path | str | None = None,
) -> torch.Tensor:
    """Per-image correctness under the worst of ``k`` transformations drawn uniformly from the
    box, independently for every image (draws seeded by ``seed``). Bool tensor (N,) on the CPU.
    ``cache`` as in :func:`worst_of` (keyed by ``k``, the box, ``seed`` and the batch size too)."""
    if k < 1:
        raise ValueError(f"k must be >= 1; got {k}")
    if cache:
        spec = {"k": k, "max_angle": max_angle, "max_shift": max_shift, "seed": seed, "batch_size": batch_size}
        return _cached(
            "random",
            model,
            x,
            y,
            spec,
            lambda: random_attack(model, x, y, k, max_angle, max_shift, seed, batch_size),
            cache,
        )
    gen = torch.Generator().manual_seed(seed)
    draws = torch.stack([sample(len(y), max_angle, max_shift, generator=gen) for _ in range(k)], 1)  # (N, k, 3)
    model.eval()
    dev = next(model.parameters()).device
    correct = torch.ones(len(y), dtype=torch.bool)
    for start in range(0, len(y), batch_size):
        xb, yb = x[start : start + batch_size].to(dev), y[start : start + batch_size].to(dev)
        pb = draws[start : start + batch_size].to(dev, x.dtype)
        alive = torch.ones(len(yb), dtype=torch.bool, device=dev)
        for j in range(k):
            idx = alive.nonzero().squeeze(1)
            if len(idx) == 0:
                break
            p = pb[idx, j]
            alive[idx] = model(transform(xb[idx], p[:, 0], p[:, 1], p[:, 2])).argmax(1) == yb[idx]
        correct[start : start + len(yb)] = alive.cpu()
    return correct


def scale_shift(max_shift: float, image_size: int, reference: int = 28) -> float:
    """The shift in pixels of an ``image_size`` image that matches ``max_shift`` pixels of a
    ``reference``-pixel image (the same fraction of the width); e.g. 3 px of 28 -> 0.86 px of 8."""
    return max_shift * image_size / reference


# --------------------------------------------------------------------------- training
@dataclass(frozen=True)
class SpatialTrainConfig:
    """A training run: ``method`` standard | augment | worst_of_k (``k`` random draws per image,
    keep the one with the highest loss), Adam with a one-cycle learning rate."""

    method: str = "standard"
    epochs: int = 3
    batch_size: int = 100
    lr_max: float = 3e-3
    k: int = 10
    max_angle: float = 30.0
    max_shift: float = 3.0
    seed: int = 0

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; allowed: {', '.join(METHODS)}")
        if self.epochs < 1 or self.batch_size < 1 or self.k < 1:
            raise ValueError(f"epochs, batch_size and k must be >= 1; got {self.epochs}, {self.batch_size}, {self.k}")
        check_box(self.max_angle, self.max_shift)


def worst_of_k_batch(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    k: int,
    max_angle: float,
    max_shift: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """Each image of the batch under the highest-loss transformation of ``k`` random draws
    (Engstrom et al.'s worst-of-k; ``k = 1`` is random augmentation)."""
    best, best_loss = x, torch.full((len(y),), -math.inf, device=x.device)
    with torch.no_grad():
        for _ in range(k):
            p = sample(len(y), max_angle, max_shift, generator=generator).to(x.device, x.dtype)
            xt = transform(x, p[:, 0], p[:, 1], p[:, 2])
            loss = F.cross_entropy(model(xt), y, reduction="none") if k > 1 else torch.zeros(len(y), device=x.device)
            better = loss > best_loss
            best = torch.where(better[:, None, None, None], xt, best)
            best_loss = torch.where(better, loss, best_loss)
    return best


def train(
    model: nn.Module, x_uint8: torch.Tensor, y: torch.Tensor, cfg: SpatialTrainConfig, progress: bool = False
) -> nn.Module:
    """Train ``model`` in place on uint8 images (N, C, H, W) with ``cfg``; returns it in eval mode."""
    if x_uint8.dtype != torch.uint8 or x_uint8.ndim != 4 or len(x_uint8) != len(y):
        raise ValueError(
            f"x must be uint8 (N, C, H, W) with N labels; got {x_uint8.dtype} "
            f"{tuple(x_uint8.shape)} and {len(y)} labels"
        )
    dev = next(model.parameters()).device
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    opt = torch.optim.Adam(model.parameters(), lr=0.0)
    n, steps = len(y), math.ceil(len(y) / cfg.batch_size)
    bar = tqdm(total=cfg.epochs * steps, desc=f"{cfg.method} training", disable=not progress)
    for epoch in range(cfg.epochs):
        perm = torch.randperm(n, generator=gen)
        for i in range(steps):
            frac = (epoch + i / steps) / cfg.epochs
            opt.param_groups[0]["lr"] = cfg.lr_max * (frac / 0.4 if frac < 0.4 else (1 - frac) / 0.6)
            idx = perm[i * cfg.batch_size : (i + 1) * cfg.batch_size]
            xb, yb = x_uint8[idx].to(dev).float() / 255, y[idx].to(dev)
            if cfg.method != "standard":
                model.eval()  # the search only ranks draws (BatchNorm statistics untouched)
                xb = worst_of_k_batch(
                    model, xb, yb, cfg.k if cfg.method == "worst_of_k" else 1, cfg.max_angle, cfg.max_shift, gen
                )
            model.train()
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            bar.update(1)
    bar.close()
    return model.eval()


def _key(model: nn.Module, x_uint8: torch.Tensor, y: torch.Tensor, cfg: SpatialTrainConfig) -> str:
    h = hashlib.sha256()
    h.update(
        repr(
            (
                sorted(asdict(cfg).items()),
                tuple(x_uint8.shape),
                torch.__version__,
                [(k, tuple(v.shape)) for k, v in model.state_dict().items()],
            )
        ).encode()
    )
    h.update(x_uint8.cpu().numpy().tobytes())
    h.update(y.cpu().numpy().tobytes())
    return h.hexdigest()[:20]


def train_cached(
    model: nn.Module,
    x_uint8: torch.Tensor,
    y: torch.Tensor,
    cfg: SpatialTrainConfig,
    tag: str,
    progress: bool = False,
    cache: Path | str | None = None,
) -> tuple[nn.Module, float]:
    """:func:`train`, with the weights kept in the cache (``<cache>/models/spatial/<tag>-<key>.pt``),
    keyed by the config, the training tensors, the architecture and the torch version.
    Returns ``(model, training seconds)``; a cached model reports its original training time.
    An unreadable cache file is retrained and rewritten."""
    from reliable_ml.data import cache_dir
    from reliable_ml.util import cachestats

    folder = Path(cache) if cache is not None else cache_dir() / "models" / "spatial"
    path = folder / f"{tag}-{_key(model, x_uint8, y, cfg)}.pt"
    dev = next(model.parameters()).device
    if path.exists():
        try:
            saved = torch.load(path, map_location=dev, weights_only=True)
            model.load_state_dict(saved["state"])
            cachestats.record("spatial", hit=True)
            return model.eval(), float(saved["seconds"])
        except Exception:  # noqa: BLE001 - any unreadable cache file is retrained
            pass
    cachestats.record("spatial", hit=False)
    t0 = time.perf_counter()
    train(model, x_uint8, y, cfg, progress=progress)
    seconds = time.perf_counter() - t0
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # one per process: chapters may run side by side
    torch.save({"state": model.state_dict(), "seconds": seconds}, tmp)
    tmp.replace(path)
    return model, seconds


# --------------------------------------------------------------------------- evaluation
class Scores(NamedTuple):
    """Per-image correctness (bool, CPU) of one model: clean, worst-of-grid, worst-of-k random."""

    clean: torch.Tensor
    grid: torch.Tensor
    random: torch.Tensor


@torch.no_grad()
def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    max_angle: float = 30.0,
    max_shift: float = 3.0,
    n_angles: int = 31,
    n_shifts: int = 5,
    seed: int = 0,
    cache: bool | Path | str | None = None,
) -> Scores:
    """Clean, grid and random (same budget as the grid) correctness of ``model`` on ``x``, ``y``;
    with ``cache`` the two attacks' per-image outcomes are kept in the model cache (:func:`worst_of`)."""
    model.eval()
    dev = next(model.parameters()).device
    clean = torch.cat(
        [model(x[i : i + 1000].to(dev)).argmax(1).cpu() == y[i : i + 1000].cpu() for i in range(0, len(y), 1000)]
    )
    k = n_angles * n_shifts**2
    return Scores(
        clean,
        grid_attack(model, x, y, max_angle, max_shift, n_angles, n_shifts, cache=cache),
        random_attack(model, x, y, k, max_angle, max_shift, seed=seed, cache=cache),
    )


def accuracy_interval(correct: torch.Tensor) -> dict:
    """Accuracy (%) with its 95% Wilson interval."""
    from reliable_ml.stats import wilson

    k, n = int(correct.sum()), len(correct)
    lo, hi = wilson(k, n)
    return {"acc": 100 * k / n, "lo": 100 * float(lo), "hi": 100 * float(hi), "n": n}


def summarize(scores: dict[str, list[Scores]]) -> dict:
    """``{attack: {model: mean accuracy over seeds (%)}}`` plus per-seed values and intervals:
    ``scores`` maps a model name to its list of :class:`Scores` (one per seed)."""
    out: dict = {"clean": {}, "grid": {}, "random": {}, "per_seed": {}, "intervals": {}}
    for name, runs in scores.items():
        for attack in ("clean", "grid", "random"):
            per = [accuracy_interval(getattr(s, attack)) for s in runs]
            out[attack][name] = float(np.mean([p["acc"] for p in per]))
            out["per_seed"].setdefault(attack, {})[name] = [p["acc"] for p in per]
            out["intervals"].setdefault(attack, {})[name] = [[p["lo"], p["hi"]] for p in per]
    return out


def summary_table(summary: dict, names: dict[str, str] | None = None):
    """A table (pandas) of :func:`summarize`: per model and attack the mean accuracy over seeds,
    the lowest and highest seed, and the widest span of the seeds' 95% intervals (all in %)."""
    import pandas as pd

    names = names or {}
    rows = {}
    for arm in summary["clean"]:
        for attack in ("clean", "random", "grid"):
            per, iv = summary["per_seed"][attack][arm], summary["intervals"][attack][arm]
            rows[(names.get(arm, arm), attack)] = {
                "mean acc. (%)": f"{np.mean(per):.1f}",
                "seeds: min": f"{min(per):.1f}",
                "seeds: max": f"{max(per):.1f}",
                "95% CI, widest": f"{min(i[0] for i in iv):.1f}–{max(i[1] for i in iv):.1f}",
                "models": len(per),
            }
    return pd.DataFrame(rows).T


def as_fractions(summary: dict) -> dict:
    """:func:`summarize`'s accuracies (%) as fractions 0..1, for results files (a percentage below 1
    would be ambiguous to readers that take values <= 1 as fractions, like the scorecard)."""

    def div(v):
        if isinstance(v, dict):
            return {k: div(x) for k, x in v.items()}
        if isinstance(v, list):
            return [div(x) for x in v]
        return v / 100

    return {k: div(summary[k]) for k in ("clean", "grid", "random", "per_seed", "intervals")}


def plot_grid_examples(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    source: str,
    *,
    max_angle: float = 30.0,
    max_shift: float = 3.0,
    n: int = 6,
    title: str = "",
):
    """A row per image: the clean image and the transformation of a coarse grid that fools
    ``model`` (or the last one tried), with the prediction on each."""
    import matplotlib.pyplot as plt

    from reliable_ml.util import plots

    params = grid(max_angle, max_shift, 5, 3)
    fig, axes = plt.subplots(2, n, figsize=(1.6 * n, 3.6))
    dev = next(model.parameters()).device
    with torch.no_grad():
        for i in range(n):
            xi = x[i : i + 1].to(dev)
            chosen, pred = params[0], None
            for p in params.tolist():
                pred = int(model(transform(xi, *p)).argmax(1))
                chosen = p
                if pred != int(y[i]):
                    break
            img = transform(xi, *chosen)[0].cpu()
            for row, (im, label) in enumerate(
                (
                    (xi[0].cpu(), f"clean: {int(model(xi).argmax(1))}"),
                    (img, f"{chosen[0]:+.0f}°, ({chosen[1]:+.1f}, {chosen[2]:+.1f}) px\npred {pred}"),
                )
            ):
                ax = axes[row, i]
                ax.imshow(im.permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray", vmin=0, vmax=1)
                ax.set_title(label, fontsize=8)
                ax.axis("off")
    fig.suptitle(title or "A rotation and a shift change the prediction", fontsize=10)
    plots.source_caption(fig, source)
    return fig


def plot_accuracies(summary: dict, n_eval: int, source: str, names: dict[str, str] | None = None):
    """Bars of clean / random / grid accuracy per model (mean over seeds), with each seed's 95%
    Wilson interval drawn as a line."""
    import matplotlib.pyplot as plt

    from reliable_ml.util import plots

    names = names or {}
    models = list(summary["clean"])
    attacks = ("clean", "random", "grid")
    fig, ax = plt.subplots(figsize=(7, 3.4))
    width = 0.8 / len(models)
    for j, m in enumerate(models):
        xs = np.arange(len(attacks)) + (j - (len(models) - 1) / 2) * width
        ax.bar(xs, [summary[a][m] for a in attacks], width, label=names.get(m, m))
        for xpos, a in zip(xs, attacks):
            for lo, hi in summary["intervals"][a][m]:
                ax.plot([xpos, xpos], [lo, hi], color="black", lw=1)
    ax.set_xticks(np.arange(len(attacks)), ["clean", "random (worst of k)", "grid (worst of k)"])
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(f"{n_eval:,} test images; black lines: 95% interval of each seed", fontsize=10)
    plots.source_caption(fig, source)
    return fig


# --------------------------------------------------------------------------- verdicts and their words
DEFENCE_WORDS = {
    "augment": "augmentation (one random transformation per training image)",
    "worst_of_k": "worst-of-k training",
}


def paired(a: torch.Tensor, b: torch.Tensor, margin: float | None = None):
    """:func:`reliable_ml.stats.compare` of two models' per-image correctness on the *same*
    images (McNemar's exact test, Newcombe's paired interval): is ``a``'s accuracy higher? With
    ``margin`` (a fraction): two one-sided tests on the paired interval instead (equivalence)."""
    from reliable_ml import stats

    return stats.compare(
        np.asarray(a, dtype=float), np.asarray(b, dtype=float), paired=True, outcome="binary", margin=margin
    )


def arm_verdicts(scores: dict[str, list[Scores]], cost_margin: float = 0.01) -> dict:
    """Every comparison chapter 11 words, each a list of :func:`paired` verdicts on the shared images.

    ``scores`` maps an arm to its :class:`Scores` (one per seed): ``standard`` and
    ``spatial_trained`` always, ``linf_robust`` optionally (one shared model). Returns
    ``spatial_vs_standard_grid`` (every spatially trained model against every standard one),
    ``clean_cost`` (standard minus spatially trained model of the same seed, clean images),
    ``clean_cost_tost`` (the same pairs, two one-sided tests at ``cost_margin``),
    ``same_seed_grid`` (spatially trained minus standard of the same seed, grid),
    ``random_vs_grid`` (per arm: each model's random-attack against its grid correctness), and
    with ``linf_robust``: ``linf_vs_standard`` (per attack, the L-inf model against each
    standard seed) and ``spatial_vs_linf_grid``.
    """
    std, spa = scores["standard"], scores["spatial_trained"]
    out = {
        "spatial_vs_standard_grid": [paired(a.grid, b.grid) for a in spa for b in std],
        "clean_cost": [paired(b.clean, a.clean) for a, b in zip(spa, std)],
        "clean_cost_tost": [paired(b.clean, a.clean, margin=cost_margin) for a, b in zip(spa, std)],
        "same_seed_grid": [paired(a.grid, b.grid) for a, b in zip(spa, std)],
        "random_vs_grid": {arm: [paired(s.random, s.grid) for s in runs] for arm, runs in scores.items()},
    }
    if "linf_robust" in scores:
        rob = scores["linf_robust"]
        out["linf_vs_standard"] = {
            attack: [paired(getattr(r, attack), getattr(s, attack)) for r in rob for s in std]
            for attack in ("clean", "random", "grid")
        }
        out["spatial_vs_linf_grid"] = [paired(a.grid, r.grid) for a in spa for r in rob]
    return out


def verdict_records(verdicts: dict) -> dict:
    """:func:`arm_verdicts` as plain JSON for the results file (each verdict's direction,
    difference and interval as fractions, test and p-value)."""
    if isinstance(verdicts, dict):
        return {k: verdict_records(v) for k, v in verdicts.items()}
    if isinstance(verdicts, list):
        return [verdict_records(v) for v in verdicts]
    return verdicts.as_dict()


def at_floor(runs: list[Scores], attack: str = "grid") -> bool:
    """True when every model of ``runs`` keeps 0 images correct under ``attack`` (exact counts)."""
    return all(int(getattr(s, attack).sum()) == 0 for s in runs)


FLOOR_SHARE = 0.02  # a comparison where both models keep at most this share of the images correct is at the floor
FLOOR_RULE = "both keep at most {pct:g}% of the images correct"  # the rule in words, as the prose states it


def near_floor(a: torch.Tensor, b: torch.Tensor, share: float = FLOOR_SHARE) -> bool:
    """True when both of two models' per-image correctness vectors keep at most ``share`` of the
    images correct (exact counts, max(k_a, k_b) <= share * N): the attack leaves both (almost) nothing, so a
    paired test rests on a handful of images and says little about which model is the more robust. One
    model far above the floor against one at it is a comparison the attack can make (False)."""
    if not 0 <= share < 1:
        raise ValueError(f"share must lie in [0, 1); got {share!r}")
    a, b = torch.as_tensor(a), torch.as_tensor(b)
    limit = share * len(a)
    return max(int(a.sum()), int(b.sum())) <= limit


def _p(p: float) -> str:
    return f"{p:.2g}" if p >= 0.001 else f"{p:.1e}"


def _holm_words(h) -> str:
    """The words "not significant after Holm over 12 tests (adjusted p = 0.12)" or "significant ...", from a
    :func:`reliable_ml.stats.holm_verdicts` verdict."""
    word = "not significant" if h.direction == "cannot tell" else "significant"
    return f"{word} after {h.test.split(', ')[-1]} tests (adjusted p = {_p(h.p_value)})"


def floor_words(a: torch.Tensor, b: torch.Tensor, share: float = FLOOR_SHARE, holm=None) -> str:
    """Words for a paired comparison at the floor (:func:`near_floor`): the counts, the exact McNemar p
    and, with ``holm`` (a verdict of :func:`reliable_ml.stats.holm_verdicts`), whether it survives the
    correction: "7 vs 0 of the 1,000 images (exact McNemar p = 0.016); at the floor (...)"."""
    n, k_a, k_b = len(a), int(torch.as_tensor(a).sum()), int(torch.as_tensor(b).sum())
    text = (
        f"{k_a:,} vs {k_b:,} of the {n:,} images (exact McNemar p = {_p(mcnemar_exact(a, b)['p_value'])}); at the "
        f"floor ({FLOOR_RULE.format(pct=100 * share)}), where the comparison rests on "
        "the few images either keeps and says little about which model is the more robust"
    )
    return text + (f"; {_holm_words(holm)}" if holm is not None else "")


def linf_sentences(scores: dict[str, list[Scores]], verdicts: dict, n_grid: int, share: float = FLOOR_SHARE) -> dict:
    """Chapter 11's words on "does L-inf training buy spatial robustness?", from :func:`arm_verdicts`.

    ``linf_grid``: under the grid. When the L-inf model and a standard model both keep at most ``share`` of
    the images (:func:`near_floor`), the counts against each standard seed and their exact McNemar p,
    marked as at the floor; otherwise the paired verdicts' words. There is one L-inf model, so the
    comparisons with the standard seeds are one model against three references, not three pieces of
    evidence, and they are not like with like (other data and epochs); the words say so.
    ``linf_random``: the same under the worst of ``n_grid`` random draws. ``linf_spatial``: the
    spatially trained models against the L-inf model under the grid (ordinary verdicts: a model far
    above the floor against one at it is a comparison the attack can make; not like with like either).
    """
    from reliable_ml import stats

    rob = scores["linf_robust"][0]
    caveat = "one L∞-robust model against each standard seed, so not three pieces of evidence, and not like with like"

    def against_standard(attack: str) -> str:
        r = getattr(rob, attack)
        others = [getattr(s, attack) for s in scores["standard"]]
        if any(near_floor(r, o, share) for o in others):
            kept = sorted({int(o.sum()) for o in others})
            ps = sorted({_p(mcnemar_exact(r, o)["p_value"]) for o in others}, key=float)
            vs = f"{kept[0]:,}" if len(kept) == 1 else f"{kept[0]:,} to {kept[-1]:,}"
            pw = f"p = {ps[0]} each" if len(ps) == 1 else f"p = {ps[0]} to {ps[-1]}"
            return (
                f"{int(r.sum()):,} vs {vs} of the {len(r):,} images against each standard seed (exact McNemar {pw}; "
                f"{caveat}); at the floor ({FLOOR_RULE.format(pct=100 * share)}), where the "
                "comparison rests on the few images either keeps and says little about which model is the more robust"
            )
        return (
            stats.phrase_all(
                verdicts["linf_vs_standard"][attack],
                "the L∞-robust model keeps more images correct than the standard model",
                "the L∞-robust model keeps fewer images correct than the standard model",
                "the data cannot tell the L∞-robust model from the standard model",
                "the standard seeds disagree",
                items="comparisons with a standard seed",
            )
            + f" ({caveat})"
        )

    grid = "Under the grid, " + against_standard("grid")
    random = f"Under the worst of {n_grid} random draws, " + against_standard("random")
    spatial = stats.phrase_all(
        verdicts["spatial_vs_linf_grid"],
        "the spatially trained models keep more images correct under the grid than the L∞-robust model",
        "the spatially trained models keep fewer images correct under the grid than the L∞-robust model",
        "the data cannot tell the spatially trained models from the L∞-robust model under the grid",
        "the spatially trained seeds disagree",
        items="seeds",
    ) + (
        " (one L∞-robust model against each spatially trained seed, and not like with like: other data, epochs "
        "and training objective)"
    )
    clean = stats.phrase_all(
        verdicts["linf_vs_standard"]["clean"],
        "more accurate than the standard models",
        "less accurate than the standard models",
        "not distinguishable from the standard models",
        "the standard seeds disagree",
        items="standard seeds",
    )
    return {"linf_grid": grid, "linf_random": random, "linf_spatial": spatial, "linf_clean": clean}


def matched_sentences(scores: dict[str, list[Scores]], n_grid: int, share: float = FLOOR_SHARE, holm=None) -> dict:
    """Chapter 11's words on the L-inf model (``linf_robust``) against its matched standard twin
    (``standard_matched``: the same recipe without the adversary), image by image (:func:`paired`):
    ``matched_clean``, ``matched_random`` (worst of ``n_grid`` random draws) and ``matched_grid``.
    Under an attack where both keep at most ``share`` of the images correct (:func:`near_floor`)
    the words give the counts and the exact p and say the comparison is at the floor
    (:func:`floor_words`); ``holm`` ({attack: verdict of :func:`reliable_ml.stats.holm_verdicts`})
    adds whether that test survives the correction for its family."""
    from reliable_ml import stats

    rob, twin = scores["linf_robust"][0], scores["standard_matched"][0]
    holm = holm or {}
    out = {
        "matched_clean": stats.phrase(
            paired(rob.clean, twin.clean),
            "the L∞-robust model is more accurate than its twin",
            "the L∞-robust model is less accurate than its twin",
            "the data cannot tell the two apart",
        )
    }
    for attack in ("random", "grid"):
        a, b = getattr(rob, attack), getattr(twin, attack)
        if near_floor(a, b, share):
            out[f"matched_{attack}"] = floor_words(a, b, share, holm.get(attack))
            continue
        out[f"matched_{attack}"] = stats.phrase(
            paired(a, b),
            "the L∞-robust model keeps more images correct than its twin",
            "the L∞-robust model keeps fewer images correct than its twin",
            "the data cannot tell the two apart",
        )
    return out


def defence_sentences(scores: dict[str, list[Scores]], verdicts: dict, names: dict[str, str]) -> dict:
    """Chapter 11's words on the defence, from :func:`arm_verdicts`: ``defence_verdict`` (every
    spatially trained model against every standard model under the grid), ``cost_verdict``
    (clean accuracy, same seed), ``random_vs_grid`` (per arm, the random attack against the
    grid) and ``grid_floor`` (whether the standard models' grid accuracy is at 0, exact counts)."""
    from reliable_ml import stats

    n = len(scores["standard"][0].grid)
    defence = stats.phrase_all(
        verdicts["spatial_vs_standard_grid"],
        "each spatially trained model keeps more images correct under the grid than each standard model",
        "each spatially trained model keeps fewer images correct under the grid than each standard model",
        "the data cannot tell the spatially trained models from the standard models under the grid",
        "the pairs of models disagree",
        items="pairs of models",
    )
    cost = "image by image (McNemar), " + stats.phrase_all(
        verdicts["clean_cost"],
        "the defended model pays a clean-accuracy cost",
        "the defended model gains clean accuracy",
        "the data cannot tell the defended and standard models apart on clean images",
        "the seeds disagree",
        items="seeds",
    )
    tost = verdicts.get("clean_cost_tost", [])
    if tost:
        m = 100 * tost[0].margin
        held = sum(v.direction == "equivalent" for v in tost)
        shown_cost = stats.consensus(verdicts["clean_cost"]) == "higher"
        support = [100 * v.margin_supported for v in tost]
        lead = (
            f"; two one-sided tests show the two equivalent within ±{m:g} point in all {len(tost)} seeds"
            if held == len(tost)
            else f"; two one-sided tests show them equivalent within ±{m:g} point in {held} of {len(tost)} seeds"
            + ("" if shown_cost else f", so a cost of {m:g} point is not excluded")
        )
        lo, hi = f"{min(support):.1f}", f"{max(support):.1f}"
        cost += f"{lead} (the data support ±{lo}{'' if lo == hi else f' to ±{hi}'} points)"
    per_arm = [
        f"{names.get(arm, arm)}: "
        + stats.phrase_all(
            v,
            "random draws leave more images correct than the grid",
            "random draws leave fewer images correct than the grid",
            "the data cannot tell the two attacks apart",
            "the seeds disagree",
            items="seeds",
        )
        for arm, v in verdicts["random_vs_grid"].items()
    ]
    every = [v for vs in verdicts["random_vs_grid"].values() for v in vs]
    if stats.consensus(every) == "higher":
        random_vs_grid = (
            "for every model the random attack leaves a higher accuracy than the grid, "
            "so the grid is the stronger attack here"
        )
    else:
        random_vs_grid = "; ".join(per_arm)
    kept = [int(s.grid.sum()) for s in scores["standard"]]
    if at_floor(scores["standard"]):
        floor = (
            f"Under the grid every standard model keeps 0 of the {n:,} images correct: for this network the "
            "grid sits at the floor, so it shows that the models break but cannot rank them, nor say whether "
            "the rotations, the shifts or their combination break them."
        )
    else:
        floor = f"Under the grid the standard models keep {min(kept):,} to {max(kept):,} of the {n:,} images correct."
    return {"defence_verdict": defence, "cost_verdict": cost, "random_vs_grid": random_vs_grid, "grid_floor": floor}


# --------------------------------------------------------------------------- accuracy against the size of the box
KINDS = ("rotation", "translation", "both")


def box_grid(kind: str, fraction: float, max_angle: float, max_shift: float, n_angles: int, n_shifts: int):
    """The grid of :func:`grid` for a box scaled by ``fraction`` (0..1) and restricted to ``kind``:
    ``rotation`` (``n_angles`` angles in ±fraction·max_angle, no shift), ``translation``
    (``n_shifts``² shifts in ±fraction·max_shift, no rotation) or ``both`` (their product)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; allowed: {', '.join(KINDS)}")
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must lie in [0, 1]; got {fraction}")
    a = fraction * max_angle if kind != "translation" else 0.0
    s = fraction * max_shift if kind != "rotation" else 0.0
    return grid(a, s, n_angles if kind != "translation" else 1, n_shifts if kind != "rotation" else 1)


def box_curve(
    models: dict[str, list[nn.Module]],
    x: torch.Tensor,
    y: torch.Tensor,
    fractions,
    *,
    max_angle: float = 30.0,
    max_shift: float = 3.0,
    n_angles: int = 31,
    n_shifts: int = 5,
    known: dict | None = None,
    cache: bool | Path | str | None = None,
) -> dict:
    """Worst-of-grid correctness per image, for every model, kind of box (:data:`KINDS`) and box
    size ``fraction`` · (max_angle, max_shift): ``{kind: {arm: [per model: [per fraction: bool (N,)]]}}``.

    An image counts at a size only if the model is right under *every* grid point of that box
    (:func:`worst_of`, identity first). ``known`` ({arm: [per model: bool (N,)]}) supplies the
    ``both`` result at fraction 1 when it has already been computed with the same grid.
    ``cache``: keep each outcome in the model cache (:func:`worst_of`).
    """
    fractions = [float(f) for f in fractions]
    out: dict = {kind: {} for kind in KINDS}
    for kind in KINDS:
        for arm, runs in models.items():
            per_model = []
            for j, m in enumerate(runs):
                row = []
                for f in fractions:
                    if kind == "both" and f == 1.0 and known is not None and arm in known:
                        row.append(known[arm][j])
                        continue
                    params = box_grid(kind, f, max_angle, max_shift, n_angles, n_shifts)
                    order = torch.cat([params[(params == 0).all(1)], params[~(params == 0).all(1)]])
                    row.append(worst_of(m, x, y, order, cache=cache))
                per_model.append(row)
            out[kind][arm] = per_model
    return out


def box_curve_record(curve: dict, clean: dict, fractions, max_angle: float, max_shift: float, points: dict) -> dict:
    """:func:`box_curve` as JSON: for each kind and arm, accuracy (fraction) per model and size with
    95% Wilson intervals, and the mean over models; size 0 is the clean accuracy (``clean``:
    {arm: [per model: bool (N,)]}); ``points``: {kind: grid points per size}."""
    from reliable_ml.stats import wilson

    sizes = [0.0, *[float(f) for f in fractions]]
    rec: dict = {
        "fractions": sizes,
        "angles_deg": [f * max_angle for f in sizes],
        "shifts_px": [f * max_shift for f in sizes],
        "grid_points": points,
        "units": "accuracy as a fraction (0..1); size 0 is the clean accuracy; intervals: 95% Wilson per model",
    }
    for kind, arms in curve.items():
        rec[kind] = {}
        for arm, runs in arms.items():
            per = [[c, *row] for c, row in zip(clean[arm], runs)]
            acc = [[float(v.float().mean()) for v in row] for row in per]
            ivs = [[[float(b) for b in wilson(int(v.sum()), len(v))] for v in row] for row in per]
            rec[kind][arm] = {"per_model": acc, "intervals": ivs, "mean": np.mean(acc, 0).tolist(), "n": len(per[0][0])}
    return rec


def size_label(kind: str, fraction: float, max_angle: float, max_shift: float) -> str:
    """The label "±7.5°", "±0.75 px" or "±7.5° and ±0.75 px": the box of ``kind`` at ``fraction`` of the full one."""
    a, s = f"±{fraction * max_angle:g}°", f"±{fraction * max_shift:.3g} px"
    return {"rotation": a, "translation": s, "both": f"{a} and {s}"}[kind]


def curve_tests(
    curve: dict, fractions, a: str = "linf_robust", b: str = "standard_matched", share: float = FLOOR_SHARE
) -> list[dict]:
    """The family of McNemar tests of :func:`box_curve`: the first model of arm ``a`` against the first
    of arm ``b``, per kind (:data:`KINDS`) and box size, on the same images: len(KINDS) x len(fractions)
    tests. Each row: ``kind``, ``fraction``, the counts kept by each (``kept_a``, ``kept_b``), the
    2x2 counts and exact p of :func:`mcnemar_exact`, ``verdict`` (:func:`paired`), ``holm`` (the
    verdict decided on the Holm-adjusted p over the whole family, :func:`reliable_ml.stats.holm_verdicts`),
    ``p_holm`` and ``at_floor`` (:func:`near_floor`)."""
    from reliable_ml import stats

    rows = []
    for kind in KINDS:
        for j, f in enumerate(fractions):
            x, y = curve[kind][a][0][j], curve[kind][b][0][j]
            rows.append(
                {"kind": kind, "fraction": float(f), "kept_a": int(x.sum()), "kept_b": int(y.sum()), "x": x, "y": y}
                | mcnemar_exact(x, y)
                | {"verdict": paired(x, y), "at_floor": near_floor(x, y, share)}
            )
    for row, h in zip(rows, stats.holm_verdicts([r["verdict"] for r in rows])):
        row["holm"], row["p_holm"] = h, float(h.p_value)
    return rows


def curve_test_records(rows: list[dict], a: str = "linf_robust", b: str = "standard_matched") -> dict:
    """:func:`curve_tests` as JSON for the results file: per test the kind, size, n10 (only ``a``
    right), n01 (only ``b`` right), the exact p, the Holm-adjusted p and both verdicts."""
    keep = ("kind", "fraction", "kept_a", "kept_b", "n11", "n10", "n01", "n00", "p_value", "p_holm", "at_floor")
    return {
        "a": f"{a}[0]",
        "b": f"{b}[0]",
        "correction": f"Holm (1979) over the {len(rows)} tests of this family",
        "tests": [
            {k: r[k] for k in keep} | {"verdict": r["verdict"].as_dict(), "verdict_holm": r["holm"].as_dict()}
            for r in rows
        ],
    }


def _unadjusted(words: str) -> str:
    """Mark the interval of :func:`reliable_ml.stats.phrase`'s words as unadjusted (the verdict word is decided on
    the Holm-adjusted p, the interval is not widened): "... by 1.8 points [0.8, 3.0] (unadjusted interval)" or
    "... (difference -1.6 points [-2.9, -0.3]; unadjusted interval)"."""
    i = words.rfind("]")
    if i < 0:
        raise ValueError(f"no interval in {words!r}")
    inside = words.endswith("])")
    return words[: i + 1] + ("; unadjusted interval" if inside else " (unadjusted interval)") + words[i + 1 :]


def curve_sentences(rows: list[dict], max_angle: float, max_shift: float, share: float = FLOOR_SHARE) -> dict:
    """Words for :func:`curve_tests`: ``linf_curve_{kind}`` lists each size with its Holm-decided
    verdict, the exact and the adjusted p (:func:`floor_words` for a size at the floor);
    ``linf_curve_answer`` sums up each kind over the sizes off the floor
    (:func:`reliable_ml.stats.phrase_all` of the Holm verdicts); ``curve_n_tests`` and
    ``curve_n_off_floor`` count them."""
    from reliable_ml import stats

    out: dict = {}
    answer = []
    titles = {"rotation": "with rotations only", "translation": "with translations only", "both": "with both"}
    for kind in KINDS:
        mine = [r for r in rows if r["kind"] == kind]
        parts = []
        for r in mine:
            label = size_label(kind, r["fraction"], max_angle, max_shift)
            if r["at_floor"]:
                parts.append(f"{label}: {floor_words(r['x'], r['y'], share, r['holm'])}")
                continue
            words = stats.phrase(
                r["holm"],
                "the L∞-robust model keeps more images correct",
                "the L∞-robust model keeps fewer images correct",
                "the data cannot tell the two apart after Holm",
            )
            words = _unadjusted(words)
            parts.append(f"{label}: {words}, exact p = {_p(r['p_value'])}, Holm-adjusted p = {_p(r['p_holm'])}")
        out[f"linf_curve_{kind}"] = "; ".join(parts)
        off = [r["holm"] for r in mine if not r["at_floor"]]
        floor = len(mine) - len(off)
        at = f" ({floor} of {len(mine)} sizes at the floor)" if floor else ""
        if not off:
            answer.append(f"{titles[kind]} every size is at the floor")
            continue
        summary = stats.phrase_all(
            off,
            "the L∞-robust model keeps more images correct than its twin",
            "the L∞-robust model keeps fewer images correct than its twin",
            "the data cannot tell the two apart",
            "the sizes disagree",
            items="sizes off the floor",
        )
        answer.append(f"{titles[kind]}{at} " + (_unadjusted(summary) if "]" in summary else summary))
    out["linf_curve_answer"] = "; ".join(answer)
    out["curve_n_tests"] = len(rows)
    out["curve_n_off_floor"] = sum(not r["at_floor"] for r in rows)
    return out


def plot_box_curve(record: dict, source: str, names: dict[str, str] | None = None):
    """Three panels (rotation only, translation only, both): worst-of-grid accuracy (%) against the
    size of the box, one line per arm (mean over its models), each model's 95% Wilson interval as
    a vertical bar."""
    import matplotlib.pyplot as plt

    from reliable_ml.util import plots

    names = names or {}
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.4), sharey=True)
    xs = np.asarray(record["fractions"])
    titles = {"rotation": "rotation only", "translation": "translation only", "both": "rotation and translation"}
    for ax, kind in zip(axes, KINDS):
        for j, (arm, r) in enumerate(record[kind].items()):
            off = (j - 1) * 0.012
            line = ax.plot(xs + off, 100 * np.asarray(r["mean"]), marker="o", ms=3, label=names.get(arm, arm))[0]
            for ivs in r["intervals"]:
                for xpos, (lo, hi) in zip(xs + off, ivs):
                    ax.plot([xpos, xpos], [100 * lo, 100 * hi], color=line.get_color(), lw=0.8, alpha=0.6)
        ticks = [
            f"±{a:g}°" if kind == "rotation" else f"±{s:g} px" if kind == "translation" else f"±{a:g}°\n±{s:g} px"
            for a, s in zip(record["angles_deg"], record["shifts_px"])
        ]
        ax.set_xticks(xs, ticks, fontsize=7)
        ax.set_xlabel("size of the box (worst point of its grid)")
        ax.set_title(f"{titles[kind]} ({record['grid_points'][kind]} points per size)", fontsize=9)
        ax.set_ylim(0, 100)
    axes[0].set_ylabel("accuracy under the worst transformation (%)")
    axes[0].legend(fontsize=7, loc="lower left")
    plots.source_caption(fig, source, f"{record[KINDS[0]][next(iter(record[KINDS[0]]))]['n']:,} test images")
    return fig


# --------------------------------------------------------------------------- McNemar's test, by hand
def mcnemar_exact(a: torch.Tensor, b: torch.Tensor) -> dict:
    r"""McNemar's exact test of two models' per-image correctness on the same images.

    Of the discordant pairs, :math:`n_{10}` images only ``a`` gets right and :math:`n_{01}` only
    ``b``; under the null hypothesis (equal accuracy) each discordant image is a fair coin, so
    :math:`n_{10} \sim \text{Binomial}(n_{10} + n_{01}, 1/2)` and the two-sided p-value is
    :math:`\min(1, 2 \sum_{i \le \min(n_{10}, n_{01})} \binom{n}{i} 2^{-n})`, computed here with
    exact integers (McNemar 1947; p = 1 with no discordant pair). Returns the four counts and p.
    """
    from fractions import Fraction

    a, b = torch.as_tensor(a).bool(), torch.as_tensor(b).bool()
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be 1-D with the same length; got {tuple(a.shape)} and {tuple(b.shape)}")
    n11, n10 = int((a & b).sum()), int((a & ~b).sum())
    n01, n00 = int((~a & b).sum()), int((~a & ~b).sum())
    n = n10 + n01
    tail = Fraction(sum(math.comb(n, i) for i in range(min(n10, n01) + 1)), 2**n) if n else Fraction(1, 2)
    return {"n11": n11, "n10": n10, "n01": n01, "n00": n00, "p_value": float(min(Fraction(1), 2 * tail))}


def mcnemar_record(a: torch.Tensor, b: torch.Tensor, label_a: str, label_b: str) -> dict:
    """:func:`mcnemar_exact` with the verdict of :func:`paired` (``stats.compare``, McNemar exact with
    Newcombe's interval) and the two accuracies, as JSON."""
    v = paired(a, b)
    return {
        "a": label_a,
        "b": label_b,
        "acc_a": float(torch.as_tensor(a).float().mean()),
        "acc_b": float(torch.as_tensor(b).float().mean()),
        **mcnemar_exact(a, b),
        "verdict": v.as_dict(),
    }


# --------------------------------------------------------------------------- published figures (unverified)
PUBLISHED = {
    "source": "Engstrom, Tran, Tsipras, Schmidt & Madry 2019, Table 1 (standard models; ±30°, ±3 px on MNIST and "
    "CIFAR-10; grid: 31 angles x 5 x 5 shifts)",
    "verified": False,
    "note": "quoted from memory by the course's authors; unverified: not checked against the paper here",
    "mnist_standard": {"natural": 0.9931, "grid": 0.2602},
    "cifar10_standard": {"natural": 0.9262, "grid": 0.0280},
}
