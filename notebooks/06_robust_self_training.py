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
# # 6. Unlabeled data helps: robust self-training
#
# The previous chapter showed that robust learning needs more samples than standard
# learning {cite}`schmidt2018adversarially`. Labels are the expensive part of a sample.
# {cite:t}`carmon2019unlabeled` observed that the extra samples need not be labeled by a
# person: a standard classifier, which needs far fewer labels to be accurate, can label them.
# *Robust self-training* (RST) trains a standard model on the labeled data, uses it to
# pseudo-label a large unlabeled pool, and then trains robustly on everything. On CIFAR-10,
# with 500,000 extra pseudo-labeled images, this reached 62.5% PGD robust accuracy
# ($\epsilon = 8/255$), more than 5 points above the previous state of the art
# {cite}`carmon2019unlabeled` (as listed in the course's table of published figures).
#
# **You will learn** why pseudo-labels are good enough for robustness, first in the Gaussian
# model of the previous chapter and then on MNIST: robust training on the labeled part only,
# RST, and the same pool with its *true* labels (the ceiling), all with the same compute.
#
# **Compute.** `smoke`: 8x8 digits, tiny pools, seconds. `cpu`: the Gaussian model plus
# MNIST with 1,000 labels and a 20,000-image pool, a small CNN and short PGD training, about
# 3 to 5 minutes on 2 cores. `gpu`: CIFAR-10 with 4,000 labels and the rest of the training
# split as the pool, through `python -m reliable_ml.experiments.rst_cifar --profile gpu`.

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu
seed = 0
gauss_d = 10_000  # dimension of the Gaussian model
gauss_eps = 0.5  # L-infinity radius in the Gaussian model
gauss_labeled = 1  # labeled samples in the Gaussian model
gauss_repeats = None  # independent runs per point; None: 10 (smoke), 40 (cpu, gpu)
n_labeled = None  # labeled images; None: 100 (smoke), 1000 (cpu), 4000 (gpu)
n_unlabeled = None  # unlabeled pool; None: 600 (smoke), 20000 (cpu), the rest of the split (gpu)
eps = None  # L-infinity radius; None: 0.1 (MNIST, digits), 8/255 (CIFAR-10)
robust_steps = None  # SGD steps of each robust arm; None: by profile
standard_steps = None  # SGD steps of the pseudo-labeling model; None: by profile
attack_steps = 3  # PGD steps of the training attack
eval_steps = 20  # PGD steps of the evaluation attack
n_eval = None  # test images attacked; None: 200 (smoke), 1000 (cpu), 10000 (gpu)
threshold = 0.0  # minimum softmax confidence of a kept pseudo-label (0 keeps all, as in the paper)
unlabeled_fraction = 0.5  # share of each batch drawn from the pseudo-labeled pool
unlabeled_weight = 1.0  # weight of the pseudo-labeled examples in the loss
torch_threads = 1  # CPU threads for torch; 0 keeps torch's default

# %%
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

import reliable_ml
from reliable_ml import image_task, notes, plots
from reliable_ml import gaussian_model as gm
from reliable_ml import self_training as st
from reliable_ml.experiments import rst_cifar

run = reliable_ml.start("06_robust_self_training", profile, seed=seed)
plots.use_style()
if torch_threads and run.device.type == "cpu":
    torch.set_num_threads(torch_threads)  # small convolutions on 2 shared cores: one thread is faster
P = lambda **kw: reliable_ml.pick(profile, **kw)  # noqa: E731 - per-profile default
rng = np.random.default_rng(seed)
gauss_repeats = gauss_repeats or P(smoke=10, cpu=40, gpu=40)
GAUSS_SOURCE = "simulation: Gaussian model of Schmidt et al. (2018), not real data"

# %% [markdown]
# ## Part 1: self-training in the Gaussian model
#
# Same model as before: $y = \pm1$, $x \sim \mathcal N(y\,\theta^*, \sigma^2 I_d)$ with
# $\theta^* = \mathbf 1$ and $\sigma = d^{1/4}$. Following {cite:t}`carmon2019unlabeled`
# (Section 3), the averaged mean $w_{\rm int}$ of $n$ labeled samples labels $\tilde n$
# unlabeled ones, $\tilde y_i = \mathrm{sign}\langle w_{\rm int}, \tilde x_i\rangle$, and the final
# classifier is the averaged mean of the pseudo-labeled data,
# $w_{\rm final} = \frac1{\tilde n}\sum_i \tilde y_i \tilde x_i$. We start from a single
# labeled example. Why should this work? The pseudo-label of a fresh point depends on it only
# through its projection on the plane spanned by $\theta^*$ and $w_{\rm int}$. So $w_{\rm final}$
# is a vector in that plane, which tends to a fixed one as $\tilde n$ grows (it leans towards
# $\theta^*$ whenever the pseudo-labels are right more often than not), plus high-dimensional
# noise $(\sigma/\sqrt{\tilde n})\,g_\perp$. That noise is what the $\ell_\infty$ adversary
# exploits through $\|w\|_1$, and it shrinks with $\tilde n$ whether or not labels are known.
# We simulate this exactly (`gaussian_model.pseudo_label_mean` samples the two-dimensional
# part per point and the orthogonal noise once; a test checks it against brute force) and
# compute each classifier's errors in closed form. The ceiling is the
# averaged mean of the same $\tilde n$ points with their true labels.

# %%
theta, sigma = gm.default_theta(gauss_d), gm.default_sigma(gauss_d)
pool_sizes = [10, 20, 50, 100, 200, 500, 1_000, 3_000, 10_000]
rows = []
for m in pool_sizes:
    for r in range(gauss_repeats):
        res = gm.self_train(gauss_labeled, m, theta, sigma, gauss_eps, rng)
        rows.append({"n_unlabeled": m, **res})
sim = pd.DataFrame(rows).groupby("n_unlabeled").agg(["mean", "sem"])
ceiling = pd.DataFrame([{"n_unlabeled": m, "robust_err_ceiling": gm.expected_errors_approx(m, theta, sigma, gauss_eps)[1],
                         "std_err_ceiling": gm.expected_errors_approx(m, theta, sigma, gauss_eps)[0]}
                        for m in pool_sizes]).set_index("n_unlabeled")
labeled_only = gm.expected_errors_approx(gauss_labeled, theta, sigma, gauss_eps)

fig, ax = plt.subplots(figsize=(7.5, 4.4))
mean = lambda col: 100 * sim[(col, "mean")]  # noqa: E731
sem = lambda col: 100 * sim[(col, "sem")]  # noqa: E731
ax.errorbar(sim.index, mean("robust_err_self_trained"), yerr=2 * sem("robust_err_self_trained"), fmt="o-",
            label="self-trained: robust error")
ax.plot(ceiling.index, 100 * ceiling.robust_err_ceiling, "s--", label="true labels (ceiling): robust error")
labels_word = "label" if gauss_labeled == 1 else "labels"
ax.axhline(100 * labeled_only[1], color="C3", ls=":", label=f"{gauss_labeled} {labels_word} only: robust error")
ax.errorbar(sim.index, mean("std_err_self_trained"), yerr=2 * sem("std_err_self_trained"), fmt="^-", color="0.5",
            ms=4, label="self-trained: standard error")
ax.set(xscale="log", xlabel="unlabeled samples (pseudo-labeled)", ylabel="expected test error (%)", ylim=(-2, 102),
       title=f"Gaussian model, d = {gauss_d:,}, {gauss_labeled} {labels_word}, eps = {gauss_eps:g}")
ax.legend(fontsize=8, loc="upper right")
plots.source_caption(fig, GAUSS_SOURCE, f"mean of {gauss_repeats} runs per point (bars: 2 s.e.); ceiling, "
                     f"labeled-only: large-d approximation")
plt.show()

# %%
big = pool_sizes[-1]
gauss_summary = {"gauss_robust_err_labeled_only": labeled_only[1],
                 "gauss_std_err_labeled_only": labeled_only[0],
                 "gauss_robust_err_self_trained": float(sim.loc[big, ("robust_err_self_trained", "mean")]),
                 "gauss_robust_err_ceiling": float(ceiling.loc[big, "robust_err_ceiling"]),
                 "gauss_pseudo_label_error": float(sim.loc[big, ("pseudo_label_error", "mean")]),
                 "gauss_n_unlabeled_max": big}
mid = 100 if 100 in sim.index else pool_sizes[len(pool_sizes) // 2]
display(Markdown(
    f"With {gauss_labeled} labeled example{'s' if gauss_labeled != 1 else ''} the averaged mean has "
    f"{100 * labeled_only[0]:.1f}% standard error but {100 * labeled_only[1]:.1f}% robust error. Its "
    f"pseudo-labels are wrong {100 * gauss_summary['gauss_pseudo_label_error']:.1f}% of the time, yet "
    f"self-training on {mid:,} pseudo-labeled samples brings the robust error to "
    f"{100 * sim.loc[mid, ('robust_err_self_trained', 'mean')]:.1f}% (true labels: "
    f"{100 * ceiling.loc[mid, 'robust_err_ceiling']:.1f}%), and on {big:,} to "
    f"{100 * gauss_summary['gauss_robust_err_self_trained']:.2g}% (true labels: "
    f"{100 * gauss_summary['gauss_robust_err_ceiling']:.2g}%). Wrong pseudo-labels cost samples, "
    f"not the end result ({GAUSS_SOURCE})."))

# %% [markdown]
# ## Part 2: robust self-training on images
#
# Now the real thing, with `reliable_ml.self_training.compare`:
#
# 1. **Split.** A class-balanced labeled subset; the pool is a disjoint set of training images
#    whose labels we withhold.
# 2. **Pseudo-label.** A standard model trained on the labeled subset labels the pool (its
#    argmax; a confidence threshold is available but, as in the paper, off by default).
# 3. **Three robust arms, equal compute.** PGD adversarial training {cite}`madry2018towards`
#    for the same number of SGD steps on (a) the labeled images only, (b) labeled +
#    pseudo-labeled pool (RST), (c) labeled + pool with its true labels (the ceiling). In (b)
#    and (c) every batch is half labeled, half pool, with equal weights, as in the authors'
#    code (the paper's `unsup_fraction` of 0.5). We use adversarial training rather than the
#    paper's TRADES loss (the paper reports both).
#
# On MNIST in the `cpu` profile we use $\epsilon = 0.1$ and short training (a few hundred
# steps): at the standard $\epsilon = 0.3$, 1,000 labels and a few CPU minutes give no robust
# model at all. "Equal epochs" here means equal *steps*: the labeled-only arm sees its 1,000
# images many times over, the others make about one pass over the pool.

# %%
task = image_task.load_task(profile)
notes.show_fallback(task.test.info)
source, dev = task.source, run.device
eps = eps if eps is not None else task.eps
n_labeled = n_labeled or P(smoke=100, cpu=1_000, gpu=4_000)
n_unlabeled = n_unlabeled or P(smoke=600, cpu=20_000, gpu=None)
robust_steps = robust_steps or P(smoke=25, cpu=300, gpu=rst_cifar.SETTINGS["gpu"].robust_steps)
standard_steps = standard_steps or P(smoke=40, cpu=300, gpu=rst_cifar.SETTINGS["gpu"].standard_steps)
n_eval = n_eval or P(smoke=200, cpu=1_000, gpu=10_000)
if profile == "gpu":
    # The GPU run is the entry point `python -m reliable_ml.experiments.rst_cifar --profile gpu`
    # (PreActResNet-18, FGSM-RS training); the notebook calls the same function.
    experiment = rst_cifar.run("gpu", save=False, seed=seed, n_labeled=n_labeled, n_unlabeled=n_unlabeled,
                               robust_steps=robust_steps, standard_steps=standard_steps, n_eval=n_eval,
                               eval_steps=eval_steps, eps=eps)
    rst, batch = experiment["compare"], experiment["settings"]["robust"]["batch_size"]
else:
    batch = P(smoke=32, cpu=128, gpu=256)
    x_test, y_test = image_task.eval_subset(task.test, n_eval, dev, seed)
    cfg = lambda method: image_task.train_config(task, method, eps=eps, attack_steps=attack_steps,  # noqa: E731
                                                 batch_size=batch, seed=seed)
    rst = st.compare(lambda: image_task.make_model(task, dev, seed=seed), task.train.x, task.train.y, x_test, y_test,
                     n_labeled=n_labeled, n_unlabeled=n_unlabeled, standard_cfg=cfg("standard"),
                     robust_cfg=cfg("pgd"), standard_steps=standard_steps, robust_steps=robust_steps,
                     eval_steps=eval_steps, threshold=threshold, unlabeled_fraction=unlabeled_fraction,
                     unlabeled_weight=unlabeled_weight, seed=seed, progress=True)
print(f"{source}: {rst['n_labeled']:,} labeled + {rst['n_unlabeled']:,} unlabeled images, eps = {eps:.4g}; "
      f"pseudo-labeler: {100 * rst['labeler_clean_acc']:.1f}% test accuracy, pseudo-labels "
      f"{100 * rst['pseudo_label_acc']:.1f}% correct ({rst['n_pseudo_kept']:,} kept)")

# %%
arm_names = {"labeled_only": f"labeled only ({rst['n_labeled']:,})", "rst": "RST (pseudo-labels)",
             "ceiling": "ceiling (true labels)"}
table = pd.DataFrame({arm_names[a]: {"clean accuracy (%)": 100 * rst[a]["clean_acc"],
                                     "PGD robust accuracy (%)": 100 * rst[a]["robust_acc"],
                                     "training time (s)": rst[a]["train_seconds"]} for a in st.ARMS}).T
display(table.round(1))
fig, ax = plt.subplots()
pos = np.arange(len(st.ARMS))
ax.bar(pos - 0.2, table["clean accuracy (%)"], 0.4, label="clean", color="0.7")
ax.bar(pos + 0.2, table["PGD robust accuracy (%)"], 0.4, label=f"PGD-{eval_steps}, eps = {eps:.3g}", color="C0")
for p, v in zip(pos, table["PGD robust accuracy (%)"]):
    ax.text(p + 0.2, v + 1, f"{v:.1f}", ha="center", fontsize=9)
ax.set(xticks=pos, xticklabels=table.index, ylabel="test accuracy (%)", ylim=(0, 105),
       title=f"{source}: robust self-training, {robust_steps} steps per arm")
ax.legend(loc="lower right")
plots.source_caption(fig, source, rst["attack"])
plt.show()

# %%
gain = rst["rst"]["robust_acc"] - rst["labeled_only"]["robust_acc"]
to_ceiling = rst["ceiling"]["robust_acc"] - rst["rst"]["robust_acc"]
display(Markdown(
    f"RST changes PGD robust accuracy by {100 * gain:+.1f} points over robust training on the "
    f"{rst['n_labeled']:,} labeled images alone, and ends {100 * to_ceiling:.1f} points below the ceiling that "
    f"knows the pool's true labels ({source}, eps = {eps:.3g}, {rst['attack']}; profile `{profile}`, "
    f"one seed: differences of a point or two are within run-to-run noise)."))

# %% [markdown]
# ## What it means
#
# Pseudo-labels are noisy, but the noise costs little: what robust training needs from the
# extra data is mostly *more inputs*, so that the model's decision boundary is pinned down
# in many more places, and a standard model's labels are right often enough for that. In
# the Gaussian model this is a theorem {cite}`carmon2019unlabeled`; on images it is an
# empirical finding that scales to CIFAR-10 with 500,000 extra images. The catch is that the
# unlabeled images must come from (nearly) the same distribution as the labeled ones: Carmon
# et al. drew them from 80 Million Tiny Images with a filter that keeps CIFAR-like images.

# %%
path = run.save({
    "robust_acc_labeled_only": rst["labeled_only"]["robust_acc"], "robust_acc_rst": rst["rst"]["robust_acc"],
    "robust_acc_ceiling": rst["ceiling"]["robust_acc"], "clean_acc_rst": rst["rst"]["clean_acc"],
    "clean_acc_labeled_only": rst["labeled_only"]["clean_acc"], "clean_acc_ceiling": rst["ceiling"]["clean_acc"],
    "n_labeled": rst["n_labeled"], "n_unlabeled": rst["n_unlabeled"], "epsilon": eps, "attack": rst["attack"],
    "eval_steps": eval_steps, "train_attack": rst["train_attack"], "robust_steps": rst["robust_steps"],
    "standard_steps": standard_steps, "batch_size": batch, "labeler_clean_acc": rst["labeler_clean_acc"],
    "pseudo_label_acc": rst["pseudo_label_acc"], "n_pseudo_kept": rst["n_pseudo_kept"], "threshold": threshold,
    "unlabeled_fraction": unlabeled_fraction, "unlabeled_weight": unlabeled_weight,
    "train_seconds": {a: rst[a]["train_seconds"] for a in st.ARMS}, "n_eval": n_eval,
    "gaussian_d": gauss_d, "gaussian_eps": gauss_eps, "gaussian_n_labeled": gauss_labeled, **gauss_summary,
}, data_source={"images": source, "gaussian": GAUSS_SOURCE})
print(f"results written to results/{profile}/{path.name} after {run.wall_seconds:.1f} s")
