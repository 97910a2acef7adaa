r"""Robust self-training (RST, Carmon et al. 2019): labeled data + pseudo-labeled unlabeled data.

Three steps:

1. :func:`split_labeled` withholds labels: a (class-balanced) labeled subset and an unlabeled pool.
2. A standard model trained on the labeled part labels the pool (:func:`pseudo_label`):
   :math:`\tilde y_i = \arg\max_k f(\tilde x_i)_k`, optionally keeping only examples whose
   softmax confidence :math:`\max_k p_k(\tilde x_i)` is at least a threshold.
3. :func:`train_rst` adversarially trains (PGD, Madry et al. 2018) on labeled + pseudo-labeled
   data. Every batch of size :math:`B` holds :math:`\lceil fB\rceil` pseudo-labeled examples
   (``unlabeled_fraction`` :math:`f`, Carmon et al.'s ``unsup_fraction``, default 0.5) and the
   rest labeled, each stream drawn from its own reshuffled permutation. The loss is

   .. math:: L = \frac{\sum_{i \in \text{lab}} \ell_i + w \sum_{j \in \text{pseudo}} \ell_j}
                     {|\text{lab}| + w\,|\text{pseudo}|},\qquad
             \ell_i = \mathrm{CE}\big(f(x_i + \delta_i), y_i\big)

   with :math:`\delta_i` the PGD perturbation. With :math:`w = 1` (default) and :math:`f = 0.5`
   this is the plain batch mean over a half-and-half batch, as in the authors' code; Carmon
   et al.'s objective (their Eq. for :math:`L_{\rm RST}`) puts weight :math:`w` on the pseudo-
   labeled standard loss and uses TRADES; we implement the adversarial-training variant
   (their RST\ :sub:`adv`), with :math:`w` on the pseudo-labeled robust loss.

The same function trains every arm of the comparison: labeled only (no pool), RST (pool with
pseudo-labels) and the ceiling (pool with its true labels), with the same number of steps.
It reuses :mod:`reliable_ml.robust.train`'s schedule, training attack and augmentation.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from reliable_ml.robust import attacks
from reliable_ml.robust import train as rt
from reliable_ml.util import result_cache
from reliable_ml.util.progress import tqdm


def split_labeled(
    y: torch.Tensor, n_labeled: int, n_unlabeled: int | None = None, *, seed: int = 0, balanced: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random indices ``(idx_labeled (n_labeled,), idx_unlabeled (n_unlabeled,))``, disjoint.

    ``balanced``: ``n_labeled // K`` per class (the remainder spread over the first classes),
    as usual in semi-supervised benchmarks. ``n_unlabeled=None`` puts every other example in
    the pool. Raises ``ValueError`` when more labels (or pool examples) are requested than exist,
    or when the labeled set or the pool would be empty.
    """
    n = len(y)
    if n == 0:
        raise ValueError("cannot split an empty dataset: the pool is empty")
    if int(n_labeled) != n_labeled or n_labeled < 1:
        raise ValueError(f"n_labeled must be an integer >= 1; got {n_labeled!r}")
    if n_labeled >= n:
        raise ValueError(
            f"requested {n_labeled} labeled examples but only {n} exist (at least one must stay in the unlabeled pool)"
        )
    rest = n - n_labeled
    if n_unlabeled is None:
        n_unlabeled = rest
    if int(n_unlabeled) != n_unlabeled or n_unlabeled < 1:
        raise ValueError(
            f"n_unlabeled must be an integer >= 1 (an empty pool cannot be self-trained on); got {n_unlabeled!r}"
        )
    if n_unlabeled > rest:
        raise ValueError(
            f"requested {n_unlabeled} unlabeled examples but only {rest} remain after "
            f"taking {n_labeled} labeled ones out of {n}"
        )
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=gen)
    if balanced:
        y_perm = y.cpu()[perm]
        classes = torch.unique(y_perm)
        per_class = [n_labeled // len(classes) + (k < n_labeled % len(classes)) for k in range(len(classes))]
        picked = []
        for c, m in zip(classes, per_class):
            members = perm[y_perm == c]
            if m > len(members):
                raise ValueError(
                    f"class {int(c)} has {len(members)} examples but {m} labels were requested "
                    f"from it; use balanced=False or fewer labels"
                )
            picked.append(members[:m])
        idx_lab = torch.cat(picked)
        mask = torch.ones(n, dtype=torch.bool)
        mask[idx_lab] = False
        idx_pool = perm[mask[perm]]
        idx_lab = idx_lab[torch.randperm(len(idx_lab), generator=gen)]
    else:
        idx_lab, idx_pool = perm[:n_labeled], perm[n_labeled:]
    return idx_lab, idx_pool[:n_unlabeled]


@torch.no_grad()
def pseudo_label(
    model: nn.Module, x: torch.Tensor, *, threshold: float = 0.0, batch_size: int = 1000
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Label ``x`` (uint8 (N, C, H, W) or float in [0, 1]) with ``model``'s argmax.

    Returns ``(labels (N,) int64, confidence (N,) float = max softmax probability, keep (N,)
    bool = confidence >= threshold)``; the model runs in eval mode (its mode is restored).
    ``threshold`` must lie in [0, 1] (0 keeps everything).
    """
    if not (isinstance(threshold, (int, float)) and 0.0 <= threshold <= 1.0):
        raise ValueError(f"threshold must be a number in [0, 1]; got {threshold!r}")
    if len(x) == 0:
        raise ValueError("nothing to pseudo-label: the unlabeled pool is empty")
    dev = next(model.parameters()).device
    labels, conf = [], []
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        for i in range(0, len(x), batch_size):
            xb = x[i : i + batch_size].to(dev)
            xb = xb.float() / 255 if xb.dtype == torch.uint8 else xb.float()
            probs = F.softmax(model(xb).float(), dim=1)  # (B, K)
            c, k = probs.max(1)
            labels.append(k.cpu())
            conf.append(c.cpu())
    finally:
        for m, mode in modes.items():
            m.train(mode)
    labels, conf = torch.cat(labels), torch.cat(conf)
    return labels, conf, conf >= threshold


def train_rst(
    model: nn.Module,
    x_lab: torch.Tensor,
    y_lab: torch.Tensor,
    cfg: rt.TrainConfig,
    *,
    x_pseudo: torch.Tensor | None = None,
    y_pseudo: torch.Tensor | None = None,
    unlabeled_fraction: float = 0.5,
    unlabeled_weight: float = 1.0,
    steps_per_epoch: int | None = None,
    x_select: torch.Tensor | None = None,
    y_select: torch.Tensor | None = None,
    select_every: int | None = None,
    patience: int | None = None,
    select_steps: int = 10,
    progress: bool = True,
) -> rt.TrainResult:
    """Adversarially train ``model`` in place on labeled + pseudo-labeled uint8 images (see module doc).

    ``cfg`` supplies epochs, batch size, method (``pgd`` | ``fgsm_rs`` | ``standard``), eps,
    attack steps and step size, optimizer, LR schedule and augmentation. ``steps_per_epoch``
    defaults to ``ceil((n_lab + n_pseudo) / batch_size)``; pass the same value to every arm for
    equal compute. Without a pool, every batch is labeled.

    Held-out selection and early stopping (Rice et al. 2020), with ``x_select`` (uint8 held-out
    *training* images, never trained on) and ``select_every``: every ``select_every`` SGD steps, and
    after the last, :func:`reliable_ml.robust.train.heldout_check` measures PGD-``select_steps``
    accuracy on them (``cfg.eps``, seed ``cfg.seed``); training stops when
    :func:`reliable_ml.robust.train.stop_early` says the last ``patience`` checks did not improve,
    and the model ends with the weights of the best check. The LR schedule still spans every
    planned step (stopping truncates it, as an interrupted run would). ``history`` gets one row
    per check (``step``, ``val_clean_acc``, ``val_robust_acc``); ``best_step`` and
    ``stopped_step`` say which weights were kept and when training ended.
    """
    if x_lab.dtype != torch.uint8 or x_lab.ndim != 4 or len(x_lab) != len(y_lab) or len(x_lab) == 0:
        raise ValueError(
            f"x_lab must be uint8 (N, C, H, W), N >= 1, with N labels; got {x_lab.dtype} "
            f"{tuple(x_lab.shape)} and {len(y_lab)} labels"
        )
    has_pool = x_pseudo is not None
    if has_pool:
        if y_pseudo is None or len(x_pseudo) != len(y_pseudo) or x_pseudo.dtype != torch.uint8:
            raise ValueError("x_pseudo must be uint8 with one label per image in y_pseudo")
        if len(x_pseudo) == 0:
            raise ValueError("the pseudo-labeled pool is empty")
        if not 0.0 < unlabeled_fraction < 1.0:
            raise ValueError(f"unlabeled_fraction must lie in (0, 1); got {unlabeled_fraction}")
    if not unlabeled_weight >= 0:
        raise ValueError(f"unlabeled_weight must be >= 0; got {unlabeled_weight}")
    selecting = x_select is not None
    if selecting:
        if y_select is None or len(x_select) != len(y_select) or len(x_select) == 0 or x_select.dtype != torch.uint8:
            raise ValueError("x_select must be uint8 held-out images, at least one, with one label each in y_select")
        if select_every is None or int(select_every) != select_every or select_every < 1:
            raise ValueError(f"select_every must be an integer >= 1 when x_select is given; got {select_every!r}")
    dev = next(model.parameters()).device
    b_unl = math.ceil(unlabeled_fraction * cfg.batch_size) if has_pool else 0
    b_lab = cfg.batch_size - b_unl
    n_total = len(x_lab) + (len(x_pseudo) if has_pool else 0)
    steps = steps_per_epoch or math.ceil(n_total / cfg.batch_size)
    opt = (
        torch.optim.SGD(model.parameters(), lr=0.0, momentum=cfg.momentum, weight_decay=cfg.weight_decay, nesterov=True)
        if cfg.optimizer == "sgd"
        else torch.optim.Adam(model.parameters(), lr=0.0, weight_decay=cfg.weight_decay)
    )
    gen = torch.Generator(device=dev).manual_seed(cfg.seed)
    streams = [(x_lab.to(dev), y_lab.to(dev), b_lab, 1.0)]
    if has_pool:
        streams.append((x_pseudo.to(dev), y_pseudo.to(dev), b_unl, float(unlabeled_weight)))
    cursors = [[torch.randperm(len(s[0]), generator=gen, device=dev), 0] for s in streams]

    def draw(k: int) -> torch.Tensor:
        """Next ``streams[k][2]`` indices of stream ``k``, reshuffling when it runs out."""
        perm, pos = cursors[k]
        want, out = streams[k][2], []
        while want > 0:
            if pos >= len(perm):
                perm, pos = torch.randperm(len(streams[k][0]), generator=gen, device=dev), 0
            take = perm[pos : pos + want]
            out.append(take)
            pos, want = pos + len(take), want - len(take)
        cursors[k] = [perm, pos]
        return torch.cat(out)

    cuda = dev.type == "cuda"
    if cuda:  # as in robust_train.train: bf16 autocast and channels_last on CUDA only
        model.to(memory_format=torch.channels_last)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda)
    result = rt.TrainResult()
    if selecting:
        xv, yv = x_select.to(dev).float() / 255, y_select.to(dev)
    scores: list[float] = []
    best_state: dict | None = None
    total_steps, stop = cfg.epochs * steps, False
    bar = tqdm(
        total=cfg.epochs * steps,
        desc=f"{cfg.method} training ({'pool' if has_pool else 'labeled'})",
        disable=not progress,
    )
    for epoch in range(cfg.epochs):
        t0 = time.perf_counter()
        model.train()
        loss_sum = correct = seen = 0.0
        for i in range(steps):
            t = epoch + i / steps
            for g in opt.param_groups:
                g["lr"] = rt.learning_rate(cfg, t)
            parts = [
                (s[0][idx].float() / 255, s[1][idx], torch.full((len(idx),), s[3], device=dev))
                for k, s in enumerate(streams)
                for idx in [draw(k)]
                if s[2] > 0
            ]
            xb = torch.cat([p[0] for p in parts])
            yb = torch.cat([p[1] for p in parts])
            weight = torch.cat([p[2] for p in parts])  # (B,) 1 for labeled, w for pseudo
            if cfg.augment:
                xb = rt.random_crop_flip(xb, gen)
            if cuda:
                xb = xb.contiguous(memory_format=torch.channels_last)
            eps = rt.epsilon_at(cfg, t)
            with autocast:
                if cfg.method != "standard" and eps > 0:
                    n_steps = cfg.attack_steps if cfg.method == "pgd" else 1
                    xb = rt.perturb(model, xb, yb, eps, cfg.alpha * eps / cfg.eps, n_steps, gen)
                logits = model(xb).float()
                ce = F.cross_entropy(logits, yb, reduction="none")  # (B,)
                loss = (weight * ce).sum() / weight.sum().clamp_min(1e-12)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += float(loss.detach()) * len(yb)
            correct += float((logits.argmax(1) == yb).sum())
            seen += len(yb)
            bar.update(1)
            done = epoch * steps + i + 1
            if selecting and (done % select_every == 0 or done == total_steps):
                check = rt.heldout_check(model, xv, yv, cfg.eps, select_steps, cfg.seed)
                model.train()
                scores.append(check["val_robust_acc"])
                result.history.append({"step": done, **check})
                if best_state is None or scores[-1] > max(scores[:-1]):
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                    result.best_step = done
                if rt.stop_early(scores, patience):
                    stop = True
                    break
        result.seconds += time.perf_counter() - t0
        result.history.append(
            {"epoch": epoch + 1, "train_loss": loss_sum / seen, "train_acc": correct / seen, "seconds": result.seconds}
        )
        if stop:
            break
    bar.close()
    if selecting:
        result.stopped_step = max(r["step"] for r in result.history if "step" in r)
        model.load_state_dict(best_state)
    model.eval()
    return result


ARMS = ("labeled_only", "rst", "ceiling")


def compare(
    make_model,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    *,
    n_labeled: int,
    n_unlabeled: int | None,
    standard_cfg: rt.TrainConfig,
    robust_cfg: rt.TrainConfig,
    standard_steps: int,
    robust_steps: int,
    eval_steps: int = 20,
    eval_restarts: int = 1,
    threshold: float = 0.0,
    unlabeled_fraction: float = 0.5,
    unlabeled_weight: float = 1.0,
    seed: int = 0,
    progress: bool = False,
    return_labeler: bool = False,
    x_select: torch.Tensor | None = None,
    y_select: torch.Tensor | None = None,
    select_every: int | None = None,
    patience: int | None = None,
    select_steps: int = 10,
    early_stop_arms: tuple[str, ...] = ("labeled_only",),
    evaluator=None,
) -> dict:
    """The RST experiment: split, pseudo-label, then three adversarially trained arms at equal steps.

    ``make_model()`` returns a fresh model on the target device. ``x_train`` uint8 (N, C, H, W);
    ``x_test`` float in [0, 1] on that device. Arms: ``labeled_only`` (robust training on the
    labeled part), ``rst`` (labeled + pool with pseudo-labels of a standard model trained on the
    labeled part), ``ceiling`` (labeled + the same pool with its true labels); each gets
    ``robust_steps`` SGD steps of ``robust_cfg`` (one "epoch" of that many steps). Robust
    accuracy: PGD-``eval_steps`` (step ``2.5 eps / steps``, ``eval_restarts`` restarts, L-inf
    ``robust_cfg.eps``) on all of ``x_test``. Returns a dict of plain numbers, except each arm's
    ``robust_correct`` (bool per test image, for paired comparisons between arms) and, with
    ``return_labeler``, the pseudo-labeling model under ``"labeler"``.

    With ``x_select`` (uint8 held-out training images, disjoint from ``x_train``, which the caller
    guarantees: :func:`reliable_ml.robust.train.heldout_split`), the arms in ``early_stop_arms``
    check held-out PGD-``select_steps`` accuracy every ``select_every`` steps, stop early after
    ``patience`` checks without improvement and keep their best check's weights
    (:func:`train_rst`); each such arm reports ``selection`` (``best_step``, ``stopped_step``,
    ``planned_steps``, the per-check ``checks``). ``evaluator(model) -> dict`` replaces the
    PGD evaluation (it must return ``clean_acc``, ``robust_acc`` and ``robust_correct``; the
    entry point passes :func:`reliable_ml.robust.train.evaluate`'s suite); ``attack`` then says so.
    """
    unknown = set(early_stop_arms) - set(ARMS)
    if unknown:
        raise ValueError(f"early_stop_arms {sorted(unknown)} unknown; allowed: {', '.join(ARMS)}")
    idx_lab, idx_pool = split_labeled(y_train, n_labeled, n_unlabeled, seed=seed)
    x_lab, y_lab = x_train[idx_lab], y_train[idx_lab]
    x_pool, y_pool_true = x_train[idx_pool], y_train[idx_pool]
    one_epoch = lambda cfg: dataclasses.replace(cfg, epochs=1)  # noqa: E731 - the step count is set below
    eps = robust_cfg.eps

    def pgd_evaluate(model) -> dict:
        gen = torch.Generator(device=x_test.device).manual_seed(seed)
        ok = attacks.robust_correct(
            model,
            x_test,
            y_test,
            eps,
            steps=eval_steps,
            step_size=2.5 * eps / eval_steps,
            restarts=eval_restarts,
            generator=gen,
        )
        return {
            "clean_acc": attacks.accuracy(model, x_test, y_test),
            "robust_acc": int(ok.sum()) / len(ok),
            "robust_correct": ok.cpu(),
        }

    out: dict = {
        "n_labeled": len(idx_lab),
        "n_unlabeled": len(idx_pool),
        "epsilon": eps,
        "attack": f"PGD-{eval_steps}, step 2.5*eps/{eval_steps}, {eval_restarts} restart(s), L-inf "
        f"eps {eps:.4g}, on {len(y_test):,} test images"
        if evaluator is None
        else "the evaluation suite passed as evaluator (see its protocol)",
        "train_attack": f"{robust_cfg.method}" + (f"-{robust_cfg.attack_steps}" if robust_cfg.method == "pgd" else ""),
        "robust_steps": robust_steps,
        "batch_size": robust_cfg.batch_size,
        "unlabeled_fraction": unlabeled_fraction,
        "unlabeled_weight": unlabeled_weight,
        "threshold": threshold,
    }
    # 1. standard model on the labeled part -> pseudo-labels for the pool
    t0 = time.perf_counter()
    labeler = make_model()
    train_rst(labeler, x_lab, y_lab, one_epoch(standard_cfg), steps_per_epoch=standard_steps, progress=progress)
    y_pseudo, conf, keep = pseudo_label(labeler, x_pool, threshold=threshold)
    out["labeler_clean_acc"] = attacks.accuracy(labeler, x_test, y_test)
    out["pseudo_label_acc"] = float((y_pseudo == y_pool_true).float().mean())
    out["pseudo_label_acc_kept"] = float((y_pseudo[keep] == y_pool_true[keep]).float().mean()) if keep.any() else None
    out["n_pseudo_kept"] = int(keep.sum())
    out["labeler_seconds"] = time.perf_counter() - t0
    if not keep.any():
        raise ValueError(f"no pool example reaches the confidence threshold {threshold}; lower it")
    # 2. three robust arms, the same number of steps each
    pools = {"labeled_only": (None, None), "rst": (x_pool[keep], y_pseudo[keep]), "ceiling": (x_pool, y_pool_true)}
    for arm in ARMS:
        model = make_model()
        t0 = time.perf_counter()
        xp, yp = pools[arm]
        select = x_select is not None and arm in early_stop_arms
        fit = train_rst(
            model,
            x_lab,
            y_lab,
            one_epoch(robust_cfg),
            x_pseudo=xp,
            y_pseudo=yp,
            unlabeled_fraction=unlabeled_fraction,
            unlabeled_weight=unlabeled_weight,
            steps_per_epoch=robust_steps,
            x_select=x_select if select else None,
            y_select=y_select if select else None,
            select_every=select_every,
            patience=patience,
            select_steps=select_steps,
            progress=progress,
        )
        secs = time.perf_counter() - t0
        out[arm] = {**(evaluator or pgd_evaluate)(model), "train_seconds": secs}
        if select:
            out[arm]["selection"] = {
                "best_step": fit.best_step,
                "stopped_step": fit.stopped_step,
                "planned_steps": robust_steps,
                "checks": [r for r in fit.history if "step" in r],
            }
    if return_labeler:
        out["labeler"] = labeler
    return out


def compare_cached(make_model, x_train, y_train, x_test, y_test, *, cache: bool = True, **kwargs) -> dict:
    """:func:`compare`, kept in the result cache (:mod:`reliable_ml.util.result_cache`).

    The key holds every keyword argument, the data, a fresh ``make_model()``'s weights (the
    architecture and its seed) and the code of this module, the attacks and the training loop. With
    ``return_labeler`` the pseudo-labeling model is saved as its weights and rebuilt with
    ``make_model()`` on a hit. An ``evaluator`` (a function) cannot be keyed: pass ``cache=False``.
    """
    if kwargs.get("evaluator") is not None and cache:
        raise ValueError("compare_cached cannot key an evaluator function; pass cache=False to run compare as is")
    return_labeler = kwargs.get("return_labeler", False)
    fresh = make_model()
    settings = {
        "function": "compare",
        "model": repr(fresh),
        "device": x_test.device.type,
        **{
            k: (dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v)
            for k, v in kwargs.items()
            if k != "progress"
        },
    }
    tensors = [x_train, y_train, x_test, y_test, *[p.detach() for p in fresh.state_dict().values()]]
    tensors += [t for t in (kwargs.get("x_select"), kwargs.get("y_select")) if t is not None]
    settings.pop("x_select", None)
    settings.pop("y_select", None)

    def build() -> dict:
        out = compare(make_model, x_train, y_train, x_test, y_test, **kwargs)
        if return_labeler:
            out["labeler"] = {k: v.detach().cpu() for k, v in out["labeler"].state_dict().items()}
        return out

    out = result_cache.cached(
        "rst_compare",
        settings,
        build,
        tensors=tensors,
        code=(sys.modules[__name__], attacks, rt),
        models=4,
        enabled=cache,
    )
    out = dict(out)
    if return_labeler:
        labeler = make_model()
        labeler.load_state_dict(out["labeler"])
        out["labeler"] = labeler.eval()
    return out


def steps_for(n: int, batch_size: int, *, min_steps: int, min_epochs: float) -> int:
    """SGD steps for a training set of ``n``: at least ``min_steps``, and at least ``min_epochs``
    passes over the data, so a large set is not left underfit by a step count tuned for a small one."""
    if n < 1 or batch_size < 1 or min_steps < 1 or min_epochs < 0:
        raise ValueError(
            f"need n, batch_size, min_steps >= 1 and min_epochs >= 0; got {n}, {batch_size}, {min_steps}, {min_epochs}"
        )
    return max(int(min_steps), math.ceil(min_epochs * n / batch_size))


def size_sweep(
    make_model,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    *,
    sizes,
    configs: dict[str, rt.TrainConfig],
    seeds: int,
    min_steps: int,
    min_epochs: float,
    eval_steps: int,
    n_eval_train: int,
    n_classes: int = 10,
    progress: bool = False,
    cache: bool = True,
) -> list[dict]:
    """Accuracy against the number of labeled training images (Schmidt et al. 2018's question on images).

    For every size ``n``, training label (``configs``: label -> one-"epoch" config, e.g. standard and
    PGD) and seed in ``0 .. seeds - 1``: a class-balanced random subset (balanced once ``n >= 10 K``),
    a fresh ``make_model(seed)`` trained for :func:`steps_for` steps, then clean and PGD-``eval_steps``
    accuracy (L-inf, the config's eps, step 2.5 eps / steps) on the first ``n_eval_train`` training
    images of the subset and on ``x_test`` (float in [0, 1]). Returns one row per model.

    With ``cache`` each model's row is kept in the result cache (:mod:`reliable_ml.util.result_cache`),
    keyed by its settings, data, initial weights and the code of this module, the attacks and the
    training loop, so a warm re-run trains nothing.
    """
    rows = []
    jobs = [(n, label, seed) for n in sizes for label in configs for seed in range(seeds)]
    for n, label, seed in tqdm(
        jobs, desc="train and attack one model per (size, training, seed)", disable=not progress
    ):
        cfg = dataclasses.replace(configs[label], seed=seed, epochs=1)
        idx, _ = split_labeled(y_train, n, seed=seed, balanced=n >= 10 * n_classes)
        x_n, y_n = x_train[idx], y_train[idx]
        model = make_model(seed)
        steps = steps_for(n, cfg.batch_size, min_steps=min_steps, min_epochs=min_epochs)

        def one_model(model=model, cfg=cfg, x_n=x_n, y_n=y_n, steps=steps, seed=seed, n=n, label=label):
            train_rst(model, x_n, y_n, cfg, steps_per_epoch=steps, progress=False)
            dev = x_test.device
            x_fit, y_fit = x_n[:n_eval_train].to(dev).float() / 255, y_n[:n_eval_train].to(dev)

            def pgd_acc(x, y):
                return attacks.robust_accuracy(
                    model,
                    x,
                    y,
                    cfg.eps,
                    steps=eval_steps,
                    step_size=2.5 * cfg.eps / eval_steps,
                    generator=torch.Generator(device=dev).manual_seed(seed),
                )

            return {
                "n_train": n,
                "training": label,
                "seed": seed,
                "steps": steps,
                "epochs": steps * cfg.batch_size / n,
                "clean train": attacks.accuracy(model, x_fit, y_fit),
                "robust train": pgd_acc(x_fit, y_fit),
                "clean test": attacks.accuracy(model, x_test, y_test),
                "robust test": pgd_acc(x_test, y_test),
            }

        # the fresh model's weights (architecture, width and seed) are part of the key
        settings = {
            "config": dataclasses.asdict(cfg),
            "n": n,
            "label": label,
            "steps": steps,
            "eval_steps": eval_steps,
            "n_eval_train": n_eval_train,
            "model": repr(model),
            "device": x_test.device.type,
        }
        initial = [p.detach() for p in model.state_dict().values()]
        rows.append(
            result_cache.cached(
                "size_sweep",
                settings,
                one_model,
                tensors=[x_n, y_n, x_test, y_test, *initial],
                code=(sys.modules[__name__], attacks, rt),
                enabled=cache,
            )
        )
    return rows
