"""Wong et al.'s released MNIST model (``locuslab/fast_adversarial``, ``MNIST/models/fgsm.pth``),
loaded and checked with the course's PGD check.

The file is fetched by the data manifest (source ``fast_adversarial``: the repository pinned at
commit 54f728755e71857b632882ba6d6cef22f56e2172, checked by its SHA-256). The repository carries no
licence, so the file is only ever downloaded into the data root, never copied into the course.
Its state dict has the keys of :func:`reliable_ml.models.nets.small_cnn` with their network's
settings (channels 16, 32; hidden layer 100; raw pixels in [0, 1], no input standardization), and is
loaded strictly (a missing or extra key is an error).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from reliable_ml import stats
from reliable_ml.data import files
from reliable_ml.models import nets
from reliable_ml.robust import attacks, catastrophic

REL = "fast_adversarial/MNIST/models/fgsm.pth"  # under the data root; see data/manifest.json
SOURCE = "MNIST/models/fgsm.pth of locuslab/fast_adversarial at commit 54f7287"


def network() -> nn.Sequential:
    """Their MNIST network (``mnist_net`` of ``MNIST/train_mnist.py``), untrained."""
    return nets.small_cnn(in_channels=1, image_size=28, channels=(16, 32), hidden=100, normalize=False)


def load(root: Path | str | None = None, download: bool = True) -> nn.Sequential:
    """The released model in eval mode. Raises :class:`reliable_ml.data.DataUnavailable` when the file
    is absent and cannot be fetched, :class:`reliable_ml.data.DataCorrupt` when its checksum is wrong."""
    path = files.ensure_file(REL, root=root, download=download)
    state = torch.load(path, map_location="cpu", weights_only=True)  # tensors only: no code runs
    model = network()
    model.load_state_dict(state)
    return model.eval()


def check(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, *, steps: int, seed: int) -> dict:
    """Clean and PGD accuracy of ``model`` on ``x`` (float in [0, 1], or uint8 scaled by 1/255), under
    the watched runs' check (:func:`reliable_ml.robust.catastrophic.pgd_check`). Returns ``n``, ``clean_k``, ``pgd_k``,
    ``clean_acc``, ``pgd_acc`` and the exact (Clopper–Pearson) 95% intervals ``clean_ci`` and ``pgd_ci``
    over the images."""
    if steps < 1 or not 0 < eps <= 1:
        raise ValueError(f"steps must be >= 1 and eps in (0, 1]; got {steps!r} and {eps!r}")
    xf = x.float() / 255 if x.dtype == torch.uint8 else x.float()
    n = len(y)
    clean_k = round(attacks.accuracy(model, xf, y) * n)
    pgd_k = round(catastrophic.pgd_check(model, xf, y, eps, steps=steps, seed=seed) * n)
    out = {"n": n, "clean_k": clean_k, "pgd_k": pgd_k, "clean_acc": clean_k / n, "pgd_acc": pgd_k / n}
    for key in ("clean", "pgd"):
        lo, hi = stats.clopper_pearson(out[f"{key}_k"], n)
        out[f"{key}_ci"] = [float(lo), float(hi)]
    return out


def text(result: dict | None, *, eps: float, steps: int, reason: str = "") -> str:
    """The prose on the released model: its check (``result``: :func:`check`'s output) in numbers with
    their exact intervals, or, when ``result`` is ``None``, that it could not be fetched (``reason``)."""
    if result is None:
        return (
            f"Their released MNIST model ({SOURCE}) is checked here when it can be fetched; in this run it is not"
            + (f" ({reason})." if reason else ".")
        )
    pct = lambda v: f"{100 * v:.1f}%"  # noqa: E731
    ci = lambda v: f"{pct(v[0])}–{pct(v[1])}"  # noqa: E731
    return (
        f"Their released MNIST model ({SOURCE}), loaded unchanged into their network, scores "
        f"{pct(result['clean_acc'])} clean ({ci(result['clean_ci'])}) and {pct(result['pgd_acc'])} under the course's "
        f"PGD-{steps} check at eps = {eps:g} ({ci(result['pgd_ci'])}) on the same {result['n']} check images "
        "(exact 95% intervals over the images). It is one released model: it shows what their training produced "
        "once, not how often."
    )
