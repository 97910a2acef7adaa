"""The read-only checks of the lint lane (`make lint`, .pre-commit-config.yaml, CI's first step):
the notebook pairs, the readable copies, and the lane's wiring."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest
import yaml

from reliable_ml.course import pairing
from reliable_ml.course.results import ENV_RESULTS, PROJECT_ROOT

CHAPTER = (
    '# %% [markdown]\n# # 7. Tiny\n#\n# Text.\n\n# %% tags=["parameters"]\nprofile = "cpu"\n\n# %%\nprint(profile)\n'
)


def pair(folder: Path, stem: str = "07_tiny") -> tuple[Path, Path]:
    src = folder / f"{stem}.py"
    src.write_text(CHAPTER)
    ipynb = src.with_suffix(".ipynb")
    jupytext.write(jupytext.read(src), ipynb)
    return src, ipynb


# ----------------------------------------------------------------------------- notebook pairs


def test_a_fresh_pair_is_in_sync(tmp_path):
    pair(tmp_path)
    assert pairing.out_of_sync(tmp_path) == []
    assert pairing.main([str(tmp_path)]) == 0


@pytest.mark.parametrize(
    "edit,where",
    [
        (lambda nb: setattr(nb.cells[2], "source", "print(1)"), "cell 3 (source)"),
        (lambda nb: nb.cells[1].metadata.update(tags=[]), "cell 2 (tags)"),
        (lambda nb: nb.cells.pop(), "3 cells in the .py, 2 in the .ipynb"),
    ],
)
def test_an_edited_ipynb_is_named_with_the_cell_that_differs(tmp_path, edit, where):
    _, ipynb = pair(tmp_path)
    nb = jupytext.read(ipynb)
    edit(nb)
    jupytext.write(nb, ipynb)
    assert pairing.out_of_sync(tmp_path) == [f"07_tiny.ipynb (differs from 07_tiny.py at {where})"]


def test_blank_lines_around_a_cell_do_not_count(tmp_path):
    """Jupytext does not round-trip leading and trailing blank lines of a cell."""
    _, ipynb = pair(tmp_path)
    nb = jupytext.read(ipynb)
    nb.cells[2].source = "\n" + nb.cells[2].source + "\n\n"
    jupytext.write(nb, ipynb)
    assert pairing.out_of_sync(tmp_path) == []


def test_a_missing_or_orphan_ipynb_fails_the_check(tmp_path, capsys):
    _, ipynb = pair(tmp_path)
    ipynb.unlink()
    (tmp_path / "08_gone.ipynb").write_text(jupytext.writes(jupytext.reads(CHAPTER, fmt="py:percent"), fmt="ipynb"))
    assert pairing.out_of_sync(tmp_path) == ["07_tiny.ipynb (missing)", "08_gone.ipynb (no 08_gone.py)"]
    assert pairing.main([str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"out of sync: {tmp_path.name}/07_tiny.ipynb (missing)" in err and "make sync" in err


def test_a_folder_that_does_not_exist_is_a_usage_error(tmp_path, capsys):
    assert pairing.main([str(tmp_path / "nope")]) == 2
    assert "no notebooks folder" in capsys.readouterr().err
    assert pairing.main(["a", "b"]) == 2


# ----------------------------------------------------------------------------- readable copies


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_readable_check_names_the_stale_copies_and_rewrites_nothing(tmp_path):
    """Against an empty results folder every committed copy is stale (its numbers and its
    provenance cell come from results/cpu): `readable --check` exits 1 naming each and writes
    nothing (a regression that wrote would change lab/, which this test then restores)."""
    lab = PROJECT_ROOT / "lab"
    before = {p: p.read_bytes() for p in lab.glob("*.ipynb")}
    env = {**os.environ, ENV_RESULTS: str(tmp_path), "PYTHONPATH": str(PROJECT_ROOT / "src")}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "reliable_ml", "readable", "--check"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        after = {p: p.read_bytes() for p in lab.glob("*.ipynb")}
    finally:
        for path, data in before.items():
            if not path.exists() or path.read_bytes() != data:
                path.write_bytes(data)
    assert after == before, "readable --check must not rewrite lab/"
    assert proc.returncode == 1
    named = re.findall(r"^out of date: lab/(\S+) \(differs\)$", proc.stderr, flags=re.M)
    assert sorted(named) == sorted(p.name for p in before), proc.stderr
    assert "python -m reliable_ml readable" in proc.stderr


# ----------------------------------------------------------------------------- the lane's wiring


def make_recipe(target: str) -> list[str]:
    """The command lines of a Makefile target."""
    text = (PROJECT_ROOT / "Makefile").read_text()
    m = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, flags=re.M)
    assert m, f"the Makefile has no {target} target"
    return [line.strip() for line in m.group(1).splitlines()]


def test_make_lint_runs_every_check_read_only():
    recipe = "\n".join(make_recipe("lint"))
    for check in (
        "ruff check",
        "ruff format --check",
        "mypy src/reliable_ml/course/",
        "-m reliable_ml.course.pairing",
        "-m reliable_ml readable --check",
    ):
        assert check in recipe, f"make lint lacks {check}"
    assert "--fix" not in recipe and not re.search(r"ruff format(?! --check)", recipe), "lint rewrites nothing"


def test_pre_commit_hooks_are_local_and_run_the_lint_checks():
    config = yaml.safe_load((PROJECT_ROOT / ".pre-commit-config.yaml").read_text())
    assert [r["repo"] for r in config["repos"]] == ["local"], "no hook repository is fetched"
    hooks = {h["id"]: h for h in config["repos"][0]["hooks"]}
    assert {h["language"] for h in hooks.values()} == {"system"}
    assert set(hooks) >= {"ruff", "ruff-format", "notebook-pairs", "readable-copies"}
    recipe = "\n".join(make_recipe("lint"))
    for hook in hooks.values():
        command = hook["entry"].removeprefix(".venv/bin/").replace("python -m", "-m")
        assert command in recipe, f"hook {hook['id']} runs {hook['entry']!r}, which make lint does not"


def test_the_lint_tools_are_pinned():
    pins = [
        line
        for line in (PROJECT_ROOT / "requirements-lint.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert {p.split("==")[0] for p in pins} == {"ruff", "mypy", "pre-commit"}
    assert all(re.fullmatch(r"[\w-]+==\d+(\.\d+)+", p) for p in pins), pins
