"""The RST GPU entry point runs end to end on a CPU in the smoke profile and writes its results file."""

from __future__ import annotations

import json

import pytest
import torch
from test_experiments_robust_cifar import rows, write_jpeg_cifar

from reliable_ml import settings
from reliable_ml.data import load_images
from reliable_ml.experiments import rst_cifar
from reliable_ml.robust import self_training as st
from reliable_ml.robust import train as rt

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


def test_labeled_only_arm_stops_early_on_heldout_images_and_every_arm_runs_the_suite(
    tmp_root, tmp_results, monkeypatch, capsys
):
    write_jpeg_cifar(tmp_root)
    seen: dict = {}
    compare = st.compare

    def spy_compare(make_model, x_train, y_train, x_test, y_test, **kw):
        seen["train"], seen["select"] = x_train, kw["x_select"]
        seen["eval"] = (x_test * 255).round().to(torch.uint8).cpu()
        return compare(make_model, x_train, y_train, x_test, y_test, **kw)

    # a crafted held-out curve: best at the first check, then no improvement
    scripted = iter([0.6, 0.5, 0.55, 0.7, 0.7])
    checks = []

    def fake_check(model, xv, yv, eps, steps, seed):
        checks.append((xv * 255).round().to(torch.uint8).cpu())
        return {"val_clean_acc": 1.0, "val_robust_acc": next(scripted)}

    monkeypatch.setattr(st, "compare", spy_compare)
    monkeypatch.setattr(rt, "heldout_check", fake_check)
    tiny = dict(
        n_labeled=20, n_unlabeled=60, width=2, n_eval=20, autoattack_n=5, autoattack_iterations=2,
        square_queries=10, select_size=15, select_every=2, patience=2, robust_steps=10, standard_steps=4,
    )  # fmt: skip
    rst_cifar.run("smoke", progress=False, **tiny)
    f = json.loads((tmp_results / "smoke" / "06_robust_self_training.json").read_text())

    # the held-out images: out of every arm's training images (labeled and pool come from x_train), not test
    test_x = load_images("cifar10-jpeg", "test").x
    assert len(seen["select"]) == 15 and len(seen["train"]) == 120 - 15
    assert rows(seen["select"]).isdisjoint(rows(seen["train"])) and rows(seen["select"]).isdisjoint(rows(test_x))
    assert all(rows(c) == rows(seen["select"]) for c in checks)  # each check measures the held-out images

    # early stopping: best check at step 2; steps 4 and 6 do not beat it -> stop after step 6 of 10
    sel = f["evaluation_protocol"]["selection"]
    assert len(checks) == 3 and [c["step"] for c in sel["checks"]] == [2, 4, 6]
    assert sel["step_chosen"] == 2 and sel["stopped_step"] == 6 and sel["planned_steps"] == 10
    assert sel["split_size"] == 15 and sel["split_seed"] == 0 and sel["arms"] == ["labeled_only"]

    # every arm ran the same suite (robust_cifar's function): PGD with restarts + AutoAttack's components
    p = f["evaluation_protocol"]["attacks"]
    assert list(p) == ["pgd-5x1", "apgd-ce", "apgd-t", "fab-t", "square"]
    assert p["pgd-5x1"]["n_images"] == 20 and {p[k]["n_images"] for k in list(p)[1:]} == {5}
    assert {p[k]["iterations"] for k in ("apgd-ce", "apgd-t", "fab-t")} == {2} and p["square"]["queries"] == 10
    for arm in st.ARMS:
        accs = f["attack_acc"][arm]
        assert set(accs) == {"pgd", "pgd-5x1", "apgd-ce", "apgd-t", "fab-t", "square"}
        assert f[f"robust_acc_{arm}"] <= min(v for k, v in accs.items() if k != "pgd")
    assert "JPEG" in f["data_caveat"] and f["data_caveat"] in capsys.readouterr().out


def test_gpu_row_runs_robust_cifars_suite_and_stops_the_labeled_arm_early():
    rst, rc = settings.row("rst_cifar", "gpu"), settings.row("robust_cifar", "gpu")
    for name in ("n_eval", "eval_steps", "eval_restarts", "autoattack_n", "autoattack_iterations", "square_queries"):
        assert getattr(rst, name) == getattr(rc, name), name
    assert rst.eps == rc.eps
    # the labeled-only arm checks several times within its planned steps, and can stop before the end
    assert rst.select_every * (rst.patience + 1) < rst.robust_steps and rst.select_size > 0


def test_chapter_06_gpu_row_passes_the_entry_points_own_values():
    """Chapter 06's gpu profile calls rst_cifar.run with its own row's sizes, steps and evaluation:
    they must be the entry point's gpu row, or the chapter would weaken its suite (e.g. fewer PGD steps)."""
    chapter, rst = settings.row("robust_self_training", "gpu"), settings.row("rst_cifar", "gpu")
    for name in ("n_labeled", "robust_steps", "standard_steps", "n_eval", "eval_steps", "eps"):
        assert getattr(chapter, name) == getattr(rst, name), name
