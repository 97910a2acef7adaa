r"""Saliency maps: which input pixels does a class score depend on?

For a model with logits :math:`f(x) \in \mathbb{R}^K` and a class :math:`c`, with
:math:`f_c` its score (the logit, before softmax):

* **vanilla gradient** (Simonyan et al. 2014): :math:`S(x) = \nabla_x f_c(x)`;
* **SmoothGrad** (Smilkov et al. 2017): :math:`\hat S(x) = \frac1n \sum_{i=1}^n \nabla_x
  f_c(x + z_i)`, :math:`z_i \sim \mathcal N(0, \sigma^2 I)` (``sigma`` in pixel units; with
  :math:`\sigma = 0` this is the vanilla gradient);
* **integrated gradients** (Sundararajan et al. 2017): for a baseline :math:`x_0` (default
  black),

  .. math:: \mathrm{IG}(x) = (x - x_0) \odot \int_0^1 \nabla_x f_c(x_0 + a (x - x_0))\, da,

  computed with the trapezoidal rule on ``steps`` intervals. *Completeness*:
  :math:`\sum_j \mathrm{IG}_j(x) = f_c(x) - f_c(x_0)` (up to the quadrature error).

Every function returns attributions of the shape of ``x`` (float, on ``x``'s device). Gradients
are taken with respect to the input only (``torch.autograd.grad``); the model runs in eval mode
and its previous mode is restored.
"""

from __future__ import annotations

import torch
from torch import nn

from reliable_ml.robust.attacks import _EvalMode


def _check(x: torch.Tensor, target: torch.Tensor | int) -> torch.Tensor:
    if x.ndim < 2:
        raise ValueError(f"expected x of shape (B, ...); got {tuple(x.shape)}")
    if not torch.is_floating_point(x):
        raise ValueError(f"x must be float (pixels in [0, 1]); got {x.dtype}")
    t = torch.as_tensor(target, device=x.device).long()
    t = t.expand(len(x)) if t.ndim == 0 else t
    if t.shape != (len(x),):
        raise ValueError(f"target must be an int or have shape ({len(x)},); got {tuple(t.shape)}")
    return t


def _grad(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """:math:`\\nabla_x f_{t}(x)` per example (the sum over the batch separates by example)."""
    with torch.enable_grad():
        x_var = x.detach().clone().requires_grad_(True)
        logits = model(x_var).float()
        if target.min() < 0 or target.max() >= logits.shape[1]:
            raise ValueError(f"target classes must lie in 0 .. {logits.shape[1] - 1}")
        score = logits.gather(1, target[:, None]).sum()
        (g,) = torch.autograd.grad(score, x_var)
    return g.detach()


def vanilla_gradient(model: nn.Module, x: torch.Tensor, target: torch.Tensor | int) -> torch.Tensor:
    """:math:`\\nabla_x f_c(x)`: the gradient of class ``target``'s logit. ``x``: (B, ...) float."""
    t = _check(x, target)
    with _EvalMode(model):
        return _grad(model, x, t)


def smoothgrad(
    model: nn.Module,
    x: torch.Tensor,
    target: torch.Tensor | int,
    *,
    sigma: float = 0.15,
    n_samples: int = 32,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Mean gradient over ``n_samples`` Gaussian-noised copies :math:`x + z`, :math:`z \\sim
    \\mathcal N(0, \\sigma^2 I)` (pixel units; the noisy inputs are not clipped)."""
    t = _check(x, target)
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0; got {sigma}")
    if int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"n_samples must be an integer >= 1; got {n_samples!r}")
    total = torch.zeros_like(x, dtype=torch.float32)
    with _EvalMode(model):
        for _ in range(int(n_samples)):
            noise = torch.randn(x.shape, generator=generator, device=x.device) * sigma if sigma > 0 else 0.0
            total += _grad(model, x + noise, t)
    return total / n_samples


def integrated_gradients(
    model: nn.Module,
    x: torch.Tensor,
    target: torch.Tensor | int,
    *,
    baseline: torch.Tensor | None = None,
    steps: int = 32,
) -> torch.Tensor:
    """Integrated gradients along the straight path from ``baseline`` (default zeros) to ``x``,
    trapezoidal rule with ``steps`` intervals (``steps + 1`` gradient evaluations)."""
    t = _check(x, target)
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be an integer >= 1; got {steps!r}")
    x0 = torch.zeros_like(x) if baseline is None else baseline.to(x.device, x.dtype).expand_as(x)
    total = torch.zeros_like(x, dtype=torch.float32)
    with _EvalMode(model):
        for k in range(int(steps) + 1):
            a = k / steps
            weight = 0.5 if k in (0, steps) else 1.0
            total += weight * _grad(model, x0 + a * (x - x0), t)
    return (x - x0).float() * total / steps


METHODS = {"vanilla gradient": vanilla_gradient, "SmoothGrad": smoothgrad, "integrated gradients": integrated_gradients}


def magnitude(attribution: torch.Tensor) -> torch.Tensor:
    """Per-pixel magnitude ``(B, H, W)``: absolute attribution summed over colour channels."""
    if attribution.ndim != 4:
        raise ValueError(f"expected (B, C, H, W); got {tuple(attribution.shape)}")
    return attribution.abs().sum(1)


def region_share(attribution: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    r"""Share of the saliency mass inside ``mask``, per image:
    :math:`\sum_{j \in M} |S_j| / \sum_j |S_j|` (channels summed). ``mask``: bool (H, W).
    Images with zero attribution get share 0."""
    mag = magnitude(attribution)
    if mask.shape != mag.shape[1:]:
        raise ValueError(f"mask must have shape {tuple(mag.shape[1:])}; got {tuple(mask.shape)}")
    inside = (mag * mask.to(mag.device)).flatten(1).sum(1)
    return inside / mag.flatten(1).sum(1).clamp_min(1e-30)


def heatmap(attribution: torch.Tensor, quantile: float = 0.99) -> torch.Tensor:
    """Magnitude scaled to [0, 1] per image for display, clipped at its ``quantile``."""
    mag = magnitude(attribution)
    top = torch.quantile(mag.flatten(1), quantile, dim=1).clamp_min(1e-30).view(-1, 1, 1)
    return (mag / top).clamp(0, 1)


def masking_sentence(card: dict) -> str:
    """One sentence on a robust model's own gradient-masking checks (the ``masking`` entry of
    :func:`reliable_ml.robust.shared_model.shared_robust_model`'s card), for every place that
    reads the model's gradients as an explanation: a flagged check means its gradients may point
    the wrong way (Athalye, Carlini & Wagner 2018), for a saliency map as much as for an attack.
    The check's gradient figure is the per-image worst case over all the gradient attacks, so it
    reads "the gradient attacks together", not the best single attack."""
    masking = card.get("masking") or {}
    flags, checks = masking.get("flags", []), masking.get("checks", {})
    if not checks:
        return "The robust model's card holds no gradient-masking checks, so its gradients are unchecked."
    if not flags:
        return "The robust model's own checks for gradient masking raise no flag."
    parts = []
    for flag in flags:
        c = checks.get(flag, {})
        if flag == "gradient_free_beats_gradient" and {"gradient_free_acc", "best_gradient_acc"} <= set(c):
            parts.append(
                f"a gradient-free attack leaves {c['gradient_free_acc']:.1f}% of the images correct against "
                f"{c['best_gradient_acc']:.1f}% under the gradient attacks together, a gap beyond the check's noise of "
                f"{c['noise']:.1f} points"
            )
        else:
            parts.append(c.get("meaning", flag))
    return (
        "The robust model's own check for gradient masking is flagged: "
        + "; ".join(parts)
        + ". Its gradients may mislead, as explanations as much as for attacks."
    )


def gate_sentence(targeted: dict | None, same_model: bool) -> str:
    """What chapter 10's targeted-attack gate found for the robust model 07 reads saliency from.

    ``targeted``: chapter 10's ``targeted.linf_robust`` results entry (``success_rate`` and
    ``gradient_free_success_rate`` in %, ``n``, ``passes_gate``, the gate's own verdict) or
    ``None`` when no chapter-10 results are at hand; ``same_model``: whether chapter 10 judged the
    same cached model (same fingerprint). Only chapter 10's gate decides pass or fail."""
    if targeted is None or not same_model:
        why = "no chapter-10 results are at hand" if targeted is None else "chapter 10 judged another robust model"
        return (
            f"Whether chapter 10's attack reaches its target on this model is not read here ({why}); "
            "where it fails, chapter 10 concludes nothing about the model's pictures."
        )
    missing = {"success_rate", "gradient_free_success_rate", "n", "passes_gate"} - set(targeted)
    if missing:
        raise ValueError(f"chapter 10's targeted entry lacks {sorted(missing)}; it has {sorted(targeted)}")
    n = int(targeted["n"])
    lead = (
        f"On this model chapter 10's targeted attack reaches its target on {targeted['success_rate']:.1f}% "
        f"of {n} images (a gradient-free baseline: {targeted['gradient_free_success_rate']:.1f}%)"
    )
    if targeted["passes_gate"]:
        return f"{lead}, which passes chapter 10's gate, so chapter 10 reads its pictures."
    return f"{lead}: the attack fails chapter 10's gate, so chapter 10 concludes nothing about this model's pictures."
