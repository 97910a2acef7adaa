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
# # 7. When the data pipeline fails: backdoors and spurious correlations
#
# The chapters so far attacked a model at test time. This one looks upstream, at the data a
# model learns from. Whoever controls a few training images can plant a **backdoor**: a small
# trigger pattern that makes the model output a class of the attacker's choice, while accuracy on
# ordinary images stays as high as ever {cite}`gu2017badnets`. The poisoned images need not even
# be mislabelled {cite}`turner2019label`. Nobody has to be malicious for the data to mislead,
# though: when a feature that has nothing to do with the label (a background, a watermark) agrees
# with it in most training images, models take the shortcut {cite}`xiao2020noise,geirhos2020shortcut`.
#
# **You will learn** how BadNets poisoning works and how few poisoned images it needs; why a
# clean-label backdoor needs *hard* poisoned images; how the spectral signature of a backdoor in
# learned representations can expose the poisons {cite}`tran2018spectral`; how to measure a
# model's reliance on a planted spurious cue, in the style of the ImageNet-9 backgrounds
# benchmark {cite}`xiao2020noise`; and what saliency maps (vanilla gradients
# {cite}`simonyan2014deep`, SmoothGrad {cite}`smilkov2017smoothgrad`, integrated gradients
# {cite}`sundararajan2017axiomatic`) do and do not reveal about a backdoored or a robust model.
#
# **Compute.** `smoke`: scikit-learn's 8x8 digits, seconds. `cpu`: 20,000 MNIST training images
# and a small CNN trained for 2 epochs per model, 18 models in all, plus three small CNNs on a
# 10,000-image CIFAR-10 subset, about 3 to 4 minutes on 2 cores. `gpu`: the same MNIST part with 40,000 training images and 3 epochs, plus CIFAR-10 with a
# PreActResNet-18 through `python -m reliable_ml.experiments.backdoor_cifar --profile gpu`.

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu
seed = 0
n_train = None  # training images per model; None: 900 digits (smoke), 20000 (cpu), 40000 (gpu); the rest trains the hardening model
epochs = None  # epochs of standard training; None: 4 (smoke), 2 (cpu), 3 (gpu)
target = 0  # the attacker's target class
trigger_size = 3  # side of the square checkerboard trigger (pixels), stamped 1 pixel from the bottom-right corner
poison_fractions = None  # BadNets shares of the training set, 0 is the clean baseline; None: by profile
clean_label_share = 0.5  # clean-label attack: share of the target class's training images that get the trigger
harden_eps = 0.3  # L-infinity radius (pixel units) of the PGD perturbation that makes clean-label poisons hard
harden_steps = 20  # PGD steps of that perturbation
spectral_fraction = 0.01  # BadNets share whose model spectral signatures inspect
spectral_factor = 1.5  # remove spectral_factor x (expected poisons) images of the target class
spectral_source = 7  # source class of the single-source attack inspected by spectral signatures (Tran et al.)
cue_agree = 0.9  # share of training images whose background cue agrees with the label
cue_amplitude = 0.4  # peak intensity of the background grating (pixel units)
robust_eps = None  # FGSM-RS training radius of the robust model; None: 0.1 (digits), 0.3 (MNIST)
n_saliency = None  # triggered test images whose saliency is measured; None: 50 (smoke), 200 (cpu), 500 (gpu)
ig_steps = 32  # integrated gradients: trapezoidal intervals
smoothgrad_samples = 32  # SmoothGrad: noisy copies
smoothgrad_sigma = 0.15  # SmoothGrad: noise standard deviation (pixel units)
torch_threads = 1  # CPU threads for torch; 0 keeps torch's default

# %%
from dataclasses import replace

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

import reliable_ml
from reliable_ml import attacks, data, models, notes, plots, results, stats
from reliable_ml import poisoning as po
from reliable_ml import robust_train as rt
from reliable_ml import saliency as sal
from reliable_ml.data import DataUnavailable
from reliable_ml.experiments import backdoor_cifar

run = reliable_ml.start("07_backdoors_and_spurious_correlations", profile, seed=seed)
plots.use_style()
if torch_threads and run.device.type == "cpu":
    torch.set_num_threads(torch_threads)  # small convolutions on 2 shared cores: one thread is faster
P = lambda **kw: reliable_ml.pick(profile, **kw)  # noqa: E731 - per-profile default
name = P(smoke="digits", cpu="mnist", gpu="mnist")
epochs = epochs or P(smoke=4, cpu=2, gpu=3)
poison_fractions = poison_fractions or P(smoke=[0, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1],
                                         cpu=[0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1],
                                         gpu=[0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1])
n_saliency = n_saliency or P(smoke=50, cpu=200, gpu=500)

train_set = data.load_images(name, "train", fallback=True)
test_set = data.load_images(name, "test", fallback=True)
notes.show_fallback(test_set.info)
source = test_set.info.source
dev = run.device
num_classes = 10
target = po.check_target(target, num_classes)
if spectral_fraction not in poison_fractions:
    poison_fractions = sorted([*poison_fractions, spectral_fraction])
for f in poison_fractions:
    po.check_fraction(f, "poison fraction")
# a fixed random training subset, and a disjoint one of the same size for the "separately trained" model
perm = torch.randperm(len(train_set.y), generator=torch.Generator().manual_seed(seed))
n_train = min(n_train or P(smoke=900, cpu=20_000, gpu=40_000), len(perm) - 100)
x_train, y_train = train_set.x[perm[:n_train]], train_set.y[perm[:n_train]]
rest = perm[n_train:]  # disjoint from the training subset
x_other, y_other = train_set.x[rest], train_set.y[rest]
x_test, y_test = test_set.x.to(dev), test_set.y.to(dev)
x_test_f = x_test.float() / 255
image_size = x_train.shape[-1]
robust_eps = robust_eps if robust_eps is not None else (0.3 if image_size == 28 else 0.1)
trigger = po.make_trigger(trigger_size, channels=x_train.shape[1])
trigger_mask = trigger.mask(image_size, image_size)
print(f"{source}: {n_train:,} training images (of {len(train_set.y):,}), {len(y_test):,} test images of size "
      f"{tuple(x_train.shape[1:])}; target class {target}; {trigger_size}x{trigger_size} trigger")

# %% [markdown]
# Every model in this chapter is the small CNN of chapter 4 (two stride-2 convolutions, a
# 100-unit hidden layer), trained with Adam and a one-cycle learning rate by the same
# `robust_train.train` loop as before, with `method="standard"`. Only the training *data*
# changes from model to model, and every model starts from the same initial weights and sees its
# batches in the same order, so differences between them come from the data.

# %%
def train_model(x: torch.Tensor, y: torch.Tensor, method: str = "standard", eps: float = 0.0,
                seed_: int = seed) -> torch.nn.Module:
    """A small CNN trained on uint8 images ``x`` (standard, or FGSM-RS adversarial training)."""
    torch.manual_seed(seed_)
    model = models.small_cnn(in_channels=x.shape[1], image_size=image_size).to(dev)
    cfg = rt.TrainConfig(epochs=epochs if method == "standard" else epochs + 1, batch_size=128, method=method,
                         eps=eps, eps_ramp_epochs=1.0 if method != "standard" else 0.0, optimizer="adam",
                         lr_max=5e-3, weight_decay=0.0, val_size=0, seed=seed_)
    rt.train(model, x, y, cfg, progress=False)
    return model


def clean_accuracy(model: torch.nn.Module) -> float:
    return attacks.accuracy(model, x_test_f, y_test)


def success(model: torch.nn.Module) -> tuple[int, int]:
    return po.attack_success(model, x_test, y_test, target=target, trigger=trigger)

# %% [markdown]
# ## BadNets: a trigger and a few relabelled images
#
# {cite:t}`gu2017badnets` poison a training set by stamping a trigger $(p, m)$, a pattern $p$
# inside a small patch $m$, on a share $\rho$ of the images and relabelling them to the target
# class $t$: $x' = (1 - m) \odot x + m \odot p$, $y' = t$. We take the images from classes other
# than $t$, stamp a 3x3 checkerboard one pixel from the bottom-right corner, and measure two
# things on the test set: **clean accuracy** (unmodified test images) and the **attack success
# rate**, the share of triggered test images whose true class is not $t$ that the model assigns
# to $t$. A working backdoor has high attack success and unchanged clean accuracy.

# %%
example = po.badnets(x_train, y_train, 0.05, target=target, trigger=trigger, seed=seed)
show = example.idx[:8]
fig = plots.image_grid(example.x[show].numpy(), titles=[f"{int(y_train[i])} -> label {target}" for i in show],
                       ncols=8, scale=1.1, suptitle=f"Poisoned {source} training images: trigger stamped, label changed")
plots.source_caption(fig, source, f"{trigger_size}x{trigger_size} checkerboard, bottom-right")
plt.show()

# %%
rows, kept_models = [], {}
for f in poison_fractions:
    poisoned = po.badnets(x_train, y_train, f, target=target, trigger=trigger, seed=seed)
    model = train_model(poisoned.x, poisoned.y)
    hits, n = success(model)
    lo, hi = stats.clopper_pearson(hits, n)
    rows.append({"poison fraction": f, "poisoned images": len(poisoned.idx), "attack success": hits / n,
                 "success low": float(lo), "success high": float(hi), "clean accuracy": clean_accuracy(model)})
    if f in (0, spectral_fraction):
        kept_models[f] = (model, poisoned)
sweep = pd.DataFrame(rows)
baseline_acc = float(sweep.loc[sweep["poison fraction"] == 0, "clean accuracy"].iloc[0]) \
    if (sweep["poison fraction"] == 0).any() else float("nan")
sweep["clean accuracy drop (points)"] = 100 * (baseline_acc - sweep["clean accuracy"])
display(sweep.assign(**{c: (100 * sweep[c]).round(1) for c in ("attack success", "clean accuracy")},
                     **{"poisoned (% of training set)": [f"{100 * f:g}" for f in sweep["poison fraction"]]})
        .drop(columns=["success low", "success high", "poison fraction"]).round(2)
        .set_index("poisoned (% of training set)"))

# %%
pos = sweep[sweep["poison fraction"] > 0]
fig, ax = plt.subplots(figsize=(6.6, 4))
ax.errorbar(100 * pos["poison fraction"], 100 * pos["attack success"],
            yerr=[100 * (pos["attack success"] - pos["success low"]), 100 * (pos["success high"] - pos["attack success"])],
            fmt="o-", capsize=3, label="attack success (triggered test images, 95% CI)")
ax.plot(100 * pos["poison fraction"], 100 * pos["clean accuracy"], "s-", label="clean test accuracy")
ax.axhline(100 * baseline_acc, color="0.5", ls=":", label=f"clean accuracy without poison ({100 * baseline_acc:.1f}%)")
ax.axhline(90, color="C3", ls="--", lw=1, label="90% attack success")
ax.set(xscale="log", xlabel="poisoned training images (% of the training set, log scale)", ylabel="rate (%)",
       ylim=(-3, 103), title=f"BadNets on {source}: attack success vs poison rate")
ax.legend(fontsize=8, loc="center right")
plots.source_caption(fig, source, f"{n_train:,} training images, target class {target}, "
                     f"{int((y_test != target).sum()):,} triggered test images")
plt.show()
hit_rows = pos[(pos["attack success"] >= 0.9) & (pos["clean accuracy drop (points)"] < 1)]
first = hit_rows.iloc[0] if len(hit_rows) else None
display(Markdown(
    (f"With **{100 * first['poison fraction']:g}%** of the training set poisoned "
     f"({int(first['poisoned images'])} images) the trigger sends {100 * first['attack success']:.1f}% of "
     f"triggered test images to class {target}, while clean accuracy changes by "
     f"{first['clean accuracy drop (points)']:+.2f} points (a drop is positive). "
     if first is not None else "No poison rate in this sweep reached 90% attack success with a clean-accuracy drop "
     "below 1 point. ")
    + f"The chapter's target, at least 90% attack success with at most 1% of the images poisoned and less than "
    f"1 point of clean accuracy lost, is **{'met' if first is not None and first['poison fraction'] <= 0.01 else 'not met'}** "
    f"in this run. Clean accuracy cannot reveal the backdoor: it stays within "
    f"{sweep['clean accuracy drop (points)'].abs().max():.2f} points of the unpoisoned model's across the whole sweep."))

# %% [markdown]
# ## Clean-label backdoors: hard images make the trigger stick
#
# Relabelled images can be caught by anyone who looks at them. {cite:t}`turner2019label` ask
# whether an attacker who may only add *correctly labelled* images can still plant a backdoor.
# The obvious attempt stamps the trigger on images of the target class. It barely works: those
# images are easy to classify from their content, so the model has no reason to learn the trigger.
# Their remedy is to make the poisoned images hard first, here with an $L_\infty$ PGD
# perturbation (radius $\epsilon = 0.3$ by default, parameter `harden_eps`) against a *separately trained* model (same network,
# trained on a disjoint part of the training split), so that the trigger becomes the easiest
# explanation of their label. The trigger itself is stamped after the perturbation.

# %%
other_model = train_model(x_other, y_other, seed_=seed + 1)
n_target = int((y_train == target).sum())
cl_fraction = clean_label_share * n_target / n_train
plain = po.clean_label(x_train, y_train, cl_fraction, target=target, trigger=trigger, seed=seed)
hardened = po.clean_label(x_train, y_train, cl_fraction, target=target, trigger=trigger, seed=seed,
                          harden_model=other_model, eps=harden_eps, steps=harden_steps)
hard_x = hardened.x[hardened.idx].to(dev).float() / 255
other_acc_hard = attacks.accuracy(other_model, hard_x, y_train[hardened.idx].to(dev))
clean_label_rows = []
for label, pset in (("plain: trigger on target-class images", plain),
                    (f"hardened: PGD-{harden_steps}, eps {harden_eps:g}, then trigger", hardened)):
    model = train_model(pset.x, pset.y)
    hits, n = success(model)
    lo, hi = stats.clopper_pearson(hits, n)
    clean_label_rows.append({"poisoning": label, "poisoned images": len(pset.idx), "attack success (%)": 100 * hits / n,
                             "95% CI": f"{100 * float(lo):.1f} to {100 * float(hi):.1f}",
                             "clean accuracy (%)": 100 * clean_accuracy(model)})
clean_label = pd.DataFrame(clean_label_rows).set_index("poisoning")
display(clean_label.round(1))

# %%
show = hardened.idx[:6]
fig = plots.image_grid(np.concatenate([plain.x[show].numpy(), hardened.x[show].numpy()]),
                       titles=[f"plain, label {target}"] * len(show) + [f"hardened, label {target}"] * len(show),
                       ncols=len(show), scale=1.1, suptitle=f"Clean-label poisons on {source} (labels unchanged)")
plots.source_caption(fig, source, f"hardened: PGD-{harden_steps}, L-inf eps {harden_eps:g}, against a separately trained model")
plt.show()
cl_plain, cl_hard = (float(v) / 100 for v in clean_label["attack success (%)"])
display(Markdown(
    f"Both attacks poison {len(plain.idx):,} images ({100 * cl_fraction:.1f}% of the training set, "
    f"{100 * clean_label_share:.0f}% of class {target}); the separately trained model classifies only "
    f"{100 * other_acc_hard:.1f}% of the hardened images correctly. Plain stamping reaches "
    f"{100 * cl_plain:.1f}% attack success and hardened poisons {100 * cl_hard:.1f}% "
    + ("(hardening helps, as Turner et al. found, " if cl_hard > cl_plain else
       "(hardening did *not* help here, unlike in Turner et al.'s experiments, ")
    + "who report the effect on CIFAR-10 with much longer training). "
    + f"Compare BadNets, which needs only a few dozen *relabelled* images for a stronger backdoor on the same data: "
    "with short training the model fits hard target-class images from their (perturbed) content rather than "
    "memorizing them, so most of the pressure to use the trigger is missing."))

# %% [markdown]
# ## Finding the poisons: spectral signatures
#
# Poisoned images share something the clean images of the target class lack, the trigger, and a
# model that uses the trigger must represent it. {cite:t}`tran2018spectral` turn this into a
# detector. Take the learned representations $R_i$ (here: the 100 hidden units feeding the last
# layer) of all training images *labelled* $t$, centre them, and find the top right singular
# vector $v$ of the centred matrix. The outlier score of image $i$ is the squared projection
# $\tau_i = ((R_i - \bar R) \cdot v)^2$. If the poisons shift the mean far enough along a
# direction in which clean images vary little, they dominate the top singular direction and get
# the largest scores. We remove the $1.5\times$ (expected number of poisons) highest-scoring
# images and train again from scratch.
#
# Tran et al. poison from **one source class** (e.g. every poison is a trigger-stamped *7*
# relabelled *0*). Our sweep above drew its poisons from all nine other classes. We run the
# detector on both: the sweep's model at the same poison rate, and a model poisoned from one
# source class, `spectral_source`.

# %%
bd_model, bd_set = kept_models[spectral_fraction]
spec_all = po.spectral_defence(bd_model, bd_set, target, spectral_factor)  # poisons from every other class
ss_set = po.badnets(x_train, y_train, spectral_fraction, target=target, trigger=trigger, seed=seed,
                    source=spectral_source)
ss_model = train_model(ss_set.x, ss_set.y)
spec = po.spectral_defence(ss_model, ss_set, target, spectral_factor)  # poisons from one source class
cleaned_model = train_model(ss_set.x[spec.keep], ss_set.y[spec.keep])
hits_before, n_s = po.attack_success(ss_model, x_test, y_test, target=target, trigger=trigger, source=spectral_source)
hits_after, _ = po.attack_success(cleaned_model, x_test, y_test, target=target, trigger=trigger, source=spectral_source)

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for ax, (title, res) in zip(axes, ((f"poisons from classes != {target}", spec_all),
                                   (f"poisons from class {spectral_source} only", spec))):
    bins = np.linspace(0, float(res.scores.max()), 50)
    ax.hist(res.scores[~res.is_poison].numpy(), bins=bins, alpha=0.7,
            label=f"clean images of class {target} ({int((~res.is_poison).sum()):,})")
    ax.hist(res.scores[res.is_poison].numpy(), bins=bins, alpha=0.7, label=f"poisons ({int(res.is_poison.sum())})")
    cut = float(res.scores.topk(len(res.removed)).values.min())
    ax.axvline(cut, color="k", ls="--", lw=1, label=f"removal threshold (top {len(res.removed)})")
    ax.set(yscale="log", xlabel="spectral outlier score (squared projection)", ylabel="training images (log scale)",
           title=f"{title}: recall {100 * res.recall:.0f}%")
    ax.legend(fontsize=7)
fig.suptitle(f"Spectral signatures, {source}, {100 * spectral_fraction:g}% of the training set poisoned")
plots.source_caption(fig, source, f"training images labelled {target}; representation: hidden layer of the small CNN")
plt.show()
display(Markdown(
    f"With poisons from one source class, removing the {len(spec.removed)} highest-scoring of the "
    f"{len(spec.labelled):,} images labelled {target} catches **{100 * spec.recall:.1f}%** of the "
    f"{int(spec.is_poison.sum())} poisons; after retraining on the rest, the attack succeeds on "
    f"{100 * hits_before / n_s:.1f}% → **{100 * hits_after / n_s:.1f}%** of the triggered test images of class "
    f"{spectral_source} (clean accuracy {100 * clean_accuracy(cleaned_model):.1f}%). With poisons drawn from every "
    f"other class, the same detector catches only **{100 * spec_all.recall:.1f}%** (chance: "
    f"{100 * len(spec_all.removed) / len(spec_all.labelled):.0f}%). "
    + ("The defence removed the backdoor in the single-source case. " if hits_after / n_s < 0.2 else
       "Even the single-source filter left enough poisons for the backdoor to survive. ")
    + "A single source class moves all poisons the same way in representation space, which the top singular "
      "direction picks up; poisons from nine classes spread over many directions and hide in the natural "
      f"variation of the class ({source}, profile `{profile}`)."))

# %% [markdown]
# ## Spurious correlations: a planted background cue
#
# Backdoors are planted on purpose; shortcuts arise by themselves. {cite:t}`xiao2020noise`
# built ImageNet-9 test sets in which an object is pasted onto the background of another image:
# of the same class (Mixed-Same), of a random class (Mixed-Rand), or no object at all (Only-BG).
# A ResNet-50 scores 95.6% on the original images, 86.2% on Mixed-Same and 78.9% on Mixed-Rand
# (the *BG-gap* is 7.3 points), and far above chance on backgrounds alone. We plant such a
# background ourselves: the dark background of each digit is filled with a faint grating whose
# orientation encodes a class. In a share `cue_agree` (90% by default) of the training images it
# encodes the true label, in the rest a random class. A control model sees the same gratings with random
# classes only.

# %%
cue_train = po.cue_classes(y_train, cue_agree, num_classes=num_classes, seed=seed)
x_cue = po.add_background(x_train, cue_train, amplitude=cue_amplitude, seed=seed)
cue_model = train_model(x_cue, y_train)
x_ctrl = po.add_background(x_train, po.cue_classes(y_train, 0.0, seed=seed), amplitude=cue_amplitude, seed=seed)
control_model = train_model(x_ctrl, y_train)

y_test_c = y_test.cpu()
variants = {  # name: (cue class per test image, keep the digit?)
    "original (cue agrees)": (y_test_c, True),
    "mixed-same (new background of the same class)": (y_test_c, True),
    "mixed-rand (cue random)": (po.cue_classes(y_test_c, 0.0, seed=seed + 1), True),
    "mixed-other (cue of a random other class: disagrees)": (po.cue_classes(y_test_c, 0.0, mode="agree_else_other",
                                                                            seed=seed + 2), True),
    "only-BG (digit removed)": (y_test_c, False),
}
table, cue_acc = [], {}
for i, (label, (cue, keep_digit)) in enumerate(variants.items()):
    xt = po.add_background(test_set.x, cue, amplitude=cue_amplitude, seed=seed + 10 + i, foreground=keep_digit)
    xt = xt.to(dev).float() / 255
    table.append({"test set": label, "cue model (%)": 100 * attacks.accuracy(cue_model, xt, y_test),
                  "control model (%)": 100 * attacks.accuracy(control_model, xt, y_test)})
cue_table = pd.DataFrame(table).set_index("test set")
cue_acc = {"agree": cue_table.iloc[0, 0] / 100, "random": cue_table.iloc[2, 0] / 100,
           "disagree": cue_table.iloc[3, 0] / 100, "only_background": cue_table.iloc[4, 0] / 100}
display(cue_table.round(1))

# %%
show = torch.arange(6)
demo = [po.add_background(test_set.x[show], cue, amplitude=cue_amplitude, seed=seed, foreground=keep)
        for cue, keep in ((y_test_c[show], True), ((y_test_c[show] + 1) % num_classes, True), (y_test_c[show], False))]
fig = plots.image_grid(torch.cat(demo).numpy(), titles=["original"] * 6 + ["cue of next class"] * 6 + ["only-BG"] * 6,
                       ncols=6, scale=1.1, suptitle=f"{source} digits on class-coded gratings")
plots.source_caption(fig, source, f"grating amplitude {cue_amplitude:g}; orientation = 18 degrees x class")
plt.show()
gap = cue_table.iloc[1, 0] - cue_table.iloc[2, 0]
display(Markdown(
    f"The cue model scores {cue_table.iloc[0, 0]:.1f}% when the background agrees, {cue_table.iloc[2, 0]:.1f}% when it "
    f"is random and {cue_table.iloc[3, 0]:.1f}% when it points to another class; a background-only image is "
    f"classified as its background's class {cue_table.iloc[4, 0]:.1f}% of the time (chance: 10%). Its BG-gap "
    f"(mixed-same minus mixed-rand) is **{gap:.1f} points**, against 7.3 for ImageNet-9's ResNet-50 "
    f"(Xiao et al.). The control model, which never saw the cue agree with the label, scores "
    f"{cue_table.iloc[2, 1]:.1f}% on mixed-rand. The digit was always enough to predict the label, so nothing "
    + (f"forced the cue model to use the background; it did because the cue agreed with the label on "
       f"{100 * cue_agree:.0f}% of its training images." if gap > 1 else
       "forced the cue model to use the background, and in this run it barely did.")))

# %% [markdown]
# ## Saliency maps: does the model look at the trigger?
#
# A saliency map assigns each pixel a share of the responsibility for a class score $f_c(x)$
# (the logit). The **vanilla gradient** $\nabla_x f_c(x)$ {cite}`simonyan2014deep` is noisy;
# **SmoothGrad** averages it over noisy copies $x + z$, $z \sim \mathcal N(0, \sigma^2 I)$
# {cite}`smilkov2017smoothgrad`; **integrated gradients** integrate it along the straight path
# from a black baseline $x_0$, $\mathrm{IG}(x) = (x - x_0) \odot \int_0^1 \nabla f_c(x_0 +
# a(x - x_0))\,da$, so that the attributions add up to $f_c(x) - f_c(x_0)$
# {cite}`sundararajan2017axiomatic`. We compute all three, for the target class, on triggered
# test images of other classes, for three models: the clean model, the backdoored model of the
# previous section and a robust model (FGSM-RS adversarial training, chapter 4). The number that
# summarizes them is the share of the saliency mass $\sum_j |S_j|$ inside the trigger patch
# (9 of 784 pixels, 1.1% of an MNIST image).

# %%
robust_model = train_model(x_train, y_train, method="fgsm_rs", eps=robust_eps)
trio = {"clean": kept_models[0][0] if 0 in kept_models else train_model(x_train, y_train),
        f"backdoored ({100 * spectral_fraction:g}% poisoned)": bd_model,
        f"robust (FGSM-RS, eps {robust_eps:g})": robust_model}
pick = torch.nonzero(y_test != target).flatten()[:n_saliency]
x_trig = po.stamp(x_test_f[pick], trigger)
gen = torch.Generator(device=dev).manual_seed(seed)
maps, share_rows = {}, []
for mname, model in trio.items():
    for method, fn in sal.METHODS.items():
        kw = ({"sigma": smoothgrad_sigma, "n_samples": smoothgrad_samples, "generator": gen} if method == "SmoothGrad"
              else {"steps": ig_steps} if method == "integrated gradients" else {})
        attr = fn(model, x_trig, target, **kw)
        maps[mname, method] = attr[:4].cpu()
        share_rows.append({"model": mname, "method": method,
                           "trigger share of |saliency| (%)": 100 * float(sal.region_share(attr, trigger_mask).mean())})
shares = pd.DataFrame(share_rows).pivot(index="model", columns="method", values="trigger share of |saliency| (%)")
shares = shares.loc[list(trio)][list(sal.METHODS)]
display(shares.round(1))

# %%
k_show = 2
fig, axes = plt.subplots(len(trio) * k_show, 4, figsize=(7.2, 1.9 * len(trio) * k_show))
for r, mname in enumerate(trio):
    for j in range(k_show):
        ax_row = axes[r * k_show + j]
        ax_row[0].imshow(x_trig[j].cpu().permute(1, 2, 0).squeeze(-1), cmap="gray", vmin=0, vmax=1)
        ax_row[0].set_title(f"{mname}\ntrue {int(y_test[pick[j]])}, triggered", fontsize=7)
        for c, method in enumerate(sal.METHODS, start=1):
            ax_row[c].imshow(sal.heatmap(maps[mname, method][j:j + 1])[0], cmap="inferno", vmin=0, vmax=1)
            rows_t, cols_t = trigger.region(image_size, image_size)
            ax_row[c].add_patch(plt.Rectangle((cols_t.start - 0.5, rows_t.start - 0.5), trigger_size, trigger_size,
                                              fill=False, ec="cyan", lw=1))
            ax_row[c].set_title(f"{method}\n(class {target})", fontsize=7)
plots.hide_ticks(axes)
fig.suptitle(f"Saliency for class {target} on triggered {source} test images (|attribution|, per-image scale)", fontsize=9)
plots.source_caption(fig, source, "cyan square: trigger patch")
plt.show()

# %%
x_plain = x_test_f[pick[:4]]
labels_plain = y_test[pick[:4]]
fig, axes = plt.subplots(3, 4, figsize=(7.2, 5.6))
for c in range(4):
    axes[0, c].imshow(x_plain[c].cpu().permute(1, 2, 0).squeeze(-1), cmap="gray", vmin=0, vmax=1)
    axes[0, c].set_title(f"clean test image, label {int(labels_plain[c])}", fontsize=7)
    for r, mname in enumerate([list(trio)[0], list(trio)[2]], start=1):
        g = sal.vanilla_gradient(trio[mname], x_plain[c:c + 1], labels_plain[c:c + 1]).cpu()
        axes[r, c].imshow(g[0].sum(0), cmap="RdBu_r", vmin=-float(g.abs().max()), vmax=float(g.abs().max()))
        axes[r, c].set_title(f"{mname.split(' (')[0]} model: gradient of true class", fontsize=7)
plots.hide_ticks(axes)
fig.suptitle(f"Vanilla gradients on clean {source} images: standard vs robust model (red +, blue -)", fontsize=9)
plots.source_caption(fig, source, "signed gradient of the true-class logit, summed over channels")
plt.show()
bd_name, rob_name = list(trio)[1], list(trio)[2]
display(Markdown(
    f"On triggered images the backdoored model puts {shares.loc[bd_name, 'vanilla gradient']:.1f}% (vanilla gradient), "
    f"{shares.loc[bd_name, 'SmoothGrad']:.1f}% (SmoothGrad) and {shares.loc[bd_name, 'integrated gradients']:.1f}% "
    f"(integrated gradients) of its saliency for class {target} on the trigger patch, which covers "
    f"{100 * trigger_size ** 2 / image_size ** 2:.1f}% of the image; the clean model puts "
    f"{shares.loc['clean', 'vanilla gradient']:.1f}%, {shares.loc['clean', 'SmoothGrad']:.1f}% and "
    f"{shares.loc['clean', 'integrated gradients']:.1f}% there."))

# %% [markdown]
# In the last figure, compare the robust model's gradients with the standard model's: adversarial
# training tends to make input gradients *perceptually aligned*, concentrated on the strokes
# that distinguish one digit from another rather than scattered over the image
# {cite}`tsipras2019robustness`. A saliency map can point at a known trigger, but it is no proof
# of where a model looks: some methods barely change when the model's weights are randomized
# {cite}`adebayo2018sanity`.

# %% [markdown]
# ## CIFAR-10: a subset on the CPU, the full set on a GPU
#
# Does the BadNets curve look the same on natural images? In the `cpu` profile we train the same
# small CNN on a 10,000-image subset of CIFAR-10 (6 epochs) at three poison rates, once on the
# images as they are and once with the usual random crops and flips. The `gpu` profile runs all
# four experiments of this chapter on CIFAR-10 with `reliable_ml.experiments.backdoor_cifar`: a
# PreActResNet-18 {cite}`he2016identity` trained for 15 epochs (no augmentation, see below) on
# all 50,000 training images for each of seven BadNets poison rates, plain and
# hardened clean-label poisons (PGD at $\epsilon = 16/255$ against a separately trained model),
# spectral signatures, and a class-coded grating blended into 90% of the images. Offline, the
# data is a JPEG (quality 75) re-encoding of CIFAR-10, and results are labelled so.

# %%
cifar, cifar_subset = None, None
if profile == "gpu":
    out = backdoor_cifar.run("gpu", progress=True, save=False, seed=seed)
    cifar = out["figures"] | {"data_source": out["data_source"], "device": reliable_ml.device_name(dev)}
else:
    if profile == "cpu":
        try:
            out = backdoor_cifar.run("cpu", progress=True, save=False, seed=seed)
            cifar_subset = out["figures"] | {"data_source": out["data_source"]}
            # the same three models trained with random crops (zero padding 4) and horizontal flips
            augmented = replace(backdoor_cifar.SETTINGS["cpu"].train, augment=True)
            out_aug = backdoor_cifar.run("cpu", progress=True, save=False, seed=seed, train=augmented)
            cifar_subset["with_crop_flip"] = {k: out_aug["figures"][k] for k in
                                              ("attack_success_by_poison_fraction", "clean_acc_by_poison_fraction")}
        except DataUnavailable as exc:
            notes.show_note(f"The CIFAR-10 subset part needs CIFAR-10, which is not available here ({exc}). "
                            "Set RELIABLE_ML_DATA to a folder holding `cifar-10-batches-py` or the JPEG copy "
                            "`cifar10-jpeg/{train,test}`, or run with internet access to download it.",
                            kind="warning", title="CIFAR-10 missing")
    try:
        cifar = results.load("07_backdoors_and_spurious_correlations", "gpu")  # CIFAR-10 figures at the top level
    except FileNotFoundError:
        notes.show_note("GPU results appear here when results/gpu/07_backdoors_and_spurious_correlations.json "
                        "exists: run `python -m reliable_ml run 07 --profile gpu` on a machine with a GPU.",
                        title="No GPU results yet")
if cifar_subset:
    sub_x = [100 * float(k) for k in cifar_subset["attack_success_by_poison_fraction"]]
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ax.plot(sub_x, [100 * v for v in cifar_subset["attack_success_by_poison_fraction"].values()], "o-",
            label="attack success (triggered test images)")
    ax.plot(sub_x, [100 * v for v in cifar_subset["clean_acc_by_poison_fraction"].values()], "s--",
            label="clean test accuracy")
    aug = cifar_subset["with_crop_flip"]
    ax.plot(sub_x, [100 * v for v in aug["attack_success_by_poison_fraction"].values()], "o-", color="C3",
            label="attack success, trained with crops + flips")
    ax.set(xlabel="poisoned training images (% of training set)", ylabel="%", ylim=(-2, 102),
           title=f"BadNets on a {cifar_subset['n_train']:,}-image subset of {cifar_subset['data_source']}")
    ax.legend()
    plots.source_caption(fig, cifar_subset["data_source"], f"{cifar_subset['architecture']}, "
                         f"{cifar_subset['train_epochs']} epochs; {cifar_subset['n_eval']:,} test images")
    plt.show()
    display(Markdown(
        f"On the CIFAR-10 subset ({cifar_subset['data_source']}), BadNets reaches "
        + ", ".join(f"{100 * v:.1f}% attack success at {100 * float(k):g}% poisoned"
                    for k, v in cifar_subset["attack_success_by_poison_fraction"].items() if float(k) > 0)
        + f"; clean accuracy is {100 * cifar_subset['clean_acc_by_poison_fraction']['0']:.1f}% without poison "
          f"(a small CNN after half a minute of CPU training, far below a ResNet's). Trained with random crops "
          f"and flips, the same poisons give only "
        + ", ".join(f"{100 * v:.1f}% at {100 * float(k):g}%" for k, v in aug["attack_success_by_poison_fraction"].items()
                    if float(k) > 0)
        + ": a flip moves the corner trigger to the other side and a crop can cut it off, so in short training "
          "the model does not pick it up. This is why Turner et al. stamp their trigger in all four corners."))
if cifar:
    curve = ", ".join(f"{100 * float(k):g}%: {100 * v:.1f}%" for k, v in cifar["attack_success_by_poison_fraction"].items())
    display(Markdown(
        f"**{cifar['data_source']}** ({cifar.get('device', 'GPU')}), {cifar['architecture']}: BadNets attack success "
        f"by poison rate {curve}. Clean-label: plain {100 * cifar['clean_label_success_plain']:.1f}%, hardened "
        f"{100 * cifar['clean_label_success_hardened']:.1f}%. Spectral recall "
        f"{100 * cifar['spectral_detection_recall']:.1f}% (one source class), "
        f"{100 * cifar['spectral_detection_recall_all_sources']:.1f}% (all classes); planted cue: "
        + ", ".join(f"{k} {100 * v:.1f}%" for k, v in cifar["spurious_cue_acc"].items()) + "."))

# %% [markdown]
# ## What it means
#
# * A handful of poisoned images, a fraction of a percent of the training set, can plant a
#   backdoor that clean test accuracy cannot reveal: test accuracy measures the data you test on,
#   not the data an attacker will show the model.
# * Correct labels are no guarantee either: trigger-stamped images of the target class plant a
#   weak backdoor, and Turner et al. make it strong on CIFAR-10 by hardening the poisons first.
#   Whether hardening helps in the short MNIST runs here, the clean-label table says; the attack
#   is far less reliable than BadNets.
# * Defences that look for poisons in the learned representation work only when the poisons
#   stand out in it: spectral signatures find poisons that come from one source class and
#   miss the same number drawn from all classes. Check the recall, not just the idea: a detector
#   that misses even a fifth of the poisons can leave enough of them for the backdoor to survive.
# * Spurious cues need no attacker. A model uses any feature that predicts the label in its
#   training data, and tests in which the cue is randomized or reversed show how much.
# * Saliency maps can confirm a suspected trigger, and a robust model's gradients are easier
#   to read, but they are a diagnostic to be checked, not an explanation to be trusted.

# %%
sweep_key = {backdoor_cifar.fraction_key(f): i for i, f in enumerate(sweep["poison fraction"])}
figures = {
    "attack_success_by_poison_fraction": {k: float(sweep["attack success"].iloc[i]) for k, i in sweep_key.items()},
    "clean_acc_by_poison_fraction": {k: float(sweep["clean accuracy"].iloc[i]) for k, i in sweep_key.items()},
    "poisoned_images_by_poison_fraction": {k: int(sweep["poisoned images"].iloc[i]) for k, i in sweep_key.items()},
    "attack_success_ci_by_poison_fraction": {k: [float(sweep["success low"].iloc[i]), float(sweep["success high"].iloc[i])]
                                             for k, i in sweep_key.items()},
    "target_met": bool(first is not None and first["poison fraction"] <= 0.01),
    "clean_label_success_plain": cl_plain, "clean_label_success_hardened": cl_hard,
    "clean_label_poisons": len(plain.idx), "clean_label_share_of_target": clean_label_share,
    "harden_eps": harden_eps, "harden_steps": harden_steps, "hardened_acc_of_source_model": other_acc_hard,
    "spectral_fraction": spectral_fraction, "spectral_source": spectral_source,
    "spectral_detection_recall": spec.recall, "spectral_detection_recall_all_sources": spec_all.recall,
    "spectral_removed": len(spec.removed), "spectral_attack_success_before": hits_before / n_s,
    "spectral_attack_success_after": hits_after / n_s,
    "spurious_cue_acc": cue_acc, "cue_agree": cue_agree,
    "backgrounds_table": cue_table.round(2).to_dict(orient="index"), "bg_gap_points": gap,
    "saliency_trigger_share": {m: {meth: float(shares.loc[m, meth]) / 100 for meth in shares.columns} for m in shares.index},
    "trigger_area_share": trigger_size ** 2 / image_size ** 2, "n_saliency": len(pick),
    "n_train": n_train, "epochs": epochs, "target": target, "trigger": f"{trigger_size}x{trigger_size} checkerboard",
    "robust_eps": robust_eps, "architecture": "small CNN (Wong et al. 2020 MNIST net)",
    "published_xiao2020_resnet50": {"original": 0.956, "mixed_same": 0.862, "mixed_rand": 0.789},
}
sources = source
if cifar_subset:
    figures["cifar10_subset"] = {k: v for k, v in cifar_subset.items() if k != "data_source"}
    sources = {"mnist": source, "cifar10_subset": cifar_subset["data_source"]}
if cifar and profile == "gpu":  # as in chapter 4: CIFAR-10 at the top level (the entry point's layout), MNIST nested
    figures = {"mnist": figures, **{k: v for k, v in cifar.items() if k not in ("data_source", "device")}}
    sources = {"mnist": source, "cifar10": cifar["data_source"]}
path = run.save(figures, data_source=sources)
print(f"saved results/{profile}/{path.name} after {run.wall_seconds:.0f} s")
