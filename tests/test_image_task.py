"""The per-profile image task of chapters 05-06: data choice, evaluation subset, model, training config."""

from __future__ import annotations

import pytest
import torch

from reliable_ml.data import ImageSet, ImageSetInfo
from reliable_ml.robust import image_task

pytestmark = pytest.mark.usefixtures("single_thread")


def sorted_by_class(n_per_class: int = 20, classes: int = 10, channels: int = 3, size: int = 32) -> ImageSet:
    """A tiny set ordered class by class, as an ImageFolder tree is."""
    y = torch.arange(classes).repeat_interleave(n_per_class)
    x = torch.randint(0, 256, (len(y), channels, size, size), dtype=torch.uint8)
    info = ImageSetInfo(
        "toy", "test", "toy images", len(y), tuple(map(str, range(classes))), (channels, size, size), False, "memory"
    )
    return ImageSet(x, y, info)


def test_eval_subset_is_random_fixed_and_scaled():
    images = sorted_by_class()
    x, y = image_task.eval_subset(images, 50, "cpu", seed=1)
    assert x.shape == (50, 3, 32, 32) and x.dtype == torch.float32 and y.shape == (50,)
    assert 0 <= x.min() and x.max() <= 1
    assert len(torch.unique(y)) >= 5  # not the first 50 (which would be classes 0-2 only)
    x2, y2 = image_task.eval_subset(images, 50, "cpu", seed=1)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    # every returned image is one of the originals with its own label
    match = (images.x.float() / 255).flatten(1)[None] == x.flatten(1)[:, None]  # (50, N, D)
    idx = match.all(-1).float().argmax(1)
    assert torch.equal(images.y[idx], y)


@pytest.mark.parametrize("n", [0, -3, 2.5])
def test_eval_subset_rejects_bad_n(n):
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        image_task.eval_subset(sorted_by_class(), n, "cpu")


@pytest.mark.filterwarnings("ignore:FALLBACK")
def test_load_task_digits_and_mnist_falls_back_to_digits(tmp_root, offline):
    task = image_task.load_task("digits")
    assert task.name == "digits" and task.eps == pytest.approx(0.1)
    assert task.train.x.shape[1:] == (1, 8, 8) and "digits" in task.source
    fallen = image_task.load_task("mnist")  # no MNIST under the empty data root
    assert fallen.train.x.shape[1:] == (1, 8, 8) and fallen.test.info.fallback_from
    with pytest.raises(ValueError, match="unknown dataset 'huge'"):
        image_task.load_task("huge")


@pytest.mark.filterwarnings("ignore:FALLBACK")
def test_cifar_task_without_cifar_fails_clearly_unless_fallback(tmp_root, offline):
    with pytest.raises(Exception, match="(?i)cifar"):
        image_task.load_task("cifar10")
    assert image_task.load_task("cifar10", cifar_fallback=True).train.x.shape[1:] == (1, 8, 8)


def test_fit_sizes_keeps_fitting_requests_and_scales_the_rest():
    assert image_task.fit_sizes({"labeled": 100, "unlabeled": 600}, 1347) == ({"labeled": 100, "unlabeled": 600}, None)
    sizes, message = image_task.fit_sizes({"labeled": 1000, "unlabeled": 20_000}, 1347)
    assert sum(sizes.values()) == 1347 and sizes["labeled"] == 64 and "20,000 -> 1,283" in message
    assert image_task.fit_sizes({"a": 50, "b": 50}, 30)[0] == {"a": 15, "b": 15}
    with pytest.raises(ValueError, match="only 15 images available"):
        image_task.fit_sizes({"a": 50, "b": 50}, 15)


def test_models_and_configs_match_the_task():
    cifar = image_task.ImageTask("cifar10", sorted_by_class(2), sorted_by_class(2), eps=8 / 255)
    mnist_like = image_task.ImageTask(
        "mnist", sorted_by_class(2, channels=1, size=28), sorted_by_class(2, channels=1, size=28), eps=0.1
    )
    for task, shape in ((cifar, (4, 3, 32, 32)), (mnist_like, (4, 1, 28, 28))):
        model = image_task.make_model(task, "cpu", seed=0, width=4)
        again = image_task.make_model(task, "cpu", seed=0, width=4)  # seeded: the same initial weights
        assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
        assert model(torch.rand(shape)).shape == (4, 10)
    pgd = image_task.train_config(cifar, "pgd", eps=8 / 255, attack_steps=4, batch_size=64)
    assert pgd.augment and pgd.optimizer == "sgd" and pgd.alpha == pytest.approx(2.5 * (8 / 255) / 4)
    adam = image_task.train_config(mnist_like, "standard", eps=0.1, attack_steps=3, batch_size=32)
    assert not adam.augment and adam.optimizer == "adam" and adam.epochs == 1 and adam.val_size == 0
    with pytest.raises(ValueError, match="method"):
        image_task.train_config(cifar, "trades", eps=0.1, attack_steps=3, batch_size=32)
