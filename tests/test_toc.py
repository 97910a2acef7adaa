"""The table of contents: the reading order is the chapter numbering."""

from __future__ import annotations

import re

import yaml

from reliable_ml.course.results import PROJECT_ROOT

TOC = PROJECT_ROOT / "_toc.yml"


def toc_files(toc: dict) -> list[str]:
    return [ch["file"] for part in toc["parts"] for ch in part["chapters"]]


def chapter_numbers(files: list[str]) -> list[int]:
    return [int(m.group(1)) for f in files if (m := re.match(r"notebooks/(\d\d)_", f))]


def check_order(toc: dict) -> None:
    """Raise ``AssertionError`` naming the chapters when the TOC is not in number order."""
    numbers = chapter_numbers(toc_files(toc))
    out_of_order = [(a, b) for a, b in zip(numbers, numbers[1:]) if b <= a]
    assert not out_of_order, (
        f"_toc.yml lists chapters out of number order: {out_of_order} "
        f"(order read: {numbers}); reorder its parts, the numbers are the reading order"
    )


def test_chapters_appear_in_number_order():
    check_order(yaml.safe_load(TOC.read_text()))


def test_a_swapped_part_is_caught():
    toc = yaml.safe_load(TOC.read_text())
    toc["parts"][1], toc["parts"][2] = toc["parts"][2], toc["parts"][1]
    try:
        check_order(toc)
    except AssertionError as exc:
        assert "out of number order" in str(exc)
    else:
        raise AssertionError("a TOC with two parts swapped passed the order check")


def test_every_toc_entry_exists_and_reference_comes_last():
    toc = yaml.safe_load(TOC.read_text())
    generated = {"book/scorecard"}  # written into the staged site by reliable_ml.course.scorecard
    for f in set(toc_files(toc)) - generated:
        assert any((PROJECT_ROOT / f).with_suffix(s).exists() for s in (".py", ".md", ".ipynb")), (
            f"_toc.yml names {f}, which does not exist"
        )
    assert toc["parts"][-1]["caption"] == "Reference"
    assert not chapter_numbers(toc_files({"parts": toc["parts"][-1:]})), "no chapter after the Reference part"
