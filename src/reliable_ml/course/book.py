"""Build the HTML book from notebooks executed by the runner (no second execution).

The book sources are staged in ``_build/site/``: the root ``_config.yml`` and ``_toc.yml``,
the ``book/`` pages, and the executed notebooks under ``notebooks/`` (the same relative paths
as the committed, output-free ``.ipynb`` files, so launch buttons open the right notebook).
Jupyter Book then writes the HTML to ``<output>/_build/html``; warnings are errors.

* The repository URL is set in one place, at build time: ``make book REPO_URL=...`` (the
  environment variable ``RELIABLE_ML_REPO_URL``). The staged ``_config.yml`` then gets
  ``repository.url`` and the Colab/Binder launch buttons; with no URL the book has no launch
  or repository buttons at all (rather than links to a repository that does not exist).
* MathJax is served from the book itself (``_static/mathjax``, copied from the
  ``jupyter-server-mathjax`` package), so formulas render offline.
* When the staged sources are byte-identical to those of the last successful build, the
  Sphinx build is skipped (``make book`` with nothing changed takes seconds).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

from reliable_ml.course import build_cache, course_map, scorecard
from reliable_ml.course.results import PROJECT_ROOT, load_all, results_root

BOOK_FILES = ("_config.yml", "_toc.yml")
ENV_REPO_URL = "RELIABLE_ML_REPO_URL"
ENV_REPO_BRANCH = "RELIABLE_ML_REPO_BRANCH"
SITE_KEY = ".site-key"
BINDER_URL = "https://mybinder.org"
COLAB_URL = "https://colab.research.google.com"
_REPO_RE = re.compile(r"^https://[A-Za-z0-9.-]+(/[A-Za-z0-9_.~-]+){2,}/?$")


# The first cell of every notebook (Colab, or any Python without the course package). Kept in one
# place: `make install-cells` writes it into every notebooks/NN_*.py (new chapters included).
INSTALL_CELL = """# %% tags=["remove-cell"]
# On Colab (or anywhere without the course package): install it. Silent when it is installed.
REPO_URL = ""  # `make book REPO_URL=...` writes the repository here in the published notebooks
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("reliable_ml") is None:
    _url = os.environ.get("RELIABLE_ML_REPO_URL") or REPO_URL
    if not _url:
        raise RuntimeError(
            "reliable_ml is not installed and no repository URL is known: "
            "set RELIABLE_ML_REPO_URL or `pip install -e .` in a clone"
        )
    _pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*_pip, f"reliable-ml[book] @ git+{_url}"], check=True)
    subprocess.run([*_pip, "--no-deps", "torchattacks==3.5.1"], check=True)
"""
INSTALL_MARK = '# %% tags=["remove-cell"]\n# On Colab'


def add_install_cell(path: Path, repo_url: str | None = None) -> bool:
    """Make :data:`INSTALL_CELL` the first cell of the Jupytext source ``path`` (insert it, or
    refresh an older version of it), keeping the ``REPO_URL`` it had unless ``repo_url`` is
    given (``make install-cells REPO_URL=...``: the copies Colab opens from the repository then
    know where to install from). Returns whether the file changed."""
    text = Path(path).read_text()
    if not text.startswith("# ---\n"):
        raise ValueError(f"{Path(path).name} has no Jupytext header (expected a py:percent notebook)")
    end = text.index("# ---\n", 6) + len("# ---\n")
    body = text[end:].lstrip("\n")
    cell = INSTALL_CELL
    if body.startswith(INSTALL_MARK):
        old, _, rest = body.partition("\n# %%")
        body = "# %%" + rest if rest else ""
        kept = re.search(r'^REPO_URL = "[^"]*"', old, flags=re.M)
        if kept and repo_url is None:
            cell = re.sub(r'^REPO_URL = "[^"]*"', kept.group(0), cell, count=1, flags=re.M)
    if repo_url:
        cell = re.sub(r'^REPO_URL = "[^"]*"', f'REPO_URL = "{check_repo_url(repo_url)}"', cell, count=1, flags=re.M)
    new = text[:end] + "\n" + cell + "\n" + body
    if new != text:
        Path(path).write_text(new)
    return new != text


def check_repo_url(url: str) -> str:
    """``url`` without a trailing slash or ``.git``; raises ``ValueError`` unless it is an
    ``https://host/owner/name`` repository address."""
    url = url.strip()
    if not _REPO_RE.match(url):
        raise ValueError(
            f"repository URL {url!r} is not an https://<host>/<owner>/<name> address "
            f"(set it with `make book REPO_URL=https://github.com/OWNER/NAME` or {ENV_REPO_URL})"
        )
    url = url.rstrip("/")
    return url[:-4] if url.endswith(".git") else url


def book_config(base: dict, repo_url: str | None = None, branch: str = "main") -> dict:
    """The Jupyter Book configuration to build with: ``base`` plus, when ``repo_url`` is set,
    the repository and the launch buttons (Binder; Colab only for GitHub repositories).

    Without a URL the repository and launch-button sections are removed and the repository
    button is off, so the built book shows no buttons that lead nowhere.
    """
    config = yaml.safe_load(yaml.safe_dump(base))  # deep copy
    config.pop("repository", None)
    config.pop("launch_buttons", None)
    html = config.setdefault("html", {})
    for button in ("use_repository_button", "use_issues_button", "use_edit_page_button"):
        html[button] = False
    if not repo_url:
        config["repository"] = {"url": ""}  # not Jupyter Book's default (its own repository)
        return config
    url = check_repo_url(repo_url)
    config["repository"] = {"url": url, "path_to_book": "", "branch": branch}
    config["launch_buttons"] = {"notebook_interface": "jupyterlab", "binderhub_url": BINDER_URL}
    if url.startswith("https://github.com/"):
        config["launch_buttons"]["colab_url"] = COLAB_URL
    html["use_repository_button"] = True
    return config


def repo_url_from_env() -> str | None:
    return os.environ.get(ENV_REPO_URL, "").strip() or None


def stage_notebook(
    src: Path, dest: Path, repo_url: str | None = None, *, profile: str | None = None, results_dir: Path | None = None
) -> None:
    """Copy an executed notebook into the book sources: papermill's injected-parameters cell
    is tagged ``remove-cell`` (the book shows the chapter's own parameters cell only), the
    Colab install cell gets the repository URL of this build, and the compute note is rendered
    from the results file the run wrote (:func:`reliable_ml.course.compute_note.restage`;
    ``profile`` defaults to the executed notebook's folder name)."""
    from reliable_ml.course.compute_note import restage
    from reliable_ml.course.runner import hide_injected_parameters
    from reliable_ml.settings import PROFILES

    nb = nbformat.read(src, as_version=4)
    hide_injected_parameters(nb)
    profile = profile or (Path(src).parent.name if Path(src).parent.name in PROFILES else "cpu")
    restage(nb, Path(src).stem, profile, results_dir)
    if repo_url and nb.cells and nb.cells[0].cell_type == "code":
        nb.cells[0].source = re.sub(
            r'^REPO_URL = "[^"]*"', f'REPO_URL = "{check_repo_url(repo_url)}"', nb.cells[0].source, count=1, flags=re.M
        )
    nbformat.write(nb, dest)


def _check_executed(notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                raise RuntimeError(
                    f"executed notebook {notebook.name} has an error in cell {i}: "
                    f"{out.get('ename')}: {out.get('evalue')}"
                )


def stage(
    executed_dir: Path,
    site_dir: Path,
    project_root: Path = PROJECT_ROOT,
    results_dir: Path | None = None,
    repo_url: str | None = None,
) -> Path:
    """Assemble the book sources in ``site_dir`` from the project and the executed notebooks.

    The scorecard page and its landing-page summary are generated here from the committed
    results files (``results_dir``, default ``results/``), so they never go stale; so is the
    landing page's course map, from ``_toc.yml`` and the chapters' titles (:mod:`.course_map`).
    ``repo_url`` (default: ``$RELIABLE_ML_REPO_URL``) goes into the generated ``_config.yml``.
    """
    repo_url = repo_url if repo_url is not None else repo_url_from_env()
    if repo_url:
        repo_url = check_repo_url(repo_url)
    executed = sorted(Path(executed_dir).glob("*.ipynb"))
    if not executed:
        raise FileNotFoundError(
            f"no executed notebooks in {executed_dir}: run `python -m reliable_ml run --profile cpu` first"
        )
    if site_dir.exists():
        shutil.rmtree(site_dir)
    (site_dir / "notebooks").mkdir(parents=True)
    shutil.copy2(project_root / "_toc.yml", site_dir / "_toc.yml")
    base = yaml.safe_load((project_root / "_config.yml").read_text())
    branch = os.environ.get(ENV_REPO_BRANCH, "").strip() or "main"
    (site_dir / "_config.yml").write_text(
        "# Generated by reliable_ml.course.book.stage from the project's _config.yml: do not edit.\n"
        + yaml.safe_dump(book_config(base, repo_url, branch), sort_keys=False, allow_unicode=True)
    )
    shutil.copytree(project_root / "book", site_dir / "book")
    course_map.fill(site_dir / "book" / "index.md", site_dir / "_toc.yml", project_root)
    scorecard.write(site_dir / "book", load_all(results_dir or results_root()))
    for nb in executed:
        _check_executed(nb)
        stage_notebook(nb, site_dir / "notebooks" / nb.name, repo_url, results_dir=results_dir)
    return site_dir


def mathjax_dir() -> Path:
    """MathJax 2.7 as shipped by the ``jupyter-server-mathjax`` package (no CDN needed)."""
    import importlib.util

    spec = importlib.util.find_spec("jupyter_server_mathjax")  # located, not imported (no server needed)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the book serves MathJax itself and needs the package jupyter-server-mathjax "
            "(in requirements.txt): run `make install`"
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "static"
    if not (folder / "MathJax.js").exists():
        raise RuntimeError(f"jupyter-server-mathjax has no static/MathJax.js in {folder.name}: reinstall it")
    return folder


def vendor_mathjax(html_dir: Path) -> Path:
    """Copy MathJax into ``<html>/_static/mathjax`` (the ``mathjax_path`` of ``_config.yml``)."""
    target = Path(html_dir) / "_static" / "mathjax"
    if not (target / "MathJax.js").exists():
        shutil.copytree(mathjax_dir(), target, dirs_exist_ok=True)
    return target


def build(site_dir: Path, output_dir: Path, strict: bool = True, reuse: bool = False) -> Path:
    """Run ``jupyter-book build``; return the path of ``index.html``. Raises on failure.

    With ``reuse=True`` the build is skipped when the staged sources hash to the same value
    as at the last successful build into ``output_dir`` (stored in ``_build/html/.site-key``).
    """
    html_dir = Path(output_dir) / "_build" / "html"
    site_key = build_cache.tree_hash(site_dir) + ("-strict" if strict else "")
    stored = html_dir / SITE_KEY
    if reuse and (html_dir / "index.html").exists() and stored.exists() and stored.read_text() == site_key:
        vendor_mathjax(html_dir)
        return html_dir / "index.html"
    stored.unlink(missing_ok=True)
    mathjax_dir()  # fail before the long build when MathJax is missing
    exe = Path(sys.executable).with_name("jupyter-book")
    # --all: the site folder is staged afresh each time, and a reused Sphinx environment can keep a
    # stale bibliography (keys of newly added .bib files reported missing)
    cmd = [
        str(exe) if exe.exists() else "jupyter-book",
        "build",
        "--all",
        str(site_dir),
        "--path-output",
        str(output_dir),
    ]
    if strict:
        cmd += ["-W", "--keep-going"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(
            f"jupyter-book build failed (exit {proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
        )
    index = Path(output_dir) / "_build" / "html" / "index.html"
    if not index.exists():
        raise RuntimeError(f"jupyter-book reported success but wrote no {index}")
    write_redirect(index)
    vendor_mathjax(html_dir)
    stored.write_text(site_key)
    return index


def write_redirect(index: Path, favicon: str = "_static/favicon.svg") -> None:
    """Replace Jupyter Book's bare root redirect (a lone ``<meta http-equiv="Refresh">``) by a
    complete page with the same target, a title and the favicon link: without the link,
    browsers request ``/favicon.ico`` and log a 404 on the landing URL."""
    text = index.read_text()
    marker = "url="
    if marker not in text or "<html" in text:
        return  # not the bare redirect (a real page): leave it alone
    target = text.split(marker, 1)[1].split('"', 1)[0]
    index.write_text(
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8"/>\n'
        f'<title>How reliable is machine learning?</title>\n<link rel="icon" href="{favicon}"/>\n'
        f'<meta http-equiv="Refresh" content="0; url={target}"/>\n</head>\n'
        f'<body><p><a href="{target}">Open the book</a></p></body>\n</html>\n'
    )
