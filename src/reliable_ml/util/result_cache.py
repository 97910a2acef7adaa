"""Results of expensive runs kept beside the cached models: computed once, reused while nothing
they depend on has changed.

A chapter that trains and attacks many small models (the sample-size sweep of chapter 5, the
robust self-training arms of chapter 6) spends most of a warm re-run recomputing numbers it
already had. :func:`cached` keeps such a result under ``$RELIABLE_ML_CACHE/<kind>/<key>.pt``
where the key is a SHA-256 over

* ``kind`` and the caller's ``settings`` (JSON: every number that shapes the run),
* the bytes of every input tensor (training images, labels, test images, a fresh model's
  initial weights, so the architecture and its seed are in the key), and
* the source code of the modules that compute the result (``code``), so an edit to the training
  loop or the attack recomputes rather than serving a stale number.

The value is anything :func:`torch.save` writes and ``torch.load(weights_only=True)`` reads back:
tensors, numbers, strings, lists, tuples and dicts. A damaged entry is recomputed with a
warning, never used. Entries are written atomically, and a process that finds another one
building the same entry waits for it (:func:`reliable_ml.util.cachelock.building`).

Its sibling :mod:`reliable_ml.util.evalcache` keeps the per-image outcomes of evaluating one
model (keyed by the model's weights); this module keeps any result together with the code that
computed it. Both hash tensors and write entries the same way (``evalcache.tensor_bytes``,
``evalcache.save_atomic``).

:func:`cached_arrays` is :func:`cached` for numpy results (bootstrap replicates over a large
table of per-image outcomes): the input arrays are hashed like tensors, numpy's version joins the
settings (a seeded random stream may change with it), and the arrays come back with the dtypes
and shapes they were built with. :data:`MIN_WORK` is the size of a bootstrap (replicates times
table cells) below which drawing it again costs less than a cache entry.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import TypeVar

import torch

from reliable_ml.util import evalcache
from reliable_ml.util.cachedir import ENV_CACHE

T = TypeVar("T")

FORMAT = 1  # bump when the layout of an entry changes
#: replicates x cells of a bootstrap below which recomputing is cheaper than reading an entry
MIN_WORK = 20_000_000


def fingerprint(settings: dict, tensors: Iterable[torch.Tensor] = (), code: Iterable[ModuleType] = ()) -> str:
    """SHA-256 (hex) of ``settings`` (JSON, keys sorted), the tensors' dtype, shape and bytes, and
    the source of each module in ``code``."""
    try:
        text = json.dumps({"format": FORMAT, **settings}, sort_keys=True, default=_plain)
    except TypeError as err:
        raise TypeError(f"settings must be JSON-serialisable (numbers, strings, lists, dicts): {err}") from err
    h = hashlib.sha256(text.encode())
    for t in tensors:
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"tensors must hold torch.Tensor values; got {type(t).__name__}")
        h.update(f"{t.dtype}{tuple(t.shape)}".encode())
        h.update(evalcache.tensor_bytes(t))
    for module in code:
        h.update(module.__name__.encode())
        h.update(inspect.getsource(module).encode())
    return h.hexdigest()


def _plain(value):
    """JSON fallback for settings: dataclasses and tuples become plain structures."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def entry_path(kind: str, key: str) -> Path:
    """Where the entry ``key`` of ``kind`` lives (it may not exist)."""
    from reliable_ml.util.cachedir import cache_dir

    if not kind or not kind.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"kind must be a short name of letters, digits, '_' or '-'; got {kind!r}")
    return cache_dir() / kind / f"{key[:24]}.pt"


def _load(path: Path):
    try:
        return True, torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        return False, None
    except Exception as err:  # a truncated or foreign file: recompute, never use
        warnings.warn(
            f"cache entry ${ENV_CACHE}/{path.parent.name}/{path.name} could not be read "
            f"({type(err).__name__}: {err}); recomputing it",
            stacklevel=3,
        )
        return False, None


def cached(
    kind: str,
    settings: dict,
    build: Callable[[], T],
    *,
    tensors: Iterable[torch.Tensor] = (),
    code: Iterable[ModuleType] = (),
    models: int = 1,
    enabled: bool = True,
) -> T:
    """``build()``, or its saved value when ``kind``/``settings``/``tensors``/``code`` match a
    saved entry. ``models`` counts the models the entry stands for, in the chapter's cache
    statistics (:mod:`reliable_ml.util.cachestats`). ``enabled=False`` always builds and saves
    nothing."""
    from reliable_ml.util import cachelock, cachestats

    if not enabled:
        return build()
    path = entry_path(kind, fingerprint(settings, tensors, code))
    found, value = _load(path)
    if not found:
        with cachelock.building(path):
            found, value = _load(path)  # another process may have built it while this one waited
            if not found:
                value = build()
                evalcache.save_atomic(value, path)
    cachestats.record(kind, hit=found, models=models)
    return value


def cached_arrays(
    kind: str,
    settings: dict,
    build: Callable[[], dict],
    arrays: Iterable = (),
    *,
    code: Iterable[ModuleType] = (),
    enabled: bool = True,
) -> dict:
    """:func:`cached` for ``build() -> dict`` whose leaves are numpy arrays (or Python numbers and
    strings; dicts, lists and tuples nest them), keyed by ``settings`` plus numpy's version, the
    bytes, dtypes and shapes of the numpy ``arrays`` it reads, and the source of the ``code``
    modules. The value comes back as built: numpy arrays with their dtypes and shapes, the other
    leaves unchanged. A numpy scalar leaf is refused (it would come back as another type)."""
    import numpy as np

    def run() -> dict:
        out = build()
        if not isinstance(out, dict):
            raise TypeError(f"build() must return a dict; got {type(out).__name__}")
        return _to_tensors(out)

    tensors = [_tensor(np.asarray(a)) for a in arrays]
    out = cached(
        kind, {**settings, "numpy": np.__version__}, run, tensors=tensors, code=code, models=0, enabled=enabled
    )
    return _to_arrays(out)


def _tensor(a) -> torch.Tensor:
    """A numpy array as a tensor sharing its memory, or a copy when it is read-only (a pandas
    column's values) or not contiguous."""
    import numpy as np

    a = np.ascontiguousarray(a)
    return torch.from_numpy(a if a.flags.writeable else a.copy())


def _to_tensors(value):
    """Numpy arrays in a nested dict/list/tuple become tensors (what an entry can hold)."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return _tensor(value)
    if isinstance(value, dict):
        return {k: _to_tensors(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_tensors(v) for v in value)
    if value is None or isinstance(value, (bool, int, float, str)) and not isinstance(value, np.generic):
        return value
    raise TypeError(f"cached_arrays keeps numpy arrays, numbers and strings; got {type(value).__name__}")


def _to_arrays(value):
    """The inverse of :func:`_to_tensors`."""
    if isinstance(value, torch.Tensor):
        return value.numpy()
    if isinstance(value, dict):
        return {k: _to_arrays(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_arrays(v) for v in value)
    return value
