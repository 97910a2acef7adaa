r"""Non-robust features: the relabelled training sets of Ilyas et al. (2019), and what robust models see.

**Relabelled sets** ("Adversarial examples are not bugs, they are features", Ilyas, Santurkar,
Tsipras, Engstrom, Tran, Madry 2019, section 3.2). Take a *standard* model :math:`f` and a
training set :math:`D = \{(x_i, y_i)\}`. For each example pick a target

* :math:`t_i = (y_i + 1) \bmod K` (:math:`D_{det}`, "deterministic"), or
* :math:`t_i \sim \mathrm{Uniform}\{0, \dots, K-1\}` (:math:`D_{rand}`),

move :math:`x_i` by a small *targeted* attack toward :math:`t_i`,

.. math:: x_i' = \arg\min_{\|x' - x_i\| \le \epsilon,\; x' \in [0,1]^d} L(f(x'), t_i)

(projected gradient descent, run for all its steps), and relabel: :math:`D' = \{(x_i', t_i)\}`.
To a person every label of :math:`D'` looks wrong: the images still show class :math:`y_i`.
A fresh model trained on :math:`D'` and tested on the *clean, correctly labelled* test set can
still score far above chance. In :math:`D_{rand}` the robust features (what a person sees) carry
no information about the label, so anything learned comes from the non-robust features the
attack planted; in :math:`D_{det}` they even point the wrong way (class ``y`` is labelled
``y + 1``).

**What robust models see** (Tsipras et al. 2019; Santurkar et al. 2019). Large-:math:`\epsilon`
targeted attacks on an adversarially trained model produce images that start to look like the
target class, and its input gradients concentrate on the object. Two numbers here:
:func:`judge_agreement` (how often an independent classifier, e.g. a pixel-space k-NN, assigns
the attack's target to the attacked images) and :func:`stroke_mass` (the share of a saliency
map's absolute mass that falls on a digit's strokes).
"""

from __future__ import annotations

import sys
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from reliable_ml.robust import attacks
from reliable_ml.util import evalcache, result_cache
from reliable_ml.util.progress import tqdm

MODES = ("det", "rand")


# --------------------------------------------------------------------------- targets
def targets(y: torch.Tensor, mode: str, num_classes: int = 10, seed: int = 0) -> torch.Tensor:
    r"""Attack targets: :math:`(y + 1) \bmod K` (``"det"``) or uniform over the K classes (``"rand"``).

    ``"rand"`` follows Ilyas et al.: a target may equal the true label (about 1 in K).
    """
    if mode not in MODES:
        raise ValueError(f"unknown relabelling mode {mode!r}; allowed: {', '.join(MODES)}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2; got {num_classes}")
    y = torch.as_tensor(y).long()
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"labels must lie in 0 .. {num_classes - 1}; got range [{int(y.min())}, {int(y.max())}]")
    if mode == "det":
        return (y + 1) % num_classes
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, num_classes, y.shape, generator=gen).to(y.device)


# --------------------------------------------------------------------------- the attack
def targeted_pgd(
    model: nn.Module,
    x: torch.Tensor,
    t: torch.Tensor,
    eps: float,
    *,
    norm: str = "l2",
    steps: int = 20,
    step_size: float | None = None,
    restarts: int = 1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Targeted PGD, *all* ``steps`` steps, from :math:`x` itself (no random start); returns the last iterate.

    .. math:: \delta_{k+1} = \Pi_\epsilon\big(\delta_k - \alpha\, s(\nabla_\delta L(f(x+\delta_k), t))\big),
              \qquad x + \delta \in [0, 1]

    with :math:`s` the sign (L-infinity) or :math:`g / \|g\|_2` (L2), step :math:`\alpha` (default
    :math:`2.5\,\epsilon/\text{steps}`) and the projection :func:`reliable_ml.robust.attacks.project`.
    Unlike :func:`reliable_ml.robust.attacks.pgd`, which returns the *first* iterate that reaches the
    target (the smallest change that fools the model), this keeps descending the target's loss,
    as the construction of Ilyas et al. and the large-eps images of Santurkar et al. need. With
    ``steps=1`` both give the same image wherever that one step reaches the target.

    ``restarts > 1``: the first run starts at :math:`x`, each further one from a uniform random
    point of the ball (``generator``); per image the last iterate of the run that reaches the
    target is kept (of those, the one of lowest target loss), else the one of lowest target loss.
    So restarts can never make the attack reach fewer targets.
    """
    attacks._check(x, t, eps, norm)
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1; got {steps!r}")
    if not isinstance(restarts, int) or restarts < 1:
        raise ValueError(f"restarts must be an integer >= 1; got {restarts!r}")
    alpha = 2.5 * eps / steps if step_size is None else step_size
    x = x.detach()
    best, best_score = x.clone(), torch.full((len(x),), float("inf"), device=x.device)
    with attacks._EvalMode(model), torch.enable_grad():
        for r in range(restarts):
            delta = torch.zeros_like(x) if r == 0 else attacks._random_start(x, eps, norm, generator)
            delta = ((x + delta).clamp(0, 1) - x).detach()
            for _ in range(steps):
                delta.requires_grad_(True)
                loss = nn.functional.cross_entropy(model(x + delta).float(), t, reduction="sum")
                (grad,) = torch.autograd.grad(loss, delta)
                step = grad.sign() if norm == "linf" else grad / attacks._lp_norm(grad).clamp_min(1e-12)
                delta = attacks.project(delta.detach() - alpha * step, eps, norm)
                delta = ((x + delta).clamp(0, 1) - x).detach()
            if restarts == 1:
                return (x + delta).to(x.dtype)
            with torch.no_grad():
                logits = model(x + delta).float()
                # a run that reaches the target always beats one that does not; then the lower loss wins
                score = nn.functional.cross_entropy(logits, t, reduction="none") - 1e6 * (logits.argmax(1) == t)
            better = score < best_score
            best[better], best_score[better] = (x + delta)[better], score[better]
    return best.to(x.dtype)


class Relabelled(NamedTuple):
    """A relabelled training set: ``x`` uint8 (N, C, H, W), labels ``t`` (the attack targets),
    the original labels ``y``, and ``hit``: bool (N,), the source model predicts ``t`` on ``x``."""

    x: torch.Tensor
    t: torch.Tensor
    y: torch.Tensor
    hit: torch.Tensor

    @property
    def hit_rate(self) -> float:
        """Share of images on which the source model predicts the new label."""
        return float(self.hit.float().mean()) if len(self.hit) else float("nan")


def relabel(
    model: nn.Module,
    x_uint8: torch.Tensor,
    y: torch.Tensor,
    mode: str,
    *,
    eps: float,
    norm: str = "l2",
    steps: int = 20,
    step_size: float | None = None,
    num_classes: int = 10,
    seed: int = 0,
    batch_size: int = 500,
    progress: bool = False,
    cache: bool = True,
) -> Relabelled:
    r"""Build :math:`D_{det}` or :math:`D_{rand}` (Ilyas et al. 2019) from uint8 images ``x_uint8``.

    Each image is moved by :func:`targeted_pgd` on ``model`` toward :func:`targets` ``(y, mode)``,
    rounded back to uint8 (a change of at most 0.5/255 per pixel), and labelled with its target.
    Runs on the model's device; returns CPU tensors. With ``cache`` the set is kept in the result
    cache (:mod:`reliable_ml.util.result_cache`), keyed by the model's weights, the images, the
    labels, every setting and the code of this module and the attacks: a warm re-run attacks nothing.
    """
    if x_uint8.dtype != torch.uint8 or x_uint8.ndim != 4 or len(x_uint8) != len(y):
        raise ValueError(
            f"x_uint8 must be uint8 (N, C, H, W) with N labels; got {x_uint8.dtype} "
            f"{tuple(x_uint8.shape)} and {len(y)} labels"
        )
    dev = next(model.parameters()).device
    settings = {
        "function": "relabel",
        "model": repr(model),
        "weights": evalcache.model_fingerprint(model),
        "device": dev.type,
        "mode": mode,
        "eps": float(eps),
        "norm": norm,
        "steps": steps,
        "step_size": step_size,
        "num_classes": num_classes,
        "seed": seed,
        "batch_size": batch_size,
    }

    def build() -> dict:
        r = _relabel(model, x_uint8, y, mode, eps, norm, steps, step_size, num_classes, seed, batch_size, progress)
        return r._asdict()

    out = result_cache.cached(
        "nonrobust_relabel",
        settings,
        build,
        tensors=[x_uint8, torch.as_tensor(y)],
        code=(sys.modules[__name__], attacks),
        models=0,
        enabled=cache,
    )
    return Relabelled(**out)


def _relabel(model, x_uint8, y, mode, eps, norm, steps, step_size, num_classes, seed, batch_size, progress):
    """:func:`relabel` without the cache (inputs checked)."""
    dev = next(model.parameters()).device
    t = targets(y, mode, num_classes, seed).cpu()
    out, hits = [], []
    starts = range(0, len(y), batch_size)
    for i in tqdm(starts, desc=f"relabel D_{mode}", disable=not progress, leave=False):
        xb = x_uint8[i : i + batch_size].to(dev).float() / 255
        tb = t[i : i + batch_size].to(dev)
        x_adv = targeted_pgd(model, xb, tb, eps, norm=norm, steps=steps, step_size=step_size)
        x_q = (x_adv * 255).round().clamp(0, 255).to(torch.uint8)
        with torch.no_grad(), attacks._EvalMode(model):
            hits.append((model(x_q.float() / 255).argmax(1) == tb).cpu())
        out.append(x_q.cpu())
    x_new = torch.cat(out) if out else x_uint8.clone()
    hit = torch.cat(hits) if hits else torch.zeros(0, dtype=torch.bool)
    return Relabelled(x_new, t, torch.as_tensor(y).cpu(), hit)


# --------------------------------------------------------------------------- what robust models see
def knn_judge(x_train_uint8: torch.Tensor, y_train: torch.Tensor, k: int = 5):
    """A k-nearest-neighbour classifier on raw pixels (scikit-learn), fitted on clean training images.

    It has no gradients to transfer an attack through: it says which training images an image is
    *close to in pixel space*, a crude stand-in for "what it looks like".
    """
    from sklearn.neighbors import KNeighborsClassifier

    x = x_train_uint8.reshape(len(x_train_uint8), -1).numpy().astype(np.float32) / 255
    return KNeighborsClassifier(n_neighbors=k).fit(x, np.asarray(y_train))


def judge_predictions(judge, x: torch.Tensor, *, cache: bool = True) -> np.ndarray:
    """The class ``judge`` (a fitted scikit-learn classifier or a torch model) assigns to each
    image of ``x`` (float in [0, 1]), as an int array.

    A k-NN judge's answers (:func:`knn_judge`) are kept in the result cache with ``cache``, keyed by
    its parameters, the images and labels it was fitted on, and the images ``x``."""
    if len(x) == 0:
        return np.zeros(0, dtype=int)
    if isinstance(judge, nn.Module):
        with torch.no_grad(), attacks._EvalMode(judge):
            return judge(x).argmax(1).cpu().numpy()
    flat = x.detach().reshape(len(x), -1).cpu()
    fitted = getattr(judge, "_fit_X", None)  # a fitted scikit-learn k-NN: its training data key the answers
    if fitted is None or not cache:
        return np.asarray(judge.predict(flat.numpy()))
    import sklearn

    settings = {
        "function": "judge_predictions",
        "judge": type(judge).__name__,
        "params": {k: repr(v) for k, v in judge.get_params().items()},
        "sklearn": sklearn.__version__,
    }
    labels = judge.classes_[judge._y]
    said = result_cache.cached(
        "knn_judge",
        settings,
        lambda: torch.from_numpy(np.ascontiguousarray(judge.predict(flat.numpy()))),
        tensors=[torch.from_numpy(np.ascontiguousarray(fitted)), torch.from_numpy(np.ascontiguousarray(labels)), flat],
        models=0,
    )
    return said.numpy()


def judge_agreement(judge, x: torch.Tensor, t: torch.Tensor) -> float:
    """Share of images ``x`` (float in [0, 1]) that ``judge`` (a fitted scikit-learn classifier
    or a torch model) assigns to the attack's target ``t``."""
    if len(x) != len(t):
        raise ValueError(f"x and t must have the same length; got {len(x)} and {len(t)}")
    pred = judge_predictions(judge, x)
    return float(np.mean(pred == t.cpu().numpy())) if len(t) else float("nan")


def stroke_mask(x: torch.Tensor, threshold: float = 0.5, dilate: int = 1) -> torch.Tensor:
    """Bool mask of a digit's strokes: pixels brighter than ``threshold`` (any channel), grown by
    ``dilate`` pixels (a max-pool), shape (B, 1, H, W)."""
    if x.ndim != 4:
        raise ValueError(f"expected images (B, C, H, W); got {tuple(x.shape)}")
    m = (x.amax(1, keepdim=True) > threshold).float()
    if dilate > 0:
        m = nn.functional.max_pool2d(m, 2 * dilate + 1, stride=1, padding=dilate)
    return m.bool()


def stroke_mass(saliency: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    r"""Per image, the share of absolute saliency on the mask: :math:`\sum_{j \in M} |s_j| / \sum_j |s_j|`.

    ``saliency`` (B, C, H, W) is summed in absolute value over channels; ``mask`` (B, 1, H, W).
    A map spread evenly over the image scores the mask's area share.
    """
    a = saliency.abs().sum(1, keepdim=True)
    if a.shape != mask.shape:
        raise ValueError(f"saliency summed over channels has shape {tuple(a.shape)} but mask has {tuple(mask.shape)}")
    return (a * mask).flatten(1).sum(1) / a.flatten(1).sum(1).clamp_min(1e-12)


def spread(values) -> dict:
    """Mean, sample standard deviation, min and max of per-seed values (in the units given)."""
    v = np.asarray(list(values), dtype=float)
    if v.size == 0:
        raise ValueError("spread of no values")
    return {
        "mean": float(v.mean()),
        "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
        "min": float(v.min()),
        "max": float(v.max()),
        "values": v.tolist(),
    }


# --------------------------------------------------------------------------- the whole experiment
def fresh_model(
    x: torch.Tensor, arch: str = "small_cnn", width: int = 64, seed: int = 0, device: torch.device | str = "cpu"
) -> nn.Module:
    """A freshly initialised (seeded) classifier for images like ``x`` (N, C, H, W):
    ``small_cnn`` or ``preact_resnet18`` (base ``width``)."""
    from reliable_ml.models import nets as models

    torch.manual_seed(seed)
    if arch == "small_cnn":
        return models.small_cnn(in_channels=x.shape[1], image_size=x.shape[-1]).to(device)
    if arch == "preact_resnet18":
        return models.preact_resnet18(in_channels=x.shape[1], width=width).to(device)
    raise ValueError(f"unknown arch {arch!r}; allowed: small_cnn, preact_resnet18")


def train_fresh(
    x_uint8: torch.Tensor,
    y: torch.Tensor,
    cfg,
    *,
    arch: str = "small_cnn",
    width: int = 64,
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: bool = False,
    cache: bool = True,
) -> nn.Module:
    """A :func:`fresh_model` (``arch``, ``width``, initialised with ``seed``) trained by
    :func:`reliable_ml.robust.train.train` on uint8 images ``x_uint8`` with labels ``y`` and ``cfg``
    (used as given, its own ``seed`` included), in eval mode.

    With ``cache`` the trained weights are kept in the result cache (:mod:`reliable_ml.util.result_cache`),
    keyed by the config, the images, the labels, the fresh model's initial weights (architecture and
    seed) and the code of the training loop: a warm re-run loads them instead of training.
    """
    from dataclasses import asdict

    from reliable_ml.robust import train as rt

    model = fresh_model(x_uint8, arch, width, seed, device)
    dev = next(model.parameters()).device
    settings = {"function": "train_fresh", "model": repr(model), "device": dev.type, "config": asdict(cfg)}

    def build() -> dict:
        rt.train(model, x_uint8, y, cfg, progress=progress)
        return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}

    initial = [v.detach() for v in model.state_dict().values()]
    weights = result_cache.cached(
        "nonrobust_models",
        settings,
        build,
        tensors=[x_uint8, torch.as_tensor(y), *initial],
        code=(rt,),
        enabled=cache,
    )
    model.load_state_dict(weights)
    return model.eval()


class RelabelExperiment(NamedTuple):
    """What :func:`relabel_experiment` returns: ``figures`` (percentages, see there), the source
    model, the two relabelled sets (``sets["det"]``, ``sets["rand"]``), per-seed accuracies (%)
    and ``indices``, the positions in the training split of the relabelled images."""

    figures: dict
    source: nn.Module
    sets: dict
    per_seed: dict
    indices: torch.Tensor


def relabel_experiment(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    *,
    train_cfg,
    eps: float,
    norm: str = "l2",
    steps: int = 20,
    n_source: int = 5000,
    n_relabel: int = 5000,
    seeds: int = 3,
    arch: str = "small_cnn",
    width: int = 64,
    num_classes: int = 10,
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: bool = False,
    cache: bool = True,
) -> RelabelExperiment:
    r"""Ilyas et al.'s experiment end to end on uint8 training images.

    1. train a standard *source* model on ``n_source`` training images (``train_cfg``, a
       :class:`reliable_ml.robust.train.TrainConfig` with ``method="standard"``);
    2. relabel ``n_relabel`` *other* training images (disjoint when the split has enough;
       otherwise the same images) into :math:`D_{det}` and :math:`D_{rand}` with :func:`relabel`;
    3. train ``seeds`` fresh models on each (seeds ``seed .. seed + seeds - 1``) and test them on
       the clean test set ``x_test`` (float in [0, 1]) with its true labels ``y_test``.

    ``figures``: ``source_test_acc``, ``d_det_test_acc``, ``d_rand_test_acc`` (means over seeds,
    in %), their ``*_spread`` (:func:`spread`, in %), ``chance`` (100 / K), hit rates of the
    attack on the source model, ``n_train``, ``n_source``, ``seeds``, ``eps``, ``norm``, ``steps``.

    With ``cache`` every trained model (:func:`train_fresh`) and relabelled set (:func:`relabel`)
    is kept in the result cache: a warm re-run only scores the models.
    """
    from dataclasses import replace

    if train_cfg.method != "standard":
        raise ValueError(f"the source and fresh models are standard models; got train_cfg.method={train_cfg.method!r}")
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1; got {seeds}")
    n_all = len(y_train)
    if n_source < 1 or n_relabel < 1 or n_source > n_all or n_relabel > n_all:
        raise ValueError(
            f"n_source and n_relabel must lie in 1 .. {n_all} (training images); got {n_source} and {n_relabel}"
        )
    perm = torch.randperm(n_all, generator=torch.Generator().manual_seed(seed))
    src_idx = perm[:n_source]
    rel_idx = perm[n_source : n_source + n_relabel] if n_source + n_relabel <= n_all else perm[:n_relabel]

    def fit(x, y, s):
        return train_fresh(
            x,
            y,
            replace(train_cfg, seed=s),
            arch=arch,
            width=width,
            seed=s,
            device=device,
            progress=progress,
            cache=cache,
        )

    source = fit(x_train[src_idx], y_train[src_idx], seed)
    sets = {
        mode: relabel(
            source,
            x_train[rel_idx],
            y_train[rel_idx],
            mode,
            eps=eps,
            norm=norm,
            steps=steps,
            num_classes=num_classes,
            seed=seed,
            progress=progress,
            cache=cache,
        )
        for mode in MODES
    }
    per_seed = {
        mode: [100 * attacks.accuracy(fit(sets[mode].x, sets[mode].t, seed + k), x_test, y_test) for k in range(seeds)]
        for mode in MODES
    }
    figures = {"source_test_acc": 100 * attacks.accuracy(source, x_test, y_test)}
    for mode in MODES:
        figures[f"d_{mode}_test_acc"] = float(np.mean(per_seed[mode]))
        figures[f"d_{mode}_test_acc_spread"] = spread(per_seed[mode])
        figures[f"d_{mode}_hit_rate"] = 100 * sets[mode].hit_rate
    figures |= {
        "chance": 100 / num_classes,
        "n_train": len(rel_idx),
        "n_source": n_source,
        "n_test": len(y_test),
        "seeds": seeds,
        "eps": eps,
        "norm": norm,
        "steps": steps,
        "epochs": train_cfg.epochs,
        "disjoint": n_source + n_relabel <= n_all,
    }
    return RelabelExperiment(figures, source, sets, per_seed, rel_idx)


def large_eps_figures(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    judge,
    *,
    eps: float,
    steps: int = 40,
    norm: str = "l2",
    num_classes: int = 10,
    small: float = 0.01,
    restarts: int = 1,
    seed: int = 0,
    cache: bool = True,
) -> dict:
    r"""Attack ``x`` (float in [0, 1], true labels ``y``) toward :math:`t = (y + 1) \bmod K` with a
    large-``eps`` :func:`targeted_pgd` (``restarts``, seeded by ``seed``) and measure what the images
    look like (shares in %):

    ``hit`` (``model`` predicts ``t``), ``judge_target`` / ``judge_true`` (the independent
    ``judge``, see :func:`judge_agreement`, says ``t`` / ``y``), ``stroke_mass`` (mean share of
    the vanilla gradient of the true class's logit on the clean image that falls on the
    strokes, :func:`stroke_mass`) and ``stroke_area`` (the strokes' share of the image, what an
    evenly spread map would score). ``x_adv`` holds the attacked images.

    Two baselines of the stroke measure: ``input_stroke_mass``, the score of the image itself
    used as a map (:math:`|x|`; no model at all, so a high stroke mass alone cannot show that a
    gradient "looks like the digit"), and ``zero_off_stroke``, the share (%) of off-stroke
    pixels where the gradient is exactly 0, and ``small_off_stroke``, the share (%) of off-stroke
    pixels whose gradient magnitude (summed over channels) is below ``small`` (1%) of that image's
    largest (exact zero is a poor test on float gradients; this says whether the gradient is
    *small* off the strokes). Per image, for paired tests: ``hit_each``,
    ``judge_target_each``, ``judge_true_each`` (bool numpy arrays) and ``stroke_mass_each``.

    With ``cache`` the attacked images, hits and gradients are kept in the result cache, keyed by
    the model's weights, the images, the settings and the code of this module, the attacks and the
    saliency maps (and the judge's answers, see :func:`judge_predictions`).
    """
    from reliable_ml.robust import saliency

    t = targets(y, "det", num_classes)

    def build() -> dict:
        gen = torch.Generator(device=x.device).manual_seed(seed)
        x_adv = targeted_pgd(model, x, t, eps, norm=norm, steps=steps, restarts=restarts, generator=gen)
        with torch.no_grad(), attacks._EvalMode(model):
            hit = (model(x_adv).argmax(1) == t).cpu()
        return {"x_adv": x_adv.cpu(), "hit": hit, "grad": saliency.vanilla_gradient(model, x, y).detach().cpu()}

    settings = {
        "function": "large_eps_figures",
        "model": repr(model),
        "weights": evalcache.model_fingerprint(model),
        "device": x.device.type,
        **{"eps": float(eps), "steps": steps, "norm": norm, "num_classes": num_classes},
        **{"restarts": restarts, "seed": seed},
    }
    run = result_cache.cached(
        "nonrobust_large_eps",
        settings,
        build,
        tensors=[x, y],
        code=(sys.modules[__name__], attacks, saliency),
        models=0,
        enabled=cache,
    )
    x_adv, grad, hit = run["x_adv"].to(x.device), run["grad"].to(x.device), run["hit"].numpy()
    mask = stroke_mask(x)
    said = judge_predictions(judge, x_adv, cache=cache)
    per_image_mass = stroke_mass(grad, mask)
    off = ~mask
    magnitude = grad.abs().sum(1, keepdim=True)
    zero = (magnitude == 0) & off
    small_ = (magnitude < small * magnitude.flatten(1).max(1).values.view(-1, 1, 1, 1)) & off
    return {
        "hit": 100 * float(hit.mean()),
        "judge_target": 100 * float(np.mean(said == t.cpu().numpy())),
        "judge_true": 100 * float(np.mean(said == y.cpu().numpy())),
        "stroke_mass": 100 * float(per_image_mass.mean()),
        "stroke_area": 100 * float(mask.float().mean()),
        "input_stroke_mass": 100 * float(stroke_mass(x, mask).mean()),
        "zero_off_stroke": 100 * float(zero.sum()) / max(int(off.sum()), 1),
        "small_off_stroke": 100 * float(small_.sum()) / max(int(off.sum()), 1),
        "hit_each": hit.astype(bool),
        "judge_target_each": said == t.cpu().numpy(),
        "judge_true_each": said == y.cpu().numpy(),
        "stroke_mass_each": per_image_mass.detach().cpu().numpy(),
        "x_adv": x_adv,
        "grad": grad,
    }


# --------------------------------------------------------------------------- verdicts and their words
def above_chance(accuracies_pct, n: int, chance_pct: float) -> list:
    """One :func:`reliable_ml.stats.against_reference` verdict per seed: is the accuracy (%, on
    ``n`` test images) above ``chance_pct``? The interval is the exact (Clopper-Pearson) 95%
    interval of the seed's count of correct images; differences are in fractions."""
    from reliable_ml import stats

    out = []
    for acc in accuracies_pct:
        k = int(round(float(acc) * n / 100))
        lo, hi = stats.clopper_pearson(k, n)
        out.append(stats.against_reference(k / n, (float(lo), float(hi)), chance_pct / 100))
    return out


def above_chance_words(det: list, rand: list) -> dict:
    """Chapter 10's words on the relabelled sets, from :func:`above_chance` verdicts of the
    :math:`D_{det}` and :math:`D_{rand}` seeds: ``mn_above`` (every seed above chance or not) and
    ``mn_det_verdict`` (what the sets teach: both, the random-target set only, or neither clearly)."""
    from reliable_ml import stats

    every = stats.consensus(det + rand) == "higher"
    above = (
        "every seed of both arms is above chance (each seed's exact 95% interval lies above it)"
        if every
        else "not every seed is shown above chance: "
        + stats.phrase_all(det + rand, "above chance", "below chance", "not distinguishable from chance", items="seeds")
    )
    if every:
        which = "even in the deterministic set, where the visible digit points to the wrong class"
    elif stats.consensus(rand) == "higher":
        which = (
            "in the random-target set; in the deterministic set, where the visible digit points to the wrong "
            "class, not every seed is shown above chance"
        )
    else:
        which = "but not in every seed even of the random-target set, so this run does not show it clearly"
    return {"mn_above": above, "mn_det_verdict": which}


def det_vs_rand(per_seed: dict) -> object:
    """Is a model trained on :math:`D_{det}` less accurate on clean test images than one trained on
    :math:`D_{rand}`? :func:`reliable_ml.stats.compare` of the per-seed accuracies, paired by seed
    (each seed initialises one model of each arm): the paired t test over the seeds. ``per_seed``:
    ``{"det": [...], "rand": [...]}`` in %, the same seeds in the same order."""
    from reliable_ml import stats

    det, rand = (np.asarray(per_seed[m], dtype=float) / 100 for m in ("det", "rand"))
    if len(det) != len(rand) or len(det) < 2:
        raise ValueError(f"need the same >= 2 seeds in both arms; got {len(det)} and {len(rand)}")
    return stats.compare(det, rand, paired=True, outcome="continuous")


def det_vs_rand_words(verdict) -> str:
    """Chapter 10's words for :func:`det_vs_rand`."""
    from reliable_ml import stats

    return stats.phrase(verdict, "higher", "lower", "a level the seeds cannot tell apart from the $D_{rand}$ models'")


def judge_reading(verdict) -> str:
    """What the pixel-space judge's verdict on :math:`D_{det}` (original label ``y`` against
    training label ``t``, McNemar on the same images) lets the chapter say about visibility."""
    if verdict.direction == "higher":
        return (
            "So what this experiment shows is features that a pixel-space judge does not see; whether a "
            "person would see them is not measured here."
        )
    if verdict.direction == "lower":
        return (
            "So the judge sees the target class in these images: at this radius the attack has drawn visible "
            "features, and this run cannot show that invisible features teach the task."
        )
    return (
        "So this run cannot tell whether the planted features are visible to a pixel-space judge; whether a "
        "person would see them is not measured here."
    )


def attack_reached(hit_each) -> object:
    """Did a targeted attack reach its target on most images? :func:`reliable_ml.stats.against_reference`
    of the hit share against 1/2, with the exact (Clopper-Pearson) 95% interval of the count."""
    from reliable_ml import stats

    hit = np.asarray(hit_each, dtype=bool)
    k, n = int(hit.sum()), len(hit)
    lo, hi = stats.clopper_pearson(k, n)
    return stats.against_reference(k / n, (float(lo), float(hi)), 0.5)


def robust_vs_standard(seen: dict) -> dict:
    """The verdicts of chapter 10's "what robust models see", from :func:`large_eps_figures`
    outputs ``seen[(seed, "standard" | "robust")]`` (all on the same images).

    ``robust_hit`` / ``standard_hit``: :func:`attack_reached` of the robust model / of each
    standard seed; ``judge_target`` / ``judge_true``: per seed, :func:`reliable_ml.stats.compare`
    (paired: McNemar's exact test on the same images) of the robust model's images against that
    seed's standard model's, for "the judge says the target" / "the judge says the true class".
    """
    from reliable_ml import stats

    seeds = sorted({s for s, _ in seen})
    rob = seen[(seeds[0], "robust")]

    def mcnemar(col):
        return [
            stats.compare(
                rob[col].astype(float), seen[(s, "standard")][col].astype(float), paired=True, outcome="binary"
            )
            for s in seeds
        ]

    return {
        "robust_hit": attack_reached(rob["hit_each"]),
        "standard_hit": [attack_reached(seen[(s, "standard")]["hit_each"]) for s in seeds],
        "judge_target": mcnemar("judge_target_each"),
        "judge_true": mcnemar("judge_true_each"),
    }


def hit_verdict_share(each):
    """Is a per-image 0/1 share above or below 1/2? :func:`reliable_ml.stats.against_reference` with
    the exact (Clopper-Pearson) 95% interval of the count."""
    from reliable_ml import stats

    each = np.asarray(each, dtype=bool)
    k, n = int(each.sum()), len(each)
    lo, hi = stats.clopper_pearson(k, n)
    return stats.against_reference(k / n, (float(lo), float(hi)), 0.5)


def robust_words(verdicts: dict, seen: dict) -> dict:
    """Chapter 10's sentences on "what robust models see", from :func:`robust_vs_standard`.

    ``rb_attack``: how often the attack reached its target, and, when it did *not* on most of the
    robust model's images, that it failed there; ``rb_judge``: the paired judge comparison;
    ``rb_verdict``: what that comparison can be read as: nothing when the attack did not reach the
    target on most images for the robust model or for any standard seed (the gate of
    :mod:`reliable_ml.robust.targeted_gate`).
    """
    from reliable_ml import stats

    seeds = sorted({s for s, _ in seen})
    rob = seen[(seeds[0], "robust")]
    k, n = int(rob["hit_each"].sum()), len(rob["hit_each"])
    lo, hi = (100 * (0.5 + d) for d in verdicts["robust_hit"].interval)  # the verdict holds share - 1/2
    std_hit = float(np.mean([seen[(s, "standard")]["hit"] for s in seeds]))
    attack_ok = verdicts["robust_hit"].direction == "higher" and stats.consensus(verdicts["standard_hit"]) == "higher"
    reached = (
        f"The attack reaches its target on {std_hit:.1f}% of the images for the standard models (mean over "
        f"seeds) and on {k} of the {n} images ({100 * k / n:.1f}%, exact 95% interval {lo:.1f}–{hi:.1f}%) for "
        "the robust model"
    )
    if attack_ok:
        attack = reached + ": it reaches the target on most images for both kinds of model."
    elif verdicts["robust_hit"].direction == "higher":
        attack = (
            reached
            + ": it reaches the target on most of the robust model's images, not on most of every standard model's."
        )
    else:
        attack = (
            reached + ". On the robust model the attack failed: it did not reach the target on most images, so "
            "this run says nothing about what a robust model's adversarial images look like."
        )
    judge = stats.phrase_all(
        verdicts["judge_target"],
        "the judge sees the target more often in the robust model's images than in the standard model's",
        "the judge sees the target less often in the robust model's images than in the standard model's",
        "the data cannot tell the two apart",
        "the standard seeds disagree",
        items="standard seeds",
    )
    judge = judge.split(", by ")[0]  # the per-seed differences with their intervals follow instead of a range
    per_seed = "; ".join(
        f"seed {s} {100 * v.difference:+.1f} ({100 * v.interval[0]:+.1f} to {100 * v.interval[1]:+.1f})"
        for s, v in zip(seeds, verdicts["judge_target"])
    )
    judge += (
        f" (robust minus standard, in points, with 95% intervals: {per_seed}); these intervals resample the "
        "images only and do not cover the robust model's training randomness (one robust model)"
    )
    which = stats.consensus(verdicts["judge_target"])
    if verdicts["robust_hit"].direction != "higher":
        verdict = (
            "Because the attack failed on the robust model, its attacked images stay close to the original digits, "
            f"and the judge still sees the original digit in {rob['judge_true']:.1f}% of them: the comparison "
            "measures the attack's failure, not the robust model's features, and concludes nothing about them. "
            "A fair test needs an attack that reaches the target on most of that model's images."
        )
    elif not attack_ok:
        verdict = (
            "Because the attack did not reach its target on most images for every standard seed, the comparison "
            "concludes nothing: a standard model's images that the attack left unchanged are no reference."
        )
    elif which == "higher":
        rob_t = hit_verdict_share(rob["judge_target_each"])
        std_t = [hit_verdict_share(seen[(s, "standard")]["judge_target_each"]) for s in seeds]
        std_target = float(np.mean([seen[(s, "standard")]["judge_target"] for s in seeds]))
        std_true = float(np.mean([seen[(s, "standard")]["judge_true"] for s in seeds]))
        rob_words = {"higher": "look like the target", "lower": "mostly do not look like the target"}.get(
            rob_t.direction, "cannot be shown to look like the target"
        )
        std_words = {"lower": "mostly not", "higher": "mostly so as well"}.get(
            stats.consensus(std_t), "not shown either way in every seed"
        )
        verdict = (
            f"For this L2-robust model the attack's end images {rob_words} to the judge ({rob['judge_target']:.1f}%); "
            f"for the standard models {std_words} ({std_target:.1f}%; the original digit in {std_true:.1f}%). "
            "These are the images where the attack ends after its steps, not the smallest change that flips "
            "the model, and one robust model."
        )
    elif which == "lower":
        verdict = (
            "Although the attack reached its target, the judge sees the target less often in the robust model's "
            "images: this run does not support the claim that a robust model's adversarial images look like the target."
        )
    else:
        verdict = "The seeds do not show the effect on that measure: this run cannot tell the two kinds of model apart."
    return {"rb_attack": attack, "rb_judge": judge, "rb_verdict": verdict}


# --------------------------------------------------------------------------- figures
def plot_relabelled(r: Relabelled, title: str, source: str, n: int = 10):
    """The first ``n`` images of a relabelled set, titled ``"<training label> [<original label>]"``."""
    from reliable_ml.util import plots

    titles = [f"{int(r.t[i])} [{int(r.y[i])}]" for i in range(min(n, len(r.t)))]
    fig = plots.image_grid(r.x[:n].numpy(), titles, ncols=n, suptitle=title)
    fig.subplots_adjust(top=0.72)  # room for the title above the per-image labels
    plots.source_caption(fig, source, "label used for training [original label]")
    return fig


def _dots(ax, columns: dict, colors=None) -> None:
    """One dot per seed and a square with mean +- sd per column of ``columns`` (name -> values)."""
    for j, vals in enumerate(columns.values()):
        vals = np.asarray(vals, dtype=float)
        ax.scatter(
            np.full(len(vals), j),
            vals,
            color=(colors or ["C0"] * len(columns))[j],
            zorder=3,
            label="one training seed" if j == 0 else None,
        )
        ax.errorbar(
            j + 0.15,
            vals.mean(),
            yerr=vals.std(ddof=1) if len(vals) > 1 else 0,
            fmt="s",
            color="k",
            capsize=4,
            label="mean ± sd" if j == 0 else None,
        )
    ax.set_xticks(range(len(columns)), list(columns))
    ax.set_xlim(-0.5, len(columns) - 0.3)
    ax.set_ylim(0, 100)


def plot_fresh_models(exp: RelabelExperiment, source: str):
    """Clean test accuracy of the fresh models per seed (dots) and mean +- sd, with chance and the source model."""
    import matplotlib.pyplot as plt

    from reliable_ml.util import plots

    f = exp.figures
    fig, ax = plt.subplots(figsize=(6, 3.4))
    _dots(ax, {f"trained on D_{m}": exp.per_seed[m] for m in MODES})
    ax.axhline(f["chance"], color="0.5", ls=":", label="chance")
    ax.axhline(f["source_test_acc"], color="C2", ls="--", label="source model (clean labels)")
    ax.set_ylabel("clean test accuracy (%)")
    ax.set_title("Fresh models trained only on relabelled images")
    ax.legend(loc="lower right", fontsize=8)
    plots.source_caption(fig, source, f"{f['n_train']:,} relabelled training images, {f['n_test']:,} test images")
    return fig


def plot_what_models_see(x: torch.Tensor, y: torch.Tensor, seen: dict, source: str, title: str, n: int = 8):
    """Rows: clean images, each model's attacked images, each model's |input gradient|
    (``seen``: model name -> :func:`large_eps_figures` output)."""
    import matplotlib.pyplot as plt

    from reliable_ml.util import plots

    rows = [("clean", x[:n], None)] + [(f"{k}: attacked", v["x_adv"][:n], None) for k, v in seen.items()]
    rows += [(f"{k}: |gradient|", v["grad"][:n].abs().sum(1, keepdim=True), "magma") for k, v in seen.items()]
    fig, axes = plt.subplots(len(rows), n, figsize=(1.1 * n, 1.25 * len(rows)), squeeze=False, constrained_layout=False)
    for r, (label, imgs, cmap) in enumerate(rows):
        for c in range(min(n, len(imgs))):
            img = imgs[c].detach().cpu()
            img = img / img.max().clamp_min(1e-12) if cmap else img
            axes[r, c].imshow(img.permute(1, 2, 0).squeeze(-1).numpy(), cmap=cmap or "gray", vmin=0, vmax=1)
        axes[r, 0].set_ylabel(label, fontsize=7)
    plots.hide_ticks(axes)
    for c in range(min(n, len(y))):
        axes[0, c].set_title(f"{int(y[c])} -> {(int(y[c]) + 1) % 10}", fontsize=8)
    fig.suptitle(title, fontsize=10)
    plots.source_caption(fig, source, "rows: clean test images, attacked images, input-gradient magnitudes")
    return fig


def plot_robust_summary(by_seed, source: str, extra: str):
    """Two panels over seeds: judge says target (%), gradient mass on strokes (%), standard vs robust.

    ``by_seed``: a DataFrame indexed by (seed, model) with the columns of :func:`large_eps_figures`."""
    import matplotlib.pyplot as plt

    from reliable_ml.util import plots

    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
    kinds = list(dict.fromkeys(by_seed.index.get_level_values("model")))
    for ax, col, label in (
        (axes[0], "judge_target", "judge says target (%)"),
        (axes[1], "stroke_mass", "gradient mass on strokes (%)"),
    ):
        _dots(ax, {k: by_seed.xs(k, level="model")[col] for k in kinds}, [f"C{j}" for j in range(len(kinds))])
        if col == "stroke_mass":
            ax.axhline(by_seed["stroke_area"].mean(), color="0.5", ls=":", label="strokes' share of the area")
        ax.set_ylabel(label)
        ax.legend(fontsize=7)
    fig.suptitle("What the models' large-eps images and gradients look like (squares: mean ± sd over seeds)")
    plots.source_caption(fig, source, extra)
    return fig


def train_cached(
    model: nn.Module, x_uint8: torch.Tensor, y: torch.Tensor, cfg, tag: str, progress: bool = False
) -> nn.Module:
    """:func:`reliable_ml.robust.train.train` with its checkpoint in the user cache, so that a rerun
    with the same data (``tag`` names it) and config loads the trained model instead of training again.

    The file is ``<cache>/models/<tag>-<hash of the config>.pt``; an interrupted run resumes.
    """
    import hashlib
    from dataclasses import asdict

    from reliable_ml.data import cache_dir
    from reliable_ml.robust import train as rt
    from reliable_ml.util import cachestats

    digest = hashlib.sha256(repr(sorted(asdict(cfg).items())).encode()).hexdigest()[:12]
    path = cache_dir() / "models" / f"{tag}-n{len(y)}-{digest}.pt"
    cachestats.record("nonrobust", hit=path.exists())  # a checkpoint left by an interrupted run counts as a hit
    rt.train(model, x_uint8, y, cfg, checkpoint=path, resume=True, progress=progress)
    return model


# --------------------------------------------------------------------------- words that follow the attack gate
def pair_passed(gate: dict, robust: str = "l2_robust", others=("linf_robust",)) -> bool:
    """Did the gate (:func:`reliable_ml.robust.targeted_gate.attack_gate`) pass for every model of the
    standard-vs-``robust`` comparison (every model judged except ``others``)?"""
    if robust not in gate["verdicts"]:
        raise ValueError(f"the gate judged no model {robust!r}; it judged {sorted(gate['verdicts'])}")
    return not [m for m in gate["failed"] if m not in others]


def stroke_words(passed: bool, robust_mass: float, standard_mass: float, standard_sd: float) -> str:
    """The stroke-share sentence of chapter 10, gated: read only when the attack passed for the models compared."""
    shares = (
        f"the L2-robust model's input gradients put {robust_mass:.1f}% of their mass on the strokes, the standard "
        f"models' {standard_mass:.1f}% ± {standard_sd:.1f} (mean ± sd over seeds)"
    )
    if passed:
        return shares[0].upper() + shares[1:] + "."
    return (
        "The attack did not pass its gate for the models compared, so this section reads nothing from their "
        f"gradients either; for the record, {shares}."
    )


def linf_words(gate: dict, linf_seen: dict, name: str = "linf_robust") -> str:
    """What chapter 10 may say about the shared L-infinity model: nothing when the attack failed on it."""
    v = gate["verdicts"][name]
    rate = gate["rates"][name]
    if v.direction == "higher":
        return (
            f"On the shared L∞ model the attack reaches its target on {rate:.1f}% of the images, most of them: "
            f"the judge sees the target in {linf_seen['judge_target']:.1f}% of its attacked images, and its "
            f"gradients put {linf_seen['stroke_mass']:.1f}% of their mass on the strokes."
        )
    reach = (
        f"reaches its target on fewer than half of the images ({rate:.1f}%)"
        if v.direction == "lower"
        else f"cannot be shown to reach its target on most of the images ({rate:.1f}%)"
    )
    return (
        f"On the shared L∞ model the attack {reach}: it fails the "
        "gate, so this section concludes nothing about that model's attacked images, nor from the share of its "
        f"gradients on the strokes ({linf_seen['stroke_mass']:.1f}%): where the attack cannot move the model, its "
        "gradients are no reading of what it sees."
    )


def thread_words(passed: bool, judge_verdicts) -> str:
    """Chapter 10's closing clause on Tsipras et al.'s claim, from the gate and the judge's verdicts."""
    from reliable_ml import stats

    if not passed:
        return "this chapter concludes nothing: its attack did not pass the gate for the models compared"
    if stats.consensus(judge_verdicts) == "higher":
        return (
            "for this chapter's L2-robust model, with an attack that passed its gate, the pixel-space judge sees the "
            "target more often in its attacked images than in each standard model's; the stroke share of its "
            "gradients cannot show alignment"
        )
    return "this chapter's measures do not confirm it for its L2-robust model, with an attack that passed its gate"
