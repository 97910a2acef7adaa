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
# # 3. Humans vs models
#
# Models lose 11 to 14 points of top-1 accuracy from ImageNet to ImageNetV2
# {cite}`recht2019imagenet`. Is the new test set simply *harder*, for anyone? Shankar et al.
# {cite}`shankar2020evaluating` had five trained labelers classify a blinded mix of both test
# sets: the humans scored about the same on both, while models did not. This chapter puts the
# published result next to the models of the testbed, then lets **you** be the labeler on a
# small version of the experiment built from MNIST's two writer populations.
#
# **You will learn** how a human-accuracy experiment is run (blinded, shuffled, one image at a
# time, every answer saved at once), how to score labelers with exact intervals, and where
# humans and models sit on the original-vs-new accuracy plane.
#
# **Compute.** `smoke`: ~20 s (a tiny zoo). `cpu`: ~1-2 min (a zoo of 8 MNIST models on
# 20,000 training digits). `gpu`: a larger task. Labeling is up to you: ~2 s an image.

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu
n_per_source = 100  # images per source in the labeling task (set by profile when 0)
seed = 0

# %%
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

import reliable_ml
from reliable_ml import data, labeling, notes, plots, stats, zoo

run = reliable_ml.start("03_humans_vs_models", profile, seed=seed)
plots.use_style()
n_per_source = n_per_source or reliable_ml.pick(profile, smoke=20, cpu=100, gpu=200)
figures: dict = {}
sources: dict = {}

# %% [markdown]
# ## The published result
#
# In the testbed of {cite}`taori2020measuring`, every ImageNet model that was evaluated on both
# test sets is one point below. The models lie close to a line below y = x: a model's
# accuracy on ImageNetV2 is predicted by its ImageNet accuracy, and every model loses.
# Shankar et al. report that their labelers did not: the median labeler's drop was under one
# point, against 5.4 points for the best model (multi-label accuracy, 40,000 relabelled
# images; their numbers, quoted from the paper, not measured here).

# %%
try:
    testbed = data.imagenet_testbed()
    cols = ["val", "imagenetv2-matched-frequency-format-val"]
    both = testbed.dropna(subset=cols)
    x_val, y_v2 = both[cols[0]].to_numpy() / 100, both[cols[1]].to_numpy() / 100
    fit = stats.probit_linear_fit(x_val, y_v2)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.scatter(100 * x_val, 100 * y_v2, s=12, alpha=0.6, label=f"ImageNet models (n = {len(both)})")
    grid = np.linspace(x_val.min(), x_val.max(), 100)
    ax.plot(100 * grid, 100 * fit.predict(grid), color="C1",
            label=f"probit fit (slope {fit.slope:.2f}, r² = {fit.r2:.2f})")
    plots.identity_line(ax)
    lo, hi = ax.get_xlim()
    ax.fill_between([lo, hi], [lo - 1, hi - 1], [lo, hi], color="C2", alpha=0.25,
                    label="drop < 1 point: where Shankar et al.'s\nmedian labeler falls (published)")
    ax.set_xlabel("ImageNet top-1 accuracy (%)")
    ax.set_ylabel("ImageNetV2 MatchedFrequency top-1 accuracy (%)")
    ax.set_title("Models lose accuracy on ImageNetV2; humans do not")
    ax.legend(loc="upper left")
    plots.source_caption(fig, "ImageNet testbed robustness_top1s.csv (Taori et al. 2020); human band from Shankar et al. 2020")
    plt.show()
    best = both.loc[both["val"].idxmax()]
    figures["testbed_probit_fit"] = fit.as_dict()
    figures["testbed_best_model"] = best["model"]
    figures["testbed_best_model_drop"] = float(best[cols[0]] - best[cols[1]])
    sources["testbed"] = "ImageNet testbed robustness_top1s.csv (Taori et al. 2020)"
    display(Markdown(f"The most accurate ImageNet model in the testbed, `{best['model']}`, scores "
                     f"{best[cols[0]]:.1f}% on ImageNet and {best[cols[1]]:.1f}% on ImageNetV2: a drop "
                     f"of {best[cols[0]] - best[cols[1]]:.1f} points (top-1)."))
except data.DataUnavailable as err:
    notes.show_missing(err, "the published result (ImageNet testbed)")

# %% [markdown]
# ## Your turn: a small version of the experiment
#
# MNIST's digits were written by two populations: US Census Bureau employees (NIST Special
# Database 3) and high-school students (Special Database 1) {cite}`yadav2019cold`. Models trained
# on MNIST are noticeably less accurate on the students' digits. Are the students' digits
# harder for *people*, too?
#
# The task below mixes `n_per_source` digits of each population from the MNIST test set,
# shuffles them with a seed fixed by your name, and shows them one at a time, without their
# source. Pick the digit (click, or type it and press Enter); *Skip* if you cannot tell; *Undo*
# takes back your last answer. Every answer is appended to a JSON-lines file the moment you give
# it, so you can stop at any time and resume later under the same name.

# %%
mnist_test = data.load_images("mnist", "test", fallback=True)
notes.show_fallback(mnist_test.info)
task = None
try:
    meta = data.qmnist_metadata("test")
    if mnist_test.info.fallback_from:
        raise data.DataUnavailable("mnist", data.data_root(), "torchvision.datasets.MNIST", "fallback in use")
    rng = np.random.default_rng(seed)
    picks = {pop: rng.choice(np.flatnonzero(meta["population"].to_numpy() == pop), n_per_source, replace=False)
             for pop in ("employee", "student")}
    index = np.concatenate([picks["employee"], picks["student"]])
    task = labeling.LabelingTask(mnist_test.x[index].numpy(), ["employee"] * n_per_source + ["student"] * n_per_source,
                                 mnist_test.y[index].numpy(), tuple(mnist_test.info.classes),
                                 name=f"mnist-employees-vs-students-{n_per_source}")
    log_path = labeling.annotations_root() / "03_humans_vs_models" / f"{task.name}.jsonl"
    app = labeling.ClassifyApp(task, log_path, scale=6)
    notes.show_interactive_note()
    display(app.widget)
    sources["task"] = "MNIST test digits by writer population (QMNIST metadata, Yadav & Bottou 2019)"
except data.DataUnavailable as err:
    notes.show_missing(err, "the MNIST labeling task (needs MNIST and the QMNIST writer metadata)")

# %% [markdown]
# ## Models on the same two populations
#
# A small zoo of MNIST models (logistic regression, MLPs and CNNs of several sizes, from
# `reliable_ml.zoo`) is trained on MNIST training digits and scored on the employees' and the
# students' test digits (all of them, not only the task's sample).

# %%
zoo_points = None
if task is not None:
    train = data.load_images("mnist", "train")
    n_train = reliable_ml.pick(profile, smoke=2_000, cpu=20_000, gpu=60_000)
    sub = torch.randperm(len(train.y), generator=torch.Generator().manual_seed(seed))[:n_train]
    names = zoo.zoo_names(reliable_ml.pick(profile, smoke="smoke", cpu="mnist-small", gpu="mnist-cpu"))
    trained = zoo.train_zoo(list(names), train.x[sub], train.y[sub], n_classes=10, seed=seed)
    preds = zoo.predict_zoo(trained, mnist_test.x)
    pop = meta["population"].to_numpy()
    rows = []
    for name, pred in preds.items():
        correct = (pred == mnist_test.y).numpy()
        rows.append({"model": name, "employee": correct[pop == "employee"].mean(),
                     "student": correct[pop == "student"].mean()})
    zoo_points = pd.DataFrame(rows).set_index("model")
    display((100 * zoo_points).round(2).rename(columns=lambda c: f"{c} accuracy (%)"))
    n_emp, n_stu = int((pop == "employee").sum()), int((pop == "student").sum())
    figures["zoo_mean_acc_employee"] = float(zoo_points["employee"].mean())
    figures["zoo_mean_acc_student"] = float(zoo_points["student"].mean())
    figures["zoo_mean_drop_points"] = float(100 * (zoo_points["employee"] - zoo_points["student"]).mean())
    figures["n_test_employee"], figures["n_test_student"] = n_emp, n_stu
    figures["zoo_train_size"] = n_train
    sources["zoo"] = f"MNIST ({n_train:,} training digits); test split by writer population (QMNIST)"

# %% [markdown]
# ## Humans on the plane
#
# Every saved session found in the annotations folder is replayed here: each labeler's
# accuracy on the employees' and the students' digits with exact 95% Clopper-Pearson
# intervals, on the same plane as the models. Headless runs (the book build, CI) have no
# human at the keyboard: they show only the sessions that were saved, and never simulate any.

# %%
human = pd.DataFrame()
if task is not None:
    records, problems = labeling.read_log(log_path)
    if problems:
        notes.show_note(f"{len(problems)} malformed line(s) in the answer log were skipped "
                        f"(first: line {problems[0].line}: {problems[0].reason}).", kind="warning")
    human = labeling.accuracy_table(records, task)
    if human.empty:
        notes.show_note("No labeling sessions are saved yet, so no human points are shown. "
                        "Label some digits above (in a live kernel), then re-run this cell.",
                        title="No human results yet")
    else:
        display(human.round(4))

    fig, ax = plt.subplots(figsize=(6, 5))
    ax.scatter(100 * zoo_points["employee"], 100 * zoo_points["student"], s=25, label="MNIST zoo models")
    if len(zoo_points) >= 3:
        zfit = stats.probit_linear_fit(zoo_points["employee"], zoo_points["student"])
        grid = np.linspace(zoo_points["employee"].min(), zoo_points["employee"].max(), 50)
        ax.plot(100 * grid, 100 * zfit.predict(grid), color="C0", alpha=0.6,
                label=f"zoo probit fit (r² = {zfit.r2:.2f})")
        figures["zoo_probit_fit"] = zfit.as_dict()
    labeler_rows = []
    for who, g in human.groupby("labeler"):
        g = g.set_index("source")
        if {"employee", "student"} <= set(g.index) and g["answered"].min() > 0:
            e, s_ = g.loc["employee"], g.loc["student"]
            ax.errorbar(100 * e["accuracy"], 100 * s_["accuracy"],
                        xerr=[[100 * (e["accuracy"] - e["ci_low"])], [100 * (e["ci_high"] - e["accuracy"])]],
                        yerr=[[100 * (s_["accuracy"] - s_["ci_low"])], [100 * (s_["ci_high"] - s_["accuracy"])]],
                        fmt="s", color="C3", capsize=3, label=f"labeler {who}")
            labeler_rows.append({"labeler": who, **{f"{src}_{k}": float(g.loc[src, k]) for src in ("employee", "student")
                                                   for k in ("accuracy", "ci_low", "ci_high", "answered")}})
    plots.identity_line(ax)
    ax.set_xlabel("accuracy on Census employees' digits (%)")
    ax.set_ylabel("accuracy on high-school students' digits (%)")
    ax.set_title("MNIST: models vs human labelers")
    ax.legend(loc="upper left")
    plots.source_caption(fig, "MNIST test split by writer population (QMNIST metadata)")
    plt.show()
    figures["n_labelers"] = len(labeler_rows)
    figures["n_answers"] = int(sum(r["action"] != "undo" for r in records))
    figures["labelers"] = labeler_rows

# %% [markdown]
# ## What it means
#
# * The models' points sit below y = x and close to a line: the students' digits cost every
#   model accuracy, in proportion to how good the model is. This is the pattern of a
#   distribution shift, the same one the testbed shows for ImageNetV2.
# * Shankar et al. found that trained humans do *not* lose accuracy on ImageNetV2: whatever
#   makes the new test set hard for models is not something that makes it hard for people.
#   Your own points above (if you labeled) tell you whether the same holds for you on MNIST;
#   with 100 images per source the intervals are several points wide, so read them with care.
# * Human labels also bound what "correct" means: where labelers disagree, a model's
#   "error" may be a label problem rather than a model problem {cite}`shankar2020evaluating,tsipras2020imagenet`.

# %%
path = run.save(figures, data_source=sources or {"none": "no data available"})
print(f"results written to results/{profile}/{path.name} after {run.wall_seconds:.1f} s")
