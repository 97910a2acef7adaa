"""Cache keys for executed notebooks: re-execute a chapter only when one of its inputs changed.

Like jupyter-cache, but the key also covers the helper code the chapter runs, so a change to
a helper invalidates exactly the chapters that use it (QuantEcon's cache keys only on the
notebook's own cells). The key of ``notebooks/NN_name.py`` run in ``profile`` hashes:

* ``notebook``: the Jupytext source of the chapter;
* ``modules``: the ``reliable_ml`` modules the chapter imports, transitively (:func:`chapter_modules`:
  an AST import graph over the package, with relative imports, imports inside functions and
  the parent packages every import runs; the chapter's own settings module
  ``reliable_ml.settings.<name>``; and the runner and this module, which execute the chapter
  and define its key), by module name and content. A module that cannot be resolved (an
  import of a missing ``reliable_ml`` module, a dynamic ``importlib.import_module`` call) puts
  more modules in the key, never fewer (see :func:`import_graph`);
* ``package_data``: the package data files (``*.json``, incl. the data manifest), in every key;
* ``manifest``: the data manifest (``src/reliable_ml/data/manifest.json``) on its own;
* ``data``: which top-level entries of the data root hold files (names only, never the path), so a
  notebook executed on the ``digits`` fallback is re-run once the data is there;
* ``profile`` and ``parameters``: the profile and every injected parameter value (the
  chapter's settings row for the profile, plus overrides);
* ``environment``: the Python version and the pinned requirements files (a reinstall with
  other pins executes everything again).

The key is written next to the executed notebook as ``<stem>.key.json``; a cached notebook
is reused only when that file matches the new key and the notebook has no error output.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # reliable_ml
PACKAGE_DATA = ("*.json",)
KEY_SUFFIX = ".key.json"
# Modules that execute every chapter or define its key: part of every chapter's module set.
EXECUTOR = ("course.runner", "course.build_cache")
# Modules whose dynamic imports are accounted for: ``settings.table`` imports the chapter's own
# settings module, which every chapter's key includes (see :func:`chapter_modules`).
RESOLVED_DYNAMIC = ("settings",)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def package_files(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """The package's Python sources and data files, sorted (``__pycache__`` excluded)."""
    files = set(package_dir.rglob("*.py"))
    for pattern in PACKAGE_DATA:
        files |= set(package_dir.rglob(pattern))
    return sorted(p for p in files if "__pycache__" not in p.parts and p.is_file())


def _hash_files(files, package_dir: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        h.update(_sha(path.read_bytes()).encode() + b"\n")
    return h.hexdigest()


def package_hash(package_dir: Path = PACKAGE_DIR) -> str:
    """SHA-256 over the relative path and bytes of every file of :func:`package_files`."""
    return _hash_files(package_files(package_dir), package_dir)


def package_data_hash(package_dir: Path = PACKAGE_DIR) -> str:
    """SHA-256 over the package's data files (not its modules): part of every chapter's key."""
    return _hash_files([p for p in package_files(package_dir) if p.suffix != ".py"], package_dir)


def manifest_hash(package_dir: Path = PACKAGE_DIR) -> str:
    manifest = package_dir / "data" / "manifest.json"
    return _sha(manifest.read_bytes()) if manifest.exists() else "none"


# ----------------------------------------------------------------------------- import graph


def modules_of(package_dir: Path = PACKAGE_DIR) -> dict[str, Path]:
    """Dotted module name -> file for every module of the package (``pkg.sub`` for
    ``pkg/sub/__init__.py``); the package's name is its folder's name."""
    package_dir = Path(package_dir)
    found = {}
    for path in sorted(package_dir.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = [package_dir.name, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _parents(name: str) -> list[str]:
    """``a.b.c`` -> ``[a, a.b, a.b.c]``: importing a module runs every parent package first."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _under(name: str, modules) -> set[str]:
    """``name`` and every module below it."""
    return {m for m in modules if m == name or m.startswith(name + ".")}


def _resolve(name: str, modules: dict[str, Path], top: str) -> set[str]:
    """The modules that importing ``name`` (absolute, dotted) runs: the module and its parent
    packages. A name inside the package that is no module (an attribute, or missing) resolves
    to its longest existing prefix; a missing one to everything under that prefix (more, never
    fewer). Names outside the package resolve to nothing."""
    if name != top and not name.startswith(top + "."):
        return set()
    chain = [p for p in _parents(name) if p in modules]
    if name in modules:
        return set(chain)
    # an attribute of an existing module (``from pkg.mod import func`` reaches here via the caller) or a
    # missing module: the deepest existing prefix and, being unsure, everything below it
    prefix = chain[-1] if chain else top
    return set(chain) | _under(prefix, modules)


_IMPORT_START = re.compile(r"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import\b|import[ \t]+([\w.]+))", re.M)
_DYNAMIC_CALL = re.compile(r"\b(?:import_module|__import__)[ \t]*\(")


def _statements(text: str):
    """Every import statement of a Python source, wherever it is (module level, functions,
    classes, branches), found line by line and parsed on its own (fast: no parse of the whole
    file). Yields ``(node, fallback)``: the parsed ``ast.Import``/``ast.ImportFrom``, or
    ``None`` and the dotted name the line names when the statement does not parse alone (text
    in a docstring, say: the caller then includes more, never fewer)."""
    for match in _IMPORT_START.finditer(text):
        pos, depth, parts = match.start(), 0, []
        while True:
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            line = text[pos:end].split("#", 1)[0]
            depth += line.count("(") - line.count(")")
            parts.append(line.strip().rstrip("\\"))
            pos = end + 1
            if pos >= len(text) or not (depth > 0 or line.rstrip().endswith("\\")):
                break
        statement = " ".join(parts).split(";", 1)[0]
        try:
            nodes = [n for n in ast.parse(statement).body if isinstance(n, (ast.Import, ast.ImportFrom))]
        except SyntaxError:
            nodes = []
        if nodes:
            yield nodes[0], None
        else:
            yield None, match.group(1) or match.group(2)


def _imports(
    text: str, this: str, is_package: bool, modules: dict[str, Path], top: str, bound=None
) -> tuple[set[str], bool]:
    """Package modules imported anywhere in source ``text`` of module ``this``, and whether it
    holds a dynamic import whose target is not a constant string."""
    found: set[str] = set()
    bound = bound if bound is not None else (lambda name: _bound_names(modules[name]))
    package = this if is_package else this.rpartition(".")[0]

    def absolute(level: int, module: str | None) -> str | None:
        if not level:
            return module or ""
        parts = package.split(".") if package else []
        if level - 1 > len(parts):
            return None
        parts = parts[: len(parts) - (level - 1)]
        return ".".join(parts + ([module] if module else []))

    def inside(name: str) -> bool:
        return name == top or name.startswith(top + ".")

    for node, fallback in _statements(text):
        if node is None:  # a line that looks like an import but does not parse alone
            dots = len(fallback) - len(fallback.lstrip("."))
            base = absolute(dots, fallback.lstrip(".") or None) if dots else fallback
            if base is None:
                return set(modules), True
            if inside(base):
                found |= _resolve(base, modules, top) | _under(base, modules)
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                found |= _resolve(alias.name, modules, top)
            continue
        base = absolute(node.level, node.module)
        if base is None:  # beyond the top package
            return set(modules), True
        if not base or not inside(base):
            continue
        found |= _resolve(base, modules, top)
        for alias in node.names:
            if alias.name == "*":
                found |= _under(base, modules)  # ``__all__`` may name submodules
            elif f"{base}.{alias.name}" in modules:
                found |= _resolve(f"{base}.{alias.name}", modules, top)
            elif base in modules and alias.name not in bound(base):
                found |= _under(base, modules)  # neither a module nor a name it defines: unsure
    dynamic = False
    if _DYNAMIC_CALL.search(text):  # a cheap filter; the parse tells calls from words in docstrings
        try:
            calls = [
                n
                for n in ast.walk(ast.parse(text))
                if isinstance(n, ast.Call)
                and (getattr(n.func, "attr", None) or getattr(n.func, "id", None)) in ("import_module", "__import__")
            ]
        except SyntaxError:
            return set(modules), True
        for call in calls:
            arg = call.args[0] if call.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and not arg.value.startswith("."):
                found |= _resolve(arg.value, modules, top)
            else:
                dynamic = True
    return found, dynamic


def _bound_names(path: Path) -> set[str]:
    """Names a module binds at its top level (definitions, assignments, imports, also inside
    top-level ``if``/``try``); anything at all when it does not parse."""
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):
        return _ANY
    bound: set[str] = set()
    for node in tree.body:
        for sub in ast.walk(node) if isinstance(node, (ast.If, ast.Try)) else (node,):
            if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(sub.name)
            elif isinstance(sub, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
                bound |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                bound |= {(a.asname or a.name).split(".")[0] for a in sub.names}
    return bound


class _Anything(set):
    def __contains__(self, item) -> bool:
        return True


_ANY = _Anything()
_GRAPH_CACHE: dict[tuple, dict[str, set[str]]] = {}


def import_graph(package_dir: Path = PACKAGE_DIR) -> dict[str, set[str]]:
    """Module -> the package modules it imports directly (including parent packages).

    Conservative where it cannot know: a module with a dynamic import of a computed name
    (``importlib.import_module(name)``) imports every module of the package, except those in
    :data:`RESOLVED_DYNAMIC` (whose dynamic target every key includes anyway); an import line
    that does not parse imports everything under the module it names."""
    package_dir = Path(package_dir)
    modules = modules_of(package_dir)
    stamp = (str(package_dir), tuple((m, p.stat().st_mtime_ns, p.stat().st_size) for m, p in modules.items()))
    if stamp in _GRAPH_CACHE:
        return _GRAPH_CACHE[stamp]
    top = package_dir.name
    resolved_dynamic = {f"{top}.{m}" for m in RESOLVED_DYNAMIC}
    bound_cache: dict[str, set[str]] = {}

    def bound(name: str) -> set[str]:
        if name not in bound_cache:
            bound_cache[name] = _bound_names(modules[name])
        return bound_cache[name]

    graph = {}
    for name, path in modules.items():
        text = path.read_bytes().decode("utf-8", "replace")
        found, dynamic = _imports(text, name, path.name == "__init__.py", modules, top, bound)
        if dynamic and name not in resolved_dynamic:
            found = set(modules)
        graph[name] = (found | set(_parents(name)) & set(modules)) - {name}
    _GRAPH_CACHE.clear()
    _GRAPH_CACHE[stamp] = graph
    return graph


def closure(roots, graph: dict[str, set[str]]) -> set[str]:
    """Every module reachable from ``roots`` in ``graph`` (``roots`` included)."""
    seen: set[str] = set()
    stack = [r for r in roots if r in graph]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(graph[name] - seen)
    return seen


def chapter_modules(src: Path, package_dir: Path = PACKAGE_DIR) -> set[str]:
    """The package modules chapter ``src`` runs: those it imports (in any cell), transitively,
    its settings module (``<pkg>.settings.<name>``), and :data:`EXECUTOR`. A chapter with a
    dynamic import of a computed name depends on every module."""
    package_dir = Path(package_dir)
    graph = import_graph(package_dir)
    modules = modules_of(package_dir)
    top = package_dir.name
    text = Path(src).read_bytes().decode("utf-8", "replace")
    roots, dynamic = _imports(text, "__chapter__", False, modules, top)
    if dynamic:
        return set(modules)
    settings_module = f"{top}.settings." + re.sub(r"^\d\d_", "", Path(src).stem)
    roots |= {settings_module} if settings_module in modules else set()
    roots |= {f"{top}.{m}" for m in EXECUTOR} & set(modules)
    roots |= {p for r in list(roots) for p in _parents(r) if p in modules}
    return closure(roots, graph)


def modules_hash(names, package_dir: Path = PACKAGE_DIR) -> str:
    """SHA-256 over the names and bytes of the modules ``names``."""
    modules = modules_of(package_dir)
    h = hashlib.sha256()
    for name in sorted(names):
        h.update(name.encode() + b"\0" + _sha(modules[name].read_bytes()).encode() + b"\n")
    return h.hexdigest()


# ----------------------------------------------------------------------------- data and environment


def _holds_a_file(path: Path) -> bool:
    """True when ``path`` is a file or a folder with a file somewhere below (stops at the first)."""
    if path.is_file():
        return True
    stack: list[str | Path] = [path]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        if any(e.is_file() for e in entries):
            return True
        stack.extend(e.path for e in entries if e.is_dir())
    return False


def data_fingerprint(root: Path | None = None) -> str:
    """Names of the data root's top-level entries that hold at least one file (never the root's
    path): which datasets are there. Empty folders left by failed downloads do not count."""
    if root is None:
        from reliable_ml.data.root import data_root

        root = data_root()
    root = Path(root)
    names = sorted(p.name for p in root.iterdir() if _holds_a_file(p)) if root.is_dir() else []
    return _sha("\n".join(names).encode())


def environment_hash(project_root: Path = PACKAGE_DIR.parents[1]) -> str:
    """Python's version and the bytes of ``requirements*.txt`` at the project root (if any)."""
    import platform

    h = hashlib.sha256(platform.python_version().encode())
    for path in sorted(Path(project_root).glob("requirements*.txt")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def cache_key(
    src: Path, profile: str, parameters: dict[str, Any], package_dir: Path = PACKAGE_DIR, data_root: Path | None = None
) -> dict[str, str]:
    """The key of notebook source ``src`` executed in ``profile`` with ``parameters``."""
    return {
        "notebook": _sha(Path(src).read_bytes()),
        "modules": modules_hash(chapter_modules(src, package_dir), package_dir),
        "package_data": package_data_hash(package_dir),
        "manifest": manifest_hash(package_dir),
        "data": data_fingerprint(data_root),
        "profile": profile,
        "parameters": _sha(json.dumps(parameters, sort_keys=True, default=repr).encode()),
        "environment": environment_hash(),
    }


def key_path(output: Path) -> Path:
    """``_build/executed/<profile>/<stem>.ipynb`` -> ``.../<stem>.key.json``."""
    return Path(output).with_suffix(KEY_SUFFIX)


def _has_error(notebook: Path) -> bool:
    try:
        nb = json.loads(Path(notebook).read_text())
    except (OSError, ValueError):
        return True
    return any(out.get("output_type") == "error" for cell in nb.get("cells", []) for out in cell.get("outputs", []))


def changed(output: Path, key: dict[str, str]) -> list[str]:
    """Which parts of ``key`` differ from the stored key of ``output`` (empty list: cache hit).

    ``["missing"]`` when there is no executed notebook or no key file, ``["error"]`` when the
    executed notebook holds an error output.
    """
    output, stored_at = Path(output), key_path(output)
    if not output.exists() or not stored_at.exists():
        return ["missing"]
    try:
        stored = json.loads(stored_at.read_text())
    except ValueError:
        return ["missing"]
    diff = sorted(k for k in set(key) | set(stored) if key.get(k) != stored.get(k))
    if not diff and _has_error(output):
        return ["error"]
    return diff


def store(output: Path, key: dict[str, str]) -> Path:
    """Write ``key`` next to ``output`` (atomically: a crash never leaves a half key)."""
    path = key_path(output)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(key, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path


def forget(output: Path) -> None:
    """Drop the stored key of ``output`` (before executing it again)."""
    key_path(output).unlink(missing_ok=True)


def tree_hash(folder: Path) -> str:
    """SHA-256 over the relative paths and bytes of every file under ``folder``."""
    h = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0")
        h.update(_sha(path.read_bytes()).encode() + b"\n")
    return h.hexdigest()
