r"""White-box attacks in pixel space: FGSM and PGD in the L-infinity and L2 balls.

Conventions: models take ``x`` in [0, 1] (normalization is their first layer); ``eps`` is in
those pixel units; the device comes from the inputs. Attacks differentiate the loss with
respect to the *input only* (``torch.autograd.grad``), so no parameter ``.grad`` is created
or changed; every iterate is detached. The model is put in ``eval()`` mode for the attack
and its previous mode is restored afterwards. They work under ``torch.autocast`` (the loss
is computed in float32 from the logits).

Each attack returns ``(x_adv, success)``: ``x_adv`` with the shape and dtype of ``x``, and a
bool tensor ``success`` of shape ``(B,)``: the model misclassifies ``x_adv`` (untargeted), or
predicts the target class (targeted, where ``y`` holds the targets).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

NORMS = ("linf", "l2")


def _check(x: torch.Tensor, y: torch.Tensor, eps: float, norm: str) -> None:
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; allowed: {', '.join(NORMS)}")
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0; got {eps}")
    if x.ndim < 2 or y.shape != x.shape[:1]:
        raise ValueError(f"expected x of shape (B, ...) and y of shape (B,); got {tuple(x.shape)} and {tuple(y.shape)}")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0 or hi > 1:
        raise ValueError(f"inputs must lie in [0, 1] (models normalize internally); got range [{lo:.3g}, {hi:.3g}]")


def _loss_and_success(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, targeted: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-example objective to *ascend* and success flags.

    Untargeted: ``CE(f(x), y)``; targeted: ``-CE(f(x), t)``. Summing makes each example's
    gradient independent of the batch size.
    """
    logits = model(x).float()
    ce = F.cross_entropy(logits, y, reduction="none")
    pred = logits.argmax(1)
    return (-ce if targeted else ce), (pred == y if targeted else pred != y)


def _lp_norm(v: torch.Tensor) -> torch.Tensor:
    """Per-example L2 norm, shaped to broadcast against ``v``: ``(B, 1, ..., 1)``."""
    return v.flatten(1).norm(dim=1).view(-1, *[1] * (v.ndim - 1))


def project(delta: torch.Tensor, eps: float, norm: str) -> torch.Tensor:
    r"""Euclidean projection onto the ball :math:`\{\delta: \|\delta\|_p \le \epsilon\}`.

    L-infinity: clip each coordinate to :math:`[-\epsilon, \epsilon]`.
    L2: :math:`\delta \cdot \min(1, \epsilon / \|\delta\|_2)`.
    """
    if norm == "linf":
        return delta.clamp(-eps, eps)
    return delta * (eps / _lp_norm(delta).clamp_min(1e-12)).clamp(max=1.0)


def _random_start(x: torch.Tensor, eps: float, norm: str, generator: torch.Generator | None) -> torch.Tensor:
    """Uniform in the L-infinity cube; uniform in the L2 ball (Gaussian direction, radius eps * U^(1/d))."""
    if norm == "linf":
        return (torch.rand(x.shape, generator=generator, device=x.device) * 2 - 1) * eps
    direction = torch.randn(x.shape, generator=generator, device=x.device)
    d = x[0].numel()
    radius = torch.rand((len(x),) + (1,) * (x.ndim - 1), generator=generator, device=x.device) ** (1 / d)
    return direction / _lp_norm(direction).clamp_min(1e-12) * radius * eps


class _EvalMode:
    """Context manager: ``model.eval()`` inside, the previous train/eval flags restored after."""

    def __init__(self, model: nn.Module):
        self.model = model

    def __enter__(self):
        self.modes = {m: m.training for m in self.model.modules()}
        self.model.eval()

    def __exit__(self, *exc):
        for m, mode in self.modes.items():
            m.train(mode)


def fgsm(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, *, targeted: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Fast gradient sign method (Goodfellow et al. 2015), one L-infinity step:
    :math:`x_{adv} = \mathrm{clip}_{[0,1]}(x + \epsilon\,\mathrm{sign}\,\nabla_x L(f(x), y))`;
    targeted (``y`` = targets): :math:`x - \epsilon\,\mathrm{sign}\,\nabla_x L(f(x), t)`."""
    _check(x, y, eps, "linf")
    x = x.detach()
    with _EvalMode(model), torch.enable_grad():
        x_var = x.clone().requires_grad_(True)
        loss, _ = _loss_and_success(model, x_var, y, targeted)
        (grad,) = torch.autograd.grad(loss.sum(), x_var)
        x_adv = (x + eps * grad.sign()).clamp(0, 1).detach()
        with torch.no_grad():
            _, success = _loss_and_success(model, x_adv, y, targeted)
    return x_adv, success


def pgd(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    norm: str = "linf",
    steps: int = 10,
    step_size: float | None = None,
    restarts: int = 1,
    random_start: bool = True,
    targeted: bool = False,
    generator: torch.Generator | None = None,
    delta_init: torch.Tensor | None = None,
    keep_best: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Projected gradient ascent on the loss in the ``norm`` ball of radius ``eps`` around ``x``
    (Madry et al. 2018):

    .. math::  \delta_{t+1} = \Pi_{\|\delta\| \le \epsilon,\; x+\delta \in [0,1]}
               \big(\delta_t + \alpha\, s(\nabla_\delta L(f(x + \delta_t), y))\big)

    with step direction :math:`s(g) = \mathrm{sign}(g)` for L-infinity and :math:`s(g) = g /
    \|g\|_2` for L2, step size :math:`\alpha` (default :math:`2.5\,\epsilon / \text{steps}`),
    the projection of :func:`project` followed by clamping :math:`x + \delta` to [0, 1].

    The worst case is kept per example over all iterates and ``restarts``: an example counts as
    broken if *any* iterate fooled the model (the first fooling iterate is returned); otherwise
    the iterate of highest loss is returned. So more steps or restarts (same ``generator`` seed)
    can never make the attack weaker.

    ``delta_init`` (shape of ``x``) replaces the random start of every restart (a fixed start,
    e.g. to check another implementation against this one); ``keep_best=False`` returns the
    last iterate (and whether *it* fools the model) instead of the worst case over iterates.
    """
    _check(x, y, eps, norm)
    if delta_init is not None and delta_init.shape != x.shape:
        raise ValueError(f"delta_init must have the shape of x {tuple(x.shape)}; got {tuple(delta_init.shape)}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1; got {steps!r}")
    if not isinstance(restarts, int) or restarts < 1:
        raise ValueError(f"restarts must be an integer >= 1; got {restarts!r}")
    alpha = 2.5 * eps / steps if step_size is None else step_size
    if not alpha > 0 and eps > 0:
        raise ValueError(f"step_size must be > 0; got {step_size}")
    x = x.detach()
    best_x, best_loss = x.clone(), torch.full((len(x),), -float("inf"), device=x.device)
    success = torch.zeros(len(x), dtype=torch.bool, device=x.device)
    with _EvalMode(model), torch.enable_grad():
        for _ in range(restarts):
            if delta_init is not None:
                delta = delta_init.detach().to(x)
            else:
                delta = _random_start(x, eps, norm, generator) if random_start else torch.zeros_like(x)
            delta = ((x + delta).clamp(0, 1) - x).detach()
            for t in range(steps + 1):  # the last pass only scores the final iterate
                delta.requires_grad_(t < steps)
                loss, fooled = _loss_and_success(model, x + delta, y, targeted)
                # keep: the first fooling iterate, else the highest-loss iterate
                better = (fooled & ~success) | (~success & ~fooled & (loss.detach() > best_loss))
                best_x[better], best_loss[better] = (x + delta)[better].detach(), loss.detach()[better]
                success |= fooled
                if t == steps:
                    if not keep_best:
                        best_x, success = (x + delta).detach(), fooled
                    break
                (grad,) = torch.autograd.grad(loss.sum(), delta)
                step = grad.sign() if norm == "linf" else grad / _lp_norm(grad).clamp_min(1e-12)
                delta = project(delta.detach() + alpha * step, eps, norm)
                delta = ((x + delta).clamp(0, 1) - x).detach()
    return best_x.to(x.dtype), success


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Top-1 accuracy of ``model`` (in eval mode; mode restored) on ``x`` in [0, 1]."""
    with _EvalMode(model):
        correct = sum(
            int((model(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum())
            for i in range(0, len(x), batch_size)
        )
    return correct / max(len(x), 1)


def robust_correct(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    batch_size: int = 500,
    progress: bool = False,
    **pgd_kwargs,
) -> torch.Tensor:
    """Per example (bool, shape (B,)): classified correctly both clean and under PGD (``pgd_kwargs``)."""
    from reliable_ml.util.progress import tqdm

    out = []
    starts = range(0, len(x), batch_size)
    for i in tqdm(starts, desc=f"PGD eps={eps:.3g}", disable=not progress, leave=False):
        xb, yb = x[i : i + batch_size], y[i : i + batch_size]
        with torch.no_grad(), _EvalMode(model):
            clean_ok = model(xb).argmax(1) == yb
        _, fooled = pgd(model, xb, yb, eps, **pgd_kwargs)
        out.append(clean_ok & ~fooled)
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.bool, device=x.device)


def robust_accuracy(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    batch_size: int = 500,
    progress: bool = False,
    **pgd_kwargs,
) -> float:
    """Share of examples classified correctly both clean and under PGD (``pgd_kwargs``)."""
    ok = robust_correct(model, x, y, eps, batch_size=batch_size, progress=progress, **pgd_kwargs)
    return int(ok.sum()) / max(len(x), 1)
