"""Every chapter notebook: paired, output-free when committed, listed in the book, installs the
course package on Colab, runs in smoke with the data and without it (empty data root, no network),
and leaks no machine path into its outputs. Notebooks are found by discovery (``NN_*.py``)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import stat
import subprocess
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

from reliable_ml.course import book, runner
from reliable_ml.course.results import PROJECT_ROOT

SOURCES = runner.discover()
STEMS = [p.stem for p in SOURCES]
MAX_OUTPUT_BYTES = 1_000_000


def cells_of(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


@pytest.mark.parametrize("src", SOURCES, ids=STEMS)
def test_pair_is_in_sync(src):
    ipynb = src.with_suffix(".ipynb")
    assert ipynb.exists(), f"{src.name} has no paired {ipynb.name}: run `make sync`"
    assert cells_of(jupytext.read(src)) == cells_of(jupytext.read(ipynb)), (
        f"{src.name} and {ipynb.name} differ: run `make sync`"
    )


@pytest.mark.parametrize("src", SOURCES, ids=STEMS)
def test_committed_ipynb_has_no_outputs(src):
    nb = nbformat.read(src.with_suffix(".ipynb"), as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{src.with_suffix('.ipynb').name} carries outputs in cells {dirty}"


@pytest.mark.parametrize("src", SOURCES, ids=STEMS)
def test_parameters_cell_sets_profile(src):
    params = runner.parameters_of(runner.read_notebook(src))
    assert params.get("profile") == "cpu", "the parameters cell must default to profile = 'cpu'"


# ----------------------------------------------------------------------------- Colab and Binder


def install_cell(src: Path):
    return runner.read_notebook(src).cells[0]


def nodeps_pins() -> list[str]:
    lines = (PROJECT_ROOT / "requirements-nodeps.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("src", SOURCES, ids=STEMS)
def test_first_cell_installs_the_package_when_missing(src):
    cell = install_cell(src)
    assert cell.cell_type == "code", f"{src.name}: the first cell must be the Colab install cell"
    tags = cell.metadata.get("tags", [])
    assert {"remove-cell", "hide-input"} & set(tags), f"{src.name}: tag the install cell remove-cell"
    text = cell.source
    assert 'importlib.util.find_spec("reliable_ml") is None' in text, "the install must be guarded"
    assert re.search(r'^REPO_URL = "[^"]*"', text, flags=re.M), "book.stage_notebook fills REPO_URL"
    assert '"reliable-ml[book] @ git+{_url}"' in text
    for pin in nodeps_pins():
        assert f'"--no-deps", "{pin}"' in text, f"{src.name}: the install cell must install {pin} with --no-deps"


@pytest.mark.parametrize("src", SOURCES, ids=STEMS)
def test_first_cell_is_the_current_install_cell(src, tmp_path):
    copy = tmp_path / src.name
    copy.write_text(src.read_text())
    assert not book.add_install_cell(copy), f"{src.name}: run `make install-cells` (and commit the .ipynb)"


def test_add_install_cell_inserts_once(tmp_path):
    path = tmp_path / "99_new.py"
    header = "# ---\n# jupyter:\n#   jupytext:\n#     formats: ipynb,py:percent\n# ---\n"
    path.write_text(header + "\n# %% [markdown]\n# # 99. New\n\n# %%\nx = 1\n")
    assert book.add_install_cell(path)
    cells = jupytext.read(path).cells
    assert cells[0].source.strip() == book.INSTALL_CELL.split("\n", 1)[1].strip()
    assert cells[0].metadata["tags"] == ["remove-cell"] and cells[1].source == "# 99. New"
    assert not book.add_install_cell(path), "a second run changes nothing"
    assert book.add_install_cell(path, "https://github.com/o/n")
    assert 'REPO_URL = "https://github.com/o/n"' in path.read_text()
    assert not book.add_install_cell(path), "a refresh keeps the repository already written"
    with pytest.raises(ValueError, match="no Jupytext header"):
        (tmp_path / "bad.py").write_text("x = 1\n")
        book.add_install_cell(tmp_path / "bad.py")


def run_install_cell(source: str, monkeypatch, present: bool, url: str = ""):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append(list(args)))
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: real(name, *a) if present or name != "reliable_ml" else None
    )
    monkeypatch.setenv("RELIABLE_ML_REPO_URL", url)
    exec(compile(source, "install-cell", "exec"), {})
    return calls


def test_install_cell_is_silent_when_installed_and_installs_otherwise(monkeypatch, capsys):
    source = install_cell(SOURCES[0]).source
    assert run_install_cell(source, monkeypatch, present=True) == []
    assert capsys.readouterr().out == ""
    calls = run_install_cell(source, monkeypatch, present=False, url="https://github.com/o/n")
    assert [c[3:] for c in calls] == [
        ["install", "-q", "reliable-ml[book] @ git+https://github.com/o/n"],
        ["install", "-q", "--no-deps", *nodeps_pins()],
    ]
    with pytest.raises(RuntimeError, match="no repository URL"):
        run_install_cell(source, monkeypatch, present=False, url="")


def test_binder_installs_the_package_and_the_nodeps_requirement():
    binder = PROJECT_ROOT / "binder"
    reqs = (binder / "requirements.txt").read_text().split()
    assert "-r" in reqs and "../requirements.txt" in reqs
    assert "jupyterlab" in (PROJECT_ROOT / "requirements.txt").read_text()
    post = binder / "postBuild"
    assert post.stat().st_mode & stat.S_IXUSR, "binder/postBuild must be executable"
    script = post.read_text()
    assert "--no-deps -r requirements-nodeps.txt" in script
    assert re.search(r"pip install .*--no-deps -e \.$", script, flags=re.M)
    assert subprocess.run(["bash", "-n", str(post)]).returncode == 0


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
def test_notebook_runs_in_smoke_without_data_or_network(smoke_runs_nodata, stem):
    """A fresh clone: empty data root and cache, downloads refused. Every notebook must run on
    the embedded ``digits`` fallback or show a note for the section it cannot run."""
    tmp, outcomes = smoke_runs_nodata
    outcome = outcomes[stem]
    assert outcome.error is None, f"without data: {outcome.error}"
    print(f"{stem}: {outcome.seconds:.1f} s in smoke without data")
    record = json.loads((tmp / "results" / "smoke" / f"{stem}.json").read_text())
    assert record["profile"] == "smoke" and record["data_source"]


@pytest.fixture(params=["data", "nodata"])
def any_smoke_run(request):
    """Both smoke runs: with the data of this machine and without any."""
    return request.getfixturevalue("smoke_runs" if request.param == "data" else "smoke_runs_nodata")


@pytest.mark.slow
@pytest.mark.parametrize("stem", STEMS)
def test_executed_output_hygiene(any_smoke_run, stem):
    tmp, outcomes = any_smoke_run
    nb = nbformat.read(outcomes[stem].output, as_version=4)
    machine_paths = {str(PROJECT_ROOT), str(Path.home()), str(tmp), str(tmp.resolve())}
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
                noisy = [
                    line for line in out.get("text", "").splitlines() if "Warning" in line and "FALLBACK" not in line
                ]
                assert not noisy, f"cell {i} prints warnings: {noisy[:3]}"


def check_built_book(html: Path):
    assert (html / "index.html").exists()
    for stem in STEMS:
        assert (html / "notebooks" / f"{stem}.html").exists()
    for page in ("references", "scorecard"):
        assert (html / "book" / f"{page}.html").exists()


@pytest.mark.slow
def test_book_builds_from_smoke_notebooks(smoke_book):
    check_built_book(smoke_book)


@pytest.mark.slow
def test_book_builds_without_data(smoke_book_nodata):
    check_built_book(smoke_book_nodata)


@pytest.mark.slow
def test_book_has_no_buttons_without_a_repository_url(smoke_book):
    """Built with no REPO_URL: no launch, repository or Colab/Binder links, and MathJax local."""
    for page in sorted((smoke_book / "notebooks").glob("*.html")):
        text = page.read_text()
        for needle in (
            "colab.research.google.com",
            "mybinder.org",
            "dropdown-launch-buttons",
            "btn-source-repository-button",
            "executablebooks/jupyter-book",
        ):
            assert needle not in text, f"{page.name} links {needle!r} though no repository URL was set"
        for src in re.findall(r'<script[^>]+src="([^"]+)"', text):
            assert "://" not in src, f"{page.name} loads a script from another host: {src}"
        assert "injected-parameters" not in text and "REPO_URL" not in text
