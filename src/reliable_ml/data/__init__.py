"""The data layer: image sets as tensors, tabular sources, roots, downloads and errors."""

from reliable_ml.data.human_accuracy import HumanAccuracy, human_accuracy
from reliable_ml.data.images import IMAGE_NAMES, SPLITS, ImageSet, ImageSetInfo, load_images
from reliable_ml.data.published import (
    openclip_results,
    robustbench_corruptions,
    robustbench_models,
    squadshifts_results,
)
from reliable_ml.data.released import (
    CIFAR10_CLASSES,
    cifar10_canonical_test,
    cifar10_test_labels,
    cifar10h_counts,
    jpeg_canonical_permutation,
    jpeg_test_files,
)
from reliable_ml.data.root import DataCorrupt, DataUnavailable, cache_dir, data_root, display_path
from reliable_ml.data.tables import (
    cifar101_predictions,
    imagenet_testbed,
    imagenetv2_predictions,
    qmnist_metadata,
)

__all__ = [
    "IMAGE_NAMES",
    "SPLITS",
    "ImageSet",
    "ImageSetInfo",
    "load_images",
    "DataCorrupt",
    "DataUnavailable",
    "cache_dir",
    "data_root",
    "display_path",
    "CIFAR10_CLASSES",
    "cifar10_canonical_test",
    "cifar10_test_labels",
    "cifar10h_counts",
    "jpeg_canonical_permutation",
    "jpeg_test_files",
    "cifar101_predictions",
    "imagenet_testbed",
    "imagenetv2_predictions",
    "qmnist_metadata",
    "openclip_results",
    "robustbench_corruptions",
    "robustbench_models",
    "squadshifts_results",
    "HumanAccuracy",
    "human_accuracy",
]
