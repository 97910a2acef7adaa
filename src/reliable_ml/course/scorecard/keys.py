"""Reading a claim's results keys: which results record a claim reads, and the value at a key.

A claim's results key is a dotted path in its own notebook's results (the claim's ``notebook``),
or ``"<notebook stem>:<dotted.path>"`` for another chapter's (:func:`resolve_key`). The path is
read by :func:`lookup`, where keys may hold dots themselves and ``*`` maps over a table.
"""

from __future__ import annotations

import re
from typing import Any

STEM = re.compile(r"\d\d_[a-z0-9_]+")  # a chapter's notebook stem: 04_adversarial_training
PROFILE_ORDER = ("gpu", "cpu")  # the fullest run wins; smoke runs never count unless asked for


class RegistryError(ValueError):
    """The claims registry itself is wrong (a malformed key, an unknown rule): never hidden."""


class Missing(LookupError):
    """A results key the rule needs is absent (or null, or empty): the row is not measured."""


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
        raise Missing(
            f"no {node.get('notebook', 'results')}:{path}" if isinstance(node, dict) else f"no {path}"
        ) from None
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
    if not sep or not STEM.fullmatch(stem) or not path:
        raise RegistryError(f"results key {key!r} must look like '<NN_notebook_stem>:<dotted.path>'")
    return stem, path


def claim_notebook(claim: dict) -> str:
    """The chapter stem a claim is measured by (its ``notebook``); a clear error when it is not one."""
    notebook = claim.get("notebook")
    if not isinstance(notebook, str) or not STEM.fullmatch(notebook):
        raise RegistryError(
            f"claim {claim.get('id')!r}: notebook must be a chapter's stem like "
            f"'04_adversarial_training', not {notebook!r}"
        )
    return notebook


def resolve_key(claim: dict, key: str) -> tuple[str, str]:
    """A claim's results key -> ``(notebook stem, dotted path)``: a path in the claim's own
    notebook's results, or, written ``"<NN_notebook_stem>:<dotted.path>"``, in another's."""
    notebook = claim_notebook(claim)
    if not isinstance(key, str) or not key:
        raise RegistryError(f"claim {claim.get('id')!r}: results key {key!r} must be a non-empty dotted path")
    return split_key(key) if ":" in key else (notebook, key)


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
    profiles: tuple[str, ...]
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
