"""Expectation over Transformation (chapter 11): the distribution, the attack, survival."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from reliable_ml.robust import eot

pytestmark = pytest.mark.usefixtures("single_thread")


def linear_model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 4))


def test_distribution_draws_stay_in_range_and_identity_is_identity():
    d = eot.Distribution(max_angle=20, scale_lo=0.9, scale_hi=1.1, brightness=0.1, noise=0.0)
    p = d.sample(500, torch.Generator().manual_seed(0))
    assert p[:, 0].abs().max() <= 20 and p[:, 1].min() >= 0.9 and p[:, 1].max() <= 1.1 and p[:, 2].abs().max() <= 0.1
    x = torch.rand(3, 1, 8, 8)
    ident = torch.tensor([[0.0, 1.0, 0.0, 0.0]] * 3, dtype=torch.float64)
    assert torch.allclose(d.apply(x, ident), x, atol=1e-6)
    brighter = torch.tensor([[0.0, 1.0, 0.05, 0.0]] * 3, dtype=torch.float64)
    assert torch.allclose(d.apply(x, brighter), (x + 0.05).clamp(0, 1), atol=1e-6)
    with pytest.raises(ValueError, match="scale_lo"):
        eot.Distribution(scale_lo=1.2, scale_hi=1.1)


def test_noise_is_reproducible_from_the_draw():
    d = eot.Distribution(noise=0.1)
    x = torch.full((2, 1, 8, 8), 0.5)
    p = d.sample(2, torch.Generator().manual_seed(1))
    assert torch.equal(d.apply(x, p), d.apply(x, p))
    assert (d.apply(x, p) - x).std() > 0.05


def test_attack_stays_in_the_ball_and_reaches_the_target():
    model = linear_model()
    x = torch.rand(20, 1, 8, 8) * 0.5 + 0.25
    t = (model(x).argmax(1) + 1) % 4
    for dist in (None, eot.Distribution(max_angle=10, noise=0.02)):
        adv = eot.targeted_pgd(model, x, t, 0.2, steps=30, dist=dist, samples=4)
        assert (adv - x).abs().max() <= 0.2 + 1e-6 and adv.min() >= 0 and adv.max() <= 1
        assert float((model(adv).argmax(1) == t).float().mean()) > 0.8


def test_eot_matches_a_hand_loop_and_plain_pgd_needs_no_distribution():
    model, d = linear_model(1), eot.Distribution()
    x, t = torch.rand(5, 1, 8, 8), torch.tensor([0, 1, 2, 3, 0])
    gen = torch.Generator().manual_seed(4)
    delta = torch.zeros_like(x)
    for _ in range(3):
        delta.requires_grad_(True)
        xs = (x + delta).repeat(2, 1, 1, 1)
        loss = nn.functional.cross_entropy(model(d.apply(xs, d.sample(len(xs), gen))), t.repeat(2))
        (g,) = torch.autograd.grad(loss, delta)
        delta = (delta.detach() - 2.5 * 0.1 / 3 * g.sign()).clamp(-0.1, 0.1)
        delta = (x + delta).clamp(0, 1) - x
    got = eot.targeted_pgd(model, x, t, 0.1, steps=3, dist=d, samples=2, seed=4)
    assert torch.allclose(got, x + delta, atol=1e-6)
    with pytest.raises(ValueError, match="steps"):
        eot.targeted_pgd(model, x, t, 0.1, steps=0)


def test_survival_counts_the_share_of_draws_on_target():
    model = linear_model(2)
    x = torch.rand(6, 1, 8, 8)
    with torch.no_grad():
        pred = model(x).argmax(1)
    still = eot.survival(
        model, x, pred, eot.Distribution(max_angle=0, scale_lo=1, scale_hi=1, brightness=0, noise=0), n_draws=5
    )
    assert torch.equal(still, torch.ones(6))  # identity draws: always the same prediction
    other = eot.survival(
        model,
        x,
        (pred + 1) % 4,
        eot.Distribution(max_angle=0, scale_lo=1, scale_hi=1, brightness=0, noise=0),
        n_draws=5,
    )
    assert torch.equal(other, torch.zeros(6))
    with pytest.raises(ValueError, match="n_draws"):
        eot.survival(model, x, pred, eot.Distribution(), 0)


def test_intervals_resample_images():
    v = np.r_[np.ones(50), np.zeros(50)]
    out = eot.mean_interval(v)
    assert out["mean"] == 0.5 and out["lo"] < 0.5 < out["hi"] and 0.05 < out["hi"] - out["lo"] < 0.3
    d = eot.paired_difference(v, v * 0)
    assert d["diff"] == 0.5 and d["lo"] > 0.3
    same = eot.paired_difference(v, v)
    assert same["lo"] == same["hi"] == 0
    with pytest.raises(ValueError, match="equally long"):
        eot.paired_difference(v, v[:3])


def test_survival_verdict_is_the_paired_t_test_over_images():
    from scipy import stats as st

    rng = np.random.default_rng(0)
    pgd = rng.uniform(0.5, 0.9, 100)
    eot_share = np.clip(pgd + rng.normal(0.08, 0.1, 100), 0, 1)
    v = eot.survival_verdict(torch.tensor(eot_share), pgd)
    ref = st.ttest_rel(eot_share, pgd)
    assert v.test == "paired t" and v.direction == "higher"
    assert v.p_value == pytest.approx(ref.pvalue) and v.interval == pytest.approx(tuple(ref.confidence_interval()))
    # shares that happen to be all 0 or 1 are still shares, not 0/1 outcomes
    assert eot.survival_verdict(np.ones(5), np.r_[np.ones(4), 0.0]).test == "paired t"


def test_mean_interval_uses_the_shared_bootstrap_draws():
    from reliable_ml import stats

    v = np.random.default_rng(0).random(50)
    reps = stats.bootstrap_replicates(lambda i: v[i].mean(), v.size, n_boot=2000, seed=5)
    out = eot.mean_interval(v, seed=5)
    assert [out["lo"], out["hi"]] == pytest.approx(list(np.quantile(reps, [0.025, 0.975])))


def test_cached_attack_returns_the_same_images_and_keys_on_its_settings(tmp_path):
    from reliable_ml.util import evalcache

    model, d = linear_model(2), eot.Distribution(max_angle=10, noise=0.02)
    x, t = torch.rand(6, 1, 8, 8), torch.tensor([0, 1, 2, 3, 0, 1])
    plain = eot.targeted_pgd(model, x, t, 0.2, steps=4, dist=d, samples=3, seed=2)
    with evalcache.cold_time() as first:
        cold = eot.targeted_pgd(model, x, t, 0.2, steps=4, dist=d, samples=3, seed=2, cache=tmp_path)
    with evalcache.cold_time() as second:
        warm = eot.targeted_pgd(model, x, t, 0.2, steps=4, dist=d, samples=3, seed=2, cache=tmp_path)
    assert torch.equal(plain, cold) and torch.equal(plain, warm)
    assert (first["misses"], second["hits"], second["misses"]) == (1, 1, 0)
    with evalcache.cold_time() as other:  # another seed, another distribution, no distribution: new entries
        eot.targeted_pgd(model, x, t, 0.2, steps=4, dist=d, samples=3, seed=3, cache=tmp_path)
        eot.targeted_pgd(model, x, t, 0.2, steps=4, dist=eot.Distribution(), samples=3, seed=2, cache=tmp_path)
        eot.targeted_pgd(model, x, t, 0.2, steps=4, samples=3, seed=2, cache=tmp_path)
    assert other["misses"] == 3 and len(list(tmp_path.glob("*.pt"))) == 4
