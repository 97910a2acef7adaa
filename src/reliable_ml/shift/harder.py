"""Harder, not just different: does training on new writers close the gap on other new writers?

The experiment of chapter 01's last section, on MNIST with the QMNIST writer metadata
(Yadav & Bottou 2019). The writers held out from MNIST's training split (:mod:`writers`) are
split by writer id into two disjoint groups, A and B. A model is trained on a base set of
training digits, then on the base set plus ``k`` digits from group A ("new writers"), and, as a
control, plus ``k`` more digits of the training writers ("more of the original data"). For each
arm, size and seed it is scored on the MNIST test set S and on group B. The gap is

    gap(arm, k) = acc(S) - acc(B)                                     (points, mean over seeds)

If B were only a *different* distribution that the training data missed, digits of other new
writers (A) would close the gap faster than the same number of original digits; if B is
*harder*, both arms move the gap alike. Recht et al. (2019) conclude that the drops they
measure come from "slightly 'harder' images" (their abstract); this is an MNIST stand-in for
that question, not their experiment.

Intervals: one percentile bootstrap that resamples the seeds, the writers of S and the writers
of B in each replicate, with the same draws for every arm and size (paired), so a difference
between arms, or between a size and the baseline, gets its interval from the same replicates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from reliable_ml import stats
from reliable_ml.shift.writers import _check_meta

if TYPE_CHECKING:
    import torch

ARMS = ("new_writers", "control")
ARM_LABELS = {"new_writers": "digits of new writers (group A)", "control": "more digits of the training writers"}


def split_writer_groups(meta: pd.DataFrame, rows, share_a: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split the digits ``rows`` (indices into ``meta``) into two writer-disjoint groups A and B.

    Within each population the writers of ``rows`` are put in a random order (seeded) and the
    first ``round(share_a * n_writers)`` go to A, the rest to B, so both groups keep the
    populations' mix of writers. Every digit follows its writer. Returns the sorted rows of A
    and of B.
    """
    _check_meta(meta)
    if not 0 < share_a < 1:
        raise ValueError(f"share_a must be strictly between 0 and 1; got {share_a}")
    rows = np.asarray(rows)
    if rows.ndim != 1 or len(rows) == 0 or not np.issubdtype(rows.dtype, np.integer):
        raise ValueError(f"rows must be a non-empty 1-d array of integer indices; got shape {rows.shape}, {rows.dtype}")
    if rows.min() < 0 or rows.max() >= len(meta) or len(np.unique(rows)) != len(rows):
        raise ValueError(f"rows must be distinct indices in [0, {len(meta)}); got min {rows.min()}, max {rows.max()}")
    rng = np.random.default_rng(seed)
    sub = meta.iloc[rows]
    writers_a = []
    for pop, frame in sub.groupby("population", sort=True):
        ids = np.sort(frame["writer_id"].unique())
        if len(ids) < 2:
            raise ValueError(f"population {pop!r} has {len(ids)} writer(s) among the rows; need at least 2 to split")
        n_a = min(max(int(round(share_a * len(ids))), 1), len(ids) - 1)
        writers_a.append(rng.permutation(ids)[:n_a])
    in_a = sub["writer_id"].isin(np.concatenate(writers_a)).to_numpy()
    return np.sort(rows[in_a]), np.sort(rows[~in_a])


def nested_draws(pool, sizes, seed: int = 0) -> dict[int, np.ndarray]:
    """Nested random subsets of ``pool``: ``{k: sorted rows}`` for each ``k`` in ``sizes``.

    One seeded permutation of the pool; size ``k`` takes its first ``k`` entries, so a larger
    draw contains every smaller one (size 0 is the empty set).
    """
    pool = np.asarray(pool)
    sizes = [int(k) for k in sizes]
    if any(k < 0 for k in sizes) or len(set(sizes)) != len(sizes):
        raise ValueError(f"sizes must be distinct non-negative integers; got {sizes}")
    if sizes and max(sizes) > len(pool):
        raise ValueError(f"asked for {max(sizes)} digits but the pool holds only {len(pool)}")
    order = np.random.default_rng(seed).permutation(pool)
    return {k: np.sort(order[:k]) for k in sizes}


def train_arms(
    member: str,
    x: torch.Tensor,
    y: torch.Tensor,
    base_rows,
    pools: dict[str, np.ndarray],
    sizes,
    seeds,
    eval_sets: dict[str, tuple[torch.Tensor, torch.Tensor]],
    *,
    n_classes: int = 10,
) -> dict[str, dict[str, dict[int, np.ndarray]]]:
    """Train ``member`` on ``base_rows`` plus ``k`` rows of each pool, for every size and seed.

    ``x, y``: the images (uint8) and labels the rows index, on the training device; ``pools``:
    ``{arm: rows}`` (the arms of :data:`ARMS`); the added rows of seed ``s`` are
    :func:`nested_draws` of the pool with seed ``s``, and the model is trained with seed ``s``.
    Size 0 (the base set alone) is trained once per seed and shared by both arms. Trained
    weights are cached (:func:`reliable_ml.models.zoo.train_zoo_cached`, keyed by the data).
    Returns ``{eval_name: {arm: {k: bool (n_seeds, n_eval)}}}``: is the model right on each image.
    """
    from reliable_ml.models import zoo

    if set(pools) != set(ARMS):
        raise ValueError(f"pools must be given for exactly the arms {ARMS}; got {sorted(pools)}")
    sizes = sorted({0, *(int(k) for k in sizes)})
    base_rows = np.asarray(base_rows)
    out = {e: {a: {k: [] for k in sizes} for a in ARMS} for e in eval_sets}
    for s in seeds:
        draws = {a: nested_draws(pools[a], sizes[1:], seed=int(s)) for a in ARMS}
        for arm in ARMS:
            for k in sizes:
                rows = base_rows if k == 0 else np.concatenate([base_rows, draws[arm][k]])
                idx = torch_index(rows, x.device)
                model = zoo.train_zoo_cached([member], x[idx], y[idx], n_classes=n_classes, seed=int(s), progress=False)
                for name, (xe, ye) in eval_sets.items():
                    out[name][arm][k].append(zoo.correct_matrix(model, xe, ye)[0])
    return {e: {a: {k: np.stack(v) for k, v in d.items()} for a, d in by.items()} for e, by in out.items()}


def torch_index(rows, device):
    """``rows`` as an int64 tensor on ``device`` (for indexing image tensors)."""
    import torch

    return torch.as_tensor(np.asarray(rows, dtype=np.int64), device=device)


def _cluster_sums(correct: np.ndarray, groups) -> tuple[np.ndarray, np.ndarray]:
    """Per-cluster sums of ``correct (..., n)`` over its last axis, and the cluster sizes."""
    groups = np.asarray(groups)
    if correct.shape[-1] != len(groups):
        raise ValueError(f"need one writer id per image; got {correct.shape[-1]} images and {len(groups)} ids")
    _, cluster = np.unique(groups, return_inverse=True)
    k = int(cluster.max()) + 1
    onehot = np.zeros((len(groups), k))
    onehot[np.arange(len(groups)), cluster] = 1
    return correct.astype(float) @ onehot, onehot.sum(0)


def gap_replicates(
    correct_S: np.ndarray, writers_S, correct_B: np.ndarray, writers_B, n_boot: int = 2000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The gap acc(S) - acc(B) in points for each condition, and its paired bootstrap replicates.

    ``correct_S``: bool ``(C, R, n_S)``: condition c (an arm at a size), seed r, image of S;
    ``correct_B`` likewise on B; ``writers_*``: the writer of each image. The gap of condition c
    is ``mean_r [acc_S(c, r) - acc_B(c, r)]``. Each replicate draws R seeds with replacement and
    the writers of S and of B with replacement (accuracy = correct digits of the drawn writers
    over their digits), one draw shared by every condition. Returns ``(gap (C,), reps (C, n_boot))``.
    """
    correct_S, correct_B = np.asarray(correct_S), np.asarray(correct_B)
    if correct_S.ndim != 3 or correct_B.ndim != 3 or correct_S.shape[:2] != correct_B.shape[:2]:
        raise ValueError(
            f"correct_S and correct_B must be (conditions, seeds, images) with the same first two axes; "
            f"got {correct_S.shape} and {correct_B.shape}"
        )
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1; got {n_boot}")
    rng = np.random.default_rng(seed)
    n_seeds = correct_S.shape[1]
    gap = 100 * (correct_S.mean(-1) - correct_B.mean(-1)).mean(-1)
    accs = []
    for correct, groups in ((correct_S, writers_S), (correct_B, writers_B)):
        sums, sizes = _cluster_sums(correct, groups)  # (C, R, K), (K,)
        w = rng.multinomial(len(sizes), np.full(len(sizes), 1 / len(sizes)), size=n_boot).astype(float)
        accs.append(np.einsum("crk,bk->crb", sums, w) / (w @ sizes))  # (C, R, n_boot)
    v = rng.multinomial(n_seeds, np.full(n_seeds, 1 / n_seeds), size=n_boot).astype(float) / n_seeds  # (n_boot, R)
    reps = 100 * np.einsum("crb,br->cb", accs[0] - accs[1], v)
    return gap, reps


def _ci(reps: np.ndarray, alpha: float) -> list[float]:
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
    return [round(float(lo), 3), round(float(hi), 3)]


def _verdict(estimate: float, reps: np.ndarray, alpha: float) -> stats.Verdict:
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
    # a percentile interval of a mean over few seeds can miss the estimate by rounding: widen to hold it
    return stats.against_reference(estimate, (min(lo, estimate), max(hi, estimate)), 0.0, alpha=alpha)


def gap_summary(
    correct_S: dict[str, dict[int, np.ndarray]],
    writers_S,
    correct_B: dict[str, dict[int, np.ndarray]],
    writers_B,
    *,
    n_boot: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[dict, dict[str, stats.Verdict]]:
    """Gaps, changes from the baseline and the new-writers-minus-control difference, with intervals.

    ``correct_S[arm][k]``: bool ``(n_seeds, n_S)`` (as returned by :func:`train_arms`), both arms
    with the same sizes, size 0 among them. All numbers are in points. Returns ``(results,
    verdicts)``: ``results`` (JSON-ready) holds ``sizes``, per arm ``gap``, ``gap_ci``,
    ``change`` (gap(k) - gap(0)) and ``change_ci``, ``acc_S`` and ``acc_B`` (means over seeds),
    and ``new_minus_control`` with ``_ci`` (gap of the new-writers arm minus the control's at
    each size; negative: the new writers' digits closed more of the gap). ``verdicts``
    (:func:`reliable_ml.stats.against_reference` against 0, at the largest size):
    ``new_minus_control``, ``change_new``, ``change_control``, ``gap_new`` and ``gap_baseline``.
    """
    if set(correct_S) != set(ARMS) or set(correct_B) != set(ARMS):
        raise ValueError(f"correct_S and correct_B need exactly the arms {ARMS}; got {sorted(correct_S)}")
    sizes = sorted(correct_S[ARMS[0]])
    for d in (correct_S, correct_B):
        for arm in ARMS:
            if sorted(d[arm]) != sizes:
                raise ValueError(f"every arm needs the same sizes; got {sorted(d[arm])} for {arm!r}, {sizes} before")
    if not sizes or sizes[0] != 0 or len(sizes) < 2:
        raise ValueError(f"sizes must include 0 (the baseline) and at least one added size; got {sizes}")
    conds = [(a, k) for a in ARMS for k in sizes]
    stack_S = np.stack([correct_S[a][k] for a, k in conds])
    stack_B = np.stack([correct_B[a][k] for a, k in conds])
    gap, reps = gap_replicates(stack_S, writers_S, stack_B, writers_B, n_boot=n_boot, seed=seed)
    at = {c: i for i, c in enumerate(conds)}
    res: dict = {"sizes": sizes, "n_seeds": int(stack_S.shape[1]), "n_boot": int(n_boot), "level": 1 - alpha}
    res["n_S"], res["n_B"] = int(stack_S.shape[-1]), int(stack_B.shape[-1])
    for key in ("gap", "gap_ci", "change", "change_ci", "acc_S", "acc_B"):
        res[key] = {}
    for a in ARMS:
        i0 = at[(a, 0)]
        res["gap"][a] = [round(float(gap[at[(a, k)]]), 3) for k in sizes]
        res["gap_ci"][a] = [_ci(reps[at[(a, k)]], alpha) for k in sizes]
        res["change"][a] = [round(float(gap[at[(a, k)]] - gap[i0]), 3) for k in sizes]
        res["change_ci"][a] = [_ci(reps[at[(a, k)]] - reps[i0], alpha) for k in sizes]
        res["acc_S"][a] = [round(100 * float(correct_S[a][k].mean()), 3) for k in sizes]
        res["acc_B"][a] = [round(100 * float(correct_B[a][k].mean()), 3) for k in sizes]
    new, ctl = [at[("new_writers", k)] for k in sizes], [at[("control", k)] for k in sizes]
    diff = [(gap[n] - gap[c], reps[n] - reps[c]) for n, c in zip(new, ctl)]
    res["new_minus_control"] = [round(float(d), 3) for d, _ in diff]
    res["new_minus_control_ci"] = [_ci(r, alpha) for _, r in diff]
    top, i0 = sizes[-1], at[("new_writers", 0)]  # size 0 is one model per seed, shared by both arms
    verdicts = {
        "new_minus_control": _verdict(diff[-1][0], diff[-1][1], alpha),
        "change_new": _verdict(gap[new[-1]] - gap[i0], reps[new[-1]] - reps[i0], alpha),
        "change_control": _verdict(gap[ctl[-1]] - gap[i0], reps[ctl[-1]] - reps[i0], alpha),
        "gap_new": _verdict(gap[new[-1]], reps[new[-1]], alpha),
        "gap_baseline": _verdict(gap[i0], reps[i0], alpha),
    }
    res["verdict"] = {name: v.as_dict() for name, v in verdicts.items()}
    res["verdict_at_size"] = top
    res["interval"] = "percentile bootstrap over seeds, writers of S and writers of B, one draw for all arms (paired)"
    return res, verdicts


def plot_gap(results: dict, source: str, note: str = ""):
    """Left: the gap acc(S) - acc(B) against the number of added digits, one line per arm; right:
    the paired difference new writers - control. Both with the results' bootstrap intervals."""
    import matplotlib.pyplot as plt

    from reliable_ml.util.plots import source_caption

    sizes = np.asarray(results["sizes"], dtype=float)
    step = 0.012 * (sizes.max() - sizes.min() or 1)
    level = f"{100 * results['level']:.0f}%"
    fig, (ax, ax_d) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [3, 2]}, layout="constrained")

    def bars(axis, x, y, ci, **kw):
        y, (lo, hi) = np.asarray(y), np.asarray(ci).T
        axis.errorbar(x, y, yerr=[y - lo, hi - y], fmt="o-", ms=4, lw=1, capsize=3, **kw)

    for j, arm in enumerate(ARMS):  # a small offset keeps the two arms' bars apart
        bars(ax, sizes + (j - 0.5) * step, results["gap"][arm], results["gap_ci"][arm], label=ARM_LABELS[arm])
    bars(ax_d, sizes, results["new_minus_control"], results["new_minus_control_ci"], color="0.25")
    for axis in (ax, ax_d):
        axis.axhline(0, color="0.5", lw=0.8, ls="--")
    ax.set(xlabel="digits added to the training set", ylabel="gap: acc(MNIST test) - acc(group B) (points)",
           title=f"The gap per arm ({results['n_seeds']} seeds, {level} intervals)")  # fmt: skip
    ax_d.set(xlabel="digits added to the training set", ylabel="gap, new writers - control (points)",
             title="Paired difference of the arms")  # fmt: skip
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.35 * (hi - lo))  # room for the legend above the bars
    ax.legend(loc="upper center", fontsize=8, ncol=2)
    source_caption(fig, source, note)
    return fig


def reading(verdicts: dict[str, stats.Verdict]) -> str:
    """The section's conclusion, chosen by the verdicts of :func:`gap_summary` (every branch covered).

    First the baseline: the experiment asks which arm closes the gap, so it tests *harder*
    against *different* only if the gap on the base set is above 0 (its interval excludes 0).
    If not, the answer is "cannot tell", whatever the arms do. Otherwise the paired difference
    new writers - control at the largest size decides: below 0, the new writers' digits closed
    more of the gap than the original ones (B partly a *different* distribution); above 0, less;
    an interval containing 0: the data cannot tell the arms apart (not a proof that they are equal).
    """
    baseline = verdicts["gap_baseline"].direction
    if baseline != "higher":
        where = "below 0 (B is not harder than S for these models)" if baseline == "lower" else "not separated from 0"
        return f"cannot tell: the baseline gap is {where}, so this run does not test harder against different"
    direction = verdicts["new_minus_control"].direction
    if direction == "lower":
        return (
            "the new writers' digits closed more of the gap than the same number of original digits: "
            "on this evidence B is partly a different distribution that the training set lacked, not only harder"
        )
    if direction == "higher":
        return (
            "the new writers' digits closed less of the gap than the same number of original digits: "
            "no sign that B is a distribution the training set merely lacked"
        )
    return (
        "the data cannot tell whether the new writers' digits close the gap faster than more of the "
        "original digits: the interval of the difference contains 0"
    )


def prose_numbers(results: dict, verdicts: dict[str, stats.Verdict]) -> dict:
    """Flat ``{name: value}`` of the numbers and words the chapter's prose quotes (points)."""
    out = {"top": results["sizes"][-1], "reading": reading(verdicts)}
    out |= {k: results[k] for k in ("n_seeds", "n_S", "n_B") if k in results}
    for arm, short in (("new_writers", "new"), ("control", "ctl")):
        out[f"gap_{short}"] = results["gap"][arm][-1]
        out[f"gap_{short}_lo"], out[f"gap_{short}_hi"] = results["gap_ci"][arm][-1]
        out[f"accB_{short}"], out[f"accS_{short}"] = results["acc_B"][arm][-1], results["acc_S"][arm][-1]
    out["gap0"] = results["gap"]["new_writers"][0]
    out["gap0_lo"], out["gap0_hi"] = results["gap_ci"]["new_writers"][0]
    out["accB0"], out["accS0"] = results["acc_B"]["new_writers"][0], results["acc_S"]["new_writers"][0]
    out["diff_lo"], out["diff_hi"] = results["new_minus_control_ci"][-1]
    out["diff_advantage_max"] = max(0.0, -out["diff_lo"])  # most gap the new writers may close beyond the control
    out["gap0_words"] = stats.phrase(
        verdicts["gap_baseline"], "above zero", "below zero", "not distinguishable from zero", scale=1.0, digits=2
    )
    for name, short in (("change_new", "change_new"), ("change_control", "change_ctl")):
        out[f"{short}_words"] = stats.phrase(
            verdicts[name], "grew", "shrank", "cannot be told from no change", scale=1.0, digits=2
        )
    out["diff_words"] = stats.phrase(
        verdicts["new_minus_control"],
        "the gap is larger with the new writers' digits than with the control's",
        "the gap is smaller with the new writers' digits than with the control's",
        "the data cannot tell the two arms apart",
        scale=1.0,
        digits=2,
    )
    return out


def shared_S_replicates(runs: list, writers_S, n_boot: int = 1000, seed: int = 0) -> dict:
    """Writer-bootstrap replicates of the accuracy on the fixed test set S, for every arm, size and seed.

    Every seed is scored on the same images of S, so S's own sampling error is an offset shared
    by all seeds, which the spread over seeds cannot show. Each replicate draws the writers of S
    with replacement (a cluster bootstrap: accuracy = correct digits of the drawn writers over
    their digits), one draw shared by every arm, size and seed. Returns ``{arm: {k: (n_boot, R)}}``
    in points."""
    if n_boot < 2:
        raise ValueError(f"n_boot must be >= 2; got {n_boot}")
    rng = np.random.default_rng(seed)
    _, cluster = np.unique(np.asarray(writers_S), return_inverse=True)
    k_cl = int(cluster.max()) + 1
    w = rng.multinomial(k_cl, np.full(k_cl, 1 / k_cl), size=n_boot).astype(float)  # (n_boot, K)
    out: dict = {}
    for a in ARMS:
        out[a] = {}
        for k in runs[0][0][a]:
            correct = np.stack([np.asarray(run[0][a][k]) for run in runs])  # (R, n_S)
            sums, sizes = _cluster_sums(correct, writers_S)  # (R, K), (K,)
            out[a][k] = 100 * (w @ sums.T) / (w @ sizes)[:, None]  # (n_boot, R)
    return out


def seed_gap_summary(
    runs: list, alpha: float = 0.05, writers_S=None, n_boot: int = 1000, seed: int = 0
) -> tuple[dict, dict[str, stats.Verdict]]:
    """Gaps and their differences with a t interval over seeds, each seed its own A/B split.

    ``runs``: one ``(correct_S, correct_B)`` per seed, each ``{arm: {k: bool (n,)}}`` (one
    model per arm and size), where seed r drew its own split of the held-out writers into A and
    B, its own added digits and its own training run, so B (and its size) may differ between
    seeds. Per seed, gap(arm, k) = 100 (acc_S - acc_B); every quantity (a gap, its change from
    the baseline, new writers - control) is averaged over the R seeds with the one-sample t
    interval over them (:func:`reliable_ml.stats.t_interval`, df R - 1): the seeds are
    independent replicates of everything that was drawn, the A/B split included.

    The test set S is fixed: every seed is scored on the same images, so S's sampling error
    e_S is an offset common to all seeds and absent from their spread. Write a quantity (a gap,
    a change, a difference) per seed as x_r = L_r(acc_S) - L_r(acc_B) with L_r linear; its mean
    over seeds is mean_r x_r = theta + e + mean_r u_r, where u_r varies from seed to seed (B,
    the split, training) and e = mean_r L_r(e_S) is shared. Then Var(mean) = Var(u)/R + Var(e):
    s^2/R estimates the first term, and a cluster bootstrap over the writers of S
    (:func:`shared_S_replicates`, one draw for all seeds) estimates the second, as the variance
    over replicates of mean_r L_r(acc_S*). The interval is mean +- t_{R-1} sqrt(s^2/R + Var*(e))
    (:func:`reliable_ml.stats.t_interval` with ``extra_variance``). s^2 also holds the part of
    S's error that differs between seeds, so that part is counted twice: the interval errs wide.
    With ``writers_S`` None, S is not resampled (the extra term is 0) and ``interval`` says so.
    Returns ``(results, verdicts)`` with the keys of :func:`gap_summary` (``n_B``: the mean size
    of B over seeds) and ``shared_S_se`` (the bootstrap SE of e for the baseline gap, points).
    """
    if len(runs) < 2:
        raise ValueError(f"a t interval over seeds needs at least 2 seeds; got {len(runs)}")
    sizes = None
    for s_r, b_r in runs:
        for d in (s_r, b_r):
            if set(d) != set(ARMS):
                raise ValueError(f"every run needs exactly the arms {ARMS}; got {sorted(d)}")
            for arm in ARMS:
                got = sorted(d[arm])
                sizes = got if sizes is None else sizes
                if got != sizes:
                    raise ValueError(f"every arm and seed needs the same sizes; got {got}, {sizes} before")
    if not sizes or sizes[0] != 0 or len(sizes) < 2:
        raise ValueError(f"sizes must include 0 (the baseline) and at least one added size; got {sizes}")
    acc = {
        e: {a: {k: np.array([100 * np.mean(run[i][a][k]) for run in runs]) for k in sizes} for a in ARMS}
        for i, e in enumerate(("S", "B"))
    }
    gap = {a: {k: acc["S"][a][k] - acc["B"][a][k] for k in sizes} for a in ARMS}

    reps_S = None if writers_S is None else shared_S_replicates(runs, writers_S, n_boot=n_boot, seed=seed)

    def extra(terms) -> float:  # terms: [(coefficient, arm, k)]: the bootstrap variance of mean_r sum c acc_S(arm, k)
        if reps_S is None:
            return 0.0
        return float(np.var(sum(c * reps_S[a][k] for c, a, k in terms).mean(1), ddof=1))

    def t(x, terms=()):
        out = stats.t_interval(x, alpha, extra_variance=extra(terms))
        return out["estimate"], [round(float(out["ci"][0]), 3), round(float(out["ci"][1]), 3)]

    res: dict = {"sizes": sizes, "n_seeds": len(runs), "level": 1 - alpha}
    res["n_S"] = int(np.size(runs[0][0][ARMS[0]][0]))
    res["n_B"] = int(round(np.mean([np.size(run[1][ARMS[0]][0]) for run in runs])))
    for key in ("gap", "gap_ci", "change", "change_ci", "acc_S", "acc_B"):
        res[key] = {}
    for a in ARMS:
        res["gap"][a], res["gap_ci"][a] = [], []
        res["change"][a], res["change_ci"][a] = [], []
        for k in sizes:
            m, ci = t(gap[a][k], [(1, a, k)])
            res["gap"][a].append(round(float(m), 3))
            res["gap_ci"][a].append(ci)
            d = gap[a][k] - gap[a][0]
            m, ci = (0.0, [0.0, 0.0]) if k == 0 else t(d, [(1, a, k), (-1, a, 0)])
            res["change"][a].append(round(float(m), 3))
            res["change_ci"][a].append(ci)
        res["acc_S"][a] = [round(float(acc["S"][a][k].mean()), 3) for k in sizes]
        res["acc_B"][a] = [round(float(acc["B"][a][k].mean()), 3) for k in sizes]
    diffs = [gap["new_writers"][k] - gap["control"][k] for k in sizes]
    res["new_minus_control"], res["new_minus_control_ci"] = [], []
    for k, d in zip(sizes, diffs):
        m, ci = (0.0, [0.0, 0.0]) if k == 0 else t(d, [(1, "new_writers", k), (-1, "control", k)])
        res["new_minus_control"].append(round(float(m), 3))
        res["new_minus_control_ci"].append(ci)
    top = sizes[-1]

    def verdict(x, terms) -> stats.Verdict:
        m, ci = t(x, terms)
        return stats.against_reference(float(m), (min(ci[0], m), max(ci[1], m)), 0.0, alpha=alpha)

    nw, ctl = "new_writers", "control"
    verdicts = {
        "new_minus_control": verdict(diffs[-1], [(1, nw, top), (-1, ctl, top)]),
        "change_new": verdict(gap[nw][top] - gap[nw][0], [(1, nw, top), (-1, nw, 0)]),
        "change_control": verdict(gap[ctl][top] - gap[ctl][0], [(1, ctl, top), (-1, ctl, 0)]),
        "gap_new": verdict(gap[nw][top], [(1, nw, top)]),
        "gap_baseline": verdict(gap[nw][0], [(1, nw, 0)]),
    }
    res["shared_S_se"] = round(float(np.sqrt(extra([(1, nw, 0)]))), 4)
    res["verdict"] = {name: v.as_dict() for name, v in verdicts.items()}
    res["verdict_at_size"] = top
    res["per_seed_gap"] = {a: {str(k): [round(float(v), 3) for v in gap[a][k]] for k in sizes} for a in ARMS}
    res["interval"] = (
        f"t interval over {len(runs)} seeds (df {len(runs) - 1}); each seed draws its own A/B writer split, "
        "added digits and training run; "
        + (
            "the writers of S not resampled"
            if reps_S is None
            else f"plus the shared error of the fixed S from a bootstrap over its writers ({n_boot} replicates)"
        )
    )
    return res, verdicts
