"""models/pooling.py: the fast max-pooling gives nn.MaxPool2d's values and gradients, bit for bit."""

import pytest
import torch
from torch import nn

from reliable_ml.models import nets
from reliable_ml.models.pooling import MaxPool2d


@pytest.mark.parametrize("shape", [(7, 3, 8, 8), (5, 32, 28, 28), (4, 2, 9, 7)])
@pytest.mark.parametrize("kernel", [2, 3])
def test_same_values_as_torch_with_ties_and_odd_sizes(shape, kernel):
    g = torch.Generator().manual_seed(0)
    x = torch.relu(torch.randn(*shape, generator=g))  # many exact zeros: ties in most windows
    x[0, 0] = float("nan")  # a NaN propagates the same way
    ours, theirs = MaxPool2d(kernel), nn.MaxPool2d(kernel)
    with torch.no_grad():
        assert torch.equal(ours(x).nan_to_num(-1), theirs(x).nan_to_num(-1))
        assert ours(x).is_contiguous()


def test_same_gradients_under_autograd():
    g = torch.Generator().manual_seed(1)
    x = torch.relu(torch.randn(6, 4, 8, 8, generator=g))
    grad_out = torch.randn(6, 4, 4, 4, generator=g)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    MaxPool2d(2)(xa).backward(grad_out)
    nn.MaxPool2d(2)(xb).backward(grad_out)
    assert torch.equal(xa.grad, xb.grad)


def test_pool_cnn_logits_and_repr_unchanged():
    torch.manual_seed(0)
    ours = nets.pool_cnn(image_size=8, channels=(4, 8), hidden=16)
    reference = nn.Sequential(*[nn.MaxPool2d(2) if isinstance(m, MaxPool2d) else m for m in ours])
    assert sum(isinstance(m, MaxPool2d) for m in ours) == 2
    assert repr(ours) == repr(reference), "cache keys that hash repr(model) must not change"
    x = torch.rand(10, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(ours(x), reference(x))
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours(xa).sum().backward()
    reference(xb).sum().backward()
    assert torch.equal(xa.grad, xb.grad)


def test_return_indices_takes_the_standard_path():
    x = torch.rand(2, 1, 4, 4)
    values, idx = MaxPool2d(2, return_indices=True)(x)
    ref_values, ref_idx = nn.MaxPool2d(2, return_indices=True)(x)
    assert torch.equal(values, ref_values) and torch.equal(idx, ref_idx)


def _bits(t: torch.Tensor) -> torch.Tensor:
    """The float32 bit patterns: tells -0.0 from 0.0 and compares NaNs, which torch.equal does not."""
    return t.contiguous().view(torch.int32)


@pytest.mark.parametrize(
    "kwargs",
    [dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2, dilation=2), dict(kernel_size=3, ceil_mode=True)],
)
def test_bitwise_with_padding_dilation_ceil_mode_signed_zeros_and_a_lone_nan(kwargs):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(3, 4, 11, 9, generator=g)
    x[x.abs() < 0.3] = -0.0  # negative zeros tie with each other inside windows
    x[1, 2, 4, 4] = float("nan")  # one NaN among numbers (an even place: inside a window of every case)
    with torch.no_grad():
        ours, theirs = MaxPool2d(**kwargs)(x), nn.MaxPool2d(**kwargs)(x)
    assert torch.equal(_bits(ours), _bits(theirs))
    assert ours.isnan().any(), "the NaN reached the output"


def test_the_output_layout_follows_torch():
    x = torch.rand(2, 8, 12, 12)
    with torch.no_grad():
        for inp in (x, x.contiguous(memory_format=torch.channels_last)):
            ours, theirs = MaxPool2d(2)(inp), nn.MaxPool2d(2)(inp)
            assert ours.stride() == theirs.stride() and torch.equal(_bits(ours), _bits(theirs))
