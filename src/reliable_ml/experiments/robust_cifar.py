"""Robust CIFAR-10: PreActResNet-18 adversarially trained at eps = 8/255, then evaluated honestly.

``python -m reliable_ml.experiments.robust_cifar --profile gpu`` trains (PGD-5 adversarial
training, one-cycle LR, bf16 + channels_last, data on the GPU) and keeps the epoch of best PGD
accuracy on 1,000 held-out *training* images (Rice et al. 2020), evaluates the whole test split
with PGD-50 and 10 restarts and AutoAttack's four components at standard strength (100
iterations, Square with 5,000 queries; robust accuracy is the worst case per image), records the
protocol in ``evaluation_protocol``, and writes ``results/gpu/04_adversarial_training.json``.
``--profile smoke`` runs the same code in seconds on a CPU with a tiny network. Notebook 04 calls
:func:`run` in its ``gpu`` profile.

Data: canonical CIFAR-10 when present, else the offline JPEG (quality 75) copy, labelled
"CIFAR-10 (JPEG q75 copy)", with the caveat (printed and stored as ``data_caveat``) that its
figures are not directly comparable with published ones on the original test set; in ``smoke``
with neither, scikit-learn's digits (labelled so).
"""

from __future__ import annotations

import time
from dataclasses import asdict

import torch

from reliable_ml import settings
from reliable_ml.course import results
from reliable_ml.experiments import entry
from reliable_ml.models import nets as models
from reliable_ml.robust import train as rt
from reliable_ml.robust.image_task import eval_subset, load_cifar
from reliable_ml.util.env import device, device_name, seed_everything

NOTEBOOK = "04_adversarial_training"


def run(
    profile: str = "gpu",
    *,
    progress: bool = True,
    save: bool = True,
    checkpoint=None,
    resume: bool = False,
    seed: int = 0,
    **overrides,
) -> dict:
    """Train and evaluate; return ``{"figures", "model", "history", "data_source", "settings"}``.

    ``overrides`` replace fields of the profile's row of :mod:`reliable_ml.settings.robust_cifar`
    (e.g. ``n_eval=1000``); a value out of its range is refused before anything runs.
    With ``save``, the figures go to ``results/<profile>/04_adversarial_training.json``.
    """
    s = settings.row("robust_cifar", profile, **overrides)
    seed_everything(seed)
    dev = device()
    train_set, test_set = load_cifar("train", profile), load_cifar("test", profile)
    source = test_set.info.source
    caveat = entry.data_caveat(test_set.info)
    if caveat:
        print(f"Caveat: {caveat}")
    # epoch selection on held-out *training* images (Rice et al. 2020), never on test images
    idx_fit, idx_select = rt.heldout_split(len(train_set.y), s.train.val_size, s.select_seed)
    if s.n_train > len(idx_fit):
        raise ValueError(
            f"n_train = {s.n_train:,} exceeds the {len(idx_fit):,} training images left after holding out "
            f"train.val_size = {s.train.val_size:,} for epoch selection; allowed: n_train <= {len(idx_fit):,}"
        )
    idx_fit = idx_fit[: s.n_train]
    x_train, y_train = train_set.x[idx_fit], train_set.y[idx_fit]
    x_val, y_val = train_set.x[idx_select], train_set.y[idx_select]
    # a fixed random sample of the test split for evaluation (the JPEG copy has no canonical order)
    x_eval, y_eval = eval_subset(test_set, s.n_eval, dev, seed)

    model = models.preact_resnet18(in_channels=train_set.x.shape[1], width=s.width).to(dev)
    t0 = time.perf_counter()
    fit = rt.train(
        model,
        x_train,
        y_train,
        s.train,
        x_val=x_val,
        y_val=y_val,
        checkpoint=checkpoint,
        resume=resume,
        progress=progress,
    )
    train_minutes = fit.seconds / 60
    t1 = time.perf_counter()
    ev = entry.evaluate_suite(model, x_eval, y_eval, s, seed=seed, progress=progress)
    attack = (
        f"PGD-{s.eval_steps}, {s.eval_restarts} restart(s), step {ev['pgd_step_size'] * 255:.2f}/255, "
        f"L-inf eps {s.eps * 255:.0f}/255, on {ev['n_eval']:,} test images"
    )
    if "worst_case_attacks" in ev:  # the headline is the worst case over every attack run on the same images
        attack = (
            f"worst case over {', '.join(ev['worst_case_attacks'])} (APGD/FAB {s.autoattack_iterations} iterations) "
            f"on the first {ev['autoattack_n']:,} evaluation images (L-inf eps {s.eps * 255:.0f}/255); {attack}"
        )
    selection = {
        "images": "held-out training images (never trained on, never test images)",
        "split_size": len(idx_select),
        "split_seed": s.select_seed,
        "check": f"PGD-{s.train.val_attack_steps} (step 2.5 eps / steps) after every epoch",
        "rule": "the epoch of best held-out robust accuracy" if s.train.keep_best else "none: the last epoch is kept",
        "keep_best": s.train.keep_best,
        "epoch_chosen": fit.best_epoch if s.train.keep_best else len(fit.history),
        "epoch_best_on_heldout": fit.best_epoch,
        "epochs_run": len(fit.history),
    }
    figures = {
        "clean_acc": ev["clean_acc"],
        "robust_acc": ev["robust_acc"],
        "attack": attack,
        "epsilon": s.eps,
        "train_minutes": round(train_minutes, 2),
        "eval_minutes": round((time.perf_counter() - t1) / 60, 2),
        "train_method": s.train.method,
        "train_epochs": s.train.epochs,
        "architecture": f"PreActResNet-18 (width {s.width})",
        "parameters": models.count_parameters(model),
        "n_train": len(y_train),
        "best_epoch": fit.best_epoch,
        "history": fit.history,
        "evaluation_protocol": entry.protocol(ev, eps=s.eps, eval_seed=seed, selection=selection),
        "data_caveat": caveat,
        **{k: v for k, v in ev.items() if k not in ("clean_acc", "robust_acc", "protocol")},
    }
    out = {
        "figures": figures,
        "model": model,
        "history": fit.history,
        "data_source": source,
        "settings": asdict(s),
        "seconds": time.perf_counter() - t0,
    }
    return entry.finish(NOTEBOOK, profile, out, save=save, seed=seed, module=__name__)


def catastrophic_overfitting(profile: str = "gpu", *, progress: bool = True) -> dict:
    """Wong et al.'s catastrophic-overfitting arms on CIFAR-10 at eps = 8/255, PreActResNet-18,
    SGD with a one-cycle learning rate, random crops and flips; PGD-10 accuracy on fixed held-out
    test images after every epoch (:func:`reliable_ml.robust.train.catastrophic_overfitting`,
    cached under ``$RELIABLE_ML_CACHE``). ``python -m reliable_ml.experiments.robust_cifar
    --catastrophic-overfitting --profile gpu``; settings: :mod:`reliable_ml.settings.catastrophic_overfitting_cifar`
    (no ``cpu`` row)."""
    c = settings.row("catastrophic_overfitting_cifar", profile)
    dev = device()
    train_set, test_set = load_cifar("train", profile), load_cifar("test", profile)
    idx = torch.randperm(len(test_set.y), generator=torch.Generator().manual_seed(0))

    def make_model(seed):
        torch.manual_seed(seed)
        return models.preact_resnet18(in_channels=train_set.x.shape[1], width=c.width).to(dev)

    out = rt.catastrophic_overfitting(
        train_set.x[: c.n_train],
        train_set.y[: c.n_train],
        test_set.x[idx],
        test_set.y[idx],
        eps=8 / 255,
        epochs=c.epochs,
        seeds=c.seeds,
        large_alpha=2.0,
        val_size=c.val_size,
        batch_size=c.batch_size,
        lr_max=c.lr_max,
        make_model=make_model,
        model_name=f"preact_resnet18_w{c.width}",
        optimizer="sgd",
        weight_decay=5e-4,
        augment=True,
        progress=progress,
    )
    return out | {"data_source": test_set.info.source, "device": device_name(dev)}


def for_chapter(profile: str, *, seed: int = 0) -> dict | None:
    """Chapter 04's CIFAR-10 section: run the experiment in the ``gpu`` profile; elsewhere read the
    committed ``results/gpu`` file, or show a note and return ``None`` when there is none."""
    from reliable_ml.util import notes
    from reliable_ml.util.env import device_name as name

    if profile == "gpu":
        out = run("gpu", progress=True, save=False, seed=seed)
        return out["figures"] | {"data_source": out["data_source"], "device": name(device())}
    try:
        return results.load(NOTEBOOK, "gpu")
    except FileNotFoundError:
        notes.show_note(
            "GPU results appear here when results/gpu/04_adversarial_training.json exists: run "
            "`python -m reliable_ml run 04 --profile gpu` on a machine with a GPU.",
            title="No GPU results yet",
        )
        return None


def main(argv: list[str] | None = None) -> None:
    ap = entry.parser(__doc__, "robust_cifar")
    ap.add_argument("--checkpoint", default=None, help="checkpoint file (written every epoch)")
    ap.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    ap.add_argument(
        "--catastrophic-overfitting",
        action="store_true",
        help="run Wong et al.'s FGSM / FGSM-RS arms instead (profiles smoke, gpu; cached)",
    )
    args = ap.parse_args(argv)
    if args.catastrophic_overfitting:
        co_profiles = settings.profiles("catastrophic_overfitting_cifar")
        co = catastrophic_overfitting(args.profile if args.profile in co_profiles else "smoke")
        for arm, summ in co["summary"].items():
            print(
                f"{arm}: "
                + ", ".join(
                    f"seed {s}: peak {v['peak']:.1f}% (epoch {v['peak_epoch']}) -> final "
                    f"{v['final']:.1f}% [{v['verdict']}]"
                    for s, v in summ["per_seed"].items()
                )
            )
        print(f"{co['data_source']} on {co['device']}; {co['seconds']['wall'] / 60:.1f} minutes")
        return
    out = run(args.profile, checkpoint=args.checkpoint, resume=args.resume, seed=args.seed)
    f = out["figures"]
    print(
        f"{out['data_source']}: clean {100 * f['clean_acc']:.1f}%, robust {100 * f['robust_acc']:.1f}% "
        f"({f['attack']}); trained in {f['train_minutes']:.1f} min"
    )
    if "autoattack_acc" in f:
        print(
            f"AutoAttack on {f['autoattack_n']}: {100 * f['autoattack_acc']:.1f}% "
            f"(worst case with PGD: {100 * f['worst_case_acc_on_autoattack_subset']:.1f}%)"
        )


if __name__ == "__main__":
    main()
