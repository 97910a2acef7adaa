"""Adversarial training: schedules, device-side augmentation, training works, exact resume, safe checkpoints, DDP."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace

import pytest
import torch

from reliable_ml.data import load_images
from reliable_ml.models import nets as models
from reliable_ml.robust import attacks
from reliable_ml.robust import train as rt

TINY = rt.TrainConfig(
    epochs=2,
    batch_size=64,
    method="pgd",
    eps=0.1,
    attack_steps=2,
    optimizer="adam",
    lr_max=3e-3,
    weight_decay=0.0,
    val_size=64,
    val_attack_steps=3,
    seed=0,
)


pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def digits():
    x, y, _ = load_images("digits", "train")
    xt, yt, _ = load_images("digits", "test")
    return x[:384], y[:384], xt, yt


def tiny_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return models.small_cnn(image_size=8, channels=(8, 16), hidden=32)


def test_learning_rate_schedules():
    cyc = rt.TrainConfig(epochs=10, lr_max=1.0)
    assert [rt.learning_rate(cyc, t) for t in (0, 2, 4, 7, 10)] == pytest.approx([0, 0.5, 1.0, 0.5, 0])
    pw = replace(cyc, lr_schedule="piecewise")
    assert [rt.learning_rate(pw, t) for t in (0, 4.9, 5, 7.6, 10)] == pytest.approx([1, 1, 0.1, 0.01, 0.01])
    ramp = replace(cyc, eps=0.3, eps_ramp_epochs=2)
    assert [rt.epsilon_at(ramp, t) for t in (0, 1, 2, 5)] == pytest.approx([0, 0.15, 0.3, 0.3])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(method="trades"), "method 'trades'"),
        (dict(lr_schedule="cosine"), "lr_schedule"),
        (dict(epochs=0), "epochs must be >= 1"),
        (dict(eps=-1.0), "eps must be >= 0"),
    ],
)
def test_bad_config(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rt.TrainConfig(**kwargs)


def test_default_step_sizes():
    assert rt.TrainConfig(method="fgsm_rs", eps=0.2).alpha == pytest.approx(0.25)  # 1.25 eps (Wong et al.)
    assert rt.TrainConfig(method="pgd", eps=0.1, attack_steps=5).alpha == pytest.approx(0.05)


def test_random_crop_flip_is_a_shifted_window():
    gen = torch.Generator().manual_seed(0)
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).view(2, 3, 8, 8) + 1
    out = rt.random_crop_flip(x, gen, pad=2)
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for b in range(2):  # each output equals some (possibly flipped) window of the padded image
        windows = [padded[b, :, i : i + 8, j : j + 8] for i in range(5) for j in range(5)]
        assert any(torch.equal(out[b], w) or torch.equal(out[b], w.flip(2)) for w in windows)
    # with many images both flips and several offsets occur
    many = rt.random_crop_flip(x[:1].expand(64, -1, -1, -1), gen, pad=2)
    assert len({tuple(m.flatten()[:20].tolist()) for m in many}) > 5


def test_perturb_stays_in_ball_and_range(digits):
    x, y, _, _ = digits
    model = tiny_model()
    xb = x[:32].float() / 255
    x_adv = rt.perturb(model, xb, y[:32], 0.1, 0.05, 3, torch.Generator().manual_seed(0))
    assert float((x_adv - xb).abs().max()) <= 0.1 + 1e-6 and x_adv.min() >= 0 and x_adv.max() <= 1
    assert all(p.grad is None for p in model.parameters())


def test_adversarial_training_beats_standard_training_under_attack():
    """FGSM-RS training on all 1,347 digits: PGD-10 robust accuracy well above a standard model's."""
    x, y, _ = load_images("digits", "train")
    xt, yt, _ = load_images("digits", "test")
    cfg = rt.TrainConfig(
        epochs=4,
        batch_size=64,
        method="fgsm_rs",
        eps=0.1,
        optimizer="adam",
        lr_max=5e-3,
        weight_decay=0.0,
        val_size=128,
        val_attack_steps=5,
    )
    robust, standard = (models.small_cnn(image_size=8, channels=(16, 32), hidden=64) for _ in range(2))
    standard.load_state_dict(robust.state_dict())
    hist = rt.train(robust, x, y, cfg, x_val=xt, y_val=yt, progress=False).history
    rt.train(standard, x, y, replace(cfg, method="standard"), progress=False)
    xv, yv = xt.float() / 255, yt
    rob, std = (
        attacks.robust_accuracy(m, xv, yv, 0.1, steps=10, generator=torch.Generator().manual_seed(0))
        for m in (robust, standard)
    )
    assert rob > std + 0.1, (rob, std)
    assert attacks.accuracy(robust, xv, yv) > 0.85
    assert len(hist) == 4 and {"val_clean_acc", "val_robust_acc", "train_loss"} <= hist[0].keys()
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]


@pytest.mark.parametrize("method", ["pgd", "fgsm_rs"])
def test_resume_gives_identical_weights(digits, tmp_path, method):
    x, y, xt, yt = digits
    cfg = replace(TINY, method=method)
    straight = tiny_model()
    rt.train(straight, x, y, cfg, x_val=xt, y_val=yt, checkpoint=tmp_path / "a.pt", progress=False)

    # one epoch, then "crash": a fresh process would build the model again and resume
    first = tiny_model()
    rt.train(
        first, x, y, replace(cfg), x_val=xt, y_val=yt, checkpoint=tmp_path / "b.pt", progress=False, stop_after_epoch=1
    )
    assert torch.load(tmp_path / "b.pt", weights_only=True)["epoch"] == 1
    resumed = tiny_model(seed=123)  # different init: everything must come from the checkpoint
    res = rt.train(resumed, x, y, cfg, x_val=xt, y_val=yt, checkpoint=tmp_path / "b.pt", resume=True, progress=False)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    assert [h["epoch"] for h in res.history] == [1, 2]


def test_checkpoint_is_written_atomically_and_never_clobbered(digits, tmp_path):
    x, y, _, _ = digits
    ckpt = tmp_path / "run.pt"
    rt.train(tiny_model(), x, y, replace(TINY, epochs=1), checkpoint=ckpt, progress=False)
    assert ckpt.exists() and not list(tmp_path.glob(".*tmp"))  # no temporary left behind
    with pytest.raises(FileExistsError, match="resume=True"):
        rt.train(tiny_model(), x, y, replace(TINY, epochs=1), checkpoint=ckpt, progress=False)
    # a different config is refused, and the file is left as it was
    before = ckpt.read_bytes()
    with pytest.raises(rt.CheckpointError, match="different config"):
        rt.train(tiny_model(), x, y, replace(TINY, epochs=1, eps=0.2), checkpoint=ckpt, resume=True, progress=False)
    assert ckpt.read_bytes() == before


def test_corrupt_checkpoint_gives_clear_error_and_is_kept(digits, tmp_path):
    x, y, _, _ = digits
    ckpt = tmp_path / "run.pt"
    ckpt.write_bytes(b"not a checkpoint at all")
    with pytest.raises(rt.CheckpointError, match="unreadable"):
        rt.train(tiny_model(), x, y, TINY, checkpoint=ckpt, resume=True, progress=False)
    assert ckpt.read_bytes() == b"not a checkpoint at all"
    # a checkpoint for another architecture
    rt.train(tiny_model(), x, y, replace(TINY, epochs=1), checkpoint=tmp_path / "small.pt", progress=False)
    other = models.small_cnn(image_size=8, channels=(4, 8), hidden=16)
    with pytest.raises(rt.CheckpointError, match="does not fit"):
        rt.train(other, x, y, replace(TINY, epochs=1), checkpoint=tmp_path / "small.pt", resume=True, progress=False)


def test_bad_training_data(digits):
    x, y, _, _ = digits
    with pytest.raises(ValueError, match="uint8"):
        rt.train(tiny_model(), x.float() / 255, y, TINY, progress=False)


@pytest.mark.slow  # ~20 s: two fresh torch processes
@pytest.mark.skipif(sys.platform == "win32", reason="torchrun with gloo on Linux/macOS")
def test_ddp_with_gloo_two_processes(tmp_path):
    """torchrun launches 2 CPU processes; DDP keeps their weights identical."""
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run(
        [
            *torchrun,
            "-m",
            "reliable_ml.robust.train",
            "--tiny",
            "--epochs",
            "1",
            "--checkpoint",
            str(tmp_path / "ddp.pt"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    # two processes share stdout, so a line of one may land inside a line of the other
    found = sorted(re.findall(r"rank (\d)/2:.*?weights_checksum=(-?[0-9.]+)", out.stdout))
    assert [rank for rank, _ in found] == ["0", "1"], out.stdout[-2000:]
    checksums = {checksum for _, checksum in found}
    assert len(checksums) == 1, found
    state = rt.load_checkpoint(tmp_path / "ddp.pt")
    assert state["epoch"] == 1 and len(state["noise_rng"]) == 2


def test_fgsm_without_random_start_is_plain_fgsm(digits):
    x, y, _, _ = digits
    cfg = replace(TINY, method="fgsm", step_size=None)
    assert cfg.alpha == pytest.approx(cfg.eps)
    model = tiny_model().eval()
    xb = x[:32].float() / 255
    yb = y[:32]
    x_adv = rt.perturb(model, xb, yb, 0.1, 0.1, 1, torch.Generator().manual_seed(0), random_start=False)
    x_fgsm, _ = attacks.fgsm(model, xb, yb, 0.1)
    assert torch.allclose(x_adv, x_fgsm, atol=1e-6)
    fit = rt.train(tiny_model(), x, y, replace(cfg, epochs=1), progress=False)
    assert len(fit.history) == 1


def test_evaluate_worst_case_is_over_every_attack_on_the_same_images(digits):
    x, y, xt, yt = digits
    model = tiny_model()
    rt.train(model, x, y, replace(TINY, epochs=1, val_size=0), progress=False)
    xe, ye = xt[:40].float() / 255, yt[:40]
    out = rt.evaluate(
        model,
        xe,
        ye,
        0.1,
        steps=5,
        restarts=1,
        autoattack_n=30,
        autoattack_attacks=["apgd-ce", "square"],
        square_queries=20,
        seed=0,
    )
    accs = out["attack_acc"]
    assert set(accs) == {"pgd-5x1", "apgd-ce", "square"} and out["autoattack_n"] == 30
    assert out["worst_case_acc"] <= min(accs.values()) <= out["clean_acc_on_autoattack_subset"]
    assert out["worst_case_acc"] == out["worst_case_acc_on_autoattack_subset"]
    assert out["autoattack_acc"] <= min(accs["apgd-ce"], accs["square"])
    assert out["worst_case_attacks"] == ["pgd-5x1", "apgd-ce", "square (20 queries)"]
    # the PGD figure on the subset is the same per-image result as on all images
    full = rt.evaluate(model, xe[:30], ye[:30], 0.1, steps=5, restarts=1, seed=0)
    assert full["clean_acc"] == pytest.approx(out["clean_acc_on_autoattack_subset"])
    with pytest.raises(ValueError, match="unknown AutoAttack component 'cw'"):
        rt.evaluate(model, xe, ye, 0.1, steps=2, restarts=1, autoattack_n=5, autoattack_attacks=["cw"])
    with pytest.raises(ValueError, match="exceeds the 40 evaluation images"):
        rt.evaluate(model, xe, ye, 0.1, steps=2, restarts=1, autoattack_n=41)


def test_fast_training_runs_one_row_per_arm_seed_epoch(digits):
    x, y, xt, yt = digits
    arms = {
        "fgsm": replace(TINY, method="fgsm", epochs=2, val_size=32),
        "fgsm-rs": replace(TINY, method="fgsm_rs", epochs=2, val_size=32),
    }
    rows = rt.fast_training_runs(tiny_model, x[:128], y[:128], xt, yt, arms, seeds=2)
    assert len(rows) == 2 * 2 * 2
    assert {(r["arm"], r["seed"], r["epoch"]) for r in rows} == {
        (a, s, e) for a in arms for s in (0, 1) for e in (1, 2)
    }
    assert all(0 <= r["val_robust_acc"] <= r["val_clean_acc"] + 1e-9 <= 1 + 1e-9 for r in rows)
    with pytest.raises(ValueError, match="seeds must be >= 1"):
        rt.fast_training_runs(tiny_model, x, y, xt, yt, arms, seeds=0)


def test_paired_difference_interval():
    a = torch.tensor([True] * 90 + [False] * 10)
    b = torch.tensor([True] * 85 + [False] * 15)
    out = rt.paired_difference(a, b)
    assert out["diff"] == pytest.approx(0.05) and out["n"] == 100
    d = a.double() - b.double()
    half = 1.96 * float(d.std()) / 10
    assert out["lo"] == pytest.approx(0.05 - half) and out["hi"] == pytest.approx(0.05 + half)
    same = rt.paired_difference(a, a)
    assert same["lo"] == same["hi"] == 0.0
    with pytest.raises(ValueError, match="same length"):
        rt.paired_difference(a, b[:50])


def test_autoattack_strength_reads_what_the_suite_runs():
    got = rt.autoattack_strength(rt.AUTOATTACK_COMPONENTS, square_queries=1234)
    assert got["square"]["queries"] == 1234 and got["square"]["iterations"] is None
    assert got["apgd-t"]["targets"] == 9 and got["fab-t"]["targets"] == 9 and got["apgd-ce"]["targets"] is None
    # torchattacks 3.5.1 builds APGD, APGD-T and FAB with 10 iterations: a tenth of the reference's 100
    assert {got[k]["iterations"] for k in ("apgd-ce", "apgd-t", "fab-t")} == {10}
    assert {rt.AUTOATTACK_REFERENCE[k]["iterations"] for k in ("apgd-ce", "apgd-t", "fab-t")} == {100}
    with pytest.raises(ValueError, match="unknown AutoAttack component"):
        rt.autoattack_strength(["pgd"])


def test_heldout_split_is_seeded_disjoint_and_complete():
    fit, sel = rt.heldout_split(100, 20, seed=3)
    assert len(sel) == 20 and len(fit) == 80
    assert set(fit.tolist()).isdisjoint(sel.tolist()) and set(fit.tolist()) | set(sel.tolist()) == set(range(100))
    again, sel_again = rt.heldout_split(100, 20, seed=3)
    assert torch.equal(sel, sel_again) and torch.equal(fit, again)
    assert not torch.equal(rt.heldout_split(100, 20, seed=4)[1], sel)  # the seed draws the split
    assert sorted(sel.tolist()) != list(range(20))  # a random draw, not the first 20
    with pytest.raises(ValueError, match=r"in \[0, 99\]"):
        rt.heldout_split(100, 100, seed=0)


def test_stop_early_waits_patience_checks_without_improvement():
    assert not rt.stop_early([0.1, 0.3, 0.2], patience=2)  # one check below the best so far: keep going
    assert rt.stop_early([0.1, 0.3, 0.2, 0.3], patience=2)  # a tie does not count as improving
    assert not rt.stop_early([0.1, 0.3, 0.2, 0.31], patience=2)
    assert not rt.stop_early([0.5, 0.1, 0.1], patience=None)
    with pytest.raises(ValueError, match="patience must be"):
        rt.stop_early([0.1, 0.2], patience=0)


def test_heldout_check_is_the_per_epoch_check_of_train(digits):
    x, y, xt, yt = digits
    cfg = replace(TINY, epochs=1, val_size=50, val_attack_steps=3)
    model = tiny_model()
    fit = rt.train(model, x, y, cfg, x_val=xt, y_val=yt, progress=False)
    got = rt.heldout_check(model, xt[:50].float() / 255, yt[:50], cfg.eps, 3, cfg.seed)
    assert got["val_robust_acc"] == fit.history[-1]["val_robust_acc"]
    assert got["val_clean_acc"] == fit.history[-1]["val_clean_acc"]


def test_evaluate_records_the_protocol_at_the_requested_strength(digits):
    x, y, xt, yt = digits
    model = tiny_model()
    xe, ye = xt[:12].float() / 255, yt[:12]
    out = rt.evaluate(
        model,
        xe,
        ye,
        0.1,
        steps=3,
        restarts=2,
        autoattack_n=5,
        autoattack_iterations=4,
        square_queries=7,
        per_image=True,
    )
    p = out["protocol"]
    assert list(p) == ["pgd-3x2", "apgd-ce", "apgd-t", "fab-t", "square"]
    assert p["pgd-3x2"] | {"step_size": None} == {
        "steps": 3,
        "restarts": 2,
        "step_size": None,
        "targets": None,
        "queries": None,
        "n_images": 12,
    }
    assert {p[k]["iterations"] for k in ("apgd-ce", "apgd-t", "fab-t")} == {4}
    assert p["square"]["queries"] == 7 and {v["n_images"] for k, v in p.items() if k != "pgd-3x2"} == {5}
    assert p["apgd-t"]["targets"] == 9
    assert out["worst_case_ok"].double().mean().item() == out["worst_case_acc"]
    # default strength stays torchattacks' (10 iterations); the standard suite asks for 100
    assert rt.autoattack_strength(["apgd-ce"], iterations=100)["apgd-ce"]["iterations"] == 100
    with pytest.raises(ValueError, match="iterations must be"):
        rt.autoattack_component("apgd-ce", model, 0.1, iterations=0)
