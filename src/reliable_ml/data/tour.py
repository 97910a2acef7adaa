"""The tables and figures of chapter 0 (a tour of the data).

Every function takes what the data layer (:mod:`reliable_ml.data`) returned and turns it into
a table or a figure; a dataset that is missing is reported with a visible note and skipped,
never silently replaced.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reliable_ml import data
from reliable_ml.util import notes, plots

IMAGE_SETS = ("digits", "mnist", "cifar10", "cifar10-jpeg")


def load_all(splits, names=IMAGE_SETS) -> dict[str, dict[str, data.ImageSet]]:
    """``{name: {split: ImageSet}}`` for every image set that is available; the canonical
    CIFAR-10 is skipped quietly when only the JPEG copy is here, anything else with a note."""
    loaded = {}
    for name in names:
        try:
            loaded[name] = {split: data.load_images(name, split) for split in splits}
        except data.DataUnavailable as err:
            if name == "cifar10":
                print("Canonical CIFAR-10 (torchvision's cifar-10-batches-py) is not here; the JPEG copy is used.")
                continue
            notes.show_missing(err, f"{name} samples")
    return loaded


def provenance(loaded: dict, splits) -> pd.DataFrame:
    """One row per dataset: images per split, shape, classes, lossy or not, where it was read."""
    rows = []
    for name, by_split in loaded.items():
        info = next(iter(by_split.values())).info
        rows.append(
            {
                "dataset": name,
                "source label": info.source,
                **{f"n {split}": by_split[split].info.n for split in splits},
                "image shape (C, H, W)": str(info.shape),
                "classes": len(info.classes),
                "lossy copy": info.lossy,
                "read from": info.location,
            }
        )
    return pd.DataFrame(rows).set_index("dataset")


def sample_grid(image_set, per_class: int, rng: np.random.Generator):
    """A grid of ``per_class`` random images of every class, titled with their labels."""
    x, y, info = image_set
    picks = np.concatenate(
        [rng.choice(np.flatnonzero(y.numpy() == c), per_class, replace=False) for c in range(len(info.classes))]
    )
    fig = plots.image_grid(
        x[picks].numpy(),
        [info.classes[int(y[i])] for i in picks],
        ncols=per_class * 2,
        scale=0.9,
        suptitle=f"{info.source}: {per_class} random test images per class",
    )
    plots.source_caption(fig, info.source, f"{info.n:,} test images")
    return fig


def class_shares(loaded: dict) -> dict[str, np.ndarray]:
    """``{"name/split": share of each class}``."""
    return {
        f"{name}/{split}": np.bincount(s.y.numpy(), minlength=len(s.info.classes)) / s.info.n
        for name, by_split in loaded.items()
        for split, s in by_split.items()
    }


def plot_class_balance(loaded: dict, shares: dict):
    """One panel per dataset: the share of each class, one bar per split."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(loaded), figsize=(3.2 * len(loaded), 3.0), squeeze=False)
    for ax, (name, by_split) in zip(axes.flat, loaded.items()):
        for offset, split in zip((-0.2, 0.2), by_split):
            share = shares[f"{name}/{split}"]
            ax.bar(np.arange(len(share)) + offset, 100 * share, width=0.4, label=split)
        ax.set(title=next(iter(by_split.values())).info.source, xlabel="class index", ylabel="share of images (%)")
        ax.title.set_fontsize(9)
        ax.legend()
    plots.source_caption(fig, ", ".join(next(iter(b.values())).info.source for b in loaded.values()))
    return fig


def class_share_pct(labels, classes) -> dict[str, float]:
    """``{class name: % of labels}`` for integer ``labels`` indexing ``classes``."""
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) == 0 or y.min() < 0 or y.max() >= len(classes):
        raise ValueError(f"labels must be a non-empty 1-d array of indices into {len(classes)} classes")
    counts = np.bincount(y, minlength=len(classes))
    return {name: round(100 * float(c) / len(y), 2) for name, c in zip(classes, counts)}


def tabular_sources() -> tuple[pd.DataFrame, dict, dict]:
    """The released tables the course reads (testbed, ImageNetV2 and CIFAR-10.1 predictions,
    QMNIST metadata): ``(table, figures, sources)``; a missing one gets a note."""
    rows, figures, sources = [], {}, {}

    def testbed():
        t = data.imagenet_testbed(download=False)
        figures.update(testbed_models=len(t), testbed_settings=t.shape[1] - 1)
        sources["imagenet-testbed"] = "ImageNet testbed robustness_top1s.csv (Taori et al. 2020)"
        return "ImageNet testbed", f"{len(t)} models x {t.shape[1] - 1} settings", "Taori et al. 2020"

    def imagenetv2():
        v2 = data.imagenetv2_predictions("matched-frequency")
        top1 = v2.correct(1).mean()
        figures["imagenetv2_models"] = len(v2.top5)
        sources["imagenetv2"] = "ImageNetV2 MatchedFrequency top-5 predictions (Recht et al. 2019)"
        return (
            "ImageNetV2 MatchedFrequency predictions",
            f"{len(v2.top5)} models x {len(v2.labels):,} images; "
            f"top-1 {100 * top1.min():.1f}% to {100 * top1.max():.1f}%",
            "Recht et al. 2019",
        )

    def cifar101():
        c = data.cifar101_predictions("v6")
        acc = c.accuracy()
        figures["cifar101_models"] = len(acc)
        figures["cifar101_class_share_pct"] = {
            v: class_share_pct(data.cifar101_predictions(v).labels, data.CIFAR10_CLASSES) for v in ("v4", "v6")
        }
        sources["cifar10.1"] = "CIFAR-10.1 v6 labels and model predictions (Recht et al. 2018)"
        return (
            "CIFAR-10.1 v6 predictions",
            f"{len(acc)} models x {len(c.labels):,} images; accuracy {100 * acc.min():.1f}% to {100 * acc.max():.1f}%",
            "Recht et al. 2018",
        )

    def qmnist():
        qm = data.qmnist_metadata("test")
        counts = qm["population"].value_counts()
        figures["mnist_test_writers"] = int(qm["writer_id"].nunique())
        sources["qmnist"] = "QMNIST extended labels (Yadav & Bottou 2019)"
        return (
            "QMNIST metadata (MNIST test)",
            f"{len(qm):,} digits by {qm['writer_id'].nunique()} writers: "
            f"{counts.get('employee', 0):,} by Census employees, {counts.get('student', 0):,} by students",
            "Yadav & Bottou 2019",
        )

    for section, read in (
        ("ImageNet testbed", testbed),
        ("ImageNetV2 predictions", imagenetv2),
        ("CIFAR-10.1 predictions", cifar101),
        ("QMNIST metadata", qmnist),
    ):
        try:
            rows.append(read())
        except data.DataUnavailable as err:
            notes.show_missing(err, section)
    return pd.DataFrame(rows, columns=["source", "contents", "citation"]).set_index("source"), figures, sources
