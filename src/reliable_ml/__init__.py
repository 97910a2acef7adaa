"""reliable_ml: the science helpers of the course *How reliable is machine learning?*

Data (``data``), models, attacks and robust training (``models``, ``attacks``,
``robust_train``), statistics (``stats``), test-set construction (``annotation``,
``rebuild``), poisoning and saliency (``poisoning``, ``saliency``), widgets (``labeling``,
``grid_labeling``), figures and visible notes (``plots``, ``notes``), one settings table per
chapter (``settings``). They import with torch alone and have no import side effects.

The course machinery (notebook runner, book build, scorecard and its claims registry,
results files) lives apart, in :mod:`reliable_ml.course`.
"""
from .env import device, device_name, seed_everything

__version__ = "0.1.0"
__all__ = ["device", "device_name", "seed_everything"]
