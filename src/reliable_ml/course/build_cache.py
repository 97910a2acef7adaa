"""Cache keys for executed notebooks: re-execute a chapter only when one of its inputs changed.

Like jupyter-cache, but the key also covers the helper package, so a change to the code a
chapter calls invalidates it (QuantEcon's cache keys only on the notebook's own cells).
The key of ``notebooks/NN_name.py`` run in ``profile`` hashes:

* ``notebook``: the Jupytext source of the chapter;
* ``package``: every ``src/reliable_ml/**/*.py`` and the package data (``*.json``, incl. the
  data manifest), by relative path and content;
* ``manifest``: the data manifest (``src/reliable_ml/data/manifest.json``) on its own;
* ``data``: which top-level entries of the data root hold files (names only, never the path), so a
  notebook executed on the ``digits`` fallback is re-run once the data is there;
* ``profile`` and ``parameters``: the profile and every injected parameter value;
* ``environment``: the Python version and the pinned requirements files (a reinstall with
  other pins executes everything again).

The key is written next to the executed notebook as ``<stem>.key.json``; a cached notebook
is reused only when that file matches the new key and the notebook has no error output.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # reliable_ml: every module counts
PACKAGE_DATA = ("*.json",)
KEY_SUFFIX = ".key.json"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def package_files(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """The package's Python sources and data files, sorted (``__pycache__`` excluded)."""
    files = set(package_dir.rglob("*.py"))
    for pattern in PACKAGE_DATA:
        files |= set(package_dir.rglob(pattern))
    return sorted(p for p in files if "__pycache__" not in p.parts and p.is_file())


def package_hash(package_dir: Path = PACKAGE_DIR) -> str:
    """SHA-256 over the relative path and bytes of every file of :func:`package_files`."""
    h = hashlib.sha256()
    for path in package_files(package_dir):
        h.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        h.update(_sha(path.read_bytes()).encode() + b"\n")
    return h.hexdigest()


def manifest_hash(package_dir: Path = PACKAGE_DIR) -> str:
    manifest = package_dir / "data" / "manifest.json"
    return _sha(manifest.read_bytes()) if manifest.exists() else "none"


def _holds_a_file(path: Path) -> bool:
    """True when ``path`` is a file or a folder with a file somewhere below (stops at the first)."""
    if path.is_file():
        return True
    stack = [path]
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
        from ..data.root import data_root

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


def cache_key(src: Path, profile: str, parameters: dict[str, Any],
              package_dir: Path = PACKAGE_DIR, data_root: Path | None = None) -> dict[str, str]:
    """The key of notebook source ``src`` executed in ``profile`` with ``parameters``."""
    return {
        "notebook": _sha(Path(src).read_bytes()),
        "package": package_hash(package_dir),
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
    return any(out.get("output_type") == "error"
               for cell in nb.get("cells", []) for out in cell.get("outputs", []))


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
