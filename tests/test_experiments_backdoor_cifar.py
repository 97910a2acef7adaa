"""The GPU entry point of chapter 07 runs end to end on a CPU in the smoke profile and writes its results."""

from __future__ import annotations

import json

import pytest

from reliable_ml import settings
from reliable_ml.experiments import backdoor_cifar
from reliable_ml.pipeline import backdoor_cifar as science

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.mark.filterwarnings("ignore:FALLBACK")
def test_smoke_profile_end_to_end(tmp_root, tmp_results):
    with pytest.warns(RuntimeWarning, match="FALLBACK"):  # empty data root: digits stand in, labelled so
        out = backdoor_cifar.run("smoke", progress=False)
    record = json.loads((tmp_results / "smoke" / "07_backdoors_and_spurious_correlations.json").read_text())
    for key in (
        "attack_success_by_poison_fraction",
        "clean_acc_by_poison_fraction",
        "clean_label_success_plain",
        "clean_label_success_standard",
        "spectral_detection_recall",
        "spurious_cue_acc",
        "data_source",
        "device",
    ):
        assert key in record, key
    assert "fallback" in record["data_source"]
    assert set(record["attack_success_by_poison_fraction"]) == {"0", "0.05"}
    assert set(record["spurious_cue_acc"]) == {"agree", "random", "disagree"}
    for v in (*record["attack_success_by_poison_fraction"].values(), record["spectral_detection_recall"]):
        assert 0 <= v <= 1
    assert out["figures"]["spectral_removed"] == 23  # ceil(1.5 * 15 poisons of 300)


@pytest.mark.filterwarnings("ignore:FALLBACK")
def test_parts_can_be_chosen_and_small_cnn_used(tmp_root):
    with pytest.warns(RuntimeWarning, match="FALLBACK"):
        out = backdoor_cifar.run("smoke", save=False, progress=False, parts=("badnets",), arch="small_cnn")
    f = out["figures"]
    assert f["parts"] == ["badnets"] and f["architecture"] == "small CNN"
    assert set(f["attack_success_by_poison_fraction"]) == {"0", "0.05"}
    assert not any(k.startswith(("clean_label", "spectral", "spurious")) for k in f)


def test_bad_settings_and_cli():
    with pytest.raises(ValueError, match=r"backdoor_cifar \[smoke\]: fractions.*\[0, 1\].*5"):
        backdoor_cifar.run("smoke", save=False, progress=False, fractions=(0.0, 5.0))
    with pytest.raises(ValueError, match="unknown arch 'vit'.*small_cnn"):
        backdoor_cifar.run("smoke", save=False, progress=False, arch="vit")
    with pytest.raises(ValueError, match="parts must be.*badnets"):
        backdoor_cifar.run("smoke", save=False, progress=False, parts=("badnets", "mixup"))
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        backdoor_cifar.run("huge", save=False)
    with pytest.raises(SystemExit):
        backdoor_cifar.main(["--profile", "huge"])


def test_fraction_keys_match_the_scorecard():
    from reliable_ml.course.scorecard import fraction_key

    for f in settings.row("backdoor_cifar", "gpu").fractions:
        assert fraction_key(science.fraction_key(f)) == pytest.approx(f)
