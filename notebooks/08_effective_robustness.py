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
# # 8. Accuracy on the line and effective robustness
#
# Chapter 1 found that ImageNet models lose accuracy on ImageNetV2, and that the loss is not
# random: better models lose less, in a very regular way. This chapter asks whether that
# regularity is special to ImageNetV2, and whether any of the many methods proposed to make
# models *robust* breaks it.
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
# evaluation settings); why robustness interventions that help against synthetic
# corruptions and adversarial attacks mostly stay on the line for natural shifts; and how the
# same analysis looks on a model zoo we train ourselves.
#
# **Compute.** Everything about the testbed is a table computation (a few seconds, plus the
# bootstrap bands). `smoke`: 50 bootstrap resamples, three panels, a 6-model MNIST zoo
# (about 20 s on 2 cores). `cpu`: 1,000 resamples, every panel, a 30-model MNIST zoo of linear
# models, MLPs and small CNNs (about two minutes on 2 otherwise idle cores). `gpu`: the `mnist-gpu` zoo of
# `reliable_ml.zoo`, including CNNs.

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu
n_boot = None  # bootstrap resamples per fitted line (None: smoke 50, cpu 1000, gpu 2000)
fit_min_accuracy = 0.0  # fit lines only over standard models at least this accurate in distribution, in %
sensitivity_min_accuracy = 60.0  # a second threshold (%), for the sensitivity check
grid_shifts = None  # natural shifts drawn as small multiples (None: smoke 3, cpu/gpu all)
zoo_members = None  # reliable_ml.zoo member names for the MNIST zoo (None: by profile)
zoo_train_sizes = None  # MNIST training-set sizes; each member is trained once per size (None: by profile)
seed = 0

# %%
import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown, display

import reliable_ml
from reliable_ml import data, notes, plots, results
from reliable_ml import effective_robustness as er

try:
    from reliable_ml import zoo
except ImportError as err:  # the zoo module comes with chapter 1
    zoo, zoo_import_error = None, err

run = reliable_ml.start("08_effective_robustness", profile, seed=seed)
plots.use_style()
pd.set_option("display.precision", 3)

natural_shifts = er.available_shifts("natural")
consistency_shifts = er.available_shifts("consistency")
n_boot = n_boot or reliable_ml.pick(profile, smoke=50, cpu=1000, gpu=2000)
grid_shifts = list(grid_shifts or reliable_ml.pick(
    profile, smoke=natural_shifts[:3], cpu=natural_shifts + consistency_shifts,
    gpu=natural_shifts + consistency_shifts))
for name in grid_shifts:
    er.get_shift(name)  # unknown names raise ValueError listing the registered shifts
zoo_members = list(zoo_members or reliable_ml.pick(
    profile, smoke=("logreg-e1", "mlp-16-e1", "mlp-64-e2"),
    cpu=("logreg-e1", "logreg-e4", "logreg-e4-aug", "mlp-8-e2", "mlp-32-e1", "mlp-32-e3",
         "mlp-128-e2", "mlp-128-e4-aug", "mlp-512-e3", "cnn-4-e1"),
    gpu=zoo.zoo_names("mnist-gpu") if zoo is not None else ()))
zoo_train_sizes = list(zoo_train_sizes or reliable_ml.pick(
    profile, smoke=(1000, 4000), cpu=(2000, 10_000, 60_000), gpu=(5000, 20_000, 60_000)))
print(f"bootstrap resamples per line: {n_boot}; panels in the natural-shift grid: {len(grid_shifts)}")

figures: dict = {}
sources: dict = {}


def axis_labels(shift: er.Shift) -> tuple[str, str]:
    """Axis labels for a testbed shift: which ImageNet accuracy is on x, which shifted set on y."""
    x = "ImageNet val top-1 (%)" if shift.x_col == "val" else "ImageNet val top-1, same classes (%)"
    return x, f"{shift.label.split(' (')[0]} top-1 (%)"


def panel_grid(analyses: list, ncols: int = 3, source: str = "", extra: str = "") -> plt.Figure:
    """Small multiples: one probit panel per shift analysis, the legend in the first panel."""
    nrows = int(np.ceil(len(analyses) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 4.0 * nrows), squeeze=False)
    for i, (ax, res) in enumerate(zip(axes.flat, analyses)):
        x_label, y_label = axis_labels(res.shift)
        er.plot_shift(ax, res, x_label=x_label, y_label=y_label, legend=(i == 0), size=9)
    for ax in list(axes.flat)[len(analyses):]:
        ax.axis("off")
    plots.source_caption(fig, source, extra)
    return fig


# %% [markdown]
# ## The testbed
#
# `reliable_ml.data.imagenet_testbed()` reads the testbed's `robustness_top1s.csv`: top-1
# accuracy (%) of each model on each evaluation setting. Each shift in
# `reliable_ml.effective_robustness.SHIFTS` names the CSV columns it uses. Shifts that keep
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

# %%
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

# %%
if testbed is not None:
    groups = er.group_models(testbed["model"])
    counts = groups.groupby("rule").size()
    rule_table = pd.DataFrame([{"pattern (regex)": r.pattern, "group": r.group, "kind": r.kind,
                                "why": r.why, "models": int(counts.get(r.pattern, 0))}
                               for r in er.GROUP_RULES]
                              + [{"pattern (regex)": "(no match)", "group": "standard", "kind": "standard",
                                  "why": "ImageNet-1k, standard training",
                                  "models": int(counts.get("(default)", 0))}])
    display(rule_table)
    display(groups.groupby(["group", "kind"]).size().rename("models").to_frame())
    figures["models_per_group"] = groups["group"].value_counts().to_dict()

# %% [markdown]
# ## 1. Natural distribution shifts: is accuracy on the line?
#
# **Question.** For each natural shift, how well does a probit-scaled line fitted to the
# standard models describe them, and where do the other groups fall?
#
# **Experiment.** For every registered shift we fit the line over the standard models by least
# squares on the probit scale (`reliable_ml.stats.probit_linear_fit`), report slope $a$,
# intercept $b$ and $r^2$, and draw a 95% pointwise bootstrap band: the standard models are
# resampled with replacement and the line refitted `n_boot` times.

# %%
analyses: dict[str, er.ShiftAnalysis] = {}
if testbed is not None:
    for name in er.SHIFTS:
        # single ImageNet-C corruptions appear only in the dropdown: a tenth of the resamples
        boots = max(20, n_boot // 10) if name.startswith("imagenet-c.") else n_boot
        analyses[name] = er.analyze_shift(testbed, name, n_boot=boots, seed=seed,
                                          fit_min_x=fit_min_accuracy)
    fit_table = pd.DataFrame({name: {"kind": res.shift.kind, **res.fit.as_dict()}
                              for name, res in analyses.items()}).T
    display(fit_table.loc[natural_shifts + consistency_shifts])

# %% [markdown]
# **Figure.** Each panel is one shift; each point one model. The blue line is the fit to the
# standard models with its bootstrap band, the dashed line $y = x$ (no drop). Both axes are
# probit-scaled ($\Phi^{-1}$ of the accuracy) and labelled in accuracy %; "same classes" means
# ImageNet val restricted to the shift's classes.

# %%
if analyses:
    fig = panel_grid([analyses[s] for s in grid_shifts], source=sources["imagenet"],
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

# %%
if analyses:
    import ipywidgets as widgets

    def draw_one(shift: str) -> None:
        res = analyses[shift]
        fig, ax = plt.subplots(figsize=(6.4, 5.2))
        x_label, y_label = axis_labels(res.shift)
        er.plot_shift(ax, res, x_label=x_label, y_label=y_label)
        plots.source_caption(fig, sources["imagenet"])
        plt.show()

    def redraw(change: dict) -> None:
        with shown:
            shown.clear_output(wait=True)
            if change["new"] in analyses:
                draw_one(change["new"])

    # Drawing happens only when the value changes, so a headless run writes nothing into the
    # Output widget (an initial draw there, as interactive_output does, once hung papermill).
    placeholder = "(choose a shift)"
    chooser = widgets.Dropdown(options=[placeholder, *analyses], value=placeholder, description="shift")
    shown = widgets.Output()
    chooser.observe(redraw, names="value")
    notes.show_interactive_note()
    display(chooser, shown)

# %% [markdown]
# ## 2. Effective robustness: who rises above the line?
#
# **Experiment.** Each model's effective robustness is its shifted accuracy minus the line's
# prediction at its ImageNet accuracy, in accuracy points. Standard models define the line,
# so their residuals average exactly 0 on the probit scale (and close to 0 in points). We
# average it per group and shift, then over the natural shifts (each shift weighted equally).

# %%
if analyses:
    er_natural = pd.DataFrame({s: er.mean_by_group(analyses[s].points) for s in natural_shifts}).T
    er_natural.loc["mean over natural shifts"] = er_natural.mean()
    display(er_natural.style.format("{:+.2f}").set_caption(
        "Mean effective robustness (accuracy points) per group and natural shift"))
    er_median = pd.DataFrame({s: analyses[s].points.groupby("group")["er"].median()
                              for s in natural_shifts}).T[er_natural.columns]
    er_by_model = pd.DataFrame({s: analyses[s].points["er"] for s in natural_shifts})
    model_mean = er_by_model.mean(axis=1).rename("mean ER over natural shifts").to_frame()
    model_mean = model_mean.join(er.group_models(model_mean.index)[["group", "kind"]])

# %%
if analyses:
    fig, ax = plt.subplots(figsize=(10, 4.2))
    width = 0.8 / len(er_natural.columns)
    for j, group in enumerate(er_natural.columns):
        ax.bar(np.arange(len(er_natural)) + (j - (len(er_natural.columns) - 1) / 2) * width,
               er_natural[group], width=width, label=group, color=er.GROUP_STYLE[group]["color"])
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xticks(np.arange(len(er_natural)))
    ax.set_xticklabels([er.SHIFTS[s].label.split(" (")[0] if s in er.SHIFTS else s
                        for s in er_natural.index], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("mean effective robustness (accuracy points)")
    ax.set_xlabel("natural distribution shift")
    ax.set_title("Effective robustness by model group, natural shifts")
    ax.legend()
    plots.source_caption(fig, sources["imagenet"], "lines fitted to standard models")
    plt.show()

# %% [markdown]
# Which models sit highest above the lines, averaged over the natural shifts, and how do the
# robustness interventions fare by kind?

# %%
if analyses:
    display(model_mean.sort_values("mean ER over natural shifts", ascending=False).head(12))
    by_kind = model_mean.groupby(["group", "kind"])["mean ER over natural shifts"].agg(["mean", "median", "count"])
    display(by_kind)
    avg = er_natural.loc["mean over natural shifts"]
    share_above = model_mean.groupby("group")["mean ER over natural shifts"].apply(lambda s: float((s > 1).mean()))
    top = model_mean.sort_values("mean ER over natural shifts", ascending=False).head(10)["group"].value_counts()
    display(Markdown(
        f"**What it means.** Averaged over the {len(natural_shifts)} natural shifts, models with a "
        f"robustness intervention sit {avg['robustness intervention']:+.2f} points off the line "
        f"(median over models of their mean: "
        f"{model_mean[model_mean.group == 'robustness intervention'].iloc[:, 0].median():+.2f}), "
        f"models trained on more data {avg['more data']:+.2f} points (median "
        f"{model_mean[model_mean.group == 'more data'].iloc[:, 0].median():+.2f}); "
        f"{100 * share_above.get('robustness intervention', 0):.0f}% of the intervention models and "
        f"{100 * share_above.get('more data', 0):.0f}% of the more-data models are more than 1 point above "
        f"the lines on average. Of the 10 models highest above the lines, "
        f"{int(top.get('more data', 0))} were trained on more data. On ImageNetV2 MatchedFrequency, "
        f"the shift of chapter 1, the more-data models gain "
        f"{er_natural.loc['imagenetv2-matched-frequency', 'more data']:+.2f} points and the "
        f"interventions {er_natural.loc['imagenetv2-matched-frequency', 'robustness intervention']:+.2f}. "
        f"Interventions average under 1 point on "
        f"{', '.join(er.SHIFTS[s].label.split(' (')[0] for s in natural_shifts if er_natural.loc[s, 'robustness intervention'] < 1) or 'none of the shifts'}"
        f"; more data lifts models more than interventions on "
        f"{int((er_natural.loc[natural_shifts, 'more data'] > er_natural.loc[natural_shifts, 'robustness intervention']).sum())}"
        f" of the {len(natural_shifts)} shifts. By kind, adversarially trained models average "
        f"{by_kind.loc[('robustness intervention', 'adversarial training'), 'mean']:+.2f} points and anti-aliased "
        f"ones {by_kind.loc[('robustness intervention', 'anti-aliasing'), 'mean']:+.2f}."))

# %% [markdown]
# Compare this with the finding of {cite}`taori2020measuring`: on natural shifts, robustness
# interventions mostly move models along the line, and the models that rise clearly above it
# are those trained on more, more diverse data. The tables above show where this holds in the
# testbed and where it bends. On ImageNetV2, the shift of chapter 1, every group is within
# about a point of the line. The renditions in ImageNet-R and ImageNet-Sketch (art,
# cartoons, sketches) are exactly what augmentations against texture bias target
# (Stylized-ImageNet, DeepAugment, AugMix
# {cite}`geirhos2019imagenet,hendrycks2021many,hendrycks2020augmix`), and there some
# interventions rise above the line too. ImageNet-A was filtered *against* a ResNet-50, so the
# standard models bend away from any line (its $r^2$ is far below the others) and effective
# robustness there says little. Even the largest lifts leave the models far below $y = x$:
# no group closes the gap.

# %% [markdown]
# ### How much does the choice of fitted models matter?
#
# The testbed includes very weak standard models (early-stopped ResNets, least squares,
# random forests) added for {cite}`miller2021accuracy`. Refitting only to standard models
# with at least `sensitivity_min_accuracy` % in-distribution accuracy changes the lines, and
# the effective robustness measured against them, as follows.

# %%
if analyses:
    rows = {}
    for s in natural_shifts:
        alt = er.analyze_shift(testbed, s, n_boot=1, seed=seed, fit_min_x=sensitivity_min_accuracy)
        means = er.mean_by_group(alt.points)
        rows[s] = {"slope (all)": analyses[s].fit.slope, f"slope (>= {sensitivity_min_accuracy:g}%)": alt.fit.slope,
                   "r2 (all)": analyses[s].fit.r2, f"r2 (>= {sensitivity_min_accuracy:g}%)": alt.fit.r2,
                   "n fitted": alt.fit.n,
                   "ER interventions": means.get("robustness intervention", np.nan),
                   "ER more data": means.get("more data", np.nan)}
    sensitivity = pd.DataFrame(rows).T
    display(sensitivity)
    figures["sensitivity_min_accuracy"] = sensitivity_min_accuracy
    figures["effective_robustness_by_group_high_accuracy_fit"] = {
        "robustness intervention": float(sensitivity["ER interventions"].mean()),
        "more data": float(sensitivity["ER more data"].mean())}

# %% [markdown]
# ## 3. Synthetic and adversarial shifts: here interventions do move models
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
    fig = panel_grid([analyses[s] for s in synthetic_shifts], ncols=4, source=sources["imagenet"],
                     extra="lines fitted to standard models")
    fig.suptitle("Synthetic and adversarial shifts: shifted vs ImageNet accuracy, probit scale", fontsize=12)
    plt.show()
    er_synthetic = pd.DataFrame({s: er.mean_by_group(analyses[s].points) for s in synthetic_shifts}).T
    display(fit_table.loc[synthetic_shifts])
    display(er_synthetic.style.format("{:+.2f}", na_rep="-").set_caption(
        "Mean effective robustness (accuracy points) per group, synthetic and adversarial shifts"))

# %% [markdown]
# A few individual interventions, each compared with the line on a natural and a synthetic
# shift (effective robustness in points; blank where the testbed has no evaluation):

# %%
spotlight = ["resnet50_l2_eps3_robust", "resnet50_linf_eps4_robust", "resnet50_augmix",
             "resnet50_deepaugment_augmix", "resnet50_trained_on_SIN_and_IN", "resnet50_with_gaussian_noise_aws",
             "resnet50_lpf3", "instagram-resnext101_32x8d", "resnet50_clip_zeroshot"]
spot_shifts = ["imagenetv2-matched-frequency", "objectnet", "imagenet-r", "imagenet-c", "imagenet-c.gaussian_noise",
               "pgd.linf.eps0.5"]
if analyses:
    spot = pd.DataFrame({s: analyses[s].points["er"].reindex(spotlight) for s in spot_shifts})
    display(spot.style.format("{:+.1f}", na_rep="").set_caption("Effective robustness (points)"))
    per_corruption = pd.DataFrame({s.removeprefix("imagenet-c."): {
        "r2": analyses[s].fit.r2, **er.mean_by_group(analyses[s].points)}
        for s in er.SHIFTS if s.startswith("imagenet-c.")}).T
    display(per_corruption.style.format("{:+.2f}", na_rep="-").format("{:.3f}", subset=["r2"]).set_caption(
        "ImageNet-C per corruption: r² of the standard line, mean ER per group (points)"))
    syn_int = er_synthetic.loc[synthetic_shifts, "robustness intervention"]
    display(Markdown(
        f"**What it means.** Off the natural shifts, interventions do move models off the line: "
        f"their mean effective robustness is {syn_int['imagenet-c']:+.2f} points on ImageNet-C and "
        f"{syn_int[er.available_shifts('adversarial')].mean():+.2f} points averaged over the PGD settings, "
        f"against {avg['robustness intervention']:+.2f} averaged over the natural shifts. The lines "
        f"themselves are also weaker there (r² {fit_table.loc['imagenet-c', 'r2']:.2f} on ImageNet-C, "
        f"{fit_table.loc[er.available_shifts('adversarial'), 'r2'].min():.2f} to "
        f"{fit_table.loc[er.available_shifts('adversarial'), 'r2'].max():.2f} on PGD)."))

# %% [markdown]
# A training method can target a synthetic shift (train on the corruption, or on the
# attack), and the tables show that it pays off there. The same models gain little on the
# natural shifts of section 2: robustness to synthetic shifts does not predict robustness to
# natural ones {cite}`taori2020measuring`.

# %% [markdown]
# ## 4. Our own zoo: MNIST written by Census employees vs by students
#
# **Question.** Does a zoo we train ourselves show the same line on a natural shift we can
# construct?
#
# **Experiment.** MNIST's test digits were written by two populations: Census Bureau
# employees (NIST series 0/1) and high-school students (series 4); QMNIST's metadata
# {cite}`yadav2019cold` says which wrote each digit. We train a zoo of linear models, MLPs
# and small CNNs from `reliable_ml.zoo` on random MNIST training subsets of several sizes,
# score each model separately on the employees' and the students' test digits, and fit the
# probit line over the standard members. Members trained with random translations (`-aug`)
# play the role of a robustness intervention. MNIST's training set mixes both populations,
# so this is a shift between subpopulations the models have seen, milder than a new test set.

# %%
zoo_analysis = None
try:
    if zoo is None:
        raise ImportError(f"this section needs reliable_ml.zoo, which is not importable here: {zoo_import_error}")
    mnist_train = data.load_images("mnist", "train")
    mnist_test = data.load_images("mnist", "test")
    meta = data.qmnist_metadata("test")
    sources["mnist"] = f"{mnist_test.info.source} + QMNIST writer metadata (Yadav & Bottou 2019)"
except ImportError as err:
    notes.show_note(str(err), kind="warning", title="Section skipped")
except (data.DataUnavailable, data.DataCorrupt) as err:
    notes.show_missing(err, "MNIST employees vs students")
else:
    if not np.array_equal(meta["digit"].to_numpy(), mnist_test.y.numpy()):
        raise ValueError("QMNIST test metadata does not line up with the MNIST test labels")
    employee = (meta["population"] == "employee").to_numpy()
    print(f"MNIST test: {employee.sum():,} digits by employees, {(~employee).sum():,} by students")
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(mnist_train.y), generator=gen)
    rows = {}
    threads = torch.get_num_threads()
    if run.device.type == "cpu":
        torch.set_num_threads(1)  # these models are tiny: one thread avoids OpenMP synchronisation cost
    for n_train in zoo_train_sizes:
        idx = order[:n_train]
        trained = zoo.train_zoo(zoo_members, mnist_train.x[idx].to(run.device), mnist_train.y[idx].to(run.device),
                                n_classes=10, seed=seed, progress=False)
        preds = zoo.predict_zoo(trained, mnist_test.x)
        for name, pred in preds.items():
            correct = (pred == mnist_test.y).numpy()
            rows[f"{name}@{n_train}"] = {"x": 100 * correct[employee].mean(), "y": 100 * correct[~employee].mean(),
                                         "group": "robustness intervention" if trained[name].spec.augment else "standard",
                                         "kind": "translation augmentation" if trained[name].spec.augment else "standard",
                                         "train seconds": trained[name].seconds}
        print(f"trained {len(trained)} members on {n_train:,} images in "
              f"{sum(t.seconds for t in trained.values()):.1f} s")
    torch.set_num_threads(threads)
    zoo_points = pd.DataFrame(rows).T.astype({"x": float, "y": float, "train seconds": float})
    zoo_points.index.name = "model"
    zoo_shift = er.Shift("mnist-employees-to-students", "MNIST: employees -> students", "natural",
                         "employees", ("students",))
    zoo_analysis = er.analyze_points(zoo_points, zoo_shift, n_boot=n_boot, seed=seed)
    display(zoo_analysis.points.sort_values("x"))

# %%
if zoo_analysis is not None:
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    er.plot_shift(ax, zoo_analysis, x_label="accuracy on digits by Census employees (%, probit scale)",
                  y_label="accuracy on digits by students (%, probit scale)", size=24)
    plots.source_caption(fig, sources["mnist"], f"{len(zoo_points)} zoo models; line fitted to standard members")
    plt.show()
    zoo_means = er.mean_by_group(zoo_analysis.points)
    drop = (zoo_points["x"] - zoo_points["y"])
    display(Markdown(
        f"**What it means.** Going from the employees' to the students' digits, the zoo models' accuracy "
        f"changes by {-drop.max():+.2f} to {-drop.min():+.2f} points (median {-drop.median():+.2f}). "
        f"The probit line over the "
        f"{zoo_analysis.fit.n} standard members has slope {zoo_analysis.fit.slope:.2f}, intercept "
        f"{zoo_analysis.fit.intercept:+.2f} and r² {zoo_analysis.fit.r2:.3f}. "
        + (f"The translation-augmented members sit {zoo_means['robustness intervention']:+.2f} points off it "
           f"on average. " if "robustness intervention" in zoo_means else "")
        + f"The zoo has {len(zoo_points)} models spanning {zoo_points['x'].min():.1f}% to "
        f"{zoo_points['x'].max():.1f}% on the employees' digits, far fewer than the testbed: read the "
        f"line's band, not just its slope."))
    figures["mnist_zoo"] = {**zoo_analysis.fit.as_dict(), "effective_robustness_by_group": zoo_means,
                            "n_models": len(zoo_points), "train_sizes": zoo_train_sizes}

# %% [markdown]
# ### CIFAR-10 test sets
#
# The same analysis applies to CIFAR-10 models on the original test set and on a new one.
# Two sources can feed it: the published predictions of about 30 CIFAR-10 models on
# CIFAR-10.1 {cite}`recht2018cifar` (this needs the canonical CIFAR-10 test labels in their
# original order, which the offline JPEG copy lacks), and the zoo that chapter 2 evaluates on
# its rebuilt test set (a `gpu` run).

# %%
cifar_analyses = {}
try:
    orig = data.cifar101_predictions("original")
    new = data.cifar101_predictions("v6")
    if orig.labels is None:
        notes.show_note(f"CIFAR-10 vs CIFAR-10.1 is skipped: {orig.note}.", title="Section skipped")
    else:
        acc_o, acc_n = orig.accuracy(), new.accuracy()
        both = acc_o.index.intersection(acc_n.index)
        pts = pd.DataFrame({"x": 100 * acc_o[both], "y": 100 * acc_n[both], "group": "standard", "kind": "published"})
        cifar_analyses["cifar10.1-v6"] = er.analyze_points(
            pts, er.Shift("cifar10.1-v6", "CIFAR-10 -> CIFAR-10.1 v6", "natural", "original", ("v6",)),
            n_boot=n_boot, seed=seed)
        sources["cifar10.1"] = "CIFAR-10.1 v6 published model predictions (Recht et al. 2018)"
except (data.DataUnavailable, data.DataCorrupt) as err:
    notes.show_missing(err, "CIFAR-10 vs CIFAR-10.1")

nb02 = results.results_root() / "gpu" / "02_rebuilding_a_test_set.json"
nb02_record = json.loads(nb02.read_text()) if nb02.exists() else {}
if isinstance(nb02_record.get("model_accuracies"), dict):
    accs = pd.DataFrame(nb02_record["model_accuracies"]).T
    pts = pd.DataFrame({"x": accs["original"].astype(float), "y": accs["rebuilt"].astype(float),
                        "group": "standard", "kind": "zoo"})
    cifar_analyses["cifar10-rebuilt"] = er.analyze_points(
        pts, er.Shift("cifar10-rebuilt", "CIFAR-10 -> rebuilt test set (chapter 2)", "natural", "original",
                      ("rebuilt",)), n_boot=n_boot, seed=seed)
    sources["cifar10-rebuilt"] = f"chapter 2 gpu results ({nb02_record.get('data_source', 'unknown source')})"
else:
    notes.show_note("The CIFAR-10 zoo on chapter 2's rebuilt test set needs chapter 2's `gpu` results "
                    "(results/gpu/02_rebuilding_a_test_set.json with per-model accuracies under "
                    "`model_accuracies`), which are not available in this checkout.", title="Section skipped")

for name, res in cifar_analyses.items():
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    er.plot_shift(ax, res, x_label="original CIFAR-10 test accuracy (%, probit scale)",
                  y_label="new test set accuracy (%, probit scale)", size=24)
    plots.source_caption(fig, sources["cifar10.1" if name == "cifar10.1-v6" else "cifar10-rebuilt"])
    plt.show()
    figures[name] = res.fit.as_dict()

# %% [markdown]
# ## Summary
#
# * On natural shifts, standard models lie on a probit-scaled line of shifted vs original
#   accuracy, with $r^2$ close to 1 for most shifts: the drop on a new test set is
#   predictable from the original accuracy.
# * Robustness interventions mostly move models *along* that line on natural shifts; their
#   gains on ImageNet-C and under PGD do not carry over.
# * Models pre-trained on more, more diverse data are the ones that rise above the line, on
#   most shifts by a few points; closing the gap to $y = x$ is still far away.

# %%
if analyses:
    figures["shifts"] = {name: res.fit.as_dict() for name, res in analyses.items()}
    figures["effective_robustness_by_group"] = er_natural.loc["mean over natural shifts"].to_dict()
    figures["effective_robustness_by_group_per_shift"] = {
        s: er_natural.loc[s].dropna().to_dict() for s in natural_shifts}
    figures["effective_robustness_by_group_median"] = er_median.mean().to_dict()
    figures["effective_robustness_by_group_synthetic"] = {
        s: er_synthetic.loc[s].dropna().to_dict() for s in synthetic_shifts}
    figures["natural_shifts"] = natural_shifts
figures["n_boot"] = n_boot
figures["fit_min_accuracy"] = fit_min_accuracy
path = run.save(figures, data_source=sources or "none (testbed, MNIST and CIFAR-10.1 all unavailable)")
print(f"results written to results/{profile}/{path.name} after {run.wall_seconds:.1f} s")
