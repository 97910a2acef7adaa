# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["remove-cell"]
# On Colab (or anywhere without the course package): install it. Silent when it is installed.
REPO_URL = ""  # `make book REPO_URL=...` writes the repository here in the published notebooks
import importlib.util, os, subprocess, sys  # noqa: E401
if importlib.util.find_spec("reliable_ml") is None:
    _url = os.environ.get("RELIABLE_ML_REPO_URL") or REPO_URL
    if not _url:
        raise RuntimeError("reliable_ml is not installed and no repository URL is known: "
                           "set RELIABLE_ML_REPO_URL or `pip install -e .` in a clone")
    _pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*_pip, f"reliable-ml[book] @ git+{_url}"], check=True)
    subprocess.run([*_pip, "--no-deps", "torchattacks==3.5.1"], check=True)

# %% [markdown]
# # 0. A tour of the data
#
# Every later chapter measures accuracy on some test set and compares it with accuracy on
# another. Before trusting any of those numbers we should know exactly which bytes they
# were computed on. This chapter loads each dataset the course uses, shows samples and class
# balance, and records where every file came from.
#
# **You will learn** what each dataset is, how it is stored, which copies are lossy (the
# offline CIFAR-10 is a JPEG re-encoding, so its numbers are labelled "CIFAR-10 (JPEG q75
# copy)"), and how the course falls back, loudly, when data is missing.
#
# **Compute.** `smoke`: a few seconds (test splits only). `cpu`: under a minute once the
# decoded tensors are cached (the first decode of the 60,000 CIFAR-10 JPEGs takes about 30 s
# on 2 cores). `gpu`: same as `cpu`.

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu
samples_per_class = 6  # images per class in each sample grid
seed = 0

# %%
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from IPython.display import display

import reliable_ml
from reliable_ml import data, notes, plots

run = reliable_ml.start("00_data_tour", profile, seed=seed)
plots.use_style()
rng = np.random.default_rng(seed)
splits = ("test",) if profile == "smoke" else ("train", "test")

# %% [markdown]
# ## Image datasets
#
# `reliable_ml.data.load_images(name, split)` returns the whole split as a uint8 tensor
# `x` of shape `(N, C, H, W)`, int64 labels `y`, and an `info` record of provenance. We try
# each dataset the course uses; a missing one is reported and skipped, never silently
# replaced.
#
# * **digits**: scikit-learn's 1,797 bundled 8x8 digits {cite}`pedregosa2011scikit`, the
#   embedded fallback that needs no download.
# * **MNIST** {cite}`lecun1998gradient`: 28x28 handwritten digits, byte-identical to the
#   original files.
# * **CIFAR-10** {cite}`krizhevsky2009learning`: the canonical pickled batches when present;
#   offline, a JPEG (quality 75) re-encoding in ImageFolder layout, which is lossy and has
#   lost the original image order.

# %%
loaded: dict[str, dict[str, data.ImageSet]] = {}
for name in ("digits", "mnist", "cifar10", "cifar10-jpeg"):
    try:
        loaded[name] = {split: data.load_images(name, split) for split in splits}
    except data.DataUnavailable as err:
        if name == "cifar10":
            print("Canonical CIFAR-10 (torchvision's cifar-10-batches-py) is not here; the JPEG copy is used.")
            continue
        notes.show_missing(err, f"{name} samples")

# %% [markdown]
# ### Provenance
#
# One row per dataset: how many images each split has, their shape, where they were read
# from (relative to the data root), and whether the copy is lossy.

# %%
rows = []
for name, by_split in loaded.items():
    info = next(iter(by_split.values())).info
    rows.append({
        "dataset": name,
        "source label": info.source,
        **{f"n {split}": by_split[split].info.n for split in splits},
        "image shape (C, H, W)": str(info.shape),
        "classes": len(info.classes),
        "lossy copy": info.lossy,
        "read from": info.location,
    })
provenance = pd.DataFrame(rows).set_index("dataset")
display(provenance)

# %% [markdown]
# A known value checks the bytes: the mean pixel intensity of MNIST, scaled to [0, 1], is
# 0.1307 on the training split and 0.1325 on the test split (the values every MNIST
# normalisation layer uses).

# %%
pixel_means = {f"{name}/{split}": round(float(s.x.float().mean() / 255), 4)
               for name, by_split in loaded.items() for split, s in by_split.items()}
display(pd.Series(pixel_means, name="mean pixel value in [0, 1]").to_frame())

# %% [markdown]
# ### Samples
#
# A few random test images per class, with their labels. Small images are shown with
# nearest-neighbour interpolation, so every pixel you see is a pixel the model sees.

# %%
for name, by_split in loaded.items():
    x, y, info = by_split["test"]
    picks = np.concatenate([rng.choice(np.flatnonzero(y.numpy() == c), samples_per_class, replace=False)
                            for c in range(len(info.classes))])
    fig = plots.image_grid(x[picks].numpy(), [info.classes[int(y[i])] for i in picks],
                           ncols=samples_per_class * 2, scale=0.9,
                           suptitle=f"{info.source}: {samples_per_class} random test images per class")
    plots.source_caption(fig, info.source, f"{info.n:,} test images")
    plt.show()

# %% [markdown]
# ### Class balance
#
# A test set's class balance matters when we compare accuracies across test sets: a new test
# set with a different class mix can change accuracy without any model getting worse.
# CIFAR-10.1 v4, for example, has only 8% ships {cite}`recht2018cifar`.

# %%
fig, axes = plt.subplots(1, len(loaded), figsize=(3.2 * len(loaded), 3.0), squeeze=False)
balance = {}
for ax, (name, by_split) in zip(axes.flat, loaded.items()):
    for offset, (split, s) in zip((-0.2, 0.2), by_split.items()):
        share = np.bincount(s.y.numpy(), minlength=len(s.info.classes)) / s.info.n
        balance[f"{name}/{split}"] = share
        ax.bar(np.arange(len(share)) + offset, 100 * share, width=0.4, label=split)
    ax.set_title(next(iter(by_split.values())).info.source, fontsize=9)
    ax.set_xlabel("class index")
    ax.set_ylabel("share of images (%)")
    ax.legend()
plots.source_caption(fig, ", ".join(s.info.source for s in (next(iter(b.values())) for b in loaded.values())))
plt.show()

# %% [markdown]
# ## Tabular sources
#
# Several chapters work from published evaluations rather than images:
#
# * the ImageNet **testbed** of {cite}`taori2020measuring`: top-1 accuracy of hundreds of
#   models on hundreds of evaluation settings (chapters 1 and 8);
# * the **ImageNetV2** top-5 predictions of 67 models on the MatchedFrequency test set
#   {cite}`recht2019imagenet` (chapter 1's model-similarity analysis);
# * the **CIFAR-10.1** predictions of about 30 published CIFAR-10 models {cite}`recht2018cifar`;
# * the **QMNIST** metadata {cite}`yadav2019cold`: writer and NIST series of every MNIST digit
#   (chapter 1's rebuilt test sets).

# %%
tables = []
sources = {name: by_split["test"].info.source for name, by_split in loaded.items()}
figures: dict = {}
try:
    testbed = data.imagenet_testbed(download=False)
    tables.append(("ImageNet testbed", f"{len(testbed)} models x {testbed.shape[1] - 1} settings",
                   "Taori et al. 2020"))
    figures["testbed_models"] = len(testbed)
    figures["testbed_settings"] = testbed.shape[1] - 1
    sources["imagenet-testbed"] = "ImageNet testbed robustness_top1s.csv (Taori et al. 2020)"
except data.DataUnavailable as err:
    notes.show_missing(err, "ImageNet testbed")
try:
    v2 = data.imagenetv2_predictions("matched-frequency")
    top1 = v2.correct(1).mean()
    tables.append(("ImageNetV2 MatchedFrequency predictions",
                   f"{len(v2.top5)} models x {len(v2.labels):,} images; top-1 {100 * top1.min():.1f}%"
                   f" to {100 * top1.max():.1f}%", "Recht et al. 2019"))
    figures["imagenetv2_models"] = len(v2.top5)
    sources["imagenetv2"] = "ImageNetV2 MatchedFrequency top-5 predictions (Recht et al. 2019)"
except data.DataUnavailable as err:
    notes.show_missing(err, "ImageNetV2 predictions")
try:
    c101 = data.cifar101_predictions("v6")
    acc = c101.accuracy()
    tables.append(("CIFAR-10.1 v6 predictions",
                   f"{len(acc)} models x {len(c101.labels):,} images; accuracy {100 * acc.min():.1f}%"
                   f" to {100 * acc.max():.1f}%", "Recht et al. 2018"))
    figures["cifar101_models"] = len(acc)
    sources["cifar10.1"] = "CIFAR-10.1 v6 labels and model predictions (Recht et al. 2018)"
except data.DataUnavailable as err:
    notes.show_missing(err, "CIFAR-10.1 predictions")
try:
    qm = data.qmnist_metadata("test")
    counts = qm["population"].value_counts()
    tables.append(("QMNIST metadata (MNIST test)",
                   f"{len(qm):,} digits by {qm['writer_id'].nunique()} writers: "
                   f"{counts.get('employee', 0):,} by Census employees, {counts.get('student', 0):,} by students",
                   "Yadav & Bottou 2019"))
    figures["mnist_test_writers"] = int(qm["writer_id"].nunique())
    sources["qmnist"] = "QMNIST extended labels (Yadav & Bottou 2019)"
except data.DataUnavailable as err:
    notes.show_missing(err, "QMNIST metadata")
display(pd.DataFrame(tables, columns=["source", "contents", "citation"]).set_index("source"))

# %% [markdown]
# ## What this means for the rest of the course
#
# * MNIST here is the original, so MNIST numbers can be compared with published ones.
# * The offline CIFAR-10 is a lossy copy: expect accuracies within a fraction of a point of
#   the originals, but label every number with its source. Its lost order also means the
#   published CIFAR-10.1 predictions cannot be scored on *original* CIFAR-10 without the
#   canonical test labels.
# * Every later results file records a `data_source`; the scorecard compares only numbers
#   whose sources match.

# %%
for name, by_split in loaded.items():
    for split, s in by_split.items():
        figures[f"n_{name.replace('-', '_')}_{split}"] = s.info.n
figures["pixel_mean"] = pixel_means
figures["max_class_share"] = {k: round(float(v.max()), 4) for k, v in balance.items()}
path = run.save(figures, data_source=sources)
print(f"results written to results/{profile}/{path.name} after {run.wall_seconds:.1f} s")
