"""Judging a claim: apply its rule to the results it reads, and turn the verdict into a status.

:func:`judge` runs the rule named in the claim (:data:`~reliable_ml.course.scorecard.rules.RULES`)
on the record :func:`~reliable_ml.course.scorecard.keys.pick_record` chooses; :func:`status_of`
says what kind of evidence the verdict is; :func:`rows` is one row per claim of the registry.
"""

from __future__ import annotations

from typing import Any

from reliable_ml.course.claims import CLAIMS
from reliable_ml.course.results import load_all
from reliable_ml.course.scorecard.keys import (
    Missing,
    RegistryError,
    claim_notebook,
    lookup,
    pick_record,
    resolve_key,
    scoped,
)
from reliable_ml.course.scorecard.rules import RULES
from reliable_ml.course.scorecard.values import Verdict

STATUSES = ("reproduced", "re-analysed", "qualitative", "not comparable", "not reproduced", "not measured")
COMPARES = ("figure", "effect")  # a rule judges the published number, or the effect's existence/direction
ROW_FIELDS = (
    "id",
    "claim",
    "published",
    "source",
    "confirmed",
    "ours",
    "status",
    "reason",
    "data",
    "setting",
    "profile",
)


def not_comparable_reason(claim: dict) -> str:
    """Why a claim's measurement is not set against the published figure ("" when it is): the
    claim says its measure differs (``not_comparable``), or it is a stand-in whose rule compares
    the number itself (``compares="figure"``)."""
    if claim.get("not_comparable"):
        return str(claim["not_comparable"])
    if claim["setting"] == "stand-in" and claim["rule"].get("compares") == "figure":
        return (
            f"stand-in ({claim['setting_note']}): its number is not set against the published "
            "figure; a run in the published setting would be"
        )
    return ""


def only_qualitative(claim: dict) -> bool:
    """Whether an agreeing verdict can at best be ``qualitative``: our own run (not the authors'
    released data) in a stand-in or against an unconfirmed figure, and comparable. Such a row
    must say in ``own_data`` why it is not judged on the claim's own data."""
    return (
        claim["evidence"] != "released data"
        and not not_comparable_reason(claim)
        and (claim["setting"] == "stand-in" or not claim["confirmed"])
    )


def qualitative_reason(claim: dict) -> str:
    """Why a claim is judged only qualitatively (its ``own_data``); a registry error when a row
    that can only be qualitative does not say."""
    if not only_qualitative(claim):
        return ""
    reason = claim.get("own_data")
    if not isinstance(reason, str) or len(reason) < 20:
        raise RegistryError(
            f"claim {claim['id']}: a row that can only be qualitative must say in own_data why it is "
            "not judged on the claim's own data (e.g. no chapter has the paper's data)"
        )
    return reason


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


def judge(claim: dict, records: list[dict], profile: str | None = None) -> tuple[Verdict | None, dict | None, str]:
    """Apply the claim's rule: ``(verdict, record used, "")``, or ``(None, None, why)`` when the
    results lack what the rule needs. The rule reads its keys through ``get``, which resolves
    them in the claim's notebook's results (:func:`~reliable_ml.course.scorecard.keys.resolve_key`)."""
    claim_notebook(claim)  # a claim without a chapter is a registry error, keys or not
    used: dict[str, dict] = {}

    def get(key: str) -> Any:
        stem, path = resolve_key(claim, key)
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


def rows(records: list[dict] | None = None, profile: str | None = None, claims: list[dict] | None = None) -> list[dict]:
    """One dict per claim with :data:`ROW_FIELDS` (plus ``cite``, ``rule``, ``device``, ``notebook``)."""
    records = load_all() if records is None else records
    out = []
    for claim in CLAIMS if claims is None else claims:
        verdict, record, why = judge(claim, records, profile)
        status = status_of(claim, verdict)
        reason = not_comparable_reason(claim) if status == "not comparable" else ""
        ours = verdict.ours if verdict else f"not measured: {why}"
        if reason:
            ours = f"{ours}. Not comparable: {reason}"
        elif status == "qualitative":
            reason = qualitative_reason(claim)
            ours = f"{ours}. Qualitative only: {reason}"
        out.append(
            {
                "id": claim["id"],
                "claim": claim["claim"],
                "published": claim["published"],
                "source": claim["source"],
                "confirmed": bool(claim["confirmed"]),
                "ours": ours,
                "status": status,
                "reason": reason,
                "data": claim["data"],
                "setting": f"{claim['setting']}: {claim['setting_note']}",
                "profile": record.get("profile") if record else (claim.get("profile") or profile or ""),
                "cite": claim.get("cite", ""),
                "rule": claim["rule"].get("why", ""),
                "device": record.get("device", "") if record else "",
                "notebook": record.get("notebook", "") if record else "",
            }
        )
    return out
