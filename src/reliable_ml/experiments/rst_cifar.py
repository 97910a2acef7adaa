"""Robust self-training on CIFAR-10: 4,000 labels + the rest of the training split unlabeled.

``python -m reliable_ml.experiments.rst_cifar --profile gpu`` runs the three arms of
:func:`reliable_ml.robust.self_training.compare` (robust training on the labeled images only, RST with
pseudo-labels from a standard model trained on them, and the ceiling with the pool's true
labels), each for the same number of SGD steps, with a PreActResNet-18 at eps = 8/255, and
writes ``results/gpu/06_robust_self_training.json``. Target (issue 7): RST at least 5 points of
PGD robust accuracy above labeled-only, and within 5 points of the ceiling.
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
    x_eval, y_eval = eval_subset(test_set, s.n_eval, dev, seed)

    def make_model() -> torch.nn.Module:
        torch.manual_seed(seed)
        return models.preact_resnet18(in_channels=train_set.x.shape[1], width=s.width).to(dev)

    t0 = time.perf_counter()
    out = st.compare(
        make_model,
        train_set.x,
        train_set.y,
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
    )
    seconds = time.perf_counter() - t0
    figures = {
        "robust_acc_labeled_only": out["labeled_only"]["robust_acc"],
        "robust_acc_rst": out["rst"]["robust_acc"],
        "robust_acc_ceiling": out["ceiling"]["robust_acc"],
        "clean_acc_rst": out["rst"]["clean_acc"],
        "clean_acc_labeled_only": out["labeled_only"]["clean_acc"],
        "clean_acc_ceiling": out["ceiling"]["clean_acc"],
        **{k: v for k, v in out.items() if k not in st.ARMS},
        "train_seconds": {a: out[a]["train_seconds"] for a in st.ARMS},
        "architecture": f"PreActResNet-18 (width {s.width})",
        "n_eval": len(y_eval),
        "rst_gain_points": 100 * (out["rst"]["robust_acc"] - out["labeled_only"]["robust_acc"]),
        "rst_below_ceiling_points": 100 * (out["ceiling"]["robust_acc"] - out["rst"]["robust_acc"]),
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
