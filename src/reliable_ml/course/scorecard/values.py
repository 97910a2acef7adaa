"""What a rule reads and returns: numbers out of results values, and 95% sampling tolerances.

A rule's tolerance is a 95% binomial half-width wherever sampling error is what it allows for:
1.96 sqrt(p (1 - p) / n) for one accuracy, and the root sum of squares of such terms for a
sum or difference of independent accuracies (:func:`diff_halfwidth`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from reliable_ml.course.scorecard.keys import Missing


@dataclass(frozen=True)
class Verdict:
    ours: str  # what we measured, in words and numbers
    agrees: bool  # whether it agrees with the published figure under the claim's rule
    broken: bool = False  # the measurement itself failed a sanity check (robust above clean, masking)


def num(x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise Missing(f"a value is not a number: {x!r}")
    return float(x)


def pct(x: Any) -> float:
    """Accuracy as a percentage; results store some as fractions (<= 1) and some as %."""
    x = num(x)
    return 100 * x if abs(x) <= 1 else x


def halfwidth(p_pct: float, n: float) -> float:
    """95% binomial half-width in points of an accuracy of ``p_pct`` % on ``n`` images."""
    p = min(max(p_pct / 100, 0.0), 1.0)
    return 196 * math.sqrt(p * (1 - p) / n) if n and n > 0 else math.inf


def diff_halfwidth(*terms: tuple[float, float]) -> float:
    """95% half-width in points of a sum or difference of independent accuracies, each given
    as ``(p_pct, n)``: 1.96 sqrt(sum p (1 - p) / n). Unpaired, so conservative for the same images."""
    return math.sqrt(sum(halfwidth(p, n) ** 2 for p, n in terms))


def n_of(get, n) -> float:
    """A rule's ``n``: a count written in the registry, or a results key holding it."""
    return num(get(n)) if isinstance(n, str) else num(n)


def number_table(get, key: str) -> dict[str, float]:
    table = get(key)
    if not isinstance(table, dict):
        raise Missing(f"no table at {key}")
    out = {}
    for name, value in table.items():
        try:
            out[name] = num(value)
        except Missing:
            continue
    if not out:
        raise Missing(f"no numbers in {key}")
    return out


def model_drops(get, a_key: str, b_key: str) -> np.ndarray:
    a, b = number_table(get, a_key), number_table(get, b_key)
    common = sorted(set(a) & set(b))
    if not common:
        raise Missing(f"no model in both {a_key} and {b_key}")
    return np.array([a[m] - b[m] for m in common])


def spread_text(drops: np.ndarray) -> str:
    q1, q3 = np.percentile(drops, [25, 75])
    return (
        f"median drop {np.median(drops):.1f} pts (middle half {q1:.1f} to {q3:.1f}, all "
        f"{drops.min():.1f} to {drops.max():.1f}) over {len(drops)} models"
    )
