"""The RST GPU entry point runs end to end on a CPU in the smoke profile and writes its results file."""

from __future__ import annotations

import json

import pytest

from reliable_ml.experiments import rst_cifar

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.mark.filterwarnings("ignore:FALLBACK")
def test_smoke_profile_end_to_end(tmp_root, tmp_results, capsys):
    with pytest.warns(RuntimeWarning, match="FALLBACK"):  # empty data root: digits stand in, labelled so
        rst_cifar.main(["--profile", "smoke"])
    assert "robust_acc_rst" in capsys.readouterr().out
    record = json.loads((tmp_results / "smoke" / "06_robust_self_training.json").read_text())
    for key in (
        "robust_acc_labeled_only",
        "robust_acc_rst",
        "robust_acc_ceiling",
        "clean_acc_rst",
        "n_labeled",
        "n_unlabeled",
        "epsilon",
        "data_source",
        "attack",
        "pseudo_label_acc",
        "device",
    ):
        assert key in record, key
    assert "fallback" in record["data_source"]
    assert record["n_labeled"] == 100 and record["n_unlabeled"] == 300
    assert record["epsilon"] == pytest.approx(8 / 255)
    for arm in ("labeled_only", "rst", "ceiling"):
        assert 0 <= record[f"robust_acc_{arm}"] <= record[f"clean_acc_{arm}"] <= 1


def test_bad_profile_and_cli():
    with pytest.raises(ValueError, match="unknown profile"):
        rst_cifar.run("cpu", save=False)
    with pytest.raises(SystemExit):
        rst_cifar.main(["--profile", "huge"])
