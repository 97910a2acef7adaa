r"""AutoAttack's standard L-infinity suite plus APGD-DLR and PGD with restarts, run as a cascade on a
seeded random sample of test images, with the per-image worst case over the union.

The suite (Croce & Hein 2020, the reference implementation ``fra31/auto-attack``, ``version="standard"``):
APGD with the cross-entropy loss (100 iterations, 1 restart), targeted APGD with the DLR loss
(100 iterations, the 9 other classes as targets), targeted FAB (100 iterations, 9 targets) and the
gradient-free Square attack (5,000 queries, 1 restart). Beside them, as Carlini et al. (2019)
recommend: APGD with the untargeted DLR loss and several restarts, and PGD (Madry et al. 2018) with
restarts (:func:`reliable_ml.robust.attacks.pgd`, worst iterate kept). The AutoAttack components
come from torchattacks (Kim 2020) with the reference's iterations and targets set explicitly:
torchattacks' own ``AutoAttack(version="standard")`` leaves APGD, APGD-T and FAB-T at its default
of 10 iterations.

**Cascade.** As AutoAttack does, each attack runs only on the images that are still classified
correctly after every earlier attack (clean-misclassified images count as broken from the start).
An image counts as robust when it survives every attack, so the worst case over the union is the
same whether the later attacks also run on images already broken: they can only break them again
(:func:`run_suite` with ``cascade=False`` runs every attack on every clean-correct image, and the
tests check that both give the same union). Square runs last, so the images it breaks are exactly
those that survived every gradient attack: AutoAttack's sanity check (a gradient-free attack that
beats the gradient attacks flags masked gradients or attacks run too weakly).

:func:`cached_suite` keeps the per-image outcomes in the model cache, keyed by the model's
fingerprint, the images, the labels and the suite's settings.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from reliable_ml.robust import attacks
from reliable_ml.util import cachelock

KINDS = ("apgd-ce", "apgd-t", "fab-t", "apgd-dlr", "pgd", "square")
GRADIENT_FREE = ("square",)
LABELS = {
    "apgd-ce": "APGD-CE",
    "apgd-t": "APGD-T",
    "fab-t": "FAB-T",
    "apgd-dlr": "APGD-DLR",
    "pgd": "PGD",
    "square": "Square",
}


def standard_suite(
    *,
    iterations: int = 100,
    square_queries: int = 5000,
    dlr_restarts: int = 5,
    pgd_steps: int = 100,
    pgd_restarts: int = 5,
    n_classes: int = 10,
) -> dict[str, dict]:
    """The suite's attacks in the order they run, each with its ``steps`` (iterations), ``restarts``,
    ``queries`` (Square) and ``targets`` (target classes of the targeted attacks); ``None`` where an
    attack has no such setting. Defaults: AutoAttack's standard version, plus APGD-DLR with 5
    restarts and PGD-100 with 5 restarts."""
    for name, v in {
        "iterations": iterations,
        "square_queries": square_queries,
        "dlr_restarts": dlr_restarts,
        "pgd_steps": pgd_steps,
        "pgd_restarts": pgd_restarts,
    }.items():
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1; got {v!r}")
    t = n_classes - 1
    return {
        "apgd-ce": {"steps": iterations, "restarts": 1, "queries": None, "targets": None},
        "apgd-t": {"steps": iterations, "restarts": 1, "queries": None, "targets": t},
        "fab-t": {"steps": iterations, "restarts": 1, "queries": None, "targets": t},
        "apgd-dlr": {"steps": iterations, "restarts": dlr_restarts, "queries": None, "targets": None},
        "pgd": {"steps": pgd_steps, "restarts": pgd_restarts, "queries": None, "targets": None},
        "square": {"steps": None, "restarts": 1, "queries": square_queries, "targets": None},
    }


def reference_standard(n_classes: int = 10) -> dict[str, dict]:
    """The strength of each component in the reference implementation's standard version
    (``fra31/auto-attack``, L-infinity: ``apgd.n_iter = 100``, ``apgd_targeted.n_target_classes = 9``,
    ``fab.n_iter = 100``, ``fab.n_target_classes = 9``, ``square.n_queries = 5000``, one restart each)."""
    full = standard_suite(n_classes=n_classes)
    return {k: full[k] for k in ("apgd-ce", "apgd-t", "fab-t", "square")}


def random_sample(n_total: int, n: int, seed: int) -> np.ndarray:
    """``n`` distinct indices of ``range(n_total)`` drawn uniformly without replacement with
    ``numpy.random.default_rng(seed)``, sorted."""
    if not 1 <= n <= n_total:
        raise ValueError(f"sample size n must lie in 1..{n_total}; got {n}")
    return np.sort(np.random.default_rng(seed).choice(n_total, size=n, replace=False))


NORMS = ("Linf", "L2")


def _check_norm(norm: str) -> None:
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; allowed: {', '.join(NORMS)}")


def project(x: torch.Tensor, x_adv: torch.Tensor, eps: float, norm: str = "Linf") -> torch.Tensor:
    r"""``x_adv`` moved back into the threat model: :math:`x + \delta` with :math:`\delta` clipped to
    :math:`[-\epsilon, \epsilon]` (``Linf``) or scaled by :math:`\min(1, \epsilon / \|\delta\|_2)` per image
    (``L2``), then clipped to [0, 1]. Clipping to [0, 1] never lengthens :math:`\delta` in either norm
    (each coordinate moves toward x, which lies in [0, 1])."""
    _check_norm(norm)
    d = x_adv - x
    if norm == "Linf":
        d = d.clamp(-eps, eps)
    else:
        n = d.flatten(1).norm(dim=1).clamp_min(1e-12)
        d = d * (eps / n).clamp(max=1.0).view(-1, *([1] * (d.ndim - 1)))
    return (x + d).clamp(0, 1)


def _torchattack(kind: str, spec: Mapping, model: nn.Module, eps: float, seed: int, n_classes: int, norm: str = "Linf"):
    import torchattacks

    _check_norm(norm)
    common = dict(norm=norm, eps=eps, n_restarts=spec["restarts"], seed=seed)
    if kind == "apgd-ce":
        return torchattacks.APGD(model, loss="ce", steps=spec["steps"], **common)
    if kind == "apgd-dlr":
        return torchattacks.APGD(model, loss="dlr", steps=spec["steps"], **common)
    if kind == "apgd-t":
        return torchattacks.APGDT(model, steps=spec["steps"], n_classes=n_classes, **common)
    if kind == "fab-t":
        return torchattacks.FAB(model, steps=spec["steps"], multi_targeted=True, n_classes=n_classes, **common)
    if kind == "square":
        return torchattacks.Square(model, n_queries=spec["queries"], **common)
    raise ValueError(f"unknown attack {kind!r}; allowed: {', '.join(KINDS)}")


def built_strength(suite: Mapping[str, Mapping], n_classes: int = 10) -> dict[str, dict]:
    """What the torchattacks objects of the suite actually run, read back from them (on a stand-in
    model): ``steps``, ``restarts``, ``queries``, ``targets``. PGD is the package's own and is
    reported as configured."""
    stand_in = nn.Sequential(nn.Flatten(), nn.Linear(1, n_classes))
    out = {}
    for kind, spec in suite.items():
        if kind == "pgd":
            out[kind] = {k: spec[k] for k in ("steps", "restarts", "queries", "targets")}
            continue
        a = _torchattack(kind, spec, stand_in, 0.1, 0, n_classes)
        out[kind] = {
            "steps": getattr(a, "steps", None) if kind != "square" else None,
            "restarts": getattr(a, "n_restarts", None),
            "queries": getattr(a, "n_queries", None),
            "targets": getattr(a, "n_target_classes", None) if kind in ("apgd-t", "fab-t") else None,
        }
    return out


def _fooled(kind, spec, model, x, y, eps, seed, n_classes, generator, norm="Linf") -> torch.Tensor:
    """Per image of ``x``: does the attack find a point of the eps-ball (and [0, 1]) the model misclassifies?"""
    if kind == "pgd":
        _, fooled = attacks.pgd(
            model, x, y, eps, norm=norm.lower(), steps=spec["steps"], restarts=spec["restarts"], generator=generator
        )
        return fooled
    attack = _torchattack(kind, spec, model, eps, seed, n_classes, norm)
    # project back into the eps-ball and [0, 1] (FAB can overshoot by rounding): never count a point the
    # threat model does not allow
    x_adv = project(x, attack(x, y).detach(), eps, norm)
    with attacks._EvalMode(model), torch.no_grad():
        return model(x_adv).argmax(1) != y


def run_suite(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    suite: Mapping[str, Mapping],
    *,
    seed: int = 0,
    n_classes: int = 10,
    batch_size: int = 500,
    cascade: bool = True,
    progress: bool = False,
    norm: str = "Linf",
) -> dict:
    r"""Run ``suite`` (:func:`standard_suite`; attacks in its order) on ``x`` (in [0, 1]) with labels ``y``,
    every attack in the ``norm`` ball of radius ``eps`` (``"Linf"`` or ``"L2"``; torchattacks' APGD,
    APGDT, FAB and Square take both, PGD is :func:`reliable_ml.robust.attacks.pgd` in that norm).

    With ``cascade`` (AutoAttack's way) each attack runs on the images still correct after every
    earlier one; without, on every clean-correct image. Returns ``clean`` (bool (N,), correct clean),
    ``robust`` (bool (N,), correct clean and under every attack: the worst case over the union),
    ``attacks``: per attack ``attacked`` and ``broken`` (bool (N,): the images it ran on, and those
    of them it fooled), ``steps``, ``restarts``, ``queries``, ``targets``, ``n`` (images attacked),
    ``seconds``, and ``acc_after`` (the share still robust after it and every earlier attack).
    The caller's random state is left as it was (torchattacks reseeds the global generator).
    """
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length: {len(x)} and {len(y)}")
    _check_norm(norm)
    unknown = [k for k in suite if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown attack(s) {unknown}; allowed: {', '.join(KINDS)}")
    from reliable_ml.util.progress import tqdm

    dev = x.device
    with attacks._EvalMode(model), torch.no_grad():
        clean = torch.cat(
            [model(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size] for i in range(0, len(x), batch_size)]
        )
    robust = clean.clone()
    out = {"clean": clean.cpu(), "attacks": {}}
    with torch.random.fork_rng(devices=[]):
        for kind, spec in tqdm(suite.items(), desc="attack suite", disable=not progress, leave=False):
            t0 = time.perf_counter()
            todo = (robust if cascade else clean).clone()
            idx = todo.nonzero().flatten()
            broken = torch.zeros_like(clean)
            gen = torch.Generator(device=dev).manual_seed(seed)
            for i in range(0, len(idx), batch_size):
                j = idx[i : i + batch_size]
                broken[j] = _fooled(kind, spec, model, x[j], y[j], eps, seed, n_classes, gen, norm)
            robust &= ~broken
            out["attacks"][kind] = {
                **{k: spec.get(k) for k in ("steps", "restarts", "queries", "targets")},
                "n": int(todo.sum()),
                "attacked": todo.cpu(),
                "broken": broken.cpu(),
                "acc_after": robust.double().mean().item(),
                "seconds": round(time.perf_counter() - t0, 1),
            }
    out["robust"] = robust.cpu()
    return out


def summary(res: Mapping, n_total: int | None = None) -> dict:
    """JSON-able numbers of :func:`run_suite`'s result: ``n``, ``clean_acc``, ``worst_case_acc`` and
    ``worst_case_k``; per attack its strength, ``n``, ``broken`` (images it broke that survived
    every earlier attack) and ``acc_after``; ``gradient_union_acc`` (worst case over the gradient
    attacks) and ``broken_only_by_gradient_free``. Accuracies in [0, 1]."""
    robust, clean = res["robust"], res["clean"]
    free = [k for k in res["attacks"] if k in GRADIENT_FREE]
    grad_ok = robust.clone()
    for k in free:
        grad_ok |= res["attacks"][k]["broken"]
    return {
        "n": len(robust),
        "clean_acc": clean.double().mean().item(),
        "worst_case_acc": robust.double().mean().item(),
        "worst_case_k": int(robust.sum()),
        "gradient_union_acc": grad_ok.double().mean().item(),
        "broken_only_by_gradient_free": int((grad_ok & ~robust).sum()),
        "attacks": {
            k: {
                **{f: a[f] for f in ("steps", "restarts", "queries", "targets", "n", "acc_after", "seconds")},
                "broken": int(a["broken"].sum()),
            }
            for k, a in res["attacks"].items()
        },
    }


def gradient_union_ok(res: Mapping) -> torch.Tensor:
    """Per image: correct clean and under every *gradient* attack of the suite. In a cascade with
    the gradient-free attacks last this is exact: they ran on every image the gradient attacks left."""
    ok = res["robust"].clone()
    for k, a in res["attacks"].items():
        if k in GRADIENT_FREE:
            ok |= a["broken"]
    return ok


def cached_suite(
    model: nn.Module,
    fingerprint: str,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    suite: Mapping[str, Mapping],
    *,
    seed: int = 0,
    n_classes: int = 10,
    batch_size: int = 500,
    progress: bool = False,
    norm: str = "Linf",
) -> dict:
    """:func:`run_suite` (cascade), kept in ``$RELIABLE_ML_CACHE/robust_model/evaluations/`` keyed by the
    model's ``fingerprint``, the suite, eps, seed, the norm and the bytes of ``x`` and ``y``. Adds ``cached``
    (whether it was read back) and ``cold_seconds`` (wall seconds of the run that built it)."""
    from reliable_ml.data import cache_dir

    _check_norm(norm)
    key = [fingerprint, eps, seed, n_classes, dict(suite), tuple(x.shape)]
    if norm != "Linf":  # L-infinity keys stay as they were, so existing cache entries are still found
        key.append(norm)
    h = hashlib.sha256(json.dumps(key, sort_keys=True).encode())
    h.update(x.detach().cpu().contiguous().numpy().tobytes())
    h.update(y.detach().cpu().contiguous().numpy().tobytes())
    path = cache_dir() / "robust_model" / "evaluations" / f"{fingerprint}-suite-{h.hexdigest()[:16]}.json"
    if (hit := _read(path)) is not None:
        return hit
    with cachelock.building(path):  # chapters side by side: the first one runs the suite, the others wait
        if (hit := _read(path)) is not None:
            return hit
        t0 = time.perf_counter()
        res = run_suite(
            model, x, y, eps, suite, seed=seed, n_classes=n_classes, batch_size=batch_size, progress=progress, norm=norm
        )
        cold = round(time.perf_counter() - t0, 1)
        _write(path, res, cold)
    return res | {"cached": False, "cold_seconds": cold}


def chunked_suite(
    model: nn.Module,
    fingerprint: str,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    suite: Mapping[str, Mapping],
    *,
    chunk: int = 500,
    **kw,
) -> dict:
    """:func:`cached_suite` on consecutive chunks of ``chunk`` images (``x[0:chunk]``, ``x[chunk:2 chunk]``, ...),
    each its own cascade and cache entry, the results joined by :func:`join_results`. The same attacks and
    settings on every chunk; a sample that grows by whole chunks reuses the per-image outcomes of the chunks
    it already had (the first chunk's entry is the one :func:`cached_suite` on ``x[:chunk]`` wrote). Adds
    ``chunks`` (per chunk its images, ``cached`` and ``cold_seconds``); ``cached`` is true when every chunk
    was read back, ``cold_seconds`` sums the chunks' cold runs."""
    if not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be an integer >= 1; got {chunk!r}")
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length: {len(x)} and {len(y)}")
    parts = [
        cached_suite(model, fingerprint, x[i : i + chunk], y[i : i + chunk], eps, suite, **kw)
        for i in range(0, len(x), chunk)
    ]
    out = join_results(parts)
    out["chunks"] = [
        {
            "images": [i, min(i + chunk, len(x))],
            "cached": bool(p.get("cached", False)),
            "cold_seconds": p.get("cold_seconds"),
        }
        for i, p in zip(range(0, len(x), chunk), parts)
    ]
    out["cached"] = all(c["cached"] for c in out["chunks"])
    out["cold_seconds"] = round(sum(float(c["cold_seconds"] or 0) for c in out["chunks"]), 1)
    return out


def join_results(parts: list[Mapping]) -> dict:
    """Concatenate :func:`run_suite` results on disjoint image sets (same suite, in order): per-image
    tensors are joined, ``n`` and ``seconds`` summed, ``acc_after`` recomputed on the union."""
    if not parts:
        raise ValueError("join_results needs at least one result")
    kinds = list(parts[0]["attacks"])
    for p in parts[1:]:
        if list(p["attacks"]) != kinds:
            raise ValueError(f"results of different suites cannot be joined: {kinds} and {list(p['attacks'])}")
    out = {"clean": torch.cat([p["clean"] for p in parts]), "robust": torch.cat([p["robust"] for p in parts])}
    out["attacks"] = {}
    still = out["clean"].clone()
    for k in kinds:
        a0 = parts[0]["attacks"][k]
        for f in ("steps", "restarts", "queries", "targets"):
            if any(p["attacks"][k].get(f) != a0.get(f) for p in parts):
                raise ValueError(f"attack {k!r} differs in {f!r} between the results; never mix settings")
        broken = torch.cat([p["attacks"][k]["broken"] for p in parts])
        still &= ~broken
        out["attacks"][k] = {
            **{f: a0.get(f) for f in ("steps", "restarts", "queries", "targets")},
            "n": sum(int(p["attacks"][k]["n"]) for p in parts),
            "attacked": torch.cat([p["attacks"][k]["attacked"] for p in parts]),
            "broken": broken,
            "acc_after": still.double().mean().item(),
            "seconds": round(sum(float(p["attacks"][k]["seconds"]) for p in parts), 1),
        }
    return out


def _read(path) -> dict | None:
    """A cached suite result, or None when absent or unreadable (then it is recomputed)."""
    as_bool = lambda v: torch.tensor(v, dtype=torch.bool)  # noqa: E731
    if not path.exists():
        return None
    try:
        s = json.loads(path.read_text())
        res = {"clean": as_bool(s["clean"]), "robust": as_bool(s["robust"]), "attacks": {}}
        for k, a in s["attacks"].items():
            res["attacks"][k] = {**a, "attacked": as_bool(a["attacked"]), "broken": as_bool(a["broken"])}
        return res | {"cached": True, "cold_seconds": s["cold_seconds"]}
    except Exception:  # noqa: BLE001 - an unreadable file is recomputed
        return None


def _write(path, res: Mapping, cold: float) -> None:
    saved = {
        "clean": res["clean"].int().tolist(),
        "robust": res["robust"].int().tolist(),
        "attacks": {
            k: {**a, "attacked": a["attacked"].int().tolist(), "broken": a["broken"].int().tolist()}
            for k, a in res["attacks"].items()
        },
        "cold_seconds": cold,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(saved))
    os.replace(tmp, path)
