"""The reproduction scorecard: published headline figures next to what our runs measured.

Everything a row says comes from two places: the claims registry
(:data:`reliable_ml.course.claims.CLAIMS`: the published figure, its source, the results keys, the
data, the setting and the comparison rule) and ``results/<profile>/<notebook>.json``. Each
rule below is a short function of the results; its tolerance and the reason for it live in the
registry. The status says what kind of evidence a row is:

- ``reproduced``: our own experiment in the published setting agrees within tolerance with a
  confirmed published figure;
- ``re-analysed``: recomputed from the authors' released data or predictions, and agrees;
- ``qualitative``: the effect holds in a smaller stand-in (or against an unconfirmed figure);
- ``not comparable``: measured, but what we measure is not what the published figure measures,
  so the two numbers are not set against each other. The reason is shown: the claim declares it
  (``not_comparable``: ReaL counts acceptable labels, not objects), or the row is a stand-in whose
  rule compares the *number* (``compares="figure"``: a one-minute small CNN is labelled a
  stand-in, not a failed reproduction of Madry et al.'s network). A stand-in's evaluation that
  is broken (robust above clean, masked gradients) is still ``not reproduced``;
- ``not reproduced``: measured, and disagrees (the row shows the numbers), including an interval
  too wide to tell the published effect from none;
- ``not measured``: the results keys are absent.

Tolerances come from the n of the measurement they judge wherever sampling error is what they
allow for: a rule's ``n`` (a count, or a results key holding it) enters a 95% binomial half-width
(:func:`_halfwidth`, :func:`_diff_halfwidth`) computed at the measured accuracy. A rule whose
tolerance is not a sampling error says what it is instead (``tolerance_source``: an exact recount,
a bootstrap interval, a design margin), and a test checks that every row declares one of the two.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any, Callable

import numpy as np

from reliable_ml.course.claims import CLAIMS
from reliable_ml.course.results import PROJECT_ROOT, load_all

STATUSES = ("reproduced", "re-analysed", "qualitative", "not comparable", "not reproduced", "not measured")
# Statuses are shown as text in CSS badges (sphinx-design's bdg-* roles), never as emoji: a reader
# without an emoji font saw empty boxes.
BADGES = {"reproduced": "bdg-success", "re-analysed": "bdg-info", "qualitative": "bdg-secondary",
          "not comparable": "bdg-warning", "not reproduced": "bdg-danger", "not measured": "bdg-light"}
TABLE_CLASS = "scorecard"  # book/_static/course.css fits this table to the content column
COMPARES = ("figure", "effect")  # a rule judges the published number, or the effect's existence/direction
PROFILE_ORDER = ("gpu", "cpu")  # the fullest run wins; smoke runs never count unless asked for
ROW_FIELDS = ("id", "claim", "published", "source", "confirmed", "ours", "status", "reason", "data",
              "setting", "profile")


class RegistryError(ValueError):
    """The claims registry itself is wrong (a malformed key, an unknown rule): never hidden."""


class Missing(LookupError):
    """A results key the rule needs is absent (or null, or empty): the row is not measured."""


@dataclass(frozen=True)
class Verdict:
    ours: str  # what we measured, in words and numbers
    agrees: bool  # whether it agrees with the published figure under the claim's rule
    broken: bool = False  # the measurement itself failed a sanity check (robust above clean, masking)


# ----------------------------------------------------------------------------- key lookup
def lookup(node: Any, path: str) -> Any:
    """Value at a dotted ``path`` of a results record.

    Keys may contain dots themselves (``threshold0.7``, ``0.005``): at each level the longest
    run of segments that is a key wins. ``*`` maps over every entry of a table and returns
    ``{name: value}`` for the entries that have the rest of the path. Raises :class:`Missing`
    when the path is absent, null, or an empty list/table.
    """
    try:
        value = _lookup(node, path.split(".") if path else [])
    except Missing:
        raise Missing(f"no {node.get('notebook', 'results')}:{path}" if isinstance(node, dict) else f"no {path}") from None
    if value is None or (isinstance(value, (list, dict)) and not value):
        raise Missing(f"{node.get('notebook', 'results')}:{path} is empty" if isinstance(node, dict) else path)
    return value


def has_key(node: Any, path: str) -> bool:
    """Whether ``path`` exists in a results record (an empty list or table counts as existing)."""
    try:
        _lookup(node, path.split("."))
    except Missing:
        return False
    return True


def _lookup(node: Any, parts: list[str]) -> Any:
    if not parts:
        return node
    if not isinstance(node, dict):
        raise Missing(".".join(parts))
    if parts[0] == "*":
        out = {}
        for name, child in node.items():
            try:
                value = _lookup(child, parts[1:])
            except Missing:
                continue
            if value is not None:
                out[name] = value
        if not out:
            raise Missing(".".join(parts))
        return out
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in node:
            try:
                return _lookup(node[key], parts[n:])
            except Missing:
                continue
    raise Missing(".".join(parts))


def split_key(key: str) -> tuple[str, str]:
    """``"<notebook stem>:<dotted.path>"`` -> ``(stem, path)``; a clear error otherwise."""
    stem, sep, path = key.partition(":")
    if not sep or not re.fullmatch(r"\d\d_[a-z0-9_]+", stem) or not path:
        raise RegistryError(f"results key {key!r} must look like '<NN_notebook_stem>:<dotted.path>'")
    return stem, path


def _source_text(record: dict, scope: str | None = None) -> str:
    source = record.get("data_source")
    if isinstance(source, dict):
        return str(source[scope]) if scope in source else " ".join(map(str, source.values()))
    return str(source or "")


def pick_record(records: list[dict], stem: str, claim: dict, profile: str | None = None) -> dict | None:
    """The results record a claim reads for one notebook.

    A ``gpu`` claim reads only gpu results. Otherwise ``profile`` if given, else the fullest run
    there is (gpu, then cpu). A record whose ``data_source`` lacks the claim's
    ``source_contains`` (e.g. an MNIST run when the claim is about CIFAR-10) never counts.
    """
    if claim.get("profile") == "gpu":
        profiles = ("gpu",) if profile in (None, "gpu") else ()
    else:
        profiles = (profile,) if profile else PROFILE_ORDER
    needle = claim.get("source_contains")
    for p in profiles:
        for record in records:
            if record.get("notebook") == stem and record.get("profile") == p:
                if needle is None or needle in _source_text(record, claim.get("scope")):
                    return record
    return None


def scoped(record: dict, scope: str | None) -> dict:
    """The part of a record a claim reads: ``record[scope]`` when the notebook nested its figures
    for that data set there (e.g. 04's gpu run: MNIST under ``mnist``, CIFAR-10 at the top)."""
    inner = record.get(scope) if scope else None
    return inner if isinstance(inner, dict) else record


# ----------------------------------------------------------------------------- helpers
def _num(x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise Missing(f"a value is not a number: {x!r}")
    return float(x)


def _pct(x: Any) -> float:
    """Accuracy as a percentage; results store some as fractions (<= 1) and some as %."""
    x = _num(x)
    return 100 * x if abs(x) <= 1 else x


def _halfwidth(p_pct: float, n: float) -> float:
    """95% binomial half-width in points of an accuracy of ``p_pct`` % on ``n`` images."""
    p = min(max(p_pct / 100, 0.0), 1.0)
    return 196 * math.sqrt(p * (1 - p) / n) if n and n > 0 else math.inf


def _diff_halfwidth(*terms: tuple[float, float]) -> float:
    """95% half-width in points of a sum or difference of independent accuracies, each given
    as ``(p_pct, n)``: 1.96 sqrt(sum p (1 - p) / n). Unpaired, so conservative for the same images."""
    return math.sqrt(sum(_halfwidth(p, n) ** 2 for p, n in terms))


def _count(get, n) -> float:
    """A rule's ``n``: a count written in the registry, or a results key holding it."""
    return _num(get(n)) if isinstance(n, str) else _num(n)


def _table(get, key: str) -> dict[str, float]:
    table = get(key)
    if not isinstance(table, dict):
        raise Missing(f"no table at {key}")
    out = {}
    for name, value in table.items():
        try:
            out[name] = _num(value)
        except Missing:
            continue
    if not out:
        raise Missing(f"no numbers in {key}")
    return out


def _drops(get, a_key: str, b_key: str) -> np.ndarray:
    a, b = _table(get, a_key), _table(get, b_key)
    common = sorted(set(a) & set(b))
    if not common:
        raise Missing(f"no model in both {a_key} and {b_key}")
    return np.array([a[m] - b[m] for m in common])


def _spread(drops: np.ndarray) -> str:
    q1, q3 = np.percentile(drops, [25, 75])
    return (f"median drop {np.median(drops):.1f} pts (middle half {q1:.1f} to {q3:.1f}, all "
            f"{drops.min():.1f} to {drops.max():.1f}) over {len(drops)} models")


# ----------------------------------------------------------------------------- rules
# Each rule takes the claim and ``get(key)`` (raises Missing) and returns a Verdict.
def _per_model_drop(claim, get, stat, low, high, n, **_):
    """Per-model drops (original minus new, points). The tolerance is the 95% half-width of one
    model's drop, from ``n = {"original": count, "new": count}`` at that model's accuracies."""
    orig, new = _table(get, claim["keys"][0]), _table(get, claim["keys"][1])
    common = sorted(set(orig) & set(new))
    if not common:
        raise Missing(f"no model in both {claim['keys'][0]} and {claim['keys'][1]}")
    drops = np.array([orig[m] - new[m] for m in common])

    def hw(i):  # the drop of model i: two independent accuracies on n["original"] and n["new"] images
        m = common[i]
        return _diff_halfwidth((_pct(orig[m]), _count(get, n["original"])), (_pct(new[m]), _count(get, n["new"])))
    inside = int(((drops >= low) & (drops <= high)).sum())
    text = f"{_spread(drops)}; {inside} of {len(drops)} inside {low:g}-{high:g}"
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
    med = {s: float(np.median(_drops(get, f"{table}.*.{base}", f"{table}.*.{s}")))
           for s in (hardest, *others)}
    acc = {s: float(np.median(list(_table(get, f"{table}.*.{s}").values()))) for s in (hardest, *others)}
    margins = {s: med[hardest] - med[s] for s in others}
    need = {s: factor * _diff_halfwidth((_pct(acc[hardest]), _count(get, n)), (_pct(acc[s]), _count(get, n)))
            for s in others}
    text = ("median drops: " + ", ".join(f"{s} {v:.1f} pts" for s, v in med.items())
            + "; margin needed " + ", ".join(f"{v:.1f}" for v in need.values()))
    return Verdict(text, all(margins[s] > need[s] for s in others))


def _ci_equivalence(claim, get, key, ci, low, high, alternative, **_):
    """A "no effect" claim judged on a released drop and its 95% interval: passes when the
    interval reaches [low, high] (the published "no drop") and excludes ``alternative`` (e.g. the
    best model's drop); an interval too wide to tell the two apart is not evidence either way."""
    value, (lo, hi) = _num(get(key)), get(ci)
    lo, hi = _num(lo), _num(hi)
    text = f"drop {value:.2f} pts (95% CI {lo:.2f} to {hi:.2f})"
    if hi >= alternative:
        text += f"; the interval also holds {alternative:g}: it cannot tell the two apart"
    return Verdict(text, lo <= high and hi >= low and hi < alternative)


def _engstrom(claim, get, table, ks, tolerance, **_):
    """Mean apparent drop of the matched set for each number of annotators k: must fall
    strictly as k grows (the bias's signature), and by more than ``tolerance`` from the fewest
    to all. ``ci`` is shown as the spread of single rebuilt sets."""
    drops = {}
    for k in ks:
        try:
            drops[k] = _num(get(f"{table}.{k}.matched_drop"))
        except Missing:
            continue
    if ks[0] not in drops or ks[-1] not in drops:
        raise Missing(f"no {table}.{ks[0]} and {table}.{ks[-1]}")
    lo, hi = (_num(v) for v in get(f"{table}.{ks[0]}.ci"))
    values = list(drops.values())
    falling = all(a > b for a, b in zip(values, values[1:]))
    bias = drops[ks[0]] - drops[ks[-1]]
    text = ("mean apparent drop of the matched set by annotators per image: "
            + ", ".join(f"{k}: {v:.2f}" for k, v in drops.items())
            + f" pts (bias {bias:+.2f}; single sets with {ks[0]}: {lo:.2f} to {hi:.2f})")
    return Verdict(text, falling and bias > tolerance)


def _near(claim, get, key, target, tolerance=None, unit="", n=None, accuracy=None, **_):
    """``|value - target| <= tolerance``; with ``n`` (``{"a": count, "b": count}``) and ``accuracy``
    (%), the tolerance is the 95% half-width of a difference of two accuracies on those counts."""
    value = _num(get(key))
    if n is not None:
        tolerance = _diff_halfwidth(*((_num(accuracy), _count(get, c)) for c in n.values()))
        return Verdict(f"{value:,.4g} {unit} (tolerance ±{tolerance:.1f})".strip(), abs(value - target) <= tolerance)
    return Verdict(f"{value:,.4g} {unit}".strip(), abs(value - target) <= tolerance)


def _at_least(claim, get, key, target, tolerance, label="", context=None, **_):
    value = _num(get(key))
    text = f"{value:.1f}% {label}".strip()
    for name, ckey in (context or {}).items():
        try:
            text += f"; {name} {_num(get(ckey)):.1f}%"
        except Missing:
            pass
    return Verdict(text, value >= target - tolerance)


def _excess(claim, get, key, baseline, tolerance, **_):
    a, b = _pct(get(key)), _pct(get(baseline))
    return Verdict(f"mean pairwise agreement {a:.1f}% vs {b:.1f}% if errors were independent "
                   f"({a - b:+.1f} pts)", a - b > tolerance)


def _ci_contains(claim, get, key, ci, target, null, **_):
    """The run's 95% interval must hold the published ``target`` and exclude ``null`` (no
    effect): an interval holding both cannot tell the published effect from none."""
    value, (lo, hi) = _num(get(key)), get(ci)
    lo, hi = _num(lo), _num(hi)
    text = f"drop {value:.2f} pts (95% CI {lo:.2f} to {hi:.2f})"
    if lo <= null <= hi:
        text += f"; the interval also holds {null:g}: it cannot tell the published {target:g} from no drop"
    return Verdict(text, lo <= target <= hi and not lo <= null <= hi)


# How the results keys read in a row. ``robust_acc`` is a chapter's headline robust accuracy,
# whatever attack produced it (04's cpu run: the worst case over the whole suite), so it is not
# called PGD; ``pgd_acc`` is PGD on the chapter's whole evaluation set.
ATTACK_NAMES = {"autoattack_acc": "AutoAttack", "pgd_acc_on_autoattack_subset": "PGD",
                "worst_case_acc_on_autoattack_subset": "per-image worst of both", "worst_case_acc": "worst case",
                "robust_acc": "headline", "pgd_acc": "PGD (all images)"}


def _robust_worst_case(claim, get, notebook, clean, same_images, n, target, tolerance, masking_gap,
                       full_set=(), full_n=None, clean_target=None, tables=(), clean_same=None,
                       masking_flags=None, **_):
    """Worst case over every attack result on the same images: ``same_images`` (on ``n``
    images), plus ``full_set`` when its count ``full_n`` equals ``n``. Fails when robust exceeds
    clean, when the strongest PGD result exceeds the worst case by more than ``masking_gap``
    points (without a PGD result: when any two attacks disagree that much), or when the worst case
    is more than max(tolerance, 95% half-width) from ``target`` (either side). ``tables`` name
    ``{attack: accuracy}`` tables on the same images; ``clean_same`` the clean accuracy on them.
    ``masking_flags`` names the list of gradient-masking checks the model failed
    (:func:`reliable_ml.robust.shared_model.masking_checks`): any flag fails the rule."""
    def opt(name):
        try:
            return get(f"{notebook}:{name}")
        except Missing:
            return None

    clean_acc = _pct(get(f"{notebook}:{clean}"))  # first: says which results file is missing
    n_images = opt(n)
    accs = {k: _pct(v) for k in same_images if (v := opt(k)) is not None}
    for table in tables:
        if isinstance(entries := opt(table), dict):
            accs |= {name: _pct(v) for name, v in entries.items() if isinstance(v, (int, float))}
    if full_set and n_images and opt(full_n) == n_images:  # these attacks ran on the same images
        accs |= {k: _pct(v) for k in full_set if (v := opt(k)) is not None}
    if not accs or not n_images:
        raise Missing(f"no robust accuracy on a stated number of images in {notebook}")
    if clean_same and (v := opt(clean_same)) is not None:
        clean_acc = _pct(v)  # clean accuracy on the very images attacked
    worst, best = min(accs.values()), max(accs.values())
    tol = max(tolerance, _halfwidth(target, _num(n_images)))
    problems = []
    if best > clean_acc + _halfwidth(clean_acc, _num(n_images)):
        problems.append("robust above clean: the evaluation is broken")
    pgd = [v for k, v in accs.items() if re.search(r"(?<!a)pgd", k.lower())]  # PGD, not APGD
    # a weak attack (FAB-T, say) scoring high says nothing; PGD, the attack the model was
    # trained against, overstating the worst case is the signature of gradient masking
    gap = (min(pgd) if pgd else best) - worst
    if gap > masking_gap:
        problems.append(f"PGD overstates the worst case by {gap:.1f} pts: gradient masking suspected")
    if masking_flags and (flags := opt(masking_flags)):
        problems.append(f"masking check(s) flagged: {', '.join(map(str, flags))}")
    if clean_target is not None and abs(clean_acc - clean_target) > tolerance:
        problems.append(f"clean {clean_acc - clean_target:+.1f} pts from {clean_target:g}")
    text = (f"worst case {worst:.1f}% over {len(accs)} attack result(s) on the same {int(n_images):,} "
            f"images ({', '.join(f'{ATTACK_NAMES.get(k, k)} {v:.1f}' for k, v in accs.items())}); "
            f"clean {clean_acc:.1f}%; "
            f"tolerance ±{tol:.1f}")
    if problems:
        text += "; " + "; ".join(problems)
    return Verdict(text, abs(worst - target) <= tol and not problems, broken=bool(problems))


def _best_minus_final(claim, get, key, field, target, n, **_):
    """Best minus final validation robust accuracy within the 95% half-width of a difference of
    two accuracies on ``n`` validation images (at the measured ones) of ``target``."""
    values = [_pct(h[field]) for h in get(key) if isinstance(h, dict) and h.get(field) is not None]
    if not values:
        raise Missing(f"no {field} in {key}")
    gap = max(values) - values[-1]
    tol = _diff_halfwidth((max(values), _count(get, n)), (values[-1], _count(get, n)))
    return Verdict(f"best {max(values):.1f}% vs final {values[-1]:.1f}% ({gap:.1f} pts over "
                   f"{len(values)} epochs; tolerance ±{tol:.1f})", abs(gap - target) <= tol)


def _gain(claim, get, better, worse, n, paired=None, **_):
    """``better`` beats ``worse``. When both arms were evaluated on the same images and the
    results hold paired 95% intervals of the difference per seed (``paired``: a list of
    ``{"lo", "hi"}``), every seed's interval must exclude 0; else the difference must exceed
    the unpaired 95% half-width on ``n`` images (conservative: it ignores the pairing)."""
    b, w, n_eval = _pct(get(better)), _pct(get(worse)), _num(get(n))
    text = f"{b:.1f}% vs {w:.1f}% ({b - w:+.1f} pts"
    try:
        intervals = [(_pct(ci["lo"]), _pct(ci["hi"])) for ci in get(paired)] if paired else []
    except Missing:
        intervals = []
    if intervals:
        shown = ", ".join(f"[{lo:+.1f}, {hi:+.1f}]" for lo, hi in intervals)
        return Verdict(f"{text}; paired 95% intervals on the same {int(n_eval):,} images, per seed: "
                       f"{shown})", min(lo for lo, _ in intervals) > 0)
    hw = 1.96 * math.sqrt((b * (100 - b) + w * (100 - w)) / n_eval)
    return Verdict(f"{text}; 95% half-width {hw:.1f} on {int(n_eval):,} images)", b - w > hw)


def _max_abs_z(claim, get, key, tolerance, context=None, **_):
    z = abs(_num(get(key)))
    text = f"Monte Carlo vs closed form: max |z| = {z:.2f}"
    if context:
        try:
            text += f"; robust samples grow as d^{_num(get(context)):.2f} (set by the closed form)"
        except Missing:
            pass
    return Verdict(text, z <= tolerance)


def _robust_gap(claim, get, key, n, factor, **_):
    """At the smallest training set, the robust train-test gap of adversarial training must
    exceed the clean gap of standard training by ``factor`` times the 95% half-width of that
    difference of gaps (four accuracies, each on ``n`` images)."""
    curve = [r for r in get(key) if isinstance(r, dict)]
    n_min = min(_num(r["n_train"]) for r in curve)
    at = [r for r in curve if r["n_train"] == n_min]
    std = [r for r in at if r["training"] == "standard"]  # one row per seed
    adv = [r for r in at if r["training"] != "standard"]
    std_gap = float(np.mean([_pct(r["clean train"]) - _pct(r["clean test"]) for r in std]))
    rob_gap = float(np.mean([_pct(r["robust train"]) - _pct(r["robust test"]) for r in adv]))
    seeds = f" (mean of {len(adv)} seeds)" if len(adv) > 1 else ""
    accs = [float(np.mean([_pct(r[c]) for r in rows_])) for rows_, cs in
            ((adv, ("robust train", "robust test")), (std, ("clean train", "clean test"))) for c in cs]
    need = factor * _diff_halfwidth(*((a, _count(get, n)) for a in accs))
    return Verdict(f"at n = {int(n_min):,}: robust train-test gap {rob_gap:.1f} pts (adversarial "
                   f"training) vs clean gap {std_gap:.1f} pts (standard training){seeds}; "
                   f"margin needed {need:.1f}", rob_gap - std_gap > need)


def _above_chance(claim, get, prefix, n, **_):
    """Both test accuracies minus their 95% half-width on ``n`` test images exceed chance."""
    det, rand = _pct(get(f"{prefix}.d_det_test_acc")), _pct(get(f"{prefix}.d_rand_test_acc"))
    chance, n_test = _pct(get(f"{prefix}.chance")), _count(get, n)
    low = min(det - _halfwidth(det, n_test), rand - _halfwidth(rand, n_test))
    return Verdict(f"D_det {det:.1f}%, D_rand {rand:.1f}% on {int(n_test):,} clean test images (chance "
                   f"{chance:.0f}%; lower 95% bound {low:.1f}%)", low > chance)


def _bg_gap(claim, get, key, same, rand, n, **_):
    """The cue model's BG-gap must exceed the 95% half-width of a difference of two accuracies on
    ``n`` images; the control model's must stay within its own."""
    table = get(key)

    def row(prefix):
        match = [v for k, v in table.items() if k.startswith(prefix)]
        if not match or not isinstance(match[0], dict):
            raise Missing(f"no {prefix} row in {key}")
        cue = next(v for k, v in match[0].items() if k.startswith("cue"))
        control = next(v for k, v in match[0].items() if k.startswith("control"))
        return _num(cue), _num(control)

    (s_cue, s_ctl), (r_cue, r_ctl) = row(same), row(rand)
    cue_gap, ctl_gap = s_cue - r_cue, s_ctl - r_ctl
    n_img = _count(get, n)
    tol_cue = _diff_halfwidth((s_cue, n_img), (r_cue, n_img))
    tol_ctl = _diff_halfwidth((s_ctl, n_img), (r_ctl, n_img))
    return Verdict(f"BG-gap {cue_gap:.1f} pts for the cue model ({same} {s_cue:.1f}%, {rand} {r_cue:.1f}%); "
                   f"control model {ctl_gap:+.1f} pts (±{tol_ctl:.1f})",
                   cue_gap > tol_cue and abs(ctl_gap) <= tol_ctl)


def _fraction_key(k) -> float:
    return float(str(k).rstrip("%")) / (100 if str(k).endswith("%") else 1)


def _backdoor(claim, get, success, clean, max_fraction, min_success, n, **_):
    """Some poison rate <= ``max_fraction`` with success >= ``min_success`` and clean accuracy
    within the 95% half-width of a difference of two accuracies on ``n`` test images."""
    succ = {_fraction_key(k): _pct(v) for k, v in get(success).items()}
    acc = {_fraction_key(k): _pct(v) for k, v in get(clean).items()}
    if 0.0 not in acc:
        raise Missing(f"no {clean}.0 (the unpoisoned model)")
    n_img = _count(get, n)
    hits = [f for f in sorted(succ) if 0 < f <= max_fraction and succ[f] >= min_success
            and f in acc and abs(acc[f] - acc[0.0]) <= _diff_halfwidth((acc[f], n_img), (acc[0.0], n_img))]
    if hits:
        f = hits[0]
        text = (f"{succ[f]:.1f}% attack success at {100 * f:g}% poisoned; clean {acc[f]:.1f}% vs "
                f"{acc[0.0]:.1f}% unpoisoned")
    else:
        upto = [f for f in sorted(succ) if 0 < f <= max_fraction]
        text = "; ".join(f"{100 * f:g}% poisoned: {succ[f]:.1f}% success" for f in upto) or "no poison rate tried"
    return Verdict(text, bool(hits))


def _real_slope(claim, get, top, tolerance=0.0, **_):
    orig, real = _table(get, claim["keys"][0]), _table(get, claim["keys"][1])
    names = sorted(set(orig) & set(real), key=lambda m: orig[m])
    names = names[int(len(names) * (1 - top)):]
    if len(names) < 5:
        raise Missing("fewer than 5 models with both top-1 and ReaL accuracy")
    x, y = np.array([orig[m] for m in names]), np.array([real[m] for m in names])
    slope = float(np.polyfit(x, y, 1)[0])
    i = np.random.default_rng(0).integers(0, len(x), (2000, len(x)))  # bootstrap over models
    xb, yb = x[i], y[i]
    xc = xb - xb.mean(1, keepdims=True)
    var = (xc ** 2).sum(1)
    boot = ((xc * (yb - yb.mean(1, keepdims=True))).sum(1))[var > 0] / var[var > 0]
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return Verdict(f"slope of ReaL on original top-1 {slope:.2f} (95% bootstrap {lo:.2f} to {hi:.2f}) "
                   f"over the best {len(names)} models", hi < 1 - tolerance)


def _cleanlab(claim, get, exclude_source, min_lift, **_):
    """Confident learning on an independent model's predictions. An entry ``<dataset>-<model>``
    gives ``precision_lower`` (confirmed among all flagged, %) and ``recall`` (%). Its lift over
    flagging at random is precision_lower / (confirmed errors per image, %), which equals recall
    / (share of images flagged): both must beat chance by ``min_lift``. Without
    ``precision_lower``, ``precision`` among reviewed flags is set against the confirmed share of
    the reviewed examples."""
    entries = {k: v for k, v in get("09_label_quality:cleanlab").items()
               if isinstance(v, dict) and exclude_source not in str(v.get("source", "")).lower()}
    parts, lifts = [], []
    for name, v in entries.items():
        dataset = name.split("-")[0]
        try:
            errors = get(f"09_label_quality:label_errors.{dataset}")
            if "precision_lower" in v:
                p, base = _num(v["precision_lower"]), _num(errors["confirmed_pct"])
            else:
                p, base = _num(v["precision"]), 100 * _num(errors["confirmed"]) / _num(errors["flagged"])
        except (Missing, KeyError, ZeroDivisionError):
            continue
        lift = p / base if base > 0 else math.inf
        lifts.append(lift)
        parts.append(f"{name}: precision {_num(v['precision']):.1f}%, recall {_num(v['recall']):.1f}%, "
                     f"{lift:.0f}x random flagging")
    if not lifts:
        raise Missing("no cleanlab entry on an independent model with its data set's error counts")
    return Verdict("; ".join(parts), min(lifts) >= min_lift)


def _effective_robustness(claim, get, small, large, tolerance, per_shift=None, **_):
    s, big = _num(get(small)), _num(get(large))
    text = f"median effective robustness: interventions {s:+.1f} pts, more data {big:+.1f} pts"
    if per_shift:
        try:
            group = large.rsplit(".", 1)[-1]
            per = {k: _num(v[group]) for k, v in get(per_shift).items() if isinstance(v, dict) and group in v}
            lo, hi = min(per, key=per.get), max(per, key=per.get)
            text += f" (per shift {per[lo]:+.1f} on {lo} to {per[hi]:+.1f} on {hi})"
        except (Missing, ValueError):
            pass
    return Verdict(text, abs(s) <= tolerance and big - s > tolerance)


def _none(claim, get, **_):
    raise Missing("no experiment in the course measures this claim")


RULES: dict[str, Callable[..., Verdict]] = {
    "per_model_drop": _per_model_drop, "per_set_order": _per_set_order, "ci_equivalence": _ci_equivalence,
    "engstrom": _engstrom, "near": _near, "at_least": _at_least, "excess": _excess,
    "ci_contains": _ci_contains, "robust_worst_case": _robust_worst_case,
    "best_minus_final": _best_minus_final, "gain": _gain, "max_abs_z": _max_abs_z,
    "robust_gap": _robust_gap, "above_chance": _above_chance, "bg_gap": _bg_gap, "backdoor": _backdoor,
    "real_slope": _real_slope, "cleanlab": _cleanlab, "effective_robustness": _effective_robustness,
    "none": _none,
}


# ----------------------------------------------------------------------------- published-results rows (RobustBench,
# SQuADShifts, OpenCLIP): tolerances follow from the number of test items ``n``
def _near_each(claim, get, values, tolerance, unit="pts", **_):
    """Every ``key: target`` of ``values`` within ``tolerance`` (two-sided)."""
    got = {key: _num(get(key)) for key in values}
    text = "; ".join(f"{key.rsplit('.', 1)[-1]} {v:.2f} (published {values[key]:g})" for key, v in got.items())
    return Verdict(f"{text} {unit}".strip(), all(abs(v - values[k]) <= tolerance for k, v in got.items()))


def _near_n(claim, get, key, n, tolerance, target=None, target_key=None, minus=0.0, side="two-sided", **_):
    """``get(key)`` (an accuracy in %) against ``target`` (a number), or against ``get(target_key)``
    plus ``minus`` (another model on the same ``n`` test images), within max(tolerance, the 95%
    binomial half-width at ``n``: of one accuracy, or of the difference of two, unpaired).
    ``side``: ``two-sided`` or ``at_least`` (only falling short counts)."""
    value = _pct(get(key))
    if target_key is not None:
        other = _pct(get(target_key))
        hw = 1.96 * math.sqrt(value * (100 - value) + other * (100 - other)) / math.sqrt(n)
        goal, text = other + minus, f"{value:.2f}% vs {other:.2f}% ({value - other:+.2f} pts"
    else:
        hw, goal, text = _halfwidth(value, n), float(target), f"{value:.2f}% ({value - float(target):+.2f} pts"
    tol = max(tolerance, hw)
    text += f"; tolerance {tol:.2f} pts at n = {int(n):,})"
    ok = value >= goal - tol if side == "at_least" else abs(value - goal) <= tol
    return Verdict(text, ok)


def _p_below(claim, get, keys, alpha, labels=None, context=None, **_):
    """Every p-value at ``keys`` below ``alpha``; ``context`` (name -> key) is shown."""
    ps = [_num(get(k)) for k in keys]
    names = labels or [k.rsplit(".", 1)[-1] for k in keys]
    text = ", ".join(f"{name}: p = {p:.1e}" for name, p in zip(names, ps))
    for name, ckey in (context or {}).items():
        try:
            text += f"; {name} {_num(get(ckey)):.1f}"
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
        lo, hi = (_num(v) for v in r["ci"])
        parts.append(f"{name} {_num(r['median']):+.1f} [{lo:+.1f}, {hi:+.1f}]")
        ok = ok and lo > threshold
    return Verdict("median (95% CI): " + "; ".join(parts), ok)


RULES.update({"near_each": _near_each, "near_n": _near_n, "p_below": _p_below, "ci_above": _ci_above})


# ----------------------------------------------------------------------------- judging
def not_comparable_reason(claim: dict) -> str:
    """Why a claim's measurement is not set against the published figure ("" when it is): the
    claim says its measure differs (``not_comparable``), or it is a stand-in whose rule compares
    the number itself (``compares="figure"``)."""
    if claim.get("not_comparable"):
        return str(claim["not_comparable"])
    if claim["setting"] == "stand-in" and claim["rule"].get("compares") == "figure":
        return (f"stand-in ({claim['setting_note']}): its number is not set against the published "
                "figure; a run in the published setting would be")
    return ""


def status_of(claim: dict, verdict: Verdict | None) -> str:
    """The status that follows from a verdict (None: keys absent) and the claim's kind of evidence."""
    if verdict is None:
        return "not measured"
    if verdict.broken:  # a broken evaluation reproduces nothing, stand-in or not
        return "not reproduced"
    if not_comparable_reason(claim):
        return "not comparable"
    if not verdict.agrees:
        return "not reproduced"
    if claim["evidence"] == "released data":
        return "re-analysed"
    if claim["setting"] == "stand-in" or not claim["confirmed"]:
        return "qualitative"
    return "reproduced"


def judge(claim: dict, records: list[dict], profile: str | None = None
          ) -> tuple[Verdict | None, dict | None, str]:
    """Apply the claim's rule: ``(verdict, record used, "")``, or ``(None, None, why)`` when the
    results lack what the rule needs."""
    used: dict[str, dict] = {}

    def get(key: str) -> Any:
        stem, path = split_key(key)
        if stem not in used:
            record = pick_record(records, stem, claim, profile)
            if record is None:
                raise Missing(f"no results for {stem}" + (" from a GPU run" if claim.get("profile") == "gpu" else ""))
            used[stem] = record
        return lookup(scoped(used[stem], claim.get("scope")), path)

    rule = dict(claim["rule"])
    kind = rule.pop("kind")
    if kind not in RULES:
        raise RegistryError(f"claim {claim['id']}: unknown rule kind {kind!r}; allowed: {sorted(RULES)}")
    rule.pop("why", None)
    try:
        verdict = RULES[kind](claim, get, **rule)
        for key in claim["keys"]:  # every registry key must be there, used by the rule or not
            get(key)
    except RegistryError:
        raise
    except Missing as exc:
        return None, None, str(exc.args[0]) if exc.args else "no results"
    except (KeyError, IndexError, TypeError, ValueError, StopIteration, ZeroDivisionError) as exc:
        return None, None, f"the results do not have the shape the rule needs ({type(exc).__name__}: {exc})"
    first = next(iter(used.values()), None)
    return verdict, first, ""


def rows(records: list[dict] | None = None, profile: str | None = None,
         claims: list[dict] | None = None) -> list[dict]:
    """One dict per claim with :data:`ROW_FIELDS` (plus ``cite``, ``rule``, ``device``, ``notebook``)."""
    records = load_all() if records is None else records
    out = []
    for claim in CLAIMS if claims is None else claims:
        verdict, record, why = judge(claim, records, profile)
        status = status_of(claim, verdict)
        reason = not_comparable_reason(claim) if status == "not comparable" else ""
        ours = verdict.ours if verdict else f"not measured: {why}"
        out.append({
            "id": claim["id"], "claim": claim["claim"], "published": claim["published"],
            "source": claim["source"], "confirmed": bool(claim["confirmed"]),
            "ours": f"{ours}. Not comparable: {reason}" if reason else ours,
            "status": status, "reason": reason, "data": claim["data"],
            "setting": f"{claim['setting']}: {claim['setting_note']}",
            "profile": record.get("profile") if record else (claim.get("profile") or profile or ""),
            "cite": claim.get("cite", ""), "rule": claim["rule"].get("why", ""),
            "device": record.get("device", "") if record else "",
            "notebook": record.get("notebook", "") if record else "",
        })
    return out


# ----------------------------------------------------------------------------- the page
def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def known_cites(bib: Path | None = None) -> set[str]:
    """BibTeX keys of ``book/references.bib`` (only those are cited, so the build never warns)."""
    bib = bib or PROJECT_ROOT / "book" / "references.bib"
    return set(re.findall(r"^@\w+\{([^,\s]+),", bib.read_text(), re.M)) if bib.exists() else set()


def badge(status: str) -> str:
    """The status as a MyST CSS badge, e.g. ``{bdg-success}`reproduced```."""
    return f"{{{BADGES[status]}}}`{status}`"


def counts(table: list[dict]) -> dict[str, int]:
    return {s: sum(r["status"] == s for r in table) for s in STATUSES}


def _count_line(table: list[dict]) -> str:
    return ", ".join(f"{n} {s}" for s, n in counts(table).items())


def markdown(records: list[dict] | None = None, profile: str | None = None) -> str:
    """The scorecard page (MyST markdown): the same rows as ``rows()``, readable."""
    records = load_all() if records is None else records
    table = rows(records, profile)
    cites = known_cites()
    lines = [
        "# Reproduction scorecard", "",
        "Each row is a headline figure from the talks and papers behind this course: the published "
        "number with its source, and what our own runs measured, read from `results/<profile>/*.json` "
        "(never typed in by hand). A row uses the `gpu` run where one exists, else the `cpu` run; "
        "rows that need a GPU stay *not measured* without one.", "",
        "The status says what kind of evidence a row is: "
        + "; ".join([
            f"{badge('reproduced')}: our own experiment in the published setting agrees within tolerance",
            f"{badge('re-analysed')}: recomputed from the authors' released data or predictions",
            f"{badge('qualitative')}: the effect holds in a smaller stand-in, or the published figure "
            "is not confirmed",
            f"{badge('not comparable')}: measured, but not the quantity the published figure measures "
            "(the row says why, e.g. a stand-in's number)",
            f"{badge('not reproduced')}: measured, and it disagrees",
            f"{badge('not measured')}: no run has produced it"]) + ".", "",
        f"**{_count_line(table)}.**", "",
        f":::{{table}}\n:class: {TABLE_CLASS}\n:widths: 12 22 24 22 20\n",
        "| status | claim | published | ours | data and setting |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in table:
        cite = f" {{cite}}`{r['cite']}`" if r["cite"] in cites else ""
        published = f"{r['published']} ({r['source']}){cite}" + ("" if r["confirmed"] else " *not confirmed*")
        setting = f"{r['data']}; {r['setting']} ({r['profile'] or 'no run'})"
        lines.append(f"| {badge(r['status'])} | {_cell(r['claim'])} | {_cell(published)} | "
                     f"{_cell(r['ours'])} | {_cell(setting)} |")
    lines.append(":::")
    read = {(r["notebook"], r["profile"]) for r in table if r["notebook"]}
    used = {(r.get("notebook"), r.get("profile")): r for r in records
            if (r.get("notebook"), r.get("profile")) in read}
    if used:
        lines += ["", "## The runs behind these rows", ""]
        lines += [f"- `{nb}` ({prof}): commit `{r.get('commit', '?')}`, {r.get('created', '?')}, "
                  f"{_cell(r.get('device', '?'))}, torch {r.get('torch_version', '?')}"
                  for (nb, prof), r in sorted(used.items())]
    lines += ["", "## How each row is judged", "",
              "The rules live in one registry, `src/reliable_ml/claims.py`; the tests check that every "
              "status follows from its rule.", ""]
    lines += [f"- **{r['id']}**: {_cell(r['rule'])}" for r in table]
    return "\n".join(lines) + "\n"


def summary_markdown(records: list[dict] | None = None, profile: str | None = None) -> str:
    """A short summary for the landing page, in the same statuses as the page."""
    table = rows(records, profile)
    return (f"Of {len(table)} headline figures: {_count_line(table)}. See the "
            "{doc}`scorecard <scorecard>` for the numbers, the data behind each, and how each is judged.\n")


def write(book_dir: Path, records: list[dict] | None = None) -> tuple[Path, Path]:
    """Write ``scorecard.md`` and ``scorecard_summary.md`` into ``book_dir`` (called by the book build)."""
    records = load_all() if records is None else records
    page, summary = Path(book_dir) / "scorecard.md", Path(book_dir) / "scorecard_summary.md"
    page.write_text(markdown(records))
    summary.write_text(summary_markdown(records))
    return page, summary
