# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["remove-cell"]
# On Colab (or anywhere without the course package): install it. Silent when it is installed.
REPO_URL = ""  # `make book REPO_URL=...` writes the repository here in the published notebooks
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("reliable_ml") is None:
    _url = os.environ.get("RELIABLE_ML_REPO_URL") or REPO_URL
    if not _url:
        raise RuntimeError(
            "reliable_ml is not installed and no repository URL is known: "
            "set RELIABLE_ML_REPO_URL or `pip install -e .` in a clone"
        )
    _pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*_pip, f"reliable-ml[book] @ git+{_url}"], check=True)
    subprocess.run([*_pip, "--no-deps", "torchattacks==3.5.1"], check=True)

# %%

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
# **Compute.** `smoke`: the test splits only. `cpu`: train and test splits (the first run
# decodes the 60,000 CIFAR-10 JPEGs once and caches the tensors). `gpu`: same as `cpu`. The
# settings live in `reliable_ml/settings/data_tour.py`, the tables and figures in
# `reliable_ml.data.tour`. The measured cost of the last `cpu` run:

# %% tags=["remove-input"]
from reliable_ml.course.compute_note import compute_note  # noqa: E402  (after the install cell)

compute_note("00_data_tour")

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu
seed = 0
samples_per_class = 6  # images per class in each sample grid
splits = ["train", "test"]  # splits loaded per dataset ("test" alone keeps smoke fast)

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from reliable_ml import course, data
from reliable_ml.course.glue import glue, glue_missing  # the prose's numbers
from reliable_ml.data import tour
from reliable_ml.util import plots

run = course.start("00_data_tour", profile, seed=seed)
plots.use_style()
rng = np.random.default_rng(seed)

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
#   offline, a JPEG (quality 75) re-encoding in ImageFolder layout, which is lossy. Its file
#   names keep each image's rank within its class, so with the canonical test labels
#   (distributed with Northcutt et al.'s label-error data {cite}`northcutt2021pervasive`) the
#   canonical test order is rebuilt (`reliable_ml.data.released.cifar10_canonical_test`).
#
# One call loads a split; here is the smallest, with what its `info` records:

# %%
x, y, info = data.load_images("digits", "test")
print(x.shape, x.dtype, y[:10].tolist())
print(info.source, "| lossy:", info.lossy, "| classes:", info.classes)

# %% [markdown]
# ### Provenance
#
# One row per dataset: how many images each split has, their shape, where they were read
# from (relative to the data root), and whether the copy is lossy.

# %% tags=["hide-input"]
loaded = tour.load_all(splits)
display(tour.provenance(loaded, splits))

# %% [markdown]
# A known value checks the bytes: the mean pixel intensity of the MNIST training split, scaled
# to [0, 1], is 0.1307, the mean most MNIST normalisation layers use. Computing it is one line
# per split (this run's test split: {glue:text}`mnist_test_mean:.4f`):

# %%
pixel_means = {f"{name}/{split}": round(float(s.x.float().mean() / 255), 4)
               for name, by_split in loaded.items() for split, s in by_split.items()}
display(pd.Series(pixel_means, name="mean pixel value in [0, 1]").to_frame())
if "mnist" in loaded and "train" in loaded["mnist"]:
    assert pixel_means["mnist/train"] == 0.1307, "these are not the original MNIST bytes"
if "mnist/test" in pixel_means:
    glue("mnist_test_mean", pixel_means["mnist/test"], display=False)

# %% [markdown]
# ### Samples
#
# A few random test images per class, with their labels. Small images are shown with
# nearest-neighbour interpolation, so every pixel you see is a pixel the model sees.

# %% tags=["hide-input"]
for by_split in loaded.values():
    tour.sample_grid(by_split["test"], samples_per_class, rng)
    plt.show()

# %% [markdown]
# ### Class balance
#
# A test set's class balance matters when we compare accuracies across test sets: a new test
# set with a different class mix can change accuracy without any model getting worse.
# CIFAR-10.1 v4, for example, has only {glue:text}`v4_ship_pct:.1f`% ships {cite}`recht2018cifar`;
# v6, the version the course uses, has {glue:text}`v6_ship_pct:.1f`% ships, and its classes
# range from {glue:text}`v6_min_pct:.1f`% to {glue:text}`v6_max_pct:.1f`% of the images (table
# below).

# %% tags=["hide-input"]
balance = tour.class_shares(loaded)
tour.plot_class_balance(loaded, balance)
plt.show()

# %% [markdown]
# ## Tabular sources
#
# Several chapters work from published evaluations rather than images:
#
# * the ImageNet **testbed** of {cite}`taori2020measuring`: top-1 accuracy of hundreds of
#   models on hundreds of evaluation settings (chapters 1 and 8);
# * the **ImageNetV2** top-5 predictions of {glue:text}`n_v2_models` models on the ImageNet
#   validation set and on the three ImageNetV2 test sets, MatchedFrequency, Threshold0.7 and
#   TopImages {cite}`recht2019imagenet` (chapter 1's image-by-image re-analysis and
#   model-similarity analysis; the table below describes MatchedFrequency);
# * the **CIFAR-10.1** predictions of {glue:text}`n_c101_models` published CIFAR-10 models on
#   the CIFAR-10 test set and on CIFAR-10.1 v4 and v6 {cite}`recht2018cifar`;
# * the **QMNIST** metadata {cite}`yadav2019cold`: writer and NIST series of every MNIST digit
#   (chapter 1's rebuilt test sets).

# %% tags=["hide-input"]
tables, figures, sources = tour.tabular_sources()
display(tables)
if "cifar101_class_share_pct" in figures:
    display(pd.DataFrame(figures["cifar101_class_share_pct"]).rename_axis("class (% of images)"))
    v6_shares = figures["cifar101_class_share_pct"]["v6"].values()
    glue("v4_ship_pct", figures["cifar101_class_share_pct"]["v4"]["ship"], display=False)
    glue("v6_ship_pct", figures["cifar101_class_share_pct"]["v6"]["ship"], display=False)
    glue("v6_max_pct", max(v6_shares), display=False)
    glue("v6_min_pct", min(v6_shares), display=False)
for key, name in (("imagenetv2_models", "n_v2_models"), ("cifar101_models", "n_c101_models")):
    if key in figures:
        glue(name, figures[key], display=False)

# %% [markdown]
# ## What this means for the rest of the course
#
# * MNIST here is the original, so MNIST numbers can be compared with published ones.
# * The offline CIFAR-10 is a lossy copy, so every number computed on it is labelled with its
#   source. How much the re-encoding changes a model's accuracy is not measured here; it
#   depends on whether the model was trained on the originals or on the copy. Scoring the
#   published CIFAR-10.1 predictions on the original CIFAR-10 test set needs only the canonical
#   test labels, not the images, and chapter 1 does it for every released model.
# * Every later results file records a `data_source`; the scorecard compares only numbers
#   whose sources match.

# %% tags=["hide-input"]
sources |= {name: by_split["test"].info.source for name, by_split in loaded.items()}
figures |= {f"n_{name.replace('-', '_')}_{split}": s.info.n for name, b in loaded.items() for split, s in b.items()}
figures["pixel_mean"] = pixel_means
figures["max_class_share"] = {k: round(float(v.max()), 4) for k, v in balance.items()}
path = run.save(figures, data_source=sources)
print(f"results written to results/{profile}/{path.name} after {run.wall_seconds:.1f} s")

# %% tags=["remove-input"]
# numbers quoted in the prose of a section skipped for missing data read "nan" (its note says why)
skipped = glue_missing("00_data_tour")
