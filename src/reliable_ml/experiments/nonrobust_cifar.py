"""Non-robust features on CIFAR-10 (chapter 10): Ilyas et al.'s relabelled training sets.

``python -m reliable_ml.experiments.nonrobust_cifar --profile gpu`` runs, on one GPU:

1. a standard PreActResNet-18 (the *source* model) trained on half of the CIFAR-10 training set;
2. the other half moved by targeted L2 PGD (eps = 0.5, as Ilyas et al. 2019) toward
   ``t = (y + 1) mod 10`` (D_det) or a random ``t`` (D_rand), and relabelled ``t``;
3. fresh PreActResNet-18s trained on each relabelled set (several seeds), tested on the clean,
   correctly labelled CIFAR-10 test set.

It writes ``results/<profile>/10_nonrobust_features.json`` with the key
``nonrobust: {"cifar10": {"d_det_test_acc", "d_rand_test_acc", "chance", "n_train", "seeds", ...}}``
(accuracies in %). ``--profile smoke`` runs the same code in seconds on a CPU with a tiny
network (and digits when CIFAR-10 is absent); the ``cpu`` row is the CIFAR-10 subset that
notebook 10 runs in its cpu profile (small CNN). Data: canonical CIFAR-10 when present, else
the offline JPEG (quality 75) copy, labelled "CIFAR-10 (JPEG q75 copy)".

Ilyas et al. trained ResNet-50s on all 50,000 images with the source model trained on the full
set; the gpu row here is a smaller stand-in (not yet run on a GPU: timings are estimates).
"""

from __future__ import annotations

import time
from dataclasses import asdict

import torch

from reliable_ml import settings
from reliable_ml.experiments import entry
from reliable_ml.models import nets as models
from reliable_ml.robust import nonrobust as nr
from reliable_ml.robust.image_task import load_cifar
from reliable_ml.util.env import device, seed_everything

NOTEBOOK = "10_nonrobust_features"


def run(profile: str = "gpu", *, progress: bool = True, save: bool = True, seed: int = 0, **overrides) -> dict:
    """Run the relabelling experiment of ``profile`` (``overrides`` replace fields of its row of
    :mod:`reliable_ml.settings.nonrobust_cifar`; a value out of its range is refused before anything runs).

    Returns ``{"figures", "data_source", "settings", "seconds", "experiment"}`` (and ``"path"``
    with ``save``); ``figures["nonrobust"]["cifar10"]`` holds the accuracies in %.
    """
    s = settings.row("nonrobust_cifar", profile, **overrides)
    seed_everything(seed)
    dev = device()
    t0 = time.perf_counter()
    train_set, test_set = load_cifar("train", profile), load_cifar("test", profile)
    source = test_set.info.source
    n_train = len(train_set.y)
    n_source, n_relabel = min(s.n_source, n_train // 2), min(s.n_relabel, n_train - min(s.n_source, n_train // 2))
    # a random test subset: the JPEG copy is sorted by class
    idx = torch.randperm(len(test_set.y), generator=torch.Generator().manual_seed(seed + 1))[: s.n_test]
    x_test, y_test = test_set.x[idx].to(dev).float() / 255, test_set.y[idx].to(dev)
    exp = nr.relabel_experiment(
        train_set.x,
        train_set.y,
        x_test,
        y_test,
        train_cfg=s.train,
        eps=s.eps,
        norm="l2",
        steps=s.steps,
        n_source=n_source,
        n_relabel=n_relabel,
        seeds=s.seeds,
        arch=s.arch,
        width=s.width,
        num_classes=10,
        seed=seed,
        device=dev,
        progress=progress,
    )
    arch = models.describe(s.arch, s.width)
    row = exp.figures | {"architecture": arch, "data_source": source}
    figures = {"nonrobust": {"cifar10": row}}
    out = {
        "figures": figures,
        "data_source": source,
        "seconds": time.perf_counter() - t0,
        "experiment": exp,
        "settings": asdict(s),
    }
    return entry.finish(NOTEBOOK, profile, out, save=save, seed=seed, module=__name__)


def main(argv: list[str] | None = None) -> None:
    ap = entry.parser(__doc__, "nonrobust_cifar")
    args = ap.parse_args(argv)
    out = run(args.profile, seed=args.seed)
    f = out["figures"]["nonrobust"]["cifar10"]
    print(
        f"{out['data_source']}: source model {f['source_test_acc']:.1f}%; fresh models on D_det "
        f"{f['d_det_test_acc']:.1f}% (sd {f['d_det_test_acc_spread']['std']:.1f}), on D_rand "
        f"{f['d_rand_test_acc']:.1f}% (sd {f['d_rand_test_acc_spread']['std']:.1f}); chance {f['chance']:.0f}%, "
        f"{f['seeds']} seeds, {f['n_train']:,} relabelled training images"
    )


if __name__ == "__main__":
    main()
