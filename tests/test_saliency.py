"""Saliency maps: vanilla gradient, SmoothGrad, integrated gradients (reliable_ml.robust.saliency)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from reliable_ml.models import nets as models
from reliable_ml.robust import saliency as sal

pytestmark = pytest.mark.usefixtures("single_thread")


def linear_model() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(2 * 4 * 4, 5))


def test_vanilla_gradient_of_linear_model_is_its_weight_row():
    model = linear_model()
    x = torch.rand(3, 2, 4, 4)
    g = sal.vanilla_gradient(model, x, torch.tensor([0, 2, 4]))
    w = model[1].weight
    for i, c in enumerate((0, 2, 4)):
        assert torch.allclose(g[i].flatten(), w[c], atol=1e-6)
    assert model[1].weight.grad is None  # input gradients only


def test_smoothgrad_with_zero_noise_is_vanilla():
    torch.manual_seed(0)
    model = models.small_cnn(image_size=8, channels=(4, 8), hidden=16)
    x = torch.rand(4, 1, 8, 8)
    assert torch.allclose(
        sal.smoothgrad(model, x, 3, sigma=0.0, n_samples=3), sal.vanilla_gradient(model, x, 3), atol=1e-6
    )
    noisy = sal.smoothgrad(model, x, 3, sigma=0.2, n_samples=4, generator=torch.Generator().manual_seed(0))
    assert noisy.shape == x.shape and not torch.allclose(noisy, sal.vanilla_gradient(model, x, 3))


def test_integrated_gradients_completeness():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.Tanh(), nn.Linear(12, 3)).double()
    x = torch.rand(5, 1, 4, 4, dtype=torch.float64)
    baseline = torch.full_like(x, 0.2)
    ig = sal.integrated_gradients(model, x, 1, baseline=baseline, steps=200)
    with torch.no_grad():
        delta = model(x)[:, 1] - model(baseline)[:, 1]
    assert torch.allclose(ig.flatten(1).sum(1).double(), delta, atol=1e-3)
    # a linear model is integrated exactly with any number of steps: IG = (x - x0) * w
    lin = linear_model()
    xl = torch.rand(2, 2, 4, 4)
    ig1 = sal.integrated_gradients(lin, xl, 4, steps=1)
    assert torch.allclose(ig1.flatten(1), xl.flatten(1) * lin[1].weight[4], atol=1e-6)


def test_region_share_and_heatmap():
    attr = torch.zeros(2, 3, 6, 6)
    attr[0, :, 4:, 4:] = 1.0
    attr[1] = -1.0
    mask = torch.zeros(6, 6, dtype=torch.bool)
    mask[4:, 4:] = True
    share = sal.region_share(attr, mask)
    assert share[0] == pytest.approx(1.0) and share[1] == pytest.approx(4 / 36)
    h = sal.heatmap(attr)
    assert h.shape == (2, 6, 6) and float(h.max()) <= 1 and float(h.min()) >= 0


def test_model_mode_restored_and_bad_inputs():
    model = linear_model().train()
    sal.integrated_gradients(model, torch.rand(1, 2, 4, 4), 0, steps=2)
    assert model.training
    with pytest.raises(ValueError, match="target classes must lie in 0 .. 4"):
        sal.vanilla_gradient(model, torch.rand(2, 2, 4, 4), 7)
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        sal.smoothgrad(model, torch.rand(2, 2, 4, 4), 0, sigma=-1)
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        sal.integrated_gradients(model, torch.rand(2, 2, 4, 4), 0, steps=0)
    with pytest.raises(ValueError, match="must be float"):
        sal.vanilla_gradient(model, torch.zeros(2, 2, 4, 4, dtype=torch.uint8), 0)
    with pytest.raises(ValueError, match="mask must have shape"):
        sal.region_share(torch.zeros(1, 1, 4, 4), torch.zeros(3, 3, dtype=torch.bool))


def test_masking_sentence_names_the_union_of_gradient_attacks():
    card = {
        "masking": {
            "flags": ["gradient_free_beats_gradient"],
            "checks": {
                "gradient_free_beats_gradient": {"gradient_free_acc": 88.0, "best_gradient_acc": 90.1, "noise": 1.2}
            },
        }
    }
    words = sal.masking_sentence(card)
    assert "90.1% under the gradient attacks together" in words and "best gradient attack" not in words
    assert sal.masking_sentence({"masking": {"flags": [], "checks": {"x": {}}}}).endswith("raise no flag.")


def test_gate_sentence_follows_chapter_10s_gate_and_refuses_a_partial_entry():
    failed = {"success_rate": 55.5, "gradient_free_success_rate": 78.5, "n": 200, "passes_gate": False}
    words = sal.gate_sentence(failed, same_model=True)
    assert "55.5% of 200 images" in words and "78.5%" in words
    assert "fails chapter 10's gate" in words and "concludes nothing" in words
    passed = failed | {"success_rate": 99.5, "passes_gate": True}
    assert "passes chapter 10's gate" in sal.gate_sentence(passed, same_model=True)
    assert "another robust model" in sal.gate_sentence(failed, same_model=False)
    assert "no chapter-10 results" in sal.gate_sentence(None, same_model=False)
    with pytest.raises(ValueError, match="passes_gate"):
        sal.gate_sentence({"success_rate": 55.5, "gradient_free_success_rate": 78.5, "n": 200}, same_model=True)
