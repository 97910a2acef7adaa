"""The GPU entry point runs end to end on a CPU in the smoke profile and writes its results file."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from reliable_ml import settings
from reliable_ml.experiments import robust_cifar
from reliable_ml.robust import train as rt

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


def write_jpeg_cifar(root, per_class=(("train", 12), ("test", 6)), size=16):
    """A tiny stand-in for the offline JPEG copy's layout: 10 class folders of random JPEG images per split."""
    rng = np.random.default_rng(0)
    for split, n in per_class:
        for c in range(10):
            folder = root / "cifar10-jpeg" / split / f"class{c}"
            folder.mkdir(parents=True)
            for i in range(n):
                Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(folder / f"{i:04d}.jpg")


def rows(x: torch.Tensor) -> set[bytes]:
    return {img.numpy().tobytes() for img in x}


def test_epoch_selection_is_on_heldout_training_images_and_the_protocol_is_recorded(
    tmp_root, tmp_results, monkeypatch, capsys
):
    write_jpeg_cifar(tmp_root)
    seen: dict = {}
    train, evaluate = rt.train, rt.evaluate

    def spy_train(model, x_train, y_train, cfg, **kw):
        seen["fit"], seen["select"] = x_train, kw["x_val"][: cfg.val_size]
        return train(model, x_train, y_train, cfg, **kw)

    def spy_evaluate(model, x, y, eps, **kw):
        seen["eval"] = (x * 255).round().to(torch.uint8).cpu()
        return evaluate(model, x, y, eps, **kw)

    monkeypatch.setattr(rt, "train", spy_train)
    monkeypatch.setattr(rt, "evaluate", spy_evaluate)
    smoke = settings.row("robust_cifar", "smoke")
    tiny = dict(
        n_train=80, width=2, n_eval=30, autoattack_n=6, autoattack_iterations=2, square_queries=10, eval_steps=3,
        train=replace(smoke.train, epochs=2, batch_size=40, val_size=20, keep_best=True),
    )  # fmt: skip
    out = robust_cifar.run("smoke", progress=False, **tiny)
    f = json.loads((tmp_results / "smoke" / "04_adversarial_training.json").read_text())

    # the selection images: 20 held-out training images, none trained on and none a test image
    from reliable_ml.data import load_images

    test_x = load_images("cifar10-jpeg", "test").x
    assert len(seen["select"]) == 20 and len(seen["fit"]) == 80
    assert rows(seen["select"]).isdisjoint(rows(seen["fit"]))
    assert rows(seen["select"]).isdisjoint(rows(test_x)) and rows(seen["eval"]) <= rows(test_x)
    sel = f["evaluation_protocol"]["selection"]
    assert sel["split_size"] == 20 and sel["split_seed"] == 0 and sel["keep_best"]
    val = [h["val_robust_acc"] for h in out["history"]]
    assert sel["epoch_chosen"] == f["best_epoch"] == 1 + val.index(max(val))

    # the suite: PGD on every evaluation image, AutoAttack's four components at the row's strength
    p = f["evaluation_protocol"]["attacks"]
    assert list(p) == ["pgd-3x1", "apgd-ce", "apgd-t", "fab-t", "square"]
    assert p["pgd-3x1"]["steps"] == 3 and p["pgd-3x1"]["restarts"] == 1 and p["pgd-3x1"]["n_images"] == 30
    assert {p[k]["iterations"] for k in ("apgd-ce", "apgd-t", "fab-t")} == {2} and p["square"]["queries"] == 10
    assert {p[k]["n_images"] for k in ("apgd-ce", "apgd-t", "fab-t", "square")} == {6}
    assert f["evaluation_protocol"]["test_images"] == 30
    assert f["robust_acc"] == f["worst_case_acc_on_autoattack_subset"] <= min(f["attack_acc"].values())

    # the JPEG copy's caveat, printed and stored
    assert "JPEG" in f["data_caveat"] and "not directly comparable" in f["data_caveat"]
    assert f["data_caveat"] in capsys.readouterr().out

    with pytest.raises(ValueError, match="n_train = 101 exceeds the 100 training images"):
        robust_cifar.run("smoke", progress=False, save=False, **(tiny | {"n_train": 101}))


def test_gpu_row_evaluates_every_test_image_with_the_standard_suite():
    row = settings.row("robust_cifar", "gpu")
    assert row.n_eval == row.autoattack_n == 10_000
    assert row.autoattack_iterations == rt.AUTOATTACK_REFERENCE["apgd-ce"]["iterations"] == 100
    assert row.square_queries == rt.AUTOATTACK_REFERENCE["square"]["queries"] == 5000
    assert row.eval_restarts > 1 and row.train.keep_best and row.train.val_size > 0
    assert row.n_train + row.train.val_size <= 50_000  # selection images come out of the training split
