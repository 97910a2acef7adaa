"""Where data lives, where decoded copies are cached, and the errors the data layer raises."""

from __future__ import annotations

import os
from pathlib import Path

from reliable_ml.util.cachedir import ENV_CACHE, cache_dir  # noqa: F401  (re-exported: the data layer's cache)

ENV_ROOT = "RELIABLE_ML_DATA"


class DataUnavailable(FileNotFoundError):
    """A dataset is absent from the data root and could not be downloaded."""

    def __init__(self, dataset: str, root: Path | str, upstream: str, reason: str = ""):
        self.dataset, self.root, self.upstream, self.reason = dataset, Path(root), upstream, reason
        msg = (
            f"dataset {dataset!r} is not available: looked under {display_path(self.root)} "
            f"(set {ENV_ROOT} to another data root) and could not download it from {upstream}"
        )
        if reason:
            msg += f" ({reason})"
        super().__init__(msg)


class DataCorrupt(ValueError):
    """A data file exists but is truncated, malformed or fails its checksum."""

    def __init__(self, path: Path | str, problem: str):
        self.path, self.problem = Path(path), problem
        super().__init__(f"corrupt or truncated data file {display_path(self.path)}: {problem}")


def data_root(root: Path | str | None = None) -> Path:
    """The data root: ``root`` if given, else ``$RELIABLE_ML_DATA``, else a per-user cache folder."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(ENV_ROOT)
    if env:
        return Path(env).expanduser()
    return cache_dir() / "data"


def display_path(path: Path | str, root: Path | str | None = None) -> str:
    """``path`` with the data root shown as ``$RELIABLE_ML_DATA`` and the home folder as ``~``,
    so that printed outputs carry no absolute paths of the machine they ran on."""
    text = str(path)
    root_text = str(data_root(root))
    if text.startswith(root_text):
        return "$" + ENV_ROOT + text[len(root_text) :]
    home = str(Path.home())
    return "~" + text[len(home) :] if text.startswith(home) else text
