"""Rules for attacked, poisoned or cue-trained models: the worst case over attacks (with its
gradient-masking checks), robust overfitting, the robust generalisation gap, non-robust
features, background reliance and backdoor success.

Same contract as :mod:`~reliable_ml.course.scorecard.rules_numbers`: ``rule(claim, get,
**params) -> Verdict``; a broken evaluation (robust above clean, masked gradients) returns
``Verdict(..., broken=True)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from reliable_ml.course.scorecard.keys import Missing
from reliable_ml.course.scorecard.values import Verdict, diff_halfwidth, halfwidth, n_of, num, pct

# How the results keys read in a row. ``robust_acc`` is a chapter's headline robust accuracy,
# whatever attack produced it (04's cpu run: the worst case over the whole suite), so it is not
# called PGD; ``pgd_acc`` is PGD on the chapter's whole evaluation set.
ATTACK_NAMES = {
    "autoattack_acc": "AutoAttack",
    "pgd_acc_on_autoattack_subset": "PGD",
    "worst_case_acc_on_autoattack_subset": "per-image worst of both",
    "worst_case_acc": "worst case",
    "robust_acc": "headline",
    "pgd_acc": "PGD (all images)",
}


def _robust_worst_case(
    claim,
    get,
    clean,
    same_images,
    n,
    target,
    tolerance,
    masking_gap,
    full_set=(),
    full_n=None,
    clean_target=None,
    tables=(),
    clean_same=None,
    masking_flags=None,
    **_,
):
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
            return get(name)
        except Missing:
            return None

    clean_acc = pct(get(clean))  # first: says which results file is missing
    n_images = opt(n)
    accs = {k: pct(v) for k in same_images if (v := opt(k)) is not None}
    for table in tables:
        if isinstance(entries := opt(table), dict):
            accs |= {name: pct(v) for name, v in entries.items() if isinstance(v, (int, float))}
    if full_set and n_images and opt(full_n) == n_images:  # these attacks ran on the same images
        accs |= {k: pct(v) for k in full_set if (v := opt(k)) is not None}
    if not accs or not n_images:
        raise Missing(f"no robust accuracy on a stated number of images in {claim['notebook']}")
    if clean_same and (v := opt(clean_same)) is not None:
        clean_acc = pct(v)  # clean accuracy on the very images attacked
    worst, best = min(accs.values()), max(accs.values())
    tol = max(tolerance, halfwidth(target, num(n_images)))
    problems = []
    if best > clean_acc + halfwidth(clean_acc, num(n_images)):
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
    text = (
        f"worst case {worst:.1f}% over {len(accs)} attack result(s) on the same {int(n_images):,} "
        f"images ({', '.join(f'{ATTACK_NAMES.get(k, k)} {v:.1f}' for k, v in accs.items())}); "
        f"clean {clean_acc:.1f}%; "
        f"tolerance ±{tol:.1f}"
    )
    if problems:
        text += "; " + "; ".join(problems)
    return Verdict(text, abs(worst - target) <= tol and not problems, broken=bool(problems))


def _best_minus_final(claim, get, key, field, target, n, **_):
    """Best minus final validation robust accuracy within the 95% half-width of a difference of
    two accuracies on ``n`` validation images (at the measured ones) of ``target``."""
    values = [pct(h[field]) for h in get(key) if isinstance(h, dict) and h.get(field) is not None]
    if not values:
        raise Missing(f"no {field} in {key}")
    gap = max(values) - values[-1]
    tol = diff_halfwidth((max(values), n_of(get, n)), (values[-1], n_of(get, n)))
    return Verdict(
        f"best {max(values):.1f}% vs final {values[-1]:.1f}% ({gap:.1f} pts over "
        f"{len(values)} epochs; tolerance ±{tol:.1f})",
        abs(gap - target) <= tol,
    )


def _robust_gap(claim, get, key, n, factor, **_):
    """At the smallest training set, the robust train-test gap of adversarial training must
    exceed the clean gap of standard training by ``factor`` times the 95% half-width of that
    difference of gaps (four accuracies, each on ``n`` images)."""
    curve = [r for r in get(key) if isinstance(r, dict)]
    n_min = min(num(r["n_train"]) for r in curve)
    at = [r for r in curve if r["n_train"] == n_min]
    std = [r for r in at if r["training"] == "standard"]  # one row per seed
    adv = [r for r in at if r["training"] != "standard"]
    std_gap = float(np.mean([pct(r["clean train"]) - pct(r["clean test"]) for r in std]))
    rob_gap = float(np.mean([pct(r["robust train"]) - pct(r["robust test"]) for r in adv]))
    seeds = f" (mean of {len(adv)} seeds)" if len(adv) > 1 else ""
    accs = [
        float(np.mean([pct(r[c]) for r in rows_]))
        for rows_, cs in ((adv, ("robust train", "robust test")), (std, ("clean train", "clean test")))
        for c in cs
    ]
    need = factor * diff_halfwidth(*((a, n_of(get, n)) for a in accs))
    return Verdict(
        f"at n = {int(n_min):,}: robust train-test gap {rob_gap:.1f} pts (adversarial "
        f"training) vs clean gap {std_gap:.1f} pts (standard training){seeds}; "
        f"margin needed {need:.1f}",
        rob_gap - std_gap > need,
    )


def _above_chance(claim, get, prefix, n, **_):
    """Both test accuracies minus their 95% half-width on ``n`` test images exceed chance."""
    det, rand = pct(get(f"{prefix}.d_det_test_acc")), pct(get(f"{prefix}.d_rand_test_acc"))
    chance, n_test = pct(get(f"{prefix}.chance")), n_of(get, n)
    low = min(det - halfwidth(det, n_test), rand - halfwidth(rand, n_test))
    return Verdict(
        f"D_det {det:.1f}%, D_rand {rand:.1f}% on {int(n_test):,} clean test images (chance "
        f"{chance:.0f}%; lower 95% bound {low:.1f}%)",
        low > chance,
    )


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
        return num(cue), num(control)

    (s_cue, s_ctl), (r_cue, r_ctl) = row(same), row(rand)
    cue_gap, ctl_gap = s_cue - r_cue, s_ctl - r_ctl
    n_img = n_of(get, n)
    tol_cue = diff_halfwidth((s_cue, n_img), (r_cue, n_img))
    tol_ctl = diff_halfwidth((s_ctl, n_img), (r_ctl, n_img))
    return Verdict(
        f"BG-gap {cue_gap:.1f} pts for the cue model ({same} {s_cue:.1f}%, {rand} {r_cue:.1f}%); "
        f"control model {ctl_gap:+.1f} pts (±{tol_ctl:.1f})",
        cue_gap > tol_cue and abs(ctl_gap) <= tol_ctl,
    )


def fraction_key(k) -> float:
    return float(str(k).rstrip("%")) / (100 if str(k).endswith("%") else 1)


def _backdoor(claim, get, success, clean, max_fraction, min_success, n, **_):
    """Some poison rate <= ``max_fraction`` with success >= ``min_success`` and clean accuracy
    within the 95% half-width of a difference of two accuracies on ``n`` test images."""
    succ = {fraction_key(k): pct(v) for k, v in get(success).items()}
    acc = {fraction_key(k): pct(v) for k, v in get(clean).items()}
    if 0.0 not in acc:
        raise Missing(f"no {clean}.0 (the unpoisoned model)")
    n_img = n_of(get, n)
    hits = [
        f
        for f in sorted(succ)
        if 0 < f <= max_fraction
        and succ[f] >= min_success
        and f in acc
        and abs(acc[f] - acc[0.0]) <= diff_halfwidth((acc[f], n_img), (acc[0.0], n_img))
    ]
    if hits:
        f = hits[0]
        text = (
            f"{succ[f]:.1f}% attack success at {100 * f:g}% poisoned; clean {acc[f]:.1f}% vs {acc[0.0]:.1f}% unpoisoned"
        )
    else:
        upto = [f for f in sorted(succ) if 0 < f <= max_fraction]
        text = "; ".join(f"{100 * f:g}% poisoned: {succ[f]:.1f}% success" for f in upto) or "no poison rate tried"
    return Verdict(text, bool(hits))


RULES: dict[str, Callable[..., Verdict]] = {
    "robust_worst_case": _robust_worst_case,
    "best_minus_final": _best_minus_final,
    "robust_gap": _robust_gap,
    "above_chance": _above_chance,
    "bg_gap": _bg_gap,
    "backdoor": _backdoor,
}
