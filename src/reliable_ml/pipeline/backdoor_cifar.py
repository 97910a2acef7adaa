"""Backdoors and a planted spurious cue on CIFAR-10 (chapter 07's CIFAR-10 part): the experiment itself.

:func:`run` takes a row of :mod:`reliable_ml.settings.backdoor_cifar` and runs its ``parts``:

1. BadNets (Gu et al. 2017): a 3x3 checkerboard in the bottom-right corner stamped on a share
   of the training images of other classes, relabelled to the target class; one model per
   poison share; attack success on triggered test images of other classes, and clean accuracy;
2. the clean-label attack (Turner, Tsipras, Madry 2019): the trigger on target-class images
   only, labels unchanged, plain and after a PGD perturbation against a separately trained
   model (trained on the other half of the training split);
3. spectral signatures (Tran, Li, Madry 2018): recall of the poisons among the removed images,
   for the sweep's model at ``spectral_fraction`` (poisons from every class) and for a model
   poisoned from one ``spectral_source`` class as in the paper, whose attack success on
   triggered source-class test images is measured before and after retraining;
4. a planted cue: a class-specific grating blended into the images, agreeing with the label on
   ``cue_agree`` of the training images; accuracy with the cue agreeing, random, disagreeing.

The command line (which also writes ``results/<profile>/07_backdoors_and_spurious_correlations.json``)
is :mod:`reliable_ml.experiments.backdoor_cifar`; chapter 07 calls :func:`run` through
:mod:`reliable_ml.pipeline.backdoor_lab`. Data: canonical CIFAR-10 when present, else the offline
JPEG (quality 75) copy, labelled "CIFAR-10 (JPEG q75 copy)".
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace

import torch

from reliable_ml.models import nets as models
from reliable_ml.pipeline import poisoning as po
from reliable_ml.robust import attacks
from reliable_ml.robust import train as rt
from reliable_ml.robust.image_task import load_cifar
from reliable_ml.settings.backdoor_cifar import Settings
from reliable_ml.util.env import device, seed_everything


def fraction_key(fraction: float) -> str:
    """Results-file key of a poison share: ``f"{fraction:g}"`` (``0.001`` -> ``"0.001"``)."""
    return f"{float(fraction):g}"


def _fit(x, y, s: Settings, dev, seed: int, progress: bool, desc: str):
    torch.manual_seed(seed)
    if s.arch == "small_cnn":
        model = models.small_cnn(in_channels=x.shape[1], image_size=x.shape[-1]).to(dev)
    else:
        model = models.preact_resnet18(in_channels=x.shape[1], width=s.width).to(dev)
    cfg = replace(s.train, seed=seed)
    fit = rt.train(model, x, y, cfg, progress=progress)
    if progress:
        print(f"{desc}: {fit.seconds:.0f} s")
    return model, fit.seconds


def run(s: Settings, profile: str, *, progress: bool = True, seed: int = 0) -> dict:
    """Run the row's ``parts`` (BadNets sweep, clean-label, spectral signatures, planted cue) on
    CIFAR-10 as :func:`reliable_ml.robust.image_task.load_cifar` loads it in ``profile`` (``smoke``
    may fall back to digits); return ``{"figures", "data_source", "settings", "seconds", "hits"}``
    (``hits[fraction_key(f)]``: the BadNets model's per-image hits, bool, on the same triggered test
    images for every share, for paired tests; not JSON).

    ``s``: a row of :mod:`reliable_ml.settings.backdoor_cifar` (checked when it was built,
    e.g. by ``settings.row("backdoor_cifar", profile, **overrides)``)."""
    seed_everything(seed)
    dev = device()
    t0 = time.perf_counter()
    train_set, test_set = load_cifar("train", profile), load_cifar("test", profile)
    source = test_set.info.source
    num_classes = len(test_set.info.classes) or int(train_set.y.max()) + 1
    po.check_target(s.target, num_classes)
    perm = torch.randperm(len(train_set.y), generator=torch.Generator().manual_seed(seed))
    n = min(s.n_train, len(perm))
    x, y = train_set.x[perm[:n]], train_set.y[perm[:n]]
    # the separately trained (hardening) model: disjoint images when at least half as many remain, else the
    # whole split with another seed (Turner et al. also attack a separately trained model of the same data)
    other_idx = perm[n:] if len(perm) - n >= n // 2 else perm
    x_other, y_other = train_set.x[other_idx], train_set.y[other_idx]
    idx = torch.randperm(len(test_set.y), generator=torch.Generator().manual_seed(seed + 1))[: s.n_eval]
    x_test, y_test = test_set.x[idx], test_set.y[idx]
    x_test_f = x_test.to(dev).float() / 255
    y_test_d = y_test.to(dev)
    trigger = po.make_trigger(s.trigger_size, channels=x.shape[1])

    def asr(model):
        return po.attack_success_rate(model, x_test.to(dev), y_test_d, target=s.target, trigger=trigger)

    train_seconds = 0.0

    def fit(xs, ys, desc: str, seed_: int = seed):
        nonlocal train_seconds
        model, sec = _fit(xs, ys, s, dev, seed_, progress, desc)
        train_seconds += sec
        return model

    figures: dict = {
        "target": s.target,
        "trigger": f"{s.trigger_size}x{s.trigger_size} checkerboard, bottom-right corner",
        "parts": list(s.parts),
    }
    kept: dict = {}
    hits: dict[str, torch.Tensor] = {}  # BadNets: per triggered test image, bool, the same images for every share
    if "badnets" in s.parts:  # 1. BadNets sweep
        success, clean = {}, {}
        for f in s.fractions:
            p = po.badnets(x, y, f, target=s.target, trigger=trigger, seed=seed, num_classes=num_classes)
            model = fit(p.x, p.y, f"BadNets {100 * f:g}%")
            hit = po.attack_hits(model, x_test.to(dev), y_test_d, target=s.target, trigger=trigger)
            hits[fraction_key(f)] = hit
            success[fraction_key(f)] = int(hit.sum()) / max(len(hit), 1)  # = asr(model)
            clean[fraction_key(f)] = attacks.accuracy(model, x_test_f, y_test_d)
            if f == s.spectral_fraction:
                kept[f] = (model, p)
        figures |= {"attack_success_by_poison_fraction": success, "clean_acc_by_poison_fraction": clean}

    if "clean_label" in s.parts:  # 2. clean-label: plain vs hardened against a separately trained model
        cl_fraction = s.clean_label_share * int((y == s.target).sum()) / len(y)
        other = fit(x_other, y_other, "separately trained model", seed + 1)
        plain = po.clean_label(x, y, cl_fraction, target=s.target, trigger=trigger, seed=seed, num_classes=num_classes)
        hard = po.clean_label(
            x,
            y,
            cl_fraction,
            target=s.target,
            trigger=trigger,
            seed=seed,
            num_classes=num_classes,
            harden_model=other,
            eps=s.harden_eps,
            steps=s.harden_steps,
        )
        for name, p in (("plain", plain), ("standard", hard)):  # "standard": hardened against a standard model
            model = fit(p.x, p.y, f"clean-label {name}")
            figures[f"clean_label_success_{name}"] = asr(model)
            figures[f"clean_label_clean_acc_{name}"] = attacks.accuracy(model, x_test_f, y_test_d)
        figures |= {
            "clean_label_poisons": len(plain.idx),
            "clean_label_share_of_target": s.clean_label_share,
            "harden_eps": s.harden_eps,
        }

    if "spectral" in s.parts:  # 3. spectral signatures: all-source poisons and one source class (Tran et al.)
        if s.spectral_fraction not in kept:
            p = po.badnets(
                x, y, s.spectral_fraction, target=s.target, trigger=trigger, seed=seed, num_classes=num_classes
            )
            kept[s.spectral_fraction] = (fit(p.x, p.y, "BadNets (spectral)"), p)
        spec_all = po.spectral_defence(*kept[s.spectral_fraction], s.target, s.spectral_factor)
        p = po.badnets(
            x,
            y,
            s.spectral_fraction,
            target=s.target,
            trigger=trigger,
            seed=seed,
            num_classes=num_classes,
            source=s.spectral_source,
        )
        single = fit(p.x, p.y, f"BadNets {s.spectral_source} -> {s.target}")
        spec = po.spectral_defence(single, p, s.target, s.spectral_factor)
        cleaned = fit(p.x[spec.keep], p.y[spec.keep], "retrained after spectral filtering")

        def source_asr(model):
            return po.attack_success_rate(
                model, x_test.to(dev), y_test_d, target=s.target, trigger=trigger, source=s.spectral_source
            )

        figures |= {
            "spectral_fraction": s.spectral_fraction,
            "spectral_source": s.spectral_source,
            "spectral_detection_recall": spec.recall,
            "spectral_detection_recall_all_sources": spec_all.recall,
            "spectral_removed": len(spec.removed),
            "spectral_attack_success_before": source_asr(single),
            "spectral_attack_success_after": source_asr(cleaned),
        }

    if "cue" in s.parts:  # 4. planted cue
        cue_train = po.cue_classes(y, s.cue_agree, num_classes=num_classes, seed=seed)
        x_cue = po.add_background(
            x, cue_train, num_classes=num_classes, amplitude=s.cue_amplitude, seed=seed, mix="blend"
        )
        cue_model = fit(x_cue, y, "planted cue")
        cue_acc = {}
        for name, mode, agree in (
            ("agree", "agree_else_random", 1.0),
            ("random", "agree_else_random", 0.0),
            ("disagree", "agree_else_other", 0.0),
        ):
            c = po.cue_classes(y_test, agree, num_classes=num_classes, mode=mode, seed=seed + 2)
            xt = po.add_background(
                x_test, c, num_classes=num_classes, amplitude=s.cue_amplitude, seed=seed + 2, mix="blend"
            )
            cue_acc[name] = attacks.accuracy(cue_model, xt.to(dev).float() / 255, y_test_d)
        figures |= {"spurious_cue_acc": cue_acc, "cue_agree": s.cue_agree}

    arch = models.describe(s.arch, s.width)
    figures |= {
        "architecture": arch,
        "n_train": len(y),
        "n_eval": len(y_test),
        "train_epochs": s.train.epochs,
        "train_minutes": round(train_seconds / 60, 2),
    }
    return {
        "figures": figures,
        "data_source": source,
        "seconds": time.perf_counter() - t0,
        "settings": asdict(s),
        "hits": hits,
    }
