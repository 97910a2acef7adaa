"""Robust self-training helpers: label split, pseudo-labels, the mixed-batch trainer."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from reliable_ml.models import nets as models
from reliable_ml.robust import self_training as st
from reliable_ml.robust import train as rt


def _toy(n: int = 300, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two classes of 8x8 uint8 images: class 1 has a bright left half, class 0 a bright right half."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randint(0, 60, (n, 1, 8, 8), generator=g)
    x[y == 1, :, :, :4] += 150
    x[y == 0, :, :, 4:] += 150
    return x.to(torch.uint8), y


def _net() -> torch.nn.Module:
    torch.manual_seed(0)
    return models.small_cnn(image_size=8, num_classes=2, channels=(4, 8), hidden=16)


# --------------------------------------------------------------------------- split
def test_split_is_disjoint_balanced_and_sized():
    y = torch.arange(1000) % 10
    lab, pool = st.split_labeled(y, 105, 500, seed=1)
    assert len(lab) == 105 and len(pool) == 500
    assert len(set(lab.tolist()) & set(pool.tolist())) == 0
    counts = torch.bincount(y[lab], minlength=10)
    assert counts.max() - counts.min() <= 1 and counts.sum() == 105
    lab2, pool2 = st.split_labeled(y, 105, seed=1)
    assert torch.equal(lab, lab2) and len(pool2) == 895  # default: everything else
    assert not torch.equal(lab, st.split_labeled(y, 105, seed=2)[0])
    lab3, pool3 = st.split_labeled(y, 7, balanced=False)
    assert len(lab3) == 7 and len(pool3) == 993


@pytest.mark.parametrize(
    "n_labeled, n_unlabeled, match",
    [
        (1001, None, "only 1000 exist"),
        (1000, None, "only 1000 exist"),  # nothing would be left for the pool
        (0, None, "n_labeled"),
        (10, 0, "empty pool"),
        (10, 991, "only 990 remain"),
    ],
)
def test_split_bad_requests(n_labeled, n_unlabeled, match):
    with pytest.raises(ValueError, match=match):
        st.split_labeled(torch.arange(1000) % 10, n_labeled, n_unlabeled)


def test_split_empty_dataset_and_too_few_per_class():
    with pytest.raises(ValueError, match="empty"):
        st.split_labeled(torch.zeros(0, dtype=torch.long), 1)
    with pytest.raises(ValueError, match="class 1"):
        st.split_labeled(torch.tensor([0] * 50 + [1] * 2), 10)


# --------------------------------------------------------------------------- pseudo-labels
def test_pseudo_labels_are_argmax_and_threshold_filters():
    x, _ = _toy(64)
    net = _net()
    net.train()
    labels, conf, keep = st.pseudo_label(net, x, batch_size=10)
    with torch.no_grad():
        probs = torch.softmax(net.eval()(x.float() / 255), 1)
    assert torch.equal(labels, probs.argmax(1)) and torch.allclose(conf, probs.max(1).values)
    assert keep.all() and conf.min() >= 0.5  # two classes: max prob >= 1/2
    t = float(conf.median())
    _, _, keep_t = st.pseudo_label(net, x, threshold=t)
    assert torch.equal(keep_t, conf >= t) and 0 < keep_t.sum() < len(x)
    _, _, keep_1 = st.pseudo_label(net, x.float() / 255, threshold=1.0)  # float input works too
    assert keep_1.sum() <= (conf >= 1.0).sum()


def test_pseudo_label_restores_train_mode():
    net = _net().train()
    st.pseudo_label(net, _toy(8)[0])
    assert net.training


@pytest.mark.parametrize("threshold", [-0.1, 1.01, float("nan"), "0.5"])
def test_pseudo_label_threshold_outside_unit_interval(threshold):
    with pytest.raises(ValueError, match="threshold"):
        st.pseudo_label(_net(), _toy(8)[0], threshold=threshold)


def test_pseudo_label_empty_pool():
    with pytest.raises(ValueError, match="empty"):
        st.pseudo_label(_net(), torch.zeros(0, 1, 8, 8, dtype=torch.uint8))


# --------------------------------------------------------------------------- trainer
CFG = rt.TrainConfig(
    epochs=2,
    batch_size=32,
    method="pgd",
    eps=0.1,
    attack_steps=2,
    optimizer="adam",
    lr_max=1e-2,
    weight_decay=0.0,
    val_size=0,
)


def test_rst_learns_the_toy_task_robustly():
    x, y = _toy(240)
    net = _net()
    res = st.train_rst(net, x[:40], y[:40], CFG, x_pseudo=x[40:], y_pseudo=y[40:], progress=False)
    assert len(res.history) == 2 and res.history[-1]["train_acc"] > 0.8
    xt, yt = _toy(200, seed=1)
    from reliable_ml.robust import attacks

    assert attacks.robust_accuracy(net, xt.float() / 255, yt, 0.1, steps=5) > 0.8


def test_zero_weight_ignores_pseudo_labels_and_weight_one_does_not():
    x, y = _toy(200)
    cfg = rt.TrainConfig(
        epochs=1, batch_size=32, method="standard", optimizer="adam", lr_max=1e-2, weight_decay=0.0, val_size=0
    )
    flipped = 1 - y[50:]

    def params(y_pseudo, w):
        net = _net()
        st.train_rst(net, x[:50], y[:50], cfg, x_pseudo=x[50:], y_pseudo=y_pseudo, unlabeled_weight=w, progress=False)
        return torch.cat([p.detach().flatten() for p in net.parameters()])

    assert torch.equal(params(y[50:], 0.0), params(flipped, 0.0))
    assert not torch.allclose(params(y[50:], 1.0), params(flipped, 1.0))


def test_steps_per_epoch_default_and_override(monkeypatch):
    x, y = _toy(100)
    calls = []
    real = rt.perturb

    def spy(model, xb, yb, *args):
        calls.append(len(xb))
        return real(model, xb, yb, *args)

    monkeypatch.setattr(rt, "perturb", spy)
    cfg = rt.TrainConfig(epochs=1, batch_size=20, method="pgd", eps=0.1, attack_steps=1, val_size=0)
    st.train_rst(_net(), x[:30], y[:30], cfg, x_pseudo=x[30:], y_pseudo=y[30:], progress=False)
    assert calls == [20] * 5  # ceil(100 / 20) full mixed batches
    calls.clear()
    st.train_rst(_net(), x[:30], y[:30], cfg, steps_per_epoch=3, progress=False)
    assert calls == [20] * 3  # labeled only, cycled past its 30 images


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"unlabeled_fraction": 0.0}, "unlabeled_fraction"),
        ({"unlabeled_fraction": 1.0}, "unlabeled_fraction"),
        ({"unlabeled_weight": -1.0}, "unlabeled_weight"),
    ],
)
def test_trainer_bad_settings(kwargs, match):
    x, y = _toy(40)
    with pytest.raises(ValueError, match=match):
        st.train_rst(_net(), x[:20], y[:20], CFG, x_pseudo=x[20:], y_pseudo=y[20:], progress=False, **kwargs)


def test_trainer_empty_pool_and_float_images():
    x, y = _toy(40)
    with pytest.raises(ValueError, match="empty"):
        st.train_rst(_net(), x, y, CFG, x_pseudo=x[:0], y_pseudo=y[:0], progress=False)
    with pytest.raises(ValueError, match="uint8"):
        st.train_rst(_net(), x.float(), y, CFG, progress=False)


def test_steps_for_gives_every_size_enough_passes():
    assert st.steps_for(100, 128, min_steps=150, min_epochs=15) == 150
    assert st.steps_for(3000, 128, min_steps=150, min_epochs=15) == 352  # ceil(15 * 3000 / 128)
    with pytest.raises(ValueError, match="min_steps"):
        st.steps_for(100, 128, min_steps=0, min_epochs=1)


def test_size_sweep_rows_per_size_training_and_seed(tmp_root):
    x, y = _toy(200)
    xt, yt = _toy(60, seed=1)
    cfg = rt.TrainConfig(
        epochs=1, batch_size=32, method="standard", optimizer="adam", lr_max=3e-3, weight_decay=0.0, val_size=0, eps=0.1
    )
    rows = st.size_sweep(
        lambda s: _net(),
        x,
        y,
        xt.float() / 255,
        yt,
        sizes=[20, 80],
        configs={"std": cfg},
        seeds=2,
        min_steps=5,
        min_epochs=2,
        eval_steps=2,
        n_eval_train=50,
        n_classes=2,
    )
    assert [(r["n_train"], r["seed"]) for r in rows] == [(20, 0), (20, 1), (80, 0), (80, 1)]
    assert [r["steps"] for r in rows] == [5, 5, 5, 5] and rows[-1]["epochs"] == pytest.approx(5 * 32 / 80)
    assert all(r["robust test"] <= r["clean test"] for r in rows)


# --------------------------------------------------------------------------- held-out early stopping
def test_train_rst_stops_when_heldout_robust_accuracy_stops_improving(monkeypatch):
    """A crafted run: held-out robust accuracy 0.2, 0.5, 0.4, 0.45, ... after steps 3, 6, 9, 12.
    With patience 2 training stops after step 12 (two checks not beating 0.5) and keeps step 6's weights."""
    x, y = _toy(200)
    xs, ys = _toy(40, seed=1)
    scripted, snapshots = iter([0.2, 0.5, 0.4, 0.45, 0.9, 0.9]), []

    def fake_check(model, xv, yv, eps, steps, seed):
        assert len(xv) == 40 and steps == 2
        snapshots.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        return {"val_clean_acc": 1.0, "val_robust_acc": next(scripted)}

    monkeypatch.setattr(rt, "heldout_check", fake_check)
    cfg = rt.TrainConfig(epochs=1, batch_size=32, method="pgd", eps=0.1, attack_steps=1, optimizer="adam", lr_max=1e-2)
    model = _net()
    fit = st.train_rst(
        model,
        x,
        y,
        cfg,
        steps_per_epoch=18,
        x_select=xs,
        y_select=ys,
        select_every=3,
        patience=2,
        select_steps=2,
        progress=False,
    )
    assert [r["step"] for r in fit.history if "step" in r] == [3, 6, 9, 12]
    assert fit.best_step == 6 and fit.stopped_step == 12
    for k, v in model.state_dict().items():  # the kept weights are those measured at step 6
        assert torch.equal(v, snapshots[1][k]), k
    assert not all(torch.equal(v, snapshots[3][k]) for k, v in model.state_dict().items())


def test_train_rst_without_patience_runs_every_step_and_keeps_the_best(monkeypatch):
    x, y = _toy(100)
    scripted = iter([0.1, 0.3, 0.2])
    monkeypatch.setattr(rt, "heldout_check", lambda *a: {"val_clean_acc": 1.0, "val_robust_acc": next(scripted)})
    cfg = rt.TrainConfig(epochs=1, batch_size=32, method="standard", eps=0.0, optimizer="adam", lr_max=1e-2)
    fit = st.train_rst(
        _net(), x, y, cfg, steps_per_epoch=7, x_select=x[:10], y_select=y[:10], select_every=3, progress=False
    )
    assert [r["step"] for r in fit.history if "step" in r] == [3, 6, 7]  # and a check after the last step
    assert fit.best_step == 6 and fit.stopped_step == 7
    with pytest.raises(ValueError, match="select_every"):
        st.train_rst(_net(), x, y, cfg, x_select=x[:10], y_select=y[:10], progress=False)


# --------------------------------------------------------------------------- result cache
def _sweep(x, y, xt, yt, lr=3e-3):
    cfg = rt.TrainConfig(
        epochs=1,
        batch_size=32,
        method="pgd",
        attack_steps=2,
        optimizer="adam",
        lr_max=lr,
        weight_decay=0.0,
        val_size=0,
        eps=0.1,
    )
    return st.size_sweep(
        lambda s: _net(),
        x,
        y,
        xt,
        yt,
        sizes=[20, 60],
        configs={"pgd": cfg},
        seeds=2,
        min_steps=4,
        min_epochs=1,
        eval_steps=2,
        n_eval_train=20,
        n_classes=2,
    )


def test_size_sweep_warm_run_trains_nothing_and_returns_the_same_rows(tmp_root, monkeypatch):
    x, y = _toy(200)
    xt, yt = _toy(40, seed=1)
    cold = _sweep(x, y, xt.float() / 255, yt)
    trained = []
    real_train = st.train_rst
    monkeypatch.setattr(st, "train_rst", lambda *a, **k: trained.append(1) or real_train(*a, **k))
    assert _sweep(x, y, xt.float() / 255, yt) == cold and not trained
    changed = _sweep(x, y, xt.float() / 255, yt, lr=1e-3)  # another learning rate: every model retrains
    assert len(trained) == len(cold) and [r["n_train"] for r in changed] == [r["n_train"] for r in cold]


def test_compare_cached_returns_the_same_arms_and_labeler(tmp_root):
    x, y = _toy(300)
    xt, yt = _toy(50, seed=2)
    std = rt.TrainConfig(
        epochs=1, batch_size=32, method="standard", optimizer="adam", lr_max=3e-3, weight_decay=0.0, val_size=0, eps=0.1
    )
    rob = dataclasses.replace(std, method="pgd", attack_steps=2)
    kwargs = dict(
        n_labeled=40,
        n_unlabeled=200,
        standard_cfg=std,
        robust_cfg=rob,
        standard_steps=5,
        robust_steps=5,
        eval_steps=2,
        seed=0,
        return_labeler=True,
    )
    cold = st.compare_cached(_net, x, y, xt.float() / 255, yt, **kwargs)
    warm = st.compare_cached(_net, x, y, xt.float() / 255, yt, **kwargs)
    for arm in st.ARMS:
        assert torch.equal(cold[arm]["robust_correct"], warm[arm]["robust_correct"])
        assert cold[arm]["robust_acc"] == warm[arm]["robust_acc"]
    with torch.no_grad():
        assert torch.equal(cold["labeler"](xt.float() / 255), warm["labeler"](xt.float() / 255))
    with pytest.raises(ValueError, match="evaluator"):
        st.compare_cached(_net, x, y, xt.float() / 255, yt, evaluator=lambda m: {}, **kwargs)
