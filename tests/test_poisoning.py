"""Backdoor poisoning, spectral signatures and planted cues (reliable_ml.pipeline.poisoning)."""

from __future__ import annotations

import pytest
import torch

from reliable_ml.models import nets as models
from reliable_ml.pipeline import poisoning as po


@pytest.fixture
def images():
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (200, 1, 12, 12), generator=gen, dtype=torch.uint8)
    y = torch.arange(200) % 10
    return x, y


def test_stamp_touches_only_the_patch(images):
    x, _ = images
    trig = po.make_trigger(3, 1, "checkerboard", corner="bottom_right", margin=1)
    out = po.stamp(x, trig)
    mask = trig.mask(12, 12)
    assert out.dtype == torch.uint8 and out.shape == x.shape
    assert torch.equal(out[:, :, ~mask], x[:, :, ~mask])
    expected = (trig.pattern * 255).to(torch.uint8)
    assert torch.equal(out[:, :, 8:11, 8:11], expected.expand(len(x), -1, -1, -1))
    assert torch.equal(x, images[0])  # input not modified
    # float images and other corners
    xf = x.float() / 255
    trig_tl = po.make_trigger(2, 1, "square", corner="top_left", margin=0)
    outf = po.stamp(xf, trig_tl)
    assert torch.all(outf[:, :, :2, :2] == 1) and torch.equal(outf[:, :, 2:, :], xf[:, :, 2:, :])


def test_faint_trigger_blends(images):
    x, _ = images
    trig = po.make_trigger(3, 1, "square", alpha=0.5)
    out = po.stamp(torch.zeros_like(x), trig)
    assert int(out.max()) == 128  # round(0.5 * 255)


@pytest.mark.parametrize("fraction,expected", [(0.0, 0), (0.01, 2), (0.05, 10), (0.0025, 1), (0.5, 100)])
def test_exact_number_of_poisons(images, fraction, expected):
    x, y = images
    assert po.n_poison(len(y), fraction) == expected
    p = po.badnets(x, y, fraction, target=3, trigger=po.make_trigger(3), seed=1)
    assert len(p.idx) == expected == len(torch.unique(p.idx))


def test_badnets_relabels_only_poisoned(images):
    x, y = images
    trig = po.make_trigger(3)
    p = po.badnets(x, y, 0.2, target=3, trigger=trig, seed=0)
    others = torch.ones(len(y), dtype=torch.bool)
    others[p.idx] = False
    assert torch.all(p.y[p.idx] == 3) and torch.all(y[p.idx] != 3)  # sources come from other classes
    assert torch.equal(p.y[others], y[others]) and torch.equal(p.x[others], x[others])
    assert torch.equal(p.x[p.idx], po.stamp(x[p.idx], trig))
    again = po.badnets(x, y, 0.2, target=3, trigger=trig, seed=0)
    assert torch.equal(again.idx, p.idx)  # seeded


def test_clean_label_keeps_labels(images):
    x, y = images
    trig = po.make_trigger(3)
    p = po.clean_label(x, y, 0.05, target=3, trigger=trig, seed=0)
    assert torch.equal(p.y, y) and len(p.idx) == 10
    assert torch.all(y[p.idx] == 3)
    assert torch.equal(p.x[p.idx], po.stamp(x[p.idx], trig))


def test_clean_label_hardened_stays_in_ball(single_thread, images):
    x, y = images
    torch.manual_seed(0)
    model = models.small_cnn(image_size=12, channels=(4, 8), hidden=16)
    trig = po.make_trigger(3)
    eps = 8 / 255
    p = po.clean_label(x, y, 0.05, target=3, trigger=trig, seed=0, harden_model=model, eps=eps, steps=3)
    assert torch.equal(p.y, y)
    mask = trig.mask(12, 12)
    diff = (p.x[p.idx].float() - x[p.idx].float())[:, :, ~mask]
    assert diff.abs().max() <= eps * 255 + 1  # PGD radius, plus rounding to uint8
    assert diff.abs().max() > 0


def test_spectral_scores_find_planted_outliers():
    gen = torch.Generator().manual_seed(0)
    clean = torch.randn(500, 32, generator=gen)
    shift = torch.zeros(32)
    shift[5] = 6.0
    poisons = torch.randn(25, 32, generator=gen) + shift
    feats = torch.cat([clean, poisons])
    scores = po.spectral_scores(feats)
    assert scores.shape == (525,) and torch.all(scores >= 0)
    removed = po.spectral_filter(feats, 25, factor=1.5)
    assert len(removed) == 38  # ceil(1.5 * 25)
    assert po.detection_recall(removed, torch.arange(500, 525)) >= 0.95


def test_single_source_badnets_and_success(images):
    x, y = images
    trig = po.make_trigger(3, 1, "square")
    p = po.badnets(x, y, 0.05, target=0, trigger=trig, source=7, seed=1)
    assert len(p.idx) == 10 and torch.all(y[p.idx] == 7) and torch.all(p.y[p.idx] == 0)
    untouched = torch.ones(len(y), dtype=torch.bool)
    untouched[p.idx] = False
    assert torch.equal(p.y[untouched], y[untouched]) and torch.equal(p.x[untouched], x[untouched])

    class Always0(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, z):
            return torch.nn.functional.one_hot(torch.zeros(len(z), dtype=torch.long), 10).float()

    assert po.attack_success(Always0(), x, y, target=0, trigger=trig, source=7) == (20, 20)


def test_spectral_defence_on_a_model_whose_features_carry_the_trigger(single_thread, images):
    x, y = images
    trig = po.make_trigger(3, 1, "square")
    p = po.badnets(x, y, 0.05, target=0, trigger=trig, source=7, seed=0)

    class TriggerFeature(torch.nn.Module):  # penultimate features: noise plus a trigger detector
        def __init__(self):
            super().__init__()
            self.head = torch.nn.Linear(8, 10)

        def forward(self, z):
            gen = torch.Generator().manual_seed(0)
            noise = 0.3 * torch.randn(len(z), 7, generator=gen)
            hit = (z[:, :, -4:-1, -4:-1].flatten(1).mean(1, keepdim=True) > 0.99).float()
            return self.head(torch.cat([noise, 5 * hit], 1))

    res = po.spectral_defence(TriggerFeature(), p, target=0, factor=1.5)
    assert len(res.labelled) == int((p.y == 0).sum()) == 30 and len(res.removed) == 15
    assert res.recall == 1.0 and int(res.is_poison.sum()) == 10
    assert res.keep.sum() == len(y) - 15 and not res.keep[p.idx].any()
    with pytest.raises(ValueError, match="labelled 5"):
        po.spectral_defence(TriggerFeature(), po.Poisoned(x[:3], torch.tensor([5, 1, 2]), torch.tensor([0])), target=5)


def test_representations_are_penultimate(single_thread):
    torch.manual_seed(0)
    model = models.small_cnn(image_size=12, channels=(4, 8), hidden=16)
    x = torch.rand(7, 1, 12, 12)
    r = po.representations(model, x)
    assert r.shape == (7, 16)
    assert torch.allclose(model[-1](r), model(x), atol=1e-5)


def test_attack_success_counts_non_target_only(single_thread, images):
    x, y = images

    class Says(torch.nn.Module):  # predicts class 3 iff the bottom-right pixel is bright
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, z):
            hit = (z[:, 0, -2, -2] > 0.99).float()
            return torch.stack([1 - hit] + [torch.zeros_like(hit)] * 2 + [2 * hit] + [torch.zeros_like(hit)] * 6, 1)

    trig = po.make_trigger(3, 1, "square")
    hits, n = po.attack_success(Says(), x, y, target=3, trigger=trig)
    assert n == int((y != 3).sum()) and hits == n
    # per image, in test-set order, for paired tests: all hit with the trigger, none without it
    each = po.attack_hits(Says(), x, y, target=3, trigger=trig, source=int(y[y != 3][0]))
    assert each.dtype == torch.bool and len(each) == int((y == y[y != 3][0]).sum()) and bool(each.all())
    dark = po.Trigger(torch.zeros_like(trig.pattern))
    assert not po.attack_hits(Says(), x, y, target=3, trigger=dark).any()


def test_cue_classes_and_background():
    y = torch.arange(1000) % 10
    assert torch.equal(po.cue_classes(y, 1.0), y)
    other = po.cue_classes(y, 0.0, mode="agree_else_other")
    assert not torch.any(other == y)
    part = po.cue_classes(y, 0.8, seed=0)
    assert 0.75 < float((part == y).float().mean()) < 0.9  # 0.8 + 0.2 / 10 by chance
    x = torch.zeros(10, 1, 28, 28, dtype=torch.uint8)
    bg = po.add_background(x, torch.arange(10), amplitude=0.4)
    assert bg.dtype == torch.uint8 and int(bg.max()) <= 102 and int(bg.max()) > 90
    x[:, :, 10:18, 10:18] = 255
    withfg = po.add_background(x, torch.arange(10))
    assert torch.all(withfg[:, :, 10:18, 10:18] == 255)
    only = po.add_background(x, torch.arange(10), foreground=False)
    assert int(only.max()) <= 102
    rgb = po.add_background(torch.full((2, 3, 8, 8), 200, dtype=torch.uint8), torch.tensor([0, 1]), mix="blend")
    assert rgb.shape == (2, 3, 8, 8)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda x, y: po.badnets(x, y, 1.5, target=0, trigger=po.make_trigger(3)), r"fraction.*\[0, 1\].*1\.5"),
        (lambda x, y: po.badnets(x, y, -0.1, target=0, trigger=po.make_trigger(3)), r"fraction.*-0\.1"),
        (lambda x, y: po.badnets(x, y, 0.1, target=10, trigger=po.make_trigger(3)), r"target class 10.*0 \.\. 9"),
        (lambda x, y: po.badnets(x, y, 0.1, target=0, trigger=po.make_trigger(12)), r"larger than the 12x12 image"),
        (lambda x, y: po.clean_label(x, y, 0.5, target=0, trigger=po.make_trigger(3)), r"pool 'target' has only 20"),
        (lambda x, y: po.make_trigger(3, kind="star"), r"'star'.*checkerboard, square"),
        (lambda x, y: po.make_trigger(3, corner="middle"), r"'middle'.*bottom_right"),
        (lambda x, y: po.poison_indices(y, 0.1, target=0, pool="some"), r"'some'.*all, non_target, target, source"),
        (lambda x, y: po.badnets(x, y, 0.01, target=0, trigger=po.make_trigger(3), source=0), r"source class other.*0"),
        (
            lambda x, y: po.badnets(x, y, 0.2, target=0, trigger=po.make_trigger(3), source=7),
            r"pool 'source' has only 20",
        ),
        (lambda x, y: po.poison_indices(y, 0.1, target=0, source=3), r"only used with pool='source'"),
        (lambda x, y: po.add_background(x, y + 5), r"cue classes must lie in 0 \.\. 9"),
    ],
)
def test_bad_inputs_raise_clear_errors(images, call, match):
    x, y = images
    with pytest.raises(ValueError, match=match):
        call(x, y)
