"""Readable copies (lab/NN_name.ipynb): the chapters' prose with the run's numbers, for
JupyterLab, Binder and Colab, where MyST roles and directives are not rendered."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from reliable_ml.course import glue, readable, results, runner
from reliable_ml.course.readable import Context, render_markdown
from reliable_ml.course.sphinx_fixes import readable_url

MARKUP = re.compile(r"\{glue|\{eval|\{cite|\{numref|\{ref\}|\{doc\}|```\{|:::\{|^\([\w.:-]+\)=$", re.M)
NUMBER = re.compile(r"^[+-−]?[\d,]*\.?\d+(e[+-]?\d+)?%?$")

BIB = r"""
@article{one2020, title = {A {CIFAR} Study?}, author = {Solo, Han}, journal = {J}, year = {2020}}
@article{two2019, title = {Two}, author = {First, Ann and Second, Bob}, journal = {J}, year = {2019}}
@inproceedings{many2018, title = {Many}, author = {Alpha, A. and Beta, B. and Gamma, C.},
  booktitle = {C}, year = {2018}}
@article{accent2021, title = {Accents}, author = {M{\"u}ller, J{\"o}rg}, journal = {J}, year = {2021}}
"""


@pytest.fixture
def works(tmp_path):
    path = tmp_path / "refs.bib"
    path.write_text(BIB)
    return readable.bibliography(path)


def ctx(glued=None, works=None, profile="cpu"):
    return Context(glued=glued, profile=profile, works=works or {})


# ----------------------------------------------------------------------------- the renderer


@pytest.mark.parametrize(
    "role,value,shown",
    [
        ("{glue:text}`x:.1f`", 3.14159, "3.1"),
        ("{glue:text}`x:,.0f`", 1234567.8, "1,234,568"),
        ("{glue:text}`x:.2%`", 0.12345, "12.35%"),
        ("{glue:text}`x:+.2f`", -0.5, "-0.50"),
        ("{glue:text}`x:.0f`", 7, "7"),
        ("{glue:text}`x:g`", 0.0001, "0.0001"),
        ("{glue:text}`x:d`", 12.0, "12"),
        ("{glue:text}`x`", "MNIST", "MNIST"),
        ("{glue}`x`", 5, "5"),
    ],
)
def test_glue_roles_show_the_value_in_the_roles_format(role, value, shown):
    assert render_markdown(f"drop of {role} points", ctx({"x": value})) == f"drop of {shown} points"


def test_missing_and_unmeasured_values_read_as_placeholders():
    c = ctx({"there": None}, profile="cpu")
    out = render_markdown("a {glue:text}`absent:.1f` b {glue:text}`there:.2f` c", c)
    assert out == "a [value from the cpu run] b [not measured in the cpu run] c"
    assert render_markdown("{glue:text}`x:.1f`", ctx(None, profile="gpu")) == "[value from the gpu run]"
    assert [name for name, _ in c.pasted] == ["absent", "there"]


def test_markdown_glue_is_rendered_too(works):
    c = ctx({"verdict": {"markdown": "as {cite:t}`one2020` found, **no**."}}, works)
    assert render_markdown("{glue:md}`verdict`", c) == "as Solo (2020) found, **no**."


def test_citations_with_one_two_and_many_authors(works):
    c = ctx(works=works)
    assert render_markdown("{cite}`one2020`", c) == "(Solo, 2020)"
    assert render_markdown("{cite:t}`two2019`", c) == "First and Second (2019)"
    assert (
        render_markdown("{cite}`many2018,two2019, one2020`", c)
        == "(Alpha et al., 2018; First and Second, 2019; Solo, 2020)"
    )
    assert render_markdown("{cite:t}`accent2021`", c) == "Müller (2021)"
    assert c.cited == ["one2020", "two2019", "many2018", "accent2021"]
    assert render_markdown("{cite}`nokey`", ctx(works=works)) == "([nokey])"
    refs = readable.references(c)
    assert "*A CIFAR Study?* J." in refs and "Alpha, A., Beta, B., Gamma, C. (2018)" in refs


def test_exercise_solution_and_nested_directives():
    text = """(sec-x)=
## Section

```{exercise-start}
:label: ex-a
```
Compute it.
```{exercise-end}
```

```{solution-start} ex-a
:class: dropdown
```
% a MyST comment
````{note}
Outer note with a number {glue:text}`n:.0f`.

```{warning}
Inner warning.
```
````

```python
x = "{glue:text}`kept:.1f` in code"
```

:::{admonition} Careful
:class: tip
Colon fence.
:::
```{solution-end}
```"""
    out = render_markdown(text, ctx({"n": 41.7}))
    assert "(sec-x)=" not in out and "% a MyST comment" not in out
    assert "#### Exercise 1\nCompute it." in out and "#### Solution to exercise 1" in out
    assert "> **Note.** Outer note with a number 42." in out
    assert "> > **Warning.** Inner warning." in out or "> **Warning.** Inner warning." in out
    assert 'x = "{glue:text}`kept:.1f` in code"' in out, "code blocks are left alone"
    assert "> **Careful.** Colon fence." in out
    assert not MARKUP.search(out.replace("{glue:text}`kept:.1f`", ""))


def test_other_roles_and_math():
    c = ctx()
    assert render_markdown("{math}`x^2` and {eq}`eq-1`", c) == "$x^2$ and (eq-1)"
    assert (
        render_markdown("see {doc}`the attacks <04_adversarial_training>`", c)
        == "see [the attacks](04_adversarial_training.ipynb)"
    )
    assert render_markdown("{ref}`Section 2 <sec-two>` and {numref}`fig-drop`", c) == "Section 2 and fig drop"
    assert render_markdown("$$ a = b $$ (eq-ab)", c) == "$$ a = b $$"
    assert render_markdown("inline `{cite}` stays code", c) == "inline `{cite}` stays code"
    assert render_markdown("model `{glue:text}`best``, `x`", ctx({"best": "cnn-8"})) == "model `cnn-8`, `x`"


# ----------------------------------------------------------------------------- runs record what they glued


def test_glued_values_are_read_back_from_an_executed_notebook():
    out = lambda name, data: nbformat.v4.new_output(  # noqa: E731
        "display_data",
        data={f"{results.GLUE_PREFIX}{k}": v for k, v in data.items()},
        metadata={"scrapbook": {"name": name, "mime_prefix": results.GLUE_PREFIX}},
    )
    cell = nbformat.v4.new_code_cell("glue(...)")
    cell.outputs = [
        out("a", {"text/plain": "0.125"}),
        out("b", {"text/plain": "'MNIST'"}),
        out("c", {"text/plain": "nan"}),
        out("d", {"text/plain": "<IPython.Markdown>", "text/markdown": "**yes**"}),
        out("e", {"text/plain": "<Figure>", "image/png": "AAAA"}),
        out("f", {"text/plain": "7"}),
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    assert results.glued_in(nb) == {"a": 0.125, "b": "MNIST", "c": None, "d": {"markdown": "**yes**"}, "f": 7}


def test_results_files_record_the_glued_values(tmp_results, monkeypatch):
    pytest.importorskip("myst_nb")
    monkeypatch.setattr(glue, "GLUED_VALUES", {})
    monkeypatch.setattr(glue, "GLUED", set())
    glue.glue("drop", 0.0312)
    glue.glue("source", "MNIST")
    glue.glue("skipped", float("nan"))
    path = results.save(
        "05_x", "smoke", {"a": 1}, data_source="digits", wall_seconds=1.0, device="cpu", glued=glue.glued_values()
    )
    record = json.loads(path.read_text())
    assert record["glued"] == {"drop": 0.0312, "source": "MNIST", "skipped": None}
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={f"{results.GLUE_PREFIX}text/plain": "2.5"}, metadata={"scrapbook": {"name": "late"}}
        )
    ]
    assert results.record_glued(nbformat.v4.new_notebook(cells=[cell]), "05_x", "smoke") == path
    assert json.loads(path.read_text())["glued"]["late"] == 2.5, "glued after the save: added by the runner"
    assert results.record_glued(nbformat.v4.new_notebook(), "06_none", "smoke") is None


def test_a_readable_copy_shows_the_runs_numbers(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "07_tiny.py").write_text(
        '# %% tags=["remove-cell"]\n# install\n\n# %% [markdown]\n# # 7. Tiny\n#\n'
        "# The drop is {glue:text}`drop:.1f` points {cite}`recht2019imagenet`.\n\n"
        '# %% tags=["parameters"]\nprofile = "cpu"\n\n# %%\nprint(1)\n'
    )
    res = tmp_path / "results"
    (res / "cpu").mkdir(parents=True)
    (res / "cpu" / "07_tiny.json").write_text(
        json.dumps(
            {
                "commit": "abc1234",
                "device": "cpu (2 threads)",
                "wall_seconds": 90,
                "created": "2026-12-01T00:00",
                "glued": {"drop": 4.26},
            }
        )
    )
    nb, c = readable.render_readable("07_tiny", notebooks=notebooks, results_dir=res)
    kinds = [cell.cell_type for cell in nb.cells]
    assert kinds[:3] == ["code", "markdown", "markdown"] and nb.cells[0].source == "# install"
    assert "results/cpu/07_tiny.json" in nb.cells[1].source and "abc1234" in nb.cells[1].source
    assert "The drop is 4.3 points (Recht et al., 2019)." in nb.cells[2].source
    assert nb.cells[-1].source.startswith("## References")
    folder = tmp_path / "lab"
    assert readable.write_all("cpu", folder, notebooks=notebooks, results_dir=res) == [folder / "07_tiny.ipynb"]
    assert readable.out_of_sync("cpu", folder, notebooks=notebooks, results_dir=res) == []
    (res / "cpu" / "07_tiny.json").write_text(json.dumps({"glued": {"drop": 5.0}}))
    assert readable.out_of_sync("cpu", folder, notebooks=notebooks, results_dir=res) == ["07_tiny.ipynb (differs)"]
    (folder / "99_gone.ipynb").write_text("{}")
    assert "99_gone.ipynb (no such chapter)" in readable.out_of_sync(
        "cpu", folder, notebooks=notebooks, results_dir=res
    )
    with pytest.raises(ValueError, match="no chapter '08_nope'.*07_tiny"):
        readable.render_readable("08_nope", notebooks=notebooks, results_dir=res)


# ----------------------------------------------------------------------------- the committed copies

CHAPTERS = [p.stem for p in runner.discover()]


def test_committed_readable_copies_match_the_chapters_and_the_cpu_results():
    stale = readable.out_of_sync("cpu")
    assert not stale, (
        f"readable copies out of date: {stale}; run `python -m reliable_ml readable` "
        "(or `make readable`) and commit lab/"
    )


@pytest.mark.parametrize("stem", CHAPTERS)
def test_the_notebook_colab_opens_has_no_markup_and_a_value_wherever_a_number_was(stem):
    path = readable.LAB_DIR / f"{stem}.ipynb"
    nb = nbformat.read(path, as_version=4)
    source = runner.read_notebook(runner.NOTEBOOK_DIR / f"{stem}.py")
    assert nb.cells[0].source == source.cells[0].source, "the install cell stays first"
    assert "Readable copy" in nb.cells[1].source and f"results/cpu/{stem}.json" in nb.cells[1].source
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            text = re.sub(r"```(?!\{).*?```", "", cell.source, flags=re.S)  # code blocks may show markup
            assert not MARKUP.search(text), f"{path.name}: markup left in {cell.source[:200]!r}"
    _, c = readable.render_readable(stem)
    n_roles = sum(
        len(re.findall(r"\{glue(?::\w+)?\}`", cell.source)) for cell in source.cells if cell.cell_type == "markdown"
    )
    assert len(c.pasted) == n_roles
    record = readable.load_results(stem) or {}
    glued = record.get("glued") or {}
    prose = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    for name, shown in c.pasted:
        value = glued.get(name, "absent")
        ok = (
            shown in (c.placeholder, readable.NOT_MEASURED.format(profile="cpu"))
            or NUMBER.match(shown.replace(" ", ""))
            or isinstance(value, (str, dict))
        )
        assert ok, f"{stem}: {name} shows {shown!r}"
        assert shown in prose


def test_launch_buttons_open_the_readable_copies():
    colab = "https://colab.research.google.com/github/o/n/blob/main/notebooks/03_humans_vs_models.ipynb"
    assert readable_url(colab, "notebooks/03_humans_vs_models").endswith("/blob/main/lab/03_humans_vs_models.ipynb")
    binder = "https://mybinder.org/v2/gh/o/n/main?urlpath=lab/tree/notebooks/03_humans_vs_models.ipynb"
    assert readable_url(binder, "notebooks/03_humans_vs_models").endswith(
        "urlpath=lab/tree/lab/03_humans_vs_models.ipynb"
    )
    assert readable_url(binder, "book/scorecard") == binder


def test_make_lab_opens_a_readable_copy():
    make = (Path(runner.PROJECT_ROOT) / "Makefile").read_text()
    notebook = re.search(r"^NOTEBOOK \?= (\S+)", make, re.M).group(1)
    assert notebook.startswith("lab/") and (Path(runner.PROJECT_ROOT) / notebook).exists()
