r"""The shared robust model's recipe on another network: one PGD-trained model, cached.

:mod:`reliable_ml.robust.shared_model` trains the course's one L-infinity robust model, the
small CNN of Wong et al. (2020), and evaluates it with the whole attack suite. A chapter that
needs the *same recipe on another architecture* (chapter 11: a network with max-pooling, shaped
like the MNIST network of Madry et al. 2018) calls :func:`pgd_trained`: PGD adversarial
training (Madry et al. 2018),

.. math:: \min_\theta \mathbb{E}\,\max_{\|\delta\|_\infty \le \epsilon} L(f_\theta(x + \delta), y),

the inner maximum by PGD from a random start, with every setting of the shared model's row of
:mod:`reliable_ml.settings.robust_model` (radius, epochs, PGD steps, radius ramp, Adam with a
one-cycle learning rate, batch, seed, training images). Only the network differs.

The model is cached like the shared model, under
``$RELIABLE_ML_CACHE/robust_model/<dataset>-<arch>-<fingerprint>/``: the fingerprint hashes the
shared model's own fingerprint (recipe, row, data set, radius, image bytes) with the
architecture and its widths, so the shared model's fingerprint and cache entry are untouched.
Its card records the cold training cost (wall and CPU seconds, threads). The whole suite is not
run here; :func:`pgd_accuracy` gives a PGD evaluation with restarts on a caller's images,
cached beside the model.

``method="standard"`` trains the **matched standard twin** of that model: the same network and
initialisation (the row's seed), the same training images in the same order, the same epochs,
optimizer, learning-rate schedule and batch, and no adversary (the clean cross-entropy on each
batch), so a comparison of the two isolates the training objective. It is cached under its own
fingerprint (the variant's with ``method`` added).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time

import torch
from torch import nn

from reliable_ml.models import nets
from reliable_ml.robust import attacks
from reliable_ml.robust import shared_model as sm
from reliable_ml.robust import train as rt
from reliable_ml.util import cachelock, cachestats

VARIANT_VERSION = 1
ARCHS = ("small_cnn", "pool_cnn")
METHODS = ("pgd", "standard")  # the shared recipe, and its matched standard twin (no adversary)


def make_model(arch: str, image_size: int, seed: int, **widths) -> nn.Sequential:
    """A freshly initialised (seeded) ``arch`` for ``image_size`` x ``image_size`` grey images."""
    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}; allowed: {', '.join(ARCHS)}")
    torch.manual_seed(seed)
    return nets.build(arch, in_channels=1, image_size=image_size, **widths)


def variant_fingerprint(base: str, arch: str, widths: dict, method: str = "pgd") -> str:
    """Hash of the shared model's fingerprint ``base``, the architecture, its widths and the training
    ``method`` (``"pgd"`` keys stay as they were before ``method`` existed, so cached models are found)."""
    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}; allowed: {', '.join(ARCHS)}")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; allowed: {', '.join(METHODS)}")
    fields = {"v": VARIANT_VERSION, "base": base, "arch": arch, "widths": widths}
    if method != "pgd":
        fields["method"] = method
    text = json.dumps(fields, sort_keys=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def describe(arch: str, widths: dict) -> str:
    """A reader's name for the network."""
    if arch == "pool_cnn":
        c1, c2 = widths.get("channels", (32, 64))
        return (
            f"pooling CNN (conv 5x5 {c1} -> max-pool -> conv 5x5 {c2} -> max-pool -> FC {widths.get('hidden', 1024)}; "
            "the shape of Madry et al.'s MNIST network)"
        )
    return "small CNN (Wong et al. 2020)"


def pgd_trained(
    arch: str = "pool_cnn",
    widths: dict | None = None,
    dataset: str = "mnist",
    profile: str = "cpu",
    progress: bool = True,
    method: str = "pgd",
) -> tuple[nn.Module, dict]:
    """The shared model's PGD-training recipe (row ``profile``) on ``arch`` with ``widths``; with
    ``method="standard"`` its matched standard twin (the same recipe without the adversary).

    Returns ``(model, card)``: the model in eval mode on the CPU, and a JSON-able card with
    ``fingerprint``, ``base_fingerprint`` (the shared model's), ``dataset`` (``"digits"`` on the
    fallback), ``eps``, ``arch``, ``widths``, ``network``, ``n_train``, ``recipe``, ``history``
    (per epoch) and ``seconds`` (the cold training: ``train`` wall seconds, ``cpu`` CPU seconds,
    ``threads``). The first call trains; later calls load from the cache.
    """
    widths = dict(widths or {})
    row = sm.settings_row(profile)
    train, test, used = sm._load(dataset)
    eps = row.eps if used == "mnist" else row.digits_eps
    base = sm.fingerprint(row, used, eps, train.x, test.x)
    fp = variant_fingerprint(base, arch, widths, method)
    folder = sm.cache_folder(used, f"{arch}-{fp}" if method == "pgd" else f"{arch}-{method}-{fp}")
    size = test.x.shape[-1]

    def cached():
        if not ((folder / "card.json").exists() and (folder / "model.pt").exists()):
            return None
        try:
            model = make_model(arch, size, row.seed, **widths)
            card = json.loads((folder / "card.json").read_text())
            model.load_state_dict(torch.load(folder / "model.pt", weights_only=True))
        except Exception:  # noqa: BLE001 - an unreadable cache entry is rebuilt
            return None
        cachestats.record("robust_model", hit=True)
        return model.eval(), card

    with torch.random.fork_rng():  # the caller's random state is the same whether the cache was warm or cold
        if (hit := cached()) is not None:
            return hit
        with cachelock.building(folder):
            if (hit := cached()) is not None:
                return hit
            if progress:
                print(
                    f"{'PGD' if method == 'pgd' else 'standard'}-trained {arch} {used}-{fp}: not cached, training it "
                    f"once ({profile} row of the shared recipe)"
                )
            cachestats.record("robust_model", hit=False)
            x_tr, y_tr = train.x, train.y
            if row.train_size:
                x_tr, y_tr = x_tr[: row.train_size], y_tr[: row.train_size]
            cfg = sm.train_config(
                row, eps, seed=row.seed, epochs=row.epochs, attack_steps=row.attack_steps, n_train=len(y_tr)
            )
            if method == "standard":  # everything else the same: data and order, schedule, seed, validation
                cfg = dataclasses.replace(cfg, method="standard")
            t0, c0 = time.perf_counter(), time.process_time()
            model = make_model(arch, size, row.seed, **widths)
            fit = rt.train(model, x_tr, y_tr, cfg, x_val=test.x.flip(0), y_val=test.y.flip(0), progress=progress)
            network = describe(arch, widths)
            recipe = sm.recipe_text(row, eps, len(y_tr)).replace("small CNN (Wong et al. 2020)", network)
            if method == "standard":
                recipe = standard_recipe_text(row, len(y_tr), network)
            card = {
                "fingerprint": fp,
                "method": method,
                "base_fingerprint": base,
                "dataset": used,
                "eps": eps,
                "arch": arch,
                "widths": widths,
                "network": network,
                "image_size": size,
                "n_train": len(y_tr),
                "recipe": recipe,
                "settings": {"profile": profile, **{k: getattr(row, k) for k in ("epochs", "attack_steps", "seed")}},
                "history": fit.history,
                "seconds": {
                    "train": round(time.perf_counter() - t0, 1),
                    "cpu": round(time.process_time() - c0, 1),
                    "threads": torch.get_num_threads(),
                    "note": "cold training of this model on the machine that built the cache entry",
                },
            }
            card = json.loads(json.dumps(card, default=list))
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".model.pt.{os.getpid()}.tmp"
            torch.save(model.state_dict(), tmp)
            os.replace(tmp, folder / "model.pt")
            tmp = folder / f".card.json.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(card, indent=1))
            os.replace(tmp, folder / "card.json")
    return model.cpu().eval(), card


def standard_recipe_text(row, n_train: int, network: str) -> str:
    """A reader's description of the matched standard twin's training."""
    return (
        f"{network}, standard training on clean images with the PGD recipe's every other setting: {row.epochs} "
        f"epochs on {n_train:,} training images in the same order, the same initialisation (seed {row.seed}), "
        f"Adam with a one-cycle learning rate (peak {row.lr_max:g}), batch {row.batch_size}"
    )


def suite_pgd(profile: str) -> tuple[int, int]:
    """PGD steps and restarts of the shared model's evaluation suite in ``profile``'s row."""
    row = sm.settings_row(profile)
    return row.pgd_steps, row.pgd_restarts


def pgd_accuracy(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    steps: int,
    restarts: int,
    seed: int = 0,
    batch_size: int = 500,
    cache_key: str | None = None,
    progress: bool = False,
) -> dict:
    r"""Per-image correctness under L-infinity PGD (``steps`` steps of size :math:`2.5\epsilon/\text{steps}`
    from a random start, ``restarts`` restarts, the worst iterate kept; :func:`reliable_ml.robust.attacks.pgd`).

    Returns ``{"clean": bool (N,), "pgd": bool (N,), "steps", "restarts", "eps", "seconds"}``; an
    image counts under ``pgd`` only if it is correct clean and no iterate fooled the model. With
    ``cache_key`` (e.g. the card's fingerprint) the result is kept in the model's cache folder,
    keyed by the images, labels and attack settings.
    """
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length: {len(x)} and {len(y)}")
    path = None
    if cache_key is not None:
        from reliable_ml.data import cache_dir

        h = hashlib.sha256(json.dumps([cache_key, eps, steps, restarts, seed, tuple(x.shape)]).encode())
        h.update(x.detach().cpu().contiguous().numpy().tobytes())
        h.update(y.detach().cpu().numpy().tobytes())
        path = cache_dir() / "robust_model" / "evaluations" / f"{cache_key}-pgd-{h.hexdigest()[:16]}.json"
        if path.exists():
            try:
                saved = json.loads(path.read_text())
                return saved | {k: torch.tensor(saved[k], dtype=torch.bool) for k in ("clean", "pgd")}
            except Exception:  # noqa: BLE001 - an unreadable file is recomputed
                pass
    t0 = time.perf_counter()
    dev = next(model.parameters()).device
    gen = torch.Generator(device=dev).manual_seed(seed)
    clean, robust = [], []
    for i in range(0, len(y), batch_size):
        xb, yb = x[i : i + batch_size].to(dev), y[i : i + batch_size].to(dev)
        with attacks._EvalMode(model), torch.no_grad():
            ok = model(xb).argmax(1) == yb
        _, fooled = attacks.pgd(model, xb, yb, eps, steps=steps, restarts=restarts, generator=gen)
        clean.append(ok.cpu())
        robust.append((ok & ~fooled).cpu())
    out = {
        "clean": torch.cat(clean),
        "pgd": torch.cat(robust),
        "steps": steps,
        "restarts": restarts,
        "eps": eps,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(out | {k: out[k].int().tolist() for k in ("clean", "pgd")}))
        os.replace(tmp, path)
    return out
