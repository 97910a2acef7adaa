r"""The course's one L-infinity robust model, trained once, evaluated once, cached and reused.

Chapters 04, 07, 10 and 11 all call :func:`shared_robust_model`; the first call trains and
evaluates the model (minutes on a CPU), every later call loads both from
``$RELIABLE_ML_CACHE/robust_model/<dataset>-<fingerprint>/``.

**Recipe** (Madry et al. 2018, scaled to a CPU). The small CNN of Wong, Rice & Kolter (2020)
(two stride-2 convolutions, a hidden layer; normalization is its first layer, inputs in
[0, 1]) trained on the whole MNIST training split by *PGD adversarial training*: each batch is
first attacked by ``attack_steps`` steps of L-infinity PGD from a uniform random start, step
:math:`\alpha = 2.5\,\epsilon/\text{steps}`, then the model takes an Adam step on the attacked
batch (Danskin's theorem makes that a gradient of the robust loss
:math:`\mathbb{E}\max_{\|\delta\|_\infty\le\epsilon} L(f_\theta(x+\delta), y)`). The training radius
grows linearly from 0 to :math:`\epsilon` over the first ``eps_ramp_epochs`` epochs; the learning
rate follows a one-cycle schedule. :math:`\epsilon = 0.3` on MNIST. Without MNIST the recipe
runs, loudly, on scikit-learn's 8x8 digits with ``digits_eps`` (0.1): those 8x8 images have 17
grey levels, and 0.3 would let an attacker erase most strokes.

**Evaluation** (Croce & Hein 2020; Carlini et al. 2019). On the first ``n_eval`` test images,
each attack separately on the *same* images: PGD with ``pgd_steps`` steps and ``pgd_restarts``
random restarts (worst iterate kept), APGD-CE, APGD-T (9 target classes), FAB-T and the
gradient-free Square attack with ``square_queries`` queries. An image is robust only if it
survives every attack: ``worst_case_acc`` is that per-image worst case.

**Masking checks** (:func:`masking_checks`), each of which can fail (a failed check is a
*flag*): a gradient-free attack beats the best gradient attack by more than its paired
sampling noise; PGD at a large radius (0.5: any image can be turned uniform grey) leaves more
than 5% correct beyond its binomial noise; a stronger PGD (more steps and restarts) still
lowers the suite's figure beyond noise; a transfer attack from an independently trained robust
model (another seed, a cheaper run of the same recipe) beats the white-box gradient attacks.
The tests check that a model behind a non-differentiable input quantisation is flagged and an
honest model is not.

References: Madry et al. 2018 (PGD training, MNIST challenge: 88.0% against the best attack
at eps 0.3); Wong, Rice & Kolter 2020 (the network, fast adversarial training); Croce & Hein
2020 (AutoAttack); Athalye, Carlini & Wagner 2018 and Carlini et al. 2019 (masking checks).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
from pathlib import Path

import torch
from torch import nn

from reliable_ml.models import nets as models
from reliable_ml.robust import attacks
from reliable_ml.robust import train as rt
from reliable_ml.robust.verdicts import WARNING_WORDS
from reliable_ml.util import cachelock, cachestats

RECIPE_VERSION = 1
DATASETS = ("mnist", "digits")
GRADIENT_FREE = ("square",)
NEAR_ZERO = 0.05  # "near 0" at the large radius: at most 5% correct (beyond binomial noise)
MADRY_BEST_ATTACK = 88.0  # % of MNIST test images, eps 0.3, best attack of the MNIST challenge


# --------------------------------------------------------------------------- settings and data
def settings_row(profile: str):
    from reliable_ml.settings.robust_model import TABLE

    if profile not in TABLE:
        raise ValueError(f"unknown profile {profile!r}; allowed: {', '.join(TABLE)}")
    return TABLE[profile]


def _load(dataset: str):
    from reliable_ml.data import load_images

    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r} for the shared robust model; allowed: {', '.join(DATASETS)}")
    train = load_images(dataset, "train", fallback=True)
    test = load_images(dataset, "test", fallback=True)
    used = "digits" if test.info.fallback_from or dataset == "digits" else "mnist"
    if test.info.fallback_from:
        from reliable_ml.util import notes

        notes.show_note(
            "MNIST is not available, so the shared robust model is trained and evaluated on "
            "scikit-learn's 8x8 digits at a smaller radius. Its numbers are digits numbers, not "
            "MNIST numbers (card['dataset'] = 'digits').",
            kind="warning",
            title="Shared robust model: digits fallback",
        )
    return train, test, used


def make_model(image_size: int, seed: int) -> nn.Sequential:
    """The small CNN of Wong et al. (2020) for ``image_size`` x ``image_size`` grey images."""
    torch.manual_seed(seed)
    return models.small_cnn(image_size=image_size)


def fingerprint(row, dataset: str, eps: float, x_train: torch.Tensor, x_test: torch.Tensor) -> str:
    """Hash of the recipe version, the settings row, the data set, the radius and the image bytes."""
    h = hashlib.sha256(
        json.dumps(
            {"v": RECIPE_VERSION, "row": dataclasses.asdict(row), "dataset": dataset, "eps": eps},
            sort_keys=True,
            default=list,
        ).encode()
    )
    for x in (x_train, x_test):
        h.update(str(tuple(x.shape)).encode())
        h.update(x.contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def train_config(row, eps: float, *, seed: int, epochs: int, attack_steps: int, n_train: int) -> rt.TrainConfig:
    return rt.TrainConfig(
        epochs=epochs,
        batch_size=row.batch_size,
        method="pgd",
        eps=eps,
        attack_steps=attack_steps,
        eps_ramp_epochs=row.eps_ramp_epochs,
        optimizer="adam",
        lr_max=row.lr_max,
        weight_decay=0.0,
        val_size=200,
        val_attack_steps=10,
        seed=seed,
    )


def recipe_text(row, eps: float, n_train: int) -> str:
    return (
        f"small CNN (Wong et al. 2020), PGD adversarial training (Madry et al. 2018): {row.epochs} epochs on "
        f"{n_train:,} training images, PGD-{row.attack_steps} from a random start (step 2.5 eps / "
        f"{row.attack_steps}) at L-inf eps {eps:g}, eps ramped up over {row.eps_ramp_epochs:g} epochs, "
        f"Adam with a one-cycle learning rate (peak {row.lr_max:g}), batch {row.batch_size}"
    )


# --------------------------------------------------------------------------- masking checks
def _paired(a: torch.Tensor, b: torch.Tensor, z: float) -> dict:
    """Accuracy A minus accuracy B on the same images, with its paired 95% half-width ("noise")."""
    pd = rt.paired_difference(a.cpu(), b.cpu(), z=z)
    return {"diff": 100 * pd["diff"], "noise": 100 * (pd["hi"] - pd["diff"]), "n": pd["n"]}


def masking_checks(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    ok: dict,
    *,
    source_model: nn.Module | None = None,
    large_eps: float = 0.5,
    base_steps: int = 40,
    check_steps: int = 100,
    check_restarts: int = 4,
    gradient_free=GRADIENT_FREE,
    seed: int = 0,
    z: float = 1.96,
    batch_size: int = 500,
) -> dict:
    r"""Four checks for gradient masking of ``model`` at radius ``eps``; each can raise a flag.

    ``ok``: {attack name: bool (n,)} -- correct clean *and* under that attack, per image of
    ``x`` (what :func:`reliable_ml.robust.train.evaluate` returns with ``per_image=True``; a
    ``"clean"`` entry is ignored). Names in ``gradient_free`` are gradient-free attacks, the rest
    gradient attacks. Noise is the 95% half-width of a paired difference on the same images,
    :math:`z\,\mathrm{sd}(d_i)/\sqrt n` with :math:`d_i` the per-image difference of correctness
    (or, at the large radius, the binomial half-width :math:`z\sqrt{p(1-p)/n}`).

    1. ``gradient_free_beats_gradient``: the gradient-free attacks leave fewer images correct
       than the best gradient attack (worst case over the gradient attacks) by more than noise.
    2. ``large_eps_not_near_zero``: PGD-``base_steps`` at ``large_eps`` leaves more than 5%
       correct beyond noise. (At 0.5 every image of [0, 1] can become uniform grey, so true
       robust accuracy is at most the share of the class the model gives grey:
       ``grey_ceiling``.)
    3. ``more_steps_still_lower``: PGD with ``check_steps`` steps and ``check_restarts``
       restarts breaks images that survived every attack of ``ok``, more than noise allows.
    4. ``transfer_beats_white_box``: PGD-``base_steps`` on ``source_model`` (an independently
       trained robust model), transferred, leaves fewer images correct than the white-box
       gradient attacks by more than noise. Skipped (not flagged) without ``source_model``.

    Returns ``{"flags": [names of failed checks], "checks": {name: {..., "flagged": bool,
    "meaning": str}}}`` with accuracies in %.
    """
    names = [k for k in ok if k != "clean"]
    grad = [k for k in names if k not in gradient_free]
    free = [k for k in names if k in gradient_free]
    if not grad:
        raise ValueError(f"ok must hold at least one gradient attack besides {list(gradient_free)}; got {names}")
    n = len(y)
    dev = x.device
    stack = lambda keys: torch.stack([ok[k].to(dev) for k in keys]).all(0)  # noqa: E731
    grad_ok, figure_ok = stack(grad), stack(names)
    clean_ok = ok["clean"].to(dev) if "clean" in ok else torch.ones(n, dtype=torch.bool, device=dev)
    with attacks._EvalMode(model), torch.no_grad():
        clean_ok = clean_ok & torch.cat(
            [model(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size] for i in range(0, n, batch_size)]
        )
    gen = lambda: torch.Generator(device=dev).manual_seed(seed)  # noqa: E731

    def pgd_ok(m, eps_, steps, restarts, xs=x):
        out = []
        g = gen()
        for i in range(0, n, batch_size):
            _, fooled = attacks.pgd(
                m, xs[i : i + batch_size], y[i : i + batch_size], eps_, steps=steps, restarts=restarts, generator=g
            )
            out.append(~fooled)
        return clean_ok & torch.cat(out)

    checks = {}
    if free:
        pd = _paired(grad_ok, stack(free), z)
        checks["gradient_free_beats_gradient"] = {
            "best_gradient_acc": 100 * grad_ok.double().mean().item(),
            "gradient_free_acc": 100 * stack(free).double().mean().item(),
            "gradient_attacks": grad,
            "gradient_free_attacks": free,
            **pd,
            "flagged": pd["diff"] > pd["noise"],
            "meaning": WARNING_WORDS["gradient_free_beats_gradient"],
        }
    big_ok = pgd_ok(model, large_eps, base_steps, 1)
    p = big_ok.double().mean().item()
    noise = z * math.sqrt(max(p, 1 / n) * (1 - p) / n)
    with attacks._EvalMode(model), torch.no_grad():
        grey_class = int(model(torch.full_like(x[:1], 0.5)).argmax(1))
    checks["large_eps_not_near_zero"] = {
        "large_eps": large_eps,
        "acc": 100 * p,
        "noise": 100 * noise,
        "threshold": 100 * NEAR_ZERO,
        "grey_ceiling": 100 * (y == grey_class).double().mean().item(),
        "flagged": p - noise > NEAR_ZERO,
        "meaning": f"at eps {large_eps:g} an attacker may replace any image by a uniform grey one; an attack that "
        "still leaves many images correct is not finding what provably exists",
    }
    strong_ok = pgd_ok(model, eps, check_steps, check_restarts)
    pd = _paired(figure_ok, figure_ok & strong_ok, z)
    checks["more_steps_still_lower"] = {
        "steps": check_steps,
        "restarts": check_restarts,
        "figure_acc": 100 * figure_ok.double().mean().item(),
        "strong_pgd_acc": 100 * strong_ok.double().mean().item(),
        "figure_with_strong_pgd_acc": 100 * (figure_ok & strong_ok).double().mean().item(),
        **pd,
        "flagged": pd["diff"] > pd["noise"],
        "meaning": WARNING_WORDS["more_steps_still_lower"],
    }
    if source_model is not None:
        x_tr = torch.cat(
            [
                attacks.pgd(
                    source_model, x[i : i + batch_size], y[i : i + batch_size], eps, steps=base_steps, generator=gen()
                )[0]
                for i in range(0, n, batch_size)
            ]
        )
        with attacks._EvalMode(model), torch.no_grad():
            tr_ok = clean_ok & torch.cat(
                [model(x_tr[i : i + batch_size]).argmax(1) == y[i : i + batch_size] for i in range(0, n, batch_size)]
            )
        pd = _paired(grad_ok, tr_ok, z)
        checks["transfer_beats_white_box"] = {
            "transfer_acc": 100 * tr_ok.double().mean().item(),
            "white_box_acc": 100 * grad_ok.double().mean().item(),
            **pd,
            "flagged": pd["diff"] > pd["noise"],
            "meaning": WARNING_WORDS["transfer_beats_white_box"],
        }
    return {
        "flags": [k for k, v in checks.items() if v["flagged"]],
        "checks": checks,
        "noise_rule": f"flag when the difference exceeds its 95% half-width (z = {z:g}); paired over the same "
        f"{n} images, binomial at the large radius",
    }


# --------------------------------------------------------------------------- build, cache, load
def cache_folder(dataset: str, fp: str) -> Path:
    from reliable_ml.data import cache_dir

    return cache_dir() / "robust_model" / f"{dataset}-{fp}"


def _atomic_json(path: Path, obj) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)


def _train_source(row, x_tr, y_tr, x_val, y_val, eps: float, size: int, progress: bool):
    """The transfer check's source: an independently trained robust model (seed + 1, the same
    recipe with ``source_epochs`` epochs of PGD-``source_attack_steps``). Returns ``(model, fit)``."""
    source = make_model(size, row.seed + 1)
    fit = rt.train(
        source,
        x_tr,
        y_tr,
        train_config(
            row,
            eps,
            seed=row.seed + 1,
            epochs=row.source_epochs,
            attack_steps=row.source_attack_steps,
            n_train=len(y_tr),
        ),
        x_val=x_val,
        y_val=y_val,
        progress=progress,
    )
    return source, fit


def _training_split(row, train, test):
    """The training images of the shared model and the held-out images its per-epoch check watches."""
    x_tr, y_tr = train.x, train.y
    if row.train_size:
        x_tr, y_tr = x_tr[: row.train_size], y_tr[: row.train_size]
    return x_tr, y_tr, test.x.flip(0), test.y.flip(0)  # the per-epoch check watches the last test images


def _build(row, train, test, used: str, eps: float, fp: str, progress: bool) -> tuple[nn.Module, dict]:
    x_tr, y_tr, x_val, y_val = _training_split(row, train, test)
    size = test.x.shape[-1]
    t0, c0 = time.perf_counter(), time.process_time()
    model = make_model(size, row.seed)
    fit = rt.train(
        model,
        x_tr,
        y_tr,
        train_config(row, eps, seed=row.seed, epochs=row.epochs, attack_steps=row.attack_steps, n_train=len(y_tr)),
        x_val=x_val,
        y_val=y_val,
        progress=progress,
    )
    source, source_fit = _train_source(row, x_tr, y_tr, x_val, y_val, eps, size, progress)
    t1 = time.perf_counter()
    n = min(row.n_eval, len(test.y))
    x, y = test.x[:n].float() / 255, test.y[:n]
    ev = rt.evaluate(
        model,
        x,
        y,
        eps,
        steps=row.pgd_steps,
        restarts=row.pgd_restarts,
        autoattack_n=n,
        autoattack_attacks=list(row.attacks),
        square_queries=row.square_queries,
        seed=row.seed,
        progress=progress,
        per_image=True,
    )
    t2 = time.perf_counter()
    ok = ev.pop("per_image_ok")
    masking = masking_checks(
        model,
        x,
        y,
        eps,
        ok,
        source_model=source,
        large_eps=row.large_eps,
        base_steps=row.pgd_steps,
        check_steps=row.check_steps,
        check_restarts=row.check_restarts,
        seed=row.seed,
    )
    t3 = time.perf_counter()
    card = {
        "fingerprint": fp,
        "dataset": used,
        "eps": eps,
        "image_size": size,
        "n_train": len(y_tr),
        "recipe": recipe_text(row, eps, len(y_tr)),
        "settings": dataclasses.asdict(row),
        "clean_acc": 100 * ev["clean_acc"],
        "worst_case_acc": 100 * ev["worst_case_acc"],
        "attack_acc": {k: 100 * v for k, v in ev["attack_acc"].items()},
        "attacks": ev["worst_case_attacks"],
        "n_eval": n,
        "square_queries": row.square_queries,
        "masking": masking,
        "reference": {
            "madry_best_attack_acc": MADRY_BEST_ATTACK,
            "what": "Madry et al. 2018 MNIST model, best attack of the MNIST challenge, eps 0.3",
        },
        "history": fit.history,
        "source_model": {
            "seed": row.seed + 1,
            "epochs": row.source_epochs,
            "attack_steps": row.source_attack_steps,
            "val_robust_acc": 100 * source_fit.history[-1]["val_robust_acc"],
        },
        "seconds": {
            "train": round(t1 - t0, 1),
            "evaluate": round(t2 - t1, 1),
            "masking_checks": round(t3 - t2, 1),
            "total": round(t3 - t0, 1),
            "cpu_total": round(time.process_time() - c0, 1),
            "note": "wall seconds of the cold build (train both models, evaluate, check) on this machine; "
            "cpu_total: CPU seconds of the process",
        },
        "per_image_ok": {k: v.int().tolist() for k, v in ok.items()},
    }
    return model, json.loads(json.dumps(card))  # exactly what a later call reads back


def shared_robust_model(
    dataset: str = "mnist", profile: str = "cpu", progress: bool = True
) -> tuple[torch.nn.Module, dict]:
    r"""The course's one L-infinity robust model and its evaluation card.

    Returns ``(model, card)``: the model in eval mode on the CPU, taking [0, 1] images of shape
    ``(N, 1, 28, 28)`` (``(N, 1, 8, 8)`` on the digits fallback; ``card["image_size"]``) with
    normalization as its first layer; ``card`` a JSON-able dict: ``fingerprint``, ``dataset``
    (``"mnist"``, or ``"digits"`` when MNIST is absent: a loud warning is shown), ``eps`` (0.3
    on MNIST, ``digits_eps`` on digits), ``clean_acc``, ``worst_case_acc`` (per-image worst
    case over the whole suite) and ``attack_acc`` ({attack: accuracy}) in %, ``n_eval``,
    ``square_queries``, ``recipe``, ``masking`` (``flags`` and ``checks``, see
    :func:`masking_checks`), ``seconds`` (the cold build's cost), ``history`` (per epoch) and
    ``per_image_ok`` ({attack: 0/1 per evaluation image}).

    The recipe (see the module docstring): PGD adversarial training (Madry et al. 2018),
    :math:`\min_\theta \mathbb{E}\max_{\|\delta\|_\infty \le \epsilon} L(f_\theta(x+\delta), y)`
    with the inner maximum approximated by PGD from a random start, of the small CNN of Wong
    et al. (2020), settings from :mod:`reliable_ml.settings.robust_model` (row ``profile``).
    The first call for a fingerprint (a hash of recipe version, settings row, data set, radius
    and image bytes) trains and evaluates; later calls load from ``$RELIABLE_ML_CACHE``.
    """
    row = settings_row(profile)
    train, test, used = _load(dataset)
    eps = row.eps if used == "mnist" else row.digits_eps
    fp = fingerprint(row, used, eps, train.x, test.x)
    folder = cache_folder(used, fp)

    def cached(quiet: bool):
        if not ((folder / "card.json").exists() and (folder / "model.pt").exists()):
            return None
        try:
            model = make_model(test.x.shape[-1], row.seed)
            card = json.loads((folder / "card.json").read_text())
            model.load_state_dict(torch.load(folder / "model.pt", weights_only=True))
        except Exception as exc:  # noqa: BLE001 - an unreadable cache entry is rebuilt
            if not quiet:
                print(f"shared robust model: cache entry {folder.name} unreadable ({exc}); rebuilding")
            return None
        cachestats.record("robust_model", hit=True)
        return model.eval(), card

    with torch.random.fork_rng():  # the caller's random state is the same whether the cache was warm or cold
        if (hit := cached(quiet=True)) is not None:
            return hit
        with cachelock.building(folder):  # chapters side by side: the first one builds, the others wait
            if (hit := cached(quiet=False)) is not None:
                return hit
            if progress:
                print(f"shared robust model {used}-{fp}: not cached, training and evaluating it once ({profile} row)")
            cachestats.record("robust_model", hit=False)
            model, card = _build(row, train, test, used, eps, fp, progress)
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".model.pt.{os.getpid()}.tmp"
            torch.save(model.state_dict(), tmp)
            os.replace(tmp, folder / "model.pt")
            _atomic_json(folder / "card.json", card)
    return model.cpu().eval(), card


def transfer_source(dataset: str = "mnist", profile: str = "cpu", progress: bool = False) -> tuple[nn.Module, dict]:
    """The card's transfer source (:func:`_train_source`), for checks on other images than the
    card's. The card keeps no copy of it, so the first call retrains it (the same seed, recipe and
    data: a few minutes on a CPU) and keeps it beside the shared model as ``source.pt``.

    Returns ``(model, info)``: the model in eval mode on the CPU and ``{"val_robust_acc",
    "card_val_robust_acc", "matches_card", "seconds"}``: its held-out PGD-10 accuracy at the end of
    training against the card's record of the source it built (equal when the rebuild is exact),
    and the seconds the rebuild took; kept beside it as ``source.json``.
    """
    row = settings_row(profile)
    model, card = shared_robust_model(dataset, profile, progress=progress)
    train, test, used = _load(dataset)
    folder = cache_folder(used, card["fingerprint"])
    path = folder / "source.pt"
    source = make_model(card["image_size"], row.seed + 1)

    def cached() -> bool:
        try:
            source.load_state_dict(torch.load(path, weights_only=True))
            info.update(json.loads(path.with_suffix(".json").read_text()))
        except FileNotFoundError:
            return False
        except Exception as exc:  # noqa: BLE001 - an unreadable entry is rebuilt
            print(f"transfer source: cache entry {folder.name}/source.pt unreadable ({exc}); rebuilding")
            return False
        return True

    info = {
        "card_val_robust_acc": card["source_model"]["val_robust_acc"],
        "val_robust_acc": None,
        "matches_card": None,
        "seconds": None,
    }
    with torch.random.fork_rng():
        if cached():
            cachestats.record("robust_model", hit=True)
            return source.eval(), info
        with cachelock.building(path):
            if cached():
                cachestats.record("robust_model", hit=True)
                return source.eval(), info
            cachestats.record("robust_model", hit=False)
            x_tr, y_tr, x_val, y_val = _training_split(row, train, test)
            t0 = time.perf_counter()
            built, fit = _train_source(row, x_tr, y_tr, x_val, y_val, card["eps"], card["image_size"], progress)
            acc = 100 * fit.history[-1]["val_robust_acc"]
            info |= {
                "val_robust_acc": acc,
                "matches_card": bool(abs(acc - info["card_val_robust_acc"]) < 1e-9),
                "seconds": round(time.perf_counter() - t0, 1),
            }
            tmp = folder / f".source.pt.{os.getpid()}.tmp"
            torch.save(built.state_dict(), tmp)
            _atomic_json(path.with_suffix(".json"), info)
            os.replace(tmp, path)
            source.load_state_dict(built.state_dict())
    return source.eval(), info


SAMPLE_CHECKS_VERSION = 1  # bump when what sample_checks computes changes: its cached outcomes are recomputed


def sample_checks(
    model: nn.Module,
    source: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    large_eps: float = 0.5,
    steps: int = 40,
    seed: int = 0,
    batch_size: int = 500,
    cache: bool = True,
) -> dict[str, torch.Tensor]:
    """Masking checks 2 and 4 of :func:`masking_checks` on any images (the standard suite's random
    sample rather than the card's first test images), as per-image outcomes:

    * ``large_ok``: correct under PGD-``steps`` (one random start) at ``large_eps`` (check 2: true
      robust accuracy there is at most the share of the class the model gives uniform grey);
    * ``transfer_ok``: correct on adversarial images made by PGD-``steps`` at ``eps`` on ``source``
      (check 4: an independently trained robust model, :func:`transfer_source`);
    * ``clean_ok``: correct on the clean image (both others imply it).

    ``x`` float in [0, 1]. With ``cache`` the outcomes are kept beside the models
    (:func:`reliable_ml.util.evalcache.cached_model_eval`), keyed by both models' weights, the
    settings and the images."""
    from reliable_ml.util import evalcache
    from reliable_ml.util.cachedir import cache_dir

    n, dev = len(y), x.device

    def compute() -> dict[str, torch.Tensor]:
        def predict(m, xs):
            with attacks._EvalMode(m), torch.no_grad():
                return torch.cat([m(xs[i : i + batch_size]).argmax(1) for i in range(0, n, batch_size)])

        clean_ok = predict(model, x) == y
        g = torch.Generator(device=dev).manual_seed(seed)
        fooled = torch.cat(
            [
                attacks.pgd(model, x[i : i + batch_size], y[i : i + batch_size], large_eps, steps=steps, generator=g)[1]
                for i in range(0, n, batch_size)
            ]
        )
        g = torch.Generator(device=dev).manual_seed(seed)
        x_tr = torch.cat(
            [
                attacks.pgd(source, x[i : i + batch_size], y[i : i + batch_size], eps, steps=steps, generator=g)[0]
                for i in range(0, n, batch_size)
            ]
        )
        return {
            "clean_ok": clean_ok.cpu(),
            "large_ok": (clean_ok & ~fooled).cpu(),
            "transfer_ok": (clean_ok & (predict(model, x_tr) == y)).cpu(),
        }

    if not cache:
        return compute()
    spec = {
        "v": SAMPLE_CHECKS_VERSION,
        "eps": eps,
        "large_eps": large_eps,
        "steps": steps,
        "seed": seed,
        "source": evalcache.model_fingerprint(source),
    }
    shape = ((n,), torch.bool)
    return evalcache.cached_model_eval(
        cache_dir() / "robust_model" / "evaluations",
        "masking-sample",
        model,
        spec,
        (x, y),
        compute,
        expected={"clean_ok": shape, "large_ok": shape, "transfer_ok": shape},
    )


def card_strength_text(card: dict) -> str:
    """What the card's worst case is: a reduced-strength figure (its own suite, AutoAttack's gradient
    components at torchattacks' default of 10 iterations, on the first ``n_eval`` test images), not
    the standard suite's figure that chapter 4 reports on a random sample."""
    return (
        f"the card's reduced-strength worst case: its own suite ({', '.join(card['attack_acc'])}; AutoAttack's "
        f"gradient components at torchattacks' default of 10 iterations) on the first {card['n_eval']:,} test "
        "images; chapter 4 reports the standard suite's worst case (100 iterations, on a random sample of the "
        "test set) as its headline"
    )


def summary(card: dict) -> str:
    """One line: the card's reduced-strength worst case (:func:`card_strength_text`), clean accuracy,
    flags."""
    flags = card["masking"]["flags"]
    return (
        f"shared robust model ({card['dataset']}, eps {card['eps']:g}, {card['fingerprint']}): worst case "
        f"{card['worst_case_acc']:.1f}%, {card_strength_text(card)} (clean {card['clean_acc']:.1f}%); masking "
        f"flags: {', '.join(flags) if flags else 'none'}"
    )


def results_entry(card: dict) -> dict:
    """The ``robust_model`` entry of a chapter's results file (no per-image data)."""
    keep = (
        "fingerprint",
        "dataset",
        "eps",
        "worst_case_acc",
        "clean_acc",
        "attack_acc",
        "square_queries",
        "n_eval",
        "recipe",
        "masking",
        "seconds",
    )
    out = {k: card[k] for k in keep}
    # a cached card keeps the words of the code that built it; the results file gets today's
    # words for each check, which say what a flag can mean without asserting masking
    checks = {
        k: {**c, "meaning": WARNING_WORDS.get(k, c.get("meaning", ""))} for k, c in card["masking"]["checks"].items()
    }
    out["masking"] = {**card["masking"], "checks": checks}
    return out
