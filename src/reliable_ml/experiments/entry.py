"""What the GPU entry points (``python -m reliable_ml.experiments.NAME``) share: their command
line, their settings row, and how their figures are saved to ``results/`` and reported."""

from __future__ import annotations

import argparse

from reliable_ml import settings
from reliable_ml.course import results
from reliable_ml.data import display_path
from reliable_ml.robust import train as rt
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


def data_caveat(info) -> str | None:
    """What a reader must know before comparing this run's figures with published ones, from the data's
    ``ImageSetInfo``: the JPEG q75 copy of CIFAR-10 (``lossy``: not byte-identical, its index order
    lost) or the digits stand-in; ``None`` for the canonical CIFAR-10."""
    if getattr(info, "fallback_from", None):
        return (
            f"{info.source}: a stand-in for CIFAR-10, so these figures say nothing about CIFAR-10 and cannot be "
            "compared with published ones."
        )
    if getattr(info, "lossy", False):
        return (
            f"{info.source}: the CIFAR-10 images here are a lossy JPEG (quality 75) re-encoding, not the original "
            "PNG/pickle test set, so these figures are not directly comparable with published CIFAR-10 figures."
        )
    return None


def evaluate_suite(model, x, y, row, *, seed: int, progress: bool, per_image: bool = False) -> dict:
    """The CIFAR-10 entry points' evaluation suite, one function for all of them
    (:func:`reliable_ml.robust.train.evaluate`): clean accuracy and PGD-``row.eval_steps`` with
    ``row.eval_restarts`` restarts on every image of ``x``, then AutoAttack's APGD-CE, APGD-T,
    FAB-T (``row.autoattack_iterations`` iterations) and Square (``row.square_queries`` queries) on
    the first ``row.autoattack_n`` of them, robust accuracy the worst case per image. Adds
    ``robust_acc`` (that worst case; PGD's accuracy without AutoAttack) and ``robust_acc_images``."""
    ev = rt.evaluate(
        model,
        x,
        y,
        row.eps,
        steps=row.eval_steps,
        restarts=row.eval_restarts,
        autoattack_n=row.autoattack_n,
        autoattack_iterations=row.autoattack_iterations,
        square_queries=row.square_queries,
        seed=seed,
        progress=progress,
        per_image=per_image,
    )
    worst = ev.get("worst_case_acc_on_autoattack_subset")
    ev["robust_acc"] = ev["pgd_acc"] if worst is None else worst
    ev["robust_acc_images"] = ev["n_eval"] if worst is None else ev["autoattack_n"]
    return ev


def protocol(ev: dict, *, eps: float, eval_seed: int, selection: dict) -> dict:
    """The results file's record of the evaluation protocol: the threat model, the test sample, per
    attack its steps (or iterations), restarts, targets, queries and images (``ev["protocol"]``, read
    from what :func:`evaluate_suite` ran), what the headline robust accuracy is, and the held-out
    ``selection`` (split size, seed, epoch or step chosen, what it is disjoint from)."""
    return {
        "threat_model": f"L-inf, eps = {eps:.6g} ({eps * 255:.3g}/255), pixel values in [0, 1]",
        "test_images": ev["n_eval"],
        "test_sample": f"a random sample of the test split drawn with seed {eval_seed} (all of it at 10,000)",
        "attacks": ev["protocol"],
        "robust_acc": (
            f"worst case per image over {', '.join(ev['protocol'])} on the {ev['robust_acc_images']:,} images "
            "every attack ran on (an image counts only if clean and every attack leave it correct)"
        ),
        "selection": selection,
    }
