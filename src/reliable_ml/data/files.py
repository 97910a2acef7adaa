"""The data manifest: every upstream file the course reads, where it comes from and its checksum.

``manifest.json`` (beside this module) maps each source to its repository, branch and files
(path relative to the data root -> SHA-256); it holds checksums and paths only, never data.
:func:`ensure_file` returns a file under the data root, downloading it from upstream and
checking its checksum when it is absent.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from reliable_ml.data.download import fetch
from reliable_ml.data.root import DataCorrupt, DataUnavailable, data_root, display_path

RAW_URL = "https://raw.githubusercontent.com/{repo}/{branch}/{path}"


@lru_cache(maxsize=1)
def _manifest() -> dict:
    return json.loads((Path(__file__).with_name("manifest.json")).read_text())


def _source_of(rel: str) -> tuple[str, dict]:
    for name, src in _manifest().items():
        if rel in src["files"]:
            return name, src
    raise KeyError(rel)


def upstream_url(rel: str) -> str:
    """Upstream address of a manifest file given by its path relative to the data root."""
    _, src = _source_of(rel)
    return RAW_URL.format(repo=src["repo"], branch=src["branch"], path=rel[len(src["strip"]) :])


def ensure_file(rel: str, root: Path | str | None = None, download: bool = True) -> Path:
    """Path of ``<root>/<rel>``, downloading (checksummed) from upstream when absent."""
    root_path = data_root(root)
    path = root_path / rel
    if path.exists():
        return path
    name, src = _source_of(rel)
    url = upstream_url(rel)
    if not download:
        raise DataUnavailable(name, root_path, url, f"missing file {display_path(path)}")
    try:
        return fetch(url, path, sha256=src["files"][rel], desc=Path(rel).name)
    except DataCorrupt:
        raise
    except OSError as exc:
        raise DataUnavailable(name, root_path, url, repr(exc)) from exc


def _files_under(prefix: str) -> list[str]:
    return sorted(rel for src in _manifest().values() for rel in src["files"] if rel.startswith(prefix))
