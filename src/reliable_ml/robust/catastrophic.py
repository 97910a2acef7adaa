"""Catastrophic overfitting watched as it happens: fast adversarial training with a PGD check every
few steps (Wong et al. 2020).

Each run trains with :func:`reliable_ml.robust.train.train` (FGSM or FGSM-RS, no ramp of eps)
and, every ``check_every`` optimizer steps and after the last one, measures

* ``pgd_acc``: accuracy under PGD-``check_steps`` (step ``2.5 eps / check_steps``, one random
  start from a generator seeded with the run's seed, so every check attacks with the same noise)
  at the *training* radius on a fixed held-out batch;
* ``clean_acc``: clean accuracy on the same batch;
* ``fgsm_train_acc``: accuracy on the attacked training batches of the steps since the previous
  check (the training attack's own view).

:func:`reliable_ml.robust.collapse.detect_collapse` reads collapse off the two curves. The runs are
cached under ``$RELIABLE_ML_CACHE/catastrophic_overfitting`` keyed by a fingerprint of their
settings and data.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict

import torch

from reliable_ml.robust import attacks
from reliable_ml.robust import train as rt
from reliable_ml.settings.training import TrainConfig
from reliable_ml.util.progress import tqdm

FORMAT = 2  # bump when what a cached run holds changes

# The defaults of Wong et al.'s released scripts, read from locuslab/fast_adversarial at commit
# 54f728755e71857b632882ba6d6cef22f56e2172. MNIST/train_mnist.py: FGSM-RS only (uniform start in the
# ball), eps 0.3, step 0.375, 10 epochs of the 60,000 training digits in batches of 100, Adam with a
# learning rate rising linearly to 5e-3 at 2/5 of the run and back to 0; no early stop. CIFAR10/train_fgsm.py:
# eps 8/255, step 10/255, 15 epochs, batch 128, SGD (momentum 0.9, weight decay 5e-4) with a cyclic
# learning rate to 0.2 peaking at half the run, ``--delta-init`` zero / random / previous, and an opt-in
# ``--early-stop`` (PGD-5 on the epoch's first batch; stop when its accuracy falls by more than 0.2).
WONG_MNIST = {
    "eps": 0.3,
    "alpha": 0.375,
    "epochs": 10,
    "train_size": 60_000,
    "batch": 100,
    "lr_max": 5e-3,
    "lr_peak_frac": 0.4,
    "steps": 6_000,
}
WONG_CIFAR = {
    "eps": 8 / 255,
    "alpha": 10 / 255,
    "epochs": 15,
    "batch": 128,
    "lr_max": 0.2,
    "lr_peak_frac": 0.5,
    "early_stop_drop": 0.2,
    "early_stop_pgd_steps": 5,
}


def recipe_scale_text(n_steps: int) -> str:
    """How far ``n_steps`` optimizer steps go into Wong et al.'s MNIST recipe (:data:`WONG_MNIST`)."""
    if n_steps < 1:
        raise ValueError(f"n_steps must be a positive number of optimizer steps; got {n_steps!r}")
    if n_steps >= WONG_MNIST["steps"]:
        return (
            f"{n_steps:,} steps are the recipe's full length ({WONG_MNIST['epochs']} epochs over all "
            f"{WONG_MNIST['train_size']:,} digits), so these runs end where Wong et al.'s do."
        )
    return (
        f"{n_steps:,} steps are {n_steps / WONG_MNIST['steps']:.2f} of the recipe's {WONG_MNIST['steps']:,}, an early "
        "stage of it, not its end point: what the full recipe reaches, and whether a run collapses later in it, this "
        "cpu run does not measure (Wong et al. release the model their full recipe trains, MNIST/models/fgsm.pth; the "
        "course does not load it)."
    )


def pgd_check(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, *, steps: int, seed: int) -> float:
    """The watched runs' PGD check: accuracy under PGD-``steps`` with step ``2.5 eps / steps`` from one
    random start drawn from a generator seeded with ``seed`` (so every check attacks with the same
    noise); ``x`` float in [0, 1] on the model's device."""
    gen = torch.Generator(device=x.device).manual_seed(seed)
    return attacks.robust_accuracy(model, x, y, eps, steps=steps, step_size=2.5 * eps / steps, generator=gen)


def watch_run(
    model: torch.nn.Module,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_check: torch.Tensor,
    y_check: torch.Tensor,
    cfg: TrainConfig,
    *,
    check_every: int,
    check_steps: int,
) -> dict:
    """Train ``model`` with ``cfg`` and return its per-check curves (see the module docstring):
    ``steps``, ``pgd_acc``, ``clean_acc``, ``fgsm_train_acc`` (in [0, 1]), ``eps`` and ``seconds``.
    ``x_check``: float images in [0, 1] on the model's device."""
    if check_every < 1 or check_steps < 1:
        raise ValueError(f"check_every and check_steps must be >= 1; got {check_every} and {check_steps}")
    total = cfg.epochs * -(-len(y_train) // cfg.batch_size)
    curves: dict = {"steps": [], "pgd_acc": [], "clean_acc": [], "fgsm_train_acc": [], "eps": []}
    window = [0, 0]  # correct, seen since the last check
    check_seconds = [0.0]

    def on_step(step: int, eps: float, logits: torch.Tensor, y: torch.Tensor) -> None:
        window[0] += int((logits.argmax(1) == y).sum())
        window[1] += len(y)
        if step % check_every and step != total:
            return
        t0 = time.perf_counter()
        curves["pgd_acc"].append(pgd_check(model, x_check, y_check, eps, steps=check_steps, seed=cfg.seed))
        curves["clean_acc"].append(attacks.accuracy(model, x_check, y_check))
        curves["fgsm_train_acc"].append(window[0] / window[1])
        curves["steps"].append(step)
        curves["eps"].append(eps)
        window[:] = [0, 0]
        check_seconds[0] += time.perf_counter() - t0

    fit = rt.train(model, x_train, y_train, cfg, on_step=on_step, progress=False)
    return curves | {"seconds": {"train_and_checks": round(fit.seconds, 1), "checks": round(check_seconds[0], 1)}}


def per_step_runs(
    make_model,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_check: torch.Tensor,
    y_check: torch.Tensor,
    arms: dict[str, TrainConfig],
    *,
    seeds: int,
    check_every: int,
    check_steps: int,
    model_name: str,
    cache: bool = True,
    progress: bool = False,
) -> dict:
    """One watched run (:func:`watch_run`) per arm and seed ``0 .. seeds - 1``.

    ``arms``: {label: TrainConfig} (the seed is replaced); ``make_model(seed)``: a fresh model on
    the device of the run; ``x_train`` uint8 (N, C, H, W); ``x_check`` uint8 or float in [0, 1].
    ``model_name`` names ``make_model`` in the cache key. Returns ``runs`` ({arm: {seed (str):
    curves}}), ``settings`` and ``seconds`` (wall and CPU of the cold run).
    """
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1; got {seeds}")
    if not arms:
        raise ValueError("arms is empty: need at least one TrainConfig")
    from reliable_ml.data import cache_dir
    from reliable_ml.util import cachestats

    xc = x_check.float() / 255 if x_check.dtype == torch.uint8 else x_check.float()
    settings = {
        "format": FORMAT,
        "arms": {label: asdict(cfg) | {"seed": None} for label, cfg in arms.items()},
        "seeds": seeds,
        "check_every": check_every,
        "check_steps": check_steps,
        "model": model_name,
        "n_train": len(y_train),
        "n_check": len(y_check),
    }
    h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for t in (x_train, y_train, xc, y_check):
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    path = cache_dir() / "catastrophic_overfitting" / f"steps-{h.hexdigest()[:16]}.json"
    n_models = len(arms) * seeds
    if cache and path.exists():
        cachestats.record("catastrophic_overfitting", hit=True, models=n_models)
        return json.loads(path.read_text())
    cachestats.record("catastrophic_overfitting", hit=False, models=n_models)
    t0, c0 = time.perf_counter(), time.process_time()
    runs: dict = {}
    jobs = [(label, cfg, seed) for label, cfg in arms.items() for seed in range(seeds)]
    for label, cfg, seed in tqdm(jobs, desc="watched fast adversarial training runs", disable=not progress):
        model = make_model(seed)
        dev = next(model.parameters()).device
        run_cfg = TrainConfig(**{**asdict(cfg), "seed": seed, "val_size": 0})
        runs.setdefault(label, {})[str(seed)] = watch_run(
            model,
            x_train,
            y_train,
            xc.to(dev),
            y_check.to(dev),
            run_cfg,
            check_every=check_every,
            check_steps=check_steps,
        )
    out = {
        "runs": runs,
        "settings": settings,
        "seconds": {"wall": round(time.perf_counter() - t0, 1), "cpu": round(time.process_time() - c0, 1)},
    }
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(out))
        os.replace(tmp, path)
    return out


def mnist_arms(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_check: torch.Tensor,
    y_check: torch.Tensor,
    *,
    eps: float,
    epochs: int,
    seeds: int,
    large_alpha: float,
    width: int,
    check_every: int,
    check_steps: int,
    only: str | None = None,
    progress: bool = False,
) -> dict:
    """Three arms after Wong et al. (:func:`reliable_ml.robust.train.co_arms`: FGSM from zero with step
    eps, FGSM-RS with 1.25 eps and ``large_alpha`` eps; their MNIST script runs FGSM-RS with 1.25 eps
    only, the zero start and the step comparison follow their CIFAR-10 script's ``--delta-init`` and
    ``--alpha``) on their MNIST network at width ``width``
    (:func:`reliable_ml.models.nets.small_cnn`, channels ``(w, 2w)``, hidden ``8w``, on raw pixels in
    [0, 1] with no input standardization, as their ``mnist_net``): Adam, one-cycle learning rate to
    5e-3, batch 100, no ramp of eps, each watched by :func:`per_step_runs` on CPU or the data's device
    and cached per arm (``only``: the label of the one arm to run; ``seconds``: the cold cost summed
    over the arms).

    The raw pixels matter: in trial runs for chapter 04 (seed 0), the same network behind a
    standardization layer (``(x - 0.1307) / 0.3081``, which scales the input and its gradient by about
    3.2) stayed near 0% PGD accuracy at eps = 0.3 with FGSM-RS, step 1.25 eps (1,000 steps with these
    settings; 1,500 steps with a peak learning rate of 1e-3), while its accuracy on its own FGSM
    batches climbed; on raw pixels seed 0 of the 1.25 eps and 2 eps arms became robust within 1,000
    steps (not every seed does: chapter 04 counts them)."""
    from reliable_ml.models import nets

    image_size, channels = x_train.shape[-1], x_train.shape[1]

    def make_model(seed: int) -> torch.nn.Module:
        torch.manual_seed(seed)
        return nets.small_cnn(
            in_channels=channels, image_size=image_size, channels=(width, 2 * width), hidden=8 * width, normalize=False
        )

    common = dict(epochs=epochs, batch_size=100, optimizer="adam", lr_max=5e-3, weight_decay=0.0, eps_ramp_epochs=0.0)
    arms = rt.co_arms(eps, large_alpha, **common)
    if only is not None and only not in arms:
        raise ValueError(f"unknown arm {only!r}; allowed: {list(arms)}")
    outs = [
        per_step_runs(
            make_model,
            x_train,
            y_train,
            x_check,
            y_check,
            {label: cfg},  # one cache entry per arm, so that arms can be built side by side
            seeds=seeds,
            check_every=check_every,
            check_steps=check_steps,
            model_name=f"small_cnn(width={width}, normalize=False)",
            progress=progress,
        )
        for label, cfg in arms.items()
        if only in (None, label)
    ]
    return {
        "runs": {label: by_seed for out in outs for label, by_seed in out["runs"].items()},
        "settings": [out["settings"] for out in outs],
        "seconds": {key: round(sum(out["seconds"][key] for out in outs), 1) for key in ("wall", "cpu")},
    }


def cifar_arm(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_check: torch.Tensor,
    y_check: torch.Tensor,
    *,
    eps: float,
    alpha: float,
    epochs: int,
    seeds: int,
    width: int,
    check_every: int,
    check_steps: int,
    progress: bool = False,
) -> dict:
    """Wong et al.'s failing CIFAR-10 setting in miniature: FGSM-RS with step ``alpha`` (they fail
    at 16/255 for eps = 8/255) on a PreActResNet-18 scaled to ``width`` (channels ``(w, 2w, 4w,
    8w)``), SGD with momentum 0.9, weight decay 5e-4, one-cycle learning rate to 0.2, batch 128,
    random crop and flip, no ramp of eps; watched by :func:`per_step_runs`. The learning rate peaks at
    2/5 of the run (:func:`reliable_ml.robust.train.train`'s schedule), where their CIFAR-10 script's
    peaks at half of it (:data:`WONG_CIFAR`)."""
    from reliable_ml.models import nets

    def make_model(seed: int) -> torch.nn.Module:
        torch.manual_seed(seed)
        return nets.preact_resnet18(width=width, in_channels=x_train.shape[1])

    cfg = TrainConfig(
        method="fgsm_rs",
        eps=eps,
        step_size=alpha,
        epochs=epochs,
        batch_size=128,
        optimizer="sgd",
        lr_max=0.2,
        momentum=0.9,
        weight_decay=5e-4,
        augment=True,
        eps_ramp_epochs=0.0,
    )
    return per_step_runs(
        make_model,
        x_train,
        y_train,
        x_check,
        y_check,
        {f"FGSM-RS, step {alpha / eps:g} eps": cfg},
        seeds=seeds,
        check_every=check_every,
        check_steps=check_steps,
        model_name=f"preact_resnet18(width={width})",
        progress=progress,
    )


def random_subset(n_total: int, k: int, seed: int) -> torch.Tensor:
    """``k`` distinct indices of ``range(n_total)`` drawn by a CPU generator seeded with ``seed``
    (a seeded random sample, not the first ``k``: the JPEG copy of CIFAR-10 is stored by class)."""
    if not 1 <= k <= n_total:
        raise ValueError(f"k must be in [1, n_total = {n_total}]; got {k}")
    return torch.randperm(n_total, generator=torch.Generator().manual_seed(seed))[:k]
