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
ARM = "robust_wide"  # the wide-radius arm's name in runs tables


def _key(lab, share: float, eps: float, steps: int, seed: int, robust_fp: str, job: str) -> str:
    base = bl.clean_label_fingerprint(lab, share, eps, steps, seed, robust_fp, 0)
    return hashlib.sha256(f"{base}|{job}|v{RADIUS_CACHE_VERSION}".encode()).hexdigest()[:16]


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
    poisons) and the perturbation's mean :math:`L_2` and largest :math:`L_\\infty`."""
    rows = []
    for r, g in sweep.groupby("eps", sort=True):
        k, n = int(g["fooled"].sum()), int(g["n"].sum())
        lo, hi = (float(v) for v in stats.clopper_pearson(k, n))
        v = stats.against_reference(k / n, (lo, hi), threshold)
        l2 = float((g["l2_mean"] * g["n"]).sum() / n)
        rows.append(
            {"eps": float(r), "k": k, "n": n, "fooled": k / n, "lo": lo, "hi": hi, "verdict": v.direction,
             "l2_mean": l2, "linf_max": float(g["linf_max"].max())}
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
    = the robust model's error on the poisons, ``seconds`` = wall seconds of the seed's cold build);
    ``examples`` ``hits`` ({seed: bool per triggered test image}), ``size`` ({seed:
    :func:`perturbation_size`}) and ``show`` (the first poisons of the lab's seed, uint8). Cached per seed."""
    from reliable_ml.data import cache_dir

    rows, ex = [], {"hits": {}, "size": {}}
    for s in range(int(seeds)):
        seed = lab.seed + s
        path = cache_dir() / "clean_label" / f"wide-{_key(lab, share, eps, steps, seed, robust_fp, 'wide')}.pt"
        res = None
        with cachelock.building(path):
            if path.exists():
                try:
                    res = torch.load(path, weights_only=True)
                except Exception as exc:  # noqa: BLE001 - an unreadable cache entry is rebuilt
                    print(f"clean-label cache entry {path.name} unreadable ({exc}); rebuilding")
            cachestats.record("clean_label", hit=res is not None, models=1)
            if res is None:
                t0 = time.perf_counter()
                p, delta = _poisons(lab, share, eps, steps, seed, robust_model)
                y_p = lab.y_train[p.idx].to(lab.device)
                acc = attacks.accuracy(robust_model, p.x[p.idx].to(lab.device).float() / 255, y_p)
                model = bl.train_model(lab, p.x, p.y, seed=seed)
                res = {
                    "poisoned": torch.tensor(len(p.idx)),
                    "robust_acc": torch.tensor(acc),
                    "size": {k: torch.tensor(v) for k, v in perturbation_size(delta).items()},
                    "show": p.x[p.idx[:n_show]].clone(),
                    "hits": torch.from_numpy(bl.hits(lab, model).astype(bool)),
                    "clean": torch.tensor(bl.clean_accuracy(lab, model)),
                }
                res["seconds"] = torch.tensor(round(time.perf_counter() - t0, 1))
                tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                torch.save(res, tmp)
                os.replace(tmp, path)
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
        v = c["over_seeds"]
        words[f"cl_wide_{arm}_seeds"] = (
            "no test over seeds is possible with one seed"
            if v is None
            else stats.phrase(
                v,
                f"higher attack success over the {n_seeds} seeds",
                f"lower attack success over the {n_seeds} seeds",
                f"the {n_seeds} seeds cannot tell them apart",
            )
        )
        words[f"cl_wide_{arm}_images"] = stats.phrase_all(
            c["per_seed"], "higher", "lower", "the data cannot tell them apart", "the seeds disagree", items="seeds"
        )
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
