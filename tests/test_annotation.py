"""Annotation pipeline: crowd simulation, selection frequency, sampling strategies, near duplicates."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from reliable_ml.labels import annotation as an

K = 4


def control_set(rng, m_per_class=30):
    """Labelled control images with confident ensemble probabilities."""
    labels = np.repeat(np.arange(K), m_per_class)
    probs = np.full((len(labels), K), 0.02)
    probs[np.arange(len(labels)), labels] = 1 - 0.02 * (K - 1)
    return probs, labels


def test_ensemble_probabilities_average_softmax_and_clarity_picks_candidate():
    torch.manual_seed(0)
    models = [nn.Sequential(nn.Flatten(), nn.Linear(4, 3)) for _ in range(2)]
    x = torch.randint(0, 256, (5, 1, 2, 2), dtype=torch.uint8)
    probs = an.ensemble_probabilities(models, x, batch=2)
    with torch.no_grad():
        expected = sum(torch.softmax(m(x.float() / 255), 1) for m in models) / 2
    np.testing.assert_allclose(probs, expected.double().numpy(), atol=1e-6)
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-6)
    cand = np.array([0, 1, 2, 0, 1])
    np.testing.assert_allclose(an.clarity(probs, cand), probs[np.arange(5), cand])
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        an.clarity(probs, np.array([0, 1, 3, 0, 1]))
    with pytest.raises(ValueError, match="empty"):
        an.ensemble_probabilities([], x)


def test_candidate_classes_wrong_share_and_never_true_when_wrong():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 20_000)
    cand, wrong = an.candidate_classes(y, 10, 0.05, rng)
    assert abs(wrong.mean() - 0.05) < 0.01
    assert np.all(cand[wrong] != y[wrong]) and np.all(cand[~wrong] == y[~wrong])
    with pytest.raises(ValueError, match="wrong_share"):
        an.candidate_classes(y, 10, 1.5, rng)


def test_crowd_reaches_min_annotations_and_sf_tracks_clarity():
    rng = np.random.default_rng(1)
    n = 400
    clar = rng.uniform(0, 1, n)
    cls = rng.integers(0, K, n)
    probs, labels = control_set(rng)
    cfg = an.CrowdConfig(grid_size=24, n_workers=30, careless_share=0.0, noise_max=0.05)
    res = an.simulate_crowd(clar, cls, probs, labels, cfg, seed=0, progress=False)
    assert np.all(res.shown >= 10) and np.all(res.selected <= res.shown)
    assert res.worker_valid.all()
    # E[SF] = eps + (1 - 2 eps) clarity: strongly correlated with clarity
    # (with 10 binomial draws per image, corr is about 0.88 for uniform clarity)
    assert np.corrcoef(res.sf, clar)[0, 1] > 0.8
    assert abs(np.mean(res.sf - clar)) < 0.03
    # every grid holds at most grid_size - controls items
    assert res.answers.groupby("grid").size().max() <= 24 - 8


def test_control_filter_discards_planted_spammers():
    rng = np.random.default_rng(2)
    n = 600
    clar = np.where(rng.random(n) < 0.5, 0.95, 0.05)
    cls = rng.integers(0, K, n)
    probs, labels = control_set(rng)
    cfg = an.CrowdConfig(grid_size=24, n_workers=40, careless_share=0.3, noise_max=0.05)
    res = an.simulate_crowd(clar, cls, probs, labels, cfg, seed=3, progress=False)
    worked = res.worker_grids > 0
    spammers = res.worker_careless & worked
    assert spammers.sum() >= 5
    # careful workers pass, spammers with several grids are caught
    assert res.worker_valid[~res.worker_careless & worked].all()
    caught = ~res.worker_valid[spammers & (res.worker_grids >= 3)]
    assert caught.mean() >= 0.8
    # valid annotations come only from valid workers; SF separates clear from unclear images
    assert np.all(res.shown >= 10)
    assert res.sf[clar > 0.5].mean() > 0.8 and res.sf[clar < 0.5].mean() < 0.2
    # without the filter the spammers' answers pull SF away from the truth
    naive = res.answers.groupby("item")["selected"].mean().reindex(range(n)).to_numpy()
    truth = (clar > 0.5).astype(float)
    assert np.abs(naive - truth).mean() > np.abs(res.sf - truth).mean() + 0.02


def test_crowd_bad_inputs_name_the_value():
    probs, labels = control_set(np.random.default_rng(0))
    with pytest.raises(ValueError, match="grid_size=8"):
        an.simulate_crowd(np.ones(3) * 0.5, np.zeros(3, int), probs, labels, an.CrowdConfig(grid_size=8))
    with pytest.raises(ValueError, match=r"clarity must lie in \[0, 1\]"):
        an.simulate_crowd(np.array([1.5]), np.zeros(1, int), probs, labels)
    with pytest.raises(ValueError, match=r"item classes must lie in \[0, 3\]"):
        an.simulate_crowd(np.array([0.5]), np.array([7]), probs, labels)
    with pytest.raises(ValueError, match="noise_max"):
        an.simulate_crowd(np.array([0.5]), np.zeros(1, int), probs, labels, an.CrowdConfig(noise_max=0.7))


def test_sf_bins_follow_imagenetv2_edges():
    sf = np.array([0.0, 0.19, 0.2, 0.5, 0.79, 0.8, 1.0])
    np.testing.assert_array_equal(an.sf_bins(sf), [0, 0, 1, 2, 3, 4, 4])
    hist = an.sf_histogram(sf, np.array([0, 0, 1, 1, 1, 1, 0]), 2)
    assert hist.shape == (2, 5) and hist.sum() == 7
    with pytest.raises(ValueError, match="edges"):
        an.sf_bins(sf, (0.5, 0.2))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        an.sf_bins(np.array([1.2]))


def test_allocate_sums_and_is_proportional():
    counts = an.allocate(np.array([1, 2, 3, 4, 0]), 20)
    assert counts.sum() == 20 and counts.tolist() == [2, 4, 6, 8, 0]
    assert an.allocate(np.array([1, 1, 1]), 10).sum() == 10


def make_pool(rng, n_per_class=300):
    classes = np.repeat(np.arange(K), n_per_class)
    sf = rng.beta(2, 1, len(classes))
    return sf, classes


def test_strategies_give_requested_sizes_and_class_balance():
    rng = np.random.default_rng(4)
    sf, classes = make_pool(rng)
    target = an.sf_histogram(rng.beta(3, 1, 1000), rng.integers(0, K, 1000), K)
    picks = {
        "mf": an.matched_frequency(sf, classes, target, 50, rng),
        "thr": an.threshold_sample(sf, classes, 50, K, rng),
        "top": an.top_images(sf, classes, 50, K, rng),
    }
    for name, idx in picks.items():
        assert len(np.unique(idx)) == len(idx) == 200, name
        assert np.bincount(classes[idx], minlength=K).tolist() == [50] * K, name
    assert np.all(sf[picks["thr"]] >= 0.7)
    for c in range(K):
        in_c = np.flatnonzero(classes == c)
        top_c = picks["top"][classes[picks["top"]] == c]
        assert sf[top_c].min() >= np.sort(sf[in_c])[-50]
    # ordering of mean SF: TopImages >= Threshold0.7 >= MatchedFrequency here
    assert sf[picks["top"]].mean() >= sf[picks["thr"]].mean() >= sf[picks["mf"]].mean()
    sizes = np.array([10, 20, 30, 40])
    idx = an.top_images(sf, classes, sizes, K, rng)
    assert np.bincount(classes[idx], minlength=K).tolist() == sizes.tolist()


def test_matched_frequency_reproduces_the_target_histogram():
    rng = np.random.default_rng(5)
    classes = np.repeat(np.arange(K), 500)
    sf = rng.uniform(0, 1, len(classes))  # >= 25 images in every bin of every class
    target = np.array([[10, 20, 30, 20, 20], [0, 0, 50, 50, 0], [5, 5, 5, 5, 80], [25, 25, 25, 25, 0]])
    idx = an.matched_frequency(sf, classes, target, 100, rng)
    np.testing.assert_array_equal(an.sf_histogram(sf[idx], classes[idx], K), target)
    # half the size: proportional counts
    idx = an.matched_frequency(sf, classes, target, 50, rng)
    hist = an.sf_histogram(sf[idx], classes[idx], K)
    assert hist.sum(1).tolist() == [50] * K and np.abs(hist - target / 2).max() <= 1


def test_matched_frequency_samples_upward_and_errors_name_class_and_shortfall():
    sf = np.array([0.1, 0.5, 0.9, 0.95, 0.3])
    classes = np.zeros(5, dtype=int)
    target = np.array([[3, 0, 0, 0, 0]])  # wants 3 from bin 0, which has 1
    rng = np.random.default_rng(0)
    idx = an.matched_frequency(sf, classes, target, 3, rng)
    assert 0 in idx and len(idx) == 3 and 4 in idx  # bin 0, then bin 1 (0.3), then bin 2 (0.5)
    with pytest.raises(ValueError, match="class 0: SF bin 0 is short by 2"):
        an.matched_frequency(sf, classes, target, 3, rng, allow_upward=False)
    with pytest.raises(ValueError, match="class 0: the pool is short by 1"):
        an.matched_frequency(sf, classes, np.array([[0, 0, 0, 0, 1]]), 3, rng)
    with pytest.raises(ValueError, match="class 0: only 2 images have SF >= 0.7, short by 1"):
        an.threshold_sample(sf, classes, 3, 1, rng)
    with pytest.raises(ValueError, match="per_class"):
        an.top_images(sf, classes, -1, 1, rng)
    with pytest.raises(ValueError, match="target_hist"):
        an.matched_frequency(sf, classes, np.ones((1, 3)), 3, rng)


def test_nearest_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    q, r = torch.rand(50, 7, generator=g), torch.rand(80, 7, generator=g)
    d, i = an.nearest(q, r, chunk=16)
    full = torch.cdist(q, r)
    np.testing.assert_allclose(d, full.min(1).values.numpy(), atol=1e-5)
    np.testing.assert_array_equal(i, full.argmin(1).numpy())
    with pytest.raises(ValueError, match="same D"):
        an.nearest(q, torch.rand(3, 5))


def test_near_duplicate_search_finds_planted_duplicates():
    g = torch.Generator().manual_seed(1)
    train = torch.randint(0, 256, (300, 1, 12, 12), dtype=torch.uint8, generator=g)
    test = torch.randint(0, 256, (100, 1, 12, 12), dtype=torch.uint8, generator=g)
    pool = torch.randint(0, 256, (60, 1, 12, 12), dtype=torch.uint8, generator=g)
    planted = {3: ("train", 17), 10: ("train", 250), 42: ("test", 5)}
    for p, (ref, j) in planted.items():
        src = train if ref == "train" else test
        noisy = src[j].int() + torch.randint(-6, 7, src[j].shape, generator=g)  # re-encoding noise
        pool[p] = noisy.clamp(0, 255).to(torch.uint8)
    nd = an.near_duplicates(
        pool, {"train": train, "test": test}, pixel_threshold=0.05, feature_threshold=0.0, feature_dim=8
    )
    assert set(np.flatnonzero(nd.remove)) == set(planted)
    pairs = nd.closest_pairs(3)
    assert {(int(r.pool), r.reference, int(r.ref_index)) for r in pairs.itertuples()} == {
        (p, ref, j) for p, (ref, j) in planted.items()
    }
    # the feature distance alone finds them too
    nd_ft = an.near_duplicates(
        pool, {"train": train, "test": test}, pixel_threshold=0.0, feature_threshold=0.1, feature_dim=8
    )
    assert set(planted) <= set(np.flatnonzero(nd_ft.remove))
    with pytest.raises(ValueError, match="thresholds"):
        an.near_duplicates(pool, {"train": train}, -1, 0)
    with pytest.raises(ValueError, match="reference set"):
        an.near_duplicates(pool, {}, 0.1, 0.1)
