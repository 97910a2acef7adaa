"""Every setting of the course: one table per chapter and per entry point, rows checked against ranges.

Each chapter ``notebooks/NN_<name>.py`` may have a module ``reliable_ml.settings.<name>``
(the stem without its ``NN_`` prefix), and each entry point ``reliable_ml.experiments.<name>``
has one of the same name. A table module defines

```python
@dataclass(frozen=True)
class Settings(Row):
    dataset: str = choice("digits", "mnist")  # what each field means, with its unit
    eps: float = between(0, 1)                # L-infinity radius, pixel units
    n_eval: int = between(1, images="test")   # test images attacked (at most what the dataset holds)

TABLE = {"smoke": Settings(...), "cpu": Settings(...), "gpu": Settings(...)}
```

The table is the single place where per-profile settings live (like MadryLab's ``defaults.py``).
A chapter's ``parameters`` cell repeats the ``cpu`` row as real defaults, so a reader who opens
the notebook sees working values; the runner injects the row of the profile it runs (``smoke``,
``cpu`` or ``gpu``) and then any ``-p KEY VALUE`` overrides. A test checks that every parameters
cell equals its table's ``cpu`` row. An entry point that does not run in a profile has ``None``
as that row (and a comment saying why).

Every field declares what it allows (:func:`between`, :func:`choice`, :func:`text`, :func:`flag`;
a field holding a row of its own, such as a :class:`~reliable_ml.settings.training.TrainConfig`,
is checked by that row). A :class:`Row` is checked whenever it is built, so a table with a value
out of range fails at import, and :func:`row` (with overrides), ``dataclasses.replace`` and the
runner's ``-p`` overrides are refused before any cell runs, with a message naming the table, the
field, the value and the allowed range. A field marked ``images="train"`` or ``"test"`` counts
images of that split of the row's ``dataset``: it may not ask for more than :data:`SPLIT_SIZES`
says the dataset holds.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import pkgutil
import re
from typing import Any

PROFILES: tuple[str, ...] = ("smoke", "cpu", "gpu")
"""``smoke``: tests, at most ~60 s a notebook on 2 CPU cores, tiny settings; ``cpu``: the default
book build, at most ~5 min a notebook on 2 CPU cores; ``gpu``: full reproductions on one GPU."""

# Images per split of the datasets a row may name (scikit-learn's digits: the course's split of its 1,797).
SPLIT_SIZES: dict[str, dict[str, int]] = {
    "mnist": {"train": 60_000, "test": 10_000},
    "cifar10": {"train": 50_000, "test": 10_000},
    "digits": {"train": 1_347, "test": 450},
}


# A zoo or zoo member name (reliable_ml.models.zoo: "mnist-cpu", "cnn-8-e2-aug"); that it exists is
# checked by tests/test_settings_refs.py (the settings import nothing of the science).
ZOO_NAME = r"[a-z0-9][a-z0-9.-]*"


def check_profile(profile: str) -> str:
    """Return ``profile`` if it is a known profile, else raise ``ValueError`` listing them."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; allowed: {', '.join(PROFILES)}")
    return profile


# ----------------------------------------------------------------------------- what a field allows


class SettingsError(ValueError):
    """A settings row with values outside their declared ranges (``problems``: one line each)."""

    def __init__(self, table: str, problems: list[str]):
        self.table, self.problems = table, list(problems)
        super().__init__(f"settings {table}: " + "; ".join(self.problems))


@dataclasses.dataclass(frozen=True)
class Allowed:
    """What one field may hold: a number in ``[lo, hi]`` (``None``: unbounded), one of ``choices``,
    or a string matching ``pattern``. A list or tuple value must be non-empty and every element
    allowed. ``optional``: ``None`` is allowed too. ``images``: the value counts images of this
    split of the row's ``dataset``."""

    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()
    pattern: str | None = None
    optional: bool = False
    images: str | None = None

    def describe(self) -> str:
        if self.choices:
            text = "one of " + ", ".join(map(str, self.choices))
        elif self.pattern is not None:
            text = "any text" if self.pattern == ".*" else f"text matching {self.pattern!r}"
        elif self.lo is not None and self.hi is not None:
            text = f"in [{self.lo:g}, {self.hi:g}]"
        elif self.lo is not None:
            text = f">= {self.lo:g}"
        elif self.hi is not None:
            text = f"<= {self.hi:g}"
        else:
            text = "any number"
        return text + (" (or None)" if self.optional else "")

    def admits(self, value: Any) -> bool:
        """Whether one (scalar) value is allowed."""
        if value is None:
            return self.optional
        if self.choices:  # by type and value: 1 is not True, 0 is not False
            return any(type(value) is type(c) and value == c for c in self.choices)
        if self.pattern is not None:
            return isinstance(value, str) and re.fullmatch(self.pattern, value) is not None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            return False
        return (self.lo is None or value >= self.lo) and (self.hi is None or value <= self.hi)

    def problem(self, name: str, value: Any) -> str | None:
        """``None`` when ``value`` is allowed, else a line naming the field, the value and the range."""
        if isinstance(value, (list, tuple)):
            bad = [v for v in value if not self.admits(v)]
            if value and not bad:
                return None
            return f"{name} must be a non-empty list, each value {self.describe()}; got {value!r}"
        if self.admits(value):
            return None
        if self.choices:
            return f"unknown {name} {value!r}; allowed: {', '.join(map(str, self.choices))}"
        return f"{name} must be {self.describe()}; got {value!r}"


def _field(allowed: Allowed, default: Any) -> Any:
    kw = {} if default is dataclasses.MISSING else {"default": default}
    return dataclasses.field(metadata={"allowed": allowed}, **kw)


def between(
    lo: float | None = None,
    hi: float | None = None,
    *,
    images: str | None = None,
    optional: bool = False,
    default: Any = dataclasses.MISSING,
) -> Any:
    """A numeric field in ``[lo, hi]`` (``None``: unbounded on that side); on a list, every element.
    ``images="train"`` / ``"test"``: also at most the images of that split of the row's dataset."""
    if images not in (None, "train", "test"):
        raise ValueError(f"images must be 'train', 'test' or None; got {images!r}")
    return _field(Allowed(lo=lo, hi=hi, images=images, optional=optional), default)


def choice(*options: Any, default: Any = dataclasses.MISSING) -> Any:
    """A field holding one of ``options`` (on a list or tuple: a non-empty one of them)."""
    if not options:
        raise ValueError("choice() needs at least one option")
    return _field(Allowed(choices=tuple(options)), default)


def flag(default: Any = dataclasses.MISSING) -> Any:
    """A yes/no field (``True`` or ``False``, not 0 or 1)."""
    return choice(False, True, default=default)


def text(pattern: str = ".*", *, default: Any = dataclasses.MISSING) -> Any:
    """A string field matching the regular expression ``pattern`` (whole string; ``".*"``: any)."""
    re.compile(pattern)
    return _field(Allowed(pattern=pattern), default)


def allowed(f: dataclasses.Field) -> Allowed | None:
    """The declared :class:`Allowed` of a field, or ``None`` if it declares none."""
    return f.metadata.get("allowed")


def table_name(row: Any) -> str:
    """A row's table: its module's last name for a ``Settings`` class, else the class name."""
    cls = type(row)
    return cls.__module__.rsplit(".", 1)[-1] if cls.__name__ == "Settings" else cls.__name__


def problems(row: Any) -> list[str]:
    """Every field of ``row`` outside its declared range, one line each (empty: the row is fine).

    A field that declares nothing is a problem unless it holds a row of its own (checked when built)."""
    out = []
    dataset = getattr(row, "dataset", None)
    sizes = SPLIT_SIZES.get(dataset, {}) if isinstance(dataset, str) else {}
    for f in dataclasses.fields(row):
        value, spec = getattr(row, f.name), allowed(f)
        if spec is None:
            if not dataclasses.is_dataclass(value):
                out.append(f"{f.name} declares no allowed range (use settings.between, choice, flag or text)")
            continue
        line = spec.problem(f.name, value)
        if line is None and spec.images and spec.images in sizes:
            most = sizes[spec.images]
            asked = max(value) if isinstance(value, (list, tuple)) else value
            if asked is not None and asked > most:
                line = f"{f.name} must be <= {most:,} (the {spec.images} images of {dataset}); got {value!r}"
        if line:
            out.append(line)
    return out


def check(row: Any) -> Any:
    """Return ``row`` if every field is in range, else raise :class:`SettingsError` naming them all."""
    found = problems(row)
    if found:
        raise SettingsError(table_name(row), found)
    return row


class Row:
    """Base of every settings dataclass: a row is checked against its fields' ranges when built
    (so also by ``dataclasses.replace``)."""

    def __post_init__(self) -> None:
        check(self)


# ----------------------------------------------------------------------------- the tables


def module_name(stem: str) -> str:
    """``"04_adversarial_training"`` -> ``"adversarial_training"``; ``"robust_cifar"`` stays."""
    return re.sub(r"^\d\d_", "", stem)


def table(stem: str) -> dict[str, Any] | None:
    """The settings table of a chapter or entry point (profile -> row), or ``None`` if it has none.

    Its rows were checked when the module built them; a table without a key for every profile is refused."""
    name = module_name(stem)
    try:
        module = importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{name}":
            return None
        raise
    rows = getattr(module, "TABLE", None)
    if rows is None:
        raise ValueError(f"{__name__}.{name} is not a settings table (it defines no TABLE)")
    missing = [p for p in PROFILES if p not in rows]
    if missing:
        raise ValueError(
            f"settings table {name!r} has no row for profile(s) {missing}; every table needs "
            f"{list(PROFILES)} (None where it does not run in a profile)"
        )
    return rows


def tables() -> dict[str, dict[str, Any]]:
    """Every settings table of the package, by module name (chapters, entry points, the shared robust model)."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__))
    found = {name: table(name) for name in names if hasattr(importlib.import_module(f"{__name__}.{name}"), "TABLE")}
    return {name: rows for name, rows in found.items() if rows is not None}


def profiles(stem: str) -> tuple[str, ...]:
    """The profiles a table has a row for (an entry point may skip one: its row is ``None``)."""
    rows = table(stem)
    if rows is None:
        raise ValueError(f"{stem!r} has no settings table (expected module {__name__}.{module_name(stem)})")
    return tuple(p for p in PROFILES if rows[p] is not None)


def row(stem: str, profile: str, **overrides: Any):
    """The row of ``profile`` with ``overrides`` applied, checked against every field's range.

    Raises ``ValueError`` for an unknown profile or setting, :class:`SettingsError` (a
    ``ValueError``) for a value out of range, naming the table, profile, field, value and range."""
    rows = table(stem)
    if rows is None:
        raise ValueError(f"chapter {stem!r} has no settings table (expected module {__name__}.{module_name(stem)})")
    name = module_name(stem)
    if rows.get(profile) is None:
        raise ValueError(f"unknown profile {profile!r} for {name}; allowed: {', '.join(profiles(stem))}")
    base = rows[profile]
    fields = {f.name for f in dataclasses.fields(base)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(f"unknown setting(s) {unknown} for {stem}; allowed: {sorted(fields)}")
    try:
        return dataclasses.replace(base, **overrides)
    except SettingsError as exc:
        raise SettingsError(f"{exc.table} [{profile}]", exc.problems) from None


def values(stem: str, profile: str) -> dict[str, Any]:
    """The settings of chapter ``stem`` in ``profile`` as a plain dict (empty if it has no table)."""
    check_profile(profile)
    rows = table(stem)
    return {} if rows is None else dataclasses.asdict(row(stem, profile))
