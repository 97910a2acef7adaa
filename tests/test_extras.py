"""Colab installs what the chapters import.

The notebooks' first cell (:data:`reliable_ml.course.book.INSTALL_CELL`) installs
``reliable-ml[<extra>]`` from the repository, plus a few packages with ``--no-deps``. Every
third-party module that the package (lazy imports inside functions included) or a chapter
imports must come with it: a core dependency or a requirement of that extra in pyproject.toml.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata as md
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from reliable_ml.course.book import INSTALL_CELL
from reliable_ml.course.results import PROJECT_ROOT

# Import names whose distribution packages_distributions() cannot tell (not installed here, or
# named differently from the module). Only consulted when the installed metadata has no answer.
EXPLICIT = {
    "sklearn": "scikit-learn",
    "PIL": "pillow",
    "yaml": "PyYAML",
    "IPython": "ipython",
    "open_clip": "open_clip_torch",
    "cv2": "opencv-python",
    "skimage": "scikit-image",
}
OWN = {"reliable_ml"}


def normalize(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def _catches_import_error(node: ast.Try) -> bool:
    for handler in node.handlers:
        names = [handler.type] if not isinstance(handler.type, ast.Tuple) else list(handler.type.elts)
        if any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names):
            return True
    return False


def imports_of(source: str) -> dict[str, bool]:
    """Top-level module names imported anywhere in ``source`` (inside functions too) -> whether
    every import of it is optional (inside ``try: ... except ImportError``)."""
    found: dict[str, bool] = {}

    def visit(node: ast.AST, optional: bool) -> None:
        if isinstance(node, ast.Try):
            guarded = optional or _catches_import_error(node)
            for child in node.body:
                visit(child, guarded)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                visit(child, optional)
            return
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            found[top] = found.get(top, True) and optional
        for child in ast.iter_child_nodes(node):
            visit(child, optional)

    visit(ast.parse(source), False)
    return found


def third_party(found: dict[str, bool]) -> dict[str, bool]:
    return {m: opt for m, opt in found.items() if m not in sys.stdlib_module_names and m not in OWN}


def course_imports(root: Path = PROJECT_ROOT) -> dict[str, list[str]]:
    """Required third-party modules of ``src/reliable_ml`` and ``notebooks/NN_*.py`` -> files."""
    files = sorted((root / "src" / "reliable_ml").rglob("*.py")) + sorted((root / "notebooks").glob("[0-9][0-9]_*.py"))
    needed: dict[str, list[str]] = {}
    for path in files:
        for module, optional in third_party(imports_of(path.read_text())).items():
            if not optional:
                needed.setdefault(module, []).append(str(path.relative_to(root)))
    return needed


@functools.cache
def _packages_distributions() -> dict[str, list[str]]:
    return md.packages_distributions()


def distribution_of(module: str) -> str | None:
    dists = _packages_distributions().get(module)
    if dists:
        return normalize(dists[0])
    return normalize(EXPLICIT[module]) if module in EXPLICIT else None


def _name(requirement: str) -> str:
    return normalize(re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0])


def installed_by_cell(cell: str = INSTALL_CELL, pyproject: Path = PROJECT_ROOT / "pyproject.toml"):
    """``(extra, declared, no_deps)``: the extra the cell installs, the distributions that brings
    (core dependencies + that extra, as declared), and the packages it installs ``--no-deps``."""
    match = re.search(r"reliable-ml\[([\w-]+)\]", cell)
    assert match, "the install cell no longer installs reliable-ml[<extra>]: update this test"
    extra = match.group(1)
    project = tomllib.loads(pyproject.read_text())["project"]
    extras = project.get("optional-dependencies", {})
    assert extra in extras, f"the install cell installs the extra {extra!r}, which pyproject.toml does not define"
    declared = {_name(r) for r in project["dependencies"] + extras[extra]}
    no_deps = {normalize(m) for m in re.findall(r'"--no-deps",\s*"([\w.-]+)==', cell)}
    return extra, declared, no_deps


def requirement_closure(names: set[str]) -> set[str]:
    """``names`` and everything they require, transitively (installed metadata; extras skipped)."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            reqs = md.requires(name) or []
        except md.PackageNotFoundError:
            continue
        todo += [_name(r) for r in reqs if "extra ==" not in r.split(";", 1)[-1] or ";" not in r]
    return seen


def missing(needed: dict[str, list[str]], provided: set[str]) -> list[str]:
    out = []
    for module, files in sorted(needed.items()):
        dist = distribution_of(module)
        if dist is None:
            out.append(
                f"{module} (imported by {', '.join(files[:3])}): no known distribution; "
                f"add it to EXPLICIT in tests/test_extras.py"
            )
        elif dist not in provided:
            out.append(f"{module} -> {dist} (imported by {', '.join(files[:3])})")
    return out


# ----------------------------------------------------------------------------- the checks


def test_the_collector_sees_lazy_optional_and_relative_imports():
    found = imports_of(
        "import os\nfrom . import x\ndef f():\n    import cleanlab.filter\n"
        "try:\n    import open_clip\nexcept ImportError:\n    open_clip = None\n"
        "from sklearn.linear_model import LogisticRegression\n"
    )
    assert found == {"os": False, "cleanlab": False, "open_clip": True, "sklearn": False}
    assert third_party(found) == {"cleanlab": False, "open_clip": True, "sklearn": False}


def test_a_module_missing_from_the_extra_is_reported():
    needed = {"cleanlab": ["src/reliable_ml/labels/label_quality.py"], "numpy": ["notebooks/00_data_tour.py"]}
    report = missing(needed, {"numpy", "torch"})
    assert len(report) == 1 and report[0].startswith(
        "cleanlab -> cleanlab (imported by src/reliable_ml/labels/label_quality.py"
    )


def test_every_import_of_the_course_is_installed_by_the_colab_cell():
    needed = course_imports()
    assert {"torch", "numpy", "cleanlab"} <= set(needed), f"the collector missed known imports: {sorted(needed)}"
    extra, declared, no_deps = installed_by_cell()
    report = missing(needed, declared | no_deps)
    assert not report, (
        f"the notebooks' install cell (reliable-ml[{extra}]) does not install what the course "
        "imports; add these to the core dependencies or the extra in pyproject.toml:\n  " + "\n  ".join(report)
    )


def test_no_deps_packages_find_what_they_import():
    """``--no-deps`` skips a package's own requirements (torchattacks 3.5.1 pins requests~=2.25.1,
    which would drag Sphinx down), so what importing it loads must come from the rest of the cell:
    the core dependencies and the extra, with their own requirements."""
    extra, declared, no_deps = installed_by_cell()
    assert no_deps == {"torchattacks"}, f"the cell installs {sorted(no_deps)} --no-deps: check each one here"
    provided = requirement_closure(declared)
    for package in no_deps:
        top = package.replace("-", "_")
        try:
            md.distribution(package)
        except md.PackageNotFoundError:
            pytest.skip(f"{package} is not installed here (requirements-nodeps.txt installs it)")
        code = (
            f"import sys; before = set(sys.modules); import {top}; "
            f"print(' '.join(sorted({{m.split('.')[0] for m in set(sys.modules) - before}})))"
        )
        loaded = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
        ).stdout.split()
        needed = {
            m: [package] for m in loaded if m not in sys.stdlib_module_names and not m.startswith("_") and m != top
        }
        report = [r for r in missing(needed, provided | no_deps) if "no known distribution" not in r]
        assert not report, (
            f"importing {package} (installed --no-deps) loads modules the cell does not install: {report}"
        )
