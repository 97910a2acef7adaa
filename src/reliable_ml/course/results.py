"""One place that writes (and reads) ``results/<profile>/<notebook-stem>.json``.

A results file holds the notebook's key figures at the top level plus the provenance keys in
:data:`META_KEYS`: ``data_source``, ``profile``, ``device``, ``torch_version``,
``wall_seconds``, ``commit``, ``created``, ``model_cache`` (what the model caches did:
:mod:`reliable_ml.util.cachestats`) and ``glued``: every value the run glued for the
chapter's prose (``name -> value``, from :func:`reliable_ml.course.glue.glued_values`, handed over by
:meth:`reliable_ml.course.Run.save`; the runner
completes it from the executed notebook, see :func:`record_glued`). The book's scorecard reads
these files only; the readable copies of the chapters fill their prose from ``glued``.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from reliable_ml.course.glue import GLUE_PREFIX
from reliable_ml.settings import check_profile
from reliable_ml.util import cachestats

ENV_RESULTS = "RELIABLE_ML_RESULTS"
META_KEYS = (
    "notebook",
    "profile",
    "data_source",
    "device",
    "torch_version",
    "wall_seconds",
    "commit",
    "created",
    "seed",
    "model_cache",
    "glued",
)
PROJECT_ROOT = Path(__file__).resolve().parents[3]


def results_root() -> Path:
    """``$RELIABLE_ML_RESULTS``, else ``results/`` of the project checkout."""
    env = os.environ.get(ENV_RESULTS)
    if env:
        return Path(env)
    if (PROJECT_ROOT / "pyproject.toml").exists():
        return PROJECT_ROOT / "results"
    return Path.cwd() / "results"


# What a run writes itself: changes there do not make the code that ran "dirty" (a book build
# writes results/cpu/00_*.json before chapter 01 starts, which marked every later chapter dirty).
RUN_OUTPUTS = ("results", "lab")


def git_commit() -> str:
    """Short hash of HEAD (``-dirty`` if tracked files other than the run outputs
    :data:`RUN_OUTPUTS` have changes), or ``unknown``."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                *(f":(exclude){folder}" for folder in RUN_OUTPUTS),
            ],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def write_bench(benchmark: str, record: dict) -> Path:
    """Write a benchmark's ``record`` to ``results/bench/<benchmark>.json`` with what says where it
    was measured (commit, torch and Python versions, the 1-minute load average); return the path."""
    import platform

    import torch

    head = {
        "benchmark": benchmark,
        "commit": git_commit(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "load_average_1min": round(os.getloadavg()[0], 1),
    }
    out = results_root() / "bench" / f"{benchmark}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    _write(out, {**head, **record})
    return out


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


def save(
    notebook: str,
    profile: str,
    figures: dict,
    *,
    data_source: str | dict,
    wall_seconds: float,
    device: str,
    **extra: Any,
) -> Path:
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
    glued = extra.pop("glued", None)
    record = {
        "notebook": stem,
        "profile": profile,
        "data_source": data_source,
        "device": device,
        "torch_version": torch.__version__,
        "wall_seconds": round(float(wall_seconds), 2),
        "model_cache": cachestats.summary(),  # models this run loaded from / trained into the caches
        "commit": git_commit(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **extra,
        **figures,
    }
    if glued:
        record["glued"] = glued
    record = to_jsonable(record)
    folder = results_root() / profile
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.json"
    _write(path, record)
    return path


def _write(path: Path, record: dict) -> None:
    """Write ``record`` to ``path`` atomically (a crash never leaves half a file)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".json.part")
    with os.fdopen(fd, "w") as fh:
        json.dump(record, fh, indent=2, sort_keys=False)
        fh.write("\n")
    os.replace(tmp, path)


def glued_in(notebook) -> dict:
    """Every value glued in an executed notebook (``nbformat`` node or path), as
    :func:`reliable_ml.course.glue.glued_values` stores it: what the book shows, read from the glue
    outputs (text/plain parsed back to a number or string, NaN as ``None``; text/markdown as
    ``{"markdown": text}``). Figures and other objects are left out."""
    import ast

    import nbformat

    if not hasattr(notebook, "cells"):
        notebook = nbformat.read(str(notebook), as_version=4)
    glued: dict[str, Any] = {}
    for cell in notebook.cells:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if not name or out.get("output_type") not in ("display_data", "execute_result"):
                continue
            data = {k.removeprefix(GLUE_PREFIX): v for k, v in out.get("data", {}).items()}
            if "text/markdown" in data:
                text = data["text/markdown"]
                glued[name] = {"markdown": "".join(text) if isinstance(text, list) else text}
                continue
            if any(k.startswith("image/") for k in data) or "text/plain" not in data:
                glued.pop(name, None)
                continue
            text = data["text/plain"]
            text = "".join(text) if isinstance(text, list) else text
            if text.strip() in ("nan", "inf", "-inf"):
                glued[name] = None if text.strip() == "nan" else float(text)
                continue
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                value = text
            glued[name] = value if isinstance(value, (bool, int, float, str)) else text
    return to_jsonable(glued)


def record_glued(notebook, stem: str, profile: str, since: float | None = None) -> Path | None:
    """Store the values glued in executed ``notebook`` under ``"glued"`` in
    ``results/<profile>/<stem>.json`` (the run's own results file: left alone when missing, or
    older than ``since``, a ``time.time()`` stamp, i.e. not written by this run). The executed
    notebook's glue outputs are complete (names glued after the results were saved, such as
    ``glue.glue_missing``'s, included). Returns the path it updated, or ``None``."""
    path = results_root() / check_profile(profile) / f"{Path(stem).stem}.json"
    if not path.exists() or (since is not None and path.stat().st_mtime < since - 1):
        return None
    record = _read(path)
    glued = glued_in(notebook)
    if not glued and not record.get("glued"):
        return None
    record["glued"] = {**record.get("glued", {}), **glued}
    _write(path, record)
    return path


_HEADING = re.compile(r"^(#{1,2})\s+(.+?)\s*#*\s*$", re.MULTILINE)


def section_timings(notebook) -> dict[str, float]:
    """Seconds spent in each section of executed ``notebook``, in page order: the summed
    ``papermill.duration`` of the code cells under each level-1 or level-2 Markdown heading
    (the cells before the first heading count under ``"(setup)"``). A cell without a recorded
    duration counts 0. Headings are stripped of Markdown emphasis and label syntax."""
    timings: dict[str, float] = {}
    section = "(setup)"
    for cell in notebook.cells if hasattr(notebook, "cells") else notebook["cells"]:
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            headings = _HEADING.findall(source)
            if headings:
                section = re.sub(r"[*_`]|\{[^}]*\}", "", headings[-1][1]).strip() or section
            continue
        if cell["cell_type"] != "code":
            continue
        duration = (cell.get("metadata", {}).get("papermill") or {}).get("duration")
        seconds = float(duration) if isinstance(duration, (int, float)) else 0.0
        timings[section] = timings.get(section, 0.0) + seconds
    return {name: round(seconds, 1) for name, seconds in timings.items()}


def record_timings(notebook, stem: str, profile: str, since: float | None = None) -> Path | None:
    """Store :func:`section_timings` of executed ``notebook`` under ``"timings"`` in
    ``results/<profile>/<stem>.json`` (only a file this run wrote, as :func:`record_glued`).
    Returns the path it updated, or ``None``."""
    path = results_root() / check_profile(profile) / f"{Path(stem).stem}.json"
    if not path.exists() or (since is not None and path.stat().st_mtime < since - 1):
        return None
    record = _read(path)
    record["timings"] = section_timings(notebook)
    _write(path, record)
    return path


def load(notebook: str, profile: str) -> dict:
    """Read one results file; ``FileNotFoundError`` names the path and how to produce it."""
    path = results_root() / check_profile(profile) / f"{Path(notebook).stem}.json"
    if not path.exists():
        raise FileNotFoundError(
            f"no results at {path}: run `python -m reliable_ml run {Path(notebook).stem} --profile {profile}`"
        )
    return _read(path)


def read(path: Path) -> dict:
    """One results file by path; ``ValueError`` if it is not a JSON object."""
    return _read(path)


def _read(path: Path) -> dict:
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"results file {path} is not valid JSON ({exc}): re-run its notebook to rewrite it") from None
    if not isinstance(record, dict):
        raise ValueError(
            f"results file {path} holds a {type(record).__name__}, expected an object "
            "of figures: re-run its notebook to rewrite it"
        )
    return record


def load_all(root: Path | None = None) -> list[dict]:
    """Every results file under ``results/<profile>/`` (smoke runs included if present).

    A file that is not a JSON object raises ``ValueError`` naming it (never a silent skip: the
    scorecard would show its claims as not measured for the wrong reason).
    """
    root = root or results_root()
    return [_read(p) for p in sorted(root.glob("*/*.json"))]
