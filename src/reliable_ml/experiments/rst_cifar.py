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
from dataclasses import asdict, dataclass, replace

import torch

from reliable_ml.models import nets as models
from reliable_ml.experiments import entry
from reliable_ml.robust import train as rt
from reliable_ml.robust import self_training as st
from reliable_ml.util.env import device, seed_everything
from reliable_ml.robust.image_task import eval_subset, load_cifar

NOTEBOOK = "06_robust_self_training"
__all__ = ["NOTEBOOK", "SETTINGS", "Settings", "load_cifar", "run", "main"]


@dataclass(frozen=True)
class Settings:
    """Per-profile knobs of the experiment."""

    n_labeled: int
    n_unlabeled: int | None    # None: every training image that is not labeled
    width: int                 # PreActResNet-18 base width (64 = the standard network)
    standard: rt.TrainConfig   # the pseudo-labeling model
    robust: rt.TrainConfig     # every robust arm
    standard_steps: int
    robust_steps: int          # SGD steps of each robust arm (equal compute)
    n_eval: int
    eval_steps: int
    eval_restarts: int
    eps: float = 8 / 255


SETTINGS = {
    "smoke": Settings(n_labeled=100, n_unlabeled=300, width=4, n_eval=64, eval_steps=5, eval_restarts=1,
                      standard_steps=10, robust_steps=6,
                      standard=rt.TrainConfig(epochs=1, batch_size=32, method="standard", lr_max=0.05, val_size=0),
                      robust=rt.TrainConfig(epochs=1, batch_size=32, method="pgd", attack_steps=2, eps=8 / 255,
                                            step_size=4 / 255, lr_max=0.05, val_size=0)),
    # Budget (not yet measured on a GPU): labeler 2,500 steps of 256 (160 passes over 4,000 labels),
    # then three arms of 4,000 steps of 256 each (about 20 passes over the 50,000 images) with FGSM-RS.
    "gpu": Settings(n_labeled=4_000, n_unlabeled=None, width=64, n_eval=10_000, eval_steps=20, eval_restarts=1,
                    standard_steps=2_500, robust_steps=4_000,
                    standard=rt.TrainConfig(epochs=1, batch_size=256, method="standard", augment=True, lr_max=0.2,
                                            weight_decay=5e-4, val_size=0),
                    robust=rt.TrainConfig(epochs=1, batch_size=256, method="fgsm_rs", eps=8 / 255,
                                          step_size=10 / 255, augment=True, lr_max=0.2, weight_decay=5e-4,
                                          val_size=0)),
}


def run(profile: str = "gpu", *, progress: bool = True, save: bool = True, seed: int = 0, **overrides) -> dict:
    """Run the comparison; return ``{"figures", "data_source", "settings", "seconds", "compare"}``
    (``compare``: the full dict of :func:`reliable_ml.robust.self_training.compare`).

    ``overrides`` replace fields of the profile's :class:`Settings` (e.g. ``robust_steps=500``).
    With ``save``, the figures go to ``results/<profile>/06_robust_self_training.json``.
    """
    if profile not in SETTINGS:
        raise ValueError(f"unknown profile {profile!r} for rst_cifar; allowed: {', '.join(SETTINGS)}")
    s = replace(SETTINGS[profile], **overrides)
    seed_everything(seed)
    dev = device()
    train_set, test_set = load_cifar("train", profile), load_cifar("test", profile)
    source = test_set.info.source
    x_eval, y_eval = eval_subset(test_set, s.n_eval, dev, seed)

    def make_model() -> torch.nn.Module:
        torch.manual_seed(seed)
        return models.preact_resnet18(in_channels=train_set.x.shape[1], width=s.width).to(dev)

    t0 = time.perf_counter()
    out = st.compare(make_model, train_set.x, train_set.y, x_eval, y_eval, n_labeled=s.n_labeled,
                     n_unlabeled=s.n_unlabeled, standard_cfg=replace(s.standard, seed=seed),
                     robust_cfg=replace(s.robust, seed=seed, eps=s.eps), standard_steps=s.standard_steps,
                     robust_steps=s.robust_steps, eval_steps=s.eval_steps, eval_restarts=s.eval_restarts,
                     seed=seed, progress=progress)
    seconds = time.perf_counter() - t0
    figures = {
        "robust_acc_labeled_only": out["labeled_only"]["robust_acc"], "robust_acc_rst": out["rst"]["robust_acc"],
        "robust_acc_ceiling": out["ceiling"]["robust_acc"], "clean_acc_rst": out["rst"]["clean_acc"],
        "clean_acc_labeled_only": out["labeled_only"]["clean_acc"], "clean_acc_ceiling": out["ceiling"]["clean_acc"],
        **{k: v for k, v in out.items() if k not in st.ARMS},
        "train_seconds": {a: out[a]["train_seconds"] for a in st.ARMS},
        "architecture": f"PreActResNet-18 (width {s.width})", "n_eval": len(y_eval),
        "rst_gain_points": 100 * (out["rst"]["robust_acc"] - out["labeled_only"]["robust_acc"]),
        "rst_below_ceiling_points": 100 * (out["ceiling"]["robust_acc"] - out["rst"]["robust_acc"]),
    }
    settings = {k: v for k, v in asdict(s).items() if k not in ("standard", "robust")}
    settings |= {"standard": asdict(s.standard), "robust": asdict(s.robust)}
    result = {"figures": figures, "data_source": source, "settings": settings, "seconds": seconds, "compare": out}
    if save:
        result["path"] = entry.save(NOTEBOOK, profile, figures, source=source, seconds=seconds, dev=dev, seed=seed,
                                   module=__name__)
    return result


def main(argv: list[str] | None = None) -> None:
    ap = entry.parser(__doc__, SETTINGS)
    ap.add_argument("--no-save", action="store_true", help="print the figures without writing results/")
    ap.add_argument("--robust-steps", type=int, default=None, help="override the steps of each robust arm")
    args = ap.parse_args(argv)
    overrides = {} if args.robust_steps is None else {"robust_steps": args.robust_steps}
    out = run(args.profile, seed=args.seed, save=not args.no_save, **overrides)
    f = out["figures"]
    print(json.dumps({k: f[k] for k in ("robust_acc_labeled_only", "robust_acc_rst", "robust_acc_ceiling",
                                        "clean_acc_rst", "pseudo_label_acc", "rst_gain_points",
                                        "rst_below_ceiling_points", "n_labeled", "n_unlabeled", "attack")}, indent=1))
    print(f"data: {out['data_source']}; {out['seconds']:.0f} s" + (f"; wrote {out['path']}" if "path" in out else ""))


if __name__ == "__main__":
    main()
