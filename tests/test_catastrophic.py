"""Watched fast adversarial training (reliable_ml.robust.catastrophic): checks every few steps, cached."""

import pytest
import torch

from reliable_ml import data
from reliable_ml.robust import catastrophic as cat
from reliable_ml.util import cachestats


def test_runs_are_checked_every_few_steps_and_read_back_from_the_cache(tmp_root):
    torch.set_num_threads(1)
    tr, te = data.load_images("digits", "train"), data.load_images("digits", "test")
    kw = dict(eps=0.1, epochs=2, seeds=2, large_alpha=2.0, width=4, check_every=2, check_steps=3)
    cachestats.reset()
    out = cat.mnist_arms(tr.x[:250], tr.y[:250], te.x[:40], te.y[:40], **kw)  # 3 steps per epoch of batch 100
    assert cachestats.summary()["by_cache"]["catastrophic_overfitting"] == {"hits": 0, "misses": 6}
    assert len(out["runs"]) == 3
    for by_seed in out["runs"].values():
        assert set(by_seed) == {"0", "1"}
        for r in by_seed.values():
            assert r["steps"] == [2, 4, 6]  # every 2nd step and the last
            assert r["eps"] == [0.1] * 3  # no ramp: checked at the training radius
            for key in ("pgd_acc", "clean_acc", "fgsm_train_acc"):
                assert len(r[key]) == 3 and all(0 <= v <= 1 for v in r[key])
            assert all(p <= c for p, c in zip(r["pgd_acc"], r["clean_acc"]))  # robust counts need clean too
    assert cat.mnist_arms(tr.x[:250], tr.y[:250], te.x[:40], te.y[:40], **kw) == out
    assert cachestats.summary()["by_cache"]["catastrophic_overfitting"] == {"hits": 6, "misses": 6}
    label = list(out["runs"])[1]
    one = cat.mnist_arms(tr.x[:250], tr.y[:250], te.x[:40], te.y[:40], **kw, only=label)  # one cache entry per arm
    assert one["runs"] == {label: out["runs"][label]}
    assert cachestats.summary()["by_cache"]["catastrophic_overfitting"] == {"hits": 8, "misses": 6}
    with pytest.raises(ValueError, match="unknown arm 'PGD'; allowed"):
        cat.mnist_arms(tr.x[:250], tr.y[:250], te.x[:40], te.y[:40], **kw, only="PGD")
    other = cat.mnist_arms(tr.x[:250], tr.y[:250], te.x[:40], te.y[:40], **kw | {"check_every": 3})
    assert other["runs"][next(iter(other["runs"]))]["0"]["steps"] == [3, 6]  # a new fingerprint, a new run


def test_random_subset_is_seeded_distinct_and_refuses_bad_sizes():
    a, b = cat.random_subset(100, 30, 0), cat.random_subset(100, 30, 0)
    assert torch.equal(a, b) and len(set(a.tolist())) == 30 and not torch.equal(a, torch.arange(30))
    with pytest.raises(ValueError, match=r"k must be in \[1, n_total = 10\]; got 11"):
        cat.random_subset(10, 11, 0)


def test_bad_check_settings_are_refused():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    x, y = torch.zeros(4, 1, 2, 2, dtype=torch.uint8), torch.zeros(4, dtype=torch.long)
    with pytest.raises(ValueError, match="check_every and check_steps must be >= 1; got 0 and 3"):
        cat.watch_run(model, x, y, x.float(), y, cat.TrainConfig(epochs=1), check_every=0, check_steps=3)


def test_the_recipe_figures_agree_with_each_other_and_with_the_training_schedule():
    from reliable_ml.robust import train as rt
    from reliable_ml.settings.training import TrainConfig

    w = cat.WONG_MNIST
    assert w["steps"] == w["epochs"] * w["train_size"] // w["batch"] == 6_000
    assert w["alpha"] == pytest.approx(1.25 * w["eps"])
    # the course's one-cycle schedule peaks where Wong et al.'s MNIST script does (2/5), not where their CIFAR one does
    cfg = TrainConfig(method="fgsm_rs", eps=0.3, step_size=0.375, epochs=10, lr_max=5e-3)
    assert rt.learning_rate(cfg, 10 * w["lr_peak_frac"]) == pytest.approx(w["lr_max"])
    assert rt.learning_rate(cfg, 10 * cat.WONG_CIFAR["lr_peak_frac"]) < w["lr_max"]
    assert cat.WONG_CIFAR["alpha"] == pytest.approx(1.25 * cat.WONG_CIFAR["eps"])


def test_the_recipe_scale_text_puts_the_runs_in_proportion():
    text = cat.recipe_scale_text(1000)
    assert text.startswith("1,000 steps are 0.17 of the recipe's 6,000, an early stage of it, not its end point")
    assert "does not measure" in text and "%" not in text  # no figure for the full recipe that this run did not measure
    full = cat.recipe_scale_text(6000)
    assert full.startswith("6,000 steps are the recipe's full length (10 epochs over all 60,000 digits)")
    with pytest.raises(ValueError, match="n_steps must be a positive number of optimizer steps; got 0"):
        cat.recipe_scale_text(0)
