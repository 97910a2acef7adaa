"""reliable_ml: the science of the course *How reliable is machine learning?*

The package is grouped by topic:

- ``shift``: new test sets, adaptive overfitting, the line and effective robustness (01, 08);
- ``labels``: rebuilding a test set, annotators, humans against models, label quality (02, 03, 09);
- ``robust``: attacks, robust training, robust data needs, non-robust features, spatial
  robustness (04, 05, 06, 10, 11);
- ``pipeline``: backdoors, planted cues and saliency (07);
- ``models``: networks and model zoos;
- ``data``: loaders with checksums and fallbacks, and the data tour (00);
- ``util``: device, progress, caches, figures and notes;
- ``stats``: intervals, tests and the verdict rule;
- ``settings``: one settings table per chapter and entry point.

Everything here imports with torch alone and has no import side effects. The course machinery
(runner, book, glue, claims, scorecard) lives in :mod:`reliable_ml.course` and the GPU entry
points in :mod:`reliable_ml.experiments`; nothing in the science imports either.
"""

from reliable_ml.util.env import device, device_name, seed_everything

__version__ = "0.1.0"
__all__ = ["device", "device_name", "seed_everything"]
