"""What the GPU entry points (``python -m reliable_ml.experiments.NAME``) share: their command
line, their settings row, and how their figures are saved to ``results/`` and reported."""

from __future__ import annotations

import argparse

from reliable_ml import settings
from reliable_ml.course import results
from reliable_ml.data import display_path
from reliable_ml.util.env import device_name


def parser(doc: str | None, name: str) -> argparse.ArgumentParser:
    """``--profile`` (a profile the table ``settings.<name>`` has a row for, default ``gpu``) and
    ``--seed``; callers add the rest."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=settings.profiles(name), default="gpu")
    ap.add_argument("--seed", type=int, default=0)
    return ap


def finish(notebook: str, profile: str, out: dict, *, save: bool, seed: int, module: str) -> dict:
    """The end of every entry point's run: with ``save``, write ``out["figures"]`` to
    ``results/<profile>/<notebook>.json`` (with ``out``'s ``data_source`` and ``seconds``, the device,
    the seed and the entry point ``module``), put the file in ``out["path"]`` and print where it went
    (:func:`reliable_ml.data.display_path`: no absolute machine paths). Returns ``out``."""
    if save:
        out["path"] = results.save(
            notebook,
            profile,
            out["figures"],
            data_source=out["data_source"],
            wall_seconds=out["seconds"],
            device=device_name(),
            seed=seed,
            entry_point=module,
        )
        print(f"results: {display_path(out['path'])}")
    return out
