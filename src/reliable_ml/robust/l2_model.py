r"""The course's L2-robust MNIST model: trained once by PGD-L2 adversarial training, evaluated, cached.

Tsipras et al. (2019) and Santurkar et al. (2019) draw their "robust models see the object"
pictures from models trained to be robust in :math:`L_2`, attacked in :math:`L_2`. The course's
shared robust model (:mod:`reliable_ml.robust.shared_model`) is trained in :math:`L_\infty`; a
large targeted :math:`L_2` attack on it fails (chapter 10). This module trains the matching kind
of model, once, and caches it under ``$RELIABLE_ML_CACHE/l2_robust_model/<dataset>-<fingerprint>/``
(the fingerprint hashes the recipe version, the settings row, the data set, the radius and the
image bytes; a lock makes chapters side by side build it once).

**Recipe** (Madry et al. 2018, in :math:`L_2`, scaled to a CPU). The small CNN of Wong, Rice &
Kolter (2020) (normalization its first layer, inputs in [0, 1]) trained by

.. math:: \min_\theta\; \mathbb{E}_{(x,y)} \max_{\|\delta\|_2 \le \epsilon,\ x+\delta \in [0,1]^d}
          L(f_\theta(x+\delta), y),

the inner maximum by ``attack_steps`` steps of :math:`L_2` PGD from a uniform random point of the
ball (step :math:`2.5\,\epsilon/\text{steps}` along :math:`g/\|g\|_2`, :func:`reliable_ml.robust.attacks.pgd`
with its last iterate), then an Adam step on the attacked batch (Danskin's theorem). The radius
grows linearly from 0 over ``eps_ramp_epochs`` epochs; the learning rate follows a one-cycle
schedule. :math:`\epsilon = 2` is the radius used for :math:`L_2`-robust MNIST models in the
literature (e.g. Croce & Hein 2020, AutoAttack's MNIST :math:`L_2` evaluations; quoted from the
papers as we read them, not re-checked for this course); the settings table
:mod:`reliable_ml.settings.l2_robust_model` holds it.

**Worst case**, on ``n_eval`` test images drawn at random (seeded): an image counts as robust only
if it survives every attack, each at radius :math:`\epsilon`: :math:`L_2` PGD with ``pgd_steps``
steps and ``pgd_restarts`` restarts (worst iterate kept), torchattacks' APGD-CE in :math:`L_2`
(Croce & Hein 2020, an independent implementation) with ``apgd_steps`` iterations, and the
gradient-free step toward the nearest training image of each other class
(:func:`reliable_ml.robust.targeted_gate.nearest_other_class`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from reliable_ml.robust import attacks
from reliable_ml.robust import shared_model as sm
from reliable_ml.robust import targeted_gate as tg
from reliable_ml.util import cachelock, cachestats
from reliable_ml.util.progress import tqdm

RECIPE_VERSION = 1


def settings_row(profile: str):
    from reliable_ml.settings.l2_robust_model import TABLE

    if profile not in TABLE:
        raise ValueError(f"unknown profile {profile!r}; allowed: {', '.join(TABLE)}")
    return TABLE[profile]


def fingerprint(row, dataset: str, eps: float, x_train: torch.Tensor, x_test: torch.Tensor) -> str:
    """Hash of the recipe version, the settings row, the data set, the radius and the image bytes."""
    h = hashlib.sha256(
        json.dumps(
            {"v": RECIPE_VERSION, "kind": "l2", "row": dataclasses.asdict(row), "dataset": dataset, "eps": eps},
            sort_keys=True,
        ).encode()
    )
    for x in (x_train, x_test):
        h.update(str(tuple(x.shape)).encode())
        h.update(x.contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def cache_folder(dataset: str, fp: str) -> Path:
    from reliable_ml.data import cache_dir

    return cache_dir() / "l2_robust_model" / f"{dataset}-{fp}"


def recipe_text(row, eps: float, n_train: int) -> str:
    return (
        f"small CNN (Wong et al. 2020), PGD-L2 adversarial training (Madry et al. 2018, in L2): {row.epochs} epochs "
        f"on {n_train:,} training images, L2 PGD-{row.attack_steps} from a random start (step 2.5 eps / "
        f"{row.attack_steps}) at L2 eps {eps:g}, eps ramped up over {row.eps_ramp_epochs:g} epochs, Adam with a "
        f"one-cycle learning rate (peak {row.lr_max:g}), batch {row.batch_size}"
    )


def train_l2(
    model: nn.Module,
    x_uint8: torch.Tensor,
    y: torch.Tensor,
    *,
    eps: float,
    epochs: int,
    attack_steps: int,
    eps_ramp_epochs: float,
    lr_max: float,
    batch_size: int,
    seed: int,
    progress: bool = False,
) -> list[dict]:
    """PGD-L2 adversarial training of ``model`` in place (module docstring); returns one dict per
    epoch (``epoch``, ``eps`` at its end, ``train_loss``, ``train_robust_acc`` on the attacked batches)."""
    if x_uint8.dtype != torch.uint8 or x_uint8.ndim != 4 or len(x_uint8) != len(y):
        raise ValueError(f"x must be uint8 (N, C, H, W) with N labels; got {x_uint8.dtype} {tuple(x_uint8.shape)}")
    if not eps > 0:
        raise ValueError(f"eps must be > 0; got {eps}")
    dev = next(model.parameters()).device
    gen = torch.Generator(device=dev).manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=0.0)
    n, history = len(y), []
    per_epoch = -(-n // batch_size)
    bar = tqdm(total=epochs * per_epoch, desc="PGD-L2 training", disable=not progress, leave=False)
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1000 + epoch))
        loss_sum = correct = 0.0
        for i in range(per_epoch):
            t = epoch + i / per_epoch
            frac = t / epochs
            lr = lr_max * (frac / 0.4 if frac < 0.4 else max(0.0, (1 - frac) / 0.6))
            for g in opt.param_groups:
                g["lr"] = lr
            idx = perm[i * batch_size : (i + 1) * batch_size]
            xb, yb = x_uint8[idx].to(dev).float() / 255, y[idx].to(dev)
            e = eps if eps_ramp_epochs <= 0 else eps * min(1.0, t / eps_ramp_epochs)
            if e > 0:
                xb, _ = attacks.pgd(model, xb, yb, e, norm="l2", steps=attack_steps, generator=gen, keep_best=False)
            model.train()
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += float(loss.detach()) * len(yb)
            correct += float((logits.argmax(1) == yb).sum())
            bar.update(1)
        history.append(
            {
                "epoch": epoch + 1,
                "eps": eps * min(1.0, (epoch + 1) / max(eps_ramp_epochs, 1e-12)),
                "train_loss": loss_sum / n,
                "train_robust_acc": correct / n,
            }
        )
    bar.close()
    return history


def evaluate_l2(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    pgd_steps: int,
    pgd_restarts: int,
    apgd_steps: int,
    seed: int = 0,
    batch_size: int = 250,
) -> dict:
    """Per-image correctness (bool numpy (N,)) clean and under each attack of the worst case
    (module docstring), at L2 radius ``eps``: ``{"clean", "pgd", "apgd-ce", "nearest-image"}``,
    each already and-ed with ``clean``."""
    import torchattacks

    dev = x.device
    gen = torch.Generator(device=dev).manual_seed(seed)
    out = {k: [] for k in ("clean", "pgd", "apgd-ce", "nearest-image")}
    apgd = torchattacks.APGD(model, norm="L2", eps=eps, steps=apgd_steps, n_restarts=1, loss="ce", seed=seed)
    for i in range(0, len(y), batch_size):
        xb, yb = x[i : i + batch_size], y[i : i + batch_size]
        with torch.no_grad(), attacks._EvalMode(model):
            clean = (model(xb).argmax(1) == yb).cpu().numpy()
        _, fooled = attacks.pgd(model, xb, yb, eps, norm="l2", steps=pgd_steps, restarts=pgd_restarts, generator=gen)
        with attacks._EvalMode(model):
            xa = apgd(xb, yb)
        with torch.no_grad(), attacks._EvalMode(model):
            apgd_ok = (model(xa).argmax(1) == yb).cpu().numpy()
        free = tg.nearest_other_class(model, xb, yb, x_train, y_train, eps)
        out["clean"].append(clean)
        out["pgd"].append(clean & ~fooled.cpu().numpy())
        out["apgd-ce"].append(clean & apgd_ok)
        out["nearest-image"].append(clean & ~free)
    return {k: np.concatenate(v) for k, v in out.items()}


def _build(row, train, test, used: str, eps: float, fp: str, progress: bool) -> tuple[nn.Module, dict]:
    x_tr, y_tr = train.x, train.y
    if row.train_size:
        x_tr, y_tr = x_tr[: row.train_size], y_tr[: row.train_size]
    size = test.x.shape[-1]
    t0, c0 = time.perf_counter(), time.process_time()
    model = sm.make_model(size, row.seed)
    history = train_l2(
        model,
        x_tr,
        y_tr,
        eps=eps,
        epochs=row.epochs,
        attack_steps=row.attack_steps,
        eps_ramp_epochs=row.eps_ramp_epochs,
        lr_max=row.lr_max,
        batch_size=row.batch_size,
        seed=row.seed,
        progress=progress,
    )
    model.eval()
    t1, c1 = time.perf_counter(), time.process_time()
    n = min(row.n_eval, len(test.y))
    pick = torch.randperm(len(test.y), generator=torch.Generator().manual_seed(row.seed + 7))[:n]
    x, y = test.x[pick].float() / 255, test.y[pick]
    ok = evaluate_l2(
        model,
        x,
        y,
        eps,
        x_train=train.x,
        y_train=train.y,
        pgd_steps=row.pgd_steps,
        pgd_restarts=row.pgd_restarts,
        apgd_steps=row.apgd_steps,
        seed=row.seed,
    )
    worst = np.logical_and.reduce([ok[k] for k in ok])
    t2 = time.perf_counter()
    from reliable_ml import stats

    lo, hi = stats.clopper_pearson(int(worst.sum()), n)
    card = {
        "fingerprint": fp,
        "dataset": used,
        "norm": "l2",
        "eps": eps,
        "image_size": size,
        "n_train": len(y_tr),
        "recipe": recipe_text(row, eps, len(y_tr)),
        "settings": dataclasses.asdict(row),
        "clean_acc": 100 * float(ok["clean"].mean()),
        "worst_case_acc": 100 * float(worst.mean()),
        "worst_case_interval": [100 * float(lo), 100 * float(hi)],
        "attack_acc": {k: 100 * float(v.mean()) for k, v in ok.items() if k != "clean"},
        "attacks": {
            "pgd": {"norm": "l2", "steps": row.pgd_steps, "restarts": row.pgd_restarts, "n": n},
            "apgd-ce": {"norm": "l2", "steps": row.apgd_steps, "restarts": 1, "n": n, "implementation": "torchattacks"},
            "nearest-image": {
                "norm": "l2",
                "gradient_free": True,
                "n": n,
                "what": "step toward the nearest training image of each other class, inside the ball",
            },
        },
        "n_eval": n,
        "sample": {"kind": "random", "seed": row.seed + 7},
        "history": history,
        "seconds": {
            "train": round(t1 - t0, 1),
            "train_cpu": round(c1 - c0, 1),
            "evaluate": round(t2 - t1, 1),
            "total": round(t2 - t0, 1),
            "threads": torch.get_num_threads(),
            "note": "wall seconds of the cold build (train, then evaluate) on the machine that built the cache entry",
        },
    }
    return model, json.loads(json.dumps(card))


def l2_robust_model(dataset: str = "mnist", profile: str = "cpu", progress: bool = True) -> tuple[nn.Module, dict]:
    r"""The course's L2-robust model and its card (module docstring for the recipe and the worst case).

    Returns ``(model, card)``: the model in eval mode on the CPU (inputs [0, 1], shape
    ``(N, 1, 28, 28)``, ``(N, 1, 8, 8)`` on the digits fallback) and a JSON-able card:
    ``fingerprint``, ``dataset``, ``norm`` ("l2"), ``eps``, ``clean_acc``, ``worst_case_acc`` and its
    exact 95% ``worst_case_interval`` (%), ``attack_acc`` ({attack: %}), ``attacks`` (steps,
    restarts, images), ``n_eval``, ``sample``, ``recipe``, ``history`` and ``seconds`` (the cold
    build's cost). The first call for a fingerprint trains and evaluates; later calls load."""
    row = settings_row(profile)
    train, test, used = sm._load(dataset)
    eps = row.eps if used == "mnist" else row.digits_eps
    fp = fingerprint(row, used, eps, train.x, test.x)
    folder = cache_folder(used, fp)
    size = test.x.shape[-1]

    def cached():
        if not ((folder / "card.json").exists() and (folder / "model.pt").exists()):
            return None
        try:
            model = sm.make_model(size, row.seed)
            card = json.loads((folder / "card.json").read_text())
            model.load_state_dict(torch.load(folder / "model.pt", weights_only=True))
        except Exception:  # noqa: BLE001 - an unreadable cache entry is rebuilt
            return None
        cachestats.record("l2_robust_model", hit=True)
        return model.eval(), card

    with torch.random.fork_rng():  # the caller's random state is the same whether the cache was warm or cold
        if (hit := cached()) is not None:
            return hit
        with cachelock.building(folder):
            if (hit := cached()) is not None:
                return hit
            if progress:
                print(f"L2-robust model {used}-{fp}: not cached, training and evaluating it once ({profile} row)")
            cachestats.record("l2_robust_model", hit=False)
            model, card = _build(row, train, test, used, eps, fp, progress)
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".model.pt.{os.getpid()}.tmp"
            torch.save(model.state_dict(), tmp)
            os.replace(tmp, folder / "model.pt")
            tmp = folder / f".card.json.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(card, indent=1))
            os.replace(tmp, folder / "card.json")
    return model.cpu().eval(), card


def summary(card: dict) -> str:
    """One line naming the model by the worst case over its card's three attacks (an upper bound on
    its robust accuracy; the standard suite of :func:`standard_suite_check` gives the tighter one)."""
    a = ", ".join(f"{k} {v:.1f}%" for k, v in card["attack_acc"].items())
    return (
        f"L2-robust model ({card['dataset']}, L2 eps {card['eps']:g}, {card['fingerprint']}): worst over the card's "
        f"three attacks {card['worst_case_acc']:.1f}% on {card['n_eval']:,} random test images "
        f"(clean {card['clean_acc']:.1f}%; {a}); "
        f"cold build {card['seconds']['total']:.0f} s"
    )


def results_entry(card: dict, check: dict | None = None) -> dict:
    """The ``l2_robust_model`` entry of a chapter's results file (no per-image data). The card's own
    figure (worst over its three attacks, exact Clopper-Pearson 95% interval) is written as
    ``card_attacks_acc``/``card_attacks_interval``, so that the model has one ``worst_case_acc``: with
    :func:`standard_suite_check`'s ``check``, the suite's (Wilson interval, ``worst_case_source`` says
    which); without it, the card's, named so."""
    keep = ("fingerprint", "dataset", "norm", "eps", "clean_acc", "attack_acc", "attacks", "n_eval", "sample")
    out = {k: card[k] for k in keep}
    out |= {
        "card_attacks_acc": card["worst_case_acc"],
        "card_attacks_interval": card["worst_case_interval"],
        "card_attacks_interval_kind": "exact (Clopper-Pearson) 95%, images resampled (one model)",
    }
    if check is None:
        out |= {
            "worst_case_acc": card["worst_case_acc"],
            "worst_case_interval": card["worst_case_interval"],
            "worst_case_source": "the card's three attacks (no standard suite run); exact 95% interval",
        }
    else:
        out |= {
            "worst_case_acc": check["worst_case_acc"],
            "worst_case_interval": check["worst_case_interval"],
            "worst_case_source": f"standard suite, the card's PGD and the nearest-image step on {check['n']} images; "
            "Wilson 95% interval",
        }
    out |= {
        "worst_case_note": "an upper bound on robust accuracy (a stronger attack can only lower it); one attack seed"
    }
    return out | {k: card[k] for k in ("recipe", "seconds")}


def l2_suite(
    suite_n: int,
    *,
    iterations: int = 100,
    square_queries: int = 5000,
    pgd_steps: int = 50,
    pgd_restarts: int = 5,
) -> dict[str, dict]:
    """The attacks of :func:`standard_suite_check`, in the order they run: AutoAttack's standard
    components in :math:`L_2` (APGD-CE, APGD-T with 9 targets, FAB-T with 9 targets, each
    ``iterations`` iterations; Square with ``square_queries`` queries, last of the suite) with the card's
    :math:`L_2` PGD (``pgd_steps`` x ``pgd_restarts``) after APGD-CE. ``suite_n`` only checks that a
    suite is asked for (>= 1)."""
    from reliable_ml.robust import standard_suite as ss

    if not isinstance(suite_n, int) or suite_n < 1:
        raise ValueError(f"suite_n must be an integer >= 1; got {suite_n!r}")
    full = ss.standard_suite(
        iterations=iterations, square_queries=square_queries, pgd_steps=pgd_steps, pgd_restarts=pgd_restarts
    )
    return {k: full[k] for k in ("apgd-ce", "pgd", "apgd-t", "fab-t", "square")}


def standard_suite_check(
    model: nn.Module,
    card: dict,
    dataset: str,
    suite_n: int,
    *,
    chunk: int = 500,
    progress: bool = False,
    **suite_kw,
) -> dict:
    r"""The worst case of the L2-robust model under AutoAttack's standard suite in :math:`L_2`.

    Images: the first ``suite_n`` of the card's seeded random test sample (a uniform random subset
    of it, hence of the test split). Attacks: :func:`l2_suite` as a cascade
    run on consecutive chunks of ``chunk`` images (:func:`reliable_ml.robust.standard_suite.chunked_suite`,
    per-image outcomes cached per chunk by the model's fingerprint: a sample grown by whole chunks
    reuses the chunks it had), then the gradient-free step toward the nearest training image of each
    other class. An image is robust when it is correct clean and survives all of them (worst case
    over the union). Returns JSON-able ``n``, ``sample``, ``worst_case_k``, ``worst_case_acc`` (%) with
    its 95% Wilson ``worst_case_interval`` (:func:`reliable_ml.stats.wilson`), ``gradient_union_k``
    / ``gradient_union_acc`` (robust under the gradient attacks), ``masking`` (``broken_only_by_square``:
    images Square broke after every gradient attack missed them; ``flag``: that count > 0),
    ``attacks`` (per attack its strength, images attacked and broken), ``cached``/``cold_seconds`` and
    ``chunks`` (per chunk its image range, whether it was read back and its cold wall seconds).
    """
    from reliable_ml import stats
    from reliable_ml.robust import standard_suite as ss

    train, test, used = sm._load(dataset)
    if used != card["dataset"]:
        raise ValueError(f"data set {used!r} differs from the card's {card['dataset']!r}")
    n_all = card["n_eval"]
    if not 1 <= suite_n <= n_all:
        raise ValueError(f"suite_n must lie in 1..{n_all} (the card's sample); got {suite_n}")
    seed = card["sample"]["seed"]
    pick = torch.randperm(len(test.y), generator=torch.Generator().manual_seed(seed))[:n_all][:suite_n]
    dev = next(model.parameters()).device
    x, y = (test.x[pick].float() / 255).to(dev), test.y[pick].to(dev)
    suite = l2_suite(suite_n, **suite_kw)
    eps = card["eps"]
    res = ss.chunked_suite(
        model,
        card["fingerprint"],
        x,
        y,
        eps,
        suite,
        chunk=chunk,
        seed=card["settings"]["seed"],
        norm="L2",
        progress=progress,
    )
    grad_ok = ss.gradient_union_ok(res).numpy()
    robust = res["robust"].numpy().copy()
    ok_idx = np.flatnonzero(robust)
    free = np.zeros(len(y), dtype=bool)
    if len(ok_idx):
        free[ok_idx] = tg.nearest_other_class(model, x[ok_idx], y[ok_idx], train.x, train.y, eps)
    robust &= ~free
    k, n = int(robust.sum()), len(robust)
    lo, hi = stats.wilson(k, n)
    sq = int((grad_ok & res["attacks"]["square"]["broken"].numpy()).sum())
    return {
        "norm": "l2",
        "eps": eps,
        "n": n,
        "sample": {"kind": "random", "seed": seed, "what": f"the first {n} of the card's {n_all} random test images"},
        "clean_acc": 100 * float(res["clean"].double().mean()),
        "worst_case_k": k,
        "worst_case_acc": 100 * k / n,
        "worst_case_interval": [100 * float(lo), 100 * float(hi)],
        "interval": "Wilson 95%, images resampled (one model)",
        "gradient_union_k": int(grad_ok.sum()),
        "gradient_union_acc": 100 * float(grad_ok.mean()),
        "masking": {"broken_only_by_square": sq, "flag": sq > 0},
        "broken_only_by_nearest_image": int(free.sum()),
        "attacks": {
            kk: {f: a[f] for f in ("steps", "restarts", "queries", "targets", "n", "seconds")}
            | {"broken": int(a["broken"].sum())}
            for kk, a in res["attacks"].items()
        },
        "cached": bool(res.get("cached", False)),
        "cold_seconds": res.get("cold_seconds"),
        "chunks": res["chunks"],
    }


def suite_words(card: dict, check: dict | None) -> str:
    """What chapter 10 may say about the L2-robust model's worst case: with :func:`standard_suite_check`'s
    ``check``, the worst case over the union of the standard suite (its own APGD-CE among them), the
    card's PGD (rerun inside the suite with the card's steps and restarts) and the nearest-image step
    (rerun after the suite), its Wilson interval and AutoAttack's masking check (Square breaking
    images that every gradient attack missed). The card's own per-image results (its APGD-CE's
    included) are not part of the union. Without ``check``, that the card's figure is an upper
    bound of unknown slack."""
    if check is None:
        return (
            f"Those {card['worst_case_acc']:.1f}% survive the three attacks run on them; APGD-T, FAB-T and Square "
            f"were not run, so {card['worst_case_acc']:.1f}% is an upper bound of unknown slack."
        )
    a = check["attacks"]
    sq = check["masking"]["broken_only_by_square"]
    sample = (
        f"the first {check['n']:,} of those images (a random subset: fewer for the cost on a 2-core machine)"
        if check["n"] < card["n_eval"]
        else "the same images"
    )
    ni = check.get("broken_only_by_nearest_image", 0)
    after = (
        f"; the gradient-free nearest-image step, run after Square, broke {ni} more "
        f"image{'s' if ni != 1 else ''} that every attack of the suite had missed"
    )
    masking = (
        f"Square, the suite's last attack, broke {sq} image{'s' if sq != 1 else ''} that every gradient attack had "
        "missed: AutoAttack's sign of masked gradients or of gradient attacks run too weakly, flagged here" + after
        if check["masking"]["flag"]
        else "Square, the suite's last attack, broke no image that the gradient attacks had missed: AutoAttack's "
        "masking check raises no flag" + after
    )
    return (
        f"The card's three attacks are not AutoAttack's standard suite, so on {sample} the suite ran as well, in L2 "
        f"at the same radius: APGD-CE ({a['apgd-ce']['steps']} iterations), APGD-T ({a['apgd-t']['targets']} "
        f"target classes, {a['apgd-t']['steps']} iterations), FAB-T ({a['fab-t']['targets']} targets, "
        f"{a['fab-t']['steps']} iterations) and Square ({a['square']['queries']:,} queries), with the card's PGD "
        f"and the nearest-image step. {check['worst_case_k']} of {check['n']:,} images survive every one of them: "
        f"{check['worst_case_acc']:.1f}% (95% Wilson interval {check['worst_case_interval'][0]:.1f}–"
        f"{check['worst_case_interval'][1]:.1f}%, not the exact Clopper-Pearson interval of the card's figure above; "
        "images resampled; one model, one attack seed), the model's worst "
        "case, which replaces the card's figure above: an upper bound on its robust accuracy, since a stronger "
        f"attack can only lower it. {masking}." + cost_words(check)
    )


def cost_words(check: dict) -> str:
    """The suite's cold cost from :func:`standard_suite_check`'s ``chunks``: total wall seconds and per
    chunk of images (each chunk its own cascade and cache entry); empty without ``chunks``."""
    chunks = check.get("chunks") or []
    if not chunks:
        return ""
    each = ", ".join(f"{c['cold_seconds']:.0f} s for images {c['images'][0] + 1}–{c['images'][1]}" for c in chunks)
    total = sum(float(c["cold_seconds"] or 0) for c in chunks)
    return (
        f" Run cold, the suite took {total:.0f} s of wall time on the 2-core machine that built the cache ({each}; "
        "each chunk is its own cascade with the same attacks and settings, cached per image); later runs read it back."
    )
