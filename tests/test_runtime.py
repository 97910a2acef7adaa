"""Profiles, device choice, seeding and the notebook Run helper."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import reliable_ml
from reliable_ml import profiles


def test_pick_and_check_profile():
    assert reliable_ml.pick("smoke", smoke=1, cpu=2, gpu=3) == 1
    assert reliable_ml.pick("gpu", smoke=1, cpu=2, gpu=3) == 3
    with pytest.raises(ValueError, match="smoke, cpu, gpu"):
        profiles.check_profile("full")


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
    run = reliable_ml.start("notebooks/09_demo.py", "smoke", seed=1)
    assert "09_demo: profile=smoke" in capsys.readouterr().out
    path = run.save({"x": 1.0}, data_source="scikit-learn digits (8x8, bundled)")
    record = json.loads(path.read_text())
    assert record["seed"] == 1 and record["device"].startswith(("cpu", "NVIDIA")) and record["wall_seconds"] >= 0
    with pytest.raises(ValueError, match="unknown profile"):
        reliable_ml.start("x", "big")


def test_headless_kernels_get_disabled_progress_bars(monkeypatch):
    import importlib

    import tqdm.auto

    from reliable_ml import progress

    original = tqdm.auto.tqdm
    try:
        monkeypatch.setenv(progress.ENV_HEADLESS, "1")
        assert progress.headless()
        progress.quiet_progress_bars()
        bar = tqdm.auto.tqdm(range(3))
        assert bar.disable and list(bar) == [0, 1, 2]
        monkeypatch.delenv(progress.ENV_HEADLESS)
        assert not progress.headless()
    finally:
        tqdm.auto.tqdm = original
        importlib.reload(tqdm.auto)
