r"""Catastrophic overfitting, defined by its signature (Wong et al. 2020, "Fast is better than free").

Fast adversarial training (one FGSM step per batch) can fail suddenly: within a few hundred
iterations the model's accuracy on its *own* FGSM training examples rises while its accuracy
under a multi-step attack (PGD) falls to about zero, after it had been robust (Wong et al.
2020, Section 5 and Figure 2; Andriushchenko & Flammarion 2020). The rule below reads that
signature off two curves measured at the same checks :math:`k = 1, \dots, K` of one run:
:math:`p_k`, PGD accuracy on a fixed held-out batch at the training radius, and :math:`f_k`,
accuracy on the FGSM-attacked training batches since the previous check. The run *collapsed at
check* :math:`k` when

.. math::
   \max_{j < k} p_j \ge \text{gained}, \qquad p_i \le \text{floor} \ \text{and}\ f_i \ge \text{fgsm\_high}
   \quad \text{for } i = k, \dots, k + \text{persist} - 1,

that is, it had become robust before, and then for ``persist`` consecutive checks PGD accuracy
sat near zero while the training attack saw a well-classified batch. Every inequality is
inclusive. A run that never reached ``gained`` cannot collapse (it never became robust); a run
whose FGSM accuracy fell with its PGD accuracy diverged, it did not overfit the attack.

The function is pure: curves in, verdict out, thresholds as arguments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

RULE = {"gained": 0.2, "floor": 0.05, "fgsm_high": 0.5, "persist": 2}  # the defaults, as fractions of a batch


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
    gained: float = RULE["gained"],
    floor: float = RULE["floor"],
    fgsm_high: float = RULE["fgsm_high"],
    persist: int = RULE["persist"],
) -> dict:
    """Whether one run shows the signature of catastrophic overfitting (see the module docstring).

    ``pgd_acc`` and ``fgsm_train_acc``: accuracies in [0, 1] at the same checks, in order;
    ``steps``: the training step of each check (default 1, 2, ...). Thresholds: ``0 <= floor <
    gained <= 1``, ``0 <= fgsm_high <= 1``, integer ``persist >= 1``.

    Returns ``collapsed`` (bool), ``step`` (the step of the first collapsed check, or ``None``),
    ``peak`` (the highest PGD accuracy before it, or over the whole run), ``became_robust``
    (the peak reached ``gained`` at some check) and ``n_checks``.
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
    for name, v in (("gained", gained), ("floor", floor), ("fgsm_high", fgsm_high)):
        if not (isinstance(v, int | float) and not math.isnan(v) and 0.0 <= v <= 1.0):
            raise ValueError(f"{name} must be a fraction in [0, 1]; got {v!r}")
    if floor >= gained:
        raise ValueError(f"floor must be below gained (near zero after having been robust); got {floor} >= {gained}")
    if isinstance(persist, bool) or int(persist) != persist or persist < 1:
        raise ValueError(f"persist must be an integer >= 1 (consecutive checks); got {persist!r}")
    persist = int(persist)
    best = -1.0
    for k in range(len(p)):
        window = range(k, k + persist)
        if best >= gained and k + persist <= len(p) and all(p[i] <= floor and f[i] >= fgsm_high for i in window):
            return {"collapsed": True, "step": s[k], "peak": best, "became_robust": True, "n_checks": len(p)}
        best = max(best, p[k])
    return {"collapsed": False, "step": None, "peak": best, "became_robust": best >= gained, "n_checks": len(p)}


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


def outcome_text(found: dict, runs: dict, label: str, gained: float) -> str:
    """One sentence per arm on what :func:`detect_collapse` found, seed by seed (``found``: {seed:
    its output}; ``runs``: {seed: curves with ``steps``, ``pgd_acc``, ``fgsm_train_acc``}): where
    PGD accuracy peaked, whether and at which step it collapsed, and where both curves ended."""
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
        else:
            parts.append(
                f"seed {seed} never reached {100 * gained:.0f}% PGD accuracy (peak {100 * f['peak']:.1f}%), so it "
                f"could not collapse by the rule; it {end}"
            )
    k, n = sum(f["collapsed"] for f in found.values()), len(found)
    return f"{label}: {k} of {n} runs collapsed ({'; '.join(parts)})."


def miniature_text(found: dict, runs: dict, label: str, gained: float) -> str:
    """:func:`outcome_text` for a miniature of a published failing setting, with what a collapse, or
    its absence, can and cannot say (``found``: {seed: :func:`detect_collapse` output})."""
    k, n = sum(f["collapsed"] for f in found.values()), len(found)
    verdict = (
        " Collapse does appear in miniature here."
        if k
        else " In this miniature the collapse that Wong et al. report did not appear: a smaller network, fewer "
        "images and fewer epochs make a different setting, so this neither confirms nor refutes it."
    )
    seeds = f"{n} seed{'s' if n > 1 else ''}"
    return (
        outcome_text(found, runs, label, gained)
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
    "collapsed: PGD accuracy reached `gained` at an earlier check, then for `persist` consecutive checks PGD accuracy "
    "<= `floor` and FGSM training accuracy >= `fgsm_high` (reliable_ml.robust.collapse.detect_collapse)"
)
