"""The L2-robust model: its training attack against torchattacks, training, caching and worst case."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reliable_ml import stats
from reliable_ml.data import load_images
from reliable_ml.models import nets
from reliable_ml.robust import attacks
from reliable_ml.robust import l2_model as lm
from reliable_ml.robust import nonrobust as nr

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def tiny():
    test = load_images("digits", "test")
    torch.manual_seed(0)
    model = nets.small_cnn(image_size=8, channels=(4, 8), hidden=16).eval()
    return model, test.x[:40].float() / 255, test.y[:40]


def test_training_attack_is_torchattacks_pgdl2(tiny):
    """The training attack (L2 PGD, last iterate) equals torchattacks' PGDL2 from the same start."""
    torchattacks = pytest.importorskip("torchattacks")
    model, x, y = tiny
    ref = torchattacks.PGDL2(model, eps=1.5, alpha=0.4, steps=7, random_start=False)(x, y)
    ours, _ = attacks.pgd(
        model, x, y, 1.5, norm="l2", steps=7, step_size=0.4, delta_init=torch.zeros_like(x), keep_best=False
    )
    torch.testing.assert_close(ours, ref, atol=2e-4, rtol=0)
    assert float((ours - x).flatten(1).norm(dim=1).max()) <= 1.5 + 1e-5


def test_targeted_restarts_never_reach_fewer_targets(tiny):
    model, x, y = tiny
    t = (y + 1) % 10
    one = nr.targeted_pgd(model, x, t, 0.6, steps=5)
    more = nr.targeted_pgd(model, x, t, 0.6, steps=5, restarts=4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        hit1, hit4 = (model(v).argmax(1) == t for v in (one, more))
    assert not (hit1 & ~hit4).any()  # restart 0 is the zero start of restarts=1
    assert float((more - x).flatten(1).norm(dim=1).max()) <= 0.6 + 1e-5
    with pytest.raises(ValueError, match="restarts must be an integer >= 1"):
        nr.targeted_pgd(model, x, t, 0.6, restarts=0)


def test_train_l2_makes_a_model_robust_in_l2():
    train, test = load_images("digits", "train"), load_images("digits", "test")
    x, y = test.x[:200].float() / 255, test.y[:200]
    accs = {}
    for eps in (1e-6, 1.0):
        torch.manual_seed(0)
        model = nets.small_cnn(image_size=8, channels=(8, 16), hidden=32)
        lm.train_l2(
            model,
            train.x,
            train.y,
            eps=eps,
            epochs=4,
            attack_steps=3,
            eps_ramp_epochs=1.0,
            lr_max=1e-2,
            batch_size=64,
            seed=0,
        )
        accs[eps] = attacks.robust_accuracy(model.eval(), x, y, 1.0, norm="l2", steps=20, restarts=2)
    assert accs[1.0] > accs[1e-6] + 0.15, accs  # PGD-L2 training buys L2 robustness over (almost) standard training
    with pytest.raises(ValueError, match="x must be uint8"):
        lm.train_l2(
            model, x, y, eps=1.0, epochs=1, attack_steps=1, eps_ramp_epochs=0, lr_max=1e-3, batch_size=8, seed=0
        )


def test_l2_robust_model_is_cached_and_names_its_worst_case(tmp_root):
    model, card = lm.l2_robust_model("digits", "smoke", progress=False)
    again, card2 = lm.l2_robust_model("digits", "smoke", progress=False)
    assert card2 == card and card["norm"] == "l2" and card["dataset"] == "digits"
    for p, q in zip(model.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(p, q)
    worst = card["worst_case_acc"]
    assert worst <= min(card["attack_acc"].values()) + 1e-9 and worst <= card["clean_acc"]
    lo, hi = card["worst_case_interval"]
    assert lo <= worst <= hi
    assert set(card["attack_acc"]) == {"pgd", "apgd-ce", "nearest-image"}
    assert card["seconds"]["total"] > 0 and card["sample"]["kind"] == "random"
    entry = lm.results_entry(card)
    assert (
        entry["card_attacks_acc"] == entry["worst_case_acc"] == worst
        and "card's three attacks" in entry["worst_case_source"]
    )
    with pytest.raises(ValueError, match="unknown profile 'big'"):
        lm.l2_robust_model("digits", "big")
    # AutoAttack's standard suite in L2 on part of the card's sample, at reduced strength
    kw = dict(iterations=5, square_queries=50, pgd_steps=5, pgd_restarts=1)
    check = lm.standard_suite_check(model, card, "digits", 30, **kw)
    assert check["n"] == 30 and list(check["attacks"]) == ["apgd-ce", "pgd", "apgd-t", "fab-t", "square"]
    assert check["attacks"]["apgd-t"]["targets"] == 9 and check["attacks"]["fab-t"]["targets"] == 9
    k, n = check["worst_case_k"], check["n"]
    assert check["worst_case_acc"] == pytest.approx(100 * k / n)
    lo, hi = stats.wilson(k, n)
    assert check["worst_case_interval"] == pytest.approx([100 * lo, 100 * hi])
    # the union is at most the gradient attacks' union, and Square's extra breaks are the gap the flag reads
    assert k <= check["gradient_union_k"]
    assert check["masking"]["flag"] == (check["masking"]["broken_only_by_square"] > 0)
    assert lm.standard_suite_check(model, card, "digits", 30, **kw)["cached"]  # read back from the cache
    with pytest.raises(ValueError, match="suite_n must lie in 1..100"):
        lm.standard_suite_check(model, card, "digits", 101, **kw)
    # one worst case per model: with the suite, the entry's worst case is the suite's, the card's is renamed
    entry = lm.results_entry(card, check)
    assert entry["worst_case_acc"] == check["worst_case_acc"] and entry["card_attacks_acc"] == worst
    assert entry["worst_case_interval"] == check["worst_case_interval"] and "Wilson" in entry["worst_case_source"]
    words = lm.suite_words(card, check)
    ni = check["broken_only_by_nearest_image"]
    assert f"broke {ni} more image" in words and "run after Square" in words and "one attack seed" in words
    assert "upper bound on its robust accuracy" in words and "run last" not in words
    assert f"{k} of 30 images survive every one of them" in words and "first 30 of those images" in words
    assert "95% Wilson interval" in words and "not the exact Clopper-Pearson interval of the card" in words
    assert "not run" not in words
    assert check["chunks"] == [{"images": [0, 30], "cached": False, "cold_seconds": check["cold_seconds"]}]
    assert f"Run cold, the suite took {check['cold_seconds']:.0f} s" in words and "images 1–30" in words
    fallback = lm.suite_words(card, None)
    assert "APGD-T, FAB-T and Square were not run" in fallback and "upper bound of unknown slack" in fallback


def test_fingerprint_changes_with_the_row():
    row = lm.settings_row("smoke")
    x = torch.zeros(2, 1, 8, 8, dtype=torch.uint8)
    a = lm.fingerprint(row, "digits", 0.7, x, x)
    import dataclasses

    assert a == lm.fingerprint(row, "digits", 0.7, x, x)
    assert a != lm.fingerprint(dataclasses.replace(row, epochs=row.epochs + 1), "digits", 0.7, x, x)
    assert a != lm.fingerprint(row, "digits", 0.8, x, x)
    assert np.isfinite(row.eps)
