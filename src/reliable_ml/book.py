"""Build the HTML book from notebooks executed by the runner (no second execution).

The book sources are staged in ``_build/site/``: the root ``_config.yml`` and ``_toc.yml``,
the ``book/`` pages, and the executed notebooks under ``notebooks/`` (the same relative paths
as the committed, output-free ``.ipynb`` files, so launch buttons open the right notebook).
Jupyter Book then writes the HTML to ``<output>/_build/html``; warnings are errors.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from . import scorecard
from .results import PROJECT_ROOT, load_all, results_root

BOOK_FILES = ("_config.yml", "_toc.yml")


def _check_executed(notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                raise RuntimeError(f"executed notebook {notebook.name} has an error in cell {i}: "
                                   f"{out.get('ename')}: {out.get('evalue')}")


def stage(executed_dir: Path, site_dir: Path, project_root: Path = PROJECT_ROOT,
          results_dir: Path | None = None) -> Path:
    """Assemble the book sources in ``site_dir`` from the project and the executed notebooks.

    The scorecard page and its landing-page summary are generated here from the committed
    results files (``results_dir``, default ``results/``), so they never go stale.
    """
    executed = sorted(Path(executed_dir).glob("*.ipynb"))
    if not executed:
        raise FileNotFoundError(f"no executed notebooks in {executed_dir}: run "
                                "`python -m reliable_ml run --profile cpu` first")
    if site_dir.exists():
        shutil.rmtree(site_dir)
    (site_dir / "notebooks").mkdir(parents=True)
    for name in BOOK_FILES:
        shutil.copy2(project_root / name, site_dir / name)
    shutil.copytree(project_root / "book", site_dir / "book")
    scorecard.write(site_dir / "book", load_all(results_dir or results_root()))
    for nb in executed:
        _check_executed(nb)
        shutil.copy2(nb, site_dir / "notebooks" / nb.name)
    return site_dir


def build(site_dir: Path, output_dir: Path, strict: bool = True) -> Path:
    """Run ``jupyter-book build``; return the path of ``index.html``. Raises on failure."""
    exe = Path(sys.executable).with_name("jupyter-book")
    # --all: the site folder is staged afresh each time, and a reused Sphinx environment can keep a
    # stale bibliography (keys of newly added .bib files reported missing)
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", "--all", str(site_dir),
           "--path-output", str(output_dir)]
    if strict:
        cmd += ["-W", "--keep-going"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed (exit {proc.returncode}):\n"
                           f"{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}")
    index = Path(output_dir) / "_build" / "html" / "index.html"
    if not index.exists():
        raise RuntimeError(f"jupyter-book reported success but wrote no {index}")
    write_redirect(index)
    return index


def write_redirect(index: Path, favicon: str = "_static/favicon.svg") -> None:
    """Replace Jupyter Book's bare root redirect (a lone ``<meta http-equiv="Refresh">``) by a
    complete page with the same target, a title and the favicon link: without the link,
    browsers request ``/favicon.ico`` and log a 404 on the landing URL."""
    text = index.read_text()
    marker = 'url='
    if marker not in text or "<html" in text:
        return  # not the bare redirect (a real page): leave it alone
    target = text.split(marker, 1)[1].split('"', 1)[0]
    index.write_text(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        f"<title>How reliable is machine learning?</title>\n<link rel=\"icon\" href=\"{favicon}\"/>\n"
        f"<meta http-equiv=\"Refresh\" content=\"0; url={target}\"/>\n</head>\n"
        f"<body><p><a href=\"{target}\">Open the book</a></p></body>\n</html>\n")
