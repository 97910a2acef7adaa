"""Entry point: train a model zoo and record every member's test accuracy (no Jupyter needed).

    python -m reliable_ml.experiments.zoo --profile gpu            # CIFAR-10 zoo on one GPU
    python -m reliable_ml.experiments.zoo --profile smoke --dataset digits   # seconds, on a CPU

Writes ``results/<profile>/zoo_<dataset>.json``: per-member test accuracy (fraction), training
seconds, the Clopper-Pearson interval of each accuracy, the zoo's mean pairwise agreement and
the agreement expected under independent errors. Notebook 01 calls :func:`zoo_experiment`.
"""

from __future__ import annotations

import argparse
import time

import torch

from reliable_ml import data, settings, stats
from reliable_ml.experiments import entry
from reliable_ml.models import zoo
from reliable_ml.shift import similarity
from reliable_ml.util.env import device, device_name, seed_everything

DATASETS = ("cifar10", "mnist", "digits")


def load_dataset(name: str) -> tuple[data.ImageSet, data.ImageSet]:
    """Train and test :class:`~reliable_ml.data.ImageSet` of ``name``.

    ``cifar10`` falls back to the ``cifar10-jpeg`` copy (labelled as such) when canonical
    CIFAR-10 is unavailable; ``mnist`` falls back loudly to scikit-learn digits.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; allowed: {', '.join(DATASETS)}")
    if name == "cifar10":
        try:
            return data.load_images("cifar10", "train"), data.load_images("cifar10", "test")
        except data.DataUnavailable:
            return data.load_images("cifar10-jpeg", "train"), data.load_images("cifar10-jpeg", "test")
    return (data.load_images(name, "train", fallback=True), data.load_images(name, "test", fallback=True))


def default_zoo(dataset: str, profile: str) -> tuple[str, ...]:
    """The zoo a profile trains on a dataset: ``smoke`` everywhere, else ``<mnist|cifar10>-<cpu|gpu>``."""
    if profile == "smoke":
        return zoo.zoo_names("smoke")
    family = "cifar10" if dataset == "cifar10" else "mnist"
    key = f"{family}-{profile}"
    if key not in zoo.ZOOS:  # cifar10 on the cpu profile: the gpu zoo is too large, use the MNIST-sized one
        key = "mnist-cpu"
    return zoo.zoo_names(key)


def zoo_experiment(
    names,
    train: data.ImageSet,
    test: data.ImageSet,
    *,
    n_train: int | None = None,
    batch: int = 256,
    seed: int = 0,
    dev: torch.device | None = None,
    progress: bool = True,
) -> dict:
    """Train ``names`` on (the first ``n_train`` of) ``train`` on ``dev`` and score them on ``test``.

    Returns ``{"accuracy": {name: fraction}, "accuracy_ci": {name: [lo, hi]}, "train_seconds":
    {...}, "agreement": mean pairwise agreement, "independent_agreement": its value under
    independent errors, "predictions": int64 (m, N_test), "n_train", "n_test", "source"}``.
    """
    dev = dev or device()
    x_train, y_train = train.x, train.y
    if n_train is not None:
        if n_train <= 0:
            raise ValueError(f"n_train must be positive; got {n_train}")
        x_train, y_train = x_train[:n_train], y_train[:n_train]
    n_classes = len(train.info.classes)
    trained = zoo.train_zoo(
        names, x_train.to(dev), y_train.to(dev), n_classes=n_classes, batch=batch, seed=seed, progress=progress
    )
    preds = zoo.predict_zoo(trained, test.x)
    pred_mat = torch.stack(list(preds.values())).numpy()  # (m, N_test)
    correct = pred_mat == test.y.numpy()[None, :]
    acc = correct.mean(1)
    lo, hi = stats.clopper_pearson(correct.sum(1), correct.shape[1])
    return {
        "accuracy": dict(zip(preds, acc.tolist())),
        "accuracy_ci": {n: [float(a), float(b)] for n, a, b in zip(preds, lo, hi)},
        "train_seconds": {n: round(t.seconds, 2) for n, t in trained.items()},
        "agreement": similarity.mean_off_diagonal(similarity.agreement_matrix(pred_mat)),
        "independent_agreement": similarity.mean_off_diagonal(similarity.independent_agreement(acc, n_classes)),
        "predictions": pred_mat,
        "n_train": int(len(x_train)),
        "n_test": int(correct.shape[1]),
        "source": test.info.source,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m reliable_ml.experiments.zoo", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="gpu", choices=settings.profiles("zoo"))
    parser.add_argument("--dataset", default="cifar10", choices=DATASETS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    seed_everything(args.seed)
    dev = device()
    print(f"zoo experiment: dataset={args.dataset}, profile={args.profile}, device={device_name(dev)}")
    row = settings.row("zoo", args.profile)  # n_train (None: the whole split) and batch
    train, test = load_dataset(args.dataset)
    n_train = None if row.n_train is None else min(row.n_train, train.info.n)
    out = zoo_experiment(
        default_zoo(args.dataset, args.profile),
        train,
        test,
        n_train=n_train,
        batch=row.batch,
        seed=args.seed,
        dev=dev,
        progress=not args.no_progress,
    )
    out.pop("predictions")
    source = out.pop("source")
    for name, acc in sorted(out["accuracy"].items(), key=lambda kv: kv[1]):
        print(f"  {name:20s} {100 * acc:6.2f} %  ({out['train_seconds'][name]:.1f} s)")
    print(
        f"mean pairwise agreement {out['agreement']:.4f} vs {out['independent_agreement']:.4f} "
        f"if errors were independent"
    )
    entry.finish(
        f"zoo_{args.dataset}",
        args.profile,
        {"figures": out, "data_source": source, "seconds": time.perf_counter() - started},
        save=True,
        seed=args.seed,
        module=__name__,
    )
    return out


if __name__ == "__main__":
    main()
