"""Settings of chapter 07 (backdoors and spurious correlations), one row per profile.

Poison shares are of the whole training set; pixel quantities are in [0, 1] units.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reliable_ml.settings import Row, between, choice, flag


@dataclass(frozen=True)
class Settings(Row):
    dataset: str = choice("digits", "mnist")  # "digits" (smoke) or "mnist"; a missing dataset falls back loudly
    # to digits
    n_train: int = between(1, images="train")  # training images per model; a disjoint part of the rest trains the
    # hardening model
    epochs: int = between(1)  # epochs of standard training per model
    seeds: int = between(1)  # seeds (poison draw, initial weights, batch order) per BadNets
    # poison rate
    clean_label_seeds: int = between(1)  # seeds for the clean-label comparison (none, standard and robust
    # hardening)
    cue_seeds: int = between(1)  # seeds for the planted-cue comparison (cue vs control model)
    target: int = between(0, 9)  # the attacker's target class
    trigger_size: int = between(1, 7)  # side of the square checkerboard trigger (pixels), 1 pixel from
    # the bottom-right corner
    poison_fractions: list[float] = between(0, 1)  # BadNets shares of the training set; 0 is the clean baseline
    clean_label_share: float = between(0, 1)  # clean-label attack: share of the target class's training images
    # triggered
    harden_eps: float = between(0, 1)  # L-infinity radius of the PGD perturbation that makes clean-label
    # poisons hard
    harden_steps: int = between(1)  # PGD steps of that perturbation
    harden_radii: list[float] = between(0, 1)  # L-infinity radii swept for the robust arm; the wide arm hardens at
    # the smallest one whose fooled share of poisons has its exact interval above 50%
    spectral_fraction: float = between(0, 1)  # BadNets share whose model spectral signatures inspect
    spectral_factor: float = between(0)  # remove spectral_factor x (expected poisons) images of the target
    # class
    spectral_source: int = between(0, 9)  # source class of the single-source attack inspected by spectral
    # signatures
    cue_agree: float = between(0, 1)  # share of training images whose background cue agrees with the
    # label
    cue_amplitude: float = between(0, 1)  # peak intensity of the background grating
    n_saliency: int = between(1, images="test")  # triggered test images whose saliency is measured
    ig_steps: int = between(1)  # integrated gradients: trapezoidal intervals
    smoothgrad_samples: int = between(1)  # SmoothGrad: noisy copies
    smoothgrad_sigma: float = between(0)  # SmoothGrad: noise standard deviation
    cifar_subset: bool = flag()  # also run BadNets on a CIFAR-10 subset (settings.backdoor_cifar
    # "cpu" row)
    torch_threads: int = between(0)  # CPU threads for torch; 0 keeps torch's default


CPU = Settings(
    dataset="mnist",
    n_train=20000,
    epochs=2,
    seeds=3,
    clean_label_seeds=3,
    cue_seeds=3,
    target=0,
    trigger_size=3,
    poison_fractions=[0.0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05],
    clean_label_share=0.5,
    harden_eps=0.3,
    harden_steps=20,
    harden_radii=[0.3, 0.35, 0.4, 0.45, 0.5],
    spectral_fraction=0.01,
    spectral_factor=1.5,
    spectral_source=7,
    cue_agree=0.9,
    cue_amplitude=0.4,
    n_saliency=200,
    ig_steps=32,
    smoothgrad_samples=32,
    smoothgrad_sigma=0.15,
    cifar_subset=True,
    torch_threads=1,
)

TABLE = {
    "smoke": replace(
        CPU,
        dataset="digits",
        cue_seeds=2,
        clean_label_seeds=2,
        n_train=900,
        epochs=4,
        poison_fractions=[0.0, 0.005, 0.02, 0.05],
        spectral_fraction=0.02,
        n_saliency=50,
        cifar_subset=False,
    ),
    "cpu": CPU,
    "gpu": replace(
        CPU,
        n_train=40000,
        epochs=3,
        n_saliency=500,
        poison_fractions=[0.0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1],
        cifar_subset=False,
    ),
}
