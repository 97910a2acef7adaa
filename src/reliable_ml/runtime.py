"""Device, seeds, and the small object a notebook carries from its first cell to its results."""
from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .profiles import check_profile


def device() -> torch.device:
    """CUDA when present, else CPU. Code below this takes the device from its inputs."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def device_name(dev: torch.device | None = None) -> str:
    """Human-readable name: the GPU model, or ``cpu (N threads)``."""
    dev = dev or device()
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    return f"cpu ({torch.get_num_threads()} threads)"


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); return a fresh ``torch.Generator``."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int; got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    return torch.Generator().manual_seed(seed)


@dataclass
class Run:
    """What a notebook run needs to report: profile, device, seed, start time."""

    notebook: str
    profile: str
    seed: int
    device: torch.device
    started: float = field(default_factory=time.perf_counter)

    @property
    def wall_seconds(self) -> float:
        return time.perf_counter() - self.started

    def save(self, figures: dict, *, data_source: str | dict, **extra) -> Path:
        """Write ``results/<profile>/<notebook>.json`` via :func:`reliable_ml.results.save`."""
        from .results import save

        return save(self.notebook, self.profile, figures, data_source=data_source,
                    wall_seconds=self.wall_seconds, device=device_name(self.device), seed=self.seed, **extra)


def start(notebook: str, profile: str, seed: int = 0) -> Run:
    """Begin a notebook run: check the profile, seed everything, pick the device, print a banner."""
    check_profile(profile)
    seed_everything(seed)
    run = Run(notebook=Path(notebook).stem, profile=profile, seed=seed, device=device())
    print(f"{run.notebook}: profile={profile}, device={device_name(run.device)}, "
          f"torch {torch.__version__}, seed={seed}")
    return run
