"""One builder per cache entry: chapters that run side by side (``make book JOBS=2``) and need
the same cached model (the shared robust model of chapters 4, 7, 10 and 11; a zoo) train it once.

The pattern, in the caching functions: try the cache; on a miss, take the entry's lock, try the
cache again (another process may have built it while this one waited), and build only if it is
still missing. Locks are advisory ``flock`` locks on a hidden file beside the entry, released
when the holder exits, even if it crashes; where ``fcntl`` does not exist (Windows) there is no
lock and, at worst, two processes build the same entry (each writes it atomically).
"""

from __future__ import annotations

import contextlib
from pathlib import Path


@contextlib.contextmanager
def building(entry: Path):
    """Hold an exclusive lock for building the cache entry ``entry`` (a file or a folder)."""
    entry = Path(entry)
    entry.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(entry.parent / f".{entry.name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
