"""What the robustness chapters (04-06) conclude from their numbers, and the words for it.

Every comparison here goes through the course's one verdict rule (:func:`reliable_ml.stats.compare`,
:func:`~reliable_ml.stats.compare_counts`, :func:`~reliable_ml.stats.against_reference`) and its
words through :func:`reliable_ml.stats.phrase`, so a sentence cannot disagree with its number:

* chapter 04: the gradient-free attack against every gradient attack together (McNemar on the
  per-image outcomes), the four masking checks of the shared robust model recomputed as exact
  tests from its card, the signature of catastrophic overfitting (exact counts), FGSM-RS step
  sizes (paired over seeds);
* chapter 05: robust train accuracy against 100% (exact counts), how fast clean and robust error
  fall at the large end (paired over seeds);
* chapter 06: the three differences between the RST arms, per seed (McNemar on the same test
  images) and over seeds and images together (:func:`seed_image_bootstrap`).

Verdicts are stored in results files as :func:`record` dicts. Accuracies are fractions unless
a name says ``pct`` (percent) or ``points``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np

from reliable_ml import stats

NEAR_ZERO = 0.05  # the shared model's "near 0" bound at the large radius (shared_model.NEAR_ZERO)
GAINED = 0.20  # a run "became robust" at >= 20% PGD accuracy (robust.train.GAINED, as a fraction)


def record(v: stats.Verdict) -> dict:
    """A verdict as plain JSON for a results file: direction, difference, interval, test, p, alpha."""
    out = dataclasses.asdict(v)
    out["interval"] = [float(x) for x in v.interval]
    return out


def _bools(x, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 1 or len(arr) == 0 or not np.all(np.isin(arr, (0, 1))):
        raise ValueError(f"{name} must be a non-empty 1-D array of 0/1 outcomes; got shape {arr.shape}")
    return arr.astype(bool)


def paired_arrays(n11: int, n10: int, n01: int, n00: int) -> tuple[np.ndarray, np.ndarray]:
    """0/1 outcomes of a and b on the same ``n11 + n10 + n01 + n00`` items with that 2x2 table
    (``n10``: a right and b wrong)."""
    counts = (n11, n10, n01, n00)
    if any(int(c) != c or c < 0 for c in counts) or sum(counts) == 0:
        raise ValueError(f"the 2x2 table needs non-negative whole counts, not all 0; got {counts}")
    a = np.r_[np.ones(n11), np.ones(n10), np.zeros(n01), np.zeros(n00)]
    b = np.r_[np.ones(n11), np.zeros(n10), np.ones(n01), np.zeros(n00)]
    return a, b


def table_from_summary(acc_a: float, acc_b: float, half_width: float, n: int, z: float = 1.96) -> tuple[int, ...]:
    """The paired 2x2 table ``(n11, n10, n01, n00)`` behind a stored paired difference.

    ``acc_a``, ``acc_b``: accuracies (fractions) of a and b on the same ``n`` images;
    ``half_width``: the stored ``z sd(d_i) / sqrt(n)`` of the per-image differences d_i in {-1, 0, 1}
    (unbiased sd). With d = acc_a - acc_b the discordant pairs D = n10 + n01 solve
    sd^2 (n - 1) = D - n d^2, and n10 - n01 = n d. Raises ``ValueError`` when the numbers admit no
    table of whole counts (they were not produced that way).
    """
    if n < 2 or z <= 0:
        raise ValueError(f"need n >= 2 and z > 0; got n = {n!r}, z = {z!r}")
    ka, kb, d = round(acc_a * n), round(acc_b * n), acc_a - acc_b
    sd = half_width * math.sqrt(n) / z
    discordant = round(sd**2 * (n - 1) + n * d**2)
    n10, n01 = (discordant + (ka - kb)) / 2, (discordant - (ka - kb)) / 2
    n11 = ka - n10
    table = (n11, n10, n01, n - n11 - n10 - n01)
    if any(t != int(t) or t < 0 for t in table):
        raise ValueError(
            f"no paired table of {n} images gives accuracies {acc_a!r}, {acc_b!r} and half-width {half_width!r}"
        )
    table = tuple(int(t) for t in table)
    a, b = paired_arrays(*table)
    if abs(z * np.std(a - b, ddof=1) / math.sqrt(n) - half_width) > 1e-6:
        raise ValueError(f"the table {table} does not reproduce the half-width {half_width!r}")
    return table


# --------------------------------------------------------------------------- chapter 04: attacks
ATTACK_LABELS = {"apgd-ce": "APGD-CE", "apgd-t": "APGD-T", "fab-t": "FAB-T", "square": "Square"}


def gradient_free_gap(ok: Mapping[str, Sequence], gradient_free: Sequence[str] = ("square",)) -> dict:
    """Does the gradient-free attack leave fewer images correct than every gradient attack together?

    ``ok``: {attack: 0/1 per image, correct clean and under that attack} on the same images (a
    ``"clean"`` entry is ignored), as in the shared model's card ``per_image_ok``. The verdict is
    :func:`reliable_ml.stats.compare` (McNemar's exact test, Newcombe's paired interval) of the
    gradient-free attacks' per-image outcome against the worst case over the gradient attacks:
    "lower" means the gradient-free attack breaks images that no gradient attack breaks, beyond
    chance. Also returns the two discordant counts.
    """
    names = [k for k in ok if k != "clean"]
    grad, free = [k for k in names if k not in gradient_free], [k for k in names if k in gradient_free]
    if not grad or not free:
        raise ValueError(f"need at least one gradient and one gradient-free attack; got {names}")
    grad_ok = np.all([_bools(ok[k], k) for k in grad], axis=0)
    free_ok = np.all([_bools(ok[k], k) for k in free], axis=0)
    return {
        "verdict": stats.compare(free_ok, grad_ok, paired=True),
        "broken_only_by_free": int(np.sum(grad_ok & ~free_ok)),
        "broken_only_by_gradient": int(np.sum(free_ok & ~grad_ok)),
        "n": int(len(grad_ok)),
        "gradient": grad,
        "free": free,
    }


def _images(k: int) -> str:
    return f"{k:,} image{'' if k == 1 else 's'}"


def gradient_free_text(gap: dict) -> str:
    """The sentence on :func:`gradient_free_gap`, worded by its verdict."""
    v, a, b = gap["verdict"], gap["broken_only_by_free"], gap["broken_only_by_gradient"]
    free = " and ".join(ATTACK_LABELS.get(f, f) for f in gap["free"])
    counts = (
        f"Here {free} breaks {_images(a)} that no gradient attack run here breaks, and the gradient attacks "
        f"break {_images(b)} that it misses; by the exact McNemar test (p = {v.p_value:.1g}), "
    )
    if v.direction == "lower":
        return (
            f"{counts}its accuracy is {stats.phrase(v, lower='below the worst case over the gradient attacks')}. "
            "AutoAttack treats a gradient-free attack that beats the gradient attacks as a warning that the "
            "evaluation may be unreliable. Two explanations fit: the model's gradients mislead the gradient attacks "
            "(gradient masking), or the gradient attacks were run too weakly, as they are here; this run cannot tell "
            "the two apart."
        )
    if v.direction == "higher":
        return (
            f"{counts}its accuracy is {stats.phrase(v, higher='above the worst case over the gradient attacks')}, "
            "as expected when the model's gradients are informative."
        )
    return f"{counts}{stats.phrase(v, cannot_tell='the data cannot tell its accuracy from theirs')}."


def strength_text(strength: Mapping[str, Mapping], reference: Mapping[str, Mapping]) -> str:
    """What each AutoAttack component of the suite ran at, next to the reference implementation's
    standard version (``strength``: :func:`reliable_ml.robust.train.autoattack_strength`;
    ``reference``: :data:`reliable_ml.robust.train.AUTOATTACK_REFERENCE`)."""

    def desc(s: Mapping) -> str:
        bits = [f"{s['iterations']} iterations"] if s.get("iterations") else []
        bits += [f"{s['queries']:,} queries"] if s.get("queries") else []
        bits += [f"{s['targets']} target classes"] if s.get("targets") else []
        bits += [f"{s['restarts']} restart{'s' if s['restarts'] != 1 else ''}"] if s.get("restarts") else []
        return ", ".join(bits)

    ours = "; ".join(f"{ATTACK_LABELS.get(k, k)} {desc(s)}" for k, s in strength.items())
    ref = "; ".join(f"{ATTACK_LABELS.get(k, k)} {desc(reference[k])}" for k in strength if k in reference)
    square = (
        " Square also differs in one setting the counts do not show: torchattacks rescales its schedule of patch "
        "sizes to the number of queries (resc_schedule=True), where the reference builds it with "
        "resc_schedule=False."
        if "square" in strength
        else ""
    )
    return (
        f"The suite builds each component with torchattacks' defaults: {ours}. The reference implementation of "
        f"AutoAttack's standard version runs {ref}.{square}"
    )


SUITE_LABELS = {**ATTACK_LABELS, "apgd-dlr": "APGD-DLR", "pgd": "PGD"}


def _strength_desc(s: Mapping) -> str:
    bits = [f"{s['steps']} iterations"] if s.get("steps") else []
    bits += [f"{s['queries']:,} queries"] if s.get("queries") else []
    bits += [f"{s['targets']} target classes"] if s.get("targets") else []
    bits += [f"{s['restarts']} restart{'s' if s['restarts'] != 1 else ''}"] if s.get("restarts") else []
    return ", ".join(bits)


def suite_strength_text(built: Mapping[str, Mapping], reference: Mapping[str, Mapping]) -> str:
    """What each attack of the standard suite ran at (``built``: read back from the attack objects,
    :func:`reliable_ml.robust.standard_suite.built_strength`) against the reference implementation's
    standard version (``reference``: :func:`reliable_ml.robust.standard_suite.reference_standard`),
    naming every component whose iterations, targets, queries or restarts differ from it."""
    fields = ("steps", "restarts", "queries", "targets")
    ours = "; ".join(f"{SUITE_LABELS.get(k, k)} {_strength_desc(s)}" for k, s in built.items())
    differ = [
        SUITE_LABELS.get(k, k) for k in reference if k in built and any(built[k][f] != reference[k][f] for f in fields)
    ]
    missing = [SUITE_LABELS.get(k, k) for k in reference if k not in built]
    ref = "; ".join(f"{SUITE_LABELS[k]} {_strength_desc(r)}" for k, r in reference.items())
    if differ or missing:
        match = (
            "This is not AutoAttack's standard version: "
            + "; ".join(
                ([f"{_join(differ)} differ{'s' if len(differ) == 1 else ''} from it in strength"] if differ else [])
                + ([f"{_join(missing)} {'is' if len(missing) == 1 else 'are'} not run"] if missing else [])
            )
            + f" (the reference runs {ref})."
        )
    else:
        match = (
            "Iterations, target classes, queries and restarts of the four AutoAttack components are those of the "
            "reference implementation's standard version (fra31/auto-attack). They are set explicitly: torchattacks' "
            "own AutoAttack(version='standard') leaves APGD, APGD-T and FAB-T at its default of 10 iterations."
        )
    square = (
        " Square differs from the reference in one setting the counts do not show: torchattacks rescales its "
        "schedule of patch sizes to the number of queries (resc_schedule=True), where the reference builds it with "
        "resc_schedule=False."
        if "square" in built
        else ""
    )
    return f"The attacks, read back from the objects that ran: {ours}. {match}{square}"


def square_alone_text(k: int, n: int, v: stats.Verdict, gradient_acc: float, union_acc: float) -> str:
    """AutoAttack's sanity check read on the cascade: Square ran last, on the images that every
    gradient attack left correct, and broke ``k`` of them; ``v``: :func:`reliable_ml.stats.compare` (paired)
    of the union's per-image outcome against the gradient attacks' worst case (accuracies in [0, 1])."""
    head = (
        f"Square, run last on the images every gradient attack left correct, breaks {_images(k)} of the {n:,} "
        f"sampled images: the worst case over all attacks ({100 * union_acc:.1f}%) is "
    )
    test = f"; McNemar's exact test p = {v.p_value:.2g}, with Newcombe's 95% interval"
    if v.direction == "lower":
        return (
            head
            + stats.phrase(v, lower=f"below the gradient attacks' worst case ({100 * gradient_acc:.1f}%)")
            + test
            + ". AutoAttack reads a gradient-free attack that beats the gradient attacks as a warning that the "
            "evaluation may be unreliable. Two explanations fit: the model's gradients mislead the gradient attacks "
            "(gradient masking), or the gradient attacks, though at the reference strength, are still too weak "
            "for these images; this run cannot tell the two apart. Either way the union counts these images as "
            "broken, so the headline already includes them; it remains an upper bound on the true robust accuracy."
        )
    if v.direction == "higher":  # impossible on a cascade (the union can only lose images); kept for safety
        return head + stats.phrase(v, higher="above the gradient attacks' worst case") + test + "."
    return (
        head
        + stats.phrase(
            v,
            cannot_tell=f"not distinguishable from the gradient attacks' worst case ({100 * gradient_acc:.1f}%)",
        )
        + test
        + ". So AutoAttack's sanity check raises no warning at this sample size; no finite set of attacks proves "
        "robustness."
    )


def population_text(on_mnist: bool, n_eval: int, n_val: int) -> dict:
    """Who wrote the first ``n_eval`` MNIST test digits (the shared model's evaluation images) and
    the last ``n_val`` (the per-epoch checks' held-out images), from QMNIST's metadata (Yadav &
    Bottou 2019): counts of high-school students' digits (NIST series hsf_4) and writers. Returns
    ``text`` and the counts; without MNIST or the metadata, a sentence that says so."""
    from reliable_ml import data

    if not on_mnist:
        return {"text": "this run is not on MNIST, so the writers are not known."}
    try:
        meta = data.qmnist_metadata("test")
    except (data.DataUnavailable, data.DataCorrupt) as err:
        return {"text": f"the writer metadata is not available here ({type(err).__name__})."}
    first, last = meta.iloc[:n_eval], meta.iloc[len(meta) - n_val :]
    students = lambda m: int((m["population"] == "student").sum())  # noqa: E731
    per_writer = first.groupby("writer_id").size()
    out = {
        "n_eval": int(len(first)),
        "students_eval": students(first),
        "writers_eval": int(len(per_writer)),
        "max_digits_per_writer": int(per_writer.max()),
        "students_test_split": students(meta),
        "n_test_split": int(len(meta)),
        "n_val": int(len(last)),
        "students_val": students(last),
    }
    if len(first) == len(meta):  # the evaluation is the whole test split
        out["text"] = (
            f"{out['students_eval']:,} of the {out['n_eval']:,} digits were written by high-school students (NIST "
            f"series hsf_4), the rest by Census employees, as in the test split that published figures use; the last "
            f"{out['n_val']:,} test images, which the per-epoch checks watch, are part of the evaluated images and "
            f"hold {out['students_val']:,} students' digits."
        )
        return out
    out["text"] = (
        f"{out['students_eval']:,} of these {out['n_eval']:,} digits were written by high-school students (NIST "
        f"series hsf_4), by {out['writers_eval']:,} writers with at most {out['max_digits_per_writer']} digits each, "
        f"against {out['students_test_split']:,} of the {out['n_test_split']:,} digits of the whole test split (the "
        f"rest by Census employees); the last {out['n_val']:,} test images, which the per-epoch checks watch, hold "
        f"{out['students_val']:,} students' digits. So neither sample stands for the test split that published "
        "figures use, and the two are not the same population."
    )
    return out


def sample_text(n_eval: int, n_test: int, seed: int | None = None, name: str = "MNIST") -> str:
    """Which test images of ``name`` are evaluated: a seeded random sample of ``n_eval`` (when
    ``seed`` is given), the whole split, or the first ``n_eval``."""
    if not 0 < n_eval <= n_test:
        raise ValueError(f"n_eval must lie in 1..n_test = {n_test}; got {n_eval}")
    if seed is not None and n_eval < n_test:
        return f"The images are a random sample of {n_eval:,} of the {n_test:,} {name} test images (seed {seed})"
    if n_eval == n_test:
        return f"The images are the whole MNIST test split ({n_test:,} images)"
    return f"The images are the first {n_eval:,} of the {n_test:,} MNIST test images, not a random sample"


def literature_text(
    vs_reference: stats.Verdict,
    card: Mapping,
    n_test: int = 10_000,
    population: Mapping | None = None,
    *,
    n_eval: int | None = None,
    sample: str = "first",
    suite: str | None = None,
    flags: Sequence[str] | None = None,
) -> str:
    """Our worst case against Madry et al.'s 88.0% (``vs_reference``: :func:`reliable_ml.stats.against_reference`
    of the worst case and its interval), and what differs between the two figures: the model and its
    training steps (from the shared model's ``card``), the attacks (``suite``: words for ours; without
    it, the card's reduced-strength suite), the images (``n_eval`` of the ``n_test`` test images, the
    ``"first"`` ones or a ``"random"`` sample; default the card's ``n_eval``) and the masking flags
    (``flags``; default the card's). ``population``: :func:`population_text`'s counts, which say
    whether first-n images hold more students' digits than the whole split."""
    if sample not in ("first", "random"):
        raise ValueError(f"sample must be 'first' or 'random'; got {sample!r}")
    s = card["settings"]
    flags = card["masking"]["flags"] if flags is None else list(flags)
    n_eval = int(card["n_eval"] if n_eval is None else n_eval)
    if n_eval == n_test:
        images = f"all {n_test:,} test images in both"
    elif sample == "random":
        images = (
            f"all {n_test:,} test images against a seeded random sample of {n_eval:,} of them here, whose binomial "
            "interval is the one above"
        )
    else:
        images = f"all {n_test:,} test images against our first {n_eval:,}"
    pop = population or {}
    if sample == "first" and n_eval < n_test and pop.get("n_eval") and pop.get("n_test_split"):
        ours, whole = pop["students_eval"] / pop["n_eval"], pop["students_test_split"] / pop["n_test_split"]
        if ours > whole:
            images += (
                f" ({100 * ours:.0f}% students' digits in ours, {100 * whole:.0f}% in theirs; MNIST's authors found "
                "the employees' digits easier to recognise, so if that carries over to adversarial accuracy, which "
                "is untested here, this difference works against our figure)"
            )
    words = stats.phrase(
        vs_reference,
        higher="Our worst case lies above their 88.0% best-attack figure",
        lower="Our worst case lies below their 88.0% best-attack figure",
        cannot_tell="Their 88.0% best-attack figure lies inside our interval",
    )
    n_train, batch = card.get("n_train"), s.get("batch_size")
    steps = f" ({s['epochs'] * math.ceil(n_train / batch):,} iterations of {batch} images)" if n_train and batch else ""
    ours_attacks = suite or "the suite above with reduced-strength gradient components"
    return (
        f"{words}, but the two figures are not like with like. The network: theirs a larger CNN (5x5 convolutions "
        "of 32 and 64 channels, each followed by 2x2 max-pooling, and a hidden layer of 1,024 units; "
        "MadryLab/mnist_challenge model.py, read here), ours the small CNN above. The training: theirs PGD-40 "
        "(step 0.01, random start) for 100,000 iterations of 50 images, about 83 epochs (its config.json), ours "
        f"{s['epochs']} epochs with PGD-{s['attack_steps']}{steps}. The attacks: theirs the best of many adaptive "
        "attacks submitted to a public white-box challenge (and AutoAttack for the 88.4%), ours "
        f"{ours_attacks}. The images: {images}. The checks: "
        + (
            f"the masking warning(s) of {', '.join(CHECK_NAMES.get(f, f) for f in flags)} stand."
            if flags
            else "no masking warning stands."
        )
        + " So this comparison is not a reproduction of their figure; that would need a model trained like theirs, "
        "evaluated on the same images."
    )


def leaderboard_text(rb=None) -> str:
    """The best RobustBench CIFAR-10 L-inf entries, trained on CIFAR-10 alone and with extra (real or
    generated) data, for chapter 04's pointer to chapter 05: entries RobustBench flags
    ``unreliable`` are left out and each entry is ranked by its ``strongest`` figure (AutoAttack,
    or a stronger recorded attack such as APGD with BPDA where that is lower), since a robustness
    figure is only as good as the strongest attack it survived. ``rb``: a
    :func:`reliable_ml.data.robustbench_models` frame (read when None); a sentence that says so
    when the leaderboard's data is not available."""
    from reliable_ml import data

    if rb is None:
        try:
            rb = data.robustbench_models("cifar10", "Linf")
        except (data.DataUnavailable, data.DataCorrupt, ValueError):
            return "the leaderboard's figures are in chapter 5 (its data is not available here)."
    rb = rb[~rb["unreliable"].astype(bool)]
    strongest = rb["strongest"] if "strongest" in rb.columns else rb["robust"]

    def best(sel) -> str:
        m = strongest[sel].idxmax()
        aa, st = float(rb.loc[m, "robust"]), float(strongest[m])
        how = "under AutoAttack" if st >= aa - 0.005 else f"under the strongest recorded attack (AutoAttack: {aa:.1f}%)"
        return f"{st:.1f}% {how} ({m})"

    own = rb["group"] == "CIFAR-10 only"
    return (
        f"the best RobustBench entry trained on CIFAR-10 alone keeps {best(own)}, and the best trained with extra "
        f"real or generated images {best(~own)}; entries RobustBench marks unreliable are left out, and each entry "
        "counts at the lower of its AutoAttack figure and any stronger attack recorded for it (chapter 5 re-analyses "
        "the leaderboard)."
    )


def cifar_recipe_text(row) -> str:
    """What chapter 04's gpu entry point (``experiments.robust_cifar``) trains, evaluates and selects
    on, read from its settings row (``settings.robust_cifar.TABLE["gpu"]``)."""
    t = row.train
    method = {"pgd": f"{t.attack_steps}-step PGD", "fgsm_rs": "FGSM-RS", "fgsm": "FGSM"}.get(t.method, t.method)
    images = "the whole test split" if row.n_eval >= 10_000 else f"{row.n_eval:,} test images"
    aa = "all of them" if row.autoattack_n >= row.n_eval else f"{row.autoattack_n:,} of them"
    text = (
        f"a PreActResNet-18 trained with {method} for {t.epochs} epochs, evaluated with PGD-{row.eval_steps} and "
        f"{row.eval_restarts} restart{'s' if row.eval_restarts != 1 else ''} on {images}"
        + (
            f" and AutoAttack's four components (APGD-CE, APGD-T and FAB-T with {row.autoattack_iterations} "
            f"iterations, Square with {row.square_queries:,} queries) on {aa}, robust accuracy being the worst "
            "case per image."
            if row.autoattack_n
            else "."
        )
    )
    if getattr(t, "keep_best", False) and t.val_size:
        text += (
            f" Its checkpoint is the epoch of best PGD-{t.val_attack_steps} accuracy on {t.val_size:,} training "
            "images held out of training (a seeded split, disjoint from the test images), as Rice et al. (2020) "
            "select; no GPU run is reported here."
        )
    return text


def masking_verdicts(card: Mapping, z: float = 1.96) -> dict[str, stats.Verdict]:
    """The shared robust model's four masking checks (:func:`reliable_ml.robust.shared_model.masking_checks`)
    recomputed as exact tests from its ``card`` (no attack is rerun). A verdict of "lower" (or, at
    the large radius, "higher") is the warning the check looks for:

    * ``gradient_free_beats_gradient``: :func:`gradient_free_gap` on ``card["per_image_ok"]`` (without
      it, McNemar on the table recovered from the stored paired difference);
    * ``large_eps_not_near_zero``: PGD accuracy at the large radius, its exact (Clopper-Pearson)
      interval against the 5% bound (:func:`reliable_ml.stats.against_reference`);
    * ``more_steps_still_lower``: the suite's figure with the stronger PGD added against the figure
      alone, McNemar (the first can only lose images, so the table is known exactly);
    * ``transfer_beats_white_box``: transfer against white-box accuracy, McNemar on the table
      recovered from the stored paired difference (:func:`table_from_summary`).
    """
    checks, n = card["masking"]["checks"], int(card["n_eval"])
    out = {}
    if "gradient_free_beats_gradient" in checks:
        if "per_image_ok" in card:
            out["gradient_free_beats_gradient"] = gradient_free_gap(card["per_image_ok"])["verdict"]
        else:  # a results-file entry keeps no per-image data: the table from the stored paired difference
            c = checks["gradient_free_beats_gradient"]
            table = table_from_summary(
                c["best_gradient_acc"] / 100, c["gradient_free_acc"] / 100, c["noise"] / 100, n, z
            )
            gradient, free = paired_arrays(*table)
            out["gradient_free_beats_gradient"] = stats.compare(free, gradient, paired=True)
    if "large_eps_not_near_zero" in checks:
        k = round(checks["large_eps_not_near_zero"]["acc"] * n / 100)
        lo, hi = stats.clopper_pearson(k, n)
        out["large_eps_not_near_zero"] = stats.against_reference(k / n, (float(lo), float(hi)), NEAR_ZERO)
    if "more_steps_still_lower" in checks:
        c = checks["more_steps_still_lower"]
        k_fig, k_both = round(c["figure_acc"] * n / 100), round(c["figure_with_strong_pgd_acc"] * n / 100)
        both, figure = paired_arrays(k_both, 0, k_fig - k_both, n - k_fig)
        out["more_steps_still_lower"] = stats.compare(both, figure, paired=True)
    if "transfer_beats_white_box" in checks:
        c = checks["transfer_beats_white_box"]
        n11, n10, n01, n00 = table_from_summary(
            c["white_box_acc"] / 100, c["transfer_acc"] / 100, c["noise"] / 100, n, z
        )
        white, transfer = paired_arrays(n11, n10, n01, n00)
        out["transfer_beats_white_box"] = stats.compare(transfer, white, paired=True)
    return out


def sample_masking_verdicts(checks: Mapping, white_box_ok) -> dict[str, stats.Verdict]:
    """Checks 2 and 4 as exact tests on the per-image outcomes of
    :func:`reliable_ml.robust.shared_model.sample_checks`: the share correct at the large radius,
    its Clopper-Pearson interval against the 5% bound; transfer against ``white_box_ok`` (correct
    under every gradient attack of the suite, the same images), McNemar. Directions as
    :data:`WARNING_DIRECTION` reads them."""
    large = np.asarray(checks["large_ok"], dtype=bool)
    transfer = np.asarray(checks["transfer_ok"], dtype=bool)
    white = np.asarray(white_box_ok, dtype=bool)
    if not (large.shape == transfer.shape == white.shape) or large.ndim != 1:
        raise ValueError(
            f"need one outcome per image for every check; got shapes {large.shape}, {transfer.shape}, {white.shape}"
        )
    k, n = int(large.sum()), len(large)
    lo, hi = stats.clopper_pearson(k, n)
    return {
        "large_eps_not_near_zero": stats.against_reference(k / n, (float(lo), float(hi)), NEAR_ZERO),
        "transfer_beats_white_box": stats.compare(transfer, white, paired=True),
    }


CHECK_NAMES = {
    "gradient_free_beats_gradient": "check 1 (gradient-free against gradient attacks)",
    "large_eps_not_near_zero": "check 2 (the large radius)",
    "more_steps_still_lower": "check 3 (a longer attack)",
    "transfer_beats_white_box": "check 4 (transfer)",
}

WARNING_DIRECTION = {
    "gradient_free_beats_gradient": "lower",
    "large_eps_not_near_zero": "higher",
    "more_steps_still_lower": "lower",
    "transfer_beats_white_box": "lower",
}


def masking_table(card: Mapping, verdicts: Mapping[str, stats.Verdict]) -> list[dict]:
    """One row per masking check of the card: what was measured, the card's difference and noise
    (points) and flag, and the exact test of :func:`masking_verdicts` with whether it warns."""
    measured = {
        "gradient_free_beats_gradient": lambda c: (
            f"Square {c['gradient_free_acc']:.1f}% vs gradient attacks {c['best_gradient_acc']:.1f}%"
        ),
        "large_eps_not_near_zero": lambda c: (
            f"PGD at eps {c['large_eps']:g}: {c['acc']:.1f}% (grey image allows at most {c['grey_ceiling']:.1f}%)"
        ),
        "more_steps_still_lower": lambda c: (
            f"PGD-{c['steps']}x{c['restarts']}: figure {c['figure_acc']:.1f}% -> {c['figure_with_strong_pgd_acc']:.1f}%"
        ),
        "transfer_beats_white_box": lambda c: (
            f"transfer {c['transfer_acc']:.1f}% vs white-box {c['white_box_acc']:.1f}%"
        ),
    }
    rows = []
    for name, c in card["masking"]["checks"].items():
        v = verdicts.get(name)
        diff = c["acc"] - c["threshold"] if name == "large_eps_not_near_zero" else c["diff"]
        rows.append(
            {
                "check": name,
                "measured": measured[name](c) if name in measured else "",
                "difference (points)": round(diff, 1),
                "noise (points)": round(c["noise"], 1),
                "card's flag": "FLAG" if c["flagged"] else "pass",
                "exact test": f"{v.test}: {stats.phrase(v)}" if v else "not recomputed",
                "warns": ("yes" if v.direction == WARNING_DIRECTION[name] else "no") if v else "",
            }
        )
    return rows


WARNING_WORDS = {
    "gradient_free_beats_gradient": "the gradient-free attack breaks images that no gradient attack breaks: masked "
    "gradients, or gradient attacks run too weakly, and this run cannot tell which",
    "large_eps_not_near_zero": "at the large radius, where any image may be replaced by a uniform grey one, PGD "
    "still leaves more than the course's 5% threshold correct: the attack likely misses adversarial examples "
    "(above the share of the class the model gives grey, they provably exist)",
    "more_steps_still_lower": "a further PGD run with more restarts (not necessarily more gradient steps in total) "
    "still breaks images the suite let through: the figure has not converged",
    "transfer_beats_white_box": "images made on another model fool this one more often than its own gradients do: "
    "its own gradients point the attack the wrong way",
}


def masking_text(
    verdicts: Mapping[str, stats.Verdict],
    card_flags: Sequence[str],
    *,
    full_strength: bool = False,
    flags_source: str = "The shared model's card, which the scorecard reads,",
    compare_flags: bool = True,
) -> str:
    """The chapter's verdict on gradient masking, from :func:`masking_verdicts`; ``card_flags``: the
    flags the scorecard reads (by default the shared model's card's, its own normal-approximation
    rule; ``flags_source`` names where they come from). ``full_strength``: the gradient attacks
    already ran at AutoAttack's standard strength with restarts, so the remedy is an adaptive attack.
    ``compare_flags=False``: the flags are these verdicts' own, so no sentence compares them."""
    warned = [k for k, v in verdicts.items() if v.direction == WARNING_DIRECTION[k]]
    card = f"flagged {', '.join(card_flags)}" if card_flags else "flagged none"
    agree = sorted(warned) == sorted(card_flags)
    rule = (
        f"{flags_source} agree{'s' if flags_source.startswith('The shared') else ''} ({card})."
        if agree
        else f"{flags_source} use{'s' if flags_source.startswith('The shared') else ''} a normal-approximation "
        f"rule and differ{'s' if flags_source.startswith('The shared') else ''}: {card}."
    )
    remedy = (
        "The gradient attacks of the suite above already ran at AutoAttack's standard strength, two of them with "
        "restarts; what remains is an adaptive attack designed for this model, which this run does not try"
        if full_strength
        else "The remedy they call for is a stronger evaluation (full-strength APGD with restarts, Square with "
        "restarts, an adaptive attack), which this run does not do"
    )
    if not compare_flags:
        rule = ""  # the flags are the exact tests themselves: comparing them would say nothing
    if not warned:
        return (
            f"**No warning.** None of the {len(verdicts)} exact tests finds a sign of gradient masking at this "
            "sample size; that makes the worst case more credible, though no finite set of attacks proves "
            f"robustness. {rule}"
        ).rstrip()
    words = " ".join(f"{CHECK_NAMES.get(k, k)}: {WARNING_WORDS[k]}." for k in warned)
    return (
        f"**{len(warned)} of {len(verdicts)} checks warn** (exact tests). {words} Every empirical robust accuracy "
        f"is an upper bound on the true one; these warnings say the bound may be loose. {remedy}. {rule}"
    ).rstrip()


# --------------------------------------------------------------------------- chapter 04: fast training
def fgsm_signature(
    pgd_final_pct: Mapping, own_attack_final_pct: Mapping, n_val: int, n_train: int, gained: float = GAINED
) -> dict:
    """Catastrophic overfitting's signature in one arm (Wong et al. 2020), from exact counts.

    ``pgd_final_pct``: {seed: final held-out PGD accuracy, %} on ``n_val`` images;
    ``own_attack_final_pct``: {seed: last-epoch accuracy on the arm's own FGSM training examples, %}
    over ``n_train`` images. Two verdicts: ``gap``, PGD minus own-attack accuracy with the seed as
    the unit (a paired t over seeds, :func:`reliable_ml.stats.compare`; the held-out images are the
    same for every seed and the training figure is a running accuracy of a changing model, so
    pooling their counts as independent draws would give a spuriously narrow interval; with one
    seed, Fisher's exact test on its counts), and ``pgd_vs_gained``, PGD accuracy pooled over
    seeds (Clopper-Pearson interval) against the ``gained`` level at which a run counts as robust.
    The signature is present when the gap is "lower" and PGD accuracy is "lower" than ``gained``:
    the model fits the one perturbation it trains on and not the ball.
    """
    seeds = list(pgd_final_pct)
    if not seeds or set(seeds) != set(own_attack_final_pct):
        raise ValueError(f"need the same seeds in both; got {list(pgd_final_pct)} and {list(own_attack_final_pct)}")
    k_pgd = sum(round(pgd_final_pct[s] * n_val / 100) for s in seeds)
    k_own = sum(round(own_attack_final_pct[s] * n_train / 100) for s in seeds)
    n_pgd, n_own = n_val * len(seeds), n_train * len(seeds)
    if len(seeds) >= 2:
        gap = stats.compare(
            [pgd_final_pct[s] / 100 for s in seeds],
            [own_attack_final_pct[s] / 100 for s in seeds],
            paired=True,
            outcome="continuous",
        )
    else:
        gap = stats.compare_counts(k_pgd, n_pgd, k_own, n_own)
    lo, hi = stats.clopper_pearson(k_pgd, n_pgd)
    level = stats.against_reference(k_pgd / n_pgd, (float(lo), float(hi)), gained)
    return {
        "gap": gap,
        "pgd_vs_gained": level,
        "present": gap.direction == "lower" and level.direction == "lower",
        "k_pgd": k_pgd,
        "n_pgd": n_pgd,
        "own_attack_pct": float(np.mean([own_attack_final_pct[s] for s in seeds])),
        "seeds": len(seeds),
    }


def fgsm_signature_text(sig: dict, label: str = "FGSM from zero") -> str:
    """The sentence on :func:`fgsm_signature`."""
    facts = (
        f"in its last epoch it classified {sig['own_attack_pct']:.1f}% of its own FGSM training examples correctly "
        f"(mean over seeds), and PGD-10 left {sig['k_pgd']:,} of {sig['n_pgd']:,} held-out images correct (pooled "
        "over seeds)"
    )
    own = "its running accuracy on its own FGSM training examples in the last epoch"
    unit = (
        f"paired over the {sig.get('seeds', 0)} seeds, the unit that is replicated"
        if sig.get("seeds", 0) >= 2
        else "one seed"
    )
    gap = stats.phrase(
        sig["gap"],
        lower=f"lower than {own}",
        higher=f"higher than {own}",
        cannot_tell=f"not distinguishable from {own}",
    )
    if sig["present"]:
        return (
            f"{label} shows the signature of catastrophic overfitting that Wong et al. describe: {facts}. Its PGD-10 "
            f"accuracy on held-out test images is {gap} ({unit}; the two figures are measured on different images, "
            "under different attacks). It learned to defeat the one perturbation it was shown, not the ball."
        )
    pct = f"the {100 * GAINED:.0f}% level"
    level = stats.phrase(
        sig["pgd_vs_gained"], higher=f"above {pct}", lower=f"below {pct}", cannot_tell=f"not distinguishable from {pct}"
    )
    return (
        f"{label} does not show the signature of catastrophic overfitting here: {facts}. Its PGD-10 accuracy on "
        f"held-out test images is {gap} ({unit}), and it is {level}."
    )


def overfitting_verdict(
    summary: Mapping[str, Mapping], fgsm_arm: str, rs_arm: str, large_arm: str | None = None
) -> str:
    """Per arm, how many seeds collapsed, held or never became robust by the per-epoch rule of
    :func:`reliable_ml.robust.train.collapse_summary` (a definition on epoch-end PGD accuracy, not a
    test), with each seed's final accuracy."""

    def part(arm: str, label: str) -> str:
        s = summary[arm]
        per = s["per_seed"]
        bits = []
        for verdict, words in (("collapsed", "collapsed"), ("held", "held"), ("never robust", "never became robust")):
            seeds = [k for k, v in per.items() if v["verdict"] == verdict]
            if seeds:
                detail = ", ".join(
                    f"seed {k} peaked at {per[k]['peak']:.1f}% in epoch {per[k]['peak_epoch']} and ended at "
                    f"{per[k]['final']:.1f}%"
                    for k in seeds
                )
                bits.append(f"{len(seeds)} of {s['seeds']} {words} ({detail})")
        return f"{label}: " + "; ".join(bits)

    arms = [(fgsm_arm, "FGSM from zero"), (rs_arm, "FGSM-RS with step 1.25 eps")]
    if large_arm:
        arms.append((large_arm, "FGSM-RS with step 2 eps"))
    return ". ".join(part(a, label) for a, label in arms) + "."


def step_size_verdict(final_a_pct: Mapping, final_b_pct: Mapping) -> stats.Verdict:
    """Final PGD accuracy of two arms paired by seed (paired t over seeds, in fractions)."""
    seeds = sorted(final_a_pct)
    if seeds != sorted(final_b_pct) or len(seeds) < 2:
        raise ValueError(f"need the same >= 2 seeds in both arms; got {list(final_a_pct)} and {list(final_b_pct)}")
    a = np.array([final_a_pct[s] for s in seeds]) / 100
    b = np.array([final_b_pct[s] for s in seeds]) / 100
    return stats.compare(a, b, paired=True, outcome="continuous")


def step_size_text(v: stats.Verdict, seeds: int | None = None) -> str:
    """The sentence on :func:`step_size_verdict` of FGSM-RS with step 1.25 eps (a) against 2 eps (b),
    over ``seeds`` seeds (named in the "cannot tell" branch when given)."""
    words = stats.phrase(
        v,
        higher="higher with the moderate step",
        lower="lower with the moderate step",
        cannot_tell="the data cannot tell the two step sizes apart",
    )
    tail = {
        "higher": "as Wong et al. saw on CIFAR-10, the moderate step did better here.",
        "lower": "unlike on CIFAR-10 in Wong et al., the large step did better here.",
        "cannot tell": (
            f"with {seeds if seeds else 'these'} seeds this run cannot detect the step-size effect Wong et al. "
            "saw on CIFAR-10 (a per-run collapse, which epoch-end checks may miss)."
        ),
    }[v.direction]
    return f"Final PGD-10 accuracy of FGSM-RS, step 1.25 eps against step 2 eps, paired over seeds: {words}; {tail}"


# --------------------------------------------------------------------------- chapter 05: size curve
def _join(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def fit_verdict(acc: Sequence[float], n_images: Sequence[int]) -> stats.Verdict:
    """Pooled accuracy over seeds (``acc`` per seed on ``n_images`` each) against 100%, with its
    exact Clopper-Pearson interval: "lower" when the models do not fit those images."""
    k = sum(round(a * n) for a, n in zip(acc, n_images))
    n = int(sum(n_images))
    lo, hi = stats.clopper_pearson(k, n)
    return stats.against_reference(k / n, (float(lo), float(hi)), 1.0)


def error_ratio_verdict(clean_mid, clean_large, robust_mid, robust_large) -> stats.Verdict:
    """Per seed, log(clean error ratio) against log(robust error ratio) from the second-largest to
    the largest training set (paired t over seeds). "lower" means the clean error falls by a larger
    factor than the robust error: on the log-error scale the clean curve is the steeper one."""
    arrays = [np.clip(1 - np.asarray(v, float), 1e-6, None) for v in (clean_mid, clean_large, robust_mid, robust_large)]
    if len({len(a) for a in arrays}) != 1 or len(arrays[0]) < 2:
        raise ValueError("need the same >= 2 seeds at both sizes")
    c_mid, c_large, r_mid, r_large = arrays
    return stats.compare(np.log(c_large / c_mid), np.log(r_large / r_mid), paired=True, outcome="continuous")


def matched_size(sizes: Sequence[int], acc: Sequence[float], target: float) -> float:
    """The training-set size at which a curve (mean accuracy at ``sizes``) reaches ``target``,
    interpolated linearly in log size between measured sizes; ``nan`` when it never does (and
    the smallest size when it is already there)."""
    sizes, acc = np.asarray(sizes, float), np.asarray(acc, float)
    if len(sizes) != len(acc) or len(sizes) < 1:
        raise ValueError("need one accuracy per size")
    if acc[0] >= target:
        return float(sizes[0])
    for i in range(1, len(sizes)):
        if acc[i] >= target:
            t = (target - acc[i - 1]) / (acc[i] - acc[i - 1])
            return float(np.exp(np.log(sizes[i - 1]) + t * (np.log(sizes[i]) - np.log(sizes[i - 1]))))
    return float("nan")


def size_curve_summary(curve, training: str, n_eval_train: int, standard: str | None = None) -> dict:
    """One training method's accuracies per size (mean, min, max over seeds, in %), the robust
    train-test gap, passes over the data, and a Markdown summary whose every comparison is a verdict:
    robust train accuracy against 100% (:func:`fit_verdict`) and, from the second-largest to the
    largest size, the clean against the robust error's fall (:func:`error_ratio_verdict`);
    ``n_eval_train``: how many of its training images each model was attacked on (at most all). With
    ``standard`` (the label of standard training in ``curve``), also the size at which standard
    training's clean accuracy matches this method's robust accuracy at the largest size
    (Schmidt et al.'s comparison of sample sizes at matched accuracy)."""
    adv = curve[curve.training == training]
    by = adv.groupby("n_train")
    cols = ["clean test", "robust test", "robust train"]
    mean, lo, hi = (100 * by[cols].agg(f) for f in ("mean", "min", "max"))
    gap = 100 * (adv["robust train"] - adv["robust test"]).groupby(adv.n_train).mean()
    passes = by["epochs"].mean() if "epochs" in adv else None
    sizes = list(mean.index)
    n_mid, n_large = sizes[-2] if len(sizes) > 1 else sizes[0], sizes[-1]
    fits = {n: fit_verdict(g["robust train"], [min(n, n_eval_train)] * len(g)) for n, g in by}
    spread = float((hi["robust test"] - lo["robust test"]).max())
    span = lambda n, c: f"{mean.loc[n, c]:.1f}% ({lo.loc[n, c]:.1f}–{hi.loc[n, c]:.1f})"  # noqa: E731
    fit_words = lambda n: stats.phrase(  # noqa: E731
        fits[n], lower="below 100%", higher="above 100%", cannot_tell="not distinguishable from 100%"
    )
    lines = [
        f"* {n:,} images ({passes[n]:.0f} passes over them): clean test {span(n, 'clean test')}, robust test "
        f"{span(n, 'robust test')}, robust train {span(n, 'robust train')}, {fit_words(n)}; robust gap "
        f"{gap[n]:.1f} points"
        if passes is not None
        else f"* {n:,} images: clean test {span(n, 'clean test')}, robust test {span(n, 'robust test')}, robust "
        f"train {span(n, 'robust train')}, {fit_words(n)}; robust gap {gap[n]:.1f} points"
        for n in sizes
    ]
    gains = {c: float(mean.loc[n_large, c] - mean.loc[n_mid, c]) for c in ("clean test", "robust test")}
    out = {"mean": mean, "lo": lo, "hi": hi, "gap": gap, "sizes": sizes, "spread": spread, "fits": fits, "gains": gains}
    unfit = [n for n in sizes if fits[n].direction == "lower"]
    if unfit:
        lines.append(
            f"\nAt {_join([f'{n:,}' for n in unfit])} images the models do not fit their own training images "
            "robustly, so part of the gap there is under-fitting, not generalization; those gaps probably understate "
            "the gap that full training would show (robust overfitting makes that likely, but this run does not train "
            "longer to check)."
        )
    if n_mid != n_large:
        seeds = lambda n, c: adv[adv.n_train == n].sort_values("seed")[c].to_numpy()  # noqa: E731
        ratio = error_ratio_verdict(
            seeds(n_mid, "clean test"), seeds(n_large, "clean test"), seeds(n_mid, "robust test"),
            seeds(n_large, "robust test"),
        )  # fmt: skip
        err = lambda n, c: 100 - mean.loc[n, c]  # noqa: E731
        words = stats.phrase(
            ratio, unit="", digits=2, scale=1.0,
            lower="the clean error's ratio (largest over second-largest size) is the smaller of the two, its log "
            "lower than the robust error's",
            higher="the robust error's ratio (largest over second-largest size) is the smaller of the two, the log "
            "of the clean error's ratio higher than the robust error's",
            cannot_tell="the data cannot tell the two error ratios (largest over second-largest size) apart",
        )  # fmt: skip
        lines.append(
            f"\nFrom {n_mid:,} to {n_large:,} images the clean test error goes from "
            f"{err(n_mid, 'clean test'):.1f}% to {err(n_large, 'clean test'):.1f}% and the robust test error from "
            f"{err(n_mid, 'robust test'):.1f}% to {err(n_large, 'robust test'):.1f}%; by the log error ratios, "
            f"paired over seeds, {words}. Gains in points near 100% say little here: a curve close to its ceiling "
            "gains few points even when its error halves."
        )
        out["error_ratio"] = ratio
    if standard is not None:
        std = 100 * curve[curve.training == standard].groupby("n_train")["clean test"].mean()
        target = mean.loc[n_large, "robust test"]
        n_std = matched_size(list(std.index), list(std), target)
        at_smallest = bool(std.iloc[0] >= target)
        out["matched"] = {
            "target_pct": float(target),
            "standard_n": n_std,
            "robust_n": int(n_large),
            "standard_already_at_smallest": at_smallest,
        }
        if at_smallest:
            tail = (
                f"standard training's clean accuracy is there already at the smallest size run ({int(std.index[0]):,}"
                f" images), so it needs at least {n_large / n_std:.1f} times fewer."
            )
        elif np.isfinite(n_std):
            per = {}  # each seed's standard curve against that seed's robust accuracy at the largest size
            std_all = curve[curve.training == standard]
            for sd, g in std_all.groupby("seed"):
                r = adv[(adv.n_train == n_large) & (adv.seed == sd)]["robust test"]
                if len(r):
                    g = g.sort_values("n_train")
                    m = matched_size(list(g.n_train), list(100 * g["clean test"]), 100 * float(r.iloc[0]))
                    if np.isfinite(m):
                        per[int(sd)] = n_large / m
            out["matched"]["ratio_per_seed"] = per
            per_text = (
                f" (per seed, each seed's standard curve against its own robust accuracy: "
                f"{min(per.values()):.1f}–{max(per.values()):.1f} times)"
                if len(per) > 1
                else ""
            )
            tail = (
                f"standard training reaches that clean accuracy at about {n_std:,.0f} (interpolated on the log-size "
                f"axis), {n_large / n_std:.1f} times fewer{per_text}. Two biases pull in opposite directions: the "
                "robust figure is a PGD-20 upper bound (a stronger attack would lower it and raise the ratio), and the "
                "largest robust models are under-fit (full training could raise it and lower the ratio)."
            )
        else:
            tail = "standard training does not reach that clean accuracy at any size run here."
        lines.append(
            f"\nSchmidt et al.'s comparison: robust test accuracy {target:.1f}% took {n_large:,} labeled images with "
            f"adversarial training; {tail}"
        )
    if len(sizes) > 1:
        n_small = sizes[0]
        per_seed = lambda n, c: adv[adv.n_train == n][c].to_numpy(dtype=float)  # noqa: E731
        gaps = {n: per_seed(n, "robust train") - per_seed(n, "robust test") for n in (n_small, n_large)}
        if min(len(g) for g in gaps.values()) >= 2:
            gap_v = stats.compare(gaps[n_large], gaps[n_small], paired=False, outcome="continuous")
            rise_v = stats.compare(
                per_seed(n_large, "robust test"), per_seed(n_small, "robust test"), paired=False, outcome="continuous"
            )
            out["ends"] = {"gap": gap_v, "robust_test": rise_v, "small": int(n_small), "large": int(n_large)}
            out["ends_text"] = (
                f"From {n_small:,} to {n_large:,} images (Welch's test over seeds, all on one set of test images, "
                "whose sampling it does not resample), the robust train-test gap is "
                + stats.phrase(
                    gap_v,
                    lower=f"smaller at {n_large:,}",
                    higher=f"larger at {n_large:,}",
                    cannot_tell="not distinguishable between the two sizes",
                )
                + " and robust test accuracy is "
                + stats.phrase(
                    rise_v,
                    higher=f"higher at {n_large:,}",
                    lower=f"lower at {n_large:,}",
                    cannot_tell="not distinguishable between the two sizes",
                )
                + "."
            )
    lines.append(
        f"\nBetween seeds, robust test accuracy differs by up to {spread:.1f} points at one size: the seed-to-seed "
        f"range over {adv.seed.nunique()} seeds, not a prediction interval for a rerun."
    )
    out["text"] = "\n".join(lines)
    return out


# --------------------------------------------------------------------------- chapter 06: RST arms
def seed_image_bootstrap(diffs, n_boot: int = 2000, alpha: float = 0.05, seed: int = 0) -> tuple[float, float]:
    """Percentile interval of the mean over seeds of per-seed accuracy differences, resampling
    seeds *and* test images (a two-level bootstrap).

    ``diffs``: ``(S, n)`` per-image differences of correctness (a_i - b_i in {-1, 0, 1}) of S seeds
    on the *same* n test images. Each replicate draws S seeds with replacement and one set of n
    images with replacement (the same images for every seed, as the run used the same images),
    and averages the drawn seeds' mean differences. Covers training noise (seeds) and which
    images the test subset happens to hold.
    """
    d = np.asarray(diffs, dtype=float)
    if d.ndim != 2 or d.shape[0] < 1 or d.shape[1] < 1:
        raise ValueError(f"diffs must be a (seeds, images) array; got shape {d.shape}")
    if not 0 < alpha < 1 or n_boot < 1:
        raise ValueError(f"need 0 < alpha < 1 and n_boot >= 1; got {alpha!r}, {n_boot!r}")
    rng = np.random.default_rng(seed)
    s, n = d.shape
    reps = np.empty(n_boot)
    for b in range(n_boot):
        rows = rng.integers(0, s, s)
        cols = rng.integers(0, n, n)
        reps[b] = d[np.ix_(rows, cols)].mean()
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


RST_DIFFERENCES = {
    "gain": ("rst", "labeled_only", "RST minus labeled-only"),
    "noise_cost": ("ceiling", "rst", "ceiling minus RST (the cost of wrong pseudo-labels)"),
    "pool_gain": ("ceiling", "labeled_only", "ceiling minus labeled-only (what the pool is worth with true labels)"),
}


def rst_summary(
    correct: Sequence[Mapping[str, Sequence]], pseudo_label_acc: Sequence[float], n_boot: int = 2000, seed: int = 0
) -> dict:
    """The three differences between the RST arms, per seed and over seeds and images.

    ``correct``: per seed, {arm: 0/1 per test image under the attack} for the arms
    ``labeled_only``, ``rst`` and ``ceiling``, all on the same test images. For each difference
    (:data:`RST_DIFFERENCES`): per seed, :func:`reliable_ml.stats.compare` paired on the images
    (McNemar, Newcombe interval); over seeds, the mean with a :func:`seed_image_bootstrap` interval
    and its verdict against 0 (:func:`reliable_ml.stats.against_reference`). The share of the
    pool's worth that wrong pseudo-labels cost is given per seed, and only when the pool's worth
    with true labels is shown positive. Differences in points; ``text`` in Markdown.
    """
    if not correct:
        raise ValueError("need at least one seed")
    arr = {a: np.array([_bools(c[a], a) for c in correct], dtype=float) for a in ("labeled_only", "rst", "ceiling")}
    out, lines = {}, []
    for key, (a, b, label) in RST_DIFFERENCES.items():
        d = arr[a] - arr[b]
        per_seed = [stats.compare(arr[a][s], arr[b][s], paired=True) for s in range(len(correct))]
        mean = float(d.mean())
        interval = seed_image_bootstrap(d, n_boot=n_boot, seed=seed) if len(correct) > 1 else per_seed[0].interval
        overall = stats.against_reference(mean, (min(interval[0], mean), max(interval[1], mean)), 0.0)
        out[key] = {"points": 100 * d.mean(1), "per_seed": per_seed, "overall": overall}
        seeds = ", ".join(
            f"seed {s} {100 * v.difference:+.1f} [{100 * v.interval[0]:+.1f}, {100 * v.interval[1]:+.1f}]"
            for s, v in enumerate(per_seed)
        )
        lines.append(
            f"* {label}: {stats.phrase(overall, higher='above 0', lower='below 0', cannot_tell='cannot tell from 0')}"
            f" over seeds and images; per seed (paired on the test images): {seeds}"
        )
    lines.append(
        f"* pseudo-labels correct: {100 * np.mean(pseudo_label_acc):.1f}% "
        f"(seeds: {', '.join(f'{100 * a:.1f}' for a in pseudo_label_acc)})"
    )
    pool_ok = out["pool_gain"]["overall"].direction == "higher"
    shares = out["noise_cost"]["points"] / out["pool_gain"]["points"] if pool_ok else None
    out["share_per_seed"] = None if shares is None else [float(s) for s in shares]
    out["text"] = "\n".join(lines)
    return out


def noise_verdict(summary: dict, pseudo_label_acc: float) -> str:
    """What the wrong pseudo-labels cost, worded by the verdicts of :func:`rst_summary`."""
    pool, cost = summary["pool_gain"]["overall"], summary["noise_cost"]["overall"]
    if pool.direction != "higher":
        pool_words = stats.phrase(
            pool, cannot_tell="ceiling minus labeled-only is not distinguishable from 0", lower="it is below 0"
        )
        return (
            f"The pool did not help measurably even with its true labels: {pool_words}. So the cost of the "
            "pseudo-labels cannot be put as a share of what the pool is worth."
        )
    shares = summary["share_per_seed"]
    span = f"{100 * min(shares):.0f}–{100 * max(shares):.0f}% across seeds"
    if cost.direction == "higher":
        return (
            f"With a labeler whose pseudo-labels are {100 * pseudo_label_acc:.0f}% correct, the wrong ones cost a "
            f"share of what true labels would give ({span}): the ceiling is "
            f"{stats.phrase(cost, higher='above RST')}."
        )
    if cost.direction == "lower":
        return (
            f"RST scored above the ceiling ({stats.phrase(cost, lower='the ceiling below RST')}): here the wrong "
            "pseudo-labels cost nothing measurable."
        )
    words = stats.phrase(cost, cannot_tell="ceiling minus RST is not distinguishable from 0")
    return (
        f"The data cannot tell RST from the ceiling: {words}. The cost of the wrong pseudo-labels is not "
        f"measurable at this size (share per seed: {span})."
    )
