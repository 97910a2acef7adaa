"""The evaluation cache (util/evalcache): keys that change with what determines the outcome, hits
that return the same tensors without recomputing, and entries that are corrupted or mismatched
recomputed with a warning, never used."""

from __future__ import annotations

import pytest
import torch

from reliable_ml.models import nets
from reliable_ml.util import evalcache

pytestmark = pytest.mark.usefixtures("single_thread")


def small_model(seed: int = 0):
    torch.manual_seed(seed)
    return nets.pool_cnn(in_channels=1, image_size=12, channels=(2, 3), hidden=8).eval()


def data(seed: int = 1, n: int = 30):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 12, 12, generator=g), torch.randint(0, 10, (n,), generator=g)


def test_model_fingerprint_follows_the_weights():
    a, b = small_model(0), small_model(0)
    assert evalcache.model_fingerprint(a) == evalcache.model_fingerprint(b)
    assert evalcache.model_fingerprint(a) != evalcache.model_fingerprint(small_model(1))
    with torch.no_grad():
        next(b.parameters()).view(-1)[0] += 1e-6  # one weight, one ulp-sized change
    assert evalcache.model_fingerprint(a) != evalcache.model_fingerprint(b)


def test_entry_key_changes_with_settings_images_and_labels():
    x, y = data()
    base = evalcache.entry_key({"k": 5}, x, y)
    assert base == evalcache.entry_key({"k": 5}, x.clone(), y.clone())  # the same content, the same key
    x2 = x.clone()
    x2[3, 0, 4, 4] += 0.5
    y2 = y.clone()
    y2[0] = (y2[0] + 1) % 10
    others = {
        evalcache.entry_key({"k": 6}, x, y),
        evalcache.entry_key({"k": 5}, x2, y),
        evalcache.entry_key({"k": 5}, x, y2),
        evalcache.entry_key({"k": 5}, x[:-1], y[:-1]),
        evalcache.entry_key({"k": 5}, x.double(), y),  # same values, other dtype
    }
    assert base not in others and len(others) == 5


def test_hit_returns_the_same_tensors_without_recomputing(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"a": torch.tensor([True, False, True]), "b": torch.arange(4.0)}

    path, key = tmp_path / "e.pt", evalcache.entry_key({"n": 1})
    with evalcache.cold_time() as cold:
        first, hit1 = evalcache.cached_outcomes(path, key, compute)
        again, hit2 = evalcache.cached_outcomes(path, key, compute)
    assert (hit1, hit2, len(calls)) == (False, True, 1)
    assert all(torch.equal(first[k], again[k]) and first[k].dtype == again[k].dtype for k in first)
    assert cold["hits"] == 1 and cold["misses"] == 1
    # the cold seconds are the stored ones: a hit adds exactly what the miss measured
    assert cold["seconds"] == pytest.approx(2 * torch.load(path, weights_only=True)["seconds"])


@pytest.mark.parametrize("damage", ["garbage", "other_key", "wrong_shape", "truncated"])
def test_bad_entry_is_recomputed_with_a_warning(tmp_path, damage):
    path, key = tmp_path / "e.pt", evalcache.entry_key({"n": 1})
    good = {"correct": torch.tensor([True, False, True])}
    expected = {"correct": ((3,), torch.bool)}
    evalcache.cached_outcomes(path, key, lambda: good, expected=expected)
    if damage == "garbage":
        path.write_bytes(b"not a torch file")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:40])
    else:
        saved = torch.load(path, weights_only=True)
        if damage == "other_key":
            saved["key"] = evalcache.entry_key({"n": 2})
            saved["outcomes"]["correct"] = torch.tensor([False, False, False])  # must never be returned
        else:
            saved["outcomes"]["correct"] = torch.tensor([True, False])
        torch.save(saved, path)
    with pytest.warns(evalcache.CacheEntryWarning, match="recomputed"):
        out, hit = evalcache.cached_outcomes(path, key, lambda: good, expected=expected)
    assert not hit and torch.equal(out["correct"], good["correct"])
    out, hit = evalcache.cached_outcomes(path, key, lambda: pytest.fail("recomputed a good entry"), expected=expected)
    assert hit and torch.equal(out["correct"], good["correct"])  # the rewritten entry is good


def test_compute_that_breaks_its_promise_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="expected"):
        evalcache.cached_outcomes(
            tmp_path / "e.pt", "k", lambda: {"correct": torch.zeros(2)}, expected={"correct": ((2,), torch.bool)}
        )
