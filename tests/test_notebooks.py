"""Every chapter notebook: paired, output-free when committed, listed in the book, runs in smoke."""
from __future__ import annotations

import json
import os
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

from reliable_ml import runner
from reliable_ml.results import PROJECT_ROOT

SOURCES = runner.discover()
STEMS = [p.stem for p in SOURCES]
MAX_OUTPUT_BYTES = 1_000_000


def cells_of(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


@pytest.mark.parametrize("src", SOURCES, ids=STEMS)
def test_pair_is_in_sync(src):
    ipynb = src.with_suffix(".ipynb")
    assert ipynb.exists(), f"{src.name} has no paired {ipynb.name}: run `make sync`"
    assert cells_of(jupytext.read(src)) == cells_of(jupytext.read(ipynb)), \
        f"{src.name} and {ipynb.name} differ: run `make sync`"


@pytest.mark.parametrize("src", SOURCES, ids=STEMS)
def test_committed_ipynb_has_no_outputs(src):
    nb = nbformat.read(src.with_suffix(".ipynb"), as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{src.with_suffix('.ipynb').name} carries outputs in cells {dirty}"


@pytest.mark.parametrize("src", SOURCES, ids=STEMS)
def test_parameters_cell_sets_profile(src):
    params = runner.parameters_of(runner.read_notebook(src))
    assert params.get("profile") == "cpu", "the parameters cell must default to profile = 'cpu'"


def test_every_notebook_is_in_the_toc():
    toc = yaml.safe_load((PROJECT_ROOT / "_toc.yml").read_text())
    files = {ch["file"] for part in toc["parts"] for ch in part["chapters"]}
    missing = [s for s in STEMS if f"notebooks/{s}" not in files]
    assert not missing, f"notebooks missing from _toc.yml: {missing}"


# ----------------------------------------------------------------------------- smoke execution
# (the session fixtures smoke_runs and smoke_book live in conftest.py)


@pytest.mark.slow
@pytest.mark.parametrize("stem", STEMS)
def test_notebook_runs_in_smoke(smoke_runs, stem):
    tmp, outcomes = smoke_runs
    outcome = outcomes[stem]
    assert outcome.error is None, str(outcome.error)
    print(f"{stem}: {outcome.seconds:.1f} s in smoke")
    record = json.loads((tmp / "results" / "smoke" / f"{stem}.json").read_text())
    assert record["profile"] == "smoke" and record["data_source"]


@pytest.mark.slow
@pytest.mark.parametrize("stem", STEMS)
def test_executed_output_hygiene(smoke_runs, stem):
    tmp, outcomes = smoke_runs
    nb = nbformat.read(outcomes[stem].output, as_version=4)
    machine_paths = {str(PROJECT_ROOT), str(Path.home()), str(tmp)}
    if os.environ.get("RELIABLE_ML_DATA"):
        machine_paths.add(str(Path(os.environ["RELIABLE_ML_DATA"]).resolve()))
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            text = json.dumps(out)
            assert len(text) < MAX_OUTPUT_BYTES, f"cell {i} output is {len(text):,} bytes"
            leaked = [p for p in machine_paths if p and p != "/" and p in text]
            assert not leaked, f"cell {i} output shows machine paths {leaked}"
            assert out.get("output_type") != "error"
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                noisy = [line for line in out.get("text", "").splitlines()
                         if "Warning" in line and "FALLBACK" not in line]
                assert not noisy, f"cell {i} prints warnings: {noisy[:3]}"


@pytest.mark.slow
def test_book_builds_from_smoke_notebooks(smoke_book):
    html = smoke_book
    assert (html / "index.html").exists()
    for stem in STEMS:
        assert (html / "notebooks" / f"{stem}.html").exists()
    for page in ("references", "scorecard"):
        assert (html / "book" / f"{page}.html").exists()
