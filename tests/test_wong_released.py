"""Wong et al.'s released MNIST model: manifest entry, strict loading, the check and its text."""

import json
from pathlib import Path

import pytest
import torch

from reliable_ml.data import files as data_files
from reliable_ml.data.root import DataUnavailable
from reliable_ml.robust import attacks, wong_released


def test_the_manifest_pins_the_released_file_to_a_commit_and_checksum():
    src = data_files._manifest()["fast_adversarial"]
    assert src["files"] == {wong_released.REL: "07536ed24c714dac89507d38ffc0090f110de3cd70c40d02d8d56491e187905b"}
    assert data_files.upstream_url(wong_released.REL) == (
        "https://raw.githubusercontent.com/locuslab/fast_adversarial/54f728755e71857b632882ba6d6cef22f56e2172/"
        "MNIST/models/fgsm.pth"
    )
    manifest = Path(data_files.__file__).with_name("manifest.json")
    assert "fgsm.pth" in manifest.read_text() and json.loads(manifest.read_text())  # still valid JSON


def test_load_reads_a_state_dict_strictly_and_check_counts(tmp_path, monkeypatch):
    torch.manual_seed(0)
    fake = wong_released.network()
    torch.save(fake.state_dict(), tmp_path / "fgsm.pth")
    monkeypatch.setattr(data_files, "ensure_file", lambda rel, root=None, download=True: tmp_path / "fgsm.pth")
    model = wong_released.load()
    x = torch.rand(12, 1, 28, 28)
    y = torch.randint(0, 10, (12,))
    assert torch.equal(model(x), fake.eval()(x))
    out = wong_released.check(model, (x * 255).to(torch.uint8), y, 0.3, steps=2, seed=0)
    xq = (x * 255).to(torch.uint8).float() / 255
    assert out["clean_k"] == round(attacks.accuracy(model, xq, y) * 12) and out["n"] == 12
    assert out["pgd_k"] <= out["clean_k"] and out["clean_ci"][0] <= out["clean_acc"] <= out["clean_ci"][1]
    assert "on the same 12 check images" in wong_released.text(out, eps=0.3, steps=2)
    torch.save({"0.weight": torch.zeros(1)}, tmp_path / "fgsm.pth")  # wrong keys: an error, not a silent load
    with pytest.raises(RuntimeError):
        wong_released.load()


def test_a_missing_file_raises_data_unavailable_and_the_text_says_so(tmp_path):
    with pytest.raises(DataUnavailable):
        wong_released.load(root=tmp_path, download=False)
    text = wong_released.text(None, eps=0.3, steps=10, reason="DataUnavailable")
    assert "in this run it is not (DataUnavailable)" in text and "%" not in text
    with pytest.raises(ValueError, match="steps must be >= 1"):
        wong_released.check(
            wong_released.network(), torch.rand(2, 1, 28, 28), torch.zeros(2, dtype=torch.long), 0.3, steps=0, seed=0
        )
