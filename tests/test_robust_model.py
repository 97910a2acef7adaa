"""The shared robust model's masking checks flag masked controls and pass honest models; the
toy trade-off's closed forms match simulation; the shared model is cached by its fingerprint."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from reliable_ml import data
from reliable_ml.models import nets as models
from reliable_ml.robust import shared_model as rm
from reliable_ml.robust import tradeoff
from reliable_ml.robust import train as rt
from reliable_ml.util import cachestats


class Quantize(nn.Module):
    """``round(x * levels) / levels``: piecewise constant, so its gradient is 0 almost everywhere."""

    def __init__(self, levels: int):
        super().__init__()
        self.levels = levels

    def forward(self, x):
        return torch.round(x * self.levels) / self.levels


def _digits(binary: bool = False):
    train, test = data.load_images("digits", "train"), data.load_images("digits", "test")
    xt, xs = train.x, test.x[:200].float() / 255
    if binary:
        xt, xs = (xt > 127).to(torch.uint8) * 255, (xs > 0.5).float()
    return xt, train.y, xs, test.y[:200]


def _standard(xt, yt, seed):
    torch.manual_seed(seed)
    model = models.small_cnn(image_size=8)
    cfg = rt.TrainConfig(
        epochs=8,
        batch_size=64,
        method="standard",
        optimizer="adam",
        lr_max=5e-3,
        weight_decay=0.0,
        val_size=0,
        seed=seed,
    )
    rt.train(model, xt, yt, cfg, progress=False)
    return model.eval()


def _checks(model, x, y, eps, source):
    ev = rt.evaluate(
        model,
        x,
        y,
        eps,
        steps=20,
        restarts=1,
        autoattack_n=len(y),
        autoattack_attacks=["square"],
        square_queries=300,
        per_image=True,
    )
    return rm.masking_checks(
        model, x, y, eps, ev["per_image_ok"], source_model=source, base_steps=20, check_steps=50, check_restarts=2
    )


@pytest.fixture(scope="module")
def grey():
    torch.set_num_threads(1)
    xt, yt, x, y = _digits()
    return _standard(xt, yt, 0), _standard(xt, yt, 1), x, y


def test_honest_model_passes_every_check(grey):
    model, source, x, y = grey
    out = _checks(model, x, y, 0.3, source)
    assert set(out["checks"]) == {
        "gradient_free_beats_gradient",
        "large_eps_not_near_zero",
        "more_steps_still_lower",
        "transfer_beats_white_box",
    }
    assert out["flags"] == [], out["checks"]


def test_quantised_input_is_flagged_by_square_and_by_transfer(grey):
    model, source, x, y = grey
    masked = nn.Sequential(Quantize(8), model).eval()  # zero gradients: PGD never leaves its random start
    out = _checks(masked, x, y, 0.3, source)
    assert "gradient_free_beats_gradient" in out["flags"], out["checks"]["gradient_free_beats_gradient"]
    assert "transfer_beats_white_box" in out["flags"], out["checks"]["transfer_beats_white_box"]
    c = out["checks"]["gradient_free_beats_gradient"]
    assert c["diff"] == pytest.approx(c["best_gradient_acc"] - c["gradient_free_acc"]) and c["diff"] > c["noise"] > 0


def test_binarising_input_is_flagged_at_the_large_radius():
    torch.set_num_threads(1)
    xt, yt, x, y = _digits(binary=True)
    model = _standard(xt, yt, 0)
    honest = rm.masking_checks(
        model, x, y, 0.3, {"pgd": torch.ones(len(y), dtype=torch.bool)}, base_steps=20, check_steps=5, check_restarts=1
    )
    assert honest["checks"]["large_eps_not_near_zero"]["flagged"] is False
    masked = nn.Sequential(Quantize(1), model).eval()  # thresholds at 0.5; PGD's random start cannot cross it
    out = rm.masking_checks(
        masked, x, y, 0.3, {"pgd": torch.ones(len(y), dtype=torch.bool)}, base_steps=20, check_steps=5, check_restarts=1
    )
    check = out["checks"]["large_eps_not_near_zero"]
    assert check["flagged"] and check["acc"] > 50 and check["grey_ceiling"] < 25  # a grey image proves < 25%


def test_an_unconverged_figure_is_flagged(grey):
    model, _, x, y = grey
    clean = rt.evaluate(
        model, x, y, 0.3, steps=1, restarts=1, autoattack_n=len(y), autoattack_attacks=["apgd-ce"], per_image=True
    )["per_image_ok"]["clean"]
    out = rm.masking_checks(model, x, y, 0.3, {"no attack": clean}, base_steps=10, check_steps=20, check_restarts=1)
    assert out["flags"] == ["more_steps_still_lower"]  # the "figure" was clean accuracy: PGD breaks it


def test_masking_checks_need_a_gradient_attack(grey):
    model, _, x, y = grey
    with pytest.raises(ValueError, match="gradient attack"):
        rm.masking_checks(model, x, y, 0.3, {"square": torch.ones(len(y), dtype=torch.bool)})


def test_shared_model_is_built_once_and_loaded_by_fingerprint(tmp_root, monkeypatch):
    torch.set_num_threads(1)
    built = []
    real = rm._build
    monkeypatch.setattr(rm, "_build", lambda *a, **k: built.append(1) or real(*a, **k))
    cachestats.reset()
    model, card = rm.shared_robust_model("mnist", "smoke", progress=False)  # empty data root: digits, loudly
    assert cachestats.summary()["by_cache"] == {"robust_model": {"hits": 0, "misses": 1}}
    assert card["dataset"] == "digits" and card["eps"] == rm.settings_row("smoke").digits_eps
    assert set(card) >= {
        "fingerprint",
        "worst_case_acc",
        "attack_acc",
        "clean_acc",
        "n_eval",
        "square_queries",
        "recipe",
        "masking",
    } and set(card["masking"]) >= {"flags", "checks"}
    assert card["worst_case_acc"] <= min(card["attack_acc"].values()) <= card["clean_acc"]
    assert not model.training and next(model.parameters()).device.type == "cpu"
    again, card2 = rm.shared_robust_model("mnist", "smoke", progress=False)
    assert built == [1] and card2 == card
    assert cachestats.summary()["by_cache"] == {"robust_model": {"hits": 1, "misses": 1}}, "results say warm or cold"
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    with pytest.raises(ValueError, match="allowed: mnist, digits"):
        rm.shared_robust_model("cifar10", "smoke")


def test_transfer_source_rebuilds_the_cards_source_and_the_sample_checks_are_cached(tmp_root):
    torch.set_num_threads(1)
    model, card = rm.shared_robust_model("mnist", "smoke", progress=False)  # digits, loudly
    source, info = rm.transfer_source("mnist", "smoke")
    assert info["matches_card"] is True and info["val_robust_acc"] == card["source_model"]["val_robust_acc"]
    again, info2 = rm.transfer_source("mnist", "smoke")  # read back, with the record of its rebuild
    assert info2 == info and all(
        torch.equal(a, b) for a, b in zip(source.state_dict().values(), again.state_dict().values())
    )
    test = data.load_images("digits", "test")
    x, y = test.x[:120].float() / 255, test.y[:120]
    ok = rm.sample_checks(model, source, x, y, card["eps"], large_eps=0.5, steps=5, seed=0)
    assert set(ok) == {"clean_ok", "large_ok", "transfer_ok"} and all(v.shape == (120,) for v in ok.values())
    assert not (ok["large_ok"] & ~ok["clean_ok"]).any() and not (ok["transfer_ok"] & ~ok["clean_ok"]).any()
    assert ok["large_ok"].sum() <= ok["transfer_ok"].sum()  # a radius of 0.5 breaks more than a transferred 0.3
    cached = rm.sample_checks(model, source, x, y, card["eps"], large_eps=0.5, steps=5, seed=0)
    assert all(torch.equal(ok[k], cached[k]) for k in ok)


def test_catastrophic_overfitting_curves_per_arm_and_seed_are_cached(tmp_root):
    torch.set_num_threads(1)
    tr, te = data.load_images("digits", "train"), data.load_images("digits", "test")
    kw = dict(eps=0.1, epochs=2, seeds=2, width=4, val_size=50, batch_size=128)
    cachestats.reset()
    out = rt.catastrophic_overfitting(tr.x[:256], tr.y[:256], te.x, te.y, **kw)
    assert cachestats.summary()["by_cache"]["catastrophic_overfitting"] == {"hits": 0, "misses": 6}  # 3 arms x 2 seeds
    assert list(out["curves"]) == list(rt.co_arms(0.1)) and len(out["curves"]) == 3
    for arm, by_seed in out["curves"].items():
        assert set(by_seed) == {"0", "1"} and all(
            len(c) == 2 and all(0 <= v <= 100 for v in c) for c in by_seed.values()
        )
        assert out["summary"][arm]["seeds"] == 2
    assert rt.catastrophic_overfitting(tr.x[:256], tr.y[:256], te.x, te.y, **kw) == out  # read back from the cache
    assert cachestats.summary()["by_cache"]["catastrophic_overfitting"] == {"hits": 6, "misses": 6}


@pytest.mark.parametrize("p,eta,d", [(0.95, 3 / math.sqrt(1000), 1000), (0.9, 0.05, 400)])
def test_tradeoff_closed_forms_match_simulation(p, eta, d):
    exact, sim = tradeoff.closed_form(p, eta, d), tradeoff.simulate(40_000, p, eta, d, seed=1)
    for key in (
        "standard_clean",
        "standard_robust",
        "average_clean",
        "average_robust",
        "robust_clean",
        "robust_robust",
    ):
        se = math.sqrt(max(exact[key] * (1 - exact[key]), 1e-4) / sim["n"])
        assert abs(sim[key] - exact[key]) < 5 * se, (key, sim[key], exact[key])
    assert exact["robust_clean"] == p < exact["standard_clean"]  # the robust classifier pays in clean accuracy
    assert exact["standard_robust"] <= exact["theorem_bound"] + 1e-12  # Tsipras et al., Theorem 2.1


def test_tradeoff_rejects_bad_parameters():
    with pytest.raises(ValueError, match="p must lie in"):
        tradeoff.closed_form(0.4, 0.1, 10)
    with pytest.raises(ValueError, match="eps must lie in"):
        tradeoff.closed_form(0.9, 0.6, 10)
