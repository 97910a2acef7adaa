r"""Chapter 7's clean-label attack hardened beyond the robust model's training radius.

Turner, Tsipras & Madry (2019, "Label-consistent backdoor attacks") make clean-label poisons hard
with PGD against an adversarially trained model, at radii up to several times that model's
training radius. At the robust model's own radius PGD fools it on few poisons, so the hardening
attack has failed before the victim is trained. This module

* sweeps the hardening radius (:func:`radius_sweep`): per radius and seed, the seed's poisons
  (:func:`reliable_ml.pipeline.poisoning.poison_indices`, the draw of
  :func:`reliable_ml.pipeline.backdoor_lab.clean_label_hardening`) perturbed by untargeted
  :math:`L_\infty` PGD (:func:`reliable_ml.pipeline.poisoning.harden`) against the robust model,
  the trigger stamped after; it records how many poisons the robust model misclassifies and the
  perturbation's size (:math:`L_\infty` and :math:`L_2`, pixel units, before the trigger);
* chooses a radius by a stated rule (:func:`choose_radius`): the smallest swept radius at which the
  pooled share of fooled poisons has its exact 95% interval above 1/2;
* trains one victim per seed on poisons hardened at that radius (:func:`wide_arm`), from the same
  initial weights and batch order as the seed's other clean-label victims, so the arms pair by seed
  and by test image.

Both are cached under ``$RELIABLE_ML_CACHE/clean_label/`` (keys extend
:func:`reliable_ml.pipeline.backdoor_lab.clean_label_fingerprint` with the radius and the job).
"""

from __future__ import annotations

import hashlib
import json
import os
import time

import numpy as np
import pandas as pd
import torch
from torch import nn

from reliable_ml import stats
from reliable_ml.pipeline import backdoor_lab as bl
from reliable_ml.pipeline import poisoning as po
from reliable_ml.robust import attacks
from reliable_ml.util import cachelock, cachestats

RADIUS_CACHE_VERSION = 2  # bump when what a cached sweep cell or wide-arm seed holds changes
WIDE_CACHE_VERSION = 2  # bump when what a cached wide-arm seed holds changes (2: the standard model's accuracy)
ARM = "robust_wide"  # the wide-radius arm's name in runs tables


def _key(lab, share: float, eps: float, steps: int, seed: int, robust_fp: str, job: str) -> str:
    """The seed's clean-label key (:func:`reliable_ml.pipeline.backdoor_lab.clean_label_fingerprint`,
    which hashes the chapter's computing code) with the job, this module's cache version and the
    source of the functions here that compute a sweep cell or a wide-arm seed."""
    base = bl.clean_label_fingerprint(lab, share, eps, steps, seed, robust_fp, 0)
    code = bl.code_hash(_poisons, perturbation_size, radius_sweep, wide_arm)
    return hashlib.sha256(f"{base}|{job}|v{RADIUS_CACHE_VERSION}|{code}".encode()).hexdigest()[:16]


def _poisons(lab, share: float, eps: float, steps: int, seed: int, robust_model: nn.Module):
    """The seed's poisoned training set hardened at ``eps`` against ``robust_model`` (exactly
    :func:`reliable_ml.pipeline.poisoning.clean_label` with ``harden_model``), and the perturbation
    before the trigger (float, pixel units)."""
    n_target = int((lab.y_train == lab.target).sum())
    fraction = share * n_target / len(lab.y_train)
    idx = po.poison_indices(lab.y_train, fraction, target=lab.target, pool="target", seed=seed)
    chosen = lab.x_train[idx]
    hard = po.harden(robust_model, chosen, lab.y_train[idx], eps, steps=steps, seed=seed)
    x_p = lab.x_train.clone()
    x_p[idx] = po.stamp(hard, lab.trigger)
    delta = (hard.float() - chosen.float()) / 255
    return po.Poisoned(x_p, lab.y_train.clone(), idx), delta


def perturbation_size(delta: torch.Tensor) -> dict:
    r"""Size of per-image perturbations ``delta`` (N, C, H, W), pixel units: ``linf_max`` (largest
    :math:`\|\delta\|_\infty`), ``l2_mean`` (mean of :math:`\|\delta\|_2` over images) and
    ``changed_share`` (mean share of pixels changed)."""
    if delta.ndim != 4 or len(delta) == 0:
        raise ValueError(f"delta must be a non-empty (N, C, H, W) tensor; got shape {tuple(delta.shape)}")
    flat = delta.flatten(1)
    return {
        "linf_max": float(flat.abs().max()),
        "l2_mean": float(flat.norm(dim=1).mean()),
        "changed_share": float((flat != 0).float().mean()),
    }


def radius_sweep(
    lab,
    share: float,
    radii,
    steps: int,
    seeds: int,
    robust_model: nn.Module,
    robust_fp: str,
) -> pd.DataFrame:
    """Per (radius, seed): ``n`` poisons, ``fooled`` (how many the robust model misclassifies after
    PGD-``steps`` at that radius, trigger stamped), the perturbation's size (:func:`perturbation_size`)
    and ``seconds`` (wall seconds of the cold build of that cell). Cached per cell."""
    from reliable_ml.data import cache_dir

    radii = [float(r) for r in radii]
    if not radii or any(not 0 < r <= 1 for r in radii):
        raise ValueError(f"radii must be a non-empty list of L-infinity radii in (0, 1]; got {radii!r}")
    rows = []
    for r in radii:
        for s in range(int(seeds)):
            seed = lab.seed + s
            path = cache_dir() / "clean_label" / f"sweep-{_key(lab, share, r, steps, seed, robust_fp, 'sweep')}.json"
            with cachelock.building(path):
                row = json.loads(path.read_text()) if path.exists() else None
                cachestats.record("clean_label", hit=row is not None, models=0)
                if row is None:
                    t0 = time.perf_counter()
                    p, delta = _poisons(lab, share, r, steps, seed, robust_model)
                    y_p = lab.y_train[p.idx].to(lab.device)
                    acc = attacks.accuracy(robust_model, p.x[p.idx].to(lab.device).float() / 255, y_p)
                    n = len(p.idx)
                    row = {"eps": r, "seed": seed, "n": n, "fooled": int(round((1 - acc) * n))}
                    row |= perturbation_size(delta) | {"seconds": round(time.perf_counter() - t0, 1)}
                    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                    tmp.write_text(json.dumps(row))
                    os.replace(tmp, path)
            rows.append(row)
    return pd.DataFrame(rows)


def sweep_table(sweep: pd.DataFrame, threshold: float = bl.HARDENING_FAILS_BELOW) -> pd.DataFrame:
    """Per radius, pooled over seeds: ``k`` fooled of ``n`` poisons, ``fooled`` (share), its exact
    (Clopper-Pearson) 95% interval ``lo``/``hi``, the verdict against ``threshold``
    (:func:`reliable_ml.stats.against_reference`: "higher" = the attack fools the robust model on most
    poisons), the perturbation's mean :math:`L_2`, largest :math:`L_\\infty` and mean share of pixels changed."""
    rows = []
    for r, g in sweep.groupby("eps", sort=True):
        k, n = int(g["fooled"].sum()), int(g["n"].sum())
        lo, hi = (float(v) for v in stats.clopper_pearson(k, n))
        v = stats.against_reference(k / n, (lo, hi), threshold)
        l2 = float((g["l2_mean"] * g["n"]).sum() / n)
        rows.append(
            {"eps": float(r), "k": k, "n": n, "fooled": k / n, "lo": lo, "hi": hi, "verdict": v.direction,
             "l2_mean": l2, "linf_max": float(g["linf_max"].max()),
             "changed_share": float((g["changed_share"] * g["n"]).sum() / n)}
        )  # fmt: skip
    out = pd.DataFrame(rows)
    out.attrs["seconds"] = float(sweep["seconds"].sum()) if "seconds" in sweep else float("nan")
    return out


def choose_radius(table: pd.DataFrame) -> float | None:
    """The rule: the smallest swept radius whose pooled fooled share is "higher" than the threshold
    (exact interval above it); ``None`` when no swept radius qualifies."""
    ok = table.loc[table["verdict"] == "higher", "eps"]
    return float(ok.min()) if len(ok) else None


def wide_arm(
    lab,
    share: float,
    eps: float,
    steps: int,
    seeds: int,
    robust_model: nn.Module,
    robust_fp: str,
    *,
    n_show: int = 6,
) -> tuple[pd.DataFrame, dict]:
    """One victim per seed trained on the seed's poisons hardened at ``eps`` against the robust model
    (same draw, initial weights and batch order as the seed's victims of
    :func:`reliable_ml.pipeline.backdoor_lab.clean_label_hardening`). Returns ``(runs, examples)``:
    ``runs`` one row per seed (``arm`` = :data:`ARM`, ``poisoned``, ``success``, ``clean``, ``fooled``
    = the robust model's error on the poisons, ``standard_acc`` = the accuracy on them of the seed's
    standard hardening model of :func:`reliable_ml.pipeline.backdoor_lab.clean_label_hardening`, a
    victim-like model, ``seconds`` = wall seconds of the seed's cold build);
    ``examples`` ``hits`` ({seed: bool per triggered test image}), ``size`` ({seed:
    :func:`perturbation_size`}) and ``show`` (the first poisons of the lab's seed, uint8). Cached per seed."""
    from reliable_ml.data import cache_dir

    rows, ex = [], {"hits": {}, "size": {}}
    for s in range(int(seeds)):
        seed = lab.seed + s
        path = (
            cache_dir()
            / "clean_label"
            / f"wide-{_key(lab, share, eps, steps, seed, robust_fp, f'wide{WIDE_CACHE_VERSION}')}.pt"
        )

        def build(seed=seed):
            t0 = time.perf_counter()
            p, delta = _poisons(lab, share, eps, steps, seed, robust_model)
            y_p = lab.y_train[p.idx].to(lab.device)
            acc = attacks.accuracy(robust_model, p.x[p.idx].to(lab.device).float() / 255, y_p)
            standard = bl.train_model(lab, lab.x_other, lab.y_other, seed=seed + 1000)  # the seed's standard model
            std_acc = attacks.accuracy(standard, p.x[p.idx].to(lab.device).float() / 255, y_p)
            model = bl.train_model(lab, p.x, p.y, seed=seed)
            res = {
                "poisoned": torch.tensor(len(p.idx)),
                "robust_acc": torch.tensor(acc),
                "standard_acc": torch.tensor(std_acc),
                "size": {k: torch.tensor(v) for k, v in perturbation_size(delta).items()},
                "show": p.x[p.idx[:n_show]].clone(),
                "hits": torch.from_numpy(bl.hits(lab, model).astype(bool)),
                "clean": torch.tensor(bl.clean_accuracy(lab, model)),
            }
            res["seconds"] = torch.tensor(round(time.perf_counter() - t0, 3))
            return res

        res = bl.cached_seed(path, build, models=1)
        ex["hits"][seed] = res["hits"].numpy().astype(float)
        ex["size"][seed] = {k: float(v) for k, v in res["size"].items()}
        if s == 0:
            ex["show"] = res["show"]
        rows.append(
            {
                "arm": ARM,
                "seed": seed,
                "poisoned": int(res["poisoned"]),
                "success": float(res["hits"].float().mean()),
                "clean": float(res["clean"]),
                "fooled": 1 - float(res["robust_acc"]),
                "standard_acc": float(res["standard_acc"]),
                "seconds": float(res["seconds"]),
            }
        )
    return pd.DataFrame(rows), ex


def compare_wide(wide_runs: pd.DataFrame, wide_ex: dict, cl_runs: pd.DataFrame, cl_ex: dict) -> dict:
    """The wide-radius arm against each arm of :data:`reliable_ml.pipeline.backdoor_lab.HARDENINGS`,
    paired by seed: ``over_seeds`` (paired t of the seeds' success rates, :func:`reliable_ml.stats.compare`;
    ``None`` with one seed) and ``per_seed`` (McNemar's exact test of the two victims on the same
    triggered test images, one verdict per seed)."""
    seeds = sorted(int(s) for s in wide_runs["seed"])
    missing = sorted(set(seeds) - set(int(s) for s in cl_runs["seed"]))
    if missing:
        raise ValueError(f"seeds {missing} of the wide arm have no clean-label run to pair with")
    w = wide_runs.set_index("seed").loc[seeds, "success"].to_numpy()
    out = {}
    for arm in bl.HARDENINGS:
        b = cl_runs[cl_runs["arm"] == arm].set_index("seed").loc[seeds, "success"].to_numpy()
        over = stats.compare(w, b, paired=True, outcome="continuous") if len(seeds) >= 2 else None
        per_seed = [stats.compare(wide_ex["hits"][s], cl_ex["hits"][s][arm], paired=True) for s in seeds]
        out[arm] = {"over_seeds": over, "per_seed": per_seed}
    return out


def wide_words(comparisons: dict, n_seeds: int) -> dict:
    """``cl_wide_<arm>_seeds`` (paired t over seeds, "cannot tell" when the seeds do not separate) and
    ``cl_wide_<arm>_images`` (the per-seed McNemar tests) for each arm of :func:`compare_wide`."""
    words = {}
    for arm, c in comparisons.items():
        words |= bl.seed_pair_words(f"cl_wide_{arm}", c, n_seeds)
    return words


def rule_words(table: pd.DataFrame, chosen: float | None, robust_eps: float, steps: int) -> str:
    """What the sweep shows and which radius the rule picked, from :func:`sweep_table`."""
    parts = [f"ε = {r.eps:g}: {100 * r.fooled:.1f}% [{100 * r.lo:.1f}, {100 * r.hi:.1f}]" for r in table.itertuples()]
    head = (
        f"PGD-{steps} against the robust model (trained at ε = {robust_eps:g}) fools it on this share of the poisons, "
        f"pooled over seeds with exact 95% intervals: {'; '.join(parts)}"
    )
    if chosen is None:
        return f"{head}. No swept radius makes most poisons hard (no interval lies above 50%), so no wider arm was run"
    return (
        f"{head}. The smallest radius whose interval lies above 50% is ε = {chosen:g}: the rule picks it, "
        "and the wide arm below hardens its poisons there"
    )


def records(table: pd.DataFrame, chosen, wide_runs, wide_ex, comparisons, steps: int) -> dict:
    """The ``clean_label.wide_radius`` entry of the results file."""
    seeds = sorted(wide_ex["size"]) if wide_ex else []
    return {
        "rule": "smallest swept radius whose pooled share of poisons the robust model misclassifies has its exact "
        "(Clopper-Pearson) 95% interval above 0.5",
        "steps": int(steps),
        "sweep": table.to_dict(orient="records"),
        "chosen_eps": chosen,
        "cold_seconds": {
            "sweep": float(table.attrs.get("seconds", float("nan"))),
            "wide_arm": None if wide_runs is None else float(wide_runs["seconds"].sum()),
            "note": "wall seconds of the cold builds (cached: later runs read them back), shared 2-core machine",
        },
        "arm": None
        if wide_runs is None
        else {
            "success_rate": float(wide_runs["success"].mean()),
            "ci": list(bl.seed_interval(wide_runs["success"].to_numpy())),
            "seeds": [float(v) for v in wide_runs["success"]],
            "clean_acc": float(wide_runs["clean"].mean()),
            "fooled_robust": [float(v) for v in wide_runs["fooled"]],
            "standard_acc": [float(v) for v in wide_runs["standard_acc"]],
            "perturbation": {s: wide_ex["size"][s] for s in seeds},
        },
        "comparisons": {
            a: {
                "over_seeds": None if c["over_seeds"] is None else c["over_seeds"].as_dict(),
                "per_seed": [v.as_dict() for v in c["per_seed"]],
            }
            for a, c in (comparisons or {}).items()
        },
    }


def mean_size(wide_ex: dict) -> dict:
    """Mean over seeds of :func:`perturbation_size`'s fields."""
    return {k: float(np.mean([d[k] for d in wide_ex["size"].values()])) for k in next(iter(wide_ex["size"].values()))}


def base_rate(runs: pd.DataFrame, seeds) -> dict:
    """How often models trained on *unpoisoned* data (the BadNets sweep's share-0 models, same seeds,
    same triggered test images) already output the target class: ``k`` of ``n`` pooled over
    ``seeds``, ``rate``, its exact 95% interval, ``per_seed`` ({seed: success}) and ``per_seed_counts``
    ({seed: (hits, n)})."""
    seeds = sorted(int(s) for s in seeds)
    clean = runs[runs["fraction"] == 0].set_index("seed")
    missing = sorted(set(seeds) - set(int(s) for s in clean.index))
    if missing:
        raise ValueError(f"seeds {missing} have no unpoisoned (share 0) model in the BadNets runs")
    k, n = int(clean.loc[seeds, "hits"].sum()), int(clean.loc[seeds, "n"].sum())
    lo, hi = stats.clopper_pearson(k, n)
    return {"k": k, "n": n, "rate": k / n, "interval": [float(lo), float(hi)],
            "per_seed": {s: float(clean.loc[s, "success"]) for s in seeds},
            "per_seed_counts": {s: (int(clean.loc[s, "hits"]), int(clean.loc[s, "n"])) for s in seeds}}  # fmt: skip


BASE_TEST = (
    "McNemar's exact test, seed by seed: the seed's victim and the seed's unpoisoned model, image by image on the "
    "same triggered test images; and a paired t over seeds of the two models' attack success rates"
)


def over_base(arm_hits: dict[str, dict], base_hits: dict) -> dict:
    """Each arm's attack success against the unpoisoned model of the same seed (the BadNets sweep's
    share-0 model, :func:`base_rate`): ``arm_hits`` maps an arm's name to ``{seed: 0/1 hit per
    triggered test image}``, ``base_hits`` is ``{seed: 0/1 hit per triggered test image}`` of the
    unpoisoned models, on the same images in the same order. The value per arm is
    ``{"per_seed": [...], "over_seeds": Verdict | None}`` (see :data:`BASE_TEST`):

    * ``per_seed``, one verdict per seed in seed order, McNemar's exact test
      (:func:`reliable_ml.stats.compare` with ``paired=True``): the two models of a seed are paired
      image by image; it covers the test images' noise in that seed's models only;
    * ``over_seeds``, the paired t over seeds of the seeds' success rates, mean of
      :math:`d_s = \\hat p_{\\text{arm},s} - \\hat p_{\\text{base},s}` with its
      :math:`t_{S-1}` interval (:func:`reliable_ml.stats.compare`, ``outcome="continuous"``): the
      test that says something about the recipe, as a rerun draws new models; ``None`` with one seed.

    "higher" = the poisoned victims output the target class more often than the unpoisoned models do."""
    base_hits = {int(s): h for s, h in base_hits.items()}
    out = {}
    for name, by_seed in arm_hits.items():
        verdicts, rates = [], []
        for s in sorted(int(k) for k in by_seed):
            if s not in base_hits:
                raise ValueError(f"seed {s} of arm {name!r} has no unpoisoned model; seeds: {sorted(base_hits)}")
            h, hb = np.asarray(by_seed[s], dtype=float), np.asarray(base_hits[s], dtype=float)
            if len(h) != len(hb):
                raise ValueError(f"arm {name!r}, seed {s}: {len(h)} triggered images, the unpoisoned model {len(hb)}")
            verdicts.append(stats.compare(h, hb, paired=True, outcome="binary"))
            rates.append((h.mean(), hb.mean()))
        r = np.asarray(rates).reshape(-1, 2)
        over = stats.compare(r[:, 0], r[:, 1], paired=True, outcome="continuous") if len(r) >= 2 else None
        out[name] = {"per_seed": verdicts, "over_seeds": over}
    return out


BASE_NAMES = {
    "none": "no hardening",
    "standard": "hardening against the standard model",
    "robust": "the robust arm",
    "wide": "the wide-radius arm",
}


def _names(arms: list[str]) -> str:
    names = [BASE_NAMES.get(a, a) for a in arms]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _seed_count(per_seed: list, ref: str = "it") -> str:
    """How many seeds' McNemar verdicts put an arm above (below) the base rate (``ref``), in words."""
    n = len(per_seed)
    up = sum(v.direction == "higher" for v in per_seed)
    down = sum(v.direction == "lower" for v in per_seed)
    if up == n:
        return f"above {ref} in every seed" if n > 1 else f"above {ref} in its one seed"
    if down == n:
        return f"below {ref} in every seed" if n > 1 else f"below {ref} in its one seed"
    parts = [f"{w} {ref} in {k} of {n} seeds" for w, k in (("above", up), ("below", down)) if k]
    return " and ".join(parts) if parts else f"not told apart from {ref} in any seed"


def over_base_says(verdicts: dict) -> str:
    """What :func:`over_base`'s verdicts show, arms grouped by their verdict over seeds (paired t):
    "the robust arm and the wide-radius arm are above the base rate over 3 seeds; no hardening is above
    it in every seed, but 3 seeds cannot tell". Arms the test over seeds cannot place are described by
    their per-seed McNemar verdicts ("above it in 2 of 3 seeds", "not told apart from it in any seed");
    with one seed there is no test over seeds. Lower case, for use after a colon."""
    arms = [a for a, v in verdicts.items() if v["per_seed"]]
    if not arms:
        return "no arm was tested against the base rate"
    n = len(verdicts[arms[0]]["per_seed"])
    if any(len(verdicts[a]["per_seed"]) != n for a in arms):
        raise ValueError(f"arms have different numbers of seeds: { {a: len(verdicts[a]['per_seed']) for a in arms} }")

    def direction(a):
        v = verdicts[a]["over_seeds"]
        return "none" if v is None else v.direction

    def are(group):
        return "is" if len(group) == 1 else "are"

    parts = []
    for d, word in (("higher", "above"), ("lower", "below")):
        group = [a for a in arms if direction(a) == d]
        if group:
            parts.append(f"{_names(group)} {are(group)} {word} the base rate over {n} seeds (paired t)")
    rest = [a for a in arms if direction(a) not in ("higher", "lower")]
    by_count: dict[tuple, list] = {}
    for a in rest:
        by_count.setdefault((_seed_count(verdicts[a]["per_seed"], "{ref}"), direction(a)), []).append(a)
    for (count, d), group in by_count.items():
        count = count.replace("{ref}", "it" if parts else "the base rate")
        conj = "and" if count.startswith("not told apart") else "but"
        tail = f"{conj} with one seed there is no test over seeds" if d == "none" else f"{conj} {n} seeds cannot tell"
        parts.append(f"{_names(group)} {are(group)} {count} (McNemar), {tail}")
    return "; ".join(parts)


def over_base_words(verdicts: dict, n_seeds: int) -> dict:
    """``cl_base_<arm>``: :func:`over_base`'s verdicts in words, the per-seed McNemar tests
    (:func:`reliable_ml.stats.phrase_all`) then the paired t over seeds (:func:`reliable_ml.stats.phrase`);
    ``cl_base_list`` (every arm with its words), ``cl_base_says`` (:func:`over_base_says`) and
    ``cl_base_over`` (each arm's mean difference over seeds with its 95% t interval, in points)."""
    words = {}
    for arm, v in verdicts.items():
        seeds = stats.phrase_all(
            v["per_seed"], "above the base rate", "below the base rate", "not told apart from the base rate",
            "the seeds disagree", items="seeds",
        )  # fmt: skip
        over = (
            "with one seed, no test over seeds"
            if v["over_seeds"] is None
            else "over the seeds (paired t), "
            + stats.phrase(v["over_seeds"], "above it", "below it", f"the {n_seeds} seeds cannot tell")
        )
        words[f"cl_base_{arm}"] = f"{seeds}; {over}"
    listed = "; ".join(f"{BASE_NAMES.get(a, a)}: {words[f'cl_base_{a}']}" for a in verdicts)

    def span(v):
        d, (lo, hi) = 100 * v.difference, (100 * x for x in v.interval)
        return f"{d:+.1f} [{lo:+.1f}, {hi:+.1f}]"

    over_list = "; ".join(
        f"{BASE_NAMES.get(a, a)} {span(v['over_seeds'])}" for a, v in verdicts.items() if v["over_seeds"] is not None
    )
    return {
        "cl_base_says": over_base_says(verdicts),
        "cl_base_list": listed,
        "cl_base_over": over_list or "no test over seeds with one seed",
    } | words


def digit_l2(lab) -> float:
    """Mean :math:`L_2` norm (pixel units in [0, 1]) of the lab's target-class training images: the
    scale for a perturbation's :math:`L_2` size."""
    x = lab.x_train[lab.y_train == lab.target].float() / 255
    if len(x) == 0:
        raise ValueError(f"the lab has no training image of its target class {lab.target}")
    return float(x.flatten(1).norm(dim=1).mean())


def masking_words(robust_card: dict, steps: int) -> str:
    """What the robust model's own gradient-masking checks (its card's ``masking`` entry) mean for the
    hardening attack: a flagged check makes a weak attack (PGD-``steps``, one random start) a second
    reason, beside the radius, for poisons PGD failed to make hard."""
    masking = robust_card.get("masking") or {}
    flags, checks = masking.get("flags", []), masking.get("checks", {})
    if not checks:
        return "The robust model's card holds no gradient-masking check, so how strong PGD is on it is unchecked"
    if not flags:
        return "The robust model's own checks for gradient masking raise no flag"
    c = checks.get("gradient_free_beats_gradient", {})
    gap = (
        f" (a gradient-free attack leaves {c['gradient_free_acc']:.1f}% of the images correct against "
        f"{c['best_gradient_acc']:.1f}% under the gradient attacks together; see the saliency section)"
        if {"gradient_free_acc", "best_gradient_acc"} <= set(c)
        else ""
    )
    return (
        f"The robust model's own check for gradient masking is flagged{gap}: PGD-{steps} with one random start may "
        "be a weak attack on it, so a hardening failure may partly be the attack's, not only the radius's"
    )


def held_verdict(k: int, n: int) -> tuple[float, stats.Verdict]:
    """A victim-like model's pooled accuracy ``k / n`` on poisons and its verdict against 1/2 (exact
    Clopper-Pearson interval, :func:`reliable_ml.stats.against_reference`): "higher" = it reads most of
    them correctly."""
    lo, hi = stats.clopper_pearson(k, n)
    return k / n, stats.against_reference(k / n, (float(lo), float(hi)), 0.5)


def _held(wide_runs: pd.DataFrame) -> tuple[float, stats.Verdict]:
    """:func:`held_verdict` of the seeds' standard models pooled over the wide arm's poisons."""
    n = wide_runs["poisoned"].to_numpy()
    k = int(np.round(wide_runs["standard_acc"].to_numpy() * n).sum())
    return held_verdict(k, int(n.sum()))


def content_words(verdict: stats.Verdict) -> str:
    """What a victim-like model's accuracy on poisons (:func:`held_verdict`) allows about fitting them
    from their content: a possibility, never tested here (no victim is probed on its poisons)."""
    return {
        "higher": "a victim-like model reads most of them correctly, which may let the victim fit most of them "
        "from their content (untested)",
        "lower": "a victim-like model does not read most of them correctly, so fitting them from their content is "
        "a weaker reason for them (untested)",
    }.get(verdict.direction, "whether a victim-like model reads most of them correctly the data cannot tell")


def robust_content_words(acc: float, n: int) -> str:
    """``cl_content_robust``: whether the reason offered for the standard arm (the victim fits its poisons
    from their content) may apply to the robust arm too, from the seeds' standard models' pooled
    accuracy ``acc`` (share) on the robust arm's ``n`` poisons (:func:`held_verdict`)."""
    k = int(round(acc * n))
    share, v = held_verdict(k, n)
    lo, hi = (100 * float(x) for x in stats.clopper_pearson(k, n))
    return (
        f"For the robust arm's poisons, the seeds' standard models classify {100 * share:.1f}% correctly "
        f"(exact 95% interval [{lo:.1f}, {hi:.1f}], pooled over seeds): {content_words(v)}"
    )


def _rounding(linf: float, eps: float) -> str:
    """Whether saving as 8-bit moved a pixel past radius ``eps`` (a measured maximum, no sampling)."""
    where = "past it" if linf > eps + 1e-9 else "within it"
    return f"{linf:.4f} at ε = {eps:g}, {where}"


def wide_text(
    chosen: float | None,
    table: pd.DataFrame,
    wide_runs: pd.DataFrame | None,
    comparisons: dict | None,
    base_words: dict,
    *,
    robust_eps: float,
    harden_eps: float,
    held_base: float,
    digit_norm: float,
    n_seeds: int,
    base_failed: bool = True,
) -> dict:
    """The wide arm's results in words (``cl_wide_text``, one plain-text paragraph) and the summary's line
    (``cl_wide_takeaway``), every judging word from a verdict: the explanation "the robust arm's poisons
    were never made hard" is borne out only where the wide arm's success is "higher" than the
    ``harden_eps`` arm's (paired t over seeds); where it is "lower" the words say so; where the seeds
    cannot tell, the words quote the paired 95% t interval's upper end as the largest gain the data
    allow, and judge no gain as negligible (no margin was fixed before the interval was seen). Either
    way the poisons were made hard for the robust model, not shown to be hard for the victim.
    ``held_base``: the standard model's accuracy (%) on the ``harden_eps`` arm's poisons;
    ``digit_norm``: :func:`digit_l2`; ``base_failed``: whether the hardening at ``harden_eps`` failed
    (:func:`reliable_ml.pipeline.backdoor_lab.hardening_attack` not "higher"); where it did not, the
    poisons were made hard already and the wide arm tests no explanation. Without a chosen radius, a
    note and no numbers."""
    if chosen is None or wide_runs is None:
        note = (
            "No swept radius made most poisons hard for the robust model, so no wide arm was trained: this run "
            "cannot test whether harder poisons make the trigger stick."
        )
        return {"cl_wide_text": note, "cl_wide_takeaway": "no swept radius made most poisons hard, so no wider arm ran"}
    at = table.set_index("eps")
    same = np.isclose(chosen, harden_eps)
    base_row = at.loc[float(harden_eps)] if float(harden_eps) in at.index and not same else None
    w = at.loc[chosen]
    v = comparisons["robust"]["over_seeds"]
    succ = 100 * wide_runs["success"].mean()
    lo_s, hi_s = (100 * x for x in bl.seed_interval(wide_runs["success"].to_numpy()))
    held, held_v = _held(wide_runs)
    size = (
        f"The price is visibility. A digit of the target class has a mean L2 norm of {digit_norm:.1f} (pixel "
        f"units); the perturbation's mean L2 size (before the trigger) is {w.l2_mean:.2f} at ε = {chosen:g}"
        + ("" if base_row is None else f" ({base_row.l2_mean:.2f} at ε = {harden_eps:g})")
        + f", and it changes {100 * w.changed_share:.0f}% of the pixels. ε = {chosen:g} is "
        f"{chosen / robust_eps:.2f} times the robust model's training radius; Turner et al. harden at up to "
        "2 and 4 times theirs (from memory, 16 and 32/255 against a model trained at 8/255; unverified against the "
        "paper). Saved as 8-bit images, the poisons are rounded to whole grey levels, which can move a pixel by up "
        "to half a level past the nominal radius; the largest change is "
        f"{_rounding(w.linf_max, chosen)}"
        + ("" if base_row is None else f", and {_rounding(base_row.linf_max, harden_eps)}")
        + ". The figure shows the poisons at both radii; whether a person would still call them correctly labelled "
        "is not measured here."
    )
    reads = content_words(held_v)
    result = (
        f"With these poisons the robust model misclassifies {100 * w.fooled:.1f}% [{100 * w.lo:.1f}, "
        f"{100 * w.hi:.1f}] of them, yet attack success is {succ:.1f}% [{lo_s:.1f}, {hi_s:.1f}] (mean over "
        f"{n_seeds} seeds, 95% t interval; clean accuracy {100 * wide_runs['clean'].mean():.1f}%). The seeds' "
        f"standard hardening models, a victim-like network trained on other images, classify {100 * held:.1f}% of "
        f"them correctly ({held_base:.1f}% of the ε = {harden_eps:g} poisons): {reads}."
    )
    if v is None:
        verdict = "With one seed there is no paired test of the two robust arms."
        take = f"at ε = {chosen:g} no paired test over seeds is possible with one seed"
    elif not base_failed or same:
        verdict = (
            f"The hardening at ε = {harden_eps:g} had already made most poisons hard, so this arm tests no "
            f"explanation of the robust arm's results; against that arm, paired by seed: "
            + stats.phrase(
                v, "higher attack success", "lower attack success", f"the {n_seeds} seeds cannot tell them apart"
            )
            + "."
        )
        take = f"at ε = {chosen:g}, where the robust arm's poisons were hard already, nothing further is tested"
    elif v.direction == "higher":
        verdict = (
            f"Against the robust arm at ε = {harden_eps:g}, paired by seed, the wide arm has "
            + stats.phrase(v, "higher attack success", "lower attack success", "no difference the data can tell")
            + ": harder poisons made the trigger stick more, as the explanation predicts."
        )
        take = f"hardening at ε = {chosen:g} raised attack success over the ε = {harden_eps:g} arm (paired t)"
    elif v.direction == "lower":
        said = stats.phrase(v, "higher attack success", "lower attack success", "no difference the data can tell")
        verdict = (
            f"Against the robust arm at ε = {harden_eps:g}, paired by seed, the wide arm has {said}: making the "
            "poisons hard for the robust model did not help the trigger stick. Whether poisons hard for the victim "
            "would is still open."
        )
        take = (
            f"making {100 * w.fooled:.0f}% of the robust arm's poisons hard for the robust model (ε = {chosen:g}) "
            f"gave {said} than the ε = {harden_eps:g} arm (paired t, {n_seeds} seeds); whether poisons hard for "
            "the victim would raise it is open"
        )
    else:
        said = stats.phrase(
            v, "higher attack success", "lower attack success", f"the {n_seeds} seeds cannot tell them apart"
        )
        lo, hi = 100 * v.interval[0], 100 * v.interval[1]
        most = (
            f"any gain over the ε = {harden_eps:g} arm is at most {hi:+.1f} points (upper end of the 95% t interval, "
            f"{n_seeds} seeds; no margin was fixed in advance)"
        )
        verdict = (
            f"Against the robust arm at ε = {harden_eps:g}, paired by seed: {said}. From making the poisons hard for "
            f"the robust model, {most}, on this robust model and these images; whether a gain of "
            "that size matters is not judged here, and whether poisons hard for the victim would make the trigger "
            "stick is still open."
        )
        take = (
            f"making {100 * w.fooled:.0f}% of the robust arm's poisons hard for the robust model (ε = {chosen:g}) "
            f"left attack success within [{lo:+.1f}, {hi:+.1f}] points of the ε = {harden_eps:g} arm (95% t "
            f"interval, {n_seeds} seeds; no margin was fixed in advance); whether poisons hard for the victim would "
            "raise it is open"
        )
    ww = wide_words(comparisons, n_seeds)
    others = (
        f"Against no hardening, paired by seed: {ww['cl_wide_none_seeds']}; against the standard arm: "
        f"{ww['cl_wide_standard_seeds']}. Image by image (McNemar's exact test per seed, the same triggered test "
        f"images): against the ε = {harden_eps:g} robust arm, {ww['cl_wide_robust_images']}; against no hardening, "
        f"{ww['cl_wide_none_images']}; against the standard arm, {ww['cl_wide_standard_images']}."
    )
    base = (
        "Against the base rate below (McNemar's exact test per seed on the same triggered images, and a paired t "
        "over seeds), the wide arm's attack success "
        f"is {base_words['cl_base_wide']}."
    )
    text = " ".join([size, result, verdict, others, base])
    return {"cl_wide_text": text, "cl_wide_takeaway": take}
