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
# Models lose accuracy from ImageNet to ImageNetV2 {cite}`recht2019imagenet`. Is the new
# test set simply *harder*, for anyone? Shankar et al. {cite}`shankar2020evaluating` had
# five trained labelers classify a blinded mix of both test sets, and report that the
# humans scored about the same on both while models did not. We cannot rerun their
# experiment (their labels are not in our data), so this chapter does three things:
#
# 1. shows the models' side of the published result, from the ImageNet testbed;
# 2. **measures** humans where released human labels exist: CIFAR-10H
#    {cite}`peterson2019human`, about 51 people's labels for each CIFAR-10 test image. How
#    accurate is one person, how accurate is the crowd's majority, and do models fail on the
#    images where people hesitate?
# 3. lets **you** be the labeler on a small version of Shankar et al.'s experiment built from
#    MNIST's two writer populations.
#
# **You will learn** how to score human labelers against a test set's labels (one person,
# and a majority vote), how to compare human agreement with model errors image by image,
# and how a human-accuracy experiment is run (blinded, shuffled, every answer saved at once).
#
# Why does it matter? A drop in accuracy on a new test set has two readings. Either the new
# images are harder in a way that anyone would notice (blurrier, more ambiguous, more often
# mislabelled), and then the drop says little about the models; or the images are just as
# easy for people, and then the drop is a real failure to generalise. Only measuring people
# on the same images can tell the two apart, and measuring people has its own pitfalls:
# labelers tire, learn, and disagree with the labels and with each other.
#
# **Compute.** `smoke`: well under a minute. `cpu`: a couple of minutes on 2 cores (the
# CIFAR-10 zoo of chapter 2 is loaded from its cache, or trained once). Labeling is up to
# you: about 2 s an image. Settings: `reliable_ml.settings.humans_vs_models`.

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu
seed = 0
n_per_source = 100
n_train = 20000
mnist_zoo = "mnist-small"
cifar_zoo = ["logreg-e2", "mlp-64-e2", "cnn-8-e3", "cnn-16-e4"]
cifar_train = 10000
hesitant = 0.9
n_grid_images = 16
alpha = 0.05
torch_threads = 2

# %% tags=["hide-input"]
import numpy as np, pandas as pd, matplotlib.pyplot as plt, torch
from IPython.display import display
from reliable_ml.notes import glue  # myst-nb glue of plain numbers

from reliable_ml import course
from reliable_ml import data, effective_robustness as er, human_labels as hl, humans, labeling, plots, zoo, notes

if torch_threads:
    torch.set_num_threads(torch_threads)
run = course.start("03_humans_vs_models", profile, seed=seed)
plots.use_style()
figures, sources = {}, {}

# %% [markdown]
# ## 1. The models' side of the published result
#
# In the testbed of {cite}`taori2020measuring`, every ImageNet model evaluated on both test
# sets is one point below. The models lie close to a line below y = x: a model's accuracy
# on ImageNetV2 is predicted by its ImageNet accuracy, and every model loses. (The testbed
# re-evaluated ImageNetV2; its numbers run 0.1-0.3 points below the original evaluation.)

# %% tags=["hide-input"]
try:
    fig, fit, both = humans.testbed_figure(data.imagenet_testbed())
    plt.show()
    best = both.loc[both["val"].idxmax()]
    col = "imagenetv2-matched-frequency-format-val"
    figures.update(testbed_probit_fit=fit.as_dict(), testbed_best_model=best["model"],
                   testbed_best_model_drop=float(best["val"] - best[col]))
    sources["testbed"] = "ImageNet testbed robustness_top1s.csv (Taori et al. 2020)"
except data.DataUnavailable as err:
    notes.show_missing(err, "the published result (ImageNet testbed)")
glue("best_model", figures.get("testbed_best_model", "n/a"), display=False)
glue("best_drop", figures.get("testbed_best_model_drop", float("nan")), display=False)

# %% [markdown]
# How does the loss depend on accuracy? As in chapter 1, read it on the probit scale: the slope
# of the figure's line, with a bootstrap interval over the models, and the drops that line
# predicts in accuracy points for a weaker and a stronger model.

# %%
if "testbed_probit_fit" in figures:
    tb_slope = er.slope_interval(both["val"], both[col], seed=seed)  # over the figure's models
    tb_drops = er.line_drop(fit, [60, 85])  # points lost at 60% and at 85% ImageNet accuracy
    print(f"slope {tb_slope.slope:.2f} [{tb_slope.lo:.2f}, {tb_slope.hi:.2f}] over {tb_slope.n} models; "
          f"predicted drops {tb_drops[0]:.1f} (60%) and {tb_drops[1]:.1f} points (85%)")

# %% tags=["hide-input"]
if "testbed_probit_fit" in figures:
    figures["testbed_probit_slope"] = tb_slope.as_dict()
    notes.glue_values(er.slope_numbers("tb", tb_slope, tb_drops))

# %% [markdown]
# The line has slope {glue:text}`tb_slope:.2f` on the probit scale (95% bootstrap interval
# {glue:text}`tb_slope_lo:.2f` to {glue:text}`tb_slope_hi:.2f` over {glue:text}`tb_slope_n`
# models; {glue:text}`tb_slope_vs_1`; slope 1 would be the same drop on that scale for every
# model), and in accuracy points it predicts a drop of about {glue:text}`tb_drop_60:.1f` points
# for a model at 60% and {glue:text}`tb_drop_85:.1f` at 85%. The most accurate model in the testbed, {glue:text}`best_model`, drops
# {glue:text}`best_drop:.1f` points of top-1. Shankar et al. measured humans on their own
# metric, *multi-label accuracy* over 40,000 re-labelled images, which counts an answer as
# right when it is any of the labels the experts accepted for the image. On that metric they
# report (their figures, quoted and not measured here) that the median labeler's accuracy
# dropped by under one point from ImageNet to ImageNetV2, against 5.4 points for the best
# model {cite}`shankar2020evaluating`. This figure holds no human data: the humans' side is
# measured below, on CIFAR-10.
#
# ## 2. How accurate is one person? CIFAR-10H
#
# CIFAR-10H asked crowd workers to pick one of the ten classes for each test image, with
# attention checks, so each image has the votes of about fifty people who never saw the
# original label. That makes two questions answerable with released data alone.
#
# For image $i$ with original label $y_i$, let $n_{ic}$ be how many of its annotators chose
# class $c$. A random annotator of image $i$ is right with probability
# $n_{i y_i} / \sum_c n_{ic}$ (the image's *agreement*), so one person's expected accuracy
# is the mean agreement; the crowd's **majority vote** is $\arg\max_c n_{ic}$. Written out,
# then checked against the package:

# %% tags=["hide-input"]
cifar = False
try:
    counts, labels = data.cifar10h_counts(), data.cifar10_test_labels()
    test_c = data.cifar10_canonical_test()
    sources["cifar10h"] = f"CIFAR-10H (Peterson et al. 2019); images: {test_c.info.source}"
    cifar = True
except (data.DataUnavailable, data.DataCorrupt) as err:
    notes.show_missing(err, "CIFAR-10H (sections 2 and 3)")

# %%
if cifar:
    agree = counts[np.arange(len(labels)), labels] / counts.sum(1)
    individual = agree.mean()
    majority = (counts.argmax(1) == labels).mean()  # argmax takes the first of tied classes
    assert np.isclose(individual, hl.individual_accuracy(counts, labels))
    majority_h = (hl.majority_vote(counts, seed) == labels).mean()  # ties broken at random
    assert abs(majority - majority_h) < 0.01
    print(f"one annotator: {100 * individual:.2f}%, majority of ~{counts.sum(1).mean():.0f}: {100 * majority_h:.2f}%")

# %% tags=["hide-input"]
c10h = {}
if cifar:
    c10h = {"individual_acc": round(100 * float(individual), 3), "majority_acc": round(100 * float(majority_h), 3),
            "annotators_per_image": round(float(counts.sum(1).mean()), 2),
            "hesitant_share_pct": round(100 * float((agree < hesitant).mean()), 3)}
for k in ("individual_acc", "majority_acc", "hesitant_share_pct"):
    glue(k, c10h.get(k, float("nan")), display=False)

# %% [markdown]
# One annotator agrees with the original CIFAR-10 label on {glue:text}`individual_acc:.2f`%
# of images on average; the majority of about fifty agrees on {glue:text}`majority_acc:.2f`%.
# The remaining disagreements are images that are ambiguous, or whose original label is
# wrong {cite}`northcutt2021pervasive`: a test set's "errors" are not all the model's.
# On {glue:text}`hesitant_share_pct:.1f`% of images fewer than 90% of the annotators chose
# the original label: there, *humans hesitate*.
#
# ## 3. Image by image: do models fail where humans hesitate?
#
# Two kinds of models: the course's CIFAR-10 zoo (small models trained on the JPEG copy of
# the training split, shared with chapter 2), and a much stronger one, the cross-validated
# predictions released with the label-errors study {cite}`northcutt2021pervasive` (each
# test image predicted by a model that never trained on it). For each bin of human
# agreement, their accuracy. Reading the figure: the rightmost bin holds the images every
# annotator labelled the same way; moving left, fewer and fewer annotators chose the
# original label. If models and people found the same images hard, accuracy would fall
# from right to left; if model errors were unrelated to human doubt, the lines would be flat.

# %% tags=["hide-input"]
if cifar:
    trained_c = zoo.cifar10_zoo(cifar_zoo, cifar_train, seed=seed)
    correct = zoo.correct_matrix(trained_c, test_c.x, test_c.y)  # (models, 10000)
    groups = {f"CIFAR zoo, mean of {len(trained_c)}": correct}
    try:
        cv_pred = hl.cifar10_cv_predictions()
        groups["cross-validated model (label-errors)"] = (cv_pred == labels)[None]
    except (data.DataUnavailable, data.DataCorrupt, ValueError) as err:
        cv_pred = None
        notes.show_missing(err, "the cross-validated model of the label-errors release")
    tables = {name: hl.agreement_table(agree, c) for name, c in groups.items()}
    display(pd.concat(tables, axis=1).round(2))
    humans.agreement_figure(tables, sources["cifar10h"])
    plt.show()

# %% tags=["hide-input"]
if cifar:
    summ = {name: humans.hesitation_summary(agree, c.mean(0) >= 0.5, hesitant) for name, c in groups.items()}
    display(pd.DataFrame(summ).round(2))
    c10h["zoo_test_acc"] = dict(zip(trained_c, np.round(100 * correct.mean(1), 2).tolist()))
    c10h["by_agreement"] = {name: t["model accuracy (%)"].round(3).to_dict() for name, t in tables.items()}
    c10h["hesitation"] = {name: {k: round(v, 3) for k, v in s.items()} for name, s in summ.items()}
    if cv_pred is not None:
        c10h["cv_model_acc"] = round(100 * float((cv_pred == labels).mean()), 3)
hes = list(c10h.get("hesitation", {}).values()) + [{}] * 2
for i, name in enumerate(["zoo", "cv"]):
    glue(f"{name}_err_hes", hes[i].get("errors_on_hesitant_pct", float("nan")), display=False)
    glue(f"{name}_rate_una", hes[i].get("error_rate_unanimous_pct", float("nan")), display=False)

# %% [markdown]
# (For the zoo, an image counts as an error when most zoo members get it wrong.) Both
# kinds of model are less accurate the more people hesitate (the table above). The
# hesitant images, {glue:text}`hesitant_share_pct:.1f`% of the test set, hold
# {glue:text}`zoo_err_hes:.1f`% of the zoo's errors and {glue:text}`cv_err_hes:.1f`% of the
# cross-validated model's: the weak zoo errs on so many images that its errors follow human
# doubt only loosely, while the strong model's errors gather where people hesitate. Models
# also **fail alone**: on images where every annotator chose the original label, the zoo
# still errs on {glue:text}`zoo_rate_una:.1f`% and the strong model on
# {glue:text}`cv_rate_una:.1f`%. The grids show both kinds, among images that the zoo and
# the strong model both get wrong (titles: original label, the share of annotators who chose
# it, and the strong model's prediction).

# %% tags=["hide-input"]
if cifar:
    wrong_all = (correct.mean(0) < 0.5) & ((cv_pred != labels) if cv_pred is not None else True)
    picks = humans.image_picks(agree, wrong_all, n_grid_images, seed)
    pred = cv_pred if cv_pred is not None else labels  # titles show the strong model when it is there
    for kind, title in (("hesitate", "Models fail where humans hesitate"),
                        ("alone", "Models fail alone: every annotator chose the original label")):
        humans.images_figure(test_c.x.numpy(), picks[kind], labels, counts.argmax(1), agree, pred, title,
                             sources["cifar10h"])
        plt.show()
    c10h["fail_alone_images"] = int((wrong_all & (agree >= 0.999)).sum())

# %% [markdown]
# ## 4. Your turn: a small version of Shankar et al.'s experiment
#
# MNIST's digits were written by two populations: US Census Bureau employees (NIST Special
# Database 3) and high-school students (Special Database 1) {cite}`yadav2019cold`. Models
# trained on MNIST are noticeably less accurate on the students' digits. Are the students'
# digits harder for *people*, too?
#
# The task below mixes `n_per_source` digits of each population from the MNIST test set,
# shuffles them with a seed fixed by your name, and shows them one at a time, without their
# source. Pick the digit (click, or type it and press Enter); *Skip* if you cannot tell;
# *Undo* takes back your last answer. Every answer is appended to a JSON-lines file the
# moment you give it, so you can stop at any time and resume later under the same name.

# %% tags=["hide-input"]
mnist_test = data.load_images("mnist", "test", fallback=True)
notes.show_fallback(mnist_test.info)
task = None
try:
    meta = data.qmnist_metadata("test")
    if mnist_test.info.fallback_from:
        raise data.DataUnavailable("mnist", data.data_root(), "torchvision.datasets.MNIST", "fallback in use")
    task, pop = labeling.population_task(mnist_test, meta, n_per_source, seed)
    log_path = labeling.annotations_root() / "03_humans_vs_models" / f"{task.name}.jsonl"
    app = labeling.ClassifyApp(task, log_path, scale=6)
    notes.show_interactive_note()
    display(app.widget)
    sources["task"] = "MNIST test digits by writer population (QMNIST metadata, Yadav & Bottou 2019)"
except data.DataUnavailable as err:
    notes.show_missing(err, "the MNIST labeling task (needs MNIST and the QMNIST writer metadata)")

# %% [markdown]
# A small zoo of MNIST models (logistic regression, MLPs and CNNs of several sizes, from
# `reliable_ml.zoo`) is trained on MNIST training digits and scored on all of the employees'
# and the students' test digits. Every saved labeling session in the annotations folder is
# replayed next to them, with exact 95% Clopper-Pearson intervals. Headless runs (the book
# build, CI) have no human at the keyboard: they show only saved sessions, never simulated ones.

# %% tags=["hide-input"]
if task is not None:
    train = data.load_images("mnist", "train")
    sub = torch.randperm(len(train.y), generator=torch.Generator().manual_seed(seed))[:n_train]
    trained = zoo.train_zoo(list(zoo.zoo_names(mnist_zoo)), train.x[sub], train.y[sub], n_classes=10, seed=seed)
    zoo_points = pd.DataFrame({name: {p: (pred == mnist_test.y).numpy()[pop == p].mean() for p in ("employee", "student")}
                               for name, pred in zoo.predict_zoo(trained, mnist_test.x).items()}).T

# %% tags=["hide-input"]
if task is not None:
    records, problems = labeling.read_log(log_path)
    if problems:
        notes.show_note(f"{len(problems)} malformed line(s) in the answer log were skipped.", kind="warning")
    rows = humans.labeler_rows(labeling.accuracy_table(records, task, alpha))
    humans.plane_figure(zoo_points, rows, "MNIST test split by writer population (QMNIST metadata)")
    plt.show()
    figures.update(zoo_mean_acc_employee=float(zoo_points["employee"].mean()),
                   zoo_mean_acc_student=float(zoo_points["student"].mean()),
                   zoo_mean_drop_points=float(100 * (zoo_points["employee"] - zoo_points["student"]).mean()),
                   n_test_employee=int((pop == "employee").sum()), n_test_student=int((pop == "student").sum()),
                   zoo_train_size=n_train, n_labelers=len(rows), labelers=rows,
                   n_answers=int(sum(r["action"] != "undo" for r in records)))
    sources["zoo"] = f"MNIST ({n_train:,} training digits); test split by writer population (QMNIST)"
    if len(zoo_points) >= 3:  # the zoo's own line, read the same way as the testbed's
        zoo_slope = er.slope_interval(100 * zoo_points["employee"], 100 * zoo_points["student"], seed=seed)
        figures["zoo_probit_slope"] = zoo_slope.as_dict()
        notes.glue_values(er.slope_numbers("zoo", zoo_slope))
glue("mnist_drop", figures.get("zoo_mean_drop_points", float("nan")), display=False)
glue("n_labelers", figures.get("n_labelers", 0), display=False)
glue("n_per_source", n_per_source, display=False)

# %% [markdown]
# The zoo loses {glue:text}`mnist_drop:.1f` points on average on the students' digits.
# This run found {glue:text}`n_labelers` saved labeling session(s) with answers on both
# populations; with none, the figure shows models only and says so in its title. With
# {glue:text}`n_per_source` images per source a labeler's interval is several points wide, so read your own point with
# care.
#
# ## What it means
#
# * Models lose accuracy on ImageNetV2 in a regular way (section 1): on the probit scale the
#   new accuracy is a line in the old one with slope {glue:text}`tb_slope:.2f`
#   ({glue:text}`tb_slope_lo:.2f` to {glue:text}`tb_slope_hi:.2f`); in accuracy points that line
#   costs {glue:text}`tb_drop_60:.1f` points at 60% and {glue:text}`tb_drop_85:.1f` at 85%. The
#   MNIST zoo's line on the students' digits has slope {glue:text}`zoo_slope:.2f`
#   ({glue:text}`zoo_slope_lo:.2f` to {glue:text}`zoo_slope_hi:.2f` over
#   {glue:text}`zoo_slope_n` models; {glue:text}`zoo_slope_vs_1`), read the same way.
# * Measured on CIFAR-10H, people are not perfect graders of a test set: one annotator
#   agrees with the original label {glue:text}`individual_acc:.1f`% of the time, the
#   majority {glue:text}`majority_acc:.1f`%. Models concentrate their errors where people
#   hesitate, yet they also fail on images every person finds clear: those failures are the
#   model's alone.
# * Whether humans lose accuracy on a *new* test set is Shankar et al.'s published result
#   on their multi-label metric; our data can test it only through your own sessions above.
#
# ## Exercises
#
# ```{exercise-start}
# :label: ex-03-few-annotators
# ```
# CIFAR-10H has about 51 annotators per image. How accurate is a majority of only 3, or 5?
# Draw that many annotators per image without replacement from the counts and take their
# majority vote.
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-03-few-annotators
# :class: dropdown
# ```

# %%
if cifar:
    rng = np.random.default_rng(seed)
    small = {k: np.stack([rng.multivariate_hypergeometric(c, k) for c in counts]) for k in (1, 3, 5)}
    acc_k = {k: float((hl.majority_vote(v, seed) == labels).mean()) for k, v in small.items()}
    print({k: f"{100 * a:.2f}%" for k, a in acc_k.items()})
    assert all(v.sum(1).tolist() == [k] * len(v) for k, v in small.items()) and acc_k[5] >= acc_k[1] - 0.01

# %% [markdown]
# ```{solution-end}
# ```
#
# A single annotator's accuracy is close to the expected accuracy computed in section 2,
# and a majority of a few already gets most of the way to the majority of fifty.
#
# ```{exercise-start}
# :label: ex-03-agree
# ```
# Do the small zoo and the strong cross-validated model fail on the *same* images? Compare
# how often the strong model errs on images the zoo gets right and on images it gets wrong.
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-03-agree
# :class: dropdown
# ```

# %%
if cifar and cv_pred is not None:
    zoo_wrong, cv_wrong = correct.mean(0) < 0.5, cv_pred != labels
    rates = {"zoo right": cv_wrong[~zoo_wrong].mean(), "zoo wrong": cv_wrong[zoo_wrong].mean()}
    print({k: f"strong model errs on {100 * v:.1f}%" for k, v in rates.items()})
    assert 0 <= rates["zoo right"] <= 1 and 0 <= rates["zoo wrong"] <= 1

# %% [markdown]
# ```{solution-end}
# ```
#
# ## Summary

# %% tags=["hide-input"]
if c10h:
    figures["cifar10h"] = c10h
path = run.save(figures, data_source=sources or {"none": "no data available"})
print(f"results written to results/{profile}/{path.name} after {run.wall_seconds:.1f} s")

# %% tags=["remove-input"]
# numbers quoted in the prose of a section skipped for missing data read "nan" (its note says why)
skipped = notes.glue_missing("03_humans_vs_models")
