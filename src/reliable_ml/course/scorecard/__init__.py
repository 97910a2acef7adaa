"""The reproduction scorecard: published headline figures next to what our runs measured.

Everything a row says comes from two places: the claims registry
(:data:`reliable_ml.course.claims.CLAIMS`: the published figure, its source, the results keys, the
data, the setting and the comparison rule) and ``results/<profile>/<notebook>.json``. Each
rule is a short function of the results; its tolerance and the reason for it live in the
registry. The status says what kind of evidence a row is:

- ``reproduced``: our own experiment in the published setting agrees within tolerance with a
  confirmed published figure;
- ``re-analysed``: recomputed from the authors' released data or predictions, and agrees;
- ``qualitative``: the effect holds in a smaller stand-in (or against an unconfirmed figure); the
  row says why it is not judged on the claim's own data (``own_data``: e.g. no chapter has the
  paper's data), since a row is judged on the authors' released data wherever a chapter has it;
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
(:func:`halfwidth`, :func:`diff_halfwidth`) computed at the measured accuracy. A rule whose
tolerance is not a sampling error says what it is instead (``tolerance_source``: an exact recount,
a bootstrap interval, a design margin), and a test checks that every row declares one of the two.

One module per job: :mod:`.keys` reads results keys, :mod:`.values` turns values into numbers
and tolerances, :mod:`.rules` (with :mod:`.rules_numbers`, :mod:`.rules_models`,
:mod:`.rules_attacks`) holds the rule kinds, :mod:`.judge` applies them and assigns statuses,
:mod:`.page` renders the book's page. This package only gathers their public names.
"""

from reliable_ml.course.scorecard.judge import (
    COMPARES,
    ROW_FIELDS,
    STATUSES,
    judge,
    not_comparable_reason,
    only_qualitative,
    qualitative_reason,
    rows,
    status_of,
)
from reliable_ml.course.scorecard.keys import (
    PROFILE_ORDER,
    Missing,
    RegistryError,
    claim_notebook,
    has_key,
    lookup,
    pick_record,
    resolve_key,
    scoped,
    split_key,
)
from reliable_ml.course.scorecard.page import (
    BADGES,
    TABLE_CLASS,
    badge,
    counts,
    known_cites,
    markdown,
    summary_markdown,
    write,
)
from reliable_ml.course.scorecard.rules import RULES
from reliable_ml.course.scorecard.rules_attacks import ATTACK_NAMES, fraction_key
from reliable_ml.course.scorecard.values import Verdict, diff_halfwidth, halfwidth

__all__ = [
    "ATTACK_NAMES",
    "BADGES",
    "COMPARES",
    "PROFILE_ORDER",
    "ROW_FIELDS",
    "RULES",
    "STATUSES",
    "TABLE_CLASS",
    "Missing",
    "RegistryError",
    "Verdict",
    "badge",
    "claim_notebook",
    "counts",
    "diff_halfwidth",
    "fraction_key",
    "halfwidth",
    "has_key",
    "judge",
    "known_cites",
    "lookup",
    "markdown",
    "not_comparable_reason",
    "only_qualitative",
    "pick_record",
    "qualitative_reason",
    "resolve_key",
    "rows",
    "scoped",
    "split_key",
    "status_of",
    "summary_markdown",
    "write",
]
