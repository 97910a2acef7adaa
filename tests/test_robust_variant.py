"""The shared robust model's recipe on another network: a fingerprint of its own that leaves the
shared model's untouched, built once and loaded from the cache, and a cached PGD evaluation."""

from __future__ import annotations

import pytest
import torch

from reliable_ml import data
from reliable_ml.robust import robust_variant as rv
from reliable_ml.robust import shared_model as sm
from reliable_ml.util import cachestats

WIDTHS = {"channels": (4, 8), "hidden": 16}


def test_fingerprint_depends_on_the_network_and_not_on_the_shared_models():
    base = "0123456789abcdef"
    a = rv.variant_fingerprint(base, "pool_cnn", WIDTHS)
    assert a == rv.variant_fingerprint(base, "pool_cnn", {"hidden": 16, "channels": [4, 8]})  # order, tuple/list
    assert a != rv.variant_fingerprint(base, "pool_cnn", {"channels": (4, 8), "hidden": 32})
    assert a != rv.variant_fingerprint(base, "small_cnn", {})
    assert a != rv.variant_fingerprint("fedcba9876543210", "pool_cnn", WIDTHS)
    with pytest.raises(ValueError, match="unknown arch 'resnet'; allowed: small_cnn, pool_cnn"):
        rv.variant_fingerprint(base, "resnet", {})


def test_pooling_model_is_trained_once_with_the_shared_recipe_and_cached(tmp_root):
    torch.set_num_threads(1)
    cachestats.reset()
    model, card = rv.pgd_trained("pool_cnn", WIDTHS, "mnist", "smoke", progress=False)  # empty root: digits
    row = sm.settings_row("smoke")
    assert cachestats.summary()["by_cache"] == {"robust_model": {"hits": 0, "misses": 1}}
    assert card["dataset"] == "digits" and card["eps"] == row.digits_eps and card["arch"] == "pool_cnn"
    assert len(card["history"]) == row.epochs and card["settings"]["attack_steps"] == row.attack_steps
    assert card["seconds"]["train"] > 0 and card["seconds"]["threads"] == 1
    assert "PGD-3" in card["recipe"] and card["recipe"].startswith("pooling CNN (conv 5x5 4")
    assert any(isinstance(m, torch.nn.MaxPool2d) for m in model.modules()) and not model.training
    # the shared model's own fingerprint is what the shared model computes, and the folder differs
    train, test = data.load_images("digits", "train"), data.load_images("digits", "test")
    assert card["base_fingerprint"] == sm.fingerprint(row, "digits", row.digits_eps, train.x, test.x)
    assert card["fingerprint"] != card["base_fingerprint"]
    folder = sm.cache_folder("digits", f"pool_cnn-{card['fingerprint']}")
    assert (folder / "model.pt").exists() and not sm.cache_folder("digits", card["base_fingerprint"]).exists()
    again, card2 = rv.pgd_trained("pool_cnn", WIDTHS, "mnist", "smoke", progress=False)
    assert card2 == card and cachestats.summary()["by_cache"] == {"robust_model": {"hits": 1, "misses": 1}}
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))


def test_pgd_accuracy_bounds_and_cache(tmp_root):
    torch.manual_seed(0)
    model = rv.make_model("pool_cnn", 8, 0, **WIDTHS).eval()
    x, y = torch.rand(40, 1, 8, 8), torch.randint(0, 10, (40,))
    none = rv.pgd_accuracy(model, x, y, 0.0, steps=2, restarts=1)
    assert torch.equal(none["pgd"], none["clean"])  # a ball of radius 0 holds only the image itself
    out = rv.pgd_accuracy(model, x, y, 0.3, steps=5, restarts=2, cache_key="abc")
    assert not (out["pgd"] & ~out["clean"]).any()  # robust implies clean
    assert out["pgd"].sum() <= out["clean"].sum() and (out["steps"], out["restarts"]) == (5, 2)
    cached = rv.pgd_accuracy(model, x, y, 0.3, steps=5, restarts=2, cache_key="abc")
    assert torch.equal(cached["pgd"], out["pgd"]) and cached["seconds"] == out["seconds"]
    with pytest.raises(ValueError, match="differ in length: 40 and 39"):
        rv.pgd_accuracy(model, x, y[:39], 0.3, steps=1, restarts=1)


def test_method_enters_the_fingerprint_and_pgd_keys_are_unchanged():
    import hashlib
    import json

    base = "0123456789abcdef"
    old = json.dumps(
        {"v": rv.VARIANT_VERSION, "base": base, "arch": "pool_cnn", "widths": WIDTHS}, sort_keys=True, default=list
    )
    assert rv.variant_fingerprint(base, "pool_cnn", WIDTHS) == hashlib.sha256(old.encode()).hexdigest()[:16]
    assert rv.variant_fingerprint(base, "pool_cnn", WIDTHS, "standard") != rv.variant_fingerprint(
        base, "pool_cnn", WIDTHS
    )
    with pytest.raises(ValueError, match="unknown method 'fgsm'; allowed: pgd, standard"):
        rv.variant_fingerprint(base, "pool_cnn", WIDTHS, "fgsm")


def test_matched_standard_twin_has_the_recipe_without_the_adversary(tmp_root):
    torch.set_num_threads(1)
    rob, rcard = rv.pgd_trained("pool_cnn", WIDTHS, "mnist", "smoke", progress=False)
    std, card = rv.pgd_trained("pool_cnn", WIDTHS, "mnist", "smoke", progress=False, method="standard")
    assert card["method"] == "standard" and card["fingerprint"] != rcard["fingerprint"]
    assert card["base_fingerprint"] == rcard["base_fingerprint"] and card["n_train"] == rcard["n_train"]
    assert len(card["history"]) == len(rcard["history"]) == sm.settings_row("smoke").epochs
    assert (
        "PGD-" not in card["recipe"]
        and "standard training" in card["recipe"]
        and f"{card['n_train']:,} training images" in card["recipe"]
    )
    assert all(r["eps"] > 0 for r in rcard["history"])  # the twin trains on the same schedule, no adversary:
    # its training accuracy is on clean batches, so it ends above the PGD model's robust training accuracy
    assert card["history"][-1]["train_acc"] > rcard["history"][-1]["train_acc"]
    assert not all(torch.equal(a, b) for a, b in zip(rob.state_dict().values(), std.state_dict().values()))
    again, card2 = rv.pgd_trained("pool_cnn", WIDTHS, "mnist", "smoke", progress=False, method="standard")
    assert card2 == card and all(
        torch.equal(a, b) for a, b in zip(std.state_dict().values(), again.state_dict().values())
    )
