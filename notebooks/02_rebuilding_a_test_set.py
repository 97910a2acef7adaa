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

# %% [markdown]
# # 2. Rebuilding a test set
#
# ImageNetV2 and CIFAR-10.1 were built by following the original datasets' recipes as
# closely as possible: collect candidate images from the same kind of source, have crowd
# workers check them, sample the new test set so that it looks like the old one, and remove
# near-duplicates {cite}`recht2019imagenet,recht2018cifar`. Still, the authors report that
# models lost 3 to 15 accuracy points on CIFAR-10.1 and 11 to 14 points on ImageNetV2 (their
# figures, quoted from the abstract of {cite}`recht2019imagenet`). One step of the recipe turned out to matter a lot: *how* the final images
# are sampled from the annotated pool. ImageNetV2 comes in three versions, MatchedFrequency,
# Threshold0.7 and TopImages, and models score very differently on them.
#
# The chapter has two halves.
#
# * **How selection frequency arises** (sections 1-5): the whole pipeline replayed on MNIST
#   with a *simulated* crowd, so that every step can be watched.
# * **Measured with real annotators** (sections 6-7): every number about sampling strategies
#   on natural images comes from CIFAR-10H {cite}`peterson2019human`, about 51 people's
#   labels for each CIFAR-10 test image. No selection frequency there comes from a model.
#
# **You will learn** what a *selection frequency* is, how the three ImageNetV2 sampling
# strategies use it, how near-duplicates are found, how much the choice of strategy alone
# moves a zoo's accuracy, and why matching on a noisy estimate of selection frequency makes
# a new test set look harder than it is {cite}`engstrom2020identifying`.
#
# **Compute.** `smoke`: tiny sets. `cpu`: MNIST with held-out writers and a 4-model CIFAR-10
# zoo trained once and cached (measured below). `gpu`: larger zoos. Every setting is in the table
# `reliable_ml.settings.rebuilding_a_test_set`; the parameters cell below holds its `cpu` row.

# %% tags=["remove-input"]
from reliable_ml.course.compute_note import compute_note  # noqa: E402  (after the install cell)

compute_note("02_rebuilding_a_test_set")

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu
seed = 0
n_train = 8000
n_clarity = 3000
heldout_per_population = 2500
n_test = 10000
n_original_annotated = 2000
per_class = 100
wrong_share = 0.05
careless_share = 0.15
noise_max = 0.15
min_annotations = 10
pixel_threshold = 0.03
feature_threshold = 0.08
mnist_zoo = ["logreg-e1", "logreg-e4", "mlp-8-e2", "mlp-32-e1", "mlp-128-e2", "cnn-2-e1", "cnn-4-e1", "cnn-8-e1"]
clarity_members = ["logreg-e5", "mlp-64-e5", "cnn-4-e2"]
reader_grids = 12
cifar_zoo = ["logreg-e2", "mlp-64-e2", "cnn-8-e3", "cnn-16-e4"]
cifar_train = 10000
cifar10h_per_class = 100
strategy_draws = 50
engstrom_resamples = 200
engstrom_per_class = 100
engstrom_splits = 10
engstrom_split_resamples = 50
skew_high_sf = 0.9
skew_keep = 0.3
reader_log = ""
alpha = 0.05
torch_threads = 0

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import display

from reliable_ml import course, data, stats
from reliable_ml.course.glue import glue, glue_missing, glue_values  # the prose's numbers
from reliable_ml.labels import annotation, grid_labeling, labeling, rebuild
from reliable_ml.labels import human_labels as hl
from reliable_ml.labels import testbed_line as tl
from reliable_ml.models import zoo
from reliable_ml.shift import effective_robustness as er
from reliable_ml.shift import line, reanalysis
from reliable_ml.util import notes, plots

if torch_threads:
    torch.set_num_threads(torch_threads)
run = course.start("02_rebuilding_a_test_set", profile, seed=seed)
plots.use_style()
rng = np.random.default_rng(seed)
crowd = annotation.CrowdConfig(min_annotations=min_annotations, careless_share=careless_share, noise_max=noise_max)
figures, sources = {}, {}

# %% [markdown]
# ## 1. The candidate pool
#
# A new test set needs images that no model has trained on. ImageNetV2 searched Flickr for
# images uploaded after ImageNet was built; CIFAR-10.1 searched the Tiny Images collection
# that CIFAR-10 itself came from. Each candidate arrives with a *candidate class*: the
# keyword that found it, which is sometimes wrong.
#
# Our pool on MNIST {cite}`lecun1998gradient`: the digits of whole *writers* held out from
# the MNIST training split, using the writer of every digit recovered by QMNIST
# {cite}`yadav2019cold` (the same split as chapter 1). The rest of the training split is cut
# in two disjoint parts:
#
# * the **zoo's training set**: the models we evaluate;
# * the **clarity set**: a small ensemble trained only here gives each image its *clarity*,
#   the ensemble's softmax probability of the candidate class. The simulated workers find an
#   image easy when its clarity is high. The clarity ensemble never sees the pool or the test
#   sets and is never evaluated: clarity is an honest but *model-based* stand-in for how
#   clearly a digit shows its class, which is why section 6 replaces it with real people.

# %% tags=["hide-input"]
mnist_train = data.load_images("mnist", "train", fallback=True)
mnist_test = data.load_images("mnist", "test", fallback=True)
notes.show_fallback(mnist_train.info)
if n_test < len(mnist_test.y):
    rows = np.sort(rng.choice(len(mnist_test.y), n_test, replace=False))
    mnist_test = data.ImageSet(mnist_test.x[rows], mnist_test.y[rows], mnist_test.info)
meta = None
if not mnist_train.info.fallback_from:
    try:
        meta = data.qmnist_metadata("train", download=False)
    except data.DataUnavailable as err:
        notes.show_missing(err, "held-out MNIST writers", how="The pool is a random part of the training split.")

# %% tags=["hide-input"]
pool_rows, train_rows, clarity_rows, how = rebuild.split_mnist(mnist_train, meta, heldout_per_population,
                                                               n_train, n_clarity, seed)
sources["mnist_pool"] = f"{mnist_test.info.source}, {how}"
mnist_pool = data.ImageSet(mnist_train.x[pool_rows], mnist_train.y[pool_rows], mnist_train.info)
x_train, y_train = mnist_train.x[train_rows], mnist_train.y[train_rows]
print(f"zoo training set {len(train_rows):,}, clarity set {len(clarity_rows):,}, candidate pool {len(pool_rows):,} "
      f"({how}), original test set {len(mnist_test.y):,} images")

# %% tags=["hide-input"]
trained = zoo.train_zoo_cached(mnist_zoo, x_train, y_train, n_classes=10, seed=seed)  # kept in the model cache
clarity_models = annotation.train_clarity_ensemble(clarity_members, mnist_train.x[clarity_rows],
                                                   mnist_train.y[clarity_rows], 10, seed=seed + 1000)
log_path = reader_log or (labeling.annotations_root() / "02_rebuilding_a_test_set.jsonl")
grids = grid_labeling.make_grids(annotation.candidate_classes(mnist_pool.y.numpy(), 10, wrong_share,
                                                              np.random.default_rng([seed, 1]))[0],
                                 mnist_test.y.numpy(), 10, n_grids=reader_grids, seed=seed)
records, problems = grid_labeling.read_answers(log_path)
reader = grid_labeling.reader_counts(records, grids, len(pool_rows))
print(f"Trained the {len(trained)}-model zoo (once; kept in the model cache) and the clarity ensemble "
      f"({', '.join(clarity_models)}); "
      f"{reader.n_grids_used} of your grids will join the crowd ({len(problems)} malformed lines skipped).")

# %% [markdown]
# ## 2. The crowd and the selection-frequency rule
#
# In the MTurk task each worker saw a grid of about 48 images for one class and was asked
# to *select every image that contains a <class>*. The grid mixes candidates with
# **positive controls** (images of the class from the original dataset) and **negative
# controls** (images of other classes). A worker who misses positive controls or selects
# negative ones is not paying attention, and all their answers are discarded. Grids are
# handed out until every image has at least ten valid annotations. (This paragraph is the
# course's simplified account of the task of {cite}`recht2019imagenet`, and the rules our
# simulated crowd follows; the grid size, the kinds of controls and the rule for discarding
# answers could not be checked against the paper's text here: unverified.)
#
# The rule the whole chapter rests on is one line: an image's **selection frequency** is
# the share of valid annotations that selected it,
#
# $$\mathrm{SF}_i = \frac{\#\{\text{valid workers who selected } i\}}{\#\{\text{valid workers shown } i\}}.$$
#
# Our workers are simulated: a careful worker $w$ selects an image of clarity $c$ with
# probability $\varepsilon_w + (1 - 2\varepsilon_w)\,c$, with a personal error rate
# $\varepsilon_w \sim U(0, \varepsilon_{\max})$; a careless worker clicks at a personal
# random rate whatever the image. Here are both rules, written out:

# %%
def p_select(clarity, eps):
    """A careful worker with error rate eps selects an image of this clarity."""
    return eps + (1 - 2 * eps) * clarity


def selection_frequency(selected, shown):
    return selected / shown


# %% [markdown]
# Now the whole pipeline (crowd, near-duplicates, sampling; `reliable_ml.labels.rebuild.rebuild`)
# runs once, and we check the package's frequencies against the rule above.

# %%
mn = rebuild.rebuild(mnist_pool, mnist_test, x_train, clarity_models, crowd=crowd,
                     n_original_annotated=n_original_annotated, per_class=per_class,
                     wrong_share=wrong_share, pixel_threshold=pixel_threshold,
                     feature_threshold=feature_threshold, seed=seed,
                     reader=(reader.selected, reader.shown) if reader.n_grids_used else None)
res = mn.crowd
mine = selection_frequency(res.selected, res.shown)
assert np.allclose(mine, annotation.selection_frequency(res.selected, res.shown))
display(rebuild.workers_table(res).round(1))

# %% tags=["hide-input"]
glue("n_grids", int(res.n_grids), display=False)
glue("n_items", len(res.shown), display=False)
glue("careless_discarded", int((~res.worker_valid & res.worker_careless).sum()), display=False)
glue("careless_total", int((res.worker_careless & (res.worker_grids > 0)).sum()), display=False)
glue("clarity_acc", 100 * mn.clarity_acc, display=False)

# %% [markdown]
# The simulated crowd did {glue:text}`n_grids` grids to give each of the
# {glue:text}`n_items` images (candidates plus a sample of the original test images) its
# ten valid annotations. The controls caught {glue:text}`careless_discarded` of the
# {glue:text}`careless_total` careless workers who did any grid. (The clarity ensemble
# behind the workers has {glue:text}`clarity_acc:.1f`% accuracy on the test set.)
#
# ### Selection frequencies
#
# How does SF spread over the pool and over the original test set? The four edges
# 0.2, 0.4, 0.6, 0.8 are those of ImageNetV2's MatchedFrequency configuration (file
# `imagenetv2-b-33.json` of the ImageNetV2 repository). Candidates with a *wrong* candidate
# class should collect low SF: that is how the crowd filters keyword-search errors.

# %% tags=["hide-input"]
rebuild.sf_figure(mn, "MNIST", sources["mnist_pool"], noise_max)
plt.show()
display(rebuild.sf_histograms(mn).round(1))

# %% [markdown]
# ## 3. Near-duplicates
#
# A candidate that is (nearly) the same picture as a training image would test memory, not
# generalisation; one that duplicates an original test image would make the two test sets
# overlap. ImageNetV2 compared every candidate with ImageNet's training and validation images
# by pixel distance and by distances between network features, and people reviewed the
# closest pairs. We do the same with two distances: the RMS pixel difference, and a feature
# distance that ignores brightness and contrast (each image standardized, then projected on
# the top 64 principal components of the reference images). A candidate is removed when
# either distance to any training or original test image is below its threshold. The
# review grid shows the closest pairs by feature distance, whatever the decision: that is
# where the thresholds come from. Handwritten digits from *different writers* are never
# true duplicates, yet many strokes of a "1" are nearly identical, so the MNIST feature
# threshold must be low. (Even the original CIFAR-10 test set holds near-duplicates of
# training images {cite}`barz2020we`.)

# %% tags=["hide-input"]
rebuild.review_grid(mn, {"train": x_train, "test": mnist_test.x}, 12, "MNIST", sources["mnist_pool"])
plt.show()
glue("nd_removed", int(mn.near_dups.remove.sum()), display=False)
glue("nd_pool", len(mn.near_dups.remove), display=False)

# %% [markdown]
# With these thresholds {glue:text}`nd_removed` of the {glue:text}`nd_pool` candidates are
# removed as near-duplicates. When that count is 0, the step changed nothing in this run, and
# the review grid above is the only evidence of what the thresholds would catch.
#
# ## 4. Three ways to sample the new test set
#
# ImageNetV2 drew its images per class from the annotated pool in three ways:
#
# * **MatchedFrequency**: for each class, estimate the SF histogram of the original
#   images of that class, and draw candidates bin by bin to match it. When a bin runs out,
#   the draw moves to the next higher bin ("upward sampling"). This is the version meant to
#   reproduce the original distribution.
# * **Threshold0.7**: random candidates with SF $\ge$ 0.7.
# * **TopImages**: the candidates with the highest SF.
#
# Written out for one class `c` (`sf`, `cls`: the pool's frequencies and candidate classes):

# %%
def threshold07(sf, cls, c, n, rng):
    return rng.choice(np.flatnonzero((cls == c) & (sf >= 0.7)), n, replace=False)


def top_images(sf, cls, c, n):
    members = np.flatnonzero(cls == c)
    return members[np.argsort(-sf[members], kind="stable")[:n]]


# %%
def matched_frequency(sf, cls, c, want, rng, edges=annotation.SF_EDGES):
    """want[b]: images to draw from SF bin b (the original's histogram, scaled)."""
    bins, chosen, carry = np.searchsorted(edges, sf, side="right"), [], 0
    for b, w in enumerate(want):
        available = rng.permutation(np.flatnonzero((cls == c) & (bins == b)))
        chosen.append(available[:w + carry])
        carry = w + carry - len(chosen[-1])  # shortfall moves up a bin
    return np.concatenate(chosen)


# %% [markdown]
# Note the asymmetry: sampling upward can only make a set *easier*. The package's versions
# (`reliable_ml.labels.annotation`) do the same for every class; with the same random draws they
# pick the same images:

# %%
keep = np.flatnonzero(~mn.near_dups.remove)
sf, cls, n, c = mn.sf_pool[keep], mn.candidate[keep], mn.per_class, 3
target = annotation.sf_histogram(mn.sf_orig, mnist_test.y.numpy()[mn.orig_rows], 10)
mine, zeros = np.flatnonzero(cls == c), np.zeros((cls == c).sum(), int)  # class c alone, as class 0
ours = matched_frequency(sf, cls, c, annotation.allocate(target[c], n), np.random.default_rng(1))
theirs = annotation.matched_frequency(sf[mine], zeros, target[c:c + 1], n, np.random.default_rng(1))
assert np.array_equal(np.sort(ours), mine[theirs])
ours = threshold07(sf, cls, c, n, np.random.default_rng(2))
assert np.array_equal(np.sort(ours), mine[annotation.threshold_sample(sf[mine], zeros, n, 1, np.random.default_rng(2))])
theirs = mine[annotation.top_images(sf[mine], zeros, n, 1, np.random.default_rng(3))]
assert np.array_equal(np.sort(sf[top_images(sf, cls, c, n)]), np.sort(sf[theirs]))  # same SFs (ties in any order)

# %% tags=["hide-input"]
display(rebuild.strategy_table(mn).round(3))

# %% [markdown]
# ## 5. What the strategy does to accuracy
#
# Now evaluate the zoo on the original MNIST test set and the three rebuilt sets. Each point
# is one model; the bars are exact (Clopper–Pearson) intervals; a model on the dashed line
# would score the same on both sets. The right panel shows the real ImageNetV2 in the
# ImageNet testbed {cite}`taori2020measuring` (its re-evaluation; section 5 below sets it
# against the original ImageNetV2 evaluation).

# %% tags=["hide-input"]
mn_acc = rebuild.evaluate(trained, mn)
testbed = None
try:
    testbed = data.imagenet_testbed(download=False)
except (data.DataUnavailable, data.DataCorrupt) as err:
    notes.show_missing(err, "ImageNetV2 accuracies from the testbed")
rebuild.accuracy_figure(mn_acc, "MNIST", sources["mnist_pool"], alpha, testbed)
plt.show()
mn_summary = rebuild.summary(mn_acc)
display(mn_summary.round(2))

# %% tags=["hide-input"]
for s in ("original", *rebuild.STRATEGIES):
    glue(f"mn_acc_{s}", mn_summary.loc[s, "mean accuracy (%)"], display=False)
tb_drop, tb_models = rebuild.testbed_drops(testbed) if testbed is not None else ({}, 0)
figures["imagenetv2_testbed_mean_drop_points"] = {s: round(v, 3) for s, v in tb_drop.items()}
figures["imagenetv2_testbed_models"] = tb_models
tb_words = rebuild.testbed_drop_words(testbed, alpha) if testbed is not None else {}
for s in rebuild.STRATEGIES:
    glue(f"tb_drop_{s}", tb_drop.get(s, float("nan")), display=False)
    glue(f"tb_words_{s}", tb_words.get(s, "not measured"), display=False)
glue("tb_models", tb_models, display=False)

# %% [markdown]
# How does the drop vary with accuracy? Chapter 1 answers on the probit scale: fit
# $\Phi^{-1}(\text{new}) = a\,\Phi^{-1}(\text{original}) + b$ over a declared set of models and
# read the slope $a$. The course fits this line in one place (`shift.line`), over one model set
# (standard models above a stated ImageNet accuracy), and quotes the same slope in chapters 1,
# 2, 3 and 8. For MatchedFrequency it uses the models whose per-image predictions were released
# (chapter 9 uses them too), so that its interval resamples the images as well as the models:

# %%
v2_rel = None
try:
    v2_rel = reanalysis.imagenetv2(download=False).released  # the 67 models' per-image predictions
except data.DataUnavailable as err:
    notes.show_missing(err, "ImageNetV2 released per-image predictions")
figures["line"] = {"imagenetv2_matched_frequency": None if v2_rel is None else line.imagenetv2_matched_frequency(v2_rel)}
v2_line = figures["line"]["imagenetv2_matched_frequency"]  # the course's one MatchedFrequency line
if v2_line is not None:
    v2_acc = {s: 100 * v2_rel.correct[s].mean(1) for s in ("val", "matched_frequency")}
    v2_drops = np.array([60.0, 85.0]) - line.fit_line(v2_acc["val"], v2_acc["matched_frequency"]).predict([60.0, 85.0])
    print(f"slope {v2_line['slope']:.3f} {v2_line['ci']} over {v2_line['models']} models ({v2_line['resampled']}); "
          f"the line predicts drops of {v2_drops[0]:.1f} (60%) and {v2_drops[1]:.1f} points (85%)")

# %% [markdown]
# The testbed lists many more models, but only their accuracies, so a slope over them can
# resample the models only. About a third of its "models" are epoch checkpoints of a few
# training runs, many of them near chance. Does its slope depend on them, or on the accuracy
# range? The package's `labels.testbed_line` answers:

# %% tags=["hide-input"]
if testbed is not None:
    v2 = er.shift_points(testbed, "imagenetv2-matched-frequency")  # per model: x = val, y = V2 (%)
    std = v2[v2["group"] == "standard"]
    v2_slope = er.slope_interval(std["x"], std["y"])  # all standard models, models only (line.N_BOOT, line.SEED)
    assert np.isclose(v2_slope.slope, tl.slopes(testbed, n_boot=1)["all"].slope)
tb_glued, tb_results = tl.numbers(testbed, v2_rel, seed=seed, alpha=alpha, n_boot=5000)
if testbed is not None:
    glue_values(er.slope_numbers("v2", v2_slope))
    figures["imagenetv2_testbed_probit_slope"] = {**v2_slope.as_dict(), "resampled": "models only", "n_boot": line.N_BOOT,
                                                      "vs_1": line.NOT_JUDGED}
glue_values(line.numbers("line_v2", v2_line) | ({} if v2_line is None else
                                                {"line_v2_drop_60": v2_drops[0], "line_v2_drop_85": v2_drops[1]}))
glue_values(tb_glued)
figures["imagenetv2_line"] = tb_results

# %% [markdown]
# **What it means.** All three MNIST sets come from the *same* annotated pool, labelled by
# the same crowd; only the sampling differs. The zoo averages
# {glue:text}`mn_acc_original:.2f`% on the original test set against
# {glue:text}`mn_acc_MatchedFrequency:.2f`% (MatchedFrequency),
# {glue:text}`mn_acc_Threshold0.7:.2f`% (Threshold0.7) and
# {glue:text}`mn_acc_TopImages:.2f`% (TopImages). High-SF images are ones the workers find
# clear, and here the workers *are* a model ensemble, so "clear images are easy for models"
# is partly built in: section 6 measures it with people instead.
#
# On the real ImageNetV2, the testbed's {glue:text}`tb_models` models evaluated on all three
# versions {glue:text}`tb_words_MatchedFrequency` of top-1 on MatchedFrequency,
# {glue:text}`tb_words_Threshold0.7` on Threshold0.7 and {glue:text}`tb_words_TopImages` on
# TopImages (paired over the models; the interval covers the choice of models, not the images
# they share, and counts every model as independent). Those {glue:text}`tb_models` include
# {glue:text}`tb60_n_checkpoints` epoch checkpoints of {glue:text}`tb60_n_runs_checkpointed`
# training runs, and {glue:text}`tb60_n_below_10` models below 10% top-1, which have little to
# lose. Over the {glue:text}`tb60_n` models that are not checkpoints and score at least
# {glue:text}`tb60_min_accuracy:.0f`% on ImageNet, the mean drop on MatchedFrequency is
# {glue:text}`tb60_mean:.1f` points ({glue:text}`tb60_lo:.1f` to {glue:text}`tb60_hi:.1f`, a paired
# $t$ interval over these models). Recht et al. report
# drops of 11 to 14 points for the models of their paper ({cite}`recht2019imagenet`, abstract).
# Our interval resamples the models only: the images, which every model shares, are not
# resampled, so it is too narrow to set against their range, and we draw no verdict from it.
# The mean {glue:text}`tb60_mean_place`; single models run from {glue:text}`tb60_min:.1f` to
# {glue:text}`tb60_max:.1f` points. The testbed's numbers are its own re-evaluation: over the
# {glue:text}`reeval_n` models it shares with the released original evaluation, it differs
# from the original MatchedFrequency accuracy by {glue:text}`reeval_mean:.2f` points on average
# (from {glue:text}`reeval_min:.2f` to {glue:text}`reeval_max:.2f`). How much a model loses
# depends on where it sits. As in chapter 1, we read that off the probit scale. The course's
# line for MatchedFrequency runs over the {glue:text}`line_v2_n` {glue:text}`line_v2_set`; its
# slope is {glue:text}`line_v2_slope:.3f` (95% interval {glue:text}`line_v2_lo:.3f` to
# {glue:text}`line_v2_hi:.3f`, resampling images and models, each draw of images the same for
# every model, and the models drawn by architecture: the {glue:text}`line_v2_clusters`
# architectures among them count once each, however many frameworks ported them):
# {glue:text}`line_v2_words`. The slope depends on which models enter it. Over
# all {glue:text}`v2_slope_n` standard models of the testbed, near-chance baselines included,
# it is {glue:text}`v2_slope:.3f` ({glue:text}`v2_slope_lo:.3f` to {glue:text}`v2_slope_hi:.3f`,
# models only); without the checkpoints ({glue:text}`v2_nockpt_slope_n` models)
# {glue:text}`v2_nockpt_slope:.3f` ({glue:text}`v2_nockpt_slope_lo:.3f` to
# {glue:text}`v2_nockpt_slope_hi:.3f`); over the {glue:text}`v2_hi_slope_n` testbed standard
# models with at least {glue:text}`tb60_min_accuracy:.0f`% it is {glue:text}`v2_hi_slope:.3f`
# ({glue:text}`v2_hi_slope_lo:.3f` to {glue:text}`v2_hi_slope_hi:.3f`, models only). The testbed
# intervals leave out the images' shared sampling (one draw of ImageNetV2 images moves every
# model together), so they are narrower than they should be, and no verdict against 1 is drawn
# from them. Over all {glue:text}`v2_rel_n`
# released models, the Fisher-vector baselines included, the slope is
# {glue:text}`v2_rel_slope:.3f` ({glue:text}`v2_rel_models_lo:.3f` to
# {glue:text}`v2_rel_models_hi:.3f` resampling models only, {glue:text}`v2_rel_both_lo:.3f` to
# {glue:text}`v2_rel_both_hi:.3f` resampling models and images). Chapter 1 draws the slope
# against the accuracy floor. Slope 1 would mean the same drop on the probit scale for every
# model; below 1, a drop on that scale that widens with accuracy. In accuracy points, which the
# probit scale stretches near 100%, the course's line predicts a drop of
# {glue:text}`line_v2_drop_60:.1f` points for a model at 60% and {glue:text}`line_v2_drop_85:.1f`
# at 85%. "The drop grows with accuracy" and "better models lose less" can both be heard about
# one such line, on different scales; the slope, with its scale named, is what this course quotes.
# What both figures show is that the sampling strategy alone moves accuracy by several
# points.

# %% [markdown]
# ## 6. Real annotators: CIFAR-10H
#
# CIFAR-10H {cite}`peterson2019human` asked about 51 people per image to classify every
# CIFAR-10 test image. For image $i$ with original label $y_i$ and annotator counts
# $n_{ic}$ (how many chose class $c$), its selection frequency for its class is
#
# $$\mathrm{SF}_i = n_{i y_i} / \textstyle\sum_c n_{ic},$$
#
# the share of its annotators who chose that class. (ImageNetV2 asked "does this image
# contain a $c$?", CIFAR-10H a forced choice among ten classes: the closest released
# analogue.) We cut the 10,000 test images in two halves per class: a **reference** half
# plays the original test set, a **candidate pool** plays the new images. Two sets of models
# are used, for different purposes:
#
# * the **30 published CIFAR-10 models** whose test-set predictions were released with
#   CIFAR-10.1 {cite}`recht2018cifar` (their accuracies are printed below) are evaluated on the sampled sets
#   of this section: how the strategy moves *real* models' accuracy;
# * the course's own **small zoo**, trained here on the JPEG copy of the training split
#   (`reliable_ml.models.zoo.cifar10_zoo`, trained once and cached for chapter 3), far weaker than
#   the published models: section 7 measures the bias on both sets side by side, to show what a
#   weak stand-in can and cannot tell. Without the released predictions, section 6 falls back to
#   the zoo and says so.

# %% tags=["hide-input"]
cifar = None
try:
    counts = data.cifar10h_counts()
    labels = data.cifar10_test_labels()
    test_c = data.cifar10_canonical_test()
    cifar = True
except (data.DataUnavailable, data.DataCorrupt) as err:
    notes.show_missing(err, "CIFAR-10H (sections 6 and 7)")

# %%
if cifar:
    sf_h = counts[np.arange(len(labels)), labels] / counts.sum(1)
    assert np.allclose(sf_h, hl.selection_frequency(counts, labels))
    print(f"{len(sf_h):,} images, {counts.sum(1).mean():.1f} annotators each on average; "
          f"{100 * (sf_h >= 0.9).mean():.1f}% have SF >= 0.9, {100 * (sf_h < 0.5).mean():.1f}% below 0.5")

# %% tags=["hide-input"]
if cifar:
    sources["cifar10h"] = f"CIFAR-10H (Peterson et al. 2019); images: {test_c.info.source}"
    trained_c = zoo.cifar10_zoo(cifar_zoo, cifar_train, seed=seed)
    correct = zoo.correct_matrix(trained_c, test_c.x, test_c.y)  # (models, 10000)
    evaluated, correct_eval = f"the course's small zoo ({len(trained_c)} models, trained here)", correct
    try:
        pub_names, correct_eval = hl.published_models_correct(labels)
        evaluated, sources["published_models"] = f"{len(pub_names)} published CIFAR-10 models", hl.PUBLISHED_MODELS_SOURCE
    except (data.DataUnavailable, data.DataCorrupt) as err:
        notes.show_missing(err, "the published CIFAR-10 models", how="Section 6 evaluates the small zoo instead.")
    accs = pd.Series(100 * correct_eval.mean(1), index=pub_names if correct_eval is not correct else list(trained_c))
    print(f"section 6 evaluates {evaluated}: test accuracy {accs.min():.1f}% to {accs.max():.1f}%; "
          f"section 7's zoo: {', '.join(f'{m} {100 * a:.1f}%' for m, a in zip(trained_c, correct.mean(1)))}")
    split = hl.split_reference_pool(labels, 0.5, seed=seed)
    draws = hl.strategy_draws(sf_h, labels, correct_eval, split, cifar10h_per_class, strategy_draws, seed)
    strat = hl.strategy_table(sf_h, labels, correct_eval, split, cifar10h_per_class, strategy_draws, seed, 1 - alpha,
                              draws=draws)

# %% [markdown]
# Each strategy is drawn {glue:text}`strategy_draws` times from the pool with fresh random
# draws; the table and figure give the models' mean accuracy over the draws (the mean over the
# {glue:text}`c10h_evaluated`), and the central 95%
# of *single* draws: what one rebuilt set could show. Against a **random** subset of the pool
# of the same size, the right comparison for a *mean* over draws is the sampling distribution
# of a mean, whose spread is $\sqrt{\text{draws}}$ times narrower than that of single draws.
# So we take each strategy minus random, draw by draw, and give the mean difference a 95%
# interval from its standard error (a paired $t$ interval over the draws; the package's version
# also gives the test's verdict):

# %%
if cifar:
    from scipy.stats import t as student_t

    acc_draws = draws.pivot(index="draw", columns="strategy", values="acc (%)")  # (draws, strategies)
    diff = acc_draws.drop(columns="random").sub(acc_draws["random"], axis=0)  # strategy minus random, per draw
    half = student_t.ppf(1 - alpha / 2, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))  # of a mean of draws
    vs_random = pd.DataFrame({"mean difference": diff.mean(), "lo": diff.mean() - half, "hi": diff.mean() + half})
    vs_table = hl.versus_random(draws, 1 - alpha)
    assert np.allclose(vs_random, vs_table[vs_random.columns].loc[vs_random.index].astype(float), atol=1e-3)
    display(vs_table.drop(columns="verdict").round(3))

# %% tags=["hide-input"]
glue("strategy_draws", strategy_draws, display=False)
glue("c10h_evaluated", evaluated if cifar else "n/a", display=False)
if cifar:
    display(strat.round(3))
    rebuild.strategies_figure(strat, sources["cifar10h"] + (f"; models: {sources['published_models']}"
                                                            if "published_models" in sources else ""),
                              evaluated[0].upper() + evaluated[1:])
    plt.show()
for name in hl.STRATEGY_NAMES:
    glue(f"c10h_{name}", strat.loc[name, "acc (%)"] if cifar else float("nan"), display=False)
if cifar:
    vs_glued, figures["cifar10h_strategy_minus_random"] = hl.versus_random_numbers(vs_table)
    glue_values(vs_glued)
    skewed = hl.skew_pool(sf_h, split.pool, skew_high_sf, skew_keep, seed=seed)  # section 7's pool: fewer clear images
    draws_sk = hl.strategy_draws(sf_h, labels, correct_eval, hl.PoolSplit(split.reference, skewed), cifar10h_per_class,
                                 strategy_draws, seed)
    sk_glued, figures["cifar10h_skewed_pool_minus_random"] = hl.versus_random_numbers(
        hl.versus_random(draws_sk, 1 - alpha), prefix="c10h_skew")
    ref_acc = 100 * float(np.asarray(correct_eval)[:, split.reference].mean())  # the models on the reference
    mf_gap, mf_gap_sentence = hl.reference_vs_matched(draws_sk, ref_acc, alpha)  # reference - MF, over the draws
    figures["cifar10h_skewed_reference_minus_mf"] = {"points": round(mf_gap.difference, 3), "splits": 1,
                                                     "ci": [round(v, 3) for v in mf_gap.interval], "test": mf_gap.test}
    glue("c10h_skew_ref_vs_mf", mf_gap_sentence, display=False)
    glue_values(sk_glued | {"c10h_ref_sf": float(sf_h[split.reference].mean()),
                            "c10h_skew_sf": float(sf_h[skewed].mean())})

# %% tags=["hide-input"]
# does matching on the five coarse bins leave a gap of its own? all-annotator drop, coarse minus fine, over the splits
families = None
if cifar:
    families = [hl.published_family(m) for m in pub_names] if "published_models" in sources else None
    cvf = hl.coarse_vs_fine(counts, labels, correct_eval, engstrom_per_class, splits=engstrom_splits,
                            n_resamples=engstrom_split_resamples, high_sf=skew_high_sf, keep_high=skew_keep, seed=seed)
    cvf_block, cvf_sentence = hl.coarse_vs_fine_sentence(cvf, families, alpha)
    figures["cifar10h_skewed_coarse_minus_fine_all_annotators"] = {**cvf_block, "splits": engstrom_splits,
                                                                   "clusters": "families" if families else "models"}
    glue("c10h_coarse_vs_fine", cvf_sentence, display=False)
    glue("c10h_coarse_vs_fine_words", cvf_block["words"], display=False)

# %% [markdown]
# With real annotators the models score {glue:text}`c10h_random:.1f`% on random subsets,
# {glue:text}`c10h_matched_frequency:.1f`% on MatchedFrequency,
# {glue:text}`c10h_threshold0.7:.1f`% on Threshold0.7 and {glue:text}`c10h_top_images:.1f`%
# on TopImages. Set against random draws like with like (the mean of the draw-by-draw
# differences, with the 95% interval of that mean), MatchedFrequency
# {glue:text}`c10h_matched_frequency_vs_random`. Threshold0.7
# {glue:text}`c10h_threshold0.7_vs_random`. TopImages {glue:text}`c10h_top_images_vs_random`.
# Such an interval is about the mean over many draws from this one pool; a single rebuilt set
# scatters as widely as the table's single-draw spread.
#
# Read MatchedFrequency's result with care: it holds here **by construction**, not because of
# anything about people. The reference and the pool are random halves of one test set, per
# class, so the pool's SF distribution already equals the reference's (mean SF
# {glue:text}`c10h_ref_sf:.3f` in the reference), and matching has nothing to correct. ImageNetV2's
# point was that its pool had *lower* SF than ImageNet's validation set. The same strategies on
# the skewed pool of section 7 (mean SF {glue:text}`c10h_skew_sf:.3f`), where matching has
# something to correct: there MatchedFrequency {glue:text}`c10h_skew_matched_frequency_vs_random`.
# {glue:text}`c10h_skew_ref_vs_mf` (the mean over the draws from this one split).
# {glue:text}`c10h_coarse_vs_fine`.
# Threshold0.7 {glue:text}`c10h_skew_threshold0.7_vs_random`. TopImages
# {glue:text}`c10h_skew_top_images_vs_random`. TopImages keeps only images on which nearly every
# annotator agreed; where it scores higher, images people find clear are easier for
# {glue:text}`c10h_evaluated`: with real annotators that is a finding about people and these
# models, not a consequence of how SF was computed.
#
# ## 7. A drop that is not there (Engstrom et al. 2020)
#
# ImageNetV2's candidate pool had lower selection frequencies than ImageNet's validation
# set, and each frequency was estimated from about ten annotators. Engstrom et al.
# {cite}`engstrom2020identifying` showed that matching on such noisy estimates is biased:
# among images whose *estimated* SF is, say, 1.0, those from a low-SF pool have a lower
# *true* SF on average, so the matched set is harder than the reference, and part of the
# drop is an artefact. On ImageNetV2 they report that the 11.7 ± 1.0-point gap falls to
# 3.6 ± 1.5 points after their correction {cite}`engstrom2020identifying` (abstract): about 8
# points put down to the bias. We reproduce the mechanism: the pool is skewed toward lower SF
# (an image with SF $\ge$ {glue:text}`skew_high_sf` stays with probability
# {glue:text}`skew_keep`), SF is estimated from $k$ annotators drawn from each image's CIFAR-10H
# counts (reference and pool alike), the pool is matched to the reference over fine SF bins, and
# the drop is the models' accuracy on the reference minus that on the matched set. First on one
# split, with {glue:text}`eng_demo_models` (section 6's models), each $k$ resampled
# {glue:text}`engstrom_resamples` times. One resample, written out:

# %%
def apparent_drop(k, reference, pool, rng, correct, edges=hl.FINE_EDGES):
    """Match the pool to the reference on SF estimated from k annotators (None: all); drop in points,
    averaged over the models whose answers are the rows of `correct` (models, images)."""
    sf = hl.subsample_sf(counts, labels, k, rng)  # k annotators drawn per image, reference and pool alike
    target = annotation.sf_histogram(sf[reference], labels[reference], 10, edges)  # the reference's SF histogram
    pick = annotation.matched_frequency(sf[pool], labels[pool], target, engstrom_per_class, rng, edges)
    return 100 * (correct[:, reference].mean() - correct[:, pool[pick]].mean())

# %% tags=["hide-input"]
glue("skew_high_sf", skew_high_sf, display=False)
glue("skew_keep", skew_keep, display=False)
glue("engstrom_resamples", engstrom_resamples, display=False)
glue("eng_demo_models", evaluated if cifar else "n/a", display=False)

# %%
if cifar:
    rng = np.random.default_rng(seed)  # `skewed`: section 6's skewed pool, fewer high-SF images
    drops = {str(k or "all"): np.array([apparent_drop(k, split.reference, skewed, rng, correct_eval)
                                        for _ in range(engstrom_resamples)]) for k in (3, 5, 10, None)}
    check = hl.engstrom_drops(counts, labels, correct_eval, split.reference, skewed, engstrom_per_class, ks=(3,),
                              n_resamples=2, seed=seed)  # the package, same draws
    assert np.allclose(check["3"], drops["3"][:2])

# %% tags=["hide-input"]
if cifar:
    eng = hl.drops_table(drops, 1 - alpha)
    display(eng.round(3).rename(columns={"drop": "mean apparent drop (points)"}))
    rebuild.engstrom_figure(eng, sources["cifar10h"])
    plt.show()
    figures["cifar10h"] = {**hl.results(strat, eng, "models_mean_acc"), "strategy_models": evaluated,
                           "skewed_pool_mean_sf": round(float(sf_h[skewed].mean()), 4),
                           "zoo_test_acc": dict(zip(trained_c, np.round(100 * correct.mean(1), 2).tolist()))}
    if "published_models" in sources:
        figures["cifar10h_strategies_published_models"] = {
            "models": evaluated, "model_test_acc": accs.round(3).to_dict(),
            **{k: {"mean_acc": v["models_mean_acc"], "ci": v["ci"], "mean_sf": v["mean_sf"], "n": v["n"]}
               for k, v in hl.results(strat, eng, "models_mean_acc")["strategies"].items()}}
for k in ("3", "10", "all"):
    glue(f"eng_{k}", eng.loc[k, "drop"] if cifar else float("nan"), display=False)
    glue(f"eng_{k}_lo", eng.loc[k, "lo"] if cifar else float("nan"), display=False)
    glue(f"eng_{k}_hi", eng.loc[k, "hi"] if cifar else float("nan"), display=False)

# %% [markdown]
# On this one split (one split's value, not an estimate of the bias), the apparent drop of the
# matched set with SF from 3 annotators averages {glue:text}`eng_3:.2f` points over the resamples
# (central 95% of single resamples {glue:text}`eng_3_lo:.2f` to {glue:text}`eng_3_hi:.2f`); with
# 10 annotators {glue:text}`eng_10:.2f` points; with all of them {glue:text}`eng_all:.2f` points.
# The apparent drop with all annotators is not a bias of noisy estimates relative to the
# chapter's reference SF (that SF is the one from all of CIFAR-10H's about 51 annotators per
# image, so there is no estimation noise relative to it) but an offset of this one split and of
# the fine-bin matching, and it sits in every other number too: one split's apparent drop, set against
# zero, is no measure of the bias of $k$ annotators; its difference from the all-annotator
# figure on the same split is. A single replication also scatters
# widely: with 10 annotators the central 95% of resamples runs from {glue:text}`eng_10_lo:.2f` to
# {glue:text}`eng_10_hi:.2f` points, with all annotators from {glue:text}`eng_all_lo:.2f` to
# {glue:text}`eng_all_hi:.2f`.
#
# So the bias of $k$ annotators is measured against the all-annotator baseline, on the same
# split and with the same matching draws for every $k$ (common random numbers), and over
# {glue:text}`engstrom_splits` splits and skews, each with {glue:text}`engstrom_split_resamples`
# resamples per $k$; its 95% interval is a paired $t$ interval over the splits. Both sets of
# models are scored on the same matched sets:

# %% tags=["hide-input"]
eng_sets, ev = {}, {}
if cifar:
    eng_sets = {"published": correct_eval} if "published_models" in sources else {}
    eng_sets["zoo"] = correct
    bias_run = hl.engstrom_bias(counts, labels, eng_sets, engstrom_per_class, splits=engstrom_splits,
                                n_resamples=engstrom_split_resamples, high_sf=skew_high_sf, keep_high=skew_keep,
                                seed=seed)
    ev = hl.engstrom_verdicts(bias_run, alpha)
    display(pd.DataFrame({(name, k): {"bias (points)": b["mean"], "95% interval": b["ci"], "verdict": b["direction"],
                                      "more errors (%)": b["relative_error_increase_pct"]}
                          for name, e in ev["sets"].items() for k, b in e["bias"].items()}).T)
    ms = {n: hl.engstrom_models_and_splits(bias_run, n, alpha) for n in eng_sets}
    display(pd.DataFrame({(n, part, k): {"points": b["mean"], "95% interval": b["ci"], "verdict vs 0": b["direction"]}
                          for n, m in ms.items() for part in ("drop", "bias") for k, b in m[part].items()}).T)
    figures["cifar10h"].update({f"engstrom_{n}": {**e, "splits": ev["splits"], "resamples": ev["resamples"],
                                                  "models_and_splits": ms[n]}
                                for n, e in ev["sets"].items()}, engstrom_between_sets=ev["between_sets"],
                               engstrom_between_sets_relative=ev.get("between_sets_relative"))

# %% tags=["hide-input"]
# the verdict words and numbers of the prose below (glue)
ms_words = {}
for n in ("published", "zoo"):
    m = ms.get(n, {}) if cifar else {}
    for part in ("drop", "bias"):
        for k in ("3", "10", "all"):
            b = m.get(part, {}).get(k)
            if b is None:
                continue
            v = stats.against_reference(b["mean"], tuple(b["ci"]), 0.0, alpha=alpha)
            ms_words[f"ems_{n}_{part}_{k}"] = stats.phrase(v, "above zero", "below zero", "indistinguishable from zero",
                                                           scale=1)
    ms_words[f"ems_{n}_models"] = m.get("models", 0)
glue_values(ms_words)
glue_values(hl.engstrom_numbers(ev) | {"engstrom_splits": engstrom_splits,
                                       "engstrom_split_resamples": engstrom_split_resamples,
                                       "sf_high_share": 100 * float((sf_h >= 0.9).mean()) if cifar else float("nan")})

# %% tags=["hide-input"]
# the published models clustered by architecture family (human_labels.PUBLISHED_FAMILIES)
fam = {}
if cifar and families:
    fam = hl.engstrom_families(bias_run, "published", families, alpha)
    figures["cifar10h"]["engstrom_published_families"] = fam
    names_f, err_f = stats.cluster_means(bias_run["error_models"]["published"].mean(1, keepdims=True), families)
    dm_p = bias_run["drop_models"]["published"]
    bias_f = stats.cluster_means((dm_p["3"] - dm_p["all"]).mean(1, keepdims=True), families)[1]
    display(pd.DataFrame({"models": pd.Series(families).value_counts().loc[names_f].to_numpy(),
                          "error on the reference (%)": err_f[:, 0].round(2),
                          "bias of 3 annotators (points)": bias_f[:, 0].round(2)}, index=names_f))
glue_values(hl.engstrom_family_numbers(fam, "published", alpha))

# %% [markdown]
# The second of the three tables above counts both sources of randomness, the models (a sample of models) and the
# splits (which images form the reference and the pool, the skew and the annotators drawn): its
# interval treats the {glue:text}`ems_published_models` published models and the
# {glue:text}`engstrom_splits` splits as crossed random samples, with the unbiased variance of
# the mean (the spread of the model means over their number plus the spread of the split means
# over theirs, less one copy of the residual variance, which both spreads carry) and a $t$ quantile whose degrees of freedom
# follow Satterthwaite {cite}`satterthwaite1946approximate` (`stats.crossed_interval`). A
# percentile bootstrap over so few splits would be too narrow: its variance of a mean over
# $S$ splits is $(S-1)/S$ of the unbiased one and its 1.96 stands in for $t_{S-1}$'s quantile,
# about 18% too narrow at $S$ = 10. The 10,000 CIFAR-10 test images themselves are the only
# images with CIFAR-10H labels and are not resampled, nor are the annotators each image had: every
# verdict below holds for CIFAR-10's test set and its CIFAR-10H annotators. For the published models the apparent drop
# of the matched set is {glue:text}`ems_published_drop_3` with 3 annotators,
# {glue:text}`ems_published_drop_10` with 10 and {glue:text}`ems_published_drop_all` with all of
# them: the all-annotator baseline is not a drop of zero by construction but whatever the splits
# and the fine-bin matching leave. Against that baseline, per model and split, the bias of 3
# annotators on CIFAR-10's test set is {glue:text}`ems_published_bias_3` and that of 10 annotators
# {glue:text}`ems_published_bias_10`. The zoo, as a contrast: bias of 3 annotators
# {glue:text}`ems_zoo_bias_3`, of 10 {glue:text}`ems_zoo_bias_10`.
#
# Models of one architecture share their design and often their code, so they are not
# independent samples of models. The {glue:text}`eng_published_fam_models` published models come from
# {glue:text}`eng_published_fam_n` families (the third table above): random features; ResNet in its basic,
# pre-activation and v2 versions; wide ResNet; shake-shake with ShakeDrop; PyramidNet; ResNeXt;
# VGG; and AlexNet, cuda-convnet, DARC, DenseNet and NAS, one each. We wrote this rule
# (`human_labels.PUBLISHED_FAMILIES`) after reading the list of models. Counting each family once, its
# models averaged first, as section 5's ImageNetV2 line counts each architecture once, the bias
# of 3 annotators on CIFAR-10's test set is {glue:text}`eng_published_fam_bias_3_words` and that of 10
# annotators {glue:text}`eng_published_fam_bias_10_words`.
#
# Over the splits alone (a paired $t$ interval, the models averaged first):
# for the published models, whose error on the reference is {glue:text}`eng_published_err:.1f`%,
# the bias of 3 annotators is {glue:text}`eng_published_bias_3_words` and that of 10 annotators
# is {glue:text}`eng_published_bias_10_words`. Comparing 3 with 5 annotators,
# {glue:text}`eng_published_first_vs_next`.
#
# Set against the models' error rate, the bias is a ratio of two means over the same models and
# splits: the mean bias over the mean error on the reference. The error rate, like the bias,
# depends on which models were sampled, so both are resampled together (the delta method
# on the crossed interval, `stats.crossed_ratio_interval`). With 3 annotators the published models
# make {glue:text}`eng_published_rel_3:.1f`% more errors ({glue:text}`eng_published_rel_3_lo:.1f` to
# {glue:text}`eng_published_rel_3_hi:.1f`%; with the models clustered by family, each family weighted
# equally, {glue:text}`eng_published_fam_rel_3:.1f`%, {glue:text}`eng_published_fam_rel_3_lo:.1f` to
# {glue:text}`eng_published_fam_rel_3_hi:.1f`%), with 10 annotators {glue:text}`eng_published_rel_10:.1f`%
# more ({glue:text}`eng_published_rel_10_lo:.1f` to {glue:text}`eng_published_rel_10_hi:.1f`%).
#
# That percentage holds for this mix of models only. Over the models, each model's bias of 3
# annotators and its error (both averaged over the splits) have Pearson's $r$ =
# {glue:text}`eng_published_r_3:.2f`: a description, with no interval, of models that are not
# independent draws (families share errors). Cut at the median family error (a cut chosen after
# the first review pointed at this link, and after seeing $r$), the {glue:text}`eng_published_fam_higher_n` families with higher error (mean
# error {glue:text}`eng_published_fam_higher_err:.1f`%) have a bias of 3 annotators of
# {glue:text}`eng_published_fam_higher_bias_3:.2f` points ({glue:text}`eng_published_fam_higher_bias_3_lo:.2f`
# to {glue:text}`eng_published_fam_higher_bias_3_hi:.2f`), the {glue:text}`eng_published_fam_lower_n`
# with lower error ({glue:text}`eng_published_fam_lower_err:.1f`%) {glue:text}`eng_published_fam_lower_bias_3:.2f`
# points ({glue:text}`eng_published_fam_lower_bias_3_lo:.2f` to {glue:text}`eng_published_fam_lower_bias_3_hi:.2f`):
# {glue:text}`eng_published_fam_byerr_3_words` (families and splits resampled). As more errors: the
# higher-error half {glue:text}`eng_published_fam_higher_rel_3:.1f`%
# ({glue:text}`eng_published_fam_higher_rel_3_lo:.1f` to {glue:text}`eng_published_fam_higher_rel_3_hi:.1f`%),
# the lower-error half {glue:text}`eng_published_fam_lower_rel_3:.1f`%
# ({glue:text}`eng_published_fam_lower_rel_3_lo:.1f` to {glue:text}`eng_published_fam_lower_rel_3_hi:.1f`%):
# {glue:text}`eng_published_fam_byerr_3_rel_words`. A benchmark of other models could mix these
# differently and see a different percentage. Each interval in this section is a 95% interval for
# its own comparison, not corrected for the section's many comparisons.
#
# For the small zoo (error {glue:text}`eng_zoo_err:.0f`%), the bias of 3 annotators is
# {glue:text}`eng_zoo_bias_3_words`. In points, comparing these zoo models with these published
# models, with 3 annotators (both sets' models and the shared splits counted as samples, as in
# that second table), {glue:text}`eng_published_vs_zoo_3`; with the published models clustered by
# family, {glue:text}`eng_published_fam_vs_zoo_3`. That is a statement about these two sets on
# CIFAR-10's test set, not about weak against strong models in general.
#
# What the zoo can and cannot show. The bias comes from *which images* the matching picks:
# harder ones than the reference's, for any models whose errors gather on images people find
# less clear. So any set of models whose errors follow human doubt at all can show the bias, and
# the zoo's bias in points can be set beside the published models', as above. The zoo cannot show
# what those points mean for the models a benchmark is about, because that depends on their error
# rate: with 3 annotators the bias means {glue:text}`eng_zoo_rel_3:.1f`% more errors for the zoo
# (error {glue:text}`eng_zoo_err:.0f`%; {glue:text}`eng_zoo_rel_3_lo:.1f` to
# {glue:text}`eng_zoo_rel_3_hi:.1f`%) and {glue:text}`eng_published_rel_3:.1f`% more for the published
# models (error {glue:text}`eng_published_err:.1f`%; {glue:text}`eng_published_rel_3_lo:.1f` to
# {glue:text}`eng_published_rel_3_hi:.1f`%), each a ratio of means with numerator and denominator
# resampled together. Set against each other (published minus zoo, both sets' models and the
# shared splits resampled, both ratios' parts included), {glue:text}`eng_published_vs_zoo_3_rel_words`;
# with the published models clustered by family, {glue:text}`eng_published_fam_vs_zoo_3_rel_words`.
#
# This run's bias is not comparable with Engstrom et al.'s 8 points on ImageNetV2: it comes from
# a simulated skew on a different dataset, with forced-choice rather than yes/no frequencies, a
# "true" SF from about 51 annotators per image (ImageNetV2 had only its own estimates, from about
# 10), and our own bins. Its size depends on the skew we chose (pool mean SF
# {glue:text}`c10h_skew_sf:.3f` against {glue:text}`c10h_ref_sf:.3f` in the reference) and on how
# concentrated CIFAR-10H's SFs are ({glue:text}`sf_high_share:.0f`% of images have SF $\ge$
# 0.9); we varied neither, so how much each of them limits it is untested.
#
# ## 8. Be the annotator
#
# Here is the task as the workers saw it: a grid for one class; click every image that
# contains that digit, then *Submit*. Some images are controls. Each submitted grid is
# appended to a JSONL file at once (so a kernel restart loses nothing) and the app resumes
# where you left off. Re-run the chapter and your answers join the crowd's selection
# frequencies in section 2 (only grids whose controls you passed count, as for the workers).

# %% tags=["hide-input"]
app = grid_labeling.GridApp(grids, mnist_pool.x.numpy(), mnist_test.x.numpy(), mnist_train.info.classes, log_path)
notes.show_interactive_note()
display(app.widget)

# %% [markdown]
# ## Exercises
#
# ```{exercise-start}
# :label: ex-02-careless
# ```
# Double the share of careless workers (`careless_share`) and re-run the crowd on the same
# items. Do the controls still catch them, and does the pool's mean SF move?
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-02-careless
# :class: dropdown
# ```

# %%
sloppy = annotation.CrowdConfig(min_annotations=min_annotations, careless_share=min(0.9, 2 * careless_share),
                                noise_max=noise_max)
y_t = mnist_test.y.numpy()
rest = np.setdiff1d(np.arange(len(y_t)), mn.orig_rows)
probs = annotation.ensemble_probabilities([t.model for t in clarity_models.values()], mnist_test.x[rest])
res2 = annotation.simulate_crowd(mn.item_clarity, np.r_[mn.candidate, y_t[mn.orig_rows]], probs, y_t[rest],
                                 sloppy, seed=seed, progress=False)
caught = (~res2.worker_valid & res2.worker_careless).sum() / max(1, (res2.worker_careless & (res2.worker_grids > 0)).sum())
print(f"caught {100 * caught:.0f}% of careless workers; mean pool SF {res2.sf[:len(mn.candidate)].mean():.3f} "
      f"(was {mn.sf_pool.mean():.3f})")
assert res2.shown.min() >= min_annotations and 0 <= caught <= 1

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise-start}
# :label: ex-02-coarse
# ```
# Section 7 matched on fine SF bins. Repeat it for $k = 10$ and all annotators with
# ImageNetV2's five bins (`annotation.SF_EDGES`). What happens to the apparent drop?
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-02-coarse
# :class: dropdown
# ```

# %%
if cifar:
    coarse = hl.engstrom_drops(counts, labels, correct_eval, split.reference, skewed, engstrom_per_class, ks=(10, None),
                               n_resamples=max(5, engstrom_resamples // 4), edges=annotation.SF_EDGES, seed=seed)
    print({k: f"{v.mean():.2f} points" for k, v in coarse.items()})
    assert set(coarse) == {"10", "all"} and all(np.isfinite(v).all() for v in coarse.values())
    glue("coarse_all", float(coarse["all"].mean()), display=False)

# %% [markdown]
# ```{solution-end}
# ```
#
# With five coarse bins, almost every CIFAR-10H image falls in the top bin, so matching
# constrains little and even "all annotators" leaves a difference between the skewed pool and
# the reference (here {glue:text}`coarse_all:.2f` points for the same models, against
# {glue:text}`eng_all:.2f` with fine bins, on the same split). One split shows no cause; over the
# {glue:text}`engstrom_splits` splits of section 7, with every annotator's SF,
# {glue:text}`c10h_coarse_vs_fine_words` (section 6).
#
# ## Summary

# %% tags=["hide-input"]
figures.update(rebuild.mnist_results(mn, mn_acc), reader_grids_merged=int(reader.n_grids_used))
display(mn_summary.round(2))
path = run.save(figures, data_source={"mnist": sources["mnist_pool"], **({"cifar10h": sources["cifar10h"]} if cifar else {}),
                                      "imagenetv2": "ImageNet testbed robustness_top1s.csv (Taori et al. 2020)",
                                      "annotators": "simulated workers" + (" + the reader" if reader.n_grids_used else "")
                                      + (" ; CIFAR-10H annotators" if cifar else "")})
print(f"results written to results/{profile}/{path.name}; wall time {run.wall_seconds:.0f} s")

# %% tags=["remove-input"]
# numbers quoted in the prose of a section skipped for missing data read "nan" (its note says why)
skipped = glue_missing("02_rebuilding_a_test_set")
