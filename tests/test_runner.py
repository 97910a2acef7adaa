"""The papermill runner: parameter discovery and validation, failures, command line."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from reliable_ml import __main__ as cli
from reliable_ml import runner

TINY = '''# %% tags=["parameters"]
profile = "cpu"
n = 3
scale = 0.5
flag = False
name = "x"
sizes = [1, 2]

# %%
print("n*scale =", n * scale, "flag =", flag, "sizes =", sizes)

# %%
1 / (n - 4)
'''


def notebook_with(source: str):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), cell, nbformat.v4.new_code_cell("print(1)")]
    return nb


def test_parameters_of_reads_literal_defaults():
    nb = notebook_with('profile = "cpu"  # comment\nn: int = 5\nlr = 1e-3\nnames = ("a", "b")')
    assert runner.parameters_of(nb) == {"profile": "cpu", "n": 5, "lr": 1e-3, "names": ("a", "b")}


def test_parameters_cell_is_required_and_literal():
    nb = notebook_with("x = 1")
    nb.cells[1].metadata["tags"] = []
    with pytest.raises(ValueError, match="tagged 'parameters'"):
        runner.parameters_of(nb)
    with pytest.raises(ValueError, match="literal default"):
        runner.parameters_of(notebook_with("x = some_function()"))


@pytest.mark.parametrize("raw,default,expected", [
    ("5", 3, 5), ("2.5", 1.0, 2.5), ("4", 1.0, 4.0), ("yes", False, True), ("0", True, False),
    ("abc", "x", "abc"), ("[1, 2, 3]", [1], [1, 2, 3]), ("smoke", "cpu", "smoke"),
])
def test_coerce_to_default_type(raw, default, expected):
    name = "profile" if expected == "smoke" else "k"
    assert runner.coerce(name, raw, default) == expected


@pytest.mark.parametrize("name,raw,default,match", [
    ("n", "three", 3, "integer"), ("lr", "fast", 0.1, "number"), ("flag", "maybe", False, "true/false"),
    ("profile", "huge", "cpu", "smoke, cpu, gpu"), ("sizes", "[1,", [1], "literal"),
])
def test_coerce_rejects_bad_values(name, raw, default, match):
    with pytest.raises(ValueError, match=match):
        runner.coerce(name, raw, default)


def test_unknown_parameter_lists_the_known_ones():
    with pytest.raises(ValueError) as err:
        runner.resolve_parameters("nb", {"profile": "cpu", "n": 1}, {"m": "2"})
    assert "'m'" in str(err.value) and "n, profile" in str(err.value)


def test_discover_by_stem_prefix_and_path():
    every = runner.discover()
    assert every and all(p.suffix == ".py" and p.stem[:2].isdigit() for p in every)
    assert runner.discover(["00"])[0].stem == "00_data_tour"
    assert runner.discover([str(runner.NOTEBOOK_DIR / "00_data_tour.ipynb")])[0].suffix == ".py"
    with pytest.raises(ValueError, match="available: 00_data_tour"):
        runner.discover(["99_nothing"])


def test_cli_rejects_bad_parameters_before_running(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["run", "00", "--profile", "smoke", "-p", "no_such_knob", "1", "--out", str(out)]) == 2
    assert "no_such_knob" in capsys.readouterr().err
    assert cli.main(["run", "00", "--profile", "smoke", "-p", "samples_per_class", "many", "--out", str(out)]) == 2
    assert "integer" in capsys.readouterr().err
    assert not out.exists(), "no notebook may start when a parameter is bad"


@pytest.mark.slow
def test_failing_cell_is_reported_and_overrides_applied(tmp_path, tmp_results, capsys):
    src = tmp_path / "91_tiny.py"
    src.write_text(TINY)
    code = cli.main(["run", str(src), "--profile", "smoke", "-p", "n", "4", "-p", "flag", "true",
                     "-p", "sizes", "[7]", "--out", str(tmp_path / "out"), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 1
    assert "91_tiny failed in cell 3 (counting from 1)" in captured.err and "ZeroDivisionError" in captured.err
    executed = nbformat.read(tmp_path / "out" / "91_tiny.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "n*scale = 2.0 flag = True sizes = [7]" in printed
    meta = json.dumps(executed.metadata)
    assert str(tmp_path) not in meta, "executed notebooks carry no absolute paths"
