"""The gate on large-radius targeted attacks and its gradient-free baseline (chapter 10)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from reliable_ml.robust import targeted_gate as tg

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(autouse=True)
def cache_root(tmp_path, monkeypatch):
    """toward_nearest keeps its results in the result cache: an empty one per test."""
    monkeypatch.setenv("RELIABLE_ML_CACHE", str(tmp_path / "cache"))


def _toy_train():
    """Ten flat 'training images' 2x2, class c has value c/10 everywhere, plus one far image per class."""
    near = torch.stack([torch.full((1, 2, 2), c / 10) for c in range(10)])
    far = torch.stack([torch.full((1, 2, 2), 1.0 if c < 5 else 0.0) for c in range(10)])
    return torch.cat([near, far]), torch.cat([torch.arange(10), torch.arange(10)])


def test_nearest_of_class_finds_the_closest_image_of_the_target_class():
    x_train, y_train = _toy_train()
    x = torch.full((3, 1, 2, 2), 0.5)
    t = torch.tensor([3, 7, 2])
    idx = tg.nearest_of_class(x, t, x_train, y_train, k=2)
    assert idx.tolist() == [[3, 13], [7, 17], [2, 12]]  # the flat image c/10 is closer than the far one
    assert (y_train[idx] == t[:, None]).all()
    with pytest.raises(ValueError, match="k = 3 needs at least 3"):
        tg.nearest_of_class(x, t, x_train, y_train, k=3)
    with pytest.raises(ValueError, match="differ in shape"):
        tg.nearest_of_class(torch.zeros(3, 1, 3, 3), t, x_train, y_train)


def test_toward_nearest_stays_in_the_ball_and_reaches_the_target_when_it_is_inside():
    x_train, y_train = _toy_train()
    x = torch.full((2, 1, 2, 2), 0.5)
    t = torch.tensor([6, 1])  # neighbours at L2 distance 2 * 0.1 = 0.2 and 2 * 0.4 = 0.8
    out = tg.toward_nearest(x, t, x_train, y_train, eps=0.5)
    d = (out["x_adv"] - x).flatten(1).norm(dim=1)
    assert torch.allclose(out["distance"], torch.tensor([0.2, 0.8]))
    assert out["reached"].tolist() == [True, False]
    torch.testing.assert_close(out["x_adv"][0], x_train[6])  # inside the ball: the target image itself
    assert float(d[1]) == pytest.approx(0.5, abs=1e-6)  # outside: the step stops on the sphere
    torch.testing.assert_close(out["x_adv"][1], torch.full((1, 2, 2), 0.5 - 0.5 * 0.4 / 0.8))
    assert out["x_adv"].min() >= 0 and out["x_adv"].max() <= 1


class _Nearest(nn.Module):
    """A 'model' that classifies by the nearest flat level c/10 of the mean pixel."""

    def forward(self, x):
        m = x.flatten(1).mean(1, keepdim=True)
        return -((m - torch.arange(10) / 10) ** 2) * 1e3


def test_toward_nearest_hits_with_a_model_and_random_images():
    x_train, y_train = (v[:10] for v in _toy_train())  # one flat image per class
    model = _Nearest()
    x = torch.full((10, 1, 2, 2), 0.42)
    t = torch.arange(10)
    out = tg.toward_nearest(x, t, x_train, y_train, eps=2.0, model=model)
    assert out["hit"].all() and out["reached"].all()  # every target image lies inside a ball of radius 2
    small = tg.toward_nearest(x, t, x_train, y_train, eps=0.05, model=model)
    assert small["hit"].sum() < 10 and not small["reached"][0]
    fooled = tg.nearest_other_class(model, x, torch.full((10,), 4), x_train, y_train, eps=0.3)
    assert fooled.all()  # level 0.3 or 0.5 is reachable within 0.3 from 0.42 (distance 2 * 0.12 = 0.24)
    assert not tg.nearest_other_class(model, x, torch.full((10,), 4), x_train, y_train, eps=0.05).any()
    with pytest.raises(ValueError, match="eps must be >= 0"):
        tg.toward_nearest(x, t, x_train, y_train, eps=-1.0)
    with pytest.raises(ValueError, match="k > 1 needs a model"):
        tg.toward_nearest(x, t, x_train, y_train, eps=1.0, k=2)


def test_toward_nearest_warm_call_returns_the_cold_value_and_a_change_recomputes(monkeypatch):
    x_train, y_train = (v[:10] for v in _toy_train())
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 10))
    torch.manual_seed(0)
    x, t = torch.rand(6, 1, 2, 2), torch.arange(6)
    calls = []
    real = tg._toward_nearest
    monkeypatch.setattr(tg, "_toward_nearest", lambda *a: calls.append(1) or real(*a))

    cold = tg.toward_nearest(x, t, x_train, y_train, eps=0.3, model=model)
    warm = tg.toward_nearest(x.clone(), t.clone(), x_train, y_train, eps=0.3, model=model)
    assert len(calls) == 1  # the second call was read back
    assert set(warm) == set(cold) == {"x_adv", "distance", "reached", "hit"}
    for key in ("x_adv", "distance", "reached"):
        assert torch.equal(warm[key], cold[key]) and warm[key].dtype == cold[key].dtype
    assert isinstance(warm["hit"], np.ndarray) and np.array_equal(warm["hit"], cold["hit"])
    assert np.array_equal(cold["hit"], real(x, t, x_train, y_train, 0.3, model, 1)["hit"])  # the uncached value

    tg.toward_nearest(x, t, x_train, y_train, eps=0.4, model=model)  # a setting
    with torch.no_grad():
        model[1].bias.add_(1.0)
    tg.toward_nearest(x, t, x_train, y_train, eps=0.3, model=model)  # the model's weights
    tg.toward_nearest(x, (t + 1) % 10, x_train, y_train, eps=0.3, model=model)  # the targets
    assert len(calls) == 4
    tg.toward_nearest(x, t, x_train, y_train, eps=0.3, model=model, cache=False)
    assert len(calls) == 5


def test_gate_verdict_on_crafted_success_rates():
    hits = {
        "works": np.r_[np.ones(180, bool), np.zeros(20, bool)],  # 90% of 200: interval above 1/2
        "fails": np.r_[np.ones(11, bool), np.zeros(189, bool)],  # 5.5%: the review's figure
        "edge": np.r_[np.ones(55, bool), np.zeros(45, bool)],  # 55% of 100: interval contains 1/2
    }
    g = tg.attack_gate(hits)
    assert not g["passed"] and g["failed"] == ["fails", "edge"]
    assert g["verdicts"]["works"].direction == "higher"
    assert g["verdicts"]["fails"].direction == "lower"
    assert g["verdicts"]["edge"].direction == "cannot tell"
    assert g["rates"] == pytest.approx({"works": 90.0, "fails": 5.5, "edge": 55.0})
    assert tg.attack_gate({"works": hits["works"]})["passed"]
    text = tg.gate_sentence(g, {"fails": "the L-inf model"}, baseline={"fails": 83.0}, what="its pictures")
    assert "5.5% of 200 images" in text and "83.0%" in text
    assert "concludes nothing about its pictures for the L-inf model, edge" in text
    assert "gate is passed" in tg.gate_sentence(tg.attack_gate({"works": hits["works"]}))
    assert g["k"] == {"works": 180, "fails": 11, "edge": 55} and g["n"] == {"works": 200, "fails": 200, "edge": 100}


def test_gate_sentence_words_follow_the_verdict_not_the_rate():
    # the cpu run: 111 of 200 (55.5%) for the shared L-inf model, exact interval 48.3-62.5%: not "does not
    # reach the target on most images" (55.5% is most) but "cannot be shown to"
    hit = np.arange(200) < 111
    free = np.arange(200) < 157  # 78.5%: a superset of the attack's hits, so paired it is higher
    g = tg.attack_gate({"linf": hit, "low": np.arange(200) < 11})
    text = tg.gate_sentence(g, {"linf": "the shared L∞ model"}, baseline_each={"linf": free}, flagged={"linf"})
    assert "cannot be shown to reach it on most images for the shared L∞ model (55.5%, exact interval " in text
    assert "48.3–62.5% includes 50%)" in text
    assert "the gradient-free step reaches the target on 78.5% of these images, more than the gradient attack" in text
    assert "consistent with its masking flag" in text
    assert "fewer than half of the images for low (5.5%" in text and "does not reach" not in text
    same = tg.gate_sentence(g, baseline_each={"linf": hit})  # no discordant pair: the data cannot tell
    assert "the data cannot tell that share from the gradient attack's" in same and "masking flag" not in same
    with pytest.raises(ValueError, match="at least one model"):
        tg.attack_gate({})
    with pytest.raises(ValueError, match="non-empty 1-d"):
        tg.hit_verdict([])
