"""Every rule kind a claim may name: ``RULES[kind](claim, get, **params) -> Verdict``.

``get(key)`` returns the value at one of the claim's results keys and raises
:class:`~reliable_ml.course.scorecard.keys.Missing` when it is absent, which makes the row
``not measured``. The rules live by what they read: :mod:`.rules_numbers` (a number or an
interval against the published figure), :mod:`.rules_models` (tables of many models) and
:mod:`.rules_attacks` (attacked, poisoned or cue-trained models).
"""

from __future__ import annotations

from collections.abc import Callable

from reliable_ml.course.scorecard import rules_attacks, rules_models, rules_numbers
from reliable_ml.course.scorecard.keys import Missing
from reliable_ml.course.scorecard.values import Verdict


def _none(claim, get, **_):
    raise Missing("no experiment in the course measures this claim")


RULES: dict[str, Callable[..., Verdict]] = {
    **rules_models.RULES,
    **rules_numbers.RULES,
    **rules_attacks.RULES,
    "none": _none,
}
