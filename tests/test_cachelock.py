"""One builder per cache entry, across processes (chapters executed side by side)."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reliable_ml.util import cachelock

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock locks are POSIX only")


def build_once(entry: str, log: str) -> None:
    with cachelock.building(Path(entry)):
        if not Path(entry).exists():
            time.sleep(0.3)  # long enough for the other process to reach the lock
            with open(log, "a") as fh:
                fh.write(f"{os.getpid()}\n")
            Path(entry).write_text("model")


def test_the_second_process_waits_and_finds_the_entry_built(tmp_path):
    entry, log = tmp_path / "cache" / "model.pt", tmp_path / "log"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=build_once, args=(str(entry), str(log))) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert len(log.read_text().split()) == 1, "exactly one process built the entry"
    assert entry.read_text() == "model"


def test_a_crashed_holder_releases_the_lock(tmp_path):
    entry = tmp_path / "model.pt"
    code = (
        "import os; from pathlib import Path; from reliable_ml.util import cachelock\n"
        f"with cachelock.building(Path({str(entry)!r})):\n    os._exit(3)\n"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 3
    t0 = time.perf_counter()
    with cachelock.building(entry):
        pass
    assert time.perf_counter() - t0 < 5


@pytest.mark.slow
def test_two_chapters_side_by_side_build_the_shared_robust_model_once(tmp_path):
    """Two processes ask for the shared robust model at once (smoke row, digits): one trains."""
    code = (
        "from reliable_ml.util import cachestats; from reliable_ml.robust import shared_model as rm\n"
        "rm.shared_robust_model('mnist', 'smoke', progress=False)\n"
        "import json; print(json.dumps(cachestats.summary()['by_cache']))\n"
    )
    (tmp_path / "data").mkdir()
    env = {
        **os.environ,
        "RELIABLE_ML_DATA": str(tmp_path / "data"),
        "RELIABLE_ML_CACHE": str(tmp_path / "cache"),
        "OMP_NUM_THREADS": "1",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        for _ in range(2)
    ]
    outs = [json.loads(p.communicate(timeout=300)[0].strip().splitlines()[-1]) for p in procs]
    misses = sum(o["robust_model"]["misses"] for o in outs)
    hits = sum(o["robust_model"]["hits"] for o in outs)
    assert (misses, hits) == (1, 1), outs
