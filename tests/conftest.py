"""Shared fixtures: isolated data roots, caches and results folders."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REAL_DATA = os.environ.get("RELIABLE_ML_DATA")


@pytest.fixture
def tmp_root(tmp_path, monkeypatch) -> Path:
    """An empty data root and cache, used instead of the real ones."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("RELIABLE_ML_DATA", str(root))
    monkeypatch.setenv("RELIABLE_ML_CACHE", str(tmp_path / "cache"))
    return root


@pytest.fixture
def tmp_results(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "results"
    monkeypatch.setenv("RELIABLE_ML_RESULTS", str(folder))
    return folder


@pytest.fixture
def offline(monkeypatch):
    """Make every download fail at once, as on a machine without internet."""
    import urllib.request

    def refuse(*args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(urllib.request, "urlretrieve", refuse)


def real_data_root() -> Path:
    if not REAL_DATA:
        pytest.skip("RELIABLE_ML_DATA is not set: real-data checks skipped")
    return Path(REAL_DATA)
