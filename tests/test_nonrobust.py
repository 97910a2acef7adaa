"""Relabelled datasets of Ilyas et al. (2019) and the measures of what robust models see."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from reliable_ml.data import load_images
from reliable_ml.models import nets as models
from reliable_ml.robust import attacks
from reliable_ml.robust import nonrobust as nr
from reliable_ml.robust import train as rt

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(autouse=True)
def cache_root(tmp_path, monkeypatch):
    """Relabelled sets, trained models and attacks are kept in the result cache: an empty one per test."""
    monkeypatch.setenv("RELIABLE_ML_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def digits_model():
    """A small CNN trained for a few epochs on scikit-learn's digits (about 1 s)."""
    train = load_images("digits", "train")
    torch.manual_seed(0)
    model = models.small_cnn(image_size=8, channels=(8, 16), hidden=32)
    cfg = rt.TrainConfig(
        epochs=4, batch_size=64, method="standard", eps=0.0, optimizer="adam", lr_max=1e-2, weight_decay=0.0, val_size=0
    )
    rt.train(model, train.x, train.y, cfg, progress=False)
    test = load_images("digits", "test")
    return model, train, test


def test_targets_det_and_rand():
    y = torch.arange(10).repeat(100)
    assert torch.equal(nr.targets(y, "det"), (y + 1) % 10)
    assert nr.targets(torch.tensor([9, 0]), "det", num_classes=10).tolist() == [0, 1]
    t = nr.targets(y, "rand", seed=3)
    assert torch.equal(t, nr.targets(y, "rand", seed=3)) and not torch.equal(t, nr.targets(y, "rand", seed=4))
    assert t.min() >= 0 and t.max() <= 9 and len(t.unique()) == 10
    assert 0.05 < float((t == y).float().mean()) < 0.15  # a random target equals the label about 1 time in 10
    with pytest.raises(ValueError, match="unknown relabelling mode 'next'.*det, rand"):
        nr.targets(y, "next")
    with pytest.raises(ValueError, match=r"labels must lie in 0 .. 9.*\[0, 10\]"):
        nr.targets(torch.tensor([0, 10]), "det")


def test_targeted_pgd_stays_in_the_ball_and_reaches_targets(digits_model):
    model, _, test = digits_model
    x, y = test.x[:64].float() / 255, test.y[:64]
    t = nr.targets(y, "det")
    for norm, eps in (("l2", 1.5), ("linf", 0.2)):
        x_adv = nr.targeted_pgd(model, x, t, eps, norm=norm, steps=10)
        d = (x_adv - x).flatten(1)
        size = d.norm(dim=1) if norm == "l2" else d.abs().amax(1)
        assert float(size.max()) <= eps + 1e-5 and x_adv.min() >= 0 and x_adv.max() <= 1
        with torch.no_grad():
            before, after = ((model(v).argmax(1) == t).float().mean() for v in (x, x_adv))
        assert after > before + 0.3, (norm, before, after)
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        nr.targeted_pgd(model, x, t, 1.0, steps=0)
    with pytest.raises(ValueError, match="unknown norm 'l1'"):
        nr.targeted_pgd(model, x, t, 1.0, norm="l1")


def test_one_step_matches_the_package_pgd_where_it_succeeds(digits_model):
    """attacks.pgd keeps the first iterate that reaches the target: after one step, the same image."""
    model, _, test = digits_model
    x, y = test.x[:128].float() / 255, test.y[:128]
    t = nr.targets(y, "det")
    ours = nr.targeted_pgd(model, x, t, 1.0, norm="l2", steps=1, step_size=1.0)
    theirs, success = attacks.pgd(
        model, x, t, 1.0, norm="l2", steps=1, step_size=1.0, random_start=False, targeted=True
    )
    with torch.no_grad():
        already = model(x).argmax(1) == t  # reached at iterate 0: pgd returns x itself
    keep = success & ~already
    assert keep.sum() >= 5
    torch.testing.assert_close(ours[keep], theirs[keep])


def test_targeted_pgd_matches_torchattacks_pgdl2(digits_model):
    torchattacks = pytest.importorskip("torchattacks")
    model, _, test = digits_model
    x, y = test.x[:32].float() / 255, test.y[:32]
    t = nr.targets(y, "rand", seed=1)
    atk = torchattacks.PGDL2(model, eps=1.2, alpha=0.3, steps=8, random_start=False)
    atk.set_mode_targeted_by_label(quiet=True)
    ref = atk(x, t)
    ours = nr.targeted_pgd(model, x, t, 1.2, norm="l2", steps=8, step_size=0.3)
    torch.testing.assert_close(ours, ref, atol=2e-4, rtol=0)  # float32 summation order differs


def test_relabel_builds_uint8_sets_labelled_with_targets(digits_model):
    model, train, _ = digits_model
    x, y = train.x[:200], train.y[:200]
    for mode in nr.MODES:
        r = nr.relabel(model, x, y, mode, eps=1.5, steps=10, seed=2, batch_size=64)
        assert r.x.dtype == torch.uint8 and r.x.shape == x.shape
        assert torch.equal(r.t, nr.targets(y, mode, seed=2)) and torch.equal(r.y, y)
        moved = (r.x.float() - x.float()).flatten(1).norm(dim=1) / 255
        assert float(moved.max()) <= 1.5 + 0.5 * 8 / 255 + 1e-4  # eps plus uint8 rounding (<= 0.5/255 on 64 pixels)
        assert r.hit_rate > 0.5  # the source model sees the new label on most images
    with pytest.raises(ValueError, match="x_uint8 must be uint8"):
        nr.relabel(model, x.float() / 255, y, "det", eps=1.0)


def test_stroke_mass_known_values():
    x = torch.zeros(2, 1, 4, 4)
    x[:, :, 1:3, 1:3] = 1.0  # a 2x2 "stroke": area 4/16
    mask = nr.stroke_mask(x, dilate=0)
    assert mask.shape == (2, 1, 4, 4) and int(mask.sum()) == 8
    assert nr.stroke_mask(x, dilate=1).sum() == 2 * 16  # grown by one pixel it covers the 4x4 image
    uniform = torch.ones(2, 3, 4, 4)
    torch.testing.assert_close(nr.stroke_mass(uniform, mask), torch.full((2,), 0.25))
    torch.testing.assert_close(nr.stroke_mass(-x, mask), torch.ones(2))
    with pytest.raises(ValueError, match="mask has"):
        nr.stroke_mass(uniform, mask[:1])


def test_judge_agreement_with_knn_and_torch_model():
    gen = torch.Generator().manual_seed(0)
    x_train = (torch.rand(100, 1, 4, 4, generator=gen) * 60).to(torch.uint8)
    y_train = torch.zeros(100, dtype=torch.long)
    x_train[50:] += 150
    y_train[50:] = 1
    judge = nr.knn_judge(x_train, y_train, k=3)
    x = torch.cat([torch.full((3, 1, 4, 4), 0.1), torch.full((2, 1, 4, 4), 0.8)])
    assert nr.judge_agreement(judge, x, torch.tensor([0, 0, 0, 1, 1])) == 1.0
    assert nr.judge_agreement(judge, x, torch.tensor([1, 1, 1, 1, 1])) == pytest.approx(0.4)
    linear = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    with torch.no_grad():
        linear[1].weight.zero_()
        linear[1].bias.copy_(torch.tensor([0.0, 1.0]))
    assert nr.judge_agreement(linear, x, torch.ones(5, dtype=torch.long)) == 1.0
    with pytest.raises(ValueError, match="same length"):
        nr.judge_agreement(judge, x, torch.ones(2, dtype=torch.long))


def test_spread():
    s = nr.spread([10.0, 20.0, 30.0])
    assert s["mean"] == 20 and s["std"] == pytest.approx(10.0) and (s["min"], s["max"]) == (10, 30)
    assert nr.spread([5.0])["std"] == 0.0
    with pytest.raises(ValueError):
        nr.spread([])


def test_relabel_experiment_end_to_end_on_digits(digits_model):
    _, train, test = digits_model
    cfg = rt.TrainConfig(
        epochs=3, batch_size=64, method="standard", eps=0.0, optimizer="adam", lr_max=1e-2, weight_decay=0.0, val_size=0
    )
    x_test, y_test = test.x.float() / 255, test.y
    exp = nr.relabel_experiment(
        train.x, train.y, x_test, y_test, train_cfg=cfg, eps=1.5, steps=5, n_source=600, n_relabel=500, seeds=2
    )
    f = exp.figures
    assert f["n_train"] == 500 and f["seeds"] == 2 and f["chance"] == 10 and f["disjoint"]
    assert len(exp.per_seed["det"]) == 2 and f["d_det_test_acc"] == pytest.approx(np.mean(exp.per_seed["det"]))
    for key in ("source_test_acc", "d_det_test_acc", "d_rand_test_acc", "d_det_hit_rate"):
        assert 0 <= f[key] <= 100
    assert f["source_test_acc"] > 80
    assert set(exp.sets) == {"det", "rand"} and len(exp.sets["det"].x) == 500
    assert torch.equal(train.y[exp.indices], exp.sets["rand"].y)
    with pytest.raises(ValueError, match="standard models"):
        nr.relabel_experiment(train.x, train.y, x_test, y_test, train_cfg=rt.TrainConfig(method="pgd"), eps=1.0)
    with pytest.raises(ValueError, match=r"n_source and n_relabel must lie in 1 .. 1347"):
        nr.relabel_experiment(train.x, train.y, x_test, y_test, train_cfg=cfg, eps=1.0, n_source=5000)


def test_large_eps_figures_shapes(digits_model):
    model, train, test = digits_model
    judge = nr.knn_judge(train.x, train.y)
    x, y = test.x[:40].float() / 255, test.y[:40]
    f = nr.large_eps_figures(model, x, y, judge, eps=2.0, steps=10)
    assert f["x_adv"].shape == x.shape and f["grad"].shape == x.shape
    for key in ("hit", "judge_target", "judge_true", "stroke_mass", "stroke_area"):
        assert 0 <= f[key] <= 100, key
    assert f["hit"] > 80  # a large budget reaches the target on a standard model
    # per-image outcomes for paired tests agree with the shares
    assert f["hit_each"].dtype == bool and f["hit_each"].shape == (40,)
    assert 100 * f["hit_each"].mean() == pytest.approx(f["hit"])
    assert 100 * f["judge_target_each"].mean() == pytest.approx(f["judge_target"])
    assert 100 * f["stroke_mass_each"].mean() == pytest.approx(f["stroke_mass"], rel=1e-5)
    # the image itself, used as a map, puts (nearly) all its mass on the strokes: the stroke measure
    # cannot tell a gradient that "looks like the digit" from a copy of the input
    assert f["input_stroke_mass"] > 99 and 0 <= f["zero_off_stroke"] <= 100


def test_figures_name_their_data(digits_model):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    model, train, test = digits_model
    r = nr.relabel(model, train.x[:12], train.y[:12], "det", eps=1.0, steps=2)
    fig = nr.plot_relabelled(r, "D_det", "digits", n=10)
    assert "Data: digits" in [t.get_text() for t in fig.texts][-1]
    assert fig.axes[0].get_title() == f"{int(r.t[0])} [{int(r.y[0])}]"
    x, y = test.x[:8].float() / 255, test.y[:8]
    judge = nr.knn_judge(train.x, train.y)
    seen = {k: nr.large_eps_figures(model, x, y, judge, eps=1.0, steps=2) for k in ("standard", "robust")}
    fig = nr.plot_what_models_see(x, y, seen, "digits", "title", n=4)
    assert len(fig.axes) == 5 * 4 and fig.axes[0].get_title() == f"{int(y[0])} -> {(int(y[0]) + 1) % 10}"
    rows = {
        (s, k): {c: seen[k][c] for c in ("judge_target", "stroke_mass", "stroke_area")} for s in (0, 1) for k in seen
    }
    by_seed = pd.DataFrame(rows).T.rename_axis(["seed", "model"])
    fig = nr.plot_robust_summary(by_seed, "digits", "extra")
    assert [ax.get_ylabel() for ax in fig.axes] == ["judge says target (%)", "gradient mass on strokes (%)"]
    plt.close("all")


def test_train_cached_loads_the_second_time(tmp_root, tmp_path):
    train = load_images("digits", "train")
    x, y = train.x[:256], train.y[:256]
    cfg = rt.TrainConfig(
        epochs=1, batch_size=64, method="standard", eps=0.0, optimizer="adam", lr_max=1e-2, weight_decay=0.0, val_size=0
    )
    first = nr.train_cached(nr.fresh_model(x, seed=0), x, y, cfg, "t")
    files = list((tmp_path / "cache" / "models").glob("t-n256-*.pt"))
    assert len(files) == 1
    second = nr.train_cached(nr.fresh_model(x, seed=5), x, y, cfg, "t")  # other init: loaded, not retrained
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        torch.testing.assert_close(a, b)
    nr.train_cached(nr.fresh_model(x, seed=0), x, y, rt.TrainConfig(**{**cfg.__dict__, "epochs": 2}), "t")
    assert len(list((tmp_path / "cache" / "models").glob("t-n256-*.pt"))) == 2  # another config, another file


def _counting(monkeypatch, module, name):
    calls, real = [], getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def test_relabel_warm_call_returns_the_cold_set_and_a_change_recomputes(digits_model, monkeypatch):
    model, train, _ = digits_model
    x, y = train.x[:40], train.y[:40]
    calls = _counting(monkeypatch, nr, "targeted_pgd")
    cold = nr.relabel(model, x, y, "rand", eps=1.0, steps=3, seed=1)
    warm = nr.relabel(model, x.clone(), y.clone(), "rand", eps=1.0, steps=3, seed=1)
    assert len(calls) == 1 and isinstance(warm, nr.Relabelled)
    for a, b in zip(cold, warm):
        assert torch.equal(a, b) and a.dtype == b.dtype
    uncached = nr.relabel(model, x, y, "rand", eps=1.0, steps=3, seed=1, cache=False)
    assert len(calls) == 2 and all(torch.equal(a, b) for a, b in zip(cold, uncached))
    nr.relabel(model, x, y, "rand", eps=1.2, steps=3, seed=1)  # a setting
    nr.relabel(model, x, y, "rand", eps=1.0, steps=3, seed=2)  # the targets' seed
    other = copy.deepcopy(model)  # other weights
    with torch.no_grad():
        next(other.parameters()).add_(0.01)
    nr.relabel(other, x, y, "rand", eps=1.0, steps=3, seed=1)
    assert len(calls) == 5


def test_train_fresh_warm_call_loads_the_cold_weights_and_a_change_retrains(monkeypatch):
    train = load_images("digits", "train")
    x, y = train.x[:256], train.y[:256]
    cfg = rt.TrainConfig(
        epochs=1, batch_size=64, method="standard", eps=0.0, optimizer="adam", lr_max=1e-2, weight_decay=0.0, val_size=0
    )
    calls = _counting(monkeypatch, rt, "train")
    cold = nr.train_fresh(x, y, cfg, seed=0)
    warm = nr.train_fresh(x.clone(), y.clone(), cfg, seed=0)
    assert len(calls) == 1 and not warm.training
    for a, b in zip(cold.state_dict().values(), warm.state_dict().values()):
        assert torch.equal(a, b)
    by_hand = nr.fresh_model(x, seed=0)  # what train_fresh stands for
    rt.train(by_hand, x, y, cfg, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(cold.state_dict().values(), by_hand.state_dict().values()))
    calls.clear()
    nr.train_fresh(x, y, cfg, seed=1)  # another initialisation
    nr.train_fresh(x, (y + 1) % 10, cfg, seed=0)  # other labels
    nr.train_fresh(x, y, rt.TrainConfig(**{**cfg.__dict__, "lr_max": 5e-3}), seed=0)  # a setting
    assert len(calls) == 3


def test_large_eps_figures_warm_call_returns_the_cold_figures_and_a_change_recomputes(digits_model, monkeypatch):
    model, train, test = digits_model
    judge = nr.knn_judge(train.x, train.y)
    x, y = test.x[:20].float() / 255, test.y[:20]
    attacked = _counting(monkeypatch, nr, "targeted_pgd")
    judged = _counting(monkeypatch, judge, "predict")
    cold = nr.large_eps_figures(model, x, y, judge, eps=2.0, steps=5, restarts=2)
    warm = nr.large_eps_figures(model, x.clone(), y.clone(), judge, eps=2.0, steps=5, restarts=2)
    assert (len(attacked), len(judged)) == (1, 1)
    assert set(warm) == set(cold)
    for key, value in cold.items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(warm[key], value), key
        elif isinstance(value, np.ndarray):
            assert np.array_equal(warm[key], value) and warm[key].dtype == value.dtype, key
        else:
            assert warm[key] == value, key
    uncached = nr.large_eps_figures(model, x, y, judge, eps=2.0, steps=5, restarts=2, cache=False)
    assert uncached["hit"] == cold["hit"] and torch.equal(uncached["x_adv"], cold["x_adv"])
    attacked.clear()
    nr.large_eps_figures(model, x, y, judge, eps=2.0, steps=5, restarts=1)  # a setting
    nr.large_eps_figures(model, x, y, judge, eps=2.0, steps=5, restarts=2, seed=1)  # the restarts' seed
    assert len(attacked) == 2


def test_knn_judge_answers_are_cached_by_the_data_it_was_fitted_on(digits_model, monkeypatch):
    _, train, test = digits_model
    x = test.x[:30].float() / 255
    judge = nr.knn_judge(train.x, train.y, k=3)
    calls = _counting(monkeypatch, judge, "predict")
    cold = nr.judge_predictions(judge, x)
    warm = nr.judge_predictions(judge, x.clone())
    assert len(calls) == 1 and np.array_equal(cold, warm) and cold.dtype == warm.dtype
    assert np.array_equal(cold, judge.predict(x.reshape(30, -1).numpy()))
    calls.clear()
    for other in (nr.knn_judge(train.x, train.y, k=5), nr.knn_judge(train.x, (train.y + 1) % 10, k=3)):
        said = _counting(monkeypatch, other, "predict")
        nr.judge_predictions(other, x)  # another k, other labels: answered anew
        assert len(said) == 1
    nr.judge_predictions(judge, x[:20])  # other images
    assert len(calls) == 1
