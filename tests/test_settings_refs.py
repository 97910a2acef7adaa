"""Every chapter's settings rows (all profiles) refer to things that exist.

A row names zoo members, named zoos, attacks and datasets, and asks for subsets of a dataset.
A slip there (a zoo member renamed in one place, an attack spelled differently, an MNIST-sized
subset on a chapter that cannot shrink it to the digits fallback) used to surface only at the end
of a cpu build. These checks read the tables only: they run in seconds.
"""

from __future__ import annotations

import dataclasses

import pytest

from reliable_ml import data, settings
from reliable_ml.course import runner
from reliable_ml.models import zoo
from reliable_ml.robust import image_task
from reliable_ml.robust.train import AUTOATTACK_COMPONENTS
from reliable_ml.settings import robust_model as robust_model_settings

STEMS = [p.stem for p in runner.discover()]
TABLES = {s: settings.table(s) for s in STEMS if settings.table(s) is not None}
TABLES["robust_model"] = robust_model_settings.TABLE  # the shared robust model of chapters 04, 07, 10, 11

# The loader each chapter's ``dataset`` field goes to, and the names it accepts.
LOADED_BY_IMAGE_TASK = {"05_robustness_needs_data", "06_robust_self_training"}  # image_task.load_task
IMAGE_SETS = tuple(n for n in data.IMAGE_NAMES if ":" not in n)  # data.load_images (04, 07, 10)

# scikit-learn's digits, what every MNIST chapter falls back to without data (data.images._load_digits).
DIGITS = {"train": 1347, "test": 450}


@dataclasses.dataclass(frozen=True)
class SizeRule:
    """Settings fields that ask for images of one split of the chapter's dataset.

    ``combine``: ``"sum"`` when the fields draw disjoint subsets of the split (their sum must
    fit), ``"each"`` when each is drawn on its own. ``shrinks``: where the chapter itself shrinks
    the values to what the data holds (then only rows that *ask* for digits must fit; a row
    asking for MNIST may fall back); ``None`` when the chapter passes the values on as they are
    (then every row must fit the digits fallback, or the no-data build fails).
    """

    stem: str
    fields: tuple[str, ...]
    split: str
    combine: str = "each"
    shrinks: str | None = None


SIZE_RULES = [
    SizeRule(
        "04_adversarial_training",
        ("n_curve", "co_check_size", "suite_n"),
        "test",
        shrinks="n_eval = min(1000, len(test_set.y)); n_suite = min(suite_n, len(test_set.y)); the others slice "
        "the test images",
    ),
    SizeRule("robust_model", ("n_eval",), "test", shrinks="robust_model: n = min(row.n_eval, len(test.y))"),
    SizeRule("robust_model", ("train_size",), "train", shrinks="x_tr[:row.train_size]"),
    SizeRule(
        "05_robustness_needs_data",
        ("train_sizes",),
        "train",
        shrinks="sizes = [n for n in train_sizes if n < len(task.train.y)], with a note",
    ),
    SizeRule("05_robustness_needs_data", ("n_eval",), "test", shrinks="image_task.eval_subset slices"),
    SizeRule(
        "06_robust_self_training",
        ("n_labeled", "n_unlabeled"),
        "train",
        combine="sum",
        shrinks="image_task.fit_sizes, with a warning",
    ),
    SizeRule("06_robust_self_training", ("n_eval",), "test", shrinks="image_task.eval_subset slices"),
    SizeRule(
        "07_backdoors_and_spurious_correlations",
        ("n_train",),
        "train",
        shrinks="backdoor_lab.setup: min(n_train, len - 100)",
    ),
    SizeRule(
        "10_nonrobust_features",
        ("n_source", "n_relabel"),
        "train",
        combine="sum",
        shrinks="halves the training split, with a warning",
    ),
    SizeRule(
        "10_nonrobust_features", ("n_standard_train",), "train", shrinks="min(n_standard_train, len(train_set.y))"
    ),
    SizeRule("10_nonrobust_features", ("n_test",), "test", shrinks="randperm(...)[:n_test]"),
    SizeRule("10_nonrobust_features", ("n_big",), "test", shrinks="x_test[:n_big]"),
]


def rows():
    for stem, table in TABLES.items():
        for profile, row in table.items():
            yield stem, profile, dataclasses.asdict(row)


def zoo_refs(values: dict) -> list[tuple[str, str, str]]:
    """``(field, kind, name)`` for every zoo reference of a row: a field whose name mentions a zoo
    or ends in ``_members``; a string names a zoo, a list of strings names members (numbers, such
    as chapter 08's ``zoo_train_sizes``, are no names)."""
    refs = []
    for field, value in values.items():
        if "zoo" not in field and not field.endswith("_members"):
            continue
        if isinstance(value, str):
            refs.append((field, "zoo", value))
        elif isinstance(value, (list, tuple)):
            refs += [(field, "member", v) for v in value if isinstance(v, str)]
    return refs


def problems(stem: str, profile: str, values: dict) -> list[str]:
    """Everything a row names that does not exist, as readable lines (empty: all fine)."""
    out = []
    where = f"{stem} [{profile}]"
    for field, kind, name in zoo_refs(values):
        try:
            zoo.zoo_names(name) if kind == "zoo" else zoo.member(name)
        except ValueError as exc:
            out.append(f"{where} {field}: {exc}"[:300])
    if "dataset" in values:
        allowed = image_task.DATASETS if stem in LOADED_BY_IMAGE_TASK else IMAGE_SETS
        if values["dataset"] not in allowed:
            out.append(f"{where} dataset: unknown dataset {values['dataset']!r}; allowed: {', '.join(allowed)}")
    for field in ("autoattack_attacks", "attacks"):
        unknown = [a for a in values.get(field, ()) if a not in AUTOATTACK_COMPONENTS]
        if unknown:
            out.append(f"{where} {field}: unknown attack(s) {unknown}; allowed: {', '.join(AUTOATTACK_COMPONENTS)}")
    for rule in SIZE_RULES:
        if rule.stem != stem:
            continue
        asks_digits = values.get("dataset", "mnist") == "digits"
        if rule.shrinks and not asks_digits:
            continue  # the chapter shrinks a larger row to what the fallback holds
        sizes = []
        for f in rule.fields:
            v = values[f]
            sizes += list(v) if isinstance(v, (list, tuple)) else [v]
        need = sum(sizes) if rule.combine == "sum" else max(sizes)
        if need > DIGITS[rule.split]:
            out.append(
                f"{where} {'+'.join(rule.fields)} = {need:,} {rule.split} images, but the digits "
                f"{'it asks for' if asks_digits else 'fallback'} holds {DIGITS[rule.split]:,}"
            )
    return out


def test_tables_are_found():
    assert len(TABLES) >= 10, f"expected a settings table for most chapters; found {sorted(TABLES)}"


@pytest.mark.parametrize("stem,profile,values", list(rows()), ids=lambda v: v if isinstance(v, str) else "")
def test_row_refers_to_things_that_exist(stem, profile, values):
    assert not problems(stem, profile, values), "\n".join(problems(stem, profile, values))


def test_size_rules_name_real_fields():
    for rule in SIZE_RULES:
        assert rule.stem in TABLES, f"size rule for {rule.stem}, which has no settings table"
        fields = {f.name for f in dataclasses.fields(TABLES[rule.stem]["cpu"])}
        assert set(rule.fields) <= fields, f"{rule.stem} has no field(s) {set(rule.fields) - fields}"


def test_digits_fallback_sizes_are_the_loaders():
    for split, n in DIGITS.items():
        assert len(data.load_images("digits", split).y) == n


def test_every_zoo_field_is_checked():
    """At least the known zoo fields are seen (a renamed field would silently escape the check)."""
    seen = {(stem, field) for stem, _, values in rows() for field, _, _ in zoo_refs(values)}
    for ref in [
        ("01_accuracy_decomposition", "zoo_name"),
        ("02_rebuilding_a_test_set", "mnist_zoo"),
        ("02_rebuilding_a_test_set", "clarity_members"),
        ("02_rebuilding_a_test_set", "cifar_zoo"),
        ("03_humans_vs_models", "mnist_zoo"),
        ("08_effective_robustness", "zoo_members"),
    ]:
        assert ref in seen, f"zoo field {ref} is no longer checked"


# ----------------------------------------------------------------------------- the checks catch slips


def row_with(stem: str, profile: str, **changes) -> dict:
    return {**dataclasses.asdict(TABLES[stem][profile]), **changes}


def test_a_renamed_zoo_member_is_caught(monkeypatch):
    """The slip of the one-zoo merge: chapter 02's cpu row naming a member no zoo has."""
    bad = dataclasses.replace(TABLES["02_rebuilding_a_test_set"]["cpu"], cifar_zoo=["logreg-e2", "cnn-8-e3x"])
    monkeypatch.setitem(TABLES["02_rebuilding_a_test_set"], "cpu", bad)
    found = [p for s, prof, v in rows() for p in problems(s, prof, v)]
    assert len(found) == 1 and "cifar_zoo" in found[0] and "cnn-8-e3x" in found[0], found


def test_unknown_zoo_attack_and_dataset_are_caught():
    assert (
        "unknown zoo"
        in problems(
            "01_accuracy_decomposition", "cpu", row_with("01_accuracy_decomposition", "cpu", zoo_name="mnist-huge")
        )[0]
    )
    assert (
        "unknown attack"
        in problems("robust_model", "cpu", row_with("robust_model", "cpu", attacks=("apgd-ce", "apgd-dlr")))[0]
    )
    assert (
        "unknown dataset"
        in problems(
            "05_robustness_needs_data", "cpu", row_with("05_robustness_needs_data", "cpu", dataset="cifar10-jpeg")
        )[0]
    )


def test_sizes_beyond_the_digits_are_caught():
    # a row asking for digits must fit them, even where the chapter could shrink it
    found = problems("10_nonrobust_features", "smoke", row_with("10_nonrobust_features", "smoke", n_relabel=800))
    assert found and "n_source+n_relabel = 1,400 train images" in found[0], found
    # a chapter that cannot shrink: every row must fit the fallback
    rule = SizeRule("09_label_quality", ("cv_train_size",), "train")
    SIZE_RULES.append(rule)
    try:
        found = problems("09_label_quality", "cpu", row_with("09_label_quality", "cpu"))
    finally:
        SIZE_RULES.remove(rule)
    assert found and "digits fallback holds 1,347" in found[0], found
