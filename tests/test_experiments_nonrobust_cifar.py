"""The GPU entry point of chapter 10 runs end to end on a CPU in a tiny config and writes its results."""

from __future__ import annotations

import json

import pytest

from reliable_ml import settings
from reliable_ml.experiments import nonrobust_cifar

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.mark.filterwarnings("ignore:FALLBACK")
def test_smoke_profile_end_to_end(tmp_root, tmp_results):
    with pytest.warns(RuntimeWarning, match="FALLBACK"):  # empty data root: digits stand in, labelled so
        out = nonrobust_cifar.run("smoke", progress=False, n_source=200, n_relabel=150, n_test=100, seeds=2)
    record = json.loads((tmp_results / "smoke" / "10_nonrobust_features.json").read_text())
    entry = record["nonrobust"]["cifar10"]
    for key in (
        "d_det_test_acc",
        "d_rand_test_acc",
        "chance",
        "n_train",
        "seeds",
        "d_det_test_acc_spread",
        "source_test_acc",
        "architecture",
    ):
        assert key in entry, key
    assert "fallback" in record["data_source"] and record["entry_point"] == "reliable_ml.experiments.nonrobust_cifar"
    assert entry["n_train"] == 150 and entry["seeds"] == 2 and entry["chance"] == 10
    assert len(entry["d_rand_test_acc_spread"]["values"]) == 2
    assert entry["architecture"] == "PreActResNet-18 (width 4)"
    assert out["experiment"].sets["det"].x.shape[0] == 150


def test_bad_settings_and_cli():
    with pytest.raises(ValueError, match="unknown arch 'vit'.*small_cnn"):
        nonrobust_cifar.run("smoke", save=False, progress=False, arch="vit")
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        nonrobust_cifar.run("huge", save=False)
    with pytest.raises(SystemExit):
        nonrobust_cifar.main(["--profile", "huge"])


def test_gpu_row_is_the_full_size_stand_in():
    s = settings.row("nonrobust_cifar", "gpu")
    assert s.arch == "preact_resnet18" and s.width == 64 and s.eps == 0.5 and s.seeds >= 3
    assert s.n_source + s.n_relabel <= 50_000  # disjoint halves of the training set
