r"""Expectation over Transformation (Athalye, Engstrom, Ilyas & Kwok 2018).

A perturbation made for one exact image often stops working once the image is rotated, zoomed,
re-lit or photographed with sensor noise. EOT makes perturbations that survive a *distribution*
:math:`T` of such transformations by optimising the expected loss,

.. math:: \delta^* = \arg\min_{\|\delta\|_\infty \le \epsilon}\;
          \mathbb{E}_{t \sim T}\big[L(f(t(x + \delta)), y_{target})\big],

estimated at every PGD step by an average over ``samples`` draws of :math:`t`. With
``samples = 0`` (no distribution) :func:`targeted_pgd` is plain targeted PGD.

:class:`Distribution` is the distribution (rotation, scale, Gaussian noise, brightness);
:func:`survival` measures, on *fresh* draws, the share of transformed copies that the model
still classifies as the target.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from reliable_ml.robust.spatial import transform
from reliable_ml.stats import bootstrap_indices


@dataclass(frozen=True)
class Distribution:
    """Random transformations: rotation uniform in ±``max_angle`` degrees, zoom uniform in
    [``scale_lo``, ``scale_hi``], brightness shift uniform in ±``brightness``, Gaussian pixel
    noise of sd ``noise``; the result is clipped to [0, 1]."""

    max_angle: float = 20.0
    scale_lo: float = 0.9
    scale_hi: float = 1.1
    brightness: float = 0.1
    noise: float = 0.1

    def __post_init__(self):
        ok = self.max_angle >= 0 and 0 < self.scale_lo <= self.scale_hi and self.brightness >= 0 and self.noise >= 0
        if not ok:
            raise ValueError(
                f"bad Distribution: need max_angle >= 0, 0 < scale_lo <= scale_hi, brightness >= 0, "
                f"noise >= 0; got {self}"
            )

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` draws, rows ``(angle, scale, brightness, noise seed)``."""
        u = torch.rand(n, 4, generator=generator, dtype=torch.float64)
        return torch.stack(
            [
                (u[:, 0] * 2 - 1) * self.max_angle,
                self.scale_lo + u[:, 1] * (self.scale_hi - self.scale_lo),
                (u[:, 2] * 2 - 1) * self.brightness,
                torch.floor(u[:, 3] * 2**31),
            ],
            1,
        )

    def apply(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """``x`` (B, C, H, W) under the draws ``params`` (B, 4) of :meth:`sample`; differentiable in ``x``."""
        p = params.to(x.device)
        out = transform(x, p[:, 0].to(x.dtype), scale=p[:, 1].to(x.dtype)) + p[:, 2].to(x.dtype).view(-1, 1, 1, 1)
        if self.noise > 0:
            gen = torch.Generator(device=x.device).manual_seed(int(p[0, 3]))
            out = out + self.noise * torch.randn(x.shape, generator=gen, device=x.device, dtype=x.dtype)
        return out.clamp(0, 1)


def targeted_pgd(
    model: nn.Module,
    x: torch.Tensor,
    target: torch.Tensor,
    eps: float,
    *,
    steps: int = 100,
    step_size: float | None = None,
    dist: Distribution | None = None,
    samples: int = 10,
    seed: int = 0,
    cache: bool | Path | str | None = None,
) -> torch.Tensor:
    """Targeted L-infinity PGD (signed gradient steps on the target's cross-entropy, from
    ``delta = 0``). With ``dist`` the loss at every step is the average over ``samples`` random
    transformations of ``x + delta`` (EOT). Returns ``x + delta`` (detached, in [0, 1]).
    With ``cache`` (True: the model cache; or a folder) the result is kept there, keyed by the
    model's weights, every setting, ``x`` and ``target``
    (:func:`reliable_ml.util.evalcache.cached_model_eval`)."""
    if eps < 0 or steps < 1 or samples < 1:
        raise ValueError(f"need eps >= 0, steps >= 1, samples >= 1; got {eps}, {steps}, {samples}")
    if cache:
        from reliable_ml.util import evalcache

        if cache is True:
            from reliable_ml.data import cache_dir

            cache = cache_dir() / "models" / "eot" / "evaluations"
        spec = {"eps": eps, "steps": steps, "step_size": step_size, "samples": samples, "seed": seed}
        spec["dist"] = asdict(dist) if dist is not None else None
        out = evalcache.cached_model_eval(
            cache,
            "targeted_pgd",
            model,
            spec,
            (x, target),
            lambda: {
                "x_adv": targeted_pgd(
                    model,
                    x,
                    target,
                    eps,
                    steps=steps,
                    step_size=step_size,
                    dist=dist,
                    samples=samples,
                    seed=seed,
                )
            },
            expected={"x_adv": (tuple(x.shape), x.dtype)},
        )
        return out["x_adv"].to(x.device)
    model.eval()
    alpha = step_size if step_size is not None else 2.5 * eps / steps
    gen = torch.Generator().manual_seed(seed)
    delta = torch.zeros_like(x)
    for _ in range(steps):
        delta.requires_grad_(True)
        if dist is None:
            loss = F.cross_entropy(model(x + delta), target)
        else:
            xs = (x + delta).repeat(samples, 1, 1, 1)
            loss = F.cross_entropy(model(dist.apply(xs, dist.sample(len(xs), gen))), target.repeat(samples))
        (g,) = torch.autograd.grad(loss, delta)
        delta = (delta.detach() - alpha * g.sign()).clamp(-eps, eps)
        delta = (x + delta).clamp(0, 1) - x
    return (x + delta).detach()


@torch.no_grad()
def survival(
    model: nn.Module, x_adv: torch.Tensor, target: torch.Tensor, dist: Distribution, n_draws: int, seed: int = 12345
) -> torch.Tensor:
    """Per image, the share (0..1) of ``n_draws`` fresh random transformations of ``x_adv`` that
    the model classifies as ``target``. The draws come from ``seed``, not the attack's."""
    if n_draws < 1:
        raise ValueError(f"n_draws must be >= 1; got {n_draws}")
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    hits = torch.zeros(len(x_adv))
    for _ in range(n_draws):
        pred = model(dist.apply(x_adv, dist.sample(len(x_adv), gen))).argmax(1)
        hits += (pred == target).float().cpu()
    return hits / n_draws


def mean_interval(per_image: torch.Tensor | np.ndarray, n_boot: int = 2000, seed: int = 0) -> dict:
    """Mean of per-image shares with a 95% bootstrap interval over images (the draws of one
    image are not independent trials, so images are resampled, not draws)."""
    v = np.asarray(per_image, dtype=float)
    if v.size == 0:
        raise ValueError("no images")
    rng = np.random.default_rng(seed)
    boots = v[bootstrap_indices(v.size, n_boot, rng)].mean(1)  # the package's one resampling draw
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return {"mean": float(v.mean()), "lo": float(lo), "hi": float(hi), "n_images": int(v.size)}


def plot_examples(
    x: torch.Tensor,
    x_pgd: torch.Tensor,
    x_eot: torch.Tensor,
    model: nn.Module,
    dist: Distribution,
    target: torch.Tensor,
    source: str,
    n: int = 4,
    seed: int = 7,
):
    """For ``n`` images: the clean image, the plain-PGD and the EOT image, and one random
    transformation of each, titled with the model's prediction (target in brackets)."""
    import matplotlib.pyplot as plt

    from reliable_ml.util import plots

    cols = ("clean", "PGD", "PGD, transformed", "EOT", "EOT, transformed")
    fig, axes = plt.subplots(n, len(cols), figsize=(1.7 * len(cols), 1.8 * n), squeeze=False)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for i in range(n):
            p = dist.sample(1, gen)
            imgs = (
                x[i : i + 1],
                x_pgd[i : i + 1],
                dist.apply(x_pgd[i : i + 1], p),
                x_eot[i : i + 1],
                dist.apply(x_eot[i : i + 1], p),
            )
            for j, (name, im) in enumerate(zip(cols, imgs)):
                ax = axes[i, j]
                ax.imshow(im[0].cpu().permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray", vmin=0, vmax=1)
                ax.set_title(f"{name}\npred {int(model(im).argmax(1))} (target {int(target[i])})", fontsize=7)
                ax.axis("off")
    plots.source_caption(fig, source, "the same random transformation in both 'transformed' columns of a row")
    return fig


def paired_difference(
    a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray, n_boot: int = 2000, seed: int = 0
) -> dict:
    """Mean of ``a - b`` over images (per-image shares of the same images) with a 95% bootstrap
    interval that resamples images, keeping each image's pair together."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"need two equally long, non-empty sets of per-image values; got {a.shape} and {b.shape}")
    out = mean_interval(a - b, n_boot=n_boot, seed=seed)
    return {"diff": out["mean"], "lo": out["lo"], "hi": out["hi"], "n_images": out["n_images"]}


def survival_verdict(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray):
    """Does attack ``a``'s perturbation survive fresh transformations more often than ``b``'s?
    :func:`reliable_ml.stats.compare` of the per-image survival shares of the *same* images:
    the paired t test on the per-image differences (images are the units, not draws)."""
    from reliable_ml import stats

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return stats.compare(a, b, paired=True, outcome="continuous")
