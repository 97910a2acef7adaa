"""The small object a notebook carries from its first cell to its results file."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from reliable_ml.settings import check_profile
from reliable_ml.util.env import device, device_name, seed_everything


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
        """Write ``results/<profile>/<notebook>.json`` via :func:`reliable_ml.course.results.save`."""
        from reliable_ml.course.glue import glued_values
        from reliable_ml.course.results import save

        extra.setdefault("glued", glued_values())
        return save(
            self.notebook,
            self.profile,
            figures,
            data_source=data_source,
            wall_seconds=self.wall_seconds,
            device=device_name(self.device),
            seed=self.seed,
            **extra,
        )


def start(notebook: str, profile: str, seed: int = 0) -> Run:
    """Begin a notebook run: check the profile, seed everything, pick the device, print a banner."""
    check_profile(profile)
    seed_everything(seed)
    run = Run(notebook=Path(notebook).stem, profile=profile, seed=seed, device=device())
    print(
        f"{run.notebook}: profile={profile}, device={device_name(run.device)}, torch {torch.__version__}, seed={seed}"
    )
    return run
