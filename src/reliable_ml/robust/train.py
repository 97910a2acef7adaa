r"""Adversarial training: PGD (Madry et al. 2018) and FGSM with random start (Wong et al. 2020).

Both approximate the robust (min-max) objective

.. math:: \min_\theta\; \mathbb{E}_{(x,y)}\Big[\max_{\|\delta\|_\infty \le \epsilon} L(f_\theta(x+\delta), y)\Big].

By Danskin's theorem, if :math:`\delta^*` maximizes the inner problem, :math:`\nabla_\theta
L(f_\theta(x+\delta^*), y)` is a (sub)gradient of the outer objective: so each step first
*attacks* the batch (PGD with ``attack_steps`` steps, or one FGSM step from a uniform random
start, step :math:`\alpha`), then takes an ordinary gradient step on the attacked batch.

Engineering: the whole dataset lives on the model's device as uint8 and is sliced there
(random crop + flip are tensor ops on the device); bf16 autocast and channels_last are used
on CUDA only; a checkpoint is written atomically after every epoch (``tmp`` + ``os.replace``)
and ``resume=True`` continues exactly where training stopped (model, optimizer, step, RNG
state); checkpoints are read with ``torch.load(weights_only=True)``. Under ``torchrun`` the
model is wrapped in DistributedDataParallel and each process takes a slice of every batch
(``python -m reliable_ml.robust.train --help``).
"""

from __future__ import annotations

import argparse
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from reliable_ml.robust import attacks
from reliable_ml.settings.training import METHODS, TrainConfig
from reliable_ml.util.progress import tqdm

CHECKPOINT_FORMAT = "reliable_ml.robust.train/1"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: corrupt, or written by an incompatible run."""


@dataclass
class TrainResult:
    """``history``: one dict per epoch; ``seconds``: training wall time summed over resumes."""

    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    best_epoch: int | None = None
    best_step: int | None = None  # train_rst with a held-out check: the SGD step whose weights were kept
    stopped_step: int | None = None  # ... and the step after which it stopped (early stopping)


# --------------------------------------------------------------------------- schedules
def learning_rate(cfg: TrainConfig, t: float) -> float:
    """LR at fractional epoch ``t``: one-cycle is piecewise linear 0 -> lr_max (at 40%) -> 0."""
    frac = t / cfg.epochs
    if cfg.lr_schedule == "onecycle":
        return cfg.lr_max * (frac / 0.4 if frac < 0.4 else max(0.0, (1 - frac) / 0.6))
    return cfg.lr_max * (1.0 if frac < 0.5 else 0.1 if frac < 0.75 else 0.01)


def epsilon_at(cfg: TrainConfig, t: float) -> float:
    """Training radius at fractional epoch ``t`` (linear ramp over ``eps_ramp_epochs``)."""
    return cfg.eps if cfg.eps_ramp_epochs <= 0 else cfg.eps * min(1.0, t / cfg.eps_ramp_epochs)


# --------------------------------------------------------------------------- device-side data ops
def random_crop_flip(x: torch.Tensor, gen: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random ``pad``-pixel shifted crop (zero padding) and horizontal flip, per image, as tensor ops.

    ``x``: (B, C, H, W) float on any device; offsets come from ``gen`` (same device).
    """
    b, c, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    oy = torch.randint(0, 2 * pad + 1, (b, 1), generator=gen, device=x.device)
    ox = torch.randint(0, 2 * pad + 1, (b, 1), generator=gen, device=x.device)
    rows = (oy + torch.arange(h, device=x.device))[:, None, :, None]  # (B, 1, H, 1)
    cols = (ox + torch.arange(w, device=x.device))[:, None, None, :]  # (B, 1, 1, W)
    out = padded[
        torch.arange(b, device=x.device)[:, None, None, None],
        torch.arange(c, device=x.device)[None, :, None, None],
        rows,
        cols,
    ]
    flip = torch.rand(b, generator=gen, device=x.device) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(3), out)


def perturb(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    alpha: float,
    steps: int,
    gen: torch.Generator,
    random_start: bool = True,
) -> torch.Tensor:
    """Training-time L-infinity attack from a uniform random start (FGSM-RS is ``steps = 1``);
    ``random_start=False`` starts at ``delta = 0`` (plain FGSM is ``steps = 1``).

    Runs the model in its current (train) mode, like the reference implementations; returns
    ``x + delta`` detached, with ``|delta| <= eps`` and values in [0, 1].
    """
    delta = (torch.rand(x.shape, generator=gen, device=x.device) * 2 - 1) * eps if random_start else torch.zeros_like(x)
    delta = (x + delta).clamp(0, 1) - x
    for _ in range(steps):
        delta.requires_grad_(True)
        loss = F.cross_entropy(model(x + delta).float(), y)
        (grad,) = torch.autograd.grad(loss, delta)
        delta = (delta.detach() + alpha * grad.sign()).clamp(-eps, eps)
        delta = (x + delta).clamp(0, 1) - x
    return (x + delta).detach()


# --------------------------------------------------------------------------- held-out selection
def heldout_split(n: int, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split ``n`` training indices into ``(idx_fit, idx_select)``: ``size`` of them, drawn by a
    permutation seeded with ``seed``, are held out for epoch selection and never trained on; the
    rest (in the permutation's order) are the images gradient steps may use.

    The rule of Rice et al. (2020, "Overfitting in adversarially robust deep learning", Sec. 3):
    choose the checkpoint on held-out *training* images, never on test images, so the reported
    test figure is not selected on the data it is measured on."""
    if int(n) != n or n < 2:
        raise ValueError(f"n must be an integer >= 2; got {n!r}")
    if int(size) != size or not 0 <= size < n:
        raise ValueError(f"size of the held-out split must be an integer in [0, {n - 1}] (n = {n}); got {size!r}")
    perm = torch.randperm(int(n), generator=torch.Generator().manual_seed(int(seed)))
    return perm[int(size) :], perm[: int(size)]


def heldout_check(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, steps: int, seed: int) -> dict:
    """The per-check held-out measurement: clean accuracy and PGD-``steps`` accuracy (L-inf ``eps``,
    step ``2.5 eps / steps``, one random start drawn from a generator seeded with ``seed``, so
    every check of a run attacks with the same noise) on ``x`` (float in [0, 1]) and ``y``.
    Returns ``{"val_clean_acc", "val_robust_acc"}`` in [0, 1]; robust equals clean when ``eps = 0``."""
    clean = attacks.accuracy(model, x, y)
    if eps <= 0:
        return {"val_clean_acc": clean, "val_robust_acc": clean}
    gen = torch.Generator(device=x.device).manual_seed(seed)
    robust = attacks.robust_accuracy(model, x, y, eps, steps=steps, step_size=2.5 * eps / steps, generator=gen)
    return {"val_clean_acc": clean, "val_robust_acc": robust}


def stop_early(scores: list[float], patience: int | None) -> bool:
    """Early stopping on held-out robust accuracy: ``True`` when the last ``patience`` checks all
    failed to beat the best score before them (``patience=None``: never stop). The kept weights are
    always those of the best check (ties keep the earlier one)."""
    if patience is None:
        return False
    if int(patience) != patience or patience < 1:
        raise ValueError(f"patience must be an integer >= 1 or None; got {patience!r}")
    if len(scores) <= patience:
        return False
    return max(scores[-patience:]) <= max(scores[:-patience])


# --------------------------------------------------------------------------- checkpoints
def save_checkpoint(path: Path, state: dict) -> None:
    """Write ``state`` to ``path`` atomically: a temporary file in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, cfg: TrainConfig | None = None, map_location=None) -> dict:
    """Read a checkpoint with ``weights_only=True``; raise :class:`CheckpointError` if it is
    unreadable, not ours, or (with ``cfg``) written by a run with a different config."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means unusable
        raise CheckpointError(
            f"checkpoint {path} is unreadable ({type(exc).__name__}: {exc}); "
            f"delete it or choose another path. It was not modified."
        ) from exc
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a {CHECKPOINT_FORMAT} checkpoint; it was not modified")
    if cfg is not None:
        diff = {k: (v, state["config"].get(k)) for k, v in asdict(cfg).items() if state["config"].get(k) != v}
        if diff:
            raise CheckpointError(
                f"checkpoint {path} was written with a different config "
                f"(setting: (now, checkpoint)) {diff}; use another path or the same "
                f"config. It was not modified."
            )
    return state


# --------------------------------------------------------------------------- training
def _world() -> tuple[int, int]:
    return (dist.get_rank(), dist.get_world_size()) if dist.is_available() and dist.is_initialized() else (0, 1)


def _all_sum(values: list[float], dev: torch.device) -> list[float]:
    rank, world = _world()
    if world == 1:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=dev)
    dist.all_reduce(t)
    return t.tolist()


def train(
    model: nn.Module,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    cfg: TrainConfig,
    *,
    x_val: torch.Tensor | None = None,
    y_val: torch.Tensor | None = None,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    stop_after_epoch: int | None = None,
    on_step=None,
) -> TrainResult:
    """Train ``model`` in place with ``cfg.method`` on uint8 images ``x_train`` (N, C, H, W).

    The data move to the model's device. After every epoch: clean and PGD-``val_attack_steps``
    accuracy on ``val_size`` held-out images (watch for catastrophic overfitting: robust
    accuracy collapsing while FGSM training accuracy soars), and a checkpoint if
    ``checkpoint`` is given. An existing checkpoint is continued with ``resume=True``, replaced
    only with ``overwrite=True``, and otherwise an error. ``stop_after_epoch`` ends the run
    early (the LR schedule still spans ``cfg.epochs``), as an interruption would.
    ``on_step(step, eps, logits, y)``, if given, is called after every optimizer step with the
    1-based step, the training radius of that step, the logits of the batch the model was trained
    on (its attacked images) and their labels (:mod:`reliable_ml.robust.catastrophic` watches a
    run with it).
    """
    if x_train.dtype != torch.uint8 or x_train.ndim != 4 or len(x_train) != len(y_train):
        raise ValueError(
            f"x_train must be uint8 (N, C, H, W) with N labels; got {x_train.dtype} "
            f"{tuple(x_train.shape)} and {len(y_train)} labels"
        )
    dev = next(model.parameters()).device
    rank, world = _world()
    cuda = dev.type == "cuda"
    if cuda:
        model.to(memory_format=torch.channels_last)
    net = nn.parallel.DistributedDataParallel(model, device_ids=[dev.index] if cuda else None) if world > 1 else model
    opt = (
        torch.optim.SGD(model.parameters(), lr=0.0, momentum=cfg.momentum, weight_decay=cfg.weight_decay, nesterov=True)
        if cfg.optimizer == "sgd"
        else torch.optim.Adam(model.parameters(), lr=0.0, weight_decay=cfg.weight_decay)
    )
    order_gen = torch.Generator(device=dev).manual_seed(cfg.seed)  # same on every rank
    noise_gen = torch.Generator(device=dev).manual_seed(cfg.seed * 1000 + 1 + rank)
    result, start_epoch, best, step = TrainResult(), 0, None, 0

    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and path.exists():
        if resume:
            state = load_checkpoint(path, cfg, map_location=dev)
            try:
                model.load_state_dict(state["model"])
                opt.load_state_dict(state["optimizer"])
            except (RuntimeError, ValueError, KeyError) as exc:
                raise CheckpointError(
                    f"checkpoint {path} does not fit this model/optimizer: {exc}. It was not modified."
                ) from exc
            order_gen.set_state(state["order_rng"].cpu())
            noise_gen.set_state(state["noise_rng"][rank % len(state["noise_rng"])].cpu())
            start_epoch, step, best = state["epoch"], state["step"], state["best"]
            result.history, result.seconds = list(state["history"]), state["seconds"]
        elif not overwrite:
            raise FileExistsError(
                f"checkpoint {path} exists: pass resume=True to continue it or overwrite=True to start over"
            )

    x_dev, y_dev = x_train.to(dev), y_train.to(dev)
    has_val = x_val is not None and y_val is not None and cfg.val_size > 0
    if has_val:
        xv = x_val[: cfg.val_size].to(dev).float() / 255
        yv = y_val[: cfg.val_size].to(dev)
    n = len(x_dev)
    steps_per_epoch = math.ceil(n / cfg.batch_size)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda)
    bar = tqdm(
        total=cfg.epochs * steps_per_epoch,
        initial=start_epoch * steps_per_epoch,
        desc=f"{cfg.method} training",
        disable=not progress or rank != 0,
    )
    last_epoch = cfg.epochs if stop_after_epoch is None else min(cfg.epochs, stop_after_epoch)
    for epoch in range(start_epoch, last_epoch):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n, generator=order_gen, device=dev)
        loss_sum = correct = seen = 0.0
        for i in range(steps_per_epoch):
            t = epoch + i / steps_per_epoch
            for g in opt.param_groups:
                g["lr"] = learning_rate(cfg, t)
            idx = perm[i * cfg.batch_size : (i + 1) * cfg.batch_size][rank::world]
            xb, yb = x_dev[idx].float() / 255, y_dev[idx]
            if cfg.augment:
                xb = random_crop_flip(xb, noise_gen)
            if cuda:
                xb = xb.contiguous(memory_format=torch.channels_last)
            eps = epsilon_at(cfg, t)
            with autocast:
                if cfg.method != "standard" and eps > 0:
                    steps = cfg.attack_steps if cfg.method == "pgd" else 1
                    alpha = cfg.alpha * eps / cfg.eps
                    xb = perturb(
                        model,
                        xb,
                        yb,
                        eps,
                        alpha,
                        steps,
                        noise_gen,  # no DDP: input grads only
                        random_start=cfg.method != "fgsm",
                    )
                logits = net(xb).float()
                loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if on_step is not None:
                on_step(step, eps, logits.detach(), yb)
            loss_sum += float(loss.detach()) * len(yb)
            correct += float((logits.argmax(1) == yb).sum())
            seen += len(yb)
            bar.update(1)
            if i % 10 == 0 or i == steps_per_epoch - 1:
                bar.set_postfix(
                    epoch=epoch + 1,
                    loss=f"{loss_sum / seen:.3f}",
                    rob_acc=f"{correct / seen:.3f}" if cfg.method != "standard" else "-",
                )
        loss_sum, correct, seen = _all_sum([loss_sum, correct, seen], dev)
        result.seconds += time.perf_counter() - t0
        row = {
            "epoch": epoch + 1,
            "lr_end": learning_rate(cfg, epoch + 1),
            "eps": epsilon_at(cfg, epoch + 1),
            "train_loss": loss_sum / seen,
            "train_acc": correct / seen,
            "seconds": result.seconds,
        }
        if has_val:
            row |= heldout_check(model, xv, yv, cfg.eps, cfg.val_attack_steps, cfg.seed)
            if best is None or row["val_robust_acc"] > best["robust_acc"]:
                best = (
                    {
                        "epoch": epoch + 1,
                        "robust_acc": row["val_robust_acc"],
                        "model": {k: v.detach().clone() for k, v in model.state_dict().items()},
                    }
                    if cfg.keep_best
                    else {"epoch": epoch + 1, "robust_acc": row["val_robust_acc"], "model": {}}
                )
        result.history.append(row)
        if path is not None:
            noise_states = [noise_gen.get_state()]
            if world > 1:
                gathered: list = [None] * world
                dist.all_gather_object(gathered, noise_gen.get_state())
                noise_states = gathered
            if rank == 0:
                save_checkpoint(
                    path,
                    {
                        "format": CHECKPOINT_FORMAT,
                        "config": asdict(cfg),
                        "epoch": epoch + 1,
                        "step": step,
                        "model": model.state_dict(),
                        "optimizer": opt.state_dict(),
                        "order_rng": order_gen.get_state(),
                        "noise_rng": noise_states,
                        "best": best,
                        "history": result.history,
                        "seconds": result.seconds,
                    },
                )
            if world > 1:
                dist.barrier()
    bar.close()
    if best is not None:
        result.best_epoch = best["epoch"]
        if cfg.keep_best and best["model"]:
            model.load_state_dict(best["model"])
    model.eval()
    return result


# --------------------------------------------------------------------------- evaluation
AUTOATTACK_COMPONENTS = ("apgd-ce", "apgd-t", "fab-t", "square")


def autoattack_component(
    name: str,
    model: nn.Module,
    eps: float,
    *,
    seed: int = 0,
    n_classes: int = 10,
    square_queries: int = 5000,
    iterations: int | None = None,
):
    """One attack of AutoAttack's L-infinity suite (Croce & Hein 2020), built as
    ``torchattacks.AutoAttack(version="standard")`` builds it: APGD with cross-entropy, targeted
    APGD with the DLR loss, targeted FAB, and the gradient-free Square attack (``square_queries``,
    5,000 in the standard suite), one restart each. ``iterations`` sets the iterations of APGD,
    APGD-T and FAB-T: 100 is the reference implementation's standard version
    (:data:`AUTOATTACK_REFERENCE`); ``None`` keeps torchattacks' default of 10, a tenth of it, at
    which this is not a standard AutoAttack evaluation (:func:`autoattack_strength` reads back what
    was built)."""
    import torchattacks

    if iterations is not None and (int(iterations) != iterations or iterations < 1):
        raise ValueError(f"iterations must be an integer >= 1 or None (torchattacks' default); got {iterations!r}")
    it = {} if iterations is None else {"steps": int(iterations)}
    kinds = {
        "apgd-ce": lambda: torchattacks.APGD(model, norm="Linf", eps=eps, loss="ce", n_restarts=1, seed=seed, **it),
        "apgd-t": lambda: torchattacks.APGDT(
            model, norm="Linf", eps=eps, n_classes=n_classes, n_restarts=1, seed=seed, **it
        ),
        "fab-t": lambda: torchattacks.FAB(
            model, norm="Linf", eps=eps, multi_targeted=True, n_classes=n_classes, n_restarts=1, seed=seed, **it
        ),
        "square": lambda: torchattacks.Square(
            model, norm="Linf", eps=eps, n_queries=square_queries, n_restarts=1, seed=seed
        ),
    }
    if name not in kinds:
        raise ValueError(f"unknown AutoAttack component {name!r}; allowed: {', '.join(kinds)}")
    return kinds[name]()


def _strength_of(attack) -> dict:
    """What one built torchattacks object runs: ``iterations``, ``restarts``, ``targets``, ``queries``."""
    return {
        "iterations": getattr(attack, "steps", None),
        "restarts": getattr(attack, "n_restarts", None),
        "targets": getattr(attack, "n_target_classes", None),
        "queries": getattr(attack, "n_queries", None),
    }


# The strength of each component in the reference implementation's standard version (fra31/auto-attack,
# Croce & Hein 2020): 100 iterations for APGD-CE, APGD-T and FAB-T (9 target classes each), 5,000
# queries for Square, one restart each.
AUTOATTACK_REFERENCE = {
    "apgd-ce": {"iterations": 100, "restarts": 1, "targets": None, "queries": None},
    "apgd-t": {"iterations": 100, "restarts": 1, "targets": 9, "queries": None},
    "fab-t": {"iterations": 100, "restarts": 1, "targets": 9, "queries": None},
    "square": {"iterations": None, "restarts": 1, "targets": None, "queries": 5000},
}


def autoattack_strength(
    names, *, square_queries: int = 5000, n_classes: int = 10, iterations: int | None = None
) -> dict[str, dict]:
    """The strength at which :func:`autoattack_component` runs each of ``names``, read from the
    torchattacks objects it builds (on a stand-in model): ``iterations``, ``restarts``, ``targets``
    (target classes of the targeted attacks) and ``queries`` (Square), ``None`` where an attack has
    no such setting. Compare with :data:`AUTOATTACK_REFERENCE`."""
    stand_in = nn.Sequential(nn.Flatten(), nn.Linear(1, n_classes))
    return {
        name: _strength_of(
            autoattack_component(
                name, stand_in, 0.1, n_classes=n_classes, square_queries=square_queries, iterations=iterations
            )
        )
        for name in names
    }


def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    steps: int = 50,
    restarts: int = 10,
    step_size: float | None = None,
    autoattack_n: int = 0,
    autoattack_attacks: tuple[str, ...] | list[str] = AUTOATTACK_COMPONENTS,
    square_queries: int = 5000,
    autoattack_iterations: int | None = None,
    seed: int = 0,
    batch_size: int = 500,
    progress: bool = False,
    per_image: bool = False,
) -> dict:
    """Clean accuracy and PGD-``steps``-``restarts`` robust accuracy (L-infinity) on all of ``x``
    (float in [0, 1], on the model's device); then, on the first ``autoattack_n`` images, every
    component of AutoAttack in ``autoattack_attacks`` run separately on the *same* images.

    Robust accuracy is a worst case: an image counts as robust only if it is classified
    correctly clean and under *every* attack run on it. Returned (accuracies in [0, 1]):
    ``clean_acc``, ``pgd_acc`` (all images); on the AutoAttack images ``attack_acc`` (one entry per
    attack, PGD included), ``autoattack_acc`` (worst case over the AutoAttack components),
    ``pgd_acc_on_autoattack_subset`` and ``worst_case_acc`` (= ``worst_case_acc_on_autoattack_subset``,
    over PGD and every component), with ``worst_case_attacks`` naming what was run.
    ``per_image=True`` adds ``per_image_ok``: {attack: bool tensor}, correct clean and under that
    attack, per AutoAttack image (``"clean"`` included; without AutoAttack, clean and PGD on every
    image), for paired comparisons between attacks, and ``worst_case_ok``, the same per image under
    every attack run (PGD alone without AutoAttack).

    ``protocol`` records what ran: per attack its ``steps`` (PGD) or ``iterations`` (APGD, APGD-T,
    FAB-T, read from the built torchattacks objects), ``restarts``, ``targets``, ``queries`` (Square),
    ``step_size`` (PGD) and ``n_images``; ``autoattack_iterations`` (``None``: torchattacks' 10) sets
    the gradient components' iterations (100 in the reference's standard version).
    """
    if autoattack_n > len(x):
        raise ValueError(f"autoattack_n = {autoattack_n} exceeds the {len(x)} evaluation images")
    gen = torch.Generator(device=x.device).manual_seed(seed)
    alpha = 2.5 * eps / steps if step_size is None else step_size
    clean_ok, pgd_ok = [], []
    for i in tqdm(range(0, len(x), batch_size), desc=f"PGD-{steps}x{restarts}", disable=not progress, leave=False):
        xb, yb = x[i : i + batch_size], y[i : i + batch_size]
        with attacks._EvalMode(model), torch.no_grad():
            clean_ok.append(model(xb).argmax(1) == yb)
        _, fooled = attacks.pgd(model, xb, yb, eps, steps=steps, step_size=alpha, restarts=restarts, generator=gen)
        pgd_ok.append(clean_ok[-1] & ~fooled)
    clean_ok, pgd_ok = torch.cat(clean_ok), torch.cat(pgd_ok)
    pgd_name = f"pgd-{steps}x{restarts}"
    out = {
        "n_eval": len(x),
        "clean_acc": clean_ok.double().mean().item(),
        "pgd_steps": steps,
        "pgd_restarts": restarts,
        "pgd_step_size": alpha,
        "pgd_acc": pgd_ok.double().mean().item(),
        "protocol": {
            pgd_name: {
                "steps": steps,
                "restarts": restarts,
                "step_size": alpha,
                "targets": None,
                "queries": None,
                "n_images": len(x),
            }
        },
    }
    if per_image and autoattack_n == 0:
        out["per_image_ok"] = {"clean": clean_ok, pgd_name: pgd_ok}
        out["worst_case_ok"] = pgd_ok
    if autoattack_n > 0:
        names = list(autoattack_attacks)
        if not names:
            raise ValueError("autoattack_attacks is empty; name at least one of " + ", ".join(AUTOATTACK_COMPONENTS))
        xs, ys, clean = x[:autoattack_n], y[:autoattack_n], clean_ok[:autoattack_n]
        ok = {pgd_name: pgd_ok[:autoattack_n]}
        for name in tqdm(names, desc="AutoAttack components", disable=not progress, leave=False):
            attack = autoattack_component(
                name, model, eps, seed=seed, square_queries=square_queries, iterations=autoattack_iterations
            )
            out["protocol"][name] = {**_strength_of(attack), "n_images": len(xs)}
            hits = []
            for i in range(0, len(xs), batch_size):
                xb, yb = xs[i : i + batch_size], ys[i : i + batch_size]
                # project back into the eps-ball and [0, 1] (FAB can overshoot by rounding): never count a
                # point the threat model does not allow
                x_adv = (xb + (attack(xb, yb).detach() - xb).clamp(-eps, eps)).clamp(0, 1)
                with attacks._EvalMode(model), torch.no_grad():
                    hits.append(model(x_adv).argmax(1) == yb)
            ok[name] = clean & torch.cat(hits)
        aa_ok = torch.stack([ok[n] for n in names]).all(0)
        worst = aa_ok & ok[pgd_name]
        suite = [f"square ({square_queries} queries)" if n == "square" else n for n in names]
        out |= {
            "autoattack_n": len(xs),
            "autoattack_attacks": suite,
            "square_queries": square_queries,
            "attack_acc": {k: v.double().mean().item() for k, v in ok.items()},
            "autoattack_acc": aa_ok.double().mean().item(),
            "pgd_acc_on_autoattack_subset": ok[pgd_name].double().mean().item(),
            "clean_acc_on_autoattack_subset": clean.double().mean().item(),
            "worst_case_acc": worst.double().mean().item(),
            "worst_case_acc_on_autoattack_subset": worst.double().mean().item(),
            "worst_case_attacks": [pgd_name, *suite],
        }
        if per_image:
            out["per_image_ok"] = {"clean": clean, **ok}
            out["worst_case_ok"] = worst
    return out


def accuracy_vs_eps(
    models: dict[str, nn.Module], x: torch.Tensor, y: torch.Tensor, eps_grid, *, steps: int = 10, seed: int = 0
) -> dict[str, list[float]]:
    """PGD-``steps`` robust accuracy of each model at each radius of ``eps_grid`` (same images, same seed)."""
    return {
        label: [
            attacks.robust_accuracy(
                m, x, y, float(e), steps=steps, generator=torch.Generator(device=x.device).manual_seed(seed)
            )
            for e in eps_grid
        ]
        for label, m in models.items()
    }


def paired_difference(correct_a: torch.Tensor, correct_b: torch.Tensor, z: float = 1.96) -> dict:
    """Accuracy of A minus accuracy of B on the *same* examples, with a normal-approximation interval
    from the paired (per-example) differences: ``diff +- z * sd(d_i) / sqrt(n)``.
    ``correct_*``: bool (n,). Returns ``diff``, ``lo``, ``hi``, ``n`` (accuracies in [0, 1])."""
    if correct_a.shape != correct_b.shape or correct_a.ndim != 1 or len(correct_a) < 2:
        raise ValueError(
            f"need two bool vectors of the same length >= 2; got {tuple(correct_a.shape)} and {tuple(correct_b.shape)}"
        )
    d = correct_a.double() - correct_b.double()
    half = z * float(d.std(unbiased=True)) / math.sqrt(len(d))
    diff = float(d.mean())
    return {"diff": diff, "lo": diff - half, "hi": diff + half, "n": len(d)}


# --------------------------------------------------------------------------- catastrophic overfitting
def fast_training_runs(
    make_model,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_val: torch.Tensor,
    y_val: torch.Tensor,
    arms: dict[str, TrainConfig],
    seeds: int,
    *,
    progress: bool = False,
) -> list[dict]:
    """Train one model per (arm, seed) and record held-out clean and PGD accuracy after every epoch.

    ``arms`` maps a label to a :class:`TrainConfig` (its ``seed`` is replaced by 0, 1, ...,
    ``seeds - 1``; ``val_size`` and ``val_attack_steps`` set the per-epoch PGD check);
    ``make_model(seed)`` returns a fresh model. Used to show catastrophic overfitting (Wong et
    al. 2020): FGSM training without a random start, or with too large a step, reaches high
    accuracy against its own FGSM examples while PGD accuracy collapses to about zero.
    Returns one row per (arm, seed, epoch): ``arm, seed, epoch, train_acc, val_clean_acc,
    val_robust_acc, seconds``.
    """
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1; got {seeds}")
    rows = []
    jobs = [(label, cfg, seed) for label, cfg in arms.items() for seed in range(seeds)]
    for label, cfg, seed in tqdm(jobs, desc="fast adversarial training runs", disable=not progress):
        run_cfg = TrainConfig(**{**asdict(cfg), "seed": seed})
        fit = train(make_model(seed), x_train, y_train, run_cfg, x_val=x_val, y_val=y_val, progress=False)
        rows += [
            {
                "arm": label,
                "seed": seed,
                **{k: h[k] for k in ("epoch", "train_acc", "val_clean_acc", "val_robust_acc", "seconds")},
            }
            for h in fit.history
        ]
    return rows


def co_arms(eps: float, large_alpha: float = 2.0, **common) -> dict[str, TrainConfig]:
    """The three arms of Wong et al. (2020)'s catastrophic-overfitting experiment: FGSM from
    ``delta = 0`` with step ``eps``; FGSM-RS (uniform random start) with step ``1.25 eps`` and
    with step ``large_alpha * eps``. ``common``: the other :class:`TrainConfig` fields."""
    return {
        "FGSM, zero start, step eps": TrainConfig(method="fgsm", eps=eps, step_size=eps, **common),
        "FGSM-RS, step 1.25 eps": TrainConfig(method="fgsm_rs", eps=eps, step_size=1.25 * eps, **common),
        f"FGSM-RS, step {large_alpha:g} eps": TrainConfig(
            method="fgsm_rs", eps=eps, step_size=large_alpha * eps, **common
        ),
    }


def catastrophic_overfitting(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_val: torch.Tensor,
    y_val: torch.Tensor,
    *,
    eps: float,
    epochs: int,
    seeds: int,
    large_alpha: float = 2.0,
    width: int = 8,
    val_size: int = 300,
    batch_size: int = 100,
    lr_max: float = 5e-3,
    eps_ramp_epochs: float = 0.0,
    cache: bool = True,
    progress: bool = False,
    make_model=None,
    model_name: str = "small_cnn",
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    augment: bool = False,
) -> dict:
    """Held-out PGD-10 accuracy after every epoch of FGSM / FGSM-RS training, per arm and seed.

    A small CNN of width ``width`` (channels ``(width, 2 width)``, hidden ``8 width``) is trained
    on all of ``x_train`` (uint8) for each arm of :func:`co_arms` and each seed ``0..seeds-1``;
    after every epoch its accuracy under PGD-10 (step ``eps / 4``) is measured on the fixed first
    ``val_size`` images of ``x_val``. The result is cached under ``$RELIABLE_ML_CACHE`` keyed by
    these settings and a hash of the data. ``make_model(seed)`` (named ``model_name`` in the
    cache key) replaces the small CNN, e.g. a PreActResNet-18 on CIFAR-10 on a GPU
    (:func:`reliable_ml.experiments.robust_cifar.catastrophic_overfitting`). Returns ``curves``
    ({arm: {seed: [PGD accuracy in % per epoch]}}), ``clean`` and ``train_acc`` in the same layout,
    ``summary`` (see
    :func:`collapse_summary`), ``settings`` and ``seconds`` (of the cold run).
    """
    import hashlib
    import json

    from reliable_ml.data import cache_dir
    from reliable_ml.models import nets as models
    from reliable_ml.util import cachestats

    settings = {
        "eps": eps,
        "epochs": epochs,
        "seeds": seeds,
        "large_alpha": large_alpha,
        "width": width,
        "val_size": val_size,
        "batch_size": batch_size,
        "lr_max": lr_max,
        "eps_ramp_epochs": eps_ramp_epochs,
        "n_train": len(y_train),
        "v": 1,
        "model": model_name,
        "optimizer": optimizer,
        "weight_decay": weight_decay,
        "augment": augment,
    }
    h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for t in (x_train, y_train, x_val[:val_size], y_val[:val_size]):
        h.update(t.contiguous().numpy().tobytes())
    path = cache_dir() / "catastrophic_overfitting" / f"{h.hexdigest()[:16]}.json"
    if cache and path.exists():
        cachestats.record("catastrophic_overfitting", hit=True, models=len(co_arms(eps, large_alpha)) * seeds)
        return json.loads(path.read_text())
    cachestats.record("catastrophic_overfitting", hit=False, models=len(co_arms(eps, large_alpha)) * seeds)
    image_size = x_train.shape[-1]

    def small_cnn(seed):
        torch.manual_seed(seed)
        return models.small_cnn(
            in_channels=x_train.shape[1], image_size=image_size, channels=(width, 2 * width), hidden=8 * width
        )

    common = dict(
        epochs=epochs,
        batch_size=batch_size,
        optimizer=optimizer,
        lr_max=lr_max,
        weight_decay=weight_decay,
        eps_ramp_epochs=eps_ramp_epochs,
        val_size=val_size,
        val_attack_steps=10,
        augment=augment,
    )
    t0, c0 = time.perf_counter(), time.process_time()
    rows = fast_training_runs(
        make_model or small_cnn,
        x_train,
        y_train,
        x_val,
        y_val,
        co_arms(eps, large_alpha, **common),
        seeds,
        progress=progress,
    )
    out = {"curves": {}, "clean": {}, "train_acc": {}}
    for r in rows:
        for key, col in (("curves", "val_robust_acc"), ("clean", "val_clean_acc"), ("train_acc", "train_acc")):
            out[key].setdefault(r["arm"], {}).setdefault(str(r["seed"]), []).append(100 * r[col])
    out["summary"] = {arm: collapse_summary(c) for arm, c in out["curves"].items()}
    out["settings"] = settings
    out["seconds"] = {"wall": round(time.perf_counter() - t0, 1), "cpu": round(time.process_time() - c0, 1)}
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(out))
        os.replace(tmp, path)
    return out


GAINED = 20.0  # % PGD accuracy a run must reach at some epoch to count as having become robust


def collapse_summary(curves: dict, gained: float = GAINED) -> dict:
    """Per seed of one arm (``curves``: {seed: [PGD accuracy in % per epoch]}): the peak, its
    epoch, the final value, the drop, and a verdict *relative to the run's own peak*:

    * ``"never robust"``: the peak stays below ``gained`` (the run never became robust, so
      nothing could collapse; a 9%-robust arm is under-trained, not "not collapsed");
    * ``"collapsed"``: it reached ``gained`` and ends at or below half its peak;
    * ``"held"``: it reached ``gained`` and ends above half its peak.
    """
    per_seed = {}
    for seed, c in curves.items():
        if not len(c):
            raise ValueError(f"seed {seed!r} has an empty curve")
        k = max(range(len(c)), key=lambda i: c[i])
        peak, final = c[k], c[-1]
        verdict = "never robust" if peak < gained else "collapsed" if final <= peak / 2 else "held"
        per_seed[seed] = {"peak": peak, "peak_epoch": k + 1, "final": final, "drop": peak - final, "verdict": verdict}
    verdicts = [v["verdict"] for v in per_seed.values()]
    return {
        "per_seed": per_seed,
        "n_collapsed": verdicts.count("collapsed"),
        "n_held": verdicts.count("held"),
        "n_never": verdicts.count("never robust"),
        "seeds": len(verdicts),
    }


# --------------------------------------------------------------------------- torchrun entry point
def main(argv: list[str] | None = None) -> None:
    """Tiny DDP-capable run: ``torchrun --standalone --nproc_per_node 2 -m reliable_ml.robust.train --tiny``.

    Trains a small CNN on scikit-learn's digits (gloo on CPU, nccl on CUDA) and prints, per
    rank, a checksum of the final weights (equal on every rank when DDP syncs gradients).
    """
    from reliable_ml.data import load_images
    from reliable_ml.models import nets as models

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--tiny", action="store_true", help="a few steps on 512 digits (default: all 1,347)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--method", choices=METHODS, default="pgd")
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--checkpoint", type=Path, default=None)
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args(argv)

    distributed = "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1
    dev = torch.device("cpu")
    if distributed:
        use_cuda = torch.cuda.is_available()
        local = int(os.environ.get("LOCAL_RANK", 0))
        if use_cuda:
            dev = torch.device("cuda", local)
            torch.cuda.set_device(dev)
        dist.init_process_group("nccl" if use_cuda else "gloo")
    torch.manual_seed(0)
    x, y, _ = load_images("digits", "train")
    if args.tiny:
        x, y = x[:512], y[:512]
    model = models.small_cnn(image_size=8, channels=(8, 16), hidden=32).to(dev)
    cfg = TrainConfig(
        epochs=args.epochs,
        batch_size=64,
        method=args.method,
        eps=args.eps,
        attack_steps=3,
        optimizer="adam",
        lr_max=3e-3,
        weight_decay=0.0,
        val_size=0,
    )
    result = train(
        model, x, y, cfg, checkpoint=args.checkpoint, resume=args.resume, overwrite=not args.resume, progress=False
    )
    rank, world = _world()
    checksum = sum(float(p.double().sum()) for p in model.parameters())
    print(
        f"rank {rank}/{world}: train_loss={result.history[-1]['train_loss']:.4f} weights_checksum={checksum:.10f}",
        flush=True,
    )
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
