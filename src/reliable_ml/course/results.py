"""One place that writes (and reads) ``results/<profile>/<notebook-stem>.json``.

A results file holds the notebook's key figures at the top level plus the provenance keys in
:data:`META_KEYS`: ``data_source``, ``profile``, ``device``, ``torch_version``,
``wall_seconds``, ``commit``, ``created``, and ``model_cache`` (what the model caches did:
:mod:`reliable_ml.cachestats`). The book's scorecard reads these files only.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .. import cachestats
from .profiles import check_profile

ENV_RESULTS = "RELIABLE_ML_RESULTS"
META_KEYS = ("notebook", "profile", "data_source", "device", "torch_version", "wall_seconds",
             "commit", "created", "seed", "model_cache")
PROJECT_ROOT = Path(__file__).resolve().parents[3]


def results_root() -> Path:
    """``$RELIABLE_ML_RESULTS``, else ``results/`` of the project checkout."""
    env = os.environ.get(ENV_RESULTS)
    if env:
        return Path(env)
    if (PROJECT_ROOT / "pyproject.toml").exists():
        return PROJECT_ROOT / "results"
    return Path.cwd() / "results"


def git_commit() -> str:
    """Short hash of HEAD (``-dirty`` if the tree has changes), or ``unknown``."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def to_jsonable(value: Any) -> Any:
    """Convert numpy/torch scalars and arrays, tuples and paths to plain JSON; NaN -> None."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "detach"):  # torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in a results file: {value!r}")


def save(notebook: str, profile: str, figures: dict, *, data_source: str | dict,
         wall_seconds: float, device: str, **extra: Any) -> Path:
    """Write the results JSON atomically and return its path.

    ``figures`` are the notebook's key numbers; their names must not collide with
    :data:`META_KEYS`. ``data_source`` names the data behind them (e.g. "MNIST",
    "CIFAR-10 (JPEG q75 copy)"), or maps sections to sources.
    """
    import torch

    check_profile(profile)
    clash = sorted(set(figures) & set(META_KEYS))
    if clash:
        raise ValueError(f"figure names {clash} are reserved for provenance; rename them")
    if not data_source:
        raise ValueError("data_source is required: name the data these numbers came from")
    stem = Path(notebook).stem
    record = {
        "notebook": stem, "profile": profile, "data_source": data_source, "device": device,
        "torch_version": torch.__version__, "wall_seconds": round(float(wall_seconds), 2),
        "model_cache": cachestats.summary(),  # models this run loaded from / trained into the caches
        "commit": git_commit(), "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **extra, **figures,
    }
    record = to_jsonable(record)
    folder = results_root() / profile
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.json"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{stem}.", suffix=".json.part")
    with os.fdopen(fd, "w") as fh:
        json.dump(record, fh, indent=2, sort_keys=False)
        fh.write("\n")
    os.replace(tmp, path)
    return path


def load(notebook: str, profile: str) -> dict:
    """Read one results file; ``FileNotFoundError`` names the path and how to produce it."""
    path = results_root() / check_profile(profile) / f"{Path(notebook).stem}.json"
    if not path.exists():
        raise FileNotFoundError(f"no results at {path}: run `python -m reliable_ml run "
                                f"{Path(notebook).stem} --profile {profile}`")
    return _read(path)


def _read(path: Path) -> dict:
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"results file {path} is not valid JSON ({exc}): re-run its notebook "
                         "to rewrite it") from None
    if not isinstance(record, dict):
        raise ValueError(f"results file {path} holds a {type(record).__name__}, expected an object "
                         "of figures: re-run its notebook to rewrite it")
    return record


def load_all(root: Path | None = None) -> list[dict]:
    """Every results file under ``results/<profile>/`` (smoke runs included if present).

    A file that is not a JSON object raises ``ValueError`` naming it (never a silent skip: the
    scorecard would show its claims as not measured for the wrong reason).
    """
    root = root or results_root()
    return [_read(p) for p in sorted(root.glob("*/*.json"))]
