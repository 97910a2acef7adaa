"""Shared fixtures: isolated data roots, caches and results folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REAL_DATA = os.environ.get("RELIABLE_ML_DATA")
# The smoke runs execute two chapters side by side: each kernel runs torch on one thread, so on
# CI's 2 cores this halves the longest part of the suite.
SMOKE_JOBS = max(1, min(2, os.cpu_count() or 1))


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


@pytest.fixture(scope="module")
def single_thread():
    """Small models on a shared 2-core machine run far faster single-threaded (no OpenMP spin-waits)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def real_data_root() -> Path:
    if not REAL_DATA:
        pytest.skip("RELIABLE_ML_DATA is not set: real-data checks skipped")
    return Path(REAL_DATA)


@pytest.fixture(scope="session")
def smoke_runs(tmp_path_factory):
    """Execute every notebook once in the smoke profile, results into a temporary folder.

    Returns ``(tmp, {stem: Outcome})``; used by the notebook, book and browser tests.
    """
    from reliable_ml.course import runner

    tmp = tmp_path_factory.mktemp("smoke")
    os.environ["RELIABLE_ML_RESULTS"] = str(tmp / "results")
    try:
        outcomes = runner.run(None, "smoke", out_dir=tmp / "executed", progress=False, jobs=SMOKE_JOBS)
    finally:
        os.environ.pop("RELIABLE_ML_RESULTS", None)
    return tmp, {o.notebook: o for o in outcomes}


# Set by .ci/run, whose no-data cpu book build follows the tests: the no-data smoke run would repeat it.
ENV_NODATA_BOOK_FOLLOWS = "RELIABLE_ML_NODATA_BOOK_FOLLOWS"
NO_NETWORK = {
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "ALL_PROXY": "http://127.0.0.1:9",
    "no_proxy": "",
    "NO_PROXY": "",
}


@pytest.fixture(scope="session")
def smoke_runs_nodata(tmp_path_factory, smoke_runs):
    """Every notebook in the smoke profile as on a fresh clone: an empty data root, an empty
    cache and no network (downloads go to a closed local port). Returns ``(tmp, {stem: Outcome})``.

    When the suite itself runs without data (the data root is missing or empty), the smoke run
    above already took this path and is reused instead of running every notebook twice.
    """
    from reliable_ml.course import runner
    from reliable_ml.data.root import data_root

    if os.environ.get(ENV_NODATA_BOOK_FOLLOWS):
        pytest.skip(
            f"${ENV_NODATA_BOOK_FOLLOWS} is set: .ci/run builds the cpu book with no data and no "
            "network after the tests, which executes every chapter on this path"
        )
    root = data_root()
    if not root.is_dir() or not any(root.iterdir()):
        return smoke_runs
    tmp = tmp_path_factory.mktemp("nodata")
    env = {
        "RELIABLE_ML_DATA": str(tmp / "data"),
        "RELIABLE_ML_CACHE": str(tmp / "cache"),
        "RELIABLE_ML_RESULTS": str(tmp / "results"),
        "RELIABLE_ML_ANNOTATIONS": str(tmp / "annotations"),
        **NO_NETWORK,
    }
    (tmp / "data").mkdir()
    before = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        outcomes = runner.run(None, "smoke", out_dir=tmp / "executed", progress=False, jobs=SMOKE_JOBS)
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return tmp, {o.notebook: o for o in outcomes}


def build_book(runs, name: str) -> Path:
    from reliable_ml.course import book

    tmp, outcomes = runs
    failed = [str(o.error) for o in outcomes.values() if o.error]
    if failed:
        pytest.fail("cannot build the book, notebooks failed: " + "; ".join(failed))
    site = book.stage(tmp / "executed", tmp / f"site-{name}", repo_url="")
    return book.build(site, tmp / f"html-{name}", strict=True).parent


@pytest.fixture(scope="session")
def smoke_book_nodata(smoke_runs_nodata, smoke_runs, smoke_book) -> Path:
    """The book built from the no-data smoke run (the same book when the run was reused)."""
    if smoke_runs_nodata is smoke_runs:
        return smoke_book
    return build_book(smoke_runs_nodata, "nodata")


@pytest.fixture(scope="session")
def smoke_book(smoke_runs) -> Path:
    """The HTML book built (warnings as errors) from the smoke-executed notebooks, with no
    repository URL (so no launch buttons)."""
    return build_book(smoke_runs, "data")


@pytest.fixture
def cache_root(tmp_path, monkeypatch):
    """An empty model cache (``RELIABLE_ML_CACHE``) and fresh cache statistics for one test;
    modules that test the caches use it for every test (``pytest.mark.usefixtures``)."""
    from reliable_ml.util import cachestats

    monkeypatch.setenv("RELIABLE_ML_CACHE", str(tmp_path))
    cachestats.reset()
    yield tmp_path
    cachestats.reset()
