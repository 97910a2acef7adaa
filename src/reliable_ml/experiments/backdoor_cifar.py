"""Backdoors and a planted spurious cue on CIFAR-10 with a PreActResNet-18 (chapter 07, gpu part).

``python -m reliable_ml.experiments.backdoor_cifar --profile gpu`` runs, on one GPU, the four
experiments of :func:`reliable_ml.pipeline.backdoor_cifar.run` (BadNets sweep, clean-label
attack, spectral signatures, planted cue) with the row of :mod:`reliable_ml.settings.backdoor_cifar`,
and writes ``results/gpu/07_backdoors_and_spurious_correlations.json``; ``--profile smoke``
runs the same code in seconds on a CPU with a tiny network (and digits when CIFAR-10 is
absent). Data: canonical CIFAR-10 when present, else the offline JPEG (quality 75) copy,
labelled "CIFAR-10 (JPEG q75 copy)".
"""

from __future__ import annotations

from reliable_ml import settings
from reliable_ml.experiments import entry
from reliable_ml.pipeline import backdoor_cifar

NOTEBOOK = "07_backdoors_and_spurious_correlations"


def run(profile: str = "gpu", *, progress: bool = True, save: bool = True, seed: int = 0, **overrides) -> dict:
    """:func:`reliable_ml.pipeline.backdoor_cifar.run` with the profile's row (``overrides`` replace
    its fields; a value out of its range is refused before anything runs); with ``save``, the
    figures go to ``results/<profile>/07_backdoors_and_spurious_correlations.json``."""
    row = settings.row("backdoor_cifar", profile, **overrides)
    out = backdoor_cifar.run(row, profile, progress=progress, seed=seed)
    return entry.finish(NOTEBOOK, profile, out, save=save, seed=seed, module=__name__)


def main(argv: list[str] | None = None) -> None:
    args = entry.parser(__doc__, "backdoor_cifar").parse_args(argv)
    out = run(args.profile, seed=args.seed)
    f = out["figures"]
    if "attack_success_by_poison_fraction" in f:
        curve = ", ".join(
            f"{100 * float(k):g}%: {100 * v:.1f}%" for k, v in f["attack_success_by_poison_fraction"].items()
        )
        print(f"{out['data_source']}: BadNets attack success by poison share: {curve}")
    if "clean_label_success_plain" in f:
        print(
            f"clean-label attack success: plain {100 * f['clean_label_success_plain']:.1f}%, hardened against a "
            f"standard model {100 * f['clean_label_success_standard']:.1f}%"
        )
    if "spectral_detection_recall" in f:
        print(
            f"spectral recall {100 * f['spectral_detection_recall']:.1f}% (one source class), "
            f"{100 * f['spectral_detection_recall_all_sources']:.1f}% (all classes)"
        )


if __name__ == "__main__":
    main()
