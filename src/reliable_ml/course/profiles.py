"""Run profiles: how much compute a notebook may spend.

``smoke``  tests: at most ~60 s a notebook on 2 CPU cores, tiny settings.
``cpu``    the default book build: at most ~5 min a notebook on 2 CPU cores.
``gpu``    full reproductions on one GPU.
"""
from __future__ import annotations

from typing import TypeVar

PROFILES: tuple[str, ...] = ("smoke", "cpu", "gpu")

T = TypeVar("T")


def check_profile(profile: str) -> str:
    """Return ``profile`` if it is a known profile, else raise ``ValueError`` listing them."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; allowed: {', '.join(PROFILES)}")
    return profile


def pick(profile: str, *, smoke: T, cpu: T, gpu: T) -> T:
    """Choose a setting by profile, e.g. ``n_train = pick(profile, smoke=500, cpu=10_000, gpu=60_000)``."""
    return {"smoke": smoke, "cpu": cpu, "gpu": gpu}[check_profile(profile)]
