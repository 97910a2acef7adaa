"""reliable_ml: the helper package of the course *How reliable is machine learning?*

Notebooks stay narrative and call this package: ``reliable_ml.data`` (datasets as tensors),
``reliable_ml.results`` (results files), ``reliable_ml.plots`` (figure style),
``reliable_ml.notes`` (visible notes), ``reliable_ml.runner`` (papermill execution).
"""
from .progress import headless, quiet_progress_bars

if headless():  # executed by the runner: no frozen widget progress bars in the book
    quiet_progress_bars()

from .profiles import PROFILES, check_profile, pick  # noqa: E402
from .runtime import Run, device, device_name, seed_everything, start  # noqa: E402

__version__ = "0.1.0"
__all__ = ["PROFILES", "Run", "check_profile", "device", "device_name", "pick", "seed_everything", "start"]
