"""FGSM/PGD: hand-computed steps, the ball constraint, monotonicity, and a cross-check with torchattacks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from reliable_ml.data import load_images
from reliable_ml.models import nets as models
from reliable_ml.robust import attacks

EPS = 0.1  # on 8x8 digits this leaves the model with a middling robust accuracy


pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def digits():
    """A small CNN trained for a few seconds on scikit-learn's bundled digits, and a test batch."""
    torch.manual_seed(0)
    x, y, _ = load_images("digits", "train")
    x = x.float() / 255
    model = models.small_cnn(image_size=8, channels=(16, 32), hidden=64)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(8):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            idx = perm[i : i + 64]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    xt, yt, _ = load_images("digits", "test")
    model.zero_grad(set_to_none=True)
    return model, xt.float() / 255, yt


def test_model_is_trained(digits):
    model, x, y = digits
    assert attacks.accuracy(model, x, y) > 0.9


def test_fgsm_equals_hand_computed_sign_step(digits):
    model, x, y = digits
    xv = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(F.cross_entropy(model(xv), y, reduction="sum"), xv)
    expected = (x + EPS * grad.sign()).clamp(0, 1)
    x_adv, success = attacks.fgsm(model, x, y, EPS)
    torch.testing.assert_close(x_adv, expected)
    assert torch.equal(success, model(x_adv).argmax(1) != y)
    # targeted: step *down* the loss of the target class
    target = (y + 1) % 10
    xv = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(F.cross_entropy(model(xv), target, reduction="sum"), xv)
    x_adv, success = attacks.fgsm(model, x, target, EPS, targeted=True)
    torch.testing.assert_close(x_adv, (x - EPS * grad.sign()).clamp(0, 1))
    assert torch.equal(success, model(x_adv).argmax(1) == target)


@pytest.mark.parametrize("norm, eps", [("linf", EPS), ("l2", 1.0)])
def test_perturbation_stays_in_ball_and_image_range(digits, norm, eps):
    model, x, y = digits
    x_adv, success = attacks.pgd(
        model, x, y, eps, norm=norm, steps=10, restarts=2, generator=torch.Generator().manual_seed(0)
    )
    delta = (x_adv - x).flatten(1)
    size = delta.abs().amax(1) if norm == "linf" else delta.norm(dim=1)
    assert float(size.max()) <= eps * (1 + 1e-5)
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    assert x_adv.shape == x.shape and x_adv.dtype == x.dtype and success.dtype == torch.bool
    # success is the model's verdict on the returned batch
    assert torch.equal(success, model(x_adv).argmax(1) != y)


@pytest.mark.parametrize("random_start", [False, True])
def test_pgd_linf_matches_torchattacks(digits, random_start):
    torchattacks = pytest.importorskip("torchattacks")
    model, x, y = digits
    settings = dict(eps=EPS, alpha=EPS / 4, steps=10, random_start=random_start)
    torch.manual_seed(1)
    ref = torchattacks.PGD(model, **settings)(x, y)
    with torch.no_grad():
        ref_acc = float((model(ref).argmax(1) == y).float().mean())
    ours = attacks.robust_accuracy(
        model,
        x,
        y,
        EPS,
        steps=10,
        step_size=EPS / 4,
        random_start=random_start,
        generator=torch.Generator().manual_seed(1),
    )
    assert 0.15 < ref_acc < 0.9, "pick EPS so the comparison is informative"
    assert abs(ours - ref_acc) <= 0.01, (ours, ref_acc)


def test_pgd_l2_matches_torchattacks(digits):
    torchattacks = pytest.importorskip("torchattacks")
    model, x, y = digits
    ref = torchattacks.PGDL2(model, eps=1.0, alpha=0.25, steps=10, random_start=False)(x, y)
    with torch.no_grad():
        ref_acc = float((model(ref).argmax(1) == y).float().mean())
    ours = attacks.robust_accuracy(model, x, y, 1.0, norm="l2", steps=10, step_size=0.25, random_start=False)
    assert abs(ours - ref_acc) <= 0.01, (ours, ref_acc)


def test_robust_accuracy_decreases_with_eps_and_reaches_zero(digits):
    model, x, y = digits
    accs = [
        attacks.robust_accuracy(model, x, y, eps, steps=10, random_start=False) for eps in (0.0, 0.05, 0.1, 0.2, 0.5)
    ]
    assert accs[0] == pytest.approx(attacks.accuracy(model, x, y))
    assert all(a >= b for a, b in zip(accs, accs[1:])), accs
    assert accs[-1] < 0.02


def test_more_steps_and_restarts_never_help_the_model(digits):
    model, x, y = digits
    accs = [
        attacks.robust_accuracy(
            model, x, y, EPS, steps=s, step_size=EPS / 4, restarts=r, generator=torch.Generator().manual_seed(3)
        )
        for s, r in ((2, 1), (5, 1), (10, 1), (10, 3))
    ]
    assert all(a >= b for a, b in zip(accs, accs[1:])), accs
    assert accs[0] > accs[-1]


def test_targeted_attack_reaches_the_target(digits):
    model, x, y = digits
    target = (y + 3) % 10
    _, hit = attacks.pgd(model, x, target, 0.4, steps=20, targeted=True, generator=torch.Generator().manual_seed(0))
    assert hit.float().mean() > 0.9


def test_no_parameter_gradients_and_mode_restored(digits):
    model, x, y = digits
    model.zero_grad(set_to_none=True)
    model.train()
    try:
        attacks.pgd(model, x[:32], y[:32], EPS, steps=3)
        attacks.fgsm(model, x[:32], y[:32], EPS)
        assert all(p.grad is None for p in model.parameters())
        assert all(m.training for m in model.modules())
    finally:
        model.eval()
    attacks.pgd(model, x[:32], y[:32], EPS, steps=3)
    assert not any(m.training for m in model.modules())


def test_attack_sees_eval_mode(digits):
    """Batch-norm/dropout models must be attacked in eval mode."""
    seen = []
    model = torch.nn.Sequential(digits[0])
    model.register_forward_pre_hook(lambda mod, inp: seen.append(mod.training))
    model.train()
    attacks.pgd(model, digits[1][:8], digits[2][:8], EPS, steps=2)
    assert seen and not any(seen) and model.training


def test_works_under_autocast(digits):
    model, x, y = digits
    with torch.autocast("cpu", dtype=torch.bfloat16):
        x_adv, success = attacks.pgd(model, x[:64], y[:64], EPS, steps=5, generator=torch.Generator().manual_seed(0))
    assert x_adv.dtype == torch.float32
    assert float((x_adv - x[:64]).abs().max()) <= EPS + 1e-6
    assert success.float().mean() > 0.1


def test_device_follows_inputs(digits):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    model, x, y = digits
    gpu = torch.device("cuda")
    x_adv, success = attacks.pgd(model.to(gpu), x[:16].to(gpu), y[:16].to(gpu), EPS, steps=2)
    model.cpu()
    assert x_adv.device.type == "cuda" and success.device.type == "cuda"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(eps=-0.1), "eps must be >= 0"),
        (dict(steps=0), "steps must be an integer >= 1"),
        (dict(norm="l1"), "unknown norm 'l1'"),
        (dict(restarts=0), "restarts"),
    ],
)
def test_bad_arguments_raise(digits, kwargs, message):
    model, x, y = digits
    args = dict(eps=EPS) | kwargs
    eps = args.pop("eps")
    with pytest.raises(ValueError, match=message):
        attacks.pgd(model, x[:4], y[:4], eps, **args)


def test_inputs_outside_unit_interval_raise(digits):
    model, x, y = digits
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        attacks.pgd(model, x[:4] * 255, y[:4], EPS)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        attacks.fgsm(model, x[:4] - 0.5, y[:4], EPS)


def test_pgd_from_a_given_start_matches_a_hand_written_loop(digits):
    """The chapter's ten-line PGD and attacks.pgd agree from the same start (last iterate)."""
    model, x, y = digits
    x, y = x[:64], y[:64]
    delta = (torch.rand(x.shape, generator=torch.Generator().manual_seed(3)) * 2 - 1) * EPS
    delta = (x + delta).clamp(0, 1) - x
    x_pkg, fooled = attacks.pgd(model, x, y, EPS, steps=7, step_size=0.03, delta_init=delta, keep_best=False)
    for _ in range(7):
        delta = delta.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(F.cross_entropy(model(x + delta), y), delta)
        delta = (delta + 0.03 * grad.sign()).clamp(-EPS, EPS)
        delta = (x + delta).clamp(0, 1) - x
    assert torch.allclose(x_pkg, x + delta, atol=1e-6)
    assert torch.equal(fooled, model(x + delta).argmax(1) != y)
    with pytest.raises(ValueError, match="delta_init must have the shape"):
        attacks.pgd(model, x, y, EPS, delta_init=delta[:3])


def test_fgsm_is_one_pgd_step_of_size_eps_from_zero(digits):
    model, x, y = digits
    x_fgsm, _ = attacks.fgsm(model, x[:64], y[:64], EPS)
    x_pgd, _ = attacks.pgd(model, x[:64], y[:64], EPS, steps=1, step_size=EPS, random_start=False, keep_best=False)
    assert torch.allclose(x_fgsm, x_pgd, atol=1e-6)


def test_robust_correct_is_per_example_robust_accuracy(digits):
    model, x, y = digits
    gen = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    ok = attacks.robust_correct(model, x[:100], y[:100], EPS, steps=5, generator=gen(), batch_size=30)
    assert ok.shape == (100,) and ok.dtype == torch.bool
    assert ok.float().mean().item() == pytest.approx(
        attacks.robust_accuracy(model, x[:100], y[:100], EPS, steps=5, generator=gen(), batch_size=30)
    )
