"""One settings table per chapter: a frozen dataclass with one row per profile.

Each chapter ``notebooks/NN_<name>.py`` may have a module ``reliable_ml.settings.<name>``
(the stem without its ``NN_`` prefix) that defines

```python
@dataclass(frozen=True)
class Settings:
    dataset: str        # what each field means, with its unit
    eps: float

TABLE = {"smoke": Settings(...), "cpu": Settings(...), "gpu": Settings(...)}
```

The table is the single place where a chapter's per-profile settings live (like MadryLab's
``defaults.py``). The chapter's ``parameters`` cell repeats the ``cpu`` row as real defaults,
so a reader who opens the notebook sees working values; the runner injects the row of the
profile it runs (``smoke``, ``cpu`` or ``gpu``) and then any ``-p KEY VALUE`` overrides.
A test checks that every parameters cell equals its table's ``cpu`` row.
"""
from __future__ import annotations

import dataclasses
import importlib
import re
from typing import Any

PROFILES: tuple[str, ...] = ("smoke", "cpu", "gpu")


def module_name(stem: str) -> str:
    """``"04_adversarial_training"`` -> ``"adversarial_training"``."""
    return re.sub(r"^\d\d_", "", stem)


def table(stem: str) -> dict[str, Any] | None:
    """The chapter's settings table (profile -> dataclass row), or ``None`` if it has none."""
    name = module_name(stem)
    try:
        module = importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{name}":
            return None
        raise
    rows = module.TABLE
    missing = [p for p in PROFILES if p not in rows]
    if missing:
        raise ValueError(f"settings table {name!r} has no row for profile(s) {missing}; "
                         f"every table needs {list(PROFILES)}")
    return rows


def values(stem: str, profile: str) -> dict[str, Any]:
    """The settings of chapter ``stem`` in ``profile`` as a plain dict (empty if it has no table)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; allowed: {', '.join(PROFILES)}")
    rows = table(stem)
    return {} if rows is None else dataclasses.asdict(rows[profile])


def row(stem: str, profile: str, **overrides: Any):
    """The row of ``profile`` with ``overrides`` applied; unknown names raise ``ValueError``."""
    rows = table(stem)
    if rows is None:
        raise ValueError(f"chapter {stem!r} has no settings table "
                         f"(expected module reliable_ml.settings.{module_name(stem)})")
    base = rows[profile]
    fields = {f.name for f in dataclasses.fields(base)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(f"unknown setting(s) {unknown} for {stem}; allowed: {sorted(fields)}")
    return dataclasses.replace(base, **overrides)
