"""What the model caches did in this process: models loaded from a cache (hits) and trained
because the cache had no copy (misses).

The caching trainers (:func:`reliable_ml.models.zoo.train_zoo_cached`, the shared robust model,
the spatial models, the catastrophic-overfitting curves,
:func:`reliable_ml.robust.nonrobust.train_cached`) call :func:`record`; the results writer
(:func:`reliable_ml.course.results.save`) stores :func:`summary` as ``model_cache`` in every
results file, so a chapter's compute note can say whether its measured run time is a cold or a
warm run (:func:`reliable_ml.course.compute_note.compute_note`). Counts are per process: one chapter run.
"""

from __future__ import annotations

_COUNTS: dict[str, dict[str, int]] = {}


def record(cache: str, hit: bool, models: int = 1) -> None:
    """Count ``models`` models that ``cache`` loaded (``hit=True``) or had to train."""
    if not isinstance(models, int) or isinstance(models, bool) or models < 0:
        raise ValueError(f"models must be an integer >= 0; got {models!r}")
    entry = _COUNTS.setdefault(str(cache), {"hits": 0, "misses": 0})
    entry["hits" if hit else "misses"] += models


def summary() -> dict:
    """``{"hits": n, "misses": m, "by_cache": {cache: {"hits": .., "misses": ..}}}`` (models)."""
    return {
        "hits": sum(c["hits"] for c in _COUNTS.values()),
        "misses": sum(c["misses"] for c in _COUNTS.values()),
        "by_cache": {name: dict(c) for name, c in sorted(_COUNTS.items())},
    }


def reset() -> None:
    _COUNTS.clear()


def describe(stats: dict | None) -> str:
    """The cache state of a run in words (``stats`` as :func:`summary` returns it, or ``None``)."""
    if not stats:
        return "the state of the model caches was not recorded in that run"
    hits, misses = int(stats.get("hits", 0)), int(stats.get("misses", 0))
    plural = lambda n: f"{n} model{'s' if n != 1 else ''}"  # noqa: E731
    if hits == misses == 0:
        return "no model came from a cache"
    if hits == 0:
        return f"the model cache was cold: {plural(misses)} trained (a rerun loads them)"
    if misses == 0:
        return f"the model cache was warm: {plural(hits)} loaded from an earlier run (a fresh clone trains them)"
    return f"{plural(hits)} loaded from the model cache and {plural(misses)} trained"
