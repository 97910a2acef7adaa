"""The package's layering rules (CONTRIBUTING.md), read from every import statement of
src/reliable_ml, those inside functions included:

- the science (every subpackage but ``course`` and ``experiments``) never imports ``course``
  or ``experiments``;
- ``data`` imports nothing of the package but ``util`` (and itself);
- ``settings`` imports nothing of the package but ``settings``;
- imports are absolute (``from reliable_ml.x import y``).

The known exceptions below are listed by name, so that no new one slips in unseen.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import reliable_ml

PACKAGE = Path(reliable_ml.__file__).parent
MACHINERY = {"course", "experiments"}
# (importing module, imported module): each is an import inside a function, to be removed.
KNOWN = {
    ("reliable_ml.__main__", "reliable_ml.course.cli"),  # the command line is the course machinery's
    ("reliable_ml.pipeline.backdoor_lab", "reliable_ml.experiments.backdoor_cifar"),
    ("reliable_ml.util.notes", "reliable_ml.course.results"),
    ("reliable_ml.settings.rebuilding_a_test_set", "reliable_ml.models.zoo"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = PACKAGE.parent / name.replace(".", "/")
    return path.with_suffix(".py").exists() or path.is_dir()


def imports(path: Path) -> list[tuple[str, int]]:
    """``(module, level)`` of every import in the file, the module resolved to the most specific
    one (``from reliable_ml.course import results`` imports ``reliable_ml.course.results``);
    ``level`` > 0 for a relative import."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            for alias in node.names:
                name = f"{base}.{alias.name}"
                found.append((name if node.level == 0 and is_module(name) else base, node.level))
    return found


def subpackage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def violations(module: str, imported: str) -> list[str]:
    """Which rules ``module`` importing ``imported`` (both in the package) breaks."""
    here, there = subpackage(module), subpackage(imported)
    broken = []
    if here not in MACHINERY and there in MACHINERY:
        broken.append("the science never imports course/ or experiments/")
    if here == "data" and there not in ("data", "util"):
        broken.append("data/ imports only util/")
    if here == "settings" and there != "settings":
        broken.append("settings/ import no science")
    return broken


def test_the_rules_catch_what_they_name():
    assert violations("reliable_ml.robust.attacks", "reliable_ml.course.results")
    assert violations("reliable_ml.stats", "reliable_ml.experiments.zoo")
    assert violations("reliable_ml.data.images", "reliable_ml.models.nets") == ["data/ imports only util/"]
    assert violations("reliable_ml.settings.x", "reliable_ml.stats") == ["settings/ import no science"]
    assert not violations("reliable_ml.data.tour", "reliable_ml.util.plots")
    assert not violations("reliable_ml.course.book", "reliable_ml.robust.train")
    assert not violations("reliable_ml.experiments.zoo", "reliable_ml.course.results")


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[module_name(p) for p in MODULES])
def test_every_module_keeps_the_layering(path):
    module = module_name(path)
    problems = []
    for imported, level in imports(path):
        if level:
            problems.append(f"relative import (level {level}) of {imported or '.'}: write it absolute")
        elif imported.startswith("reliable_ml.") and (module, imported) not in KNOWN:
            problems += [f"imports {imported}: {rule}" for rule in violations(module, imported)]
    assert not problems, f"{module}: " + "; ".join(sorted(set(problems)))
