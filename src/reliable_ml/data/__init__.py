"""The data layer: image sets as tensors, tabular sources, roots, downloads and errors."""
from .images import IMAGE_NAMES, SPLITS, ImageSet, ImageSetInfo, load_images
from .root import DataCorrupt, DataUnavailable, cache_dir, data_root, display_path
from .tables import (
    cifar101_predictions,
    imagenet_testbed,
    imagenetv2_predictions,
    qmnist_metadata,
)

__all__ = [
    "IMAGE_NAMES", "SPLITS", "ImageSet", "ImageSetInfo", "load_images",
    "DataCorrupt", "DataUnavailable", "cache_dir", "data_root", "display_path",
    "cifar101_predictions", "imagenet_testbed", "imagenetv2_predictions", "qmnist_metadata",
]
