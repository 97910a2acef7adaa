r"""The experiments of chapter 7 (backdoors and spurious correlations) on MNIST-sized images.

The chapter writes the ideas on the page (stamping a trigger, the spectral-signature score);
this module holds the loops, tables and figures around them, so the chapter stays short. The
models and the numbers computed from them (and kept in the result cache) come from
:mod:`reliable_ml.pipeline.backdoor_runs`, whose names are re-exported here:

* :func:`setup` loads the data once (a fixed training subset, a disjoint "other" part for
  the standard hardening model of the clean-label attack, the test set) into a :class:`Lab`;
* :func:`train_model` trains the chapter's small CNN (Adam, one-cycle, ``robust_train.train``);
* :func:`badnets_sweep` trains one model per (poison share, seed) and :func:`sweep_summary`
  gives mean, standard deviation and range over seeds;
* :func:`clean_label_hardening`, :func:`spectral_arms`, :func:`cue_arms` and
  :func:`saliency_study` run the other sections;
* the ``plot_*`` functions draw the chapter's figures (axes labelled, data source named).

Attack success is the share of triggered test images whose true class is not the target that
the model assigns to the target (Gu et al. 2017). The seed of a run fixes the poisoned
images, the initial weights and the batch order.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from reliable_ml import stats
from reliable_ml.pipeline import poisoning as po
from reliable_ml.pipeline.backdoor_runs import (  # noqa: F401  (the models and their cached results)
    CUE_TESTS,
    Lab,
    _code,
    badnets_sweep,
    cifar_subset,
    clean_accuracy,
    cue_arms,
    cue_test_sets,
    hits,
    random_name,
    saliency_study,
    setup,
    spectral_models,
    success,
    train_model,
)
from reliable_ml.robust import attacks
from reliable_ml.robust import saliency as sal
from reliable_ml.util import cachelock, cachestats, plots

try:
    from reliable_ml.util.progress import tqdm
except ImportError:  # pragma: no cover - tqdm comes with the requirements

    def tqdm(it, **_):
        return it


def sweep_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per poison share: poisoned images, attack success and clean accuracy (%) as mean, standard
    deviation (ddof 1; 0 with one seed) and range over seeds, and the clean-accuracy drop (points)."""
    g = runs.groupby("fraction")

    def sd(s):
        return float(s.std(ddof=1)) if len(s) > 1 else 0.0

    return pd.DataFrame(
        {
            "poisoned images": g["poisoned"].first(),
            "seeds": g.size(),
            "success mean (%)": 100 * g["success"].mean(),
            "success sd": 100 * g["success"].agg(sd),
            "success min (%)": 100 * g["success"].min(),
            "success max (%)": 100 * g["success"].max(),
            "clean mean (%)": 100 * g["clean"].mean(),
            "clean sd": 100 * g["clean"].agg(sd),
            "drop mean (points)": g["drop"].mean(),
            "drop sd": g["drop"].agg(sd),
        }
    )


def first_reliable(summary: pd.DataFrame, min_success: float = 90.0, max_drop: float = 1.0):
    """The smallest positive poison share whose *worst* seed reaches ``min_success`` % attack
    success with a mean clean-accuracy drop below ``max_drop`` points (``None`` if none)."""
    ok = summary[
        (summary.index > 0) & (summary["success min (%)"] >= min_success) & (summary["drop mean (points)"] < max_drop)
    ]
    return None if ok.empty else float(ok.index[0])


def plot_sweep(runs: pd.DataFrame, summary: pd.DataFrame, lab: Lab):
    """Attack success (every seed, and the mean) and clean accuracy vs poison share, log x."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.6, 4))
    pos, summ = runs[runs["fraction"] > 0], summary[summary.index > 0]
    ax.scatter(
        100 * pos["fraction"], 100 * pos["success"], s=14, color="C0", alpha=0.5, label="attack success, one seed"
    )
    ax.plot(100 * summ.index, summ["success mean (%)"], "o-", color="C0", label="attack success, mean over seeds")
    ax.errorbar(
        100 * summ.index,
        summ["clean mean (%)"],
        yerr=summ["clean sd"],
        fmt="s-",
        color="C1",
        capsize=3,
        label="clean test accuracy (mean ± sd)",
    )
    ax.axhline(90, color="C3", ls="--", lw=1, label="90% attack success")
    ax.set(
        xscale="log",
        xlabel="poisoned training images (% of the training set, log scale)",
        ylabel="rate (%)",
        ylim=(-3, 103),
        title=f"BadNets on {lab.source}: attack success vs poison rate",
    )
    ax.legend(fontsize=8, loc="center right")
    plots.source_caption(
        fig,
        lab.source,
        f"{len(lab.y_train):,} training images, {int(summary['seeds'].max())} "
        f"seeds, target class {lab.target}, {int(runs['n'].iloc[0]):,} triggered test images",
    )
    return fig


# --------------------------------------------------------------------------- clean-label
HARDENINGS = ("none", "standard", "robust")  # plain stamping; PGD against a standard model; against the robust model
HARDENING_NAMES = {
    "none": "plain (no hardening)",
    "standard": "hardened against a standard model",
    "robust": "hardened against the robust model",
}
CLEAN_LABEL_PAIRS = (("robust", "standard"), ("robust", "none"), ("standard", "none"))
CLEAN_LABEL_CACHE_VERSION = 1  # bump when what a cached clean-label seed holds changes


def cached_seed(path: Path, build, *, models: int) -> dict:
    """One seed's clean-label result kept at ``path``: read back when the file loads, else
    ``build()`` (a dict of tensors), saved atomically. Chapters side by side build it once
    (:func:`reliable_ml.util.cachelock.building`); an unreadable entry is rebuilt, with a message.
    ``models``: how many trained models the entry stands for, in the cache statistics."""
    from reliable_ml.util import evalcache

    res = None
    with cachelock.building(path):
        if path.exists():
            try:
                res = torch.load(path, weights_only=True)
            except Exception as exc:  # noqa: BLE001 - an unreadable cache entry is rebuilt
                print(f"clean-label cache entry {path.name} unreadable ({exc}); rebuilding")
        cachestats.record("clean_label", hit=res is not None, models=models)
        if res is None:
            res = build()
            evalcache.save_atomic(res, path)
    return res


def code_hash(*functions) -> str:
    """SHA-256 (hex) of the source that computes the clean-label results: the modules every cache
    key of the chapter's runs hashes (:func:`reliable_ml.pipeline.backdoor_runs._code`: the runs,
    the poisoning, the training loop, the attacks, the network, the saliency maps) and
    ``functions`` (the computing functions of this module and of
    :mod:`reliable_ml.pipeline.clean_label_radius`, whose wording helpers are left out so an edit
    to a sentence retrains nothing). An edit to that code recomputes (review of issue 31)."""
    h = hashlib.sha256()
    for obj in (*_code(), *functions):
        h.update(getattr(obj, "__qualname__", obj.__name__).encode())
        h.update(inspect.getsource(obj).encode())
    return h.hexdigest()


def clean_label_fingerprint(
    lab: Lab, share: float, eps: float, steps: int, seed: int, robust_fingerprint: str, n_show: int
) -> str:
    """Hash of everything one seed of :func:`clean_label_hardening` depends on: the cache
    version, share, radius, PGD steps, seed, epochs, target, device type, torch version, the robust
    model's fingerprint, the bytes of the training, "other" and test images, labels and trigger, and
    the code that computes it (:func:`code_hash` of ``_clean_label_seed``, :func:`cached_seed` and
    :func:`clean_label_hardening`, which derives the poisons' share of the training set that the
    seed is given)."""
    h = hashlib.sha256(
        json.dumps(
            {
                "code": code_hash(_clean_label_seed, cached_seed, clean_label_hardening),
                "v": CLEAN_LABEL_CACHE_VERSION,
                "arms": HARDENINGS,
                "share": float(share),
                "eps": float(eps),
                "steps": int(steps),
                "seed": int(seed),
                "epochs": int(lab.epochs),
                "target": int(lab.target),
                "device": lab.device.type,
                "torch": torch.__version__,
                "robust": str(robust_fingerprint),
                "n_show": int(n_show),
            },
            sort_keys=True,
        ).encode()
    )
    for t in (lab.x_train, lab.y_train, lab.x_other, lab.y_other, lab.test_raw, lab.y_test, lab.trigger.pattern):
        t = t.detach().cpu().contiguous()
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()[:16]


def _clean_label_seed(
    lab: Lab, fraction: float, eps: float, steps: int, seed: int, robust_model: nn.Module, n_show: int
) -> dict:
    """One seed of :func:`clean_label_hardening`, uncached."""
    hardeners = {"standard": train_model(lab, lab.x_other, lab.y_other, seed=seed + 1000), "robust": robust_model}
    kw = {"target": lab.target, "trigger": lab.trigger, "seed": seed}
    arms = {"none": po.clean_label(lab.x_train, lab.y_train, fraction, **kw)}
    for name, m in hardeners.items():
        arms[name] = po.clean_label(lab.x_train, lab.y_train, fraction, **kw, harden_model=m, eps=eps, steps=steps)
    idx = arms["none"].idx  # one seed draws the same target-class images in every arm
    y_p = lab.y_train[idx].to(lab.device)
    out = {
        "poisoned": torch.tensor(len(idx)),
        "hardness": {
            h: {
                a: torch.tensor(attacks.accuracy(m, p.x[idx].to(lab.device).float() / 255, y_p))
                for a, p in arms.items()
            }
            for h, m in hardeners.items()
        },
        "show": {a: p.x[idx[:n_show]].clone() for a, p in arms.items()},
        "hits": {},
        "clean": {},
    }
    for a, p in arms.items():
        model = train_model(lab, p.x, p.y, seed=seed)
        out["hits"][a] = torch.from_numpy(hits(lab, model).astype(bool))
        out["clean"][a] = torch.tensor(clean_accuracy(lab, model))
    return out


def clean_label_hardening(
    lab: Lab,
    share: float,
    eps: float,
    steps: int,
    seeds: int,
    robust_model: nn.Module,
    robust_fingerprint: str,
    *,
    n_show: int = 6,
    progress: bool = True,
) -> tuple[pd.DataFrame, dict]:
    r"""Clean-label poisons (Turner, Tsipras & Madry 2019) on ``share`` of the target class, three
    ways (:data:`HARDENINGS`), each over ``seeds`` seeds:

    * ``"none"``: the trigger stamped on the chosen target-class images as they are;
    * ``"standard"``: the images first perturbed by untargeted :math:`L_\infty` PGD
      (:func:`reliable_ml.pipeline.poisoning.harden`, radius ``eps``, ``steps`` steps) against a
      *standard* model of the same network trained on the lab's disjoint "other" images (a new one
      per seed), then stamped;
    * ``"robust"``: the same PGD against ``robust_model``, an *adversarially trained* model,
      as Turner et al. do (their perturbations change what the image looks like, so a victim
      cannot fit the poison from its content as easily).

    Within a seed the three arms poison the same images (the seed's draw), and each victim starts
    from the same initial weights and sees the same batch order; across seeds the draw, the
    victim's initial weights and batch order, the PGD start and the standard hardening model change.
    The robust model is one fixed model: its own training randomness is not resampled.

    Returns ``(runs, examples)``. ``runs``: one row per (arm, seed) with ``poisoned``,
    ``success`` (attack success on the lab's triggered test images) and ``clean`` (clean accuracy).
    ``examples``: ``hits`` ({seed: {arm: bool per triggered test image}}, the same images for
    every arm and seed, for paired tests), ``hardness`` ({seed: {hardening model: {arm: accuracy
    on that arm's poisoned images}}}), ``show`` (the first ``n_show`` poisoned images of the lab's
    seed per arm, uint8) and ``fraction`` (the poisons' share of the training set).

    Each seed is cached in ``$RELIABLE_ML_CACHE/clean_label/<fingerprint>.pt``
    (:func:`clean_label_fingerprint`), so a rerun with the same data and settings trains nothing.
    """
    from reliable_ml.data import cache_dir

    po.check_fraction(share, "clean_label_share")
    if int(seeds) < 1:
        raise ValueError(f"seeds must be at least 1; got {seeds!r}")
    probe = lab.x_test_f[:1]
    try:
        with attacks._EvalMode(robust_model), torch.no_grad():
            width = robust_model(probe.to(next(robust_model.parameters()).device)).shape[-1]
    except RuntimeError as exc:
        raise ValueError(
            f"robust_model does not take the lab's images of shape {tuple(probe.shape[1:])} ({lab.source}): {exc}"
        ) from exc
    if width != lab.num_classes:
        raise ValueError(f"robust_model has {width} outputs; the lab has {lab.num_classes} classes")
    n_target = int((lab.y_train == lab.target).sum())
    fraction = share * n_target / len(lab.y_train)
    rows, examples = [], {"hits": {}, "hardness": {}, "fraction": fraction}
    for s in tqdm(range(int(seeds)), desc="clean-label seeds", disable=not progress):
        seed = lab.seed + s
        path = (
            cache_dir()
            / "clean_label"
            / f"{clean_label_fingerprint(lab, share, eps, steps, seed, robust_fingerprint, n_show)}.pt"
        )
        res = cached_seed(
            path,
            lambda seed=seed: _clean_label_seed(lab, fraction, eps, steps, seed, robust_model, n_show),
            models=len(HARDENINGS) + 1,
        )
        examples["hits"][seed] = {a: res["hits"][a].numpy().astype(float) for a in HARDENINGS}
        examples["hardness"][seed] = {h: {a: float(v) for a, v in d.items()} for h, d in res["hardness"].items()}
        if s == 0:
            examples["show"] = res["show"]
        for a in HARDENINGS:
            rows.append(
                {
                    "arm": a,
                    "seed": seed,
                    "poisoned": int(res["poisoned"]),
                    "success": float(res["hits"][a].float().mean()),
                    "clean": float(res["clean"][a]),
                }
            )
    return pd.DataFrame(rows), examples


def seed_interval(values, alpha: float = 0.05) -> tuple[float, float]:
    r"""The :math:`1-\alpha` t interval of the mean over seeds,
    :math:`\bar v \mp t_{S-1,1-\alpha/2}\, s/\sqrt S` (``(nan, nan)`` with one seed)."""
    from scipy import stats as st

    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or len(v) == 0:
        raise ValueError(f"values must be a non-empty 1-D array of per-seed values; got shape {v.shape}")
    if len(v) < 2:
        return float("nan"), float("nan")
    half = float(st.t.ppf(1 - alpha / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return float(v.mean() - half), float(v.mean() + half)


def clean_label_summary(cl_runs: pd.DataFrame, examples: dict) -> dict:
    """Per arm (:data:`HARDENINGS`): ``success_rate`` (mean over seeds), ``ci`` (95% t interval
    over seeds, :func:`seed_interval`, not clipped, so an end below 0 shows how wide it is; NaN with
    one seed), ``seeds`` (per-seed success), ``clean_acc`` (mean).
    Per pair (:data:`CLEAN_LABEL_PAIRS`, ``"a_vs_b"``): ``over_seeds``, the paired t test of
    the seeds' success rates (:func:`reliable_ml.stats.compare`; ``None`` with one seed), and
    ``per_seed``, McNemar's exact test of the two victims' hits on the same triggered test
    images, one verdict per seed (each speaks for that seed's pair of trained models)."""
    wide = cl_runs.pivot(index="seed", columns="arm", values="success")
    clean = cl_runs.pivot(index="seed", columns="arm", values="clean")
    arms = {
        a: {
            "success_rate": float(wide[a].mean()),
            "ci": list(seed_interval(wide[a].to_numpy())),  # unclipped: a t interval may cross 0
            "seeds": [float(v) for v in wide[a]],
            "clean_acc": float(clean[a].mean()),
        }
        for a in HARDENINGS
    }
    pairs = {}
    for a, b in CLEAN_LABEL_PAIRS:
        over = (
            stats.compare(wide[a].to_numpy(), wide[b].to_numpy(), paired=True, outcome="continuous")
            if len(wide) >= 2
            else None
        )
        per_seed = [stats.compare(h[a], h[b], paired=True) for _, h in sorted(examples["hits"].items())]
        pairs[f"{a}_vs_{b}"] = {"over_seeds": over, "per_seed": per_seed}
    return {"arms": arms, "pairs": pairs, "seeds": [int(s) for s in wide.index]}


def clean_label_words(summary: dict) -> dict:
    """The words of the clean-label section: for each pair ``a_vs_b`` of
    :func:`clean_label_summary`, ``cl_<a>_<b>_seeds`` (the paired t over seeds, through
    :func:`reliable_ml.stats.phrase`; with one seed, a sentence that says there is no test) and
    ``cl_<a>_<b>_images`` (the per-seed McNemar tests, through :func:`reliable_ml.stats.phrase_all`)."""
    n = len(summary["seeds"])
    words = {}
    for key, pair in summary["pairs"].items():
        a, b = key.split("_vs_")
        words |= seed_pair_words(f"cl_{a}_{b}", pair, n)
    return words


def seed_pair_words(tag: str, pair: dict, n_seeds: int) -> dict:
    """``<tag>_seeds``: the paired t over seeds of ``pair["over_seeds"]`` in words ("cannot tell" when
    the seeds do not separate; a sentence saying there is no test with one seed), and
    ``<tag>_images``: the per-seed McNemar tests of ``pair["per_seed"]``
    (:func:`reliable_ml.stats.phrase_all`)."""
    v = pair["over_seeds"]
    return {
        f"{tag}_seeds": "no test over seeds is possible with one seed"
        if v is None
        else stats.phrase(
            v,
            f"higher attack success over the {n_seeds} seeds",
            f"lower attack success over the {n_seeds} seeds",
            f"the {n_seeds} seeds cannot tell them apart",
        ),
        f"{tag}_images": stats.phrase_all(
            pair["per_seed"], "higher", "lower", "the data cannot tell them apart", "the seeds disagree", items="seeds"
        ),
    }


def clean_label_records(summary: dict, examples: dict, robust_card: dict, eps: float, steps: int) -> dict:
    """The ``clean_label`` entry of the results file: ``hardening.{none,standard,robust}.
    {success_rate, ci, seeds, clean_acc}`` (fractions; ``ci`` the 95% t interval over seeds),
    ``comparisons.<a>_vs_<b>.{over_seeds, per_seed}`` (verdicts as dicts), ``hardness``
    (mean over seeds of each hardening model's accuracy on each arm's poisons), the seeds, the
    radius and steps, and which robust model hardened the ``robust`` arm."""
    seeds = sorted(examples["hardness"])
    hardness = {
        h: {a: float(np.mean([examples["hardness"][s][h][a] for s in seeds])) for a in HARDENINGS}
        for h in examples["hardness"][seeds[0]]
    }
    return {
        "hardening": summary["arms"],
        "comparisons": {
            k: {
                "over_seeds": None if p["over_seeds"] is None else p["over_seeds"].as_dict(),
                "per_seed": [v.as_dict() for v in p["per_seed"]],
            }
            for k, p in summary["pairs"].items()
        },
        "hardness": hardness,
        "seeds": summary["seeds"],
        "interval": "95% t interval over seeds of the mean attack success (the test images are fixed)",
        "harden_eps": float(eps),
        "harden_steps": int(steps),
        "robust_hardening_model": {
            k: robust_card[k] for k in ("fingerprint", "dataset", "eps", "worst_case_acc", "clean_acc", "recipe")
        },
        "standard_hardening_model": (
            "the chapter's small CNN trained on the disjoint 'other' training images, one per seed"
        ),
    }


ARM_SHORT = {"none": "none", "standard": "standard", "robust": "robust"}


def badnets_match(cl_runs: pd.DataFrame, runs: pd.DataFrame) -> tuple[float, list[int]]:
    """The BadNets share the clean-label arms are compared with: the smallest positive share of
    the sweep that has a model in every clean-label seed (else the one sharing the most seeds),
    and the seeds both have. Raises when no positive share shares a seed."""
    cl_seeds = set(int(s) for s in cl_runs["seed"].unique())
    best = None
    for f in sorted(runs.loc[runs["fraction"] > 0, "fraction"].unique()):
        common = sorted(cl_seeds & set(int(s) for s in runs.loc[runs["fraction"] == f, "seed"]))
        if common and (best is None or len(common) > len(best[1])):
            best = (float(f), common)
        if len(common) == len(cl_seeds):
            break
    if best is None:
        raise ValueError(f"no positive BadNets share has a model in any clean-label seed {sorted(cl_seeds)}")
    return best


def clean_label_vs_badnets(
    cl_runs: pd.DataFrame, runs: pd.DataFrame, cl_hits: dict, bad_hits: dict
) -> tuple[str, dict]:
    """Each clean-label arm (:data:`HARDENINGS`) against BadNets at the smallest positive share,
    paired by seed (:func:`badnets_match`): ``(words, verdicts)`` with ``verdicts[arm] =
    {"over_seeds": paired t of the seeds' success rates (None with one seed), "per_seed": [one
    verdict per seed]}`` and ``verdicts["badnets"] = {"fraction", "seeds", "poisoned"}``.

    ``cl_hits[seed][arm]`` and ``bad_hits[(fraction, seed)]``: per triggered test image, did the
    victim output the target (:func:`hits`, :func:`badnets_sweep`'s ``each``); both are the
    same test images in the same order. Per seed: McNemar's exact test of the two victims' hits
    on those images (:func:`reliable_ml.stats.compare` with ``paired=True``), which covers the
    test images' noise for the two models of that seed. The models differ from seed to seed
    (poisons, initial weights, batch order), so the seeds are not pooled into one McNemar test:
    the per-seed tests are reported one by one, and over seeds the paired t test of the seeds'
    success rates (:func:`reliable_ml.stats.compare`) is what speaks for a rerun."""
    low, seeds = badnets_match(cl_runs, runs)
    bad = runs[runs["fraction"] == low].set_index("seed").loc[seeds]
    n_seeds = len(seeds)
    parts, verdicts = [], {}
    for arm in HARDENINGS:
        cl = cl_runs[cl_runs["arm"] == arm].set_index("seed").loc[seeds]
        per_seed = []
        for s in seeds:
            a = np.asarray(cl_hits[s][arm], dtype=float)
            b = np.asarray(bad_hits[low, s], dtype=float)
            if len(a) != len(b) or len(b) != int(bad.loc[s, "n"]):
                raise ValueError(
                    f"seed {s}: the {arm!r} arm has {len(a)} triggered images, BadNets {len(b)} "
                    f"(its row says {int(bad.loc[s, 'n'])}); paired tests need the same images"
                )
            per_seed.append(stats.compare(a, b, paired=True, outcome="binary"))
        over = (
            stats.compare(cl["success"].to_numpy(), bad["success"].to_numpy(), paired=True, outcome="continuous")
            if n_seeds >= 2
            else None
        )
        verdicts[arm] = {"over_seeds": over, "per_seed": per_seed}
        seed_words = stats.phrase_all(
            per_seed,
            "higher attack success",
            "lower attack success",
            "the data cannot tell them apart",
            "the seeds disagree",
            items="seeds",
        )
        t_words = (
            "no test over seeds with one seed"
            if over is None
            else "over the seeds (paired t), "
            + stats.phrase(over, "higher", "lower", f"the {n_seeds} seeds cannot tell them apart")
        )
        parts.append(f"{HARDENING_NAMES[arm]}: seed by seed (McNemar), {seed_words}; {t_words}")
    poisoned = [int(bad.loc[s, "poisoned"]) for s in seeds]
    verdicts["badnets"] = {"fraction": low, "seeds": seeds, "poisoned": poisoned}
    count = f"{min(poisoned)}" if min(poisoned) == max(poisoned) else f"{min(poisoned)}–{max(poisoned)}"
    words = (
        f"{'; '.join(parts)} (BadNets at {100 * low:g}%, {count} relabelled images, in the same "
        f"{'seed' if n_seeds == 1 else f'{n_seeds} seeds'}; McNemar's exact test pairs the two models of a seed "
        "image by image on the same triggered test images and covers those images' noise; the paired t test over "
        "the seeds covers the noise from seed to seed)"
    )
    return words, verdicts


def clean_label_takeaway(verdicts: dict) -> str:
    """The summary's words for :func:`clean_label_vs_badnets`'s verdicts, made from them: per arm
    the seeds' tally (:func:`reliable_ml.stats.tally_words`: "the seeds disagree" only for
    opposite directions) and the paired t over seeds; arms with the same words are named together,
    e.g. "none and standard: the seeds disagree; robust: lower in all 3 seeds, but the 3 seeds
    cannot tell (paired t)"."""
    said: dict[str, list[str]] = {}
    for arm in HARDENINGS:
        v = verdicts[arm]
        n = len(v["per_seed"])
        tally = stats.tally_words(v["per_seed"], "higher", "lower", "cannot tell", "the seeds disagree", items="seeds")
        if n == 1:
            tally = tally.replace(" in the one of its seeds", " in the one seed")
        over = v["over_seeds"]
        if over is None:
            text = tally
        elif over.direction == "cannot tell":
            text = tally if tally == "the seeds disagree" else f"{tally}, but the {n} seeds cannot tell (paired t)"
        else:
            text = f"{tally}; {over.direction} over the {n} seeds (paired t)"
        said.setdefault(text, []).append(ARM_SHORT[arm])

    def names(arms: list[str]) -> str:
        return arms[0] if len(arms) == 1 else f"{', '.join(arms[:-1])} and {arms[-1]}"

    return "; ".join(f"{names(arms)}: {text}" for text, arms in said.items())


HARDENING_FAILS_BELOW = 0.5  # a hardening attack that fools its model on fewer than half the poisons has failed


def hardening_attack(examples: dict, cl_runs: pd.DataFrame, model: str = "robust") -> dict:
    """Did PGD make the ``model`` arm's poisons hard for the model it attacked? The share of that
    arm's poisons the model misclassifies, pooled over seeds (each seed's accuracy times its
    poison count), with its exact (Clopper-Pearson) 95% interval, against
    :data:`HARDENING_FAILS_BELOW` (:func:`reliable_ml.stats.against_reference`): "lower" means
    a failed hardening attack (the model still classifies most poisons correctly).
    Returns ``{"fooled", "interval", "k", "n", "threshold", "verdict"}`` (fractions)."""
    n_by_seed = cl_runs.groupby("seed")["poisoned"].first()
    k = n = 0
    for seed, acc in ((s, examples["hardness"][s][model][model]) for s in sorted(examples["hardness"])):
        m = int(n_by_seed.loc[seed])
        k += int(round((1 - acc) * m))
        n += m
    if n == 0:
        raise ValueError("no poisons to judge the hardening attack on")
    lo, hi = stats.clopper_pearson(k, n)
    fooled = k / n
    v = stats.against_reference(fooled, (float(lo), float(hi)), HARDENING_FAILS_BELOW)
    return {
        "fooled": fooled,
        "interval": [float(lo), float(hi)],
        "k": k,
        "n": n,
        "threshold": HARDENING_FAILS_BELOW,
        "verdict": v,
    }


def hardening_words(
    attack: dict, eps: float, steps: int, robust_eps: float, held: tuple[float, float] | None = None
) -> dict:
    """The clean-label section's words on the robust arm's hardening, from :func:`hardening_attack`:
    ``cl_radius`` (the radius and what PGD did there, and whether this run concludes anything about
    Turner et al.'s recipe) and ``cl_why_robust`` (the first explanation for the robust arm's victims'
    use of the trigger, by the attack's verdict: where it failed, the poisons were never made hard and
    the wider radius tests that; where it succeeded, nothing is tested). ``held``: the robust and the
    standard hardening model's accuracy (%) on the robust arm's poisons, quoted in ``cl_why_robust``."""
    where = (
        f"the robust model's own training ε = {eps:g}"
        if np.isclose(eps, robust_eps)
        else f"ε = {eps:g} (the robust model was trained at ε = {robust_eps:g})"
    )
    fooled, (lo, hi) = 100 * attack["fooled"], (100 * x for x in attack["interval"])
    head = (
        f"first at one radius, {where}, where PGD-{steps} fools it on {fooled:.1f}% of the poisons (pooled over "
        f"seeds, exact 95% interval [{lo:.1f}, {hi:.1f}])"
    )
    d = attack["verdict"].direction
    thr = f"{100 * attack['threshold']:g}%"
    acc = (
        ""
        if held is None
        else f" (the robust and the standard model classify {held[0]:.1f}% and {held[1]:.1f}% of them correctly)"
    )
    if d == "lower":
        radius = (
            f"{head}: a failed hardening attack (its interval lies below {thr}), from which this run "
            "concludes nothing about the recipe at that radius"
        )
        robust_why = (
            "For the robust arm the first explanation is the failed hardening attack: its poisons were never made "
            f"hard for the robust model{acc}. The next section makes them hard for it at a wider radius and tests "
            "that explanation (hard for the victim is another matter, not measured)"
        )
    elif d == "higher":
        radius = f"{head}: the poisons are hard for the robust model (the interval lies above {thr})"
        robust_why = (
            f"For the robust arm, whose poisons are hard for the robust model{acc}, no explanation is tested here"
        )
    else:
        radius = (
            f"{head}: whether the attack made most poisons hard the data cannot tell (its exact interval "
            f"contains {thr}), so this run concludes nothing firm about the recipe at that radius"
        )
        robust_why = (
            f"For the robust arm, a weak hardening attack is the first explanation to rule out{acc}; the next "
            "section hardens its poisons at wider radii"
        )
    return {"cl_radius": radius, "cl_why_robust": robust_why}


# --------------------------------------------------------------------------- spectral signatures
def spectral_arms(
    lab: Lab,
    all_sources: tuple,
    fraction: float,
    factor: float,
    source: int,
    clean_model: nn.Module | None = None,
    cache: bool = True,
) -> dict:
    """Tran et al.'s filter on two poisoned sets at share ``fraction``: the sweep's model and set
    with poisons from every other class (``all_sources`` = ``(model, Poisoned)``), and a new
    model poisoned from class ``source`` only, which is retrained on what the filter keeps.

    Per triggered test image of class ``source``: ``hits_before`` / ``hits_after`` (the poisoned
    and the retrained model) and, with ``clean_model`` (an unpoisoned model of the same seed),
    ``hits_clean``, the base rate a model without a backdoor shows on the same images. With
    ``cache`` the two trained models' weights are kept in the result cache
    (:func:`reliable_ml.pipeline.backdoor_runs.spectral_models`); the filter is recomputed from them."""
    spec_all = po.spectral_defence(*all_sources, lab.target, factor)
    p = po.badnets(
        lab.x_train, lab.y_train, fraction, target=lab.target, trigger=lab.trigger, seed=lab.seed, source=source
    )

    model, cleaned = spectral_models(lab, p, fraction, factor, source, cache=cache)
    spec = po.spectral_defence(model, p, lab.target, factor)
    before, after = hits(lab, model, source=source), hits(lab, cleaned, source=source)
    out = {
        "all": spec_all,
        "single": spec,
        "single_model": model,
        "single_set": p,
        "before": float(before.mean()),
        "after": float(after.mean()),
        "hits_before": before,
        "hits_after": after,
        "clean_after": clean_accuracy(lab, cleaned),
    }
    if clean_model is not None:
        out["hits_clean"] = hits(lab, clean_model, source=source)
        out["base"] = float(out["hits_clean"].mean())
    return out


def detection_verdict(res: po.SpectralResult):
    """Are the poisons removed more often than the clean images labelled ``target``? Fisher's
    exact test (:func:`reliable_ml.stats.compare_counts`) of removed poisons / poisons against
    removed clean images / clean images; chance is the same share for both."""
    removed_poison = int(torch.isin(res.removed, res.labelled[res.is_poison]).sum())
    n_poison = int(res.is_poison.sum())
    n_clean = len(res.labelled) - n_poison
    return stats.compare_counts(removed_poison, n_poison, len(res.removed) - removed_poison, n_clean)


def spectral_words(spec: dict) -> tuple[dict, dict]:
    """Chapter 7's sentences on the spectral filter, from :func:`spectral_arms` (with its
    ``clean_model``). ``ss_verdict``: McNemar's exact test of the retrained model's per-image hits
    against the poisoned model's (did the filter cut attack success?) and against an unpoisoned
    model's on the same images (is what is left more than a model without a backdoor shows?);
    ``ss_detect_single`` / ``ss_detect_all``: :func:`detection_verdict`. Returns ``(words, verdicts)``."""
    cut = stats.compare(spec["hits_after"], spec["hits_before"], paired=True)
    base = stats.compare(spec["hits_after"], spec["hits_clean"], paired=True)
    base_pct = 100 * spec["base"]
    if cut.direction != "lower":
        verdict = "did not measurably weaken the backdoor: " + stats.phrase(
            cut, "attack success rose", "attack success fell", "the data cannot tell before from after"
        )
    elif base.direction == "higher":
        verdict = (
            "weakened the backdoor but did not remove it: attack success is still above the "
            f"{base_pct:.1f}% that an unpoisoned model shows on the same images, "
            + stats.phrase(base, "higher", "lower", "cannot tell", unit="points")
        )
    elif base.direction == "lower":
        verdict = (
            f"brought attack success below the {base_pct:.1f}% that an unpoisoned model shows on the same images: "
            + stats.phrase(base, "higher", "lower", "cannot tell", unit="points")
        )
    else:
        verdict = (
            f"brought attack success down to the level of an unpoisoned model on the same images, {base_pct:.1f}%: "
            + stats.phrase(base, cannot_tell="the data cannot tell the two apart", unit="points")
        )
    detect = {key: detection_verdict(spec[key]) for key in ("single", "all")}
    words = {"ss_verdict": verdict} | {
        f"ss_detect_{key}": stats.phrase(
            v,
            "above chance: poisons are removed more often than clean images",
            "below chance: the poisons score lower than the clean images of the class and are removed less often",
            "no better than chance",
        )
        for key, v in detect.items()
    }
    return words, {"cut": cut, "vs_unpoisoned": base, "detect_single": detect["single"], "detect_all": detect["all"]}


def plot_spectral(lab: Lab, spec: dict, fraction: float, source: int):
    """Histograms of the outlier scores of clean images and poisons, with the removal threshold."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, (title, res) in zip(
        axes,
        ((f"poisons from classes != {lab.target}", spec["all"]), (f"poisons from class {source} only", spec["single"])),
    ):
        bins = np.linspace(0, float(res.scores.max()), 50)
        ax.hist(
            res.scores[~res.is_poison].numpy(),
            bins=bins,
            alpha=0.7,
            label=f"clean images of class {lab.target} ({int((~res.is_poison).sum()):,})",
        )
        ax.hist(res.scores[res.is_poison].numpy(), bins=bins, alpha=0.7, label=f"poisons ({int(res.is_poison.sum())})")
        cut = float(res.scores.topk(len(res.removed)).values.min())
        ax.axvline(cut, color="k", ls="--", lw=1, label=f"removal threshold (top {len(res.removed)})")
        ax.set(
            yscale="log",
            xlabel="spectral outlier score (squared projection)",
            ylabel="training images (log scale)",
            title=f"{title}: recall {100 * res.recall:.0f}%",
        )
        ax.legend(fontsize=7)
    fig.suptitle(f"Spectral signatures, {lab.source}, {100 * fraction:g}% of the training set poisoned")
    plots.source_caption(fig, lab.source, f"training images labelled {lab.target}; representation: hidden layer")
    return fig


# --------------------------------------------------------------------------- planted cue
def bg_gap(cue_runs: pd.DataFrame, model: str = "cue") -> pd.Series:
    """BG-gap per seed (points): accuracy on mixed-same minus mixed-rand (Xiao et al. 2020)."""
    t = cue_runs[cue_runs["model"] == model].pivot(index="seed", columns="test set", values="accuracy (%)")
    return t[CUE_TESTS[1]] - t[CUE_TESTS[2]]


# --------------------------------------------------------------------------- saliency
def against_inits(model_share: float, init_shares) -> stats.Verdict:
    """Is a trained model's mean share above or below the random-weights floor, the random inits
    being the unit? One-sample t of the K init-level mean shares r_1..r_K against the model's share
    m (the images are shared, so image noise is common to both): difference m - mean(r), interval
    m - (mean(r) -+ t_{K-1, 0.975} sd(r) / sqrt(K)), p = 2 P(T_{K-1} > |m - mean(r)| / se). The
    model's share is taken as fixed: with the images shared, the spread between inits dominates."""
    from dataclasses import replace

    from scipy import stats as st

    r = np.asarray(init_shares, dtype=float)
    if r.ndim != 1 or len(r) < 2:
        raise ValueError(f"the floor test needs >= 2 random inits; got shape {r.shape}")
    m, mean, se = float(model_share), float(r.mean()), float(r.std(ddof=1) / np.sqrt(len(r)))
    q = float(st.t.ppf(0.975, len(r) - 1))
    # m - floor against 0, as m with the floor's t interval mirrored around it, against the reference mean(r)
    v = stats.against_reference(m, (m - q * se, m + q * se), mean)
    p = float(2 * st.t.sf(abs(m - mean) / se, len(r) - 1)) if se > 0 else (0.0 if m != mean else 1.0)
    return replace(v, test=f"one-sample t over {len(r)} random inits", p_value=p)


def saliency_words(each: dict, names: dict[str, str], random_inits: int) -> tuple[dict, dict]:
    """Each trained model's trigger share against the random-weights floor, per method.

    ``names``: role -> model name in ``each`` (``"backdoored"``, ``"clean"``, ``"robust"``). The
    unit is the random init (the randomness the check is about): :func:`against_inits` of the
    model's mean share over the images against the ``random_inits`` networks' mean shares.
    Returns ``(words, verdicts)``: ``sal_<role>_vs_random`` sentences and the verdicts by
    ``(role, method)``.
    """
    if random_inits < 2:
        raise ValueError(f"the random-weights floor needs random_inits >= 2; got {random_inits}")
    verdicts = {
        (role, method): against_inits(
            float(np.mean(each[name, method])),
            [float(np.mean(each[random_name(i), method])) for i in range(random_inits)],
        )
        for role, name in names.items()
        for method in sal.METHODS
    }
    words = {
        f"sal_{role}_vs_random": stats.phrase_all(
            [verdicts[role, m] for m in sal.METHODS],
            "above its random-weights floor",
            "below its random-weights floor",
            "not distinguishable from its random-weights floor",
            "its verdict depends on the method",
            items="methods",
        )
        for role in names
    }
    return words, verdicts


def plot_saliency(lab: Lab, trio: dict, maps: dict, x_trig: torch.Tensor, k_show: int = 2):
    """Triggered images and their saliency maps for the target class, per model and method."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(trio) * k_show, 4, figsize=(7.2, 1.9 * len(trio) * k_show))
    rows_t, cols_t = lab.trigger.region(lab.image_size, lab.image_size)
    size = rows_t.stop - rows_t.start
    for r, name in enumerate(trio):
        for j in range(k_show):
            ax_row = axes[r * k_show + j]
            ax_row[0].imshow(x_trig[j].cpu().permute(1, 2, 0).squeeze(-1), cmap="gray", vmin=0, vmax=1)
            ax_row[0].set_title(f"{name}\ntriggered test image", fontsize=7)
            for c, method in enumerate(sal.METHODS, start=1):
                ax_row[c].imshow(sal.heatmap(maps[name, method][j : j + 1])[0], cmap="inferno", vmin=0, vmax=1)
                ax_row[c].add_patch(
                    plt.Rectangle((cols_t.start - 0.5, rows_t.start - 0.5), size, size, fill=False, ec="cyan", lw=1)
                )
                ax_row[c].set_title(f"{method}\n(class {lab.target})", fontsize=7)
    plots.hide_ticks(axes)
    fig.suptitle(f"Saliency for class {lab.target} on triggered {lab.source} test images (|attribution|)", fontsize=9)
    plots.source_caption(fig, lab.source, "cyan square: trigger patch")
    return fig


def plot_gradients(lab: Lab, standard: nn.Module, robust: nn.Module, k: int = 4):
    """Signed vanilla gradients of the true class on clean test images: standard vs robust model."""
    import matplotlib.pyplot as plt

    pick = torch.nonzero(lab.y_test != lab.target).flatten()[:k]
    x, y = lab.x_test_f[pick], lab.y_test[pick]
    fig, axes = plt.subplots(3, k, figsize=(1.8 * k, 5.6))
    for c in range(k):
        axes[0, c].imshow(x[c].cpu().permute(1, 2, 0).squeeze(-1), cmap="gray", vmin=0, vmax=1)
        axes[0, c].set_title(f"clean test image, label {int(y[c])}", fontsize=7)
        for r, (name, model) in enumerate((("standard", standard), ("robust", robust)), start=1):
            g = sal.vanilla_gradient(model, x[c : c + 1], y[c : c + 1]).cpu()[0].sum(0)
            axes[r, c].imshow(g, cmap="RdBu_r", vmin=-float(g.abs().max()), vmax=float(g.abs().max()))
            axes[r, c].set_title(f"{name} model: gradient of true class", fontsize=7)
    plots.hide_ticks(axes)
    fig.suptitle(f"Vanilla gradients on clean {lab.source} images (red +, blue -)", fontsize=9)
    plots.source_caption(fig, lab.source, "signed gradient of the true-class logit, summed over channels")
    return fig


# --------------------------------------------------------------------------- CIFAR-10 subset
def plot_cifar_subset(sub: dict):
    """BadNets attack success and clean accuracy on the CIFAR-10 subset, with and without crops + flips."""
    import matplotlib.pyplot as plt

    xs = [100 * float(k) for k in sub["attack_success_by_poison_fraction"]]
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ax.plot(
        xs,
        [100 * v for v in sub["attack_success_by_poison_fraction"].values()],
        "o-",
        label="attack success (triggered test images)",
    )
    ax.plot(xs, [100 * v for v in sub["clean_acc_by_poison_fraction"].values()], "s--", label="clean test accuracy")
    aug = sub["with_crop_flip"]["attack_success_by_poison_fraction"]
    ax.plot(xs, [100 * v for v in aug.values()], "o-", color="C3", label="attack success, trained with crops + flips")
    ax.set(
        xlabel="poisoned training images (% of training set)",
        ylabel="%",
        ylim=(-2, 102),
        title=f"BadNets on a {sub['n_train']:,}-image subset of {sub['data_source']}",
    )
    ax.legend()
    plots.source_caption(
        fig,
        sub["data_source"],
        f"{sub['architecture']}, {sub['train_epochs']} epochs; {sub['n_eval']:,} test images; one seed",
    )
    return fig


def cifar_over_base(hits: dict) -> dict:
    """Each poisoned CIFAR-10 subset model against the unpoisoned model of the same recipe (as is,
    with crops and flips), image by image on the same triggered test images: McNemar's exact test
    (:func:`reliable_ml.stats.compare` with ``paired=True``). ``hits[recipe][fraction_key]``: bool
    per triggered test image (:func:`cifar_subset`). One seed, so a verdict covers the test images'
    noise, not a rerun's. Returns ``{recipe: {fraction_key: Verdict}}`` for every positive share."""
    out = {}
    for recipe, by_f in hits.items():
        if "0" not in by_f:
            raise ValueError(f"recipe {recipe!r} has no unpoisoned (share 0) model; shares: {sorted(by_f)}")
        base = np.asarray(by_f["0"], dtype=float)
        out[recipe] = {
            k: stats.compare(np.asarray(h, dtype=float), base, paired=True, outcome="binary")
            for k, h in by_f.items()
            if float(k) > 0
        }
    return out


def cifar_over_base_words(verdicts: dict) -> str:
    """:func:`cifar_over_base`'s verdicts in words, per recipe and share."""

    def one(recipe: str) -> str:
        return ", ".join(
            f"at {100 * float(k):g}% "
            + stats.phrase(v, "above the unpoisoned rate", "below the unpoisoned rate", "not told apart from it")
            for k, v in verdicts[recipe].items()
        )

    names = {"as_is": "as is", "crop_flip": "with crops and flips"}
    return "; ".join(f"{names.get(r, r)}, {one(r)}" for r in verdicts)


def clopper_pearson_pct(hits: int, n: int) -> tuple[float, float]:
    """95% Clopper-Pearson interval of ``hits / n``, in %."""
    lo, hi = stats.clopper_pearson(hits, n)
    return 100 * float(lo), 100 * float(hi)


def sweep_numbers(summary: pd.DataFrame) -> dict:
    """The numbers the chapter quotes about the sweep (``summary`` indexed by poison share)."""
    first = first_reliable(summary)
    lowest = float(summary.index[summary.index > 0][0])

    def at(col):
        return float(summary.loc[first, col]) if first is not None else float("nan")

    return {
        "bd_seeds": int(summary["seeds"].max()),
        "bd_first": 100 * (first if first is not None else float("nan")),
        "bd_first_images": int(summary.loc[first, "poisoned images"]) if first is not None else 0,
        "bd_first_min": at("success min (%)"),
        "bd_first_drop": at("drop mean (points)"),
        "bd_first_drop_sd": at("drop sd"),
        "bd_low": 100 * lowest,
        "bd_low_images": int(summary.loc[lowest, "poisoned images"]),
        "bd_low_mean": float(summary.loc[lowest, "success mean (%)"]),
        "bd_low_sd": float(summary.loc[lowest, "success sd"]),
        "bd_low_min": float(summary.loc[lowest, "success min (%)"]),
        "bd_low_max": float(summary.loc[lowest, "success max (%)"]),
        "bd_max_sd": float(summary["success sd"].max()),
        "bd_max_drop": float(summary["drop mean (points)"].abs().max()),
        "bd_target": "met on point estimates" if first is not None and first <= 0.01 else "not met on point estimates",
        "bd_low_lead": (
            "No share of the sweep met that rule; at the lowest share,"
            if first is None
            else "Even the lowest share of the sweep met it:"
            if first <= lowest
            else "Below that share the backdoor is unreliable by this rule:"
        ),
    }


def first_reliable_text(numbers: dict, words: dict) -> str:
    """The sentence's end after "the smallest poison share at which every seed reaches 90% attack
    success, with a mean clean-accuracy loss below 1 point, is": the share, its images, its worst
    seed against 90% (``words["bd_first_vs90"]``) and the clean-accuracy drop, from
    :func:`sweep_numbers`; or, when no share met the rule (its numbers are NaN), a sentence that
    says so instead of printing NaN."""
    if not np.isfinite(numbers["bd_first"]):
        return "not reached: no share of the sweep met that rule in this run"
    return (
        f"{numbers['bd_first']:g}% of the training set ({numbers['bd_first_images']} images): its worst seed "
        f"reaches {numbers['bd_first_min']:.1f}%, which is {words['bd_first_vs90']}, and clean accuracy drops by "
        f"{numbers['bd_first_drop']:.2f} ± {numbers['bd_first_drop_sd']:.2f} points (mean ± sd over seeds; a drop "
        "is positive)"
    )


def sweep_verdicts(runs: pd.DataFrame, margin_points: float = 1.0) -> tuple[dict, dict]:
    """The sweep's two verdicts and their words.

    ``bd_first_vs90``: the worst seed at the first reliable share (:func:`first_reliable`)
    against 90% attack success, by its exact 95% (Clopper-Pearson) interval on the triggered
    test images (:func:`reliable_ml.stats.against_reference`): the target is met on point
    estimates, and this says how firmly. ``bd_drop_tost``: at every positive share, the clean
    accuracy of the poisoned models against the unpoisoned model of the same seed, two one-sided
    tests over the seeds (paired t, margin ``margin_points``); the words quote the share whose
    90% interval comes closest to the margin (largest ``margin_supported``), and say whether that
    interval excludes zero (the paired t at that share, two-sided at the 10% level, whose interval is
    the TOST's 90% one: "higher"/"lower" against "cannot tell"). Returns ``(words, verdicts)``; with
    one seed there is no test over seeds.
    """
    summary = sweep_summary(runs)
    first = first_reliable(summary)
    words, verdicts = {}, {}
    if first is None:
        words["bd_first_vs90"] = "untested, as no poison share met the rule"
    else:
        worst = runs[runs["fraction"] == first].sort_values("success").iloc[0]
        k, n = int(worst["hits"]), int(worst["n"])
        lo, hi = stats.clopper_pearson(k, n)
        v = stats.against_reference(k / n, (float(lo), float(hi)), 0.9)
        verdicts["first_worst_seed_vs_90"] = v
        words["bd_first_vs90"] = stats.phrase(
            v, "above 90%", "below 90%", f"not distinguishable from 90% on these {n:,} triggered images"
        )
    base = runs[runs["fraction"] == 0].set_index("seed")["clean"]
    seeds = sorted(base.index)
    if len(seeds) < 2:
        words["bd_drop_tost"] = "with one seed there is no test over seeds of whether clean accuracy changes"
        return words, verdicts
    tost = {}
    for f in sorted(runs.loc[runs["fraction"] > 0, "fraction"].unique()):
        here = runs[runs["fraction"] == f].set_index("seed")["clean"].loc[seeds]
        tost[float(f)] = stats.compare(
            here.to_numpy(), base.loc[seeds].to_numpy(), paired=True, outcome="continuous", margin=margin_points / 100
        )
    closest = max(tost, key=lambda f: tost[f].margin_supported)
    here = runs[runs["fraction"] == closest].set_index("seed")["clean"].loc[seeds].to_numpy()
    # the same paired t at the TOST's level, so its interval is the one quoted: does it exclude zero?
    two_sided = stats.compare(
        here, base.loc[seeds].to_numpy(), paired=True, outcome="continuous", alpha=1 - tost[closest].level
    )
    verdicts["clean_drop_tost"] = tost
    verdicts["clean_drop_closest"] = {"fraction": closest, "two_sided": two_sided}
    every = all(v.direction == "equivalent" for v in tost.values())
    quoted = stats.phrase(
        tost[closest],
        equivalent="the poisoned models' clean accuracy matches the unpoisoned models'",
        not_equivalent="the poisoned models' clean accuracy is not shown to match the unpoisoned models'",
    )
    lead = (
        f"two one-sided tests over the {len(seeds)} seeds put every share's clean accuracy within "
        f"±{margin_points:g} point of the unpoisoned models'"
        if every
        else f"two one-sided tests over the {len(seeds)} seeds cannot show that at every share"
    )
    level = f"{100 * tost[closest].level:g}%"
    side = {"lower": ("below", "drop"), "higher": ("above", "rise")}.get(two_sided.direction)
    zero = (
        "that interval contains zero"
        if side is None
        else f"that {level} interval lies {side[0]} zero (paired t, two-sided p = {two_sided.p_value:.3f}), a "
        f"{side[1]} within the margin at the {100 * two_sided.alpha:.0f}% level"
        + (
            ""
            if two_sided.p_value < 0.05
            else "; at the 5% level used elsewhere in this chapter the seeds cannot tell it from zero"
        )
    )
    words["bd_drop_tost"] = (
        f"{lead}; closest to the ±{margin_points:g}-point margin ({level} interval), at {100 * closest:g}%, "
        f"{quoted}: {zero}"
    )
    return words, verdicts


def as_records(verdicts):
    """Verdicts (nested in dicts and lists) as plain JSON for the results file: each
    :class:`reliable_ml.stats.Verdict` by its ``as_dict`` (other leaves as they are), float keys as
    ``f"{key:g}"``, tuple keys joined by "/"."""
    if isinstance(verdicts, dict):

        def key(k):
            return "/".join(map(str, k)) if isinstance(k, tuple) else f"{k:g}" if isinstance(k, float) else str(k)

        return {key(k): as_records(v) for k, v in verdicts.items()}
    if isinstance(verdicts, (list, tuple)):
        return [as_records(v) for v in verdicts]
    return verdicts.as_dict() if isinstance(verdicts, stats.Verdict) else verdicts  # None, numbers, words


def sweep_figures(runs: pd.DataFrame) -> dict:
    """Results-file entries of the BadNets sweep, keyed by poison share (``f"{share:g}"``):
    means over seeds under the historical keys, plus standard deviations, ranges and per-seed values."""

    def key(f):
        return f"{float(f):g}"

    def sd(s):
        return float(s.std(ddof=1)) if len(s) > 1 else 0.0

    by_f = list(runs.groupby("fraction"))
    first = first_reliable(sweep_summary(runs))
    return {
        "attack_success_by_poison_fraction": {key(f): float(g["success"].mean()) for f, g in by_f},
        "attack_success_sd_by_poison_fraction": {key(f): sd(g["success"]) for f, g in by_f},
        "attack_success_range_by_poison_fraction": {
            key(f): [float(g["success"].min()), float(g["success"].max())] for f, g in by_f
        },
        "attack_success_by_seed_by_poison_fraction": {key(f): [float(v) for v in g["success"]] for f, g in by_f},
        "clean_acc_by_poison_fraction": {key(f): float(g["clean"].mean()) for f, g in by_f},
        "clean_acc_sd_by_poison_fraction": {key(f): sd(g["clean"]) for f, g in by_f},
        "clean_acc_drop_points_by_poison_fraction": {key(f): float(g["drop"].mean()) for f, g in by_f},
        "clean_acc_drop_points_sd_by_poison_fraction": {key(f): sd(g["drop"]) for f, g in by_f},
        "poisoned_images_by_poison_fraction": {key(f): int(g["poisoned"].iloc[0]) for f, g in by_f},
        "n_seeds": int(runs["seed"].nunique()),
        "seeds": sorted(int(s) for s in runs["seed"].unique()),
        "first_reliable_poison_fraction": first,
        "target_met": bool(first is not None and first <= 0.01),
    }


def cifar_part(profile: str, seed: int, subset: bool, device: torch.device) -> tuple[dict | None, dict | None, str]:
    """The CIFAR-10 section: in ``gpu`` the full :func:`reliable_ml.pipeline.backdoor_cifar.run` (the
    experiment behind the entry point ``experiments.backdoor_cifar``), else the cpu subset if ``subset``.
    Returns ``(subset results, gpu results, a sentence saying what ran)`` and draws the subset's figure."""
    import matplotlib.pyplot as plt

    from reliable_ml import settings
    from reliable_ml.pipeline import backdoor_cifar
    from reliable_ml.util.env import device_name

    sub, full = None, None
    if profile == "gpu":
        out = backdoor_cifar.run(settings.row("backdoor_cifar", "gpu"), "gpu", progress=True, seed=seed)
        full = out["figures"] | {"data_source": out["data_source"], "device": device_name(device)}
        curve = ", ".join(
            f"{100 * float(k):g}%: {100 * v:.1f}%" for k, v in full.get("attack_success_by_poison_fraction", {}).items()
        )
        return (
            None,
            full,
            f"{full['data_source']} ({full['architecture']}, one seed): attack success by poison rate {curve}.",
        )
    if subset:
        sub = cifar_subset(seed)
    if not sub:
        return None, None, "The CIFAR-10 part did not run in this profile (or its data is missing)."
    sub = dict(sub)
    over = cifar_over_base(sub.pop("hits"))
    sub["over_base"] = {
        "test": "McNemar's exact test against the unpoisoned model of the same recipe, on the same triggered images",
        "verdicts": {r: {k: v.as_dict() for k, v in by_f.items()} for r, by_f in over.items()},
    }
    plot_cifar_subset(sub)
    plt.show()

    def pct(d):
        return ", ".join(f"{100 * v:.1f}% at {100 * float(k):g}%" for k, v in d.items() if float(k) > 0)

    aug = sub["with_crop_flip"]
    recipe = (
        f"a {sub.get('architecture', 'small CNN')} trained for {sub['train_epochs']} epochs on {sub['n_train']:,} "
        f"training images and tested on {sub['n_eval']:,}, one seed"
    )
    return (
        sub,
        None,
        (
            f"On the CIFAR-10 subset ({sub['data_source']}; {recipe}), BadNets reaches "
            f"{pct(sub['attack_success_by_poison_fraction'])} poisoned; clean accuracy without poison "
            f"is {100 * sub['clean_acc_by_poison_fraction']['0']:.1f}%, and an unpoisoned model sends "
            f"{100 * sub['attack_success_by_poison_fraction']['0']:.1f}% of the triggered images to the target. "
            f"Trained with random crops and flips (clean accuracy without poison "
            f"{100 * aug['clean_acc_by_poison_fraction']['0']:.1f}%), the same poisons give "
            f"{pct(aug['attack_success_by_poison_fraction'])}"
            + (
                f" (unpoisoned: {100 * aug['attack_success_by_poison_fraction']['0']:.1f}%)."
                if "0" in aug["attack_success_by_poison_fraction"]
                else "."
            )
            + " Against the unpoisoned model of the same recipe, image by image on the same triggered test images "
            f"(McNemar's exact test; one seed, so it covers the test images' noise, not a rerun's): "
            f"{cifar_over_base_words(over)}. This setup is a stand-in: a small network trained for a few epochs "
            "on a subset, so it cannot show whether augmentation weakens BadNets once training converges. "
            "On fully trained CIFAR-10 ResNets BadNets is commonly reported to "
            "survive crops and flips (not checked here). A flip moves the corner trigger to the other side and a "
            "crop can cut it off, which may weaken it in short training with augmentation (untested here). "
            "Turner et al. stamp their trigger in all four corners, as we recall, to make it survive such "
            "augmentation (from memory, unverified against the paper)."
        ),
    )
