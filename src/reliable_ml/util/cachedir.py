"""The per-user cache folder that holds trained models, decoded data and kept results."""

from __future__ import annotations

import os
from pathlib import Path

ENV_CACHE = "RELIABLE_ML_CACHE"


def cache_dir() -> Path:
    """Writable per-user cache: ``$RELIABLE_ML_CACHE``, else ``$XDG_CACHE_HOME/reliable_ml``."""
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "reliable_ml"
