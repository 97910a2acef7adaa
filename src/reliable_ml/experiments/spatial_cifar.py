"""Spatial robustness on CIFAR-10 (chapter 11): rotations and translations (Engstrom et al. 2019).

``python -m reliable_ml.experiments.spatial_cifar --profile gpu`` trains, on one GPU, standard
PreActResNet-18s and PreActResNet-18s with worst-of-10 spatial training on the full CIFAR-10
training set (several seeds), and scores each on the test set: clean, under the worst of a
31 x 5 x 5 grid of rotations (±30°) and translations (±3 px), and under the worst of as many
random draws from the same box. It writes ``results/<profile>/11_spatial_and_physical_robustness.json``
with the key ``spatial_cifar: {"grid": {arm: acc}, "random": {...}, "clean": {...}, "n_eval",
"seeds", ...}`` (accuracies as fractions 0..1, means over seeds).

The ``cpu`` row is the CIFAR-10 subset that notebook 11 runs in its cpu profile (small CNNs on
5,000 images; the spatial arm is random-transformation augmentation, the cheaper defence of the
paper); ``smoke`` runs the same code in seconds (digits when CIFAR-10 is absent). Data:
canonical CIFAR-10 when present, else the offline JPEG (quality 75) copy, labelled as such.
The gpu row has not been run on a GPU for this course: its timing is an estimate.
"""

from __future__ import annotations

import time
from dataclasses import asdict

import torch

from reliable_ml import settings
from reliable_ml.experiments import entry
from reliable_ml.models import nets as models
from reliable_ml.robust import nonrobust as nr
from reliable_ml.robust import spatial as sp
from reliable_ml.robust.image_task import load_cifar
from reliable_ml.util.env import device, seed_everything

NOTEBOOK = "11_spatial_and_physical_robustness"


def run(profile: str = "gpu", *, progress: bool = True, save: bool = True, seed: int = 0, **overrides) -> dict:
    """Run the experiment of ``profile`` (``overrides`` replace fields of its row of
    :mod:`reliable_ml.settings.spatial_cifar`; a value out of its range is refused before anything runs).

    Returns ``{"figures", "data_source", "settings", "seconds", "models", "scores", "summary", "x_eval",
    "y_eval"}`` (``scores``: per arm, one :class:`reliable_ml.robust.spatial.Scores` per seed)
    (and ``"path"`` with ``save``); ``figures["spatial_cifar"]`` holds the accuracies as fractions
    (0..1), ``summary`` the same in % (:func:`reliable_ml.robust.spatial.summarize`).
    """
    s = settings.row("spatial_cifar", profile, **overrides)
    seed_everything(seed)
    dev = device()
    t0 = time.perf_counter()
    train_set, test_set = load_cifar("train", profile), load_cifar("test", profile)
    source = test_set.info.source
    size = train_set.x.shape[-1]
    shift = sp.scale_shift(s.max_shift, size, reference=32)
    pick = torch.randperm(len(train_set.y), generator=torch.Generator().manual_seed(seed))[: s.n_train]
    x_tr, y_tr = train_set.x[pick], train_set.y[pick]
    # a random test subset: the JPEG copy is sorted by class
    idx = torch.randperm(len(test_set.y), generator=torch.Generator().manual_seed(seed + 1))[: s.n_eval]
    x_ev, y_ev = test_set.x[idx].float() / 255, test_set.y[idx]
    arms = {"standard": "standard", "spatial_trained": s.spatial_method}
    trained, scores = {}, {}
    for arm, method in arms.items():
        for k in range(s.seeds):
            cfg = sp.SpatialTrainConfig(
                method=method,
                epochs=s.epochs,
                batch_size=s.batch_size,
                lr_max=s.lr_max,
                k=s.k,
                max_angle=s.max_angle,
                max_shift=shift,
                seed=seed + k,
            )
            model = nr.fresh_model(x_tr, s.arch, s.width, seed + k, dev)
            model, _ = sp.train_cached(model, x_tr, y_tr, cfg, f"cifar-{s.arch}-{arm}", progress=progress)
            trained.setdefault(arm, []).append(model)
            scores.setdefault(arm, []).append(
                sp.evaluate(
                    model,
                    x_ev.to(dev),
                    y_ev.to(dev),
                    max_angle=s.max_angle,
                    max_shift=shift,
                    n_angles=s.n_angles,
                    n_shifts=s.n_shifts,
                    seed=seed + 100,
                )
            )
    summary = sp.summarize(scores)
    arch = models.describe(s.arch, s.width)
    row = {
        **sp.as_fractions(summary),
        "units": "accuracies as fractions (0..1); intervals: 95% Wilson per seed",
        "n_eval": int(len(y_ev)),
        "seeds": s.seeds,
        "n_train": int(len(y_tr)),
        "architecture": arch,
        "defence": s.spatial_method + (f" (k = {s.k})" if s.spatial_method == "worst_of_k" else ""),
        "max_angle": s.max_angle,
        "max_shift_px": shift,
        "grid_points": s.n_angles * s.n_shifts**2,
        "data_source": source,
    }
    figures = {"spatial_cifar": row}
    out = {
        "figures": figures,
        "data_source": source,
        "seconds": time.perf_counter() - t0,
        "models": trained,
        "scores": scores,  # per-image correctness (spatial.Scores per arm and seed), for paired tests
        "summary": summary,
        "x_eval": x_ev,
        "y_eval": y_ev,
        "settings": asdict(s),
    }
    return entry.finish(NOTEBOOK, profile, out, save=save, seed=seed, module=__name__)


def main(argv: list[str] | None = None) -> None:
    ap = entry.parser(__doc__, "spatial_cifar")
    args = ap.parse_args(argv)
    out = run(args.profile, seed=args.seed)
    f = out["figures"]["spatial_cifar"]
    for arm in f["clean"]:
        print(
            f"{arm}: clean {100 * f['clean'][arm]:.1f}%, random {100 * f['random'][arm]:.1f}%, "
            f"grid {100 * f['grid'][arm]:.1f}% "
            f"(mean of {f['seeds']} seeds, {f['n_eval']:,} images, {out['data_source']})"
        )


if __name__ == "__main__":
    main()
