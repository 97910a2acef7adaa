"""What the GPU entry points (``python -m reliable_ml.experiments.NAME``) share: their command
line, the name of the network they trained, and how their figures are saved to ``results/``."""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from reliable_ml.course import results
from reliable_ml.util.env import device_name


def parser(doc: str | None, profiles) -> argparse.ArgumentParser:
    """``--profile`` (one of ``profiles``, default ``gpu``) and ``--seed``; callers add the rest."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=tuple(profiles), default="gpu")
    ap.add_argument("--seed", type=int, default=0)
    return ap


def architecture(arch: str, width: int) -> str:
    """A reader's name for a settings row's network: ``small_cnn`` or a PreActResNet-18 of ``width``."""
    return "small CNN" if arch == "small_cnn" else f"PreActResNet-18 (width {width})"


def save(notebook: str, profile: str, figures: dict, *, source: str, seconds: float, dev: torch.device,
         seed: int, module: str) -> Path:
    """Write ``figures`` to ``results/<profile>/<notebook>.json`` with where and how they were measured."""
    return results.save(notebook, profile, figures, data_source=source, wall_seconds=seconds,
                        device=device_name(dev), seed=seed, entry_point=module)
