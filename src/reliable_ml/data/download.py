"""Checksummed downloads with a progress bar, written atomically (temporary file + rename)."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from pathlib import Path

from reliable_ml.data.root import DataCorrupt
from reliable_ml.util.progress import tqdm

TIMEOUT_S = 30


def sha256_file(path: Path | str, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def fetch(url: str, dest: Path | str, sha256: str | None = None, desc: str | None = None) -> Path:
    """Download ``url`` to ``dest`` and check its SHA-256.

    The bytes go to a temporary file beside ``dest`` that is renamed into place only after
    the checksum matches, so an interrupted or corrupt download never leaves a partial file.
    Network errors propagate as ``OSError`` (``urllib.error.URLError`` is one).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=desc or dest.name, leave=False) as bar:
                while block := resp.read(1 << 16):
                    out.write(block)
                    bar.update(len(block))
        if sha256 is not None:
            got = sha256_file(tmp)
            if got != sha256:
                raise DataCorrupt(url, f"SHA-256 {got} does not match the expected {sha256}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
