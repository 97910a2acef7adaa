"""Rules over tables of many models or many resamples: per-model drops on a new test set, the
order of test sets, the selection-frequency bias, ReaL's slope, confident learning re-run on released probabilities and
effective robustness by group.

Same contract as :mod:`~reliable_ml.course.scorecard.rules_numbers`: ``rule(claim, get,
**params) -> Verdict``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from reliable_ml.course.scorecard.keys import Missing, RegistryError
from reliable_ml.course.scorecard.values import (
    Verdict,
    diff_halfwidth,
    model_drops,
    n_of,
    num,
    number_table,
    pct,
    spread_text,
)


def _per_model_drop(claim, get, stat, low, high, n, **_):
    """Per-model drops (original minus new, points). The tolerance is the 95% half-width of one
    model's drop, from ``n = {"original": count, "new": count}`` at that model's accuracies."""
    orig, new = number_table(get, claim["keys"][0]), number_table(get, claim["keys"][1])
    common = sorted(set(orig) & set(new))
    if not common:
        raise Missing(f"no model in both {claim['keys'][0]} and {claim['keys'][1]}")
    drops = np.array([orig[m] - new[m] for m in common])

    def hw(i):  # the drop of model i: two independent accuracies on n["original"] and n["new"] images
        m = common[i]
        return diff_halfwidth((pct(orig[m]), n_of(get, n["original"])), (pct(new[m]), n_of(get, n["new"])))

    inside = int(((drops >= low) & (drops <= high)).sum())
    text = f"{spread_text(drops)}; {inside} of {len(drops)} inside {low:g}-{high:g}"
    if stat == "median":
        i = int(np.argsort(drops)[len(drops) // 2])
        tol = hw(i)
        ok = low - tol <= float(np.median(drops)) <= high + tol
        text += f"; tolerance ±{tol:.1f} (one model's drop)"
    elif stat == "range":
        lo_i, hi_i = int(np.argmin(drops)), int(np.argmax(drops))
        tol_lo, tol_hi = hw(lo_i), hw(hi_i)
        ok = abs(drops[lo_i] - low) <= tol_lo and abs(drops[hi_i] - high) <= tol_hi
        text += f"; tolerance ±{tol_lo:.1f} at the low end, ±{tol_hi:.1f} at the high end"
    else:
        raise RegistryError(f"claim {claim['id']}: stat must be 'median' or 'range', not {stat!r}")
    return Verdict(text, ok)


def _per_set_order(claim, get, table, base, hardest, others, n, factor, **_):
    """The hardest set's median drop must exceed each other set's by more than ``factor`` times
    the 95% half-width of the difference of two accuracies on ``n`` images each ("much less")."""
    med = {s: float(np.median(model_drops(get, f"{table}.*.{base}", f"{table}.*.{s}"))) for s in (hardest, *others)}
    acc = {s: float(np.median(list(number_table(get, f"{table}.*.{s}").values()))) for s in (hardest, *others)}
    margins = {s: med[hardest] - med[s] for s in others}
    need = {s: factor * diff_halfwidth((pct(acc[hardest]), n_of(get, n)), (pct(acc[s]), n_of(get, n))) for s in others}
    text = (
        "median drops: "
        + ", ".join(f"{s} {v:.1f} pts" for s, v in med.items())
        + "; margin needed "
        + ", ".join(f"{v:.1f}" for v in need.values())
    )
    return Verdict(text, all(margins[s] > need[s] for s in others))


def _engstrom(claim, get, table, ks, tolerance, **_):
    """Mean apparent drop of the matched set for each number of annotators k: must fall
    strictly as k grows (the bias's signature), and by more than ``tolerance`` from the fewest
    to all. ``ci`` is shown as the spread of single rebuilt sets."""
    drops = {}
    for k in ks:
        try:
            drops[k] = num(get(f"{table}.{k}.matched_drop"))
        except Missing:
            continue
    if ks[0] not in drops or ks[-1] not in drops:
        raise Missing(f"no {table}.{ks[0]} and {table}.{ks[-1]}")
    lo, hi = (num(v) for v in get(f"{table}.{ks[0]}.ci"))
    values = list(drops.values())
    falling = all(a > b for a, b in zip(values, values[1:]))
    bias = drops[ks[0]] - drops[ks[-1]]
    text = (
        "mean apparent drop of the matched set by annotators per image: "
        + ", ".join(f"{k}: {v:.2f}" for k, v in drops.items())
        + f" pts (bias {bias:+.2f}; single sets with {ks[0]}: {lo:.2f} to {hi:.2f})"
    )
    return Verdict(text, falling and bias > tolerance)


def _real_slope(claim, get, top, tolerance=0.0, **_):
    orig, real = number_table(get, claim["keys"][0]), number_table(get, claim["keys"][1])
    names = sorted(set(orig) & set(real), key=lambda m: orig[m])
    names = names[int(len(names) * (1 - top)) :]
    if len(names) < 5:
        raise Missing("fewer than 5 models with both top-1 and ReaL accuracy")
    x, y = np.array([orig[m] for m in names]), np.array([real[m] for m in names])
    slope = float(np.polyfit(x, y, 1)[0])
    i = np.random.default_rng(0).integers(0, len(x), (2000, len(x)))  # bootstrap over models
    xb, yb = x[i], y[i]
    xc = xb - xb.mean(1, keepdims=True)
    var = (xc**2).sum(1)
    boot = ((xc * (yb - yb.mean(1, keepdims=True))).sum(1))[var > 0] / var[var > 0]
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return Verdict(
        f"slope of ReaL on original top-1 {slope:.2f} (95% bootstrap {lo:.2f} to {hi:.2f}) "
        f"over the best {len(names)} models",
        hi < 1 - tolerance,
    )


def _recovered_count(claim, get, entries, published, paper_flagged=None, **_):
    """A published count of confirmed finds (e.g. label errors that reviewers confirmed among the
    examples a method flagged), against a re-run of the method on the authors' released inputs.

    ``entries`` maps a data set to a results key holding a :func:`~reliable_ml.labels.label_quality.score_flags`
    dict of the re-run's flags: ``hits`` (flags that are confirmed finds), ``n_flagged`` and
    ``n_flagged_reviewed``. Only reviewed examples can be confirmed, so a flag nobody reviewed is
    none of the paper's confirmed finds: the re-run recovers exactly ``hits`` of
    ``published[dataset]`` (:func:`~reliable_ml.labels.label_quality.recovery`). The row agrees
    when it recovers every one on every data set. Exact counts of released votes, so no sampling
    tolerance; the unreviewed flags are shown apart, as possible further finds nobody checked.
    ``paper_flagged`` (data set -> results key) shows how many examples the paper's run flagged."""
    from reliable_ml.labels.label_quality import recovery

    parts, ok = [], True
    for dataset, key in entries.items():
        e = get(key)
        if not isinstance(e, dict):
            raise Missing(f"no flag score at {key}")
        score = {f: int(num(e[f])) for f in ("hits", "n_flagged", "n_flagged_reviewed")}
        r = recovery(score, int(published[dataset]))
        ok = ok and r["all_found"]
        text = f"{dataset}: {score['n_flagged']:,} flagged"
        if paper_flagged and dataset in paper_flagged:
            text += f" (the paper's run {int(num(get(paper_flagged[dataset]))):,})"
        text += (
            f", holding {r['found']:,} of the {r['published']:,} published confirmed errors; "
            f"{r['not_reviewed']:,} flags never reviewed (possible further errors)"
        )
        parts.append(text)
    return Verdict("; ".join(parts), ok)


def _effective_robustness(claim, get, small, large, tolerance, per_shift=None, **_):
    s, big = num(get(small)), num(get(large))
    text = f"median effective robustness: interventions {s:+.1f} pts, more data {big:+.1f} pts"
    if per_shift:
        try:
            group = large.rsplit(".", 1)[-1]
            per = {k: num(v[group]) for k, v in get(per_shift).items() if isinstance(v, dict) and group in v}
            lo, hi = min(per, key=per.get), max(per, key=per.get)
            text += f" (per shift {per[lo]:+.1f} on {lo} to {per[hi]:+.1f} on {hi})"
        except (Missing, ValueError):
            pass
    return Verdict(text, abs(s) <= tolerance and big - s > tolerance)


RULES: dict[str, Callable[..., Verdict]] = {
    "per_model_drop": _per_model_drop,
    "per_set_order": _per_set_order,
    "engstrom": _engstrom,
    "real_slope": _real_slope,
    "recovered_count": _recovered_count,
    "effective_robustness": _effective_robustness,
}
