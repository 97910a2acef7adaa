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
# # 8. Accuracy on the line and effective robustness
#
# Chapter 1 found that ImageNet models lose accuracy on ImageNetV2, and that the loss is not
# random: on the probit scale, accuracy on the new test set is a line in accuracy on the old
# one. The course fits that line in one place (`shift.line`), over one declared model set, the
# {glue:text}`line_v2_set`, and quotes the same slope in chapters 1, 2, 3 and 8: for ImageNetV2
# MatchedFrequency it is {glue:text}`line_v2_slope:.3f` over {glue:text}`line_v2_n` models (95%
# interval {glue:text}`line_v2_lo:.3f` to {glue:text}`line_v2_hi:.3f`, resampling images and
# models, with the {glue:text}`line_v2_clusters` architectures as the unit, since ports of one
# network from several frameworks, such as `inceptionv3`, `inception_v3` and `inception_v3_tf`,
# are not independent draws; the slope is {glue:text}`line_v2_words`). Slope 1 would mean the same drop on the
# probit scale for every model; below 1, a drop on that scale that widens with accuracy. The
# slope depends on which models the line is fitted to: over all {glue:text}`v2_slope_n` of
# this chapter's standard models, from the weakest baselines up, it is {glue:text}`v2_slope:.3f`
# ({glue:text}`v2_slope_lo:.3f` to {glue:text}`v2_slope_hi:.3f`, models only; section 1). In
# accuracy points, which the probit scale stretches near 100%, the course's line predicts a drop
# of {glue:text}`line_v2_drop_60:.1f` points for a model at 60% and
# {glue:text}`line_v2_drop_85:.1f` at 85%. This chapter asks whether that regularity is special
# to ImageNetV2, and whether any of the many methods proposed to make models *robust* breaks it.
#
# Plot each model's accuracy on a shifted test set against its accuracy on the original
# test set, both on a probit scale ($\Phi^{-1}$ of the accuracy). Over models trained in the
# standard way the points fall on a line, "accuracy on the line"
# {cite}`recht2019imagenet,taori2020measuring,miller2021accuracy`:
#
# $$\Phi^{-1}(\text{acc}_\text{shift}) = a \, \Phi^{-1}(\text{acc}_\text{orig}) + b .$$
#
# A model is *effectively robust* only if it sits **above** that line: better on the shifted
# set than its original accuracy predicts. Its effective robustness {cite}`taori2020measuring` is
#
# $$\rho(f) = \text{acc}_\text{shift}(f) - \Phi\big(a \, \Phi^{-1}(\text{acc}_\text{orig}(f)) + b\big),$$
#
# in accuracy points. A model can be more accurate under the shift simply because it is more
# accurate everywhere; that moves it *along* the line and gives no effective robustness.
#
# **You will learn** how to fit and read these lines; how to compute effective robustness
# from the ImageNet testbed of {cite}`taori2020measuring` (hundreds of models, hundreds of
# evaluation settings); how much robustness interventions that help against synthetic
# corruptions and adversarial attacks gain on natural shifts; and how the same
# analysis looks on a model zoo we train ourselves.
#
# **Compute.** Everything about the testbed is a table computation (plus the
# bootstrap bands). `smoke`: 50 bootstrap resamples, three panels, a 6-model MNIST zoo.
# `cpu`: 1,000 resamples, every panel, a 30-model MNIST zoo of linear models, MLPs and small
# CNNs (measured below). `gpu`: the
# `mnist-gpu` zoo of `reliable_ml.models.zoo`, including CNNs. The settings live in
# `reliable_ml/settings/effective_robustness.py`; the tables and figures in
# `reliable_ml.shift.effective_robustness`.

# %% tags=["remove-input"]
from reliable_ml.course.compute_note import compute_note  # noqa: E402  (after the install cell)

compute_note("08_effective_robustness")

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu
seed = 0
n_boot = 1000  # bootstrap resamples per fitted line (pointwise 95% band)
fit_min_accuracy = 60.0  # fit lines only over standard models at least this accurate in distribution, in %
sensitivity_min_accuracy = 0.0  # a second floor (%), for the sensitivity check (0: every standard model)
grid_shifts = 11  # how many natural (then consistency) shifts the small-multiples grid draws
zoo_members = ["logreg-e1", "logreg-e4", "logreg-e4-aug", "mlp-8-e2", "mlp-32-e1", "mlp-32-e3", "mlp-128-e2",
               "mlp-128-e4-aug", "mlp-512-e3", "cnn-4-e1"]  # reliable_ml.models.zoo member names of the MNIST zoo
zoo_train_sizes = [2000, 10000, 60000]  # MNIST training-set sizes; every member is trained once per size

# %% tags=["hide-input"]
import json
from dataclasses import asdict

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display
from scipy.stats import norm

from reliable_ml import course, data, stats
from reliable_ml.course import results
from reliable_ml.course.glue import glue_missing, glue_values  # the prose's numbers
from reliable_ml.shift import clip_families as cf
from reliable_ml.shift import effective_robustness as er
from reliable_ml.shift import line, reanalysis
from reliable_ml.shift import published_results as pr
from reliable_ml.util import notes, plots

run = course.start("08_effective_robustness", profile, seed=seed)
plots.use_style()
pd.set_option("display.precision", 3)
natural_shifts, consistency_shifts = er.available_shifts("natural"), er.available_shifts("consistency")
grid = (natural_shifts + consistency_shifts)[:grid_shifts]
figures, sources, glued = {}, {}, {}

# %% [markdown]
# ## The testbed
#
# `reliable_ml.data.imagenet_testbed()` reads the testbed's `robustness_top1s.csv`: top-1
# accuracy (%) of each model on each evaluation setting. Each shift in
# `reliable_ml.shift.effective_robustness.SHIFTS` names the CSV columns it uses. Shifts that keep
# only some ImageNet classes (ImageNet-A and -R: 200 classes; ObjectNet: 113; the video sets:
# 30 and 24 super-classes) are compared with ImageNet `val` **restricted to the same classes**,
# so both axes score the same task. The shifts are:
#
# * **natural**: the three ImageNetV2 test sets {cite}`recht2019imagenet`, ImageNet-Sketch
#   {cite}`wang2019learning`, ImageNet-R {cite}`hendrycks2021many`, ObjectNet
#   {cite}`barbu2019objectnet`, ImageNet-A {cite}`hendrycks2021natural` and the anchor frames of
#   the video sets ImageNet-Vid-Robust and YTBB-Robust {cite}`shankar2021image`;
# * **consistency**: the video sets scored on the worst frame within ±10 frames;
# * **synthetic**: ImageNet-C corruptions {cite}`hendrycks2019benchmarking` (the released
#   JPEG files, averaged over severities 1 to 5), Stylized ImageNet {cite}`geirhos2019imagenet`
#   and greyscale images;
# * **adversarial**: the testbed's four PGD settings {cite}`madry2018towards`.

# %% tags=["hide-input"]
testbed = None
try:
    testbed = data.imagenet_testbed()
    sources["imagenet"] = "ImageNet testbed robustness_top1s.csv (Taori et al. 2020)"
    print(f"{len(testbed)} models x {testbed.shape[1] - 1} evaluation settings")
except (data.DataUnavailable, data.DataCorrupt) as err:
    notes.show_missing(err, "ImageNet testbed (sections 1 to 3)")

# %% [markdown]
# ### Grouping the models
#
# Following {cite}`taori2020measuring`, we sort the models into **standard** models (trained
# on ImageNet-1k with labels and ordinary crop/flip augmentation), models with a
# **robustness intervention** (adversarial training, robustness-oriented or generic data
# augmentation, anti-aliasing, noise training) and models **trained on more data**
# (pre-trained on ImageNet-21k, JFT-300M, Instagram, YFCC100M, or CLIP's image-text pairs).
# Self- and semi-supervised models that saw ImageNet-1k only get a fourth group. The testbed
# CSV has no such column, so the groups come from the model names, by the rules below (first
# match wins; everything unmatched is standard). Two checks behind them: `vit_small_patch16_224`
# scores 77.9% on `val`, the ImageNet-1k-only timm checkpoint, so it stays standard, while the
# larger ViTs were pre-trained on ImageNet-21k; the randomized-smoothing model with noise 0.00
# is ordinary training. Rule-based labels can disagree with the paper's hand labels at the
# edges (is AutoAugment a robustness intervention?); the per-kind tables below let you check.

# %% tags=["hide-input"]
if testbed is not None:
    display(er.rule_table(testbed["model"]))
    groups = er.group_models(testbed["model"])
    display(groups.groupby(["group", "kind"]).size().rename("models").to_frame())
    figures["models_per_group"] = groups["group"].value_counts().to_dict()

# %% [markdown]
# ## 1. Natural distribution shifts: is accuracy on the line?
#
# **Question.** For each natural shift, how well does a probit-scaled line fitted to the
# standard models describe them, and where do the other groups fall?
#
# **The fit, on the page.** For one shift, ImageNet-R, we take the accuracy pairs of the
# standard models at or above the fitting floor `fit_min_accuracy` (the course's declared
# floor, `line.MIN_ACCURACY`), map both to the probit scale, fit a least-squares line, and measure every model's
# effective robustness as its distance above the line, back on the accuracy scale. Then we check
# both against the package (`stats.probit_linear_fit`, `effective_robustness.effective_robustness`):

# %%
if testbed is not None:
    pts = er.shift_points(testbed, "imagenet-r")  # per model: x, y (%), group
    std = er.fit_selection(pts, fit_min_x=fit_min_accuracy)  # standard models at or above the floor
    a, b = np.polyfit(norm.ppf(std["x"] / 100), norm.ppf(std["y"] / 100), deg=1)  # probit(y) = a probit(x) + b
    rho = pts["y"] - 100 * norm.cdf(a * norm.ppf(pts["x"] / 100) + b)  # effective robustness (points)
    fit = stats.probit_linear_fit(std["x"] / 100, std["y"] / 100)
    assert np.isclose(a, fit.slope) and np.isclose(b, fit.intercept)
    assert np.allclose(rho, er.effective_robustness(testbed, "imagenet-r", fit))
    assert fit_min_accuracy == line.MIN_ACCURACY, "the chapter's floor is the course's declared one"
    print(f"ImageNet-R: a = {a:.3f}, b = {b:+.3f}; mean rho by group:", rho.groupby(pts["group"]).mean().round(2).to_dict())

# %% [markdown]
# **Experiment.** The same fit for every registered shift, with slope $a$, intercept $b$ and
# $r^2$, and a 95% pointwise bootstrap band: the standard models at or above the floor are
# resampled with replacement and the line refitted `n_boot` times (single ImageNet-C corruptions get a tenth of
# the resamples).

# %%
analyses: dict[str, er.ShiftAnalysis] = {}
if testbed is not None:
    for name in er.SHIFTS:
        boots = max(20, n_boot // 10) if name.startswith("imagenet-c.") else n_boot
        analyses[name] = er.analyze_shift(testbed, name, n_boot=boots, seed=seed, fit_min_x=fit_min_accuracy)
    fit_table = pd.DataFrame({n: {"kind": r.shift.kind, **r.fit.as_dict()} for n, r in analyses.items()}).T
    display(fit_table.loc[natural_shifts + consistency_shifts])

# %% [markdown]
# The slope answers how the drop varies with accuracy (1: the same shift on the probit scale
# for every model). For ImageNetV2 MatchedFrequency the course quotes one line
# (`shift.line.imagenetv2_matched_frequency`): the declared model set among the 67 models whose
# per-image predictions were released, with an interval that resamples the models and the
# images (one draw of images, the same for every model). The testbed has no per-image
# predictions, so its slopes, over all standard models and over those with at least
# `sensitivity_min_accuracy` %, resample the models only:

# %%
v2_rel = None
try:
    v2_rel = reanalysis.imagenetv2(download=False).released  # the 67 models' per-image predictions
except data.DataUnavailable as err:
    notes.show_missing(err, "ImageNetV2 released per-image predictions")
figures["line"] = {"imagenetv2_matched_frequency": None if v2_rel is None else line.imagenetv2_matched_frequency(v2_rel)}
v2_line = figures["line"]["imagenetv2_matched_frequency"]  # the same entry as in chapters 1, 2 and 3
if v2_line is not None:
    v2_acc = [100 * v2_rel.correct[s].mean(1) for s in ("val", "matched_frequency")]
    v2_drops = np.array([60.0, 85.0]) - line.fit_line(*v2_acc).predict([60.0, 85.0])  # points lost at 60%, 85%
    glued |= glue_values(line.numbers("line_v2", v2_line) | {"line_v2_drop_60": v2_drops[0], "line_v2_drop_85": v2_drops[1]})
    print(f"the course's line: slope {v2_line['slope']:.3f} {v2_line['ci']} over {v2_line['models']} models")
if analyses:
    v2 = analyses["imagenetv2-matched-frequency"]
    v2_all = er.fit_selection(v2.points)  # every standard model of the testbed, the weakest baselines included
    v2_std = er.fit_selection(v2.points, fit_min_x=fit_min_accuracy)  # the standard models the testbed line is fitted to
    # models only, with the course's line.N_BOOT and line.SEED (the same intervals as chapters 2 and 3)
    v2_slope, v2_hi = (er.slope_interval(m["x"], m["y"]) for m in (v2_all, v2_std))
    assert np.isclose(v2_hi.slope, v2.fit.slope)
    print(f"testbed: slope {v2_slope.slope:.3f} [{v2_slope.lo:.3f}, {v2_slope.hi:.3f}] over {v2_slope.n} models, "
          f"{v2_hi.slope:.3f} [{v2_hi.lo:.3f}, {v2_hi.hi:.3f}] over {v2_hi.n} (models only)")

# %% tags=["hide-input"]
if analyses:
    fit_ns = [analyses[s].fit.n for s in natural_shifts]  # standard models each natural shift's line is fitted to
    glued |= glue_values(er.slope_numbers("v2", v2_slope) | er.slope_numbers("v2_hi", v2_hi)
                         | {"v2_r2": line.fit_line(v2_all["x"], v2_all["y"], min_accuracy=0.0).r2, "v2_x_lo": v2_all["x"].min(), "v2_x_hi": v2_all["x"].max(),
                            "fit_min": fit_min_accuracy, "fit_n_v2": v2.fit.n, "fit_n_lo": min(fit_ns),
                            "fit_n_hi": max(fit_ns), "n_standard_v2": len(v2_all)})
    only = {"resampled": "models only", "n_boot": line.N_BOOT, "seed": line.SEED, "vs_1": line.NOT_JUDGED}
    figures["imagenetv2_probit_slope"] = {
        **v2_slope.as_dict(), "min_accuracy": 0.0, **only,
        "high_accuracy_fit": {**v2_hi.as_dict(), "min_accuracy": fit_min_accuracy, **only}}

# %% [markdown]
# The course's line, over the {glue:text}`line_v2_n` {glue:text}`line_v2_set`, has slope
# {glue:text}`line_v2_slope:.3f` ({glue:text}`line_v2_lo:.3f` to {glue:text}`line_v2_hi:.3f`,
# models and images resampled): {glue:text}`line_v2_words`. Chapter 1 draws how that slope moves
# with the fitting floor. The testbed gives two contrasts. Over all {glue:text}`v2_slope_n`
# testbed standard models, from {glue:text}`v2_x_lo:.1f`% to {glue:text}`v2_x_hi:.1f`% on
# ImageNet, the slope is {glue:text}`v2_slope:.3f` ({glue:text}`v2_slope_lo:.3f` to
# {glue:text}`v2_slope_hi:.3f`, models only). That interval is narrow because the models span
# almost the whole accuracy range and sit almost exactly on the line ($r^2$ =
# {glue:text}`v2_r2:.4f` over all of them), but the probit "line" bends slightly over that range, so the slope
# depends on which part of it the models cover: over the {glue:text}`v2_hi_slope_n` testbed
# standard models with at least {glue:text}`fit_min:.0f`% (the course's floor) it is
# {glue:text}`v2_hi_slope:.3f` ({glue:text}`v2_hi_slope_lo:.3f` to
# {glue:text}`v2_hi_slope_hi:.3f`, models only). Intervals over models only leave out that all
# models are scored on the *same* images, which moves their accuracies together; they are too
# narrow by that much, so this chapter draws no verdict against 1 from them (the results file
# records them as "not judged (models only)"): the course's verdict on the slope comes from its
# own line, whose interval has that term. The testbed's numbers are also its
# re-evaluation of ImageNetV2, not the original evaluation of the released predictions. A probit
# slope is a property of the shift *and* of the model set, and each chapter says which models
# it fits. The effective robustness below is measured against lines through the testbed's
# standard models at or above the course's floor of {glue:text}`fit_min:.0f`% on ImageNet
# ({glue:text}`fit_n_v2` of its {glue:text}`n_standard_v2` standard models for ImageNetV2
# MatchedFrequency, {glue:text}`fit_n_lo` to {glue:text}`fit_n_hi` across the natural shifts;
# each panel's title gives its n): the same floor as the course's line, but the testbed's
# models in its re-evaluation, not the 67 released ones. Taori et al. fitted their baselines on logit axes
# {cite}`taori2020measuring`, this chapter on probit axes {cite}`miller2021accuracy`.

# %% [markdown]
# **Figure.** Each panel is one shift; each point one model. The blue line is the fit to the
# standard models with its bootstrap band, the dashed line $y = x$ (no drop). Both axes are
# probit-scaled and labelled in accuracy %; "same classes" means ImageNet val restricted to
# the shift's classes.

# %% tags=["hide-input"]
if analyses:
    fig = er.panel_grid([analyses[s] for s in grid], source=sources["imagenet"],
                        extra=f"lines fitted to standard models; {n_boot} bootstrap resamples")
    fig.suptitle("Natural shifts: shifted vs ImageNet accuracy, probit scale", fontsize=12)
    plt.show()

# %% [markdown]
# ### Explore one shift
#
# Pick a shift in the dropdown to draw it at full size; every registered shift is there
# (natural, consistency, synthetic, adversarial, and ImageNet-C corruption by corruption).
#
# ```{note}
# The dropdown needs a live Jupyter kernel (open the notebook in Jupyter, Binder or Colab).
# In the built book it shows nothing; the small-multiples figures above and below show every
# shift instead.
# ```

# %% tags=["hide-input"]
if analyses:
    notes.show_interactive_note()
    display(er.shift_explorer(analyses, sources["imagenet"]))

# %% [markdown]
# ## 2. Effective robustness: who rises above the line?
#
# **Experiment.** Each model's effective robustness is its shifted accuracy minus the line's
# prediction at its ImageNet accuracy, in accuracy points. The standard models at or above the
# floor define the line, so their residuals average exactly 0 on the probit scale (and close to
# 0 in points). We
# average it per group and shift, then over the natural shifts (each shift weighted equally).

# %%
if analyses:
    er_natural = er.group_table(analyses, natural_shifts)
    er_natural.loc["mean over natural shifts"] = er_natural.mean()
    display(er_natural.style.format("{:+.2f}").set_caption("Mean effective robustness (points)"))
    model_mean = er.model_means(analyses, natural_shifts)

# %% tags=["hide-input"]
if analyses:
    fig = er.plot_group_bars(er_natural.loc[natural_shifts], sources["imagenet"])
    plt.show()

# %% [markdown]
# Which models sit highest above the lines, averaged over the natural shifts, and how do the
# robustness interventions fare by kind?

# %%
if analyses:
    ranked = model_mean.sort_values("mean ER over natural shifts", ascending=False)
    display(ranked.head(12))
    by_kind = model_mean.groupby(["group", "kind"])["mean ER over natural shifts"].agg(["mean", "median", "count"])
    display(by_kind)

# %% tags=["hide-input"]
if analyses:
    avg, per = er_natural.loc["mean over natural shifts"], er_natural.loc[natural_shifts]
    kind_results, kind_numbers = er.kind_verdicts(analyses, model_mean, natural_shifts)  # verdicts and their words
    figures |= kind_results
    med = model_mean.groupby("group")["mean ER over natural shifts"].median()
    above = model_mean.groupby("group")["mean ER over natural shifts"].apply(lambda s: 100 * float((s > 1).mean()))
    glued |= glue_values({
        "n_natural": len(natural_shifts), "er_int": avg["robustness intervention"], "er_more": avg["more data"],
        "er_int_med": med["robustness intervention"], "er_more_med": med["more data"],
        "above_int": above["robustness intervention"], "above_more": above["more data"],
        "top10_more": int((ranked.head(10)["group"] == "more data").sum()),
        **{f"er_more_{k}": per.loc[s, "more data"] for k, s in er.HEADLINE_SHIFTS.items()},
        **{f"er_int_{k}": per.loc[s, "robustness intervention"] for k, s in er.HEADLINE_SHIFTS.items()},
        "more_max_shift": er.short_label(per["more data"].idxmax()), "more_max": per["more data"].max(),
        "more_min": per["more data"].min(), "int_max": per["robustness intervention"].max(), "r2_a": analyses["imagenet-a"].fit.r2,
        "r2_lo_no_a": min(analyses[s].fit.r2 for s in natural_shifts if s != "imagenet-a"),
        "r2_hi": max(analyses[s].fit.r2 for s in natural_shifts),
        "er_adv": by_kind.loc[("robustness intervention", "adversarial training"), "mean"],
        "n_adv": by_kind.loc[("robustness intervention", "adversarial training"), "count"],
        "er_advprop": by_kind.loc[("robustness intervention", "AdvProp"), "mean"],
        "n_advprop": by_kind.loc[("robustness intervention", "AdvProp"), "count"],
        "er_lpf": by_kind.loc[("robustness intervention", "anti-aliasing"), "mean"],
        "v2_group_max": per.loc["imagenetv2-matched-frequency"].abs().max(), **kind_numbers})

# %% tags=["hide-input"]
if analyses:  # the same group means and test without ImageNet-A, whose line fits worst (r2 above)
    no_a = [s for s in natural_shifts if s != "imagenet-a"]
    avg_no_a = er_natural.loc[no_a].mean()
    kind_no_a, numbers_no_a = er.kind_verdicts(analyses, er.model_means(analyses, no_a), no_a)
    figures["effective_robustness_by_group_without_imagenet_a"] = {
        **avg_no_a.to_dict(), "shifts": no_a,
        "interventions_vs_more_data": kind_no_a["interventions_vs_more_data_natural"]}
    glued |= glue_values({"n_natural_no_a": len(no_a), "er_int_no_a": avg_no_a["robustness intervention"],
                          "er_more_no_a": avg_no_a["more data"], "int_vs_more_no_a": numbers_no_a["int_vs_more"]})

# %% [markdown]
# **What the numbers show.** Averaged over the {glue:text}`n_natural` natural shifts, models
# with a robustness intervention sit {glue:text}`er_int:+.2f` points above the lines (median
# over models {glue:text}`er_int_med:+.2f`), models trained on more data
# {glue:text}`er_more:+.2f` points (median {glue:text}`er_more_med:+.2f`). Leaving out
# ImageNet-A, whose line fits worst (below), the averages over the other
# {glue:text}`n_natural_no_a` natural shifts are {glue:text}`er_int_no_a:+.2f` points for the
# interventions and {glue:text}`er_more_no_a:+.2f` for the more-data models. Over all
# {glue:text}`n_natural` shifts,
# {glue:text}`above_int:.0f`% of the intervention models and {glue:text}`above_more:.0f`% of the
# more-data models are more than 1 point above the lines on average, and
# {glue:text}`top10_more` of the 10 models highest above the lines were trained on more data.
#
# That average hides how much the lift depends on the shift. On ImageNetV2 MatchedFrequency,
# the shift of chapter 1, more data gains only {glue:text}`er_more_v2:+.2f` points and the
# interventions {glue:text}`er_int_v2:+.2f`. On the renditions and the adversarially filtered
# images the more-data models sit far above the line: {glue:text}`er_more_sketch:+.1f` points
# on ImageNet-Sketch, {glue:text}`er_more_r:+.1f` on ImageNet-R and {glue:text}`er_more_a:+.1f`
# on ImageNet-A (on ObjectNet {glue:text}`er_more_objectnet:+.1f`). Across the natural shifts
# the more-data mean ranges from {glue:text}`more_min:+.1f` to {glue:text}`more_max:+.1f`
# points (largest on {glue:text}`more_max_shift`), the interventions' mean reaches at most
# {glue:text}`int_max:+.1f`. By kind, the {glue:text}`n_advprop:.0f` AdvProp EfficientNets
# (adversarial examples as an extra augmentation, not robust models) average
# {glue:text}`er_advprop:+.2f` points, much of it from ImageNet-A
# ({glue:text}`er_advprop_a:+.1f` there), where effective robustness says little (below); the
# {glue:text}`n_adv:.0f` models with Lp adversarial training average {glue:text}`er_adv:+.2f`,
# and anti-aliased ones {glue:text}`er_lpf:+.2f`. Shift by shift, the Lp-robust models come
# from {glue:text}`adv_sources` sources (papers or code releases), and models of one source are
# not independent draws, so the test is a t over the sources' means (it leaves out the line's
# own uncertainty): their mean sits {glue:text}`adv_r_words` on ImageNet-R,
# {glue:text}`adv_sketch_words` on ImageNet-Sketch, {glue:text}`adv_objectnet_words` on
# ObjectNet and {glue:text}`adv_v2_words` on ImageNetV2.
#
# Compare this with {cite}`taori2020measuring`, who found that robustness interventions give
# little effective robustness on natural shifts and that the models rising clearly above the
# line are those trained on more, more diverse data. Here the interventions are not exactly on
# the line ({glue:text}`above_int:.0f`% of them sit more than a point above it), but their mean
# lift over the natural shifts is {glue:text}`int_vs_more` (Welch t over the
# {glue:text}`int_sources` and {glue:text}`more_sources` sources' means); without ImageNet-A
# it is {glue:text}`int_vs_more_no_a`. On ImageNetV2 every
# group's mean is within {glue:text}`v2_group_max:.1f` points of the line; on Sketch, ImageNet-R
# and ImageNet-A "more data" is not a small lift but {glue:text}`er_more_sketch:+.1f`,
# {glue:text}`er_more_r:+.1f` and {glue:text}`er_more_a:+.1f` points. The
# renditions in ImageNet-R and ImageNet-Sketch (art, cartoons, sketches) are also what
# augmentations against texture bias target (Stylized-ImageNet, DeepAugment, AugMix
# {cite}`geirhos2019imagenet,hendrycks2021many,hendrycks2020augmix`), and there some
# interventions rise a few points above the line. ImageNet-A was filtered *against* a
# ResNet-50, so the standard models bend away from any line (its $r^2$ is
# {glue:text}`r2_a:.2f`) and effective robustness there says little; its
# {glue:text}`er_more_a:+.1f` points partly measure the line's poor fit. Even the largest lifts
# leave the models far below $y = x$.
#
# ### How much does the choice of fitted models matter?
#
# The testbed includes very weak standard models (early-stopped ResNets, least squares,
# random forests; the weakest at {glue:text}`v2_x_lo:.1f`% on ImageNet). That they were added
# for {cite}`miller2021accuracy` is unverified: we could not check it against a page or table
# of that paper here. The lines above leave out the standard models below the floor of
# {glue:text}`fit_min:.0f`%. Refitting to the standard models with at least
# `sensitivity_min_accuracy` % in-distribution accuracy ({glue:text}`sens_min:.0f`%: every
# standard model, the weakest included) changes the lines, and the effective robustness
# measured against them, as follows.

# %%
if analyses:
    rows = {}
    for s in natural_shifts:
        alt = er.analyze_shift(testbed, s, n_boot=1, seed=seed, fit_min_x=sensitivity_min_accuracy)
        means = er.mean_by_group(alt.points)
        rows[s] = {"slope (floor)": analyses[s].fit.slope, "slope (second floor)": alt.fit.slope,
                   "r2 (floor)": analyses[s].fit.r2, "r2 (second floor)": alt.fit.r2, "n fitted (floor)": analyses[s].fit.n,
                   "n fitted (second floor)": alt.fit.n, "ER interventions": means["robustness intervention"],
                   "ER more data": means["more data"]}
    sensitivity = pd.DataFrame(rows).T
    display(sensitivity)

# %% tags=["hide-input"]
if analyses:
    figures["sensitivity_min_accuracy"] = sensitivity_min_accuracy
    figures["effective_robustness_by_group_all_models_fit"] = {  # the line at sensitivity_min_accuracy (0%)
        "robustness intervention": float(sensitivity["ER interventions"].mean()),
        "more data": float(sensitivity["ER more data"].mean())}
    glued |= glue_values({"sens_int": sensitivity["ER interventions"].mean(),
                          "sens_more": sensitivity["ER more data"].mean(), "sens_min": sensitivity_min_accuracy,
                          "sens_n": (lambda n: f"{n.min():.0f}" if n.min() == n.max() else f"{n.min():.0f} to {n.max():.0f}")(
                              sensitivity["n fitted (second floor)"])})

# %% [markdown]
# Against lines fitted to the standard models with at least {glue:text}`sens_min:.0f`%
# in-distribution accuracy ({glue:text}`sens_n` models per shift), the interventions average {glue:text}`sens_int:+.2f` points and the more-data models
# {glue:text}`sens_more:+.2f` over the natural shifts, against {glue:text}`er_int:+.2f` and
# {glue:text}`er_more:+.2f` at the declared floor of {glue:text}`fit_min:.0f`% (these group
# means carry no test of their own; the verdicts above use the lines at the declared floor).
#
# ## 3. Synthetic and adversarial shifts: do interventions move models here?
#
# **Question.** Are robustness interventions simply ineffective? Or do they work on the
# shifts they were designed for?
#
# **Experiment.** The same fits and effective robustness for ImageNet-C (averaged over its 15
# corruptions and 5 severities), Stylized ImageNet, greyscale images and the four PGD
# settings. Only a subset of the models was evaluated on ImageNet-C and PGD (see $n$).

# %%
synthetic_shifts = ["imagenet-c", "stylized-imagenet", "greyscale"] + er.available_shifts("adversarial")
if analyses:
    fig = er.panel_grid([analyses[s] for s in synthetic_shifts], ncols=4, source=sources["imagenet"],
                        extra="lines fitted to standard models")
    fig.suptitle("Synthetic and adversarial shifts: shifted vs ImageNet accuracy, probit scale", fontsize=12)
    plt.show()
    er_synthetic = er.group_table(analyses, synthetic_shifts)
    display(fit_table.loc[synthetic_shifts], er_synthetic.style.format("{:+.2f}", na_rep="-"))

# %% [markdown]
# A few individual interventions, each compared with the line on a natural and a synthetic
# shift (effective robustness in points; blank where the testbed has no evaluation), and
# ImageNet-C corruption by corruption:

# %% tags=["hide-input"]
if analyses:
    spot = pd.DataFrame({s: analyses[s].points["er"].reindex(er.SPOTLIGHT_MODELS) for s in er.SPOTLIGHT_SHIFTS})
    display(spot.style.format("{:+.1f}", na_rep="").set_caption("Effective robustness (points)"))
    corr = {s.removeprefix("imagenet-c."): {"r2": analyses[s].fit.r2, **er.mean_by_group(analyses[s].points)}
            for s in er.SHIFTS if s.startswith("imagenet-c.")}
    display(pd.DataFrame(corr).T.style.format("{:+.2f}", na_rep="-").format("{:.3f}", subset=["r2"]))
    adv = er.available_shifts("adversarial")
    # the same intervention models on a synthetic shift and on the natural ones, paired by model, per kind
    by_kind_syn, figures["interventions_synthetic_minus_natural"], syn_numbers = er.synthetic_vs_natural(
        analyses, model_mean, adv)
    display(by_kind_syn.round(2))
    glued |= glue_values({**syn_numbers, "syn_int_c": er_synthetic.loc["imagenet-c", "robustness intervention"],
        "syn_int_pgd": er_synthetic.loc[adv, "robustness intervention"].mean(),
        "r2_c": fit_table.loc["imagenet-c", "r2"], "r2_pgd_min": fit_table.loc[adv, "r2"].min(),
        "r2_pgd_max": fit_table.loc[adv, "r2"].max()})

# %% [markdown]
# **What the numbers show.** Off the natural shifts, interventions move models off the line:
# their mean effective robustness is {glue:text}`syn_int_c:+.2f` points on ImageNet-C and
# {glue:text}`syn_int_pgd:+.2f` points averaged over the PGD settings, against
# {glue:text}`er_int:+.2f` averaged over the natural shifts. Paired on the same models and
# averaged within each source (the {glue:text}`syn_c_n` intervention models evaluated on
# ImageNet-C come from {glue:text}`syn_c_sources` papers or releases, {glue:text}`syn_c_largest_n`
# of them from {glue:text}`syn_c_largest`, so a paired t over the sources' means is the test), the interventions'
# ImageNet-C lift is {glue:text}`syn_c_words`, their PGD lift {glue:text}`syn_pgd_words`
# ({glue:text}`syn_pgd_n` models, {glue:text}`syn_pgd_sources` sources). Treating every model
# as independent would give {glue:text}`syn_c_models_words` on ImageNet-C and
# {glue:text}`syn_pgd_models_words` on PGD: where the two readings differ, the models of a few
# large papers carry the model-level verdict. The lines themselves are also
# weaker there ($r^2$ {glue:text}`r2_c:.2f` on ImageNet-C, {glue:text}`r2_pgd_min:.2f` to
# {glue:text}`r2_pgd_max:.2f` on PGD). The group average hides the kinds (table above): on the
# natural shifts and on ImageNet-C, Lp adversarial training averages
# {glue:text}`kind_adv_natural:+.1f` and {glue:text}`kind_adv_c:+.1f` points, noise training
# {glue:text}`kind_noise_natural:+.1f` and {glue:text}`kind_noise_c:+.1f`, robustness
# augmentation {glue:text}`kind_rob_natural:+.1f` and {glue:text}`kind_rob_c:+.1f`, generic
# augmentation {glue:text}`kind_gen_natural:+.1f` and {glue:text}`kind_gen_c:+.1f`, and
# anti-aliasing {glue:text}`kind_lpf_natural:+.1f` and {glue:text}`kind_lpf_c:+.1f`. A training
# method can target a synthetic shift (train on the corruption, or on the attack), and where it
# does, it pays off there. Taori et al. {cite}`taori2020measuring` found, model by model, that
# robustness to synthetic shifts does not predict robustness to natural ones; these group means
# do not test that per-model relation.
#
# ## 4. Our own zoo: MNIST written by Census employees vs by students
#
# **Question.** Does a zoo we train ourselves show the same line on a natural shift we can
# construct?
#
# **Experiment.** MNIST's test digits were written by two populations: Census Bureau
# employees (NIST series 0/1) and high-school students (series 4); QMNIST's metadata
# {cite}`yadav2019cold` says which wrote each digit. We train a zoo of linear models, MLPs
# and small CNNs from `reliable_ml.models.zoo` on random MNIST training subsets of several sizes,
# score each model separately on the employees' and the students' test digits, and fit the
# probit line over the standard members. Members trained with random translations (`-aug`)
# play the role of a robustness intervention. MNIST's training set mixes both populations,
# so this is a shift between subpopulations the models have seen, milder than a new test set.

# %%
zoo_analysis = None
try:
    zoo_points, sources["mnist"] = er.mnist_zoo_points(zoo_members, zoo_train_sizes, seed=seed, device=run.device)
    zoo_analysis = er.analyze_points(zoo_points, er.MNIST_SHIFT, n_boot=n_boot, seed=seed)
    display(zoo_analysis.points.sort_values("x"))
except (data.DataUnavailable, data.DataCorrupt) as err:
    notes.show_missing(err, "MNIST employees vs students")

# %% tags=["hide-input"]
if zoo_analysis is not None:
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    er.plot_shift(ax, zoo_analysis, x_label="accuracy on digits by Census employees (%, probit scale)",
                  y_label="accuracy on digits by students (%, probit scale)", size=24)
    plots.source_caption(fig, sources["mnist"], f"{len(zoo_points)} zoo models; line fitted to standard members")
    plt.show()
    zoo_means, drop = er.mean_by_group(zoo_analysis.points), zoo_points["x"] - zoo_points["y"]
    aug_er = zoo_analysis.points.loc[zoo_analysis.points["group"] == "robustness intervention", "er"]
    aug_verdict = er.against_line(aug_er) if aug_er.notna().sum() >= 2 else None  # their mean against 0
    figures["mnist_zoo"] = {**zoo_analysis.fit.as_dict(), "effective_robustness_by_group": zoo_means,
                            "n_models": len(zoo_points), "train_sizes": zoo_train_sizes,
                            "augmented_vs_line": None if aug_verdict is None else asdict(aug_verdict)}
    glued |= glue_values({
        "zoo_change_lo": -drop.max(), "zoo_change_hi": -drop.min(), "zoo_change_med": -drop.median(),
        "zoo_n": zoo_analysis.fit.n, "zoo_slope": zoo_analysis.fit.slope, "zoo_r2": zoo_analysis.fit.r2,
        "zoo_aug": zoo_means.get("robustness intervention", float("nan")), "zoo_models": len(zoo_points),
        "zoo_aug_n": int(aug_er.notna().sum()),
        "zoo_aug_words": "(fewer than two augmented members: no interval)" if aug_verdict is None else stats.phrase(
            aug_verdict, *er.LINE_WORDS, scale=1.0),
        "zoo_x_lo": zoo_points["x"].min(), "zoo_x_hi": zoo_points["x"].max()})

# %% [markdown]
# **What the numbers show.** Going from the employees' to the students' digits, the zoo models'
# accuracy changes by {glue:text}`zoo_change_lo:+.2f` to {glue:text}`zoo_change_hi:+.2f` points
# (median {glue:text}`zoo_change_med:+.2f`). The probit line over the {glue:text}`zoo_n`
# standard members has slope {glue:text}`zoo_slope:.2f` and $r^2$ {glue:text}`zoo_r2:.3f`. The
# {glue:text}`zoo_aug_n` translation-augmented members sit {glue:text}`zoo_aug:+.2f` points from
# it on average; with a t interval over them, their mean is {glue:text}`zoo_aug_words`. The zoo
# has {glue:text}`zoo_models` models spanning {glue:text}`zoo_x_lo:.1f`% to
# {glue:text}`zoo_x_hi:.1f`% on the employees' digits, far fewer than the testbed, and each
# was trained once: read the line's band, not just its slope.
#
# ### CIFAR-10 test sets
#
# The same analysis applies to CIFAR-10 models on the original test set and on a new one.
# Two sources can feed it: the published predictions of the CIFAR-10 models of Recht et al. on
# CIFAR-10.1 {cite}`recht2018cifar` (scored with the canonical CIFAR-10 test labels, which the
# data mirror has; no image is needed), and the zoo that chapter 2 evaluates on its rebuilt
# test set (a `gpu` run). The line's band below resamples the models only; the slope's
# interval in the text also resamples the images of both test sets, as chapter 1 does.

# %% tags=["hide-input"]
cifar_points = {}
try:
    orig, new = data.cifar101_predictions("original"), data.cifar101_predictions("v6")
    if orig.labels is None:
        notes.show_note(f"CIFAR-10 vs CIFAR-10.1 is skipped: {orig.note}.", title="Section skipped")
    else:
        acc_o, acc_n = orig.accuracy(), new.accuracy()
        both = acc_o.index.intersection(acc_n.index)
        cifar_points["cifar10.1-v6"] = (pd.DataFrame({"x": 100 * acc_o[both], "y": 100 * acc_n[both]}),
                                        "CIFAR-10.1 v6 published model predictions (Recht et al. 2018)")
        released = reanalysis.cifar101(download=False)  # per-image correctness: the images can be resampled
        c10_line = line.cifar10_1(released)  # the course's one CIFAR-10.1 line (as in chapter 1): models and images
        figures["line"]["cifar10_1"] = c10_line
        glued |= glue_values({"c10_n": c10_line["models"], "c10_slope": c10_line["slope"],
                              "c10_slope_lo": c10_line["ci"][0], "c10_slope_hi": c10_line["ci"][1],
                              "c10_slope_words": line.words(c10_line)})
except (data.DataUnavailable, data.DataCorrupt) as err:
    notes.show_missing(err, "CIFAR-10 vs CIFAR-10.1")

# %% tags=["hide-input"]
nb02 = results.results_root() / "gpu" / "02_rebuilding_a_test_set.json"
accs = json.loads(nb02.read_text()).get("model_accuracies") if nb02.exists() else None
if isinstance(accs, dict):
    accs = pd.DataFrame(accs).T.astype(float)
    cifar_points["cifar10-rebuilt"] = (accs.rename(columns={"original": "x", "rebuilt": "y"})[["x", "y"]],
                                       "chapter 2 gpu results")
else:
    notes.show_note("The CIFAR-10 zoo on chapter 2's rebuilt test set needs chapter 2's `gpu` results, "
                    "which are not available in this checkout.", title="Section skipped")

# %% tags=["hide-input"]
for name, (pts_c, src) in cifar_points.items():
    res = er.analyze_points(pts_c.assign(group="standard", kind="published"),
                            er.Shift(name, f"CIFAR-10 -> {name}", "natural", "original", (name,)), n_boot=n_boot, seed=seed)
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    er.plot_shift(ax, res, x_label="original CIFAR-10 test accuracy (%, probit scale)",
                  y_label="new test set accuracy (%, probit scale)", size=24)
    plots.source_caption(fig, src)
    plt.show()
    figures[name], sources[name] = res.fit.as_dict(), src

# %% [markdown]
# Over the {glue:text}`c10_n` published models, the CIFAR-10.1 v6 line's probit slope is
# {glue:text}`c10_slope:.2f` ({glue:text}`c10_slope_lo:.2f` to {glue:text}`c10_slope_hi:.2f`,
# resampling models and images): {glue:text}`c10_slope_words`. A few dozen models and 2,000
# new images cannot pin a slope down as tightly as the testbed's hundreds of models.
#
# ## 5. Question answering on the line: SQuADShifts
#
# **Question.** Is "accuracy on the line" special to image classification? SQuADShifts
# {cite}`miller2020effect` collected four new test sets for SQuAD v1.1 reading comprehension,
# with the original dataset's procedure: new Wikipedia articles, New York Times articles,
# Reddit posts and Amazon product reviews, and re-scored 95 models from the SQuAD leaderboard
# and 3 humans on them. `reliable_ml.data.squadshifts_results` reads the released table (its
# F1 and exact-match scores are strings upstream).
#
# **Experiment.** For each new set: each model's F1 drop from the SQuAD test set, and a
# least-squares line of the new set's F1 on SQuAD F1 over the models (F1 on a linear scale, as
# in the paper), written out with `numpy` and checked against `published_results.squad_summary`:

# %%
squad = None
try:
    squad = data.squadshifts_results()
    sources["squad"] = "SQuADShifts results.json (Miller et al. 2020)"
except (data.DataUnavailable, data.DataCorrupt) as err:
    notes.show_missing(err, "question answering (SQuADShifts)")
if squad is not None:
    qa_models = squad[squad["kind"] == "model"]
    slope, icept = np.polyfit(qa_models["test_f1"], qa_models["reddit_f1"], deg=1)  # Reddit F1 = slope * SQuAD F1 + icept
    qa = pr.squad_summary(squad)
    assert np.isclose(slope, qa["fits"]["reddit"]["slope"]) and np.isclose(
        (qa_models["test_f1"] - qa_models["reddit_f1"]).mean(), qa["mean_f1_drop"]["models"]["reddit"])
    display(pd.DataFrame({"mean drop, models": qa["mean_f1_drop"]["models"], "median drop, models": qa["median_f1_drop"]["models"],
                          "mean drop, humans": qa["mean_f1_drop"]["humans"], **{k: {s: f[k] for s, f in qa["fits"].items()}
                                                                                 for k in ("slope", "r")}}).round(2))

# %% tags=["hide-input"]
if squad is not None:
    fig = pr.plot_squad(squad, qa, sources["squad"])
    plt.show()
    figures["squadshifts"] = {"n_models": qa["n_models"], "n_humans": qa["n_humans"], "mean_f1_drop": qa["mean_f1_drop"],
                              "median_f1_drop": qa["median_f1_drop"],
                              "fits": {s: {k: f[k] for k in ("slope", "intercept", "r", "n")} for s, f in qa["fits"].items()}}
    drop_m, drop_h = qa["mean_f1_drop"]["models"], qa["mean_f1_drop"]["humans"]
    glued |= glue_values({"qa_n": qa["n_models"], **{f"qa_drop_{k}": drop_m[s] for k, s in
                                (("wiki", "new-wiki"), ("nyt", "nyt"), ("reddit", "reddit"), ("amazon", "amazon"))},
                                **{f"qa_hdrop_{k}": drop_h[s] for k, s in (("wiki", "new-wiki"), ("nyt", "nyt"),
                                                                           ("reddit", "reddit"), ("amazon", "amazon"))},
                                "qa_vs_paper": max(abs(drop_m[s] - p) for s, p in (("nyt", 3.8), ("reddit", 14.0), ("amazon", 17.4))),
                                "qa_slope_wiki": qa["fits"]["new-wiki"]["slope"], "qa_slope_amazon": qa["fits"]["amazon"]["slope"],
                                "qa_r_min": min(f["r"] for f in qa["fits"].values()), "qa_r_max": max(f["r"] for f in qa["fits"].values())})

# %% [markdown]
# Who loses the F1? For each new set, `published_results.squad_drop_pattern` gives the slope
# with a bootstrap interval over the models (the table has one score per model and set, so the
# questions cannot be resampled), the mean drop of each quarter of the models ranked by SQuAD
# F1, and the humans' drops:

# %%
if squad is not None:
    patterns = {s: pr.squad_drop_pattern(squad, s, n_boot=n_boot, seed=seed) for s in qa["fits"]}
    display(pd.DataFrame({s: {"slope": p["slope"]["slope"], "slope lo": p["slope"]["ci"][0],
                              "slope hi": p["slope"]["ci"][1],
                              **{f"drop, {q} quarter": p["drop_by_quartile"][q]["mean_drop"]
                                 for q in ("bottom", "second", "third", "top")},
                              "Spearman(SQuAD F1, drop)": p["spearman"], "humans' mean drop": p["humans"]["mean_drop"]}
                          for s, p in patterns.items()}).T.round(2))

# %% tags=["hide-input"]
if squad is not None:
    figures["squad"] = {s.replace("-", "_"): p for s, p in patterns.items()}  # squad.new_wiki.{slope, drop_by_quartile}
    glued |= glue_values(pr.squad_numbers(patterns))  # the verdicts' words (stats.phrase)

# %% [markdown]
# **What the numbers show.** Over the {glue:text}`qa_n` models, F1 drops by
# {glue:text}`qa_drop_wiki:.1f` points on new Wikipedia articles, {glue:text}`qa_drop_nyt:.1f`
# on the New York Times, {glue:text}`qa_drop_reddit:.1f` on Reddit and
# {glue:text}`qa_drop_amazon:.1f` on Amazon reviews (means over models). The paper's abstract
# gives 3.8, 14.0 and 17.4 for the last three over its own set of models; this table's
# mean drops differ from those by at most {glue:text}`qa_vs_paper:.1f` points. The three humans
# lose {glue:text}`qa_hdrop_wiki:.1f`, {glue:text}`qa_hdrop_nyt:.1f`,
# {glue:text}`qa_hdrop_reddit:.1f` and {glue:text}`qa_hdrop_amazon:.1f` points on the same
# sets (means). Against the models' drops (Welch t; three people, so read these as
# indications), the humans' drop is {glue:text}`qa_hvs_reddit` on Reddit,
# {glue:text}`qa_hvs_amazon` on Amazon, {glue:text}`qa_hvs_nyt` on the New York Times and
# {glue:text}`qa_hvs_wiki` on new Wikipedia. The models fall on lines ($r$ from
# {glue:text}`qa_r_min:.3f` to {glue:text}`qa_r_max:.3f`) whose slopes grow with the shift,
# from {glue:text}`qa_slope_wiki:.2f` on new Wikipedia ({glue:text}`qa_slope_wiki_lo:.2f` to
# {glue:text}`qa_slope_wiki_hi:.2f` over models) to {glue:text}`qa_slope_amazon:.2f` on Amazon
# ({glue:text}`qa_slope_amazon_lo:.2f` to {glue:text}`qa_slope_amazon_hi:.2f`): as for images,
# the drop is predictable from the original score.
#
# New Wikipedia is the closest to a replication: new articles, the same procedure. There the
# models {glue:text}`qa_wiki_slope_words`. The quarter of the models with the highest
# SQuAD F1 loses {glue:text}`qa_wiki_top:.2f` F1 on average and the lowest quarter
# {glue:text}`qa_wiki_bottom:.2f`: the top quarter's drop is
# {glue:text}`qa_wiki_quartile_words` (Welch t). Spearman's correlation of SQuAD F1 with the
# drop is {glue:text}`qa_wiki_rho:+.2f`, and {glue:text}`qa_wiki_share:.0f`% of the models
# drop. The humans lose {glue:text}`qa_wiki_h_min:.1f` to {glue:text}`qa_wiki_h_max:.1f` F1
# there; their mean drop is {glue:text}`qa_wiki_h_words` (t over the three). Where people lose
# F1 on the new sample too, part of the models' drop is the sample itself (slightly harder, or
# differently annotated) rather than anything about the models. Better models losing more is
# what adaptive overfitting to the SQuAD test set would produce, and so is a lower ceiling on
# the new sets than on SQuAD (noisier or stricter reference answers there cap every model
# lower, and squeeze the best ones most; the humans' drop points that way); this table cannot
# tell the two apart (untested). What it does bound: if the
# new sample is no easier, whatever the best models gained by overfitting the SQuAD test set is
# at most about their quarter's drop. Miller et al.
# {cite}`miller2020effect` conclude that they find no evidence of adaptive overfitting on
# SQuAD; that is their reading of a drop this size, not a measurement of zero.
#
# ## 6. Zero-shot CLIP models against the testbed's line
#
# **Question.** The testbed's most effectively robust models were trained on more data, and
# its zero-shot CLIP models stood out (exercise below). Does that hold for the 100+ zero-shot
# models that OpenCLIP has evaluated since {cite}`radford2021learning,ilharco2021openclip`?
#
# **Experiment.** `reliable_ml.data.openclip_results` reads OpenCLIP's results table (zero-shot
# accuracy, as fractions upstream) and maps its columns onto chapter 8's shifts (`ImageNet v2`
# is MatchedFrequency; `ImageNet-R`, `-A` and `ObjectNet` score the shift's class subset).
# OpenCLIP reports ImageNet accuracy on all 1,000 classes only, so here **both** the testbed
# line and the zero-shot models use full ImageNet `val` on the x axis (for ImageNet-R, -A and
# ObjectNet this differs from section 1's class-subset axis). The line is the probit fit over
# the testbed's standard models at or above the course's floor (`line.MIN_ACCURACY`), and only
# the zero-shot models in that range are scored; a zero-shot model's effective robustness is
# its distance above the line. An aside below refits the line over **every** standard model (no
# floor). Zero-shot models less accurate on ImageNet than every fitted standard model are
# left out (no extrapolation below the line's range; above it, the few zero-shot models more
# accurate than the best standard model are scored on the line extended). On the page for ImageNet-R, then for all five shifts with a
# bootstrap interval for the median over models (each resample redraws the standard models,
# refitting the line, and the zero-shot models):

# %%
clip_res, openclip = None, None
try:
    openclip = data.openclip_results()
    sources["open_clip"] = "OpenCLIP openclip_results.csv (zero-shot) + ImageNet testbed (Taori et al. 2020)"
except (data.DataUnavailable, data.DataCorrupt) as err:
    notes.show_missing(err, "zero-shot CLIP models (OpenCLIP)")
if testbed is None and openclip is not None:
    notes.show_note("Section 6 is skipped: it needs the ImageNet testbed (see the note in section 1).", title="Section skipped")
    openclip = None
if openclip is not None:
    base, zs = pr.zero_shot_points(testbed, openclip, "imagenet-r")  # x = ImageNet val (all classes), y = ImageNet-R, %
    std_r = base[base["group"] == "standard"]
    a_r, b_r = np.polyfit(norm.ppf(std_r["x"] / 100), norm.ppf(std_r["y"] / 100), deg=1)
    rho_zs = zs["y"] - 100 * norm.cdf(a_r * norm.ppf(zs["x"] / 100) + b_r)  # effective robustness, points
    # the main result: the line at the course's floor; the aside: the line over every standard model (no floor)
    clip_res = pr.zero_shot_effective_robustness(testbed, openclip, n_boot=n_boot, seed=seed, fit_min_x=fit_min_accuracy)
    clip_all = pr.zero_shot_effective_robustness(testbed, openclip, n_boot=n_boot, seed=seed, fit_min_x=0.0)
    assert np.allclose(rho_zs, clip_all["imagenet-r"]["zero_shot"]["er"])  # the no-floor line, by hand
    display(pd.DataFrame({s: {"zero-shot models": r["n_zero_shot"], "median ER": r["median"], "95% CI lo": r["ci"][0],
                              "95% CI hi": r["ci"][1], "% above line": r["share_above_line"], "line r2": r["fit"].r2,
                              "median ER, line over all": clip_all[s]["median"],
                              "its CI lo": clip_all[s]["ci"][0], "its CI hi": clip_all[s]["ci"][1]}
                          for s, r in clip_res.items()}).T.round(2))

# %% tags=["hide-input"]
if clip_res is not None:
    fig = pr.plot_zero_shot(clip_res, sources["open_clip"])
    fig.suptitle("Zero-shot OpenCLIP models against the line of ImageNet-trained models", fontsize=12)
    plt.show()
    n_zs = int(openclip["val"].notna().sum())
    figures["open_clip"] = {"n_models": n_zs, "n_models_used": {s: r["n_zero_shot"] for s, r in clip_res.items()},
                            "effective_robustness": {s: {"median": r["median"], "ci": r["ci"],
                                                         "share_above_line": r["share_above_line"]} for s, r in clip_res.items()},
                            "x_axis": "ImageNet val, all 1,000 classes", "n_boot": n_boot,
                            "min_accuracy": fit_min_accuracy, "resampled": "models only; no test images",
                            "effective_robustness_all_models_fit": {s: {"median": r["median"], "ci": r["ci"], "n_models": r["n_zero_shot"]}
                                                                    for s, r in clip_all.items()}}
    glued |= glue_values({"zs_n": n_zs, **{f"zs_{k}": clip_res[s]["median"] for k, s in er.HEADLINE_SHIFTS.items()},
                                **{f"zs_{k}_lo": clip_res[s]["ci"][0] for k, s in er.HEADLINE_SHIFTS.items()},
                                **{f"zs_{k}_hi": clip_res[s]["ci"][1] for k, s in er.HEADLINE_SHIFTS.items()},
                                "zs_above_v2": clip_res["imagenetv2-matched-frequency"]["share_above_line"],
                                "zs_above_v2_count": pr.count_phrase(
                                    round(clip_res["imagenetv2-matched-frequency"]["share_above_line"]
                                          * clip_res["imagenetv2-matched-frequency"]["n_zero_shot"] / 100),
                                    clip_res["imagenetv2-matched-frequency"]["n_zero_shot"]),
                                "zs_r2_a": clip_res["imagenet-a"]["fit"].r2, "zs_min": fit_min_accuracy,
                                "zs_n_used": clip_res["imagenet-r"]["n_zero_shot"],
                                **{f"zs_all_{k}": clip_all[s]["median"] for k, s in er.HEADLINE_SHIFTS.items()},
                                "zs_all_a_lo": clip_all["imagenet-a"]["ci"][0], "zs_all_a_hi": clip_all["imagenet-a"]["ci"][1],
                                "zs_all_r2_a": clip_all["imagenet-a"]["fit"].r2, "zs_all_n": clip_all["imagenet-r"]["n_zero_shot"]})
    figures["open_clip"]["median_vs_line"], zs_numbers = pr.zero_shot_verdicts(  # each median against 0
        {"fit at the floor": clip_res, "fit to all standard models": clip_all})
    glued |= glue_values(zs_numbers)

# %% [markdown]
# **What the numbers show.** Of the {glue:text}`zs_n` rows of OpenCLIP's table,
# {glue:text}`zs_n_used` have at least {glue:text}`zs_min:.0f`% ImageNet accuracy and are scored
# against the line at the floor. Their median effective robustness is {glue:text}`zs_v2:+.1f`
# points on ImageNetV2 (95% interval {glue:text}`zs_v2_lo:+.1f` to {glue:text}`zs_v2_hi:+.1f`;
# {glue:text}`zs_above_v2_count` of the models scored there are above the line),
# {glue:text}`zs_sketch:+.1f` on ImageNet-Sketch ({glue:text}`zs_sketch_lo:+.1f` to
# {glue:text}`zs_sketch_hi:+.1f`), {glue:text}`zs_r:+.1f` on ImageNet-R ({glue:text}`zs_r_lo:+.1f`
# to {glue:text}`zs_r_hi:+.1f`), {glue:text}`zs_a:+.1f` on ImageNet-A ({glue:text}`zs_a_lo:+.1f`
# to {glue:text}`zs_a_hi:+.1f`; its line fits worst, $r^2$ {glue:text}`zs_r2_a:.2f`) and
# {glue:text}`zs_objectnet:+.1f` on ObjectNet ({glue:text}`zs_objectnet_lo:+.1f` to
# {glue:text}`zs_objectnet_hi:+.1f`). The intervals resample the models only (the standard
# models, refitting the line, and the zero-shot ones): the tables hold accuracies, not per-image
# results, so the test images are not resampled and every interval is too narrow by their noise.
#
# An aside: the line through **every** standard model, the weakest included (no floor), scoring
# all {glue:text}`zs_all_n` zero-shot models the table scores on these shifts. The bootstrap
# interval covers which models happen to be in the tables, not whether a line is the right
# shape, and on ImageNet-A and ObjectNet it is not: the many weak standard models pull that line
# down, and the strong ones curve above it (figure; ImageNet-A's $r^2$ is
# {glue:text}`zs_all_r2_a:.2f` there). Against it the medians are {glue:text}`zs_all_v2:+.1f`
# (ImageNetV2), {glue:text}`zs_all_sketch:+.1f` (Sketch), {glue:text}`zs_all_r:+.1f` (R),
# {glue:text}`zs_all_a:+.1f` (A, interval {glue:text}`zs_all_a_lo:+.1f` to
# {glue:text}`zs_all_a_hi:+.1f`) and {glue:text}`zs_all_objectnet:+.1f` (ObjectNet). Of the
# intervals (five shifts, two fits; models only, the test images not resampled),
# {glue:text}`zs_above_summary`. The size of the lift on ImageNet-A depends on the line, so read it
# as "large", not as a number. The median lift is smallest on {glue:text}`zs_least_summary`.
# These medians describe the list of checkpoints OpenCLIP happens to have evaluated, not a
# population of CLIP models: the bootstrap above treats the rows as independent draws, though
# most of them share a pretraining set with others. The next part groups them by that set.
# They differ from the testbed's models in more than being zero-shot (hundreds of millions
# of image-text pairs, other architectures); the data is the usual suspect
# {cite}`radford2021learning,fang2022data`, but this table alone cannot separate the causes.
#
# ### By pretraining data
#
# `reliable_ml.shift.clip_families` maps each checkpoint's `pretrained` tag to the data it was
# trained on (`FAMILY_RULES`: OpenAI's WIT-400M, LAION-400M, LAION-2B, DataComp, ...), counts
# rows that repeat another row's accuracies on every dataset once (the same weights under two
# names), and gives each family's mean effective robustness against the line at the floor
# (standard models and checkpoints with at least {glue:text}`zs_min:.0f`% on ImageNet, as above)
# with a 95% bootstrap interval: each resample redraws the family's checkpoints and the testbed's
# standard models, refitting the line. The intervals resample **models only**: the tables hold accuracies, not per-image
# results, so the test images are not resampled. A family with fewer than
# `clip_families.MIN_MODELS` checkpoints gets its mean without an interval. Two pooled rows:
# every checkpoint once, and the families weighted equally (resampling families, then
# checkpoints within them: the clustered interval).

# %%
clip_fam = None
if clip_res is not None:
    distinct, repeated = cf.distinct_checkpoints(openclip)  # {dropped row: the row it repeats}
    fam_lines = {}
    for s in pr.ZERO_SHOT_SHIFTS:
        base_s, zs_s = pr.zero_shot_points(testbed, distinct, s)
        # the line at the course's floor, as in the main result above: standard models and checkpoints >= the floor
        fam_lines[s] = (base_s[(base_s["group"] == "standard") & (base_s["x"] >= fit_min_accuracy)],
                        zs_s[zs_s["x"] >= fit_min_accuracy])
    combos = {"mean over the five shifts": list(pr.ZERO_SHOT_SHIFTS),
              "mean without ImageNet-A": [s for s in pr.ZERO_SHOT_SHIFTS if s != "imagenet-a"]}
    clip_fam = cf.family_effective_robustness(fam_lines, cf.families(distinct.index), combos, n_boot=n_boot, seed=seed)
    shown = ["mean over the five shifts", "mean without ImageNet-A", "imagenetv2-matched-frequency", "imagenet-a"]
    display(pd.concat({c: clip_fam.xs(c, level="column")[["n", "mean", "lo", "hi"]] for c in shown}, axis=1)
            .sort_values(("mean over the five shifts", "mean")).round(1))

# %% tags=["hide-input"]
if clip_fam is not None:
    fam_sum = {k: cf.family_summary(clip_fam, c, er.LINE_WORDS) for k, c in
               (("all", "mean over the five shifts"), ("noa", "mean without ImageNet-A"),
                ("v2", "imagenetv2-matched-frequency"), ("a", "imagenet-a"))}
    figures["open_clip"]["by_family"] = {
        "families": cf.by_family_record(clip_fam), "repeated_rows_dropped": repeated, "n_boot": n_boot,
        "rules": [list(r) for r in cf.FAMILY_RULES], "min_models_for_interval": cf.MIN_MODELS,
        "resampled": "models only (each family's checkpoints and the testbed's standard models); no test images",
        "min_accuracy": fit_min_accuracy}
    glued |= glue_values({f"zsf_{k}_{name}": v for k, d in fam_sum.items() for name, v in d.items()}
                         | {"zsf_above": fam_sum["all"]["above"], "zsf_n_rows": len(openclip),
                            "zsf_n_ckpt": len(distinct), "zsf_n_dup": len(repeated), "zsf_min": cf.MIN_MODELS,
                            "zsf_max_n": int(cf.families(distinct.index).value_counts().max())})

# %% [markdown]
# **What the numbers show.** Of the {glue:text}`zsf_n_rows` rows, {glue:text}`zsf_n_dup`
# repeat another row exactly (OpenAI's `RN50` and `RN50-quickgelu`, for instance), leaving
# {glue:text}`zsf_n_ckpt` checkpoints from {glue:text}`zsf_all_n_families` pretraining
# families, {glue:text}`zsf_all_n_interval` of them with at least {glue:text}`zsf_min`
# checkpoints. Averaged over the five shifts, the family means run from
# {glue:text}`zsf_all_lowest_mean:+.1f` points ({glue:text}`zsf_all_lowest`) to
# {glue:text}`zsf_all_highest_mean:+.1f` ({glue:text}`zsf_all_highest`); of the families with
# an interval, {glue:text}`zsf_all_above` lie above the line (models only; the test images not
# resampled). Weighting the families equally,
# the mean is {glue:text}`zsf_all_equal_words`; every checkpoint counted once, it is
# {glue:text}`zsf_all_all_words`. Without ImageNet-A the family means run from
# {glue:text}`zsf_noa_lowest_mean:+.1f` ({glue:text}`zsf_noa_lowest`) to
# {glue:text}`zsf_noa_highest_mean:+.1f` ({glue:text}`zsf_noa_highest`), and the families
# weighted equally sit {glue:text}`zsf_noa_equal_words`. ImageNet-A spreads the families most,
# from {glue:text}`zsf_a_lowest_mean:+.1f` ({glue:text}`zsf_a_lowest`) to
# {glue:text}`zsf_a_highest_mean:+.1f` ({glue:text}`zsf_a_highest`); on ImageNetV2 they run from
# {glue:text}`zsf_v2_lowest_mean:+.1f` ({glue:text}`zsf_v2_lowest`) to
# {glue:text}`zsf_v2_highest_mean:+.1f` ({glue:text}`zsf_v2_highest`), and
# {glue:text}`zsf_v2_above` families with an interval lie above the line there (models only; the
# test images not resampled, so a small lift may not survive their noise).
#
# A family is not an experiment: each mixes architectures, model sizes and training lengths,
# and the DataComp pools span four training scales, so a difference between two families is not
# the effect of their data alone. With {glue:text}`zsf_min` to {glue:text}`zsf_max_n`
# checkpoints per family, the percentile intervals are rough. {cite:t}`fang2022data` vary one factor at a time
# and find the training distribution the main cause of CLIP's effective robustness.
#
# **Two caveats from later work.** Both concern the baseline. The line here is fitted to
# models trained on ImageNet, with ImageNet as the only in-distribution test set; for a
# zero-shot model trained on LAION or WIT, ImageNet is not its training distribution.
# {cite:t}`shi2023effective` control for accuracy on several in-distribution test sets
# at once (ImageNet and the other models' training distributions, such as YFCC or LAION), over
# models trained on each, and under that evaluation the effective-robustness gains of zero-shot
# CLIP-like models diminish: part of the lift measured above comes from scoring every model
# against ImageNet alone. This chapter cannot run their evaluation: the tables hold no accuracy
# on the pretraining distributions. And effective robustness is not a fixed property of a
# pretrained model: {cite:t}`andreassen2022evolution` find that models
# pre-trained on larger datasets show effective robustness during fine-tuning that vanishes at
# convergence. The lifts above are those of zero-shot models; a CLIP model fine-tuned to
# convergence on ImageNet need not keep them. The testbed's "more data" models of section 2,
# most of them fine-tuned on ImageNet, do sit above the line; this chapter cannot tell whether
# their fine-tuning stopped short of convergence or the finding does not carry over to them.
# Both studies are paraphrased from their abstracts, not re-checked against their tables here.

# %% [markdown]
# ## Summary
#
# * On natural shifts, standard models (here the {glue:text}`fit_n_lo` to
#   {glue:text}`fit_n_hi` with at least {glue:text}`fit_min:.0f`% on ImageNet, the course's
#   floor) lie close to a probit-scaled line of shifted vs original accuracy: $r^2$ runs from
#   {glue:text}`r2_lo_no_a:.2f` to {glue:text}`r2_hi:.3f` on the natural shifts other than
#   ImageNet-A, where it is {glue:text}`r2_a:.2f`. Where $r^2$ is high, the drop on a new test
#   set is predictable from the original accuracy.
# * Robustness interventions lift models by {glue:text}`er_int:+.2f` points on average over
#   the natural shifts (at most {glue:text}`int_max:+.1f` on any one shift). Paired on the same
#   models, with papers as the unit, their ImageNet-C lift is {glue:text}`syn_c_words`, and
#   their PGD lift {glue:text}`syn_pgd_words`. The kinds differ (section 3): the large
#   synthetic-shift lifts come from the methods that train on such perturbations.
# * Models pre-trained on more, more diverse data are the ones that rise above the line: by
#   {glue:text}`er_more_v2:+.2f` points on ImageNetV2, but by
#   {glue:text}`er_more_sketch:+.1f` on ImageNet-Sketch, {glue:text}`er_more_r:+.1f` on
#   ImageNet-R and {glue:text}`er_more_a:+.1f` on ImageNet-A (whose line fits worst; their
#   mean over the natural shifts is {glue:text}`er_more:+.2f` with it and
#   {glue:text}`er_more_no_a:+.2f` without it). Even so they stay far below $y = x$.
# * Grouped by pretraining data, the zero-shot CLIP checkpoints' family means over five shifts,
#   against the testbed's line at the {glue:text}`fit_min:.0f`% floor, run from
#   {glue:text}`zsf_all_lowest_mean:+.1f` to {glue:text}`zsf_all_highest_mean:+.1f` points; of
#   the families with an interval, {glue:text}`zsf_above` lie above the line (intervals over
#   models only; the test images not resampled). Two later studies qualify the lift: measured against a baseline that also controls accuracy on the models' own training
#   distribution it diminishes {cite}`shi2023effective`, and during fine-tuning it vanishes at
#   convergence {cite}`andreassen2022evolution`.
#
# ## Exercises
#
# ```{exercise-start}
# :label: ex-08-zero-mean
# ```
# Least squares makes the residuals of the fitted models sum to zero. Check it for the
# ImageNet-R line on the probit scale, and then compute the mean effective robustness of the
# standard models in accuracy points. Why is the second not exactly zero?
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-08-zero-mean
# :class: dropdown
# ```

# %%
if testbed is not None:
    resid = norm.ppf(std["y"] / 100) - (a * norm.ppf(std["x"] / 100) + b)
    print(f"mean probit residual {resid.mean():.1e}; mean rho of standard models {rho[std.index].mean():+.3f} points")
    assert abs(resid.mean()) < 1e-9

# %% [markdown]
# The probit residuals average to zero by construction. Effective robustness is measured
# after mapping back through $\Phi$, which is not linear, so positive and negative residuals of
# equal size on the probit scale become unequal in points.
#
# ```{solution-end}
# ```
#
# ```{exercise-start}
# :label: ex-08-peak
# ```
# "Better models lose less" and "the drop grows with accuracy" seem to contradict each other. Use the
# testbed's ImageNetV2 MatchedFrequency line of section 1, `v2.fit` (its standard models at or
# above the floor, in the testbed's re-evaluation; not the course's line over the released
# models), and `er.line_drop` to find the ImageNet accuracy at which the line predicts the
# largest drop in points. The line is fitted to models at or above the floor
# ({glue:text}`fit_min:.0f`%) and extrapolated down to 5%, so a peak below the floor is a
# property of the extrapolated line, not of fitted data. Then check the data: do the testbed's standard models (all of them,
# `v2_all`) within 10 points of that accuracy lose more points than those more than 15 points
# above it?
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-08-peak
# :class: dropdown
# ```
# Accuracy in points is compressed near 0 and 100%, so a line on the probit scale costs the
# most points for models in the middle: the drop rises from weak models to middling ones and
# falls again toward the top (the printout says where the peak lies for this line, fitted at
# {glue:text}`fit_min:.0f`% and above and extrapolated down to 5%, and whether the testbed's
# models agree). Both sayings describe parts of the same line.

# %%
if analyses:
    acc_grid = np.linspace(5, 95, 181)
    drop_grid = er.line_drop(v2.fit, acc_grid)  # points lost along the line
    peak = acc_grid[drop_grid.argmax()]
    lost = v2_all["x"] - v2_all["y"]  # the standard models' own drops
    near, above = lost[(v2_all["x"] - peak).abs() <= 10], lost[v2_all["x"] > peak + 15]
    print(f"the line loses most, {drop_grid.max():.1f} points, at {peak:.1f}%; standard models within 10 points: "
          f"{near.mean():.1f} points (n = {len(near)}), more than 15 above: {above.mean():.1f} (n = {len(above)})")
    assert 5 < peak < 95 and drop_grid.max() >= er.line_drop(v2.fit, [85])[0]

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise-start}
# :label: ex-08-clip
# ```
# Where do the zero-shot CLIP models sit? Compute their effective robustness on ImageNetV2
# MatchedFrequency and on ImageNet-R from `analyses`.
# ```{exercise-end}
# ```
#
# ```{solution-start} ex-08-clip
# :class: dropdown
# ```

# %%
if analyses:
    clip = pd.DataFrame({s: analyses[s].points["er"] for s in ("imagenetv2-matched-frequency", "imagenet-r")})
    clip = clip[clip.index.str.contains("clip")]
    display(clip.round(1))
    assert len(clip) > 0 and clip.notna().all().all()

# %% [markdown]
# CLIP's zero-shot models, trained on 400M image-text pairs, are the clearest case of "more
# data": a few points above the line on ImageNetV2 and far above it on ImageNet-R.
#
# ```{solution-end}
# ```

# %% tags=["hide-input"]
if analyses:
    figures["shifts"] = {name: res.fit.as_dict() for name, res in analyses.items()}
    figures["effective_robustness_by_group"] = er_natural.loc["mean over natural shifts"].to_dict()
    figures["effective_robustness_by_group_per_shift"] = {s: er_natural.loc[s].dropna().to_dict() for s in natural_shifts}
    figures["effective_robustness_by_group_median"] = er.group_table(analyses, natural_shifts, "median").mean().to_dict()
    figures["effective_robustness_by_group_synthetic"] = {s: er_synthetic.loc[s].dropna().to_dict()
                                                          for s in synthetic_shifts}
    figures["natural_shifts"] = natural_shifts
figures |= {"n_boot": n_boot, "fit_min_accuracy": fit_min_accuracy}
path = run.save(figures, data_source=sources or "none (testbed, MNIST and CIFAR-10.1 all unavailable)")
print(f"results written to results/{profile}/{path.name} after {run.wall_seconds:.1f} s")

# %% tags=["remove-input"]
# numbers quoted in the prose of a section skipped for missing data read "nan" (its note says why)
skipped = glue_missing("08_effective_robustness")
