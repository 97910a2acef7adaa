"""Progress bars: live tqdm bars for readers, none in headless (book/CI) executions.

In a Jupyter kernel ``tqdm.auto`` draws ipywidgets bars. An executed notebook saves them
without widget state, so the static book would show a frozen "0%" bar. The runner therefore
sets ``RELIABLE_ML_HEADLESS=1`` for the kernels it starts, and importing ``reliable_ml`` there
turns ``tqdm.auto.tqdm`` bars off. Interactive sessions are untouched.
"""
from __future__ import annotations

import os

ENV_HEADLESS = "RELIABLE_ML_HEADLESS"


def headless() -> bool:
    """True inside a kernel started by ``python -m reliable_ml run``."""
    return os.environ.get(ENV_HEADLESS) == "1"


def quiet_progress_bars() -> None:
    """Make every later ``from tqdm.auto import tqdm`` a disabled bar."""
    import tqdm.auto
    import tqdm.std

    if getattr(tqdm.auto.tqdm, "_reliable_ml_quiet", False):
        return

    class QuietTqdm(tqdm.std.tqdm):
        _reliable_ml_quiet = True

        def __init__(self, *args, **kwargs):
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    tqdm.auto.tqdm = QuietTqdm
    tqdm.auto.trange = lambda *args, **kwargs: QuietTqdm(range(*args), **kwargs)
