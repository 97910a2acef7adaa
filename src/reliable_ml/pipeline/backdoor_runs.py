r"""The trained models of chapter 7 (backdoors and spurious correlations) and what is computed from
them, kept in the result cache so that a warm re-run of the chapter reads them back.

* :func:`setup` loads the data once (a fixed training subset, a disjoint "other" part for
  the standard hardening model of the clean-label attack, the test set) into a :class:`Lab`;
* :func:`train_model` trains the chapter's small CNN (Adam, one-cycle, ``robust_train.train``);
* :func:`badnets_sweep` trains one model per (poison share, seed) and keeps each model's weights,
  row and per-image hits; :func:`spectral_models`, :func:`cue_arms`, :func:`saliency_study` and
  :func:`cifar_subset` do the same for the other sections.

Every entry is keyed (:func:`reliable_ml.util.result_cache.cached`) by its settings, the lab's
images and labels (and any model weights it reads) and the source of the modules that compute
it (:func:`_code`: this module, the poisoning, training, attack, network and saliency modules).
The words, tables and figures around these numbers live in
:mod:`reliable_ml.pipeline.backdoor_lab`, so editing them leaves the cache warm.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from reliable_ml import data
from reliable_ml.models import nets as models
from reliable_ml.models import pooling
from reliable_ml.pipeline import poisoning as po
from reliable_ml.robust import attacks
from reliable_ml.robust import saliency as sal
from reliable_ml.robust import train as rt
from reliable_ml.util import notes, result_cache

try:
    from reliable_ml.util.progress import tqdm
except ImportError:  # pragma: no cover - tqdm comes with the requirements

    def tqdm(it, **_):
        return it


@dataclass
class Lab:
    """The data and the training recipe shared by every model of the chapter."""

    x_train: torch.Tensor  # (n_train, C, H, W) uint8, CPU
    y_train: torch.Tensor  # (n_train,) int64
    x_other: torch.Tensor  # disjoint training images for the separately trained model
    y_other: torch.Tensor
    x_test: torch.Tensor  # (N, C, H, W) uint8 on the device
    y_test: torch.Tensor  # (N,) int64 on the device
    test_raw: torch.Tensor  # the test images on CPU (uint8), for background cues
    source: str  # data-source label, e.g. "MNIST" or "scikit-learn digits (8x8, bundled)"
    trigger: po.Trigger
    target: int
    epochs: int
    seed: int
    device: torch.device
    num_classes: int = 10

    @property
    def x_test_f(self) -> torch.Tensor:
        """Test images as floats in [0, 1]."""
        return self.x_test.float() / 255

    @property
    def image_size(self) -> int:
        return int(self.x_train.shape[-1])

    @property
    def trigger_mask(self) -> torch.Tensor:
        return self.trigger.mask(self.image_size, self.image_size)


def setup(
    dataset: str, n_train: int, *, epochs: int, target: int, trigger_size: int, seed: int, device: torch.device
) -> Lab:
    """Load ``dataset`` (falling back loudly to digits), draw a fixed training subset of
    ``n_train`` images and keep the rest of the training split as the disjoint "other" part."""
    train_set = data.load_images(dataset, "train", fallback=True)
    test_set = data.load_images(dataset, "test", fallback=True)
    notes.show_fallback(test_set.info)
    num_classes = len(test_set.info.classes) or int(train_set.y.max()) + 1
    target = po.check_target(target, num_classes)
    perm = torch.randperm(len(train_set.y), generator=torch.Generator().manual_seed(seed))
    n = min(int(n_train), len(perm) - 100)
    if n < 100:
        raise ValueError(f"n_train must leave at least 100 images for the other model; got {n_train!r}")
    rest = perm[n:]
    trigger = po.make_trigger(trigger_size, channels=train_set.x.shape[1])
    return Lab(
        train_set.x[perm[:n]],
        train_set.y[perm[:n]],
        train_set.x[rest],
        train_set.y[rest],
        test_set.x.to(device),
        test_set.y.to(device),
        test_set.x,
        test_set.info.source,
        trigger,
        target,
        int(epochs),
        int(seed),
        device,
        num_classes,
    )


def train_model(
    lab: Lab, x: torch.Tensor, y: torch.Tensor, *, method: str = "standard", eps: float = 0.0, seed: int | None = None
) -> nn.Module:
    """The chapter's small CNN (chapter 4) trained on uint8 images ``x``: Adam, one-cycle
    learning rate (peak 5e-3), batch 128, ``lab.epochs`` epochs (one more for FGSM-RS, whose
    radius ramps up over the first epoch). The seed fixes initial weights and batch order."""
    seed = lab.seed if seed is None else int(seed)
    torch.manual_seed(seed)
    model = models.small_cnn(in_channels=x.shape[1], image_size=lab.image_size).to(lab.device)
    adversarial = method != "standard"
    cfg = rt.TrainConfig(
        epochs=lab.epochs + adversarial,
        batch_size=128,
        method=method,
        eps=eps,
        eps_ramp_epochs=1.0 if adversarial else 0.0,
        optimizer="adam",
        lr_max=5e-3,
        weight_decay=0.0,
        val_size=0,
        seed=seed,
    )
    rt.train(model, x, y, cfg, progress=False)
    return model


def clean_accuracy(lab: Lab, model: nn.Module) -> float:
    """Accuracy on the unmodified test set."""
    return attacks.accuracy(model, lab.x_test_f, lab.y_test)


def success(lab: Lab, model: nn.Module, source: int | None = None) -> tuple[int, int]:
    """``(hits, n)`` of :func:`poisoning.attack_success` on the lab's test set."""
    return po.attack_success(model, lab.x_test, lab.y_test, target=lab.target, trigger=lab.trigger, source=source)


def hits(lab: Lab, model: nn.Module, source: int | None = None) -> np.ndarray:
    """Per triggered test image (:func:`poisoning.attack_hits`), as a float 0/1 array: the same
    images for every model, for paired tests."""
    return (
        po.attack_hits(model, lab.x_test, lab.y_test, target=lab.target, trigger=lab.trigger, source=source)
        .numpy()
        .astype(float)
    )


# --------------------------------------------------------------------------- result cache
def _code() -> tuple:
    """The modules whose source is part of every cache key of this chapter's results: an edit to
    the training loop, the poisoning, the attacks, the network (and its pooling layer) or this
    module recomputes."""
    return (sys.modules[__name__], po, rt, attacks, models, pooling, sal)


def _lab_key(lab: Lab) -> tuple[dict, list[torch.Tensor]]:
    """The settings and tensors that fix every model of ``lab``: the recipe (epochs, target,
    trigger placement, device) and the training and test images, labels and trigger pattern."""
    t = lab.trigger
    settings = {
        "epochs": lab.epochs,
        "target": lab.target,
        "trigger": {"corner": t.corner, "margin": t.margin, "alpha": t.alpha},
        "device": lab.device.type,
        "num_classes": lab.num_classes,
    }
    return settings, [lab.x_train, lab.y_train, lab.x_test, lab.y_test, t.pattern]


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def _restore(lab: Lab, state: dict[str, torch.Tensor], in_channels: int) -> nn.Module:
    """The chapter's small CNN with the weights ``state`` (a cached model), on the lab's device."""
    model = models.small_cnn(in_channels=in_channels, image_size=lab.image_size)
    model.load_state_dict(state)
    return model.to(lab.device).eval()


# --------------------------------------------------------------------------- BadNets sweep
def _sweep_model(lab: Lab, f: float, seed: int) -> dict:
    """One BadNets model of :func:`badnets_sweep`, uncached: its row, weights and per-image hits."""
    p = po.badnets(lab.x_train, lab.y_train, f, target=lab.target, trigger=lab.trigger, seed=seed)
    model = train_model(lab, p.x, p.y, seed=seed)
    hit = po.attack_hits(model, lab.x_test, lab.y_test, target=lab.target, trigger=lab.trigger)
    row = {
        "fraction": f,
        "seed": seed,
        "poisoned": len(p.idx),
        "hits": int(hit.sum()),
        "n": len(hit),
        "success": int(hit.sum()) / len(hit),
        "clean": clean_accuracy(lab, model),
    }
    return {"row": row, "state": _state(model), "hit": hit}


def badnets_sweep(lab: Lab, fractions, seeds: int, keep=(), progress: bool = True, cache: bool = True):
    """One model per (poison share, seed). Returns ``(runs, kept, each)``: a frame with one row per
    model (``fraction``, ``seed``, ``poisoned``, ``hits``, ``n``, ``success``, ``clean``,
    ``drop`` = same-seed clean accuracy without poison minus this one, in points),
    ``{fraction: (model, Poisoned)}`` for the shares in ``keep`` at the lab's seed, and
    ``each[(fraction, seed)]``, the model's per-image hits (bool, :func:`poisoning.attack_hits`,
    the same triggered test images for every model) for paired tests.

    With ``cache`` each model (row, weights, hits) is kept in the result cache
    (:mod:`reliable_ml.util.result_cache`), keyed by the share, the seed, the lab's images and
    recipe (:func:`_lab_key`) and the source of the computing modules (:func:`_code`)."""
    fractions = sorted({po.check_fraction(f, "poison fraction") for f in fractions} | {0.0})
    if int(seeds) < 1:
        raise ValueError(f"seeds must be >= 1; got {seeds!r}")
    rows, kept, each = [], {}, {}
    settings, tensors = _lab_key(lab)
    jobs = [(lab.seed + s, f) for s in range(int(seeds)) for f in fractions]
    for seed, f in tqdm(jobs, desc="BadNets models", disable=not progress):
        res = result_cache.cached(
            "badnets_sweep",
            settings | {"fraction": f, "seed": seed},
            lambda f=f, seed=seed: _sweep_model(lab, f, seed),
            tensors=tensors,
            code=_code(),
            enabled=cache,
        )
        rows.append(dict(res["row"]))
        each[f, seed] = res["hit"]
        if seed == lab.seed and f in keep:
            p = po.badnets(lab.x_train, lab.y_train, f, target=lab.target, trigger=lab.trigger, seed=seed)
            kept[f] = (_restore(lab, res["state"], lab.x_train.shape[1]), p)
    runs = pd.DataFrame(rows)
    base = runs[runs["fraction"] == 0].set_index("seed")["clean"]
    runs["drop"] = 100 * (runs["seed"].map(base) - runs["clean"])
    return runs, kept, each


def spectral_models(lab: Lab, p: po.Poisoned, fraction: float, factor: float, source: int, cache: bool = True):
    """The two models of Tran et al.'s single-source arm (:func:`reliable_ml.pipeline.backdoor_lab.spectral_arms`):
    one trained on the poisoned set ``p`` (poisons from class ``source`` at share ``fraction``) and one
    retrained on what the spectral filter (removing ``factor`` x the expected poisons) keeps. With
    ``cache`` both weights are kept in the result cache (as in :func:`badnets_sweep`)."""

    def build() -> dict:
        model = train_model(lab, p.x, p.y)
        spec = po.spectral_defence(model, p, lab.target, factor)
        return {"model": _state(model), "cleaned": _state(train_model(lab, p.x[spec.keep], p.y[spec.keep]))}

    settings, tensors = _lab_key(lab)
    states = result_cache.cached(
        "badnets_spectral",
        settings | {"fraction": fraction, "factor": factor, "source": source, "seed": lab.seed},
        build,
        tensors=[*tensors, p.x, p.y],
        code=_code(),
        models=2,
        enabled=cache,
    )
    return tuple(_restore(lab, states[k], lab.x_train.shape[1]) for k in ("model", "cleaned"))


# --------------------------------------------------------------------------- planted cue
CUE_TESTS = (
    "original (cue agrees)",
    "mixed-same (new background of the same class)",
    "mixed-rand (cue random)",
    "mixed-other (cue of a random other class: disagrees)",
    "only-BG (digit removed)",
)


def cue_test_sets(lab: Lab, amplitude: float) -> dict[str, torch.Tensor]:
    """The five test sets of the background benchmark (Xiao et al. 2020), as float images on the device."""
    y = lab.y_test.cpu()
    variants = [
        (y, True),
        (y, True),
        (po.cue_classes(y, 0.0, seed=lab.seed + 1), True),
        (po.cue_classes(y, 0.0, mode="agree_else_other", seed=lab.seed + 2), True),
        (y, False),
    ]
    return {
        name: po.add_background(lab.test_raw, cue, amplitude=amplitude, seed=lab.seed + 10 + i, foreground=keep)
        .to(lab.device)
        .float()
        / 255
        for i, (name, (cue, keep)) in enumerate(zip(CUE_TESTS, variants))
    }


def cue_arms(lab: Lab, agree: float, amplitude: float, seeds: int = 1, cache: bool = True) -> pd.DataFrame:
    """Accuracy (%) of a model trained with a background cue that agrees with the label on a
    share ``agree`` of the images ("cue") and of a control whose cues are random ("control"),
    on each test set of :func:`cue_test_sets`; one row per (model, seed, test set). With
    ``cache`` each model's accuracies are kept in the result cache (as in :func:`badnets_sweep`,
    keyed also by ``agree``, ``amplitude``, the seed and the raw test images)."""
    tests = None
    rows = []
    settings, tensors = _lab_key(lab)
    for s in range(int(seeds)):
        seed = lab.seed + s
        for arm, share in (("cue", agree), ("control", 0.0)):

            def build(share=share, seed=seed) -> dict[str, float]:
                nonlocal tests
                tests = cue_test_sets(lab, amplitude) if tests is None else tests
                cue = po.cue_classes(lab.y_train, share, seed=seed)
                model = train_model(
                    lab, po.add_background(lab.x_train, cue, amplitude=amplitude, seed=seed), lab.y_train, seed=seed
                )
                return {name: 100 * attacks.accuracy(model, x, lab.y_test) for name, x in tests.items()}

            acc = result_cache.cached(
                "badnets_cue",
                settings | {"share": share, "amplitude": amplitude, "seed": seed, "lab_seed": lab.seed},
                build,
                tensors=[*tensors, lab.test_raw],
                code=_code(),
                enabled=cache,
            )
            rows += [{"model": arm, "seed": seed, "test set": name, "accuracy (%)": acc[name]} for name in CUE_TESTS]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- saliency
def saliency_study(
    lab: Lab,
    trio: dict,
    n: int,
    *,
    ig_steps: int,
    sg_samples: int,
    sg_sigma: float,
    random_inits: int = 0,
    cache: bool = True,
):
    """Share (%) of |saliency| for the target class that falls in the trigger patch, on ``n``
    triggered test images of other classes, for each model in ``trio`` and each method of
    :data:`saliency.METHODS`, plus ``random_inits`` copies of the same network with random
    weights (Adebayo et al. 2018's model-randomisation check: a method's share on a network that
    learned nothing is the floor a trained model's share must clear; no training, and the global
    random state is left as it was). Returns ``(shares, maps, x_trig, each)``: maps of the first 4
    images, and ``each[(model, method)]``, the per-image shares (fractions) for paired tests.
    With ``cache`` these are kept in the result cache, keyed by the settings, the lab's images and
    the models' weights (as in :func:`badnets_sweep`)."""
    pick = torch.nonzero(lab.y_test != lab.target).flatten()[:n]
    x_trig = po.stamp(lab.x_test_f[pick], lab.trigger)
    settings, tensors = _lab_key(lab)
    settings |= {
        "n": int(n),
        "ig_steps": ig_steps,
        "sg_samples": sg_samples,
        "sg_sigma": sg_sigma,
        "random_inits": int(random_inits),
        "models": list(trio),
        "seed": lab.seed,
    }
    weights = [t for m in trio.values() for t in m.state_dict().values()]

    def build() -> dict:
        shares, maps, each = _saliency(lab, trio, x_trig, ig_steps, sg_samples, sg_sigma, random_inits)
        return {
            "shares": shares,
            "maps": {f"{a}\t{b}": v for (a, b), v in maps.items()},
            "each": {f"{a}\t{b}": torch.from_numpy(v) for (a, b), v in each.items()},
            "order": list(shares[next(iter(shares))]),
        }

    out = result_cache.cached(
        "badnets_saliency", settings, build, tensors=[*tensors, *weights], code=_code(), models=0, enabled=cache
    )
    maps = {tuple(k.split("\t")): v for k, v in out["maps"].items()}
    each = {tuple(k.split("\t")): v.numpy() for k, v in out["each"].items()}
    return pd.DataFrame(out["shares"]).loc[out["order"]], maps, x_trig, each


def _saliency(lab: Lab, trio: dict, x_trig, ig_steps: int, sg_samples: int, sg_sigma: float, random_inits: int):
    """:func:`saliency_study`'s maps and shares, uncached."""
    gen = torch.Generator(device=lab.device).manual_seed(lab.seed)
    kwargs = {
        "SmoothGrad": {"sigma": sg_sigma, "n_samples": sg_samples, "generator": gen},
        "integrated gradients": {"steps": ig_steps},
    }
    models_ = dict(trio)
    for i in range(int(random_inits)):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(10_000 + i)
            net = models.small_cnn(in_channels=x_trig.shape[1], image_size=lab.image_size)
        models_[random_name(i)] = net.to(lab.device)
    shares, maps, each = {}, {}, {}
    for name, model in models_.items():
        for method, fn in sal.METHODS.items():
            attr = fn(model, x_trig, lab.target, **kwargs.get(method, {}))
            maps[name, method] = attr[:4].cpu()
            each[name, method] = sal.region_share(attr, lab.trigger_mask).cpu().numpy()
            shares.setdefault(method, {})[name] = 100 * float(each[name, method].mean())
    return shares, maps, each


def random_name(i: int) -> str:
    """The row name of the ``i``-th random-weights network of :func:`saliency_study`."""
    return f"random weights (init {i})"


# --------------------------------------------------------------------------- CIFAR-10 subset
def cifar_subset(seed: int, progress: bool = False, cache: bool = True) -> dict | None:
    """The cpu profile's CIFAR-10 part (the "cpu" row of :mod:`reliable_ml.settings.backdoor_cifar`),
    trained once as is and once with random crops and flips; ``None`` with a visible note if
    CIFAR-10 is missing. ``hits`` holds the per-image hits of both runs
    (:func:`reliable_ml.pipeline.backdoor_lab.cifar_over_base`). With ``cache`` the result is kept
    in the result cache, keyed by both
    settings rows, the seed, the device, the CIFAR-10 images and labels and the source of the
    computing modules (its ``train_minutes`` is then the run that filled the cache)."""
    from dataclasses import replace

    from reliable_ml import settings
    from reliable_ml.pipeline import backdoor_cifar
    from reliable_ml.robust import image_task
    from reliable_ml.util.env import device

    row = settings.row("backdoor_cifar", "cpu")
    aug = settings.row("backdoor_cifar", "cpu", train=replace(row.train, augment=True))

    def build() -> dict:
        out = backdoor_cifar.run(row, "cpu", progress=progress, seed=seed)
        out_aug = backdoor_cifar.run(aug, "cpu", progress=progress, seed=seed)
        keys = ("attack_success_by_poison_fraction", "clean_acc_by_poison_fraction")
        return out["figures"] | {
            "data_source": out["data_source"],
            "with_crop_flip": {k: out_aug["figures"][k] for k in keys},
            "hits": {"as_is": out["hits"], "crop_flip": out_aug["hits"]},
        }

    try:
        sets = [image_task.load_cifar(split, "cpu") for split in ("train", "test")]
        return result_cache.cached(
            "badnets_cifar_subset",
            {"row": row, "augmented": aug, "seed": int(seed), "device": device().type},
            build,
            tensors=[t for s in sets for t in (s.x, s.y)],
            code=(*_code(), backdoor_cifar, image_task),
            models=2 * len(row.fractions),
            enabled=cache,
        )
    except data.DataUnavailable as exc:
        notes.show_note(
            f"The CIFAR-10 subset part needs CIFAR-10, which is not available here ({exc}). Set "
            "RELIABLE_ML_DATA to a folder holding `cifar-10-batches-py` or the JPEG copy "
            "`cifar10-jpeg/{train,test}`, or run with internet access.",
            kind="warning",
            title="CIFAR-10 missing",
        )
        return None
