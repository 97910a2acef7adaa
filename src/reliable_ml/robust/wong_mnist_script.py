"""Wong et al.'s MNIST training script, transcribed, and watched like the course's own runs.

The script is ``MNIST/train_mnist.py`` of ``locuslab/fast_adversarial`` (commit 54f7287) with its
defaults: FGSM-RS with ``eps = 0.3`` and step ``alpha = 0.375`` (1.25 eps), 10 epochs over the 60,000
training digits in shuffled batches of 100, Adam with the learning rate interpolated linearly from 0
to 5e-3 at epoch ``2 * epochs // 5`` and back to 0, on ``MNIST/mnist_net.py`` (two 4x4 stride-2
convolutions with 16 and 32 channels, a hidden layer of 100 units, raw pixels in [0, 1]). One step::

    delta ~ U[-eps, eps]                                  # not clamped into the image
    g     = grad_delta CE(f(x + delta), y)                # so f may see pixels outside [0, 1]
    delta = clip(delta + alpha * sign(g), -eps, eps)
    delta = clip(delta, -x, 1 - x)
    theta <- Adam step on CE(f(clip(x + delta, 0, 1)), y)

It differs from :func:`reliable_ml.robust.train.train`'s FGSM-RS (which chapter 04's arms use) in the
first line's missing clamp. The course clamps the start into [0, 1], as their CIFAR-10 script does;
their MNIST script does not, which its authors call unintended and note that ``alpha`` may need
adjusting with the clamp (locuslab/fast_adversarial issue #21). On a pixel at 0, most of an MNIST
digit, the clamped start lies in [0, eps] and a step ``alpha >= eps`` ends at exactly 0 or eps, the
corner that FGSM from ``delta = 0`` reaches; the unclamped start ends anywhere in
``[alpha - eps, eps]`` or at 0 (:func:`fgsm_rs_step` shows both). The loop is written out here rather
than run through ``train``, so that a difference anywhere else in the course's loop would show too.

Every ``check_every`` steps and after the last, a run records what
:func:`reliable_ml.robust.catastrophic.watch_run` records: PGD and clean accuracy on a fixed held-out
batch, and accuracy on the attacked training batches since the previous check.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from reliable_ml.robust import attacks
from reliable_ml.util import result_cache
from reliable_ml.util.progress import tqdm

#: The script's defaults (``get_args`` of MNIST/train_mnist.py) and its network's hidden layer.
SCRIPT = {"eps": 0.3, "alpha": 0.375, "epochs": 10, "batch": 100, "lr_max": 5e-3, "hidden": 100}
LABEL = "FGSM-RS, step 1.25 eps, their script (start not clamped, hidden 100)"


def fgsm_rs_step(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    alpha: float,
    gen: torch.Generator,
    *,
    clamp_start: bool,
) -> torch.Tensor:
    """One FGSM-RS perturbation of images ``x`` in [0, 1]; returns ``delta`` with ``|delta| <= eps``
    and ``x + delta`` in [0, 1]. ``clamp_start=False`` is the script's step (the module docstring);
    ``True`` clamps the random start into the image first, as the course's training loop does."""
    delta = (torch.rand(x.shape, generator=gen, device=x.device) * 2 - 1) * eps
    if clamp_start:
        delta = (x + delta).clamp(0, 1) - x
    delta.requires_grad_(True)
    (grad,) = torch.autograd.grad(F.cross_entropy(model(x + delta), y), delta)
    delta = (delta.detach() + alpha * grad.sign()).clamp(-eps, eps)
    return torch.max(torch.min(1 - x, delta), -x)


def learning_rate(t: float, epochs: int, lr_max: float) -> float:
    """The script's schedule at fractional epoch ``t``: ``np.interp(t, [0, 2 * epochs // 5, epochs],
    [0, lr_max, 0])`` (integer division, as written there)."""
    return float(np.interp(t, [0, epochs * 2 // 5, epochs], [0, lr_max, 0]))


def script_run(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_check: torch.Tensor,
    y_check: torch.Tensor,
    *,
    seed: int,
    check_every: int,
    check_steps: int,
    width: int = 16,
    hidden: int = SCRIPT["hidden"],
    eps: float = SCRIPT["eps"],
    alpha: float = SCRIPT["alpha"],
    epochs: int = SCRIPT["epochs"],
    batch: int = SCRIPT["batch"],
    lr_max: float = SCRIPT["lr_max"],
) -> dict:
    """One run of the script (seeded with ``seed``), watched: returns ``steps``, ``pgd_acc``,
    ``clean_acc``, ``fgsm_train_acc`` (in [0, 1]), ``eps`` and ``seconds``, as
    :func:`reliable_ml.robust.catastrophic.watch_run`. ``x_train``: uint8 (N, 1, H, W); ``x_check``:
    float in [0, 1]. ``width``: channels ``(w, 2w)`` of :func:`reliable_ml.models.nets.small_cnn`
    (16 is their network)."""
    from reliable_ml.models import nets

    if x_train.dtype != torch.uint8 or len(x_train) != len(y_train):
        raise ValueError(
            f"x_train must be uint8 images with one label each; got {x_train.dtype}, {len(y_train)} labels"
        )
    if check_every < 1 or check_steps < 1:
        raise ValueError(f"check_every and check_steps must be >= 1; got {check_every} and {check_steps}")
    torch.manual_seed(seed)
    model = nets.small_cnn(
        in_channels=x_train.shape[1],
        image_size=x_train.shape[-1],
        channels=(width, 2 * width),
        hidden=hidden,
        normalize=False,
    )
    opt = torch.optim.Adam(model.parameters(), lr=lr_max)
    gen = torch.Generator().manual_seed(seed)
    n = len(y_train)
    per_epoch, total = math.ceil(n / batch), epochs * math.ceil(n / batch)
    curves: dict = {"steps": [], "pgd_acc": [], "clean_acc": [], "fgsm_train_acc": [], "eps": []}
    correct = seen = 0
    t0, check_s = time.perf_counter(), 0.0
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for i in range(per_epoch):
            idx = perm[i * batch : (i + 1) * batch]
            x, y = x_train[idx].float() / 255, y_train[idx]
            opt.param_groups[0]["lr"] = learning_rate(epoch + (i + 1) / per_epoch, epochs, lr_max)
            delta = fgsm_rs_step(model, x, y, eps, alpha, gen, clamp_start=False)
            logits = model((x + delta).clamp(0, 1))
            loss = F.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            correct += int((logits.argmax(1) == y).sum())
            seen += len(y)
            step = epoch * per_epoch + i + 1
            if step % check_every and step != total:
                continue
            c0 = time.perf_counter()
            check_gen = torch.Generator().manual_seed(seed)  # every check attacks with the same noise
            alpha_check = 2.5 * eps / check_steps
            curves["pgd_acc"].append(
                attacks.robust_accuracy(
                    model, x_check, y_check, eps, steps=check_steps, step_size=alpha_check, generator=check_gen
                )
            )
            curves["clean_acc"].append(attacks.accuracy(model, x_check, y_check))
            curves["fgsm_train_acc"].append(correct / seen)
            curves["steps"].append(step)
            curves["eps"].append(eps)
            correct = seen = 0
            check_s += time.perf_counter() - c0
    seconds = {"train_and_checks": round(time.perf_counter() - t0, 1), "checks": round(check_s, 1)}
    return curves | {"seconds": seconds}


def hidden_for(width: int) -> int:
    """The hidden layer at channel width ``width``: 100 at their width of 16, scaled alike below it."""
    if width < 1:
        raise ValueError(f"width must be >= 1; got {width!r}")
    return max(1, round(SCRIPT["hidden"] * width / 16))


def script_runs(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_check: torch.Tensor,
    y_check: torch.Tensor,
    *,
    seeds: int,
    check_every: int,
    check_steps: int,
    width: int = 16,
    epochs: int = SCRIPT["epochs"],
    eps: float = SCRIPT["eps"],
    progress: bool = False,
) -> dict:
    """:func:`script_run` for seeds ``0 .. seeds - 1``, kept in the result cache (keyed by the
    settings, the images and this module's source). The hidden layer scales with ``width`` as
    ``100 * width / 16`` (100 at their width). Returns ``runs`` ({:data:`LABEL`: {seed (str):
    curves}}) and ``seconds`` (wall and CPU of the cold run), as
    :func:`reliable_ml.robust.catastrophic.per_step_runs`."""
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1; got {seeds}")
    xc = x_check.float() / 255 if x_check.dtype == torch.uint8 else x_check.float()
    hidden = hidden_for(width)
    settings = {
        "seeds": seeds,
        "check_every": check_every,
        "check_steps": check_steps,
        "width": width,
        "hidden": hidden,
        "epochs": epochs,
        "eps": eps,
        "alpha": 1.25 * eps,
    }

    def build() -> dict:
        t0, c0 = time.perf_counter(), time.process_time()
        runs = {
            str(seed): script_run(
                x_train,
                y_train,
                xc,
                y_check,
                seed=seed,
                check_every=check_every,
                check_steps=check_steps,
                width=width,
                hidden=hidden,
                eps=eps,
                alpha=1.25 * eps,
                epochs=epochs,
            )
            for seed in tqdm(range(seeds), desc="their MNIST script, watched", disable=not progress)
        }
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        return {"runs": {LABEL: runs}, "seconds": {"wall": round(wall, 1), "cpu": round(cpu, 1)}}

    return result_cache.cached(
        "wong_mnist_script",
        settings,
        build,
        tensors=[x_train, y_train, xc, y_check],
        code=(sys.modules[__name__],),
        models=seeds,
    )
