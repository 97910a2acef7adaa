"""The GPU entry point of chapter 11 runs end to end on a CPU in a tiny config and writes its results."""

from __future__ import annotations

import json

import pytest

from reliable_ml import settings
from reliable_ml.experiments import spatial_cifar

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.mark.filterwarnings("ignore:FALLBACK")
def test_tiny_run_end_to_end(tmp_root, tmp_results):
    with pytest.warns(RuntimeWarning, match="FALLBACK"):  # empty data root: digits stand in, labelled so
        out = spatial_cifar.run("smoke", progress=False, n_train=200, n_eval=60, seeds=2, epochs=1)
    record = json.loads((tmp_results / "smoke" / "11_spatial_and_physical_robustness.json").read_text())
    entry = record["spatial_cifar"]
    for attack in ("clean", "grid", "random"):
        assert set(entry[attack]) == {"standard", "spatial_trained"}
        for arm in ("standard", "spatial_trained"):
            assert 0 <= entry[attack][arm] <= 1 and len(entry["per_seed"][attack][arm]) == 2
            assert entry["grid"][arm] <= entry["clean"][arm]  # the grid contains the identity
    assert entry["n_eval"] == 60 and entry["seeds"] == 2 and entry["n_train"] == 200
    assert "fallback" in record["data_source"] and record["entry_point"] == "reliable_ml.experiments.spatial_cifar"
    assert len(out["models"]["standard"]) == 2
    assert out["summary"]["clean"]["standard"] == pytest.approx(100 * entry["clean"]["standard"])


def test_bad_settings_and_cli():
    with pytest.raises(ValueError, match="unknown arch 'vit'.*small_cnn"):
        spatial_cifar.run("smoke", save=False, progress=False, arch="vit")
    with pytest.raises(ValueError, match="unknown spatial_method 'rotate'"):
        spatial_cifar.run("smoke", save=False, progress=False, spatial_method="rotate")
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        spatial_cifar.run("huge", save=False)
    with pytest.raises(SystemExit):
        spatial_cifar.main(["--profile", "huge"])


def test_gpu_row_is_the_papers_setting():
    s = settings.row("spatial_cifar", "gpu")
    assert s.arch == "preact_resnet18" and s.n_train == 50_000 and s.n_eval == 10_000
    assert (s.n_angles, s.n_shifts, s.max_angle, s.max_shift) == (31, 5, 30.0, 3.0)
    assert s.spatial_method == "worst_of_k" and s.k == 10 and s.seeds >= 3
