"""Rules that set one number, a few numbers or an interval against the published figure.

Each rule takes the claim, ``get(key)`` (the value at a results key; raises :class:`Missing`)
and its parameters from the registry, and returns a :class:`Verdict`. Tolerances are in points;
where they come from the n of the measurement, they are 95% binomial half-widths
(:func:`~reliable_ml.course.scorecard.values.halfwidth`). The published-results rows
(RobustBench, SQuADShifts, OpenCLIP) use :func:`_near_each`, :func:`_near_n`, :func:`_p_below`
and :func:`_ci_above`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from reliable_ml.course.scorecard.keys import Missing
from reliable_ml.course.scorecard.values import Verdict, diff_halfwidth, halfwidth, n_of, num, pct


def _tost_equivalence(claim, get, table, margin, n, best=None, best_drop=None, **_):
    """A "no effect" claim judged by two one-sided tests (Schuirmann 1987) at the stated
    ``margin`` (points; the results must have been tested at it). ``table`` holds ``margin``,
    ``passes_at_1`` (every unit, e.g. every labeler, passes the TOST at that margin),
    ``labelers_equivalent`` (how many pass) and ``margin_supported`` (the smallest margin at
    which every unit passes: the farther end of the widest 1 - 2 alpha interval). Passes only
    when the TOST passes at the margin; intervals that merely contain zero, or touch the margin,
    are not evidence of equivalence. ``best`` and ``best_drop``: optional keys of the most
    accurate model's name and its drop (``{"difference", "ci"}``), shown beside it."""
    t = get(table)
    if not isinstance(t, dict):
        raise Missing(f"no TOST table at {table}")
    tested, supported, passes = num(t.get("margin")), num(t.get("margin_supported")), t.get("passes_at_1")
    if not isinstance(passes, bool):
        raise Missing(f"{table}.passes_at_1 is not a bool: {passes!r}")
    if not math.isclose(tested, margin):
        raise Missing(f"{table} was tested at ±{tested:g}, not at the rule's ±{margin:g}")
    units = int(n_of(get, n))
    text = (
        f"TOST at ±{margin:g} pts {'passes' if passes else 'fails'} "
        f"({int(num(t.get('labelers_equivalent')))} of {units} pass); "
        f"smallest margin all {units} support ±{supported:.2f} pts"
    )
    if best is not None and best_drop is not None:
        try:
            b = get(best_drop)
            d, (lo, hi) = num(b["difference"]), (num(v) for v in b["ci"])
            text += f"; the most accurate model, {get(best)}, drops {d:.2f} pts (95% CI {lo:.2f} to {hi:.2f})"
        except (Missing, KeyError, TypeError, ValueError):
            pass
    return Verdict(text, passes)


def _near(claim, get, key, target, tolerance=None, unit="", n=None, accuracy=None, **_):
    """``|value - target| <= tolerance``; with ``n`` (``{"a": count, "b": count}``) and ``accuracy``
    (%), the tolerance is the 95% half-width of a difference of two accuracies on those counts."""
    value = num(get(key))
    if n is not None:
        tolerance = diff_halfwidth(*((num(accuracy), n_of(get, c)) for c in n.values()))
        return Verdict(f"{value:,.4g} {unit} (tolerance ±{tolerance:.1f})".strip(), abs(value - target) <= tolerance)
    return Verdict(f"{value:,.4g} {unit}".strip(), abs(value - target) <= tolerance)


def _at_least(claim, get, key, target, tolerance, label="", context=None, **_):
    value = num(get(key))
    text = f"{value:.1f}% {label}".strip()
    for name, ckey in (context or {}).items():
        try:
            text += f"; {name} {num(get(ckey)):.1f}%"
        except Missing:
            pass
    return Verdict(text, value >= target - tolerance)


def _excess(claim, get, key, baseline, tolerance, **_):
    a, b = pct(get(key)), pct(get(baseline))
    return Verdict(
        f"mean pairwise agreement {a:.1f}% vs {b:.1f}% if errors were independent ({a - b:+.1f} pts)", a - b > tolerance
    )


def _ci_contains(claim, get, key, ci, target, null, **_):
    """The run's 95% interval must hold the published ``target`` and exclude ``null`` (no
    effect): an interval holding both cannot tell the published effect from none."""
    value, (lo, hi) = num(get(key)), get(ci)
    lo, hi = num(lo), num(hi)
    text = f"drop {value:.2f} pts (95% CI {lo:.2f} to {hi:.2f})"
    if lo <= null <= hi:
        text += f"; the interval also holds {null:g}: it cannot tell the published {target:g} from no drop"
    return Verdict(text, lo <= target <= hi and not lo <= null <= hi)


def _ci_not_below(claim, get, key, ci, threshold, context=None, unit="", **_):
    """Fails when the run's 95% interval at ``ci`` lies entirely below ``threshold`` (the effect
    the claim denies, shown); an interval that reaches it passes. ``context``: name -> interval
    key, shown beside it."""
    value, (lo, hi) = num(get(key)), get(ci)
    lo, hi = num(lo), num(hi)
    text = f"{value:+.2f} {unit} (95% CI {lo:+.2f} to {hi:+.2f})".replace("  ", " ")
    for name, ckey in (context or {}).items():
        try:
            clo, chi = (num(v) for v in get(ckey))
            text += f"; {name}: 95% CI {clo:+.2f} to {chi:+.2f}"
        except Missing:
            pass
    return Verdict(text, hi >= threshold)


def _gain(claim, get, better, worse, n, paired=None, **_):
    """``better`` beats ``worse``. When both arms were evaluated on the same images and the
    results hold paired 95% intervals of the difference per seed (``paired``: a list of
    ``{"lo", "hi"}``), every seed's interval must exclude 0; else the difference must exceed
    the unpaired 95% half-width on ``n`` images (conservative: it ignores the pairing)."""
    b, w, n_eval = pct(get(better)), pct(get(worse)), num(get(n))
    text = f"{b:.1f}% vs {w:.1f}% ({b - w:+.1f} pts"
    try:
        intervals = [(pct(ci["lo"]), pct(ci["hi"])) for ci in get(paired)] if paired else []
    except Missing:
        intervals = []
    if intervals:
        shown = ", ".join(f"[{lo:+.1f}, {hi:+.1f}]" for lo, hi in intervals)
        return Verdict(
            f"{text}; paired 95% intervals on the same {int(n_eval):,} images, per seed: {shown})",
            min(lo for lo, _ in intervals) > 0,
        )
    hw = 1.96 * math.sqrt((b * (100 - b) + w * (100 - w)) / n_eval)
    return Verdict(f"{text}; 95% half-width {hw:.1f} on {int(n_eval):,} images)", b - w > hw)


def _max_abs_z(claim, get, key, tolerance, context=None, **_):
    z = abs(num(get(key)))
    text = f"Monte Carlo vs closed form: max |z| = {z:.2f}"
    if context:
        try:
            text += f"; robust samples grow as d^{num(get(context)):.2f} (set by the closed form)"
        except Missing:
            pass
    return Verdict(text, z <= tolerance)


def _near_each(claim, get, values, tolerance, unit="pts", **_):
    """Every ``key: target`` of ``values`` within ``tolerance`` (two-sided)."""
    got = {key: num(get(key)) for key in values}
    text = "; ".join(f"{key.rsplit('.', 1)[-1]} {v:.2f} (published {values[key]:g})" for key, v in got.items())
    return Verdict(f"{text} {unit}".strip(), all(abs(v - values[k]) <= tolerance for k, v in got.items()))


def _near_n(claim, get, key, n, tolerance, target=None, target_key=None, minus=0.0, side="two-sided", **_):
    """``get(key)`` (an accuracy in %) against ``target`` (a number), or against ``get(target_key)``
    plus ``minus`` (another model on the same ``n`` test images), within max(tolerance, the 95%
    binomial half-width at ``n``: of one accuracy, or of the difference of two, unpaired).
    ``side``: ``two-sided`` or ``at_least`` (only falling short counts)."""
    value = pct(get(key))
    if target_key is not None:
        other = pct(get(target_key))
        hw = 1.96 * math.sqrt(value * (100 - value) + other * (100 - other)) / math.sqrt(n)
        goal, text = other + minus, f"{value:.2f}% vs {other:.2f}% ({value - other:+.2f} pts"
    else:
        hw, goal, text = halfwidth(value, n), float(target), f"{value:.2f}% ({value - float(target):+.2f} pts"
    tol = max(tolerance, hw)
    text += f"; tolerance {tol:.2f} pts at n = {int(n):,})"
    ok = value >= goal - tol if side == "at_least" else abs(value - goal) <= tol
    return Verdict(text, ok)


def _p_below(claim, get, keys, alpha, labels=None, context=None, **_):
    """Every p-value at ``keys`` below ``alpha``; ``context`` (name -> key) is shown."""
    ps = [num(get(k)) for k in keys]
    names = labels or [k.rsplit(".", 1)[-1] for k in keys]
    text = ", ".join(f"{name}: p = {p:.1e}" for name, p in zip(names, ps))
    for name, ckey in (context or {}).items():
        try:
            text += f"; {name} {num(get(ckey)):.1f}"
        except Missing:
            pass
    return Verdict(text, max(ps) < alpha)


def _ci_above(claim, get, table, threshold, **_):
    """Every entry of ``table`` (``{name: {"median", "ci": [lo, hi]}}``) has ``ci[0] > threshold``."""
    rows = get(table)
    if not isinstance(rows, dict) or not rows:
        raise Missing(f"no table at {table}")
    parts, ok = [], True
    for name, r in rows.items():
        lo, hi = (num(v) for v in r["ci"])
        parts.append(f"{name} {num(r['median']):+.1f} [{lo:+.1f}, {hi:+.1f}]")
        ok = ok and lo > threshold
    return Verdict("median (95% CI): " + "; ".join(parts), ok)


RULES: dict[str, Callable[..., Verdict]] = {
    "tost_equivalence": _tost_equivalence,
    "near": _near,
    "at_least": _at_least,
    "excess": _excess,
    "ci_contains": _ci_contains,
    "ci_not_below": _ci_not_below,
    "gain": _gain,
    "max_abs_z": _max_abs_z,
    "near_each": _near_each,
    "near_n": _near_n,
    "p_below": _p_below,
    "ci_above": _ci_above,
}
