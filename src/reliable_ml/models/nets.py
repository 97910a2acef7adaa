"""Image classifiers that take pixels in [0, 1] and normalize as their first layer.

This is the RobustBench/AutoAttack convention: an attack's budget ``eps`` is measured in
pixel units (e.g. ``8/255``), and ``x_adv`` is clamped to the valid image range [0, 1],
so normalization must live *inside* the model. Every model here is an ``nn.Sequential``
or a module whose first child is :class:`Normalize`.

* :func:`small_cnn` for MNIST-sized inputs (two stride-2 convolutions, as in the MNIST
  model of Wong, Rice & Kolter 2020),
* :func:`pool_cnn` for MNIST-sized inputs with max-pooling (the shape of the MNIST network of
  Madry et al. 2018: conv 5x5, max-pool, conv 5x5, max-pool, a hidden layer),
* :func:`preact_resnet18` (He et al. 2016, pre-activation; about 11.2 M parameters),
* :func:`wide_resnet` (Zagoruyko & Komodakis 2016; ``depth = 6n + 4``, widen factor ``k``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from reliable_ml.models.pooling import MaxPool2d

MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)
CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2471, 0.2435, 0.2616)


class Normalize(nn.Module):
    """``(x - mean) / std`` per channel; mean and std are buffers (they follow ``.to(device)``)."""

    def __init__(self, mean: Sequence[float] | torch.Tensor, std: Sequence[float] | torch.Tensor):
        super().__init__()
        mean_t = torch.as_tensor(mean, dtype=torch.float32).detach().clone().flatten()
        std_t = torch.as_tensor(std, dtype=torch.float32).detach().clone().flatten()
        if mean_t.numel() != std_t.numel():
            raise ValueError(f"mean has {mean_t.numel()} channels but std has {std_t.numel()}")
        if bool((std_t <= 0).any()):
            raise ValueError(f"std must be positive; got {tuple(std_t.tolist())}")
        self.register_buffer("mean", mean_t.view(1, -1, 1, 1))
        self.register_buffer("std", std_t.view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, C, H, W) in [0, 1]
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"mean={self.mean.flatten().tolist()}, std={self.std.flatten().tolist()}"


def _stats(in_channels: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if in_channels == 1:
        return MNIST_MEAN, MNIST_STD
    if in_channels == 3:
        return CIFAR10_MEAN, CIFAR10_STD
    raise ValueError(f"in_channels must be 1 (MNIST-like) or 3 (CIFAR-like); got {in_channels}")


# --------------------------------------------------------------------------- small CNN
def small_cnn(
    in_channels: int = 1,
    num_classes: int = 10,
    image_size: int = 28,
    channels: tuple[int, int] = (16, 32),
    hidden: int = 100,
    normalize: bool = True,
) -> nn.Sequential:
    """Two 4x4 stride-2 convolutions, a hidden linear layer, logits.

    ``(B, C, S, S) -> conv(C->c1, s2) -> ReLU -> conv(c1->c2, s2) -> ReLU -> FC(hidden) -> FC(classes)``.
    With the defaults this is the MNIST network of Wong et al. (2020), 166,406 parameters, behind a
    per-channel input standardization; ``normalize=False`` drops it, as their ``mnist_net`` does
    (locuslab/fast_adversarial, ``MNIST/mnist_net.py``: raw pixels in [0, 1]).
    """
    if image_size < 4 or image_size % 4:
        raise ValueError(f"image_size must be a positive multiple of 4; got {image_size}")
    c1, c2 = channels
    mean, std = _stats(in_channels)
    return nn.Sequential(
        *([Normalize(mean, std)] if normalize else []),
        nn.Conv2d(in_channels, c1, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(c1, c2, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(c2 * (image_size // 4) ** 2, hidden),
        nn.ReLU(),
        nn.Linear(hidden, num_classes),
    )


def pool_cnn(
    in_channels: int = 1,
    num_classes: int = 10,
    image_size: int = 28,
    channels: tuple[int, int] = (32, 64),
    hidden: int = 1024,
) -> nn.Sequential:
    """Two 5x5 convolutions, each followed by 2x2 max-pooling, a hidden linear layer, logits.

    ``(B, C, S, S) -> conv5x5(C->c1) -> ReLU -> maxpool2 -> conv5x5(c1->c2) -> ReLU -> maxpool2
    -> FC(hidden) -> ReLU -> FC(classes)`` (convolutions padded to keep the size). With the
    defaults, ``channels = (32, 64)`` and ``hidden = 1024``, this is the shape and width of the
    MNIST network of Madry et al. (2018) (3,274,634 parameters at 28x28); narrower widths give a
    cheaper network of the same shape. Max-pooling makes small shifts of a feature change the
    pooled map less than in :func:`small_cnn`, whose last layers see every position separately.
    """
    if image_size < 4 or image_size % 4:
        raise ValueError(f"image_size must be a positive multiple of 4; got {image_size}")
    c1, c2 = channels
    if c1 < 1 or c2 < 1 or hidden < 1:
        raise ValueError(f"channels and hidden must be >= 1; got channels {channels} and hidden {hidden}")
    mean, std = _stats(in_channels)
    return nn.Sequential(
        Normalize(mean, std),
        nn.Conv2d(in_channels, c1, 5, padding=2),
        nn.ReLU(),
        MaxPool2d(2),  # nn.MaxPool2d's values, faster without autograd on the CPU (models/pooling.py)
        nn.Conv2d(c1, c2, 5, padding=2),
        nn.ReLU(),
        MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(c2 * (image_size // 4) ** 2, hidden),
        nn.ReLU(),
        nn.Linear(hidden, num_classes),
    )


# --------------------------------------------------------------------------- PreActResNet
class PreActBlock(nn.Module):
    """``y = conv(relu(bn(conv(relu(bn(x)))))) + shortcut(x)`` (pre-activation residual block)."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, stride=1, padding=1, bias=False)
        self.shortcut = nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False) if stride != 1 or c_in != c_out else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(x))
        skip = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + skip


class _ResNetBody(nn.Module):
    """Stem conv, stages of blocks, final BN-ReLU, global average pool, linear head."""

    def __init__(
        self, in_channels: int, stem: int, stages: list[tuple[int, int, int]], num_classes: int, make_block=PreActBlock
    ):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, stem, 3, stride=1, padding=1, bias=False)
        layers, c = [], stem
        for width, n_blocks, stride in stages:
            for i in range(n_blocks):
                layers.append(make_block(c, width, stride if i == 0 else 1))
                c = width
        self.layers = nn.Sequential(*layers)
        self.bn = nn.BatchNorm2d(c)
        self.linear = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(self.conv1(x))
        out = F.relu(self.bn(out))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def preact_resnet18(num_classes: int = 10, in_channels: int = 3, width: int = 64) -> nn.Sequential:
    """PreActResNet-18: widths ``(w, 2w, 4w, 8w)``, two blocks each; ~11.2 M params at ``w = 64``.

    ``width`` < 64 gives a scaled-down copy for smoke tests.
    """
    if width < 1:
        raise ValueError(f"width must be >= 1; got {width}")
    mean, std = _stats(in_channels)
    stages = [(width, 2, 1), (2 * width, 2, 2), (4 * width, 2, 2), (8 * width, 2, 2)]
    return nn.Sequential(Normalize(mean, std), _ResNetBody(in_channels, width, stages, num_classes))


# --------------------------------------------------------------------------- WideResNet
class WideBlock(PreActBlock):
    """Pre-activation block with optional dropout between the two convolutions."""

    def __init__(self, c_in: int, c_out: int, stride: int, dropout: float = 0.0):
        super().__init__(c_in, c_out, stride)
        self.dropout = dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(x))
        skip = self.shortcut(out) if self.shortcut is not None else x
        out = F.relu(self.bn2(self.conv1(out)))
        out = F.dropout(out, self.dropout, self.training)
        return self.conv2(out) + skip


def wide_resnet(
    depth: int = 28, widen_factor: int = 10, num_classes: int = 10, in_channels: int = 3, dropout: float = 0.0
) -> nn.Sequential:
    """WRN-``depth``-``widen_factor``: three stages of ``n = (depth - 4) / 6`` blocks,
    widths ``(16k, 32k, 64k)``. WRN-28-10 has about 36.5 M parameters."""
    if depth < 10 or (depth - 4) % 6:
        raise ValueError(f"depth must be 6n + 4 with n >= 1 (10, 16, 22, 28, 34, ...); got {depth}")
    if widen_factor < 1:
        raise ValueError(f"widen_factor must be >= 1; got {widen_factor}")
    n, k = (depth - 4) // 6, widen_factor
    mean, std = _stats(in_channels)
    stages = [(16 * k, n, 1), (32 * k, n, 2), (64 * k, n, 2)]

    def make_block(c_in: int, c_out: int, stride: int) -> WideBlock:
        return WideBlock(c_in, c_out, stride, dropout)

    body = _ResNetBody(in_channels, 16, stages, num_classes, make_block=make_block)
    return nn.Sequential(Normalize(mean, std), body)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def describe(arch: str, width: int) -> str:
    """A reader's name for a settings row's network: ``small_cnn`` or a PreActResNet-18 of ``width``."""
    return "small CNN" if arch == "small_cnn" else f"PreActResNet-18 (width {width})"


ARCHITECTURES = {
    "small_cnn": small_cnn,
    "pool_cnn": pool_cnn,
    "preact_resnet18": preact_resnet18,
    "wide_resnet": wide_resnet,
}


def build(name: str, **kwargs) -> nn.Module:
    """Build an architecture by name (``small_cnn``, ``pool_cnn``, ``preact_resnet18``, ``wide_resnet``)."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; allowed: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[name](**kwargs)
