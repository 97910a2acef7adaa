r"""Catastrophic overfitting, defined by its signature (Wong et al. 2020, "Fast is better than free").

Fast adversarial training (one FGSM step per batch) can fail suddenly: within a few hundred
iterations the model's accuracy on its *own* FGSM training examples rises while its accuracy
under a multi-step attack (PGD) falls, after it had been robust (Wong et al. 2020, Section 5 and
Figure 2; Andriushchenko & Flammarion 2020). The rule below reads that signature off two curves
measured at the same checks :math:`k = 1, \dots, K` of one run: :math:`p_k`, PGD accuracy on a
fixed held-out batch at the training radius, and :math:`f_k`, accuracy on the FGSM-attacked
training batches since the previous check. The rule is *relative*, so that it can fire on a small
model whose accuracies are low (a miniature whose PGD accuracy peaks at 25% can still collapse).
Let :math:`P_k = \max_{j < k} p_j` be the running peak before check :math:`k` and :math:`j^*`
the first check that reached it. The run *collapsed at check* :math:`k` when

.. math::
   p_i \le P_k - \text{drop} \quad\text{and}\quad f_i \ge f_{j^*}
   \qquad \text{for } i = k, \dots, k + \text{persist} - 1,

that is, PGD accuracy fell by at least ``drop`` from its running peak and stayed there for
``persist`` consecutive checks, while accuracy on the training attack's own batches stayed at or
above its level at the peak (the attack the model trains on got no harder). Every inequality is
inclusive. A run whose PGD accuracy never reached ``drop`` has no room to fall by it, so it
cannot collapse (``became_robust`` is false); a run whose FGSM accuracy fell with its PGD
accuracy diverged, it did not overfit the attack.

The ``drop`` of 20 points is the threshold of the opt-in ``--early-stop`` flag of Wong et al.'s
``CIFAR10/train_fgsm.py`` (``locuslab/fast_adversarial``: PGD-5 on the epoch's first training
batch after each epoch, stop when its accuracy falls by more than 0.2 from the previous epoch's).
Two differences from their description: they describe a fall to about 0% within a couple of epochs,
and their check compares consecutive epochs; this rule needs no fall to zero and compares against
a running peak with no time limit, so a slow erosion by ``drop`` also counts.

A run can also *end* in the state a collapse leaves, without the rule seeing a fall:
:func:`ended_overfit` asks whether its last check has clean and FGSM-training accuracy high (the
network learned the task and beats its own training attack) and PGD accuracy near zero
(:data:`END_STATE`). Whether such a run got there by collapsing from a robust phase the checks
missed, or was never robust, its curves cannot tell.

The function is pure: curves in, verdict out, thresholds as arguments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from reliable_ml import stats

RULE = {"drop": 0.2, "persist": 2}  # the defaults: a fall of 20 points (a fraction of a batch), 2 checks


END_STATE = {"clean_min": 0.5, "fgsm_min": 0.5, "pgd_max": 0.05}  # ended_overfit's defaults (fractions)


def ended_overfit(
    clean_acc: float,
    fgsm_train_acc: float,
    pgd_acc: float,
    *,
    clean_min: float = END_STATE["clean_min"],
    fgsm_min: float = END_STATE["fgsm_min"],
    pgd_max: float = END_STATE["pgd_max"],
) -> bool:
    """Whether a run's last check is in the state catastrophic overfitting leaves (Wong et al. 2020,
    Section 5: accuracy on the training attack's own examples high, PGD accuracy about 0%):
    ``clean_acc >= clean_min`` (it learned the task: not a failure to train) and
    ``fgsm_train_acc >= fgsm_min`` and ``pgd_acc <= pgd_max``, every inequality inclusive. All
    arguments are fractions in [0, 1]. It says nothing about how the run got there."""
    vals = {"clean_acc": clean_acc, "fgsm_train_acc": fgsm_train_acc, "pgd_acc": pgd_acc}
    vals |= {"clean_min": clean_min, "fgsm_min": fgsm_min, "pgd_max": pgd_max}
    for name, v in vals.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not (0.0 <= v <= 1.0):  # NaN fails too
            raise ValueError(f"{name} must be a fraction in [0, 1]; got {v!r}")
    return clean_acc >= clean_min and fgsm_train_acc >= fgsm_min and pgd_acc <= pgd_max


def unmeasured_overfit(found: dict, runs: dict, **state) -> list[str]:
    """The seeds of one arm (``found``: {seed: :func:`detect_collapse` output}; ``runs``: {seed:
    curves with ``clean_acc``, ``fgsm_train_acc``, ``pgd_acc``}) that ended in the catastrophic-
    overfitting state (:func:`ended_overfit` on the last check, thresholds ``state``) without a
    measured robust phase (``became_robust`` false): the rule needs a fall, so it cannot count them."""
    return [
        seed
        for seed, f in found.items()
        if not f["became_robust"]
        and ended_overfit(
            runs[seed]["clean_acc"][-1], runs[seed]["fgsm_train_acc"][-1], runs[seed]["pgd_acc"][-1], **state
        )
    ]


def state_rule_text(state: dict | None = None) -> str:
    """The :func:`ended_overfit` thresholds in words."""
    s = END_STATE | (state or {})
    return (
        f"clean accuracy at least {100 * s['clean_min']:.0f}%, accuracy on its own FGSM batches at least "
        f"{100 * s['fgsm_min']:.0f}% and PGD accuracy at most {100 * s['pgd_max']:.0f}% at the last check"
    )


def _curve(name: str, values: Sequence[float]) -> list[float]:
    out = [float(v) for v in values]
    bad = [v for v in out if not (0.0 <= v <= 1.0)]  # NaN fails too
    if bad:
        raise ValueError(f"{name} must hold accuracies in [0, 1]; got {bad[0]!r}")
    return out


def detect_collapse(
    pgd_acc: Sequence[float],
    fgsm_train_acc: Sequence[float],
    *,
    steps: Sequence[int] | None = None,
    drop: float = RULE["drop"],
    persist: int = RULE["persist"],
) -> dict:
    """Whether one run shows the signature of catastrophic overfitting (see the module docstring).

    ``pgd_acc`` and ``fgsm_train_acc``: accuracies in [0, 1] at the same checks, in order;
    ``steps``: the training step of each check (default 1, 2, ...). Thresholds: ``0 < drop <= 1``,
    integer ``persist >= 1``.

    Returns ``collapsed`` (bool), ``step`` (the step of the first collapsed check, or ``None``),
    ``peak`` (the highest PGD accuracy before it, or over the whole run), ``became_robust``
    (the peak reached ``drop``, so a fall by ``drop`` was possible) and ``n_checks``.
    """
    p = _curve("pgd_acc", pgd_acc)
    f = _curve("fgsm_train_acc", fgsm_train_acc)
    if len(p) != len(f):
        raise ValueError(f"pgd_acc and fgsm_train_acc must have the same length; got {len(p)} and {len(f)}")
    if not p:
        raise ValueError("the curves are empty: need at least one check")
    s = list(range(1, len(p) + 1)) if steps is None else [int(v) for v in steps]
    if len(s) != len(p) or any(b <= a for a, b in zip(s, s[1:])):
        raise ValueError(f"steps must be {len(p)} strictly increasing integers; got {list(steps or [])}")
    if not (isinstance(drop, int | float) and not math.isnan(drop) and 0.0 < drop <= 1.0):
        raise ValueError(f"drop must be a fraction in (0, 1]; got {drop!r}")
    if isinstance(persist, bool) or int(persist) != persist or persist < 1:
        raise ValueError(f"persist must be an integer >= 1 (consecutive checks); got {persist!r}")
    persist = int(persist)
    best, at = -1.0, -1  # running peak of PGD accuracy and the first check that reached it
    eps = 1e-12  # inclusive comparisons, robust to float rounding of the difference
    for k in range(len(p)):
        if at >= 0 and k + persist <= len(p):
            window = range(k, k + persist)
            if all(p[i] <= best - drop + eps and f[i] >= f[at] - eps for i in window):
                return {"collapsed": True, "step": s[k], "peak": best, "became_robust": True, "n_checks": len(p)}
        if p[k] > best:
            best, at = p[k], k
    return {"collapsed": False, "step": None, "peak": best, "became_robust": best >= drop - eps, "n_checks": len(p)}


NEUTRAL = "whether any of them passed through a robust phase between two checks, the data cannot tell"


def escaped_state_text(runs: dict, found: dict, drop: float) -> str:
    """Whether a run that became robust had first been in the state catastrophic overfitting leaves
    (:func:`ended_overfit` at some check before its PGD accuracy first reached ``drop``) and rose out
    of it: then that state, seen at a run's end, is not known to be final. Empty when none did."""
    escaped = []
    for arm, by_seed in found.items():
        for seed, f in by_seed.items():
            if not f["became_robust"]:
                continue
            r = runs[arm][seed]
            first = next(i for i, v in enumerate(r["pgd_acc"]) if v >= drop - 1e-12)
            if any(ended_overfit(r["clean_acc"][i], r["fgsm_train_acc"][i], r["pgd_acc"][i]) for i in range(first)):
                escaped.append((arm, seed, r["steps"][first]))
    if not escaped:
        return ""
    runs_text = "; ".join(
        f"seed {seed} of {arm}, which reached {100 * drop:.0f}% at step {step:,}" for arm, seed, step in escaped
    )
    return (
        f"{len(escaped)} run(s) that became robust had first been in that state and rose out of it ({runs_text}), "
        "so the state is not known to be final: the runs that end in it may be before a robust phase rather than "
        "after one."
    )


def hidden_phase_text(runs: dict, found: dict, drop: float, check_every: int) -> str:
    """Whether a robust phase could hide between two checks, judged by how fast the runs that did
    become robust moved: the largest change of PGD accuracy between two consecutive checks among
    them against ``drop`` (a phase that rises and falls by ``drop`` inside one interval needs a change
    of at least that much). ``found``: {arm: {seed: :func:`detect_collapse`}}."""
    swings = [
        max(abs(b - a) for a, b in zip(r["pgd_acc"], r["pgd_acc"][1:]))
        for arm, by_seed in found.items()
        for seed, f in by_seed.items()
        if f["became_robust"] and len((r := runs[arm][seed])["pgd_acc"]) > 1
    ]
    if not swings:
        return (
            f"whether a robust phase shorter than the {check_every} steps between two checks came and went, no run "
            "here became robust to show how fast PGD accuracy can move"
        )
    swing = max(swings)
    who = "the one run that became robust" if len(swings) == 1 else f"the {len(swings)} runs that became robust"
    if swing >= drop:
        return (
            f"a robust phase shorter than the {check_every} steps between two checks cannot be ruled out: "
            f"{who} moved by up to {100 * swing:.1f} points from one check to the next"
        )
    return (
        f"a robust phase hidden within the {check_every} steps between two checks would need faster swings than "
        f"{who} showed (at most {100 * swing:.1f} points from one check to the next)"
    )


def lasting_fall(curves: dict, found: dict, *, near_zero: float = 0.05, persist: int = RULE["persist"]) -> int | None:
    """The first step, at or after the collapse :func:`detect_collapse` found (``found``), from which
    the run's PGD accuracy sat at or below ``near_zero`` for ``persist`` checks running: the lasting
    fall to about 0% Wong et al. describe. ``None`` when the run did not collapse or never fell that
    far for that long (a fall and recovery)."""
    if not found["collapsed"]:
        return None
    k = list(curves["steps"]).index(found["step"])
    after = [float(v) for v in curves["pgd_acc"][k:]]
    for i in range(len(after) - persist + 1):
        if all(v <= near_zero for v in after[i : i + persist]):
            return int(curves["steps"][k + i])
    return None


def peak_spike(curves: dict, found: dict, drop: float) -> tuple[float, float] | None:
    r"""Whether the peak :func:`detect_collapse` fell from (``found["peak"]``, first reached at check
    :math:`j^*`) was a single-check spike: both neighbouring checks exist and lie more than ``drop``
    below it, :math:`p_{j^*-1} < P - \text{drop}` and :math:`p_{j^*+1} < P - \text{drop}`. Then the
    run had no robust phase, only one check that reached the peak. Returns the two neighbours'
    PGD accuracies, or ``None`` when the peak was not a spike (or sits at either end of the run)."""
    if not (isinstance(drop, int | float) and not math.isnan(drop) and 0.0 < drop <= 1.0):
        raise ValueError(f"drop must be a fraction in (0, 1]; got {drop!r}")
    p = [float(v) for v in curves["pgd_acc"]]
    j = next(i for i, v in enumerate(p) if v >= found["peak"] - 1e-12)
    if j == 0 or j == len(p) - 1:
        return None
    below = found["peak"] - drop - 1e-12  # strictly more than drop below the peak
    return (p[j - 1], p[j + 1]) if p[j - 1] < below and p[j + 1] < below else None


def _checks_at_or_above(values: Sequence[float], level: float) -> int:
    return sum(float(v) >= level - 1e-12 for v in values)


def after_collapse_text(
    runs: dict,
    found: dict,
    *,
    near_zero: float = 0.05,
    persist: int = RULE["persist"],
    drop: float | None = None,
) -> str:
    """What each run the rule called collapsed did after its collapse step: the range and last value
    of its PGD accuracy, and whether it then sat at or below ``near_zero`` for ``persist`` checks
    running (the lasting fall to about 0% Wong et al. describe) or recovered (a swing that the
    running-peak rule also counts). ``runs``: {arm: {seed: curves}}; ``found``: {arm: {seed:
    :func:`detect_collapse`}}. With the rule's ``drop``, it also says how many checks before the fall
    reached ``drop`` and whether the peak was a single-check spike (:func:`peak_spike`): then there was
    no robust phase to fall from, and a later rise, if any, is described as one. Empty when no run
    collapsed."""
    parts = []
    for arm, by_seed in found.items():
        for seed, f in by_seed.items():
            if not f["collapsed"]:
                continue
            r = runs[arm][seed]
            k = list(r["steps"]).index(f["step"])
            after = [float(v) for v in r["pgd_acc"][k:]]
            low = lasting_fall(r, f, near_zero=near_zero, persist=persist)
            spike = None if drop is None else peak_spike(r, f, drop)
            first = next(i for i, v in enumerate(r["pgd_acc"]) if v >= f["peak"] - 1e-12)
            if low is not None:
                shape = (
                    f"it then sat at or below {100 * near_zero:.0f}% for {persist} checks running from step "
                    f"{low:,}" + ("" if spike else ": the lasting fall to about 0% that Wong et al. describe")
                )
            elif spike is not None:
                rose = next((i for i, v in enumerate(after) if v >= drop - 1e-12), None)
                shape = f"it never sat at or below {100 * near_zero:.0f}% for {persist} checks running" + (
                    f"; it rose later: from step {r['steps'][k + rose]:,} on, "
                    f"{_checks_at_or_above(after[rose:], drop)} of its {len(after) - rose} checks were at or above "
                    f"{100 * drop:.0f}%, peaking at {100 * max(after):.1f}% at step "
                    f"{r['steps'][k + after.index(max(after))]:,}"
                    if rose is not None
                    else f"; it did not reach {100 * drop:.0f}% again"
                )
            else:
                shape = (
                    f"it never sat at or below {100 * near_zero:.0f}% for {persist} checks running: a fall and "
                    "recovery that the running-peak rule counts, not the lasting fall to about 0% Wong et al. describe"
                )
            before = [float(v) for v in r["pgd_acc"][:first]]
            rise = (
                f"Seed {seed} of {arm} sat at or below {100 * near_zero:.0f}% PGD accuracy at "
                f"{sum(v <= near_zero for v in before)} of its {len(before)} checks before it first reached the peak "
                f"it fell from (step {r['steps'][first]:,}). "
                if before
                else ""
            )
            reach = (
                ""
                if drop is None
                else f"; before the fall its PGD accuracy was at or above {100 * drop:.0f}% at "
                f"{_checks_at_or_above(r['pgd_acc'][:k], drop)} of its {k} checks"
            )
            peak_words = (
                f"; that peak was a single check between {100 * spike[0]:.1f}% and {100 * spike[1]:.1f}% (both more "
                f"than the rule's {100 * drop:.0f} points below it), not a robust phase"
                if spike is not None
                else ""
            )
            parts.append(
                rise + f"Seed {seed} of {arm} fell by the rule at step {f['step']:,} "
                f"(from a peak of {100 * f['peak']:.1f}%){peak_words}{reach}; "
                f"from then on its PGD accuracy ranged from {100 * min(after):.1f}% to {100 * max(after):.1f}% and "
                f"ended at {100 * after[-1]:.1f}%, and {shape}."
            )
    return " ".join(parts)


def count(results: dict) -> dict:
    """Per arm, over seeds (``results``: {arm: {seed: detect_collapse output}}): ``collapsed``,
    ``became_robust``, ``never_robust`` and ``seeds`` counts."""
    out = {}
    for arm, by_seed in results.items():
        rows = list(by_seed.values())
        out[arm] = {
            "collapsed": sum(r["collapsed"] for r in rows),
            "became_robust": sum(r["became_robust"] for r in rows),
            "never_robust": sum(not r["became_robust"] for r in rows),
            "seeds": len(rows),
        }
    return out


def outcome_text(found: dict, runs: dict, label: str, drop: float, chance: float | None = None) -> str:
    """One sentence per arm on what :func:`detect_collapse` found, seed by seed (``found``: {seed:
    its output}; ``runs``: {seed: curves with ``steps``, ``pgd_acc``, ``fgsm_train_acc``}): where
    PGD accuracy peaked, whether and at which step it collapsed, and where both curves ended.
    ``chance``: the share of the most common class among the check images; a peak at or below it
    is called "never above chance" (a network predicting one class scores it, clean and attacked)."""
    parts = []
    for seed, f in found.items():
        r = runs[seed]
        end = f"ended at {100 * r['pgd_acc'][-1]:.1f}% PGD, {100 * r['fgsm_train_acc'][-1]:.1f}% on its FGSM batches"
        if f["collapsed"]:
            i = r["steps"].index(f["step"])
            parts.append(
                f"seed {seed} reached {100 * f['peak']:.1f}% PGD accuracy and collapsed at step {f['step']:,} "
                f"({100 * r['pgd_acc'][i]:.1f}% PGD, {100 * r['fgsm_train_acc'][i]:.1f}% on its FGSM batches), {end}"
            )
        elif f["became_robust"]:
            parts.append(f"seed {seed} reached {100 * f['peak']:.1f}% and did not collapse by the rule; it {end}")
        elif chance is not None and f["peak"] <= chance + 1e-12:
            i = r["pgd_acc"].index(f["peak"])
            clean = f", where its clean accuracy was {100 * r['clean_acc'][i]:.1f}%" if "clean_acc" in r else ""
            parts.append(
                f"seed {seed}'s PGD accuracy never rose above chance (peak {100 * f['peak']:.1f}% at step "
                f"{r['steps'][i]:,}{clean}), so it could not collapse by the rule; it {end}"
            )
        else:
            parts.append(
                f"seed {seed} never reached {100 * drop:.0f}% PGD accuracy (peak {100 * f['peak']:.1f}%), so it had "
                f"no room to fall by {100 * drop:.0f} points and could not collapse by the rule; it {end}"
            )
    k, n = sum(f["collapsed"] for f in found.values()), len(found)
    return f"{label}: {k} of {n} runs collapsed ({'; '.join(parts)})."


def miniature_text(found: dict, runs: dict, label: str, drop: float) -> str:
    """:func:`outcome_text` for a miniature of a published failing setting, with what a collapse, or
    its absence, can and cannot say (``found``: {seed: :func:`detect_collapse` output})."""
    k, n = sum(f["collapsed"] for f in found.values()), len(found)
    verdict = (
        " Collapse by the rule does appear in miniature here."
        if k
        else " In this miniature the collapse that Wong et al. report did not appear: a smaller network, fewer "
        "images and fewer epochs make a different setting, so this neither confirms nor refutes it."
    )
    seeds = f"{n} seed{'s' if n > 1 else ''}"
    return (
        outcome_text(found, runs, label, drop)
        + verdict
        + f" One setting and {seeds}: a count of what happened in this run, not a rate."
    )


def record(curves: dict, found: dict) -> dict:
    """A run's curves with what :func:`detect_collapse` found, for a results file."""
    return curves | {
        "collapsed": found["collapsed"],
        "collapse_step": found["step"],
        "peak_pgd_acc": found["peak"],
        "became_robust": found["became_robust"],
    }


DEFINITION = (
    "collapsed: for `persist` consecutive checks PGD accuracy at least `drop` below its running peak, while FGSM "
    "training accuracy stays at or above its level at that peak (reliable_ml.robust.collapse.detect_collapse)"
)


def testable_text(
    counts: dict,
    drop: float,
    n_steps: int,
    peak: float,
    n_state: int | None = None,
    state: dict | None = None,
    hidden: str | None = None,
) -> str:
    """Whether a set of runs could test for collapse at all (``counts``: :func:`count`'s output;
    ``n_steps``: steps per run; ``peak``: the highest PGD accuracy over all runs, a fraction). A run
    whose PGD accuracy never reached ``drop`` has no room to fall by it, so a count of zero
    collapses among such runs is empty. ``n_state``: how many runs ended in the catastrophic-
    overfitting state without a measured robust phase (:func:`unmeasured_overfit`, thresholds
    ``state``); they are named, not counted as collapses. ``hidden``: what the data say about a robust
    phase between two checks (:func:`hidden_phase_text`; by default that the data cannot tell)."""
    hidden = hidden or NEUTRAL
    n = sum(c["seeds"] for c in counts.values())
    tail = (
        ""
        if n_state is None
        else f" {n_state} of {n} ended in the state catastrophic overfitting leaves ({state_rule_text(state)}), "
        f"reached with no measured robust phase; the rule needs a fall, so it does not count them, and {hidden}."
    )
    k_robust = sum(c["became_robust"] for c in counts.values())
    k = sum(c["collapsed"] for c in counts.values())
    if k_robust == 0:
        return (
            f"No run became robust in {n_steps:,} steps: none of the {n} reached {100 * drop:.0f}% PGD accuracy "
            f"(highest {100 * peak:.1f}%), so none had room to fall by the rule's {100 * drop:.0f} points. This "
            "cpu run therefore cannot test for catastrophic overfitting by the rule: its count of zero collapses "
            "says nothing about whether fast adversarial training collapses." + tail
        )
    if k_robust == n:
        return (
            f"All {n} runs reached {100 * drop:.0f}% PGD accuracy within {n_steps:,} steps (highest "
            f"{100 * peak:.1f}%), so the rule could test each of them; {k} collapsed."
        ) + tail
    return (
        f"{k_robust} of {n} runs reached {100 * drop:.0f}% PGD accuracy within {n_steps:,} steps (highest "
        f"{100 * peak:.1f}%), so the rule could test "
        + (
            ("it; it collapsed." if k else "it; it did not collapse.")
            if k_robust == 1
            else f"them; {k} of those collapsed."
        )
        + f" The other {n - k_robust} never reached it, so the rule cannot test them."
        + tail
    )


def compare_arms(counts: dict, arm: str, reference: str, *, alpha: float = 0.05) -> dict:
    """Two arms of :func:`count`'s output compared with the verdict rule, seeds as the samples.

    ``became_robust``: the share of seeds whose PGD accuracy reached the rule's ``drop``
    (:func:`reliable_ml.stats.compare_counts`, Fisher's exact test with Newcombe's interval of
    the difference); ``collapsed``: the share of *those* runs that collapsed, or ``None`` when
    either arm has no run that became robust (no run there could collapse, so there is nothing to
    compare). Each value is a :class:`reliable_ml.stats.Verdict` of ``arm`` minus ``reference``.
    With 3 seeds per arm even 3 of 3 against 0 of 3 is "cannot tell" at alpha = 0.05 (Fisher p = 0.1).
    """
    for name in (arm, reference):
        if name not in counts:
            raise ValueError(f"unknown arm {name!r}; allowed: {sorted(counts)}")
    a, b = counts[arm], counts[reference]
    robust = stats.compare_counts(a["became_robust"], a["seeds"], b["became_robust"], b["seeds"], alpha=alpha)
    if not (a["became_robust"] and b["became_robust"]):
        return {"became_robust": robust, "collapsed": None}
    fell = stats.compare_counts(a["collapsed"], a["became_robust"], b["collapsed"], b["became_robust"], alpha=alpha)
    return {"became_robust": robust, "collapsed": fell}


def comparison_text(counts: dict, arm: str, reference: str, verdicts: dict) -> str:
    """One sentence on :func:`compare_arms`'s verdicts of ``arm`` against ``reference``, its words
    from :func:`reliable_ml.stats.phrase` (a share in points, with its interval)."""
    a, b = counts[arm], counts[reference]
    robust = stats.phrase(verdicts["became_robust"], "more often", "less often", "the data cannot tell the arms apart")
    text = (
        f"{arm} against {reference}: {a['became_robust']} of {a['seeds']} against {b['became_robust']} of "
        f"{b['seeds']} runs became robust, {robust}"
    )
    if verdicts["collapsed"] is None:
        return text + "; collapse cannot be compared, since one of them has no run that became robust."
    fell = stats.phrase(verdicts["collapsed"], "more often", "less often", "the data cannot tell the arms apart")
    return (
        text + f"; of those, {a['collapsed']} of {a['became_robust']} against {b['collapsed']} of "
        f"{b['became_robust']} collapsed, {fell}."
    )


def state_text(state: dict, runs: dict, check_every: int, hidden: str | None = None) -> str:
    """What the runs that ended in the catastrophic-overfitting state without a measured robust phase
    show (``state``: {arm: :func:`unmeasured_overfit` seeds}; ``runs``: {arm: {seed: curves}}): how
    many, the ranges of their last clean, FGSM-batch and PGD accuracies, and (``hidden``,
    :func:`hidden_phase_text`) what the data say about how they got there."""
    n = sum(len(by_seed) for by_seed in runs.values())
    k = sum(len(v) for v in state.values())
    if not k:
        return "No run ended in that state without a measured robust phase."
    end = {
        key: [100 * runs[a][sd][key][-1] for a, seeds in state.items() for sd in seeds]
        for key in ("clean_acc", "fgsm_train_acc", "pgd_acc")
    }
    span = {key: f"{min(v):.1f}–{max(v):.1f}%" for key, v in end.items()}
    return (
        f"{k} of {n} runs ended in the state catastrophic overfitting leaves, reached with no measured robust "
        f"phase: {span['clean_acc']} clean on the check images, {span['fgsm_train_acc']} on their FGSM batches and "
        f"{span['pgd_acc']} under PGD (not a failure to learn the clean task). Catastrophic overfitting names a "
        f"fall from a robust phase, which no check saw here, so the rule does not count them; {hidden or NEUTRAL}."
    )


def meaning_text(
    counts: dict,
    state: dict,
    verdicts: dict,
    reference: str,
    *,
    check_every: int,
    drop: float,
    n_steps: int,
    peak: float,
) -> str:
    """The chapter's summary of the runs (``counts``: :func:`count`'s output; ``state``: {arm:
    :func:`unmeasured_overfit` seeds}; ``verdicts``: {arm: :func:`compare_arms` output against
    ``reference``}): how many became robust, collapsed, or ended in the catastrophic-overfitting
    state unmeasured, and, per arm, the verdict rule's words on how often runs became robust, with
    Fisher's p."""
    n = sum(c["seeds"] for c in counts.values())
    k_robust = sum(c["became_robust"] for c in counts.values())
    k_coll = sum(c["collapsed"] for c in counts.values())
    k_state = sum(len(v) for v in state.values())
    head = (
        f"Watched every {check_every} steps, {k_robust} of {n} fast (single FGSM step) runs reached "
        f"{100 * drop:.0f}% PGD accuracy within {n_steps:,} steps (highest {100 * peak:.1f}%) and {k_coll} "
        f"collapsed by the rule; {k_state} of {n} ended in the state catastrophic overfitting leaves, reached with "
        "no measured robust phase, which the rule, needing a fall, does not count"
    )
    if k_robust == 0:
        return head + (
            ". This cpu run therefore shows neither that a single random-start FGSM step can serve as the inner "
            "maximizer nor whether such training collapses."
        )
    per_arm = "; ".join(
        f"{a}: {c['became_robust']} of {c['seeds']} became robust, {c['collapsed']} collapsed, {len(state[a])} ended "
        "in that state"
        for a, c in counts.items()
    )
    words = "; ".join(
        f"{a}: "
        + stats.phrase(
            v["became_robust"],
            "became robust more often",
            "became robust less often",
            "the data cannot tell the arms apart",
        )
        + f", Fisher p = {v['became_robust'].p_value:.2f}"
        for a, v in verdicts.items()
    )
    return head + f". Per arm, {per_arm}. Against {reference}, in how often runs became robust, {words}."


def ended_robust(runs: dict, drop: float) -> list[str]:
    """The seeds of one arm (``runs``: {seed: curves}) whose PGD accuracy at the last check was at or
    above ``drop``: the runs that ended robust by the rule's own bar."""
    return [seed for seed, r in runs.items() if float(r["pgd_acc"][-1]) >= drop - 1e-12]


def _seeds(seeds: Sequence[str]) -> str:
    names = [str(s) for s in seeds]
    return "seed " + names[0] if len(names) == 1 else "seeds " + ", ".join(names[:-1]) + " and " + names[-1]


def _kinds(runs: dict, found: dict, drop: float) -> dict:
    """The collapsed runs of one arm, sorted by the peak they fell from (a rise, or a single-check
    spike: :func:`peak_spike`) and by what followed (a lasting fall to about 0%: :func:`lasting_fall`)."""
    out: dict = {"rise_lasting": [], "rise_back": [], "spike_lasting": [], "spike_later": []}
    for seed, f in found.items():
        if not f["collapsed"]:
            continue
        spike = peak_spike(runs[seed], f, drop) is not None
        lasting = lasting_fall(runs[seed], f) is not None
        out[("spike_" if spike else "rise_") + ("lasting" if lasting else ("later" if spike else "back"))].append(seed)
    return out


def transcription_text(
    script: dict,
    course: dict,
    drop: float,
    *,
    course_hidden: int,
    lasting: int,
    runs: dict | None = None,
    found: dict | None = None,
    alpha: float = 0.05,
) -> str:
    """What Wong et al.'s MNIST script, transcribed (:mod:`reliable_ml.robust.wong_mnist_script`), shows
    beside the course's loop on the same recipe.

    ``script`` and ``course``: one arm's counts each (:func:`count`: ``seeds``, ``became_robust``,
    ``collapsed``); ``drop``: the collapse rule's fall (and the bar for "became robust"), a fraction;
    ``lasting``: how many of the script's collapsed runs then fell to about 0% and stayed there
    (:func:`lasting_fall`). With the script's ``runs`` ({seed: curves}) and ``found`` ({seed:
    :func:`detect_collapse`}), the collapsed runs are told apart by the peak they fell from (a rise, or a
    single-check spike, :func:`peak_spike`, which is no robust phase) and named by seed, with the peak
    and how many checks before the fall reached ``drop``; and the runs that ended robust
    (:func:`ended_robust`) are counted, with the exact (Clopper–Pearson, :func:`reliable_ml.stats.
    clopper_pearson`) two-sided ``1 - alpha`` upper bound on a per-seed rate of ending robust. The
    conclusion follows the counts; comparing the two arms is left to :func:`comparison_text` (the
    verdict rule).
    """
    for name, c in (("script", script), ("course", course)):
        if not all(k in c for k in ("seeds", "became_robust", "collapsed")):
            raise ValueError(f"{name} must hold count's seeds, became_robust and collapsed; got {sorted(c)}")
    n, s_r, s_c = script["seeds"], script["became_robust"], script["collapsed"]
    if not 0 <= lasting <= s_c:
        raise ValueError(f"lasting must count collapsed runs, between 0 and {s_c}; got {lasting!r}")
    if (runs is None) != (found is None):
        raise ValueError("runs and found go together: pass both or neither")
    runs_ = lambda k: "run" if k == 1 else "runs"  # noqa: E731
    head = (
        f"With their script as written, {s_r} of {n} {runs_(n)} reached {100 * drop:.0f}% PGD accuracy and {s_c} of "
        f"{'it' if s_r == 1 else 'them'} collapsed by the rule; with the course's loop (start clamped, hidden layer "
        f"{course_hidden}), {course['became_robust']} of {course['seeds']} reached it and {course['collapsed']} "
        "collapsed."
    )
    if runs is not None and s_c:
        kinds = _kinds(runs, found, drop)
        if len(kinds["rise_lasting"]) + len(kinds["spike_lasting"]) != lasting:
            raise ValueError(f"lasting ({lasting}) disagrees with the runs' lasting falls")

        def before_fall(sd: str) -> tuple[int, int]:
            k = list(runs[sd]["steps"]).index(found[sd]["step"])
            return _checks_at_or_above(runs[sd]["pgd_acc"][:k], drop), k

        def peaks(seeds: list[str]) -> str:
            return "; ".join(
                f"seed {sd} from a peak of {100 * found[sd]['peak']:.1f}%, at or above {100 * drop:.0f}% at "
                f"{before_fall(sd)[0]} of its {before_fall(sd)[1]} checks before the fall"
                for sd in seeds
            )

        said = []
        if kinds["rise_lasting"]:
            said.append(
                f"{len(kinds['rise_lasting'])} ({_seeds(kinds['rise_lasting'])}) fell after a rise to about 0% and "
                f"stayed there ({peaks(kinds['rise_lasting'])})"
            )
        if kinds["rise_back"]:
            said.append(f"{len(kinds['rise_back'])} ({_seeds(kinds['rise_back'])}) fell after a rise and rose again")

        def later(sd: str) -> str:
            k = list(runs[sd]["steps"]).index(found[sd]["step"])
            top = max(float(v) for v in runs[sd]["pgd_acc"][k:])
            return f"rose later, to {100 * top:.1f}%" if top >= drop - 1e-12 else "did not stay at about 0%"

        for sd in kinds["spike_later"] + kinds["spike_lasting"]:
            what = "then stayed at about 0%" if sd in kinds["spike_lasting"] else later(sd)
            said.append(
                f"seed {sd} fell from a peak of {100 * found[sd]['peak']:.1f}% that was a single check, not a robust "
                f"phase, and {what}"
            )
        fell = len(kinds["rise_lasting"])
        tail = (
            f" Of the {s_c} collapsed {runs_(s_c)}, "
            + "; ".join(said)
            + ". "
            + (
                f"So their recipe, run here, shows catastrophic overfitting (a lasting fall after a rise) in {fell} of "
                f"{n} {runs_(n)}."
                if fell
                else "No run shows a lasting fall after a rise, the catastrophic overfitting Wong et al. describe."
            )
        )
    elif s_c:
        tail = (
            f" Of the {s_c} collapsed {runs_(s_c)}, {lasting} then fell to about 0% and stayed there"
            + (f" and {s_c - lasting} did not" if s_c - lasting else "")
            + "."
        )
    elif s_r == n:
        tail = f" Every run of their script reached {100 * drop:.0f}% and none collapsed by the rule."
    elif s_r == 0:
        tail = f" No run of their script reached {100 * drop:.0f}% either."
    else:
        tail = ""
    if runs is not None:
        ends = [float(r["pgd_acc"][-1]) for r in runs.values()]
        k_end = len(ended_robust(runs, drop))
        lo, hi = (float(v) for v in stats.clopper_pearson(k_end, n, alpha=alpha))
        tail += (
            f" With the unclamped start, the hidden layer of 100 and their loop, {k_end} of {n} {runs_(n)} ended at "
            f"{100 * drop:.0f}% PGD accuracy or more at the last check: a per-seed rate anywhere from {100 * lo:.1f}% "
            f"to {100 * hi:.1f}% (exact {100 * (1 - alpha):.0f}% interval, Clopper–Pearson)"
            + (
                f"; no run ended above {100 * max(ends):.1f}%, so none comes near the robust MNIST model Wong et al. "
                "report."
                if max(ends) < 0.5
                else "."
            )
        )
    return head + tail


def table_rows(found: dict, runs: dict, arm: str | None = None) -> list[dict]:
    """One row per seed for a table of watched runs (``found``: {seed: :func:`detect_collapse`
    output}; ``runs``: {seed: curves}): peak, final PGD, final clean and final FGSM-batch accuracy
    (in %), whether and at which step the run collapsed; with ``arm``, the arm's name first."""
    rows = []
    for seed, f in found.items():
        r = runs[seed]
        rows.append(
            ({"arm": arm} if arm is not None else {})
            | {
                "seed": seed,
                "peak PGD (%)": 100 * f["peak"],
                "final PGD (%)": 100 * r["pgd_acc"][-1],
                "final clean (%)": 100 * r["clean_acc"][-1],
                "final FGSM batches (%)": 100 * r["fgsm_train_acc"][-1],
                "collapsed": f["collapsed"],
                "at step": f["step"],
            }
        )
    return rows
