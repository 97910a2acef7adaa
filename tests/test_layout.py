"""The layout of the package: topic subpackages, and who may import whom.

- the top level holds subpackages, ``stats``, ``__init__`` and ``__main__`` only;
- the science (everything but ``course/``, ``experiments/`` and ``__main__``) imports neither
  ``course`` nor ``experiments``;
- ``data/`` imports nothing of the package but ``util/``; ``util/`` nothing but itself;
  ``settings/`` no science;
- no import loop anywhere, lazy imports inside functions included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "reliable_ml"


def module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """Every reliable_ml module ``name`` imports, at module level or inside functions."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        for target in targets:
            while target and target not in MODULES:  # reliable_ml.x.func -> reliable_ml.x
                target = target.rpartition(".")[0]
            if target.startswith("reliable_ml") and target != name:
                found.add(target)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def area(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_top_level_holds_subpackages_stats_init_and_main_only():
    loose = sorted(p.name for p in PKG.glob("*.py") if p.name not in {"__init__.py", "__main__.py", "stats.py"})
    assert loose == [], f"modules at the top of reliable_ml (put them in a subpackage): {loose}"
    for folder in (p for p in PKG.iterdir() if p.is_dir() and p.name != "__pycache__"):
        init = folder / "__init__.py"
        assert init.exists(), f"{folder.name}/ has no __init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc) > 40, f"{folder.name}/__init__.py must say what the subpackage holds"


SCIENCE = [n for n in MODULES if area(n) not in {"course", "experiments", "__main__"}]


@pytest.mark.parametrize("name", SCIENCE)
def test_the_science_imports_neither_course_nor_experiments(name):
    bad = sorted(t for t in GRAPH[name] if area(t) in {"course", "experiments"})
    assert bad == [], f"{name} imports {bad}"


@pytest.mark.parametrize(
    "folder, allowed", [("data", {"data", "util"}), ("util", {"util"}), ("settings", {"settings"})]
)
def test_lower_layers_import_only_what_they_may(folder, allowed):
    bad = {
        n: sorted(t for t in GRAPH[n] if area(t) not in allowed and t != "reliable_ml")
        for n in MODULES
        if area(n) == folder
    }
    assert {n: b for n, b in bad.items() if b} == {}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_inside_the_package_are_absolute(name):
    relative = [
        node.lineno
        for node in ast.walk(ast.parse(MODULES[name].read_text()))
        if isinstance(node, ast.ImportFrom) and node.level
    ]
    assert relative == [], f"{name}: relative imports at lines {relative}; write reliable_ml.x"


def test_the_cycle_finder_finds_a_loop():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_loop_anywhere():
    # the package's own __init__ re-exports util.env: an edge into it from below is no loop of
    # interest (every import of a submodule runs it), so it is left out of the graph
    graph = {n: {t for t in ts if t != "reliable_ml"} for n, ts in GRAPH.items()}
    assert cycles(graph) == []
