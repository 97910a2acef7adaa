"""Models: inputs in [0, 1] with Normalize first, shapes, parameter counts, device from inputs."""

from __future__ import annotations

import pytest
import torch

from reliable_ml.models import nets as models

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.mark.parametrize(
    "name, kwargs, x_shape",
    [
        ("small_cnn", {}, (2, 1, 28, 28)),
        ("small_cnn", dict(image_size=8), (2, 1, 8, 8)),
        ("small_cnn", dict(in_channels=3, image_size=32), (2, 3, 32, 32)),
        ("preact_resnet18", dict(width=8), (2, 3, 32, 32)),
        ("wide_resnet", dict(depth=10, widen_factor=1), (2, 3, 32, 32)),
    ],
)
def test_logit_shapes_and_normalize_first(name, kwargs, x_shape):
    model = models.build(name, **kwargs)
    first = next(iter(model.children()))
    assert isinstance(first, models.Normalize)
    logits = model(torch.rand(x_shape))
    assert logits.shape == (x_shape[0], 10)


def test_normalize_known_values():
    norm = models.Normalize((0.5, 0.25), (0.5, 0.25))
    x = torch.tensor([0.5, 0.75]).view(1, 2, 1, 1).expand(3, 2, 2, 2)
    out = norm(x)
    torch.testing.assert_close(out, torch.stack([torch.zeros(3, 2, 2), torch.full((3, 2, 2), 2.0)], 1))
    assert dict(norm.named_buffers()).keys() == {"mean", "std"}
    assert models.count_parameters(norm) == 0


def test_normalize_bad_arguments():
    with pytest.raises(ValueError, match="std must be positive"):
        models.Normalize((0.5,), (0.0,))
    with pytest.raises(ValueError, match="channels"):
        models.Normalize((0.5, 0.5), (0.2,))


def test_mnist_statistics_are_first_layer():
    model = models.small_cnn()
    torch.testing.assert_close(model[0].mean.flatten(), torch.tensor([0.1307]))
    torch.testing.assert_close(model[0].std.flatten(), torch.tensor([0.3081]))


@pytest.mark.parametrize(
    "build, expected",
    [
        (
            lambda: models.small_cnn(),
            166_406,
        ),  # Wong et al.'s MNIST net: 16*1*16+16 + 32*16*16+32 + 1568*100+100 + 1010
        (lambda: models.preact_resnet18(), 11_172_170),
        (lambda: models.wide_resnet(28, 10), 36_479_194),  # WRN-28-10 "36.5M" (Zagoruyko & Komodakis 2016)
    ],
)
def test_parameter_counts(build, expected):
    assert models.count_parameters(build()) == expected


def test_preact_resnet18_is_about_11_2_million():
    assert abs(models.count_parameters(models.preact_resnet18()) / 1e6 - 11.2) < 0.05


def test_small_cnn_without_normalization_is_the_same_network_on_raw_pixels():
    torch.manual_seed(0)
    with_norm = models.small_cnn(channels=(4, 8), hidden=16)
    torch.manual_seed(0)
    raw = models.small_cnn(channels=(4, 8), hidden=16, normalize=False)
    assert len(raw) == len(with_norm) - 1  # the standardization is the only layer dropped
    assert models.count_parameters(raw) == models.count_parameters(with_norm)
    x = torch.rand(3, 1, 28, 28)
    mean, std = with_norm[0].mean, with_norm[0].std
    torch.testing.assert_close(raw((x - mean) / std), with_norm(x))  # same weights, its input standardized by hand
    assert not torch.allclose(raw(x), with_norm(x))


def test_small_cnn_count_by_hand():
    c1, c2, h = 8, 16, 20
    model = models.small_cnn(channels=(c1, c2), hidden=h)
    by_hand = (1 * c1 * 16 + c1) + (c1 * c2 * 16 + c2) + (c2 * 7 * 7 * h + h) + (h * 10 + 10)
    assert models.count_parameters(model) == by_hand


@pytest.mark.parametrize(
    "bad, message",
    [
        (lambda: models.build("resnet50"), "unknown architecture 'resnet50'"),
        (lambda: models.wide_resnet(depth=20), "depth must be 6n"),
        (lambda: models.small_cnn(in_channels=2), "in_channels must be 1"),
        (lambda: models.small_cnn(image_size=30), "multiple of 4"),
        (lambda: models.preact_resnet18(width=0), "width must be"),
    ],
)
def test_bad_arguments(bad, message):
    with pytest.raises(ValueError, match=message):
        bad()


def test_device_and_dtype_follow_the_model():
    model = models.preact_resnet18(width=4).to(torch.float64)
    assert model[0].mean.dtype == torch.float64  # buffers move with .to()
    out = model(torch.rand(2, 3, 32, 32, dtype=torch.float64))
    assert out.dtype == torch.float64
    if torch.cuda.is_available():
        model = model.float().cuda()
        assert model(torch.rand(2, 3, 32, 32, device="cuda")).device.type == "cuda"


def test_channels_last_gives_same_logits():
    torch.manual_seed(0)
    model = models.preact_resnet18(width=4).eval()
    x = torch.rand(2, 3, 32, 32)
    ref = model(x)
    out = model.to(memory_format=torch.channels_last)(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(out, ref, atol=1e-4, rtol=1e-4)


def test_pool_cnn_has_madrys_shape_and_size():
    model = models.pool_cnn()
    # conv 1->32 (5x5), conv 32->64 (5x5), FC 64*7*7 -> 1024, FC 1024 -> 10, with biases
    assert models.count_parameters(model) == (25 * 32 + 32) + (25 * 32 * 64 + 64) + (3136 * 1024 + 1024) + 10250
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in model.modules()) == 2
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    assert models.build("pool_cnn", image_size=8, channels=(4, 8), hidden=16)(torch.rand(3, 1, 8, 8)).shape == (3, 10)
    with pytest.raises(ValueError, match="multiple of 4; got 10"):
        models.pool_cnn(image_size=10)
    with pytest.raises(ValueError, match="channels and hidden must be >= 1"):
        models.pool_cnn(hidden=0)
