"""Spatial transformations and attacks (chapter 11): known values, the attacks against
brute-force loops, worst-of-k training, the cache."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from reliable_ml.models import nets
from reliable_ml.robust import spatial as sp
from reliable_ml.util import evalcache

pytestmark = pytest.mark.usefixtures("single_thread")


class Lookup(nn.Module):
    """A 'model' that predicts class 1 when the top-left pixel is bright, else class 0."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        bright = x[:, 0, 0, 0] > 0.5
        return torch.stack([(~bright).float(), bright.float()], 1) + 0 * self.w


def test_shift_and_rotation_are_exact_on_the_pixel_grid():
    x = torch.rand(3, 2, 6, 6)
    assert torch.allclose(sp.transform(x, 0.0), x, atol=1e-6)
    assert torch.allclose(sp.transform(x, 0.0, 1.0, 0.0)[..., 1:], x[..., :-1], atol=1e-5)  # right
    assert torch.allclose(sp.transform(x, 0.0, 0.0, 2.0)[..., 2:, :], x[..., :-2, :], atol=1e-5)  # down
    assert torch.allclose(sp.transform(x, 0.0, 1.0, 0.0)[..., 0], torch.zeros(3, 2, 6), atol=1e-6)  # black fill
    assert torch.allclose(sp.transform(x, 90.0), torch.rot90(x, 1, (2, 3)), atol=1e-5)  # counter-clockwise
    assert torch.allclose(sp.transform(x, 90.0, 1.0, 0.0)[..., 1:], torch.rot90(x, 1, (2, 3))[..., :-1], atol=1e-5)
    wide = torch.rand(1, 1, 4, 6)
    assert torch.allclose(sp.transform(wide, 180.0), wide.flip(2, 3), atol=1e-5)


def test_per_image_parameters_match_one_at_a_time():
    x = torch.rand(4, 1, 8, 8)
    a, dx, dy = torch.tensor([10.0, -20, 0, 30]), torch.tensor([1.0, 0, -2, 0.5]), torch.tensor([0.0, 1, 1, -3])
    batch = sp.transform(x, a, dx, dy)
    for i in range(4):
        one = sp.transform(x[i : i + 1], float(a[i]), float(dx[i]), float(dy[i]))
        assert torch.allclose(batch[i : i + 1], one, atol=1e-6)


def test_grid_and_sample_stay_in_the_box():
    g = sp.grid(30, 3, 31, 5)
    assert g.shape == (775, 3)  # Engstrom et al.'s grid
    assert g[:, 0].abs().max() == 30 and g[:, 1:].abs().max() == 3 and (g == 0).all(1).any()
    s = sp.sample(1000, 30, 3, generator=torch.Generator().manual_seed(0))
    assert s[:, 0].abs().max() <= 30 and s[:, 1:].abs().max() <= 3 and s[:, 0].abs().max() > 25
    with pytest.raises(ValueError, match="max_angle"):
        sp.grid(-1, 3)
    with pytest.raises(ValueError, match="n_angles"):
        sp.grid(30, 3, 0, 5)


def brute_force(model, x, y, params):
    ok = torch.ones(len(y), dtype=torch.bool)
    for a, dx, dy in params.tolist():
        ok &= model(sp.transform(x, a, dx, dy)).argmax(1) == y
    return ok


def test_grid_attack_equals_the_brute_force_loop():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))
    x, y = torch.rand(50, 1, 8, 8), torch.randint(0, 3, (50,))
    y[:25] = model(x[:25]).argmax(1)  # half start correct
    with torch.no_grad():
        expected = brute_force(model, x, y, sp.grid(30, 1.5, 5, 3))
    got = sp.grid_attack(model, x, y, 30, 1.5, 5, 3)
    assert torch.equal(got, expected) and got[25:].sum() <= (model(x[25:]).argmax(1) == y[25:]).sum()


def test_random_attack_uses_k_uniform_draws_per_image():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))
    x = torch.rand(30, 1, 8, 8)
    with torch.no_grad():
        y = model(x).argmax(1)
    gen = torch.Generator().manual_seed(9)
    draws = [sp.sample(30, 30, 2, generator=gen) for _ in range(6)]
    ok = torch.ones(30, dtype=torch.bool)
    with torch.no_grad():
        for p in draws:
            ok &= model(sp.transform(x, p[:, 0], p[:, 1], p[:, 2])).argmax(1) == y
    assert torch.equal(sp.random_attack(model, x, y, 6, 30, 2, seed=9), ok)
    with pytest.raises(ValueError, match="k must be"):
        sp.random_attack(model, x, y, 0)


def test_a_model_that_reads_one_corner_pixel_is_broken_by_a_shift():
    model = Lookup()
    x = torch.zeros(4, 1, 8, 8)
    x[:, :, 0, 0] = 1.0
    y = torch.ones(4, dtype=torch.long)
    assert sp.grid_attack(model, x, y, 0, 0, 1, 1).all()  # the identity only
    assert not sp.grid_attack(model, x, y, 0, 1, 1, 3).any()  # a one-pixel shift moves the pixel away


def test_worst_of_k_picks_the_highest_loss_draw_and_training_learns():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
    x, y = torch.rand(16, 1, 8, 8), torch.randint(0, 2, (16,))
    gen = torch.Generator().manual_seed(3)
    out = sp.worst_of_k_batch(model, x, y, 5, 30, 1, gen)
    gen = torch.Generator().manual_seed(3)
    losses = []
    with torch.no_grad():
        for _ in range(5):
            p = sp.sample(16, 30, 1, generator=gen)
            losses.append(
                nn.functional.cross_entropy(model(sp.transform(x, p[:, 0], p[:, 1], p[:, 2])), y, reduction="none")
            )
        best = torch.stack(losses).max(0).values
        assert torch.allclose(nn.functional.cross_entropy(model(out), y, reduction="none"), best, atol=1e-5)


def blobs(n=300, seed=0):
    """Two classes of 8x8 uint8 images: a bright square top-left or bottom-right."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.zeros(n, 1, 8, 8)
    x[y == 0, :, 1:4, 1:4] = 1
    x[y == 1, :, 4:7, 4:7] = 1
    return (x * 255).to(torch.uint8), y


@pytest.mark.parametrize("method", sp.METHODS)
def test_training_learns_and_the_cache_returns_the_same_model(tmp_path, method):
    from reliable_ml.models import nets as models
    from reliable_ml.util import cachestats

    cachestats.reset()
    x, y = blobs()
    cfg = sp.SpatialTrainConfig(method=method, epochs=3, batch_size=50, lr_max=1e-2, k=3, max_angle=10, max_shift=0.5)
    torch.manual_seed(0)
    model, _ = sp.train_cached(models.small_cnn(image_size=8), x, y, cfg, "t", cache=tmp_path)
    acc = float((model(x.float() / 255).argmax(1) == y).float().mean())
    assert acc > 0.9
    assert len(list(tmp_path.glob("t-*.pt"))) == 1
    again, _ = sp.train_cached(models.small_cnn(image_size=8), x, y, cfg, "t", cache=tmp_path)
    assert cachestats.summary()["by_cache"] == {"spatial": {"hits": 1, "misses": 1}}
    for a, b in zip(model.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)


def test_bad_config_and_inputs_are_named():
    with pytest.raises(ValueError, match="unknown method 'pgd'"):
        sp.SpatialTrainConfig(method="pgd")
    with pytest.raises(ValueError, match="uint8"):
        sp.train(nn.Linear(1, 1), torch.rand(2, 1, 8, 8), torch.zeros(2, dtype=torch.long), sp.SpatialTrainConfig())
    with pytest.raises(ValueError, match="batch"):
        sp.transform(torch.rand(8, 8), 10.0)


def test_summary_and_intervals():
    s = sp.Scores(
        torch.tensor([True] * 8 + [False] * 2),
        torch.tensor([True] * 2 + [False] * 8),
        torch.tensor([True] * 5 + [False] * 5),
    )
    out = sp.summarize({"a": [s, s]})
    assert out["clean"]["a"] == 80.0 and out["grid"]["a"] == 20.0 and out["random"]["a"] == 50.0
    lo, hi = out["intervals"]["grid"]["a"][0]
    assert lo < 20 < hi
    assert sp.scale_shift(3, 8) == pytest.approx(3 * 8 / 28)


# --------------------------------------------------------------------------- the box curve and McNemar
def test_box_grid_kinds_and_sizes():
    both = sp.box_grid("both", 1.0, 30, 3, 7, 5)
    assert torch.equal(both, sp.grid(30, 3, 7, 5)) and both.shape == (175, 3)
    half = sp.box_grid("both", 0.5, 30, 3, 7, 5)
    assert half[:, 0].abs().max() == 15 and half[:, 1:].abs().max() == 1.5
    rot = sp.box_grid("rotation", 0.5, 30, 3, 7, 5)
    assert rot.shape == (7, 3) and (rot[:, 1:] == 0).all() and rot[:, 0].abs().max() == 15
    tr = sp.box_grid("translation", 1.0, 30, 3, 7, 5)
    assert tr.shape == (25, 3) and (tr[:, 0] == 0).all() and tr[:, 1:].abs().max() == 3
    with pytest.raises(ValueError, match="unknown kind 'shear'"):
        sp.box_grid("shear", 1.0, 30, 3, 7, 5)
    with pytest.raises(ValueError, match="fraction must lie in"):
        sp.box_grid("both", 1.5, 30, 3, 7, 5)


def test_box_curve_matches_the_grid_attack_and_reuses_known_results():
    from reliable_ml.models import nets

    torch.manual_seed(0)
    model = nets.pool_cnn(image_size=8, channels=(4, 8), hidden=16).eval()
    x, y = torch.rand(60, 1, 8, 8), torch.randint(0, 10, (60,))
    with torch.no_grad():
        y = model(x).argmax(1)  # every image correct when untransformed
    y[:5] = (y[:5] + 1) % 10  # ... but five
    fr = [0.5, 1.0]
    curve = sp.box_curve({"m": [model]}, x, y, fr, max_angle=30, max_shift=1, n_angles=5, n_shifts=3)
    assert torch.equal(curve["both"]["m"][0][1], sp.grid_attack(model, x, y, 30, 1, 5, 3))
    assert torch.equal(curve["rotation"]["m"][0][0], sp.grid_attack(model, x, y, 15, 0, 5, 1))
    fake = torch.zeros(60, dtype=torch.bool)
    reused = sp.box_curve(
        {"m": [model]}, x, y, fr, max_angle=30, max_shift=1, n_angles=5, n_shifts=3, known={"m": [fake]}
    )
    assert torch.equal(reused["both"]["m"][0][1], fake) and torch.equal(
        reused["both"]["m"][0][0], curve["both"]["m"][0][0]
    )
    rec = sp.box_curve_record(curve, {"m": [torch.ones(60, dtype=torch.bool)]}, fr, 30, 1, {"both": 15})
    assert rec["fractions"] == [0.0, 0.5, 1.0] and rec["angles_deg"] == [0.0, 15.0, 30.0]
    acc = rec["both"]["m"]["mean"]
    assert acc[0] == 1.0 and int(curve["both"]["m"][0][1][:5].sum()) == 0  # the five relabelled images fail
    assert acc[2] == pytest.approx(float(curve["both"]["m"][0][1].float().mean()))
    lo, hi = rec["both"]["m"]["intervals"][0][2]
    assert lo <= acc[2] <= hi


def test_mcnemar_exact_by_hand_and_against_scipy():
    from scipy import stats as st

    a = torch.tensor([1, 1, 1, 1, 1, 0, 0], dtype=torch.bool)
    b = torch.tensor([0, 0, 0, 0, 0, 0, 1], dtype=torch.bool)
    out = sp.mcnemar_exact(a, b)  # n10 = 5, n01 = 1: p = 2 * (1 + 6) / 64
    assert (out["n10"], out["n01"], out["n11"], out["n00"]) == (5, 1, 0, 1)
    assert out["p_value"] == pytest.approx(14 / 64)
    assert sp.mcnemar_exact(a, a)["p_value"] == 1.0  # no discordant pair
    gen = torch.Generator().manual_seed(1)
    for _ in range(20):
        n = int(torch.randint(5, 400, (1,), generator=gen))
        pa, pb = torch.rand(2, generator=gen).tolist()
        a, b = torch.rand(n, generator=gen) < pa, torch.rand(n, generator=gen) < pb
        out = sp.mcnemar_exact(a, b)
        k = out["n10"] + out["n01"]
        ref = st.binomtest(out["n10"], k, 0.5).pvalue if k else 1.0
        assert out["p_value"] == pytest.approx(ref, rel=1e-9, abs=1e-300)
        rec = sp.mcnemar_record(a, b, "a", "b")
        assert rec["verdict"]["p_value"] == pytest.approx(out["p_value"], rel=1e-9, abs=1e-300)
        assert rec["acc_a"] - rec["acc_b"] == pytest.approx((out["n10"] - out["n01"]) / n)
    with pytest.raises(ValueError, match="same length"):
        sp.mcnemar_exact(torch.ones(3, dtype=torch.bool), torch.ones(4, dtype=torch.bool))


def _small_pool(seed: int = 0):
    torch.manual_seed(seed)
    return nets.pool_cnn(in_channels=1, image_size=12, channels=(2, 3), hidden=8).eval()


def _images(seed: int = 1, n: int = 30):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 12, 12, generator=g), torch.randint(0, 10, (n,), generator=g)


def test_spatial_attacks_cached_equal_uncached_and_keyed_by_model_settings_and_images(tmp_path):
    m, (x, y) = _small_pool(), _images()
    box = dict(max_angle=30.0, max_shift=1.0, n_angles=3, n_shifts=3)
    plain = sp.evaluate(m, x, y, seed=4, **box)
    with evalcache.cold_time() as cold:
        first = sp.evaluate(m, x, y, seed=4, cache=tmp_path, **box)
    with evalcache.cold_time() as warm:
        again = sp.evaluate(m, x, y, seed=4, cache=tmp_path, **box)
    assert (cold["misses"], warm["hits"], warm["misses"]) == (2, 2, 0)
    for a, b, c in zip(plain, first, again):
        assert torch.equal(a, b) and torch.equal(a, c)
    files = set(tmp_path.glob("*.pt"))
    sp.evaluate(m, x, y, seed=5, **box, cache=tmp_path)  # another random seed: a new random entry only
    assert len(set(tmp_path.glob("*.pt")) - files) == 1
    for args in [(_small_pool(1), x, y), (m, x[:-1], y[:-1])]:  # another model, other images: new entries
        before = set(tmp_path.glob("*.pt"))
        sp.evaluate(*args, seed=4, cache=tmp_path, **box)
        assert len(set(tmp_path.glob("*.pt")) - before) == 2
    before = set(tmp_path.glob("*.pt"))
    sp.evaluate(m, x, y, seed=4, cache=tmp_path, **(box | {"n_angles": 5}))  # another grid: new entries
    assert len(set(tmp_path.glob("*.pt")) - before) == 2


def test_box_curve_cached_equals_uncached(tmp_path):
    m, (x, y) = _small_pool(), _images()
    kw = dict(max_angle=30.0, max_shift=1.0, n_angles=3, n_shifts=3)
    plain = sp.box_curve({"a": [m]}, x, y, [0.5, 1.0], **kw)
    sp.box_curve({"a": [m]}, x, y, [0.5, 1.0], cache=tmp_path, **kw)
    with evalcache.cold_time() as warm:
        cached = sp.box_curve({"a": [m]}, x, y, [0.5, 1.0], cache=tmp_path, **kw)
    assert warm["misses"] == 0 and warm["hits"] == 6
    for kind in sp.KINDS:
        for u, v in zip(plain[kind]["a"][0], cached[kind]["a"][0]):
            assert torch.equal(u, v)
