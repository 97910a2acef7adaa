"""The book build helpers: the root redirect page, the generated config (repository URL and
launch buttons), staging of executed notebooks, skipping unchanged builds, local MathJax."""

from __future__ import annotations

import shutil
import subprocess

import nbformat
import pytest
import yaml

from reliable_ml.course import book, course_map, runner
from reliable_ml.course.results import PROJECT_ROOT


def test_bare_redirect_becomes_a_page_with_favicon(tmp_path):
    index = tmp_path / "index.html"
    index.write_text('<meta http-equiv="Refresh" content="0; url=book/index.html" />')
    book.write_redirect(index)
    html = index.read_text()
    assert html.startswith("<!DOCTYPE html>") and '<link rel="icon" href="_static/favicon.svg"/>' in html
    assert 'content="0; url=book/index.html"' in html and '<a href="book/index.html">' in html


def test_real_page_is_left_alone(tmp_path):
    index = tmp_path / "index.html"
    page = '<html><head><meta http-equiv="Refresh" content="0; url=x.html"/></head><body>hi</body></html>'
    index.write_text(page)
    book.write_redirect(index)
    assert index.read_text() == page


# ----------------------------------------------------------------------------- repository URL, buttons


BASE = yaml.safe_load((PROJECT_ROOT / "_config.yml").read_text())


def test_committed_config_has_no_repository_or_launch_buttons():
    assert "repository" not in BASE and "launch_buttons" not in BASE, (
        "the repository URL is set at build time only (make book REPO_URL=...)"
    )
    assert not BASE["html"].get("use_repository_button")


def test_no_url_means_no_buttons():
    config = book.book_config(BASE, None)
    assert config["repository"] == {"url": ""} and "launch_buttons" not in config
    assert not any(config["html"][k] for k in ("use_repository_button", "use_issues_button", "use_edit_page_button"))


def test_url_gives_repository_binder_and_colab_buttons():
    config = book.book_config(BASE, "https://github.com/someone/course.git/", branch="pages")
    assert config["repository"] == {"url": "https://github.com/someone/course", "path_to_book": "", "branch": "pages"}
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert config["html"]["use_repository_button"] is True
    gitlab = book.book_config(BASE, "https://gitlab.com/someone/course")
    assert "colab_url" not in gitlab["launch_buttons"], "Colab opens GitHub notebooks only"


@pytest.mark.parametrize(
    "bad",
    [
        "github.com/o/n",
        "http://github.com/o/n",
        "https://github.com/o",
        "https://github.com/o/n name",
        "git@github.com:o/n.git",
    ],
)
def test_bad_repository_url_is_refused_with_its_value(bad):
    with pytest.raises(ValueError, match="is not an https://"):
        book.check_repo_url(bad)


def executed_notebook(path, repo_line='REPO_URL = ""  # filled in'):
    nb = nbformat.v4.new_notebook()
    install = nbformat.v4.new_code_cell(repo_line + "\nprint(REPO_URL)")
    injected = nbformat.v4.new_code_cell('profile = "smoke"')
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells = [install, nbformat.v4.new_markdown_cell("# Title"), injected]
    nbformat.write(nb, path)
    return path


def test_stage_notebook_removes_injected_parameters_and_fills_the_url(tmp_path):
    src = executed_notebook(tmp_path / "01_x.ipynb")
    book.stage_notebook(src, tmp_path / "out.ipynb", "https://github.com/o/n")
    nb = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert nb.cells[0].source.splitlines()[0] == 'REPO_URL = "https://github.com/o/n"  # filled in'
    assert "remove-cell" in nb.cells[2].metadata["tags"]
    book.stage_notebook(src, tmp_path / "plain.ipynb", None)
    assert nbformat.read(tmp_path / "plain.ipynb", as_version=4).cells[0].source.startswith('REPO_URL = ""')


def test_runner_tags_injected_parameters_once():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell("y = 2")]
    assert runner.hide_injected_parameters(nb) == 1 and runner.hide_injected_parameters(nb) == 0
    assert nb.cells[0].metadata["tags"] == ["injected-parameters", "remove-cell"]
    assert "remove-cell" not in nb.cells[1].metadata["tags"]


def mini_project(tmp_path):
    proj = tmp_path / "proj"
    (proj / "book").mkdir(parents=True)
    shutil.copy2(PROJECT_ROOT / "_config.yml", proj / "_config.yml")
    (proj / "_toc.yml").write_text("format: jb-book\nroot: book/index\n")
    (proj / "book" / "index.md").write_text(f"# Index\n\n{course_map.MARKER}\n")
    executed = tmp_path / "executed"
    executed.mkdir()
    executed_notebook(executed / "01_x.ipynb")
    return proj, executed


def test_stage_writes_the_generated_config(tmp_path, monkeypatch):
    proj, executed = mini_project(tmp_path)
    monkeypatch.setenv(book.ENV_REPO_URL, "https://github.com/o/n")
    site = book.stage(executed, tmp_path / "site", project_root=proj, results_dir=tmp_path / "results")
    config = yaml.safe_load((site / "_config.yml").read_text())
    assert config["repository"]["url"] == "https://github.com/o/n" and config["launch_buttons"]["colab_url"]
    site = book.stage(executed, tmp_path / "site", project_root=proj, results_dir=tmp_path / "results", repo_url="")
    config = yaml.safe_load((site / "_config.yml").read_text())
    assert config["repository"] == {"url": ""} and "launch_buttons" not in config
    assert config["sphinx"]["config"]["mathjax_path"].startswith("mathjax/MathJax.js")


def test_build_is_skipped_when_the_staged_site_is_unchanged(tmp_path, monkeypatch):
    proj, executed = mini_project(tmp_path)
    site = book.stage(executed, tmp_path / "site", project_root=proj, results_dir=tmp_path / "results")
    calls = []

    def fake_build(cmd, **kwargs):
        calls.append(cmd)
        html = tmp_path / "out" / "_build" / "html"
        html.mkdir(parents=True, exist_ok=True)
        (html / "index.html").write_text("<html>book</html>")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(book, "vendor_mathjax", lambda html_dir: html_dir)
    monkeypatch.setattr(book, "mathjax_dir", lambda: tmp_path)
    monkeypatch.setattr(book.subprocess, "run", fake_build)
    book.build(site, tmp_path / "out", reuse=True)
    book.build(site, tmp_path / "out", reuse=True)
    assert len(calls) == 1, "an unchanged site must not be built again"
    book.build(site, tmp_path / "out", reuse=False)
    assert len(calls) == 2, "reuse=False always builds"
    (site / "book" / "index.md").write_text("# Index, changed\n")
    book.build(site, tmp_path / "out", reuse=True)
    assert len(calls) == 3, "a changed site is built again"


def test_mathjax_is_shipped_by_a_package():
    folder = book.mathjax_dir()
    assert (folder / "MathJax.js").exists()
    assert (folder / "config" / "TeX-AMS-MML_HTMLorMML-full.js").exists(), "the config _config.yml names"


def test_the_one_bibliography_parses_with_unique_keys():
    """A broken entry fails the whole book build late; catch it here in milliseconds."""
    import re

    import pybtex.database

    bib = PROJECT_ROOT / "book" / "references.bib"
    db = pybtex.database.parse_file(bib)
    starts = re.findall(r"^@\w+\{([^,]+),", bib.read_text(), re.M)
    assert len(db.entries) == len(starts) == len(set(starts)), "every @entry parses, once"
    config = yaml.safe_load((PROJECT_ROOT / "_config.yml").read_text())
    assert config["bibtex_bibfiles"] == ["book/references.bib"]
