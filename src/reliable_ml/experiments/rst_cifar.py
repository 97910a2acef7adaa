"""Robust self-training on CIFAR-10: 4,000 labels + the rest of the training split unlabeled.

``python -m reliable_ml.experiments.rst_cifar --profile gpu`` runs the three arms of
:func:`reliable_ml.robust.self_training.compare` (robust training on the labeled images only, RST with
pseudo-labels from a standard model trained on them, and the ceiling with the pool's true
labels), each for the same number of SGD steps, with a PreActResNet-18 at eps = 8/255, and
writes ``results/gpu/06_robust_self_training.json``. Every arm is evaluated with chapter 04's suite
(:func:`reliable_ml.experiments.entry.evaluate_suite`: PGD with restarts and AutoAttack's four
components at the strength of ``settings.robust_cifar``'s gpu row, worst case per image); the
labeled-only arm, which makes many passes over its 4,000 images, stops early on held-out robust
accuracy (training images held out of every arm; Rice et al. 2020), and the protocol goes to
``evaluation_protocol``. Target (issue 7): RST at least 5 points of
robust accuracy above labeled-only, and within 5 points of the ceiling.
``--profile smoke`` runs the same code in seconds on a CPU with a tiny network and pool.

Data: canonical CIFAR-10 when present, else the offline JPEG (quality 75) copy, labelled
"CIFAR-10 (JPEG q75 copy)"; in ``smoke`` with neither, scikit-learn's digits (labelled so).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, replace

import torch

from reliable_ml import settings
from reliable_ml.experiments import entry
from reliable_ml.models import nets as models
from reliable_ml.robust import self_training as st
from reliable_ml.robust import train as rt
from reliable_ml.robust.image_task import eval_subset, load_cifar
from reliable_ml.util.env import device, seed_everything

NOTEBOOK = "06_robust_self_training"
__all__ = ["NOTEBOOK", "load_cifar", "run", "main"]


def run(profile: str = "gpu", *, progress: bool = True, save: bool = True, seed: int = 0, **overrides) -> dict:
    """Run the comparison; return ``{"figures", "data_source", "settings", "seconds", "compare"}``
    (``compare``: the full dict of :func:`reliable_ml.robust.self_training.compare`).

    ``overrides`` replace fields of the profile's row of :mod:`reliable_ml.settings.rst_cifar`
    (e.g. ``robust_steps=500``; it has no ``cpu`` row); a value out of its range is refused before
    anything runs. With ``save``, the figures go to ``results/<profile>/06_robust_self_training.json``.
    """
    s = settings.row("rst_cifar", profile, **overrides)
    seed_everything(seed)
    dev = device()
    train_set, test_set = load_cifar("train", profile), load_cifar("test", profile)
    source = test_set.info.source
    caveat = entry.data_caveat(test_set.info)
    if caveat:
        print(f"Caveat: {caveat}")
    # held out of every arm before the labeled/unlabeled split: the labeled-only arm's early stopping
    idx_fit, idx_select = rt.heldout_split(len(train_set.y), s.select_size, s.select_seed)
    x_fit, y_fit = train_set.x[idx_fit], train_set.y[idx_fit]
    x_select, y_select = train_set.x[idx_select], train_set.y[idx_select]
    x_eval, y_eval = eval_subset(test_set, s.n_eval, dev, seed)

    def make_model() -> torch.nn.Module:
        torch.manual_seed(seed)
        return models.preact_resnet18(in_channels=train_set.x.shape[1], width=s.width).to(dev)

    suites: dict = {}

    def evaluator(model) -> dict:
        ev = entry.evaluate_suite(model, x_eval, y_eval, s, seed=seed, progress=progress, per_image=True)
        suites[len(suites)] = ev
        return {
            "clean_acc": ev["clean_acc"],
            "robust_acc": ev["robust_acc"],
            "robust_correct": ev["worst_case_ok"].cpu(),
            "pgd_acc": ev["pgd_acc"],
            "attack_acc": ev.get("attack_acc"),
        }

    t0 = time.perf_counter()
    out = st.compare(
        make_model,
        x_fit,
        y_fit,
        x_eval,
        y_eval,
        n_labeled=s.n_labeled,
        n_unlabeled=s.n_unlabeled,
        standard_cfg=replace(s.standard, seed=seed),
        robust_cfg=replace(s.robust, seed=seed, eps=s.eps),
        standard_steps=s.standard_steps,
        robust_steps=s.robust_steps,
        eval_steps=s.eval_steps,
        eval_restarts=s.eval_restarts,
        seed=seed,
        progress=progress,
        x_select=x_select,
        y_select=y_select,
        select_every=s.select_every,
        patience=s.patience,
        select_steps=s.select_steps,
        early_stop_arms=("labeled_only",),
        evaluator=evaluator,
    )
    seconds = time.perf_counter() - t0
    ev = suites[0]  # every arm ran the same suite on the same images: one protocol
    chosen = out["labeled_only"]["selection"]
    selection = {
        "images": "training images held out of every arm before the labeled/unlabeled split (never trained on, "
        "never test images)",
        "split_size": len(idx_select),
        "split_seed": s.select_seed,
        "arms": ["labeled_only"],
        "check": f"PGD-{s.select_steps} (step 2.5 eps / steps) every {s.select_every} SGD steps and after the last",
        "rule": f"stop after {s.patience} checks without improvement; keep the weights of the best check",
        "step_chosen": chosen["best_step"],
        "stopped_step": chosen["stopped_step"],
        "planned_steps": chosen["planned_steps"],
        "checks": chosen["checks"],
    }
    pgd = next(iter(ev["protocol"]))
    attack = (
        f"worst case per image over {', '.join(ev['protocol'])} on {ev['robust_acc_images']:,} test images "
        f"(L-inf eps {s.eps * 255:.0f}/255; PGD on all {ev['n_eval']:,})"
        if "worst_case_attacks" in ev
        else f"{pgd}, step 2.5*eps/{s.eval_steps}, L-inf eps {s.eps * 255:.0f}/255, on {ev['n_eval']:,} test images"
    )
    figures = {
        "robust_acc_labeled_only": out["labeled_only"]["robust_acc"],
        "robust_acc_rst": out["rst"]["robust_acc"],
        "robust_acc_ceiling": out["ceiling"]["robust_acc"],
        "clean_acc_rst": out["rst"]["clean_acc"],
        "clean_acc_labeled_only": out["labeled_only"]["clean_acc"],
        "clean_acc_ceiling": out["ceiling"]["clean_acc"],
        **{k: v for k, v in out.items() if k not in st.ARMS},
        "attack": attack,
        "attack_acc": {a: {"pgd": out[a]["pgd_acc"], **(out[a]["attack_acc"] or {})} for a in st.ARMS},
        "train_seconds": {a: out[a]["train_seconds"] for a in st.ARMS},
        "architecture": f"PreActResNet-18 (width {s.width})",
        "n_eval": len(y_eval),
        "n_select": len(idx_select),
        "rst_gain_points": 100 * (out["rst"]["robust_acc"] - out["labeled_only"]["robust_acc"]),
        "rst_below_ceiling_points": 100 * (out["ceiling"]["robust_acc"] - out["rst"]["robust_acc"]),
        "evaluation_protocol": entry.protocol(ev, eps=s.eps, eval_seed=seed, selection=selection),
        "data_caveat": caveat,
    }
    result = {"figures": figures, "data_source": source, "settings": asdict(s), "seconds": seconds, "compare": out}
    return entry.finish(NOTEBOOK, profile, result, save=save, seed=seed, module=__name__)


def main(argv: list[str] | None = None) -> None:
    ap = entry.parser(__doc__, "rst_cifar")
    ap.add_argument("--no-save", action="store_true", help="print the figures without writing results/")
    ap.add_argument("--robust-steps", type=int, default=None, help="override the steps of each robust arm")
    args = ap.parse_args(argv)
    overrides = {} if args.robust_steps is None else {"robust_steps": args.robust_steps}
    out = run(args.profile, seed=args.seed, save=not args.no_save, **overrides)
    f = out["figures"]
    print(
        json.dumps(
            {
                k: f[k]
                for k in (
                    "robust_acc_labeled_only",
                    "robust_acc_rst",
                    "robust_acc_ceiling",
                    "clean_acc_rst",
                    "pseudo_label_acc",
                    "rst_gain_points",
                    "rst_below_ceiling_points",
                    "n_labeled",
                    "n_unlabeled",
                    "attack",
                )
            },
            indent=1,
        )
    )
    print(f"data: {out['data_source']}; {out['seconds']:.0f} s")


if __name__ == "__main__":
    main()
