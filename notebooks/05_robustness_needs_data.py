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
# # 5. Robust generalization needs more data
#
# Adversarially trained models fit their training set robustly and still lose most of that
# robustness on the test set: on CIFAR-10, PGD training reaches close to 100% robust
# accuracy on the training images while robust test accuracy stays near 50%
# {cite}`madry2018towards,schmidt2018adversarially`. Is that a failure of the training
# algorithm, or is robust learning simply *harder*, in the statistical sense that it needs
# more samples? {cite:t}`schmidt2018adversarially` answer with a model simple enough to solve
# on paper: two Gaussian classes. There, a single sample can be enough to learn a classifier
# with low standard error, while learning one that stays correct under
# $\ell_\infty$-perturbations needs a number of samples that grows with the dimension.
#
# **You will learn** the closed-form standard and robust errors of a linear classifier in
# the Gaussian model; why the robust error needs on the order of $\epsilon^2\sqrt d$ samples
# when the standard error needs $O(1)$; how to confirm such formulas by simulation; and what
# the same question looks like on real data: robust test accuracy versus the number of
# training examples, with the train-test robust gap.
#
# **Compute.** `smoke`: small dimensions and a few hundred 8x8 digits, seconds. `cpu`: the
# Gaussian model up to $d = 10^6$ (closed forms) and $10^5$ (Monte Carlo), and MNIST training
# runs of a small CNN on 100 to 3,000 images, about 3 to 5 minutes on 2 cores. `gpu`: the
# same with CIFAR-10 and a PreActResNet-18 for the empirical curve.

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu
seed = 0
gauss_eps = 0.5  # L-infinity radius in the Gaussian model (theta* is all ones: 0.5 is half a coordinate)
gauss_c = 1.0  # noise level: sigma is c times d^(1/4)
target_error = 0.01  # error level for the sample-complexity plot
mc_draws = None  # training sets per Monte Carlo point; None: 40 (smoke), 200 (cpu, gpu)
eps = None  # L-infinity radius of the image experiment; None: 0.1 (MNIST, digits), 8/255 (CIFAR-10)
train_sizes = None  # numbers of training images; None: by profile
train_steps = None  # SGD steps per model (the same for every size); None: by profile
attack_steps = 3  # PGD steps of the training attack
eval_steps = 20  # PGD steps of the evaluation attack
n_eval = None  # test (and training) images attacked for evaluation; None: by profile
torch_threads = 1  # CPU threads for torch; 0 keeps torch's default

# %%
import time

import numpy as np
import pandas as pd
from matplotlib import ticker
import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

import reliable_ml
from reliable_ml import attacks, image_task, notes, plots
from reliable_ml import gaussian_model as gm
from reliable_ml import self_training as st
from tqdm.auto import tqdm  # after reliable_ml: headless book builds turn these bars off

run = reliable_ml.start("05_robustness_needs_data", profile, seed=seed)
plots.use_style()
if torch_threads and run.device.type == "cpu":
    torch.set_num_threads(torch_threads)  # small convolutions on 2 shared cores: one thread is faster
P = lambda **kw: reliable_ml.pick(profile, **kw)  # noqa: E731 - per-profile default
rng = np.random.default_rng(seed)
mc_draws = mc_draws or P(smoke=40, cpu=200, gpu=200)
curve_dims = P(smoke=[1_000, 10_000], cpu=[1_000, 10_000, 100_000], gpu=[1_000, 10_000, 100_000])
complexity_dims = np.unique(np.logspace(3, 10, 15).astype(np.int64))  # closed forms only: O(1) per d
GAUSS_SOURCE = "simulation: Gaussian model of Schmidt et al. (2018), not real data"

# %% [markdown]
# ## Part 1: the Gaussian model
#
# Labels $y$ are $\pm 1$ with equal probability and inputs are $x \sim \mathcal N(y\,\theta^*,
# \sigma^2 I_d)$. Like {cite:t}`schmidt2018adversarially` we take $\|\theta^*\|_2 = \sqrt d$
# (here $\theta^* = (1, \dots, 1)$) and $\sigma = c\, d^{1/4}$: each coordinate is a very noisy
# vote for the label, and only their sum is informative. The learner is the *averaged mean*
# $w = \frac1n\sum_i y_i x_i$, predicting $\mathrm{sign}\langle w, x\rangle$.
#
# For a fixed $w$, $y\langle w, x\rangle$ is Gaussian with mean $\langle w,\theta^*\rangle$ and
# standard deviation $\sigma\|w\|_2$. The strongest $\ell_\infty$ perturbation of size
# $\epsilon$ moves $x$ by $-\epsilon\, y\,\mathrm{sign}(w)$ and lowers that margin by exactly
# $\epsilon\|w\|_1$. Hence
#
# $$\mathrm{err}(w) = \Phi\Big(-\frac{\langle w,\theta^*\rangle}{\sigma\|w\|_2}\Big),\qquad
# \mathrm{err}_\epsilon(w) = \Phi\Big(-\frac{\langle w,\theta^*\rangle - \epsilon\|w\|_1}{\sigma\|w\|_2}\Big).$$
#
# The training set enters only through $w$, and $w$ is exactly distributed as
# $\theta^* + (\sigma/\sqrt n)\,g$ with $g \sim \mathcal N(0, I_d)$. The expected errors follow
# by averaging over $g$ (Monte Carlo), or, for large $d$, by replacing each norm by its mean
# (a deterministic approximation we derive in `reliable_ml.gaussian_model`; the $\ell_1$ norm
# becomes a sum of folded-normal means).
#
# **Check 1: the formulas against brute force.** We draw real training sets, compute $w$,
# attack fresh test points with the worst-case perturbation, and count errors.

# %%
d_check = P(smoke=200, cpu=1_000, gpu=1_000)
n_test = P(smoke=5_000, cpu=20_000, gpu=50_000)
theta, sigma = gm.default_theta(d_check), gm.default_sigma(d_check, gauss_c)
rows = []
for n in (2, 10, 50, 250):
    x_tr, y_tr = gm.sample(n, theta, sigma, rng)
    w = gm.mean_classifier(x_tr, y_tr)
    x_te, y_te = gm.sample(n_test, theta, sigma, rng)
    for e in (0.0, gauss_eps):
        closed = float(gm.robust_error(w, theta, sigma, e))
        sim = gm.empirical_error(w, x_te, y_te, e)
        rows.append({"n": n, "eps": e, "closed form (%)": 100 * closed, "simulated (%)": 100 * sim,
                     "binomial s.e. (%)": 100 * np.sqrt(max(closed * (1 - closed), 1e-12) / n_test)})
check = pd.DataFrame(rows)
check["|diff| / s.e."] = (check["closed form (%)"] - check["simulated (%)"]).abs() / check["binomial s.e. (%)"].clip(lower=1e-9)
display(check.round(3))
print(f"d = {d_check:,}, sigma = {sigma:.2f}, {n_test:,} attacked test points per row ({GAUSS_SOURCE}); "
      f"largest deviation: {check['|diff| / s.e.'].max():.1f} standard errors")

# %% [markdown]
# **Check 2: the large-$d$ approximation against Monte Carlo over training sets.** Lines are
# the approximation; dots are the mean closed-form error over independent training sets (bars:
# two standard errors, mostly smaller than the dots).

# %%
n_grid = np.unique(np.logspace(0, 3.5, P(smoke=8, cpu=15, gpu=15)).astype(int))
curves = []
draws_at = {d: mc_draws if d <= 10_000 else max(10, mc_draws // 4) for d in curve_dims}  # keep d = 10^5 cheap
for d in curve_dims:
    th, sg = gm.default_theta(d), gm.default_sigma(d, gauss_c)
    for n in n_grid:
        std_ap, rob_ap = gm.expected_errors_approx(n, th, sg, gauss_eps)
        std_mc, std_se, rob_mc, rob_se = gm.expected_errors_mc(n, th, sg, gauss_eps, draws_at[d], rng)
        curves.append({"d": d, "n": n, "std_approx": std_ap, "rob_approx": rob_ap, "std_mc": std_mc,
                       "std_se": std_se, "rob_mc": rob_mc, "rob_se": rob_se})
curves = pd.DataFrame(curves)

fig, ax = plt.subplots(figsize=(7, 4.4))
colors = dict(zip(curve_dims, plt.cm.viridis(np.linspace(0.1, 0.8, len(curve_dims)))))
for d, g in curves.groupby("d"):
    ax.plot(g.n, 100 * g.std_approx, "--", color=colors[d], lw=1.2)
    ax.plot(g.n, 100 * g.rob_approx, "-", color=colors[d], lw=1.5, label=f"d = {d:,}")
    ax.errorbar(g.n, 100 * g.std_mc, yerr=200 * g.std_se, fmt="o", ms=3, color=colors[d], mfc="white")
    ax.errorbar(g.n, 100 * g.rob_mc, yerr=200 * g.rob_se, fmt="o", ms=3, color=colors[d])
ax.plot([], [], "k--", label="standard error")
ax.plot([], [], "k-", label=f"robust error, eps = {gauss_eps:g}")
ax.set(xscale="log", xlabel="training samples n", ylabel="expected test error (%)", ylim=(0, 100),
       title=f"Gaussian model, sigma = {gauss_c:g} d^(1/4): standard vs robust error")
ax.legend(ncols=2)
plots.source_caption(fig, GAUSS_SOURCE, f"lines: large-d approximation; dots: Monte Carlo, {mc_draws} training sets "
                     f"per point ({draws_at[curve_dims[-1]]} at d = {curve_dims[-1]:,})")
plt.show()
worst_gap = float(np.max(np.abs(curves.rob_approx - curves.rob_mc) - 2 * curves.rob_se))
print(f"largest |approximation - Monte Carlo| beyond 2 s.e. (robust error): {100 * max(worst_gap, 0):.2f} points")

# %% [markdown]
# The dashed curves (standard error) lie on top of each other: how many samples you need
# for a given standard error does not depend on $d$. The solid curves (robust error) move to
# the right as $d$ grows. To see the rates, we ask for the number of samples needed to reach
# a target error, as a function of $d$.
#
# Why $\sqrt d$: with $s = \sigma/\sqrt n$, the robust margin is about
# $d^{1/4}\,(1 - \epsilon\,\mathbb E|1 + s g|)/\sqrt{1 + s^2}$ (for $c = 1$), which grows with
# $d$ exactly when $\epsilon\,\mathbb E|1+sg| < 1$, i.e. when $s < s^*(\epsilon)$. So
# $n/\sqrt d \to 1/s^{*2}$, and for small $\epsilon$, $1/s^{*2} \approx (2/\pi)\,\epsilon^2$: the
# $\epsilon^2\sqrt d$ of the paper.

# %%
needed = []
for d in complexity_dims:
    sg = gm.default_sigma(int(d), gauss_c)  # theta* = 1.0 * ones(d), passed as a scalar
    row = {"d": int(d), "standard": gm.samples_needed(1.0, sg, 0.0, target_error, d=int(d))}
    try:
        row["robust"] = gm.samples_needed(1.0, sg, gauss_eps, target_error, d=int(d))
    except ValueError:  # the infinite-data robust error is above the target at this d
        row["robust"] = np.nan
    needed.append(row)
needed = pd.DataFrame(needed)
s_star = gm.asymptotic_noise_ratio(gauss_eps) if gauss_c == 1.0 else np.nan
fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
ax.plot(needed.d, needed.standard, "o--", label="standard error")
ax.plot(needed.d, needed.robust, "o-", label=f"robust error, eps = {gauss_eps:g}")
if np.isfinite(s_star):
    ax.plot(needed.d, np.sqrt(needed.d) / s_star ** 2, ":", color="0.3",
            label=f"{1 / s_star ** 2:.3f} sqrt(d) (large-d limit)")
ax.set(xscale="log", yscale="log", xlabel="dimension d", ylabel=f"samples n for {100 * target_error:g}% error",
       title="Samples needed: O(1) standard, ~sqrt(d) robust")
ax.legend()
ax2.plot(needed.d, needed.robust / np.sqrt(needed.d), "o-", color="C1", label="robust: n / sqrt(d)")
if np.isfinite(s_star):
    ax2.axhline(1 / s_star ** 2, ls=":", color="0.3", label="limit 1 / s*^2")
ax2.set(xscale="log", yscale="log", xlabel="dimension d", ylabel="n / sqrt(d)", title="Robust samples over sqrt(d)")
for axis in (ax2.yaxis,):
    axis.set_major_formatter(ticker.FormatStrFormatter("%.2g"))
    axis.set_minor_formatter(ticker.FormatStrFormatter("%.2g"))
ax2.legend()
plots.source_caption(fig, GAUSS_SOURCE, "large-d approximation of the averaged-mean classifier")
plt.show()
display(needed.set_index("d").T)

# %%
fit_d = needed.dropna().tail(4)
slope = float(np.polyfit(np.log(fit_d.d), np.log(fit_d.robust), 1)[0])
display(Markdown(
    f"Across $d$ = {needed.d.min():,} to {needed.d.max():,}, the standard error reaches "
    f"{100 * target_error:g}% with {needed.standard.min()} to {needed.standard.max()} samples, while the robust "
    f"error (at $\\epsilon$ = {gauss_eps:g}) needs {int(needed.robust.min())} to {int(needed.robust.max()):,}. "
    f"The log-log slope of the robust curve over its last four points is {slope:.2f}: it approaches 0.5 "
    f"from below, slowly, because at moderate $d$ the margin term $d^{{1/4}}$ is still small. "
    f"At the smallest $d$ the robust count is higher again: there even infinite data leaves a robust error "
    f"of {100 * gm.robust_error(np.ones(int(needed.d.min())), np.ones(int(needed.d.min())), gm.default_sigma(int(needed.d.min()), gauss_c), gauss_eps):.2f}%, "
    f"close to the {100 * target_error:g}% target."))

# %% [markdown]
# **What we verified, and what we did not.** The simulation confirms the closed forms and
# shows the upper-bound side of the story for *this* learner: the averaged mean needs $O(1)$
# samples for standard accuracy and a number growing like $\sqrt d$ for robust accuracy. The
# paper proves more {cite}`schmidt2018adversarially`: a lower bound for *every* learning
# algorithm, of order $\epsilon^2\sqrt d/\log d$ samples, so the gap is information-theoretic
# and not a weakness of the averaged mean. We did not reproduce that lower bound (it is a
# statement about all algorithms and cannot be checked by simulating one).

# %% [markdown]
# ## Part 2: the same question on images
#
# Does the gap show on real data? We train a small CNN on growing numbers of labeled images,
# once with standard training and once with PGD adversarial training {cite}`madry2018towards`
# (the `train_rst` trainer of `reliable_ml.self_training` without an unlabeled pool), for the
# same number of SGD steps at every size. We then attack both the training images and test
# images with PGD and compare robust accuracy on the two: the *robust generalization gap*.
# On MNIST we use $\epsilon = 0.1$ rather than the usual $0.3$: at $0.3$, a few hundred
# images and a few minutes of CPU training do not give a robust model at all, so the curve
# would be flat at zero.

# %%
task = image_task.load_task(profile)
notes.show_fallback(task.test.info)
source, dev = task.source, run.device
eps = eps if eps is not None else task.eps
train_sizes = train_sizes or P(smoke=[50, 200], cpu=[100, 300, 1_000, 3_000], gpu=[1_000, 4_000, 16_000, 50_000])
train_sizes = [n for n in train_sizes if n < len(task.train.y)]
train_steps = train_steps or P(smoke=25, cpu=150, gpu=6_000)
n_eval = n_eval or P(smoke=100, cpu=1_000, gpu=10_000)
batch = P(smoke=32, cpu=128, gpu=256)
x_test, y_test = image_task.eval_subset(task.test, n_eval, dev, seed)
print(f"{source}: {len(task.train.y):,} training / {len(task.test.y):,} test images; eps = {eps:.4g}; "
      f"training sizes {train_sizes}; {train_steps} SGD steps per model")


def pgd_acc(model, x, y) -> float:
    gen = torch.Generator(device=x.device).manual_seed(seed)
    return attacks.robust_accuracy(model, x, y, eps, steps=eval_steps, step_size=2.5 * eps / eval_steps,
                                   generator=gen)


curve = []
t_start = time.perf_counter()
runs = [(n, method) for n in train_sizes for method in ("standard", "pgd")]
for n, method in tqdm(runs, desc="train and attack one model per (size, method)"):
    idx_lab, _ = st.split_labeled(task.train.y, n, seed=seed, balanced=n >= 10 * len(task.test.info.classes))
    x_n, y_n = task.train.x[idx_lab], task.train.y[idx_lab]
    x_fit, y_fit = x_n[:n_eval].to(dev).float() / 255, y_n[:n_eval].to(dev)
    model = image_task.make_model(task, dev, seed=seed, width=P(smoke=8, cpu=16, gpu=64))
    cfg = image_task.train_config(task, method, eps=eps, attack_steps=attack_steps, batch_size=batch, seed=seed)
    st.train_rst(model, x_n, y_n, cfg, steps_per_epoch=train_steps, progress=False)
    curve.append({"n_train": n, "training": "standard" if method == "standard" else "adversarial (PGD)",
                  "clean train": attacks.accuracy(model, x_fit, y_fit), "robust train": pgd_acc(model, x_fit, y_fit),
                  "clean test": attacks.accuracy(model, x_test, y_test), "robust test": pgd_acc(model, x_test, y_test)})
curve = pd.DataFrame(curve)
print(f"{2 * len(train_sizes)} models trained and attacked in {time.perf_counter() - t_start:.0f} s")
display((curve.set_index(["n_train", "training"]) * 100).round(1))

# %%
fig, ax = plt.subplots(figsize=(7, 4.4))
for (label, g), color in zip(curve.groupby("training", sort=False), ("C0", "C3")):
    ax.plot(g.n_train, 100 * g["robust test"], "o-", color=color, label=f"{label}: robust test")
    ax.plot(g.n_train, 100 * g["robust train"], "s--", color=color, mfc="white", label=f"{label}: robust train")
    ax.plot(g.n_train, 100 * g["clean test"], "^:", color=color, alpha=0.6, label=f"{label}: clean test")
ax.set(xscale="log", xlabel="labeled training images", ylabel="accuracy (%)", ylim=(-2, 102),
       title=f"{source}: robust accuracy (PGD-{eval_steps}, eps = {eps:.3g}) vs training set size")
ax.legend(fontsize=8, ncols=2)
plots.source_caption(fig, source, f"{train_steps} SGD steps per model; train accuracy on up to {n_eval:,} training images")
plt.show()

# %%
adv = curve[curve.training != "standard"].set_index("n_train")
gap = adv["robust train"] - adv["robust test"]
n_small, n_large = adv.index.min(), adv.index.max()
display(Markdown(
    f"With adversarial training on {n_small:,} images, robust accuracy is "
    f"{100 * adv.loc[n_small, 'robust train']:.1f}% on the training images but "
    f"{100 * adv.loc[n_small, 'robust test']:.1f}% on test images (gap {100 * gap[n_small]:.1f} points). "
    f"With {n_large:,} images the gap is {100 * gap[n_large]:.1f} points and robust test accuracy is "
    f"{100 * adv.loc[n_large, 'robust test']:.1f}%. Standard training reaches "
    f"{100 * curve[curve.training == 'standard']['clean test'].max():.1f}% clean test accuracy but at most "
    f"{100 * curve[curve.training == 'standard']['robust test'].max():.1f}% robust test accuracy "
    f"({source}, eps = {eps:.3g}, profile `{profile}`)."))

# %% [markdown]
# ## What it means
#
# In the Gaussian model the extra data robust learning needs is not an artefact of one
# algorithm: it is a property of the problem, growing with the dimension
# {cite}`schmidt2018adversarially`. On images we see the matching symptom: robust accuracy
# on the training set runs far ahead of robust accuracy on fresh images when labeled data is
# scarce, and robust test accuracy keeps climbing with more data long after clean accuracy
# has flattened. Labels are expensive; the next chapter asks whether *unlabeled* data can
# pay for most of the difference {cite}`carmon2019unlabeled`.

# %%
gauss_row = needed.dropna().iloc[-1]
path = run.save({
    "gaussian_eps": gauss_eps, "gaussian_c": gauss_c, "target_error": target_error,
    "samples_needed": needed.replace({np.nan: None}).to_dict("records"),
    "robust_samples_loglog_slope": slope,
    "robust_samples_over_sqrt_d_limit": (1 / s_star ** 2) if np.isfinite(s_star) else None,
    "closed_form_vs_bruteforce_max_se": float(check["|diff| / s.e."].max()),
    "robust_samples_needed_at_max_d": int(gauss_row.robust), "standard_samples_needed_at_max_d": int(gauss_row.standard),
    "max_d": int(gauss_row.d),
    "empirical_epsilon": eps, "empirical_dataset": source, "train_steps": train_steps,
    "attack": f"PGD-{eval_steps}, step 2.5*eps/{eval_steps}, 1 restart, L-inf; training PGD-{attack_steps}",
    "empirical_curve": curve.to_dict("records"),
    "robust_gap_smallest_n": float(gap[n_small]), "robust_gap_largest_n": float(gap[n_large]),
    "robust_test_acc_largest_n": float(adv.loc[n_large, "robust test"]),
}, data_source={"gaussian": GAUSS_SOURCE, "empirical": source})
print(f"results written to results/{profile}/{path.name} after {run.wall_seconds:.1f} s")
