"""One slope per shift: the ImageNetV2 MatchedFrequency line that chapters 01, 02, 03 and 08 record
(``line.imagenetv2_matched_frequency``: slope, interval, model set) and quote in their prose must
be the same entry in every cpu results file, and so must the CIFAR-10.1 line of 01 and 08."""

import json
from pathlib import Path

import pytest

RESULTS = Path(__file__).resolve().parents[1] / "results" / "cpu"
CHAPTERS = ("01_accuracy_decomposition", "02_rebuilding_a_test_set", "03_humans_vs_models", "08_effective_robustness")
#: per chapter, the glue names under which its prose quotes the line's slope and interval
GLUED = {
    "01_accuracy_decomposition": ("in_mf_hi_slope", "in_mf_hi_slope_lo", "in_mf_hi_slope_hi"),
    "02_rebuilding_a_test_set": ("line_v2_slope", "line_v2_lo", "line_v2_hi"),
    "03_humans_vs_models": ("line_v2_slope", "line_v2_lo", "line_v2_hi"),
    "08_effective_robustness": ("line_v2_slope", "line_v2_lo", "line_v2_hi"),
}


def _results(chapter: str) -> dict:
    path = RESULTS / f"{chapter}.json"
    assert path.exists(), f"{path} is missing: run the chapter in the cpu profile"
    return json.loads(path.read_text())


def _line(chapter: str, shift: str) -> dict:
    entry = (_results(chapter).get("line") or {}).get(shift)
    assert entry is not None, f"{chapter} records no line.{shift}: re-run it in the cpu profile"
    return entry


def test_every_chapter_records_the_same_imagenetv2_line():
    entries = {c: _line(c, "imagenetv2_matched_frequency") for c in CHAPTERS}
    first = entries[CHAPTERS[0]]
    assert {"slope", "ci", "model_set"} <= set(first)
    assert first["resampled"] == "models and images"
    for chapter, entry in entries.items():
        for key in ("slope", "ci", "model_set", "models", "min_accuracy", "n_boot"):
            assert entry[key] == first[key], f"{chapter}: line.imagenetv2_matched_frequency.{key} differs from 01's"


def test_every_chapter_quotes_the_recorded_slope():
    for chapter, names in GLUED.items():
        rec, glued = _line(chapter, "imagenetv2_matched_frequency"), _results(chapter)["glued"]
        quoted = [glued[n] for n in names]
        assert quoted == pytest.approx([rec["slope"], *rec["ci"]], abs=6e-5), f"{chapter} quotes {quoted}"


def test_cifar10_1_line_agrees_between_01_and_08():
    ch1, ch8 = _line(CHAPTERS[0], "cifar10_1"), _line(CHAPTERS[3], "cifar10_1")
    assert (ch1["slope"], ch1["ci"], ch1["model_set"]) == (ch8["slope"], ch8["ci"], ch8["model_set"])
    summary = _results(CHAPTERS[0])["cifar10_1"]["summary"]
    assert summary["probit_slope_ci_joint"] == pytest.approx(ch1["ci"], abs=1e-4)
    assert ch1["resampled"] == "models and images"


#: the testbed's models-only slopes (no per-image predictions): (chapter, results path) per quantity
TESTBED_SLOPES = {
    "every standard model": [
        ("02_rebuilding_a_test_set", ("imagenetv2_testbed_probit_slope",)),
        ("03_humans_vs_models", ("testbed_probit_slope",)),
        ("08_effective_robustness", ("imagenetv2_probit_slope",)),
    ],
    "standard models at the declared floor": [
        ("02_rebuilding_a_test_set", ("imagenetv2_line", "slope_min_accuracy_60")),
        ("03_humans_vs_models", ("testbed_probit_slope", "min_accuracy_60")),
        ("08_effective_robustness", ("imagenetv2_probit_slope", "high_accuracy_fit")),
    ],
}


def _entry(chapter: str, keys: tuple) -> dict:
    entry = _results(chapter)
    for k in keys:
        entry = (entry or {}).get(k)
    assert entry is not None, f"{chapter} records no {'.'.join(keys)}: re-run it in the cpu profile"
    return entry


@pytest.mark.parametrize("quantity", sorted(TESTBED_SLOPES))
def test_every_chapter_quotes_the_same_testbed_slope(quantity):
    entries = {c: _entry(c, keys) for c, keys in TESTBED_SLOPES[quantity]}
    first_chapter, first = next(iter(entries.items()))
    for chapter, entry in entries.items():
        got = (entry["slope"], entry["ci"], entry["models"])
        assert got == (first["slope"], first["ci"], first["models"]), f"{chapter} differs from {first_chapter}"


def test_models_only_intervals_carry_no_verdict():
    """A glued ``*_slope_vs_1`` or ``*_slope_words`` of a testbed (models-only) slope never reads as a verdict."""
    for chapter, prefixes in {"02_rebuilding_a_test_set": ("v2", "v2_nockpt", "v2_hi"),
                              "03_humans_vs_models": ("tb", "tb_nockpt", "tb_hi"),
                              "08_effective_robustness": ("v2", "v2_hi")}.items():  # fmt: skip
        glued = _results(chapter)["glued"]
        for p in prefixes:
            assert glued[f"{p}_slope_vs_1"] == glued[f"{p}_slope_words"] == "not judged (models only)", chapter
    fig8 = _results("08_effective_robustness")["imagenetv2_probit_slope"]
    assert fig8["vs_1"] == fig8["high_accuracy_fit"]["vs_1"] == "not judged (models only)"
    assert "verdict_vs_1" not in fig8


def test_chapter_8_fits_at_the_declared_floor():
    from reliable_ml.shift import line

    fig8 = _results("08_effective_robustness")
    assert fig8["fit_min_accuracy"] == line.MIN_ACCURACY
    assert fig8["imagenetv2_probit_slope"]["high_accuracy_fit"]["min_accuracy"] == line.MIN_ACCURACY
