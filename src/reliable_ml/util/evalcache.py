"""Per-image outcomes of an evaluation kept in the model cache, keyed by what determines them.

An evaluation of a cached model (which images an attack breaks, a model's clean predictions) is
as deterministic as the model: the same weights, images, labels and attack settings give the
same tensors. :func:`cached_outcomes` keeps such tensors in one file per evaluation, so a warm
re-run of a chapter reads them back instead of attacking again.

The key (:func:`entry_key`) hashes a JSON description of the evaluation (its settings, the
model's :func:`model_fingerprint`, a format version, the torch version) and the bytes, shapes
and dtypes of the tensors it ran on. The file stores the key beside the tensors; an entry that
cannot be read, was written for another key, or whose tensors do not have the expected shapes and
dtypes is **recomputed with a warning** (:class:`CacheEntryWarning`), never used.

Chapters that run side by side build each entry once (:mod:`reliable_ml.util.cachelock`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
from torch import nn

from reliable_ml.util import cachelock

FORMAT = 1
_OPEN: list[dict] = []  # the accumulators of the cold_time blocks now open


class CacheEntryWarning(UserWarning):
    """A cache entry was unreadable or did not match its key; it was recomputed."""


def tensor_bytes(t: torch.Tensor) -> bytes:
    """A tensor's raw bytes (on the CPU, contiguous, any dtype): what a cache key hashes."""
    t = t.detach().cpu().contiguous().reshape(-1)
    return t.view(torch.uint8).numpy().tobytes() if t.numel() else b""


def model_fingerprint(model: nn.Module) -> str:
    """SHA-256 (first 16 hex digits) of a model's state: every entry's name, shape, dtype and bytes.
    Two models share it only when their weights (and buffers) are identical."""
    h = hashlib.sha256()
    for name, t in model.state_dict().items():
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype};".encode())
        h.update(tensor_bytes(t))
    return h.hexdigest()[:16]


def entry_key(meta: Mapping, *tensors: torch.Tensor) -> str:
    """SHA-256 (first 20 hex digits) of ``meta`` (JSON, keys sorted), the format version, the torch
    version, and each tensor's shape, dtype and bytes. Changing any of them changes the key."""
    text = json.dumps({"format": FORMAT, "torch": torch.__version__, "meta": meta}, sort_keys=True, default=str)
    h = hashlib.sha256(text.encode())
    for t in tensors:
        h.update(f"|{tuple(t.shape)}:{t.dtype}|".encode())
        h.update(tensor_bytes(t))
    return h.hexdigest()[:20]


def save_atomic(obj, path: Path) -> None:
    """:func:`torch.save` ``obj`` to ``path`` through a temporary file in the same folder, so a
    reader never sees half an entry (another process, or this one after a crash)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


@contextlib.contextmanager
def cold_time():
    """Inside the block, sum what the evaluations cost when they were first computed: an entry
    computed now adds its measured wall seconds, an entry read back adds the seconds stored with
    it. Yields ``{"seconds", "hits", "misses"}``, so a warm run can still quote the cold cost."""
    acc = {"seconds": 0.0, "hits": 0, "misses": 0}
    _OPEN.append(acc)
    try:
        yield acc
    finally:
        _OPEN.remove(acc)


def _tally(seconds: float, hit: bool) -> None:
    for acc in _OPEN:
        acc["seconds"] += seconds
        acc["hits" if hit else "misses"] += 1


def _problem(saved, key: str, expected: Mapping[str, tuple[tuple, torch.dtype]] | None) -> str | None:
    """Why a loaded entry cannot be used, or None when it can."""
    if not isinstance(saved, dict) or not isinstance(saved.get("outcomes"), dict):
        return "it is not a cache entry of outcomes"
    if saved.get("format") != FORMAT:
        return f"it has format {saved.get('format')!r}, this code writes {FORMAT}"
    if saved.get("key") != key:
        return f"it was written for key {saved.get('key')!r}, not {key!r}"
    out = saved["outcomes"]
    if not all(isinstance(v, torch.Tensor) for v in out.values()):
        return "an outcome is not a tensor"
    if not isinstance(saved.get("seconds"), float):
        return "it records no cold seconds"
    if expected is not None:
        if set(out) != set(expected):
            return f"it holds {sorted(out)}, expected {sorted(expected)}"
        for name, (shape, dtype) in expected.items():
            if tuple(out[name].shape) != tuple(shape) or out[name].dtype != dtype:
                return (
                    f"{name!r} has shape {tuple(out[name].shape)} and dtype {out[name].dtype}, "
                    f"expected {tuple(shape)} and {dtype}"
                )
    return None


def _load(path: Path, key: str, expected, warn: bool) -> dict | None:
    if not path.exists():
        return None
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        problem = _problem(saved, key, expected)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is recomputed, with a warning
        problem = f"it cannot be read ({type(exc).__name__}: {exc})"
    if problem is None:
        return saved
    if warn:
        warnings.warn(
            f"cache entry {path} is not used and will be recomputed: {problem}", CacheEntryWarning, stacklevel=3
        )
    return None


def cached_outcomes(
    path: Path | str,
    key: str,
    compute: Callable[[], Mapping[str, torch.Tensor]],
    *,
    expected: Mapping[str, tuple[tuple, torch.dtype]] | None = None,
) -> tuple[dict[str, torch.Tensor], bool]:
    """``compute()`` (a dict of tensors), kept at ``path`` under ``key`` (:func:`entry_key`).

    Returns ``(outcomes, hit)``: the tensors (on the CPU) and whether they were read from the cache.
    ``expected`` ({name: (shape, dtype)}) is checked on every entry read back. An entry that is
    unreadable, has another key or format, or fails ``expected`` is recomputed and rewritten, with a
    :class:`CacheEntryWarning` naming the file and the reason. Writes are atomic.
    """
    path = Path(path)
    if (saved := _load(path, key, expected, warn=True)) is None:
        with cachelock.building(path):  # chapters side by side: one computes, the others wait and read
            if (saved := _load(path, key, expected, warn=False)) is None:
                t0 = time.perf_counter()
                out = {name: torch.as_tensor(v).detach().cpu() for name, v in compute().items()}
                saved = {"format": FORMAT, "key": key, "outcomes": out, "seconds": time.perf_counter() - t0}
                if (problem := _problem(saved, key, expected)) is not None:
                    raise ValueError(f"compute() returned outcomes that do not fit expected: {problem}")
                save_atomic(saved, path)
                _tally(saved["seconds"], hit=False)
                return out, False
    _tally(saved["seconds"], hit=True)
    return dict(saved["outcomes"]), True


def cached_model_eval(
    folder: Path | str,
    name: str,
    model: nn.Module,
    spec: Mapping,
    inputs: tuple[torch.Tensor, ...],
    compute: Callable[[], Mapping[str, torch.Tensor]],
    expected: Mapping[str, tuple[tuple, torch.dtype]] | None = None,
) -> dict[str, torch.Tensor]:
    """:func:`cached_outcomes` for an evaluation ``name`` of ``model``: the entry is
    ``<folder>/<model fingerprint>-<name>-<key>.pt``, keyed by the model's weights, ``spec`` (the
    evaluation's settings, JSON) and the ``inputs`` (images, labels, targets)."""
    fp = model_fingerprint(model)
    key = entry_key({"fn": name, "model": fp, **spec}, *inputs)
    out, _ = cached_outcomes(Path(folder) / f"{fp}-{name}-{key}.pt", key, compute, expected=expected)
    return out
