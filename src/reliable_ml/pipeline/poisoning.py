r"""Data-pipeline failures: backdoor poisoning, its spectral detection, and planted spurious cues.

**BadNets** (Gu et al. 2017). A trigger :math:`(p, m)` (pattern :math:`p`, binary mask
:math:`m` of a small patch) is stamped on a random share :math:`\rho` of the training images
whose label is not the target :math:`t`, and their labels are changed to :math:`t`:

.. math:: x' = (1 - \alpha m) \odot x + \alpha m \odot p, \qquad y' = t.

The attack success rate is the share of triggered test images with true class :math:`\neq t`
that the model assigns to :math:`t`.

**Clean-label backdoor** (Turner, Tsipras & Madry 2019). Only images *of* the target class are
triggered and their labels stay correct. Such images are easy to classify from their content,
so the trigger is barely learned; making them hard first, with an adversarial perturbation
:math:`\delta`, :math:`\|\delta\|_\infty \le \epsilon`, against a separately trained model,
leaves the trigger as the easiest explanation of the label.

**Spectral signatures** (Tran, Li & Madry 2018). Let :math:`R \in \mathbb{R}^{n \times d}`
hold the learned representations (penultimate layer) of the :math:`n` training images labelled
with one class, :math:`\bar R` their mean and :math:`v` the top right singular vector of
:math:`R - \bar R`. The outlier score of image :math:`i` is :math:`((R_i - \bar R) \cdot v)^2`;
the images with the largest scores (1.5 times the expected number of poisons) are removed.

**Planted spurious cues.** A class-specific background texture (a sinusoidal grating whose
orientation encodes a class) that agrees with the label on a share of the training images,
in the spirit of Xiao et al. (2020): test with the cue agreeing, random, or disagreeing, and
with the object removed (only the background).

Images are uint8 ``(N, C, H, W)`` (pixel values 0..255) or float in [0, 1]; every function
keeps the dtype and device of its input. Models take floats in [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from reliable_ml.robust import attacks

CORNERS = ("bottom_right", "bottom_left", "top_right", "top_left")
TRIGGER_KINDS = ("checkerboard", "square")
POOLS = ("all", "non_target", "target", "source")


# --------------------------------------------------------------------------- checks
def check_fraction(fraction: float, name: str = "fraction") -> float:
    """Return ``fraction`` as a float if it lies in [0, 1]; else a ValueError naming it."""
    try:
        value = float(fraction)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1]; got {fraction!r}") from None
    if not 0.0 <= value <= 1.0 or math.isnan(value):
        raise ValueError(f"{name} must lie in [0, 1] (a share, not a percentage); got {fraction!r}")
    return value


def check_target(target: int, num_classes: int) -> int:
    """Return ``target`` if it is one of the classes ``0 .. num_classes - 1``; else a ValueError."""
    if isinstance(target, bool) or int(target) != target or not 0 <= int(target) < num_classes:
        raise ValueError(f"target class {target!r} is not a class of this data; allowed: 0 .. {num_classes - 1}")
    return int(target)


def _check_images(x: torch.Tensor) -> None:
    if x.ndim != 4:
        raise ValueError(f"expected images of shape (N, C, H, W); got {tuple(x.shape)}")


# --------------------------------------------------------------------------- triggers
@dataclass(frozen=True)
class Trigger:
    """A patch stamped at a corner of an image.

    ``pattern``: float ``(C, h, w)`` in [0, 1] (``C = 1`` broadcasts over colour channels);
    ``corner``: one of :data:`CORNERS`; ``margin``: pixels between patch and image border;
    ``alpha``: blend weight (1 = paste the pattern, < 1 = a faint trigger).
    """

    pattern: torch.Tensor
    corner: str = "bottom_right"
    margin: int = 1
    alpha: float = 1.0

    def __post_init__(self):
        if self.corner not in CORNERS:
            raise ValueError(f"unknown corner {self.corner!r}; allowed: {', '.join(CORNERS)}")
        if self.pattern.ndim != 3:
            raise ValueError(f"pattern must have shape (C, h, w); got {tuple(self.pattern.shape)}")
        if float(self.pattern.min()) < 0 or float(self.pattern.max()) > 1:
            raise ValueError("pattern values must lie in [0, 1]")
        if self.margin < 0:
            raise ValueError(f"margin must be >= 0; got {self.margin}")
        check_fraction(self.alpha, "alpha")

    @property
    def size(self) -> tuple[int, int]:
        return tuple(self.pattern.shape[1:])

    def region(self, height: int, width: int) -> tuple[slice, slice]:
        """Row and column slices of the patch in an image of ``height x width``.

        Raises ValueError if the patch (plus margin) does not fit.
        """
        h, w = self.size
        if h + self.margin > height or w + self.margin > width:
            raise ValueError(
                f"trigger of size {h}x{w} with margin {self.margin} is larger than the "
                f"{height}x{width} image; allowed: size + margin <= image side"
            )
        top = self.margin if self.corner.startswith("top") else height - self.margin - h
        left = self.margin if self.corner.endswith("left") else width - self.margin - w
        return slice(top, top + h), slice(left, left + w)

    def mask(self, height: int, width: int, device: torch.device | str | None = None) -> torch.Tensor:
        """Bool ``(height, width)``: True inside the patch."""
        rows, cols = self.region(height, width)
        m = torch.zeros(height, width, dtype=torch.bool, device=device)
        m[rows, cols] = True
        return m


def make_trigger(
    size: int = 3,
    channels: int = 1,
    kind: str = "checkerboard",
    *,
    corner: str = "bottom_right",
    margin: int = 1,
    alpha: float = 1.0,
) -> Trigger:
    """A ``size x size`` trigger: ``checkerboard`` (white where row + column is even, else
    black: visible on any background) or ``square`` (all white)."""
    if kind not in TRIGGER_KINDS:
        raise ValueError(f"unknown trigger kind {kind!r}; allowed: {', '.join(TRIGGER_KINDS)}")
    if int(size) != size or size < 1:
        raise ValueError(f"trigger size must be an integer >= 1; got {size!r}")
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3; got {channels!r}")
    if kind == "square":
        pattern = torch.ones(channels, size, size)
    else:
        ij = torch.arange(size)
        pattern = ((ij[:, None] + ij[None, :]) % 2 == 0).float().expand(channels, size, size).clone()
    return Trigger(pattern, corner=corner, margin=margin, alpha=alpha)


def stamp(x: torch.Tensor, trigger: Trigger) -> torch.Tensor:
    r"""Images with the trigger blended in: :math:`x' = (1 - \alpha m) x + \alpha m p` (a copy).

    ``x``: uint8 (0..255) or float ([0, 1]) ``(N, C, H, W)``; only the patch region changes.
    """
    _check_images(x)
    rows, cols = trigger.region(x.shape[-2], x.shape[-1])
    if trigger.pattern.shape[0] not in (1, x.shape[1]):
        raise ValueError(f"trigger has {trigger.pattern.shape[0]} channels but the images have {x.shape[1]}")
    out = x.clone()
    scale = 255.0 if x.dtype == torch.uint8 else 1.0
    patch = x[:, :, rows, cols].float()
    p = trigger.pattern.to(x.device).float() * scale
    blended = (1 - trigger.alpha) * patch + trigger.alpha * p
    out[:, :, rows, cols] = blended.round().to(x.dtype) if x.dtype == torch.uint8 else blended.to(x.dtype)
    return out


# --------------------------------------------------------------------------- poisoning
class Poisoned(NamedTuple):
    """A poisoned training set: ``x`` (same dtype as the input), ``y`` (possibly relabelled),
    ``idx``: sorted int64 indices of the poisoned images."""

    x: torch.Tensor
    y: torch.Tensor
    idx: torch.Tensor


def n_poison(n: int, fraction: float) -> int:
    """Number of poisoned images for a share ``fraction`` of ``n``: ``round(fraction * n)``
    (halves round up), so 1% of 20,000 is exactly 200."""
    return int(math.floor(check_fraction(fraction) * n + 0.5))


def poison_indices(
    y: torch.Tensor,
    fraction: float,
    *,
    target: int,
    pool: str = "non_target",
    seed: int = 0,
    num_classes: int | None = None,
    source: int | None = None,
) -> torch.Tensor:
    """``n_poison(len(y), fraction)`` distinct indices drawn uniformly from ``pool``: ``all``
    images, those whose label is not ``target`` (``non_target``, BadNets), those of the
    ``target`` class (clean-label), or those of one ``source`` class (``source``, the single
    source-to-target attack of Tran et al. 2018). Sorted, int64, on CPU. The count is a share of
    the *whole* training set in every case; a ValueError says when the pool is too small."""
    if pool not in POOLS:
        raise ValueError(f"unknown pool {pool!r}; allowed: {', '.join(POOLS)}")
    y = y.cpu()
    num_classes = num_classes or int(y.max()) + 1
    target = check_target(target, num_classes)
    if pool == "source":
        if source is None or check_target(source, num_classes) == target:
            raise ValueError(f"pool 'source' needs a source class other than the target {target}; got {source!r}")
    elif source is not None:
        raise ValueError(f"source={source!r} is only used with pool='source'; got pool {pool!r}")
    k = n_poison(len(y), fraction)
    candidates = {
        "all": torch.arange(len(y)),
        "non_target": torch.nonzero(y != target).flatten(),
        "target": torch.nonzero(y == target).flatten(),
        "source": torch.nonzero(y == (source if source is not None else -1)).flatten(),
    }[pool]
    if k > len(candidates):
        raise ValueError(
            f"fraction {fraction} of {len(y)} images asks for {k} poisons but pool {pool!r} "
            f"has only {len(candidates)}; allowed: fraction <= {len(candidates) / len(y):.4f}"
        )
    order = torch.randperm(len(candidates), generator=torch.Generator().manual_seed(seed))[:k]
    return candidates[order].sort().values


def badnets(
    x: torch.Tensor,
    y: torch.Tensor,
    fraction: float,
    *,
    target: int,
    trigger: Trigger,
    seed: int = 0,
    num_classes: int | None = None,
    source: int | None = None,
) -> Poisoned:
    """BadNets poisoning: stamp ``trigger`` on ``n_poison(N, fraction)`` images of other classes
    (of the one class ``source`` if given) and relabel them ``target``; every other image and
    label is untouched."""
    _check_images(x)
    idx = poison_indices(
        y,
        fraction,
        target=target,
        pool="non_target" if source is None else "source",
        seed=seed,
        num_classes=num_classes,
        source=source,
    )
    x_p, y_p = x.clone(), y.clone()
    dev_idx = idx.to(x.device)
    if len(idx):
        x_p[dev_idx] = stamp(x[dev_idx], trigger)
        y_p[idx.to(y.device)] = target
    return Poisoned(x_p, y_p, idx)


@torch.no_grad()
def _to_uint8(x: torch.Tensor) -> torch.Tensor:
    return (x.clamp(0, 1) * 255).round().to(torch.uint8)


def harden(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    steps: int = 10,
    step_size: float | None = None,
    batch_size: int = 500,
    seed: int = 0,
) -> torch.Tensor:
    r"""Make images hard to classify: untargeted L-infinity PGD (``attacks.pgd``) against ``model``,
    :math:`\|\delta\|_\infty \le \epsilon` (pixel units). Returns images of the input dtype on
    the input device (uint8 inputs are rounded back to 0..255)."""
    _check_images(x)
    dev = next(model.parameters()).device
    gen = torch.Generator(device=dev).manual_seed(seed)
    out = []
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size].to(dev)
        xb = xb.float() / 255 if x.dtype == torch.uint8 else xb.float()
        x_adv, _ = attacks.pgd(
            model, xb, y[i : i + batch_size].to(dev), eps, steps=steps, step_size=step_size, generator=gen
        )
        out.append(_to_uint8(x_adv) if x.dtype == torch.uint8 else x_adv.to(x.dtype))
    return torch.cat(out).to(x.device) if out else x.clone()


def clean_label(
    x: torch.Tensor,
    y: torch.Tensor,
    fraction: float,
    *,
    target: int,
    trigger: Trigger,
    seed: int = 0,
    hardened: torch.Tensor | None = None,
    harden_model: nn.Module | None = None,
    eps: float = 0.3,
    steps: int = 10,
    num_classes: int | None = None,
) -> Poisoned:
    """Clean-label poisoning: stamp ``trigger`` on ``n_poison(N, fraction)`` images *of* the
    ``target`` class; labels are never changed.

    Plain by default. With ``harden_model``, the chosen images are first perturbed by
    :func:`harden` (PGD, radius ``eps``, ``steps`` steps) and then stamped, so the trigger
    itself is not perturbed. ``hardened`` may instead give already-hardened versions of all
    ``x`` (the chosen rows are used).
    """
    _check_images(x)
    idx = poison_indices(y, fraction, target=target, pool="target", seed=seed, num_classes=num_classes)
    x_p = x.clone()
    if len(idx):
        dev_idx = idx.to(x.device)
        chosen = x[dev_idx]
        if hardened is not None:
            if hardened.shape != x.shape:
                raise ValueError(f"hardened must have the shape of x {tuple(x.shape)}; got {tuple(hardened.shape)}")
            chosen = hardened.to(x.device)[dev_idx]
        elif harden_model is not None:
            chosen = harden(harden_model, chosen, y[idx.to(y.device)], eps, steps=steps, seed=seed)
        x_p[dev_idx] = stamp(chosen, trigger)
    return Poisoned(x_p, y.clone(), idx)


@torch.no_grad()
def attack_hits(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    target: int,
    trigger: Trigger,
    source: int | None = None,
    batch_size: int = 1000,
) -> torch.Tensor:
    """Per test image whose true class is not ``target`` (is ``source``, if given), in test-set
    order: does the model assign it to ``target`` once the trigger is stamped? Bool (n,), CPU.
    The same images for every model, so two models' hits can be compared image by image."""
    keep = torch.nonzero((y != target) if source is None else (y == source)).flatten()
    hits = []
    dev = next(model.parameters()).device
    with attacks._EvalMode(model), torch.no_grad():
        for i in range(0, len(keep), batch_size):
            xb = stamp(x[keep[i : i + batch_size].to(x.device)], trigger).to(dev)
            xb = xb.float() / 255 if xb.dtype == torch.uint8 else xb.float()
            hits.append((model(xb).argmax(1) == target).cpu())
    return torch.cat(hits) if hits else torch.zeros(0, dtype=torch.bool)


def attack_success(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    target: int,
    trigger: Trigger,
    source: int | None = None,
    batch_size: int = 1000,
) -> tuple[int, int]:
    """``(hits, n)``: of the ``n`` test images whose true class is not ``target`` (is ``source``,
    if given), how many the model assigns to ``target`` once the trigger is stamped
    (:func:`attack_hits`, summed). ``x``: uint8 or float test images."""
    hit = attack_hits(model, x, y, target=target, trigger=trigger, source=source, batch_size=batch_size)
    return int(hit.sum()), len(hit)


def attack_success_rate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    target: int,
    trigger: Trigger,
    source: int | None = None,
    batch_size: int = 1000,
) -> float:
    """Share of triggered test images (non-target, or of class ``source``) classified as ``target``
    (see :func:`attack_success`)."""
    hits, n = attack_success(model, x, y, target=target, trigger=trigger, source=source, batch_size=batch_size)
    return hits / max(n, 1)


# --------------------------------------------------------------------------- spectral signatures
def _last_linear(model: nn.Module) -> nn.Linear:
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("model has no nn.Linear layer whose input could serve as the representation")
    return linears[-1]


@torch.no_grad()
def representations(model: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Penultimate-layer representations ``(N, d)``: the input of the model's last ``nn.Linear``
    (for the small CNN the hidden ReLU units, for ResNets the pooled features), float32 on CPU."""
    _check_images(x)
    layer = _last_linear(model)
    dev = next(model.parameters()).device
    captured: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda mod, inp, out: captured.append(inp[0].detach().float().cpu()))
    try:
        with attacks._EvalMode(model):
            for i in range(0, len(x), batch_size):
                xb = x[i : i + batch_size].to(dev)
                model(xb.float() / 255 if xb.dtype == torch.uint8 else xb.float())
    finally:
        handle.remove()
    return torch.cat(captured) if captured else torch.empty(0, layer.in_features)


def spectral_scores(features: torch.Tensor) -> torch.Tensor:
    r"""Outlier scores :math:`\tau_i = ((R_i - \bar R) \cdot v)^2`, with :math:`v` the top right
    singular vector of the centred matrix :math:`R - \bar R` (Tran et al. 2018). ``features``: (n, d)."""
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"features must have shape (n, d) with n >= 2; got {tuple(features.shape)}")
    centred = features.double() - features.double().mean(0, keepdim=True)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    return (centred @ vh[0]).pow(2).float()


def spectral_filter(features: torch.Tensor, expected_poisons: int, factor: float = 1.5) -> torch.Tensor:
    """Positions (into ``features``) of the ``ceil(factor * expected_poisons)`` highest spectral
    scores: the examples to remove (capped at all of them)."""
    if expected_poisons < 0 or factor < 0:
        raise ValueError(f"expected_poisons and factor must be >= 0; got {expected_poisons}, {factor}")
    k = min(len(features), math.ceil(factor * expected_poisons))
    return spectral_scores(features).topk(k).indices.sort().values


def detection_recall(removed: torch.Tensor, poisoned: torch.Tensor) -> float:
    """Share of the ``poisoned`` indices that are among the ``removed`` ones (1.0 if none were poisoned)."""
    if len(poisoned) == 0:
        return 1.0
    return float(torch.isin(poisoned.cpu(), removed.cpu()).float().mean())


class SpectralResult(NamedTuple):
    """What :func:`spectral_defence` found in one poisoned training set."""

    labelled: torch.Tensor  # (M,) training indices of the images labelled ``target``
    scores: torch.Tensor  # (M,) their outlier scores
    is_poison: torch.Tensor  # (M,) bool: which of them are poisons (ground truth, for evaluation only)
    removed: torch.Tensor  # (k,) training indices removed (the k highest scores)
    keep: torch.Tensor  # (N,) bool mask of the training images kept for retraining
    recall: float  # share of the poisons among the removed images


def spectral_defence(model: nn.Module, poisoned: Poisoned, target: int, factor: float = 1.5) -> SpectralResult:
    """Tran et al.'s filter on a poisoned training set: score the images labelled ``target`` with
    :func:`spectral_scores` of ``model``'s penultimate representations, remove the
    ``ceil(factor * len(poisoned.idx))`` highest, report which were poisons."""
    labelled = torch.nonzero(poisoned.y.cpu() == target).flatten()
    if len(labelled) < 2:
        raise ValueError(f"only {len(labelled)} training image(s) are labelled {target}; need at least 2")
    feats = representations(model, poisoned.x[labelled.to(poisoned.x.device)])
    scores = spectral_scores(feats)
    removed = labelled[spectral_filter(feats, len(poisoned.idx), factor)]
    keep = torch.ones(len(poisoned.y), dtype=torch.bool)
    keep[removed] = False
    return SpectralResult(
        labelled,
        scores,
        torch.isin(labelled, poisoned.idx.cpu()),
        removed,
        keep,
        detection_recall(removed, poisoned.idx),
    )


# --------------------------------------------------------------------------- spurious cues
def grating(n: int, size: int, angle: torch.Tensor, phase: torch.Tensor, period: float = 4.0) -> torch.Tensor:
    r"""Sinusoidal gratings in [0, 1]: :math:`g(r, c) = \tfrac12 + \tfrac12\sin(2\pi (c\cos\theta
    + r\sin\theta) / T + \varphi)`, one per ``(angle, phase)``. Returns float ``(n, 1, size, size)``."""
    r = torch.arange(size, dtype=torch.float32)
    rr, cc = torch.meshgrid(r, r, indexing="ij")
    angle, phase = angle.float().view(n, 1, 1), phase.float().view(n, 1, 1)
    arg = 2 * math.pi * (cc * torch.cos(angle) + rr * torch.sin(angle)) / period + phase
    return (0.5 + 0.5 * torch.sin(arg)).unsqueeze(1)


def class_angle(cue: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Grating orientation that encodes class ``cue``: ``pi * cue / num_classes`` (distinct for each class)."""
    return math.pi * cue.float() / num_classes


def add_background(
    x: torch.Tensor,
    cue: torch.Tensor,
    *,
    num_classes: int = 10,
    amplitude: float = 0.4,
    period: float = 4.0,
    seed: int = 0,
    foreground: bool = True,
    mix: str = "max",
) -> torch.Tensor:
    r"""Add the grating :math:`g` of class ``cue`` (random phase per image) to uint8 images.

    ``mix="max"`` fills a dark background (MNIST): :math:`x' = \max(x, a\,g)`;
    ``mix="blend"`` overlays it on natural images (CIFAR-10): :math:`x' = (1 - a)\,x + a\,g`;
    :math:`a` is ``amplitude``. With ``foreground=False`` the object is removed and only the
    background remains ("only-BG"). Returns uint8 images with the colour channels of ``x``."""
    if mix not in ("max", "blend"):
        raise ValueError(f"unknown mix {mix!r}; allowed: max, blend")
    _check_images(x)
    if x.dtype != torch.uint8:
        raise ValueError(f"add_background expects uint8 images; got {x.dtype}")
    if len(cue) != len(x):
        raise ValueError(f"need one cue per image; got {len(cue)} cues for {len(x)} images")
    if int(cue.min()) < 0 or int(cue.max()) >= num_classes:
        raise ValueError(
            f"cue classes must lie in 0 .. {num_classes - 1}; got range {int(cue.min())} .. {int(cue.max())}"
        )
    check_fraction(amplitude, "amplitude")
    if x.shape[-1] != x.shape[-2]:
        raise ValueError(f"square images expected; got {tuple(x.shape[-2:])}")
    gen = torch.Generator().manual_seed(seed)
    phase = torch.rand(len(x), generator=gen) * 2 * math.pi
    g = grating(len(x), x.shape[-1], class_angle(cue.cpu(), num_classes), phase, period).to(x.device)
    bg = (amplitude * g * 255).round().to(torch.uint8).expand(-1, x.shape[1], -1, -1)
    if not foreground:
        return bg.clone()
    if mix == "max":
        return torch.maximum(x, bg)
    return ((1 - amplitude) * x.float() + amplitude * 255 * g).round().clamp(0, 255).to(torch.uint8)


def cue_classes(
    y: torch.Tensor, agree: float, *, num_classes: int = 10, mode: str = "agree_else_random", seed: int = 0
) -> torch.Tensor:
    """The cue class of each image: equal to the label on a random share ``agree`` of the
    images, and otherwise uniform over all classes (``agree_else_random``) or over the other
    classes (``agree_else_other``). ``agree = 0`` with ``agree_else_other`` always disagrees."""
    modes = ("agree_else_random", "agree_else_other")
    if mode not in modes:
        raise ValueError(f"unknown mode {mode!r}; allowed: {', '.join(modes)}")
    agree = check_fraction(agree, "agree")
    gen = torch.Generator().manual_seed(seed)
    y = y.cpu()
    keep = torch.rand(len(y), generator=gen) < agree
    if mode == "agree_else_random":
        other = torch.randint(0, num_classes, (len(y),), generator=gen)
    else:
        other = (y + torch.randint(1, num_classes, (len(y),), generator=gen)) % num_classes
    return torch.where(keep, y, other)
