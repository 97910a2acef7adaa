"""The GPU entry point runs end to end on a CPU in the smoke profile and writes its results file."""

from __future__ import annotations

import json

import pytest
import torch

from reliable_ml.experiments import robust_cifar

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.mark.filterwarnings("ignore:FALLBACK")
def test_smoke_profile_end_to_end(tmp_root, tmp_results, tmp_path):
    with pytest.warns(RuntimeWarning, match="FALLBACK"):  # empty data root: digits stand in, labelled so
        out = robust_cifar.run("smoke", progress=False, checkpoint=tmp_path / "ckpt.pt")
    record = json.loads((tmp_results / "smoke" / "04_adversarial_training.json").read_text())
    for key in ("clean_acc", "robust_acc", "attack", "epsilon", "train_minutes", "device", "data_source"):
        assert key in record, key
    assert "fallback" in record["data_source"]
    assert 0 <= record["robust_acc"] <= record["clean_acc"] <= 1
    assert record["epsilon"] == pytest.approx(8 / 255)
    assert (tmp_path / "ckpt.pt").exists()
    # the checkpoint is never silently replaced; resume picks up the finished run
    with pytest.raises(FileExistsError):
        robust_cifar.run("smoke", progress=False, save=False, checkpoint=tmp_path / "ckpt.pt")
    again = robust_cifar.run("smoke", progress=False, save=False, checkpoint=tmp_path / "ckpt.pt", resume=True)
    for a, b in zip(out["model"].state_dict().values(), again["model"].state_dict().values()):
        assert torch.equal(a, b)


def test_cli_rejects_unknown_profile():
    with pytest.raises(SystemExit):
        robust_cifar.main(["--profile", "huge"])
