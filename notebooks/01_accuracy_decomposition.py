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
# # 1. Where does the accuracy drop come from?
#
# When ImageNet models were evaluated on ImageNetV2, a new test set collected by following the
# original recipe, their top-1 accuracy fell by 11 to 14 points {cite}`recht2019imagenet`.
# A drop like this has three possible sources. Write $S$ for the original test set, $D$ for the
# distribution it was sampled from, $D'$ for the distribution of the new test set and $S'$
# for the new test set itself. Then, for any model,
#
# $$
# \underbrace{\mathrm{acc}(S) - \mathrm{acc}(S')}_{\text{observed drop}} =
# \underbrace{\mathrm{acc}(S) - \mathrm{acc}(D)}_{\text{adaptive overfitting}} +
# \underbrace{\mathrm{acc}(D) - \mathrm{acc}(D')}_{\text{distribution shift}} +
# \underbrace{\mathrm{acc}(D') - \mathrm{acc}(S')}_{\text{sampling error}} .
# $$
#
# *Adaptive overfitting*: years of choosing models by their score on $S$ may have made
# $\mathrm{acc}(S)$ optimistic. *Distribution shift*: the new test set may come from a
# subtly different population. *Sampling error*: a finite test set measures accuracy only
# up to noise.
#
# **You will learn** to measure each of the three terms: exact intervals for sampling error;
# rebuilt MNIST test sets from MNIST's own writers, one matched and two deliberately
# shifted; simulations of test-set reuse, from an analyst picking the best of $k$ models to a
# worst-case attack; and why models that agree with each other are hard to overfit with.
# The chapter ends with the real ImageNet numbers.
#
# **Compute.** `smoke`: a handful of tiny models on 3,000 digits and small simulations (well
# under a minute on 2 CPU cores). `cpu`: a zoo of 21 models trained on 10,000 MNIST digits
# and full-size simulations, within the 5-minute budget on 2 cores.
# `gpu`: a zoo of 27 MNIST models on all training writers, plus a 25-model CIFAR-10 zoo
# (the same code as `python -m reliable_ml.experiments.zoo --profile gpu`).

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu
seed = 0
n_train = 0  # MNIST training digits for the zoo; 0: by profile (smoke 3,000, cpu 10,000, gpu all)
heldout_per_population = 0  # digits of held-out writers per population; 0: by profile
n_rebuilt = 0  # size of each rebuilt test set; 0: by profile
n_trials = 0  # random repetitions of the resampling and best-of-k experiments; 0: by profile
attack_n = 0  # holdout size of the worst-case attack; 0: by profile
public_fraction = 0.3  # share of the test set on the public leaderboard
alpha = 0.05  # intervals are (1 - alpha) intervals

# %%
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

import reliable_ml
from reliable_ml import adaptive, data, notes, plots, similarity, stats, writers, zoo
from reliable_ml.experiments import zoo as zoo_experiment
from reliable_ml.profiles import pick

run = reliable_ml.start("01_accuracy_decomposition", profile, seed=seed)
plots.use_style()
n_train = n_train or pick(profile, smoke=3_000, cpu=10_000, gpu=60_000)
heldout_per_population = heldout_per_population or pick(profile, smoke=1_500, cpu=5_000, gpu=5_000)
n_rebuilt = n_rebuilt or pick(profile, smoke=1_000, cpu=5_000, gpu=5_000)
n_trials = n_trials or pick(profile, smoke=100, cpu=1_000, gpu=2_000)
attack_n = attack_n or pick(profile, smoke=500, cpu=4_000, gpu=10_000)
zoo_names = zoo.zoo_names(pick(profile, smoke="smoke", cpu="mnist-cpu", gpu="mnist-gpu"))
level = f"{100 * (1 - alpha):.0f}%"
figures: dict = {}
sources: dict = {}


def pts(frac) -> float:
    """A fraction as accuracy points (percent), rounded for the results file."""
    return round(100 * float(frac), 3)


# %% [markdown]
# ## 1. Sampling error: how precise is a test set of size n?
#
# A test set of $n$ examples drawn i.i.d. from $D$ gives $k$ correct predictions with
# $k \sim \mathrm{Binomial}(n, \mathrm{acc}(D))$. Two ways to turn this into an interval:
#
# * the **Clopper–Pearson** interval inverts the binomial distribution exactly; it is never
#   too narrow (coverage $\ge 1-\alpha$ for every true accuracy);
# * the **Hoeffding** bound $P(|\hat a - a| \ge t) \le 2e^{-2nt^2}$ gives the half-width
#   $t = \sqrt{\log(2/\alpha) / 2n}$ for any bounded loss. It ignores the accuracy
#   itself, so it is the worst case, reached near 50% accuracy.
#
# Both shrink like $1/\sqrt{n}$: four times the data halves the interval.

# %%
ns = np.unique(np.logspace(2, 5, 40).astype(int))
fig, ax = plt.subplots()
for acc_ref, style in ((0.5, "-"), (0.75, "--"), (0.98, ":")):
    lo, hi = stats.clopper_pearson(np.round(acc_ref * ns), ns, alpha)
    ax.plot(ns, 100 * (hi - lo) / 2, style, label=f"Clopper–Pearson, accuracy {100 * acc_ref:.0f}%")
ax.plot(ns, 100 * stats.hoeffding_halfwidth(ns, alpha), color="k", label="Hoeffding (any accuracy)")
ax.set(xscale="log", yscale="log", xlabel="test-set size n (examples)",
       ylabel=f"{level} interval half-width (accuracy points)",
       title="Sampling error shrinks like 1/sqrt(n)")
ax.legend()
plots.source_caption(fig, "exact binomial computation (no data)")
plt.show()
lo, hi = stats.clopper_pearson(5_000, 10_000, alpha)
display(Markdown(f"At $n$ = 10,000, the size of the MNIST, CIFAR-10 and ImageNetV2 test sets, the exact "
                 f"{level} interval at 50% accuracy is {100 * (hi - lo):.2f} points wide "
                 f"(Hoeffding: ±{100 * stats.hoeffding_halfwidth(10_000, alpha):.2f} points)."))

# %% [markdown]
# ## 2. A model zoo on MNIST, with writers held out
#
# To measure the other two terms we need many models and test sets whose provenance we
# control. MNIST {cite}`lecun1998gradient` was written by two populations: US Census Bureau
# employees and high-school students. The QMNIST reconstruction {cite}`yadav2019cold`
# recovered the writer and population of every MNIST digit. Its metadata lets us hold out
# whole *writers* from the MNIST training split: the models never see them, so their digits
# can serve as new test sets.
#
# We hold out writers from each population, train the zoo on (a subset of) the remaining
# training digits, and keep the original MNIST test set as $S$.

# %%
mnist_train = data.load_images("mnist", "train", fallback=True)
mnist_test = data.load_images("mnist", "test", fallback=True)
notes.show_fallback(mnist_train.info)
source = mnist_test.info.source
sources["zoo"] = source
meta_train = meta_test = split = None
if mnist_train.info.fallback_from:
    notes.show_note("The rebuilt test sets need the writer of every MNIST digit; the fallback digits have no "
                    "writer metadata, so section 3 is skipped.", kind="warning", title="Section skipped")
else:
    try:
        meta_train = data.qmnist_metadata("train", download=False)
        meta_test = data.qmnist_metadata("test", download=False)
        split = writers.holdout_writers(meta_train, heldout_per_population, seed=seed)
        sources["writers"] = f"{source} + QMNIST writer metadata (Yadav & Bottou 2019)"
    except data.DataUnavailable as err:
        notes.show_missing(err, "rebuilt test sets from MNIST writers")

rng = np.random.default_rng(seed)
train_rows = np.arange(mnist_train.info.n) if split is None else split.train
train_rows = np.sort(rng.choice(train_rows, min(n_train, len(train_rows)), replace=False))
if split is not None:
    held_pop = meta_train["population"].to_numpy()[split.heldout]
    display(pd.DataFrame({
        "writers": [len(np.unique(meta_train["writer_id"].to_numpy()[train_rows])), len(split.heldout_writers)],
        "digits": [len(train_rows), len(split.heldout)],
        "employee digits (%)": [100 * np.mean(meta_train["population"].to_numpy()[train_rows] == "employee"),
                                100 * np.mean(held_pop == "employee")],
    }, index=["zoo training set", "held-out writers"]).round(1))

# %%
dev = run.device
x_train = mnist_train.x[train_rows].to(dev)
y_train = mnist_train.y[train_rows].to(dev)
trained = zoo.train_zoo(zoo_names, x_train, y_train, n_classes=len(mnist_train.info.classes), seed=seed)
train_seconds = sum(t.seconds for t in trained.values())
pred_S = torch.stack(list(zoo.predict_zoo(trained, mnist_test.x).values())).numpy()  # (m, N_S)
correct_S = pred_S == mnist_test.y.numpy()[None, :]
acc_S = correct_S.mean(1)
members = list(trained)
lo_S, hi_S = stats.clopper_pearson(correct_S.sum(1), correct_S.shape[1], alpha)
zoo_table = pd.DataFrame({"architecture": [trained[m].spec.arch for m in members],
                          "epochs": [trained[m].spec.epochs for m in members],
                          "augmented": [trained[m].spec.augment for m in members],
                          "train s": [round(trained[m].seconds, 1) for m in members],
                          "acc(S) %": 100 * acc_S, f"{level} CI low": 100 * lo_S, f"{level} CI high": 100 * hi_S},
                         index=pd.Index(members, name="member")).sort_values("acc(S) %")
display(zoo_table.round(2))
display(Markdown(f"The zoo has **{len(members)} models**, trained on {len(train_rows):,} digits in "
                 f"{train_seconds:.0f} s ({reliable_ml.device_name(dev)}). Accuracy on the MNIST test set "
                 f"$S$ ranges from {100 * acc_S.min():.1f}% to {100 * acc_S.max():.1f}%."))
figures["zoo_size"] = len(members)
figures["zoo_train_seconds"] = round(train_seconds, 1)
figures["zoo_accuracy"] = {m: pts(a) for m, a in zip(members, acc_S)}

# %% [markdown]
# ### Does the observed spread match the interval?
#
# Take one model (the zoo's median) and treat its correctness on all of $S$ as the
# population. Draw many random test sets of size $n$ from it, without replacement, and
# compute each one's accuracy and Clopper–Pearson interval. If the interval is right, at
# least 95% of the intervals contain the population accuracy, and the spread of the drawn
# accuracies matches the interval's width.

# %%
ref = members[int(np.argsort(acc_S)[len(members) // 2])]
ref_correct = correct_S[members.index(ref)]
rows, draws = [], {}
for n in [n for n in pick(profile, smoke=(100, 500), cpu=(100, 500, 2_000), gpu=(100, 500, 2_000))
          if n <= len(ref_correct) // 2]:
    accs = stats.resample_accuracies(ref_correct, n, n_trials, seed=seed, replace=False)
    k = np.round(accs * n).astype(int)
    lo, hi = stats.clopper_pearson(k, n, alpha)
    lo_mid, hi_mid = stats.clopper_pearson(int(round(ref_correct.mean() * n)), n, alpha)
    draws[n] = accs
    rows.append({"n": n, "middle 95% of drawn accuracies (points)": 100 * np.subtract(*np.quantile(accs, [0.975, 0.025])),
                 "Clopper–Pearson width (points)": 100 * (hi_mid - lo_mid),
                 "Hoeffding width (points)": 200 * stats.hoeffding_halfwidth(n, alpha),
                 "coverage of CP intervals (%)": 100 * np.mean((lo <= ref_correct.mean()) & (ref_correct.mean() <= hi))})
display(pd.DataFrame(rows).set_index("n").round(2))

fig, ax = plt.subplots()
for n, accs in draws.items():
    ax.hist(100 * accs, bins=40, histtype="step", density=True, label=f"n = {n:,}")
    lo, hi = stats.clopper_pearson(int(round(ref_correct.mean() * n)), n, alpha)
    ax.axvspan(100 * lo, 100 * hi, alpha=0.08, color=ax.patches[-1].get_edgecolor())
ax.axvline(100 * ref_correct.mean(), color="k", lw=1, label=f"accuracy on all of S ({100 * ref_correct.mean():.2f}%)")
ax.set(xlabel="accuracy on a random test set of size n (%)", ylabel="density (1 / accuracy point)",
       title=f"{ref} on {n_trials:,} random subsets of the {source} test set")
ax.legend()
plots.source_caption(fig, source, f"shaded: {level} Clopper–Pearson interval at each n")
plt.show()
lo, hi = stats.clopper_pearson(int(correct_S[members.index(ref)].sum()), correct_S.shape[1], alpha)
ci_width_n10000 = 100 * (hi - lo) if correct_S.shape[1] == 10_000 else None
figures["sampling_reference_model"] = ref
figures["ci_width_n10000"] = None if ci_width_n10000 is None else round(ci_width_n10000, 3)
figures["resampling"] = {r["n"]: {k: round(float(v), 3) for k, v in r.items() if k != "n"} for r in rows}

# %% [markdown]
# The drawn accuracies spread over about the width the interval predicts, and the intervals
# cover the population accuracy at least 95% of the time (Clopper–Pearson is conservative).
# Hoeffding's bound is much wider at high accuracy: it does not use the fact that the
# variance $a(1-a)/n$ is small when $a$ is near 1.

# %% [markdown]
# ## 3. Rebuilt test sets: matched and shifted
#
# From the held-out writers we draw three new test sets of equal size:
#
# * **matched**: the same population mix as $S$ (half employees, half students). Writers
#   are new, the distribution is the same, so any drop beyond sampling error would be a
#   shift we failed to notice;
# * **employees only** and **students only**: deliberate distribution shifts. Employees'
#   digits are known to be neater than students' {cite}`yadav2019cold`.
#
# For each model we compare accuracy on $S$ with accuracy on each new set. The test sets are
# disjoint and independent. If every digit were an independent draw, the drop
# $\mathrm{acc}(S) - \mathrm{acc}(S')$ would get Newcombe's interval for a difference of two
# proportions (`stats.difference_interval`). But a test set is a sample of *writers*, each
# contributing many correlated digits, so we also resample whole writers
# (`stats.cluster_bootstrap_difference`): the honest sampling error of a rebuilt test set.

# %%
rebuilt_acc, drops = {}, None
if split is not None:
    test_mix = meta_test["population"].value_counts(normalize=True).to_dict()
    sets = writers.rebuilt_test_sets(meta_train, split.heldout, test_mix, n_rebuilt, seed=seed)
    drop_rows = []
    for name, rows_idx in sets.items():
        x_new, y_new = mnist_train.x[rows_idx], mnist_train.y[rows_idx].numpy()
        correct_new = torch.stack(list(zoo.predict_zoo(trained, x_new).values())).numpy() == y_new[None, :]
        rebuilt_acc[name] = correct_new.mean(1)
        d_lo, d_hi = stats.difference_interval(correct_S.sum(1), correct_S.shape[1], correct_new.sum(1), len(rows_idx), alpha)
        w_lo, w_hi = stats.cluster_bootstrap_difference(
            correct_S, meta_test["writer_id"].to_numpy(), correct_new, meta_train["writer_id"].to_numpy()[rows_idx],
            alpha=alpha, seed=seed)
        for i, m in enumerate(members):
            drop_rows.append({"test set": name, "member": m, "acc(S) %": 100 * acc_S[i],
                              "acc(S') %": 100 * rebuilt_acc[name][i], "drop (points)": 100 * (acc_S[i] - rebuilt_acc[name][i]),
                              "drop CI low": 100 * d_lo[i], "drop CI high": 100 * d_hi[i],
                              "writer CI low": 100 * w_lo[i], "writer CI high": 100 * w_hi[i]})
    drops = pd.DataFrame(drop_rows)
    excludes_zero = (drops["drop CI low"] > 0) | (drops["drop CI high"] < 0)
    excludes_zero_writers = (drops["writer CI low"] > 0) | (drops["writer CI high"] < 0)
    summary = pd.DataFrame({
        "mean drop (points)": drops.groupby("test set", sort=False)["drop (points)"].mean(),
        "models whose drop CI excludes 0 (digits iid)": excludes_zero.groupby(drops["test set"], sort=False).sum(),
        "... (writers resampled)": excludes_zero_writers.groupby(drops["test set"], sort=False).sum(),
        "models": len(members)})
    display(summary.round(2))

# %%
if split is not None:
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    n_S = correct_S.shape[1]
    for name, marker in zip(sets, ("o", "^", "v")):
        acc_new = rebuilt_acc[name]
        lo_new, hi_new = stats.clopper_pearson(np.round(acc_new * n_rebuilt), n_rebuilt, alpha)
        fit = stats.probit_linear_fit(acc_S, acc_new) if len(members) >= 3 else None
        label = f"{name} (n = {n_rebuilt:,})" + (f", probit fit r² = {fit.r2:.2f}" if fit else "")
        ax.errorbar(100 * acc_S, 100 * acc_new, yerr=[100 * (acc_new - lo_new), 100 * (hi_new - acc_new)],
                    xerr=[100 * (acc_S - lo_S), 100 * (hi_S - acc_S)], fmt=marker, ms=4, lw=0.8, label=label)
        if fit:
            grid = np.linspace(acc_S.min(), acc_S.max(), 100)
            ax.plot(100 * grid, 100 * fit.predict(grid), lw=1, color=ax.lines[-1].get_color())
    plots.identity_line(ax)
    ax.set(xlabel=f"accuracy on the MNIST test set S (%, n = {n_S:,})",
           ylabel="accuracy on the rebuilt test set S' (%)",
           title=f"Rebuilt test sets from held-out MNIST writers ({level} intervals)")
    ax.legend(loc="upper left")
    plots.source_caption(fig, sources["writers"], "lines: linear fits on the probit scale")
    plt.show()

# %%
if split is not None:
    best = int(np.argmax(acc_S))
    key = {r["test set"]: r for r in drops[drops["member"] == members[best]].to_dict("records")}
    shift_name = max(("employees", "students"), key=lambda s: key[s]["drop (points)"])
    figures["reference_model"] = members[best]
    figures["matched_drop"] = round(key["matched"]["drop (points)"], 3)
    figures["matched_drop_ci"] = [round(key["matched"]["writer CI low"], 3), round(key["matched"]["writer CI high"], 3)]
    figures["matched_drop_ci_iid"] = [round(key["matched"]["drop CI low"], 3), round(key["matched"]["drop CI high"], 3)]
    figures["drop_ci_method"] = "writer-cluster bootstrap (iid Newcombe interval under *_ci_iid)"
    figures["shifted_set"] = shift_name
    figures["shifted_drop"] = round(key[shift_name]["drop (points)"], 3)
    figures["shifted_drop_ci"] = [round(key[shift_name]["writer CI low"], 3), round(key[shift_name]["writer CI high"], 3)]
    figures["shifted_drop_ci_iid"] = [round(key[shift_name]["drop CI low"], 3), round(key[shift_name]["drop CI high"], 3)]
    figures["models_drop_ci_excludes_zero"] = {
        "digits iid": {k: int(v) for k, v in summary["models whose drop CI excludes 0 (digits iid)"].items()},
        "writers resampled": {k: int(v) for k, v in summary["... (writers resampled)"].items()}}
    other = "employees" if shift_name == "students" else "students"
    figures["other_shifted_drop"] = {"set": other, "drop": round(key[other]["drop (points)"], 3),
                                     "ci": [round(key[other]["writer CI low"], 3), round(key[other]["writer CI high"], 3)]}
    figures["mean_drop"] = {k: round(float(v), 3) for k, v in summary["mean drop (points)"].items()}
    display(Markdown(
        f"For the zoo's best model on $S$ (`{members[best]}`, {100 * acc_S[best]:.2f}%), the drop to the "
        f"**matched** set is {key['matched']['drop (points)']:+.2f} points ({level} interval resampling writers "
        f"[{key['matched']['writer CI low']:+.2f}, {key['matched']['writer CI high']:+.2f}]; treating digits as "
        f"independent: [{key['matched']['drop CI low']:+.2f}, {key['matched']['drop CI high']:+.2f}]); to the "
        f"**{shift_name}-only** set it is {key[shift_name]['drop (points)']:+.2f} points "
        f"([{key[shift_name]['writer CI low']:+.2f}, {key[shift_name]['writer CI high']:+.2f}]), and to the "
        f"**{other}-only** set {key[other]['drop (points)']:+.2f} points "
        f"([{key[other]['writer CI low']:+.2f}, {key[other]['writer CI high']:+.2f}]) — negative means the new set "
        f"is *easier*."))
else:
    figures.update(matched_drop=None, matched_drop_ci=None, shifted_drop=None, shifted_drop_ci=None)

# %% [markdown]
# **How to read this.** If a drop's interval contains zero, the new test set costs nothing
# beyond sampling error: fresh writers from the same populations are no harder than the
# original test set, which was therefore neither overfit by our zoo nor special. A drop whose
# interval excludes zero for most models, all in the same direction, is a distribution
# shift: here, a change of *who* wrote the digits. The table counts, per test set, how many
# models' intervals exclude zero, and the figure shows whether the points of each test set
# lie close to a line (the probit fits): a shift that acts on all models alike is the pattern
# seen on ImageNetV2 and CIFAR-10.1 {cite}`recht2019imagenet` and, for many more shifts,
# "accuracy on the line" {cite}`miller2021accuracy`. Compare the two interval columns: digits
# by the same writer are correlated, so intervals that treat digits as independent are too
# narrow and find "significant" drops where resampling writers does not. A small residual
# drop on fresh writers would not be new either: LeNet-5's error rises from 0.82% on the MNIST
# test set to 1.08% on QMNIST's 50,000 reconstructed "lost" test digits {cite}`yadav2019cold`.

# %% [markdown]
# ## 4. Adaptive overfitting: what does reusing a test set cost?
#
# ### (a) The best of k models
#
# An analyst trains $k$ models, evaluates all of them on a holdout of $n$ examples and
# reports the best holdout score. How optimistic is that score compared with the same
# model's accuracy on fresh data? We repeat the choice many times, each time splitting $S$
# at random into a holdout and a fresh part and drawing $k$ zoo members at random. For
# comparison we run the same experiment on *simulated* models with the zoo's accuracies but
# independent errors (labelled as simulation in the figure).

# %%
n_hold = min(pick(profile, smoke=500, cpu=1_000, gpu=1_000), correct_S.shape[1] // 2)
ks = [k for k in (1, 2, 3, 5, 8, 12, 16, 20, 25) if k <= len(members)]
opt_zoo = adaptive.best_of_k_optimism(correct_S, n_hold, ks, n_trials=n_trials, seed=seed)
sim_correct = adaptive.independent_correct(acc_S, correct_S.shape[1], seed=seed)
opt_sim = adaptive.best_of_k_optimism(sim_correct, n_hold, ks, n_trials=n_trials, seed=seed)

# Same experiment restricted to the zoo's most accurate half: models a real analyst would compare.
top = np.argsort(acc_S)[len(members) // 2:]
ks_top = [k for k in ks if k <= len(top)]
opt_top = adaptive.best_of_k_optimism(correct_S[top], n_hold, ks_top, n_trials=n_trials, seed=seed)
opt_top_sim = adaptive.best_of_k_optimism(sim_correct[top], n_hold, ks_top, n_trials=n_trials, seed=seed)

fig, ax = plt.subplots()
for frame, label, style in ((opt_zoo, "zoo (all members)", "o-"), (opt_sim, "simulated independent errors (all)", "o--"),
                            (opt_top, "zoo (top half)", "s-"), (opt_top_sim, "simulated independent errors (top half)", "s--")):
    mean, se = 100 * frame.mean(), 100 * frame.std() / np.sqrt(len(frame))
    ax.errorbar(frame.columns, mean, yerr=1.96 * se, fmt=style, ms=4, capsize=2, label=label)
ax.axhline(0, color="0.4", lw=1)
ax.set(xlabel="number of models compared on the holdout, k",
       ylabel="optimism: holdout - fresh accuracy (points)",
       title=f"Best-of-k selection on a holdout of n = {n_hold:,} ({source})")
ax.legend()
plots.source_caption(fig, source, f"{n_trials:,} random splits per k; bars: 95% interval of the mean")
plt.show()
figures["best_of_k_holdout_n"] = n_hold
figures["best_of_k_optimism"] = {int(k): round(100 * float(v), 4) for k, v in opt_zoo.mean().items()}
figures["best_of_k_optimism_top_half"] = {int(k): round(100 * float(v), 4) for k, v in opt_top.mean().items()}
figures["best_of_k_optimism_independent_sim"] = {int(k): round(100 * float(v), 4) for k, v in opt_sim.mean().items()}
k_max = ks_top[-1]
display(Markdown(
    f"Choosing the best of {ks[-1]} zoo models inflates the holdout score by "
    f"{100 * opt_zoo[ks[-1]].mean():.2f} points on average; among the top half, the best of {k_max} by "
    f"{100 * opt_top[k_max].mean():.2f} points, against {100 * opt_top_sim[k_max].mean():.2f} points for "
    f"simulated models with the same accuracies and independent errors. The {level} Clopper–Pearson half-width at "
    f"n = {n_hold:,} and the top accuracy is "
    f"{50 * np.subtract(*stats.clopper_pearson(round(acc_S.max() * n_hold), n_hold, alpha)[::-1]):.2f} points."))

# %% [markdown]
# ### (b) The worst case: boosting against the holdout
#
# Selection among a few fixed models is benign. A determined adversary can do much worse
# {cite}`blum2015ladder,dwork2015reusable`. Give each of $n$ holdout points a random label
# $\pm 1$: nothing can be learned. Submit $q$ random $\pm 1$ classifiers, keep those that
# score above 50% on the holdout, and submit their majority vote. Each query leaks a
# little about the holdout labels; the vote adds it up. This is a **simulation** (random
# labels, random classifiers), the worst case for test-set reuse.

# %%
queries = np.unique(np.geomspace(10, 2 * attack_n, 12).astype(int))
curve = adaptive.boosting_attack(attack_n, queries, seed=seed)
lo, hi = stats.clopper_pearson(attack_n // 2, attack_n, alpha)
fig, ax = plt.subplots()
ax.plot(curve.queries, 100 * curve.holdout_acc, "o-", label=f"holdout (n = {attack_n:,})")
ax.plot(curve.queries, 100 * curve.fresh_acc, "s-", label=f"fresh points (n = {curve.n_fresh:,})")
ax.axhspan(100 * lo, 100 * hi, color="0.5", alpha=0.2, label=f"{level} sampling interval at 50%")
ax.set(xscale="log", xlabel="number of adaptive queries q", ylabel="accuracy of the majority vote (%)",
       title="Worst-case adaptive attack on a holdout of random labels")
ax.legend()
plots.source_caption(fig, "simulation: random +-1 labels and random classifiers",
                     "after Blum & Hardt 2015 and Dwork et al. 2015")
plt.show()
gap = curve.holdout_acc[-1] - curve.fresh_acc[-1]
halfwidth = (hi - lo) / 2
figures["worst_case_adaptive_gap"] = pts(gap)
figures["worst_case_adaptive"] = {"n_holdout": attack_n, "queries": int(curve.queries[-1]),
                                  "holdout_acc": pts(curve.holdout_acc[-1]), "fresh_acc": pts(curve.fresh_acc[-1]),
                                  "sampling_halfwidth": pts(halfwidth), "gap_over_halfwidth": round(gap / halfwidth, 2)}
display(Markdown(
    f"After {curve.queries[-1]:,} queries the vote scores {100 * curve.holdout_acc[-1]:.1f}% on the holdout and "
    f"{100 * curve.fresh_acc[-1]:.1f}% on fresh points: a gap of {100 * gap:.1f} points, "
    f"{gap / halfwidth:.1f} times the {level} sampling half-width ({100 * halfwidth:.2f} points) at the same n."))

# %% [markdown]
# ### (c) A Kaggle-style leaderboard
#
# In a Kaggle competition, submissions are scored on a *public* part of the test set during
# the competition and on the *private* rest at the end. Teams see the public score, so the
# public part is reused adaptively. Roelofs et al. {cite}`roelofs2019meta` compared public
# and private scores in over one hundred competitions and found "little evidence of
# substantial overfitting". We build a leaderboard from the zoo: each submission is one
# model or a majority vote of a random 3 or 5 of them, split $S$ into public and private
# parts, and let each of several "teams" keep its best public submission.

# %%
n_ens = pick(profile, smoke=30, cpu=200, gpu=300)
sizes = [s for s in (3, 5) if s <= len(members)]
subs = np.concatenate([pred_S] + [adaptive.vote_ensembles(pred_S, n_ens // len(sizes), s, len(mnist_test.info.classes),
                                                          seed=seed + s)
                                  for s in sizes])
correct_subs = subs == mnist_test.y.numpy()[None, :]
board, public_mask = adaptive.leaderboard(correct_subs, public_fraction, seed=seed)
team = np.random.default_rng(seed).integers(0, max(2, len(board) // 10), len(board))
chosen = board.assign(team=team).groupby("team")["public"].idxmax()
sel = board.loc[chosen]
fig, ax = plt.subplots()
ax.scatter(100 * board["public"], 100 * board["private"], s=8, alpha=0.5, label="all submissions")
ax.scatter(100 * sel["public"], 100 * sel["private"], s=25, marker="*", color="C3", label="each team's best public")
plots.identity_line(ax)
ax.set(xlabel=f"public leaderboard accuracy (%, n = {int(public_mask.sum()):,})",
       ylabel=f"private leaderboard accuracy (%, n = {int((~public_mask).sum()):,})",
       title=f"Public vs private scores of {len(board)} zoo submissions")
ax.legend(loc="upper left")
plots.source_caption(fig, source, "submissions: zoo members and majority votes of random members")
plt.show()
fit_lb = stats.probit_linear_fit(board["public"], board["private"])
figures["leaderboard"] = {"submissions": len(board), "teams": int(len(sel)),
                          "selected_mean_public_minus_private": pts((sel["public"] - sel["private"]).mean()),
                          "all_mean_public_minus_private": pts((board["public"] - board["private"]).mean()),
                          "probit_r2": round(fit_lb.r2, 4)}
display(Markdown(
    f"Across all {len(board)} submissions, public minus private averages "
    f"{100 * (board['public'] - board['private']).mean():+.2f} points; for the {len(sel)} submissions that teams "
    f"selected by their public score it averages {100 * (sel['public'] - sel['private']).mean():+.2f} points."))

# %%
display(Markdown(
    f"**What overfits and what doesn't.** Picking the best of {ks[-1]} models by their score on a holdout of "
    f"{n_hold:,} added {100 * opt_zoo[ks[-1]].mean():.2f} points of optimism. Leaderboard submissions that are "
    f"real models scored {100 * (sel['public'] - sel['private']).mean():+.2f} points better on the public part "
    f"than on the private part after each team's selection. The deliberate attack, exploiting the holdout's "
    f"feedback with {curve.queries[-1]:,} queries, opened a gap of {100 * gap:.1f} points. Ordinary model "
    f"development looks like the first two, not the third: that is the main reason large drops on new test "
    f"sets are not explained by adaptive overfitting, as the Kaggle meta-analysis also concluded. "
    f"The next section shows one "
    f"reason why ordinary reuse is so benign."))

# %% [markdown]
# ## 5. Models are similar, and similar models overfit less
#
# If two models made their mistakes independently, they would agree on an example when both
# are right, or both are wrong *and* pick the same wrong class. With accuracies $a_i, a_j$
# and wrong answers spread uniformly over the $C - 1$ wrong classes, the expected agreement
# is $a_i a_j + (1-a_i)(1-a_j)/(C-1)$. Mania et al. {cite}`mania2019model` found that real
# ImageNet models agree far more than this. Similar models give an analyst fewer truly
# different options, which shrinks the room for adaptive overfitting: selecting the best
# of $k$ near-copies is almost like selecting among one.

# %%
agree_zoo = similarity.agreement_matrix(pred_S)
indep_zoo = similarity.independent_agreement(acc_S, len(mnist_test.info.classes))
figures["zoo_agreement"] = round(similarity.mean_off_diagonal(agree_zoo), 4)
figures["independent_agreement"] = round(similarity.mean_off_diagonal(indep_zoo), 4)
similar_sets = {"MNIST zoo": (agree_zoo, indep_zoo, source)}
v2_models: set[str] = set()
try:
    v2 = data.imagenetv2_predictions("matched-frequency", download=False)
    top1 = np.stack([p[:, 0] for p in v2.top5.values()])  # (67, N)
    acc_v2 = (top1 == v2.labels[None, :]).mean(1)
    agree_v2 = similarity.agreement_matrix(top1)
    indep_v2 = similarity.independent_agreement(acc_v2, 1000)
    similar_sets[f"{len(top1)} ImageNet models"] = (agree_v2, indep_v2, "ImageNetV2 MatchedFrequency predictions")
    v2_models = set(v2.top5)
    sources["imagenetv2"] = "ImageNetV2 MatchedFrequency top-5 predictions (Recht et al. 2019)"
    figures["imagenetv2_agreement"] = round(similarity.mean_off_diagonal(agree_v2), 4)
    figures["imagenetv2_independent_agreement"] = round(similarity.mean_off_diagonal(indep_v2), 4)
except data.DataUnavailable as err:
    notes.show_missing(err, "ImageNetV2 model similarity")
    figures["imagenetv2_agreement"] = figures["imagenetv2_independent_agreement"] = None

fig, axes = plt.subplots(1, len(similar_sets), figsize=(5.2 * len(similar_sets), 4.4), squeeze=False)
for ax, (name, (obs, ind, src)) in zip(axes.flat, similar_sets.items()):
    iu = np.triu_indices(len(obs), 1)
    ax.scatter(100 * ind[iu], 100 * obs[iu], s=5, alpha=0.4)
    plots.identity_line(ax)
    ax.set(xlabel="agreement expected under independent errors (%)", ylabel="observed agreement (%)",
           title=f"{name}: pairs of models\n({src})")
    ax.legend(loc="upper left")
plots.source_caption(fig, "; ".join(s for _, _, s in similar_sets.values()))
plt.show()
display(pd.DataFrame({name: {"mean observed agreement (%)": 100 * similarity.mean_off_diagonal(o),
                             "mean agreement if independent (%)": 100 * similarity.mean_off_diagonal(i)}
                      for name, (o, i, _) in similar_sets.items()}).round(2))

# %%
above = {name: 100 * np.mean(o[np.triu_indices(len(o), 1)] > i[np.triu_indices(len(o), 1)])
         for name, (o, i, _) in similar_sets.items()}
display(Markdown(
    "Share of model pairs that agree more than independent errors would imply: "
    + "; ".join(f"{name}: {share:.0f}%" for name, share in above.items()) + ". "
    f"The best-of-k experiment measured the consequence: among the zoo's top half, the best of {k_max} was "
    f"optimistic by {100 * opt_top[k_max].mean():.2f} points for the real (similar) models and by "
    f"{100 * opt_top_sim[k_max].mean():.2f} points for simulated models with the same accuracies and "
    f"independent errors."))
figures["pairs_above_independent_pct"] = {name: round(v, 1) for name, v in above.items()}

# %% [markdown]
# ## 6. The real thing: ImageNet and ImageNetV2
#
# The testbed of Taori et al. {cite}`taori2020measuring` evaluated hundreds of ImageNet
# models on the original validation set and on the three ImageNetV2 test sets
# (MatchedFrequency, Threshold0.7, TopImages) {cite}`recht2019imagenet`. We plot every model
# that has all four numbers and fit a line on the probit scale.

# %%
v2_sets = {"MatchedFrequency": "imagenetv2-matched-frequency-format-val",
           "Threshold0.7": "imagenetv2-threshold-0.7-format-val",
           "TopImages": "imagenetv2-top-images-format-val"}
try:
    testbed = data.imagenet_testbed(download=False)
    sources["imagenet"] = "ImageNet testbed robustness_top1s.csv (Taori et al. 2020)"
    tb = testbed.dropna(subset=["val", *v2_sets.values()]).reset_index(drop=True)
    fits = {name: stats.probit_linear_fit(tb["val"] / 100, tb[col] / 100) for name, col in v2_sets.items()}
    in_paper = tb[tb["model"].isin(v2_models)]
    star = (in_paper if len(in_paper) else tb).sort_values("val").iloc[-1]
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    grid = np.linspace(tb["val"].min(), tb["val"].max(), 200) / 100
    for (name, col), fit in zip(v2_sets.items(), fits.values()):
        ax.scatter(tb["val"], tb[col], s=6, alpha=0.5, label=f"{name}: slope {fit.slope:.2f}, r² = {fit.r2:.3f}")
        ax.plot(100 * grid, 100 * fit.predict(grid), lw=1, color=ax.collections[-1].get_facecolor()[0][:3])
    mf = v2_sets["MatchedFrequency"]
    ax.annotate(f"{star['model']}\n{star['val']:.1f}% → {star[mf]:.1f}%", (star["val"], star[mf]),
                xytext=(-120, 20), textcoords="offset points", arrowprops={"arrowstyle": "->"}, fontsize=8)
    ax.plot([star["val"]], [star[mf]], "k*", ms=10)
    plots.identity_line(ax)
    ax.set(xlabel="ImageNet validation top-1 accuracy (%)", ylabel="ImageNetV2 top-1 accuracy (%)",
           title=f"{len(tb)} ImageNet models, original vs new test sets")
    ax.legend(loc="upper left", fontsize=8)
    plots.source_caption(fig, sources["imagenet"], "lines: linear fits on the probit scale")
    plt.show()
    drop_star = star["val"] - star[mf]
    pred_star = 100 * fits["MatchedFrequency"].predict(star["val"] / 100)
    drops_tb = tb["val"] - tb[mf]
    n_v2 = 10_000
    lo, hi = stats.clopper_pearson(round(star[mf] / 100 * n_v2), n_v2, alpha)
    display(pd.DataFrame({name: {"slope": f.slope, "intercept": f.intercept, "r²": f.r2, "models": f.n,
                                 "median drop (points)": (tb["val"] - tb[v2_sets[name]]).median()}
                          for name, f in fits.items()}).T.round(3))
    display(Markdown(
        f"The most accurate of the original paper's models in the testbed, `{star['model']}`, drops from "
        f"{star['val']:.1f}% to {star[mf]:.1f}% on MatchedFrequency: **{drop_star:.1f} points**. The probit line "
        f"fitted to all {len(tb)} models predicts {pred_star:.1f}% for its ImageNet accuracy, so its drop is what the "
        f"line predicts, give or take {abs(star[mf] - pred_star):.1f} points. Its {level} sampling interval on 10,000 "
        f"images is ±{50 * (hi - lo):.1f} points. Across all models the median drop is {drops_tb.median():.1f} points."))
    figures["imagenetv2_probit_slope"] = round(fits["MatchedFrequency"].slope, 4)
    figures["imagenetv2_probit_intercept"] = round(fits["MatchedFrequency"].intercept, 4)
    figures["imagenetv2_probit_r2"] = round(fits["MatchedFrequency"].r2, 4)
    figures["imagenetv2_fits"] = {name: f.as_dict() for name, f in fits.items()}
    figures["imagenetv2_top_model"] = {"model": star["model"], "val": round(float(star["val"]), 3),
                                       "matched_frequency": round(float(star[mf]), 3), "drop": round(float(drop_star), 3),
                                       "line_prediction": round(float(pred_star), 3)}
    figures["imagenetv2_median_drop"] = round(float(drops_tb.median()), 3)
except data.DataUnavailable as err:
    notes.show_missing(err, "ImageNet vs ImageNetV2")
    figures.update(imagenetv2_probit_slope=None, imagenetv2_probit_intercept=None, imagenetv2_probit_r2=None)

# %% [markdown]
# **What it means.** With 10,000 images, sampling error is about a point (computed above),
# far less than the drop. The models keep their order and fall close to one line in probit
# space (the r² above), so each model's drop on ImageNetV2 is predicted by its ImageNet
# accuracy alone. Adaptive overfitting to the ImageNet test set would show as the most
# heavily tuned, most accurate models falling *below* the line; the top model's distance
# from the line is printed above. What remains is distribution shift: ImageNetV2 differs from
# ImageNet in ways the dataset-building recipe did not control, just as our students-only
# MNIST set differs from the original. Chapter 2 rebuilds a test set to see where such a
# shift can creep in.

# %% [markdown]
# ## 7. On a GPU: a CIFAR-10 zoo
#
# The `gpu` profile also trains a larger zoo on CIFAR-10 {cite}`krizhevsky2009learning`
# (canonical CIFAR-10 when available, else the JPEG copy, labelled as such) and reports its
# accuracies and similarity. On other profiles this section is skipped.

# %%
if profile == "gpu":
    c_train, c_test = zoo_experiment.load_dataset("cifar10")
    cifar = zoo_experiment.zoo_experiment(zoo.zoo_names("cifar10-gpu"), c_train, c_test, batch=512,
                                          seed=seed, dev=dev)
    c_acc = pd.Series(cifar["accuracy"]).sort_values()
    display((100 * c_acc).round(2).to_frame(f"accuracy on {cifar['source']} test (%)"))
    sources["cifar10"] = cifar["source"]
    figures["cifar10_zoo_accuracy"] = {k: pts(v) for k, v in cifar["accuracy"].items()}
    figures["cifar10_zoo_agreement"] = round(cifar["agreement"], 4)
    figures["cifar10_independent_agreement"] = round(cifar["independent_agreement"], 4)
else:
    print(f"profile {profile!r}: the CIFAR-10 zoo runs only with profile='gpu'.")

# %%
path = run.save(figures, data_source=sources)
print(f"results written to results/{profile}/{path.name} after {run.wall_seconds:.1f} s")
