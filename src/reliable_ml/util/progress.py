"""Progress bars: live tqdm bars for readers, none in headless (book/CI) executions.

In a Jupyter kernel ``tqdm.auto`` draws ipywidgets bars. An executed notebook saves them
without widget state, so the static book would show a frozen "0%" bar. The runner therefore
sets ``RELIABLE_ML_HEADLESS=1`` for the kernels it starts, and the bars made through this
module are then disabled. The environment is read when a bar is made, not at import, so
importing the package changes nothing (no patching of tqdm).
"""

from __future__ import annotations

import os

ENV_HEADLESS = "RELIABLE_ML_HEADLESS"


def headless() -> bool:
    """True inside a kernel started by ``python -m reliable_ml run``."""
    return os.environ.get(ENV_HEADLESS) == "1"


def tqdm(*args, **kwargs):
    """``tqdm.auto.tqdm``, disabled in headless executions."""
    from tqdm.auto import tqdm as bar

    if headless():
        kwargs["disable"] = True
    return bar(*args, **kwargs)


def trange(*args, **kwargs):
    """``tqdm(range(*args), **kwargs)``, disabled in headless executions."""
    return tqdm(range(*args), **kwargs)
