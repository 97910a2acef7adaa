"""The per-chapter settings tables and their parameters cells agree."""

from __future__ import annotations

import dataclasses

import pytest

from reliable_ml import settings
from reliable_ml.course.runner import discover, parameters_of, read_notebook

NOTEBOOKS = discover()


@pytest.mark.parametrize("src", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_parameters_cell_is_the_cpu_row(src):
    rows = settings.table(src.stem)
    if rows is None:
        pytest.skip(f"{src.stem} has no settings table")
    cell = parameters_of(read_notebook(src))
    cpu = dataclasses.asdict(rows["cpu"])
    assert set(cpu) <= set(cell), f"fields missing from the parameters cell: {set(cpu) - set(cell)}"
    differ = {k: (cell[k], v) for k, v in cpu.items() if cell[k] != v}
    assert not differ, f"parameters cell differs from the cpu row (cell, table): {differ}"
    assert cell.get("profile") == "cpu"
    assert all(v is not None for v in cell.values()), "parameters cells hold real defaults, not None"


def test_unknown_profile_and_override_are_named():
    with pytest.raises(ValueError, match="unknown profile 'tpu'"):
        settings.values("04_adversarial_training", "tpu")
    if settings.table("04_adversarial_training") is not None:
        with pytest.raises(ValueError, match="no_such_setting"):
            settings.row("04_adversarial_training", "cpu", no_such_setting=1)


def test_chapter_without_table_has_no_values():
    assert settings.values("99_no_such_chapter", "smoke") == {}
    with pytest.raises(ValueError, match="has no settings table"):
        settings.row("99_no_such_chapter", "cpu")
