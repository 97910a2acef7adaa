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
from dataclasses import asdict, dataclass, replace

import torch

from reliable_ml.robust import nonrobust as nr
from reliable_ml.experiments import entry
from reliable_ml.robust import train as rt
from reliable_ml.data import display_path
from reliable_ml.robust.image_task import load_cifar
from reliable_ml.util.env import device, seed_everything

NOTEBOOK = "10_nonrobust_features"
ARCHS = ("preact_resnet18", "small_cnn")


@dataclass(frozen=True)
class Settings:
    """Per-profile knobs of the experiment."""

    n_source: int                 # training images of the standard source model
    n_relabel: int                # training images relabelled (= training-set size of each fresh model)
    n_test: int                   # clean test images the fresh models are scored on
    train: rt.TrainConfig         # standard training of the source and fresh models
    eps: float = 0.5              # L2 radius of the targeted attack (pixel units), Ilyas et al.: 0.5
    steps: int = 20               # PGD steps (step 2.5 eps / steps)
    seeds: int = 3                # fresh models per relabelled set
    arch: str = "preact_resnet18"  # preact_resnet18 | small_cnn
    width: int = 64               # PreActResNet-18 base width (64 = the standard network)

    def __post_init__(self):
        if self.arch not in ARCHS:
            raise ValueError(f"unknown arch {self.arch!r}; allowed: {', '.join(ARCHS)}")
        if self.seeds < 1 or self.steps < 1:
            raise ValueError(f"seeds and steps must be >= 1; got {self.seeds} and {self.steps}")


def _standard(epochs: int, batch_size: int, lr_max: float, optimizer: str = "sgd", augment: bool = False) -> rt.TrainConfig:
    return rt.TrainConfig(epochs=epochs, batch_size=batch_size, method="standard", eps=0.0, augment=augment,
                          optimizer=optimizer, lr_max=lr_max, lr_schedule="onecycle",
                          weight_decay=5e-4 if optimizer == "sgd" else 0.0, val_size=0)


SETTINGS = {
    "smoke": Settings(n_source=300, n_relabel=300, n_test=200, arch="preact_resnet18", width=4, steps=3, seeds=2,
                      train=_standard(2, 64, 0.05)),
    # the CIFAR-10 subset of notebook 10's cpu profile: a small CNN, about a minute of CPU time per model group
    "cpu": Settings(n_source=5000, n_relabel=5000, n_test=2000, arch="small_cnn", eps=1.0, steps=10, seeds=3,
                    train=_standard(6, 100, 3e-3, optimizer="adam")),
    # 1 + 2 x 3 PreActResNet-18s of 30 epochs on 25,000 images plus 2 x 25,000 attacks of 20 steps:
    # estimated 15-25 minutes on one H100 (not yet measured on a GPU)
    "gpu": Settings(n_source=25_000, n_relabel=25_000, n_test=10_000, train=_standard(30, 512, 0.4, augment=True)),
}


def run(profile: str = "gpu", *, progress: bool = True, save: bool = True, seed: int = 0, **overrides) -> dict:
    """Run the relabelling experiment of ``profile`` (``overrides`` replace :class:`Settings` fields).

    Returns ``{"figures", "data_source", "settings", "seconds", "experiment"}`` (and ``"path"``
    with ``save``); ``figures["nonrobust"]["cifar10"]`` holds the accuracies in %.
    """
    if profile not in SETTINGS:
        raise ValueError(f"unknown profile {profile!r} for nonrobust_cifar; allowed: {', '.join(SETTINGS)}")
    s = replace(SETTINGS[profile], **overrides)
    seed_everything(seed)
    dev = device()
    t0 = time.perf_counter()
    train_set, test_set = load_cifar("train", profile), load_cifar("test", profile)
    source = test_set.info.source
    n_train = len(train_set.y)
    n_source, n_relabel = min(s.n_source, n_train // 2), min(s.n_relabel, n_train - min(s.n_source, n_train // 2))
    # a random test subset: the JPEG copy is sorted by class
    idx = torch.randperm(len(test_set.y), generator=torch.Generator().manual_seed(seed + 1))[:s.n_test]
    x_test, y_test = test_set.x[idx].to(dev).float() / 255, test_set.y[idx].to(dev)
    exp = nr.relabel_experiment(train_set.x, train_set.y, x_test, y_test, train_cfg=s.train, eps=s.eps, norm="l2",
                                steps=s.steps, n_source=n_source, n_relabel=n_relabel, seeds=s.seeds, arch=s.arch,
                                width=s.width, num_classes=10, seed=seed, device=dev, progress=progress)
    arch = entry.architecture(s.arch, s.width)
    row = exp.figures | {"architecture": arch, "data_source": source}
    figures = {"nonrobust": {"cifar10": row}}
    out = {"figures": figures, "data_source": source, "seconds": time.perf_counter() - t0, "experiment": exp,
           "settings": {k: v for k, v in asdict(s).items() if k != "train"} | {"train": asdict(s.train)}}
    if save:
        out["path"] = entry.save(NOTEBOOK, profile, figures, source=source, seconds=out["seconds"], dev=dev, seed=seed,
                                   module=__name__)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = entry.parser(__doc__, SETTINGS)
    args = ap.parse_args(argv)
    out = run(args.profile, seed=args.seed)
    f = out["figures"]["nonrobust"]["cifar10"]
    print(f"{out['data_source']}: source model {f['source_test_acc']:.1f}%; fresh models on D_det "
          f"{f['d_det_test_acc']:.1f}% (sd {f['d_det_test_acc_spread']['std']:.1f}), on D_rand "
          f"{f['d_rand_test_acc']:.1f}% (sd {f['d_rand_test_acc_spread']['std']:.1f}); chance {f['chance']:.0f}%, "
          f"{f['seeds']} seeds, {f['n_train']:,} relabelled training images")
    print(f"results: {display_path(out['path'])}")


if __name__ == "__main__":
    main()
