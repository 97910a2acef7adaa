"""The standard attack suite (robust.standard_suite): the cascade's worst case equals attacking every
image, the union lies below every attack, the recorded strength is what ran, the sample is a seeded
random one, and the cache returns what was computed."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from reliable_ml import stats
from reliable_ml.course import prose
from reliable_ml.robust import standard_suite as ss
from reliable_ml.robust import verdicts as V

SMALL = dict(iterations=5, square_queries=60, dlr_restarts=2, pgd_steps=5, pgd_restarts=2)


def tiny():
    """A small random MLP on 4x4 images and labels it mostly gets right, with small margins."""
    torch.manual_seed(0)
    m = nn.Sequential(nn.Flatten(), nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 10)).eval()
    x = torch.rand(80, 1, 4, 4)
    with torch.no_grad():
        y = m(x).argmax(1)
    y[:6] = (y[:6] + 1) % 10  # six clean mistakes
    return m, x, y


def test_cascade_gives_the_same_worst_case_as_attacking_every_image():
    m, x, y = tiny()
    suite = ss.standard_suite(**SMALL)
    cascade = ss.run_suite(m, x, y, 0.1, suite, cascade=True)
    every = ss.run_suite(m, x, y, 0.1, suite, cascade=False)
    clean = int(cascade["clean"].sum())
    assert clean == 74 and 0 < int(cascade["robust"].sum()) < clean  # some images broken, some not
    assert torch.equal(cascade["robust"], every["robust"])
    # attacked on a cascade: only images every earlier attack left correct, fewer and fewer
    ns = [a["n"] for a in cascade["attacks"].values()]
    assert ns[0] == clean and all(b <= a for a, b in zip(ns, ns[1:]))
    for a in cascade["attacks"].values():
        assert not bool((a["broken"] & ~a["attacked"]).any())


def test_union_is_at_most_every_attacks_accuracy():
    m, x, y = tiny()
    every = ss.run_suite(m, x, y, 0.1, ss.standard_suite(**SMALL), cascade=False)
    union = every["robust"].double().mean().item()
    for name, a in every["attacks"].items():
        alone = (every["clean"] & ~a["broken"]).double().mean().item()  # this attack's own accuracy
        assert union <= alone + 1e-12, name
    cascade = ss.run_suite(m, x, y, 0.1, ss.standard_suite(**SMALL))
    after = [a["acc_after"] for a in cascade["attacks"].values()]
    assert all(b <= a for a, b in zip(after, after[1:])) and after[-1] == pytest.approx(union)


def test_square_last_counts_exactly_the_images_gradient_attacks_missed():
    m, x, y = tiny()
    res = ss.run_suite(m, x, y, 0.1, ss.standard_suite(**SMALL))
    grad_ok = ss.gradient_union_ok(res)
    s = ss.summary(res)
    assert (
        s["broken_only_by_gradient_free"] == int((grad_ok & ~res["robust"]).sum()) == s["attacks"]["square"]["broken"]
    )
    assert torch.equal(res["attacks"]["square"]["attacked"], grad_ok)


def test_recorded_strength_is_the_standard_suite():
    built = ss.built_strength(ss.standard_suite())
    assert built["apgd-ce"] == {"steps": 100, "restarts": 1, "queries": None, "targets": None}
    assert built["apgd-t"] == {"steps": 100, "restarts": 1, "queries": None, "targets": 9}
    assert built["fab-t"] == {"steps": 100, "restarts": 1, "queries": None, "targets": 9}
    assert built["square"] == {"steps": None, "restarts": 1, "queries": 5000, "targets": None}
    assert built["apgd-dlr"]["restarts"] == 5 and built["pgd"]["restarts"] == 5
    ref = ss.reference_standard()
    assert all(built[k] == ref[k] for k in ref)
    # torchattacks' own AutoAttack(version="standard") leaves the gradient components at 10 iterations
    import torchattacks

    aa = torchattacks.AutoAttack(nn.Sequential(nn.Flatten(), nn.Linear(1, 10)), eps=0.3, version="standard")
    steps = [getattr(a, "steps", None) for a in aa._autoattack.attacks]
    assert steps[:3] == [10, 10, 10]
    text = V.suite_strength_text(built, ref)
    assert "are those of the reference" in text and "10 iterations" in text and prose.check_text(text) == []
    weak = V.suite_strength_text(ss.built_strength(ss.standard_suite(iterations=10)), ref)
    assert "not AutoAttack's standard version" in weak and "APGD-CE, APGD-T and FAB-T differ" in weak


def test_summary_records_steps_restarts_queries_and_images():
    m, x, y = tiny()
    s = ss.summary(ss.run_suite(m, x, y, 0.1, ss.standard_suite(**SMALL)))
    assert s["attacks"]["apgd-t"]["steps"] == 5 and s["attacks"]["apgd-t"]["targets"] == 9
    assert s["attacks"]["apgd-dlr"]["restarts"] == 2 and s["attacks"]["square"]["queries"] == 60
    assert s["attacks"]["apgd-ce"]["n"] == 74 and s["n"] == 80


def test_random_sample_is_seeded_and_not_the_first_n():
    a, b = ss.random_sample(10_000, 1000, 0), ss.random_sample(10_000, 1000, 0)
    assert np.array_equal(a, b) and len(np.unique(a)) == 1000 and np.all(np.diff(a) > 0)
    assert not np.array_equal(a, np.arange(1000)) and a.max() > 9000
    assert not np.array_equal(a, ss.random_sample(10_000, 1000, 1))
    with pytest.raises(ValueError, match="sample size n must lie in 1..10000; got 0"):
        ss.random_sample(10_000, 0, 0)


def test_bad_settings_and_attacks_are_refused():
    with pytest.raises(ValueError, match="iterations must be an integer >= 1; got 0"):
        ss.standard_suite(iterations=0)
    m, x, y = tiny()
    with pytest.raises(ValueError, match="unknown attack"):
        ss.run_suite(m, x, y, 0.1, {"cw": {"steps": 1, "restarts": 1, "queries": None, "targets": None}})


def test_cached_suite_reads_back_what_it_computed(tmp_path, monkeypatch):
    monkeypatch.setenv("RELIABLE_ML_CACHE", str(tmp_path))
    m, x, y = tiny()
    suite = ss.standard_suite(**SMALL)
    cold = ss.cached_suite(m, "fp", x, y, 0.1, suite)
    warm = ss.cached_suite(m, "fp", x, y, 0.1, suite)
    assert not cold["cached"] and warm["cached"] and warm["cold_seconds"] == cold["cold_seconds"]
    assert torch.equal(cold["robust"], warm["robust"]) and ss.summary(cold)["attacks"] == ss.summary(warm)["attacks"]
    other = ss.cached_suite(m, "fp", x, y, 0.1, ss.standard_suite(**{**SMALL, "pgd_restarts": 1}))
    assert not other["cached"]  # other settings, another entry


def test_square_alone_text_follows_the_verdict():
    robust = np.r_[np.ones(850), np.zeros(150)]
    grad = np.r_[np.ones(866), np.zeros(134)]  # Square breaks 16 the gradient attacks missed
    v = stats.compare(robust, grad, paired=True)
    text = V.square_alone_text(16, 1000, v, 0.866, 0.85)
    assert v.direction == "lower" and "breaks 16 images" in text and "warning" in text
    assert prose.check_text(text) == []
    few = stats.compare(np.r_[np.ones(864), np.zeros(136)], grad, paired=True)
    calm = V.square_alone_text(2, 1000, few, 0.866, 0.864)
    assert few.direction == "cannot tell" and "raises no warning" in calm and prose.check_text(calm) == []


def test_literature_text_for_a_random_sample():
    card = {
        "settings": {"epochs": 4, "attack_steps": 4, "batch_size": 100},
        "n_train": 60_000,
        "n_eval": 1000,
        "masking": {"flags": []},
    }
    v = stats.against_reference(0.86, (0.838, 0.879), 0.88)
    text = V.literature_text(v, card, n_eval=1000, sample="random", suite="the standard suite", flags=["x"])
    assert "random sample of 1,000" in text and "2,400 iterations of 100 images" in text
    assert "not a reproduction" in text and "1,024 units" in text and "the masking warning(s) of x stand" in text
    assert prose.check_text(text) == []
    with pytest.raises(ValueError, match="sample must be 'first' or 'random'"):
        V.literature_text(v, card, sample="last")


def tiny8():
    """As :func:`tiny` on 8x8 images (torchattacks' L2 Square needs a side of at least 5)."""
    torch.manual_seed(0)
    m = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)).eval()
    x = torch.rand(80, 1, 8, 8)
    with torch.no_grad():
        y = m(x).argmax(1)
    y[:6] = (y[:6] + 1) % 10
    return m, x, y


def test_l2_suite_stays_in_the_l2_ball_and_matches_a_cascade_free_run():
    m, x, y = tiny8()
    suite = ss.standard_suite(**SMALL)
    eps = 0.4  # L2 radius on 64 pixels
    cascade = ss.run_suite(m, x, y, eps, suite, norm="L2")
    every = ss.run_suite(m, x, y, eps, suite, cascade=False, norm="L2")
    assert torch.equal(cascade["robust"], every["robust"])
    clean = int(cascade["clean"].sum())
    assert 0 < int(cascade["robust"].sum()) < clean
    # the same radius in L-infinity is a much larger set (0.4 per pixel): it breaks at least as many
    linf = ss.run_suite(m, x, y, eps, suite, cascade=False)
    assert int(linf["robust"].sum()) <= int(every["robust"].sum())
    with pytest.raises(ValueError, match="unknown norm 'L1'; allowed: Linf, L2"):
        ss.run_suite(m, x, y, eps, suite, norm="L1")


def test_projection_keeps_points_inside_each_ball_and_the_box():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(50, 1, 4, 4, generator=g)
    far = x + 3 * torch.randn(50, 1, 4, 4, generator=g)
    p2 = ss.project(x, far, 0.5, "L2")
    assert float((p2 - x).flatten(1).norm(dim=1).max()) <= 0.5 + 1e-6
    assert float(p2.min()) >= 0 and float(p2.max()) <= 1
    pinf = ss.project(x, far, 0.1, "Linf")
    assert float((pinf - x).abs().max()) <= 0.1 + 1e-6
    near = (x + 0.01 * torch.randn(50, 1, 4, 4, generator=g)).clamp(0, 1)
    assert torch.allclose(ss.project(x, near, 0.5, "L2"), near)  # inside the ball: unchanged


def test_cached_suite_keys_the_norm_and_keeps_linf_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("RELIABLE_ML_CACHE", str(tmp_path))
    m, x, y = tiny8()
    suite = ss.standard_suite(**SMALL)
    ss.cached_suite(m, "fp", x, y, 0.1, suite)
    assert ss.cached_suite(m, "fp", x, y, 0.1, suite, norm="Linf")["cached"]  # the default is L-infinity
    assert not ss.cached_suite(m, "fp", x, y, 0.1, suite, norm="L2")["cached"]  # another norm, another entry
    assert ss.cached_suite(m, "fp", x, y, 0.1, suite, norm="L2")["cached"]


def test_chunked_suite_reuses_the_first_chunk_and_joins_per_image_outcomes(tmp_path, monkeypatch):
    monkeypatch.setenv("RELIABLE_ML_CACHE", str(tmp_path))
    m, x, y = tiny()
    suite = ss.standard_suite(**SMALL)
    first = ss.cached_suite(m, "fp", x[:40], y[:40], 0.1, suite)  # an earlier, smaller sample
    grown = ss.chunked_suite(m, "fp", x, y, 0.1, suite, chunk=40)
    assert [c["cached"] for c in grown["chunks"]] == [True, False] and not grown["cached"]
    assert grown["chunks"][0]["images"] == [0, 40] and grown["chunks"][1]["images"] == [40, 80]
    second = ss.cached_suite(m, "fp", x[40:], y[40:], 0.1, suite)  # read back: the chunk grown's run wrote
    assert second["cached"]
    assert torch.equal(grown["robust"], torch.cat([first["robust"], second["robust"]]))
    for k, a in grown["attacks"].items():
        assert a["n"] == first["attacks"][k]["n"] + second["attacks"][k]["n"]
        assert torch.equal(a["broken"], torch.cat([first["attacks"][k]["broken"], second["attacks"][k]["broken"]]))
    last = list(grown["attacks"].values())[-1]
    assert last["acc_after"] == pytest.approx(grown["robust"].double().mean().item())  # recomputed on the union
    assert ss.chunked_suite(m, "fp", x, y, 0.1, suite, chunk=40)["cached"]
    other = ss.cached_suite(m, "fp", x[40:], y[40:], 0.1, ss.standard_suite(**{**SMALL, "pgd_restarts": 1}))
    with pytest.raises(ValueError, match="never mix settings"):
        ss.join_results([first, other])
    with pytest.raises(ValueError, match="chunk must be"):
        ss.chunked_suite(m, "fp", x, y, 0.1, suite, chunk=0)
