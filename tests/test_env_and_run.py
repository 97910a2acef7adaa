"""Profiles, device choice, seeding, the notebook Run helper, progress bars, no import side effects."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import reliable_ml
from reliable_ml import course, settings


def test_check_profile():
    assert settings.check_profile("smoke") == "smoke"
    with pytest.raises(ValueError, match="smoke, cpu, gpu"):
        settings.check_profile("full")


def test_device_matches_cuda_availability():
    assert reliable_ml.device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_seed_everything_is_reproducible():
    reliable_ml.seed_everything(3)
    a = (torch.rand(3), np.random.rand(3))
    reliable_ml.seed_everything(3)
    b = (torch.rand(3), np.random.rand(3))
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    with pytest.raises(ValueError, match="non-negative int"):
        reliable_ml.seed_everything(-1)


def test_start_and_save(tmp_results, capsys):
    run = course.start("notebooks/09_demo.py", "smoke", seed=1)
    assert "09_demo: profile=smoke" in capsys.readouterr().out
    path = run.save({"x": 1.0}, data_source="scikit-learn digits (8x8, bundled)")
    record = json.loads(path.read_text())
    assert record["seed"] == 1 and record["device"].startswith(("cpu", "NVIDIA")) and record["wall_seconds"] >= 0
    with pytest.raises(ValueError, match="unknown profile"):
        course.start("x", "big")


def test_headless_kernels_get_disabled_progress_bars(monkeypatch):
    from reliable_ml.util import progress

    monkeypatch.setenv(progress.ENV_HEADLESS, "1")
    bar = progress.tqdm(range(3))
    assert progress.headless() and bar.disable and list(bar) == [0, 1, 2]
    monkeypatch.delenv(progress.ENV_HEADLESS)
    bar = progress.tqdm(range(3), disable=False)  # read when the bar is made, not at import
    assert not progress.headless() and not bar.disable and list(progress.trange(2)) == [0, 1]


def test_science_helpers_import_without_side_effects():
    """Importing every science module pulls in no course machinery and patches nothing."""
    import subprocess
    import sys

    code = (
        "import importlib, pathlib, sys, tqdm.auto; before = tqdm.auto.tqdm\n"
        "import reliable_ml\n"
        "root = pathlib.Path(reliable_ml.__file__).parent\n"
        "names = [p.stem for p in root.glob('*.py') if p.stem not in ('__init__', '__main__')]\n"
        "names += ['data', 'settings'] + ['settings.' + p.stem for p in (root / 'settings').glob('[a-z]*.py')]\n"
        "[importlib.import_module('reliable_ml.' + n) for n in names]\n"
        "print(sorted(m for m in sys.modules if m.startswith('reliable_ml.course')))\n"
        "print(tqdm.auto.tqdm is before)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "RELIABLE_ML_HEADLESS": "1"},
    ).stdout.split("\n")
    assert out[0] == "[]", f"science modules import course machinery: {out[0]}"
    assert out[1] == "True", "importing the package must not patch tqdm"
