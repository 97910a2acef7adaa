r"""Does a targeted attack work? A gate for large-radius claims, and a gradient-free baseline.

A claim about what a model's large-:math:`\epsilon` targeted adversarial images look like
(Tsipras et al. 2019; Santurkar et al. 2019) is only as good as the attack: an attack that does
not reach its target leaves images close to the original digit, and their look then measures the
attack's failure, not the model (Carlini et al. 2019, "On Evaluating Adversarial Robustness":
an attack that fails is not evidence). So every such claim here is *gated*:

* :func:`toward_nearest`, the gradient-free baseline: for an image :math:`x` and target class
  :math:`t`, take the nearest training image of class :math:`t` in :math:`L_2`,
  :math:`n = \arg\min_{x_j: y_j = t} \|x_j - x\|_2`, and step toward it as far as the ball allows,

  .. math:: x' = x + \min\Big(1, \frac{\epsilon}{\|n - x\|_2}\Big)\,(n - x),

  which lies in the :math:`L_2` ball of radius :math:`\epsilon` and (a convex combination of two
  images) in :math:`[0, 1]^d`. It needs no gradient, so a model that masks its gradients cannot
  hide from it; where :math:`\|n - x\|_2 \le \epsilon` it *is* a real digit of the target class.
* :func:`attack_gate`: the attack passes for a model when it reaches the target on *most* images,
  the exact (Clopper-Pearson) 95% interval of the hit share lying above 1/2
  (:func:`reliable_ml.stats.against_reference`); the gate passes when it does so for every model
  judged. :func:`gate_sentence` turns the verdict into the sentence a chapter prints: when the
  gate fails, it says so and that nothing is concluded for the models where the attack failed.
"""

from __future__ import annotations

import sys

import numpy as np
import torch
from torch import nn

from reliable_ml.robust import attacks
from reliable_ml.util import evalcache, result_cache


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(len(x), -1).float()


def nearest_of_class(
    x: torch.Tensor, t: torch.Tensor, x_train: torch.Tensor, y_train: torch.Tensor, *, k: int = 1, chunk: int = 256
) -> torch.Tensor:
    r"""Indices into ``x_train`` of the ``k`` nearest (:math:`L_2`) training images of class ``t[i]``
    for each image ``x[i]``, shape ``(B, k)``, nearest first. ``x``: float in [0, 1];
    ``x_train``: uint8 (divided by 255) or float in [0, 1]."""
    if len(x) != len(t):
        raise ValueError(f"x and t must have the same length; got {len(x)} and {len(t)}")
    if len(x_train) != len(y_train):
        raise ValueError(f"x_train and y_train must have the same length; got {len(x_train)} and {len(y_train)}")
    if x.shape[1:] != x_train.shape[1:]:
        raise ValueError(f"x images {tuple(x.shape[1:])} and x_train images {tuple(x_train.shape[1:])} differ in shape")
    if int(k) != k or k < 1:
        raise ValueError(f"k must be an integer >= 1; got {k!r}")
    xt = _flat(x_train.cpu()) / (255.0 if x_train.dtype == torch.uint8 else 1.0)
    yt = torch.as_tensor(y_train).cpu()
    xs, ts = _flat(x.detach().cpu()), torch.as_tensor(t).cpu()
    out = torch.empty(len(x), k, dtype=torch.long)
    for c in ts.unique().tolist():
        pool = (yt == c).nonzero().flatten()
        if len(pool) < k:
            raise ValueError(f"class {c} has {len(pool)} training images; k = {k} needs at least {k}")
        rows = (ts == c).nonzero().flatten()
        for i in range(0, len(rows), chunk):
            r = rows[i : i + chunk]
            d = torch.cdist(xs[r], xt[pool])
            out[r] = pool[d.topk(k, dim=1, largest=False).indices]
    return out


def toward_nearest(
    x: torch.Tensor,
    t: torch.Tensor,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    eps: float,
    *,
    model: nn.Module | None = None,
    k: int = 1,
    cache: bool = True,
) -> dict:
    r"""The gradient-free targeted baseline (module docstring): step from each image ``x[i]`` toward
    its nearest training image of class ``t[i]``, projected into the :math:`L_2` ball of radius
    ``eps``. With ``model`` and ``k > 1`` the ``k`` nearest are tried and the first that the model
    assigns to ``t`` is kept (else the nearest).

    Returns ``{"x_adv": (B, ...) float, "distance": (B,) L2 distance to the neighbour used,
    "reached": (B,) bool, the neighbour lies inside the ball, "hit": (B,) bool numpy (model
    predicts t; only with ``model``)}``.

    With ``cache`` the result is kept in the result cache (:mod:`reliable_ml.util.result_cache`),
    keyed by the images, targets, training set, ``eps``, ``k``, the model's weights and the code of
    this module: the nearest-neighbour search over the training set runs once.
    """
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0; got {eps}")
    if model is None and k != 1:
        raise ValueError(f"k > 1 needs a model to choose among the neighbours; got k = {k} and no model")
    t = torch.as_tensor(t, device=x.device)
    attacks._check(x, t, eps, "l2")
    settings = {
        "function": "toward_nearest",
        "eps": float(eps),
        "k": k,
        "device": x.device.type,
        "model": None if model is None else repr(model),
        "weights": None if model is None else evalcache.model_fingerprint(model),
    }

    def build() -> dict:
        out = _toward_nearest(x, t, x_train, y_train, eps, model, k)
        return out | {"x_adv": out["x_adv"].cpu()} | ({"hit": torch.from_numpy(out["hit"])} if "hit" in out else {})

    out = result_cache.cached(
        "toward_nearest",
        settings,
        build,
        tensors=[x, t, x_train, torch.as_tensor(y_train)],
        code=(sys.modules[__name__], attacks),
        models=0,
        enabled=cache,
    )
    out = dict(out) | {"x_adv": out["x_adv"].to(x.device)}
    if "hit" in out:
        out["hit"] = out["hit"].numpy()
    return out


def _toward_nearest(x, t, x_train, y_train, eps, model, k) -> dict:
    """:func:`toward_nearest` without the cache (inputs checked)."""
    idx = nearest_of_class(x, t, x_train, y_train, k=k)
    x_train_f = x_train.float() / (255.0 if x_train.dtype == torch.uint8 else 1.0)
    best = best_d = hit = None
    for j in range(idx.shape[1]):
        n = x_train_f[idx[:, j]].to(x.device, x.dtype)
        diff = n - x
        dist = _flat(diff).norm(dim=1)
        scale = (eps / dist.clamp_min(1e-12)).clamp(max=1.0).view(-1, *[1] * (x.ndim - 1))
        cand = (x + scale * diff).clamp(0, 1)
        if model is None:
            best, best_d = cand, dist
            break
        with torch.no_grad(), attacks._EvalMode(model):
            h = model(cand).argmax(1) == torch.as_tensor(t, device=x.device)
        if best is None:
            best, best_d, hit = cand.clone(), dist.clone(), h.clone()
        else:
            take = h & ~hit
            best[take], best_d[take], hit = cand[take], dist[take], hit | h
    out = {"x_adv": best.detach(), "distance": best_d.cpu(), "reached": (best_d <= eps).cpu()}
    if model is not None:
        out["hit"] = hit.cpu().numpy()
    return out


def nearest_other_class(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    eps: float,
    num_classes: int = 10,
) -> np.ndarray:
    """Untargeted gradient-free check: for every class ``c != y`` try :func:`toward_nearest` toward
    ``c``; per image, True where *some* class's step fools ``model`` (bool numpy (B,))."""
    fooled = np.zeros(len(x), dtype=bool)
    for shift in range(1, num_classes):
        t = (y + shift) % num_classes
        fooled |= toward_nearest(x, t, x_train, y_train, eps, model=model)["hit"]
    return fooled


def hit_verdict(hit_each):
    """Did a targeted attack reach its target on most images? :func:`reliable_ml.stats.against_reference`
    of the hit share against 1/2, with the exact (Clopper-Pearson) 95% interval of the count."""
    from reliable_ml import stats

    hit = np.asarray(hit_each, dtype=bool)
    if hit.ndim != 1 or len(hit) == 0:
        raise ValueError(f"hit_each must be a non-empty 1-d array of outcomes; got shape {hit.shape}")
    k, n = int(hit.sum()), len(hit)
    lo, hi = stats.clopper_pearson(k, n)
    return stats.against_reference(k / n, (float(lo), float(hi)), 0.5)


def attack_gate(hits: dict) -> dict:
    """The gate: ``hits`` maps each model judged to the per-image hits of the targeted attack.

    Returns ``{"passed": bool (the attack reaches the target on most images for *every* model),
    "failed": [models where it does not], "verdicts": {model: Verdict}, "rates": {model: % hit},
    "k": {model: images hit}, "n": {model: images}, "hits": {model: per-image bool numpy}}``."""
    if not hits:
        raise ValueError("attack_gate needs at least one model's hits")
    verdicts = {name: hit_verdict(h) for name, h in hits.items()}
    failed = [name for name, v in verdicts.items() if v.direction != "higher"]
    return {
        "passed": not failed,
        "failed": failed,
        "verdicts": verdicts,
        "rates": {name: 100 * float(np.mean(np.asarray(h, dtype=bool))) for name, h in hits.items()},
        "k": {name: int(np.asarray(h, dtype=bool).sum()) for name, h in hits.items()},
        "n": {name: len(h) for name, h in hits.items()},
        "hits": {name: np.asarray(h, dtype=bool) for name, h in hits.items()},
    }


def gate_sentence(
    gate: dict,
    names: dict | None = None,
    baseline: dict | None = None,
    what: str = "",
    baseline_each: dict | None = None,
    flagged: tuple | list | set = (),
) -> str:
    """The sentence a chapter prints for :func:`attack_gate`'s ``gate``.

    ``names``: {model: reader's name}; ``baseline``: {model: % of images the gradient-free
    baseline brings to the target}; ``what``: the claim gated (e.g. "what its attacked images
    look like"). Passed: each model's hit share and its exact interval; failed: the same, then,
    by the gate's verdict, that the attack cannot be shown to reach the target on most images (the
    interval includes 1/2) or reaches it on fewer than half (the interval lies below 1/2), and that
    the section concludes nothing about those models. ``baseline_each``: {model: per-image hits of
    the gradient-free step on the gate's images}; for a failed model it is compared with the
    attack's hits, paired (:func:`reliable_ml.stats.compare`, McNemar's exact test): a gradient-free
    step that reaches the target more often is evidence that the gradient attack is weak on that
    model (consistent with its own masking flag when the model is in ``flagged``)."""
    from reliable_ml import stats

    names = names or {}
    baseline = baseline or {}
    baseline_each = baseline_each or {}

    def bounds(m):
        return tuple(100 * (0.5 + d) for d in gate["verdicts"][m].interval)

    def part(m):
        lo, hi = bounds(m)
        extra = f"; the gradient-free step toward the nearest target image: {baseline[m]:.1f}%" if m in baseline else ""
        return (
            f"{gate['rates'][m]:.1f}% of {gate['n'][m]} images for {names.get(m, m)} "
            f"(exact 95% interval {lo:.1f}–{hi:.1f}%{extra})"
        )

    reached = "The targeted attack reaches its target on " + "; ".join(part(m) for m in gate["verdicts"])
    if gate["passed"]:
        return reached + ". It reaches the target on most images for every model judged: the gate is passed."
    failed = []
    for m in gate["failed"]:
        lo, hi = bounds(m)
        rate, name = gate["rates"][m], names.get(m, m)
        if gate["verdicts"][m].direction == "lower":
            words = (
                f"it reaches the target on fewer than half of the images for {name} ({rate:.1f}%, exact interval "
                f"{lo:.1f}–{hi:.1f}%, below 50%)"
            )
        else:
            words = (
                f"it cannot be shown to reach it on most images for {name} ({rate:.1f}%, exact interval "
                f"{lo:.1f}–{hi:.1f}% includes 50%)"
            )
        if m in baseline_each and "hits" in gate:
            free = np.asarray(baseline_each[m], dtype=bool)
            v = stats.compare(free, gate["hits"][m], paired=True)
            share = 100 * float(free.mean())
            if v.direction == "higher":
                words += (
                    f"; the gradient-free step reaches the target on {share:.1f}% of these images, more than the "
                    "gradient attack: evidence that the gradient attack is weak on this model"
                    + (", consistent with its masking flag" if m in flagged else "")
                )
            elif v.direction == "lower":
                words += (
                    f"; the gradient-free step reaches it on {share:.1f}% of these images, fewer than the gradient "
                    "attack"
                )
            else:
                words += (
                    f"; the gradient-free step reaches it on {share:.1f}% of these images, and the data cannot tell "
                    "that share from the gradient attack's"
                )
        failed.append(words)
    bad = ", ".join(names.get(m, m) for m in gate["failed"])
    text = "; ".join(failed)
    return (
        reached + f". {text[0].upper()}{text[1:]}: the gate fails there, and this "
        f"section concludes nothing about {what or 'those models'} for {bad}."
    )
